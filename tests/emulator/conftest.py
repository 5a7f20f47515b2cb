"""Fixtures for the emulator tests: a running emulator and a signed client."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import httpx
import pytest

from facade._signing import canonical_time, sign
from facade.emulator import Emulator

ALPHA = ("test-ak-alpha", "test-sk-alpha")
BETA = ("test-ak-beta", "test-sk-beta")
KEYS = dict([ALPHA, BETA])

V2_EVAL = "/v2/eval"

# What every client here signs unless a test says otherwise (the Java set plus
# the body's type).
DEFAULT_SIGNED = ("content-type", "host", "x-bce-date")

_ENVIRONMENT = (
    "QIANFAN_ACCESS_KEY",
    "QIANFAN_SECRET_KEY",
    "QIANFAN_AK",
    "QIANFAN_SK",
    "QIANFAN_CONSOLE_API_BASE_URL",
    "QIANFAN_DOT_ENV_CONFIG_FILE",
)


@pytest.fixture(autouse=True)
def emulator_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test inherits keys or endpoints; loopback never goes through a proxy."""
    for name in _ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A running emulator that accepts the ALPHA and BETA key pairs."""
    with Emulator(credentials=KEYS) as running:
        yield running


class SignedConsole:
    """Signs requests the way our own signer does and sends them to an emulator.

    Every knob a test may turn is a keyword: which headers are signed, the
    expiration and signing time, the host value signed, and what is signed as
    opposed to what is sent (``signed_path``, ``signed_query``, ``signed_body``).
    """

    def __init__(self, emulator: Emulator, http: httpx.Client, key: tuple[str, str]):
        self.emulator = emulator
        self.http = http
        self.access_key, self.secret_key = key

    @property
    def host(self) -> str:
        """The ``Host`` value the client sends: ``127.0.0.1:PORT``."""
        return self.emulator.base_url.removeprefix("http://")

    def authorization(
        self,
        *,
        method: str = "POST",
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        headers_to_sign: Iterable[str] | None = DEFAULT_SIGNED,
        timestamp: float | None = None,
        expiration: int = 1800,
        secret_key: str | None = None,
    ) -> str:
        """The Authorization value for a request with these parts."""
        return sign(
            access_key=self.access_key,
            secret_key=secret_key or self.secret_key,
            method=method,
            path=path,
            query=query,
            headers=headers,
            timestamp=time.time() if timestamp is None else timestamp,
            expiration_seconds=expiration,
            headers_to_sign=headers_to_sign,
        )

    def send(
        self,
        path: str,
        body: object = None,
        *,
        query: Mapping[str, str] | None = None,
        method: str = "POST",
        raw_body: bytes | None = None,
        headers_to_sign: Iterable[str] | None = DEFAULT_SIGNED,
        timestamp: float | None = None,
        date_header: str | None = None,
        expiration: int = 1800,
        signed_host: str | None = None,
        signed_path: str | None = None,
        signed_query: Mapping[str, str] | None = None,
        signed_body: bytes | None = None,
        secret_key: str | None = None,
        authorization: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        signed_extra_headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Sign and send one request; ``authorization`` overrides the signature.

        ``extra_headers`` are sent (and signed if chosen);
        ``signed_extra_headers`` replace them on the signing side only.
        """
        content = raw_body if raw_body is not None else json.dumps(body or {}).encode()
        moment = time.time() if timestamp is None else timestamp
        query = dict(query or {})
        sent = {
            "Content-Type": "application/json",
            "x-bce-date": date_header or canonical_time(moment),
            **(extra_headers or {}),
        }
        signed_content = content if signed_body is None else signed_body
        signed = {
            **sent,
            "Host": signed_host or self.host,
            "Content-Length": str(len(signed_content)),
            **(signed_extra_headers or {}),
        }
        if authorization is None:
            authorization = self.authorization(
                method=method,
                path=signed_path or path,
                query=query if signed_query is None else signed_query,
                headers=signed,
                headers_to_sign=headers_to_sign,
                timestamp=moment,
                expiration=expiration,
                secret_key=secret_key,
            )
        target = path
        if query:
            target += f"?{httpx.QueryParams(query)}"
        return self.http.request(
            method,
            self.emulator.base_url + target,
            content=content,
            headers={**sent, "Authorization": authorization},
        )

    def v1(self, route: str, body: object, **options: Any) -> httpx.Response:
        """POST to a V1 route, with the stray ``?Action=`` the Python SDK adds."""
        return self.send(route, body, query={"Action": ""}, **options)

    def v2(self, action: str, body: object, **options: Any) -> httpx.Response:
        """POST a V2 eval action."""
        return self.send(V2_EVAL, body, query={"Action": action}, **options)


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """A plain HTTP client that ignores proxy settings; shared, as it holds no
    state a test could observe and is slow to build."""
    with httpx.Client(trust_env=False, timeout=10) as client:
        yield client


@pytest.fixture
def console(emulator: Emulator, http: httpx.Client) -> SignedConsole:
    """A client signing with the ALPHA key pair."""
    return SignedConsole(emulator, http, ALPHA)


@pytest.fixture
def beta_console(emulator: Emulator, http: httpx.Client) -> SignedConsole:
    """A second client, signing with the BETA key pair."""
    return SignedConsole(emulator, http, BETA)


@pytest.fixture
def start_console(http: httpx.Client) -> Iterator[Callable[..., SignedConsole]]:
    """Start an emulator with the test's own options; get an ALPHA client for it.

    Every emulator started this way is stopped after the test.
    """
    started: list[Emulator] = []

    def start(**options: Any) -> SignedConsole:
        options.setdefault("credentials", KEYS)
        emulator = Emulator(**options).start()
        started.append(emulator)
        return SignedConsole(emulator, http, ALPHA)

    yield start
    for emulator in started:
        emulator.stop()
