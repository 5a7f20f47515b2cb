"""The emulator's task store: export tasks, how they progress, the seed tasks.

One store serves both API generations. A task keeps its facts in the
emulator's own words (:class:`ExportState`, :class:`StorageKind`); the routes
translate them into each generation's spelling at the wire edge.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import re
import secrets
import string
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "EXPORT_FIELDS",
    "V1_EXPORT_FIELDS",
    "ConsoleState",
    "ExportState",
    "ExportTask",
    "StatePlan",
    "StorageKind",
]

_logger = logging.getLogger(__name__)

V1_EXPORT_FIELDS = ("prompt", "prediction", "completion", "metrics")
EXPORT_FIELDS = (*V1_EXPORT_FIELDS, "system")

FIRST_CREATED_ID = 1000
EXPORT_DIR = "qianfan_modelrepo_offline/workspace/model_eval_result_export"

_ID_ALPHABET = string.ascii_lowercase + string.digits
_ID_BODY_LENGTH = 12
# String ids end up in download URLs, so they keep to URL-unreserved characters.
_SAFE_ID = re.compile(r"[A-Za-z0-9._~-]+")


class ExportState(enum.Enum):
    """Where an export task is in its life; V1 and V2 spell these differently."""

    QUEUED = "queued"
    RUNNING = "running"
    FAILED = "failed"
    SUCCEEDED = "succeeded"

    @property
    def terminal(self) -> bool:
        """Whether the task has finished, one way or the other."""
        return self in (ExportState.FAILED, ExportState.SUCCEEDED)


class StorageKind(enum.Enum):
    """Where an export lands: platform storage (V1 ``local``, V2 ``sysStorage``)
    or the user's own BOS bucket (V1 ``storage``, V2 ``BOS``)."""

    PLATFORM = "platform"
    BOS = "bos"


_PROGRESS_RANK = {
    ExportState.QUEUED: 0,
    ExportState.RUNNING: 1,
    ExportState.FAILED: 2,
    ExportState.SUCCEEDED: 2,
}


@dataclass(frozen=True)
class StatePlan:
    """How a task created through the API moves through its states.

    Every status read of the task counts one poll: the first ``queued_polls``
    reads see it queued, the next ``running_polls`` see it running, and later
    ones see ``outcome``. Raises ``ValueError`` for negative counts or an
    unknown outcome.
    """

    queued_polls: int = 1
    running_polls: int = 2
    outcome: Literal["succeeded", "failed"] = "succeeded"

    def __post_init__(self) -> None:
        if self.queued_polls < 0 or self.running_polls < 0:
            raise ValueError(
                "queued_polls and running_polls must be zero or more, got "
                f"{self.queued_polls} and {self.running_polls}"
            )
        if self.outcome not in ("succeeded", "failed"):
            raise ValueError(
                f"outcome must be 'succeeded' or 'failed', got {self.outcome!r}"
            )

    def state_after(self, polls: int) -> ExportState:
        """The state the ``polls``-th status read of a task sees (counting from 1).

        The first ``queued_polls`` reads see it queued, the next
        ``running_polls`` see it running, and every later one its outcome.
        """
        if polls > self.queued_polls + self.running_polls:
            return ExportState(self.outcome)
        if polls > self.queued_polls:
            return ExportState.RUNNING
        return ExportState.QUEUED


@dataclass(frozen=True)
class ExportTask:
    """One evaluation-result export task, as the store holds it.

    ``eval_id`` is the evaluation id exactly as given at creation (an ``int``
    stays an ``int``). ``bucket`` is empty unless ``storage`` is BOS.
    ``export_path`` is where the file lands, without the bucket; the routes
    show it once the task has succeeded. ``plan`` is ``None`` for a task whose
    state never changes; otherwise ``polls`` counts the status reads so far.
    """

    export_id: int
    export_id_str: str
    eval_id: int | str
    storage: StorageKind
    bucket: str
    content: tuple[str, ...]
    state: ExportState
    export_path: str
    plan: StatePlan | None = None
    polls: int = 0

    def after_poll(self) -> ExportTask:
        """The task as it is after one more status read."""
        if self.plan is None or self.state.terminal:
            return self
        polls = self.polls + 1
        planned = self.plan.state_after(polls)
        # A task never moves backwards, even if it was inserted further along.
        if _PROGRESS_RANK[planned] <= _PROGRESS_RANK[self.state]:
            planned = self.state
        return dataclasses.replace(self, polls=polls, state=planned)


class ConsoleState:
    """The thread-safe store of export tasks behind both API generations.

    ``plan`` governs tasks created through the API from then on (each task
    keeps the plan it was created under); ``seed_tasks`` inserts the fixed
    tasks 96 to 100, which never change state.
    """

    def __init__(
        self, plan: StatePlan | None = None, *, seed_tasks: bool = True
    ) -> None:
        self._lock = threading.RLock()
        self._plan = plan or StatePlan()
        self._by_id: dict[int, ExportTask] = {}
        self._by_str: dict[str, int] = {}
        self._next_id = FIRST_CREATED_ID
        if seed_tasks:
            for task in _seed_tasks():
                self._insert(task)

    @property
    def plan(self) -> StatePlan:
        """The plan that tasks created from now on will follow."""
        with self._lock:
            return self._plan

    def set_plan(self, plan: StatePlan) -> None:
        """Make tasks created from now on follow ``plan``; existing ones keep theirs."""
        with self._lock:
            self._plan = plan
        _logger.debug("export tasks now follow %r", plan)

    def add_task(
        self,
        *,
        eval_id: int | str,
        storage: StorageKind = StorageKind.PLATFORM,
        bucket: str = "",
        content: Iterable[str] = V1_EXPORT_FIELDS,
        state: ExportState = ExportState.SUCCEEDED,
        export_id: int | None = None,
        export_id_str: str | None = None,
        export_path: str | None = None,
        plan: StatePlan | None = None,
    ) -> ExportTask:
        """Insert a task directly and return it.

        Ids left out are allocated as for tasks created through the API. The
        task keeps ``state`` for good unless ``plan`` is given; then it moves on
        with each status read as the plan says (never backwards). Raises
        ``ValueError`` for a taken id, a malformed string id, content outside
        :data:`EXPORT_FIELDS`, or BOS storage without a bucket.
        """
        fields = _dedupe(content)
        unknown = [name for name in fields if name not in EXPORT_FIELDS]
        if unknown:
            raise ValueError(
                f"content {unknown} is not drawn from {', '.join(EXPORT_FIELDS)}"
            )
        if storage is StorageKind.BOS and not bucket:
            raise ValueError("a task exported to BOS needs a bucket")
        if export_id_str is not None and not _SAFE_ID.fullmatch(export_id_str):
            raise ValueError(
                f"export_id_str {export_id_str!r} must be letters, digits, '-', '.', "
                "'_' or '~'"
            )
        with self._lock:
            numeric = self._next_id if export_id is None else export_id
            if numeric in self._by_id:
                raise ValueError(f"export task {numeric} already exists")
            text = export_id_str or self._new_string_id()
            if text in self._by_str:
                raise ValueError(f"export task {text} already exists")
            task = ExportTask(
                export_id=numeric,
                export_id_str=text,
                eval_id=eval_id,
                storage=storage,
                bucket=bucket if storage is StorageKind.BOS else "",
                content=fields,
                state=state,
                export_path=export_path or f"{EXPORT_DIR}/{eval_id}_{text}.zip",
                plan=plan,
            )
            self._insert(task)
        _logger.debug("added export task %s (%s)", task.export_id, task.export_id_str)
        return task

    def create_task(
        self,
        *,
        eval_id: int | str,
        storage: StorageKind,
        bucket: str,
        content: Iterable[str],
    ) -> ExportTask:
        """Create a task as the API does: queued, following the current plan."""
        with self._lock:
            return self.add_task(
                eval_id=eval_id,
                storage=storage,
                bucket=bucket,
                content=content,
                state=ExportState.QUEUED,
                plan=self._plan,
            )

    def find(self, task_id: int | str) -> ExportTask | None:
        """Look a task up by numeric id (``int``) or string id (``str``).

        This is not a status read: it does not move the task on.
        """
        with self._lock:
            numeric = self._resolve(task_id)
            return None if numeric is None else self._by_id[numeric]

    def poll(self, task_id: int | str) -> ExportTask | None:
        """Read a task's status, counting one poll; ``None`` if it does not exist."""
        with self._lock:
            numeric = self._resolve(task_id)
            if numeric is None:
                return None
            before = self._by_id[numeric]
            task = before.after_poll()
            self._by_id[numeric] = task
        if task.state is not before.state:
            _logger.debug(
                "export task %s moved from %s to %s",
                task.export_id,
                before.state.value,
                task.state.value,
            )
        return task

    def tasks(self) -> list[ExportTask]:
        """A snapshot of every task, in numeric id order."""
        with self._lock:
            return [self._by_id[key] for key in sorted(self._by_id)]

    def _resolve(self, task_id: int | str) -> int | None:
        if isinstance(task_id, str):
            return self._by_str.get(task_id)
        return task_id if task_id in self._by_id else None

    def _insert(self, task: ExportTask) -> None:
        self._by_id[task.export_id] = task
        self._by_str[task.export_id_str] = task.export_id
        self._next_id = max(self._next_id, task.export_id + 1)

    def _new_string_id(self) -> str:
        while True:
            body = "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_BODY_LENGTH))
            candidate = f"amemt-{body}"
            if candidate not in self._by_str:
                return candidate


def _dedupe(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _seed_tasks() -> tuple[ExportTask, ...]:
    # Task 96 is the documented example; 97 to 100 cover the other states.
    def seed(
        export_id: int,
        eval_id: int | str,
        state: ExportState,
        *,
        storage: StorageKind = StorageKind.PLATFORM,
        bucket: str = "",
        export_path: str = "",
        export_id_str: str = "",
    ) -> ExportTask:
        text = export_id_str or f"amemt-seedtask{export_id:04d}"
        return ExportTask(
            export_id=export_id,
            export_id_str=text,
            eval_id=eval_id,
            storage=storage,
            bucket=bucket,
            content=V1_EXPORT_FIELDS,
            state=state,
            export_path=export_path or f"{EXPORT_DIR}/{eval_id}_{text}.zip",
        )

    return (
        seed(
            96,
            305,
            ExportState.SUCCEEDED,
            storage=StorageKind.BOS,
            bucket="modelrepo-test",
            export_path=f"{EXPORT_DIR}/cl_test23_305_1704338430470.csv",
            export_id_str="amemt-hkkf5y9e64j8",
        ),
        seed(97, 306, ExportState.SUCCEEDED),
        seed(98, "ame-vwgs2ybhyhfv", ExportState.QUEUED),
        seed(99, "ame-vwgs2ybhyhfv", ExportState.RUNNING),
        seed(100, 401, ExportState.FAILED),
    )
