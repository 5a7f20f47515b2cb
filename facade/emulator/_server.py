"""The emulator's HTTP server: stdlib ``ThreadingHTTPServer`` on loopback.

Every request goes through :meth:`Emulator.respond`, which draws its faults,
authenticates, records and routes it and returns a plain
:class:`~facade.emulator.Response`; the handler only moves bytes, breaking the
exchange off where the response says so. Each response leaves in one socket
write with ``TCP_NODELAY`` set, so keep-alive clients never wait on a delayed
ACK.
"""

from __future__ import annotations

import contextlib
import email.utils
import http
import logging
import os
import re
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from facade.emulator._auth import AuthOutcome, SignatureVerifier
from facade.emulator._faults import Fault, FaultPlan
from facade.emulator._http import ReceivedRequest, Request, Response, v2_error
from facade.emulator._routes import ConsoleRoutes, Route
from facade.emulator._state import ConsoleState, StatePlan

__all__ = ["Emulator"]

_logger = logging.getLogger(__name__)

ACCESS_KEY_ENV = "QIANFAN_ACCESS_KEY"
SECRET_KEY_ENV = "QIANFAN_SECRET_KEY"
MAX_BODY_BYTES = 16 * 1024 * 1024
# How often the serving loop checks for stop(), which bounds how long stop()
# takes: short for the background thread (tests start and stop many emulators),
# longer when serving in the foreground, where Ctrl-C interrupts at once.
_THREAD_POLL_INTERVAL = 0.01
_FOREGROUND_POLL_INTERVAL = 0.25
_JOIN_TIMEOUT = 5.0
_QUERY_IN_LOG = re.compile(r"\?\S*")
_WILDCARD_HOSTS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


class Emulator:
    """A local Qianfan console that serves the export routes over loopback HTTP.

    ``credentials`` maps access key ids to secret keys; every pair is accepted.
    Without it the pair comes from ``QIANFAN_ACCESS_KEY`` and
    ``QIANFAN_SECRET_KEY``, and ``ValueError`` is raised if either is unset.
    ``port=0`` picks a free port. ``max_clock_skew`` is how far in the future,
    in seconds, a signing time may lie; ``plan`` says how created tasks
    progress; ``seed_tasks`` inserts the fixed tasks 96 to 100; ``clock``
    supplies the time signatures are judged against; ``faults`` preloads
    :attr:`faults`, the :class:`~facade.emulator.FaultPlan` (faults or their
    specs, such as ``"status:503@2"``).

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        *,
        credentials: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        max_clock_skew: float = 300.0,
        plan: StatePlan | None = None,
        seed_tasks: bool = True,
        clock: Callable[[], float] = time.time,
        faults: Iterable[str | Fault] = (),
    ) -> None:
        if isinstance(faults, (str, Fault)):
            raise TypeError("faults takes a list of faults or specs, not one")
        self.state = ConsoleState(plan, seed_tasks=seed_tasks)
        self.received: list[ReceivedRequest] = []
        self.faults = FaultPlan()
        for fault in faults:
            self.faults.add(fault)
        self._received_lock = threading.Lock()
        self._credentials = _resolve_credentials(credentials)
        self._max_clock_skew = max_clock_skew
        self._clock = clock
        self._verifier = SignatureVerifier(
            self._credentials, max_clock_skew=max_clock_skew, clock=clock
        )
        # Before start() download links have no host part; they are relative.
        self._routes = ConsoleRoutes(self.state, lambda: self._base_url or "")
        self._address = (host, port)
        self._base_url: str | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lifecycle = threading.Lock()
        # Set by stop(); cuts short the delays of requests in flight.
        self._stopping = threading.Event()

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` of the running server; ``RuntimeError`` before start."""
        if self._base_url is None:
            raise RuntimeError("the emulator has no address until start() is called")
        return self._base_url

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread; return ``self``.

        Raises ``RuntimeError`` if it is already serving and ``OSError`` if the
        address cannot be bound.
        """
        with self._lifecycle:
            server = self._bind()
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": _THREAD_POLL_INTERVAL},
                name=f"qianfan-emulator-{server.server_port}",
                daemon=True,
            )
            self._thread.start()
        _logger.info("emulator serving at %s", self.base_url)
        return self

    def serve_forever(self) -> None:
        """Bind and serve in the calling thread until :meth:`stop` or Ctrl-C."""
        with self._lifecycle:
            server = self._bind()
        _logger.info("emulator serving at %s", self.base_url)
        try:
            server.serve_forever(poll_interval=_FOREGROUND_POLL_INTERVAL)
        except KeyboardInterrupt:
            _logger.info("emulator interrupted")
        finally:
            with self._lifecycle:
                if self._server is server:
                    self._server = None
                self._stopping.set()
            server.close()

    def stop(self) -> None:
        """Stop serving, drop open connections and close the socket; idempotent."""
        with self._lifecycle:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            self._stopping.set()
        if server is None:
            return
        server.shutdown()
        server.close()
        if thread is not None:
            thread.join(_JOIN_TIMEOUT)
        _logger.info("emulator at %s stopped", self._base_url)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def respond(self, request: Request) -> Response:
        """Answer one request; every request passes through here, before routing.

        Unsigned routes such as downloads are recorded in :attr:`received` and
        routed. Every other request draws its faults from :attr:`faults`, has
        its signature checked (on a clock skewed as the faults say), is
        recorded, waits out any delay, and gets the answering fault's response
        or else the console's. A delay cut short by :meth:`stop` drops the
        connection.
        """
        route = self._routes.match(request.path)
        if route is not None and not route.signed:
            self._record(request, AuthOutcome(access_key=None))
            return self._routes.dispatch(route, request)
        injection = self.faults.draw(request)
        outcome = self._verify(request, injection.skew)
        self._record(request, outcome)
        if injection.delay > 0 and self._stopping.wait(injection.delay):
            return Response(0, drop=True)
        return injection.respond(request, lambda: self._answer(route, request, outcome))

    def _verify(self, request: Request, skew: float) -> AuthOutcome:
        if not skew:
            return self._verifier.verify(request)
        clock = self._clock
        skewed = SignatureVerifier(
            self._credentials,
            max_clock_skew=self._max_clock_skew,
            clock=lambda: clock() + skew,
        )
        return skewed.verify(request)

    def _answer(
        self, route: Route | None, request: Request, outcome: AuthOutcome
    ) -> Response:
        if outcome.failure is not None:
            failure = outcome.failure
            _logger.info(
                "refused %s %s: %s", request.method, request.path, failure.code
            )
            return v2_error(
                failure.status,
                failure.code,
                failure.message,
                headers={
                    "X-Bce-Error-Code": failure.code,
                    "X-Bce-Error-Message": failure.message,
                },
            )
        return self._routes.dispatch(route, request)

    def _record(self, request: Request, outcome: AuthOutcome) -> None:
        headers = {
            name: value
            for name, value in request.headers.items()
            if name != "authorization"
        }
        seen = ReceivedRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            headers=headers,
            body=request.body,
            access_key=outcome.access_key,
            auth_ok=outcome.ok,
        )
        with self._received_lock:
            self.received.append(seen)

    def _bind(self) -> _Server:
        # Called with the lifecycle lock held.
        if self._server is not None:
            raise RuntimeError(f"the emulator is already serving at {self._base_url}")
        server = _Server(self._address, self)
        self._stopping = threading.Event()
        # A wildcard address is reached through loopback.
        host = _WILDCARD_HOSTS.get(server.server_name, server.server_name)
        shown = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{shown}:{server.server_port}"
        self._server = server
        return server


def _resolve_credentials(credentials: Mapping[str, str] | None) -> dict[str, str]:
    if credentials is None:
        access_key = os.environ.get(ACCESS_KEY_ENV)
        secret_key = os.environ.get(SECRET_KEY_ENV)
        if not access_key or not secret_key:
            raise ValueError(
                f"no credentials given and {ACCESS_KEY_ENV}/{SECRET_KEY_ENV} are not "
                "both set; pass credentials={access_key: secret_key} or set them"
            )
        credentials = {access_key: secret_key}
    if not credentials:
        raise ValueError("credentials must hold at least one access key")
    return dict(credentials)


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that tracks its connections so stop() can drop them."""

    daemon_threads = True
    # The default backlog of 5 drops connections when many clients start at once.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host's FQDN; a loopback
        # emulator has no use for it, and a slow resolver would stall start().
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        with self._connections_lock:
            self._connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Dropped connections are routine here (stop() shuts them down).
        _logger.debug(
            "connection from %s ended with an error", client_address, exc_info=True
        )

    def close(self) -> None:
        """Shut down every open connection and close the listening socket."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    """Moves bytes between the socket and :meth:`Emulator.respond`."""

    protocol_version = "HTTP/1.1"
    server_version = "qianfan-facade-emulator"
    disable_nagle_algorithm = True
    server: _Server

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            return
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        request = Request(self.command, self.path, headers, body)
        try:
            response = self.server.emulator.respond(request)
        except Exception:
            _logger.exception(
                "the emulator failed on %s %s", request.method, request.path
            )
            response = v2_error(500, "InternalError", "The emulator failed internally.")
        self._send(response)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch
    do_HEAD = do_OPTIONS = _dispatch

    def _read_body(self) -> bytes | None:
        """The request body, or ``None`` after answering a framing error."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        declared = self.headers.get("Content-Length")
        if declared is None:
            return b""
        try:
            length = int(declared)
        except ValueError:
            length = -1
        if length < 0:
            self._refuse(400, "InvalidHTTPRequest", "Content-Length is not a size.")
            return None
        if length > MAX_BODY_BYTES:
            self._refuse(413, "RequestEntityTooLarge", "The body is too large.")
            return None
        body = self.rfile.read(length)
        if len(body) < length:
            # The client went away mid-body; there is no one to answer.
            self.close_connection = True
            return None
        return body

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self._refuse(400, "InvalidHTTPRequest", "Bad chunked encoding.")
                return None
            if size == 0:
                while self.rfile.readline(65537).strip():
                    pass  # trailers carry nothing the emulator needs
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                self._refuse(413, "RequestEntityTooLarge", "The body is too large.")
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _refuse(self, status: int, code: str, message: str) -> None:
        # The rest of the body is unread, so the connection cannot be reused.
        self.close_connection = True
        self._send(v2_error(status, code, message))

    def _send(self, response: Response) -> None:
        """Write status line, headers and body in a single socket write.

        A response that says ``drop`` closes the connection unanswered; one
        with ``cut_after`` declares its full length, sends that much of the
        body and closes the connection.
        """
        if response.drop:
            self.close_connection = True
            _logger.debug("dropped the connection from %s", self.address_string())
            return
        try:
            phrase = http.HTTPStatus(response.status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [
            f"{self.protocol_version} {response.status} {phrase}",
            f"Server: {self.version_string()}",
            f"Date: {email.utils.formatdate(usegmt=True)}",
        ]
        lines.extend(
            f"{name}: {value}"
            for name, value in response.headers.items()
            if name.lower() not in ("content-length", "connection")
        )
        connection = "close" if self.close_connection else "keep-alive"
        lines.append(f"Content-Length: {len(response.body)}")
        lines.append(f"Connection: {connection}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = response.body
        if response.cut_after is not None:
            # Announced as kept alive, then cut: the way a crashed peer looks.
            body = body[: response.cut_after]
            self.close_connection = True
        self.wfile.write(head if self.command == "HEAD" else head + body)
        self.log_request(response.status, len(body))

    def log_message(self, format: str, *args: Any) -> None:
        # Query strings may carry an authorization parameter; keep them out.
        message = _QUERY_IN_LOG.sub("?...", format % args)
        _logger.debug("%s %s", self.address_string(), message)
