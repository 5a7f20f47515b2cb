"""The sdk backend's own promises: SDK wire shape, SDK config untouched, no leaks."""

from __future__ import annotations

import logging

import pytest

import facade
from facade.emulator import Emulator

KEYS = ("sdk-test-ak-0000", "sdk-test-sk-0000")


@pytest.fixture
def emulator() -> Emulator:
    with Emulator(credentials=dict([KEYS])) as running:
        yield running  # type: ignore[misc]


def _client(emulator: Emulator, secret: str = KEYS[1]) -> facade.Client:
    return facade.Client(
        "sdk", endpoint=emulator.base_url, access_key=KEYS[0], secret_key=secret
    )


def test_sends_what_the_documented_call_action_sends(emulator: Emulator) -> None:
    with _client(emulator) as client:
        client.export_status(96)
    received = emulator.received[-1]
    assert received.query == [("Action", "")]  # the SDK's stray ?Action= on V1
    assert received.headers["request-source"].startswith("qianfan_py_sdk_v")
    assert received.body == b'{"exportID": 96}'  # requests' json= spacing


def test_leaves_the_sdk_process_config_alone(emulator: Emulator) -> None:
    import qianfan

    config = qianfan.get_config()
    before = (config.ACCESS_KEY, config.SECRET_KEY, config.CONSOLE_API_BASE_URL)
    with _client(emulator) as client:
        client.export_status(96)
    assert before == (config.ACCESS_KEY, config.SECRET_KEY, config.CONSOLE_API_BASE_URL)


def test_sdk_log_records_carry_no_signature_or_key(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.DEBUG), _client(emulator, "a-wrong-secret") as client,
        pytest.raises(facade.AuthenticationError),
    ):
        client.export_status(96)
    sdk_records = [
        r for r in caplog.records if r.name.startswith(("qianfan", "baidubce"))
    ]
    assert any("403" in r.getMessage() for r in sdk_records)  # the SDK did log
    for record in caplog.records:
        text = record.getMessage()
        assert "bce-auth-v1/" + KEYS[0] not in text
        assert KEYS[0] not in text and "a-wrong-secret" not in text
