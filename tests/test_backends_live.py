"""Both built-in backends against the emulator, which checks every signature."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import facade
from facade.emulator import Emulator
from tests.conftest import KEYS_A, KEYS_B

DOCUMENTED_PATH = (
    "qianfan_modelrepo_offline/workspace/model_eval_result_export/"
    "cl_test23_305_1704338430470.csv"
)


def client(
    backend: str, emulator: Emulator, keys: tuple[str, str] = KEYS_A, **kw: object
) -> facade.Client:
    return facade.Client(
        backend,
        endpoint=emulator.base_url,
        access_key=keys[0],
        secret_key=keys[1],
        **kw,  # type: ignore[arg-type]
    )


def test_documented_example(backend_name: str, emulator: Emulator) -> None:
    with client(backend_name, emulator) as console:
        task = console.export_status(96)
    assert (task.export_id, task.task_id, task.evaluation_id) == (
        96,
        "amemt-hkkf5y9e64j8",
        "305",
    )
    assert task.state is facade.ExportState.SUCCEEDED
    assert task.storage is facade.StorageKind.USER_BUCKET
    assert (task.bucket, task.path, task.download_url) == (
        "modelrepo-test",
        DOCUMENTED_PATH,
        None,
    )
    assert emulator.received[-1].auth_ok


def test_backends_agree_on_every_seeded_task(emulator: Emulator) -> None:
    for export_id in (96, 97, 98, 99, 100, "amemt-hkkf5y9e64j8"):
        results = []
        for backend in ("http", "sdk"):
            with client(backend, emulator) as console:
                results.append(
                    console.export_status(export_id).model_dump(exclude={"request_id"})
                )
        assert results[0] == results[1], export_id


def test_wrong_secret_key_is_an_authentication_error(
    backend_name: str, emulator: Emulator
) -> None:
    with (
        client(backend_name, emulator, (KEYS_A[0], "wrong-secret-key")) as console,
        pytest.raises(facade.AuthenticationError) as info,
    ):
        console.export_status(96)
    error = info.value
    assert (error.code, error.http_status, error.backend) == (
        "SignatureDoesNotMatch",
        403,
        backend_name,
    )
    assert KEYS_A[0] not in str(error) and "wrong-secret-key" not in str(error)
    assert "bce-auth-v1" not in str(error) and "bce-auth-v1" not in repr(error.facts())


def test_unknown_access_key(backend_name: str, emulator: Emulator) -> None:
    with (
        client(backend_name, emulator, ("nobody-knows-me", "x")) as console,
        pytest.raises(facade.AuthenticationError) as info,
    ):
        console.export_status(96)
    assert info.value.code == "InvalidAccessKeyId"


def test_unknown_export_id_and_bad_parameter(
    backend_name: str, emulator: Emulator
) -> None:
    with client(backend_name, emulator) as console:
        with pytest.raises(facade.InvalidParameterError) as info:
            console.export_status(424242)
        assert info.value.code == "500001"
        with pytest.raises(facade.InvalidParameterError):
            console.call_action(
                "/wenxinworkshop/modelrepo/eval/result/export/info",
                body={"exportID": [96]},
            )


def test_full_workflow_both_generations(
    backend_name: str, emulator: Emulator, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    with client(backend_name, emulator) as console:
        for version, evaluation in (("v1", 305), ("v2", "ame-vwgs2ybhyhfv")):
            created = console.export_create(evaluation, api_version=version)
            done = console.wait_for_export(
                created, poll_interval=0.01, api_version=version
            )
            assert done.state is facade.ExportState.SUCCEEDED
            path = console.download_export(done, tmp_path / f"{version}.zip")
            assert facade.read_export_rows(path)


def test_each_client_signs_with_its_own_keys_across_threads(
    backend_name: str, emulator: Emulator
) -> None:
    """Two clients, two key pairs, many threads: every request carries its own key."""
    first = client(backend_name, emulator, KEYS_A)
    second = client(backend_name, emulator, KEYS_B)
    barrier = threading.Barrier(8)

    def call(index: int) -> str:
        console = first if index % 2 == 0 else second
        barrier.wait() if index < 8 else None
        return console.call_action(
            "/wenxinworkshop/modelrepo/eval/result/export/info",
            body={"exportID": 96, "caller": index},
        ).result["exportIDStr"]

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(call, range(40))) == {"amemt-hkkf5y9e64j8"}
    first.close()
    second.close()
    seen = [r for r in emulator.received if b'"caller"' in r.body]
    assert len(seen) == 40 and all(r.auth_ok for r in seen)
    import json

    for received in seen:
        index = json.loads(received.body)["caller"]
        expected = KEYS_A[0] if index % 2 == 0 else KEYS_B[0]
        assert received.access_key == expected


def test_async_client_on_both_backends(backend_name: str, emulator: Emulator) -> None:
    import asyncio

    async def run() -> list[facade.ExportTask]:
        async with facade.AsyncClient(
            backend_name,
            endpoint=emulator.base_url,
            access_key=KEYS_A[0],
            secret_key=KEYS_A[1],
        ) as console:
            return list(
                await asyncio.gather(
                    *(console.export_status(i) for i in (96, 97, 98, 99, 100))
                )
            )

    tasks = asyncio.run(run())
    with client(backend_name, emulator) as console:
        sync = [console.export_status(i) for i in (96, 97, 98, 99, 100)]
    assert [t.model_dump(exclude={"request_id"}) for t in tasks] == [
        t.model_dump(exclude={"request_id"}) for t in sync
    ]


def test_connection_refused_is_a_transport_error(backend_name: str) -> None:
    with (
        facade.Client(
            backend_name,
            endpoint="http://127.0.0.1:9",
            access_key="a",
            secret_key="b",
            timeout=2,
        ) as console,
        pytest.raises(facade.TransportError) as info,
    ):
        console.export_status(96)
    assert info.value.retryable and info.value.backend == backend_name


def test_an_async_client_stays_in_its_event_loop(
    backend_name: str, emulator: Emulator
) -> None:
    import asyncio

    console = facade.AsyncClient(
        backend_name,
        endpoint=emulator.base_url,
        access_key=KEYS_A[0],
        secret_key=KEYS_A[1],
    )

    async def status() -> facade.ExportTask:
        return await console.export_status(96)

    async def status_and_close() -> facade.ExportTask:
        task = await status()
        await console.aclose()
        return task

    assert asyncio.run(status_and_close()).export_id == 96
    with pytest.raises(
        facade.ConfigurationError, match="one AsyncClient per event loop"
    ):
        asyncio.run(status())
