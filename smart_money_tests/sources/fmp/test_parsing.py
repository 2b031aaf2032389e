"""FMP rows -> normalized tables: every recorded response in shared/fixtures/fmp/ (skipped when
the folder is absent) and small dirty fixtures of our own (always run)."""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from smart_money.data.quality import validate_and_quarantine
from smart_money.data.schemas import TABLES
from smart_money.sources.fmp import fetchers as fx
from smart_money.sources.fmp.source import membership_intervals
from smart_money_tests.support.paths import FIXTURES, SHARED, shared_path

OWN = FIXTURES / "fmp"
MANIFEST = SHARED / "fixtures" / "fmp" / "MANIFEST.json"
RECORDED = [e["file"] for e in json.loads(MANIFEST.read_text())] if MANIFEST.exists() else ["(shared fixtures absent)"]


def own(name: str):
    return json.loads((OWN / name).read_text())


def parse_recorded(name: str, rows: list[dict]) -> tuple[str | None, pd.DataFrame, int]:
    """(table, normalized frame, rows rejected by the row models) for one recorded file."""
    if "insider-trading" in name:
        parsed = [fx.insider_trades(rows, s) for s in sorted({r["symbol"] for r in rows})]
        return "insider_trades", pd.concat([p.frame for p in parsed]), sum(len(p.rejected) for p in parsed)
    if "senate" in name or "house" in name:
        chamber = "house" if "house" in name else "senate"
        parsed = [fx.congress_trades(rows, chamber, s) for s in sorted({r["symbol"] for r in rows if r.get("symbol")})]
        frames = [p.frame for p in parsed if len(p.frame)]
        kept = sum(len(p.frame) for p in parsed) + sum(p.counts["non_equity_rows_set_aside"] for p in parsed)
        assert kept == len(rows)
        return "congress_trades", pd.concat(frames) if frames else pd.DataFrame(), sum(len(p.rejected) for p in parsed)
    if "extract-analytics-holder" in name:
        parsed = fx.holder_positions(rows, rows[0]["symbol"])
        return "institutional_holdings", parsed.frame, len(parsed.rejected)
    if "positions-summary" in name:
        parsed = fx.positions_summary(rows)
        assert (parsed.frame["available_from"] > parsed.frame["date"] + pd.Timedelta(days=44)).all()
        return None, parsed.frame, len(parsed.rejected)
    if "etf-asset-exposure" in name:
        parsed = fx.etf_exposure(rows, rows[0]["asset"], datetime(2026, 9, 1, 9, 30))
        return "etf_holdings", parsed.frame, len(parsed.rejected)
    if "etf-holdings" in name:
        parsed = fx.etf_holdings(rows)
        assert len(parsed.frame) + parsed.counts["rows_without_ticker_set_aside"] == len(rows)
        return None, parsed.frame, len(parsed.rejected)
    if "price" in name:
        parsed = fx.prices(rows, [], "AAPL")
        return None, parsed.frame, len(parsed.rejected)
    raise AssertionError(f"no parser for {name}")


@pytest.mark.parametrize("name", RECORDED)
def test_every_recorded_response_parses_and_normalizes(name):
    path = shared_path("fixtures", "fmp", name)
    entry = next(e for e in json.loads(MANIFEST.read_text()) if e["file"] == name)
    rows = fx.as_rows(json.loads(path.read_text()))
    assert len(rows) == entry["rows"]
    table, frame, rejected = parse_recorded(name, rows)
    assert rejected == 0
    if table is None or frame.empty:
        return
    outcome = validate_and_quarantine(frame, TABLES[table])
    # Only Form 3 initial statements (no transaction) and congressional types outside the table's
    # vocabulary ('receive') may be quarantined: everything else in a real response must pass.
    rejected_rows = outcome.quarantined
    if table == "insider_trades":
        assert (rejected_rows["form_type"] == "3").all()
    elif table == "congress_trades":
        assert rejected_rows["transaction_type"].isna().all()
    else:
        assert rejected_rows.empty
    assert len(outcome.valid) + outcome.n_quarantined + outcome.duplicates_removed == len(frame)
    assert len(outcome.valid) >= 1


def test_legacy_and_stable_insider_rows_are_the_same_line():
    stable = json.loads(
        shared_path("fixtures", "fmp", "stable_insider-trading-search_AAPL_P-Purchase_limit1_openbb.json").read_text()
    )
    legacy = json.loads(
        shared_path("fixtures", "fmp", "v4_insider-trading_AAPL_P-Purchase_page0_openbb.json").read_text()
    )
    s = fx.insider_trades(stable, "AAPL").frame.iloc[0]
    same = fx.insider_trades(legacy, "AAPL").frame
    match = same[same["record_id"] == s["record_id"]]
    assert len(match) == 1  # acquistionOrDisposition/link vs acquisitionOrDisposition/url
    row = match.iloc[0]
    assert row["known_at"] == pd.Timestamp("2015-07-28 18:31:06")  # legacy keeps the filing time
    assert s["known_at"] == pd.Timestamp("2015-07-28 23:59:59")  # stable: date only -> end of day
    assert (row["event_date"], row["shares"], row["role"], row["transaction_code"]) == (
        s["event_date"],
        2000.0,
        "DIRECTOR",
        "P",
    )


def test_v3_and_stable_prices_agree_and_only_v3_has_adjusted_close():
    stable = json.loads(
        shared_path(
            "fixtures", "fmp", "stable_historical-price-eod-full_AAPL_2023-01-01_2023-01-10_openbb.json"
        ).read_text()
    )
    legacy = json.loads(
        shared_path("fixtures", "fmp", "v3_historical-price-full_AAPL_2023-01-01_2023-01-10_openbb.json").read_text()
    )
    a, b = fx.prices(stable, [], "AAPL").frame, fx.prices(fx.as_rows(legacy), [], "AAPL").frame
    assert list(a["date"]) == list(b["date"]) and a["date"].is_monotonic_increasing
    np.testing.assert_allclose(a["close"], b["close"])
    assert a["adj_close"].isna().all() and b["adj_close"].notna().all()


# -- our own dirty fixtures (always run) ------------------------------------------------------------
def test_insider_rows_with_every_dirt_spelling():
    parsed = fx.insider_trades(own("insider_dirty.json"), "ACME")
    frame = parsed.frame.set_index("reporting_cik")
    assert [r["reason"].split(":")[0] for r in parsed.rejected] == [
        "InsiderTradeRow",
        "InsiderTradeRow",
    ]  # bad date, not an object
    assert parsed.counts["rows_not_matching_filter"] == 1  # OTHER, though we asked for ACME
    buy, sale, form3 = frame.loc["0001000001"], frame.loc["0001000002"], frame.loc["0001000003"]
    assert (buy["shares"], buy["price"], buy["role"], buy["known_at"]) == (
        500.25,
        12.5,
        "CEO",
        pd.Timestamp("2024-03-05 23:59:59"),
    )
    assert buy["record_id"].startswith("0001000001-24-000007#")
    assert sale["acquisition_or_disposition"] == "D" and sale["transaction_code"] == "S"  # legacy spelling, 'S-Sale+OE'
    assert sale["shares"] == 1200.0 and np.isnan(sale["price"]) and np.isnan(sale["shares_owned_after"])
    assert sale["known_at"] == pd.Timestamp("2024-03-04 21:15:02") and pd.isna(sale["reporting_name"])
    assert form3["transaction_code"] == "OTHER"
    outcome = validate_and_quarantine(parsed.frame, TABLES["insider_trades"])
    assert outcome.n_quarantined == 1  # the Form 3 initial statement is not a transaction
    assert any("form_type" in r for r in outcome.reason_counts)


def test_congress_rows_bands_owners_members_and_set_asides():
    parsed = fx.congress_trades(own("congress_dirty.json"), "senate", "ACME")
    assert parsed.counts["non_equity_rows_set_aside"] == 1  # the corporate bond
    f = parsed.frame.set_index("member_name")
    pat, lee, kim = f.loc["Pat Smith"], f.loc["Lee Jones"], f.loc["Kim Park"]
    assert (pat["member_id"], pat["transaction_type"], pat["owner"], pat["amount_low"], pat["amount_high"]) == (
        "X000123",
        "sale_partial",
        "spouse",
        15001.0,
        50000.0,
    )
    assert (
        lee["member_id"] == "NAME:JONES,LEE"
        and lee["amount_low"] == 50_000_001.0
        and np.isnan(lee["amount_high"])
        and lee["owner"] is None
    )
    assert kim["known_at"] == pd.Timestamp("2024-03-22 23:59:59")  # legacy dateRecieved [sic]
    outcome = validate_and_quarantine(parsed.frame, TABLES["congress_trades"])
    assert outcome.n_quarantined == 1 and "transaction_type: not_nullable" in outcome.reason_counts  # 'receive'


def test_holder_rows_sum_sub_accounts_and_set_options_aside():
    parsed = fx.holder_positions(own("holders_dirty.json"), "ACME")
    assert parsed.counts["option_positions_set_aside"] == 1 and parsed.counts["sub_account_rows_summed"] == 1
    f = parsed.frame.set_index("filer_cik")
    assert f.loc["0001111111", "shares"] == 1500.0 and f.loc["0001111111", "value_usd"] == 18000.0
    assert (
        f.loc["0002222222", "shares"] == 2500.0
        and np.isnan(f.loc["0002222222", "value_usd"])
        and pd.isna(f.loc["0002222222", "cusip"])
    )
    assert (f["event_date"] == pd.Timestamp("2024-03-31")).all() and f.loc["0002222222", "known_at"] == pd.Timestamp(
        "2024-05-15 23:59:59"
    )
    assert validate_and_quarantine(parsed.frame, TABLES["institutional_holdings"]).n_quarantined == 0


def test_membership_intervals_walk_the_change_history_backwards():
    data = own("sp500_changes.json")
    members, _ = fx.constituents(data["constituents"])
    changes, _ = fx.constituent_changes(data["changes"])
    got = {
        (r.symbol, f"{r.member_from:%Y-%m-%d}", "" if pd.isna(r.member_to) else f"{r.member_to:%Y-%m-%d}")
        for r in membership_intervals(members, changes).itertuples()
    }
    assert got == {
        ("AAA", "1990-01-02", ""),
        ("NEW", "2023-06-20", ""),
        # no recorded addition: a member since the index's inception, as far as the record tells
        ("OLD", "1957-03-04", "2023-06-19"),
        ("GONE", "1957-03-04", "2022-10-08"),  # a pure removal repeats the ticker in `symbol`
        ("BACK", "2022-03-01", ""),
        ("BACK", "2015-05-01", "2019-04-30"),
    }


def test_models_read_string_booleans_and_missing_spellings():
    from smart_money.sources.fmp.models import CongressTradeRow, EtfPositionRow, ProfileRow

    row = CongressTradeRow.model_validate(
        {
            "symbol": "x",
            "disclosureDate": "2024-01-02",
            "capitalGainsOver200USD": "False",
            "owner": "NULL",
            "comment": "--",
        }
    )
    assert (row.symbol, row.capital_gains_over_200, row.owner, row.comment, row.disclosure_date) == (
        "X",
        False,
        None,
        None,
        date(2024, 1, 2),
    )
    cash = EtfPositionRow.model_validate({"symbol": "DIA", "asset": " ", "isin": "", "sharesNumber": "1,234.5"})
    assert (cash.asset, cash.isin, cash.shares_number) == (None, None, 1234.5)
    legacy = ProfileRow.model_validate({"symbol": "ACME", "mktCap": 1_000_000, "price": 10, "isEtf": "false"})
    assert legacy.shares_outstanding == 100_000 and legacy.is_etf is False


def test_rows_a_source_could_not_read_are_quarantined_with_their_reason():
    from smart_money.data.raw_pull import pull_raw
    from smart_money.data.source import DataSource, FetchResult
    from smart_money.sources.fmp.source import _rejected_frame

    parsed = fx.insider_trades(own("insider_dirty.json"), "ACME")

    class Recorded(DataSource):
        name = "recorded"

        def universe(self, as_of=None):
            raise NotImplementedError

        def fetch(self, table, symbols, start, end):
            frame = parsed.frame[(parsed.frame["known_at"] >= start) & (parsed.frame["known_at"] < end)]
            return FetchResult(
                table, frame, rejected=_rejected_frame([{**r, "symbol": "ACME"} for r in parsed.rejected])
            )

    month = pd.Timestamp("2024-03-01")
    pull = pull_raw(Recorded(), "insider_trades", ["ACME"], [month], pd.Timestamp("2023-01-01"))
    assert pull.outcome.n_quarantined == 3  # two unreadable rows and the Form 3 statement
    assert pull.outcome.reason_counts["InsiderTradeRow: unreadable row"] == 2
    stored = pull.quarantine_by_partition()["2024-03-01"]
    assert stored["raw"].str.contains("not a date").any() and len(pull.partitions["2024-03-01"]) == 2


def test_legacy_house_rows_name_the_representative_only():
    rows = [
        {
            "ticker": "ACME",
            "representative": "Hon. Ann Lee",
            "disclosureDate": "2022-05-02",
            "transactionDate": "2022-04-11",
            "owner": "joint",
            "assetDescription": "Acme",
            "type": "purchase",
            "amount": "$1,001 - $15,000",
            "district": "CA12",
        }
    ]
    frame = fx.congress_trades(rows, "house", "ACME").frame
    assert (frame.loc[0, "member_id"], frame.loc[0, "member_name"], frame.loc[0, "transaction_type"]) == (
        "NAME:HON. ANN LEE",
        "Hon. Ann Lee",
        "purchase",
    )


class DailyBars:
    """A stand-in client serving one bar per weekday, newest first, capped like FMP."""

    use_legacy = False

    def __init__(self) -> None:
        self.calls = 0

    def get_json(self, path, params, symbol=None):
        self.calls += 1
        days = pd.date_range(params["from"], params["to"], freq="B")[::-1][: fx.PRICE_ROW_CAP]
        return [{"symbol": symbol, "date": f"{d:%Y-%m-%d}", "close": 1.0} for d in days]


def test_price_requests_are_chunked_and_split_again_at_the_row_cap(monkeypatch):
    client = DailyBars()
    rows, calls = fx.price_rows(client, fx.PRICES_FULL, "ACME", date(1990, 1, 1), date(2024, 1, 1))
    days = sorted(r["date"] for r in rows)
    assert days == [
        f"{d:%Y-%m-%d}" for d in pd.date_range("1990-01-01", "2023-12-31", freq="B")
    ]  # nothing lost, nothing twice
    assert (
        calls == client.calls == len(fx.price_chunks(date(1990, 1, 1), date(2024, 1, 1)))
    )  # 5,000-day chunks fit the cap

    monkeypatch.setattr(fx, "PRICE_CHUNK_DAYS", 20_000)  # a chunk over the cap is halved and asked again
    client = DailyBars()
    rows, calls = fx.price_rows(client, fx.PRICES_FULL, "ACME", date(1990, 1, 1), date(2024, 1, 1))
    assert len(rows) == len({r["date"] for r in rows}) == len(days) and calls > len(
        fx.price_chunks(date(1990, 1, 1), date(2024, 1, 1))
    )
