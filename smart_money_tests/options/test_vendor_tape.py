"""The engine on a tape in the form a vendor delivers it, with what our generator never writes.

`fixtures/options_vendor/` holds trades and NBBO quotes as a vendor's API returns them (OSI
option symbols with and without the `O:` prefix and padding, numeric OPRA condition IDs, epoch-ns
SIP timestamps, numeric exchange IDs, the trade a cancel refers to) and the underlying's quotes.
Its trades are listed out of time order and include a cancel and its correction, late reports, a
compression print, a multi-leg package, a print far above the ask, a single contract, prints
after a crossed and a locked NBBO, after quotes stopped for four seconds and on a contract never
quoted, a cancel of a trade not in the file, an ISO sweep at the ask, and rows no engine should
accept (`note` says what each row is). The files are converted with `engine.opra` and scored as
`options-score` scores files.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from smart_money.options.engine.opra import condition_letter, parse_osi, prints_from_trades, quotes_from_nbbo
from smart_money.options.engine.validation import check_table
from smart_money.options.score_files import rejected_path, score_files
from smart_money_tests.support.paths import FIXTURES

VENDOR = FIXTURES / "options_vendor"


def vendor_trades() -> pd.DataFrame:
    return pd.read_csv(VENDOR / "trades.csv", dtype={"id": str, "correction_of": str, "conditions": str})


def write_inputs(folder, trades: pd.DataFrame) -> dict:
    """The vendor files as the scoring files `options-score` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    prints_from_trades(trades).to_csv(folder / "prints.csv", index=False)
    quotes_from_nbbo(pd.read_csv(VENDOR / "nbbo.csv")).to_csv(folder / "quotes.csv", index=False)
    spot = pd.read_csv(VENDOR / "underlying.csv")
    underlying = {"ts": spot["sip_timestamp"], "underlying": spot["ticker"], "bid": spot["bid_price"]}
    pd.DataFrame({**underlying, "ask": spot["ask_price"]}).to_csv(folder / "underlying.csv", index=False)
    return {"prints": folder / "prints.csv", "quotes": folder / "quotes.csv", "underlying": folder / "underlying.csv"}


def score(folder, trades: pd.DataFrame) -> tuple[dict, dict[str, dict]]:
    """The run's summary and its events keyed by their sorted member trade IDs."""
    files = write_inputs(folder, trades)
    out = folder / "events.jsonl"
    summary = score_files(files["prints"], files["quotes"], out, files["underlying"])
    events = [json.loads(line) for line in out.read_text().splitlines()]
    return summary, {" ".join(sorted(e["member_print_ids"])): e for e in events}


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vendor")
    summary, events = score(folder, vendor_trades())
    return folder, summary, events


def test_cancels_corrections_late_and_compression_prints_form_no_events(scored):
    _, summary, events = scored
    assert summary["dropped"] == {"cancel_records": 2, "cancelled_prints": 1, "late_reports": 2, "excluded_prints": 1}
    members = {trade for key in events for trade in key.split()}
    assert not members & {"a1", "a2", "b1", "b2", "c2", "j1"}  # the cancelled print, cancels, late, compression
    assert "a3 a4" in events  # the correction replaces the cancelled print in the burst


def test_the_engine_abstains_where_the_quotes_cannot_place_the_prints(scored):
    _, _, events = scored
    stale, never_quoted = events["f1 f2"], events["i1"]  # quotes stopped 4 s before / no quote at all
    for event in (stale, never_quoted):
        assert event["abstained"] and "stale_quotes" in event["suppressed_reasons"]
        assert event["features"]["stale_share"] == 1.0 and event["primary_profile_id"] is None
    crossed, locked = events["g1"], events["h1"]  # not placed against the older quote either
    for event in (crossed, locked):
        assert event["features"]["coverage"] == 0.0 and event["features"]["stale_share"] == 0.0
        assert event["abstained"] and "low_coverage" in event["suppressed_reasons"]


def test_packages_odd_sizes_and_prints_away_from_the_nbbo(scored):
    _, _, events = scored
    package = events["d1 d2"]  # MLET legs: a structure, no single-leg direction
    assert package["event_kind"] == "multi_leg_event" and package["features"]["multi_leg_share"] == 1.0
    assert package["features"]["directional_bias"] is None and package["primary_direction"] == "unknown"
    away = events["c1"]["features"]  # 3.50 against a 2.10 ask: bought above the ask
    assert away["aa_count"] == 1 and away["total_premium"] == 3.50 * 20 * 100
    assert events["c1"]["abstained"]  # one $7,000 print is no smart-money event
    single = events["e1"]["features"]
    assert single["total_size"] == 1 and single["total_premium"] == 2.10 * 100
    sweep = events["k1 k2 k3 k4 k5"]  # the engine still calls what it should
    assert sweep["primary_profile_id"] == "institutional_directional" and sweep["primary_direction"] == "bullish"
    assert sweep["features"]["sweep"] and sweep["features"]["venue_count"] == 5


def test_unusable_rows_are_quarantined_with_the_row_named(scored):
    folder, summary, _ = scored
    rejected = pd.read_csv(rejected_path(folder / "events.jsonl"))
    trades = vendor_trades()
    named = {int(r.row): (r.column, r.reason, json.loads(r.record)) for r in rejected.itertuples()}
    row_of = {note: i + 1 for i, note in enumerate(trades["note"])}
    expected = {
        "fractional size: quarantined": ("size", "size not a whole number"),
        "expiry six years out: quarantined": ("expiry", "expiry more than 5 years after the trade"),
        "absurd price: quarantined": ("price", "price outside (0, 100,000]"),
        "size 0: quarantined": ("size", "size not a whole number"),
        "condition ID without an OPRA letter: quarantined": ("condition", "unknown OPRA condition letter"),
        "negative price: quarantined": ("price", "price outside"),
        "symbol that does not parse: quarantined": ("underlying", "underlying missing"),
        "repeated trade ID: quarantined": ("print_id", "duplicate print_id"),
    }
    assert set(named) == {row_of[note] for note in expected}
    for note, (column, reason) in expected.items():
        got_column, got_reason, record = named[row_of[note]]
        assert got_column == column and got_reason.startswith(reason), note
        assert record["symbol"] == trades["ticker"].iloc[row_of[note] - 1]  # the vendor's symbol is shown
    assert summary["rejected"] == {"prints": len(expected), "quotes": 0, "underlying": 0}
    assert summary["prints"] == len(trades) - len(expected)


def test_arrival_order_does_not_change_the_events(scored, tmp_path):
    _, _, events = scored
    in_time_order = vendor_trades().sort_values("sip_timestamp", kind="stable")
    reversed_order = vendor_trades().iloc[::-1]
    for name, trades in (("sorted", in_time_order), ("reversed", reversed_order)):
        _, again = score(tmp_path / name, trades)
        assert again.keys() == events.keys(), name
        for key, event in events.items():
            same = ("event_id", "primary_profile_id", "primary_direction", "abstained", "suppressed_reasons")
            assert {k: again[key][k] for k in same} == {k: event[k] for k in same}, (name, key)


def test_osi_symbols_and_condition_ids():
    symbols = pd.Series(["O:SPY240621C00540000", "AAPL  240621P00187500", "SPXW  250117C05000000", "O:SPY2406C1", None])
    parsed = parse_osi(symbols)
    assert parsed.iloc[0].tolist() == ["SPY", "2024-06-21", "C", 540.0]
    assert parsed.iloc[1].tolist() == ["AAPL", "2024-06-21", "P", 187.5]
    assert parsed.iloc[2].tolist() == ["SPXW", "2025-01-17", "C", 5000.0]
    assert parsed.iloc[3, :3].tolist() == ["", "", ""] and parsed.iloc[4, :3].tolist() == ["", "", ""]
    assert [condition_letter(x) for x in (209, "219", "[227]", [232], "201, 209", 299, "", None)] == [
        "I",
        "S",
        "a",
        "f",
        "A",
        "#299",
        "",
        "",
    ]


@pytest.mark.parametrize(
    ("expiry", "accepted"), [("2028-12-15", True), ("2029-06-12", True), ("2029-06-13", False), ("2024-06-11", False)]
)
def test_expiry_plausibility_range(expiry, accepted):
    row = {"ts": "2024-06-12T15:00:00Z", "underlying": "AAA", "strike": 100, "right": "C", "price": 2.1, "size": 10}
    row = {**row, "venue": "X", "condition": "I"}
    frame = pd.DataFrame(
        [{**row, "print_id": "ok", "expiry": "2024-07-19"}, {**row, "print_id": "x", "expiry": expiry}]
    )
    _, problems = check_table(frame, "prints", "<prints>")  # (a file whose every row fails is an error)
    assert not problems.bad[0] and bool(problems.bad[1]) != accepted
    if not accepted:
        assert problems.column[1] == "expiry"
