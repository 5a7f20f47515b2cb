"""The export workflow's pieces shared by both clients: requests, waiting, files."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from facade._enums import ApiVersion, ExportState, StorageKind
from facade._errors import (
    ExportError,
    ExportFailedError,
    ExportTimeoutError,
    FacadeError,
    InvalidInputError,
    TransportError,
    TransportTimeoutError,
)
from facade._validation import check_export_id, check_timeout

if TYPE_CHECKING:
    from facade._models import ExportTask

__all__ = [
    "V1_CONTENT",
    "V2_CONTENT",
    "WaitPolicy",
    "Waiter",
    "create_body",
    "download_to",
    "read_export_rows",
]

V1_CONTENT = ("prompt", "prediction", "completion", "metrics")
V2_CONTENT = (*V1_CONTENT, "system")
MAX_RESULT_IDS = 100
DATA_FILE = "data.jsonl"
_CHUNK = 64 * 1024

ProgressCallback = Callable[["ExportTask"], None]


def _storage(value: object) -> StorageKind:
    try:
        storage: StorageKind | None = StorageKind(value)
    except ValueError:
        storage = None
    if storage is None or storage is StorageKind.UNKNOWN:
        raise InvalidInputError(
            "storage must be 'platform' (the platform's storage, with a download "
            f"link) or 'user_bucket' (your own BOS bucket), got {value!r}",
            parameter="storage",
        )
    return storage


def create_body(
    version: ApiVersion,
    evaluation_id: object,
    storage: object,
    bucket: object,
    content: Iterable[str] | None,
    result_ids: Iterable[str] | None,
) -> dict[str, Any]:
    """Validate export-create arguments and build the body for ``version``."""
    evaluation = check_export_id(evaluation_id, "evaluation_id")
    kind = _storage(storage)
    if kind is StorageKind.USER_BUCKET:
        if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket):
            raise InvalidInputError(
                "exporting to your own bucket needs bucket='<BOS bucket name>': "
                "3 to 63 lower-case letters, digits and '-', got "
                f"{bucket!r:.60}",
                parameter="bucket",
            )
    elif bucket is not None:
        raise InvalidInputError(
            "bucket applies only with storage='user_bucket'", parameter="bucket"
        )
    allowed = V1_CONTENT if version is ApiVersion.V1 else V2_CONTENT
    fields = list(allowed) if content is None else _names(content, "content")
    unknown = [name for name in fields if name not in allowed]
    if unknown or not fields or len(set(fields)) != len(fields):
        raise InvalidInputError(
            f"content must be distinct names among {', '.join(allowed)} for "
            f"{version.value}; got {fields!r}",
            parameter="content",
        )
    ids = None if result_ids is None else _names(result_ids, "result_ids")
    if ids is not None:
        if version is ApiVersion.V2:
            raise InvalidInputError(
                "the V2 API has no partial export; drop result_ids or use "
                "api_version='v1'",
                parameter="result_ids",
            )
        if not 1 <= len(ids) <= MAX_RESULT_IDS:
            raise InvalidInputError(
                f"result_ids must list 1 to {MAX_RESULT_IDS} result ids, got "
                f"{len(ids)}",
                parameter="result_ids",
            )
        for index, item in enumerate(ids):
            check_export_id(item, f"result_ids[{index}]")
    if version is ApiVersion.V1:
        body: dict[str, Any] = {
            "id": evaluation,
            "exportType": "local" if kind is StorageKind.PLATFORM else "storage",
            "exportOpt": "total" if ids is None else "part",
            "exportContent": fields,
        }
        if bucket is not None:
            body["volumeId"] = bucket
        if ids is not None:
            body["resultIds"] = ids
        return body
    if not isinstance(evaluation, str):
        raise InvalidInputError(
            "the V2 API identifies evaluations by their string id such as "
            f"'ame-vwgs2ybhyhfv', got the int {evaluation}",
            parameter="evaluation_id",
        )
    body = {
        "evalId": evaluation,
        "storageType": "sysStorage" if kind is StorageKind.PLATFORM else "BOS",
        "exportContent": fields,
    }
    if bucket is not None:
        body["bucket"] = bucket
    return body


_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


def _names(value: object, parameter: str) -> list[str]:
    """A list or tuple of strings, nothing else (not one string, not a dict)."""
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, str) for item in value
    ):
        raise InvalidInputError(
            f"{parameter} must be a list of strings, not {type(value).__name__}",
            parameter=parameter,
        )
    return list(value)


@dataclass(frozen=True)
class WaitPolicy:
    """How :meth:`wait_for_export` polls: a growing interval up to a cap."""

    timeout: float
    poll_interval: float
    max_poll_interval: float
    backoff: float

    @classmethod
    def build(
        cls,
        timeout: object,
        poll_interval: object,
        max_poll_interval: object,
        backoff: object,
    ) -> WaitPolicy:
        """Validate the waiting arguments."""
        interval = check_timeout(poll_interval, "poll_interval")
        cap = check_timeout(max_poll_interval, "max_poll_interval")
        growth = check_timeout(backoff, "backoff")
        if growth < 1:
            raise InvalidInputError(
                f"backoff must be at least 1, got {growth}", parameter="backoff"
            )
        return cls(check_timeout(timeout), interval, max(cap, interval), growth)

    def intervals(self) -> Iterator[float]:
        """The pauses between polls: interval, interval x backoff, ..., the cap."""
        interval = self.poll_interval
        while True:
            yield interval
            interval = min(interval * self.backoff, self.max_poll_interval)


class Waiter:
    """The decisions of one wait, shared by the sync and async clients.

    After each poll, :meth:`observe` reports state changes, then returns the
    pause before the next poll, or ``None`` once the task has succeeded; it
    raises when the task failed or the deadline passed.
    """

    def __init__(
        self,
        policy: WaitPolicy,
        clock: Callable[[], float],
        on_change: ProgressCallback | None,
    ) -> None:
        if on_change is not None and not callable(on_change):
            raise InvalidInputError(
                "on_change must be a function taking the task, or None",
                parameter="on_change",
            )
        self._policy = policy
        self._clock = clock
        self._deadline = clock() + policy.timeout
        self._intervals = policy.intervals()
        self._on_change = on_change
        self.last: ExportTask | None = None

    @property
    def deadline(self) -> float:
        """When the wait ends, on the waiter's clock."""
        return self._deadline

    def expired(self, error: FacadeError) -> FacadeError:
        """The error to raise when a poll's retries ran into the deadline."""
        if self.last is None:
            return error
        return timed_out(self.last, self._policy.timeout)

    def start_from(self, task: ExportTask) -> None:
        """Report the task the caller already holds, before the first poll."""
        self.last = task
        if self._on_change is not None:
            self._on_change(task)

    def observe(self, task: ExportTask) -> float | None:
        """Take in a polled task; return the next pause or ``None`` when done."""
        changed = self.last is None or task.state != self.last.state
        self.last = task
        if changed and self._on_change is not None:
            self._on_change(task)
        if task.state.is_terminal:
            settled(task)
            return None
        remaining = self._deadline - self._clock()
        if remaining <= 0:
            raise timed_out(task, self._policy.timeout)
        return min(next(self._intervals), remaining)


def settled(task: ExportTask) -> ExportTask:
    """Return a succeeded task; raise :class:`ExportFailedError` for a failed one."""
    if task.state is ExportState.FAILED:
        raise ExportFailedError(
            f"export task {task.id} failed (state {task.raw_state})", task=task
        )
    return task


def timed_out(task: ExportTask, timeout: float) -> ExportTimeoutError:
    """The error for a wait that ran out of time."""
    return ExportTimeoutError(
        f"export task {task.id} did not finish within {timeout:g}s; last state "
        f"{task.state.value} ({task.raw_state})",
        task=task,
    )


def download_url(task: ExportTask) -> str:
    """The task's download link, or an error saying where the data went."""
    if task.state is not ExportState.SUCCEEDED:
        raise ExportError(
            f"export task {task.id} has not succeeded (state {task.state.value}); "
            "wait for it first",
            task=task,
        )
    if task.download_url:
        return task.download_url
    if task.storage is StorageKind.USER_BUCKET or task.bucket:
        where = f"bucket {task.bucket or '(unnamed)'}"
        if task.path:
            where += f" at {task.path}"
        raise ExportError(
            f"export task {task.id} was written to your own BOS {where}; fetch it "
            "from BOS, there is no download link",
            task=task,
        )
    raise ExportError(
        f"the console gave no download link for export task {task.id}", task=task
    )


def _target(url: str, destination: object, task: ExportTask) -> tuple[Path, bool]:
    """Where the file goes, and whether a folder was created for it."""
    if not isinstance(destination, str | os.PathLike) or "\x00" in str(
        os.fspath(destination)
    ):
        raise InvalidInputError(
            "destination must be a folder or file path", parameter="destination"
        )
    path = Path(destination)
    text = os.fspath(destination)
    name = Path(urlsplit(url).path).name or f"{task.id}.zip"
    if path.is_dir():
        return path / name, False
    if isinstance(text, str) and text.endswith(("/", os.sep)):
        # A trailing separator names a folder: made here if its parent exists.
        if path.exists():
            raise InvalidInputError(
                f"destination {path} exists and is not a folder",
                parameter="destination",
            )
        try:
            path.mkdir()
        except OSError as exc:
            raise InvalidInputError(
                f"cannot create the folder {path}: {exc.strerror}",
                parameter="destination",
            ) from None
        return path / name, True
    if not path.parent.is_dir():
        raise InvalidInputError(
            f"destination folder {path.parent} does not exist", parameter="destination"
        )
    if path.exists() and not path.is_file():
        raise InvalidInputError(
            f"destination {path} exists and is not a regular file",
            parameter="destination",
        )
    return path, False


def download_to(
    task: ExportTask, destination: str | os.PathLike[str], timeout: float
) -> Path:
    """Stream the task's file next to ``destination``, then rename it into place.

    ``destination`` is an existing folder, a path ending in a separator (a
    folder, created if its parent exists) or a file path. A failure at any
    point, an interrupt included, leaves no file behind (nor a folder made for
    it). The download must be a zip archive that holds ``data.jsonl``.
    """
    url = download_url(task)
    if urlsplit(url).scheme not in ("http", "https"):
        raise ExportError(f"download link of task {task.id} is not http(s)", task=task)
    target, made_folder = _target(url, destination, task)
    try:
        try:
            handle, partial = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".partial", dir=target.parent
            )
        except OSError as exc:
            raise InvalidInputError(
                f"cannot write in {target.parent}: {exc.strerror}",
                parameter="destination",
            ) from None
        try:
            with os.fdopen(handle, "wb") as sink:
                _fetch(url, sink, timeout, task)
            _check_archive(Path(partial), task)
            # The file stays private to its owner (mkstemp's 0600): evaluation
            # data may be sensitive, and the umask cannot be read thread-safely.
            os.replace(partial, target)
        except BaseException:
            os.unlink(partial)
            raise
    except BaseException:
        if made_folder:
            target.parent.rmdir()
        raise
    return target


def _fetch(url: str, sink: Any, timeout: float, task: ExportTask) -> None:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            expected = answer.headers.get("Content-Length")
            shutil.copyfileobj(answer, sink, _CHUNK)
            written = sink.tell()
    except urllib.error.HTTPError as exc:
        raise ExportError(
            f"downloading export task {task.id} failed with HTTP {exc.code}", task=task
        ) from exc
    except TimeoutError as exc:
        raise TransportTimeoutError(
            f"download of export task {task.id} stalled for {timeout:g}s"
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise TransportError(
            f"download of export task {task.id} failed: {type(exc).__name__}"
        ) from exc
    if expected is not None and expected.isdigit() and int(expected) != written:
        raise TransportError(
            f"download of export task {task.id} ended after {written} of "
            f"{expected} bytes"
        )


def _check_archive(path: Path, task: ExportTask) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
            names = archive.namelist()
    except zipfile.BadZipFile as exc:
        raise ExportError(
            f"the download of export task {task.id} is not a zip archive", task=task
        ) from exc
    if broken is not None or DATA_FILE not in names:
        raise ExportError(
            f"the download of export task {task.id} is damaged or lacks {DATA_FILE}",
            task=task,
        )


def read_export_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read the rows of ``data.jsonl`` from a downloaded export archive."""
    with zipfile.ZipFile(path) as archive, archive.open(DATA_FILE) as data:
        rows = []
        for number, line in enumerate(data, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError(f"{DATA_FILE} line {number} is not a JSON object")
            rows.append(row)
    return rows
