"""Property tests: generated bad values at every entry point, nothing ever sent."""

from __future__ import annotations

import asyncio
import math
import types
from collections import UserDict
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import facade
from facade import MockBackend, RawResponse

FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def silent() -> MockBackend:
    return MockBackend(
        lambda request: RawResponse.from_json({"log_id": "1", "result": {}})
    )


def client(backend: MockBackend, **kwargs: Any) -> facade.Client:
    return facade.Client(
        backend, access_key="ak", secret_key="sk", retry=None, **kwargs
    )


def refused(call: Any, parameter: str | None = None) -> None:
    """``call(client)`` raises InvalidInputError before the backend sees anything."""
    backend = silent()
    with pytest.raises(facade.InvalidInputError) as info:
        call(client(backend))
    assert backend.requests == []
    if parameter is not None:
        assert info.value.parameter == parameter
    str(info.value), repr(info.value)  # both render without error


not_ids = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=2**63),
    st.booleans(),
    st.floats(),
    st.none(),
    st.binary(),
    st.lists(st.integers(), max_size=3),
    st.text(max_size=20).filter(lambda t: not t.strip()),
    st.text(min_size=1, max_size=20).filter(
        lambda t: (
            t.strip()
            and (any(c.isspace() for c in t) or not t.isascii() or not t.isprintable())
        )
    ),
    st.text(alphabet="abc", min_size=129, max_size=200),
)


@FAST
@given(bad=not_ids)
def test_export_ids(bad: object) -> None:
    refused(lambda c: c.export_status(bad), "export_id")
    refused(lambda c: c.export_create(bad), "evaluation_id")
    refused(lambda c: c.wait_for_export(bad), "export_id")


not_routes = st.one_of(
    st.text(max_size=30).filter(lambda t: not t.startswith("/")),
    st.builds(lambda t: "/" + t, st.text(max_size=30)).filter(
        lambda r: any(
            not seg
            or seg in {".", ".."}
            or any(
                ch
                not in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
                for ch in seg
            )
            for seg in r[1:].split("/")
        )
    ),
    st.just("/" + "a" * 2000),
    st.integers(),
    st.none(),
)


@FAST
@given(route=not_routes)
def test_routes(route: object) -> None:
    refused(lambda c: c.call_action(route), "route")


@FAST
@given(
    action=st.one_of(
        st.text(min_size=1, max_size=20).filter(
            lambda t: not (t.isascii() and t.isalnum())
        ),
        st.just(""),
        st.just("A" * 129),
        st.integers(),
        st.binary(min_size=1),
    )
)
def test_actions(action: object) -> None:
    refused(lambda c: c.call_action("/v2/eval", action), "action")


leaf_bad = st.one_of(
    st.floats().filter(lambda f: not math.isfinite(f)),
    st.binary(),
    st.sets(st.integers(), max_size=3),
    st.frozensets(st.integers(), max_size=2),
    st.complex_numbers(),
    st.just(object()),
    st.just(2**5000),
    st.just("\ud800"),
)


@FAST
@given(bad=leaf_bad, key=st.text(min_size=1, max_size=5), wrap=st.integers(0, 3))
def test_bodies(bad: object, key: str, wrap: int) -> None:
    value: Any = bad
    for _ in range(wrap):
        value = [value] if wrap % 2 else {key: value}
    refused(lambda c: c.call_action("/v2/eval", "X", {key: value}), "body")


@pytest.mark.parametrize(
    "body",
    [[1], "text", 3, {1: "int key"}, {"deep": _deep} if (_deep := []) else None],
)
def test_bodies_that_are_not_objects(body: object) -> None:
    if body is None:
        nested: Any = "x"
        for _ in range(40):
            nested = {"n": nested}
        body = nested
    refused(lambda c: c.call_action("/v2/eval", "X", body), "body")


def test_mappings_are_sent_as_plain_objects() -> None:
    backend = silent()
    body = types.MappingProxyType({"a": UserDict({"b": (1, 2)})})
    client(backend).call_action("/v2/eval", "X", body)
    assert backend.requests[0].body == {"a": {"b": [1, 2]}}


@FAST
@given(
    endpoint=st.one_of(
        st.text(max_size=30).filter(lambda t: "://" not in t),
        st.sampled_from(
            [
                "ftp://h",
                "http://",
                "http://h/path",
                "http://h?q",
                "http://u:p@h",
                "http://éx.com",
                "http://a\x00b",
                "http://a b",
                "http://" + "a" * 300,
                "http://h:99999",
                "file:///etc/passwd",
                "",
            ]
        ),
        st.integers(),
    )
)
def test_endpoints(endpoint: object) -> None:
    backend = silent()
    with pytest.raises(facade.InvalidInputError) as info:
        facade.Client(backend, endpoint=endpoint, access_key="a", secret_key="b")  # type: ignore[arg-type]
    assert info.value.parameter == "endpoint"


@FAST
@given(
    timeout=st.one_of(
        st.floats().filter(lambda f: not (math.isfinite(f) and 0 < f <= 30 * 86400)),
        st.integers(max_value=0),
        st.integers(min_value=30 * 86400 + 1),
        st.booleans(),
        st.text(max_size=3),
        st.none(),
    )
)
def test_timeouts(timeout: object) -> None:
    with pytest.raises(facade.InvalidInputError) as info:
        facade.Client(silent(), access_key="a", secret_key="b", timeout=timeout)  # type: ignore[arg-type]
    assert info.value.parameter == "timeout"


@FAST
@given(
    key=st.one_of(
        st.just(""),
        st.text(min_size=1, max_size=20).filter(
            lambda t: (
                any(c.isspace() for c in t) or not t.isascii() or not t.isprintable()
            )
        ),
        st.integers(),
        st.binary(),
    ),
    which=st.sampled_from(["access_key", "secret_key"]),
)
def test_credentials(key: object, which: str) -> None:
    keys: dict[str, Any] = {"access_key": "a", "secret_key": "b", which: key}
    with pytest.raises(facade.InvalidInputError) as info:
        facade.Client(silent(), **keys)
    assert info.value.parameter == which
    if isinstance(key, str) and len(key.strip()) >= 4:
        assert key not in str(info.value) and key not in repr(info.value)


@FAST
@given(
    content=st.one_of(
        st.integers(),
        st.text(max_size=8),
        st.binary(max_size=4),
        st.dictionaries(st.sampled_from(["prompt"]), st.integers(), max_size=1),
        st.lists(st.text(max_size=10), min_size=1, max_size=3).filter(
            lambda items: any(
                i not in {"prompt", "prediction", "completion", "metrics"}
                for i in items
            )
        ),
    )
)
def test_export_content(content: object) -> None:
    refused(lambda c: c.export_create("ame-x", content=content), "content")


@FAST
@given(
    bucket=st.one_of(
        st.text(max_size=70).filter(
            lambda t: (
                not (
                    3 <= len(t) <= 63
                    and t.isascii()
                    and t.replace("-", "").isalnum()
                    and t.islower()
                )
            )
        ),
        st.integers(),
        st.none(),
    )
)
def test_buckets(bucket: object) -> None:
    refused(
        lambda c: c.export_create("ame-x", storage="user_bucket", bucket=bucket),
        "bucket",
    )


@pytest.mark.parametrize(
    "result_ids", [5, b"ab", {"a": 1}, "65951573193ec327b9639c7f", [1, 2]]
)
def test_result_id_shapes(result_ids: object) -> None:
    refused(lambda c: c.export_create("ame-x", result_ids=result_ids), "result_ids")


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"on_change": 5}, "on_change"),
        ({"timeout": -1}, "timeout"),
        ({"poll_interval": float("nan")}, "poll_interval"),
        ({"backoff": 0.5}, "backoff"),
    ],
)
def test_wait_arguments(kwargs: dict[str, Any], parameter: str) -> None:
    refused(lambda c: c.wait_for_export("amemt-x", **kwargs), parameter)


@pytest.mark.parametrize("destination", [None, 5, b"/tmp", "x\x00y"])
def test_download_destinations(destination: object) -> None:
    done = facade.ExportTask(
        task_id="amemt-x",
        state=facade.ExportState.SUCCEEDED,
        download_url="http://127.0.0.1:9/x.zip",
        api_version=facade.ApiVersion.V1,
    )
    refused(lambda c: c.download_export(done, destination), "destination")


def test_async_entry_points_validate_the_same_way() -> None:
    backend = silent()

    async def run() -> None:
        async with facade.AsyncClient(
            backend, access_key="a", secret_key="b"
        ) as console:
            for call in (
                lambda: console.export_status(0),
                lambda: console.call_action("no-slash"),
                lambda: console.export_create("ame-x", bucket="b"),
                lambda: console.wait_for_export("amemt-x", on_change=3),
            ):
                with pytest.raises(facade.InvalidInputError):
                    await call()

    asyncio.run(run())
    assert backend.requests == []


def test_async_client_refuses_a_non_backend() -> None:
    with pytest.raises(facade.ConfigurationError):
        facade.AsyncClient(123, access_key="a", secret_key="b")  # type: ignore[arg-type]
