"""bce-auth-v1 request signing, as Baidu documents it.

The canonical request is ``METHOD\\nURI\\nQUERY\\nHEADERS``; the signing key is
``HMAC-SHA256-HEX(secret_key, auth_string_prefix)`` used as ASCII key bytes, and
the signature is ``HMAC-SHA256-HEX(signing_key, canonical_request)``.

Two places differ from the official ``baidubce`` signer on purpose:

* the canonical URI is percent-encoded except for ``/`` (the signer passes the
  path through untouched; the two agree on every route the facade accepts,
  because routes are limited to unreserved characters);
* a query parameter named ``authorization`` is left out, as the documentation
  says (the official signer means to, but compares a bound method and never
  does);
* with an explicit list of headers to sign, exactly those headers are signed
  (the official signer also signs every ``x-bce-*`` header without listing
  it; no SDK is affected, since each lists every ``x-bce-*`` header it sends).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "DEFAULT_HEADERS_TO_SIGN",
    "AuthorizationParts",
    "canonical_headers",
    "canonical_query",
    "canonical_request",
    "canonical_time",
    "parse_authorization",
    "sign",
    "signature_for",
    "signed_headers",
    "uri_encode",
]

AUTH_VERSION = "bce-auth-v1"
DEFAULT_HEADERS_TO_SIGN = frozenset(
    {"host", "content-md5", "content-length", "content-type"}
)

_UNRESERVED = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
# The official signer trims bytes, so only ASCII whitespace is trimmed.
_ASCII_SPACE = " \t\n\r\x0b\x0c"
_ENCODED = tuple(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in range(256))


def uri_encode(value: str, *, keep_slash: bool = False) -> str:
    """Percent-encode ``value`` per RFC 3986, upper-case hex, as BCE signs it."""
    encoded = "".join(_ENCODED[b] for b in value.encode("utf-8"))
    return encoded.replace("%2F", "/") if keep_slash else encoded


def canonical_time(timestamp: float) -> str:
    """Format a POSIX timestamp as the ``yyyy-mm-ddThh:mm:ssZ`` BCE expects."""
    # Rounded to the microsecond first, as the official signer does.
    moment = _dt.datetime.fromtimestamp(timestamp, tz=_dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_query(query: Iterable[tuple[str, str]] | Mapping[str, str]) -> str:
    """Encode, sort and join query parameters, leaving out ``authorization``."""
    pairs = query.items() if isinstance(query, Mapping) else query
    encoded = sorted(
        f"{uri_encode(key)}={uri_encode(value)}"
        for key, value in pairs
        if key.lower() != "authorization"
    )
    return "&".join(encoded)


def canonical_headers(
    headers: Mapping[str, str], headers_to_sign: Iterable[str] | None
) -> str:
    """Build the canonical header block from the headers chosen for signing.

    With no explicit choice, the default set plus every ``x-bce-*`` header is
    signed, as the documentation and the official signer do.
    """
    chosen = {name.strip(_ASCII_SPACE).lower() for name in headers_to_sign or ()}
    default = not chosen
    if default:
        chosen = set(DEFAULT_HEADERS_TO_SIGN)
    lines = []
    for name, value in headers.items():
        lowered = name.strip(_ASCII_SPACE).lower()
        stripped = str(value).strip(_ASCII_SPACE)
        if not stripped:
            continue
        if lowered in chosen or (default and lowered.startswith("x-bce-")):
            lines.append(f"{uri_encode(lowered)}:{uri_encode(stripped)}")
    return "\n".join(sorted(lines))


def canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]] | Mapping[str, str],
    headers: Mapping[str, str],
    headers_to_sign: Iterable[str] | None,
) -> str:
    """Return the canonical request string that the signature covers."""
    uri = uri_encode(path or "/", keep_slash=True)
    return "\n".join(
        [
            method.upper(),
            uri,
            canonical_query(query),
            canonical_headers(headers, headers_to_sign),
        ]
    )


def signature_for(secret_key: str, auth_string_prefix: str, canonical: str) -> str:
    """Compute the hex signature of a canonical request under a prefix."""
    signing_key = hmac.new(
        secret_key.encode("utf-8"), auth_string_prefix.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    return hmac.new(
        signing_key.encode("ascii"), canonical.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def sign(
    *,
    access_key: str,
    secret_key: str,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]] | Mapping[str, str],
    headers: Mapping[str, str],
    timestamp: float,
    expiration_seconds: int = 1800,
    headers_to_sign: Iterable[str] | None = None,
) -> str:
    """Return the ``Authorization`` header value for a request.

    ``headers_to_sign`` names the headers the signature covers; they are listed
    sorted in the header value. ``None`` signs the documented default set.
    """
    prefix = (
        f"{AUTH_VERSION}/{access_key}/{canonical_time(timestamp)}/{expiration_seconds}"
    )
    names = sorted({name.strip().lower() for name in headers_to_sign or ()})
    canonical = canonical_request(method, path, query, headers, names or None)
    return f"{prefix}/{';'.join(names)}/{signature_for(secret_key, prefix, canonical)}"


@dataclass(frozen=True)
class AuthorizationParts:
    """The six parts of a ``bce-auth-v1`` Authorization header."""

    version: str
    access_key: str
    timestamp: str
    expiration_seconds: int
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def prefix(self) -> str:
        """The auth string prefix the signing key is derived from."""
        return (
            f"{self.version}/{self.access_key}/{self.timestamp}/"
            f"{self.expiration_seconds}"
        )

    def __repr__(self) -> str:
        # The signature and the key id stay out of reprs that reach logs.
        return (
            f"AuthorizationParts(version={self.version!r}, timestamp="
            f"{self.timestamp!r}, expiration_seconds={self.expiration_seconds}, "
            f"signed_headers={self.signed_headers!r})"
        )


def parse_authorization(value: str) -> AuthorizationParts:
    """Split an Authorization header value; raise ``ValueError`` if malformed."""
    parts = value.strip().split("/")
    if len(parts) != 6 or parts[0] != AUTH_VERSION:
        raise ValueError("not a bce-auth-v1 authorization string")
    version, access_key, timestamp, expiration, signed, signature = parts
    if (
        not access_key
        or not signature
        or not (expiration.isascii() and expiration.isdigit())
    ):
        raise ValueError("incomplete bce-auth-v1 authorization string")
    try:
        _dt.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise ValueError("bad timestamp in bce-auth-v1 authorization string") from None
    names = tuple(name.strip().lower() for name in signed.split(";") if name.strip())
    return AuthorizationParts(
        version, access_key, timestamp, int(expiration), names, signature
    )


def signed_headers(
    *,
    access_key: str,
    secret_key: str,
    url: str,
    content: bytes,
    timestamp: float,
    expiration_seconds: int = 300,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Return the headers of a signed JSON ``POST`` to ``url``.

    Signs ``host`` (with its port, as sent), ``content-type``,
    ``content-length``, ``x-bce-date`` and any ``extra`` headers given.
    """
    parts = urlsplit(url)
    headers = {
        "host": parts.netloc,
        "content-type": "application/json",
        "content-length": str(len(content)),
        "x-bce-date": canonical_time(timestamp),
        **{name.lower(): value for name, value in (extra or {}).items()},
    }
    headers["authorization"] = sign(
        access_key=access_key,
        secret_key=secret_key,
        method="POST",
        path=parts.path or "/",
        query=parse_qsl(parts.query, keep_blank_values=True),
        headers=headers,
        timestamp=timestamp,
        expiration_seconds=expiration_seconds,
        headers_to_sign=list(headers),
    )
    return headers
