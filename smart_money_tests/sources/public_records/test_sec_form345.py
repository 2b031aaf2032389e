"""The SEC's Form 3/4/5 data sets -> insider_trades: joins, joint filers, roles, amendments,
late and 10b5-1 flags, what is left out and what is quarantined, from ZIPs in the SEC's layout."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from smart_money.data.quality import validate_and_quarantine
from smart_money.data.schemas import TABLES
from smart_money.dataset.features import known_insider_lines
from smart_money.sources.public_records.sec import form345
from smart_money.sources.public_records.sec.tsv import SecDataError
from smart_money_tests.support.sec_zips import (
    derivative_transaction,
    form345_zip,
    holding,
    owner,
    submission,
    transaction,
)

CEO = dict(relationship="Director,Officer", title="Chief Executive Officer")


def lines_of(path: Path) -> tuple[pd.DataFrame, form345.Parsed]:
    parsed = form345.read_quarter(path)
    lines, counts = form345.apply_amendments(parsed.frame)
    parsed.counts.update(counts)
    return lines.set_index("record_id"), parsed


@pytest.fixture(scope="module")
def quarter(tmp_path_factory) -> Path:
    """2023q2: a CEO's sale (late, under a 10b5-1 plan) restated by a 4/A, a joint filing, a
    derivative-only filing, a preferred-stock line, a holdings-only 4/A, a Form 3 and bad lines."""
    folder = tmp_path_factory.mktemp("form345")
    submissions = [
        submission("0001-23-000001", "2023-04-05", "aapl", plan="1"),
        submission("0001-23-000002", "2023-04-20", "AAPL", form="4/A", original="2023-04-05", plan="1"),
        submission("0001-23-000003", "2023-05-02", "BRK.B", issuer_cik="1067983"),
        submission("0001-23-000004", "2023-05-03", "MSFT", issuer_cik="789019"),  # derivative only
        submission("0001-23-000005", "2023-05-04", "MSFT", issuer_cik="789019"),
        submission("0001-23-000006", "2023-05-08", "NYSE:IBM", issuer_cik="51143", plan="0"),
        submission(
            "0001-23-000007", "2023-05-09", "IBM", issuer_cik="51143", form="4/A", original="2023-05-08"
        ),  # holdings only
        submission("0001-23-000008", "2023-05-10", "[ NONE ]", issuer_cik="99"),
        submission("0001-23-000009", "2023-05-11", "GEF,GEF.B", issuer_cik="43920"),
        submission("0001-23-000010", "2023-05-12", "IBM", form="3", issuer_cik="51143"),
        submission("0001-23-000011", "2023-06-01", "IBM", issuer_cik="51143"),
    ]
    owners = [
        owner("0001-23-000001", "1214156", "COOK TIMOTHY D", **CEO),
        owner("0001-23-000002", "1214156", "COOK TIMOTHY D", **CEO),
        owner("0001-23-000003", "1067983", "BERKSHIRE HATHAWAY INC", "TenPercentOwner"),
        owner("0001-23-000003", "315090", "BUFFETT WARREN E", "Director,TenPercentOwnerOther", "Chairman and CEO"),
        owner("0001-23-000004", "1", "SMITH BRAD", "Officer", "President and Vice Chair"),
        owner("0001-23-000005", "2", "HOOD AMY", "Officer", "See Remarks"),
        owner("0001-23-000006", "3", "KRISHNA ARVIND", "Director,Officer,TenPercentOwn", "Chairman & CEO"),
        owner("0001-23-000007", "3", "KRISHNA ARVIND", "Director,Officer,TenPercentOwn", "Chairman & CEO"),
        owner("0001-23-000008", "4", "NOBODY"),
        owner("0001-23-000009", "5", "STAUB JOHN", "Director"),
        owner("0001-23-000011", "6", "LEE KIM", "Other", other="member of a 13(d) group"),
    ]
    transactions = [
        transaction("0001-23-000001", 101, "2023-04-03", "S", "1000", "165.50", "D", "3000000", timeliness="L"),
        transaction("0001-23-000001", 102, "2023-04-03", "S", "500", "166.00", "D", "2999500"),
        transaction("0001-23-000002", 201, "2023-04-03", "S", "1200", "165.50", "D", "2999300"),  # restates line 101
        transaction("0001-23-000002", 202, "2023-04-03", "S", "500", "166.00", "D", "2998800"),  # restates 102 as is
        transaction("0001-23-000003", 301, "2023-04-28", "P", "10000", "300", "A", "1000000"),
        transaction("0001-23-000005", 501, "2023-05-01", "S", "2000", "305.10", "D", "10000"),
        transaction("0001-23-000005", 502, "2023-05-01", "J", "10", "", "D", "9990", title="Series B Preferred Stock"),
        transaction("0001-23-000005", 503, "2023-05-01", "P", "10", "1.00", "A", "10", title="Warrants (right to buy)"),
        transaction("0001-23-000006", 601, "2023-05-04", "P", "250", "120.00", "A", "1250"),
        transaction("0001-23-000008", 801, "2023-05-08", "P", "1", "1.00", "A", "1"),
        transaction("0001-23-000009", 901, "2023-05-09", "P", "1", "1.00", "A", "1"),
        transaction("0001-23-000011", 1101, "2023-05-30", "P", "10", "1.00", "A", "10"),
        transaction("0001-23-000011", 1102, "2023-05-30", "P", "", "1.00", "A", "10"),
        transaction("0001-23-000011", 1103, "2023-05-30", "P", "10", "1.00", "", "10"),
        transaction("0009-99-999999", 9901, "2023-05-30", "P", "10", "1.00", "A", "10"),  # no SUBMISSION row
    ]
    transactions[11]["TRANS_DATE"] = "31-FEB-2023"  # an impossible day, as written in the file
    return form345_zip(
        folder / "2023q2_form345.zip",
        submissions,
        owners,
        transactions,
        derivatives=[derivative_transaction("0001-23-000004", 1, "2023-05-01")],
        holdings=[holding("0001-23-000007", 1, "1500")],
    )


def test_lines_join_their_filing_and_owner(quarter):
    lines, parsed = lines_of(quarter)
    sale = lines.loc["sec345:0001-23-000001:101"]
    assert sale["symbol"] == "AAPL" and sale["issuer_cik"] == "0000320193"
    assert sale["event_date"] == pd.Timestamp("2023-04-03")
    assert sale["known_at"] == pd.Timestamp("2023-04-05 23:59:59")  # filing date, end of day
    assert (
        sale["transaction_code"],
        sale["acquisition_or_disposition"],
        sale["shares"],
        sale["price"],
        sale["shares_owned_after"],
    ) == ("S", "D", 1000, 165.5, 3_000_000)
    assert sale["reporting_cik"] == "0001214156" and sale["reporting_name"] == "COOK TIMOTHY D"
    assert sale["role"] == "CEO" and sale["type_of_owner"] == "Director, Officer: Chief Executive Officer"
    assert sale["form_type"] == "4" and pd.isna(sale["co_reporting_ciks"])
    assert lines.index.is_unique


def test_late_line_and_10b5_1_flags(quarter):
    lines, _ = lines_of(quarter)
    assert bool(lines.loc["sec345:0001-23-000001:101", "filed_late"]) is True  # TRANS_TIMELINESS L
    assert bool(lines.loc["sec345:0001-23-000001:102", "filed_late"]) is False
    assert bool(lines.loc["sec345:0001-23-000001:101", "plan_10b5_1"]) is True  # AFF10B5ONE 1
    assert bool(lines.loc["sec345:0001-23-000006:601", "plan_10b5_1"]) is False  # 0, filed after 2023-04-01
    assert pd.isna(lines.loc["sec345:0001-23-000005:501", "plan_10b5_1"])  # blank: not stated


def test_the_checkbox_says_nothing_before_it_existed(tmp_path):
    """A file without AFF10B5ONE (before 2023) gives null flags; an unchecked box filed before
    2023-04-01 is null too, a checked one stays True."""
    old = form345_zip(
        tmp_path / "2022q4_form345.zip",
        [submission("0001-22-000001", "2022-11-01", "AAPL")],
        [owner("0001-22-000001", "1", "A B")],
        [transaction("0001-22-000001", 1, "2022-10-28", "S", "10", "150", "D", "10")],
        before_2023=True,
    )
    assert form345.read_quarter(old).frame["plan_10b5_1"].isna().all()
    early = form345_zip(
        tmp_path / "2023q1_form345.zip",
        [
            submission("0001-23-000001", "2023-03-01", "AAPL", plan="0"),
            submission("0001-23-000002", "2023-03-02", "AAPL", plan="1"),
        ],
        [owner("0001-23-000001", "1", "A B"), owner("0001-23-000002", "1", "A B")],
        [
            transaction("0001-23-000001", 1, "2023-02-27", "S", "10", "150", "D", "10"),
            transaction("0001-23-000002", 2, "2023-02-28", "S", "10", "150", "D", "0"),
        ],
    )
    flags = form345.read_quarter(early).frame.set_index("record_id")["plan_10b5_1"]
    assert pd.isna(flags["sec345:0001-23-000001:1"]) and bool(flags["sec345:0001-23-000002:2"]) is True


def test_a_joint_filing_counts_each_line_once_under_the_senior_owner(quarter):
    lines, parsed = lines_of(quarter)
    joint = lines[lines["symbol"] == "BRK-B"]
    assert len(joint) == 1  # two reporting owners, one line
    row = joint.iloc[0]
    assert row["reporting_cik"] == "0000315090" and row["role"] == "CEO"  # the Chairman and CEO outranks the 10% owner
    assert row["co_reporting_ciks"] == "0001067983"
    assert parsed.counts["joint_filings"] == 1 and parsed.counts["lines_of_joint_filings"] == 1


def test_roles_from_titles_and_relationship_boxes(quarter):
    lines, _ = lines_of(quarter)
    assert lines.loc["sec345:0001-23-000005:501", "role"] == "OFFICER"  # 'See Remarks': the box decides
    assert lines.loc["sec345:0001-23-000006:601", "role"] == "CEO"  # relationship cut at 30 characters
    assert lines.loc["sec345:0001-23-000006:601", "symbol"] == "IBM"  # exchange prefix taken off
    assert form345.owner_role("Director,TenPercentOwner", "") == "TEN_PERCENT_OWNER"
    assert form345.owner_role("Director", "") == "DIRECTOR"
    assert form345.owner_role("Other", "") == "OTHER"
    assert form345.relationship_words("Director,TenPercentOwnerOther") == "Director, 10% Owner, Other"


def test_a_4a_restates_the_lines_it_shows(quarter):
    lines, parsed = lines_of(quarter)
    corrected = lines.loc["sec345:0001-23-000002:201"]
    assert corrected["amends_record_id"] == "sec345:0001-23-000001:101"  # same day, code and price: shares corrected
    assert corrected["form_type"] == "4/A" and corrected["known_at"] == pd.Timestamp("2023-04-20 23:59:59")
    assert lines.loc["sec345:0001-23-000002:202", "amends_record_id"] == "sec345:0001-23-000001:102"  # restated as is
    assert {"sec345:0001-23-000001:101", "sec345:0001-23-000001:102"} <= set(lines.index)  # both versions kept
    # point in time: before the 4/A is public the original counts, afterwards the amendment
    table = lines.reset_index()
    before = known_insider_lines(table, pd.Timestamp("2023-04-19 16:00")).set_index("record_id")
    after = known_insider_lines(table, pd.Timestamp("2023-04-21 16:00")).set_index("record_id")
    assert before.loc[before["symbol"] == "AAPL", "shares"].sum() == 1500
    assert after.loc[after["symbol"] == "AAPL", "shares"].sum() == 1700
    assert parsed.counts["amendment_lines_matched_corrected"] + parsed.counts["amendment_lines_matched_ambiguous"] == 1
    assert parsed.counts["amendment_lines_matched_exact"] == 1


def test_a_holdings_only_amendment_leaves_the_transactions_alone(quarter):
    lines, _ = lines_of(quarter)
    ibm = lines[lines["issuer_cik"] == "0000051143"]
    assert list(ibm.index) == ["sec345:0001-23-000006:601"] and ibm["amends_record_id"].isna().all()
    table = lines.reset_index()
    known = known_insider_lines(table, pd.Timestamp("2023-06-30 16:00"))
    assert "sec345:0001-23-000006:601" in set(known["record_id"])


def test_what_is_left_out_and_what_is_quarantined(quarter):
    lines, parsed = lines_of(quarter)
    assert set(lines.index[lines["symbol"] == "MSFT"]) == {"sec345:0001-23-000005:501"}
    assert parsed.counts["derivative_lines_not_used"] == 1  # the derivative-only filing gives no row
    assert parsed.counts["lines_not_common_stock"] == 2  # preferred and warrants, left out and counted
    assert parsed.counts["filings_form_3_no_transactions"] == 1
    reasons = parsed.rejected.set_index("NONDERIV_TRANS_SK")["quarantine_reason"]
    assert reasons["801"].endswith("issuer trading symbol missing or not a single ticker")  # [ NONE ]
    assert reasons["901"].endswith("issuer trading symbol missing or not a single ticker")  # two classes
    assert reasons["1101"].endswith("transaction date missing, unreadable or implausible")  # 31-FEB
    assert reasons["1102"].endswith("shares missing or unreadable")
    assert reasons["1103"].endswith("acquired/disposed code missing")
    assert reasons["9901"].endswith("no SUBMISSION row for the line's accession")
    assert set(parsed.rejected["sec_file"]) == {"2023q2_form345.zip"}
    read = parsed.counts["nonderivative_lines_read"]
    assert read == len(lines) + len(parsed.rejected) + parsed.counts["lines_not_common_stock"]  # nothing lost


def test_rows_satisfy_the_insider_schema(quarter):
    lines, _ = lines_of(quarter)
    outcome = validate_and_quarantine(form345.insider_trades(lines.reset_index()), TABLES["insider_trades"])
    assert outcome.n_quarantined == 0 and len(outcome.valid) == len(lines)
    assert str(outcome.valid["plan_10b5_1"].dtype) == "boolean"


def test_amendment_matching_rules(tmp_path):
    """A corrected date is matched when DATE_OF_ORIG_SUB names the original; a line the
    original did not have stays a line of its own; an amendment of another owner is not matched."""
    path = form345_zip(
        tmp_path / "2021q1_form345.zip",
        [
            submission("A", "2021-01-06", "XYZ", issuer_cik="7"),
            submission("B", "2021-01-20", "XYZ", issuer_cik="7", form="4/A", original="2021-01-06"),
            submission("C", "2021-02-01", "XYZ", issuer_cik="7", form="4/A", original="2021-01-06"),
        ],
        [owner("A", "10", "A"), owner("B", "10", "A"), owner("C", "11", "OTHER PERSON")],
        [
            transaction("A", 1, "2021-01-04", "P", "100", "5", "A", "100"),
            transaction("B", 2, "2021-01-05", "P", "100", "5", "A", "100"),  # the date corrected
            transaction("B", 3, "2021-01-05", "S", "40", "6", "D", "60"),  # a line the original lacked
            transaction("C", 4, "2021-01-04", "P", "100", "5", "A", "100"),  # another owner's CIK
        ],
    )
    lines, parsed = lines_of(path)
    assert lines.loc["sec345:B:2", "amends_record_id"] == "sec345:A:1"
    assert pd.isna(lines.loc["sec345:B:3", "amends_record_id"]) and pd.isna(lines.loc["sec345:C:4", "amends_record_id"])
    assert parsed.counts["amendment_lines_matched_date_corrected"] == 1
    assert parsed.counts["amendment_lines_unmatched"] == 2 and parsed.counts["amendments_original_not_found"] == 1


def test_unreadable_files_name_the_file(tmp_path):
    broken = tmp_path / "2020q1_form345.zip"
    broken.write_bytes(b"PK\x03\x04 this is not a whole zip")
    with pytest.raises(SecDataError, match="2020q1_form345.zip: not a readable ZIP"):
        form345.read_quarter(broken)
    missing_column = tmp_path / "2020q2_form345.zip"
    with zipfile.ZipFile(missing_column, "w") as archive:
        archive.writestr("SUBMISSION.tsv", "ACCESSION_NUMBER\tFILING_DATE\tDOCUMENT_TYPE\tISSUERCIK\n")
    with pytest.raises(
        SecDataError, match=r"2020q2_form345.zip:SUBMISSION.tsv: missing column\(s\) ISSUERTRADINGSYMBOL"
    ):
        form345.read_quarter(missing_column)
    no_table = tmp_path / "2020q3_form345.zip"
    with zipfile.ZipFile(no_table, "w") as archive:
        archive.writestr("README.txt", "nothing")
    with pytest.raises(SecDataError, match="2020q3_form345.zip: no SUBMISSION.tsv inside"):
        form345.read_quarter(no_table)


def test_common_stock_titles():
    titles = pd.Series(
        [
            "Common Stock",
            "Class A Common Stock, $.01 par value",
            "Ordinary Shares",
            "Common Units",
            "American Depositary Shares",
            "Series A Preferred Stock",
            "Warrants",
            "Units",
            "6.5% Senior Notes",
            "Rights",
            "Stock Option",
            "",
        ]
    )
    assert form345.common_stock(titles).tolist() == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        False,
    ]
