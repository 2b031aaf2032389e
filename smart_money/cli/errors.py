"""The one way a command reports a failure.

An expected failure (bad configuration or input, a registry that refuses, a run that failed) is
one line `error: <cause>` on stderr, with a second line `fix: <hint>` when one is known, and exit
code 2 for usage and configuration errors or 1 for a failed operation. With `--debug` (or
SMART_MONEY_DEBUG=1) the exception is raised instead, and shown with its full traceback. Anything
not expected is a bug and always keeps its traceback.

The root app applies `cli_errors` once around every command. A command raises `usage_error(...)`
or `failure(...)` for what it finds itself, and wraps a call in `expected(...)` for failures that
only that command knows are the user's (e.g. a Dagster config error from its --config file).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import click
import typer

from smart_money.settings.cli import debug_enabled

_debug: ContextVar[bool] = ContextVar("smart_money_cli_debug", default=False)  # set by `cli_errors`

USAGE = 2  # bad configuration, option or input file: nothing was done
FAILED = 1  # the operation ran and failed (a registry refusal, a failed run)


class CliError(Exception):
    """An expected failure, reported as `error: <message>` (and `fix: <fix>`), exit `exit_code`."""

    def __init__(self, message: str, *, fix: str | None = None, exit_code: int = FAILED):
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.exit_code = exit_code


def usage_error(message: str, fix: str | None = None) -> CliError:
    """A usage or configuration error (exit 2)."""
    return CliError(message, fix=fix, exit_code=USAGE)


def failure(message: str, fix: str | None = None) -> CliError:
    """A failed operation (exit 1)."""
    return CliError(message, fix=fix, exit_code=FAILED)


CORRUPT_INDEX_FIX = (
    "restore registry.json from a backup, or move the models/smart-money-flow folder aside and run `smart-money run` "
    "to register a new model"
)


@dataclass(frozen=True)
class Expected:
    """An exception class (by module and name) every command reports in one line."""

    module: str
    name: str
    exit_code: int
    fix: str | None = None

    def matches(self, exc: BaseException) -> bool:
        return self.matches_type(type(exc))

    def matches_type(self, kind: type | None) -> bool:
        cls = getattr(sys.modules.get(self.module), self.name, None)
        return isinstance(cls, type) and isinstance(kind, type) and issubclass(kind, cls)


# The project's expected failures, most specific first. They are looked up in sys.modules when a
# command fails, so importing this module imports none of them (most live beside pandas): an
# exception whose module was never imported cannot have been raised.
EXPECTED: tuple[Expected, ...] = (
    Expected("smart_money.settings.run", "SettingsError", USAGE),
    Expected(
        "smart_money.sources.public_records.source",
        "RecordsFolderError",
        USAGE,
        "docs/real-data.md describes the records folder",
    ),
    Expected(
        "smart_money.data.raw_pull",
        "UnknownSymbols",
        USAGE,
        "`smart-money universe` lists the source's stocks",
    ),
    Expected(
        "smart_money.data.raw_pull",
        "EmptyUniverse",
        USAGE,
        "check the source's price files (docs/public-records.md); the run's warnings name those set aside",
    ),
    Expected("smart_money.sources.fmp.errors", "FmpAuthError", USAGE, "check FMP_API_KEY (docs/fmp.md)"),
    Expected("smart_money.sources.fmp.errors", "FmpLegacyEndpointError", USAGE, "see docs/fmp.md on legacy keys"),
    Expected("smart_money.orchestration.io_manager", "UnreadableAssetFile", FAILED),
    Expected(
        "smart_money.model.registry",
        "TamperedArtifact",
        FAILED,
        "restore the file, or register a new version with `smart-money run`",
    ),
    Expected("smart_money.model.registry", "CorruptIndex", FAILED, CORRUPT_INDEX_FIX),
    Expected(
        "smart_money.model.registry", "RegistryError", FAILED, "`smart-money models list` shows the registered versions"
    ),
    Expected("builtins", "FileNotFoundError", FAILED),
)


def known_failure(type_names: Iterable[tuple[str, str]]) -> CliError | None:
    """The first (class `module.Name`, message) pair whose class is an expected failure, as its
    CliError; None when none is. For the errors of a failed run's steps, which come as names
    (`smart_money.orchestration.failures`), outermost first."""
    for type_name, message in type_names:
        module, _, name = type_name.rpartition(".")
        kind = getattr(sys.modules.get(module or "builtins"), name, None)
        match = next((e for e in EXPECTED if e.matches_type(kind)), None)
        if match is not None:
            return CliError(message or name, fix=match.fix, exit_code=match.exit_code)
    return None


@contextmanager
def expected(
    *types: type[BaseException], exit_code: int = FAILED, fix: str | None = None, context: str | None = None
) -> Iterator[None]:
    """Within the block, `types` are expected failures of this command: raised again as a
    CliError (`context: <cause>`) that `cli_errors` reports; the original stays its cause."""
    try:
        yield
    except types as exc:
        cause = _cause(exc)
        raise CliError(f"{context}: {cause}" if context else cause, fix=fix, exit_code=exit_code) from exc


@contextmanager
def cli_errors(debug: bool = False) -> Iterator[None]:
    """Report an expected failure of the block in one line (two with a fix) on stderr and exit
    with its code; with `debug`, let it propagate with its traceback. Exits, usage errors and
    aborts of click pass through, and so does every unexpected exception."""
    token = _debug.set(debug)
    try:
        yield
    except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
        raise
    except Exception as exc:
        if debug:
            raise
        if isinstance(exc, CliError):
            message, fix, code = exc.message, exc.fix, exc.exit_code
        else:
            kind = next((e for e in EXPECTED if e.matches(exc)), None)
            if kind is None:
                raise
            message, fix, code = _cause(exc), kind.fix, kind.exit_code
        report(message, fix)
        raise typer.Exit(code) from exc
    finally:
        _debug.reset(token)


def debug_requested() -> bool:
    """Whether this invocation asked for tracebacks (`--debug`, or SMART_MONEY_DEBUG)."""
    return _debug.get() or debug_enabled()


def report(message: str, fix: str | None = None) -> None:
    """`error: <message>` and `fix: <fix>` on stderr, one line each."""
    typer.echo(f"{typer.style('error:', fg='red', bold=True)} {_one_line(message)}", err=True)
    if fix:
        typer.echo(f"{typer.style('fix:', fg='yellow')} {_one_line(fix)}", err=True)


def _cause(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _one_line(text: str) -> str:
    return " ".join(text.split())
