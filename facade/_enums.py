"""The enumerations of the public API, kept apart from pydantic.

Settings and validation use them before any result exists, so building a
client does not import pydantic; :mod:`facade._models` builds on them.
"""

from __future__ import annotations

import enum

__all__ = ["ApiVersion", "ExportState", "StorageKind"]


class ApiVersion(str, enum.Enum):
    """The console API generation: legacy ``wenxinworkshop`` routes or ``/v2``."""

    V1 = "v1"
    V2 = "v2"


class ExportState(str, enum.Enum):
    """Where an export task is, whatever the wire spelled.

    ``UNKNOWN`` stands for a state this version of the facade does not know;
    the server's own word is kept in :attr:`ExportTask.raw_state`.
    """

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        """True once the task can no longer change state."""
        return self in {ExportState.SUCCEEDED, ExportState.FAILED}


class StorageKind(str, enum.Enum):
    """Where the exported file goes.

    ``PLATFORM``: the platform's shared storage, reachable by a download URL
    (V1 ``local``, V2 ``sysStorage``). ``USER_BUCKET``: the user's own BOS
    bucket (V1 ``storage``, V2 ``BOS``).
    """

    PLATFORM = "platform"
    USER_BUCKET = "user_bucket"
    UNKNOWN = "unknown"
