"""What a new user's mistakes look like through the real `smart-money run`, `evaluate` and options
commands (issue 17): one line naming the cause (and one naming the fix), exit 2 for a usage or
configuration error and 1 for a failed run, no traceback, and nothing written but the failed
run's record in the run history; `--debug` shows the traceback instead."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smart_money_tests.support.cli import assert_one_error, clean_env, files_written, progress_lines, smart_money

# two months keep a run that gets as far as its first steps short
SHORT = {"SMART_MONEY_START": "2021-01", "SMART_MONEY_END": "2021-02"}
EVALUATE = ["evaluate", "--model", "latest", "--start", "2021-01", "--end", "2021-02"]


def records_env(folder: Path | None) -> dict[str, str]:
    env = {"SMART_MONEY_SOURCE": "public_records", **SHORT}
    return env | ({"SMART_MONEY_PUBLIC_RECORDS_DIR": str(folder)} if folder else {})


def unreadable_records(root: Path) -> Path:
    """A records folder whose only price table is not one (set aside): no stock to run on."""
    (root / "normalized").mkdir(parents=True)
    (root / "normalized" / "prices.csv").write_text("a,b\n1,2\n")
    return root


def empty_records(root: Path) -> Path:
    root.mkdir()
    return root


def check_failure(home: Path, proc, code: int, *names: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert_one_error(proc.stderr, *names, after_progress=True)
    assert files_written(home) == [], files_written(home)


@pytest.mark.parametrize("command", ["run", "evaluate"])
@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SMART_MONEY_SOURCE": "fmp", "FMP_API_KEY": ""}, ["FMP_API_KEY"]),
        (records_env(None), ["SMART_MONEY_PUBLIC_RECORDS_DIR"]),
        (records_env(Path("/nonexistent/records")), ["/nonexistent/records", "no such folder"]),
    ],
)
def test_settings_the_source_cannot_open_with_are_one_line(tmp_path, command, env, names):
    home = tmp_path / "home"
    args = ["run"] if command == "run" else [*EVALUATE, "--out", str(home / "out.json")]
    check_failure(home, smart_money(*args, env=clean_env(home, **env)), 2, *names)


@pytest.mark.parametrize(
    ("folder", "names"),
    [
        (empty_records, ["no price files"]),
        (unreadable_records, ["public_records source lists no stocks"]),
    ],
)
def test_a_records_folder_without_readable_prices_fails_the_run_in_one_line(tmp_path, folder, names):
    home = tmp_path / "home"
    records = folder(tmp_path / "records")
    proc = smart_money("run", env=clean_env(home, **records_env(records)))
    check_failure(home, proc, 2, *names)
    assert (home / ".dagster_home").is_dir()  # the failed run is recorded (the UI shows it)


def test_unknown_symbols_fail_the_run_in_one_line_and_debug_shows_the_traceback(tmp_path):
    home = tmp_path / "home"
    proc = smart_money("run", "--symbols", "ZZZZ,QQQQ", env=clean_env(home, **SHORT))
    check_failure(home, proc, 2, "symbols not in the simulated universe: QQQQ, ZZZZ")
    assert "smart-money universe" in proc.stderr  # the fix names the command listing the stocks
    shown = progress_lines(proc.stderr)  # the run id and its page in the UI, then the failed step
    assert re.search(r"run ([0-9a-f-]{36}): .* http://127\.0\.0\.1:3000/runs/\1$", shown[1]), shown
    assert shown[2].endswith("universe FAILED") and len(shown) == 3, shown  # skipped steps are not listed

    debug = smart_money("--debug", "run", "--symbols", "ZZZZ,QQQQ", env=clean_env(tmp_path / "debug", **SHORT))
    assert debug.returncode != 0
    assert "Traceback" in debug.stderr or "Stack Trace" in debug.stderr
    assert "smart_money.data.raw_pull.UnknownSymbols" in debug.stderr


@pytest.mark.parametrize("folder", [empty_records, None])
def test_evaluate_reports_the_source_and_the_symbols_before_the_model(tmp_path, folder):
    """No registered model here: the source's own mistakes are reported first."""
    home = tmp_path / "home"
    out = ["--out", str(home / "out.json")]
    if folder is None:
        proc = smart_money(*EVALUATE, *out, "--symbols", "ZZZZ,QQQQ", env=clean_env(home))
        check_failure(home, proc, 2, "symbols not in the simulated universe: QQQQ, ZZZZ")
    else:
        proc = smart_money(*EVALUATE, *out, env=clean_env(home, **records_env(folder(tmp_path / "records"))))
        check_failure(home, proc, 2, "no price files")


@pytest.mark.parametrize(
    "command",
    [
        ["options-eval", "--scenarios", "50"],
        ["evaluate", "--model", "latest", "--start", "2021-01", "--end", "2021-02"],
    ],
)
def test_an_out_file_that_cannot_be_written_is_a_usage_error_before_any_work(tmp_path, command):
    home = tmp_path / "home"
    home.mkdir()
    (home / "a_file").write_text("x")
    for out, names in ((home, ["is a folder"]), (home / "a_file" / "out.json", ["not a writable folder"])):
        proc = smart_money(*command, "--out", str(out), env=clean_env(home))
        assert proc.returncode == 2, proc.stderr
        assert_one_error(proc.stderr, "--out", *names)
    assert files_written(home) == [home / "a_file"]
