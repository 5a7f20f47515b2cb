"""Export create, wait and download over an in-memory backend."""

from __future__ import annotations

import asyncio
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import facade
from facade import ConsoleRequest, MockBackend, RawResponse
from tests.conftest import FakeTime


def client_for(backend: MockBackend, **kwargs: Any) -> facade.Client:
    return facade.Client(backend, access_key="ak-test", secret_key="sk-test", **kwargs)


class Script:
    """Answers status polls from a list of V1 states, counting the calls."""

    def __init__(self, states: list[str], **extra: Any) -> None:
        self.states = states
        self.extra = extra
        self.calls = 0

    def __call__(self, request: ConsoleRequest) -> RawResponse:
        state = self.states[min(self.calls, len(self.states) - 1)]
        self.calls += 1
        result = {"exportID": 1000, "exportIDStr": "amemt-aaaaaaaaaaaa", "state": state}
        return RawResponse.from_json(
            {"log_id": "1", "result": {**result, **self.extra}}
        )


def test_wait_returns_the_finished_task_and_reports_each_change(
    fake_time: FakeTime,
) -> None:
    script = Script(["Pending", "Pending", "Uploading", "Uploading", "Done"])
    seen: list[str] = []
    task = client_for(MockBackend(script)).wait_for_export(
        1000,
        poll_interval=1,
        backoff=2,
        max_poll_interval=3,
        on_change=lambda t: seen.append(t.raw_state or ""),
    )
    assert task.state is facade.ExportState.SUCCEEDED
    assert seen == ["Pending", "Uploading", "Done"]
    assert script.calls == 5  # no call after the terminal state
    assert fake_time.pauses == [1, 2, 3, 3]  # grows by backoff up to the cap


def test_wait_raises_export_failed_with_the_task(fake_time: FakeTime) -> None:
    script = Script(["Uploading", "Fail"])
    with pytest.raises(facade.ExportFailedError) as info:
        client_for(MockBackend(script)).wait_for_export(1000, poll_interval=1)
    assert info.value.task.state is facade.ExportState.FAILED
    assert script.calls == 2


def test_wait_times_out_with_the_last_task_seen(fake_time: FakeTime) -> None:
    script = Script(["Pending", "Pending", "Uploading"])
    with pytest.raises(facade.ExportTimeoutError) as info:
        client_for(MockBackend(script)).wait_for_export(
            1000, timeout=10, poll_interval=4, backoff=1
        )
    assert info.value.task.raw_state == "Uploading"
    assert fake_time.now == 10  # never sleeps past the deadline
    assert fake_time.pauses == [4, 4, 2]


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"timeout": 0}, "timeout"),
        ({"poll_interval": -1}, "poll_interval"),
        ({"backoff": 0.5}, "backoff"),
    ],
)
def test_wait_arguments_are_checked_first(
    kwargs: dict[str, Any], parameter: str
) -> None:
    backend = MockBackend(Script(["Done"]))
    with pytest.raises(facade.InvalidInputError) as info:
        client_for(backend).wait_for_export(1000, **kwargs)
    assert info.value.parameter == parameter
    assert backend.requests == []


def created(request: ConsoleRequest) -> RawResponse:
    if request.action:
        return RawResponse.from_json(
            {"requestId": "r", "result": {"taskId": "amemt-bbbbbbbbbbbb"}}
        )
    return RawResponse.from_json(
        {
            "log_id": "1",
            "result": {"exportID": 1001, "exportIDStr": "amemt-bbbbbbbbbbbb"},
        }
    )


def test_create_v1_defaults_and_bucket() -> None:
    backend = MockBackend(created)
    client = client_for(backend)
    task = client.export_create(305)
    assert (task.export_id, task.task_id, task.state) == (
        1001,
        "amemt-bbbbbbbbbbbb",
        facade.ExportState.QUEUED,
    )
    assert backend.requests[0].route == "/wenxinworkshop/modelrepo/eval/result/export"
    assert backend.requests[0].body == {
        "id": 305,
        "exportType": "local",
        "exportOpt": "total",
        "exportContent": ["prompt", "prediction", "completion", "metrics"],
    }
    client.export_create(
        "ame-vwgs2ybhyhfv",
        storage="user_bucket",
        bucket="modelrepo-test",
        content=["prompt"],
        result_ids=["65951573193ec327b9639c7f"],
    )
    assert backend.requests[1].body == {
        "id": "ame-vwgs2ybhyhfv",
        "exportType": "storage",
        "exportOpt": "part",
        "exportContent": ["prompt"],
        "volumeId": "modelrepo-test",
        "resultIds": ["65951573193ec327b9639c7f"],
    }


def test_create_v2_per_call_override() -> None:
    backend = MockBackend(created)
    task = client_for(backend).export_create(
        "ame-vwgs2ybhyhfv", content=["prompt", "system"], api_version="v2"
    )
    assert task.task_id == "amemt-bbbbbbbbbbbb"
    assert task.api_version is facade.ApiVersion.V2
    request = backend.requests[0]
    assert (request.route, request.action) == ("/v2/eval", "CreateEvalResultExportTask")
    assert request.body == {
        "evalId": "ame-vwgs2ybhyhfv",
        "storageType": "sysStorage",
        "exportContent": ["prompt", "system"],
    }


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"storage": "user_bucket"}, "bucket"),
        ({"storage": "platform", "bucket": "b"}, "bucket"),
        ({"storage": "s3"}, "storage"),
        ({"result_ids": []}, "result_ids"),
        ({"result_ids": [f"{i:024x}" for i in range(101)]}, "result_ids"),
        ({"result_ids": "65951573193ec327b9639c7f"}, "result_ids"),
        ({"content": ["prompt", "answers"]}, "content"),
        ({"content": ["system"]}, "content"),  # system exists only on V2
        ({"content": []}, "content"),
        ({"content": "prompt"}, "content"),
        ({"result_ids": ["a"], "api_version": "v2"}, "result_ids"),
        ({"api_version": "v2", "evaluation_id": 305}, "evaluation_id"),
        ({"evaluation_id": 0}, "evaluation_id"),
    ],
)
def test_invalid_create_combinations_send_nothing(
    kwargs: dict[str, Any], parameter: str
) -> None:
    backend = MockBackend(created)
    evaluation_id = kwargs.pop("evaluation_id", "ame-vwgs2ybhyhfv")
    with pytest.raises(facade.InvalidInputError) as info:
        client_for(backend).export_create(evaluation_id, **kwargs)
    assert info.value.parameter == parameter
    assert backend.requests == []


def _zip(rows: int = 2) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        lines = [f'{{"prompt": "p{i}", "prediction": "a{i}"}}' for i in range(rows)]
        archive.writestr("data.jsonl", "\n".join(lines) + "\n")
    return buffer.getvalue()


class _Files(http.server.BaseHTTPRequestHandler):
    payload = _zip()

    def do_GET(self) -> None:
        if self.path.startswith("/cut"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(self.payload)))
            self.end_headers()
            self.wfile.write(self.payload[:100])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        body = b"not a zip" if self.path.startswith("/junk") else self.payload
        self.send_response(404 if self.path.startswith("/missing") else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def file_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def done_with(url: str) -> facade.ExportTask:
    return facade.ExportTask(
        export_id=97,
        task_id="amemt-cccccccccccc",
        state=facade.ExportState.SUCCEEDED,
        storage=facade.StorageKind.PLATFORM,
        download_url=url,
        api_version=facade.ApiVersion.V1,
    )


def test_download_streams_into_place_and_reads_rows(
    file_server: str, tmp_path: Path
) -> None:
    client = client_for(MockBackend(Script(["Done"])))
    path = client.download_export(done_with(f"{file_server}/x/export.zip"), tmp_path)
    assert path == tmp_path / "export.zip"
    assert facade.read_export_rows(path) == [
        {"prompt": "p0", "prediction": "a0"},
        {"prompt": "p1", "prediction": "a1"},
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.zip"]


@pytest.mark.parametrize(
    ("route", "error"),
    [
        ("/cut/export.zip", facade.TransportError),
        ("/junk/export.zip", facade.ExportError),
        ("/missing/export.zip", facade.ExportError),
    ],
)
def test_failed_downloads_leave_no_file(
    file_server: str, tmp_path: Path, route: str, error: type[Exception]
) -> None:
    client = client_for(MockBackend(Script(["Done"])))
    with pytest.raises(error):
        client.download_export(done_with(f"{file_server}{route}"), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_download_of_a_bucket_export_says_where_the_data_went(tmp_path: Path) -> None:
    backend = MockBackend(
        Script(
            ["Done"],
            exportType="storage",
            volumeId="modelrepo-test",
            exportPath="p/x.csv",
        )
    )
    with pytest.raises(facade.ExportError, match="bucket modelrepo-test at p/x.csv"):
        client_for(backend).download_export(96, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_download_of_an_unfinished_task_is_refused(tmp_path: Path) -> None:
    with pytest.raises(facade.ExportError, match="has not succeeded"):
        client_for(MockBackend(Script(["Uploading"]))).download_export(1000, tmp_path)


def test_async_client_matches_the_sync_one() -> None:
    script = Script(
        ["Pending", "Done"], exportType="local", downloadUrl="http://h/x.zip"
    )

    async def run() -> tuple[facade.ExportTask, facade.ExportTask]:
        backend = MockBackend(script)
        async with facade.AsyncClient(
            backend, access_key="a", secret_key="b"
        ) as client:
            first = await client.export_status(1000)
            finished = await client.wait_for_export(1000, poll_interval=0.01)
        assert backend.closed
        return first, finished

    first, finished = asyncio.run(run())
    assert first.state is facade.ExportState.QUEUED
    assert finished.state is facade.ExportState.SUCCEEDED
    script.calls = 0
    sync = client_for(MockBackend(script)).export_status(1000)
    assert sync == first


def test_a_trailing_separator_names_a_folder_made_for_the_file(
    file_server: str, tmp_path: Path
) -> None:
    client = client_for(MockBackend(Script(["Done"])))
    path = client.download_export(
        done_with(f"{file_server}/x/export.zip"), f"{tmp_path}/new/"
    )
    assert path == tmp_path / "new" / "export.zip" and path.is_file()
    with pytest.raises(facade.TransportError):
        client.download_export(done_with(f"{file_server}/cut/a.zip"), f"{tmp_path}/b/")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]  # no folder left
    with pytest.raises(facade.InvalidInputError, match="cannot create"):
        client.download_export(done_with(f"{file_server}/x/e.zip"), f"{tmp_path}/a/b/")


def test_a_created_task_is_reported_queued_before_polling(fake_time: FakeTime) -> None:
    created = facade.ExportTask(
        export_id=1000,
        task_id="amemt-aaaaaaaaaaaa",
        state=facade.ExportState.QUEUED,
        api_version=facade.ApiVersion.V1,
    )
    seen: list[str] = []
    script = Script(["Uploading", "Done"])
    client_for(MockBackend(script)).wait_for_export(
        created, poll_interval=1, on_change=lambda t: seen.append(t.state.value)
    )
    assert seen == ["queued", "running", "succeeded"]
    assert script.calls == 2
