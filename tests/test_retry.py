"""Retries owned by the facade: what is retried, how long it waits, and when it stops."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import facade
from facade import ConsoleRequest, MockBackend, RawResponse, RetryPolicy
from tests.conftest import FakeTime

OK = {
    "log_id": "1",
    "result": {"exportID": 96, "exportIDStr": "amemt-x", "state": "Done"},
}
CREATED = {"log_id": "1", "result": {"exportID": 1000, "exportIDStr": "amemt-y"}}


class Flaky:
    """Fails the first ``failures`` calls with ``fault``, then answers ``answer``."""

    def __init__(self, failures: int, fault: Any, answer: dict[str, Any] = OK) -> None:
        self.failures, self.fault, self.answer = failures, fault, answer
        self.calls = 0

    def __call__(self, request: ConsoleRequest) -> RawResponse:
        self.calls += 1
        if self.calls <= self.failures:
            if isinstance(self.fault, Exception):
                raise self.fault
            return self.fault  # type: ignore[no-any-return]
        return RawResponse.from_json(self.answer)


def client(handler: Any, **kwargs: Any) -> facade.Client:
    return facade.Client(MockBackend(handler), access_key="a", secret_key="b", **kwargs)


BUSY = RawResponse.from_json({"error_code": 336100, "error_msg": "busy", "log_id": "2"})
QPS = RawResponse.from_json({"error_code": 18, "error_msg": "qps", "log_id": "3"})
THROTTLED = RawResponse.from_json(
    {"requestId": "r", "code": "TooManyRequests", "message": "m"},
    status=429,
    headers={"Retry-After": "5"},
)
BAD_PARAM = RawResponse.from_json({"error_code": 500001, "error_msg": "param invalid"})
REFUSED = facade.TransportError("refused", request_sent=False)
RESET = facade.TransportError("reset after sending", request_sent=True)


def test_retryable_errors_are_retried_with_growing_jittered_pauses(
    fake_time: FakeTime,
) -> None:
    flaky = Flaky(2, BUSY)
    policy = RetryPolicy(max_attempts=3, backoff=1, max_backoff=10, jitter=0.5)
    task = client(flaky, retry=policy).export_status(96)
    assert task.export_id == 96 and flaky.calls == 3
    first, second = fake_time.pauses
    assert 0.5 <= first <= 1 and 1 <= second <= 2


def test_attempts_run_out_with_the_last_error(fake_time: FakeTime) -> None:
    flaky = Flaky(10, BUSY)
    with pytest.raises(facade.ServerBusyError):
        client(flaky, retry=RetryPolicy(max_attempts=4, jitter=0)).export_status(96)
    assert flaky.calls == 4
    assert fake_time.pauses == [0.5, 1.0, 2.0]


def test_non_retryable_errors_are_not_retried(fake_time: FakeTime) -> None:
    flaky = Flaky(1, BAD_PARAM)
    with pytest.raises(facade.InvalidParameterError):
        client(flaky).export_status(96)
    assert flaky.calls == 1 and fake_time.pauses == []


def test_retry_after_is_honoured_and_the_deadline_is_kept(fake_time: FakeTime) -> None:
    flaky = Flaky(1, THROTTLED)
    client(flaky, retry=RetryPolicy(backoff=0.1, jitter=0)).export_status(96)
    assert fake_time.pauses == [5.0]
    flaky = Flaky(1, THROTTLED)
    with pytest.raises(facade.RateLimitedError) as info:
        client(flaky, retry=RetryPolicy(deadline=4)).export_status(96)
    assert info.value.retry_after == 5.0 and flaky.calls == 1


def test_max_backoff_caps_the_pause(fake_time: FakeTime) -> None:
    flaky = Flaky(5, BUSY)
    policy = RetryPolicy(
        max_attempts=6, backoff=1, max_backoff=3, jitter=0, deadline=100
    )
    client(flaky, retry=policy).export_status(96)
    assert fake_time.pauses == [1, 2, 3, 3, 3]


def test_no_retry_policy(fake_time: FakeTime) -> None:
    flaky = Flaky(1, BUSY)
    with pytest.raises(facade.ServerBusyError):
        client(flaky, retry=None).export_status(96)
    assert flaky.calls == 1


@pytest.mark.parametrize(
    ("fault", "retried"),
    [(QPS, True), (THROTTLED, True), (REFUSED, True), (BUSY, False), (RESET, False)],
    ids=[
        "qps-code-18",
        "http-429",
        "connect-refused",
        "server-busy",
        "reset-after-send",
    ],
)
def test_export_create_is_retried_only_when_it_cannot_have_run(
    fake_time: FakeTime, fault: Any, retried: bool
) -> None:
    flaky = Flaky(1, fault, CREATED)
    console = client(flaky, retry=RetryPolicy(deadline=100))
    if retried:
        assert console.export_create(305).task_id == "amemt-y"
        assert flaky.calls == 2
    else:
        with pytest.raises(facade.FacadeError):
            console.export_create(305)
        assert flaky.calls == 1


def test_every_retry_is_logged_at_debug(
    fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="facade"):
        client(Flaky(2, BUSY)).export_status(96)
    retries = [r.getMessage() for r in caplog.records if r.name == "facade.retry"]
    assert len(retries) == 2
    assert "ServerBusyError" in retries[0] and "attempt 2 of 3" in retries[0]
    infos = [
        r
        for r in caplog.records
        if r.name == "facade.client" and r.levelno == logging.INFO
    ]
    assert len(infos) == 3  # one line per attempt


def test_async_client_retries_the_same_way(fake_time: FakeTime) -> None:
    flaky = Flaky(2, REFUSED)

    async def run() -> facade.ExportTask:
        async with facade.AsyncClient(
            MockBackend(flaky),
            access_key="a",
            secret_key="b",
            retry=RetryPolicy(jitter=0),
        ) as console:
            return await console.export_status(96)

    assert asyncio.run(run()).export_id == 96
    assert flaky.calls == 3 and fake_time.pauses == [0.5, 1.0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"max_attempts": True},
        {"backoff": -1},
        {"jitter": 2},
        {"deadline": float("inf")},
    ],
)
def test_bad_policies_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(facade.InvalidInputError):
        RetryPolicy(**kwargs)


def test_retry_must_be_a_policy() -> None:
    with pytest.raises(facade.InvalidInputError, match="RetryPolicy"):
        client(Flaky(0, BUSY), retry=3)


def test_retries_inside_a_wait_stop_at_the_wait_deadline(fake_time: FakeTime) -> None:
    """A wait that keeps meeting rate limits ends as a wait timeout, on time."""
    answers = [
        RawResponse.from_json(
            {
                "log_id": "1",
                "result": {
                    "exportID": 96,
                    "exportIDStr": "amemt-x",
                    "state": "Uploading",
                },
            }
        )
    ]

    def handler(request: ConsoleRequest) -> RawResponse:
        return answers.pop() if answers else THROTTLED

    console = client(handler, retry=RetryPolicy(max_attempts=10, deadline=100))
    with pytest.raises(facade.ExportTimeoutError) as info:
        console.wait_for_export(96, timeout=3, poll_interval=1)
    assert info.value.task.raw_state == "Uploading"
    assert isinstance(info.value.__cause__, facade.RateLimitedError)
    assert fake_time.now <= 3


def test_call_action_retries_writes_only_when_they_cannot_have_run(
    fake_time: FakeTime,
) -> None:
    reset = Flaky(1, RESET, CREATED)
    with pytest.raises(facade.TransportError):
        client(reset).call_action("/v2/eval", "CreateEvalResultExportTask", {"a": 1})
    assert reset.calls == 1
    reads = Flaky(1, RESET)
    client(reads).call_action("/v2/eval", "DescribeEvalResultExportTask", {"a": 1})
    assert reads.calls == 2
    forced = Flaky(1, RESET, CREATED)
    client(forced).call_action("/v2/eval", "StopEvalTask", {"a": 1}, idempotent=True)
    assert forced.calls == 2
    v1_read = Flaky(1, RESET)
    client(v1_read).call_action("/wenxinworkshop/modelrepo/eval/result/export/info")
    assert v1_read.calls == 2
