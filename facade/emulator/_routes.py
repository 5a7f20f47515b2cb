"""The console routes the emulator serves, as a table, and their handlers.

V1 routes answer errors with HTTP 200 and an ``error_code`` body, so that SDK
retry logic and ``APIError`` work; V2 actions answer with HTTP 4xx and a
``{"requestId", "code", "message"}`` body. Both render the same task store,
each in its own spelling. Unknown body keys are ignored, since the Python SDK
may put ``ak`` and ``sk`` into V2 bodies.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from facade.emulator._http import (
    Request,
    Response,
    json_response,
    new_log_id,
    new_request_id,
    v2_error,
)
from facade.emulator._state import (
    EXPORT_FIELDS,
    V1_EXPORT_FIELDS,
    ConsoleState,
    ExportState,
    ExportTask,
    StorageKind,
)

__all__ = [
    "DOWNLOAD_PREFIX",
    "V1_EXPORT",
    "V1_EXPORT_INFO",
    "V2_EVAL",
    "ConsoleRoutes",
    "Route",
]

_logger = logging.getLogger(__name__)

V1_EXPORT = "/wenxinworkshop/modelrepo/eval/result/export"
V1_EXPORT_INFO = "/wenxinworkshop/modelrepo/eval/result/export/info"
V2_EVAL = "/v2/eval"
DOWNLOAD_PREFIX = "/download/"

V1_PARAM_INVALID = 500001
V1_INVALID_JSON = 336002
MAX_RESULT_IDS = 100

_V1_STATES = {
    ExportState.QUEUED: "Pending",
    ExportState.RUNNING: "Uploading",
    ExportState.FAILED: "Fail",
    ExportState.SUCCEEDED: "Done",
}
_V2_STATES = {
    ExportState.QUEUED: "Queued",
    ExportState.RUNNING: "Running",
    ExportState.FAILED: "Failed",
    ExportState.SUCCEEDED: "Succeeded",
}
_V1_STORAGE = {"local": StorageKind.PLATFORM, "storage": StorageKind.BOS}
_V2_STORAGE = {"sysStorage": StorageKind.PLATFORM, "BOS": StorageKind.BOS}
_V1_STORAGE_NAMES = {kind: name for name, kind in _V1_STORAGE.items()}
_V2_STORAGE_NAMES = {kind: name for name, kind in _V2_STORAGE.items()}
_EXPORT_OPTIONS = {"total": "total", "part": "part"}

# A fixed date keeps the archive's bytes the same from one download to the next.
_ARCHIVE_DATE = (2024, 1, 4, 3, 20, 30)
_SAMPLE_ROWS: tuple[dict[str, object], ...] = (
    {
        "prompt": "What is the capital of France?",
        "prediction": "The capital of France is Paris.",
        "completion": "Paris",
        "metrics": {"accuracy": 1.0, "rouge_l": 0.4, "bleu4": 0.12},
        "system": "You are a concise geography tutor.",
    },
    {
        "prompt": "2 + 2 = ?",
        "prediction": "5",
        "completion": "4",
        "metrics": {"accuracy": 0.0, "rouge_l": 0.0, "bleu4": 0.0},
        "system": "Answer with a number only.",
    },
    {
        "prompt": "用一句话介绍千帆平台。",
        "prediction": "千帆是百度智能云的大模型平台。",
        "completion": "千帆是百度智能云推出的大模型开发与服务平台。",
        "metrics": {"accuracy": 1.0, "rouge_l": 0.62, "bleu4": 0.35},
        "system": "",
    },
)

_T = TypeVar("_T")
_Body = dict[str, Any]


class _InvalidArgument(Exception):
    """A body field is missing, mistyped or out of range."""


class _TaskNotFound(Exception):
    """No export task has the id the caller gave."""

    def __init__(self, task_id: object) -> None:
        super().__init__(f"export task {task_id} does not exist")


class _NotAJsonObject(Exception):
    """The body is not a JSON object."""


@dataclass(frozen=True)
class Route:
    """One row of the route table.

    ``path`` is matched exactly, or as a prefix when ``prefix`` is set;
    ``signed`` says whether the request must carry a valid signature.
    """

    path: str
    method: str
    signed: bool
    handler: Callable[[Request], Response]
    prefix: bool = False

    def matches(self, path: str) -> bool:
        """Whether this route serves ``path``."""
        return path.startswith(self.path) if self.prefix else path == self.path


class ConsoleRoutes:
    """The route table over one task store.

    ``base_url`` returns the emulator's address, used to build download links.
    """

    def __init__(self, state: ConsoleState, base_url: Callable[[], str]) -> None:
        self._state = state
        self._base_url = base_url
        self.table: tuple[Route, ...] = (
            Route(V1_EXPORT, "POST", True, self._v1(self._v1_create_export)),
            Route(V1_EXPORT_INFO, "POST", True, self._v1(self._v1_export_info)),
            Route(V2_EVAL, "POST", True, self._v2_eval),
            Route(DOWNLOAD_PREFIX, "GET", False, self._download, prefix=True),
        )
        self.v2_actions: dict[str, Callable[[_Body], object]] = {
            "CreateEvalResultExportTask": self._v2_create_export,
            "DescribeEvalResultExportTask": self._v2_describe_export,
        }

    def match(self, path: str) -> Route | None:
        """The route serving ``path``, or ``None``."""
        return next((route for route in self.table if route.matches(path)), None)

    def dispatch(self, route: Route | None, request: Request) -> Response:
        """Answer ``request`` with ``route``: 404 without one, 405 on a wrong method."""
        if route is None:
            served = ", ".join(f"{r.method} {r.path}" for r in self.table)
            return v2_error(
                404,
                "NotFound",
                f"No route {request.path}; the emulator serves {served}.",
            )
        if request.method != route.method:
            return v2_error(
                405,
                "MethodNotAllowed",
                f"{request.method} is not allowed on {route.path}; use {route.method}.",
                headers={"Allow": route.method},
            )
        return route.handler(request)

    def _v1(self, action: Callable[[_Body], object]) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            try:
                result = action(_json_object(request.body))
            except _NotAJsonObject as exc:
                return _v1_error(V1_INVALID_JSON, f"Invalid JSON: {exc}")
            except _InvalidArgument as exc:
                return _v1_error(V1_PARAM_INVALID, f"param invalid: {exc}")
            except _TaskNotFound as exc:
                return _v1_error(V1_PARAM_INVALID, str(exc))
            return json_response(200, {"log_id": new_log_id(), "result": result})

        return handle

    def _v1_create_export(self, body: _Body) -> object:
        eval_id = _eval_id(body.get("id"), "id")
        storage = _choice(body, "exportType", _V1_STORAGE, "local")
        bucket = ""
        if storage is StorageKind.BOS:
            bucket = _required_string(body, "volumeId", " when exportType is storage")
        if _choice(body, "exportOpt", _EXPORT_OPTIONS, "total") == "part":
            _check_result_ids(body.get("resultIds"))
        content = _export_content(body, V1_EXPORT_FIELDS, default=V1_EXPORT_FIELDS)
        task = self._state.create_task(
            eval_id=eval_id, storage=storage, bucket=bucket, content=content
        )
        _logger.debug("V1 created export task %s", task.export_id)
        return {"exportID": task.export_id, "exportIDStr": task.export_id_str}

    def _v1_export_info(self, body: _Body) -> object:
        export_id = body.get("exportID")
        if export_id is None:
            raise _InvalidArgument("exportID is required")
        if isinstance(export_id, bool) or not isinstance(export_id, (int, str)):
            raise _InvalidArgument("exportID must be an integer or a string")
        if isinstance(export_id, str) and not export_id.strip():
            raise _InvalidArgument("exportID must not be empty")
        key: int | str = export_id
        if (
            isinstance(export_id, str)
            and self._state.find(export_id) is None
            and export_id.isascii()
            and export_id.isdigit()
        ):
            key = int(export_id)
        task = self._state.poll(key)
        if task is None:
            raise _TaskNotFound(export_id)
        return {
            "id": task.eval_id,
            "exportID": task.export_id,
            "exportIDStr": task.export_id_str,
            "state": _V1_STATES[task.state],
            "exportType": _V1_STORAGE_NAMES[task.storage],
            "volumeId": task.bucket,
            "exportPath": _shown_path(task),
            "downloadUrl": self._download_url(task),
        }

    def _v2_eval(self, request: Request) -> Response:
        name = request.query_value("Action")
        action = self.v2_actions.get(name or "")
        if action is None:
            valid = ", ".join(sorted(self.v2_actions))
            asked = "is missing" if not name else f"{name!r} is not supported"
            return v2_error(
                400, "InvalidAction", f"The Action {asked}; valid actions: {valid}."
            )
        try:
            result = action(_json_object(request.body))
        except _NotAJsonObject as exc:
            return v2_error(400, "MalformedJSON", str(exc))
        except _InvalidArgument as exc:
            return v2_error(400, "InvalidRequestArgumentError", str(exc))
        except _TaskNotFound as exc:
            return v2_error(404, "ResourceNotFound", str(exc))
        request_id = new_request_id()
        return json_response(
            200, {"requestId": request_id, "result": result}, request_id=request_id
        )

    def _v2_create_export(self, body: _Body) -> object:
        eval_id = body.get("evalId")
        if not isinstance(eval_id, str) or not eval_id.strip():
            raise _InvalidArgument("evalId is required and must be a non-empty string")
        storage = _choice(body, "storageType", _V2_STORAGE, "sysStorage")
        bucket = ""
        if storage is StorageKind.BOS:
            bucket = _required_string(body, "bucket", " when storageType is BOS")
        content = _export_content(body, EXPORT_FIELDS, default=None)
        task = self._state.create_task(
            eval_id=eval_id, storage=storage, bucket=bucket, content=content
        )
        _logger.debug("V2 created export task %s", task.export_id)
        return {"taskId": task.export_id_str}

    def _v2_describe_export(self, body: _Body) -> object:
        task_id = body.get("taskId")
        if not isinstance(task_id, str) or not task_id.strip():
            raise _InvalidArgument("taskId is required and must be a non-empty string")
        task = self._state.poll(task_id)
        if task is None:
            raise _TaskNotFound(task_id)
        described: dict[str, object] = {
            "taskId": task.export_id_str,
            "evalId": str(task.eval_id),
            "exportContent": list(task.content),
            "state": _V2_STATES[task.state],
            "storageType": _V2_STORAGE_NAMES[task.storage],
        }
        if task.storage is StorageKind.BOS:
            described["bucket"] = task.bucket
        described["exportPath"] = _shown_path(task)
        described["downloadUrl"] = self._download_url(task)
        return described

    def _download_url(self, task: ExportTask) -> str:
        if not _downloadable(task):
            return ""
        return f"{self._base_url()}{DOWNLOAD_PREFIX}{task.export_id_str}.zip"

    def _download(self, request: Request) -> Response:
        name = request.path[len(DOWNLOAD_PREFIX) :]
        task = self._state.find(name[: -len(".zip")]) if name.endswith(".zip") else None
        if task is None or not _downloadable(task):
            return v2_error(
                404,
                "NotFound",
                "No export file here; only succeeded exports to platform storage "
                "can be downloaded.",
            )
        return Response(
            200,
            {
                "Content-Type": "application/zip",
                "Content-Disposition": f'attachment; filename="{name}"',
                "x-bce-request-id": new_request_id(),
            },
            export_archive(task),
        )


def export_archive(task: ExportTask) -> bytes:
    """The zip a task's download link serves: ``data.jsonl``, one row per line.

    Each row holds the task's export fields, in the API's field order.
    """
    lines = []
    for row in _SAMPLE_ROWS:
        kept = {name: row[name] for name in EXPORT_FIELDS if name in task.content}
        lines.append(json.dumps(kept, ensure_ascii=False))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entry = zipfile.ZipInfo("data.jsonl", date_time=_ARCHIVE_DATE)
        entry.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(entry, "\n".join(lines) + "\n")
    return buffer.getvalue()


def _downloadable(task: ExportTask) -> bool:
    return task.storage is StorageKind.PLATFORM and task.state is ExportState.SUCCEEDED


def _shown_path(task: ExportTask) -> str:
    return task.export_path if task.state is ExportState.SUCCEEDED else ""


def _v1_error(code: int, message: str) -> Response:
    payload = {"error_code": code, "error_msg": message, "log_id": new_log_id()}
    return json_response(200, payload)


def _json_object(body: bytes) -> _Body:
    try:
        value = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        raise _NotAJsonObject("the request body is not valid UTF-8 JSON") from None
    if not isinstance(value, dict):
        raise _NotAJsonObject("the request body must be a JSON object")
    return value


def _eval_id(value: object, key: str) -> int | str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _InvalidArgument(f"{key} is required, an integer or a non-empty string")
    if isinstance(value, str) and not value.strip():
        raise _InvalidArgument(f"{key} must not be empty")
    return value


def _choice(body: _Body, key: str, choices: Mapping[str, _T], default: str) -> _T:
    value = body.get(key)
    if value is None:
        value = default
    if not isinstance(value, str) or value not in choices:
        raise _InvalidArgument(f"{key} must be one of {', '.join(choices)}")
    return choices[value]


def _required_string(body: _Body, key: str, condition: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _InvalidArgument(f"{key} is required{condition}")
    return value


def _check_result_ids(value: object) -> None:
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= MAX_RESULT_IDS
        or not all(isinstance(item, str) and item for item in value)
    ):
        raise _InvalidArgument(
            f"resultIds must list 1 to {MAX_RESULT_IDS} result ids when exportOpt "
            "is part"
        )


def _export_content(
    body: _Body, allowed: tuple[str, ...], *, default: tuple[str, ...] | None
) -> tuple[str, ...]:
    """The ``exportContent`` list; ``default`` if absent, unless it is required."""
    value = body.get("exportContent")
    if value is None and default is not None:
        return default
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and item in allowed for item in value)
    ):
        raise _InvalidArgument(
            f"exportContent must be a non-empty list drawn from {', '.join(allowed)}"
        )
    return tuple(value)  # the store drops repeats
