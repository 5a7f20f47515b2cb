"""qianfan-facade: a typed, pluggable facade over Baidu Qianfan's console API.

Start with :class:`Client`; backends are chosen by name (``"http"``,
``"sdk"`` or a third party's) and found through the ``qianfan_facade``
entry-point group. Errors are drawn in :mod:`facade._errors`.
"""

from __future__ import annotations

import logging

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
from facade._models import (
    ApiVersion,
    ConsoleResponse,
    ExportState,
    ExportTask,
    StorageKind,
)
from facade._plugins import BackendInfo, PluginRegistry
from facade._retry import RetryPolicy
from facade._export import read_export_rows
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

logging.getLogger(__name__).addHandler(logging.NullHandler())
