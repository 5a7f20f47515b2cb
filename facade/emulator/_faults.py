"""Fault injection: make the emulator slow, flaky or wrong on purpose.

A :class:`FaultPlan` holds the faults an emulator injects into the requests
that need a signature: every request but downloads, including those to paths
the emulator does not serve. Each such request asks the plan, before it is
authenticated, recorded and routed, which faults apply.
The plan consults its faults in the order they were added: every ``delay`` and
``skew`` that applies takes effect, and the first other fault that applies
replaces the console's answer. Later answering faults are not consulted, so
their counts and random draws are kept for the next request.

Faults are written compactly, as the command line takes them::

    KIND[:ARGUMENT][@COUNT | %RATE]

    delay:SECONDS          wait before answering (the connection is dropped
                           if the emulator stops meanwhile)
    status:CODE            that HTTP status (400-599) with a V2 error body
    rate-limit[:SECONDS]   HTTP 429 TooManyRequests, with Retry-After SECONDS
    error-code:CODE        a console error code: a number answers V1 routes
                           with HTTP 200 and an error_code body and V2 routes
                           with the matching V2 status and code; a name such
                           as AccessDenied answers with a V2 body on any route
    html                   HTTP 502 with a gateway's HTML page
    html200                HTTP 200 with an HTML page
    empty                  HTTP 200 with an empty body
    truncated              the real answer, its full Content-Length declared
                           but only half of its body sent; then the
                           connection closes (the request is routed)
    drop                   close the connection without answering (the
                           request is not routed)
    skew:SECONDS           judge the signature's time as if the emulator's
                           clock were SECONDS ahead (negative: behind)

``@COUNT`` applies the fault to the next COUNT requests only, ``%RATE`` to
each request with probability RATE (0 < RATE <= 1); without either it applies
to every request.
"""

from __future__ import annotations

import dataclasses
import http
import logging
import math
import random
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from facade.emulator._auth import MISMATCH_MESSAGE, UNKNOWN_KEY_MESSAGE
from facade.emulator._http import (
    Request,
    Response,
    json_response,
    new_log_id,
    v2_error,
)

__all__ = ["NO_INJECTION", "Fault", "FaultPlan", "Injection"]

_logger = logging.getLogger(__name__)

FaultArgument = float | int | str
_CODE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_SPEC = re.compile(
    r"(?P<kind>[^:@%]*)(?::(?P<argument>[^@%]*))?(?:(?P<mark>[@%])(?P<schedule>.*))?",
    re.DOTALL,
)

_GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>gateway</center>\r\n"
    "</body>\r\n</html>\r\n"
).encode("ascii")
_SIGN_IN_PAGE = (
    '<!DOCTYPE html>\n<html lang="zh-CN">\n<head><meta charset="utf-8">'
    "<title>百度智能云 - 登录</title></head>\n<body>\n"
    "<p>Please sign in to continue to the Qianfan console.</p>\n</body>\n</html>\n"
).encode()
_HTML_CONTENT_TYPE = "text/html; charset=utf-8"

# Numeric console codes: the V1 message, then the V2 status and code that say
# the same (so the facade classifies both generations alike).
_NUMERIC_CODES: dict[int, tuple[str, int, str]] = {
    1: ("Unknown error", 500, "InternalError"),
    2: ("Service temporarily unavailable", 503, "ServiceUnavailable"),
    3: ("Unsupported openapi method", 404, "NotFound"),
    4: ("Open api request limit reached", 429, "TooManyRequests"),
    6: ("No permission to access data", 403, "AccessDenied"),
    13: ("Get service token failed", 403, "AccessDenied"),
    14: ("IAM Certification failed", 403, "AccessDenied"),
    15: ("app not exists or create failed", 503, "ServiceUnavailable"),
    17: ("Open api daily request limit reached", 400, "QuotaLimitExceeded"),
    18: ("Open api qps request limit reached", 429, "TooManyRequests"),
    19: ("Open api total request limit reached", 400, "QuotaLimitExceeded"),
    100: ("Invalid parameter", 403, "AccessDenied"),
    110: ("Access token invalid or no longer valid", 403, "AccessDenied"),
    111: ("Access token expired", 403, "AccessDenied"),
    336000: ("Internal error", 500, "InternalError"),
    336001: ("Invalid argument", 400, "InvalidRequestArgumentError"),
    336002: ("Invalid JSON", 400, "InvalidRequestArgumentError"),
    336003: ("Invalid parameter", 400, "InvalidRequestArgumentError"),
    336004: ("Permission denied", 400, "PermissionDeniedError"),
    336005: ("API name does not exist", 400, "InvalidAction"),
    336100: ("Server high load", 503, "ServiceUnavailable"),
    336101: ("Invalid HTTP method", 400, "InvalidRequestArgumentError"),
    336104: ("Invalid argument", 400, "InvalidRequestArgumentError"),
    336105: ("Invalid argument in user settings", 400, "InvalidRequestArgumentError"),
    336501: ("Rate limit reached for RPM", 429, "TooManyRequests"),
    336502: ("Rate limit reached for TPM", 429, "TooManyRequests"),
    500000: ("Console internal error", 500, "InternalError"),
    500001: ("param invalid", 400, "InvalidRequestArgumentError"),
}

# Named (V2 and gateway) codes: status and message. Others get HTTP 400.
_NAMED_CODES: dict[str, tuple[int, str]] = {
    "AccessDenied": (403, "Access denied."),
    "IdempotentParameterMismatch": (400, "The idempotent parameters do not match."),
    "InappropriateJSON": (400, "The JSON is well formed but not appropriate."),
    "InternalError": (500, "We encountered an internal error. Please try again."),
    "InvalidAccessKeyId": (403, UNKNOWN_KEY_MESSAGE),
    "InvalidAction": (400, "The Action is not supported."),
    "InvalidHTTPAuthHeader": (400, "The Authorization header is malformed."),
    "InvalidHTTPRequest": (400, "The HTTP request is malformed."),
    "InvalidRequestArgumentError": (400, "An argument is invalid."),
    "InvalidURI": (400, "The URI is invalid."),
    "InvalidVersion": (404, "The version is invalid."),
    "MalformedJSON": (400, "The JSON is malformed."),
    "NotFound": (404, "Not found."),
    "OptInRequired": (403, "The service is not activated."),
    "PermissionDeniedError": (400, "Permission denied."),
    "PreconditionFailed": (412, "A precondition failed."),
    "QuotaLimitExceeded": (400, "The quota limit is exceeded."),
    "QuotaLimitExpired": (400, "The quota has expired."),
    "RequestExpired": (400, "Request has expired."),
    "RequestLimitExceeded": (429, "The request limit is exceeded."),
    "ResourceNotFound": (404, "The resource does not exist."),
    "ServiceUnavailable": (503, "The service is temporarily unavailable."),
    "SignatureDoesNotMatch": (403, MISMATCH_MESSAGE),
    "TooManyRequests": (429, "Too many requests."),
}
# The codes the gateway also puts in X-Bce-Error-* headers, as the emulator's
# own authentication does.
_GATEWAY_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "InvalidHTTPAuthHeader",
        "RequestExpired",
        "SignatureDoesNotMatch",
    }
)


def _seconds(value: FaultArgument, *, negative: bool) -> float:
    if isinstance(value, bool):
        raise ValueError("a number of seconds, not a boolean")
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number of seconds") from None
    if not math.isfinite(seconds) or (seconds < 0 and not negative):
        raise ValueError(f"{value!r} is not a finite number of seconds >= 0")
    return seconds


# A delay must fit a thread wait; a skew must keep the clock inside datetime's
# range. A day and ten years are far beyond any test's need.
_MAX_DELAY = 24 * 3600.0
_MAX_SKEW = 10 * 365 * 24 * 3600.0


def _delay(value: FaultArgument) -> float:
    seconds = _seconds(value, negative=False)
    if seconds > _MAX_DELAY:
        raise ValueError(f"{value!r} is longer than a day ({_MAX_DELAY:g} s)")
    return seconds


def _skew(value: FaultArgument) -> float:
    seconds = _seconds(value, negative=True)
    if abs(seconds) > _MAX_SKEW:
        raise ValueError(f"{value!r} is beyond ten years either way")
    return seconds


def _status(value: FaultArgument) -> int:
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.isascii() and text.isdigit():
        text = int(text)
    if isinstance(text, bool) or not isinstance(text, int) or not 400 <= text <= 599:
        raise ValueError(f"{value!r} is not an HTTP status from 400 to 599")
    return text


def _code(value: FaultArgument) -> int | str:
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.isascii() and text.isdigit():
        text = int(text)
    if isinstance(text, str) and _CODE_NAME.fullmatch(text):
        return text
    if isinstance(text, bool) or not isinstance(text, int) or text <= 0:
        raise ValueError(
            f"{value!r} is not a positive console code or a code name such as "
            "AccessDenied"
        )
    return text


class _Kind(NamedTuple):
    usage: str
    convert: Callable[[FaultArgument], FaultArgument] | None = None
    required: bool = False


_KINDS: dict[str, _Kind] = {
    "delay": _Kind("delay:SECONDS", _delay, required=True),
    "status": _Kind("status:CODE", _status, required=True),
    "rate-limit": _Kind("rate-limit[:SECONDS]", _delay),
    "error-code": _Kind("error-code:CODE", _code, required=True),
    "html": _Kind("html"),
    "html200": _Kind("html200"),
    "empty": _Kind("empty"),
    "truncated": _Kind("truncated"),
    "drop": _Kind("drop"),
    "skew": _Kind("skew:SECONDS", _skew, required=True),
}
# Kinds that change how a request is handled rather than answer it.
_MODIFIERS = frozenset({"delay", "skew"})
_VALID = (
    f"valid faults: {', '.join(kind.usage for kind in _KINDS.values())}, each "
    "optionally followed by @COUNT or %RATE (0 < RATE <= 1)"
)


def _number_text(value: FaultArgument) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Fault:
    """One fault: its ``kind``, its ``argument`` and when it applies.

    ``argument`` is the kind's number or code (text is converted, as in
    ``Fault("delay", "2.5")``); ``count`` limits the fault to that many
    requests and ``rate`` applies it with that probability. ``ValueError`` is
    raised for an unknown kind, a missing or wrong argument, or a bad schedule.
    """

    KINDS: ClassVar[tuple[str, ...]] = tuple(_KINDS)
    SPEC_HELP: ClassVar[str] = _VALID

    kind: str
    argument: FaultArgument | None = None
    count: int | None = None
    rate: float | None = None

    def __post_init__(self) -> None:
        kind = _KINDS.get(self.kind)
        if kind is None:
            raise ValueError(f"unknown fault kind {self.kind!r}; {_VALID}")
        if self.argument is None:
            if kind.required:
                raise ValueError(f"{self.kind} needs an argument, as {kind.usage}")
        elif kind.convert is None:
            raise ValueError(f"{self.kind} takes no argument")
        else:
            try:
                argument = kind.convert(self.argument)
            except ValueError as exc:
                raise ValueError(f"{kind.usage}: {exc}") from None
            object.__setattr__(self, "argument", argument)
        if self.count is not None and (
            isinstance(self.count, bool)
            or not isinstance(self.count, int)
            or self.count < 1
        ):
            raise ValueError(f"the count must be a whole number >= 1: {self.count!r}")
        if self.rate is not None:
            if self.count is not None:
                raise ValueError("give a count or a rate, not both")
            if isinstance(self.rate, bool) or not (
                isinstance(self.rate, (int, float)) and 0 < self.rate <= 1
            ):
                raise ValueError(f"the rate must lie in (0, 1], not {self.rate!r}")
            object.__setattr__(self, "rate", float(self.rate))

    def __str__(self) -> str:
        """The fault as a spec that :meth:`parse` reads back."""
        text = self.kind
        if self.argument is not None:
            text += f":{_number_text(self.argument)}"
        if self.count is not None:
            text += f"@{self.count}"
        elif self.rate is not None:
            text += f"%{_number_text(self.rate)}"
        return text

    @classmethod
    def parse(cls, text: str) -> Fault:
        """Read one ``KIND[:ARGUMENT][@COUNT|%RATE]`` spec.

        Raises ``ValueError`` naming the spec and listing the valid faults.
        """
        if not isinstance(text, str):
            raise ValueError(f"a fault spec is a string, not {type(text).__name__}")
        match = _SPEC.fullmatch(text.strip())
        if match is None or not match["kind"]:
            raise ValueError(f"bad fault spec {text!r}; {_VALID}")
        count: int | None = None
        rate: float | None = None
        schedule = (match["schedule"] or "").strip()
        try:
            if "@" in schedule or "%" in schedule:
                raise ValueError("give @COUNT or %RATE, not both")
            if match["mark"] == "@":
                if not (schedule.isascii() and schedule.isdigit()):
                    raise ValueError(f"the count {schedule!r} is not a whole number")
                count = int(schedule)
            elif match["mark"] == "%":
                try:
                    rate = float(schedule)
                except ValueError:
                    raise ValueError(f"the rate {schedule!r} is not a number") from None
            return cls(match["kind"].strip(), match["argument"], count, rate)
        except ValueError as exc:
            message = str(exc)
            if _VALID not in message:
                message = f"{message}; {_VALID}"
            raise ValueError(f"bad fault spec {text!r}: {message}") from None


@dataclass(frozen=True)
class Injection:
    """What the plan decided for one request.

    ``delay`` is the total wait in seconds, ``skew`` how far the emulator's
    clock is off when it judges the signature, and ``answer`` the fault that
    replaces the console's answer, if any.
    """

    delay: float = 0.0
    skew: float = 0.0
    answer: Fault | None = None

    def respond(self, request: Request, proceed: Callable[[], Response]) -> Response:
        """The answer to send: the fault's, or ``proceed()`` (the console's)."""
        fault = self.answer
        if fault is None:
            return proceed()
        if fault.kind == "truncated":
            whole = proceed()
            return dataclasses.replace(whole, cut_after=len(whole.body) // 2)
        return _answer(fault, _is_v2(request.path))


NO_INJECTION = Injection()


@dataclass
class _Rule:
    fault: Fault  # without its schedule, which the rule keeps
    remaining: int | None
    rate: float | None
    draws: random.Random | None

    def fires(self) -> bool:
        if self.remaining is not None:
            self.remaining -= 1
            return True
        if self.rate is not None and self.draws is not None:
            return self.draws.random() < self.rate
        return True


class FaultPlan:
    """The faults an emulator injects, consulted in the order they were added.

    Thread-safe: requests on many connections may draw from one plan while a
    test adds or clears faults.
    """

    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()

    def add(
        self,
        fault: Fault | str,
        *,
        count: int | None = None,
        rate: float | None = None,
        seed: int | None = None,
    ) -> Fault:
        """Inject ``fault`` (a :class:`Fault` or its spec); return it as planned.

        ``count`` applies it to the next that many requests, ``rate`` to each
        request with that probability, drawn from a generator seeded with
        ``seed`` (reproducible when given); either replaces the fault's own
        ``@COUNT`` or ``%RATE``. With neither, it applies to every request.
        """
        if isinstance(fault, str):
            fault = Fault.parse(fault)
        elif not isinstance(fault, Fault):
            raise TypeError(
                f"add() takes a Fault or a spec string, not {type(fault).__name__}"
            )
        if count is not None or rate is not None:
            fault = dataclasses.replace(fault, count=count, rate=rate)
        rule = _Rule(
            fault=dataclasses.replace(fault, count=None, rate=None),
            remaining=fault.count,
            rate=fault.rate,
            draws=random.Random(seed) if fault.rate is not None else None,
        )
        with self._lock:
            self._rules.append(rule)
        _logger.debug("planned fault %s", fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._rules.clear()

    @property
    def faults(self) -> tuple[Fault, ...]:
        """The faults still planned, each with the count it has left."""
        with self._lock:
            return tuple(
                dataclasses.replace(rule.fault, count=rule.remaining, rate=rule.rate)
                for rule in self._rules
            )

    def __len__(self) -> int:
        with self._lock:
            return len(self._rules)

    @staticmethod
    def parse_many(texts: Iterable[str]) -> list[Fault]:
        """Read several specs as :meth:`Fault.parse` does; stop at the first bad one."""
        if isinstance(texts, str):
            raise TypeError("parse_many takes a list of fault specs, not one string")
        return [Fault.parse(text) for text in texts]

    def draw(self, request: Request) -> Injection:
        """Decide which faults apply to ``request``, using up counts and draws."""
        applied: list[Fault] = []
        delay = skew = 0.0
        answer: Fault | None = None
        with self._lock:
            for rule in list(self._rules):
                modifier = rule.fault.kind in _MODIFIERS
                if not modifier and answer is not None:
                    continue
                if not rule.fires():
                    continue
                if rule.remaining == 0:
                    self._rules.remove(rule)
                fault = rule.fault
                applied.append(fault)
                if fault.kind == "delay":
                    delay += float(fault.argument or 0)
                elif fault.kind == "skew":
                    skew += float(fault.argument or 0)
                else:
                    answer = fault
        for fault in applied:
            _logger.info(
                "injecting fault %s into %s %s", fault, request.method, request.path
            )
        if not applied:
            return NO_INJECTION
        return Injection(delay=delay, skew=skew, answer=answer)


def _is_v2(path: str) -> bool:
    return path == "/v2" or path.startswith("/v2/")


def _answer(fault: Fault, v2: bool) -> Response:
    """The response an answering fault sends in place of the console's."""
    if fault.kind == "status":
        status = int(fault.argument or 500)
        return v2_error(status, *_status_error(status))
    if fault.kind == "rate-limit":
        headers = {}
        message = "Too many requests."
        if fault.argument is not None:
            retry_after = _number_text(fault.argument)
            headers["Retry-After"] = retry_after
            message = f"Too many requests; retry after {retry_after} seconds."
        return v2_error(429, "TooManyRequests", message, headers=headers)
    if fault.kind == "error-code":
        return _code_error(fault.argument or 1, v2)
    if fault.kind == "html":
        return Response(502, {"Content-Type": _HTML_CONTENT_TYPE}, _GATEWAY_PAGE)
    if fault.kind == "html200":
        return Response(200, {"Content-Type": _HTML_CONTENT_TYPE}, _SIGN_IN_PAGE)
    if fault.kind == "empty":
        return Response(200, {"Content-Type": "application/json; charset=utf-8"})
    if fault.kind == "drop":
        return Response(0, drop=True)
    raise AssertionError(f"{fault.kind} does not answer")  # _MODIFIERS keeps these out


def _status_error(status: int) -> tuple[str, str]:
    if status == 500:
        return "InternalError", "We encountered an internal error. Please try again."
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        return "UnknownError", f"HTTP {status}."
    return re.sub(r"[^A-Za-z0-9]", "", phrase.title()), f"{phrase}."


def _code_error(code: FaultArgument, v2: bool) -> Response:
    if isinstance(code, str):
        status, message = _NAMED_CODES.get(code, (400, f"{code}."))
        headers = {}
        if code in _GATEWAY_CODES:
            headers = {"X-Bce-Error-Code": code, "X-Bce-Error-Message": message}
        return v2_error(status, code, message, headers=headers)
    number = int(code)
    message, status, name = _NUMERIC_CODES.get(number, _unlisted(number))
    if not v2:
        payload = {"error_code": number, "error_msg": message, "log_id": new_log_id()}
        return json_response(200, payload)
    return v2_error(status, name, f"{message} (error_code {number}).")


def _unlisted(code: int) -> tuple[str, int, str]:
    if 336000 < code < 336100:
        return "Invalid argument", 400, "InvalidRequestArgumentError"
    return "Unknown error", 500, "InternalError"
