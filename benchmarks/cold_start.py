"""Cold start: a fresh interpreter importing the facade against one importing the SDK.

Each sample is a new ``python`` process that times itself from its first
statement, so interpreter start-up (the same for both) is left out:

* build: ``import facade`` and ``facade.Client("http", ...)`` against
  ``from qianfan.resources.console.utils import call_action``;
* first answer (for information): the same, plus one status call to the
  emulator, against the SDK's import plus one ``call_action``; the http
  backend imports httpx when it is built, the SDK does most of its work at
  import, so this shows what a short script pays in total.

Run: ``python benchmarks/cold_start.py [--quick]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from _harness import (
    ACCESS_KEY,
    SECRET_KEY,
    SEED_EXPORT_ID,
    V1_INFO,
    Figure,
    emulator_process,
    milliseconds,
    paired,
    print_figures,
    sdk_environment,
)

_CHILD_TIMEOUT = 60.0

FACADE_BUILD = f"""
import sys, time
started = time.perf_counter()
import facade
client = facade.Client(
    "http", endpoint=sys.argv[1], access_key={ACCESS_KEY!r}, secret_key={SECRET_KEY!r}
)
built = time.perf_counter()
if sys.argv[2] == "answer":
    client.export_status({SEED_EXPORT_ID})
print(time.perf_counter() - started if sys.argv[2] == "answer" else built - started)
"""

SDK_IMPORT = f"""
import sys, time
started = time.perf_counter()
from qianfan.resources.console.utils import call_action
imported = time.perf_counter()
if sys.argv[2] == "answer":
    call_action({V1_INFO!r}, "", {{"exportID": {SEED_EXPORT_ID}}})
print(time.perf_counter() - started if sys.argv[2] == "answer" else imported - started)
"""


def _child(code: str, base_url: str, what: str) -> float:
    finished = subprocess.run(
        [sys.executable, "-c", code, base_url, what],
        capture_output=True,
        text=True,
        check=True,
        timeout=_CHILD_TIMEOUT,
        env=sdk_environment(base_url),
    )
    return float(finished.stdout.strip().splitlines()[-1])


def measure(quick: bool = False) -> list[Figure]:
    """The cold-start figure and the first-answer figure."""
    rounds = 6 if quick else 14
    with emulator_process() as base_url:
        for code in (FACADE_BUILD, SDK_IMPORT):
            _child(code, base_url, "answer")  # warm the page cache and bytecode
        build = paired(
            lambda: _child(FACADE_BUILD, base_url, "build"),
            lambda: _child(SDK_IMPORT, base_url, "build"),
            rounds=rounds,
            budget=30.0,
        )
        answer = paired(
            lambda: _child(FACADE_BUILD, base_url, "answer"),
            lambda: _child(SDK_IMPORT, base_url, "answer"),
            rounds=rounds // 2,
            budget=20.0,
        )

    def detail(a: float, b: float) -> str:
        return f"{milliseconds(a)} vs {milliseconds(b)}"

    return [
        build.figure(
            "cold start: import facade + Client(http) / import SDK call_action",
            target=0.30,
            better="lower",
            detail=detail,
        ),
        answer.figure(
            "cold start to first answer: facade (http) / SDK call_action",
            target=None,
            better="lower",
            detail=detail,
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    print_figures(measure(parser.parse_args().quick))
