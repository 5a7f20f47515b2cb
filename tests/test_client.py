"""The client over an in-memory backend: settings, validation, normalization."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

import facade
from facade import ConsoleRequest, MockBackend, RawResponse

DOCUMENTED_RESULT = {
    "id": 305,
    "exportID": 96,
    "exportIDStr": "amemt-hkkf5y9e64j8",
    "state": "Done",
    "exportType": "storage",
    "volumeId": "modelrepo-test",
    "exportPath": "qianfan_modelrepo_offline/workspace/model_eval_result_export/"
    "cl_test23_305_1704338430470.csv",
    "downloadUrl": "",
}


def answering(body: Any, status: int = 200, **headers: str) -> MockBackend:
    return MockBackend(
        lambda request: RawResponse.from_json(body, status=status, headers=headers)
    )


def client_for(backend: MockBackend, **kwargs: Any) -> facade.Client:
    kwargs.setdefault("retry", None)
    return facade.Client(backend, access_key="ak-test", secret_key="sk-test", **kwargs)


def test_documented_example_normalizes() -> None:
    backend = answering({"log_id": "2340692759", "result": DOCUMENTED_RESULT})
    task = client_for(backend).export_status(96)
    assert task.export_id == 96
    assert task.task_id == "amemt-hkkf5y9e64j8"
    assert task.evaluation_id == "305"
    assert task.state is facade.ExportState.SUCCEEDED
    assert task.raw_state == "Done"
    assert task.storage is facade.StorageKind.USER_BUCKET
    assert task.bucket == "modelrepo-test"
    assert task.path == DOCUMENTED_RESULT["exportPath"]
    assert task.download_url is None
    assert task.request_id == "2340692759"
    assert task.api_version is facade.ApiVersion.V1
    assert task.raw == DOCUMENTED_RESULT
    (request,) = backend.requests
    assert request.route == "/wenxinworkshop/modelrepo/eval/result/export/info"
    assert request.action is None
    assert request.body == {"exportID": 96}


@pytest.mark.parametrize("log_id", [2340692759, "2340692759"])
def test_log_id_becomes_a_string(log_id: object) -> None:
    backend = answering({"log_id": log_id, "result": DOCUMENTED_RESULT})
    assert client_for(backend).export_status(96).request_id == "2340692759"


@pytest.mark.parametrize(
    ("wire", "state"),
    [
        ("Pending", facade.ExportState.QUEUED),
        ("Uploading", facade.ExportState.RUNNING),
        ("Fail", facade.ExportState.FAILED),
        ("Done", facade.ExportState.SUCCEEDED),
        ("Queued", facade.ExportState.QUEUED),
        ("Running", facade.ExportState.RUNNING),
        ("Failed", facade.ExportState.FAILED),
        ("Succeeded", facade.ExportState.SUCCEEDED),
        ("Archived", facade.ExportState.UNKNOWN),
    ],
)
def test_states_map_and_keep_the_wire_spelling(
    wire: str, state: facade.ExportState
) -> None:
    backend = answering({"log_id": "1", "result": {**DOCUMENTED_RESULT, "state": wire}})
    task = client_for(backend).export_status(96)
    assert task.state is state
    assert task.raw_state == wire


def test_empty_strings_become_none_and_local_storage_is_platform() -> None:
    result = {
        **DOCUMENTED_RESULT,
        "exportType": "local",
        "volumeId": "",
        "downloadUrl": "https://example.invalid/x.zip",
    }
    task = client_for(answering({"log_id": "1", "result": result})).export_status(96)
    assert task.bucket is None
    assert task.storage is facade.StorageKind.PLATFORM
    assert task.download_url == "https://example.invalid/x.zip"


@pytest.mark.parametrize(
    "bad", [0, -1, True, False, 1.5, None, "", "   ", "a b", "amemt-\n1", [96], b"96"]
)
def test_bad_export_ids_are_refused_before_sending(bad: object) -> None:
    backend = answering({"log_id": "1", "result": DOCUMENTED_RESULT})
    with pytest.raises(facade.InvalidInputError) as info:
        client_for(backend).export_status(bad)  # type: ignore[arg-type]
    assert info.value.parameter == "export_id"
    assert backend.requests == []


@pytest.mark.parametrize("good", [96, "96", "amemt-hkkf5y9e64j8"])
def test_good_export_ids_are_sent_as_given(good: int | str) -> None:
    backend = answering({"log_id": "1", "result": DOCUMENTED_RESULT})
    client_for(backend).export_status(good)
    assert backend.requests[0].body == {"exportID": good}


def test_v2_status_uses_describe_action_and_string_ids_only() -> None:
    backend = answering(
        {
            "requestId": "c8d2afee-b307-471a-80ab-9b08b36f2272",
            "result": {
                "taskId": "amemt-gmq1234567ab",
                "evalId": "ame-vwgs2ybhyhfv",
                "state": "Running",
                "storageType": "sysStorage",
                "exportContent": ["prompt", "system"],
            },
        }
    )
    client = client_for(backend, api_version="v2")
    task = client.export_status("amemt-gmq1234567ab")
    assert task.state is facade.ExportState.RUNNING
    assert task.storage is facade.StorageKind.PLATFORM
    assert task.export_content == ("prompt", "system")
    assert task.request_id == "c8d2afee-b307-471a-80ab-9b08b36f2272"
    assert task.api_version is facade.ApiVersion.V2
    request = backend.requests[0]
    assert (request.route, request.action) == (
        "/v2/eval",
        "DescribeEvalResultExportTask",
    )
    assert request.body == {"taskId": "amemt-gmq1234567ab"}
    with pytest.raises(facade.InvalidInputError):
        client.export_status(96)
    assert len(backend.requests) == 1


def test_call_action_returns_the_envelope() -> None:
    backend = answering({"requestId": "r-1", "result": {}})
    response = client_for(backend).call_action(
        "/v2/eval", "DeleteEvalTask", {"taskId": "ame-x"}
    )
    assert response.request_id == "r-1"
    assert response.result == {}
    assert response.http_status == 200
    assert response.api_version is facade.ApiVersion.V2


def test_missing_keys_name_the_variables() -> None:
    with pytest.raises(
        facade.ConfigurationError, match="QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY"
    ):
        facade.Client(answering({}))
    with pytest.raises(facade.ConfigurationError, match="QIANFAN_SECRET_KEY"):
        facade.Client(answering({}), access_key="ak")


def test_keys_and_endpoint_default_to_the_sdk_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QIANFAN_ACCESS_KEY", "env-ak")
    monkeypatch.setenv("QIANFAN_SECRET_KEY", "env-sk")
    monkeypatch.setenv("QIANFAN_CONSOLE_API_BASE_URL", "http://127.0.0.1:9/")
    backend = answering({"log_id": "1", "result": DOCUMENTED_RESULT})
    client = facade.Client(backend)
    client.export_status(96)
    request = backend.requests[0]
    assert request.endpoint == "http://127.0.0.1:9"
    assert request.credentials.access_key == "env-ak"
    assert request.credentials.secret_key == "env-sk"


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"endpoint": "ftp://host"}, "endpoint"),
        ({"endpoint": "http://host/prefix"}, "endpoint"),
        ({"endpoint": "qianfan.baidubce.com"}, "endpoint"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"access_key": "", "secret_key": "sk"}, "access_key"),
        ({"access_key": "ak", "secret_key": "s k"}, "secret_key"),
        ({"api_version": "v3"}, "api_version"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], parameter: str) -> None:
    settings = {"access_key": "ak", "secret_key": "sk", **kwargs}
    with pytest.raises(facade.InvalidInputError) as info:
        facade.Client(answering({}), **settings)
    assert info.value.parameter == parameter
    assert "s k" not in str(info.value)


@pytest.mark.parametrize(
    ("body", "status", "headers", "error", "code"),
    [
        (
            {"error_code": 500001, "error_msg": "param invalid", "log_id": "7"},
            200,
            {},
            facade.InvalidParameterError,
            "500001",
        ),
        (
            {"error_code": 18, "error_msg": "qps", "log_id": "7"},
            200,
            {},
            facade.RateLimitedError,
            "18",
        ),
        (
            {"error_code": 336100, "error_msg": "busy", "log_id": "7"},
            200,
            {},
            facade.ServerBusyError,
            "336100",
        ),
        (
            {"error_code": 500000, "error_msg": "oops", "log_id": "7"},
            200,
            {},
            facade.ServerError,
            "500000",
        ),
        (
            {"error_code": 14, "error_msg": "IAM Certification failed"},
            200,
            {},
            facade.AuthenticationError,
            "14",
        ),
        (
            {"requestId": "r", "code": "SignatureDoesNotMatch", "message": "m"},
            403,
            {"X-Bce-Error-Code": "SignatureDoesNotMatch"},
            facade.AuthenticationError,
            "SignatureDoesNotMatch",
        ),
        (
            {"requestId": "r", "code": "RequestExpired", "message": "m"},
            400,
            {},
            facade.AuthenticationError,
            "RequestExpired",
        ),
        (
            {"requestId": "r", "code": "ResourceNotFound", "message": "m"},
            404,
            {},
            facade.NotFoundError,
            "ResourceNotFound",
        ),
        (
            {"requestId": "r", "code": "InvalidRequestArgumentError", "message": "m"},
            400,
            {},
            facade.InvalidParameterError,
            "InvalidRequestArgumentError",
        ),
        (
            {"requestId": "r", "code": "Whatever", "message": "m"},
            429,
            {},
            facade.RateLimitedError,
            "Whatever",
        ),
        (
            {"requestId": "r", "code": "Whatever", "message": "m"},
            502,
            {},
            facade.ServerError,
            "Whatever",
        ),
    ],
)
def test_error_answers_map_to_one_tree(
    body: dict[str, Any],
    status: int,
    headers: dict[str, str],
    error: type[facade.ConsoleError],
    code: str,
) -> None:
    backend = answering(body, status, **headers)
    with pytest.raises(error) as info:
        client_for(backend).export_status(96)
    assert type(info.value) is error
    assert info.value.code == code
    assert info.value.http_status == status
    assert info.value.backend == "mock"
    assert info.value.retryable is error.retryable or code in {"14"}


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"", 200),
        (b"<html><body>Bad Gateway</body></html>", 200),
        (b'{"log_id": "1", "result": {"state": "Do', 200),
        (b"[1, 2]", 200),
        (b'{"log_id": "1"}', 200),
        (b"<!DOCTYPE html><p>teapot</p>", 418),
    ],
)
def test_answers_that_are_not_console_responses(content: bytes, status: int) -> None:
    backend = MockBackend(lambda request: RawResponse(status, {}, content))
    with pytest.raises(facade.InvalidResponseError) as info:
        client_for(backend).export_status(96)
    assert info.value.http_status == status


@pytest.mark.parametrize(
    "result",
    [
        {"exportID": 96},  # no state
        {"exportID": [96], "state": "Done"},  # mistyped id
        {"exportID": 96, "state": 3},  # mistyped state
    ],
)
def test_mistyped_or_missing_fields_are_invalid_responses(
    result: dict[str, Any],
) -> None:
    backend = answering({"log_id": "1", "result": result})
    with pytest.raises(facade.InvalidResponseError) as info:
        client_for(backend).export_status(96)
    assert info.value.request_id == "1"
    assert info.value.backend == "mock"


def test_server_messages_never_carry_our_keys() -> None:
    backend = answering(
        {"requestId": "r", "code": "AccessDenied", "message": "key ak-test / sk-test"},
        403,
    )
    with pytest.raises(facade.AuthenticationError) as info:
        client_for(backend).export_status(96)
    assert "ak-test" not in str(info.value) and "sk-test" not in str(info.value)
    assert "sk-test" not in repr(info.value.facts())


def test_one_info_line_per_call(caplog: pytest.LogCaptureFixture) -> None:
    backend = answering({"log_id": "1", "result": DOCUMENTED_RESULT})
    with caplog.at_level(logging.INFO, logger="facade"):
        client_for(backend).export_status(96)
    lines = [
        r
        for r in caplog.records
        if r.name == "facade.client" and r.levelno == logging.INFO
    ]
    assert len(lines) == 1
    message = lines[0].getMessage()
    assert (
        "backend=mock" in message
        and "export/info" in message
        and "outcome=ok" in message
    )


def test_request_json_is_compact_and_repr_hides_secrets() -> None:
    backend = answering({"log_id": "1", "result": DOCUMENTED_RESULT})
    client_for(backend).export_status("amemt-hkkf5y9e64j8")
    request: ConsoleRequest = backend.requests[0]
    assert json.loads(request.json_bytes()) == {"exportID": "amemt-hkkf5y9e64j8"}
    assert "sk-test" not in repr(request)
    assert "ak-test" not in repr(request)
    assert "sk-test" not in repr(facade.Credentials("ak-test", "sk-test"))


def test_context_manager_closes_the_backend() -> None:
    backend = answering({})
    with client_for(backend):
        pass
    assert backend.closed


@pytest.mark.parametrize("key", ["clé-access-key", "ключ"])
def test_non_ascii_keys_are_refused_without_echo(key: str) -> None:
    with pytest.raises(facade.InvalidInputError) as info:
        facade.Client(answering({}), access_key=key, secret_key="sk")
    assert key not in str(info.value)


@pytest.mark.parametrize("timeout", [10**400, 1e300, 31 * 24 * 3600])
def test_absurd_timeouts_are_refused(timeout: float) -> None:
    with pytest.raises(facade.InvalidInputError):
        facade.Client(answering({}), access_key="a", secret_key="b", timeout=timeout)


def test_deeply_nested_answer_is_an_invalid_response() -> None:
    backend = MockBackend(lambda request: RawResponse(200, {}, b"[" * 100_000))
    with pytest.raises(facade.InvalidResponseError):
        client_for(backend).export_status(96)


def test_an_unknown_v1_error_code_stays_a_console_error() -> None:
    backend = answering({"error_code": 999, "error_msg": "new failure", "log_id": "5"})
    with pytest.raises(facade.ConsoleError) as info:
        client_for(backend).export_status(96)
    assert type(info.value) is facade.ConsoleError
    assert (info.value.code, info.value.server_message) == ("999", "new failure")
    assert info.value.request_id == "5" and not info.value.retryable
