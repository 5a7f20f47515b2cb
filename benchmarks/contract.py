"""The contract check: 1,000 recorded interactions replayed through each backend.

Twenty export-flow scenarios (V1 and V2 alternately; create, 48 status polls,
download: 50 interactions each) are recorded from an emulator into cassettes
in a temporary folder. Each backend then replays the folder with
``facade.contract.replay_cassette``, the function behind ``qianfan-facade
contract``, and is compared with plain vcrpy (its default matchers) replaying
the same cassettes while a bare client of the backend's own HTTP library
(httpx for ``http``, requests for ``sdk``) sends the recorded requests in
order and decodes each answer.

The 1,000 interactions are spread over twenty cassettes, not one: vcrpy finds
each request by scanning the cassette from its start, twice, so one cassette
of 1,000 interactions costs about a million matcher calls per replay, bare or
not. ``--single`` measures that one-cassette case once, for information.

Run: ``python benchmarks/contract.py [--quick] [--single]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import (
    ACCESS_KEY,
    SECRET_KEY,
    Figure,
    Paired,
    emulator_process,
    milliseconds,
    print_figures,
)

CASSETTES = 20
INTERACTIONS = 1000
# The shortest pause the facade accepts between polls; the recorded pauses do
# not matter in a replay, but each costs one short sleep on the facade's side.
_FAST_WAIT = {"poll_interval": 1e-6, "max_poll_interval": 1e-6, "timeout": 600}


def _flow(index: int, interactions: int) -> Any:
    from facade.contract import Scenario

    if index % 2 == 0:
        create: dict[str, Any] = {"evaluation_id": 305 + index}
        version = "v1"
    else:
        create = {"evaluation_id": f"ame-bench{index:07d}", "content": ["prompt"]}
        version = "v2"
    return Scenario(
        name=f"bench_flow_{index:02d}",
        description=f"create, {interactions - 2} polls, download",
        operation="export_flow",
        arguments={"create": create, "wait": _FAST_WAIT},
        api_version=version,
    )


def record(folder: Path, cassettes: int, interactions: int) -> list[Path]:
    """Record ``cassettes`` flows of ``interactions`` each into ``folder``."""
    from facade.contract import record_scenario

    polls = interactions - 2
    queued = polls // 2
    plan = ("--queued-polls", str(queued), "--running-polls", str(polls - queued))
    paths = []
    with emulator_process(*plan) as base_url:
        for index in range(cassettes):
            path = folder / f"flow_{index:02d}.yaml"
            outcome = record_scenario(
                _flow(index, interactions),
                path,
                backend="http",
                endpoint=base_url,
                access_key=ACCESS_KEY,
                secret_key=SECRET_KEY,
            )
            if outcome.error is not None:
                raise RuntimeError(f"recording {path.name} failed: {outcome.error}")
            paths.append(path)
    return paths


def _recorded_requests(path: Path) -> list[tuple[str, str, bytes | None]]:
    import yaml

    with open(path, encoding="utf-8") as stream:
        data = yaml.load(stream, Loader=yaml.CSafeLoader)
    requests = []
    for interaction in data["interactions"]:
        request = interaction["request"]
        body = request["body"]
        requests.append(
            (request["method"], request["uri"], body.encode() if body else None)
        )
    return requests


def _decode(content: bytes, content_type: str) -> object:
    return json.loads(content) if content_type.startswith("application/json") else None


def facade_replay(paths: list[Path], backend: str) -> Callable[[], float]:
    """Seconds to replay every cassette through ``backend``."""
    from facade.contract import replay_cassette

    def replay() -> float:
        started = time.perf_counter()
        for path in paths:
            replayed = replay_cassette(path, backend)
            if replayed.problem is not None or not replayed.fully_played:
                raise RuntimeError(f"{path.name} via {backend}: {replayed.problem}")
        return time.perf_counter() - started

    return replay


def bare_replay(paths: list[Path], library: str) -> Callable[[], float]:
    """Seconds for plain vcrpy and a bare httpx or requests client."""
    import httpx
    import requests
    import vcr

    recorder = vcr.VCR(record_mode="none")
    scripts = {path: _recorded_requests(path) for path in paths}

    def replay_httpx() -> float:
        started = time.perf_counter()
        # One client for the whole folder, as a script would keep it.
        with httpx.Client() as client:
            for path, script in scripts.items():
                with recorder.use_cassette(str(path)) as cassette:
                    for method, uri, body in script:
                        answer = client.request(
                            method, uri, content=body, headers=_JSON
                        )
                        _decode(answer.content, answer.headers.get("content-type", ""))
                    _check_played(cassette, path)
        return time.perf_counter() - started

    def replay_requests() -> float:
        started = time.perf_counter()
        for path, script in scripts.items():
            # A session per cassette: vcrpy's stub connections belong to the
            # cassette that was playing when they opened.
            session = requests.Session()
            with recorder.use_cassette(str(path)) as cassette, session:
                for method, uri, body in script:
                    answer = session.request(method, uri, data=body, headers=_JSON)
                    _decode(answer.content, answer.headers.get("content-type", ""))
                _check_played(cassette, path)
        return time.perf_counter() - started

    return replay_httpx if library == "httpx" else replay_requests


def _check_played(cassette: Any, path: Path) -> None:
    if not cassette.all_played:
        raise RuntimeError(f"{path.name}: the bare replay left interactions unplayed")


_JSON = {"content-type": "application/json"}


def _interleaved(
    sides: dict[str, Callable[[], float]], rounds: int, budget: float
) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    deadline = time.monotonic() + budget
    for round_index in range(rounds):
        if round_index >= 3 and time.monotonic() > deadline:
            break
        for name in names if round_index % 2 == 0 else reversed(names):
            results[name].append(sides[name]())
    return results


def measure(quick: bool = False) -> list[Figure]:
    """Replay ratios for both backends over 1,000 recorded interactions."""
    rounds = 3 if quick else 5
    with tempfile.TemporaryDirectory(prefix="facade-bench-") as folder:
        paths = record(Path(folder), CASSETTES, INTERACTIONS // CASSETTES)
        sides = {
            "http": facade_replay(paths, "http"),
            "httpx": bare_replay(paths, "httpx"),
            "sdk": facade_replay(paths, "sdk"),
            "requests": bare_replay(paths, "requests"),
        }
        for replay in sides.values():
            replay()  # warm-up: imports, first connections, caches
        results = _interleaved(sides, rounds, budget=75.0)

    def detail(a: float, b: float) -> str:
        return f"{milliseconds(a)} vs {milliseconds(b)} per {INTERACTIONS:,}"

    return [
        Paired(results["http"], results["httpx"]).figure(
            f"contract: replay via http / vcrpy + bare httpx, {INTERACTIONS:,} calls",
            target=1.5,
            better="lower",
            detail=detail,
        ),
        Paired(results["sdk"], results["requests"]).figure(
            f"contract: replay via sdk / vcrpy + bare requests, {INTERACTIONS:,} calls",
            target=1.5,
            better="lower",
            detail=detail,
        ),
    ]


def measure_single_cassette() -> list[Figure]:
    """The same 1,000 interactions in one cassette, replayed once each way."""
    with tempfile.TemporaryDirectory(prefix="facade-bench-") as folder:
        paths = record(Path(folder), 1, INTERACTIONS)
        sides = {
            "http": facade_replay(paths, "http"),
            "httpx": bare_replay(paths, "httpx"),
        }
        results = _interleaved(sides, rounds=1, budget=0.0)
    return [
        Paired(results["http"], results["httpx"]).figure(
            f"contract, one cassette of {INTERACTIONS:,}: http / vcrpy + bare httpx",
            target=None,
            better="lower",
            detail=lambda a, b: f"{a:.1f} s vs {b:.1f} s",
        )
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument(
        "--single", action="store_true", help="also replay one 1,000-call cassette"
    )
    arguments = parser.parse_args()
    figures = measure(arguments.quick)
    if arguments.single:
        figures += measure_single_cassette()
    print_figures(figures)
