"""Signature checks: what every SDK sends passes, anything altered is refused."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from facade._signing import canonical_time
from facade.emulator import Emulator

if TYPE_CHECKING:
    from tests.emulator.conftest import SignedConsole

V1_EXPORT = "/wenxinworkshop/modelrepo/eval/result/export"
V1_INFO = "/wenxinworkshop/modelrepo/eval/result/export/info"
DESCRIBE = "DescribeEvalResultExportTask"
SEED = {"taskId": "amemt-hkkf5y9e64j8"}
NOW = 1717243200.0  # 2024-06-01T12:00:00Z

UNKNOWN_KEY = "NotFound, cause: Could not find credential."
MISMATCH = "SignatureDoesNotMatch, cause: Fail to authn user: Signature does not match"


@pytest.fixture
def frozen(start_console: Callable[..., SignedConsole]) -> SignedConsole:
    """A client for an emulator whose clock is stopped at NOW."""
    return start_console(clock=lambda: NOW)


def refused(response: httpx.Response, status: int, code: str) -> str:
    """Check the shape every auth failure shares; return its message."""
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"requestId", "code", "message"}
    assert payload["code"] == code
    assert uuid.UUID(payload["requestId"]).version == 4
    assert response.headers["x-bce-error-code"] == code
    assert response.headers["x-bce-error-message"] == payload["message"]
    assert response.headers["x-bce-request-id"] == payload["requestId"]
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    message: str = payload["message"]
    return message


def accepted(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["result"]["taskId"] == SEED["taskId"]


@pytest.mark.parametrize(
    "headers_to_sign",
    [
        ("host",),
        ("host", "x-bce-date"),
        ("content-type", "host", "x-bce-date"),
        ("content-length", "content-type", "host", "x-bce-date"),
        ("content-type", "host", "request-source", "x-bce-date"),
        ("content-md5", "host"),  # listed but not sent: signed as absent
        None,  # empty list: default set plus every x-bce-* header
    ],
    ids=lambda names: ";".join(names) if names else "default",
)
def test_accepts_any_header_set(
    console: SignedConsole, headers_to_sign: tuple[str, ...] | None
) -> None:
    extra = {"request-source": "qianfan_go_sdk_v0.0.15"}

    accepted(
        console.v2(DESCRIBE, SEED, headers_to_sign=headers_to_sign, extra_headers=extra)
    )


def test_default_set_signs_x_bce_headers_too(console: SignedConsole) -> None:
    response = console.v2(
        DESCRIBE,
        SEED,
        headers_to_sign=None,
        extra_headers={"x-bce-extra": "changed"},
        signed_extra_headers={"x-bce-extra": "signed"},
    )

    refused(response, 403, "SignatureDoesNotMatch")


@pytest.mark.parametrize(
    "order", ["x-bce-date;content-type;host", "host;x-bce-date;content-type"]
)
def test_accepts_signed_headers_in_any_order(frozen: SignedConsole, order: str) -> None:
    date = canonical_time(NOW)
    authorization = frozen.authorization(
        path="/v2/eval",
        query={"Action": DESCRIBE},
        headers={
            "Host": frozen.host,
            "Content-Type": "application/json",
            "x-bce-date": date,
        },
        timestamp=NOW,
    )
    parts = authorization.split("/")
    parts[4] = order

    accepted(frozen.v2(DESCRIBE, SEED, authorization="/".join(parts), timestamp=NOW))


@pytest.mark.parametrize("expiration", [1, 60, 300, 1800, 86400])
def test_accepts_every_expiration(frozen: SignedConsole, expiration: int) -> None:
    accepted(frozen.v2(DESCRIBE, SEED, timestamp=NOW, expiration=expiration))


@pytest.mark.parametrize(
    "headers_to_sign", [("host", "x-bce-date"), ("content-type", "host"), None]
)
def test_accepts_host_signed_without_its_port(
    console: SignedConsole, headers_to_sign: tuple[str, ...] | None
) -> None:
    accepted(
        console.v2(
            DESCRIBE, SEED, signed_host="127.0.0.1", headers_to_sign=headers_to_sign
        )
    )


def test_host_without_port_must_still_be_the_host(console: SignedConsole) -> None:
    response = console.v2(DESCRIBE, SEED, signed_host="qianfan.baidubce.com")

    refused(response, 403, "SignatureDoesNotMatch")


def test_two_key_pairs_at_once(
    console: SignedConsole, beta_console: SignedConsole, emulator: Emulator
) -> None:
    accepted(console.v2(DESCRIBE, SEED))
    accepted(beta_console.v2(DESCRIBE, SEED))

    assert [(r.access_key, r.auth_ok) for r in emulator.received] == [
        ("test-ak-alpha", True),
        ("test-ak-beta", True),
    ]


def test_one_pairs_secret_does_not_sign_for_the_other(
    beta_console: SignedConsole, console: SignedConsole
) -> None:
    response = console.v2(DESCRIBE, SEED, secret_key=beta_console.secret_key)

    assert refused(response, 403, "SignatureDoesNotMatch") == MISMATCH


def test_ignores_an_authorization_query_parameter(console: SignedConsole) -> None:
    response = console.send(
        "/v2/eval",
        SEED,
        query={"Action": DESCRIBE, "authorization": "anything"},
        signed_query={"Action": DESCRIBE},
    )

    accepted(response)


def test_wrong_secret_key(console: SignedConsole, emulator: Emulator) -> None:
    response = console.v2(DESCRIBE, SEED, secret_key="not-the-secret")

    assert refused(response, 403, "SignatureDoesNotMatch") == MISMATCH
    (seen,) = emulator.received
    assert (seen.access_key, seen.auth_ok) == ("test-ak-alpha", False)
    assert "authorization" not in seen.headers


def test_unknown_access_key(console: SignedConsole) -> None:
    console.access_key = "test-ak-nobody"

    response = console.v2(DESCRIBE, SEED)

    assert refused(response, 403, "InvalidAccessKeyId") == UNKNOWN_KEY


@pytest.mark.parametrize(
    "headers_to_sign",
    [("content-length", "content-type", "host", "x-bce-date"), None],
    ids=["content-length-listed", "default-set"],
)
def test_tampered_body(
    console: SignedConsole, headers_to_sign: tuple[str, ...] | None
) -> None:
    response = console.v2(
        DESCRIBE,
        {"taskId": "amemt-seedtask0097", "note": "swapped"},
        signed_body=b'{"taskId": "amemt-hkkf5y9e64j8"}',
        headers_to_sign=headers_to_sign,
    )

    refused(response, 403, "SignatureDoesNotMatch")


def test_tampered_route(console: SignedConsole) -> None:
    response = console.v1(V1_EXPORT, {"id": 305}, signed_path=V1_INFO)

    refused(response, 403, "SignatureDoesNotMatch")
    assert console.emulator.state.find(1000) is None


def test_tampered_query(console: SignedConsole) -> None:
    response = console.v2(
        "CreateEvalResultExportTask",
        {"evalId": "ame-a", "exportContent": ["prompt"]},
        signed_query={"Action": DESCRIBE},
    )

    refused(response, 403, "SignatureDoesNotMatch")


def test_tampered_signed_header(console: SignedConsole) -> None:
    response = console.v2(
        DESCRIBE,
        SEED,
        headers_to_sign=("host", "request-source"),
        extra_headers={"request-source": "changed"},
        signed_extra_headers={"request-source": "original"},
    )

    refused(response, 403, "SignatureDoesNotMatch")


@pytest.mark.parametrize(
    ("offset", "expiration", "ok"),
    [
        (0, 300, True),
        (-300, 300, True),  # now == timestamp + expiration
        (-301, 300, False),
        (-2000, 1800, False),
        (300, 1800, True),  # timestamp == now + skew
        (301, 1800, False),
        (86400, 1800, False),
    ],
    ids=[
        "now",
        "last-second",
        "expired-by-one",
        "expired",
        "skew-limit",
        "beyond-skew",
        "far-future",
    ],
)
def test_time_window(
    frozen: SignedConsole, offset: int, expiration: int, ok: bool
) -> None:
    signed_at = NOW + offset

    response = frozen.v2(DESCRIBE, SEED, timestamp=signed_at, expiration=expiration)

    if ok:
        accepted(response)
    else:
        message = refused(response, 400, "RequestExpired")
        prefix = f"Request has expired. Timestamp date is {canonical_time(signed_at)}"
        assert message.startswith(prefix)


def test_skew_is_configurable(start_console: Callable[..., SignedConsole]) -> None:
    strict = start_console(clock=lambda: NOW, max_clock_skew=0)

    refused(strict.v2(DESCRIBE, SEED, timestamp=NOW + 1), 400, "RequestExpired")
    accepted(strict.v2(DESCRIBE, SEED, timestamp=NOW))


@pytest.mark.parametrize(
    ("date_header", "status", "code"),
    [
        (canonical_time(NOW - 4000), 400, "RequestExpired"),
        (canonical_time(NOW + 4000), 400, "RequestExpired"),
        ("yesterday", 400, "InvalidHTTPAuthHeader"),
    ],
    ids=["stale", "future", "unreadable"],
)
def test_x_bce_date_must_fall_in_the_window(
    frozen: SignedConsole, date_header: str, status: int, code: str
) -> None:
    response = frozen.v2(DESCRIBE, SEED, timestamp=NOW, date_header=date_header)

    refused(response, status, code)


def test_x_bce_date_may_differ_by_a_second(frozen: SignedConsole) -> None:
    # Node and Java take the header's time and the signature's separately.
    date_header = canonical_time(NOW + 1)

    accepted(frozen.v2(DESCRIBE, SEED, timestamp=NOW, date_header=date_header))


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer abc",
        "bce-auth-v1/test-ak-alpha/2024-06-01T12:00:00Z/300/host",
        "bce-auth-v1/test-ak-alpha/2024-06-01T12:00:00Z/300/host/sig/extra",
        "bce-auth-v2/test-ak-alpha/2024-06-01T12:00:00Z/300/host/sig",
        "bce-auth-v1//2024-06-01T12:00:00Z/300/host/sig",
        "bce-auth-v1/test-ak-alpha/2024-06-01 12:00:00/300/host/sig",
        "bce-auth-v1/test-ak-alpha/2024-06-01T12:00:00Z/five/host/sig",
        "bce-auth-v1/test-ak-alpha/2024-06-01T12:00:00Z/300/host/",
    ],
    ids=[
        "empty",
        "bearer",
        "five-parts",
        "seven-parts",
        "version",
        "no-key",
        "timestamp",
        "expiration",
        "no-signature",
    ],
)
def test_malformed_authorization(console: SignedConsole, authorization: str) -> None:
    response = console.v2(DESCRIBE, SEED, authorization=authorization)

    refused(response, 400, "InvalidHTTPAuthHeader")
    assert console.emulator.received[-1].access_key is None


def test_missing_authorization(emulator: Emulator, http: httpx.Client) -> None:
    response = http.post(f"{emulator.base_url}/v2/eval?Action={DESCRIBE}", json=SEED)

    refused(response, 400, "InvalidHTTPAuthHeader")
    assert emulator.received[-1].auth_ok is False


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", V1_INFO), ("POST", V1_EXPORT), ("POST", "/nowhere"), ("GET", V1_INFO)],
)
def test_every_console_route_needs_a_signature(
    emulator: Emulator, http: httpx.Client, method: str, path: str
) -> None:
    response = http.request(method, emulator.base_url + path, json={"exportID": 96})

    refused(response, 400, "InvalidHTTPAuthHeader")


def test_signature_and_secret_never_leave_the_emulator(
    console: SignedConsole, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="facade.emulator")
    query_signature = "query-signature-value"
    cases: list[dict[str, Any]] = [
        {"secret_key": "wrong-secret-value"},
        {"timestamp": NOW},
        {"query": {"Action": DESCRIBE, "authorization": query_signature}},
        {},
    ]

    for options in cases:
        options.setdefault("query", {"Action": DESCRIBE})
        response = console.send("/v2/eval", SEED, **options)

        signature = response.request.headers["authorization"].rsplit("/", 1)[1]
        exposed = response.text + str(response.headers) + caplog.text
        for secret in (signature, console.secret_key, "wrong-secret-value"):
            assert secret not in exposed
        assert query_signature not in caplog.text
        assert console.access_key not in caplog.text
    assert caplog.records, "the emulator logged nothing at DEBUG"
