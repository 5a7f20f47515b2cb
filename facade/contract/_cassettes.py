"""Record scenarios into vcrpy cassettes and replay them through any backend.

A cassette holds one scenario: the recorded HTTP interactions plus the scenario
itself in the cassette's metadata, so any directory of cassettes can be
replayed without other files. Recording keeps no credential: request headers
are dropped except ``Content-Type``, and the file is written under a temporary
name and renamed into place only when the recording completed.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

import vcr
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request

from facade._async_client import AsyncClient
from facade._client import Client
from facade._errors import ConfigurationError, FacadeError
from facade._plugins import PluginRegistry
from facade.contract._scenarios import (
    METADATA_KEY,
    OUTCOME_KEY,
    REQUESTS_KEY,
    Outcome,
    Scenario,
    run_scenario,
    run_scenario_async,
)

__all__ = [
    "MATCH_ON",
    "CassetteInfo",
    "Replay",
    "console_vcr",
    "load_scenario",
    "record_scenario",
    "recorded_outcome",
    "replay_cassette",
]

#: Matchers that ignore only what legitimately differs between backends and
#: runs: headers (signature, date, user agent, request-source), host and port,
#: JSON spacing and key order, and ``?Action=`` empty versus absent.
MATCH_ON = ("method", "path", "console_query", "json_body")

# Replays never send anything; these keys only have to be well-formed.
_REPLAY_ACCESS_KEY = "replay-access-key"
_REPLAY_SECRET_KEY = "replay-secret-key"
_KEPT_REQUEST_HEADERS = {"content-type"}
_DROPPED_RESPONSE_HEADERS = {"date", "server", "set-cookie"}


# vcrpy calls a matcher for every recorded request it compares, so the same
# bodies and URLs are decoded again and again; both decodings are cached.
_DECODED_CACHE = 4096


@functools.lru_cache(maxsize=_DECODED_CACHE)
def _significant_query(url: str) -> tuple[tuple[str, str], ...]:
    pairs = parse_qsl(url.partition("?")[2], keep_blank_values=True)
    return tuple(sorted((k, v) for k, v in pairs if not (k == "Action" and v == "")))


def _console_query(r1: Request, r2: Request) -> None:
    left, right = _significant_query(r1.url), _significant_query(r2.url)
    if left != right:
        raise AssertionError(f"query {left} != {right}")


@functools.lru_cache(maxsize=_DECODED_CACHE)
def _decoded_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _decoded(body: Any) -> Any:
    if body in (None, b"", ""):
        return None
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else str(body)
    except UnicodeDecodeError:
        return body
    return _decoded_text(text)


def _json_body(r1: Request, r2: Request) -> None:
    left, right = _decoded(r1.body), _decoded(r2.body)
    if left != right:
        raise AssertionError(f"body {left!r} != {right!r}")


def _scrub_request(request: Request) -> Request:
    for name in list(request.headers):
        if name.lower() not in _KEPT_REQUEST_HEADERS:
            del request.headers[name]
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in _DROPPED_RESPONSE_HEADERS:
            del headers[name]
    return response


def console_vcr(**overrides: Any) -> vcr.VCR:
    """A ``vcr.VCR`` with the facade's matchers and scrubbers registered."""
    settings: dict[str, Any] = {
        "match_on": MATCH_ON,
        "before_record_request": _scrub_request,
        "before_record_response": _scrub_response,
        "decode_compressed_response": True,
        "record_on_exception": False,
    }
    settings.update(overrides)
    recorder = vcr.VCR(**settings)
    recorder.register_matcher("console_query", _console_query)
    recorder.register_matcher("json_body", _json_body)
    return recorder


def record_scenario(
    scenario: Scenario,
    path: str | os.PathLike[str],
    *,
    backend: str | None = None,
    endpoint: str,
    access_key: str,
    secret_key: str,
    registry: PluginRegistry | None = None,
) -> Outcome:
    """Run ``scenario`` against a live console (or emulator) and save its cassette.

    The cassette at ``path`` is replaced only when the recording completed; on
    any unexpected exception nothing is written. Returns the outcome seen live.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=".partial.yaml", dir=target.parent
        )
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write cassettes in {target.parent}: {exc.strerror}"
        ) from None
    os.close(handle)
    os.unlink(partial)  # vcrpy must find no cassette there, so it records anew
    try:
        client = Client(
            backend,
            endpoint=endpoint,
            access_key=access_key,
            secret_key=secret_key,
            api_version=scenario.api_version,
            retry=scenario.retry_policy(),
            registry=registry,
        )
        with client, console_vcr(record_mode="all").use_cassette(partial) as cassette:
            cassette.get_metadata(METADATA_KEY, scenario.model_dump(mode="json"))
            cassette.get_metadata("endpoint", endpoint)
            outcome = run_scenario(client, scenario)
            if not cassette.requests:
                # A refused connection, say: nothing to replay, so nothing saved.
                raise ConfigurationError(
                    f"recording {scenario.name} captured no HTTP interaction "
                    f"(the run ended in {outcome.kind()}); the cassette was left "
                    "as it was"
                )
            # What the console's answers meant when recorded, and which
            # requests carried them: every replay must match both.
            cassette.get_metadata(OUTCOME_KEY, outcome.model_dump(mode="json"))
            cassette.get_metadata(
                REQUESTS_KEY, [_request_line(r) for r in cassette.requests]
            )
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return outcome


def _metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(path, encoding="utf-8") as stream:
            data = yaml.load(stream, Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigurationError(
            f"{path}: not a readable YAML cassette ({exc})"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise ConfigurationError(f"{path}: not a vcrpy cassette (no interactions list)")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict) or METADATA_KEY not in metadata:
        raise ConfigurationError(
            f"{path} is not a qianfan-facade cassette: it has no "
            f"'{METADATA_KEY}' metadata (record it with 'qianfan-facade record')"
        )
    return metadata


def _valid(model: type[Any], value: Any, path: object, what: str) -> Any:
    try:
        return model.model_validate(value)
    except ValueError as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else {"msg": str(exc)}
        raise ConfigurationError(
            f"{path}: its {what} is invalid: {first.get('msg')} at "
            f"{'.'.join(str(p) for p in first.get('loc', ()))}"
        ) from None


@dataclass(frozen=True)
class CassetteInfo:
    """What a qianfan-facade cassette says about itself, read once."""

    scenario: Scenario
    endpoint: str
    outcome: Outcome | None
    requests: tuple[str, ...] | None

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> CassetteInfo:
        """Read a cassette's metadata; :class:`~facade.ConfigurationError` if bad."""
        metadata = _metadata(path)
        stored = metadata.get(OUTCOME_KEY)
        requests = metadata.get(REQUESTS_KEY)
        return cls(
            scenario=_valid(Scenario, metadata[METADATA_KEY], path, "scenario"),
            endpoint=str(metadata.get("endpoint") or "http://127.0.0.1"),
            outcome=None
            if stored is None
            else _valid(Outcome, stored, path, "outcome"),
            requests=None
            if not isinstance(requests, list)
            else tuple(str(line) for line in requests),
        )


def load_scenario(path: str | os.PathLike[str]) -> tuple[Scenario, str]:
    """Read the scenario and recording endpoint stored in a cassette.

    Raises :class:`~facade.ConfigurationError` naming the file for anything
    that is not a readable qianfan-facade cassette.
    """
    info = CassetteInfo.read(path)
    return info.scenario, info.endpoint


def _request_line(request: Request) -> str:
    action = dict(parse_qsl(request.url.partition("?")[2])).get("Action")
    return f"{request.method} {request.path}" + (f"?Action={action}" if action else "")


def recorded_outcome(path: str | os.PathLike[str]) -> Outcome | None:
    """The outcome seen when the cassette was recorded, if it was stored."""
    return CassetteInfo.read(path).outcome


@dataclass(frozen=True)
class Replay:
    """One cassette replayed through one backend."""

    scenario: Scenario
    backend: str
    outcome: Outcome | None
    fully_played: bool
    problem: str | None = None
    mode: str = "sync"


@contextmanager
def _playing(path: str | os.PathLike[str]) -> Iterator[Any]:
    recorder = console_vcr(record_mode="none")
    with recorder.use_cassette(str(path), allow_playback_repeats=False) as cassette:
        yield cassette


def replay_cassette(
    path: str | os.PathLike[str],
    backend: str,
    *,
    mode: Literal["sync", "async"] = "sync",
    registry: PluginRegistry | None = None,
    info: CassetteInfo | None = None,
) -> Replay:
    """Replay a cassette through ``backend`` with the sync or async client.

    Nothing reaches the network: a request the cassette does not hold ends the
    replay with a ``problem`` naming it. ``info`` spares re-reading the
    cassette's metadata when it was read already.
    """
    info = info or CassetteInfo.read(path)
    scenario = info.scenario
    settings: dict[str, Any] = {
        "endpoint": info.endpoint,
        "access_key": _REPLAY_ACCESS_KEY,
        "secret_key": _REPLAY_SECRET_KEY,
        "api_version": scenario.api_version,
        "retry": scenario.retry_policy(),
        "registry": registry,
    }
    try:
        with _playing(path) as cassette:
            if mode == "sync":
                with Client(backend, **settings) as client:
                    outcome = run_scenario(client, scenario)
            else:
                outcome = asyncio.run(_replay_async(backend, settings, scenario))
            fully_played = bool(cassette.all_played)
            unplayed = len(cassette) - cassette.play_count
            present = tuple(_request_line(r) for r in cassette.requests)
    except CannotOverwriteExistingCassetteException as exc:
        return Replay(scenario, backend, None, False, _unmatched(exc), mode)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        # vcrpy reads the interactions lazily; a damaged one surfaces here, and
        # so do arguments that do not fit the scenario's operation.
        if isinstance(exc, FacadeError):
            raise
        raise ConfigurationError(
            f"{path}: cannot replay ({type(exc).__name__}: {exc})"
        ) from None
    problem = None if fully_played else f"{unplayed} recorded interaction(s) not played"
    if problem is not None:
        pass  # the more specific finding stands
    elif info.requests is None:
        problem = "no recorded request list (record the cassette again)"
    elif info.requests != present:
        problem = "interactions differ from those recorded (edited, moved or removed)"
    return Replay(scenario, backend, outcome, fully_played, problem, mode)


async def _replay_async(
    backend: str, settings: dict[str, Any], scenario: Scenario
) -> Outcome:
    async with AsyncClient(backend, **settings) as client:
        return await run_scenario_async(client, scenario)


def _unmatched(exc: CannotOverwriteExistingCassetteException) -> str:
    request = getattr(exc, "failed_request", None)
    if request is None:
        return "a request was not found in the cassette"
    return f"request not in the cassette: {request.method} {request.path}"
