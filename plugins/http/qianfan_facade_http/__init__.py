"""The ``http`` backend: httpx plus the facade's own bce-auth-v1 signer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import facade

if TYPE_CHECKING:
    from qianfan_facade_http._backend import HttpBackend

__all__ = ["facade_register_backends"]


def _build() -> HttpBackend:
    # httpx is imported only when a client actually uses this backend.
    from qianfan_facade_http._backend import HttpBackend

    return HttpBackend()


@facade.hookimpl
def facade_register_backends(register: facade.Register) -> None:
    """Register the ``http`` backend."""
    register(
        "http",
        _build,
        description="raw HTTP: httpx and the facade's bce-auth-v1 signer",
        requires="httpx",
    )
