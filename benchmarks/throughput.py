"""Throughput: ``AsyncClient`` with the ``http`` backend against bare async httpx.

Both sides keep 50 status calls in flight against one emulator process until a
fixed number of calls is done, and report calls per second. The bare side
uses a default ``httpx.AsyncClient`` and signs with ``facade.signed_headers``.

Run: ``python benchmarks/throughput.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable

from _harness import (
    ACCESS_KEY,
    SECRET_KEY,
    SEED_EXPORT_ID,
    V1_INFO,
    Figure,
    Paired,
    emulator_process,
    print_figures,
)

CONCURRENCY = 50
_BATCH_TIMEOUT = 60.0


async def _calls_per_second(
    call: Callable[[], Awaitable[object]], total: int, concurrency: int
) -> float:
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    started = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(*(worker() for _ in range(concurrency))), _BATCH_TIMEOUT
    )
    return total / (time.perf_counter() - started)


def measure_throughput(
    base_url: str, *, calls: int, rounds: int, budget: float
) -> Figure:
    """Calls per second through ``AsyncClient(http)`` over bare httpx, as a ratio."""
    import httpx

    import facade

    url = f"{base_url}{V1_INFO}"

    async def run() -> Figure:
        bare = httpx.AsyncClient()

        async def bare_status() -> object:
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
            answer = await bare.post(url, content=body, headers=headers)
            return answer.json()["result"]["state"]

        client = facade.AsyncClient(
            "http", endpoint=base_url, access_key=ACCESS_KEY, secret_key=SECRET_KEY
        )

        async def facade_status() -> object:
            return await client.export_status(SEED_EXPORT_ID)

        async with client, bare:
            # Warm both pools to full concurrency before anything is timed.
            await _calls_per_second(facade_status, CONCURRENCY * 2, CONCURRENCY)
            await _calls_per_second(bare_status, CONCURRENCY * 2, CONCURRENCY)
            results: dict[str, list[float]] = {"a": [], "b": []}
            deadline = time.monotonic() + budget
            for round_index in range(rounds):
                if round_index >= 3 and time.monotonic() > deadline:
                    break
                order = ("a", "b") if round_index % 2 == 0 else ("b", "a")
                for side in order:
                    call = facade_status if side == "a" else bare_status
                    results[side].append(
                        await _calls_per_second(call, calls, CONCURRENCY)
                    )
        return Paired(results["a"], results["b"]).figure(
            f"throughput: AsyncClient(http) / bare async httpx, {CONCURRENCY} at once",
            target=0.90,
            better="higher",
            detail=lambda a, b: f"{a:,.0f} vs {b:,.0f} calls/s",
        )

    return asyncio.run(run())


def measure(quick: bool = False) -> list[Figure]:
    """The throughput figure against a fresh emulator process."""
    calls, rounds = (150, 8) if quick else (150, 24)
    with emulator_process() as base_url:
        return [measure_throughput(base_url, calls=calls, rounds=rounds, budget=30.0)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and rounds")
    print_figures(measure(parser.parse_args().quick))
