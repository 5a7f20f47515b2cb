"""The contract-testing harness: record scenarios, replay them through every backend.

``qianfan-facade contract`` and the test suite use this module; so can users
who record their own scenarios against the emulator or the real console.
"""

from __future__ import annotations

from facade.contract._cassettes import (
    MATCH_ON,
    CassetteInfo,
    Replay,
    console_vcr,
    load_scenario,
    record_scenario,
    recorded_outcome,
    replay_cassette,
)
from facade.contract._runner import (
    ContractReport,
    ScenarioResult,
    bundled_cassettes,
    run_contract,
)
from facade.contract._scenarios import (
    BUNDLED_SCENARIOS,
    OPERATIONS,
    Outcome,
    Scenario,
    run_scenario,
)

__all__ = [
    "BUNDLED_SCENARIOS",
    "MATCH_ON",
    "OPERATIONS",
    "CassetteInfo",
    "ContractReport",
    "Outcome",
    "Replay",
    "Scenario",
    "ScenarioResult",
    "bundled_cassettes",
    "console_vcr",
    "load_scenario",
    "record_scenario",
    "recorded_outcome",
    "replay_cassette",
    "run_contract",
    "run_scenario",
]
