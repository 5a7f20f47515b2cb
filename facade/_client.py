"""The synchronous client: settings, backend choice and the console calls."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facade._backend import Backend, ConsoleRequest, Credentials, RawResponse
from facade._enums import ApiVersion, StorageKind
from facade._errors import ConfigurationError, FacadeError, InvalidInputError
from facade._export import (
    Waiter,
    WaitPolicy,
    create_body,
    download_to,
)
from facade._plugins import BackendChoice, PluginRegistry, default_registry
from facade._retry import DeadlineReached, Retrier, RetryPolicy, is_read_only
from facade._validation import (
    check_action,
    check_body,
    check_credential,
    check_endpoint,
    check_export_id,
    check_route,
    check_timeout,
)

if TYPE_CHECKING:
    from typing_extensions import TypeIs

    from facade._models import ConsoleResponse, ExportTask

__all__ = ["Client"]

logger = logging.getLogger("facade.client")

ENV_ENDPOINT = "QIANFAN_CONSOLE_API_BASE_URL"
ENV_ACCESS_KEY = "QIANFAN_ACCESS_KEY"
ENV_SECRET_KEY = "QIANFAN_SECRET_KEY"
DEFAULT_ENDPOINT = "https://qianfan.baidubce.com"
_VARIABLES = {
    "endpoint": ENV_ENDPOINT,
    "access_key": ENV_ACCESS_KEY,
    "secret_key": ENV_SECRET_KEY,
}
DEFAULT_TIMEOUT = 30.0

V1_EXPORT_CREATE = "/wenxinworkshop/modelrepo/eval/result/export"
V1_EXPORT_INFO = "/wenxinworkshop/modelrepo/eval/result/export/info"
V2_ROUTE = "/v2/eval"
V2_CREATE_EXPORT = "CreateEvalResultExportTask"
V2_DESCRIBE_EXPORT = "DescribeEvalResultExportTask"
DEFAULT_WAIT_TIMEOUT = 600.0
DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class Settings:
    """A client's own settings, fixed at construction and never shared."""

    endpoint: str
    credentials: Credentials
    timeout: float
    api_version: ApiVersion
    retry: RetryPolicy

    @classmethod
    def resolve(
        cls,
        endpoint: str | None,
        access_key: str | None,
        secret_key: str | None,
        timeout: float,
        api_version: ApiVersion | str,
        retry: RetryPolicy | None,
    ) -> Settings:
        """Validate arguments, filling gaps from the SDK's environment variables.

        A bad argument is an :class:`InvalidInputError`; a bad or missing
        variable a :class:`ConfigurationError` naming it.
        """
        # An empty variable counts as unset, as for the SDK; an empty argument
        # is an error, never a silent fall-back to the production console.
        from_env = {
            name
            for name, given in (
                (ENV_ENDPOINT, endpoint),
                (ENV_ACCESS_KEY, access_key),
                (ENV_SECRET_KEY, secret_key),
            )
            if given is None
        }
        endpoint = (
            endpoint
            if endpoint is not None
            else os.environ.get(ENV_ENDPOINT) or DEFAULT_ENDPOINT
        )
        access_key = (
            access_key if access_key is not None else os.environ.get(ENV_ACCESS_KEY)
        )
        secret_key = (
            secret_key if secret_key is not None else os.environ.get(ENV_SECRET_KEY)
        )
        missing = [
            variable
            for value, variable in (
                (access_key, ENV_ACCESS_KEY),
                (secret_key, ENV_SECRET_KEY),
            )
            if value is None
        ]
        if missing:
            raise ConfigurationError(
                "no console credentials: pass access_key and secret_key, or set "
                f"{' and '.join(missing)}"
            )
        try:
            checked_endpoint = check_endpoint(endpoint)
            credentials = Credentials(
                check_credential(access_key, "access_key", ENV_ACCESS_KEY),
                check_credential(secret_key, "secret_key", ENV_SECRET_KEY),
            )
        except InvalidInputError as exc:
            variable = _VARIABLES[exc.parameter]
            if variable not in from_env:
                raise
            raise ConfigurationError(f"{variable}: {exc.message}") from None
        return cls(
            endpoint=checked_endpoint,
            credentials=credentials,
            timeout=check_timeout(timeout),
            api_version=check_api_version(api_version),
            retry=check_retry(retry),
        )


def check_retry(value: object) -> RetryPolicy:
    """Return the retry policy: a :class:`RetryPolicy`, or ``None`` for no retries."""
    if value is None:
        return RetryPolicy.off()
    if not isinstance(value, RetryPolicy):
        raise InvalidInputError(
            f"retry must be a facade.RetryPolicy or None, not {type(value).__name__}",
            parameter="retry",
        )
    return value


def _is_task(value: object) -> TypeIs[ExportTask]:
    """Whether ``value`` is an :class:`ExportTask`, without importing pydantic
    for callers that pass ids (no task can exist before its module loads)."""
    models = sys.modules.get("facade._models")
    return models is not None and isinstance(value, models.ExportTask)


def check_api_version(value: object) -> ApiVersion:
    """Return the API generation named by ``value`` (``"v1"`` or ``"v2"``)."""
    try:
        return ApiVersion(value)
    except ValueError:
        raise InvalidInputError(
            f"api_version must be 'v1' or 'v2', got {value!r}", parameter="api_version"
        ) from None


class _Core:
    """What the sync and async clients share: settings, requests and answers."""

    _clock: Callable[[], float] = staticmethod(time.monotonic)
    _sleep: Callable[[float], None] = staticmethod(time.sleep)

    def __init__(
        self,
        backend: str | object | None,
        endpoint: str | None,
        access_key: str | None,
        secret_key: str | None,
        timeout: float,
        api_version: ApiVersion | str,
        registry: PluginRegistry | None,
        retry: RetryPolicy | None,
    ) -> None:
        self._settings = Settings.resolve(
            endpoint, access_key, secret_key, timeout, api_version, retry
        )
        if backend is None or isinstance(backend, str):
            registry = registry or default_registry()
            self._choice = registry.choose(backend)
            self._backend: Any = registry.build(self._choice.name)
        else:
            name = getattr(backend, "name", None) or type(backend).__name__
            self._choice = BackendChoice(str(name), "instance passed by the caller")
            self._backend = backend
        logger.debug(
            "client uses backend %s (%s)", self._choice.name, self._choice.reason
        )

    @property
    def backend_name(self) -> str:
        """The name of the backend this client sends through."""
        return self._choice.name

    @property
    def backend_reason(self) -> str:
        """Why that backend was chosen: argument, environment or default."""
        return self._choice.reason

    @property
    def endpoint(self) -> str:
        """The console base URL this client calls."""
        return self._settings.endpoint

    @property
    def api_version(self) -> ApiVersion:
        """The API generation used when a call does not name one."""
        return self._settings.api_version

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(backend={self.backend_name!r}, "
            f"endpoint={self.endpoint!r}, api_version={self.api_version.value!r})"
        )

    def _request(self, route: object, action: object, body: object) -> ConsoleRequest:
        return ConsoleRequest(
            route=check_route(route),
            action=check_action(action),
            body=check_body(body),
            endpoint=self._settings.endpoint,
            credentials=self._settings.credentials,
            timeout=self._settings.timeout,
        )

    def _version(self, api_version: object) -> ApiVersion:
        return (
            self._settings.api_version
            if api_version is None
            else check_api_version(api_version)
        )

    def _status_request(self, export_id: object, api_version: object) -> ConsoleRequest:
        version = self._version(api_version)
        checked = check_export_id(export_id)
        if version is ApiVersion.V1:
            return self._request(V1_EXPORT_INFO, None, {"exportID": checked})
        if not isinstance(checked, str):
            raise InvalidInputError(
                "the V2 API identifies export tasks by their string id such as "
                f"'amemt-hkkf5y9e64j8', got the int {checked}",
                parameter="export_id",
            )
        return self._request(V2_ROUTE, V2_DESCRIBE_EXPORT, {"taskId": checked})

    def _create_request(
        self,
        evaluation_id: object,
        storage: object,
        bucket: object,
        content: Iterable[str] | None,
        result_ids: Iterable[str] | None,
        api_version: object,
    ) -> tuple[ApiVersion, ConsoleRequest]:
        version = self._version(api_version)
        body = create_body(version, evaluation_id, storage, bucket, content, result_ids)
        if version is ApiVersion.V1:
            return version, self._request(V1_EXPORT_CREATE, None, body)
        return version, self._request(V2_ROUTE, V2_CREATE_EXPORT, body)

    def _retrier(
        self, request: ConsoleRequest, *, idempotent: bool, until: float | None
    ) -> Retrier:
        where = request.route + (f"?Action={request.action}" if request.action else "")
        return Retrier(
            self._settings.retry,
            self._clock,
            idempotent=idempotent,
            describe=where,
            until=until,
        )

    @staticmethod
    def _idempotent(request: ConsoleRequest, given: object) -> bool:
        if given is None:
            return is_read_only(request.route, request.action)
        if not isinstance(given, bool):
            raise InvalidInputError(
                "idempotent must be True, False or None", parameter="idempotent"
            )
        return given

    def _task(self, response: ConsoleResponse) -> ExportTask:
        from facade._normalize import to_export_task

        try:
            return to_export_task(response)
        except FacadeError as exc:
            raise self._with_backend(exc) from None

    @staticmethod
    def _expired(waiter: Waiter, reached: DeadlineReached) -> FacadeError:
        """A wait's timeout (chained to the poll's failure), or that failure."""
        final = waiter.expired(reached.error)
        if final is not reached.error:
            final.__cause__ = reached.error
        final.__suppress_context__ = True  # the internal signal is no news
        return final

    def _task_id(self, task: ExportTask | int | str) -> int | str:
        return task.id if _is_task(task) else check_export_id(task)

    def _created(self, response: ConsoleResponse) -> ExportTask:
        from facade._normalize import to_created_task

        try:
            return to_created_task(response)
        except FacadeError as exc:
            raise self._with_backend(exc) from None

    def _with_backend(self, exc: FacadeError) -> FacadeError:
        exc.backend = exc.backend or self.backend_name
        return exc

    def _finish(
        self, request: ConsoleRequest, raw: RawResponse, started: float
    ) -> ConsoleResponse:
        elapsed = time.perf_counter() - started
        credentials = request.credentials
        try:
            from facade._normalize import parse_envelope

            response = parse_envelope(
                raw,
                route=request.route,
                backend=self.backend_name,
                secrets=(credentials.access_key, credentials.secret_key),
            )
        except FacadeError as exc:
            self._log(request, f"{type(exc).__name__} HTTP {raw.status}", elapsed)
            raise
        self._log(request, f"ok HTTP {raw.status}", elapsed)
        return response

    def _failed(
        self, request: ConsoleRequest, exc: FacadeError, started: float
    ) -> None:
        self._with_backend(exc)
        self._log(request, type(exc).__name__, time.perf_counter() - started)

    def _log(self, request: ConsoleRequest, outcome: str, elapsed: float) -> None:
        logger.info(
            "console call backend=%s route=%s action=%s outcome=%s elapsed=%.3fs",
            self.backend_name,
            request.route,
            request.action or "-",
            outcome,
            elapsed,
        )


class Client(_Core):
    """A console client with its own endpoint, keys, timeout and backend.

    ``backend`` is a backend name (see ``qianfan-facade backends``), a backend
    instance, or ``None`` for ``QIANFAN_FACADE_BACKEND`` and then the default.
    ``endpoint``, ``access_key`` and ``secret_key`` default to the variables the
    official SDK reads: ``QIANFAN_CONSOLE_API_BASE_URL``, ``QIANFAN_ACCESS_KEY``
    and ``QIANFAN_SECRET_KEY``. ``timeout`` bounds each network operation
    (connect, each read, each write); ``retry`` says how retryable failures are
    retried (``None``: never). Raises :class:`ConfigurationError` when keys are
    missing or the backend is unknown, :class:`InvalidInputError` for a bad value.
    """

    def __init__(
        self,
        backend: str | Backend | None = None,
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
        if not callable(getattr(self._backend, "send", None)):
            raise ConfigurationError(
                f"backend {self.backend_name!r} has no synchronous send(); use "
                "facade.AsyncClient with it"
            )

    def call_action(
        self,
        route: str,
        action: str | None = None,
        body: Mapping[str, Any] | None = None,
        *,
        idempotent: bool | None = None,
    ) -> ConsoleResponse:
        """Call any console route (V1) or action (V2) and return its envelope.

        ``idempotent`` says whether repeating the call is harmless, which
        decides how failures are retried; by default only calls that read
        (``Describe*``/``Get*``/``List*``/``Query*`` actions, V1 ``/info``,
        ``/detail``, ``/report`` and ``/list`` routes) are. Raises a
        :class:`ConsoleError` subclass when the console answers with an error,
        :class:`TransportError` when no answer arrives and
        :class:`InvalidResponseError` when the answer is not a console response.
        """
        request = self._request(route, action, body)
        return self._send(request, idempotent=self._idempotent(request, idempotent))

    def export_status(
        self, export_id: int | str, *, api_version: ApiVersion | str | None = None
    ) -> ExportTask:
        """Return the current state of an evaluation result export task.

        ``export_id`` is the numeric id or the string id (``amemt-...``); the V2
        API takes only the string id.
        """
        response = self._send(self._status_request(export_id, api_version))
        return self._task(response)

    def export_create(
        self,
        evaluation_id: int | str,
        *,
        storage: StorageKind | str = StorageKind.PLATFORM,
        bucket: str | None = None,
        content: Iterable[str] | None = None,
        result_ids: Iterable[str] | None = None,
        api_version: ApiVersion | str | None = None,
    ) -> ExportTask:
        """Start exporting an evaluation's results; return the new, queued task.

        ``storage`` is ``"platform"`` (a download link follows) or
        ``"user_bucket"`` with ``bucket``; ``content`` picks fields among
        prompt, prediction, completion, metrics (and system on V2), default all;
        ``result_ids`` (V1 only, 1 to 100) exports only those rows.
        Raises :class:`InvalidInputError` for a combination the API refuses,
        before anything is sent.
        """
        _, request = self._create_request(
            evaluation_id, storage, bucket, content, result_ids, api_version
        )
        return self._created(self._send(request, idempotent=False))

    def wait_for_export(
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
        """Poll an export task until it succeeds; return the finished task.

        Intervals start at ``poll_interval`` and grow by ``backoff`` up to
        ``max_poll_interval``; ``on_change`` receives the task each time its
        state changes. Raises :class:`ExportFailedError` when the task fails and
        :class:`ExportTimeoutError` (carrying the last task seen) when
        ``timeout`` seconds pass first. No call is made after a terminal state.
        """
        policy = WaitPolicy.build(timeout, poll_interval, max_poll_interval, backoff)
        task_id = self._task_id(task)
        waiter = Waiter(policy, self._clock, on_change)
        if _is_task(task) and not task.state.is_terminal:
            waiter.start_from(task)  # a just-created task is reported as queued
        request = self._status_request(task_id, api_version)
        while True:
            try:
                response = self._send(request, until=waiter.deadline)
            except DeadlineReached as reached:
                raise self._expired(waiter, reached)  # noqa: B904 (chained inside)
            pause = waiter.observe(self._task(response))
            if pause is None:
                assert waiter.last is not None
                return waiter.last
            self._sleep(pause)

    def download_export(
        self,
        task: ExportTask | int | str,
        destination: str | os.PathLike[str],
        *,
        api_version: ApiVersion | str | None = None,
    ) -> Path:
        """Download a succeeded export's zip to ``destination``; return its path.

        ``destination`` is a folder (the file keeps the link's name) or a file
        path. The file appears only once complete and checked; a failure leaves
        nothing behind. Raises :class:`ExportError` when the task has not
        succeeded or went to your own bucket (the message says where).
        """
        if not _is_task(task):
            task = self.export_status(task, api_version=api_version)
        return download_to(task, destination, self._settings.timeout)

    def _send(
        self,
        request: ConsoleRequest,
        *,
        idempotent: bool = True,
        until: float | None = None,
    ) -> ConsoleResponse:
        retrier = self._retrier(request, idempotent=idempotent, until=until)
        while True:
            try:
                return self._attempt(request)
            except FacadeError as exc:
                pause = retrier.pause_after(exc)
                if pause is None:
                    if until is not None and retrier.stopped_by_deadline:
                        raise DeadlineReached(exc) from exc
                    raise
            self._sleep(pause)

    def _attempt(self, request: ConsoleRequest) -> ConsoleResponse:
        started = time.perf_counter()
        try:
            raw = self._backend.send(request)
        except FacadeError as exc:
            self._failed(request, exc, started)
            raise
        return self._finish(request, raw, started)

    def close(self) -> None:
        """Close the backend's connections; the client is not used again."""
        self._backend.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
