"""Scenarios: one facade operation with its arguments, stored in its cassette."""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from facade._async_client import AsyncClient
from facade._client import Client
from facade._errors import FacadeError
from facade._export import read_export_rows
from facade._models import ExportTask
from facade._retry import RetryPolicy

__all__ = [
    "ASYNC_OPERATIONS",
    "BUNDLED_SCENARIOS",
    "OPERATIONS",
    "Outcome",
    "Scenario",
    "run_scenario",
    "run_scenario_async",
]

#: The cassette metadata key the scenario is stored under.
METADATA_KEY = "qianfan_facade_scenario"
#: The cassette metadata key the outcome seen at recording is stored under.
OUTCOME_KEY = "qianfan_facade_outcome"
#: The cassette metadata key listing the recorded requests, in order.
REQUESTS_KEY = "qianfan_facade_requests"

Operation = Callable[[Client, dict[str, Any]], Any]


def _dump(value: Any) -> dict[str, Any]:
    return value.model_dump(mode="json")  # type: ignore[no-any-return]


def _flow_result(
    created: ExportTask, finished: ExportTask, path: Any
) -> dict[str, Any]:
    return {
        "created": _dump(created),
        "finished": _dump(finished),
        "file": path.name,
        "rows": read_export_rows(path),
    }


def _export_flow(client: Client, args: dict[str, Any]) -> dict[str, Any]:
    created = client.export_create(**args.get("create", {}))
    finished = client.wait_for_export(created, **args.get("wait", {}))
    with tempfile.TemporaryDirectory() as folder:
        return _flow_result(created, finished, client.download_export(finished, folder))


async def _export_flow_async(
    client: AsyncClient, args: dict[str, Any]
) -> dict[str, Any]:
    created = await client.export_create(**args.get("create", {}))
    finished = await client.wait_for_export(created, **args.get("wait", {}))
    with tempfile.TemporaryDirectory() as folder:
        path = await client.download_export(finished, folder)
        return _flow_result(created, finished, path)


OPERATIONS: dict[str, Operation] = {
    "export_status": lambda client, args: _dump(client.export_status(**args)),
    "call_action": lambda client, args: _dump(client.call_action(**args)),
    "export_flow": _export_flow,
}

AsyncOperation = Callable[[AsyncClient, dict[str, Any]], Awaitable[Any]]


async def _async_status(client: AsyncClient, args: dict[str, Any]) -> Any:
    return _dump(await client.export_status(**args))


async def _async_call(client: AsyncClient, args: dict[str, Any]) -> Any:
    return _dump(await client.call_action(**args))


ASYNC_OPERATIONS: dict[str, AsyncOperation] = {
    "export_status": _async_status,
    "call_action": _async_call,
    "export_flow": _export_flow_async,
}


class Scenario(BaseModel):
    """What a cassette replays: an operation of :class:`~facade.Client` and its
    keyword arguments, plus the client's API generation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    description: str = ""
    operation: Literal["export_status", "call_action", "export_flow"]
    arguments: dict[str, Any] = Field(default_factory=dict)
    api_version: Literal["v1", "v2"] = "v1"
    attempts: int = Field(1, ge=1, le=10)
    faults: tuple[str, ...] = Field(
        (), description="Emulator faults set while recording (see --fault)."
    )

    def retry_policy(self) -> RetryPolicy:
        """Retries as recorded: ``attempts`` tries with pauses short enough
        that replays stay fast."""
        return RetryPolicy(
            max_attempts=self.attempts, backoff=0.01, max_backoff=0.01, jitter=0
        )


class Outcome(BaseModel):
    """The normalized result of running a scenario: a value or an error's facts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    def kind(self) -> str:
        """``"a result"``, or the error's type name."""
        return "a result" if self.error is None else str(self.error.get("type"))

    def flat(self) -> dict[str, Any]:
        """Every field as a dotted path, for field-by-field comparison."""
        flat: dict[str, Any] = {}
        _flatten(
            "value" if self.error is None else "error", self.value or self.error, flat
        )
        return flat


def _flatten(prefix: str, value: Any, into: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key in sorted(value):
            _flatten(f"{prefix}.{key}", value[key], into)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            _flatten(f"{prefix}[{index}]", item, into)
    else:
        into[prefix] = value


def run_scenario(client: Client, scenario: Scenario) -> Outcome:
    """Run the scenario's operation; an error the facade raises is an outcome too.

    The backend's name is left out of error facts: it is the one thing that
    legitimately differs between backends.
    """
    operation = OPERATIONS[scenario.operation]
    try:
        return Outcome(value=operation(client, dict(scenario.arguments)))
    except FacadeError as exc:
        return _failure(exc)


async def run_scenario_async(client: AsyncClient, scenario: Scenario) -> Outcome:
    """As :func:`run_scenario`, through an :class:`~facade.AsyncClient`."""
    operation = ASYNC_OPERATIONS[scenario.operation]
    try:
        return Outcome(value=await operation(client, dict(scenario.arguments)))
    except FacadeError as exc:
        return _failure(exc)


def _failure(exc: FacadeError) -> Outcome:
    facts = exc.facts()
    facts.pop("backend", None)
    return Outcome(error=facts)


def _status(
    name: str,
    export_id: int | str,
    description: str,
    api_version: Literal["v1", "v2"] = "v1",
) -> Scenario:
    return Scenario(
        name=name,
        description=description,
        operation="export_status",
        arguments={"export_id": export_id},
        api_version=api_version,
    )


def _faulted(
    name: str,
    fault: str,
    description: str,
    api_version: Literal["v1", "v2"] = "v1",
    attempts: int = 1,
) -> Scenario:
    """A status read of the documented task while the emulator injects ``fault``."""
    export_id: int | str = 96 if api_version == "v1" else "amemt-hkkf5y9e64j8"
    return Scenario(
        name=name,
        description=description,
        operation="export_status",
        arguments={"export_id": export_id},
        api_version=api_version,
        attempts=attempts,
        faults=(fault,),
    )


_FAST_WAIT = {"poll_interval": 0.01, "max_poll_interval": 0.05, "timeout": 60}


BUNDLED_SCENARIOS: tuple[Scenario, ...] = (
    _status(
        "v1_status_done_storage",
        96,
        "the documented example: done, exported to the user's bucket",
    ),
    _status(
        "v1_status_done_local", 97, "done, exported to platform storage with a link"
    ),
    _status("v1_status_pending", 98, "queued (V1 Pending)"),
    _status("v1_status_uploading", 99, "running (V1 Uploading)"),
    _status("v1_status_fail", 100, "failed (V1 Fail)"),
    _status("v1_status_string_id", "amemt-hkkf5y9e64j8", "looked up by its string id"),
    _status("v1_status_numeric_string", "96", "a numeric id passed as a string"),
    _status("v1_status_unknown_id", 424242, "an export id the console does not know"),
    Scenario(
        name="v1_call_invalid_parameter",
        description="the console rejects an exportID of the wrong type",
        operation="call_action",
        arguments={
            "route": "/wenxinworkshop/modelrepo/eval/result/export/info",
            "body": {"exportID": [96]},
        },
    ),
    _status(
        "v2_status_succeeded_bucket",
        "amemt-hkkf5y9e64j8",
        "V2 Succeeded, exported to the user's bucket",
        "v2",
    ),
    _status(
        "v2_status_succeeded_platform",
        "amemt-seedtask0097",
        "V2 Succeeded, platform storage with a link",
        "v2",
    ),
    _status("v2_status_queued", "amemt-seedtask0098", "V2 Queued", "v2"),
    _status("v2_status_running", "amemt-seedtask0099", "V2 Running", "v2"),
    _status("v2_status_failed", "amemt-seedtask0100", "V2 Failed", "v2"),
    _status(
        "v2_status_unknown_id",
        "amemt-notarealtask",
        "a V2 task id that does not exist",
        "v2",
    ),
    _faulted("v1_error_request_expired", "skew:900", "a signature from a skewed clock"),
    _faulted("v1_error_rate_limited", "error-code:18", "V1 error_code 18, QPS limit"),
    _faulted("v1_error_server_busy", "error-code:336100", "V1 336100, overloaded"),
    _faulted("v1_error_html_gateway", "html", "a 502 HTML page from a gateway"),
    _faulted("v1_error_empty_body", "empty", "HTTP 200 with an empty body"),
    _faulted(
        "v1_retry_then_done",
        "status:503@1",
        "one HTTP 503, retried, then the documented answer",
        attempts=3,
    ),
    _faulted("v2_error_throttled", "rate-limit:2", "V2 429 with Retry-After", "v2"),
    _faulted("v2_error_server", "status:500", "V2 HTTP 500 InternalError", "v2"),
    _faulted(
        "v2_error_access_denied", "error-code:AccessDenied", "V2 AccessDenied", "v2"
    ),
    Scenario(
        name="v1_export_flow",
        description="create, poll through every state, succeed, download (V1)",
        operation="export_flow",
        arguments={"create": {"evaluation_id": 305}, "wait": _FAST_WAIT},
    ),
    Scenario(
        name="v2_export_flow",
        description="create, poll through every state, succeed, download (V2)",
        operation="export_flow",
        arguments={
            "create": {
                "evaluation_id": "ame-vwgs2ybhyhfv",
                "content": ["prompt", "system"],
            },
            "wait": _FAST_WAIT,
        },
        api_version="v2",
    ),
)
