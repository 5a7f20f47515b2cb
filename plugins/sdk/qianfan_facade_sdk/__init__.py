"""The ``sdk`` backend: the official ``qianfan`` SDK's console path."""

from __future__ import annotations

from typing import TYPE_CHECKING

import facade

if TYPE_CHECKING:
    from qianfan_facade_sdk._backend import SdkBackend

__all__ = ["facade_register_backends"]


def _build() -> SdkBackend:
    # Importing qianfan costs about a third of a second; pay it only on use.
    from qianfan_facade_sdk._backend import SdkBackend

    return SdkBackend()


@facade.hookimpl
def facade_register_backends(register: facade.Register) -> None:
    """Register the ``sdk`` backend."""
    register(
        "sdk",
        _build,
        description="the official qianfan SDK's console path (call_action's builder)",
        requires="qianfan",
    )
