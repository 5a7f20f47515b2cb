"""The emulator itself: stalls, round-trip time and requests per second.

The client is a raw socket on a kept-alive connection sending one signed
status request (signed once, well inside its validity), so the figures are
the server's own. Three figures:

* the emulator's 99th-percentile round trip against the median one of a
  stdlib server that writes head and body in two writes with Nagle's
  algorithm on, which stalls on the client's delayed ACK (about 40 ms on
  Linux); the emulator answers in one write with ``TCP_NODELAY`` set;
* the median round trip, and requests per second with 50 clients sending at
  once, each against the same stdlib server doing no work (see
  ``_reference_server.py``), for information: the issue sets no target, and
  the emulator's signature checks, routing, recording and JSON are its job.

Run: ``python benchmarks/emulator.py [--quick]``.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
from urllib.parse import urlsplit

from _harness import (
    ACCESS_KEY,
    SECRET_KEY,
    SEED_EXPORT_ID,
    V1_INFO,
    Figure,
    Paired,
    emulator_process,
    microseconds,
    milliseconds,
    print_figures,
    reference_process,
)

CLIENTS = 50
_SOCKET_TIMEOUT = 10.0
_READ_SIZE = 65536


def signed_request(base_url: str) -> bytes:
    """One complete signed V1 status request, ready to send as is."""
    import facade

    url = f"{base_url}{V1_INFO}"
    body = f'{{"exportID":{SEED_EXPORT_ID}}}'.encode()
    headers = facade.signed_headers(
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        url=url,
        content=body,
        timestamp=time.time(),
    )
    lines = [f"POST {V1_INFO} HTTP/1.1"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    """A kept-alive HTTP/1.1 connection that sends raw requests, reads answers."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        assert parts.port is not None, base_url
        self._socket = socket.create_connection(
            (parts.hostname, parts.port), timeout=_SOCKET_TIMEOUT
        )
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""

    def exchange(self, request: bytes) -> int:
        """Send ``request``; read the whole answer; return its status."""
        self._socket.sendall(request)
        while b"\r\n\r\n" not in self._buffer:
            self._buffer += self._receive()
        head, _, rest = self._buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            rest += self._receive()
        self._buffer = rest[length:]
        return int(head.split(b" ", 2)[1])

    def _receive(self) -> bytes:
        chunk = self._socket.recv(_READ_SIZE)
        if not chunk:
            raise ConnectionError("the server closed a kept-alive connection")
        return chunk

    def close(self) -> None:
        self._socket.close()


def round_trips(base_url: str, request: bytes, count: int) -> list[float]:
    """Seconds per exchange, ``count`` times on one kept-alive connection."""
    connection = Connection(base_url)
    try:
        assert connection.exchange(request) == 200
        times = []
        for _ in range(count):
            started = time.perf_counter()
            connection.exchange(request)
            times.append(time.perf_counter() - started)
        return times
    finally:
        connection.close()


def requests_per_second(base_url: str, request: bytes, total: int) -> float:
    """Answers per second with :data:`CLIENTS` connections sending at once."""
    connections = [Connection(base_url) for _ in range(CLIENTS)]
    for connection in connections:
        assert connection.exchange(request) == 200
    share = total // CLIENTS
    failures: list[BaseException] = []
    start = threading.Barrier(CLIENTS + 1)

    def client(connection: Connection) -> None:
        try:
            start.wait(_SOCKET_TIMEOUT)
            for _ in range(share):
                connection.exchange(request)
        except BaseException as exc:  # reported below, after every thread ended
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(c,)) for c in connections]
    for thread in threads:
        thread.start()
    start.wait(_SOCKET_TIMEOUT)
    started = time.perf_counter()
    for thread in threads:
        thread.join(_SOCKET_TIMEOUT * share)
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    if failures:
        raise failures[0]
    return share * CLIENTS / elapsed


def _p99(times: list[float]) -> float:
    return sorted(times)[int(len(times) * 0.99)]


def measure(quick: bool = False) -> list[Figure]:
    """Stall, RTT and requests-per-second ratios of the emulator."""
    trips, total, rounds = (200, 1000, 3) if quick else (400, 2500, 6)
    with reference_process(split_writes=True) as split_url:
        split = statistics.median(round_trips(split_url, signed_request(split_url), 25))
    with emulator_process() as emulator_url, reference_process() as reference_url:
        emulator_request = signed_request(emulator_url)
        reference_request = signed_request(reference_url)
        rtt_emulator: list[float] = []
        rtt_reference: list[float] = []
        p99_emulator: list[float] = []
        rps_emulator: list[float] = []
        rps_reference: list[float] = []
        for round_index in range(rounds):
            sides = [
                (emulator_url, emulator_request, rtt_emulator, rps_emulator),
                (reference_url, reference_request, rtt_reference, rps_reference),
            ]
            if round_index % 2:
                sides.reverse()
            for url, request, rtts, rates in sides:
                times = round_trips(url, request, trips)
                rtts.append(statistics.median(times))
                if url == emulator_url:
                    p99_emulator.append(_p99(times))
                rates.append(requests_per_second(url, request, total))
    stall = Paired(p99_emulator, [split] * len(p99_emulator)).figure(
        "emulator: p99 RTT / a server that writes head and body apart",
        target=0.10,
        better="lower",
        detail=lambda a, b: (
            f"{microseconds(a)} vs {milliseconds(b)} (delayed-ACK stall)"
        ),
    )
    rtt = Paired(rtt_emulator, rtt_reference).figure(
        "emulator: RTT, one kept-alive connection / do-nothing server",
        target=None,
        better="lower",
        detail=lambda a, b: f"{microseconds(a)} vs {microseconds(b)}",
    )
    rps = Paired(rps_emulator, rps_reference).figure(
        f"emulator: requests/s, {CLIENTS} clients / do-nothing server",
        target=None,
        better="higher",
        detail=lambda a, b: f"{a:,.0f} vs {b:,.0f} requests/s",
    )
    return [stall, rtt, rps]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer trips and rounds")
    print_figures(measure(parser.parse_args().quick))
