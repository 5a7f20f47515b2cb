"""The ``qianfan-facade`` command: results on stdout, diagnostics on stderr."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from facade._errors import (
    AuthenticationError,
    ConfigurationError,
    ConsoleError,
    ExportError,
    FacadeError,
    InvalidInputError,
    InvalidResponseError,
    NotFoundError,
    TransportError,
)

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes by error branch, most specific first; documented in the README.
EXIT_CODES: tuple[tuple[type[FacadeError], int], ...] = (
    (InvalidInputError, 2),
    (ConfigurationError, 3),
    (AuthenticationError, 4),
    (NotFoundError, 5),
    (ConsoleError, 6),
    (TransportError, 7),
    (InvalidResponseError, 8),
    (ExportError, 9),
)
CONTRACT_FAILED = 1


def exit_code_for(error: FacadeError) -> int:
    """The process exit code for an expected failure."""
    for cls, code in EXIT_CODES:
        if isinstance(error, cls):
            return code
    return 1


@contextmanager
def _expected_failures() -> Iterator[None]:
    try:
        yield
    except FacadeError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(exit_code_for(exc)) from None


def _configure_logging(verbose: int) -> None:
    level = (
        logging.WARNING
        if verbose == 0
        else logging.INFO
        if verbose == 1
        else logging.DEBUG
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    # The SDK attaches its own stderr handler at import and logs every console
    # error with request headers; it stays silent unless asked for with -vv.
    logging.getLogger("qianfan").disabled = verbose < 2
    logging.getLogger("baidubce").setLevel(logging.WARNING)
    # -v promises one line per console call: the HTTP libraries' own request
    # lines come only with -vv.
    for name in ("httpx", "httpcore", "urllib3"):
        logging.getLogger(name).setLevel(
            logging.DEBUG if verbose >= 2 else logging.WARNING
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="-v: one line per call; -vv: debug.")
@click.version_option(package_name="qianfan-facade")
def main(verbose: int) -> None:
    """A typed, pluggable facade over Baidu Qianfan's console API."""
    _configure_logging(verbose)


def _client_options(func: F) -> F:
    options = [
        click.option(
            "--backend",
            "-b",
            default=None,
            help="Backend name (default: $QIANFAN_FACADE_BACKEND, then the default).",
        ),
        click.option(
            "--endpoint",
            default=None,
            help="Console base URL (default: $QIANFAN_CONSOLE_API_BASE_URL, else the"
            " real console https://qianfan.baidubce.com).",
        ),
        click.option(
            "--api-version",
            type=click.Choice(["v1", "v2"]),
            default="v1",
            show_default=True,
            help="Console API generation.",
        ),
        click.option(
            "--timeout",
            type=float,
            default=30.0,
            show_default=True,
            help="Seconds per network operation.",
        ),
        click.option(
            "--attempts",
            type=click.IntRange(1, 100),
            default=3,
            show_default=True,
            help="Tries per call for retryable failures (1: no retries).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _client(
    backend: str | None,
    endpoint: str | None,
    api_version: str,
    timeout: float,
    attempts: int,
) -> Any:
    from facade._client import Client
    from facade._retry import RetryPolicy

    return Client(
        backend,
        endpoint=endpoint,
        timeout=timeout,
        api_version=api_version,
        retry=RetryPolicy(max_attempts=attempts),
    )


@main.command()
def backends() -> None:
    """List installed backends and which one is used by default, and why."""
    from facade._plugins import default_registry

    with _expected_failures():
        registry = default_registry()
        found = registry.backends()
    # List what is installed first: this command is what a user runs when the
    # choice itself is broken (a misspelt QIANFAN_FACADE_BACKEND, say).
    for name, info in sorted(found.items()):
        extra = f" (requires {info.requires})" if info.requires else ""
        click.echo(f"{name:<10} {info.description}{extra} [plugin {info.plugin}]")
    with _expected_failures():
        choice = registry.choose(None)
    click.echo(f"chosen: {choice.name} ({choice.reason})", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="0 picks a free port.",
)
@click.option(
    "--access-key", envvar="QIANFAN_ACCESS_KEY", help="[env QIANFAN_ACCESS_KEY]"
)
@click.option(
    "--secret-key", envvar="QIANFAN_SECRET_KEY", help="[env QIANFAN_SECRET_KEY]"
)
@click.option(
    "--queued-polls",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Status reads a created task spends queued.",
)
@click.option(
    "--running-polls",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Status reads a created task then spends running.",
)
@click.option(
    "--outcome",
    type=click.Choice(["succeeded", "failed"]),
    default="succeeded",
    show_default=True,
    help="How created tasks end.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="SPEC",
    help="Inject a fault (repeatable): KIND[:ARG][@COUNT|%RATE], e.g. status:503@2,"
    " rate-limit:1.5, error-code:18, html, empty, truncated, drop%0.1, delay:2,"
    " skew:900.",
)
@click.option(
    "--fault-seed", type=int, default=None, help="Seed for faults given as %RATE."
)
def emulator(
    host: str,
    port: int,
    access_key: str | None,
    secret_key: str | None,
    queued_polls: int,
    running_polls: int,
    outcome: str,
    faults: tuple[str, ...],
    fault_seed: int | None,
) -> None:
    """Serve a local console emulator; prints its base URL first."""
    from facade.emulator import Emulator, FaultPlan, StatePlan

    try:
        parsed = FaultPlan.parse_many(list(faults))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault") from None

    if not access_key or not secret_key:
        with _expected_failures():
            raise ConfigurationError(
                "the emulator needs the keys it accepts: pass --access-key and "
                "--secret-key or set QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY"
            )
    import signal
    import threading

    plan = StatePlan(queued_polls, running_polls, outcome)  # type: ignore[arg-type]
    server = Emulator(
        credentials={access_key: secret_key}, host=host, port=port, plan=plan
    )
    for index, fault in enumerate(parsed):
        # One seed per fault, so that rate faults do not all fire together.
        seed = None if fault_seed is None else fault_seed + index
        server.faults.add(fault, seed=seed)
    try:
        server.start()
    except OSError as exc:
        with _expected_failures():
            raise ConfigurationError(
                f"cannot listen on {host}:{port}: {exc.strerror}"
            ) from None
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    click.echo(server.base_url)
    sys.stdout.flush()
    click.echo("emulator serving; press Ctrl+C to stop", err=True)
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@main.group()
def export() -> None:
    """Evaluation result export tasks."""


@export.command("status")
@click.argument("export_id")
@_client_options
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
def export_status(
    export_id: str,
    backend: str | None,
    endpoint: str | None,
    api_version: str,
    timeout: float,
    attempts: int,
    as_json: bool,
) -> None:
    """Show the state of an export task (numeric or string id)."""
    with (
        _expected_failures(),
        _client(backend, endpoint, api_version, timeout, attempts) as client,
    ):
        task = client.export_status(_id(export_id))
    _show(task, as_json)


@export.command("create")
@click.argument("evaluation_id")
@click.option(
    "--storage",
    type=click.Choice(["platform", "user_bucket"]),
    default="platform",
    show_default=True,
    help="platform: a download link follows; user_bucket: your BOS bucket.",
)
@click.option("--bucket", default=None, help="BOS bucket, with --storage user_bucket.")
@click.option(
    "--content",
    multiple=True,
    help="Field to export (repeatable): prompt, prediction, completion, metrics"
    " (and system on v2). Default: all.",
)
@click.option(
    "--result-id", "result_ids", multiple=True, help="V1 only: export just this row."
)
@_client_options
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
def export_create(
    evaluation_id: str,
    storage: str,
    bucket: str | None,
    content: tuple[str, ...],
    result_ids: tuple[str, ...],
    backend: str | None,
    endpoint: str | None,
    api_version: str,
    timeout: float,
    attempts: int,
    as_json: bool,
) -> None:
    """Start exporting an evaluation's results; prints the new task."""
    with (
        _expected_failures(),
        _client(backend, endpoint, api_version, timeout, attempts) as client,
    ):
        task = client.export_create(
            _id(evaluation_id),
            storage=storage,
            bucket=bucket,
            content=list(content) or None,
            result_ids=list(result_ids) or None,
        )
    _show(task, as_json)


@export.command("wait")
@click.argument("export_id")
@_client_options
@click.option(
    "--wait-timeout", type=float, default=600.0, show_default=True, help="Seconds."
)
@click.option(
    "--poll-interval", type=float, default=2.0, show_default=True, help="Seconds."
)
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
def export_wait(
    export_id: str,
    backend: str | None,
    endpoint: str | None,
    api_version: str,
    timeout: float,
    attempts: int,
    wait_timeout: float,
    poll_interval: float,
    as_json: bool,
) -> None:
    """Wait for an export task to finish; progress goes to stderr."""
    import time

    from rich.console import Console

    console = Console(stderr=True)
    started = time.monotonic()

    def elapsed() -> str:
        return f"{time.monotonic() - started:.1f}s"

    with (
        _expected_failures(),
        _client(backend, endpoint, api_version, timeout, attempts) as client,
    ):
        if console.is_terminal:
            with console.status(f"waiting for export {export_id}") as status:

                def show(task: Any) -> None:
                    status.update(
                        f"export {export_id}: {task.state.value} "
                        f"({task.raw_state}) after {elapsed()}"
                    )

                task = client.wait_for_export(
                    _id(export_id),
                    timeout=wait_timeout,
                    poll_interval=poll_interval,
                    on_change=show,
                )
        else:

            def show_line(task: Any) -> None:
                click.echo(
                    f"{elapsed()} export {export_id}: {task.state.value} "
                    f"({task.raw_state})",
                    err=True,
                )

            task = client.wait_for_export(
                _id(export_id),
                timeout=wait_timeout,
                poll_interval=poll_interval,
                on_change=show_line,
            )
    click.echo(f"export {export_id} succeeded after {elapsed()}", err=True)
    _show(task, as_json)


@export.command("download")
@click.argument("export_id")
@click.option(
    "--to",
    "destination",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder to write the export's zip into (created if missing).",
)
@_client_options
def export_download(
    export_id: str,
    destination: Path,
    backend: str | None,
    endpoint: str | None,
    api_version: str,
    timeout: float,
    attempts: int,
) -> None:
    """Download a finished export's zip into a folder; prints its path."""
    with (
        _expected_failures(),
        _client(backend, endpoint, api_version, timeout, attempts) as client,
    ):
        # --to always names a folder; a trailing separator tells the library so.
        path = client.download_export(_id(export_id), f"{destination}{os.sep}")
    click.echo(str(path))


def _id(text: str) -> int | str:
    """A command-line id: an integer (signed too) becomes an int, else a string."""
    digits = text[1:] if text.startswith("-") else text
    return int(text) if digits.isascii() and digits.isdigit() else text


def _show(task: Any, as_json: bool) -> None:
    shown = task.model_dump(mode="json", exclude={"raw"})
    if as_json:
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    for key, value in shown.items():
        click.echo(f"{key:<15} {'' if value is None else value}")


@main.command("call")
@click.argument("route")
@click.argument("action", required=False)
@click.option("--body", default="{}", show_default=True, help="JSON object to send.")
@_client_options
def call(
    route: str,
    action: str | None,
    body: str,
    backend: str | None,
    endpoint: str | None,
    api_version: str,
    timeout: float,
    attempts: int,
) -> None:
    """Call any console ROUTE (and V2 ACTION); print the normalized envelope."""
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        with _expected_failures():
            raise InvalidInputError(
                f"--body is not JSON: {exc}", parameter="body"
            ) from None
    with (
        _expected_failures(),
        _client(backend, endpoint, api_version, timeout, attempts) as client,
    ):
        response = client.call_action(route, action, parsed)
    click.echo(
        json.dumps(response.model_dump(mode="json"), indent=2, ensure_ascii=False)
    )


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--backend",
    "-b",
    "backend_names",
    multiple=True,
    help="Replay through this backend only (repeatable; default: all installed).",
)
def contract(paths: tuple[Path, ...], backend_names: tuple[str, ...]) -> None:
    """Replay cassettes through every backend and compare the results.

    PATHS are cassette files or folders (default: the bundled cassettes). Exits
    non-zero if any backend's normalized result differs, or a cassette was not
    played through.
    """
    from rich.console import Console
    from rich.table import Table

    from facade.contract import run_contract

    with _expected_failures():
        chosen = list(dict.fromkeys(backend_names))  # each backend once, in order
        report = run_contract(list(paths) or None, chosen or None)
    table = Table(title="qianfan-facade contract", show_lines=False)
    table.add_column("scenario", no_wrap=True)
    for name in report.backends:
        table.add_column(name)
    for result in report.results:
        cells = [result.cell(name) for name in report.backends]
        styled = [c if c == "identical" else f"[red]{c}[/red]" for c in cells]
        table.add_row(result.cassette.stem, *styled)
    # Off a terminal rich would cut the table at 80 columns; let it be whole.
    console = Console(width=None if Console().is_terminal else 240)
    console.print(table)
    failed = sum(not result.ok for result in report.results)
    count = len(report.results)
    summary = (
        f"{count} scenario{'s' if count != 1 else ''} x {len(report.backends)} "
        "backend replays: "
        + (
            "all identical"
            if report.ok
            else f"{failed} scenario(s) differ or did not play"
        )
    )
    click.echo(summary)
    if not report.ok:
        raise SystemExit(CONTRACT_FAILED)


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write cassettes into.",
)
@click.option("--backend", "-b", default=None, help="Backend to record through.")
@click.option(
    "--endpoint",
    default=None,
    help="Console or emulator to record from (default: start an emulator).",
)
@click.argument("names", nargs=-1)
def record(
    out: Path, backend: str | None, endpoint: str | None, names: tuple[str, ...]
) -> None:
    """Record the bundled scenarios (or NAMES among them) into cassettes."""
    import os

    from facade.contract import BUNDLED_SCENARIOS, record_scenario

    known = {scenario.name: scenario for scenario in BUNDLED_SCENARIOS}
    unknown = [name for name in names if name not in known]
    if unknown:
        with _expected_failures():
            raise InvalidInputError(
                f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}",
                parameter="names",
            )
    chosen = [known[name] for name in names] if names else list(BUNDLED_SCENARIOS)
    with _expected_failures(), _recording_endpoint(endpoint) as (url, ak, sk, server):
        for scenario in chosen:
            path = out / f"{scenario.name}.yaml"
            if scenario.faults and server is None:
                click.echo(
                    f"skipped {scenario.name}: its faults need the built-in "
                    "emulator (leave out --endpoint)",
                    err=True,
                )
                continue
            if server is not None:
                server.faults.clear()
                for fault in scenario.faults:
                    server.faults.add(fault)
            outcome = record_scenario(
                scenario,
                path,
                backend=backend,
                endpoint=url,
                access_key=ak or os.environ.get("QIANFAN_ACCESS_KEY", ""),
                secret_key=sk or os.environ.get("QIANFAN_SECRET_KEY", ""),
            )
            kind = "error" if outcome.error else "ok"
            click.echo(f"recorded {path} ({kind})")


@contextmanager
def _recording_endpoint(
    endpoint: str | None,
) -> Iterator[tuple[str, str | None, str | None, Any]]:
    if endpoint is not None:
        yield endpoint, None, None, None
        return
    from facade.emulator import Emulator, StatePlan

    access_key, secret_key = "recording-access-key", "recording-secret-key"
    # Two polls queued and two running, so a recorded flow shows every state.
    plan = StatePlan(queued_polls=2, running_polls=2)
    with Emulator(credentials={access_key: secret_key}, plan=plan) as server:
        yield server.base_url, access_key, secret_key, server
