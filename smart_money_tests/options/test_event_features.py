"""Features computed from prints, quotes, spot and calendar: DTE in New York time (0DTE and
DST), NBBO placement, point-in-time joins, calendar alignment, nothing left at a default."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smart_money.options.engine.batch import score_frames
from smart_money.options.engine.event_features import (
    BATCH_ONLY_FIELDS,
    compute_features,
    expiry_close_ns,
)
from smart_money.options.engine.frames import (
    NormalizedTape,
    normalize_calendar,
    normalize_prints,
    normalize_quotes,
    normalize_underlying,
)
from smart_money.options.engine.reconstruction import reconstruct
from smart_money.options.market.synthetic import catalogue
from smart_money_tests.support.option_tape import T0, print_row, quote_rows, spot_rows


def features(prints, quotes, spot=None, calendar=None) -> pd.DataFrame:
    rec = reconstruct(normalize_prints(pd.DataFrame(prints)))
    return compute_features(
        rec,
        normalize_quotes(pd.DataFrame(quotes)),
        normalize_underlying(pd.DataFrame(spot) if spot else None),
        normalize_calendar(pd.DataFrame(calendar) if calendar else None),
    )


@pytest.mark.parametrize(
    ("print_ts", "expiry", "expected_days"),
    [
        # 15:59 New York on expiry day in summer (EDT, UTC-4): one minute left
        ("2024-06-14 19:59:00Z", "2024-06-14", 1 / 1440),
        # the Monday after clocks went forward (2024-03-10): still 16:00 New York = 20:00 UTC
        ("2024-03-11 19:59:00Z", "2024-03-11", 1 / 1440),
        # the Friday before, still EST (UTC-5): 16:00 New York = 21:00 UTC
        ("2024-03-08 20:59:00Z", "2024-03-08", 1 / 1440),
        # a print after the close (some series trade to 16:15) clamps to 0
        ("2024-06-14 20:10:00Z", "2024-06-14", 0.0),
        # the day before expiry at 10:00 New York: 1 day and 6 hours
        ("2024-06-13 14:00:00Z", "2024-06-14", 1.25),
    ],
)
def test_dte_runs_to_the_expiry_day_close_in_new_york(print_ts, expiry, expected_days):
    at = pd.Timestamp(print_ts)
    f = features([print_row("a", 0, expiry=expiry, at=at)], quote_rows(expiry=expiry, at=at))
    assert f["dte_days"].iloc[0] == pytest.approx(expected_days, abs=1e-9)
    assert (
        f["dte_calendar"].iloc[0]
        == (pd.Timestamp(expiry) - at.tz_convert("America/New_York").tz_localize(None).normalize()).days
    )


def test_expiry_close_is_dst_aware():
    closes = expiry_close_ns(pd.Series(pd.to_datetime(["2024-03-08", "2024-03-11", "2024-11-01", "2024-11-04"])))
    hours_utc = [pd.Timestamp(c, tz="UTC").hour for c in closes]
    assert hours_utc == [21, 20, 20, 21]


def test_nbbo_placement_uses_tolerance_and_flags_stale_and_missing_quotes():
    # bid 1.90 / ask 2.10: spread 0.20, tolerance max(0.01, 0.05 * 0.20) = 0.01
    prints = [
        print_row("aa", 0, price=2.12),  # above ask + tolerance
        print_row("a", 10, price=2.095),  # within tolerance of the ask
        print_row("mid", 20, price=2.00),
        print_row("b", 30, price=1.905),
        print_row("bb", 40, price=1.88),
        print_row("stale", 50, price=1.0, underlying="BBB"),  # its only quote is 3 s old
        print_row("missing", 60, price=1.0, underlying="CCC"),  # no quote at all
    ]
    quotes = quote_rows() + quote_rows(bid=0.9, ask=1.1, start_ms=-3000, end_ms=-2900, underlying="BBB")
    f = features(prints, quotes)
    one = f[f["n_prints"] == 5].iloc[0]
    assert [one[f"{k}_count"] for k in ("aa", "a", "mid", "b", "bb")] == [1, 1, 1, 1, 1]
    assert one["buy_share"] == pytest.approx(0.5) and one["inside_share"] == pytest.approx(0.2)
    assert one["coverage"] == 1.0 and one["stale_share"] == 0.0
    stale = f[f["underlying_id"].isin(["BBB", "CCC"])]
    assert sorted(stale["stale_share"]) == [1.0, 1.0]
    ages = stale["quote_age_ms"].tolist()
    assert any(a == pytest.approx(3050, abs=1) for a in ages) and any(np.isnan(a) for a in ages)


def test_the_nbbo_join_never_looks_at_later_quotes():
    prints = [print_row("a", 0, price=2.1)]
    before = quote_rows(bid=1.9, ask=2.1, start_ms=-500, end_ms=-100)
    later = quote_rows(
        bid=2.5, ask=2.7, start_ms=0, end_ms=1000
    )  # from the print's own ts on: ts == print ts is allowed
    f = features(prints, before + later[1:])
    assert f["a_count"].iloc[0] == 1  # judged against the last quote at or before the print


def test_calendar_entries_are_used_only_once_announced():
    prints = [print_row("a", 0)]
    quotes = quote_rows()
    event_ts = T0 + pd.Timedelta(days=10)
    announced_later = [
        {
            "underlying": "AAA",
            "event_type": "earnings",
            "announced_ts": T0 + pd.Timedelta(hours=1),
            "event_ts": event_ts,
        }
    ]
    announced_before = [
        {"underlying": "AAA", "event_type": "earnings", "announced_ts": T0 - pd.Timedelta(days=5), "event_ts": event_ts}
    ]
    assert np.isnan(features(prints, quotes, calendar=announced_later)["days_to_event"].iloc[0])
    known = features(prints, quotes, calendar=announced_before)
    assert known["days_to_event"].iloc[0] == pytest.approx(10.0)
    assert known["event_type"].iloc[0] == "earnings" and bool(known["expiry_after_event"].iloc[0])
    assert features(prints, quotes)["calendar_available"].iloc[0] == False  # noqa: E712


def test_underlying_move_and_spot_come_from_the_underlying_quotes():
    f = features([print_row("a", 0)], quote_rows(), spot=spot_rows(drift_bps_per_s=-2.0))
    assert f["spot"].iloc[0] == pytest.approx(100.0, abs=0.01)
    assert f["underlying_move_bps"].iloc[0] == pytest.approx(-60.0, abs=2.0)  # 30 s look-back at -2 bp/s
    without = features([print_row("a", 0)], quote_rows())
    assert np.isnan(without["underlying_move_bps"].iloc[0]) and np.isnan(without["moneyness"].iloc[0])


@pytest.fixture(scope="module")
def catalogue_features() -> pd.DataFrame:
    tape, _ = catalogue(per_variant=2)
    n = NormalizedTape.of(tape)
    return score_frames(n.prints, n.quotes, n.underlying, n.calendar).events


@pytest.mark.parametrize(
    ("column", "is_informative"),
    [
        ("venue_count", lambda s: (s > 1).any()),
        ("sweep", lambda s: s.any() and not s.all()),
        ("leg_symmetry", lambda s: s.notna().any() and (s.dropna() < 1).any()),
        ("special_share", lambda s: (s > 0).any()),
        ("stock_tied_share", lambda s: (s > 0).any()),
        ("auction_share", lambda s: (s > 0).any()),
        ("underlying_move_bps", lambda s: s.notna().all() and (s.abs() > 20).any()),
        ("iv_shock", lambda s: s.notna().any() and (s.abs() > 0.005).any()),
        ("quote_age_ms", lambda s: s.notna().all() and s.nunique() > 10),
        ("mean_gap_ms", lambda s: s.dropna().nunique() > 10),
        ("spread_widening", lambda s: (s.dropna().abs() > 0.01).any()),
        ("delta", lambda s: s.notna().mean() > 0.9),
        ("days_to_event", lambda s: s.notna().any()),
        ("structure", lambda s: {"single", "straddle", "box", "synthetic", "roll", "collar"} <= set(s)),
    ],
)
def test_no_feature_is_left_at_a_default(catalogue_features, column, is_informative):
    assert is_informative(catalogue_features[column]), column


def test_batch_only_fields_never_reach_live_features(catalogue_features):
    assert not set(BATCH_ONLY_FIELDS) & set(catalogue_features.columns)


def test_quotes_after_an_event_do_not_change_its_features():
    """Future-shifted canary: rewriting every quote later than the last print changes nothing."""
    tape, _ = catalogue(per_variant=1)
    n = NormalizedTape.of(tape)
    base = score_frames(n.prints, n.quotes, n.underlying, n.calendar).events.set_index("event_id")
    cutoff = n.prints["ts"].max()
    quotes, spot = n.quotes.copy(), n.underlying.copy()
    quotes.loc[quotes["ts"] > cutoff, ["bid", "ask"]] *= 3
    spot.loc[spot["ts"] > cutoff, ["bid", "ask"]] *= 0.5
    shifted = score_frames(n.prints, quotes, spot, n.calendar).events.set_index("event_id")
    numeric = base.select_dtypes("number").columns
    pd.testing.assert_frame_equal(base[numeric], shifted.loc[base.index, numeric])
