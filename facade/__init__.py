"""qianfan-facade: a typed, pluggable facade over Baidu Qianfan's console API.

Start with :class:`Client`; backends are chosen by name (``"http"``,
``"sdk"`` or a third party's) and found through the ``qianfan_facade``
entry-point group. Errors are drawn in :mod:`facade._errors`.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from facade._async_client import AsyncClient
    from facade._backend import (
        AsyncBackend,
        Backend,
        ConsoleRequest,
        Credentials,
        MockBackend,
        RawResponse,
    )
    from facade._client import Client
    from facade._enums import ApiVersion, ExportState, StorageKind
    from facade._errors import (
        AuthenticationError,
        BackendNotFoundError,
        ConfigurationError,
        ConsoleError,
        ExportError,
        ExportFailedError,
        ExportTimeoutError,
        FacadeError,
        InvalidInputError,
        InvalidParameterError,
        InvalidResponseError,
        NotFoundError,
        RateLimitedError,
        ServerBusyError,
        ServerError,
        TransportError,
        TransportTimeoutError,
    )
    from facade._export import read_export_rows
    from facade._models import ConsoleResponse, ExportTask
    from facade._plugins import BackendInfo, PluginRegistry
    from facade._retry import RetryPolicy
    from facade._signing import signed_headers
    from facade.hookspecs import BackendFactory, Register, hookimpl

__all__ = [
    "ApiVersion",
    "AsyncBackend",
    "AsyncClient",
    "AuthenticationError",
    "Backend",
    "BackendFactory",
    "BackendInfo",
    "BackendNotFoundError",
    "Client",
    "ConfigurationError",
    "ConsoleError",
    "ConsoleRequest",
    "ConsoleResponse",
    "Credentials",
    "ExportError",
    "ExportFailedError",
    "ExportState",
    "ExportTask",
    "ExportTimeoutError",
    "FacadeError",
    "InvalidInputError",
    "InvalidParameterError",
    "InvalidResponseError",
    "MockBackend",
    "NotFoundError",
    "PluginRegistry",
    "RateLimitedError",
    "RawResponse",
    "Register",
    "RetryPolicy",
    "ServerBusyError",
    "ServerError",
    "StorageKind",
    "TransportError",
    "TransportTimeoutError",
    "__version__",
    "hookimpl",
    "read_export_rows",
    "signed_headers",
]

__version__ = "0.1.0"

# Where each public name lives. Names are imported on first access (PEP 562),
# so ``import facade`` stays cheap: a plugin module that only needs
# ``facade.hookimpl`` does not pay for pydantic, and nothing imports the
# asyncio client until it is used.
_HOMES = {
    "AsyncClient": "facade._async_client",
    "AsyncBackend": "facade._backend",
    "Backend": "facade._backend",
    "ConsoleRequest": "facade._backend",
    "Credentials": "facade._backend",
    "MockBackend": "facade._backend",
    "RawResponse": "facade._backend",
    "Client": "facade._client",
    "AuthenticationError": "facade._errors",
    "BackendNotFoundError": "facade._errors",
    "ConfigurationError": "facade._errors",
    "ConsoleError": "facade._errors",
    "ExportError": "facade._errors",
    "ExportFailedError": "facade._errors",
    "ExportTimeoutError": "facade._errors",
    "FacadeError": "facade._errors",
    "InvalidInputError": "facade._errors",
    "InvalidParameterError": "facade._errors",
    "InvalidResponseError": "facade._errors",
    "NotFoundError": "facade._errors",
    "RateLimitedError": "facade._errors",
    "ServerBusyError": "facade._errors",
    "ServerError": "facade._errors",
    "TransportError": "facade._errors",
    "TransportTimeoutError": "facade._errors",
    "read_export_rows": "facade._export",
    "ApiVersion": "facade._enums",
    "ConsoleResponse": "facade._models",
    "ExportState": "facade._enums",
    "ExportTask": "facade._models",
    "StorageKind": "facade._enums",
    "BackendInfo": "facade._plugins",
    "PluginRegistry": "facade._plugins",
    "RetryPolicy": "facade._retry",
    "signed_headers": "facade._signing",
    "BackendFactory": "facade.hookspecs",
    "Register": "facade.hookspecs",
    "hookimpl": "facade.hookspecs",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


logging.getLogger(__name__).addHandler(logging.NullHandler())
