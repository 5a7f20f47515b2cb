"""What every benchmark shares: paired timing, figures, server processes.

A benchmark compares the facade (A) with a baseline (B) in alternating rounds
within one run (AB, BA, AB, ...), so drift on a noisy machine lands on both
sides. Each round gives one paired ratio A/B; a figure is the median of those
ratios with their range, and shows the medians of A and of B for scale (their
quotient can stray from every round's ratio when the load shifts between
rounds, which is why it is not the figure). Times are only printed.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TextIO

ACCESS_KEY = "bench-access-key"
SECRET_KEY = "bench-secret-key"
V1_INFO = "/wenxinworkshop/modelrepo/eval/result/export/info"
SEED_EXPORT_ID = 96
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Figure:
    """One printed result: median per-round ratio A/B, its range, the target.

    ``better`` is ``"lower"`` when the target is a ceiling (a cost ratio) and
    ``"higher"`` when it is a floor (a throughput ratio). ``target`` is
    ``None`` for figures printed for information only.
    """

    name: str
    ratio: float
    low: float
    high: float
    rounds: int
    target: float | None
    better: str
    detail: str

    @property
    def met(self) -> bool | None:
        """Whether the median ratio meets the target; ``None`` without one."""
        if self.target is None:
            return None
        if self.better == "lower":
            return self.ratio <= self.target
        return self.ratio >= self.target

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "-"
        return f"{'<=' if self.better == 'lower' else '>='} {self.target:.2f}"

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: "info"}[self.met]


@dataclass(frozen=True)
class Paired:
    """Measurements of A and B, one of each per round."""

    a: list[float]
    b: list[float]

    @property
    def ratios(self) -> list[float]:
        return [a / b for a, b in zip(self.a, self.b, strict=True)]

    def figure(
        self,
        name: str,
        *,
        target: float | None,
        better: str,
        detail: Callable[[float, float], str],
    ) -> Figure:
        """The median and range of the per-round ratios, medians for scale."""
        median_a, median_b = statistics.median(self.a), statistics.median(self.b)
        ratios = self.ratios
        return Figure(
            name=name,
            ratio=statistics.median(ratios),
            low=min(ratios),
            high=max(ratios),
            rounds=len(ratios),
            target=target,
            better=better,
            detail=detail(median_a, median_b),
        )


def paired(
    measure_a: Callable[[], float],
    measure_b: Callable[[], float],
    *,
    rounds: int,
    budget: float,
    min_rounds: int = 3,
) -> Paired:
    """Run A and B alternately (AB, BA, AB, ...) for ``rounds`` or ``budget`` s.

    Each callable measures one batch and returns its figure (seconds per
    call, or calls per second). At least ``min_rounds`` rounds run, whatever
    the budget, so every figure has a range.
    """
    results_a: list[float] = []
    results_b: list[float] = []
    deadline = time.monotonic() + budget
    for round_index in range(rounds):
        if round_index >= min_rounds and time.monotonic() > deadline:
            break
        if round_index % 2 == 0:
            results_a.append(measure_a())
            results_b.append(measure_b())
        else:
            results_b.append(measure_b())
            results_a.append(measure_a())
    return Paired(results_a, results_b)


def per_call(call: Callable[[], object], count: int, budget: float) -> float:
    """Seconds per call over ``count`` calls, stopping early after ``budget`` s."""
    deadline = time.perf_counter() + budget
    started = time.perf_counter()
    done = 0
    while done < count:
        call()
        done += 1
        if done % 16 == 0 and time.perf_counter() > deadline:
            break
    return (time.perf_counter() - started) / done


def alternating_calls(
    call_a: Callable[[], object],
    call_b: Callable[[], object],
    *,
    count: int,
    rounds: int,
    budget: float,
) -> Paired:
    """Mean seconds per call of A and of B, calls alternating A, B, A, B ...

    Alternating single calls puts both sides under the same momentary load,
    which batch alternation on a busy machine does not; each round's means
    include every pause (garbage collection too), so nothing is trimmed.
    """
    results_a: list[float] = []
    results_b: list[float] = []
    clock = time.perf_counter
    deadline = clock() + budget
    for round_index in range(rounds):
        if round_index >= 3 and clock() > deadline:
            break
        first, second = (call_a, call_b) if round_index % 2 == 0 else (call_b, call_a)
        spent_first = spent_second = 0.0
        for _ in range(count):
            started = clock()
            first()
            middle = clock()
            second()
            spent_first += middle - started
            spent_second += clock() - middle
        if round_index % 2 == 0:
            results_a.append(spent_first / count)
            results_b.append(spent_second / count)
        else:
            results_a.append(spent_second / count)
            results_b.append(spent_first / count)
    return Paired(results_a, results_b)


def microseconds(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} us"


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


@contextlib.contextmanager
def emulator_process(*extra: str) -> Iterator[str]:
    """Run ``qianfan-facade emulator`` in its own process; yield its base URL.

    The emulator gets a core of its own on a two-core machine, so its work
    does not share a GIL with the client being measured.
    """
    with _serving(
        "-m",
        "facade",
        "emulator",
        "--port",
        "0",
        "--access-key",
        ACCESS_KEY,
        "--secret-key",
        SECRET_KEY,
        *extra,
    ) as base_url:
        yield base_url


@contextlib.contextmanager
def reference_process(*, split_writes: bool = False) -> Iterator[str]:
    """Run the do-nothing reference server in its own process; yield its URL."""
    script = os.path.join(os.path.dirname(__file__), "_reference_server.py")
    with _serving(script, *(["--split-writes"] if split_writes else [])) as url:
        yield url


@contextlib.contextmanager
def _serving(*arguments: str) -> Iterator[str]:
    command = [sys.executable, *arguments]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        yield _first_line(process, " ".join(arguments[:4]))
    finally:
        _stop(process)


def _first_line(process: subprocess.Popen[str], what: str) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(_START_TIMEOUT):
            raise RuntimeError(f"{what} printed nothing within {_START_TIMEOUT:g}s")
    line = process.stdout.readline().strip()
    if not line.startswith("http://"):
        raise RuntimeError(f"{what} printed {line!r} instead of its base URL")
    return line


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(_STOP_TIMEOUT)
    if process.stdout is not None:
        process.stdout.close()


def sdk_environment(base_url: str) -> dict[str, str]:
    """Process environment that points the official SDK at ``base_url``."""
    return {
        **os.environ,
        "QIANFAN_ACCESS_KEY": ACCESS_KEY,
        "QIANFAN_SECRET_KEY": SECRET_KEY,
        "QIANFAN_CONSOLE_API_BASE_URL": base_url,
    }


def print_figures(figures: list[Figure], *, stream: TextIO | None = None) -> None:
    """Print figures as a plain table (the README uses :func:`markdown`)."""
    out = stream or sys.stdout
    width = max(len(figure.name) for figure in figures)
    for figure in figures:
        print(
            f"{figure.name:<{width}}  {figure.ratio:6.2f}x  "
            f"[{figure.low:.2f}-{figure.high:.2f}]  target {figure.target_text:<7} "
            f"{figure.verdict:<6}  {figure.detail}",
            file=out,
            flush=True,
        )


def markdown(figures: list[Figure]) -> str:
    """The figures as a Markdown table."""
    rows = [
        "| figure | ratio (median) | range over rounds | target | verdict | medians |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    rows.extend(
        f"| {f.name} | {f.ratio:.2f}x | {f.low:.2f}-{f.high:.2f} ({f.rounds}) "
        f"| {f.target_text} | {f.verdict} | {f.detail} |"
        for f in figures
    )
    return "\n".join(rows)
