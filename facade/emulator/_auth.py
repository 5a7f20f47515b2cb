"""Server-side ``bce-auth-v1`` verification, tolerant of every official SDK.

The rules, from the console notes (section 10): sign exactly the headers the
Authorization names, in any order, or the default set plus every ``x-bce-*``
header when it names none; try the ``Host`` value as received and then without
its port (the Go and Java SDKs sign the bare host name); use the raw received
path as the canonical URI; decode the query and re-encode it, leaving out
``authorization``; require ``timestamp <= now + skew`` and
``now <= timestamp + expiration``, and the same of ``x-bce-date`` when sent.

No failure message carries the signature, the secret key or the key id.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import hmac
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from facade._signing import (
    canonical_headers,
    canonical_query,
    canonical_time,
    parse_authorization,
    signature_for,
)
from facade.emulator._http import Request

__all__ = ["AuthFailure", "AuthOutcome", "SignatureVerifier"]

_logger = logging.getLogger(__name__)

UNKNOWN_KEY_MESSAGE = "NotFound, cause: Could not find credential."
MISMATCH_MESSAGE = (
    "SignatureDoesNotMatch, cause: Fail to authn user: Signature does not match"
)
_BCE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class AuthFailure:
    """Why a request was refused: HTTP status, BCE error code, message."""

    status: int
    code: str
    message: str


@dataclass(frozen=True)
class AuthOutcome:
    """The verdict on one request and the key id it claimed, if readable."""

    access_key: str | None
    failure: AuthFailure | None = None

    @property
    def ok(self) -> bool:
        """Whether the request passed authentication."""
        return self.failure is None


_UNKNOWN_KEY = AuthFailure(403, "InvalidAccessKeyId", UNKNOWN_KEY_MESSAGE)
_MISMATCH = AuthFailure(403, "SignatureDoesNotMatch", MISMATCH_MESSAGE)


def _malformed(reason: str) -> AuthFailure:
    return AuthFailure(400, "InvalidHTTPAuthHeader", reason)


class SignatureVerifier:
    """Check ``bce-auth-v1`` signatures against a set of key pairs.

    ``credentials`` maps access key ids to secret keys; ``clock`` returns the
    current POSIX time and ``max_clock_skew`` is how far in the future, in
    seconds, a signing time may lie.
    """

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        max_clock_skew: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credentials = dict(credentials)
        self._max_clock_skew = max_clock_skew
        self._clock = clock

    def verify(self, request: Request) -> AuthOutcome:
        """Judge one request's Authorization header; never raises."""
        header = request.headers.get("authorization", "").strip()
        if not header:
            return AuthOutcome(None, _malformed("The Authorization header is missing."))
        try:
            parts = parse_authorization(header)
        except ValueError:
            return AuthOutcome(
                None,
                _malformed(
                    "The Authorization header is not a bce-auth-v1 string "
                    "(bce-auth-v1/{accessKeyId}/{timestamp}/{expiration}/"
                    "{signedHeaders}/{signature})."
                ),
            )
        secret_key = self._credentials.get(parts.access_key)
        if secret_key is None:
            return AuthOutcome(parts.access_key, _UNKNOWN_KEY)

        now = self._clock()
        # parse_authorization has already checked the timestamp's format.
        signed_at = _parse_bce_time(parts.timestamp) or 0.0
        failure = self._check_window(
            parts.timestamp, signed_at, parts.expiration_seconds, now
        )
        date_header = request.headers.get("x-bce-date")
        if failure is None and date_header is not None:
            dated = _parse_bce_time(date_header.strip())
            if dated is None:
                failure = _malformed(
                    "The x-bce-date header is not a UTC time such as "
                    "2024-06-01T12:00:00Z."
                )
            else:
                failure = self._check_window(
                    date_header.strip(), dated, parts.expiration_seconds, now
                )
        if failure is not None:
            return AuthOutcome(parts.access_key, failure)

        # The prefix is taken as sent, so the key derivation sees its exact bytes.
        prefix = "/".join(header.split("/")[:4])
        expected_signature = parts.signature.encode("utf-8", "surrogateescape")
        for canonical in _canonical_candidates(request, parts.signed_headers):
            computed = signature_for(secret_key, prefix, canonical).encode("ascii")
            if hmac.compare_digest(computed, expected_signature):
                return AuthOutcome(parts.access_key)
        return AuthOutcome(parts.access_key, _MISMATCH)

    def _check_window(
        self, shown: str, signed_at: float, expiration: int, now: float
    ) -> AuthFailure | None:
        if signed_at <= now + self._max_clock_skew and now <= signed_at + expiration:
            return None
        return AuthFailure(
            400,
            "RequestExpired",
            f"Request has expired. Timestamp date is {shown}, server time is "
            f"{canonical_time(now)}, expiration is {expiration} seconds and the "
            f"allowed clock skew {self._max_clock_skew:g} seconds.",
        )


def _canonical_candidates(
    request: Request, signed_headers: tuple[str, ...]
) -> Iterator[str]:
    """Yield each canonical request the signer may have built, most likely first."""
    headers = {
        name: value
        for name, value in request.headers.items()
        if name != "authorization"
    }
    chosen = signed_headers or None
    query = canonical_query(request.query)
    head = f"{request.method.upper()}\n{request.path or '/'}\n{query}"
    yield f"{head}\n{canonical_headers(headers, chosen)}"

    host = headers.get("host", "")
    bare_host = _without_port(host)
    if bare_host != host and (chosen is None or "host" in chosen):
        headers["host"] = bare_host
        yield f"{head}\n{canonical_headers(headers, chosen)}"


def _without_port(host: str) -> str:
    """``host`` without a trailing ``:port``; IPv6 literals keep their brackets."""
    if host.startswith("["):
        bracketed, _, _ = host.partition("]")
        return f"{bracketed}]"
    name, colon, port = host.rpartition(":")
    return name if colon and port.isdigit() else host


def _parse_bce_time(text: str) -> float | None:
    """POSIX time of an ISO 8601 UTC time; ``None`` if it does not parse."""
    try:
        strict = _dt.datetime.strptime(text, _BCE_TIME_FORMAT)
    except ValueError:
        pass
    else:
        return float(calendar.timegm(strict.timetuple()))
    try:
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.timestamp()
