"""Send console requests through the official SDK with per-client keys.

``qianfan.resources.console.utils.call_action`` reads the access key, secret
key and endpoint from the SDK's process-wide config and accepts no per-call
keys. Swapping that config around each call would race between threads, so
this backend takes the SDK's path one level down instead: the request is built
by the function ``call_action`` wraps (so route, ``?Action=`` and body are
exactly the SDK's), and it is signed and sent by the SDK's own
``ConsoleAPIRequestor`` with the keys and endpoint of the facade client. The
SDK's retries are off (the facade owns retries) and its error raising is
replaced by returning the raw answer, which the facade normalizes for every
backend alike.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
import urllib3

import facade

# Importing the SDK logs a warning that redis is missing, for a rate limiter
# this backend never uses; the SDK's logger is muted for the import only.
_sdk_logger = logging.getLogger("qianfan")
_muted, _sdk_logger.disabled = _sdk_logger.disabled, True
try:
    from qianfan.resources.console.utils import call_action
    from qianfan.resources.http_client import HTTPClient
    from qianfan.resources.requestor.console_requestor import ConsoleAPIRequestor
    from qianfan.resources.typing import QfRequest, RetryConfig
    from qianfan.version import VERSION
finally:
    _sdk_logger.disabled = _muted

__all__ = ["SdkBackend"]

# The undecorated function behind call_action: it builds the QfRequest.
_build_sdk_request = call_action.__wrapped__  # type: ignore[attr-defined]
_REQUEST_SOURCE = f"qianfan_py_sdk_v{VERSION}"
_ASYNC_WORKERS = 8
_NAME = "sdk"


class _RedactingFilter(logging.Filter):
    """Scrub signatures and keys from the SDK's log records.

    The SDK logs full request headers, Authorization included, when the console
    answers with an HTTP error; ``baidubce``'s signer logs the signing key at
    DEBUG. Records of the first kind are rewritten, of the second dropped.
    """

    _AUTHORIZATION = re.compile(r"bce-auth-v1/[^\s'\",}]*")

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def remember(self, *secrets: str) -> None:
        with self._lock:
            self._secrets.update(secret for secret in secrets if secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("baidubce.auth"):
            return False
        if getattr(_IN_CALL, "active", False) and not _FACADE_LOGGER.isEnabledFor(
            logging.DEBUG
        ):
            # The facade reports each call and raises a typed error itself; the
            # SDK's lines about the same call (headers dumps, "retrying..." when
            # nothing retries) are shown only to those debugging the facade.
            return False
        text = self._AUTHORIZATION.sub("bce-auth-v1/[redacted]", record.getMessage())
        with self._lock:
            secrets = tuple(self._secrets)
        for secret in secrets:
            if len(secret) >= _MIN_REDACTED_LENGTH:
                text = text.replace(secret, "[redacted]")
        record.msg, record.args = text, None
        return True


_IN_CALL = threading.local()
_FACADE_LOGGER = logging.getLogger("facade")
# Shorter "keys" cannot be scrubbed without mangling every message.
_MIN_REDACTED_LENGTH = 6
_FILTER = _RedactingFilter()
for _name in ("qianfan", "baidubce.auth.bce_v1_signer"):
    logging.getLogger(_name).addFilter(_FILTER)


class _CapturingHTTPClient(HTTPClient):
    """The SDK's HTTP client, keeping the last raw response, never redirected.

    The SDK's own method follows redirects (requests' default); the console
    does not redirect, and the facade treats a 3xx as an answer to judge, the
    same as the http backend does.
    """

    last_response: requests.Response | None = None

    def request(self, req: QfRequest) -> requests.Response:
        self.last_response = None
        response = self._session.request(
            **req.requests_args(),
            timeout=req.retry_config.timeout,
            verify=self.ssl,
            proxies=self._requests_proxy(),
            allow_redirects=False,
        )
        self.last_response = response
        return response


class _Requestor(ConsoleAPIRequestor):  # type: ignore[misc]
    """The SDK's console requestor, aimed at one endpoint, never raising on bodies."""

    def __init__(self, endpoint: str, credentials: facade.Credentials) -> None:
        # The keys also reach the SDK's Auth object, which only derives the
        # rate limiter's key from them; nothing is read from the SDK config.
        super().__init__(
            host=endpoint,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
        )
        self._client: _CapturingHTTPClient = _CapturingHTTPClient()

    def _check_error(self, body: dict[str, Any]) -> None:
        # V1 error bodies are normalized by the facade, the same for every backend.
        return None


def _transport_error(
    exc: requests.exceptions.RequestException, request: facade.ConsoleRequest
) -> facade.FacadeError:
    """Translate a ``requests`` failure; say whether the request went out."""
    where = f"{request.endpoint}{request.route}"
    cause = exc.args[0] if exc.args else None
    cause = getattr(cause, "reason", cause)  # MaxRetryError wraps the real cause
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return facade.InvalidResponseError(
            f"the answer from {where} could not be decoded", backend=_NAME
        )
    if isinstance(cause, urllib3.exceptions.NewConnectionError):
        return facade.TransportError(
            f"could not connect to {where}",
            backend=_NAME,
            request_sent=False,
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(
        cause, urllib3.exceptions.ConnectTimeoutError
    ):
        return facade.TransportTimeoutError(
            f"could not connect to {where} within {request.timeout:g}s",
            backend=_NAME,
            request_sent=False,
        )
    if isinstance(exc, requests.exceptions.Timeout) or isinstance(
        cause, urllib3.exceptions.ReadTimeoutError
    ):
        return facade.TransportTimeoutError(
            f"no answer from {where} within {request.timeout:g}s",
            backend=_NAME,
            request_sent=True,
        )
    return facade.TransportError(
        f"request to {where} failed: the connection closed before a complete "
        "answer",
        backend=_NAME,
    )


class SdkBackend:
    """Send through the SDK's console path; one requestor per thread."""

    name = _NAME

    def __init__(self) -> None:
        self._local = threading.local()
        self._opened: list[_Requestor] = []
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def _requestor(
        self, endpoint: str, credentials: facade.Credentials
    ) -> _Requestor:
        requestors: dict[tuple[str, facade.Credentials], _Requestor] = (
            self._local.__dict__.setdefault("requestors", {})
        )
        key = (endpoint, credentials)
        if key not in requestors:
            requestors[key] = _Requestor(endpoint, credentials)
            with self._pool_lock:
                self._opened.append(requestors[key])
        return requestors[key]

    def send(self, request: facade.ConsoleRequest) -> facade.RawResponse:
        """Build, sign and send one request with the SDK; return the raw answer."""
        credentials = request.credentials
        _FILTER.remember(credentials.access_key, credentials.secret_key)
        # The documented call for a V1 route passes action "", which the SDK
        # sends as a stray "?Action="; this backend does the same.
        action = request.action if request.action is not None else ""
        sdk_request = _build_sdk_request(request.route, action, dict(request.body))
        sdk_request.headers["request-source"] = _REQUEST_SOURCE
        requestor = self._requestor(request.endpoint, credentials)
        retry = RetryConfig(retry_count=1, timeout=request.timeout)
        _IN_CALL.active = True
        try:
            requestor._request_console_api(
                sdk_request, credentials.access_key, credentials.secret_key, retry
            )
        except requests.exceptions.RequestException as exc:
            raise _transport_error(exc, request) from exc
        except Exception:
            # The SDK failed judging an answer it did receive (a non-2xx status,
            # a body that is not JSON or not an object, ...). Its messages carry
            # request headers, so they are dropped; the answer itself is what the
            # facade judges, the same way for every backend.
            if requestor._client.last_response is None:
                raise
        finally:
            _IN_CALL.active = False
        response = requestor._client.last_response
        assert response is not None
        return facade.RawResponse.build(
            response.status_code, response.headers, response.content
        )

    async def asend(self, request: facade.ConsoleRequest) -> facade.RawResponse:
        """Run :meth:`send` in a bounded worker pool (the SDK has no async call)."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    _ASYNC_WORKERS, thread_name_prefix="qianfan-facade-sdk"
                )
            pool = self._pool
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, self.send, request)

    def close(self) -> None:
        """Stop the worker pool and close every thread's session."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        with self._pool_lock:
            opened, self._opened = self._opened, []
            self._local = threading.local()
        for requestor in opened:
            requestor._client._session.close()

    async def aclose(self) -> None:
        """Close from asyncio."""
        await asyncio.get_running_loop().run_in_executor(None, self.close)
