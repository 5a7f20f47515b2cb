"""Both backends meet the same misbehaving server and must fail the same way."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

import facade
from tests.conftest import BACKENDS

JSON = b"Content-Type: application/json\r\n"

ANSWERS: dict[str, bytes] = {
    "list-body": b"HTTP/1.1 200 OK\r\n" + JSON + b"Content-Length: 9\r\n\r\n[1, 2, 3]",
    "null-body": b"HTTP/1.1 200 OK\r\n" + JSON + b"Content-Length: 4\r\n\r\nnull",
    "huge-int": b"HTTP/1.1 200 OK\r\n"
    + JSON
    + f'Content-Length: {5000 + 11}\r\n\r\n{{"result":{"9" * 5000}}}'.encode(),
    "redirect": b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
    "bad-gzip": b"HTTP/1.1 200 OK\r\n"
    + JSON
    + b"Content-Encoding: gzip\r\nContent-Length: 10\r\n\r\nnot-gzip!!",
    "html-502": b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n"
    b"Content-Length: 22\r\n\r\n<html>Bad Gateway</html>"[:-2],
    "reset": b"",
    "slow": b"",
}


class Misbehaving:
    """A one-answer-per-connection TCP server on loopback."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(2)
                try:
                    connection.recv(65536)
                    if self.answer == "slow":
                        self.stop.wait(1.5)
                    elif self.answer == "reset":
                        connection.setsockopt(
                            socket.SOL_SOCKET,
                            socket.SO_LINGER,
                            b"\x01\x00\x00\x00\x00\x00\x00\x00",
                        )
                    else:
                        connection.sendall(ANSWERS[self.answer])
                        time.sleep(0.05)
                except OSError:
                    pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(3)
        self.listener.close()


@pytest.fixture(params=sorted(ANSWERS))
def misbehaving(request: pytest.FixtureRequest) -> Iterator[Misbehaving]:
    server = Misbehaving(request.param)
    yield server
    server.close()


def facts_for(backend: str, port: int) -> dict[str, object]:
    with facade.Client(
        backend,
        endpoint=f"http://127.0.0.1:{port}",
        access_key="a",
        secret_key="b",
        timeout=0.5,
        retry=None,
    ) as client, pytest.raises(facade.FacadeError) as info:
        client.export_status(96)
    facts = info.value.facts()
    assert facts.pop("backend") == backend
    assert "bce-auth-v1" not in repr(info.value) and "bce-auth-v1" not in str(
        info.value
    )
    return facts


def test_same_failure_on_every_backend(misbehaving: Misbehaving) -> None:
    seen = {backend: facts_for(backend, misbehaving.port) for backend in BACKENDS}
    assert seen["http"] == seen["sdk"], seen
    expected = {
        "list-body": "InvalidResponseError",
        "null-body": "InvalidResponseError",
        "huge-int": "InvalidResponseError",
        "redirect": "InvalidResponseError",
        "bad-gzip": "InvalidResponseError",
        "html-502": "ServerError",
        "reset": "TransportError",
        "slow": "TransportTimeoutError",
    }[misbehaving.answer]
    assert seen["http"]["type"] == expected


def test_connection_refused_was_not_sent(backend_name: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    facts = facts_for(backend_name, port)
    assert facts["type"] == "TransportError" and facts["request_sent"] is False
