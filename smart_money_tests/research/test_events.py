"""Each family's definition on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smart_money.research.events import build_events
from smart_money.research.families import FAMILY_NAMES, LONG_SHORT, render_markdown

T = pd.Timestamp


def insider_line(
    record_id, symbol, cik, trade, known, code="P", role="DIRECTOR", shares=100.0, price=10.0, amends=None
):
    return dict(
        record_id=record_id,
        symbol=symbol,
        reporting_cik=cik,
        event_date=T(trade),
        known_at=T(known),
        transaction_code=code,
        role=role,
        shares=shares,
        price=price,
        amends_record_id=amends,
        form_type="4/A" if amends else "4",
    )


def events_of(family: str, **tables) -> pd.DataFrame:
    frame = build_events(tables)
    return frame[frame["family"] == family].reset_index(drop=True)


def test_open_market_purchases_and_sales_one_event_per_filing_other_codes_never_count():
    lines = pd.DataFrame(
        [
            insider_line("a#0", "AAA", "1", "2024-01-02", "2024-01-03 18:00", shares=100, price=10),
            insider_line("a#1", "AAA", "1", "2024-01-02", "2024-01-03 18:00", shares=50, price=12),  # same filing
            insider_line("b#0", "AAA", "2", "2024-01-04", "2024-01-05 09:00", code="S", shares=10, price=11),
            insider_line("c#0", "AAA", "3", "2024-01-04", "2024-01-05 09:00", code="A"),  # award: nothing
            insider_line("d#0", "BBB", "4", "2024-01-04", "2024-01-05 09:00", code="M"),  # exercise: nothing
            insider_line("e#0", "BBB", "5", "2024-01-08", "2024-01-09 09:00", price=float("nan")),
        ]
    )
    buys = events_of("insider_purchase", insider_trades=lines)
    assert list(buys["symbol"]) == ["AAA", "BBB"]
    assert buys.loc[0, "size_usd"] == pytest.approx(100 * 10 + 50 * 12)
    assert buys.loc[0, "known_at"] == T("2024-01-03 18:00") and buys.loc[0, "event_date"] == T("2024-01-02")
    assert pd.isna(buys.loc[1, "size_usd"])  # no price: size unknown, event kept
    sales = events_of("insider_sale", insider_trades=lines)
    assert list(zip(sales["symbol"], sales["actor_ids"])) == [("AAA", "2")]


def test_a_4a_amendment_never_makes_an_event_nor_changes_the_original():
    lines = pd.DataFrame(
        [
            insider_line("a#0", "AAA", "1", "2024-01-02", "2024-01-03 18:00", shares=100, price=10),
            insider_line("aA#0", "AAA", "1", "2024-01-02", "2024-02-01 10:00", shares=300, price=10, amends="a#0"),
        ]
    )
    buys = events_of("insider_purchase", insider_trades=lines)
    assert len(buys) == 1
    assert buys.loc[0, "known_at"] == T("2024-01-03 18:00") and buys.loc[0, "size_usd"] == 1000


def test_ceo_and_cfo_buys_by_normalized_role():
    lines = pd.DataFrame(
        [
            insider_line("a#0", "AAA", "1", "2024-01-02", "2024-01-03", role="CEO"),
            insider_line("b#0", "AAA", "2", "2024-01-02", "2024-01-03", role="CFO"),
            insider_line("c#0", "AAA", "3", "2024-01-02", "2024-01-03", role="CEO", code="S"),  # a CEO sale
        ]
    )
    assert list(events_of("insider_ceo_buy", insider_trades=lines)["actor_ids"]) == ["1"]
    assert list(events_of("insider_cfo_buy", insider_trades=lines)["actor_ids"]) == ["2"]


def test_a_cluster_becomes_public_only_with_its_second_filing():
    lines = pd.DataFrame(
        [
            # insider 1 buys on Jan 2, public Jan 3; insider 2 buys on Jan 10 but files late, Jan 25
            insider_line("a#0", "AAA", "1", "2024-01-02", "2024-01-03 18:00"),
            insider_line("b#0", "AAA", "2", "2024-01-10", "2024-01-25 23:59:59"),
            # insider 1 again (same insider: no cluster by itself), then insider 3 within 30 days
            insider_line("c#0", "AAA", "1", "2024-01-11", "2024-01-12 09:00"),
            insider_line("d#0", "AAA", "3", "2024-01-20", "2024-01-22 09:00"),
            # a purchase 60 days away completes no cluster with the ones above
            insider_line("e#0", "BBB", "7", "2024-01-02", "2024-01-03"),
            insider_line("f#0", "BBB", "8", "2024-03-15", "2024-03-16"),
        ]
    )
    clusters = events_of("insider_cluster_buy", insider_trades=lines)
    # the first pair of distinct insiders public together: 1 (Jan 3) and 3 (Jan 22) -> Jan 22;
    # insider 2's late filing (Jan 25) falls in the cool-down and makes no second event
    assert list(clusters["symbol"]) == ["AAA"]
    assert clusters.loc[0, "known_at"] == T("2024-01-22 09:00")
    assert clusters.loc[0, "actor_ids"] == "1|3" and clusters.loc[0, "n_actors"] == 2
    assert clusters.loc[0, "event_date"] == T("2024-01-02")  # the cluster's first trade


def test_a_cluster_is_dated_by_the_filing_that_completes_it_even_when_it_traded_first():
    lines = pd.DataFrame(
        [
            insider_line("a#0", "AAA", "1", "2024-01-02", "2024-01-30 23:59:59"),  # traded first, filed late
            insider_line("b#0", "AAA", "2", "2024-01-08", "2024-01-09 10:00"),
        ]
    )
    clusters = events_of("insider_cluster_buy", insider_trades=lines)
    assert list(clusters["known_at"]) == [T("2024-01-30 23:59:59")]


def test_congress_purchases_and_sales_per_member_disclosure_exchanges_ignored():
    def ptr(record_id, member, chamber, trade, known, kind, low, high):
        return dict(
            record_id=record_id, symbol="AAA", member_id=member, chamber=chamber, event_date=T(trade),
            known_at=T(known), transaction_type=kind, amount_low=low, amount_high=high,
        )  # fmt: skip

    rows = pd.DataFrame(
        [
            ptr("1", "M1", "house", "2024-01-02", "2024-02-01 23:59:59", "purchase", 1001.0, 15000.0),
            ptr("2", "M1", "house", "2024-01-05", "2024-02-01 23:59:59", "purchase", 15001.0, 50000.0),
            ptr("3", "M2", "senate", "2024-01-05", "2024-01-20 23:59:59", "sale_partial", 50000001.0, float("nan")),
            ptr("4", "M3", "senate", "2024-01-05", "2024-01-20 23:59:59", "exchange", 1001.0, 15000.0),
        ]
    )
    buys = events_of("congress_purchase", congress_trades=rows)
    assert len(buys) == 1 and buys.loc[0, "size_usd"] == 16002 and buys.loc[0, "size_usd_high"] == 65000
    sales = events_of("congress_sale", congress_trades=rows)
    assert list(sales["actor_ids"]) == ["M2"] and pd.isna(sales.loc[0, "size_usd_high"])


def holding(filer, quarter_end, known, symbol, shares=100.0, accession=None, form="13F-HR"):
    accession = accession or f"{filer}-{quarter_end}"
    return dict(
        record_id=f"{accession}:{symbol}",
        accession=accession,
        filer_cik=filer,
        symbol=symbol,
        event_date=T(quarter_end),
        known_at=T(known),
        shares=shares,
        value_usd=shares * 10.0,
        form_type=form,
    )


def test_13f_new_positions_and_exits_against_the_quarter_before_known_then():
    rows = pd.DataFrame(
        [
            holding("F1", "2023-09-30", "2023-11-10 17:30", "AAA"),
            holding("F1", "2023-09-30", "2023-11-10 17:30", "BBB"),
            holding("F1", "2023-12-31", "2024-02-10 17:30", "AAA"),  # BBB exited, CCC new
            holding("F1", "2023-12-31", "2024-02-10 17:30", "CCC"),
            # an amendment of the Q4 filing adds DDD later: a restatement, no event
            holding("F1", "2023-12-31", "2024-03-01 17:30", "AAA", accession="F1-Q4A", form="13F-HR/A"),
            holding("F1", "2023-12-31", "2024-03-01 17:30", "CCC", accession="F1-Q4A", form="13F-HR/A"),
            holding("F1", "2023-12-31", "2024-03-01 17:30", "DDD", accession="F1-Q4A", form="13F-HR/A"),
            # F2 files Q4 only: no quarter before, no events
            holding("F2", "2023-12-31", "2024-02-12 17:30", "AAA"),
        ]
    )
    new = events_of("inst_new_position", institutional_holdings=rows)
    assert list(zip(new["symbol"], new["actor_ids"], new["known_at"])) == [("CCC", "F1", T("2024-02-10 17:30"))]
    exits = events_of("inst_exit", institutional_holdings=rows)
    assert list(zip(exits["symbol"], exits["known_at"])) == [("BBB", T("2024-02-10 17:30"))]
    assert exits.loc[0, "size_usd"] == 1000.0
    assert events_of("inst_hf_new_position", institutional_holdings=rows).empty  # no list, no events
    hf = build_events({"institutional_holdings": rows}, hedge_funds=["F1"])
    assert list(hf.loc[hf["family"] == "inst_hf_new_position", "symbol"]) == ["CCC"]


def test_13f_previous_quarter_must_be_public_before_the_new_filing():
    rows = pd.DataFrame(
        [
            holding("F1", "2023-09-30", "2024-03-01 17:30", "AAA"),  # Q3 filed after Q4 (very late)
            holding("F1", "2023-12-31", "2024-02-10 17:30", "BBB"),
        ]
    )
    assert events_of("inst_new_position", institutional_holdings=rows).empty


def etf_row(etf, day, known, symbol, shares=10.0):
    return dict(
        etf_symbol=etf, symbol=symbol, event_date=T(day), known_at=T(known), shares=shares, market_value=shares * 5.0
    )


def test_etf_adds_and_removes_against_the_funds_previous_snapshot():
    rows = pd.DataFrame(
        [
            etf_row("ARKK", "2024-01-05", "2024-01-08 08:00", "AAA"),
            etf_row("ARKK", "2024-01-05", "2024-01-08 08:00", "BBB"),
            etf_row("ARKK", "2024-01-12", "2024-01-15 08:00", "AAA"),
            etf_row("ARKK", "2024-01-12", "2024-01-15 08:00", "CCC"),
            # a month-long gap: the composition change cannot be dated, no events
            etf_row("ARKK", "2024-02-16", "2024-02-19 08:00", "DDD"),
        ]
    )
    adds = events_of("etf_add", etf_holdings=rows)
    assert list(zip(adds["symbol"], adds["actor_ids"], adds["known_at"])) == [("CCC", "ARKK", T("2024-01-15 08:00"))]
    removes = events_of("etf_remove", etf_holdings=rows)
    assert list(removes["symbol"]) == ["BBB"] and removes.loc[0, "size_usd"] == 50.0


def test_events_are_kept_by_public_time_and_history_before_the_window_still_counts():
    lines = pd.DataFrame(
        [
            insider_line("a#0", "AAA", "1", "2023-12-20", "2023-12-21 10:00"),
            insider_line("b#0", "AAA", "2", "2024-01-02", "2024-01-03 10:00"),
        ]
    )
    frame = build_events({"insider_trades": lines}, start=T("2024-01-01"), end=T("2024-02-01"))
    assert set(frame["family"]) == {"insider_purchase", "insider_cluster_buy"}
    assert (frame["known_at"] >= T("2024-01-01")).all()
    assert frame["event_id"].is_unique


def test_the_catalogue_names_every_family_and_its_long_short_pairs():
    text = render_markdown()
    for family in FAMILY_NAMES:
        assert f"`{family}`" in text
    assert set(LONG_SHORT) == {
        "insider_purchase_minus_sale",
        "congress_purchase_minus_sale",
        "inst_new_position_minus_exit",
        "inst_hf_new_position_minus_exit",
        "etf_add_minus_remove",
    }


def test_docs_signal_families_is_generated_from_the_catalogue():
    from smart_money.reporting.generated_docs import FAMILIES_DOC, families_doc
    from smart_money.settings.paths import project_root

    assert (project_root() / FAMILIES_DOC).read_text() == families_doc(), (
        "docs/signal-families.md is stale: run `smart-money docs`"
    )


def test_group_sums_without_a_python_call_equal_the_per_group_sum_bit_for_bit():
    from smart_money.research.events import _sum_or_nan, _sums_or_nan

    rng = np.random.default_rng(1)
    for spread in (300, 3000, 20000):  # groups of ~60, ~7 and ~1 rows
        n = 20000
        group = rng.integers(0, spread, n)
        values = rng.lognormal(10, 3, n) * rng.choice([1, 1, 1, -1], n)
        values[rng.random(n) < 0.01] = np.nan
        frame = pd.DataFrame({"a": group % 7, "b": (group // 7).astype(str), "v": values})
        reference = frame.groupby(["a", "b"], sort=True)["v"].agg(_sum_or_nan).to_numpy()
        assert np.array_equal(_sums_or_nan(frame, ["a", "b"], "v"), reference, equal_nan=True)
    assert len(_sums_or_nan(frame.head(0), ["a", "b"], "v")) == 0
