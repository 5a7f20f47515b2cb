"""The emulator's wire values: the request that came in, the response going out.

Both are plain data, so a layer in front of the routes (fault injection, for
instance) can inspect a :class:`Request` and return its own :class:`Response`
without touching sockets.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

__all__ = [
    "JSON_CONTENT_TYPE",
    "ReceivedRequest",
    "Request",
    "Response",
    "json_response",
    "new_log_id",
    "new_request_id",
    "v2_error",
]

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Request:
    """One HTTP request as the emulator received it.

    ``target`` is the raw request target (path and query, undecoded);
    ``headers`` has lower-cased names, repeated headers joined with ``", "``.
    """

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def path(self) -> str:
        """The raw path, before any ``?``."""
        return self.target.partition("?")[0]

    @property
    def query(self) -> list[tuple[str, str]]:
        """The query parameters in order, percent- and ``+``-decoded."""
        return parse_qsl(self.target.partition("?")[2], keep_blank_values=True)

    def query_value(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or ``None``."""
        return next((value for key, value in self.query if key == name), None)


@dataclass(frozen=True)
class Response:
    """One HTTP response to send: status, headers and the complete body.

    The server adds ``Content-Length``, ``Connection``, ``Date`` and ``Server``.
    Two fields break the exchange on purpose, for fault injection:
    ``cut_after`` sends only that many bytes of the body, still declaring its
    full length, then closes the connection; ``drop`` closes the connection
    without sending anything, so ``status`` and the rest are never seen.
    """

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    cut_after: int | None = None
    drop: bool = False

    def __post_init__(self) -> None:
        if self.cut_after is not None and not 0 <= self.cut_after <= len(self.body):
            raise ValueError(
                f"cut_after must lie between 0 and the body's {len(self.body)} "
                f"bytes, not {self.cut_after}"
            )


@dataclass(frozen=True)
class ReceivedRequest:
    """A request the emulator saw, kept for tests to inspect.

    ``path`` is the raw path without the query; ``query`` holds decoded pairs;
    ``headers`` has lower-cased names and never the ``authorization`` header.
    ``access_key`` is the key id the request claimed to be signed with (``None``
    if it carried no readable signature); ``auth_ok`` says whether it passed
    authentication, which unsigned routes such as downloads always do.
    """

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    access_key: str | None
    auth_ok: bool


def new_request_id() -> str:
    """A fresh V2 ``requestId``: a random UUID."""
    return str(uuid.uuid4())


def new_log_id() -> str:
    """A fresh V1 ``log_id``: a ten-digit numeric string, as the examples show."""
    return str(10**9 + secrets.randbelow(9 * 10**9))


def json_response(
    status: int,
    payload: Mapping[str, object],
    *,
    request_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON response with the console's content type and ``x-bce-request-id``."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(
        status,
        {
            "Content-Type": JSON_CONTENT_TYPE,
            "x-bce-request-id": request_id or new_request_id(),
            **(headers or {}),
        },
        body.encode("utf-8"),
    )


def v2_error(
    status: int,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A V2-style error: ``{"requestId", "code", "message"}`` with ``status``."""
    request_id = new_request_id()
    payload = {"requestId": request_id, "code": code, "message": message}
    return json_response(status, payload, request_id=request_id, headers=headers)
