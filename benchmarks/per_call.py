"""Per-call cost: status calls through the facade against the same calls done bare.

* ``Client`` with the ``http`` backend against signed httpx POSTs on one
  reused ``httpx.Client`` (signed with ``facade.signed_headers``, so the
  comparison isolates what the facade adds around the signer);
* ``Client`` with the ``sdk`` backend against the SDK's ``call_action`` called
  directly, with the SDK's config pointed at the emulator.

Both sides read the same seeded task (V1 export 96) from one emulator process
and parse the answer: the bare side decodes the JSON and reads the state, the
facade returns its typed ``ExportTask``.

Run: ``python benchmarks/per_call.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import time

from _harness import (
    ACCESS_KEY,
    SECRET_KEY,
    SEED_EXPORT_ID,
    V1_INFO,
    Figure,
    alternating_calls,
    emulator_process,
    microseconds,
    per_call,
    print_figures,
)

_WARM_UP_CALLS = 50


def http_figure(base_url: str, *, calls: int, rounds: int, budget: float) -> Figure:
    """``Client(backend="http").export_status`` against bare signed httpx."""
    import httpx

    import facade

    url = f"{base_url}{V1_INFO}"
    bare = httpx.Client()

    def bare_status() -> object:
        body = json.dumps(
            {"exportID": SEED_EXPORT_ID}, ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8")
        headers = facade.signed_headers(
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            url=url,
            content=body,
            timestamp=time.time(),
        )
        answer = bare.post(url, content=body, headers=headers)
        return answer.json()["result"]["state"]

    client = facade.Client(
        "http", endpoint=base_url, access_key=ACCESS_KEY, secret_key=SECRET_KEY
    )
    with client, bare:
        assert client.export_status(SEED_EXPORT_ID).raw_state == bare_status()
        per_call(lambda: client.export_status(SEED_EXPORT_ID), _WARM_UP_CALLS, budget)
        per_call(bare_status, _WARM_UP_CALLS, budget)
        result = alternating_calls(
            lambda: client.export_status(SEED_EXPORT_ID),
            bare_status,
            count=calls,
            rounds=rounds,
            budget=budget,
        )
    return result.figure(
        "per call: Client(http) / bare signed httpx",
        target=1.10,
        better="lower",
        detail=lambda a, b: f"{microseconds(a)} vs {microseconds(b)} per call",
    )


def sdk_figure(base_url: str, *, calls: int, rounds: int, budget: float) -> Figure:
    """``Client(backend="sdk").export_status`` against the SDK's ``call_action``."""
    import qianfan
    from qianfan.resources.console.utils import call_action

    import facade

    config = qianfan.get_config()
    config.ACCESS_KEY = ACCESS_KEY
    config.SECRET_KEY = SECRET_KEY
    config.CONSOLE_API_BASE_URL = base_url

    def sdk_status() -> object:
        answer = call_action(V1_INFO, "", {"exportID": SEED_EXPORT_ID})
        return answer.body["result"]["state"]

    client = facade.Client(
        "sdk", endpoint=base_url, access_key=ACCESS_KEY, secret_key=SECRET_KEY
    )
    with client:
        assert client.export_status(SEED_EXPORT_ID).raw_state == sdk_status()
        per_call(lambda: client.export_status(SEED_EXPORT_ID), _WARM_UP_CALLS, budget)
        per_call(sdk_status, _WARM_UP_CALLS, budget)
        result = alternating_calls(
            lambda: client.export_status(SEED_EXPORT_ID),
            sdk_status,
            count=calls,
            rounds=rounds,
            budget=budget,
        )
    return result.figure(
        "per call: Client(sdk) / SDK call_action",
        target=1.05,
        better="lower",
        detail=lambda a, b: f"{microseconds(a)} vs {microseconds(b)} per call",
    )


def measure(quick: bool = False) -> list[Figure]:
    """Both per-call figures, each against a fresh emulator process."""
    calls, rounds = (100, 5) if quick else (200, 12)
    with emulator_process() as base_url:
        http = http_figure(base_url, calls=calls, rounds=rounds, budget=25.0)
    with emulator_process() as base_url:
        sdk = sdk_figure(base_url, calls=calls // 2, rounds=rounds, budget=30.0)
    return [http, sdk]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and rounds")
    print_figures(measure(parser.parse_args().quick))
