"""The command line, run as a subprocess the way a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from facade.emulator import Emulator
from tests.conftest import KEYS_A

CLI = [sys.executable, "-m", "facade"]


def run(
    *args: str, keys: tuple[str, str] = KEYS_A, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "QIANFAN_ACCESS_KEY": keys[0],
        "QIANFAN_SECRET_KEY": keys[1],
        **env,
    }
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=environment, timeout=60
    )


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """``qianfan-facade emulator --port 0`` as a user starts it."""
    env = {
        **os.environ,
        "QIANFAN_ACCESS_KEY": KEYS_A[0],
        "QIANFAN_SECRET_KEY": KEYS_A[1],
    }
    process = subprocess.Popen(
        [*CLI, "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    yield url
    process.terminate()
    assert process.wait(timeout=10) == 0


def test_status_is_the_same_json_on_both_backends(served: str) -> None:
    shown = {}
    for backend in ("sdk", "http"):
        result = run(
            "export",
            "status",
            "96",
            "--backend",
            backend,
            "--endpoint",
            served,
            "--json",
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""  # no SDK warnings or log lines
        shown[backend] = json.loads(result.stdout)
    for value in shown.values():
        value.pop("request_id")
    assert shown["sdk"] == shown["http"]
    text = json.dumps(shown["sdk"])
    for expected in (
        "amemt-hkkf5y9e64j8",
        "modelrepo-test",
        "cl_test23_305_1704338430470.csv",
    ):
        assert expected in text


@pytest.mark.parametrize("backend", ["sdk", "http"])
def test_wrong_secret_key_exits_with_an_auth_error_and_no_secret(
    served: str, backend: str
) -> None:
    keys = (KEYS_A[0], "a-wrong-secret-key")
    result = run(
        "export", "status", "96", "--backend", backend, "--endpoint", served, keys=keys
    )
    assert result.returncode == 4
    assert result.stderr.startswith("error: authentication failed")
    assert len(result.stderr.strip().splitlines()) == 1
    output = result.stdout + result.stderr
    for secret in (*keys, "bce-auth-v1", "Traceback"):
        assert secret not in output


@pytest.mark.parametrize("export_id", ["0", "", "a b", "-3"])
def test_bad_ids_exit_with_a_validation_error_and_send_nothing(export_id: str) -> None:
    with Emulator(credentials=dict([KEYS_A])) as emulator:
        result = run(
            "export", "status", "--endpoint", emulator.base_url, "--", export_id
        )
        assert emulator.received == []
    assert result.returncode == 2
    assert result.stderr.startswith("error: export_id")
    assert "Traceback" not in result.stderr


def test_unknown_task_and_unknown_backend(served: str) -> None:
    result = run("export", "status", "424242", "--endpoint", served)
    assert result.returncode == 6 and "does not exist" in result.stderr
    result = run("export", "status", "96", "--backend", "nope", "--endpoint", served)
    assert result.returncode == 3
    assert "installed: http, sdk" in result.stderr and "Traceback" not in result.stderr


def test_missing_keys_name_the_variables(served: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QIANFAN_")}
    result = subprocess.run(
        [*CLI, "export", "status", "96", "--endpoint", served],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 3
    assert (
        "QIANFAN_ACCESS_KEY" in result.stderr and "QIANFAN_SECRET_KEY" in result.stderr
    )


def test_backends_lists_both_and_the_default() -> None:
    result = run("backends")
    assert result.returncode == 0
    assert "http" in result.stdout and "sdk" in result.stdout
    assert "chosen: http (default among installed backends)" in result.stderr
    chosen = run("backends", QIANFAN_FACADE_BACKEND="sdk")
    assert "chosen: sdk (environment variable QIANFAN_FACADE_BACKEND)" in chosen.stderr
    broken = run("backends", QIANFAN_FACADE_BACKEND="nope")
    assert broken.returncode == 3
    assert "http" in broken.stdout and "sdk" in broken.stdout  # still listed
    assert broken.stderr.startswith("error: backend 'nope'")


def test_usage_mistakes_are_one_line_errors(served: str) -> None:
    bad_body = run("call", "/v2/eval", "X", "--body", "not json", "--endpoint", served)
    assert bad_body.returncode == 2 and bad_body.stderr.startswith(
        "error: --body is not JSON"
    )
    unknown = run("record", "--out", "/tmp/unused-folder", "no_such_scenario")
    assert unknown.returncode == 2 and "unknown scenario" in unknown.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("QIANFAN_")}
    no_keys = subprocess.run(
        [*CLI, "emulator"], capture_output=True, text=True, env=env, timeout=30
    )
    assert no_keys.returncode == 3 and no_keys.stderr.startswith(
        "error: the emulator needs"
    )


def test_contract_command_on_the_bundled_cassettes() -> None:
    result = run("contract")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all identical" in result.stdout
    assert "v1_status_done_storage" in result.stdout


def test_call_any_route(served: str) -> None:
    result = run(
        "call",
        "/wenxinworkshop/modelrepo/eval/result/export/info",
        "--body",
        '{"exportID": 98}',
        "--endpoint",
        served,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["result"]["state"] == "Pending"
    bad = run("call", "/wenxinworkshop/x/../y", "--endpoint", served)
    assert bad.returncode == 2 and "error: route" in bad.stderr


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("backend", ["sdk", "http"])
def test_create_wait_download(
    tmp_path, served: str, version: str, backend: str
) -> None:  # type: ignore[no-untyped-def]
    evaluation = "305" if version == "v1" else "ame-vwgs2ybhyhfv"
    common = ["--endpoint", served, "--api-version", version, "--backend", backend]
    created = run("export", "create", evaluation, *common, "--json")
    assert created.returncode == 0, created.stderr
    task_id = json.loads(created.stdout)["task_id"]
    waited = run("export", "wait", task_id, *common, "--poll-interval", "0.05")
    assert waited.returncode == 0, waited.stderr
    assert "succeeded" in waited.stderr and "running" in waited.stderr
    done = run("export", "download", task_id, "--to", str(tmp_path), *common)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == [f"{task_id}.zip"]


def test_wait_on_a_failing_task_and_a_passing_deadline() -> None:
    from facade.emulator import StatePlan

    with Emulator(
        credentials=dict([KEYS_A]), plan=StatePlan(1, 1, "failed")
    ) as failing:
        created = run(
            "export", "create", "305", "--endpoint", failing.base_url, "--json"
        )
        task_id = json.loads(created.stdout)["task_id"]
        waited = run(
            "export",
            "wait",
            task_id,
            "--endpoint",
            failing.base_url,
            "--poll-interval",
            "0.05",
        )
    assert waited.returncode == 9
    assert "failed" in waited.stderr and "Traceback" not in waited.stderr
    with Emulator(credentials=dict([KEYS_A]), plan=StatePlan(1, 10_000)) as slow:
        created = run("export", "create", "305", "--endpoint", slow.base_url, "--json")
        task_id = json.loads(created.stdout)["task_id"]
        waited = run(
            "export",
            "wait",
            task_id,
            "--endpoint",
            slow.base_url,
            "--poll-interval",
            "0.1",
            "--wait-timeout",
            "0.5",
        )
    assert waited.returncode == 9
    assert "did not finish within 0.5s; last state running" in waited.stderr


def test_download_of_a_bucket_export_says_where(tmp_path, served: str) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "export", "download", "96", "--to", str(tmp_path), "--endpoint", served
    )
    assert result.returncode == 9
    assert "bucket modelrepo-test" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content",
    [
        "not: [valid yaml",
        "- a list\n- at the top\n",
        "interactions: nope\n",
        "interactions: []\nmetadata:\n  qianfan_facade_scenario:\n    name: x\n"
        "    operation: launch_rockets\n",
        "interactions: []\nmetadata:\n  qianfan_facade_scenario:\n    name: x\n"
        "    operation: export_status\n    arguments: {nope: 1}\n",
    ],
    ids=["not-yaml", "list", "bad-interactions", "unknown-operation", "bad-arguments"],
)
def test_contract_on_malformed_cassettes_is_one_clear_line(
    tmp_path, content: str
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "broken.yaml").write_text(content)
    (tmp_path / "folder.yaml").mkdir()
    result = run("contract", str(tmp_path))
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and "broken.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_download_to_names_a_folder_made_if_missing(tmp_path, served: str) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "export", "download", "97", "--to", str(tmp_path / "new"), "--endpoint", served
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "new").is_dir()
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["amemt-seedtask0097.zip"]
    (tmp_path / "keep.txt").write_text("mine")
    clash = run(
        "export",
        "download",
        "97",
        "--to",
        str(tmp_path / "keep.txt"),
        "--endpoint",
        served,
    )
    assert clash.returncode == 2 and (tmp_path / "keep.txt").read_text() == "mine"


def test_bad_keys_from_the_environment_are_configuration_errors(served: str) -> None:
    result = run("export", "status", "96", "--endpoint", served, keys=(" ", "x"))
    assert result.returncode == 3
    assert result.stderr.startswith("error: QIANFAN_ACCESS_KEY:")


def test_verbose_logs_one_line_per_call(served: str) -> None:
    result = run("-v", "export", "status", "96", "--endpoint", served)
    lines = [line for line in result.stderr.splitlines() if line.startswith("INFO")]
    assert len(lines) == 1 and "console call backend=http" in lines[0]
