"""The SEC's Form 13F data sets -> institutional_holdings: value units before and after the 2023
change, amendments (RESTATEMENT, NEW HOLDINGS) as core.features reads them, notices, options,
principal amounts, unmapped CUSIPs and quarantined lines, from ZIPs in the SEC's layout."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from smart_money.data.quality import validate_and_quarantine
from smart_money.data.schemas import TABLES
from smart_money.dataset.features import latest_filings
from smart_money.sources.public_records.sec import form13f
from smart_money_tests.support.sec_zips import cover, filing13f, form13f_zip, position

CUSIPS = {"037833100": "AAPL", "594918104": "MSFT", "88160R101": "TSLA", "02079K305": "GOOGL", "02079K107": "GOOGL"}
ALPHA, BETA, GAMMA = "0001111111", "0002222222", "0003333333"


def holdings_of(*paths: Path) -> tuple[pd.DataFrame, form13f.Parsed]:
    filings, positions, parsed = [], [], []
    for path in paths:
        filed, held, read = form13f.read_file(path, CUSIPS)
        filings.append(filed)
        positions.append(held)
        parsed.append(read)
    result = form13f.holdings(
        pd.concat(filings, ignore_index=True),
        pd.concat(positions, ignore_index=True).astype({"accession": str, "cusip": str, "symbol": str}),
    )
    for read in parsed:
        result.counts.update(read.counts)
    result.rejected = pd.concat([r.rejected for r in parsed if len(r.rejected)] + [result.rejected], ignore_index=True)
    return result.frame, result


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    """2022q4 (values in thousands) and 2023q1 (values in dollars) for three filers."""
    folder = tmp_path_factory.mktemp("form13f")
    q4 = form13f_zip(
        folder / "2022q4_form13f.zip",
        [
            filing13f("0000001-22-000001", "2022-11-14", "1111111", "2022-09-30"),
            filing13f("0000002-22-000001", "2022-11-10", "2222222", "2022-09-30"),  # reported in dollars already
            filing13f("0000003-22-000001", "2022-11-15", "3333333", "2022-09-30", form="13F-NT"),
            filing13f("0000001-22-000002", "2022-12-01", "1111111", "2022-09-30", form="13F-HR/A"),
        ],
        [
            cover("0000001-22-000001", "ALPHA CAPITAL LP", "2022-09-30"),
            cover("0000002-22-000001", '"BETA ""B"" PARTNERS"', "2022-09-30"),
            cover("0000003-22-000001", "GAMMA LLC", "2022-09-30", report_type="13F NOTICE"),
            cover(
                "0000001-22-000002", "ALPHA CAPITAL LP", "2022-09-30", amendment_type="NEW HOLDINGS", amendment_no="1"
            ),
        ],
        [
            # Alpha: AAPL in two sub-account lines at $138/share, MSFT at $232; thousands of dollars
            position("0000001-22-000001", 1, "037833100", 138, 1000),
            position("0000001-22-000001", 2, "037833100", 69, 500),
            position("0000001-22-000001", 3, "594918104", 2320, 10000),
            position("0000001-22-000001", 4, "594918104", 50, 1000, putcall="Put"),  # an option: set aside
            position("0000001-22-000001", 5, "88160R101", 1000, 1000000, kind="PRN"),  # a bond: set aside
            position("0000001-22-000001", 6, "999999999", 40, 1000),  # no ticker for this CUSIP
            position("0000001-22-000001", 7, "594918104", 100, "n/a"),  # unreadable shares: quarantined
            # Beta filed in dollars before the switch: the plausibility test catches it
            position("0000002-22-000001", 8, "037833100", 1380000, 10000),
            position("0000002-22-000001", 9, "02079K305", 96000, 1000),
            position("0000002-22-000001", 10, "02079K107", 48000, 500),  # another class of the same ticker
            # Alpha's NEW HOLDINGS amendment: a position confidential until now
            position("0000001-22-000002", 11, "88160R101", 265, 1000),
        ],
        with_figi=False,
    )
    q1 = form13f_zip(
        folder / "2023q1_form13f.zip",
        [
            filing13f("0000001-23-000001", "2023-02-14", "1111111", "2022-12-31"),
            filing13f("0000001-23-000002", "2023-03-01", "1111111", "2022-12-31", form="13F-HR/A"),
            filing13f(
                "0000002-23-000001", "2023-02-10", "2222222", "2022-12-31", form="13F-HR/A"
            ),  # original not in the files
        ],
        [
            cover("0000001-23-000001", "ALPHA CAPITAL LP", "2022-12-31"),
            cover(
                "0000001-23-000002", "ALPHA CAPITAL LP", "2022-12-31", amendment_type="RESTATEMENT", amendment_no="1"
            ),
            cover("0000002-23-000001", "BETA PARTNERS", "2022-12-31", amendment_type="NEW HOLDINGS", amendment_no="1"),
        ],
        [
            position("0000001-23-000001", 1, "037833100", 195000, 1500),
            position("0000001-23-000001", 2, "594918104", 2400000, 10000),
            # the restatement: MSFT was wrong, TSLA was missing
            position("0000001-23-000002", 3, "037833100", 195000, 1500),
            position("0000001-23-000002", 4, "88160R101", 123000, 1000),
            position("0000002-23-000001", 5, "594918104", 240000, 1000),
        ],
    )
    return q4, q1


def test_values_in_thousands_before_2023_and_in_dollars_after(files):
    frame, result = holdings_of(*files)
    rows = frame.set_index("record_id")
    alpha_q3 = rows.loc["sec13f:0000001-22-000001:AAPL"]
    assert alpha_q3["shares"] == 1500 and alpha_q3["value_usd"] == 207_000  # 138 + 69 thousand
    assert alpha_q3["event_date"] == pd.Timestamp("2022-09-30") and alpha_q3["known_at"] == pd.Timestamp(
        "2022-11-14 23:59:59"
    )
    assert (
        alpha_q3["filer_cik"] == ALPHA
        and alpha_q3["filer_name"] == "ALPHA CAPITAL LP"
        and alpha_q3["form_type"] == "13F-HR"
    )
    assert rows.loc["sec13f:0000001-22-000001:MSFT", "value_usd"] == 2_320_000
    assert rows.loc["sec13f:0000001-23-000001:AAPL", "value_usd"] == 195_000  # dollars from 2023-01-03
    # Beta used dollars before the switch: value per share $138 in dollars, $138,000 in thousands
    assert rows.loc["sec13f:0000002-22-000001:AAPL", "value_usd"] == 1_380_000
    assert result.counts["filings_value_unit_overridden"] == 1
    assert result.counts["sub_account_lines_summed"] == 1
    googl = rows.loc["sec13f:0000002-22-000001:GOOGL"]
    assert googl["shares"] == 1500 and googl["value_usd"] == 144_000  # two CUSIPs of one ticker summed


def test_value_unit_rules():
    filed = pd.Series(
        pd.to_datetime(["2022-11-14", "2022-11-14", "2023-02-14", "2023-02-14", "2022-12-30", "2023-01-03"])
    )
    per_unit = pd.Series([0.138, 138.0, 138.0, 0.138, 1e7, None])  # median VALUE per share as filed
    counts: Counter = Counter()
    units = form13f.value_units(filed, per_unit, counts)
    assert units.tolist() == [1000.0, 1.0, 1.0, 1000.0, 1000.0, 1.0]
    assert counts["filings_value_unit_overridden"] == 2 and counts["filings_value_unit_implausible"] == 1


def test_notices_options_bonds_unmapped_cusips_and_bad_lines(files):
    frame, result = holdings_of(*files)
    assert not frame["accession"].str.startswith("0000003").any()  # 13F-NT: no holdings
    assert result.counts["notices_without_holdings"] == 1
    assert result.counts["option_lines_set_aside"] == 1 and result.counts["principal_amount_lines_set_aside"] == 1
    assert result.counts["lines_unmapped_cusip"] == 1 and result.counts["unmapped_cusips"] == 1
    bad = result.rejected[result.rejected["quarantine_reason"].str.contains("SSHPRNAMT")]
    assert len(bad) == 1 and bad.iloc[0]["symbol"] == "MSFT" and bad.iloc[0]["sec_file"] == "2022q4_form13f.zip"
    assert "TSLA" not in set(frame.loc[frame["accession"] == "0000001-22-000001", "symbol"])  # PRN is not shares


def test_amendments_as_the_features_read_them(files):
    frame, result = holdings_of(*files)
    h = frame.assign(period_q=frame["event_date"].dt.to_period("Q"), size=frame["shares"])

    def alpha_quarter(cutoff: str, period: str) -> dict[str, float]:
        current, previous = latest_filings(h, pd.Timestamp(cutoff))
        rows = pd.concat([current, previous])
        rows = rows[(rows["filer_cik"] == ALPHA) & (rows["event_date"] == pd.Timestamp(period))]
        return dict(zip(rows["symbol"], rows["shares"]))

    # NEW HOLDINGS (filed 2022-12-01) adds TSLA to the Q3 report; before, the original stands alone
    assert alpha_quarter("2022-11-30 16:00", "2022-09-30") == {"AAPL": 1500, "MSFT": 10000}
    assert alpha_quarter("2022-12-02 16:00", "2022-09-30") == {"AAPL": 1500, "MSFT": 10000, "TSLA": 1000}
    combined = frame[frame["accession"] == "0000001-22-000002"]
    assert set(combined["symbol"]) == {"AAPL", "MSFT", "TSLA"} and (combined["form_type"] == "13F-HR/A").all()
    assert (combined["known_at"] == pd.Timestamp("2022-12-01 23:59:59")).all()
    # RESTATEMENT (filed 2023-03-01) replaces the Q4 report
    assert alpha_quarter("2023-02-28 16:00", "2022-12-31") == {"AAPL": 1500, "MSFT": 10000}
    assert alpha_quarter("2023-03-02 16:00", "2022-12-31") == {"AAPL": 1500, "TSLA": 1000}
    assert (
        result.counts["new_holdings_amendments_combined"] == 1
        and result.counts["filings_replacing_an_earlier_one"] == 1
    )
    # a NEW HOLDINGS amendment whose original is not in the files is quarantined, never a whole quarter
    assert not (frame["accession"] == "0000002-23-000001").any()
    orphan = result.rejected[result.rejected["quarantine_reason"].str.contains("NEW HOLDINGS")]
    assert (
        orphan["accession"].tolist() == ["0000002-23-000001"]
        and result.counts["new_holdings_amendments_without_original"] == 1
    )


def test_rows_satisfy_the_holdings_schema(files):
    frame, _ = holdings_of(*files)
    outcome = validate_and_quarantine(frame, TABLES["institutional_holdings"])
    assert outcome.n_quarantined == 0 and len(outcome.valid) == len(frame)
    assert frame["record_id"].is_unique
