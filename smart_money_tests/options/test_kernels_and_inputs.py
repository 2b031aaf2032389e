"""The numpy kernels give exactly the compiled ones' results; bad input files are one clear
error (nothing written), bad rows are quarantined beside the output and the rest is scored."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from smart_money.options.engine import kernels, kernels_jit
from smart_money.options.engine.batch import score_frames, smart_money_events
from smart_money.options.engine.contracts import SmartMoneyEvent
from smart_money.options.engine.frames import NormalizedTape, normalize_prints, normalize_quotes
from smart_money.options.engine.reconstruction import _HASH_SEEDS, _LOW_MULTIPLIER
from smart_money.options.engine.rules import load_rules
from smart_money.options.market.synthetic import catalogue
from smart_money.options.score_files import OptionsInputError, rejected_path, score_files
from smart_money_tests.support.option_tape import print_row, quote_rows


def test_numpy_kernels_match_the_compiled_ones():
    rng = np.random.default_rng(3)
    left_ts, right_ts = rng.integers(0, 200, 3000), rng.integers(0, 200, 5000)  # many equal times, unsorted
    left_code, right_code = rng.integers(-1, 40, 3000), rng.integers(-1, 40, 5000)
    assert np.array_equal(
        kernels.asof_join(left_ts, left_code, right_ts, right_code),
        kernels_jit.asof_join(left_ts, left_code, right_ts, right_code),
    )
    ids = ["", "a", "abcdefgh", "abcdefghi", "x\x00", "Z123-00042R7", "ü-é-長い-print-id-0001", "\x00\x00"]
    ids += ["ab" + "\x00" * 9] + ["".join(map(chr, rng.integers(0, 400, rng.integers(0, 40)))) for _ in range(500)]
    utf8 = [s.encode() for s in ids]
    offsets = np.cumsum([0] + [len(b) for b in utf8]).astype(np.int64)
    data = np.frombuffer(b"".join(utf8), dtype=np.uint8)
    for part in (offsets, offsets[3:], offsets[5:9], offsets[:1]):  # Arrow slices start anywhere
        for a, b in zip(
            kernels.fold_words(data, part, *_HASH_SEEDS, _LOW_MULTIPLIER),
            kernels_jit.fold_words(data, part, *_HASH_SEEDS, _LOW_MULTIPLIER),
        ):
            assert np.array_equal(a, b)
    n = 2000
    und = np.sort(rng.integers(0, 30, n))
    start = np.zeros(n, np.int64)
    for u in np.unique(und):
        rows = und == u
        start[rows] = np.sort(rng.integers(0, 3000, rows.sum()))
    contract, size = rng.integers(0, 8, n), rng.integers(1, 500, n).astype(float)
    args = (und, start, contract, size, 500, 1 / 3, 3.0)
    assert np.array_equal(kernels.leg_anchors(*args), kernels_jit.leg_anchors(*args))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    tape, _ = catalogue(per_variant=1)
    prints = tape.prints.copy()
    prints["ts"] = prints["ts"].map(lambda t: t.isoformat())
    prints.to_csv(folder / "prints.csv", index=False)
    tape.quotes.to_parquet(folder / "quotes.parquet")
    tape.underlying.to_parquet(folder / "underlying.parquet")
    return folder, prints


def run(folder, prints_file, out):
    return score_files(prints_file, folder / "quotes.parquet", out, folder / "underlying.parquet")


def test_bad_rows_are_quarantined_beside_the_output_and_the_rest_is_scored(files, tmp_path):
    folder, prints = files
    bad = prints.copy()
    bad.loc[0, "price"] = -1.0
    bad.loc[1, "size"] = 1e15
    bad.loc[2, "expiry"] = "2099-01-15"
    bad.loc[3, "price"] = np.nan
    bad.loc[4, "right"] = "X"
    bad = pd.concat([bad, bad.iloc[[10]]], ignore_index=True)  # a repeated print ID
    bad.loc[5, "price"] = 1e300
    bad.to_csv(tmp_path / "prints.csv", index=False)
    out = tmp_path / "events.jsonl"
    summary = run(folder, tmp_path / "prints.csv", out)
    assert summary["rejected"]["prints"] == 7 and summary["prints"] == len(prints) - 6
    rejected = pd.read_csv(rejected_path(out))
    assert sorted(rejected["row"]) == [1, 2, 3, 4, 5, 6, len(bad)]
    reasons = dict(zip(rejected["row"], rejected["column"]))
    assert reasons[1] == "price" and reasons[2] == "size" and reasons[3] == "expiry" and reasons[5] == "right"
    assert "duplicate print_id" in set(rejected["reason"])
    assert json.loads(rejected["record"].iloc[0])["print_id"] == prints.loc[0, "print_id"]
    events = [SmartMoneyEvent.model_validate_json(line) for line in out.read_text().splitlines()]
    assert events and not {p for e in events for p in e.member_print_ids} & set(prints.loc[:5, "print_id"])
    clean = run(folder, folder / "prints.csv", out)  # a clean run removes the stale rejected file
    assert clean["rejected"]["prints"] == 0 and not rejected_path(out).exists()


@pytest.mark.parametrize(
    ("mutate", "column", "message"),
    [
        (lambda f: f.drop(columns=["right"]), "right", "required column missing"),
        (lambda f: f.assign(ts="yesterday-ish"), "ts", "no row is usable"),
        (None, None, "empty"),  # not even a header row
    ],
)
def test_an_unusable_file_is_one_clear_error_and_nothing_is_written(files, tmp_path, capsys, mutate, column, message):
    folder, prints = files
    path = tmp_path / "prints.csv"
    if mutate is None:
        path.write_text("")
    else:
        mutate(prints.copy()).to_csv(path, index=False)
    out = tmp_path / "events.jsonl"
    with pytest.raises(OptionsInputError) as error:
        run(folder, path, out)
    assert error.value.file == str(path) and error.value.column == column and message in str(error.value)
    assert "\n" not in str(error.value) and not out.exists() and not rejected_path(out).exists()
    # the command reports it in one line (and a hint), exit 2, no traceback, nothing written
    command = [sys.executable, "-m", "smart_money.cli", "options-score", "--prints", str(path)]
    command += ["--quotes", str(folder / "quotes.parquet"), "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and lines[0].startswith("error: ") and str(path) in lines[0], done.stderr
    assert len(lines) <= 2 and "Traceback" not in done.stderr and not out.exists()


def test_bad_spot_rows_are_quarantined_and_crossed_option_quotes_kept(files, tmp_path):
    folder, _ = files
    quotes = pd.read_parquet(folder / "quotes.parquet")
    quotes.loc[0, ["bid", "ask"]] = [2.0, 1.0]  # a crossed NBBO: a market state, kept (prints are not placed on it)
    quotes.to_parquet(tmp_path / "quotes.parquet")
    spot = pd.read_parquet(folder / "underlying.parquet")
    spot.loc[0, "bid"] = -5.0
    spot.to_parquet(tmp_path / "underlying.parquet")
    out = tmp_path / "events.jsonl"
    summary = score_files(folder / "prints.csv", tmp_path / "quotes.parquet", out, tmp_path / "underlying.parquet")
    assert summary["rejected"] == {"prints": 0, "quotes": 0, "underlying": 1}
    assert set(pd.read_csv(rejected_path(out))["reason"]) == {"bid not positive"}


def test_event_source_ts_is_the_first_print_floored_to_the_microsecond():
    first = pd.Timestamp("2024-06-12 15:00:00.123456789", tz="UTC")
    prints = pd.DataFrame([print_row("p1", 0, at=first), print_row("p2", 40, at=first)])
    tape = NormalizedTape(normalize_prints(prints), normalize_quotes(pd.DataFrame(quote_rows(at=first))), None, None)
    rules = load_rules()
    events = score_frames(tape.prints, tape.quotes, None, None, rules).with_membership()
    (event,) = smart_money_events(events, rules)
    assert event.meta.source_ts == first.floor("us").to_pydatetime() and event.meta.source_ts.tzinfo is not None
    assert event.model_dump()["meta"]["source_ts"].microsecond == 123456
