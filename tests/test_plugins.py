"""Plugin discovery, backend choice and the third-party path."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import facade
from facade import PluginRegistry, RawResponse
from facade.emulator import Emulator
from tests.conftest import KEYS_A

THIRD_PARTY_BACKEND = '''
"""A third-party backend in about thirty lines: httpx and the facade's signer."""
import time

import httpx

import facade


class EchoBackend:
    name = "thirdparty"

    def __init__(self):
        self._client = httpx.Client()

    def send(self, request):
        body = request.json_bytes()
        headers = facade.signed_headers(
            access_key=request.credentials.access_key,
            secret_key=request.credentials.secret_key,
            url=request.url,
            content=body,
            timestamp=time.time(),
        )
        headers["x-third-party"] = "yes"
        answer = self._client.post(
            request.url, content=body, headers=headers, timeout=request.timeout
        )
        return facade.RawResponse.build(
            answer.status_code, answer.headers, answer.content
        )

    def close(self):
        self._client.close()


@facade.hookimpl
def facade_register_backends(register):
    register("thirdparty", EchoBackend, description="a third party's backend")
'''


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"{name},sha256={digest.decode()},{len(data)}"


def build_wheel(folder: Path) -> Path:
    """Build a real wheel of a throwaway backend distribution, by hand."""
    dist_info = "thirdparty_backend-0.1.dist-info"
    files = {
        "thirdparty_backend/__init__.py": THIRD_PARTY_BACKEND.encode(),
        f"{dist_info}/METADATA": (
            b"Metadata-Version: 2.1\nName: thirdparty-backend\nVersion: 0.1\n"
        ),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
        f"{dist_info}/entry_points.txt": (
            b"[qianfan_facade]\nthirdparty = thirdparty_backend\n"
        ),
    }
    record = [_record_line(name, data) for name, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    wheel = folder / "thirdparty_backend-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return wheel


def test_third_party_backend_is_discovered_and_used(
    tmp_path: Path, emulator: Emulator
) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--no-deps",
            "--target",
            str(target),
            str(build_wheel(tmp_path)),
        ],
        check=True,
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(target),
        "QIANFAN_ACCESS_KEY": KEYS_A[0],
        "QIANFAN_SECRET_KEY": KEYS_A[1],
    }
    listed = subprocess.run(
        [sys.executable, "-m", "facade", "backends"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "thirdparty" in listed.stdout
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "facade",
            "export",
            "status",
            "96",
            "--backend",
            "thirdparty",
            "--endpoint",
            emulator.base_url,
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["task_id"] == "amemt-hkkf5y9e64j8"
    assert emulator.received[-1].headers.get("x-third-party") == "yes"


def test_installed_backends_are_found_through_entry_points(
    registry: PluginRegistry,
) -> None:
    found = registry.backends()
    assert {"http", "sdk"} <= set(found)
    assert found["http"].plugin == "http"
    assert found["sdk"].requires == "qianfan"


def test_choice_argument_then_environment_then_default(
    registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert registry.choose(None) == facade._plugins.BackendChoice(
        "http", "default among installed backends"
    )
    monkeypatch.setenv("QIANFAN_FACADE_BACKEND", "sdk")
    chosen = registry.choose(None)
    assert (chosen.name, chosen.reason) == (
        "sdk",
        "environment variable QIANFAN_FACADE_BACKEND",
    )
    assert registry.choose("http").reason == "argument"


def test_unknown_backend_lists_what_is_installed(registry: PluginRegistry) -> None:
    with pytest.raises(facade.BackendNotFoundError) as info:
        registry.choose("grpc")
    assert info.value.requested == "grpc"
    assert "http" in info.value.installed and "sdk" in info.value.installed
    assert "installed: http, sdk" in str(info.value)
    assert "pip install" in str(info.value)


def test_unknown_backend_from_environment_says_so(
    registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QIANFAN_FACADE_BACKEND", "nope")
    with pytest.raises(facade.BackendNotFoundError, match="QIANFAN_FACADE_BACKEND"):
        facade.Client(access_key="a", secret_key="b", registry=registry)


def test_no_backend_installed_says_how_to_install(
    no_plugins_registry: PluginRegistry,
) -> None:
    with pytest.raises(facade.BackendNotFoundError, match="pip install ./plugins/http"):
        no_plugins_registry.choose(None)


class _Plugin:
    def __init__(self, name: str, factory: object) -> None:
        self.name, self.factory = name, factory

    @facade.hookimpl
    def facade_register_backends(self, register: facade.Register) -> None:
        register(self.name, self.factory, description="test")


def test_hand_registered_plugin_is_used(no_plugins_registry: PluginRegistry) -> None:
    backend = facade.MockBackend(
        lambda request: RawResponse.from_json({"requestId": "x", "result": 1})
    )
    no_plugins_registry.register_plugin(_Plugin("memory", lambda: backend))
    client = facade.Client(
        "memory", access_key="a", secret_key="b", registry=no_plugins_registry
    )
    assert client.backend_name == "memory"
    assert client.call_action("/v2/eval", "X").result == 1


@pytest.mark.parametrize("name", ["", "Upper", "has space", 3])
def test_bad_backend_names_are_refused(
    no_plugins_registry: PluginRegistry, name: object
) -> None:
    no_plugins_registry.register_plugin(_Plugin(name, lambda: None))  # type: ignore[arg-type]
    with pytest.raises(facade.ConfigurationError, match="registered backend name"):
        no_plugins_registry.backends()


def test_duplicate_backend_names_are_refused(
    no_plugins_registry: PluginRegistry,
) -> None:
    no_plugins_registry.register_plugin(_Plugin("twin", lambda: None), name="one")
    no_plugins_registry.register_plugin(_Plugin("twin", lambda: None), name="two")
    with pytest.raises(facade.ConfigurationError, match="registered twice"):
        no_plugins_registry.backends()


def test_misspelled_hook_fails_at_load(no_plugins_registry: PluginRegistry) -> None:
    class Misspelled:
        @facade.hookimpl
        def facade_register_backend(self, register: facade.Register) -> None:
            """One letter short of the real hook."""

    no_plugins_registry.register_plugin(Misspelled())
    with pytest.raises(Exception, match="unknown hook"):
        no_plugins_registry.backends()


def test_factory_must_build_a_backend(no_plugins_registry: PluginRegistry) -> None:
    no_plugins_registry.register_plugin(_Plugin("broken", lambda: object()))
    with pytest.raises(facade.ConfigurationError, match="neither send"):
        facade.Client(
            "broken", access_key="a", secret_key="b", registry=no_plugins_registry
        )


def test_default_choice_hook_can_be_overridden(
    no_plugins_registry: PluginRegistry,
) -> None:
    class PreferB:
        @facade.hookimpl
        def facade_default_backend(self, installed: list[str]) -> str | None:
            return "b" if "b" in installed else None

    no_plugins_registry.register_plugin(_Plugin("a", lambda: None), name="a")
    no_plugins_registry.register_plugin(_Plugin("b", lambda: None), name="b")
    assert no_plugins_registry.choose(None).name == "a"
    no_plugins_registry.register_plugin(PreferB())
    assert no_plugins_registry.choose(None).name == "b"
