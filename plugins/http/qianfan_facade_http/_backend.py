"""Send signed console requests with httpx, sync and async.

httpx is imported on the first request, not when a client is built: a
program that builds its clients at start-up pays for the HTTP stack only once
it calls the console (about a third of the SDK's whole import time).
"""

from __future__ import annotations

import contextlib
import functools
import ssl
import threading
import time
from collections.abc import Iterator
from importlib.metadata import version
from typing import TYPE_CHECKING

import facade

if TYPE_CHECKING:
    import asyncio

    import httpx

__all__ = ["HttpBackend"]

_USER_AGENT = f"qianfan-facade-http/{version('qianfan-facade-http')}"
# Distinct URLs are few (one per route and action); parsing one costs more
# than half of building an httpx request, so each is parsed once.
_URL_CACHE_SIZE = 256


@functools.lru_cache(maxsize=_URL_CACHE_SIZE)
def _parsed_url(url: str) -> httpx.URL:
    import httpx

    return httpx.URL(url)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # httpx loads the CA bundle afresh for every client it opens, about 25 ms
    # each time; every backend verifies alike, so one context is shared (and
    # SSL_CERT_FILE or SSL_CERT_DIR is read when the first client opens).
    import httpx

    return httpx.create_ssl_context()


class HttpBackend:
    """One httpx connection pool per client, each request freshly signed."""

    name = "http"

    def __init__(self) -> None:
        self._client: httpx.Client | None = None
        self._async_client: httpx.AsyncClient | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _prepare(self, request: facade.ConsoleRequest) -> tuple[bytes, dict[str, str]]:
        content = request.json_bytes()
        headers = facade.signed_headers(
            access_key=request.credentials.access_key,
            secret_key=request.credentials.secret_key,
            url=request.url,
            content=content,
            timestamp=time.time(),
        )
        headers["user-agent"] = _USER_AGENT
        return content, headers

    def send(self, request: facade.ConsoleRequest) -> facade.RawResponse:
        """Sign and POST one request; map httpx failures to facade errors."""
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(verify=_tls_context())
            client = self._client
        content, headers = self._prepare(request)
        with _mapped_errors(request):
            response = client.post(
                _parsed_url(request.url),
                content=content,
                headers=headers,
                timeout=request.timeout,
            )
        return facade.RawResponse.build(
            response.status_code, response.headers, response.content
        )

    async def asend(self, request: facade.ConsoleRequest) -> facade.RawResponse:
        """Sign and POST one request from asyncio."""
        import asyncio

        loop = asyncio.get_running_loop()
        if self._async_client is None or self._async_loop is not loop:
            # An httpx async pool belongs to the loop that opened it; a client
            # reused under a new asyncio.run() gets a fresh pool.
            import httpx

            self._async_client = httpx.AsyncClient(verify=_tls_context())
            self._async_loop = loop
        content, headers = self._prepare(request)
        with _mapped_errors(request):
            response = await self._async_client.post(
                _parsed_url(request.url),
                content=content,
                headers=headers,
                timeout=request.timeout,
            )
        return facade.RawResponse.build(
            response.status_code, response.headers, response.content
        )

    def close(self) -> None:
        """Close the sync connection pool."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        """Close both connection pools."""
        import asyncio

        self.close()
        if self._async_client is not None:
            if self._async_loop is asyncio.get_running_loop():
                await self._async_client.aclose()
            self._async_client = self._async_loop = None


@contextlib.contextmanager
def _mapped_errors(request: facade.ConsoleRequest) -> Iterator[None]:
    """Translate httpx's exceptions at the backend boundary."""
    import httpx

    where = f"{request.endpoint}{request.route}"
    try:
        yield
    except httpx.ConnectTimeout as exc:
        raise facade.TransportTimeoutError(
            f"could not connect to {where} within {request.timeout:g}s",
            backend="http",
            request_sent=False,
        ) from exc
    except (httpx.ConnectError, httpx.PoolTimeout) as exc:
        raise facade.TransportError(
            f"could not connect to {where}",
            backend="http",
            request_sent=False,
        ) from exc
    except httpx.TimeoutException as exc:
        raise facade.TransportTimeoutError(
            f"no answer from {where} within {request.timeout:g}s",
            backend="http",
            request_sent=isinstance(exc, httpx.ReadTimeout) or None,
        ) from exc
    except httpx.DecodingError as exc:
        raise facade.InvalidResponseError(
            f"the answer from {where} could not be decoded", backend="http"
        ) from exc
    except httpx.TransportError as exc:
        raise facade.TransportError(
            f"request to {where} failed: the connection closed before a complete "
            "answer",
            backend="http",
        ) from exc
