"""Download links: unsigned, zip with ``data.jsonl``, only for finished exports."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest

from facade.emulator import Emulator, ExportState, StatePlan, StorageKind

if TYPE_CHECKING:
    from tests.emulator.conftest import SignedConsole

V1_INFO = "/wenxinworkshop/modelrepo/eval/result/export/info"


def rows_of(archive: bytes) -> list[dict[str, object]]:
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert opened.namelist() == ["data.jsonl"]
        text = opened.read("data.jsonl").decode("utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_the_seed_download_link_serves_a_zip(
    console: SignedConsole, http: httpx.Client
) -> None:
    link = console.v1(V1_INFO, {"exportID": 97}).json()["result"]["downloadUrl"]

    response = http.get(link)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert int(response.headers["content-length"]) == len(response.content)
    rows = rows_of(response.content)
    assert len(rows) == 3
    for row in rows:
        assert list(row) == ["prompt", "prediction", "completion", "metrics"]
        assert isinstance(row["metrics"], dict)


def test_the_archive_is_the_same_every_time(
    emulator: Emulator, http: httpx.Client
) -> None:
    link = f"{emulator.base_url}/download/amemt-seedtask0097.zip"

    assert http.get(link).content == http.get(link).content


def test_a_created_task_downloads_once_it_succeeds(
    start_console: Callable[..., SignedConsole], http: httpx.Client
) -> None:
    console = start_console(plan=StatePlan(queued_polls=0, running_polls=0))
    body = {"evalId": "ame-a", "exportContent": ["system", "prompt"]}
    task_id = console.v2("CreateEvalResultExportTask", body).json()["result"]["taskId"]
    link = f"{console.emulator.base_url}/download/{task_id}.zip"
    assert http.get(link).status_code == 404  # still queued

    described = console.v2("DescribeEvalResultExportTask", {"taskId": task_id})
    assert described.json()["result"]["downloadUrl"] == link

    rows = rows_of(http.get(link).content)
    assert [list(row) for row in rows] == [["prompt", "system"]] * 3


def test_downloads_need_no_signature_and_are_recorded(
    emulator: Emulator, http: httpx.Client
) -> None:
    http.get(f"{emulator.base_url}/download/amemt-seedtask0097.zip")

    (seen,) = emulator.received
    assert (seen.method, seen.access_key, seen.auth_ok) == ("GET", None, True)


@pytest.mark.parametrize(
    "name",
    [
        "amemt-hkkf5y9e64j8.zip",  # succeeded, but to the user's BOS
        "amemt-seedtask0098.zip",  # queued
        "amemt-seedtask0099.zip",  # running
        "amemt-seedtask0100.zip",  # failed
        "amemt-doesnotexist.zip",
        "amemt-seedtask0097",  # no .zip
        "amemt-seedtask0097.tar",
        "",
    ],
)
def test_nothing_else_downloads(
    emulator: Emulator, http: httpx.Client, name: str
) -> None:
    response = http.get(f"{emulator.base_url}/download/{name}")

    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_a_bos_task_added_directly_has_no_link(
    console: SignedConsole, http: httpx.Client
) -> None:
    task = console.emulator.state.add_task(
        eval_id=1, storage=StorageKind.BOS, bucket="b", state=ExportState.SUCCEEDED
    )

    result = console.v1(V1_INFO, {"exportID": task.export_id}).json()["result"]

    assert result["downloadUrl"] == ""
    assert result["volumeId"] == "b"
    url = f"{console.emulator.base_url}/download/{task.export_id_str}.zip"
    assert http.get(url).status_code == 404


def test_downloads_take_only_get(emulator: Emulator, http: httpx.Client) -> None:
    response = http.post(f"{emulator.base_url}/download/amemt-seedtask0097.zip")

    assert response.status_code == 405
    assert response.json()["code"] == "MethodNotAllowed"
