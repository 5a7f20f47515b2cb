"""Plugin loading and backend choice.

Plugins are found through the ``qianfan_facade`` entry-point group, loaded
lazily on the first backend look-up and only once per registry. Built-in
backends are ordinary plugins; the facade imports none of them by name.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from typing import Any

import pluggy

from facade import hookspecs
from facade._backend import AsyncBackend, Backend
from facade._errors import BackendNotFoundError, ConfigurationError
from facade.hookspecs import BackendFactory, hookimpl

__all__ = ["BackendChoice", "BackendInfo", "PluginRegistry", "default_registry"]

logger = logging.getLogger(__name__)

ENV_BACKEND = "QIANFAN_FACADE_BACKEND"
_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_PREFERRED = ("http", "sdk")
_INSTALL_HINT = (
    "install one with 'pip install ./plugins/http' or 'pip install ./plugins/sdk' "
    "from the qianfan-facade source tree, or any distribution that registers "
    "the 'qianfan_facade' entry point"
)


@dataclass(frozen=True)
class BackendInfo:
    """A registered backend: its name, factory and where it came from."""

    name: str
    factory: BackendFactory
    description: str
    requires: str
    plugin: str


@dataclass(frozen=True)
class BackendChoice:
    """Which backend a client uses and why (``argument``, ``environment`` ...)."""

    name: str
    reason: str


class _DefaultChoice:
    """The facade's own, last-resort answer to ``facade_default_backend``."""

    @hookimpl(trylast=True)
    def facade_default_backend(self, installed: list[str]) -> str | None:
        for name in _PREFERRED:
            if name in installed:
                return name
        return installed[0] if installed else None


class PluginRegistry:
    """A plugin manager plus the backends its plugins registered.

    Tests build a fresh one each; applications use :func:`default_registry`.
    """

    def __init__(self, *, load_entry_points: bool = True) -> None:
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        self.manager.register(_DefaultChoice(), name="facade-default-choice")
        self._load_entry_points = load_entry_points
        self._backends: dict[str, BackendInfo] | None = None
        self._lock = threading.Lock()

    def register_plugin(self, plugin: object, name: str | None = None) -> None:
        """Register a plugin object or module by hand (tests, embedding apps)."""
        with self._lock:
            self.manager.register(plugin, name=name)
            self._backends = None

    def backends(self) -> dict[str, BackendInfo]:
        """Load plugins once and return the registered backends by name."""
        with self._lock:
            if self._backends is None:
                self._backends = self._load()
            return dict(self._backends)

    def _load(self) -> dict[str, BackendInfo]:
        if self._load_entry_points:
            self.manager.load_setuptools_entrypoints(hookspecs.PROJECT)
            self._load_entry_points = False
        self.manager.check_pending()
        found: dict[str, BackendInfo] = {}
        for impl in self.manager.hook.facade_register_backends.get_hookimpls():
            plugin_name = self.manager.get_name(impl.plugin) or repr(impl.plugin)

            def register(
                name: str,
                factory: BackendFactory,
                *,
                description: str = "",
                requires: str = "",
                _plugin: str = plugin_name,
            ) -> None:
                _check_registration(name, factory, _plugin, found)
                found[name] = BackendInfo(name, factory, description, requires, _plugin)

            logger.debug("calling facade_register_backends of plugin %s", plugin_name)
            offered = {"register": register}
            impl.function(*(offered[arg] for arg in impl.argnames))
        logger.debug("backends registered: %s", ", ".join(sorted(found)) or "none")
        return found

    def choose(self, requested: str | None) -> BackendChoice:
        """Pick a backend: the argument, then the environment, then the default."""
        installed = sorted(self.backends())
        if requested is not None:
            return BackendChoice(
                self._known(requested, installed, "argument"), "argument"
            )
        from_env = os.environ.get(ENV_BACKEND, "").strip()
        if from_env:
            name = self._known(
                from_env, installed, f"environment variable {ENV_BACKEND}"
            )
            return BackendChoice(name, f"environment variable {ENV_BACKEND}")
        if not installed:
            raise BackendNotFoundError(
                f"no qianfan-facade backend is installed; {_INSTALL_HINT}",
                requested="",
                installed=[],
            )
        name = self.manager.hook.facade_default_backend(installed=installed)
        if name not in installed:
            raise ConfigurationError(
                f"facade_default_backend chose {name!r}, which is not installed "
                f"(installed: {', '.join(installed)})"
            )
        return BackendChoice(name, "default among installed backends")

    def build(self, name: str) -> Backend | AsyncBackend:
        """Create a backend instance by name."""
        info = self.backends()[name]
        backend = info.factory()
        if not isinstance(backend, Backend | AsyncBackend):
            raise ConfigurationError(
                f"backend {name!r} from plugin {info.plugin} built "
                f"{type(backend).__name__}, which has neither send()/close() nor "
                "asend()/aclose()"
            )
        return backend

    @staticmethod
    def _known(name: str, installed: list[str], source: str) -> str:
        if name in installed:
            return name
        listed = ", ".join(installed) or "none"
        raise BackendNotFoundError(
            f"backend {name!r} (from {source}) is not installed; installed: "
            f"{listed}; {_INSTALL_HINT}",
            requested=name,
            installed=installed,
        )


def _check_registration(
    name: Any, factory: Any, plugin: str, found: dict[str, BackendInfo]
) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigurationError(
            f"plugin {plugin} registered backend name {name!r}; names are "
            "lower-case letters, digits, '-' and '_', starting with a letter"
        )
    if not callable(factory):
        raise ConfigurationError(
            f"plugin {plugin} registered backend {name!r} with a factory that is "
            "not callable"
        )
    if name in found:
        raise ConfigurationError(
            f"backend {name!r} is registered twice: by plugin {found[name].plugin} "
            f"and by plugin {plugin}"
        )


_default: PluginRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> PluginRegistry:
    """The process's registry, created on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = PluginRegistry()
        return _default
