"""The V1 export routes: documented examples, seeds, validation, envelopes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from facade.emulator import Emulator, ExportState, StorageKind

if TYPE_CHECKING:
    from tests.emulator.conftest import SignedConsole

V1_EXPORT = "/wenxinworkshop/modelrepo/eval/result/export"
V1_INFO = "/wenxinworkshop/modelrepo/eval/result/export/info"
EXPORT_DIR = "qianfan_modelrepo_offline/workspace/model_eval_result_export"
STRING_ID = re.compile(r"amemt-[a-z0-9]{12}")


def v1_result(console: SignedConsole, route: str, body: object) -> Any:
    response = console.v1(route, body)
    assert response.status_code == 200
    payload = response.json()
    assert set(payload) == {"log_id", "result"}, payload
    assert isinstance(payload["log_id"], str) and payload["log_id"].isdigit()
    return payload["result"]


def v1_error(console: SignedConsole, route: str, body: object) -> dict[str, Any]:
    response = console.v1(route, body)
    assert response.status_code == 200
    payload: dict[str, Any] = response.json()
    assert set(payload) == {"error_code", "error_msg", "log_id"}, payload
    assert payload["log_id"].isdigit()
    return payload


def test_documented_info_example_round_trips(console: SignedConsole) -> None:
    response = console.v1(V1_INFO, {"exportID": 96})

    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["x-bce-request-id"]
    assert response.json()["result"] == {
        "id": 305,
        "exportID": 96,
        "exportIDStr": "amemt-hkkf5y9e64j8",
        "state": "Done",
        "exportType": "storage",
        "volumeId": "modelrepo-test",
        "exportPath": f"{EXPORT_DIR}/cl_test23_305_1704338430470.csv",
        "downloadUrl": "",
    }


@pytest.mark.parametrize(
    "export_id", [96, "96", "amemt-hkkf5y9e64j8"], ids=["int", "digits", "string-id"]
)
def test_info_accepts_numeric_and_string_ids(
    console: SignedConsole, export_id: int | str
) -> None:
    assert v1_result(console, V1_INFO, {"exportID": export_id})["exportID"] == 96


def test_info_without_the_stray_action_parameter(console: SignedConsole) -> None:
    response = console.send(V1_INFO, {"exportID": 96})

    assert response.json()["result"]["exportIDStr"] == "amemt-hkkf5y9e64j8"


@pytest.mark.parametrize(
    ("export_id", "state", "export_type", "eval_id"),
    [
        (97, "Done", "local", 306),
        (98, "Pending", "local", "ame-vwgs2ybhyhfv"),
        (99, "Uploading", "local", "ame-vwgs2ybhyhfv"),
        (100, "Fail", "local", 401),
    ],
)
def test_seed_tasks_cover_every_state(
    console: SignedConsole,
    export_id: int,
    state: str,
    export_type: str,
    eval_id: int | str,
) -> None:
    for _ in range(4):  # seed tasks never move on, however often they are read
        result = v1_result(console, V1_INFO, {"exportID": export_id})
        assert result["state"] == state
    assert result["exportType"] == export_type
    assert result["id"] == eval_id
    assert result["exportIDStr"] == f"amemt-seedtask{export_id:04d}"
    assert result["volumeId"] == ""


def test_succeeded_local_seed_has_a_download_link(
    console: SignedConsole, emulator: Emulator
) -> None:
    result = v1_result(console, V1_INFO, {"exportID": 97})

    expected = f"{emulator.base_url}/download/amemt-seedtask0097.zip"
    assert result["downloadUrl"] == expected
    assert result["exportPath"].startswith(EXPORT_DIR)


@pytest.mark.parametrize("export_id", [98, 99, 100])
def test_unfinished_or_failed_tasks_have_no_path_or_link(
    console: SignedConsole, export_id: int
) -> None:
    result = v1_result(console, V1_INFO, {"exportID": export_id})

    assert result["exportPath"] == ""
    assert result["downloadUrl"] == ""


def test_documented_create_example(console: SignedConsole, emulator: Emulator) -> None:
    body = {
        "id": 305,
        "exportType": "storage",
        "exportOpt": "part",
        "volumeId": "modelrepo-test",
        "resultIds": ["65951573193ec327b9639c7f", "65951573193ec327b9639c80"],
        "exportContent": ["prompt", "prediction", "completion", "metrics"],
    }

    result = v1_result(console, V1_EXPORT, body)

    assert set(result) == {"exportID", "exportIDStr"}
    assert result["exportID"] == 1000
    assert STRING_ID.fullmatch(result["exportIDStr"])
    task = emulator.state.find(1000)
    assert task is not None
    assert task.eval_id == 305
    assert task.storage is StorageKind.BOS
    assert task.bucket == "modelrepo-test"
    assert task.state is ExportState.QUEUED


def test_create_defaults_to_local_total_and_every_field(
    console: SignedConsole, emulator: Emulator
) -> None:
    result = v1_result(console, V1_EXPORT, {"id": "ame-vwgs2ybhyhfv"})

    task = emulator.state.find(result["exportIDStr"])
    assert task is not None
    assert task.storage is StorageKind.PLATFORM
    assert task.content == ("prompt", "prediction", "completion", "metrics")
    assert task.eval_id == "ame-vwgs2ybhyhfv"


def test_created_ids_count_up_from_1000(console: SignedConsole) -> None:
    first = v1_result(console, V1_EXPORT, {"id": 1})
    second = v1_result(console, V1_EXPORT, {"id": 1})

    assert (first["exportID"], second["exportID"]) == (1000, 1001)
    assert first["exportIDStr"] != second["exportIDStr"]


def test_info_keeps_the_eval_id_type_given_at_creation(console: SignedConsole) -> None:
    created = v1_result(console, V1_EXPORT, {"id": 42})
    described = v1_result(console, V1_INFO, {"exportID": created["exportIDStr"]})

    assert described["id"] == 42
    assert described["exportID"] == created["exportID"]


def test_unknown_body_keys_are_ignored(console: SignedConsole) -> None:
    body = {"exportID": 96, "ak": "ignored", "sk": "ignored"}

    assert v1_result(console, V1_INFO, body)["exportID"] == 96


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="id-missing"),
        pytest.param({"id": None}, id="id-null"),
        pytest.param({"id": ""}, id="id-empty"),
        pytest.param({"id": True}, id="id-bool"),
        pytest.param({"id": 3.5}, id="id-float"),
        pytest.param({"id": [305]}, id="id-list"),
        pytest.param({"id": 305, "exportType": "bos"}, id="export-type-unknown"),
        pytest.param({"id": 305, "exportType": 1}, id="export-type-int"),
        pytest.param({"id": 305, "exportType": "storage"}, id="storage-no-volume"),
        pytest.param(
            {"id": 305, "exportType": "storage", "volumeId": ""}, id="storage-empty"
        ),
        pytest.param({"id": 305, "exportOpt": "some"}, id="export-opt-unknown"),
        pytest.param({"id": 305, "exportOpt": "part"}, id="part-no-ids"),
        pytest.param(
            {"id": 305, "exportOpt": "part", "resultIds": []}, id="part-empty-ids"
        ),
        pytest.param(
            {"id": 305, "exportOpt": "part", "resultIds": ["a"] * 101},
            id="part-101-ids",
        ),
        pytest.param(
            {"id": 305, "exportOpt": "part", "resultIds": [1, 2]}, id="part-int-ids"
        ),
        pytest.param(
            {"id": 305, "exportOpt": "part", "resultIds": "a"}, id="part-ids-string"
        ),
        pytest.param({"id": 305, "exportContent": ["system"]}, id="content-v2-only"),
        pytest.param({"id": 305, "exportContent": ["answer"]}, id="content-unknown"),
        pytest.param({"id": 305, "exportContent": []}, id="content-empty"),
        pytest.param({"id": 305, "exportContent": "prompt"}, id="content-string"),
    ],
)
def test_create_rejects_invalid_bodies(
    console: SignedConsole, emulator: Emulator, body: dict[str, Any]
) -> None:
    payload = v1_error(console, V1_EXPORT, body)

    assert payload["error_code"] == 500001
    assert payload["error_msg"].startswith("param invalid: ")
    assert emulator.state.find(1000) is None


def test_create_accepts_100_result_ids(console: SignedConsole) -> None:
    body = {"id": 305, "exportOpt": "part", "resultIds": [f"r{i}" for i in range(100)]}

    assert v1_result(console, V1_EXPORT, body)["exportID"] == 1000


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing"),
        pytest.param({"exportID": None}, id="null"),
        pytest.param({"exportID": ""}, id="empty"),
        pytest.param({"exportID": [96]}, id="list"),
        pytest.param({"exportID": {"id": 96}}, id="object"),
        pytest.param({"exportID": True}, id="bool"),
        pytest.param({"exportID": 96.0}, id="float"),
    ],
)
def test_info_rejects_missing_or_mistyped_ids(
    console: SignedConsole, body: dict[str, Any]
) -> None:
    payload = v1_error(console, V1_INFO, body)

    assert payload["error_code"] == 500001
    assert payload["error_msg"].startswith("param invalid")


@pytest.mark.parametrize("export_id", [12345, "12345", "amemt-doesnotexist"])
def test_info_on_an_unknown_task(console: SignedConsole, export_id: int | str) -> None:
    payload = v1_error(console, V1_INFO, {"exportID": export_id})

    assert payload["error_code"] == 500001
    assert payload["error_msg"] == f"export task {export_id} does not exist"


@pytest.mark.parametrize(
    "raw_body", [b"", b"not json", b"[1, 2]", b'"text"', b"\xff\xfe"]
)
@pytest.mark.parametrize("route", [V1_EXPORT, V1_INFO])
def test_body_that_is_not_a_json_object(
    console: SignedConsole, route: str, raw_body: bytes
) -> None:
    response = console.v1(route, None, raw_body=raw_body)

    payload = response.json()
    assert response.status_code == 200
    assert payload["error_code"] == 336002
    assert "JSON" in payload["error_msg"]
    assert payload["log_id"].isdigit()
