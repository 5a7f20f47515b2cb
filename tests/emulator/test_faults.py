"""Fault injection: every kind on the wire, schedules, specs and lifecycle."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

import facade
from facade._backend import RawResponse
from facade._normalize import parse_envelope
from facade._signing import signed_headers
from facade.emulator import Emulator, Fault, FaultPlan, Response

ACCESS_KEY, SECRET_KEY = "test-ak-alpha", "test-sk-alpha"
KEYS = {ACCESS_KEY: SECRET_KEY}
V1_INFO = "/wenxinworkshop/modelrepo/eval/result/export/info?Action="
V1_BODY = {"exportID": 96}
V2_DESCRIBE = "/v2/eval?Action=DescribeEvalResultExportTask"
V2_BODY = {"taskId": "amemt-hkkf5y9e64j8"}
DOWNLOAD = "/download/amemt-seedtask0097.zip"
ROUTES = {"v1": (V1_INFO, V1_BODY), "v2": (V2_DESCRIBE, V2_BODY)}


@pytest.fixture
def faulty() -> Iterator[Emulator]:
    """A running emulator with no faults planned yet."""
    with Emulator(credentials=KEYS) as running:
        yield running


def _signed(
    emulator: Emulator, target: str, body: object
) -> tuple[str, bytes, dict[str, str]]:
    url = emulator.base_url + target
    content = json.dumps(body).encode()
    headers = signed_headers(
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        url=url,
        content=content,
        timestamp=time.time(),
    )
    return url, content, headers


def _post(
    http: httpx.Client,
    emulator: Emulator,
    target: str = V2_DESCRIBE,
    body: object = V2_BODY,
) -> httpx.Response:
    url, content, headers = _signed(emulator, target, body)
    return http.post(url, content=content, headers=headers)


def _raw_post(emulator: Emulator, target: str = V2_DESCRIBE) -> bytes:
    """Send one signed request on a fresh socket; all bytes until the server closes."""
    _, content, headers = _signed(emulator, target, V2_BODY)
    head = f"POST {target} HTTP/1.1\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    port = int(emulator.base_url.rpartition(":")[2])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(head.encode() + b"\r\n" + content)
        chunks = []
        # Bounded by the socket timeout: a connection left open fails the test.
        while chunk := raw.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_delay_holds_the_answer_without_blocking_other_connections(
    faulty: Emulator, http: httpx.Client
) -> None:
    faulty.faults.add("delay:0.5@1")
    answers: list[httpx.Response] = []

    def slow_call() -> None:
        with httpx.Client(trust_env=False, timeout=5) as own:
            answers.append(_post(own, faulty))

    started = time.monotonic()
    caller = threading.Thread(target=slow_call)
    caller.start()
    deadline = started + 5
    while not faulty.received and time.monotonic() < deadline:
        time.sleep(0.01)
    meanwhile = http.get(faulty.base_url + DOWNLOAD)
    still_waiting = not answers
    caller.join(timeout=5)

    assert meanwhile.status_code == 200
    assert still_waiting
    assert [answer.status_code for answer in answers] == [200]
    assert time.monotonic() - started >= 0.5


@pytest.mark.parametrize("generation", ["v1", "v2"])
def test_status_answers_with_a_v2_error_body(
    faulty: Emulator, http: httpx.Client, generation: str
) -> None:
    faulty.faults.add("status:503")

    response = _post(http, faulty, *ROUTES[generation])

    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "ServiceUnavailable"
    assert body["requestId"] == response.headers["x-bce-request-id"]


@pytest.mark.parametrize(
    ("spec", "retry_after"), [("rate-limit:1.5", "1.5"), ("rate-limit", None)]
)
def test_rate_limit_answers_429(
    faulty: Emulator, http: httpx.Client, spec: str, retry_after: str | None
) -> None:
    faulty.faults.add(spec)

    response = _post(http, faulty)

    assert response.status_code == 429
    assert response.json()["code"] == "TooManyRequests"
    assert response.headers.get("retry-after") == retry_after


@pytest.mark.parametrize("code", [18, 336100, 500000, 500001, 424242])
def test_numeric_error_codes_answer_v1_routes_with_http_200(
    faulty: Emulator, http: httpx.Client, code: int
) -> None:
    faulty.faults.add(f"error-code:{code}")

    response = _post(http, faulty, V1_INFO, V1_BODY)

    assert response.status_code == 200
    body = response.json()
    assert body["error_code"] == code
    assert body["error_msg"]
    assert body["log_id"].isdigit()


@pytest.mark.parametrize(
    ("code", "status", "name"),
    [
        (18, 429, "TooManyRequests"),
        (336501, 429, "TooManyRequests"),
        (336502, 429, "TooManyRequests"),
        (336100, 503, "ServiceUnavailable"),
        (500000, 500, "InternalError"),
        (500001, 400, "InvalidRequestArgumentError"),
        (336003, 400, "InvalidRequestArgumentError"),
        (336077, 400, "InvalidRequestArgumentError"),
        (336000, 500, "InternalError"),
        (424242, 500, "InternalError"),
    ],
)
def test_numeric_error_codes_answer_v2_routes_with_their_v2_equivalent(
    faulty: Emulator, http: httpx.Client, code: int, status: int, name: str
) -> None:
    faulty.faults.add(Fault("error-code", code))

    response = _post(http, faulty)

    assert response.status_code == status
    assert response.json()["code"] == name
    assert str(code) in response.json()["message"]


# Every numeric code the facade classifies.
_CLASSIFIED_CODES = [1, 2, 3, 4, 6, 13, 14, 17, 18, 19, 100, 110, 111]
_CLASSIFIED_CODES += [336000, 336001, 336002, 336003, 336004, 336005, 336100]
_CLASSIFIED_CODES += [336101, 336104, 336105, 336501, 336502, 500000, 500001]


def test_numeric_error_codes_mean_the_same_on_both_generations(
    faulty: Emulator, http: httpx.Client
) -> None:
    verdicts = {}
    for code in _CLASSIFIED_CODES:
        faulty.faults.clear()
        faulty.faults.add(Fault("error-code", code))
        for generation, (target, body) in ROUTES.items():
            answer = _post(http, faulty, target, body)
            raw = RawResponse.build(answer.status_code, answer.headers, answer.content)
            with pytest.raises(facade.ConsoleError) as caught:
                parse_envelope(raw, route=target.partition("?")[0], backend=None)
            verdicts[code, generation] = (type(caught.value), caught.value.retryable)

    for code in _CLASSIFIED_CODES:
        assert verdicts[code, "v1"] == verdicts[code, "v2"], code


@pytest.mark.parametrize("generation", ["v1", "v2"])
@pytest.mark.parametrize(
    ("code", "status"),
    [("AccessDenied", 403), ("SignatureDoesNotMatch", 403), ("SomethingOdd", 400)],
)
def test_named_error_codes_answer_with_a_v2_body_on_every_route(
    faulty: Emulator, http: httpx.Client, generation: str, code: str, status: int
) -> None:
    faulty.faults.add(f"error-code:{code}")

    response = _post(http, faulty, *ROUTES[generation])

    assert response.status_code == status
    assert response.json()["code"] == code
    gateway = code == "SignatureDoesNotMatch"
    assert (response.headers.get("x-bce-error-code") == code) is gateway


def test_html_answers_with_a_gateway_page(faulty: Emulator, http: httpx.Client) -> None:
    faulty.faults.add("html")

    response = _post(http, faulty)

    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert response.content.startswith(b"<html>")


def test_html200_answers_200_with_a_page(faulty: Emulator, http: httpx.Client) -> None:
    faulty.faults.add("html200")

    response = _post(http, faulty)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert b"<html" in response.content


def test_empty_answers_200_without_a_body(faulty: Emulator, http: httpx.Client) -> None:
    faulty.faults.add("empty")

    response = _post(http, faulty)

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "0"


def test_truncated_declares_the_whole_answer_sends_half_and_closes(
    faulty: Emulator, http: httpx.Client
) -> None:
    whole = _post(http, faulty)
    faulty.faults.add("truncated")

    answer = _raw_post(faulty)
    with pytest.raises(httpx.RemoteProtocolError):
        _post(http, faulty)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert f"Content-Length: {len(whole.content)}".encode() in head
    assert len(body) == len(whole.content) // 2
    assert _without_ids(whole.content).startswith(_without_ids(body))


def _without_ids(body: bytes) -> bytes:
    return re.sub(rb"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", b"ID", body)


def test_drop_closes_the_connection_unanswered_and_is_recorded(
    faulty: Emulator, http: httpx.Client
) -> None:
    faulty.faults.add("drop")

    answer = _raw_post(faulty)
    with pytest.raises(httpx.RemoteProtocolError):
        _post(http, faulty)

    assert answer == b""
    assert len(faulty.received) == 2
    assert all(seen.auth_ok for seen in faulty.received)
    assert faulty.received[0].path == "/v2/eval"


@pytest.mark.parametrize(
    ("skew", "status"), [(600, 400), (-600, 400), (60, 200), (-60, 200)]
)
def test_skew_judges_the_signing_time_on_an_offset_clock(
    faulty: Emulator, http: httpx.Client, skew: int, status: int
) -> None:
    # signed_headers signs for 300 s and the emulator allows 300 s of skew.
    faulty.faults.add(Fault("skew", skew))

    response = _post(http, faulty)

    assert response.status_code == status
    if status == 400:
        assert response.json()["code"] == "RequestExpired"
        assert response.headers["x-bce-error-code"] == "RequestExpired"
    assert faulty.received[-1].auth_ok is (status == 200)


def test_a_count_applies_exactly_that_many_times(
    faulty: Emulator, http: httpx.Client
) -> None:
    faulty.faults.add("status:503@2")

    first = _post(http, faulty).status_code
    left = faulty.faults.faults
    rest = [_post(http, faulty).status_code for _ in range(3)]

    assert [first, *rest] == [503, 503, 200, 200]
    assert left == (Fault("status", 503, count=1),)
    assert len(faulty.faults) == 0
    assert len(faulty.received) == 4


def test_a_count_holds_under_concurrent_requests(faulty: Emulator) -> None:
    faulty.faults.add("status:503", count=10)
    statuses: list[int] = []
    lock = threading.Lock()

    def caller() -> None:
        with httpx.Client(trust_env=False, timeout=5) as own:
            for _ in range(4):
                status = _post(own, faulty).status_code
                with lock:
                    statuses.append(status)

    callers = [threading.Thread(target=caller) for _ in range(8)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join(timeout=10)

    assert len(statuses) == 32
    assert statuses.count(503) == 10


def test_a_seeded_rate_is_reproducible(faulty: Emulator, http: httpx.Client) -> None:
    runs = []
    for _ in range(2):
        faulty.faults.clear()
        faulty.faults.add(Fault.parse("status:503%0.5"), seed=7)
        runs.append([_post(http, faulty).status_code for _ in range(20)])

    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 503}


def test_answering_faults_are_consulted_in_order(
    faulty: Emulator, http: httpx.Client
) -> None:
    faulty.faults.add("status:503@1")
    faulty.faults.add("rate-limit@1")
    faulty.faults.add("delay:0.2@1")

    started = time.monotonic()
    first = _post(http, faulty).status_code
    elapsed = time.monotonic() - started
    statuses = [first] + [_post(http, faulty).status_code for _ in range(2)]

    assert statuses == [503, 429, 200]
    assert elapsed >= 0.2


def test_downloads_are_never_faulted(faulty: Emulator, http: httpx.Client) -> None:
    faulty.faults.add("drop@1")

    download = http.get(faulty.base_url + DOWNLOAD)

    assert download.status_code == 200
    assert len(faulty.faults) == 1
    with pytest.raises(httpx.RemoteProtocolError):
        _post(http, faulty)


def test_unknown_routes_are_faulted_like_console_routes(
    faulty: Emulator, http: httpx.Client
) -> None:
    faulty.faults.add("status:503@1")

    faulted, routed = (_post(http, faulty, "/v2/other", {}) for _ in range(2))

    assert (faulted.status_code, routed.status_code) == (503, 404)


def test_stop_cuts_a_delay_short(http: httpx.Client) -> None:
    emulator = Emulator(credentials=KEYS, faults=["delay:30"]).start()
    outcome: list[object] = []

    def slow_call() -> None:
        try:
            with httpx.Client(trust_env=False, timeout=10) as own:
                outcome.append(_post(own, emulator))
        except httpx.TransportError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=slow_call)
    caller.start()
    deadline = time.monotonic() + 5
    while not emulator.received and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    emulator.stop()
    stopped_in = time.monotonic() - started
    caller.join(timeout=5)

    assert emulator.received
    assert stopped_in < 2
    assert not caller.is_alive()
    assert time.monotonic() - started < 2
    assert len(outcome) == 1
    assert isinstance(outcome[0], httpx.TransportError)


def test_faults_can_be_preloaded_and_cleared(http: httpx.Client) -> None:
    preload: list[str | Fault] = ["empty@1", Fault("status", 500, count=1), "html"]
    with Emulator(credentials=KEYS, faults=preload) as emulator:
        statuses = [_post(http, emulator).status_code for _ in range(3)]
        emulator.faults.clear()
        after = _post(http, emulator).status_code

    assert statuses == [200, 500, 502]
    assert after == 200


def test_a_single_spec_is_not_taken_for_a_list() -> None:
    with pytest.raises(TypeError, match="list"):
        Emulator(credentials=KEYS, faults="drop")
    with pytest.raises(TypeError, match="list"):
        FaultPlan.parse_many("drop")


def test_each_injected_fault_is_logged_without_credentials(
    faulty: Emulator, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="facade.emulator")
    faulty.faults.add("skew:5@1")
    faulty.faults.add("status:503@1")

    _post(http, faulty)

    injected = [
        record
        for record in caplog.records
        if record.name == "facade.emulator._faults" and record.levelno == logging.INFO
    ]
    assert [record.getMessage() for record in injected] == [
        "injecting fault skew:5 into POST /v2/eval",
        "injecting fault status:503 into POST /v2/eval",
    ]
    for record in caplog.records:
        assert SECRET_KEY not in record.getMessage()
        assert "bce-auth-v1" not in record.getMessage()


@pytest.mark.parametrize(
    "spec",
    [
        "delay:2.5",
        "delay:0",
        "status:503@2",
        "rate-limit:1.5",
        "rate-limit",
        "error-code:18",
        "error-code:AccessDenied",
        "html",
        "html200",
        "empty",
        "truncated",
        "drop%0.1",
        "skew:-3600",
        "status:429%1",
    ],
)
def test_specs_read_back_as_written(spec: str) -> None:
    assert str(Fault.parse(spec)) == spec


def test_parse_gives_typed_faults() -> None:
    assert Fault.parse(" status:503@2 ") == Fault("status", 503, count=2)
    assert Fault.parse("delay:2") == Fault("delay", 2.0)
    assert Fault.parse("error-code:18").argument == 18
    assert Fault.parse("drop%0.25") == Fault("drop", rate=0.25)
    assert FaultPlan.parse_many(["html", "skew:10"]) == [
        Fault("html"),
        Fault("skew", 10.0),
    ]
    assert Fault("error-code", "AccessDenied").argument == "AccessDenied"
    assert set(Fault.KINDS) == {
        "delay", "status", "rate-limit", "error-code", "html", "html200",
        "empty", "truncated", "drop", "skew",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("", "bad fault spec"),
        ("bogus", "unknown fault kind 'bogus'"),
        ("delay", "needs an argument"),
        ("delay:", "not a number"),
        ("delay:-1", ">= 0"),
        ("delay:nan", "finite"),
        ("skew:inf", "finite"),
        ("status:200", "400 to 599"),
        ("status:abc", "400 to 599"),
        ("error-code:0", "positive console code"),
        ("error-code:not a code", "positive console code"),
        ("html:1", "takes no argument"),
        ("drop@0", "whole number >= 1"),
        ("drop@x", "not a whole number"),
        ("drop%0", "(0, 1]"),
        ("drop%1.5", "(0, 1]"),
        ("drop%many", "not a number"),
        ("drop@1%0.5", "not both"),
    ],
)
def test_bad_specs_say_why_and_list_the_valid_faults(spec: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        Fault.parse(spec)

    message = str(caught.value)
    assert reason in message
    assert f"bad fault spec {spec!r}" in message
    for usage in ("delay:SECONDS", "rate-limit[:SECONDS]", "html200", "@COUNT"):
        assert usage in message


def test_parse_many_names_the_bad_spec() -> None:
    with pytest.raises(ValueError, match="'status:99'"):
        FaultPlan.parse_many(["drop", "status:99"])


def test_add_keywords_replace_the_spec_schedule() -> None:
    plan = FaultPlan()

    assert plan.add("drop@5", count=2) == Fault("drop", count=2)
    assert plan.add("drop@5", rate=0.5) == Fault("drop", rate=0.5)
    with pytest.raises(ValueError, match="not both"):
        plan.add("drop", count=1, rate=0.5)
    assert plan.faults == (Fault("drop", count=2), Fault("drop", rate=0.5))


def test_a_response_cannot_cut_beyond_its_body() -> None:
    with pytest.raises(ValueError, match="cut_after"):
        Response(200, body=b"ab", cut_after=3)


@pytest.mark.parametrize("spec", ["delay:1e10", "skew:1e12", "skew:-1e12", "skew:1e308"])
def test_values_the_emulator_cannot_serve_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="bad fault spec|longer than a day|ten years"):
        Fault.parse(spec)


def test_wrong_types_are_refused_plainly() -> None:
    plan = FaultPlan()
    with pytest.raises(TypeError, match="Fault or a spec string"):
        plan.add(123)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="is a string"):
        Fault.parse(None)  # type: ignore[arg-type]
