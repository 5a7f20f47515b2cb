"""Checks every public entry point runs before anything is sent.

Each check raises :class:`~facade.InvalidInputError` naming the parameter at
fault and what would be accepted. Messages never repeat a credential.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from facade._errors import InvalidInputError

__all__ = [
    "check_action",
    "check_body",
    "check_credential",
    "check_endpoint",
    "check_export_id",
    "check_route",
    "check_timeout",
]

_ROUTE_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")
_ACTION = re.compile(r"[A-Za-z0-9]+")
_MAX_BODY_DEPTH = 32
_MAX_ID = 2**63 - 1
_MAX_ID_LENGTH = 128
_MAX_ROUTE_LENGTH = 1024
_MAX_ACTION_LENGTH = 128
# Python's JSON refuses to print ints past 4,300 digits; stay well inside.
_MAX_INT_BITS = 4096
_HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MAX_SECONDS = 30 * 24 * 3600
_SHOWN = 40


def _shown(value: object) -> str:
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (value.bit_length() > 64)
    ):
        return f"an int of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}...'"


def check_export_id(export_id: object, parameter: str = "export_id") -> int | str:
    """Return a valid export task id: a positive int or a non-empty string id."""
    if isinstance(export_id, bool) or not isinstance(export_id, int | str):
        raise InvalidInputError(
            f"{parameter} must be a positive int or a string id such as "
            f"'amemt-hkkf5y9e64j8', not {type(export_id).__name__} "
            f"{_shown(export_id)}",
            parameter=parameter,
        )
    if isinstance(export_id, int):
        if not 0 < export_id <= _MAX_ID:
            raise InvalidInputError(
                f"{parameter} must be a positive int up to {_MAX_ID}, got "
                f"{_shown(export_id)}",
                parameter=parameter,
            )
        return export_id
    if not export_id.strip():
        raise InvalidInputError(
            f"{parameter} must not be empty or only whitespace", parameter=parameter
        )
    if (
        not export_id.isascii()
        or any(ch.isspace() for ch in export_id)
        or not export_id.isprintable()
    ):
        raise InvalidInputError(
            f"{parameter} must be ASCII without whitespace or control characters, "
            f"got {_shown(export_id)}",
            parameter=parameter,
        )
    if len(export_id) > _MAX_ID_LENGTH:
        raise InvalidInputError(
            f"{parameter} is longer than {_MAX_ID_LENGTH} characters",
            parameter=parameter,
        )
    return export_id


def check_route(route: object) -> str:
    """Return a console route: an absolute path of unreserved characters."""
    if not isinstance(route, str) or not route:
        raise InvalidInputError(
            f"route must be a non-empty string such as '/v2/eval', got {_shown(route)}",
            parameter="route",
        )
    if len(route) > _MAX_ROUTE_LENGTH:
        raise InvalidInputError(
            f"route is longer than {_MAX_ROUTE_LENGTH} characters", parameter="route"
        )
    if not route.startswith("/"):
        raise InvalidInputError(
            f"route must start with '/', got {_shown(route)}", parameter="route"
        )
    if "?" in route or "#" in route:
        raise InvalidInputError(
            "route must not carry a query or fragment; pass the V2 action as 'action'",
            parameter="route",
        )
    segments = route[1:].split("/")
    if any(segment in {".", ".."} for segment in segments):
        raise InvalidInputError(
            "route must not contain '.' or '..' segments", parameter="route"
        )
    if any(not _ROUTE_SEGMENT.fullmatch(segment) for segment in segments):
        raise InvalidInputError(
            "route segments must be non-empty and use only letters, digits and "
            f"'-._~', got {_shown(route)}",
            parameter="route",
        )
    return route


def check_action(action: object) -> str | None:
    """Return a V2 action name (letters and digits) or ``None``."""
    if action is None:
        return None
    if (
        not isinstance(action, str)
        or len(action) > _MAX_ACTION_LENGTH
        or not _ACTION.fullmatch(action)
    ):
        raise InvalidInputError(
            "action must be None or a name of up to 128 ASCII letters and digits "
            "such as "
            f"'DescribeEvalResultExportTask', got {_shown(action)}",
            parameter="action",
        )
    return action


def check_body(body: object) -> dict[str, Any]:
    """Return a JSON object body, refusing values JSON cannot carry faithfully."""
    if body is None:
        return {}
    if not isinstance(body, Mapping):
        raise InvalidInputError(
            f"body must be a JSON object (a dict), not {type(body).__name__}",
            parameter="body",
        )
    plain: dict[str, Any] = _json_value(body, "body", 0)
    return plain


def _json_value(value: Any, where: str, depth: int) -> Any:
    """Check one value and return it as plain dicts and lists."""
    if depth > _MAX_BODY_DEPTH:
        raise InvalidInputError(
            f"body nests deeper than {_MAX_BODY_DEPTH} levels at {where}",
            parameter="body",
        )
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if value.bit_length() > _MAX_INT_BITS:
            raise InvalidInputError(
                f"body holds an int of {value.bit_length()} bits at {where}; it "
                "cannot be sent as JSON",
                parameter="body",
            )
        return value
    if isinstance(value, str):
        _check_text(value, where)
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(
                f"body holds {value!r} at {where}; JSON has no NaN or infinity",
                parameter="body",
            )
        return value
    if isinstance(value, Mapping):
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(
                    f"body keys must be strings, got {type(key).__name__} at {where}",
                    parameter="body",
                )
            _check_text(key, where)
            plain[key] = _json_value(item, f"{where}.{key}", depth + 1)
        return plain
    if isinstance(value, list | tuple):
        return [
            _json_value(item, f"{where}[{index}]", depth + 1)
            for index, item in enumerate(value)
        ]
    raise InvalidInputError(
        f"body holds a {type(value).__name__} at {where}; only JSON types "
        "(dict, list, str, int, float, bool, None) can be sent",
        parameter="body",
    )


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(
            f"body holds text at {where} that is not valid Unicode (a lone "
            "surrogate); it cannot be sent as UTF-8 JSON",
            parameter="body",
        ) from None


def check_endpoint(endpoint: object) -> str:
    """Return an endpoint as ``scheme://host[:port]`` with no trailing slash."""
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise InvalidInputError(
            "endpoint must be an http or https URL such as "
            "'https://qianfan.baidubce.com'",
            parameter="endpoint",
        )
    try:
        parts = urlsplit(endpoint.strip())
        port = parts.port
    except ValueError:
        raise InvalidInputError(
            f"endpoint is not a valid URL: {_shown(endpoint)}", parameter="endpoint"
        ) from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidInputError(
            "endpoint must be an http or https URL with a host, got "
            f"{_shown(endpoint)}",
            parameter="endpoint",
        )
    host = parts.hostname
    if not _valid_host(host):
        raise InvalidInputError(
            "endpoint host must be an IP address or an ASCII host name (write an "
            f"international name in its xn-- form), got {_shown(host)}",
            parameter="endpoint",
        )
    if parts.username or parts.password:
        raise InvalidInputError(
            "endpoint must not carry user information", parameter="endpoint"
        )
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise InvalidInputError(
            "endpoint must be scheme://host[:port] without a path, query or "
            f"fragment, got {_shown(endpoint)}",
            parameter="endpoint",
        )
    netloc = parts.hostname if port is None else f"{parts.hostname}:{port}"
    if ":" in parts.hostname:
        netloc = f"[{parts.hostname}]" + ("" if port is None else f":{port}")
    return f"{parts.scheme}://{netloc}"


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def check_timeout(timeout: object, parameter: str = "timeout") -> float:
    """Return a positive, finite number of seconds."""
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise InvalidInputError(
            f"{parameter} must be a number of seconds, not {type(timeout).__name__}",
            parameter=parameter,
        )
    if isinstance(timeout, int) and timeout > _MAX_SECONDS:
        timeout = math.inf  # huge ints overflow float(); refuse them below
    if not math.isfinite(timeout) or timeout <= 0 or timeout > _MAX_SECONDS:
        raise InvalidInputError(
            f"{parameter} must be a positive number of seconds up to "
            f"{_MAX_SECONDS}, got {timeout!r}",
            parameter=parameter,
        )
    return float(timeout)


def check_credential(value: object, parameter: str, variable: str) -> str:
    """Return a usable access or secret key without ever echoing it."""
    if not isinstance(value, str):
        raise InvalidInputError(
            f"{parameter} must be a string (or set {variable})", parameter=parameter
        )
    if not value:
        raise InvalidInputError(
            f"{parameter} is empty; pass it or set {variable}", parameter=parameter
        )
    if (
        not value.isascii()
        or any(ch.isspace() for ch in value)
        or not (value.isprintable())
    ):
        raise InvalidInputError(
            f"{parameter} contains whitespace, control or non-ASCII characters; "
            "check how it was copied (the value is not shown)",
            parameter=parameter,
        )
    if "/" in value and parameter == "access_key":
        raise InvalidInputError(
            f"{parameter} must not contain '/' (the value is not shown)",
            parameter=parameter,
        )
    return value
