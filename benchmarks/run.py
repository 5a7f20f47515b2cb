"""Run every benchmark once and print each figure as a ratio with its target.

Each figure is the ratio of medians of the facade (A) and its baseline (B),
measured in alternating rounds (AB, BA, ...) within this run, with the range
of the per-round ratios; targets are checked against the median ratio. Every
server is an emulator (or, for the emulator's own figures, a do-nothing
server) in a separate process on loopback. Nothing here asserts a time: a
missed target prints ``MISSED`` and the run still exits 0.

Run: ``python benchmarks/run.py [--quick] [--markdown] [--only NAME ...]``,
from the repository root with the facade and both backends installed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable

import cold_start
import contract
import emulator
import per_call
import throughput
from _harness import Figure, markdown, print_figures

BENCHMARKS: dict[str, Callable[[bool], list[Figure]]] = {
    "cold_start": cold_start.measure,
    "per_call": per_call.measure,
    "throughput": throughput.measure,
    "contract": contract.measure,
    "emulator": emulator.measure,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument(
        "--markdown", action="store_true", help="also print the table as Markdown"
    )
    parser.add_argument(
        "--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these"
    )
    arguments = parser.parse_args()
    started = time.monotonic()
    print(
        f"python {platform.python_version()} on {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} cores, load average "
        f"{' '.join(f'{load:.1f}' for load in os.getloadavg())}",
        flush=True,
    )
    figures: list[Figure] = []
    for name in arguments.only or BENCHMARKS:
        print(f"-- {name}", file=sys.stderr, flush=True)
        measured = BENCHMARKS[name](arguments.quick)
        print_figures(measured, stream=sys.stderr)
        figures.extend(measured)
    print()
    print_figures(figures)
    verdicts = [figure.verdict for figure in figures]
    print(
        f"\n{verdicts.count('met')} met, {verdicts.count('MISSED')} missed, "
        f"{verdicts.count('info')} for information; "
        f"{time.monotonic() - started:.0f} s in all"
    )
    if arguments.markdown:
        print()
        print(markdown(figures))


if __name__ == "__main__":
    main()
