"""The V2 ``/v2/eval`` export actions and the generic route errors."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from facade.emulator import Emulator, StorageKind

if TYPE_CHECKING:
    from tests.emulator.conftest import SignedConsole

CREATE = "CreateEvalResultExportTask"
DESCRIBE = "DescribeEvalResultExportTask"
V1_INFO = "/wenxinworkshop/modelrepo/eval/result/export/info"
STRING_ID = re.compile(r"amemt-[a-z0-9]{12}")


def v2_result(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    payload = response.json()
    assert set(payload) == {"requestId", "result"}
    assert uuid.UUID(payload["requestId"]).version == 4
    assert response.headers["x-bce-request-id"] == payload["requestId"]
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    return payload["result"]


def v2_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"requestId", "code", "message"}
    assert payload["code"] == code
    assert uuid.UUID(payload["requestId"])
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["x-bce-request-id"] == payload["requestId"]
    message: str = payload["message"]
    return message


def test_documented_create_example(console: SignedConsole, emulator: Emulator) -> None:
    body = {
        "evalId": "ame-xvbi12345dr1dr",
        "storageType": "sysStorage",
        "exportContent": ["prompt", "prediction", "completion", "metrics"],
    }

    result = v2_result(console.v2(CREATE, body))

    assert set(result) == {"taskId"}
    assert STRING_ID.fullmatch(result["taskId"])
    task = emulator.state.find(result["taskId"])
    assert task is not None
    assert task.export_id == 1000
    assert task.storage is StorageKind.PLATFORM


def test_create_defaults_to_system_storage(
    console: SignedConsole, emulator: Emulator
) -> None:
    body = {"evalId": "ame-abc", "exportContent": ["system", "prompt", "system"]}

    task_id = v2_result(console.v2(CREATE, body))["taskId"]

    task = emulator.state.find(task_id)
    assert task is not None
    assert task.storage is StorageKind.PLATFORM
    assert task.content == ("system", "prompt")


def test_describe_a_created_bos_task(console: SignedConsole) -> None:
    body = {
        "evalId": "ame-abc",
        "storageType": "BOS",
        "bucket": "my-bucket",
        "exportContent": ["prompt", "system"],
        "sk": "ignored",
    }
    task_id = v2_result(console.v2(CREATE, body))["taskId"]

    described = v2_result(console.v2(DESCRIBE, {"taskId": task_id}))

    assert described == {
        "taskId": task_id,
        "evalId": "ame-abc",
        "exportContent": ["prompt", "system"],
        "state": "Queued",
        "storageType": "BOS",
        "bucket": "my-bucket",
        "exportPath": "",
        "downloadUrl": "",
    }


def test_describe_the_documented_seed_in_v2_spelling(console: SignedConsole) -> None:
    described = v2_result(console.v2(DESCRIBE, {"taskId": "amemt-hkkf5y9e64j8"}))

    assert described["state"] == "Succeeded"
    assert described["storageType"] == "BOS"
    assert described["bucket"] == "modelrepo-test"
    assert described["evalId"] == "305"
    assert described["exportPath"].endswith("cl_test23_305_1704338430470.csv")
    assert described["downloadUrl"] == ""


@pytest.mark.parametrize(
    ("task_id", "state"),
    [
        ("amemt-seedtask0097", "Succeeded"),
        ("amemt-seedtask0098", "Queued"),
        ("amemt-seedtask0099", "Running"),
        ("amemt-seedtask0100", "Failed"),
    ],
)
def test_seed_states_in_v2_spelling(
    console: SignedConsole, task_id: str, state: str
) -> None:
    described = v2_result(console.v2(DESCRIBE, {"taskId": task_id}))

    assert described["state"] == state
    assert described["storageType"] == "sysStorage"
    assert "bucket" not in described


def test_succeeded_platform_task_has_a_download_link(
    console: SignedConsole, emulator: Emulator
) -> None:
    described = v2_result(console.v2(DESCRIBE, {"taskId": "amemt-seedtask0097"}))

    assert described["downloadUrl"] == (
        f"{emulator.base_url}/download/amemt-seedtask0097.zip"
    )


def test_one_store_serves_both_generations(console: SignedConsole) -> None:
    task_id = v2_result(
        console.v2(CREATE, {"evalId": "ame-abc", "exportContent": ["metrics"]})
    )["taskId"]

    v1 = console.v1(V1_INFO, {"exportID": task_id}).json()["result"]

    assert v1["exportIDStr"] == task_id
    assert v1["id"] == "ame-abc"
    assert v1["exportType"] == "local"
    assert v1["state"] == "Pending"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"exportContent": ["prompt"]}, id="eval-id-missing"),
        pytest.param({"evalId": "", "exportContent": ["prompt"]}, id="eval-id-empty"),
        pytest.param({"evalId": 305, "exportContent": ["prompt"]}, id="eval-id-int"),
        pytest.param({"evalId": "ame-a"}, id="content-missing"),
        pytest.param({"evalId": "ame-a", "exportContent": []}, id="content-empty"),
        pytest.param(
            {"evalId": "ame-a", "exportContent": ["answer"]}, id="content-unknown"
        ),
        pytest.param(
            {"evalId": "ame-a", "exportContent": "prompt"}, id="content-string"
        ),
        pytest.param(
            {"evalId": "ame-a", "storageType": "local", "exportContent": ["prompt"]},
            id="storage-v1-spelling",
        ),
        pytest.param(
            {"evalId": "ame-a", "storageType": "BOS", "exportContent": ["prompt"]},
            id="bos-no-bucket",
        ),
        pytest.param(
            {
                "evalId": "ame-a",
                "storageType": "BOS",
                "bucket": "",
                "exportContent": ["prompt"],
            },
            id="bos-empty-bucket",
        ),
    ],
)
def test_create_rejects_invalid_bodies(
    console: SignedConsole, emulator: Emulator, body: dict[str, Any]
) -> None:
    v2_error(console.v2(CREATE, body), 400, "InvalidRequestArgumentError")

    assert emulator.state.find(1000) is None


@pytest.mark.parametrize(
    "body",
    [{}, {"taskId": None}, {"taskId": ""}, {"taskId": 96}, {"taskId": ["a"]}],
    ids=["missing", "null", "empty", "int", "list"],
)
def test_describe_rejects_missing_or_mistyped_ids(
    console: SignedConsole, body: dict[str, Any]
) -> None:
    v2_error(console.v2(DESCRIBE, body), 400, "InvalidRequestArgumentError")


def test_describe_an_unknown_task(console: SignedConsole) -> None:
    message = v2_error(
        console.v2(DESCRIBE, {"taskId": "amemt-doesnotexist"}), 404, "ResourceNotFound"
    )

    assert "amemt-doesnotexist" in message


@pytest.mark.parametrize("raw_body", [b"", b"{", b"[]", b"null", b"\xff"])
def test_body_that_is_not_a_json_object(
    console: SignedConsole, raw_body: bytes
) -> None:
    v2_error(console.v2(DESCRIBE, None, raw_body=raw_body), 400, "MalformedJSON")


@pytest.mark.parametrize("query", [{}, {"Action": ""}, {"Action": "DescribeEvalTask"}])
def test_missing_or_unknown_action(
    console: SignedConsole, query: dict[str, str]
) -> None:
    response = console.send("/v2/eval", {"taskId": "x"}, query=query)

    message = v2_error(response, 400, "InvalidAction")
    assert CREATE in message and DESCRIBE in message


def test_unknown_route(console: SignedConsole) -> None:
    message = v2_error(console.send("/v2/model", {}), 404, "NotFound")

    assert "/v2/eval" in message


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_console_routes_take_only_post(console: SignedConsole, method: str) -> None:
    response = console.send(V1_INFO, {"exportID": 96}, method=method)

    v2_error(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == "POST"
