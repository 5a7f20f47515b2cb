"""The facade's exceptions: one root, branched by what the caller can do.

::

    FacadeError
    ├── InvalidInputError          fix the arguments; nothing was sent
    ├── ConfigurationError         fix the set-up (keys, endpoint, backend)
    │   └── BackendNotFoundError   the named backend is not installed
    ├── ConsoleError               the console answered with an error
    │   ├── AuthenticationError    fix the credentials (wrong key, bad signature,
    │   │                          expired request, permission denied)
    │   ├── NotFoundError          the task or route does not exist
    │   ├── InvalidParameterError  the console rejected an argument
    │   ├── RateLimitedError       slow down; retryable
    │   ├── ServerBusyError        the console is overloaded; retryable
    │   └── ServerError            the console failed; retryable
    ├── TransportError             the request did not complete; retryable
    │   └── TransportTimeoutError  no answer before the timeout
    ├── InvalidResponseError       the answer was not a console response
    └── ExportError                the export workflow did not finish
        ├── ExportFailedError      the task ended in the failed state
        └── ExportTimeoutError     the deadline passed while waiting

Facts travel as attributes (``request_id``, ``code``, ``http_status``,
``backend``, ``retryable``), so callers never parse messages. No message or
attribute ever holds an access key, a secret key or a signature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from facade._models import ExportTask

__all__ = [
    "AuthenticationError",
    "BackendNotFoundError",
    "ConfigurationError",
    "ConsoleError",
    "ExportError",
    "ExportFailedError",
    "ExportTimeoutError",
    "FacadeError",
    "InvalidInputError",
    "InvalidParameterError",
    "InvalidResponseError",
    "NotFoundError",
    "RateLimitedError",
    "ServerBusyError",
    "ServerError",
    "TransportError",
    "TransportTimeoutError",
]


class FacadeError(Exception):
    """Root of every error the facade raises on purpose."""

    retryable: bool = False

    def __init__(self, message: str, *, backend: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.backend = backend

    def facts(self) -> dict[str, Any]:
        """The attributes that identify this error, for comparison and output."""
        return {"type": type(self).__name__, "backend": self.backend}


class InvalidInputError(FacadeError, ValueError):
    """An argument is invalid; the request was not sent.

    ``parameter`` names the argument at fault.
    """

    def __init__(self, message: str, *, parameter: str) -> None:
        super().__init__(message)
        self.parameter = parameter

    def facts(self) -> dict[str, Any]:
        return {**super().facts(), "parameter": self.parameter}


class ConfigurationError(FacadeError):
    """The client cannot be set up: keys, endpoint or backend are missing or wrong."""


class BackendNotFoundError(ConfigurationError, LookupError):
    """The requested backend is not installed.

    ``requested`` is the name asked for and ``installed`` the names available.
    """

    def __init__(self, message: str, *, requested: str, installed: list[str]) -> None:
        super().__init__(message)
        self.requested = requested
        self.installed = installed


class ConsoleError(FacadeError):
    """The console answered, and the answer was an error.

    ``code`` is the server's code as a string (V1 numeric ``error_code`` values
    are given in decimal), ``server_message`` its message, ``http_status`` the
    HTTP status and ``request_id`` the V1 ``log_id`` or V2 ``requestId``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        server_message: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
        backend: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, backend=backend)
        self.code = code
        self.server_message = server_message
        self.http_status = http_status
        self.request_id = request_id
        self.retry_after = retry_after

    def facts(self) -> dict[str, Any]:
        return {
            **super().facts(),
            "code": self.code,
            "server_message": self.server_message,
            "http_status": self.http_status,
            "request_id": self.request_id,
            "retryable": self.retryable,
        }


class AuthenticationError(ConsoleError):
    """The console refused the credentials or the signature."""


class NotFoundError(ConsoleError):
    """The console has no such task, route or action."""


class InvalidParameterError(ConsoleError):
    """The console rejected an argument that passed local validation."""


class RateLimitedError(ConsoleError):
    """Too many requests; retry after ``retry_after`` seconds when given."""

    retryable = True


class ServerBusyError(ConsoleError):
    """The console is overloaded; retry later."""

    retryable = True


class ServerError(ConsoleError):
    """The console failed while handling the request."""

    retryable = True


class TransportError(FacadeError):
    """The request or its answer was lost on the way (refused, reset, closed).

    ``request_sent`` is ``False`` when the connection failed before the request
    went out (so the console cannot have acted on it), ``None`` when unknown.
    """

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        backend: str | None = None,
        request_sent: bool | None = None,
    ) -> None:
        super().__init__(message, backend=backend)
        self.request_sent = request_sent

    def facts(self) -> dict[str, Any]:
        return {**super().facts(), "request_sent": self.request_sent}


class TransportTimeoutError(TransportError):
    """No complete answer arrived before the timeout."""


class InvalidResponseError(FacadeError):
    """The answer was not a console response (not JSON, wrong shape, empty).

    ``http_status`` and ``request_id`` are set when the answer carried them.
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        request_id: str | None = None,
        backend: str | None = None,
    ) -> None:
        super().__init__(message, backend=backend)
        self.http_status = http_status
        self.request_id = request_id

    def facts(self) -> dict[str, Any]:
        return {
            **super().facts(),
            "http_status": self.http_status,
            "request_id": self.request_id,
        }


class ExportError(FacadeError):
    """The export workflow did not finish; ``task`` is the last task seen."""

    def __init__(self, message: str, *, task: ExportTask) -> None:
        super().__init__(message)
        self.task = task


class ExportFailedError(ExportError):
    """The export task ended in the failed state."""


class ExportTimeoutError(ExportError):
    """The deadline passed before the export task finished."""
