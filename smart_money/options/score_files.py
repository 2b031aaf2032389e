"""Scoring option files (what `smart-money options-score` does), import-light.

Imports only the engine's scoring path (no pandera, scikit-learn, chDB/ClickHouse, synthetic
market or evaluation; the event store is imported only with `--store`).

Input problems:
- a file that cannot be used at all (unreadable, empty, a required column missing, a column
  none of whose values can be read) raises `OptionsInputError(file, column, rows, reason)`;
  nothing is written (the command reports it in one line and exits with status 2);
- unusable rows (see `engine.validation` for the plausibility ranges) are quarantined: the rest
  is scored, and the rejected rows are counted in the summary and written beside the output as
  `<out>.rejected.csv` (file, kind, row, column, reason, record as JSON).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from smart_money.options.engine.batch import score_frames, smart_money_events, to_json_lines
from smart_money.options.engine.calibration import load_calibration
from smart_money.options.engine.frames import NormalizedTape, check, read_table
from smart_money.options.engine.rules import load_rules
from smart_money.options.engine.validation import OptionsInputError

__all__ = ["OptionsInputError", "CheckedInputs", "read_inputs", "rejected_path", "score_files"]

REJECTED_COLUMNS = ["file", "kind", "row", "column", "reason", "record"]


@dataclass
class CheckedInputs:
    """The usable rows of every input (normalized) and the rejected ones with their reasons."""

    tape: NormalizedTape
    rejected: pd.DataFrame  # REJECTED_COLUMNS, one row per rejected input row
    rows_read: dict[str, int]

    @property
    def rejected_counts(self) -> dict[str, int]:
        return {kind: int((self.rejected["kind"] == kind).sum()) for kind in self.rows_read}


def _rejected_rows(checked, kind: str, file: str) -> pd.DataFrame:
    bad = checked.problems.bad
    if not bad.any():
        return pd.DataFrame(columns=REJECTED_COLUMNS)
    source = checked.source.loc[bad]
    records = source.astype(object).where(source.notna(), None).to_dict(orient="records")
    return pd.DataFrame(
        {
            "file": file,
            "kind": kind,
            "row": (bad.nonzero()[0] + 1),
            "column": checked.problems.column[bad],
            "reason": checked.problems.reason[bad],
            "record": [json.dumps(r, default=str) for r in records],
        }
    )


def read_inputs(
    prints: str | Path,
    quotes: str | Path,
    underlying: str | Path | None = None,
    calendar: str | Path | None = None,
) -> CheckedInputs:
    """Read and check the files; OptionsInputError for a file that cannot be used at all,
    unusable rows quarantined (CheckedInputs.rejected)."""
    files = {"prints": prints, "quotes": quotes, "underlying": underlying, "calendar": calendar}
    frames, rejected, rows_read = {}, [], {}
    for kind, path in files.items():
        if path is None:
            continue
        checked = check(read_table(path), kind, str(path))
        frames[kind] = checked.frame
        rows_read[kind] = len(checked.source)
        rejected.append(_rejected_rows(checked, kind, str(path)))
    tape = NormalizedTape(
        frames["prints"],
        frames["quotes"],
        frames["underlying"] if "underlying" in frames else NormalizedTape.empty().underlying,
        frames.get("calendar"),
    )
    table = pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(columns=REJECTED_COLUMNS)
    return CheckedInputs(tape, table, rows_read)


def rejected_path(out: str | Path) -> Path:
    """Where the rejected rows of a run writing `out` go: `<out>.rejected.csv`."""
    return Path(f"{out}.rejected.csv")


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def score_files(
    prints: str | Path,
    quotes: str | Path,
    out: str | Path,
    underlying: str | Path | None = None,
    calendar: str | Path | None = None,
    store_url: str | None = None,
) -> dict:
    """Score the files and write SmartMoneyEvents as JSON lines to `out` (and the rejected rows
    to `<out>.rejected.csv` when there are any); with `store_url`, also insert the events
    into `smart_money_events`. Raises OptionsInputError (nothing written) for unusable files.
    Returns a summary."""
    out = Path(out)
    t0 = time.perf_counter()
    inputs = read_inputs(prints, quotes, underlying, calendar)
    tape = inputs.tape
    t1 = time.perf_counter()
    rules = load_rules()
    batch = score_frames(tape.prints, tape.quotes, tape.underlying, tape.calendar, rules, load_calibration(rules))
    t2 = time.perf_counter()
    events = batch.with_membership()
    _write_atomically(out, to_json_lines(smart_money_events(events, rules)))
    rejected_file = rejected_path(out)
    if len(inputs.rejected):
        _write_atomically(rejected_file, inputs.rejected.to_csv(index=False))
    else:
        rejected_file.unlink(missing_ok=True)  # a previous run's file would describe other input
    summary = {
        "prints": len(tape.prints),
        "events": len(events),
        "by_profile": dict(Counter(events["primary_profile_id"].fillna("(abstained)")).most_common()),
        "dropped": batch.reconstruction.dropped,
        "rows_read": inputs.rows_read,
        "rejected": inputs.rejected_counts,
        "rejected_file": str(rejected_file) if len(inputs.rejected) else None,
        "rejected_reasons": dict(Counter(inputs.rejected["reason"]).most_common()),
        "seconds": {
            "read_and_check": round(t1 - t0, 3),
            "score": round(t2 - t1, 3),
            "write": round(time.perf_counter() - t2, 3),
        },
    }
    if store_url is not None:
        # imported only when storing: chDB / clickhouse-connect are heavy and the plain file
        # path must not pay for them
        from smart_money.options.engine.batch import storage_rows
        from smart_money.options.store import EventStore, describe_url

        with EventStore(store_url) as store:
            summary["stored"] = store.insert(storage_rows(events, rules, run_mode="replay"))
        summary["store"] = describe_url(store_url)
    return summary


def configured_store_url() -> str:
    """The event store the settings point at (SMART_MONEY_CLICKHOUSE_URL or chDB under the
    data directory)."""
    from smart_money.settings import Settings  # only for --store
    from smart_money.settings.options import OptionsSettings

    return OptionsSettings.from_env().store_url(Settings.from_env().data_dir)
