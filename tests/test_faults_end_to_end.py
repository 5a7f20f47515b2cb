"""Every emulator fault, through both backends, sync and async, the CLI included.

The same fault gives the same error class, attributes and CLI line on every
backend; retryable faults that clear in time are retried to success; no key or
signature reaches an exception, a log record, a cassette or CLI output; and a
long faulty run ends every call and gives back its descriptors and threads.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import facade
from facade.contract import Scenario, record_scenario
from facade.emulator import Emulator
from tests.conftest import BACKENDS, KEYS_A

FAULTS = [
    "status:500",
    "status:503",
    "rate-limit:0.2",
    "error-code:18",
    "error-code:336100",
    "error-code:500000",
    "error-code:500001",
    "error-code:AccessDenied",
    "html",
    "html200",
    "empty",
    "truncated",
    "drop",
    "skew:900",
    "delay:3",
]
SECRETS = (KEYS_A[0], KEYS_A[1])
# An Authorization value that was not redacted, or a bare hex signature.
SIGNATURE = re.compile(r"bce-auth-v1/(?!\[redacted\])|\b[0-9a-f]{64}\b")
NO_RETRY = facade.RetryPolicy.off()
FAST_RETRY = facade.RetryPolicy(
    max_attempts=4, backoff=0.01, max_backoff=0.05, deadline=20
)


@pytest.fixture(scope="module")
def console() -> Iterator[Emulator]:
    with Emulator(credentials=dict([KEYS_A])) as running:
        yield running


def _client(backend: str, emulator: Emulator, **kwargs: object) -> facade.Client:
    settings: dict[str, object] = {"timeout": 1.0, "retry": NO_RETRY, **kwargs}
    return facade.Client(
        backend,
        endpoint=emulator.base_url,
        access_key=KEYS_A[0],
        secret_key=KEYS_A[1],
        **settings,  # type: ignore[arg-type]
    )


def _facts(error: BaseException) -> dict[str, object]:
    assert isinstance(error, facade.FacadeError), repr(error)
    facts = error.facts()
    facts.pop("backend")
    facts.pop("request_id", None)
    return facts


def _leaks(*texts: str) -> list[str]:
    found = [secret for secret in SECRETS for text in texts if secret in text]
    return found + [m.group(0) for text in texts for m in SIGNATURE.finditer(text)]


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


@pytest.mark.parametrize("fault", FAULTS)
def test_same_error_on_every_backend_sync_and_async(
    console: Emulator, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    seen: dict[str, dict[str, object]] = {}
    with caplog.at_level(logging.DEBUG):
        for backend in BACKENDS:
            console.faults.clear()
            console.faults.add(fault, count=1)
            with (
                _client(backend, console) as client,
                pytest.raises(facade.FacadeError) as info,
            ):
                client.export_status(96)
            seen[backend] = _facts(info.value)
            for error in _chain(info.value):
                assert not _leaks(str(error), repr(error)), (backend, error)

            console.faults.clear()
            console.faults.add(fault, count=1)

            async def run(name: str = backend) -> BaseException:
                async with facade.AsyncClient(
                    name,
                    endpoint=console.base_url,
                    access_key=KEYS_A[0],
                    secret_key=KEYS_A[1],
                    timeout=1.0,
                    retry=NO_RETRY,
                ) as client:
                    try:
                        await client.export_status(96)
                    except facade.FacadeError as exc:
                        return exc
                raise AssertionError("no error")

            error = asyncio.run(run())
            seen[f"{backend} (async)"] = _facts(error)
    console.faults.clear()
    reference = seen["http"]
    assert all(facts == reference for facts in seen.values()), seen
    for record in caplog.records:
        assert not _leaks(record.getMessage()), record.getMessage()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "QIANFAN_ACCESS_KEY": KEYS_A[0],
        "QIANFAN_SECRET_KEY": KEYS_A[1],
    }
    return subprocess.run(
        [sys.executable, "-m", "facade", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize("fault", FAULTS)
def test_cli_prints_the_same_line_and_code_on_both_backends(
    console: Emulator, fault: str
) -> None:
    shown = {}
    for backend in BACKENDS:
        console.faults.clear()
        console.faults.add(fault, count=1)
        result = _cli(
            "-vv",
            "export",
            "status",
            "96",
            "--backend",
            backend,
            "--endpoint",
            console.base_url,
            "--attempts",
            "1",
            "--timeout",
            "1",
        )
        assert not _leaks(result.stdout, result.stderr)
        errors = [
            line for line in result.stderr.splitlines() if line.startswith("error: ")
        ]
        assert len(errors) == 1, result.stderr
        masked = re.sub(r"request id [0-9a-f-]+", "request id ?", errors[0])
        masked = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", masked)
        shown[backend] = (result.returncode, masked)
    console.faults.clear()
    assert shown["http"] == shown["sdk"]
    assert shown["http"][0] not in (0, 1)


@pytest.mark.parametrize(
    "fault",
    ["status:503@2", "error-code:18@2", "drop@1", "truncated@1", "html@1", "delay:3@1"],
)
def test_retryable_faults_that_clear_in_time_succeed(
    console: Emulator, fault: str
) -> None:
    for backend in BACKENDS:
        console.faults.clear()
        console.faults.add(fault)
        with _client(backend, console, retry=FAST_RETRY) as client:
            assert client.export_status(96).task_id == "amemt-hkkf5y9e64j8"
    console.faults.clear()


@pytest.mark.parametrize("backend", BACKENDS)
def test_cassettes_recorded_under_faults_hold_no_secret(
    console: Emulator, backend: str, tmp_path: Path
) -> None:
    scenario = Scenario(
        name="faulty", operation="export_status", arguments={"export_id": 96}
    )
    for index, fault in enumerate(
        f for f in FAULTS if f not in {"drop", "truncated", "delay:3"}
    ):
        console.faults.clear()
        console.faults.add(fault, count=1)
        path = tmp_path / f"c{index}.yaml"
        record_scenario(
            scenario,
            path,
            backend=backend,
            endpoint=console.base_url,
            access_key=KEYS_A[0],
            secret_key=KEYS_A[1],
        )
        assert not _leaks(path.read_text()), fault
    console.faults.clear()


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settle(baseline_threads: int, baseline_fds: int) -> tuple[int, int]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        gc.collect()
        threads, fds = threading.active_count(), _open_descriptors()
        if threads <= baseline_threads and fds <= baseline_fds:
            break
        time.sleep(0.1)
    return threading.active_count(), _open_descriptors()


@pytest.mark.parametrize("backend", BACKENDS)
def test_load_with_random_faults_ends_every_call_and_leaks_nothing(
    backend: str,
) -> None:
    faults = [
        "status:503%0.03",
        "rate-limit%0.02",
        "error-code:500001%0.02",
        "html%0.02",
        "empty%0.02",
        "truncated%0.02",
        "drop%0.02",
        "delay:1.5%0.004",
    ]
    with Emulator(credentials=dict([KEYS_A])) as emulator:
        for seed, fault in enumerate(faults):
            emulator.faults.add(fault, seed=seed)
        retry = facade.RetryPolicy(
            max_attempts=3, backoff=0.005, max_backoff=0.02, deadline=5
        )
        baseline_threads, baseline_fds = threading.active_count(), _open_descriptors()
        outcomes: dict[str, int] = {}
        per_call_limit = 3 * 0.5 + 3 * 0.02 + 1.0  # attempts x timeout + pauses + slack

        def one(client: facade.Client) -> str:
            started = time.monotonic()
            try:
                client.export_status(96)
                outcome = "ok"
            except facade.FacadeError as exc:
                outcome = type(exc).__name__
            assert time.monotonic() - started < per_call_limit
            return outcome

        with _client(backend, emulator, timeout=0.5, retry=retry) as client:
            for _ in range(1000):
                result = one(client)
                outcomes[result] = outcomes.get(result, 0) + 1
        with _client(backend, emulator, timeout=0.5, retry=retry) as client:
            with ThreadPoolExecutor(20) as pool:
                for result in pool.map(lambda _: one(client), range(200)):
                    outcomes[result] = outcomes.get(result, 0) + 1
        assert sum(outcomes.values()) == 1200
        assert outcomes.get("ok", 0) > 1000, outcomes
        assert set(outcomes) <= {
            "ok",
            "ServerBusyError",
            "RateLimitedError",
            "InvalidParameterError",
            "ServerError",
            "InvalidResponseError",
            "TransportError",
            "TransportTimeoutError",
        }, outcomes
    threads, fds = _settle(baseline_threads, baseline_fds)
    assert threads <= baseline_threads
    assert fds <= baseline_fds


def test_cli_gets_past_a_fault_that_clears_within_its_attempts(
    console: Emulator,
) -> None:
    for backend in BACKENDS:
        console.faults.clear()
        console.faults.add("status:503@2")
        result = _cli(
            "export",
            "status",
            "96",
            "--backend",
            backend,
            "--endpoint",
            console.base_url,
            "--json",
        )
        assert result.returncode == 0, result.stderr
        assert "amemt-hkkf5y9e64j8" in result.stdout
    console.faults.clear()


def test_each_attempt_is_signed_afresh(
    console: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed: list[str] = []
    original = facade.signed_headers

    def counting(**kwargs: object) -> dict[str, str]:
        headers = original(**kwargs)  # type: ignore[arg-type]
        signed.append(headers["authorization"])
        return headers

    monkeypatch.setattr(facade, "signed_headers", counting)
    console.faults.clear()
    console.faults.add("status:503@2")
    before = len(console.received)
    with _client("http", console, retry=FAST_RETRY) as client:
        client.export_status(96)
    console.faults.clear()
    attempts = console.received[before:]
    assert len(attempts) == 3 and len(signed) == 3
    assert all(attempt.auth_ok for attempt in attempts)
