"""The official SDKs' requests pass: the real Python SDK, and the ``baidubce``
signer set up the way the Node, Go and Java SDKs sign."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import qianfan
import qianfan.errors
from baidubce.auth.bce_credentials import BceCredentials
from baidubce.auth.bce_v1_signer import sign as bce_sign
from qianfan.resources.console.utils import call_action

from facade._signing import canonical_time
from facade.emulator import Emulator

if TYPE_CHECKING:
    from tests.emulator.conftest import SignedConsole

V1_EXPORT = "/wenxinworkshop/modelrepo/eval/result/export"
V1_INFO = "/wenxinworkshop/modelrepo/eval/result/export/info"
DESCRIBE = "DescribeEvalResultExportTask"
SEED_RESULT = {
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
_CONFIG_NAMES = ("ACCESS_KEY", "SECRET_KEY", "CONSOLE_API_BASE_URL")


@pytest.fixture
def sdk(console: SignedConsole) -> Iterator[Any]:
    """The SDK's global config pointed at the emulator, restored afterwards."""
    config = qianfan.get_config()
    saved = {name: getattr(config, name) for name in _CONFIG_NAMES}
    config.ACCESS_KEY = console.access_key
    config.SECRET_KEY = console.secret_key
    config.CONSOLE_API_BASE_URL = console.emulator.base_url
    try:
        yield config
    finally:
        for name, value in saved.items():
            setattr(config, name, value)


def test_sdk_reads_v1_info_with_its_stray_action(sdk: Any, emulator: Emulator) -> None:
    response = call_action(V1_INFO, "", {"exportID": 96})

    assert response.body["result"] == SEED_RESULT
    (seen,) = emulator.received
    assert seen.auth_ok
    assert seen.query == [("Action", "")]
    assert seen.body == b'{"exportID": 96}'
    assert seen.headers["request-source"].startswith("qianfan_py_sdk_v")


def test_sdk_describes_a_v2_task(sdk: Any) -> None:
    response = call_action("/v2/eval", DESCRIBE, {"taskId": "amemt-hkkf5y9e64j8"})

    assert response.code == 200
    assert response.body["result"]["state"] == "Succeeded"


def test_sdk_follows_a_created_export_to_done(sdk: Any) -> None:
    created = call_action(V1_EXPORT, "", {"id": 305, "exportType": "local"})
    export_id = created.body["result"]["exportIDStr"]

    states = [
        call_action(V1_INFO, "", {"exportID": export_id}).body["result"]["state"]
        for _ in range(4)
    ]

    assert states == ["Pending", "Uploading", "Uploading", "Done"]


def test_sdk_raises_api_error_on_v1_errors(sdk: Any) -> None:
    with pytest.raises(qianfan.errors.APIError) as raised:
        call_action(V1_INFO, "", {"exportID": 12345})

    assert raised.value.error_code == 500001
    assert raised.value.error_msg == "export task 12345 does not exist"
    assert str(raised.value.req_id).isdigit()


def test_sdk_raises_request_error_on_v2_errors(sdk: Any) -> None:
    with pytest.raises(qianfan.errors.RequestError) as raised:
        call_action("/v2/eval", DESCRIBE, {"taskId": "amemt-doesnotexist"})

    assert raised.value.status_code == 404


def test_sdk_with_a_wrong_secret_key(sdk: Any, emulator: Emulator) -> None:
    sdk.SECRET_KEY = "not-the-secret"

    with pytest.raises(qianfan.errors.RequestError) as raised:
        call_action(V1_INFO, "", {"exportID": 96})

    assert raised.value.status_code == 403
    assert "SignatureDoesNotMatch" in str(raised.value)
    assert emulator.received[-1].auth_ok is False


def test_sdk_with_an_unknown_access_key(sdk: Any) -> None:
    sdk.ACCESS_KEY = "test-ak-nobody"

    with pytest.raises(qianfan.errors.RequestError) as raised:
        call_action("/v2/eval", DESCRIBE, {"taskId": "amemt-hkkf5y9e64j8"})

    assert raised.value.status_code == 403
    assert "Could not find credential" in str(raised.value)


_SDK_SCRIPT = """
import json
from qianfan.resources.console.utils import call_action

info = call_action("/wenxinworkshop/modelrepo/eval/result/export/info", "",
                   {"exportID": 96})
described = call_action("/v2/eval", "DescribeEvalResultExportTask",
                        {"taskId": "amemt-hkkf5y9e64j8"})
print(json.dumps({
    "states": [info.body["result"]["state"], described.body["result"]["state"]],
    "signed": [response.request.headers["Authorization"].split("/")[4]
               for response in (info, described)],
}))
"""


def test_sdk_random_header_order_across_hash_seeds(
    emulator: Emulator, tmp_path: Path
) -> None:
    # The SDK lists signed headers in set order, which PYTHONHASHSEED decides.
    environment = {
        **os.environ,
        "QIANFAN_ACCESS_KEY": "test-ak-alpha",
        "QIANFAN_SECRET_KEY": "test-sk-alpha",
        "QIANFAN_CONSOLE_API_BASE_URL": emulator.base_url,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _SDK_SCRIPT],
            cwd=tmp_path,  # no stray .env is read
            env={**environment, "PYTHONHASHSEED": str(seed)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2, 3, 4)
    ]
    outputs = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=60)
        assert run.returncode == 0, stderr
        outputs.append(json.loads(stdout.strip().splitlines()[-1]))

    assert all(out["states"] == ["Done", "Succeeded"] for out in outputs)
    orders = {order for out in outputs for order in out["signed"]}
    assert {tuple(sorted(order.split(";"))) for order in orders} == {
        ("content-type", "host", "request-source", "x-bce-date")
    }
    assert len(orders) > 1, "every seed gave the same order; pick other seeds"
    assert all(seen.auth_ok for seen in emulator.received)
    assert len(emulator.received) == 8


def _bce_authorization(
    *,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    headers_to_sign: list[str],
    timestamp: float,
    expiration: int,
    secret_key: str = "test-sk-alpha",
) -> str:
    signed: bytes = bce_sign(
        BceCredentials("test-ak-alpha", secret_key),
        b"POST",
        path.encode(),
        {name.encode(): value for name, value in headers.items()},
        {name.encode(): value for name, value in query.items()},
        timestamp=timestamp,
        expiration_in_seconds=expiration,
        headers_to_sign=[name.encode() for name in headers_to_sign],
    )
    return signed.decode()


def _sdk_style_request(
    style: str, emulator: Emulator, http: httpx.Client, *, secret_key: str
) -> httpx.Response:
    """Sign as the named SDK does and send as its HTTP stack would."""
    host_with_port = emulator.base_url.removeprefix("http://")
    bare_host = host_with_port.rpartition(":")[0]
    now = time.time()
    date = canonical_time(now)
    body = {"taskId": "amemt-hkkf5y9e64j8"}
    if style == "node":
        content = json.dumps(body, separators=(",", ":")).encode()
        wire = {"Content-Type": "application/json", "x-bce-date": date}
        signed = {**wire, "Host": host_with_port, "Content-Length": str(len(content))}
        names = ["content-length", "content-type", "host", "x-bce-date"]
        expiration = 1800
    elif style == "go":
        content = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        wire = {
            "Content-Type": "application/json",
            "request-source": "qianfan_go_sdk_v0.0.15",
            "x-bce-date": date,
        }
        signed = {**wire, "Host": bare_host}
        names = ["content-type", "host", "request-source", "x-bce-date"]
        expiration = 300
    else:  # java
        content = json.dumps(body, separators=(",", ":")).encode()
        wire = {"Content-Type": "application/json; charset=UTF-8", "X-Bce-Date": date}
        signed = {"Host": bare_host, "X-Bce-Date": date}
        names = ["host", "x-bce-date"]
        expiration = 1800
    authorization = _bce_authorization(
        path="/v2/eval",
        query={"Action": DESCRIBE},
        headers=signed,
        headers_to_sign=names,
        timestamp=now,
        expiration=expiration,
        secret_key=secret_key,
    )
    return http.post(
        f"{emulator.base_url}/v2/eval?Action={DESCRIBE}",
        content=content,
        headers={**wire, "Authorization": authorization},
    )


@pytest.mark.parametrize("style", ["node", "go", "java"])
def test_official_signer_in_each_sdk_style(
    emulator: Emulator, http: httpx.Client, style: str
) -> None:
    response = _sdk_style_request(style, emulator, http, secret_key="test-sk-alpha")

    assert response.status_code == 200, response.text
    assert response.json()["result"]["taskId"] == "amemt-hkkf5y9e64j8"


@pytest.mark.parametrize("style", ["node", "go", "java"])
def test_official_signer_with_a_wrong_secret(
    emulator: Emulator, http: httpx.Client, style: str
) -> None:
    response = _sdk_style_request(style, emulator, http, secret_key="wrong")

    assert response.status_code == 403
    assert response.headers["x-bce-error-code"] == "SignatureDoesNotMatch"


def test_official_signer_with_the_documented_default_set(
    emulator: Emulator, http: httpx.Client
) -> None:
    # An empty signed-header list: the server applies the default set itself.
    content = b'{"taskId":"amemt-hkkf5y9e64j8"}'
    headers = {
        "Host": emulator.base_url.removeprefix("http://"),
        "Content-Type": "application/json",
        "Content-Length": str(len(content)),
        "x-bce-date": canonical_time(time.time()),
    }
    authorization = _bce_authorization(
        path="/v2/eval",
        query={"Action": DESCRIBE},
        headers=headers,
        headers_to_sign=[],
        timestamp=time.time(),
        expiration=1800,
    )
    assert "//" in authorization

    response = http.post(
        f"{emulator.base_url}/v2/eval?Action={DESCRIBE}",
        content=content,
        headers={**headers, "Authorization": authorization},
    )

    assert response.status_code == 200, response.text
