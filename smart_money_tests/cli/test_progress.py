"""Progress of long commands on stderr (`smart_money.cli.progress`): plain stamped lines when
stderr is not a terminal (CI logs, pipes), nothing with --quiet; a run's id and UI link first."""

from __future__ import annotations

import io

from rich.console import Console

from smart_money.cli.progress import RunProgress, StepProgress
from smart_money_tests.support.cli import PROGRESS_LINE, clean_env, smart_money


def captured(quiet: bool = False, total: int | None = None) -> tuple[StepProgress, io.StringIO]:
    out = io.StringIO()
    return StepProgress("job: 3 things", quiet=quiet, total=total, console=Console(file=out, width=80)), out


def test_plain_lines_on_a_non_terminal_name_each_step_its_count_and_seconds():
    progress, out = captured(total=2)
    with progress:
        progress.step("load")  # shown only live, on a terminal
        progress.advance("load", 1.25)
        progress("a note [kept as written]")
        progress.advance("score", detail="FAILED")
    lines = out.getvalue().splitlines()
    assert all(PROGRESS_LINE.match(line) for line in lines), lines
    assert [line.split("] ", 1)[1] for line in lines] == [
        "job: 3 things",
        "1/2 load (1.2 s)",
        "a note [kept as written]",
        "2/2 score FAILED",
    ]
    assert "\x1b" not in out.getvalue()  # no colours, no cursor movement


def test_quiet_progress_writes_nothing():
    progress, out = captured(quiet=True, total=1)
    with progress:
        progress.advance("load", 1.0)
        progress("a note")
    assert out.getvalue() == ""


def test_a_run_shows_its_id_and_ui_link_then_finished_steps_but_not_skipped_ones():
    progress, out = captured()
    run = RunProgress(progress)
    with progress:
        run.run_started("abc-123", steps=3)
        run.step_started("universe")
        run.step_finished("universe", 2.0, "done")
        run.warning("raw_prices", "public records: x.csv\n set aside")
        run.step_finished("features", None, "failed")
        run.step_finished("labels", None, "skipped")
    lines = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines[1] == "run abc-123: follow it live with `make ui` (dagster dev) at http://127.0.0.1:3000/runs/abc-123"
    assert lines[2:] == [
        "1/3 universe (2.0 s)",
        "warning: raw_prices: public records: x.csv set aside",
        "2/3 features FAILED",
    ]
    assert progress.done == 3


def test_options_eval_reports_its_steps_on_a_captured_stderr_and_quiet_silences_them(tmp_path):
    args = ["options-eval", "--scenarios", "50", "--out", str(tmp_path / "eval.json")]
    proc = smart_money(*args, env=clean_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines and all(PROGRESS_LINE.match(line) for line in lines), proc.stderr
    steps = [line.split("] ", 1)[1] for line in lines]
    assert steps[0] == "options-eval: 50 scenarios, seed 7"
    assert [s[:4] for s in steps[1:]] == ["1/4 ", "2/4 ", "3/4 ", "4/4 "], steps
    assert "\x1b" not in proc.stderr and "options-eval: " in proc.stdout  # the result table stays on stdout

    quiet = smart_money(*args, "--quiet", env=clean_env(tmp_path))
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
