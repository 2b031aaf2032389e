"""The public_records source as the pipeline sees it: universe, windows, renamed tickers, split
restatement, the normalized layout, and point in time: a record is used from its public date
(disclosure, filing or derived deadline), never its trade date; look-ahead columns of the files
never reach a feature."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smart_money.data import calendar as cal
from smart_money.dataset.features import UniverseRules, congress_block
from smart_money.dataset.pipeline import dataset_from_source
from smart_money.sources.public_records import PublicRecordsSource, RecordsFolderError
from smart_money_tests.support.paths import shared_path
from smart_money_tests.support.public_records import (
    DELISTED,
    FUTURE_COLUMNS,
    RENAMED_NEW,
    SPLIT_RATIO,
    SPLIT_TICKER,
    tickers,
    write_records,
)

NO_RULES = UniverseRules(None, False)


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> Path:
    return write_records(tmp_path_factory.mktemp("records"))


@pytest.fixture(scope="module")
def source(records) -> PublicRecordsSource:
    return PublicRecordsSource(records)


def features_at(source: PublicRecordsSource, symbols: tuple[str, ...], first: str, last: str) -> pd.DataFrame:
    data = dataset_from_source(source, symbols, pd.Timestamp(first), pd.Timestamp(last), rules=NO_RULES)
    return data.features.set_index(["symbol", "sample_date"])


def test_universe_is_every_priced_ticker_in_a_fixed_shuffled_order(source):
    universe = source.universe()
    stocks = universe[universe["asset_type"] == "stock"]
    assert universe.iloc[0]["symbol"] == "SPY" and universe.iloc[0]["asset_type"] == "etf"
    assert set(stocks["symbol"]) == {*tickers(), DELISTED, "LAST"}
    assert stocks["symbol"].tolist() != sorted(stocks["symbol"])  # not alphabetical: a sample
    assert PublicRecordsSource(source.root).universe()["symbol"].tolist() == universe["symbol"].tolist()
    gone = universe.set_index("symbol").loc[DELISTED]
    assert gone["member_to"] == pd.Timestamp("2020-11-30")  # delisted: membership ends with its prices
    assert universe["shares_outstanding"].isna().all()  # no public file gives it


def test_universe_summary_states_where_the_stocks_come_from(source):
    summary = source.universe_summary(pd.Timestamp("2020-01-01"), pd.Timestamp("2021-07-01"), run_size=24).set_index(
        "price collection"
    )
    yahoo, old = summary.loc["prices/yahoo"], summary.loc["prices/old"]
    assert yahoo["stocks / files"] == len(tickers()) and old["stocks / files"] == 2  # GONE and LAST
    assert yahoo["in the run's universe"] + old["in the run's universe"] == 24
    assert old["delisted (series ends early)"] == 1 and old["ending before 2021-07-01"] == 1  # GONE ends 2020-11
    assert yahoo["delisted (series ends early)"] == 0 and yahoo["renamed tickers stored here"] == 1  # OLDN -> T01
    assert summary.loc["prices/other: files not used (not Yahoo-style (no adjusted close))", "stocks / files"] == 1


def test_fetch_keeps_the_window_and_the_symbols_asked_for(source):
    result = source.fetch(
        "congress_trades", ["T02", "T03", "T16"], pd.Timestamp("2020-05-01"), pd.Timestamp("2020-06-01")
    )
    assert sorted(result.frame["symbol"]) == ["T03"]  # T02 was disclosed in June, T16 in April
    june = source.fetch("congress_trades", ["T02", "T16"], pd.Timestamp("2020-04-01"), pd.Timestamp("2020-07-01"))
    assert sorted(june.frame["symbol"]) == ["T02", "T16"]  # T16 comes from the normalized layout
    assert june.stats["rows_from_normalized_layout"] == 1


def test_renamed_tickers_and_split_restatement(source, records):
    insider = source.fetch(
        "insider_trades", [RENAMED_NEW, SPLIT_TICKER], pd.Timestamp("2020-01-01"), pd.Timestamp("2021-01-01")
    ).frame.set_index("symbol")
    assert insider.loc[RENAMED_NEW, "reporting_cik"] == "name:ann-smith"  # filed as OLDN
    # bought 1,000 shares before a 4:1 split the price file is restated for: 4,000 shares at a
    # quarter of the price on the file's basis; the trade's USD value does not change
    split = insider.loc[SPLIT_TICKER]
    screen = pd.read_csv(records / "insider" / "openinsider_fixture" / "CEO_BUYS.csv", dtype=str).set_index("Ticker")
    reported = float(screen.loc[SPLIT_TICKER, "Price"])
    assert split["shares"] == 1000 * SPLIT_RATIO
    assert split["price"] == pytest.approx(reported / SPLIT_RATIO)
    assert split["shares"] * split["price"] == pytest.approx(1000 * reported)


def test_prices_gaps_and_bad_folders(source, tmp_path):
    result = source.fetch("prices", ["T03", "NOPE"], pd.Timestamp("2020-01-01"), pd.Timestamp("2020-02-01"))
    assert set(result.frame["symbol"]) == {"T03"}
    assert result.frame["date"].between("2020-01-01", "2020-01-31").all()
    assert [g.symbol for g in result.gaps] == ["NOPE"]
    with pytest.raises(RecordsFolderError, match="no such folder"):
        PublicRecordsSource(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RecordsFolderError, match="no price files"):
        PublicRecordsSource(tmp_path / "empty")


def test_records_are_used_from_their_public_date(source):
    """Trades become features only once disclosed or filed, whatever their trade date."""
    features = features_at(
        source, ("T02", "T03", "T10", "T11", "T13", "T14", RENAMED_NEW, SPLIT_TICKER), "2020-05-01", "2020-07-01"
    )
    may, june, july = (cal.sample_date(pd.Timestamp(m)) for m in ("2020-05-01", "2020-06-01", "2020-07-01"))
    # Senate purchase traded 2020-05-01, disclosed 2020-06-20: not in June's sample, in July's
    assert features.loc[("T02", june), "congress_buy_count_90d"] == 0
    assert features.loc[("T02", july), "congress_buy_count_90d"] == 1
    assert features.loc[("T02", july), "asof_congress"] == pd.Timestamp("2020-06-20 23:59:59")
    # CEO and cluster buy traded Friday 2020-06-12, filed Tuesday 06-16: unknown at the close of
    # Monday 06-15 (June's sample), known in July
    assert features.loc[("T10", june), "insider_filings_365d"] == 0
    assert features.loc[("T10", july), "insider_filings_365d"] == 3
    # a 13F filed 2020-05-15 is public after the close of that day (May's sample date): May
    # still sees the December filing only; June sees March's new T14 position
    assert features.loc[("T14", may), "inst_new_positions_count"] == 0
    assert features.loc[("T14", june), "inst_new_positions_count"] == 1
    # without shares outstanding, ownership levels are undefined, not zero
    assert np.isnan(features.loc[("T14", june), "inst_ownership_pct"])
    for column in [c for c in features.columns if c.startswith("asof_")]:
        assert (features[column].dropna() <= features["cutoff"][features[column].notna()]).all(), column


def test_look_ahead_columns_never_reach_the_features(tmp_path):
    """The OpenInsider files' future prices and returns (2w .. 2yr, 2w% .. 2yr%) are dropped on
    load: filling them with anything changes no stored row and no feature."""
    quiet = PublicRecordsSource(write_records(tmp_path / "zeros", future_value=0.0))
    loud = PublicRecordsSource(write_records(tmp_path / "huge", future_value=1e9))
    symbols = ("T10", RENAMED_NEW, SPLIT_TICKER, "T03")
    fetched = quiet.fetch("insider_trades", list(symbols), pd.Timestamp("2019-01-01"), pd.Timestamp("2021-01-01")).frame
    assert not set(FUTURE_COLUMNS) & set(fetched.columns)
    a = features_at(quiet, symbols, "2020-03-01", "2020-08-01")
    b = features_at(loud, symbols, "2020-03-01", "2020-08-01")
    assert not set(FUTURE_COLUMNS) & set(a.columns)
    assert a["insider_buy_volume_30d"].gt(0).any()  # the insider rows are there and used
    pd.testing.assert_frame_equal(a, b)


def test_real_disclosure_lags_are_respected():
    """Senate and House trades from the real exports: the congress features count a trade only
    after its disclosure date, which comes weeks after the trade."""
    source = PublicRecordsSource(shared_path("realdata"))
    trades = source.fetch("congress_trades", ["MSFT"], pd.Timestamp("2019-01-01"), pd.Timestamp("2021-01-01")).frame
    lag = (trades["known_at"].dt.normalize() - trades["event_date"]).dt.days
    assert lag.median() >= 10
    naive_differs = 0
    for month in cal.months_between("2019-04-01", "2020-12-01"):
        t = cal.sample_date(month)
        cutoff = cal.sample_cutoff(t)
        features = congress_block(trades, t, cutoff)  # what the features asset computes
        counted = int(features["congress_buy_count_90d"].get("MSFT", 0))
        window = (
            (trades["event_date"] > t - pd.Timedelta(days=90))
            & (trades["event_date"] <= t)
            & (trades["transaction_type"] == "purchase")
        )
        assert counted == int((window & (trades["known_at"] <= cutoff)).sum()), t
        naive_differs += int(counted != int(window.sum()))
    assert naive_differs > 0  # counting by trade date would have used undisclosed trades


def test_the_committed_normalized_layout_doc_matches_the_schemas():
    from smart_money.reporting.generated_docs import LAYOUT_DOC, normalized_layout_doc
    from smart_money.settings.paths import project_root

    assert (project_root() / LAYOUT_DOC).read_text() == normalized_layout_doc(), (
        "run `smart-money docs` and commit docs/normalized-layout.md"
    )
