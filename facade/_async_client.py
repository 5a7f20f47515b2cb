"""The asyncio client: the same calls and results as :class:`facade.Client`."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facade._backend import AsyncBackend, Backend, ConsoleRequest
from facade._client import (
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    DEFAULT_WAIT_TIMEOUT,
    _Core,
    _is_task,
)
from facade._enums import ApiVersion, StorageKind
from facade._errors import ConfigurationError, FacadeError
from facade._export import Waiter, WaitPolicy, download_to
from facade._plugins import PluginRegistry
from facade._retry import DeadlineReached, RetryPolicy

if TYPE_CHECKING:
    from facade._models import ConsoleResponse, ExportTask

__all__ = ["AsyncClient"]


class AsyncClient(_Core):
    """A console client for asyncio, with its own settings and backend.

    Takes the same arguments as :class:`facade.Client`. A backend with
    ``asend`` is awaited directly (the ``http`` backend uses httpx's async
    client); one with only ``send`` runs in a worker thread.
    """

    _async_sleep: Callable[[float], Any] = staticmethod(asyncio.sleep)

    def __init__(
        self,
        backend: str | Backend | AsyncBackend | None = None,
        endpoint: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        api_version: ApiVersion | str = ApiVersion.V1,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        registry: PluginRegistry | None = None,
    ) -> None:
        super().__init__(
            backend,
            endpoint,
            access_key,
            secret_key,
            timeout,
            api_version,
            registry,
            retry,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        if not callable(getattr(self._backend, "asend", None)) and not callable(
            getattr(self._backend, "send", None)
        ):
            raise ConfigurationError(
                f"backend {self.backend_name!r} has neither asend() nor send()"
            )

    async def call_action(
        self,
        route: str,
        action: str | None = None,
        body: Mapping[str, Any] | None = None,
        *,
        idempotent: bool | None = None,
    ) -> ConsoleResponse:
        """Call any console route or action; see :meth:`facade.Client.call_action`."""
        request = self._request(route, action, body)
        return await self._send(
            request, idempotent=self._idempotent(request, idempotent)
        )

    async def export_status(
        self, export_id: int | str, *, api_version: ApiVersion | str | None = None
    ) -> ExportTask:
        """Return an export task's state; see :meth:`facade.Client.export_status`."""
        response = await self._send(self._status_request(export_id, api_version))
        return self._task(response)

    async def export_create(
        self,
        evaluation_id: int | str,
        *,
        storage: StorageKind | str = StorageKind.PLATFORM,
        bucket: str | None = None,
        content: Iterable[str] | None = None,
        result_ids: Iterable[str] | None = None,
        api_version: ApiVersion | str | None = None,
    ) -> ExportTask:
        """Start an export; see :meth:`facade.Client.export_create`."""
        _, request = self._create_request(
            evaluation_id, storage, bucket, content, result_ids, api_version
        )
        return self._created(await self._send(request, idempotent=False))

    async def wait_for_export(
        self,
        task: ExportTask | int | str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = 2.0,
        max_poll_interval: float = 30.0,
        backoff: float = 1.5,
        on_change: Callable[[ExportTask], None] | None = None,
        api_version: ApiVersion | str | None = None,
    ) -> ExportTask:
        """Poll until the task finishes; see :meth:`facade.Client.wait_for_export`."""
        policy = WaitPolicy.build(timeout, poll_interval, max_poll_interval, backoff)
        task_id = self._task_id(task)
        waiter = Waiter(policy, self._clock, on_change)
        if _is_task(task) and not task.state.is_terminal:
            waiter.start_from(task)  # a just-created task is reported as queued
        request = self._status_request(task_id, api_version)
        while True:
            try:
                response = await self._send(request, until=waiter.deadline)
            except DeadlineReached as reached:
                raise self._expired(waiter, reached)  # noqa: B904 (chained inside)
            pause = waiter.observe(self._task(response))
            if pause is None:
                assert waiter.last is not None
                return waiter.last
            await self._async_sleep(pause)

    async def download_export(
        self,
        task: ExportTask | int | str,
        destination: str | os.PathLike[str],
        *,
        api_version: ApiVersion | str | None = None,
    ) -> Path:
        """Download a finished export; see :meth:`facade.Client.download_export`."""
        if not _is_task(task):
            task = await self.export_status(task, api_version=api_version)
        return await asyncio.to_thread(
            download_to, task, destination, self._settings.timeout
        )

    async def _send(
        self,
        request: ConsoleRequest,
        *,
        idempotent: bool = True,
        until: float | None = None,
    ) -> ConsoleResponse:
        retrier = self._retrier(request, idempotent=idempotent, until=until)
        while True:
            try:
                return await self._attempt(request)
            except FacadeError as exc:
                pause = retrier.pause_after(exc)
                if pause is None:
                    if until is not None and retrier.stopped_by_deadline:
                        raise DeadlineReached(exc) from exc
                    raise
            await self._async_sleep(pause)

    def _check_loop(self) -> None:
        # Connection pools belong to the event loop that opened them; a client
        # carried into another loop would leak them or fail inside httpx.
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise ConfigurationError(
                "this AsyncClient was first used in another event loop; create "
                "one AsyncClient per event loop (per asyncio.run())"
            )

    async def _attempt(self, request: ConsoleRequest) -> ConsoleResponse:
        self._check_loop()
        started = time.perf_counter()
        asend = getattr(self._backend, "asend", None)
        try:
            if asend is not None:
                raw = await asend(request)
            else:
                raw = await asyncio.to_thread(self._backend.send, request)
        except FacadeError as exc:
            self._failed(request, exc, started)
            raise
        return self._finish(request, raw, started)

    async def aclose(self) -> None:
        """Close the backend's connections; the client is not used again."""
        self._check_loop()
        aclose = getattr(self._backend, "aclose", None)
        if aclose is not None:
            await aclose()
        else:
            await asyncio.to_thread(self._backend.close)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
