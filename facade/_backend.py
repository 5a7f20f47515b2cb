"""The backend contract: one signed console request in, one raw answer out.

A backend signs and sends a :class:`ConsoleRequest` and returns what came back
as a :class:`RawResponse`. It does not interpret the answer: the facade turns
every backend's raw answer into results and errors with the same code, so all
backends are judged alike. A backend raises only for failures where there is
no answer to return; it translates those into :class:`~facade.TransportError`
or :class:`~facade.TransportTimeoutError` at its boundary.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "AsyncBackend",
    "Backend",
    "ConsoleRequest",
    "Credentials",
    "MockBackend",
    "RawResponse",
]


@dataclass(frozen=True)
class Credentials:
    """An access key and secret key pair; never shown in full by ``repr``."""

    access_key: str
    secret_key: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(access_key={mask(self.access_key)!r})"


def mask(secret: str) -> str:
    """Show the first four characters of a key at most, for diagnostics."""
    return f"{secret[:4]}***" if len(secret) > 8 else "***"


@dataclass(frozen=True)
class ConsoleRequest:
    """One console call, validated, as a backend receives it.

    ``route`` is the path (``/v2/eval``), ``action`` the V2 ``Action`` query
    value or ``None`` for V1 routes, ``body`` the JSON object to send,
    ``endpoint`` the base URL (``scheme://host[:port]``), ``timeout`` the
    seconds allowed for the whole exchange.
    """

    route: str
    action: str | None
    body: Mapping[str, Any]
    endpoint: str
    credentials: Credentials
    timeout: float

    @property
    def url(self) -> str:
        """The full URL, with ``?Action=`` when there is an action."""
        query = f"?Action={self.action}" if self.action else ""
        return f"{self.endpoint}{self.route}{query}"

    @property
    def query(self) -> dict[str, str]:
        """The query parameters to sign and send."""
        return {"Action": self.action} if self.action else {}

    def json_bytes(self) -> bytes:
        """The body as compact UTF-8 JSON."""
        return json.dumps(
            self.body, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")


@dataclass(frozen=True)
class RawResponse:
    """What came back: HTTP status, headers (names lower-cased) and body bytes."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    @classmethod
    def build(
        cls,
        status: int,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        content: bytes,
    ) -> RawResponse:
        """Build from any header mapping or pairs, lower-casing the names."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        return cls(status, {str(k).lower(): str(v) for k, v in items}, content)

    @classmethod
    def from_json(
        cls, body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> RawResponse:
        """Build a JSON answer, as a test handler or an emulator would send it."""
        content = json.dumps(body).encode("utf-8")
        merged = {"content-type": "application/json; charset=utf-8", **(headers or {})}
        return cls.build(status, merged, content)


@runtime_checkable
class Backend(Protocol):
    """Send console requests synchronously."""

    def send(self, request: ConsoleRequest) -> RawResponse:
        """Sign and send one request; return the raw answer."""

    def close(self) -> None:
        """Release connections and threads; the backend is not used again."""


@runtime_checkable
class AsyncBackend(Protocol):
    """Send console requests from asyncio; optional for backends."""

    async def asend(self, request: ConsoleRequest) -> RawResponse:
        """Sign and send one request without blocking the event loop."""

    async def aclose(self) -> None:
        """Release connections; the backend is not used again."""


class MockBackend:
    """An in-memory backend answering from a handler function; for tests.

    ``handler(request) -> RawResponse`` sees each :class:`ConsoleRequest`;
    ``requests`` keeps them in order. Works for both clients.
    """

    name = "mock"

    def __init__(self, handler: Callable[[ConsoleRequest], RawResponse]) -> None:
        self.handler = handler
        self.requests: list[ConsoleRequest] = []
        self.closed = False

    def send(self, request: ConsoleRequest) -> RawResponse:
        """Record the request and answer with the handler's response."""
        self.requests.append(request)
        return self.handler(request)

    async def asend(self, request: ConsoleRequest) -> RawResponse:
        """As :meth:`send`, from asyncio."""
        return self.send(request)

    def close(self) -> None:
        """Mark the backend closed."""
        self.closed = True

    async def aclose(self) -> None:
        """Mark the backend closed."""
        self.closed = True
