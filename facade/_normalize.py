"""Turn any backend's raw answer into a result or an error, the same way for all.

This module is the single place where wire shapes are read: V1 envelopes
(``log_id``/``result``, errors as ``error_code``/``error_msg`` with HTTP 200),
V2 envelopes (``requestId``/``result``, errors as ``code``/``message`` with
HTTP >= 400) and gateway auth errors (``X-Bce-Error-*`` headers).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, cast

from facade._backend import RawResponse
from facade._errors import (
    AuthenticationError,
    ConsoleError,
    InvalidParameterError,
    InvalidResponseError,
    NotFoundError,
    RateLimitedError,
    ServerBusyError,
    ServerError,
)
from facade._models import (
    ApiVersion,
    ConsoleResponse,
    ExportState,
    ExportTask,
    StorageKind,
)

__all__ = ["error_for", "parse_envelope", "to_export_task"]

# V1 numeric codes, from the Qianfan error code table and the SDK enums.
_V1_CODES: dict[int, tuple[type[ConsoleError], bool]] = {
    1: (ServerError, True),
    2: (ServerBusyError, True),
    3: (NotFoundError, False),
    4: (RateLimitedError, True),
    6: (AuthenticationError, False),
    13: (AuthenticationError, False),
    14: (AuthenticationError, False),
    17: (RateLimitedError, False),
    18: (RateLimitedError, True),
    19: (RateLimitedError, False),
    100: (AuthenticationError, False),
    110: (AuthenticationError, False),
    111: (AuthenticationError, False),
    336000: (ServerError, True),
    336001: (InvalidParameterError, False),
    336002: (InvalidParameterError, False),
    336003: (InvalidParameterError, False),
    336004: (AuthenticationError, False),
    336005: (NotFoundError, False),
    336100: (ServerBusyError, True),
    336101: (InvalidParameterError, False),
    336104: (InvalidParameterError, False),
    336105: (InvalidParameterError, False),
    336501: (RateLimitedError, True),
    336502: (RateLimitedError, True),
    500000: (ServerError, True),
    500001: (InvalidParameterError, False),
}

# V2 and BCE gateway string codes.
_V2_CODES: dict[str, tuple[type[ConsoleError], bool]] = {
    "AccessDenied": (AuthenticationError, False),
    "InvalidAccessKeyId": (AuthenticationError, False),
    "SignatureDoesNotMatch": (AuthenticationError, False),
    "RequestExpired": (AuthenticationError, False),
    "InvalidHTTPAuthHeader": (AuthenticationError, False),
    "PermissionDeniedError": (AuthenticationError, False),
    "OptInRequired": (AuthenticationError, False),
    "NotFound": (NotFoundError, False),
    "ResourceNotFound": (NotFoundError, False),
    "InvalidAction": (NotFoundError, False),
    "InvalidVersion": (NotFoundError, False),
    "InvalidURI": (InvalidParameterError, False),
    "InvalidRequestArgumentError": (InvalidParameterError, False),
    "InappropriateJSON": (InvalidParameterError, False),
    "MalformedJSON": (InvalidParameterError, False),
    "InvalidHTTPRequest": (InvalidParameterError, False),
    "PreconditionFailed": (InvalidParameterError, False),
    "IdempotentParameterMismatch": (InvalidParameterError, False),
    "QuotaLimitExceeded": (RateLimitedError, False),
    "QuotaLimitExpired": (RateLimitedError, False),
    "TooManyRequests": (RateLimitedError, True),
    "RequestLimitExceeded": (RateLimitedError, True),
    "ServiceUnavailable": (ServerBusyError, True),
    "InternalError": (ServerError, True),
}

_STATES = {
    # V1 spellings
    "Pending": ExportState.QUEUED,
    "Uploading": ExportState.RUNNING,
    "Fail": ExportState.FAILED,
    "Done": ExportState.SUCCEEDED,
    # V2 spellings
    "Queued": ExportState.QUEUED,
    "Running": ExportState.RUNNING,
    "Failed": ExportState.FAILED,
    "Succeeded": ExportState.SUCCEEDED,
}

_STORAGE = {
    "local": StorageKind.PLATFORM,
    "sysStorage": StorageKind.PLATFORM,
    "storage": StorageKind.USER_BUCKET,
    "BOS": StorageKind.USER_BUCKET,
}

# Field names per meaning, first match wins. V2 names for the path and the link
# are not settled by the documentation, so the plausible candidates are read.
_NUMERIC_ID = ("exportID",)
_STRING_ID = ("exportIDStr", "taskId")
_EVALUATION_ID = ("id", "evalId")
_STORAGE_KIND = ("exportType", "storageType")
_BUCKET = ("volumeId", "bucket")
_PATH = ("exportPath", "outputPath", "storagePath", "path", "bosPath")
_DOWNLOAD = ("downloadUrl", "downloadURL", "downloadLink", "url")


def _json_or_none(content: bytes) -> Any:
    if not content.strip():
        return None
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _request_id(body: Mapping[str, Any] | None, raw: RawResponse) -> str | None:
    for key in ("requestId", "log_id"):
        value = body.get(key) if body else None
        if isinstance(value, str | int) and not isinstance(value, bool):
            text = str(value).strip()
            if text:
                return text
    header = raw.headers.get("x-bce-request-id", "").strip()
    return header or None


def _retry_after(raw: RawResponse) -> float | None:
    value = raw.headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _redact(text: str | None, secrets: Iterable[str]) -> str | None:
    if text is None:
        return None
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def error_for(
    raw: RawResponse,
    body: Mapping[str, Any] | None,
    *,
    backend: str | None,
    secrets: Iterable[str] = (),
) -> ConsoleError | InvalidResponseError:
    """Build the error a console error answer stands for."""
    secrets = tuple(secrets)
    request_id = _request_id(body, raw)
    code: str | None = None
    message: str | None = None
    cls: type[ConsoleError] | None = None
    retryable: bool | None = None
    if body and body.get("error_code") not in (None, 0, ""):
        raw_code = body["error_code"]
        code = str(raw_code)
        message = str(body.get("error_msg") or "") or None
        if isinstance(raw_code, int) and raw_code in _V1_CODES:
            cls, retryable = _V1_CODES[raw_code]
        elif 200 <= raw.status < 300:
            # A V1 error body with a code this facade does not know yet: still
            # a console error, with its code and message, just not classified.
            cls, retryable = ConsoleError, False
    else:
        body_code = body.get("code") if body else None
        code = str(body_code) if body_code not in (None, "") else None
        code = code or raw.headers.get("x-bce-error-code") or None
        body_message = body.get("message") if body else None
        message = str(body_message) if body_message not in (None, "") else None
        message = message or raw.headers.get("x-bce-error-message") or None
        if code in _V2_CODES:
            cls, retryable = _V2_CODES[code]
    if cls is None:
        cls, retryable = _by_status(raw.status, raw.headers)
    if cls is None:
        return InvalidResponseError(
            f"the console answered HTTP {raw.status} with a body that is not a "
            "console error",
            http_status=raw.status,
            request_id=request_id,
            backend=backend,
        )
    message = _redact(message, secrets)
    if code and message and message.startswith(code):
        summary = message  # gateway messages already lead with their code
    else:
        summary = " ".join(part for part in (code, message) if part) or "no details"
    error = cls(
        f"{_LEAD[cls]}: {summary} (HTTP {raw.status}, request id "
        f"{request_id or 'unknown'})",
        code=code,
        server_message=message,
        http_status=raw.status,
        request_id=request_id,
        backend=backend,
        retry_after=_retry_after(raw),
    )
    if retryable is not None and retryable != cls.retryable:
        error.retryable = retryable
    return error


_LEAD: dict[type[ConsoleError], str] = {
    AuthenticationError: "authentication failed",
    NotFoundError: "not found",
    InvalidParameterError: "the console rejected a parameter",
    RateLimitedError: "rate limited",
    ServerBusyError: "the console is busy",
    ServerError: "the console failed",
    ConsoleError: "the console returned an error",
}


def _by_status(
    status: int, headers: Mapping[str, str]
) -> tuple[type[ConsoleError] | None, bool | None]:
    if status in (401, 403) or headers.get("x-bce-error-code"):
        return AuthenticationError, False
    if status == 404:
        return NotFoundError, False
    if status == 429:
        return RateLimitedError, True
    if status == 503:
        return ServerBusyError, True
    if status >= 500:
        return ServerError, True
    if 400 <= status < 500:
        return InvalidParameterError, False
    return None, None


def parse_envelope(
    raw: RawResponse,
    *,
    route: str,
    backend: str | None,
    secrets: Iterable[str] = (),
) -> ConsoleResponse:
    """Return the envelope of a successful answer, or raise the error it carries."""
    body = _json_or_none(raw.content)
    mapping = body if isinstance(body, dict) else None
    if not 200 <= raw.status < 300:
        if (
            mapping is None
            and raw.status not in (401, 403, 404, 429)
            and (raw.status < 500)
        ):
            raise InvalidResponseError(
                f"the console answered HTTP {raw.status} with "
                f"{_describe(raw.content)} instead of a JSON error",
                http_status=raw.status,
                request_id=_request_id(None, raw),
                backend=backend,
            )
        raise error_for(raw, mapping, backend=backend, secrets=secrets)
    if mapping is None:
        raise InvalidResponseError(
            f"the console answered HTTP {raw.status} with {_describe(raw.content)} "
            "instead of a JSON object",
            http_status=raw.status,
            request_id=_request_id(None, raw),
            backend=backend,
        )
    if mapping.get("error_code") not in (None, 0, "") or (
        "result" not in mapping and mapping.get("code")
    ):
        raise error_for(raw, mapping, backend=backend, secrets=secrets)
    if "result" not in mapping:
        raise InvalidResponseError(
            "the console's answer has no 'result'",
            http_status=raw.status,
            request_id=_request_id(mapping, raw),
            backend=backend,
        )
    if "requestId" in mapping:
        version = ApiVersion.V2
    elif "log_id" in mapping:
        version = ApiVersion.V1
    else:
        version = ApiVersion.V2 if route.startswith("/v2/") else ApiVersion.V1
    return ConsoleResponse(
        request_id=_request_id(mapping, raw),
        result=mapping["result"],
        http_status=raw.status,
        api_version=version,
    )


def _describe(content: bytes) -> str:
    if not content.strip():
        return "an empty body"
    head = content.lstrip()[:15].lower()
    if head.startswith((b"<!doctype", b"<html")):
        return "an HTML page"
    if head[:1] in (b"{", b"["):
        return "malformed or truncated JSON"
    return "a body that is not JSON"


def _field(
    result: Mapping[str, Any],
    names: tuple[str, ...],
    meaning: str,
    kinds: tuple[type, ...] = (str, int),
) -> str | int | None:
    for name in names:
        value = result.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise InvalidResponseError(
                f"the console sent {meaning} '{name}' as {type(value).__name__}"
            )
        return cast("str | int", value)
    return None


def _text(
    result: Mapping[str, Any],
    names: tuple[str, ...],
    meaning: str,
    kinds: tuple[type, ...] = (str,),
) -> str | None:
    value = _field(result, names, meaning, kinds)
    return None if value is None else str(value)


def _result_object(response: ConsoleResponse, what: str) -> dict[str, Any]:
    if not isinstance(response.result, dict):
        raise InvalidResponseError(
            f"the console's {what} result is not an object",
            http_status=response.http_status,
            request_id=response.request_id,
        )
    return response.result


def to_export_task(response: ConsoleResponse) -> ExportTask:
    """Read an export task out of a create or status envelope."""
    result = _result_object(response, "export task")
    try:
        numeric = _field(result, _NUMERIC_ID, "the numeric export id")
        if isinstance(numeric, str):
            numeric = int(numeric) if numeric.isdigit() else None
        raw_state = _text(result, ("state",), "the state")
        if raw_state is None:
            raise InvalidResponseError("the console's export task has no state")
        raw_storage = _text(result, _STORAGE_KIND, "the storage kind")
        content = result.get("exportContent")
        return ExportTask(
            export_id=numeric,
            task_id=_text(result, _STRING_ID, "the string export id"),
            evaluation_id=_text(
                result, _EVALUATION_ID, "the evaluation id", (str, int)
            ),
            state=_STATES.get(raw_state, ExportState.UNKNOWN),
            raw_state=raw_state,
            storage=None
            if raw_storage is None
            else _STORAGE.get(raw_storage, StorageKind.UNKNOWN),
            raw_storage=raw_storage,
            bucket=_text(result, _BUCKET, "the bucket"),
            path=_text(result, _PATH, "the export path"),
            download_url=_text(result, _DOWNLOAD, "the download URL"),
            export_content=tuple(str(item) for item in content)
            if isinstance(content, list)
            else None,
            request_id=response.request_id,
            api_version=response.api_version,
            raw=result,
        )
    except InvalidResponseError as exc:
        exc.http_status = response.http_status
        exc.request_id = response.request_id
        raise


def to_created_task(response: ConsoleResponse) -> ExportTask:
    """Read the new task's ids out of an export create envelope."""
    result = _result_object(response, "export create")
    numeric = _field(result, _NUMERIC_ID, "the numeric export id")
    task_id = _text(result, _STRING_ID, "the string export id")
    if numeric is None and task_id is None:
        raise InvalidResponseError(
            "the console's export create result carries no task id",
            http_status=response.http_status,
            request_id=response.request_id,
        )
    return ExportTask(
        export_id=int(numeric) if isinstance(numeric, int) else None,
        task_id=task_id,
        state=ExportState.QUEUED,
        request_id=response.request_id,
        api_version=response.api_version,
        raw=result,
    )
