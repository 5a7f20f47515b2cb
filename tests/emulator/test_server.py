"""The server around the routes: lifecycle, keep-alive, framing, the respond seam."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
from typing import TYPE_CHECKING

import httpx
import pytest

import facade.emulator
from facade.emulator import Emulator, Request, Response

if TYPE_CHECKING:
    from tests.emulator.conftest import SignedConsole

KEYS = {"test-ak-alpha": "test-sk-alpha"}


def test_public_names_are_pinned() -> None:
    assert facade.emulator.__all__ == [
        "ConsoleState",
        "Emulator",
        "ExportState",
        "ExportTask",
        "Fault",
        "FaultPlan",
        "ReceivedRequest",
        "Request",
        "Response",
        "StatePlan",
        "StorageKind",
    ]
    assert facade.emulator.__all__ == sorted(facade.emulator.__all__)


def test_credentials_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, http: httpx.Client
) -> None:
    monkeypatch.setenv("QIANFAN_ACCESS_KEY", "env-ak")
    monkeypatch.setenv("QIANFAN_SECRET_KEY", "env-sk")

    with Emulator() as emulator:
        response = http.post(f"{emulator.base_url}/v2/eval?Action=X")

    assert response.status_code == 400  # unsigned, but the emulator is up


@pytest.mark.parametrize(
    "present", [(), ("QIANFAN_ACCESS_KEY",), ("QIANFAN_SECRET_KEY",)]
)
def test_missing_credentials_name_the_variables(
    monkeypatch: pytest.MonkeyPatch, present: tuple[str, ...]
) -> None:
    for name in present:
        monkeypatch.setenv(name, "value")

    with pytest.raises(ValueError, match="QIANFAN_ACCESS_KEY/QIANFAN_SECRET_KEY"):
        Emulator()


def test_empty_credentials_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Emulator(credentials={})


def test_lifecycle() -> None:
    emulator = Emulator(credentials=KEYS)
    with pytest.raises(RuntimeError, match="start"):
        _ = emulator.base_url

    assert emulator.start() is emulator
    with pytest.raises(RuntimeError, match="already serving"):
        emulator.start()
    first = emulator.base_url
    assert first.startswith("http://127.0.0.1:")
    emulator.stop()
    emulator.stop()  # idempotent

    with emulator:  # and it can serve again
        assert emulator.base_url.startswith("http://127.0.0.1:")
    with socket.socket() as probe:
        port = int(first.rpartition(":")[2])
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_keep_alive_reuses_one_connection(emulator: Emulator) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", _port(emulator), timeout=5)
    try:
        sockets = []
        for _ in range(3):
            connection.request("GET", "/download/amemt-seedtask0097.zip")
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Connection") == "keep-alive"
            assert len(response.read()) == int(response.getheader("Content-Length"))
            sockets.append(connection.sock)
    finally:
        connection.close()

    assert sockets[0] is not None
    assert sockets.count(sockets[0]) == 3


def test_stop_does_not_wait_for_idle_keep_alive_connections() -> None:
    emulator = Emulator(credentials=KEYS).start()
    idle = http.client.HTTPConnection("127.0.0.1", _port(emulator), timeout=5)
    idle.request("GET", "/download/amemt-seedtask0097.zip")
    idle.getresponse().read()
    raw = socket.create_connection(("127.0.0.1", _port(emulator)), timeout=5)

    stopper = threading.Thread(target=emulator.stop)
    started = time.monotonic()
    stopper.start()
    stopper.join(timeout=5)

    assert not stopper.is_alive()
    assert time.monotonic() - started < 2
    # Closed either way: shut down if it was accepted, reset if still queued.
    try:
        assert raw.recv(1) == b""
    except ConnectionResetError:
        pass
    finally:
        raw.close()
    idle.close()


def test_serve_forever_until_stop() -> None:
    emulator = Emulator(credentials=KEYS)
    serving = threading.Thread(target=emulator.serve_forever)
    serving.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            url = f"{emulator.base_url}/download/amemt-seedtask0097.zip"
            break
        except RuntimeError:  # not bound yet
            time.sleep(0.01)

    with httpx.Client(trust_env=False) as client:
        assert client.get(url).status_code == 200
    emulator.stop()
    serving.join(timeout=5)

    assert not serving.is_alive()


def test_chunked_request_bodies(emulator: Emulator) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", _port(emulator), timeout=5)
    try:
        connection.request(
            "POST",
            "/v2/eval?Action=DescribeEvalResultExportTask",
            body=iter([b'{"taskId": ', b'"amemt-hkkf5y9e64j8"}']),
            encode_chunked=True,
        )
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()

    assert response.status == 400  # unsigned, so refused, but the body arrived
    assert emulator.received[-1].body == b'{"taskId": "amemt-hkkf5y9e64j8"}'


@pytest.mark.parametrize("length", ["-1", "ten"])
def test_bad_content_length_closes_the_connection(
    emulator: Emulator, length: str
) -> None:
    with socket.create_connection(("127.0.0.1", _port(emulator)), timeout=5) as raw:
        raw.sendall(
            b"POST /v2/eval HTTP/1.1\r\nHost: x\r\nContent-Length: "
            + length.encode()
            + b"\r\n\r\n"
        )
        answer = _read_all(raw)

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"Connection: close" in answer
    assert b"InvalidHTTPRequest" in answer
    assert emulator.received == []


def test_http_1_0_clients_get_the_connection_closed(emulator: Emulator) -> None:
    with socket.create_connection(("127.0.0.1", _port(emulator)), timeout=5) as raw:
        raw.sendall(b"GET /download/amemt-seedtask0097.zip HTTP/1.0\r\n\r\n")
        answer = _read_all(raw)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"Connection: close" in head
    assert f"Content-Length: {len(body)}".encode() in head


def test_head_gets_headers_only(emulator: Emulator) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", _port(emulator), timeout=5)
    try:
        connection.request("HEAD", "/download/amemt-seedtask0097.zip")
        response = connection.getresponse()
        assert response.read() == b""
        assert response.status == 405
        assert int(response.getheader("Content-Length")) > 0
        connection.request("GET", "/download/amemt-seedtask0097.zip")
        assert connection.getresponse().status == 200  # the stream stayed in step
    finally:
        connection.close()


class _Flaky(Emulator):
    """Answers 503 to the first request to each path, as a fault layer would."""

    def __init__(self) -> None:
        super().__init__(credentials=KEYS)
        self.failed: set[str] = set()

    def respond(self, request: Request) -> Response:
        if request.path not in self.failed:
            self.failed.add(request.path)
            return Response(503, {"Retry-After": "0"}, b"busy")
        return super().respond(request)


def test_respond_is_the_single_interception_point(http: httpx.Client) -> None:
    with _Flaky() as flaky:
        url = f"{flaky.base_url}/download/amemt-seedtask0097.zip"
        first, second = http.get(url), http.get(url)

    assert (first.status_code, first.content) == (503, b"busy")
    assert first.headers["content-length"] == "4"
    assert second.status_code == 200
    assert len(flaky.received) == 1  # the intercepted request never reached respond


class _Broken(Emulator):
    def respond(self, request: Request) -> Response:
        raise RuntimeError("boom")


def test_a_failing_respond_answers_500(
    http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with _Broken(credentials=KEYS) as broken:
        response = http.get(f"{broken.base_url}/anything")

    assert response.status_code == 500
    assert response.json()["code"] == "InternalError"
    assert "boom" not in response.text
    assert any(record.exc_info for record in caplog.records)


def test_the_server_logs_through_logging_not_stderr(
    console: SignedConsole,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG, logger="facade.emulator")

    console.v2("DescribeEvalResultExportTask", {"taskId": "amemt-hkkf5y9e64j8"})
    console.v2("DescribeEvalResultExportTask", {}, secret_key="wrong")

    assert capfd.readouterr().err == ""
    messages = [record.getMessage() for record in caplog.records]
    assert any("POST /v2/eval" in message for message in messages)
    assert any("SignatureDoesNotMatch" in message for message in messages)
    assert all(record.name.startswith("facade.emulator") for record in caplog.records)


def test_responses_are_compact_utf8_json(console: SignedConsole) -> None:
    response = console.v1(
        "/wenxinworkshop/modelrepo/eval/result/export", {"id": "评估-1"}
    )
    export_id = response.json()["result"]["exportID"]

    info = console.v1(
        "/wenxinworkshop/modelrepo/eval/result/export/info", {"exportID": export_id}
    )

    assert "评估-1".encode() in info.content
    assert json.loads(info.content)["result"]["id"] == "评估-1"


def _port(emulator: Emulator) -> int:
    return int(emulator.base_url.rpartition(":")[2])


def _read_all(raw: socket.socket) -> bytes:
    chunks = []
    while chunk := raw.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)
