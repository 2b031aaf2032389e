"""How the `smart-money` command fails: an expected failure is one line `error: ...` (and maybe
`fix: ...`) on stderr with exit code 2 (usage, configuration) or 1 (a failed operation), without a
traceback; `--debug` or SMART_MONEY_DEBUG=1 shows the traceback. Through the installed entry point
in a subprocess, and through typer's CliRunner."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from smart_money.cli import app
from smart_money.cli.errors import EXPECTED, USAGE, CliError, cli_errors, expected
from smart_money_tests.support.cli import assert_one_error, clean_env, runner_env, smart_money

HEAVY = ("dagster", "pandas", "numpy", "lightgbm", "sklearn", "scipy", "chdb", "numba", "uvicorn", "fastapi")


def test_a_start_after_the_last_month_is_a_configuration_error(tmp_path):
    proc = smart_money("run", env=clean_env(tmp_path, SMART_MONEY_START="2099-01"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert_one_error(proc.stderr, "SMART_MONEY_START")


def test_fmp_without_a_key_is_a_configuration_error_before_the_run_starts(tmp_path):
    proc = smart_money("run", env=clean_env(tmp_path, SMART_MONEY_SOURCE="fmp", FMP_API_KEY=""))
    assert proc.returncode == 2 and proc.stdout == ""
    assert_one_error(proc.stderr, "FMP_API_KEY")


def test_promoting_an_unknown_version_is_a_failed_operation(tmp_path):
    proc = smart_money("models", "promote", "9.9.9", env=clean_env(tmp_path))
    assert proc.returncode == 1
    assert_one_error(proc.stderr, "no version 9.9.9")


@pytest.mark.parametrize("how", ["option", "variable"])
def test_debug_shows_the_traceback(tmp_path, how):
    args, env = ["models", "promote", "9.9.9"], clean_env(tmp_path)
    if how == "option":
        args = ["--debug", *args]
    else:
        env["SMART_MONEY_DEBUG"] = "1"
    proc = smart_money(*args, env=env)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "RegistryError" in proc.stderr and "no version 9.9.9" in proc.stderr


@pytest.mark.parametrize(
    ("args", "code", "names"),
    [
        (["run", "--start", "2020-13"], 2, ["--start", "YYYY-MM"]),
        (["evaluate", "--model", "1.0.0", "--start", "2020-01", "--end", "2020-02", "--out", "x.json",
          "--source", "nope"], 2, ["SMART_MONEY_SOURCE"]),
        (["universe", "--source", "public_records"], 2, ["SMART_MONEY_PUBLIC_RECORDS_DIR"]),
        (["predict"], 2, ["SYMBOL", "--jsonl"]),
        (["predict", "AAPL", "--features", "[1,"], 2, ["--features"]),
        (["models", "rollback"], 1, ["no previous champion"]),
        (["models", "export", "latest", "--out", "out"], 1, ["no latest version"]),
    ],
)  # fmt: skip
def test_expected_failures_are_one_line_with_their_exit_code(tmp_path, args, code, names):
    result = CliRunner().invoke(app, args, env=runner_env(tmp_path))
    assert result.exit_code == code, result.output
    assert_one_error(result.stderr, *names)


def test_run_config_file_errors_are_usage_errors(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("dataset_splits: [walk_forward_through_test]\n")
    result = CliRunner().invoke(app, ["run", "--config", str(bad)], env=runner_env(tmp_path))
    assert result.exit_code == 2
    assert_one_error(result.stderr, "must map asset names to config mappings")
    missing = CliRunner().invoke(app, ["run", "--config", str(tmp_path / "absent.yaml")], env=runner_env(tmp_path))
    assert missing.exit_code == 2
    assert_one_error(missing.stderr, "cannot read")


def test_every_expected_failure_names_an_exception_class():
    for kind in EXPECTED:
        cls = getattr(importlib.import_module(kind.module), kind.name)
        assert isinstance(cls, type) and issubclass(cls, BaseException), kind


def test_only_expected_failures_become_one_line():
    with pytest.raises(typer.Exit) as stopped, cli_errors():
        raise CliError("bad input", exit_code=USAGE)
    assert stopped.value.exit_code == USAGE
    with pytest.raises(typer.Exit) as stopped, cli_errors(), expected(KeyError):
        raise KeyError("x")
    assert stopped.value.exit_code == 1 and isinstance(stopped.value.__cause__, CliError)
    with pytest.raises(KeyError), cli_errors():  # a bug keeps its traceback
        raise KeyError("x")
    with pytest.raises(CliError), cli_errors(debug=True):
        raise CliError("bad input")


def test_the_cli_loads_no_heavy_library_until_a_command_runs():
    code = f"import sys, smart_money.cli; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "", proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "args, env",
    [
        (["models", "list"], {}),
        (["run"], {"SMART_MONEY_START": "2022-13"}),
        (["options-score", "--prints", "missing.csv", "--quotes", "missing.csv", "--out", "x"], {}),
    ],
    ids=["models-list", "settings-error", "options-score-arguments"],
)
def test_quick_commands_answer_without_loading_a_heavy_library(tmp_path, args, env):
    """What keeps them at a fraction of a second (bench/cli_startup.py times them)."""
    code = (
        "import sys\nfrom smart_money.cli import app\n"
        f"try:\n    app({args!r}, prog_name='smart-money')\nexcept SystemExit:\n    pass\n"
        f"print('loaded:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    environment = {**os.environ, **env, "SMART_MONEY_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=environment
    )
    assert proc.stdout.strip().splitlines()[-1] == "loaded:", proc.stdout + proc.stderr
