"""Each public-records reader on self-written files (every trap planted on purpose) and on small
slices of the real files in ../shared/realdata (skipped with a reason where that folder is
absent). The holdout archive in that folder is never touched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smart_money.data.normalize import basis_factor
from smart_money.data.quality import validate_and_quarantine
from smart_money.data.schemas import SYMBOL_PATTERN, TABLES
from smart_money.sources.public_records import (
    congress,
    etf,
    form4,
    openinsider,
    prices,
    thirteenf,
    tickers,
)
from smart_money_tests.support.paths import shared_path
from smart_money_tests.support.public_records import FUTURE_COLUMNS, close_on, write_records


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> Path:
    return write_records(tmp_path_factory.mktemp("records"))


def valid(frame: pd.DataFrame, table: str, odd_tickers: float = 0.0) -> pd.DataFrame:
    """Rows the table's schema accepts (the readers' output must be storable as is). Real files
    hold a few names that are no US tickers ('BFA, BFB', '3690'): the source never asks for them,
    and the schema would quarantine them; up to `odd_tickers` of the rows may be such."""
    outcome = validate_and_quarantine(frame, TABLES[table])
    reasons = set(outcome.reason_counts)
    assert reasons <= {f"symbol: str_matches('{SYMBOL_PATTERN}')"}, outcome.quarantined.head().to_dict("records")
    assert outcome.n_quarantined <= odd_tickers * len(frame)
    return outcome.valid


# -- congress -----------------------------------------------------------------------------------
def test_congress_disclosure_dates_bands_and_duplicates(records):
    parsed = congress.read(
        {
            "senate": sorted((records / "congress" / "senate").iterdir()),
            "house": sorted((records / "congress" / "house").iterdir()),
        }
    )
    frame = valid(parsed.frame, "congress_trades").set_index(["symbol", "owner"])
    # public from the disclosure date (end of day), not the trade date
    assert frame.loc[("T02", "self"), "known_at"] == pd.Timestamp("2020-06-20 23:59:59")
    assert frame.loc[("T02", "self"), "event_date"] == pd.Timestamp("2020-05-01")
    # a file without disclosure dates: the STOCK Act deadline (45 days), only for trades no
    # file with real dates holds
    assert frame.loc[("T06", "self"), "known_at"] == pd.Timestamp("2020-08-15 23:59:59")
    assert frame.loc[("T03", "spouse"), "known_at"] == pd.Timestamp("2020-05-10 23:59:59")
    assert parsed.counts["known_at_from_deadline_kept"] == 1
    # amount bands as numbers: a band written as its start, an open top band
    assert tuple(frame.loc[("T07", "self"), ["amount_low", "amount_high"]]) == (1001.0, 15000.0)
    assert frame.loc[("T05", "joint"), "amount_low"] == 50_000_001 and np.isnan(
        frame.loc[("T05", "joint"), "amount_high"]
    )
    # the same trade in a spouse's and a child's account is two disclosures; a repeated row and
    # another scraper's copy of it are one
    t07 = frame.loc["T07"]
    assert sorted(t07.index) == ["dependent", "self"]
    assert parsed.counts["duplicate_trades_dropped"] >= 2
    # garbled dates (month 13, year 0021, disclosure in 1935) are quarantined with a reason
    assert sorted(parsed.rejected["symbol"]) == ["T04", "T08", "T09"]
    assert parsed.rejected["quarantine_reason"].str.contains("unparseable or implausible").all()
    # bonds and '--' tickers are not stock trades
    assert parsed.counts["not_a_stock_trade"] == 1
    assert set(frame["transaction_type"]) <= {"purchase", "sale_full"}
    assert "BRK-B" in frame.index.get_level_values("symbol")  # class shares as the price files spell them


def test_congress_amount_bands_table():
    low, high = congress.amounts(
        pd.Series(["$1,001 - $15,000", "$1,001 -", "$250,001 -", "$1,000,000 +", "Over $50,000,000", "Unknown", None])
    )
    assert list(low[:5]) == [1001, 1001, 250001, 1_000_000, 50_000_001]
    assert list(high[:3]) == [15000, 15000, 500000] and np.isnan(high[3]) and np.isnan(high[4])
    assert np.isnan(low[5]) and np.isnan(low[6])


# -- OpenInsider ----------------------------------------------------------------------------------
def test_openinsider_drops_look_ahead_columns_on_load(records):
    raw = openinsider.extract(records / "insider" / "openinsider_fixture" / "CEO_BUYS.csv")
    assert not set(FUTURE_COLUMNS) & set(raw.columns)
    assert set(raw.attrs["dropped_columns"]) == {*FUTURE_COLUMNS, "idx"}


def test_openinsider_overlapping_screens_and_clusters(records):
    parsed = openinsider.read(sorted((records / "insider" / "openinsider_fixture").glob("*.csv")))
    frame = valid(parsed.frame, "insider_trades")
    t10 = frame[frame["symbol"] == "T10"]
    # the CEO's row is in two screens (kept once); the cluster of 3 insiders buying 40,000
    # shares names the CEO's 10,000: two more insiders with 15,000 each
    assert parsed.counts["duplicate_rows_across_screens"] == 1
    assert len(t10) == 3 and t10["reporting_cik"].nunique() == 3
    assert t10["shares"].sum() == 40_000
    assert sorted(t10["shares"]) == [10_000, 15_000, 15_000]
    ceo = t10[t10["reporting_cik"] == "name:doe-john"].iloc[0]
    assert (ceo["role"], ceo["transaction_code"], ceo["acquisition_or_disposition"]) == ("CEO", "P", "A")
    assert ceo["known_at"] == pd.Timestamp("2020-06-16 23:59:59")


# -- Form 4 ----------------------------------------------------------------------------------------
def test_form4_deadline_duplicates_and_undirected_codes(records):
    path = records / "insider" / "form4_fixture" / "data_json_quarterly.tar.xz"
    parsed = form4.read(path, pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31"))
    frame = valid(parsed.frame, "insider_trades")
    sale = frame[frame["transaction_code"] == "S"]
    # one line under three ids and two files is one line
    assert len(sale) == 1 and parsed.counts["duplicate_rows_dropped"] == 2
    # no filing date in the files: public at the deadline, two SEC business days after the
    # trade (Thursday 2020-07-02; Friday 07-03 was the observed Independence Day holiday)
    assert sale.iloc[0]["known_at"] == pd.Timestamp("2020-07-07 23:59:59")
    assert sale.iloc[0]["role"] == "OFFICER"  # 'Sr. Vice President' is not a president
    # a gift does not say which way it went: quarantined, not guessed
    assert list(parsed.rejected["quarantine_reason"].str.contains("acquired/disposed")) == [True]
    # only quarter files that can hold the window are read
    assert (frame["event_date"] >= pd.Timestamp("2020-01-01")).all()
    everything = form4.read(path)
    assert pd.Timestamp("2017-02-01") in set(everything.frame["event_date"])


def test_form4_deadline_counts_business_days():
    days = pd.Series(pd.to_datetime(["2020-07-02", "2020-07-03", "2021-12-23", "2022-06-17"]))
    from smart_money.sources.public_records.common import deadline

    due = deadline(days, business_days=2).dt.strftime("%Y-%m-%d").tolist()
    # Fri 07-03-2020 holiday -> from Thu: Mon, Tue; a holiday itself counts from the day before;
    # 2021-12-24 observed Christmas; Juneteenth (observed Mon 2022-06-20)
    assert due == ["2020-07-07", "2020-07-07", "2021-12-28", "2022-06-22"]


# -- 13F ---------------------------------------------------------------------------------------------
def test_13f_units_periods_sub_accounts_and_maps(records):
    folder = records / "13f" / "fixture"
    maps = thirteenf.read_cusip_map([folder / "cusip_map.csv", folder / "stocks_us.csv"])
    parsed = thirteenf.read(folder / "src_data_holdings.tar.xz", maps)
    frame = valid(parsed.frame, "institutional_holdings").set_index(["symbol", "event_date"])
    # filed 2020-02-14 -> positions as of 2019-12-31; sub-account rows summed; value in $1000s
    december = frame.loc[("T13", pd.Timestamp("2019-12-31"))]
    assert december["shares"] == 1500
    assert december["known_at"] == pd.Timestamp("2020-02-14 23:59:59")
    assert december["value_usd"] == pytest.approx(1500 * close_on(records, "T13", "2019-12-31"), rel=1e-3)
    # the next filing is already in USD: the unit is chosen per file
    march = frame.loc[("T13", pd.Timestamp("2020-03-31"))]
    assert march["value_usd"] == pytest.approx(2000 * close_on(records, "T13", "2020-03-31"), rel=1e-3)
    # the first CUSIP map wins (cusip_map.csv says T13; stocks_us.csv adds T14)
    assert ("T14", pd.Timestamp("2020-03-31")) in frame.index
    assert parsed.counts["option_positions_set_aside"] == 1
    assert parsed.counts["positions_without_ticker"] == 1
    assert parsed.counts["files_not_13f_or_undated"] == 1  # the N-PORT file


def test_13f_unit_choice_by_value_per_share():
    raw = pd.DataFrame(
        {
            "accession": ["a", "a", "b", "b", "c"],
            "value": [50, 80, 50_000, 80_000, 5.2e7],
            "shares": [1000, 1000, 1000, 1000, 1000],
        }
    )
    assert thirteenf.file_units(raw).to_dict() == {"a": 1000.0, "b": 1.0, "c": 0.001}
    days = pd.Series(pd.to_datetime(["2020-02-14", "2020-03-31", "2020-04-01"]))
    assert thirteenf.previous_quarter_end(days).dt.strftime("%Y-%m-%d").tolist() == [
        "2019-12-31",
        "2019-12-31",
        "2020-03-31",
    ]


# -- ETF --------------------------------------------------------------------------------------------
def test_etf_start_of_day_switch_and_exchange_codes(records):
    parsed = etf.read([records / "etf" / "ark_fixture" / "fund-holdings_master.csv"])
    frame = valid(parsed.frame, "etf_holdings")
    assert list(frame["symbol"].unique()) == ["T15"]  # 'T15 UW' -> T15; 'ZZZ LN' is foreign
    by_event = frame.set_index("event_date")["known_at"]
    # end-of-day files until 2021-03-14: the file's date; from 03-15 the previous session's
    # close, and the 03-15 file repeats 03-12's close (kept once, as first published)
    assert by_event[pd.Timestamp("2021-03-12")] == pd.Timestamp("2021-03-12 23:59:59")
    assert by_event[pd.Timestamp("2021-03-15")] == pd.Timestamp("2021-03-16 23:59:59")
    assert parsed.counts["same_holdings_date_in_two_files"] == 1
    assert parsed.counts["foreign_listings_left_out"] == 4 and parsed.counts["rows_without_ticker"] == 4


# -- prices, tickers, basis ----------------------------------------------------------------------------
def test_dirty_price_file_and_spans(records):
    path = records / "prices" / "old" / "stocks" / "GONE.csv.xz"
    frame, counts = prices.read(path)
    assert counts["non_data_lines_skipped"] == 4  # the appended error JSON
    assert counts["null_rows_dropped"] == 1 and counts["repeated_dates_dropped"] == 1
    assert frame["date"].is_unique and frame["close"].gt(0).all() and frame["shares_outstanding"].isna().all()
    assert prices.date_span(path) == (pd.Timestamp("2019-01-02"), pd.Timestamp("2020-11-30"))
    assert not prices.is_yahoo_style(records / "prices" / "other" / "T05_data.csv")
    assert prices.symbol_of(Path("SPY_noahrubin989.csv")) == "SPY" and prices.symbol_of(Path("BRK-B.csv.xz")) == "BRK-B"


def test_renamed_tickers_follow_the_price_file():
    changes = pd.DataFrame({"old": ["FB", "ANTM", "DISCA", "DISCK"], "new": ["META", "ELV", "WBD", "WBD"]})
    mapping = tickers.aliases(changes, priced={"FB", "ELV", "ANTM", "WBD"})
    assert mapping == {"META": "FB", "ANTM": "ELV", "DISCA": "WBD", "DISCK": "WBD"}
    assert tickers.canonical(pd.Series(["META", "FB", "ANTM", "MSFT", None]), mapping).tolist()[:4] == [
        "FB",
        "FB",
        "ELV",
        "MSFT",
    ]


def test_basis_factor_tells_splits_from_noise():
    ratios = np.array([1.0, 1.2, 0.82, 3.97, 0.101, 0.25, 1.9, np.nan, 0.0, 1.33])
    factors = basis_factor(ratios)
    assert list(factors[:7]) == [1.0, 1.0, 1.0, 4.0, 0.1, 0.25, 2.0]
    assert np.isnan(factors[7]) and np.isnan(factors[8])
    assert factors[9] == pytest.approx(1.33)  # not a split ratio: a spin-off style adjustment


# -- slices of the real files ---------------------------------------------------------------------------
def test_real_senate_and_house_exports():
    senate = congress.transform(
        congress.extract(
            shared_path("realdata", "congress", "senate", "muskany03_senate_all_transactions_2012-2022.csv")
        ).head(2000),
        "senate",
    )
    frame = valid(senate.frame, "congress_trades")
    lag = (frame["known_at"].dt.normalize() - frame["event_date"]).dt.days
    assert lag.median() > 5  # disclosures come weeks after the trades
    assert frame["amount_low"].notna().all()
    house_raw = congress.extract(
        shared_path("realdata", "congress", "house", "pemukl_house_stock_watcher_all_transactions_2019-2022.csv")
    )
    house = congress.transform(house_raw, "house")
    assert len(house.rejected) >= 5  # the malformed years (0009, 0021, 0201, 20222 ...)
    assert (house.frame["amount_high"].dropna() >= house.frame["amount_low"].dropna().min()).all()
    scrape = congress.transform(
        congress.extract(
            shared_path("realdata", "congress", "house", "tattooedhead_house_all_transactions_2026-05-29_v1.json")
        ),
        "house",
    )
    assert scrape.rejected["quarantine_reason"].notna().all() and len(scrape.frame) > 5000


def test_real_openinsider_screen_has_no_look_ahead_left():
    path = shared_path("realdata", "insider", "openinsider_darrenzou", "CFO10kplus.csv")
    raw = openinsider.extract(path)
    assert {"2w", "1m", "2yr", "2w%", "1yr%", "2yr%", "active", "done", "skip"} <= set(raw.attrs["dropped_columns"])
    assert not any(c.endswith("%") or c in ("2w", "1m", "1yr", "2yr") for c in raw.columns)
    parsed = openinsider.transform([raw])
    frame = valid(parsed.frame, "insider_trades")
    assert (frame["transaction_code"] == "P").all() and (frame["role"] == "CFO").mean() > 0.9


def test_real_form4_quarter_slice():
    path = shared_path("realdata", "insider", "form4_kenny-hk", "data_json_quarterly.tar.xz")
    parsed = form4.read(path, pd.Timestamp("2022-04-01"), pd.Timestamp("2022-06-30"))
    frame = valid(parsed.frame, "insider_trades", odd_tickers=0.01)
    assert parsed.counts["duplicate_rows_dropped"] > len(frame)  # the set repeats rows several times
    lag = (frame["known_at"].dt.normalize() - frame["event_date"]).dt.days
    assert lag.between(2, 6).all()  # two business days, plus weekends and holidays
    assert {"P", "S", "A", "M", "F"} <= set(frame["transaction_code"])


def test_real_13f_year_slice():
    folder = shared_path("realdata", "13f", "superinvestoren")
    parsed = thirteenf.read(
        folder / "src_data_holdings.tar.xz",
        thirteenf.read_cusip_map([folder / "cusip_map.csv", folder / "stocks_us.csv"]),
        pd.Timestamp("2020-01-01"),
        pd.Timestamp("2020-12-31"),
    )
    frame = valid(parsed.frame, "institutional_holdings")
    per_share = frame["value_usd"] / frame["shares"]
    assert 10 < per_share.median() < 500  # units resolved per file: dollars per share
    assert frame["event_date"].dt.is_quarter_end.all() and frame["known_at"].dt.year.eq(2020).all()
    assert parsed.counts["positions_without_ticker"] > 0


def test_real_ark_holdings_and_dirty_price_file():
    parsed = etf.read([shared_path("realdata", "etf", "ark_thisjustinh", "fund-holdings_master.csv")])
    frame = valid(parsed.frame, "etf_holdings", odd_tickers=0.05)
    assert set(frame["etf_symbol"]) >= {"ARKK", "ARKG", "ARKW"}
    assert parsed.counts["same_holdings_date_in_two_files"] > 0
    nlok, counts = prices.read(
        shared_path("realdata", "prices", "kcjpop_sp500_delisted_renamed", "stocks", "NLOK.csv.xz")
    )
    assert counts["non_data_lines_skipped"] > 0 and nlok["date"].is_unique
    valid(nlok, "prices")
