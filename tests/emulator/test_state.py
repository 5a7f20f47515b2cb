"""How export tasks progress, through the store and through the API."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from facade.emulator import ConsoleState, ExportState, StatePlan, StorageKind

if TYPE_CHECKING:
    from tests.emulator.conftest import SignedConsole

V1_EXPORT = "/wenxinworkshop/modelrepo/eval/result/export"
V1_INFO = "/wenxinworkshop/modelrepo/eval/result/export/info"

Q, R, F, S = (
    ExportState.QUEUED,
    ExportState.RUNNING,
    ExportState.FAILED,
    ExportState.SUCCEEDED,
)


def polled_state(state: ConsoleState, task_id: int | str) -> ExportState:
    task = state.poll(task_id)
    assert task is not None
    return task.state


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        (StatePlan(), [Q, R, R, S, S]),
        (StatePlan(queued_polls=2, running_polls=1, outcome="failed"), [Q, Q, R, F]),
        (StatePlan(queued_polls=0, running_polls=0), [S, S]),
        (StatePlan(queued_polls=3, running_polls=0), [Q, Q, Q, S]),
        (StatePlan(queued_polls=0, running_polls=2), [R, R, S]),
    ],
    ids=["default", "slow-failure", "instant", "no-running", "no-queue"],
)
def test_each_poll_moves_a_created_task_along_its_plan(
    plan: StatePlan, expected: list[ExportState]
) -> None:
    state = ConsoleState(plan, seed_tasks=False)
    task = state.create_task(
        eval_id=1, storage=StorageKind.PLATFORM, bucket="", content=["prompt"]
    )
    assert task.state is Q

    seen = [polled_state(state, task.export_id) for _ in expected]

    assert seen == expected


def test_find_is_not_a_poll() -> None:
    state = ConsoleState(StatePlan(queued_polls=1, running_polls=0))
    task = state.create_task(
        eval_id=1, storage=StorageKind.PLATFORM, bucket="", content=["prompt"]
    )

    for _ in range(3):
        found = state.find(task.export_id_str)
        assert found is not None and found.state is Q
    assert polled_state(state, task.export_id_str) is Q
    assert polled_state(state, task.export_id_str) is S


def test_a_task_keeps_the_plan_it_was_created_under() -> None:
    state = ConsoleState(StatePlan(queued_polls=5), seed_tasks=False)
    slow = state.create_task(
        eval_id=1, storage=StorageKind.PLATFORM, bucket="", content=["prompt"]
    )
    state.set_plan(StatePlan(queued_polls=0, running_polls=0, outcome="failed"))
    fast = state.create_task(
        eval_id=2, storage=StorageKind.PLATFORM, bucket="", content=["prompt"]
    )

    assert state.plan.outcome == "failed"
    assert polled_state(state, slow.export_id) is Q
    assert polled_state(state, fast.export_id) is F


def test_invalid_plans_are_refused() -> None:
    with pytest.raises(ValueError, match="zero or more"):
        StatePlan(queued_polls=-1)
    with pytest.raises(ValueError, match="outcome"):
        StatePlan(outcome="done")  # type: ignore[arg-type]


def test_seed_tasks_never_change() -> None:
    state = ConsoleState(StatePlan(queued_polls=0, running_polls=0))
    before = state.tasks()

    for task in before:
        state.poll(task.export_id)
        state.poll(task.export_id_str)

    assert state.tasks() == before
    assert [task.export_id for task in before] == [96, 97, 98, 99, 100]


def test_no_seed_tasks_on_request() -> None:
    assert ConsoleState(seed_tasks=False).tasks() == []


def test_add_task_inserts_a_fixed_task() -> None:
    state = ConsoleState(seed_tasks=False)

    task = state.add_task(
        eval_id="ame-x",
        storage=StorageKind.BOS,
        bucket="b",
        state=ExportState.RUNNING,
        export_id=7,
        export_id_str="amemt-custom000001",
        export_path="some/where.zip",
    )

    for _ in range(5):
        polled = state.poll(7)
        assert polled == task
    assert task.export_path == "some/where.zip"
    assert state.find("amemt-custom000001") == task


def test_add_task_with_a_plan_moves_on_but_never_back() -> None:
    state = ConsoleState(seed_tasks=False)
    task = state.add_task(
        eval_id=1,
        state=ExportState.RUNNING,
        plan=StatePlan(queued_polls=2, running_polls=1),
    )

    states = [polled_state(state, task.export_id) for _ in range(4)]

    assert states == [R, R, R, S]  # the plan's queued reads show running


def test_created_ids_continue_after_the_highest_inserted_id() -> None:
    state = ConsoleState()
    state.add_task(eval_id=1, export_id=2000)

    created = state.create_task(
        eval_id=1, storage=StorageKind.PLATFORM, bucket="", content=["prompt"]
    )

    assert created.export_id == 2001
    assert state.add_task(eval_id=1).export_id == 2002


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"export_id": 96}, "already exists"),
        ({"export_id_str": "amemt-hkkf5y9e64j8"}, "already exists"),
        ({"export_id_str": "a/b"}, "must be"),
        ({"content": ["answer"]}, "not drawn from"),
        ({"storage": StorageKind.BOS}, "bucket"),
    ],
)
def test_add_task_refuses_inconsistent_tasks(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ConsoleState().add_task(eval_id=1, **options)  # type: ignore[arg-type]


def test_concurrent_creates_get_distinct_ids() -> None:
    state = ConsoleState(seed_tasks=False)
    ids: list[int] = []
    lock = threading.Lock()

    def create() -> None:
        for _ in range(50):
            task = state.create_task(
                eval_id=1, storage=StorageKind.PLATFORM, bucket="", content=["prompt"]
            )
            with lock:
                ids.append(task.export_id)

    workers = [threading.Thread(target=create) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(ids) == list(range(1000, 1200))


def test_v1_polls_progress_through_every_state(console: SignedConsole) -> None:
    console.emulator.state.set_plan(StatePlan(queued_polls=2, running_polls=2))
    export_id = console.v1(V1_EXPORT, {"id": 305}).json()["result"]["exportID"]

    states = [
        console.v1(V1_INFO, {"exportID": export_id}).json()["result"]["state"]
        for _ in range(6)
    ]

    assert states == ["Pending", "Pending", "Uploading", "Uploading", "Done", "Done"]


def test_failed_outcome_through_the_api(
    start_console: Callable[..., SignedConsole],
) -> None:
    plan = StatePlan(queued_polls=0, running_polls=1, outcome="failed")
    console = start_console(plan=plan, seed_tasks=False)
    body = {"evalId": "ame-a", "exportContent": ["prompt"]}
    created = console.v2("CreateEvalResultExportTask", body).json()["result"]

    describe = {"taskId": created["taskId"]}
    first = console.v2("DescribeEvalResultExportTask", describe).json()["result"]
    second = console.v1(V1_INFO, {"exportID": created["taskId"]}).json()["result"]

    assert first["state"] == "Running"
    assert second["state"] == "Fail"
    assert second["downloadUrl"] == ""
    assert [task.export_id for task in console.emulator.state.tasks()] == [1000]
