"""Scenarios: one facade operation with its arguments, stored in its cassette."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from facade._client import Client
from facade._errors import FacadeError

__all__ = ["BUNDLED_SCENARIOS", "OPERATIONS", "Outcome", "Scenario", "run_scenario"]

#: The cassette metadata key the scenario is stored under.
METADATA_KEY = "qianfan_facade_scenario"

Operation = Callable[[Client, dict[str, Any]], Any]

OPERATIONS: dict[str, Operation] = {
    "export_status": lambda client, args: client.export_status(**args),
    "call_action": lambda client, args: client.call_action(**args),
}


class Scenario(BaseModel):
    """What a cassette replays: an operation of :class:`~facade.Client` and its
    keyword arguments, plus the client's API generation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    description: str = ""
    operation: Literal["export_status", "call_action"]
    arguments: dict[str, Any] = Field(default_factory=dict)
    api_version: Literal["v1", "v2"] = "v1"


class Outcome(BaseModel):
    """The normalized result of running a scenario: a value or an error's facts."""

    model_config = ConfigDict(frozen=True)

    value: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    def flat(self) -> dict[str, Any]:
        """Every field as a dotted path, for field-by-field comparison."""
        flat: dict[str, Any] = {}
        _flatten("value" if self.error is None else "error", self.value or self.error, flat)
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
        result = operation(client, dict(scenario.arguments))
    except FacadeError as exc:
        facts = exc.facts()
        facts.pop("backend", None)
        return Outcome(error=facts)
    return Outcome(value=result.model_dump(mode="json"))


def _status(name: str, export_id: int | str, description: str) -> Scenario:
    return Scenario(
        name=name,
        description=description,
        operation="export_status",
        arguments={"export_id": export_id},
    )


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
    _status(
        "v1_status_string_id", "amemt-hkkf5y9e64j8", "looked up by its string id"
    ),
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
)
