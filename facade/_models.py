"""The typed results the facade returns, one shape for both API generations."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from facade._enums import ApiVersion, ExportState, StorageKind

__all__ = [
    "ApiVersion",
    "ConsoleResponse",
    "ExportState",
    "ExportTask",
    "StorageKind",
]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExportTask(_Result):
    """An evaluation result export task as the console last described it."""

    export_id: int | None = Field(
        None, description="The numeric export id (V1 ``exportID``)."
    )
    task_id: str | None = Field(
        None, description="The string export id (V1 ``exportIDStr``, V2 ``taskId``)."
    )
    evaluation_id: str | None = Field(
        None, description="The evaluation the export belongs to, when given."
    )
    state: ExportState
    raw_state: str | None = Field(None, description="The state as the wire spelled it.")
    storage: StorageKind | None = None
    raw_storage: str | None = Field(
        None, description="The storage kind as the wire spelled it."
    )
    bucket: str | None = None
    path: str | None = Field(None, description="Path of the file, without the bucket.")
    download_url: str | None = None
    export_content: tuple[str, ...] | None = None
    request_id: str | None = None
    api_version: ApiVersion
    raw: dict[str, Any] = Field(
        default_factory=dict,
        description="The ``result`` object exactly as received.",
        repr=False,
    )

    @property
    def id(self) -> int | str:
        """The id to pass back to status calls: the string id when known."""
        if self.task_id is not None:
            return self.task_id
        if self.export_id is not None:
            return self.export_id
        raise ValueError("the console returned neither a numeric nor a string id")


class ConsoleResponse(_Result):
    """The normalized envelope of any successful console call."""

    request_id: str | None = Field(
        None, description="V1 ``log_id`` or V2 ``requestId``, always a string."
    )
    result: Any = None
    http_status: int
    api_version: ApiVersion
