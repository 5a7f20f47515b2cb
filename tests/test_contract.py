"""The contract harness: bundled cassettes, matching rules, failures it must catch."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from vcr.request import Request

import facade
from facade import PluginRegistry, RawResponse
from facade.contract import (
    BUNDLED_SCENARIOS,
    Scenario,
    bundled_cassettes,
    console_vcr,
    record_scenario,
    replay_cassette,
    run_contract,
)
from facade.contract._cassettes import _console_query, _json_body
from facade.emulator import Emulator
from tests.conftest import BACKENDS, KEYS_A

CASSETTES = sorted(bundled_cassettes().glob("*.yaml"))


def test_every_bundled_scenario_has_a_cassette() -> None:
    assert {path.stem for path in CASSETTES} >= {s.name for s in BUNDLED_SCENARIOS}


@pytest.mark.parametrize("cassette", CASSETTES, ids=lambda p: p.stem)
def test_cassette_replays_identically_through_every_backend(cassette: Path) -> None:
    replays = {
        (name, mode): replay_cassette(cassette, name, mode=mode)
        for name in BACKENDS
        for mode in ("sync", "async")
    }
    for key, replay in replays.items():
        assert replay.problem is None, (key, replay.problem)
        assert replay.fully_played, key
    reference = replays["http", "sync"].outcome
    assert reference is not None
    for key, replay in replays.items():
        assert replay.outcome == reference, key


def test_the_recorded_flow_walks_every_state() -> None:
    replay = replay_cassette(
        bundled_cassettes() / "v2_export_flow.yaml", "sdk", mode="async"
    )
    assert replay.outcome is not None and replay.outcome.value is not None
    flow = replay.outcome.value
    assert flow["created"]["state"] == "queued"
    assert flow["finished"]["state"] == "succeeded"
    assert flow["finished"]["export_content"] == ["prompt", "system"]
    assert flow["rows"] and set(flow["rows"][0]) >= {"prompt", "system"}
    text = (bundled_cassettes() / "v2_export_flow.yaml").read_text()
    assert [s for s in ("Queued", "Running", "Succeeded") if s in text] == [
        "Queued",
        "Running",
        "Succeeded",
    ]


def test_the_documented_example_replays_to_the_documented_values() -> None:
    replay = replay_cassette(bundled_cassettes() / "v1_status_done_storage.yaml", "sdk")
    assert replay.outcome is not None and replay.outcome.value is not None
    value = replay.outcome.value
    assert value["task_id"] == "amemt-hkkf5y9e64j8"
    assert value["bucket"] == "modelrepo-test"
    assert value["state"] == "succeeded" and value["raw_state"] == "Done"


@pytest.mark.parametrize("cassette", CASSETTES, ids=lambda p: p.stem)
def test_no_secret_in_any_cassette(cassette: Path) -> None:
    text = cassette.read_text()
    for needle in (
        "bce-auth-v1",
        "authorization",
        "Authorization",
        "x-bce-date",
        "request-source",
    ):
        assert needle not in text, needle
    data = yaml.safe_load(text)
    for interaction in data["interactions"]:
        assert set(interaction["request"]["headers"]) <= {"content-type"}


def _request(uri: str, body: bytes, **headers: str) -> Request:
    return Request("POST", uri, body, headers)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("http://a:1/v2/eval?Action=X", "http://b:2/v2/eval?Action=X"),
        ("http://a/wenxinworkshop/x?Action=", "http://a/wenxinworkshop/x"),
    ],
)
def test_query_matcher_ignores_only_host_port_and_empty_action(
    left: str, right: str
) -> None:
    _console_query(_request(left, b""), _request(right, b""))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("http://a/v2/eval?Action=X", "http://a/v2/eval?Action=Y"),
        ("http://a/v2/eval?Action=X", "http://a/v2/eval"),
        ("http://a/v2/eval?Action=X", "http://a/v2/eval?Action=X&extra=1"),
    ],
)
def test_query_matcher_tells_actions_apart(left: str, right: str) -> None:
    with pytest.raises(AssertionError):
        _console_query(_request(left, b""), _request(right, b""))


def test_body_matcher_ignores_spacing_and_key_order_only() -> None:
    _json_body(
        _request("http://a/", b'{"a": 1, "b": [1, 2]}'),
        _request("http://a/", b'{"b":[1,2],"a":1}'),
    )
    with pytest.raises(AssertionError):
        _json_body(
            _request("http://a/", b'{"a": 1}'), _request("http://a/", b'{"a": 2}')
        )
    with pytest.raises(AssertionError):
        _json_body(
            _request("http://a/", b'{"a": 1}'), _request("http://a/", b'{"a": "1"}')
        )


def _edited(tmp_path: Path, name: str, edit: object) -> Path:
    source = bundled_cassettes() / f"{name}.yaml"
    target = tmp_path / source.name
    data = yaml.safe_load(source.read_text())
    edit(data)  # type: ignore[operator]
    target.write_text(yaml.safe_dump(data))
    return target


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_changed_route_or_body_does_not_match(tmp_path: Path, backend: str) -> None:
    def change_body(data: dict) -> None:  # type: ignore[type-arg]
        data["interactions"][0]["request"]["body"] = '{"exportID": 97}'

    def change_route(data: dict) -> None:  # type: ignore[type-arg]
        request = data["interactions"][0]["request"]
        request["uri"] = request["uri"].replace("/export/info", "/export/detail")

    for edit in (change_body, change_route):
        replay = replay_cassette(
            _edited(tmp_path, "v1_status_done_storage", edit), backend
        )
        assert replay.outcome is None and not replay.fully_played
        assert "not in the cassette" in (replay.problem or ""), replay.problem


def test_unplayed_interactions_fail_the_contract(tmp_path: Path) -> None:
    def duplicate(data: dict) -> None:  # type: ignore[type-arg]
        data["interactions"].append(data["interactions"][0])

    path = _edited(tmp_path, "v1_status_pending", duplicate)
    report = run_contract([path])
    assert not report.ok
    assert "not played" in report.results[0].cell("http")


def test_a_backend_that_normalizes_differently_is_caught(tmp_path: Path) -> None:
    """A backend that alters the answer shows up field by field."""
    registry = PluginRegistry()
    registry.backends()

    class Tampering:
        name = "tampering"

        def __init__(self) -> None:
            from qianfan_facade_http._backend import HttpBackend

            self._inner = HttpBackend()

        def send(self, request: facade.ConsoleRequest) -> RawResponse:
            raw = self._inner.send(request)
            return RawResponse(
                raw.status,
                raw.headers,
                raw.content.replace(b"modelrepo-test", b"other-bucket"),
            )

        def close(self) -> None:
            self._inner.close()

    class Plugin:
        @facade.hookimpl
        def facade_register_backends(self, register: facade.Register) -> None:
            register("tampering", Tampering)

    registry.register_plugin(Plugin())
    report = run_contract(
        [bundled_cassettes() / "v1_status_done_storage.yaml"],
        ["http", "tampering"],
        registry=registry,
    )
    assert not report.ok
    assert report.results[0].differences["tampering"] == [
        "value.bucket",
        "value.raw.volumeId",
    ]


def test_recording_writes_nothing_when_the_run_breaks(
    tmp_path: Path, emulator: Emulator
) -> None:
    existing = tmp_path / "kept.yaml"
    existing.write_text("original")
    scenario = Scenario(
        name="kept", operation="export_status", arguments={"export_id": 96}
    )

    class Boom(RuntimeError):
        pass

    original = facade.Client.export_status

    def exploding(self: facade.Client, *args: object, **kwargs: object) -> object:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        raise Boom

    facade.Client.export_status = exploding  # type: ignore[method-assign]
    try:
        with pytest.raises(Boom):
            record_scenario(
                scenario,
                existing,
                endpoint=emulator.base_url,
                access_key=KEYS_A[0],
                secret_key=KEYS_A[1],
            )
    finally:
        facade.Client.export_status = original  # type: ignore[method-assign]
    assert existing.read_text() == "original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.yaml"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_re_recording_reproduces_the_bundled_outcomes(
    tmp_path: Path, emulator: Emulator, backend: str
) -> None:
    """Recording through either backend gives what the committed cassettes replay."""
    for scenario in BUNDLED_SCENARIOS:
        emulator.faults.clear()
        for fault in scenario.faults:
            emulator.faults.add(fault)
        live = record_scenario(
            scenario,
            tmp_path / f"{scenario.name}.yaml",
            backend=backend,
            endpoint=emulator.base_url,
            access_key=KEYS_A[0],
            secret_key=KEYS_A[1],
        )
        text = (tmp_path / f"{scenario.name}.yaml").read_text()
        assert KEYS_A[0] not in text and KEYS_A[1] not in text
        committed = replay_cassette(
            bundled_cassettes() / f"{scenario.name}.yaml", backend
        ).outcome
        assert committed is not None
        mine = {k: _untimed(v) for k, v in live.flat().items() if not _volatile(k)}
        theirs = {
            k: _untimed(v) for k, v in committed.flat().items() if not _volatile(k)
        }
        assert mine == theirs, scenario.name


_VOLATILE = re.compile(
    r"(request_id|download_url|downloadUrl|task_id|taskId|exportIDStr|exportID|"
    r"export_id|path|exportPath|file)$"
)


def _untimed(value: object) -> object:
    """Messages that quote the clock (RequestExpired) differ by recording time."""
    if isinstance(value, str):
        return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", value)
    return value


def _volatile(key: str) -> bool:
    """Ids, ports and paths a new recording legitimately changes."""
    return bool(_VOLATILE.search(key))


def test_contract_command_dir_argument_and_missing_paths(tmp_path: Path) -> None:
    shutil.copy(bundled_cassettes() / "v1_status_fail.yaml", tmp_path)
    report = run_contract([tmp_path])
    assert report.ok and len(report.results) == 1
    with pytest.raises(facade.ConfigurationError, match="no cassette"):
        run_contract([tmp_path / "absent"])
    with pytest.raises(facade.ConfigurationError, match="no cassettes found"):
        run_contract(
            [tmp_path / "empty"] if (tmp_path / "empty").mkdir() is None else []
        )


def test_console_vcr_is_usable_by_users(tmp_path: Path, emulator: Emulator) -> None:
    """The same matchers work in a user's own vcrpy set-up."""
    recorder = console_vcr(record_mode="once")
    path = tmp_path / "mine.yaml"
    with recorder.use_cassette(str(path)):
        facade.Client(
            "http",
            endpoint=emulator.base_url,
            access_key=KEYS_A[0],
            secret_key=KEYS_A[1],
        ).export_status(98)
    before = len(emulator.received)
    with recorder.use_cassette(str(path)):
        task = facade.Client(
            "sdk", endpoint=emulator.base_url, access_key="x", secret_key="y"
        ).export_status(98)
    assert task.state is facade.ExportState.QUEUED
    assert len(emulator.received) == before


def test_an_edited_response_fails_even_a_single_backend_contract(
    tmp_path: Path,
) -> None:
    def flip(data: dict) -> None:  # type: ignore[type-arg]
        response = data["interactions"][0]["response"]["body"]
        response["string"] = response["string"].replace('"Fail"', '"Done"')

    path = _edited(tmp_path, "v1_status_fail", flip)
    report = run_contract([path], ["http"])
    assert not report.ok
    assert "value.state" in report.results[0].differences["http"]
    assert "value.raw_state" in report.results[0].differences["http"]


def _drop_first(data: dict) -> None:  # type: ignore[type-arg]
    del data["interactions"][0]


def _swap_first_two(data: dict) -> None:  # type: ignore[type-arg]
    first, second = data["interactions"][:2]
    data["interactions"][:2] = [second, first]


def _forget_outcome(data: dict) -> None:  # type: ignore[type-arg]
    del data["metadata"]["qianfan_facade_outcome"]


def _extra_outcome_key(data: dict) -> None:  # type: ignore[type-arg]
    data["metadata"]["qianfan_facade_outcome"]["surprise"] = 1


@pytest.mark.parametrize(
    ("name", "edit", "expected"),
    [
        ("v1_retry_then_done", _drop_first, "interactions differ"),
        ("v1_export_flow", _swap_first_two, "interactions differ"),
        ("v1_status_fail", _forget_outcome, "no recorded outcome"),
    ],
    ids=["deleted-retry", "reordered-flow", "missing-outcome"],
)
def test_tampered_cassettes_fail_a_single_backend_contract(
    tmp_path: Path, name: str, edit: object, expected: str
) -> None:
    report = run_contract([_edited(tmp_path, name, edit)], ["http"])
    assert not report.ok
    assert expected in report.results[0].cell("http")


def test_an_outcome_with_unknown_keys_is_refused(tmp_path: Path) -> None:
    path = _edited(tmp_path, "v1_status_fail", _extra_outcome_key)
    with pytest.raises(facade.ConfigurationError, match="outcome is invalid"):
        run_contract([path], ["http"])


def test_a_recording_that_captured_nothing_keeps_the_old_cassette(
    tmp_path: Path,
) -> None:
    kept = tmp_path / "kept.yaml"
    kept.write_text("original")
    scenario = Scenario(
        name="kept", operation="export_status", arguments={"export_id": 96}
    )
    with pytest.raises(facade.ConfigurationError, match="captured no HTTP interaction"):
        record_scenario(
            scenario,
            kept,
            endpoint="http://127.0.0.1:9",
            access_key=KEYS_A[0],
            secret_key=KEYS_A[1],
        )
    assert kept.read_text() == "original"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.yaml"]
