"""The SEC data sets inside the public-records source: they fill insider_trades and
institutional_holdings next to the other files, win over the third-party files for the filing
dates they cover, are read only as far as a window needs (and cached), report what they hold,
and a filing counts only from the session after its filing date."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from smart_money.data import calendar as cal
from smart_money.data.raw_pull import pull_raw
from smart_money.dataset.features import (
    PriceMatrix,
    UniverseRules,
    insider_block,
    known_insider_lines,
    latest_filings,
    prepare_insider,
)
from smart_money.dataset.pipeline import dataset_from_source
from smart_money.sources.public_records import PublicRecordsSource
from smart_money.sources.public_records.sec.tsv import SecDataError
from smart_money_tests.support.public_records import SCREEN_COLUMNS, close_series, price_frame
from smart_money_tests.support.sec_zips import (
    cover,
    filing13f,
    form13f_zip,
    form345_zip,
    owner,
    position,
    submission,
    transaction,
)

TICKERS = ("AAA", "BBB", "CCC")
CUSIPS = {"AAA": "111111111", "BBB": "222222222", "CCC": "333333333"}
FILED, TRADED = "2020-02-10", "2020-02-06"  # AAA's CEO purchase: a Thursday trade filed on Monday


def close(symbol: str, day: str) -> float:
    series = close_series(symbol)
    return round(float(series[series.index <= pd.Timestamp(day)].iloc[-1]), 2)


def write_prices(root: Path) -> None:
    folder = root / "prices" / "yahoo" / "data"
    folder.mkdir(parents=True)
    for symbol in TICKERS:
        price_frame(symbol, 99).to_csv(folder / f"{symbol}.csv", index=False)
    (root / "prices" / "index").mkdir()
    price_frame("SPY", 99).to_csv(root / "prices" / "index" / "SPY.csv", index=False)


def write_sec_insider(root: Path) -> None:
    folder = root / "sec" / "insider"
    ceo = dict(relationship="Director,Officer", title="President and CEO")
    form345_zip(
        folder / "2019q4_form345.zip",
        [submission("0000010-19-000001", "2019-11-04", "BBB", issuer_cik="200")],
        [owner("0000010-19-000001", "21", "BUYER BOB", "Director")],
        [transaction("0000010-19-000001", 1, "2019-11-01", "P", "300", close("BBB", "2019-11-01"), "A", "300")],
        before_2023=True,
    )
    form345_zip(
        folder / "2020q1_form345.zip",
        [
            submission("0000010-20-000001", FILED, "AAA", issuer_cik="100"),
            submission("0000010-20-000002", "2020-03-02", "AAA", issuer_cik="100", form="4/A", original=FILED),
            submission("0000010-20-000003", "2020-03-05", "AAA", issuer_cik="100"),
        ],
        [
            owner("0000010-20-000001", "11", "CHIEF ANN", **ceo),
            owner("0000010-20-000002", "11", "CHIEF ANN", **ceo),
            owner("0000010-20-000003", "12", "SELLER SAM", "Officer", "CFO"),
        ],
        [
            transaction("0000010-20-000001", 1, TRADED, "P", "1000", close("AAA", TRADED), "A", "5000"),
            transaction(
                "0000010-20-000002", 2, TRADED, "P", "1200", close("AAA", TRADED), "A", "5200"
            ),  # the 4/A's correction
            transaction(
                "0000010-20-000003", 3, "2020-02-20", "S", "400", close("AAA", "2020-02-20"), "D", "100", timeliness="L"
            ),
            transaction(
                "0000010-20-000003", 4, "2020-02-21", "S", "", close("AAA", "2020-02-21"), "D", "100"
            ),  # no shares: quarantined
        ],
        before_2023=True,
    )
    form345_zip(
        folder / "2020q2_form345.zip",
        [submission("0000010-20-000010", "2020-05-11", "BBB", issuer_cik="200")],
        [
            owner("0000010-20-000010", "21", "BUYER BOB", "Director"),
            owner("0000010-20-000010", "22", "BOB'S TRUST", "TenPercentOwner"),
        ],
        [transaction("0000010-20-000010", 5, "2020-05-07", "P", "700", close("BBB", "2020-05-07"), "A", "1000")],
        before_2023=True,
    )
    form345_zip(
        folder / "2021q3_form345.zip",
        [submission("0000010-21-000001", "2021-08-02", "AAA", issuer_cik="100", plan="1")],
        [owner("0000010-21-000001", "12", "SELLER SAM", "Officer", "CFO")],
        [
            transaction(
                "0000010-21-000001", 6, "2021-07-26", "S", "250", close("AAA", "2021-07-26"), "D", "0", timeliness="L"
            )
        ],
    )


def write_sec_13f(root: Path) -> None:
    folder = root / "sec" / "13f"
    shares = {"AAA": 10_000, "BBB": 5_000, "CCC": 2_000}
    value = {s: round(n * close(s, "2020-03-31") / 1000) for s, n in shares.items()}  # thousands of USD (filed in 2020)
    form13f_zip(
        folder / "2020q2_form13f.zip",
        [
            filing13f("0000099-20-000001", "2020-05-14", "9999", "2020-03-31"),
            filing13f("0000099-20-000002", "2020-06-01", "9999", "2020-03-31", form="13F-HR/A"),
        ],
        [
            cover("0000099-20-000001", "FUND NINE LP", "2020-03-31"),
            cover("0000099-20-000002", "FUND NINE LP", "2020-03-31", amendment_type="NEW HOLDINGS", amendment_no="1"),
        ],
        [
            position("0000099-20-000001", 1, CUSIPS["AAA"], value["AAA"], shares["AAA"]),
            position("0000099-20-000001", 2, CUSIPS["BBB"], value["BBB"], shares["BBB"]),
            position("0000099-20-000001", 3, "999999999", 10, 100),  # no ticker in the map
            position("0000099-20-000002", 4, CUSIPS["CCC"], value["CCC"], shares["CCC"]),
        ],
        with_figi=False,
    )
    (folder / "cusip_map.csv").write_text("cusip,ticker\n" + "".join(f"{c},{t}\n" for t, c in CUSIPS.items()))


def write_third_party(root: Path) -> None:
    """An OpenInsider screen and a per-manager 13F archive: one record on a date the SEC files
    cover (replaced), one on a date they do not (kept)."""
    screen = root / "insider" / "openinsider_x"
    screen.mkdir(parents=True)
    columns = SCREEN_COLUMNS
    rows = [
        [
            FILED,
            TRADED,
            "AAA",
            "AAA Inc",
            "Chief Ann",
            "CEO",
            "P - Purchase",
            close("AAA", TRADED),
            "1000",
            "5000",
            "20%",
            "1",
        ],  # covered: the SEC has it
        [
            "2019-06-05",
            "2019-06-03",
            "BBB",
            "BBB Inc",
            "Old Timer",
            "Dir",
            "P - Purchase",
            close("BBB", "2019-06-03"),
            "100",
            "100",
            "5%",
            "1",
        ],  # not covered
    ]
    pd.DataFrame(rows, columns=columns).to_csv(screen / "screen.csv", index=False)
    members = {
        "src/data/holdings/legacy/2020-Q2.json": {
            "form": "13F-HR",
            "date": "2020-05-15",
            "positions": [{"name": "AAA", "cusip": CUSIPS["AAA"], "shares": 1, "value": 1}],
        },
        "src/data/holdings/legacy/2019-Q4.json": {
            "form": "13F-HR",
            "date": "2019-11-14",
            "positions": [
                {
                    "name": "BBB",
                    "cusip": CUSIPS["BBB"],
                    "shares": 50,
                    "value": round(50 * close("BBB", "2019-09-30") / 1000, 3),
                }
            ],
        },
    }
    (root / "13f" / "legacy").mkdir(parents=True)
    with tarfile.open(root / "13f" / "legacy" / "src_data_holdings.tar.xz", "w:xz") as archive:
        for name, payload in members.items():
            data = json.dumps(payload).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sec_records")
    write_prices(root)
    write_sec_insider(root)
    write_sec_13f(root)
    write_third_party(root)
    return root


def test_sec_rows_fill_the_tables_and_win_where_they_cover(records):
    source = PublicRecordsSource(records)
    insider = source.fetch("insider_trades", list(TICKERS), pd.Timestamp("2019-06-01"), pd.Timestamp("2020-07-01"))
    frame = insider.frame.set_index("record_id")
    assert {
        "sec345:0000010-20-000001:1",
        "sec345:0000010-20-000002:2",
        "sec345:0000010-20-000010:5",
        "sec345:0000010-19-000001:1",
    } <= set(frame.index)
    third = frame[~frame.index.str.startswith("sec345:")]
    assert third["symbol"].tolist() == ["BBB"] and third["known_at"].iloc[0] == pd.Timestamp(
        "2019-06-05 23:59:59"
    )  # not covered: kept
    assert insider.stats["third_party_rows_replaced_by_sec"] == 1  # the screen's copy of the CEO's purchase
    assert insider.stats["rows_from_sec_form345"] == 5 and insider.stats["rows_from_other_files"] == 1
    holdings = source.fetch(
        "institutional_holdings", list(TICKERS), pd.Timestamp("2019-06-01"), pd.Timestamp("2020-07-01")
    )
    legacy = holdings.frame[holdings.frame["filer_cik"].str.startswith("manager:")]
    assert legacy["known_at"].tolist() == [pd.Timestamp("2019-11-14 23:59:59")]  # the 2020-05-15 file is replaced
    assert holdings.stats["third_party_rows_replaced_by_sec"] == 1


def test_fetch_stats_say_what_the_sec_files_hold(records):
    source = PublicRecordsSource(records)
    insider = source.fetch("insider_trades", list(TICKERS), pd.Timestamp("2020-01-01"), pd.Timestamp("2021-10-01"))
    stats = insider.stats
    assert stats["sec_form345_amendment_rows"] == 1 and stats["sec_form345_amendment_filings"] == 1
    assert stats["sec_form345_late_filing_rows"] == 2
    assert (
        stats["sec_form345_rows_with_10b5_1_flag"] == 1 and stats["sec_form345_10b5_1_share"] == 1.0
    )  # only 2021 forms carry the box
    assert stats["sec_form345_joint_filing_rows"] == 1 and stats["sec_form345_joint_filings"] == 1
    assert stats["sec_form345_quarantined: shares missing or unreadable"] == 1
    assert (
        insider.rejected is not None and insider.rejected["quarantine_reason"].str.contains("shares missing").sum() == 1
    )
    holdings = source.fetch(
        "institutional_holdings", list(TICKERS), pd.Timestamp("2020-01-01"), pd.Timestamp("2020-07-01")
    )
    assert holdings.stats["sec_13f_unmapped_cusips"] == 1 and holdings.stats["sec_13f_lines_unmapped_cusip"] == 1
    assert (
        holdings.stats["sec_13f_amendment_rows"] == 3
        and holdings.stats["sec_13f_new_holdings_amendments_combined"] == 1
    )
    assert holdings.stats["rows_from_sec_13f"] == 5


def test_a_fetch_reads_only_the_files_its_window_needs_once(records):
    source = PublicRecordsSource(records)
    result = source.fetch("insider_trades", list(TICKERS), pd.Timestamp("2021-07-01"), pd.Timestamp("2021-10-01"))
    # the window's quarter and, for amendments, the year before it: 2020q2 (ends 2020-06-30) and 2021q3
    assert result.stats["sec_form345_files_read"] == 2 and source.sec.files_parsed("insider") == 2
    assert result.frame["record_id"].tolist() == ["sec345:0000010-21-000001:6"]
    again = source.fetch("insider_trades", ["AAA"], pd.Timestamp("2021-08-01"), pd.Timestamp("2021-09-01"))
    assert len(again.frame) == 1 and source.sec.files_parsed("insider") == 2  # from the cache
    source.fetch("insider_trades", list(TICKERS), pd.Timestamp("2020-01-01"), pd.Timestamp("2020-04-01"))
    assert source.sec.files_parsed("insider") == 4  # 2019q4 and 2020q1 are read now; 2020q2 comes from the cache


def test_a_filing_counts_from_the_session_after_its_filing_date(records):
    """Through the raw layer and core.features: AAA's purchase filed Monday 2020-02-10 is not in
    that day's sample (cutoff 16:00), and is in the next day's; the 4/A filed 2020-03-02 replaces
    its line only from 2020-03-03. Moving the cut by one day either way fails this test."""
    source = PublicRecordsSource(records)
    months = [pd.Timestamp("2020-02-01"), pd.Timestamp("2020-03-01")]
    pulled = pull_raw(source, "insider_trades", list(TICKERS), months, months[0])
    assert pulled.outcome.n_quarantined == 1  # the line without shares
    rows = pulled.outcome.valid
    assert rows["plan_10b5_1"].isna().all()  # 2020 forms had no 10b5-1 box
    prices = source.fetch("prices", [*TICKERS, "SPY"], pd.Timestamp("2019-01-01"), pd.Timestamp("2020-12-31")).frame
    px = PriceMatrix(prices)
    ins = prepare_insider(rows, px)

    def lines_known(day: str) -> int:
        block = insider_block(ins, pd.Timestamp(day), cal.sample_cutoff(pd.Timestamp(day)), px)
        return int(block["insider_filings_365d"].get("AAA", 0)) if len(block) else 0

    def bought(day: str) -> float:
        known = known_insider_lines(ins, cal.sample_cutoff(pd.Timestamp(day)))
        return float(known.loc[(known["symbol"] == "AAA") & (known["transaction_code"] == "P"), "shares"].sum())

    assert lines_known("2020-02-07") == 0 and lines_known("2020-02-10") == 0
    assert lines_known("2020-02-11") == 1
    assert bought("2020-03-02") == 1000 and bought("2020-03-03") == 1200  # the 4/A from the next session


def test_a_13f_amendment_counts_from_the_session_after_it(records):
    source = PublicRecordsSource(records)
    rows = source.fetch(
        "institutional_holdings", list(TICKERS), pd.Timestamp("2020-01-01"), pd.Timestamp("2020-07-01")
    ).frame
    rows = rows[~rows["filer_cik"].str.startswith("manager:")]
    h = rows.assign(period_q=rows["event_date"].dt.to_period("Q"))

    def held(day: str) -> set[str]:
        current, _ = latest_filings(h, cal.sample_cutoff(pd.Timestamp(day)))
        return set(current["symbol"])

    assert held("2020-05-14") == set()
    assert held("2020-05-15") == {"AAA", "BBB"}
    assert held("2020-06-01") == {"AAA", "BBB"} and held("2020-06-02") == {
        "AAA",
        "BBB",
        "CCC",
    }  # NEW HOLDINGS completes it
    values = rows.set_index("record_id")
    assert values.loc["sec13f:0000099-20-000001:AAA", "value_usd"] == pytest.approx(
        10_000 * close("AAA", "2020-03-31"), rel=1e-2
    )  # thousands -> USD


def test_the_pipeline_runs_on_sec_records(records):
    data = dataset_from_source(
        PublicRecordsSource(records),
        TICKERS,
        pd.Timestamp("2020-02-01"),
        pd.Timestamp("2020-06-01"),
        rules=UniverseRules(None, False),
    )
    features = data.features.set_index(["symbol", "sample_date"])
    february = cal.sample_date(pd.Timestamp("2020-02-01"))  # 2020-02-14: the purchase is known, its 4/A not yet
    assert features.loc[("AAA", february), "insider_cluster_score"] == 1
    assert features.loc[("AAA", february), "insider_buy_volume_30d"] == pytest.approx(
        1000 * close("AAA", TRADED), rel=1e-3
    )


def test_a_file_not_named_as_the_sec_names_it_is_an_error(tmp_path):
    write_prices(tmp_path)
    (tmp_path / "sec" / "insider").mkdir(parents=True)
    (tmp_path / "sec" / "insider" / "my_download.zip").write_bytes(b"")
    with pytest.raises(SecDataError, match="my_download.zip: not an SEC insider data set file name"):
        PublicRecordsSource(tmp_path)


def test_a_damaged_sec_file_is_set_aside_and_covers_nothing(records, tmp_path):
    """A ZIP cut short: named in the fetch, its rows gone, and the third-party rows of the dates it
    would have covered kept (nothing replaces them)."""
    copy = tmp_path / "records"
    shutil.copytree(records, copy)
    damaged = sorted((copy / "sec" / "insider").glob("*.zip"))
    for path in damaged:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    insider = PublicRecordsSource(copy).fetch(
        "insider_trades", list(TICKERS), pd.Timestamp("2019-06-01"), pd.Timestamp("2020-07-01")
    )
    files = {f.file: f.reason for f in insider.quarantined_files}
    assert files and set(files) <= {f"sec/insider/{p.name}" for p in damaged}  # those the window needs
    assert all("not a readable ZIP" in reason for reason in files.values())
    assert not insider.frame["record_id"].str.startswith("sec345:").any()
    assert "third_party_rows_replaced_by_sec" not in insider.stats and len(insider.frame) == 2  # both screen rows
