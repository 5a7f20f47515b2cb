"""Shared fixtures: a clean environment and a fresh plugin registry per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from facade import PluginRegistry
from facade.emulator import Emulator

#: Two key pairs the shared emulator accepts; tests sign with either.
KEYS_A = ("test-ak-aaaaaaaaaaaa", "test-sk-aaaaaaaaaaaaaaaa")
KEYS_B = ("test-ak-bbbbbbbbbbbb", "test-sk-bbbbbbbbbbbbbbbb")
BACKENDS = ("http", "sdk")

# Variables the facade or the official SDK read; no test inherits them.
_ENVIRONMENT = (
    "QIANFAN_FACADE_BACKEND",
    "QIANFAN_CONSOLE_API_BASE_URL",
    "QIANFAN_ACCESS_KEY",
    "QIANFAN_SECRET_KEY",
    "QIANFAN_AK",
    "QIANFAN_SK",
    "QIANFAN_DOT_ENV_CONFIG_FILE",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every variable that would change which keys or backend are used."""
    for name in _ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def registry() -> Iterator[PluginRegistry]:
    """A registry of its own, loading the installed entry points once."""
    yield PluginRegistry()


@pytest.fixture
def no_plugins_registry() -> PluginRegistry:
    """A registry that loads no entry points; tests register plugins by hand."""
    return PluginRegistry(load_entry_points=False)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A running emulator that accepts the KEYS_A and KEYS_B pairs."""
    with Emulator(credentials=dict([KEYS_A, KEYS_B])) as running:
        yield running


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    """Each installed built-in backend in turn."""
    return str(request.param)


class FakeTime:
    """A clock and sleeps that advance only when a client pauses."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """Both clients wait on a fake clock: pauses are recorded, not slept."""
    import facade

    fake = FakeTime()
    for cls in (facade.Client, facade.AsyncClient):
        monkeypatch.setattr(cls, "_clock", staticmethod(fake.clock))
    monkeypatch.setattr(facade.Client, "_sleep", staticmethod(fake.sleep))
    monkeypatch.setattr(
        facade.AsyncClient, "_async_sleep", staticmethod(fake.async_sleep)
    )
    return fake
