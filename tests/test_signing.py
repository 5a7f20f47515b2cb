"""The facade's bce-auth-v1 signer against the official ``baidubce`` signer.

Hypothesis draws requests, and each is signed twice: by ``facade._signing`` and
by ``baidubce.auth.bce_v1_signer.sign`` from the pinned qianfan SDK. The worked
examples of section 4.4 of the console API notes are pinned verbatim. Where the
two signers differ, a test below names the difference and which side the
documentation takes.
"""

from __future__ import annotations

import hashlib
import hmac
import string
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from baidubce.auth.bce_credentials import BceCredentials
from baidubce.auth.bce_v1_signer import sign as official_sign
from baidubce.utils import (
    get_canonical_querystring,
    get_canonical_time,
    normalize_string,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facade._signing import (
    AuthorizationParts,
    canonical_headers,
    canonical_query,
    canonical_request,
    canonical_time,
    parse_authorization,
    sign,
    signature_for,
    uri_encode,
)

# The official signer's default, written out in its header-canonicalising code.
OFFICIAL_DEFAULT_HEADERS = frozenset(
    {b"host", b"content-md5", b"content-length", b"content-type"}
)
UNRESERVED = string.ascii_letters + string.digits + "-._~"
RESERVED = "/ :=&+!'()*%"
LAST_CANONICAL_SECOND = 253402300799  # 9999-12-31T23:59:59Z

HYPOTHESIS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- strategies -------------------------------------------------------------

routes = st.lists(st.text(UNRESERVED, max_size=12), max_size=5).map(
    lambda segments: "/" + "/".join(segments)
)

query_text = st.text(
    st.one_of(
        st.sampled_from(RESERVED),
        st.sampled_from("中文测试千帆"),
        st.sampled_from("😀🚀"),
        st.characters(codec="utf-8"),
    ),
    max_size=10,
)
queries = st.dictionaries(
    query_text.filter(lambda key: key.lower() != "authorization"),
    query_text,
    max_size=6,
)


KNOWN_HEADERS = (
    "host",
    "content-type",
    "content-length",
    "content-md5",
    "request-source",
    "user-agent",
    "accept",
    "x-bce-date",
    "x-bce-request-id",
)
token = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=8)


@st.composite
def header_names(draw: st.DrawFn) -> str:
    """Draw a known, x-bce-* or custom header name in mixed case."""
    name = draw(
        st.one_of(
            st.sampled_from(KNOWN_HEADERS),
            token.map(lambda tail: f"x-bce-{tail}"),
            token.map(lambda tail: f"x-{tail}"),
        )
    )
    upper = draw(st.integers(min_value=0, max_value=2 ** len(name) - 1))
    return "".join(
        ch.upper() if upper >> index & 1 else ch for index, ch in enumerate(name)
    )


padded_header_names = st.tuples(
    st.sampled_from(("", " ")), header_names(), st.sampled_from(("", " ", "\t"))
).map("".join)

# Unicode whitespace beyond ASCII is kept out here: the two signers trim it
# differently (see test_header_values_trim_only_ascii_whitespace).
value_chars = st.one_of(
    st.sampled_from(" \t"),
    st.sampled_from(RESERVED),
    st.sampled_from("中文😀"),
    st.characters(codec="utf-8").filter(lambda ch: not ch.isspace()),
)
header_values = st.one_of(
    st.just(""),
    st.text(" \t", min_size=1, max_size=3),
    st.text(value_chars, max_size=16),
)
header_sets = st.dictionaries(padded_header_names, header_values, max_size=7)
# Lower-case names, as the qianfan SDK passes them; some are absent from the
# request, which both signers then list but cannot cover.
chosen_headers: st.SearchStrategy[frozenset[str] | None] = st.one_of(
    st.none(),
    st.just(frozenset()),
    st.frozensets(
        st.sampled_from(KNOWN_HEADERS) | token.map(lambda t: f"x-bce-{t}"),
        min_size=1,
        max_size=5,
    ),
)
access_keys = st.text(string.ascii_letters + string.digits, min_size=1, max_size=40)
secret_keys = st.text(st.characters(codec="utf-8"), max_size=40)
timestamps = st.integers(min_value=1, max_value=4102444800)  # up to 2100
expirations = st.integers(min_value=0, max_value=10**7)
methods = st.sampled_from(("GET", "POST", "PUT", "DELETE", "HEAD"))


# --- helpers ----------------------------------------------------------------


def _with_present_bce_headers(
    chosen: frozenset[str] | None, headers: Mapping[str, str]
) -> frozenset[str] | None:
    """Add every signable x-bce-* header of the request to an explicit choice.

    The official signer covers those headers whatever was chosen; ours covers
    only what was chosen (test_explicit_choice_does_not_add_bce_headers). The
    qianfan SDK always chooses every header it sends, so equivalence holds there.
    """
    if not chosen:
        return chosen
    present = {
        name.strip().lower()
        for name, value in headers.items()
        if value.strip() and name.strip().lower().startswith("x-bce-")
    }
    return chosen | present


@st.composite
def signing_requests(draw: st.DrawFn) -> dict[str, Any]:
    """Draw the keyword arguments of one ``sign`` call."""
    headers = draw(header_sets)
    return {
        "access_key": draw(access_keys),
        "secret_key": draw(secret_keys),
        "method": draw(methods),
        "path": draw(routes),
        "query": draw(queries),
        "headers": headers,
        "timestamp": draw(timestamps),
        "expiration_seconds": draw(expirations),
        "headers_to_sign": _with_present_bce_headers(draw(chosen_headers), headers),
    }


def _bytes_keys(mapping: Mapping[str, str]) -> dict[bytes, str]:
    return {key.encode("utf-8"): value for key, value in mapping.items()}


def official_canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    headers_to_sign: Iterable[str] | None,
) -> str:
    """Build the canonical request from baidubce's encoders, per section 4.2."""
    wanted = {name.encode("ascii") for name in headers_to_sign or ()}
    wanted = wanted or set(OFFICIAL_DEFAULT_HEADERS)
    lines = []
    for name, value in _bytes_keys(headers).items():
        lowered = name.strip().lower()
        stripped = value.encode("utf-8").strip()
        if stripped and (lowered.startswith(b"x-bce-") or lowered in wanted):
            lines.append(normalize_string(lowered) + b":" + normalize_string(stripped))
    canonical = b"\n".join(
        [
            method.encode("ascii"),
            path.encode("ascii"),
            get_canonical_querystring(_bytes_keys(query), True),
            b"\n".join(sorted(lines)),
        ]
    )
    return canonical.decode("ascii")


def official_authorization(
    *,
    access_key: str,
    secret_key: str,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    timestamp: float,
    expiration_seconds: int,
    headers_to_sign: Iterable[str] | None,
) -> str:
    """Sign with baidubce the way qianfan's iam_sign calls it."""
    chosen: set[bytes] | None = None
    if headers_to_sign is not None:
        chosen = {name.encode("ascii") for name in headers_to_sign}
    value: bytes = official_sign(
        BceCredentials(access_key, secret_key),
        method.encode("ascii"),
        path.encode("ascii"),
        _bytes_keys(headers),
        _bytes_keys(query),
        timestamp=timestamp,
        expiration_in_seconds=expiration_seconds,
        headers_to_sign=chosen,
    )
    return value.decode("ascii")


def _split_authorization(value: str) -> tuple[str, set[str], str]:
    """Return the prefix, the signed header names as a set, and the signature."""
    prefix, signed, signature = value.rsplit("/", 2)
    return prefix, {name for name in signed.split(";") if name}, signature


# --- equivalence with the official signer -----------------------------------


@HYPOTHESIS
@given(request=signing_requests())
def test_canonical_request_matches_official(request: dict[str, Any]) -> None:
    method, path, query = request["method"], request["path"], request["query"]
    headers, chosen = request["headers"], request["headers_to_sign"]

    ours = canonical_request(method, path, query, headers, chosen)

    assert ours == official_canonical_request(method, path, query, headers, chosen)
    pairs = list(query.items())
    assert canonical_request(method, path, pairs, headers, chosen) == ours


@HYPOTHESIS
@given(request=signing_requests())
def test_signature_matches_official(request: dict[str, Any]) -> None:
    ours = sign(**request)
    theirs = official_authorization(**request)

    our_prefix, our_names, our_signature = _split_authorization(ours)
    their_prefix, their_names, their_signature = _split_authorization(theirs)
    assert our_signature == their_signature
    assert our_prefix == their_prefix
    assert our_names == their_names
    # Ours lists the names sorted, so the value does not depend on hash seeds.
    assert ours.split("/")[4] == ";".join(sorted(our_names))


def test_signed_header_names_are_normalised_before_signing() -> None:
    request: dict[str, Any] = {
        "access_key": "ak",
        "secret_key": "sk",
        "method": "POST",
        "path": "/v2/eval",
        "query": {},
        "headers": {"Host": "qianfan.baidubce.com", "X-Bce-Date": "2024"},
        "timestamp": 1717243200,
    }

    messy = sign(**request, headers_to_sign=[" Host", "X-BCE-DATE ", "host"])
    clean = sign(**request, headers_to_sign=["host", "x-bce-date"])

    assert messy == clean


# --- documented divergences -------------------------------------------------


@pytest.mark.parametrize("name", ["authorization", "Authorization", "AUTHORIZATION"])
def test_authorization_query_parameter_is_dropped_unlike_official(name: str) -> None:
    """Baidu's rules drop ``authorization``; baidubce 0.4.12.3 never does.

    Its check compares the bound method ``k.lower`` with a string, so the
    parameter stays in the official canonical query.
    """
    query = {name: "bce-auth-v1/x", "b": "1"}
    request: dict[str, Any] = {
        "access_key": "ak",
        "secret_key": "sk",
        "method": "POST",
        "path": "/v2/eval",
        "headers": {"host": "h"},
        "timestamp": 1717243200,
        "expiration_seconds": 300,
        "headers_to_sign": None,
    }

    assert canonical_query(query) == "b=1"
    assert get_canonical_querystring(_bytes_keys(query), True) == (
        f"{name}=bce-auth-v1%2Fx&b=1".encode()
    )
    ours = sign(**request, query=query)
    assert ours != official_authorization(**request, query=query)
    assert ours == official_authorization(**request, query={"b": "1"})


def test_explicit_choice_does_not_add_bce_headers() -> None:
    """With an explicit choice ours signs exactly the headers it lists.

    baidubce signs every ``x-bce-*`` header even when it is not chosen, yet
    leaves it out of the signedHeaders list, so its Authorization does not name
    everything it covers. Ours covers what the list names, which is what a
    verifier working from the list checks. Every qianfan SDK names each x-bce
    header it sends, so their requests sign alike under both.
    """
    headers = {"Host": "h", "x-bce-date": "2024-06-01T12:00:00Z"}
    request: dict[str, Any] = {
        "access_key": "ak",
        "secret_key": "sk",
        "method": "POST",
        "path": "/v2/eval",
        "query": {},
        "timestamp": 1717243200,
        "expiration_seconds": 300,
        "headers_to_sign": {"host"},
    }

    assert canonical_headers(headers, {"host"}) == "host:h"
    assert canonical_headers(headers, None) == (
        "host:h\nx-bce-date:2024-06-01T12%3A00%3A00Z"
    )
    ours = sign(**request, headers=headers)
    assert ours != official_authorization(**request, headers=headers)
    assert ours == official_authorization(**request, headers={"Host": "h"})


@pytest.mark.parametrize(
    "space",
    ["\xa0", "\u3000", "\x1c", "\x85"],
    ids=["no-break-space", "ideographic-space", "file-separator", "next-line"],
)
def test_header_values_trim_only_ascii_whitespace(space: str) -> None:
    headers = {"host": f"{space}qianfan{space}"}

    ours = canonical_request("POST", "/v2/eval", {}, headers, None)

    assert ours == official_canonical_request("POST", "/v2/eval", {}, headers, None)


# --- worked examples of section 4.4 -----------------------------------------

EXAMPLE_AK = "AKIDEXAMPLE0000000000000000000000"
EXAMPLE_SK = "SKEXAMPLE00000000000000000000000"
EXAMPLE_TIMESTAMP = 1717243200
EXAMPLE_QUERY = {"Action": "DescribeEvalResultExportTask"}

PYTHON_HEADERS = {
    "Content-Type": "application/json",
    "Host": "qianfan.baidubce.com",
    "request-source": "qianfan_py_sdk_v0.4.12.3",
    "x-bce-date": "2024-06-01T12:00:00Z",
}
PYTHON_PREFIX = "bce-auth-v1/AKIDEXAMPLE0000000000000000000000/2024-06-01T12:00:00Z/300"
PYTHON_SIGNING_KEY = "f47443f81f2481ab779739a82ea33b64366ef4532f80f55b1058bdcb3b705419"
PYTHON_CANONICAL = "\n".join(
    [
        "POST",
        "/v2/eval",
        "Action=DescribeEvalResultExportTask",
        "content-type:application%2Fjson",
        "host:qianfan.baidubce.com",
        "request-source:qianfan_py_sdk_v0.4.12.3",
        "x-bce-date:2024-06-01T12%3A00%3A00Z",
    ]
)
PYTHON_SIGNATURE = "e7f285a7bd3f21764208815e126e9a7ad389b9bcee22e2ab20ca78d69de0a8a2"
PYTHON_AUTHORIZATION = (
    "bce-auth-v1/AKIDEXAMPLE0000000000000000000000/2024-06-01T12:00:00Z/300/"
    "x-bce-date;content-type;host;request-source/"
    "e7f285a7bd3f21764208815e126e9a7ad389b9bcee22e2ab20ca78d69de0a8a2"
)

NODE_HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": "bce-sdk-nodejs/0.2.4/unknown/unknown",
    "x-bce-date": "2024-06-01T12:00:00Z",
    "Accept": "application/json",
    "Content-Length": "29",
    "Host": "127.0.0.1:18766",
}
NODE_SIGNING_KEY = "f811f0e5820cd8f18c95a662fdacf65993f0c49b92697e6094e75131835f9ad4"
NODE_CANONICAL = "\n".join(
    [
        "POST",
        "/v2/eval",
        "Action=DescribeEvalResultExportTask",
        "content-length:29",
        "content-type:application%2Fjson",
        "host:127.0.0.1%3A18766",
        "x-bce-date:2024-06-01T12%3A00%3A00Z",
    ]
)
NODE_AUTHORIZATION = (
    "bce-auth-v1/AKIDEXAMPLE0000000000000000000000/2024-06-01T12:00:00Z/1800/"
    "content-length;content-type;host;x-bce-date/"
    "241d8f8c64d624a165f88f90f3d673e1db7451a2431bfed526eced0fc77199c2"
)


def _hex_hmac(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_python_sdk_worked_example() -> None:
    chosen = {"content-type", "host", "request-source", "x-bce-date"}
    request: dict[str, Any] = {
        "method": "POST",
        "path": "/v2/eval",
        "query": EXAMPLE_QUERY,
        "headers": PYTHON_HEADERS,
        "headers_to_sign": chosen,
    }
    keys: dict[str, Any] = {
        "access_key": EXAMPLE_AK,
        "secret_key": EXAMPLE_SK,
        "timestamp": EXAMPLE_TIMESTAMP,
        "expiration_seconds": 300,
    }

    assert _hex_hmac(EXAMPLE_SK, PYTHON_PREFIX) == PYTHON_SIGNING_KEY
    assert canonical_request(**request) == PYTHON_CANONICAL
    assert signature_for(EXAMPLE_SK, PYTHON_PREFIX, PYTHON_CANONICAL) == (
        PYTHON_SIGNATURE
    )
    assert sign(**request, **keys) == (
        f"{PYTHON_PREFIX}/content-type;host;request-source;x-bce-date/"
        f"{PYTHON_SIGNATURE}"
    )
    assert official_authorization(**request, **keys).endswith(PYTHON_SIGNATURE)


def test_node_sdk_worked_example() -> None:
    prefix = PYTHON_PREFIX.replace("/300", "/1800")
    request: dict[str, Any] = {
        "access_key": EXAMPLE_AK,
        "secret_key": EXAMPLE_SK,
        "method": "POST",
        "path": "/v2/eval",
        "query": EXAMPLE_QUERY,
        "headers": NODE_HEADERS,
        "timestamp": EXAMPLE_TIMESTAMP,
        "expiration_seconds": 1800,
    }
    chosen = {"content-length", "content-type", "host", "x-bce-date"}

    assert _hex_hmac(EXAMPLE_SK, prefix) == NODE_SIGNING_KEY
    canonical = canonical_request(
        "POST", "/v2/eval", EXAMPLE_QUERY, NODE_HEADERS, chosen
    )
    assert canonical == NODE_CANONICAL
    # Node lists names sorted, as ours does, so the whole header value matches.
    assert sign(**request, headers_to_sign=chosen) == NODE_AUTHORIZATION
    # Node chose exactly the default set plus x-bce-*: the default signs alike.
    signature = NODE_AUTHORIZATION.rsplit("/", 1)[1]
    assert sign(**request, headers_to_sign=None) == f"{prefix}//{signature}"


def test_sdk_authorization_values_parse() -> None:
    python = parse_authorization(PYTHON_AUTHORIZATION)
    node = parse_authorization(NODE_AUTHORIZATION)

    assert python.prefix == PYTHON_PREFIX
    assert python.signature == PYTHON_SIGNATURE
    assert python.signed_headers == (
        "x-bce-date",
        "content-type",
        "host",
        "request-source",
    )
    assert node.expiration_seconds == 1800
    assert node.signed_headers == (
        "content-length",
        "content-type",
        "host",
        "x-bce-date",
    )


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        (
            "a b/c~d*e'f(g)h!i:j=k&l+m%",
            "a%20b%2Fc~d%2Ae%27f%28g%29h%21i%3Aj%3Dk%26l%2Bm%25",
        ),
        ("中", "%E4%B8%AD"),
    ],
    ids=["reserved", "chinese"],
)
def test_documented_encodings(raw: str, encoded: str) -> None:
    assert uri_encode(raw) == encoded
    assert normalize_string(raw).decode("ascii") == encoded


def test_canonical_uri_keeps_slashes() -> None:
    assert uri_encode("/example/测试", keep_slash=True) == (
        "/example/%E6%B5%8B%E8%AF%95"
    )


def test_empty_query_value_keeps_its_equals_sign() -> None:
    assert canonical_query({"Action": ""}) == "Action="
    assert get_canonical_querystring({b"Action": ""}, True) == b"Action="


@HYPOTHESIS
@given(text=st.text(st.characters(codec="utf-8")))
def test_uri_encode_matches_normalize_string(text: str) -> None:
    assert uri_encode(text) == normalize_string(text).decode("ascii")
    assert uri_encode(text, keep_slash=True) == (
        normalize_string(text, False).decode("ascii")
    )


# --- parse_authorization ----------------------------------------------------


@settings(HYPOTHESIS, max_examples=200)
@given(request=signing_requests())
def test_parse_authorization_round_trips_sign(request: dict[str, Any]) -> None:
    value = sign(**request)

    parts = parse_authorization(value)

    assert parts.version == "bce-auth-v1"
    assert parts.access_key == request["access_key"]
    assert parts.timestamp == canonical_time(request["timestamp"])
    assert parts.expiration_seconds == request["expiration_seconds"]
    assert parts.signed_headers == tuple(sorted(request["headers_to_sign"] or ()))
    assert parts.prefix == value.rsplit("/", 2)[0]
    assert f"{parts.prefix}/" in value
    assert value.endswith(f"/{parts.signature}")
    assert len(parts.signature) == 64


GOOD = ("bce-auth-v1", "ak", "2024-06-01T12:00:00Z", "300", "host", "0" * 64)


def _authorization(**changes: str) -> str:
    fields = dict(
        zip(("version", "ak", "time", "expiration", "names", "sig"), GOOD, strict=True)
    )
    fields.update(changes)
    return "/".join(fields.values())


def test_parse_authorization_accepts_a_good_value() -> None:
    parts = parse_authorization(f"  {_authorization(names='')}\n")

    assert parts.signed_headers == ()
    assert parts.signature == "0" * 64


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("/".join(GOOD[:5]), id="five-parts"),
        pytest.param("/".join((*GOOD, "extra")), id="seven-parts"),
        pytest.param(_authorization(version="bce-auth-v2"), id="version-v2"),
        pytest.param(_authorization(version="BCE-AUTH-V1"), id="version-case"),
        pytest.param(_authorization(ak=""), id="empty-access-key"),
        pytest.param(_authorization(sig=""), id="empty-signature"),
        pytest.param(_authorization(expiration=""), id="empty-expiration"),
        pytest.param(_authorization(expiration="30s"), id="expiration-unit"),
        pytest.param(_authorization(expiration="-5"), id="expiration-negative"),
        pytest.param(_authorization(expiration="1.5"), id="expiration-fraction"),
        pytest.param(_authorization(time="2024-13-01T00:00:00Z"), id="month-13"),
        pytest.param(_authorization(time="2024-06-01 12:00:00Z"), id="no-T"),
        pytest.param(_authorization(time="2024-06-01T12:00:00"), id="no-Z"),
        pytest.param(_authorization(time="1717243200"), id="epoch-seconds"),
        pytest.param(_authorization(time=""), id="empty-timestamp"),
    ],
)
def test_parse_authorization_rejects_malformed(value: str) -> None:
    with pytest.raises(ValueError, match="bce-auth-v1"):
        parse_authorization(value)


@pytest.mark.parametrize(
    "expiration", ["\u0661\u0662", "\u00b2"], ids=["arabic-indic", "superscript"]
)
def test_parse_authorization_rejects_non_ascii_digits(expiration: str) -> None:
    with pytest.raises(ValueError, match="bce-auth-v1"):
        parse_authorization(_authorization(expiration=expiration))


def test_authorization_parts_repr_hides_credentials() -> None:
    parts = parse_authorization(NODE_AUTHORIZATION)

    assert isinstance(parts, AuthorizationParts)
    for text in (repr(parts), str(parts), f"{parts}"):
        assert EXAMPLE_AK not in text
        assert parts.signature not in text
        assert "2024-06-01T12:00:00Z" in text


# --- canonical_time ---------------------------------------------------------


@HYPOTHESIS
@given(timestamp=st.integers(min_value=1, max_value=LAST_CANONICAL_SECOND))
def test_canonical_time_matches_official_for_whole_seconds(timestamp: int) -> None:
    assert canonical_time(timestamp) == get_canonical_time(timestamp).decode()


@HYPOTHESIS
@given(
    timestamp=st.floats(min_value=1, max_value=4102444800).filter(
        lambda ts: ts % 1 < 0.999999
    )
)
def test_canonical_time_matches_official_for_fractions(timestamp: float) -> None:
    assert canonical_time(timestamp) == get_canonical_time(timestamp).decode()


def test_canonical_time_rounds_like_official_below_a_whole_second() -> None:
    # A time.time() value that close to the next second occurs about once
    # in two million calls.
    timestamp = 1717243200.9999998

    assert canonical_time(timestamp) == get_canonical_time(timestamp).decode()


def test_canonical_time_is_pure_at_the_epoch() -> None:
    # baidubce reads the clock when given 0; ours always formats its argument.
    assert canonical_time(0) == "1970-01-01T00:00:00Z"
    assert canonical_time(EXAMPLE_TIMESTAMP) == "2024-06-01T12:00:00Z"
