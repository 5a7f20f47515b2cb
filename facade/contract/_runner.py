"""The contract check: every cassette through every backend, compared field by field."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

from facade._errors import ConfigurationError
from facade._plugins import PluginRegistry, default_registry
from facade.contract._cassettes import CassetteInfo, Replay, replay_cassette
from facade.contract._scenarios import Outcome

__all__ = ["ContractReport", "ScenarioResult", "bundled_cassettes", "run_contract"]


@dataclass(frozen=True)
class ScenarioResult:
    """One cassette's replays, and the fields where backends disagree."""

    cassette: Path
    replays: dict[str, Replay]
    differences: dict[str, list[str]] = field(default_factory=dict)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when every backend played the whole cassette identically."""
        return (
            self.problem is None
            and not self.differences
            and all(
                replay.fully_played and replay.problem is None
                for replay in self.replays.values()
            )
        )

    def cell(self, backend: str) -> str:
        """A short verdict for one backend, for the contract table."""
        replay = self.replays[backend]
        if self.problem:
            return self.problem
        if replay.problem:
            return replay.problem
        if self.differences.get(backend):
            return "differs: " + ", ".join(self.differences[backend])
        return "identical"


@dataclass(frozen=True)
class ContractReport:
    """Results of a contract run, one per cassette."""

    backends: list[str]
    results: list[ScenarioResult]

    @property
    def ok(self) -> bool:
        """True when every cassette played identically through every backend."""
        return bool(self.results) and all(result.ok for result in self.results)


def bundled_cassettes() -> Path:
    """The folder of cassettes shipped with the facade."""
    shipped = resources.files("facade") / "_cassettes"
    if shipped.is_dir():
        return Path(str(shipped))
    # An editable install runs from the source tree, where they live in tests/.
    return Path(__file__).resolve().parents[2] / "tests" / "cassettes"


def _cassettes(paths: list[str | os.PathLike[str]]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.glob("*.yaml") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise ConfigurationError(f"no cassette or folder at {path}")
    if not found:
        raise ConfigurationError(
            "no cassettes found in " + ", ".join(str(Path(p)) for p in paths)
        )
    return found


def _compare(
    replays: dict[str, Replay], recorded: Outcome | None
) -> dict[str, list[str]]:
    """Fields where each replay differs from the recording (or, for cassettes
    recorded without an outcome, from the first replay)."""
    played = {name: r.outcome for name, r in replays.items() if r.outcome is not None}
    if recorded is None:
        if len(played) < 2:
            return {}
        recorded = next(iter(played.values()))
    reference = recorded.flat()
    differences: dict[str, list[str]] = {}
    for name, outcome in played.items():
        flat = outcome.flat()
        differing = sorted(
            key
            for key in reference.keys() | flat.keys()
            if reference.get(key, _MISSING) != flat.get(key, _MISSING)
        )
        if differing:
            differences[name] = differing
    return differences


_MISSING = object()


def run_contract(
    paths: list[str | os.PathLike[str]] | None = None,
    backends: list[str] | None = None,
    *,
    modes: tuple[Literal["sync", "async"], ...] = ("sync", "async"),
    registry: PluginRegistry | None = None,
) -> ContractReport:
    """Replay cassettes (default: the bundled ones) through backends (default: all).

    Each backend replays each cassette with the sync and the async client; the
    report has one column per backend and mode.
    """
    registry = registry or default_registry()
    installed = sorted(registry.backends())
    chosen = backends or installed
    for name in chosen:
        registry.choose(name)  # raises BackendNotFoundError listing what exists
    results = []
    columns = [(name, mode) for name in chosen for mode in modes]
    for cassette in _cassettes(paths or [bundled_cassettes()]):
        info = CassetteInfo.read(cassette)
        replays = {
            _column(name, mode): replay_cassette(
                cassette, name, mode=mode, registry=registry, info=info
            )
            for name, mode in columns
        }
        recorded = info.outcome
        problem = (
            None
            if recorded is not None
            else "no recorded outcome to judge against (record the cassette again)"
        )
        results.append(
            ScenarioResult(cassette, replays, _compare(replays, recorded), problem)
        )
    return ContractReport([_column(name, mode) for name, mode in columns], results)


def _column(backend: str, mode: str) -> str:
    return backend if mode == "sync" else f"{backend} (async)"
