"""The public surface is pinned: any change to it shows up as a diff here."""

from __future__ import annotations

import subprocess
import sys

import facade
from facade import hookspecs

EXPECTED_ALL = [
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


def test_all_is_pinned_and_sorted() -> None:
    assert facade.__all__ == EXPECTED_ALL
    assert facade.__all__ == sorted(facade.__all__)
    for name in facade.__all__:
        assert hasattr(facade, name), name


def test_every_hook_is_documented_and_prefixed() -> None:
    hooks = [name for name in dir(hookspecs) if name.startswith("facade_")]
    assert hooks == ["facade_default_backend", "facade_register_backends"]
    for name in hooks:
        doc = getattr(hookspecs, name).__doc__ or ""
        assert "Called" in doc and "Return" in doc, name


def test_import_facade_loads_no_backend_and_no_sdk() -> None:
    code = (
        "import sys, facade\n"
        "heavy = [m for m in ('qianfan', 'httpx', 'requests', 'vcr', "
        "'qianfan_facade_http', 'qianfan_facade_sdk') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_errors_share_one_root() -> None:
    for name in facade.__all__:
        value = getattr(facade, name)
        if isinstance(value, type) and name.endswith("Error"):
            assert issubclass(value, facade.FacadeError), name


def test_building_a_client_defers_pydantic_and_httpx() -> None:
    code = (
        "import sys, facade\n"
        "facade.Client('http', endpoint='http://127.0.0.1:9', access_key='a',"
        " secret_key='b')\n"
        "print(','.join(m for m in ('pydantic', 'httpx', 'qianfan') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
