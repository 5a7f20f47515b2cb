"""The hooks a qianfan-facade plugin implements; read this as the reference.

A plugin is a module announced in the ``qianfan_facade`` entry-point group. The
facade loads every such module once, the first time a backend is needed, and
calls the hooks below. Implement them with :data:`facade.hookimpl`; take only
the arguments you use, since hooks grow by new keyword arguments.

Example, in ``my_backend/__init__.py``::

    import facade

    @facade.hookimpl
    def facade_register_backends(register):
        register("mine", _make_backend, description="my transport")

and in ``pyproject.toml``::

    [project.entry-points.qianfan_facade]
    mine = "my_backend"
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from facade._backend import AsyncBackend, Backend

__all__ = ["BackendFactory", "Register", "hookimpl", "hookspec"]

PROJECT = "qianfan_facade"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: Builds a fresh backend for one client; called when the client is created.
BackendFactory = Callable[[], "Backend | AsyncBackend"]

#: ``register(name, factory, *, description="", requires="")``: what
#: :func:`facade_register_backends` receives. ``requires`` names what the backend
#: needs beyond the facade, shown by ``qianfan-facade backends``.
Register = Callable[..., None]


@hookspec
def facade_register_backends(register: Register) -> None:
    """Register the backends this plugin provides.

    Called once, when the facade first loads its plugins. Call ``register``
    once per backend with a unique lower-case name and a factory that takes no
    arguments and returns an object with ``send(request) -> RawResponse`` and
    ``close()`` (and optionally ``asend``/``aclose`` for asyncio). Keep this
    hook cheap: import heavy dependencies inside the factory, not here.
    Return nothing.
    """


@hookspec(firstresult=True)
def facade_default_backend(installed: list[str]) -> str | None:
    """Choose the backend used when neither the caller nor the environment names one.

    Called each time a client is created without a backend name and without
    ``QIANFAN_FACADE_BACKEND``. ``installed`` lists the registered names,
    sorted. Return one of them, or ``None`` to leave the choice to others; the
    first non-``None`` answer wins. The facade's own answer, tried last,
    prefers ``http``, then ``sdk``, then the first name in order.
    """
