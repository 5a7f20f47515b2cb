"""A local Qianfan console emulator for tests and offline development.

It serves the evaluation-result export routes of both API generations (V1
``/wenxinworkshop/modelrepo/eval/result/export[/info]`` and V2
``/v2/eval?Action=...``) on loopback, verifies ``bce-auth-v1`` signatures the
way the official SDKs produce them, keeps one thread-safe task store, and
injects the faults a test plans (see :class:`FaultPlan` for the spec)::

    with Emulator(credentials={"my-ak": "my-sk"}, faults=["status:503@2"]) as console:
        ...  # point a client at console.base_url
        console.faults.add("drop%0.1", seed=7)
"""

from __future__ import annotations

from facade.emulator._faults import Fault, FaultPlan
from facade.emulator._http import ReceivedRequest, Request, Response
from facade.emulator._server import Emulator
from facade.emulator._state import (
    ConsoleState,
    ExportState,
    ExportTask,
    StatePlan,
    StorageKind,
)

__all__ = [
    "ConsoleState",
    "Emulator",
    "ExportState",
    "ExportTask",
    "Fault",
    "FaultPlan",
    "ReceivedRequest",
    "Request",
    "Response",
    "StatePlan",
    "StorageKind",
]
