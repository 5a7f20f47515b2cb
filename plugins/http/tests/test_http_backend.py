"""The http backend's own promises: never imports the SDK, signs what it sends."""

from __future__ import annotations

import subprocess
import sys

import facade
from facade.emulator import Emulator

KEYS = ("http-test-ak-0000", "http-test-sk-0000")


def test_never_imports_the_sdk() -> None:
    code = (
        "import sys, facade\n"
        "client = facade.Client('http', access_key='a', secret_key='b')\n"
        "from qianfan_facade_http import _backend\n"
        "print('qianfan' in sys.modules, 'requests' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_signs_host_type_length_and_date(tmp_path: object) -> None:
    with Emulator(credentials=dict([KEYS])) as emulator:
        with facade.Client(
            "http", endpoint=emulator.base_url, access_key=KEYS[0], secret_key=KEYS[1]
        ) as client:
            client.export_status("amemt-hkkf5y9e64j8")
        received = emulator.received[-1]
    assert received.auth_ok and received.access_key == KEYS[0]
    assert received.query == []
    assert received.body == b'{"exportID":"amemt-hkkf5y9e64j8"}'
    assert received.headers["user-agent"].startswith("qianfan-facade-http/")
