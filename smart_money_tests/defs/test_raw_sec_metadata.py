"""The raw assets show what the SEC's data sets contributed to a run and to each of its partitions:
rows per data set, amendments applied, late filings, the 10b5-1 share, unmapped CUSIPs and
quarantined lines (records folder: support/sec_records.py, two months in one run)."""

from __future__ import annotations

import dagster as dg
import pytest

from smart_money.definitions import CODE_LOCATION
from smart_money.orchestration.runner import run_monthly_graph
from smart_money.settings import Settings
from smart_money_tests.support.sec_records import write_sec_records

JUNE, JULY = "2023-06-01", "2023-07-01"


@pytest.fixture(scope="module")
def raw_metadata(tmp_path_factory) -> dict[str, dict[str, object]]:
    home = tmp_path_factory.mktemp("sec_metadata_home")
    records = write_sec_records(home / "records")
    settings = Settings.from_env(
        {"SMART_MONEY_SOURCE": "public_records", "SMART_MONEY_PUBLIC_RECORDS_DIR": str(records),
         "SMART_MONEY_START": "2023-06", "SMART_MONEY_END": "2023-07", "SMART_MONEY_HOME": str(home)}
    )  # fmt: skip
    summary = run_monthly_graph(
        CODE_LOCATION,
        settings,
        instance=dg.DagsterInstance.ephemeral(),
        assets=["universe", "raw_insider_trades", "raw_institutional_holdings", "raw_congress_trades"],
    )
    assert summary.success, summary.error
    return {a.asset: a.metadata for a in summary.assets}


def test_raw_insider_trades_show_the_form_345_numbers_per_run_and_partition(raw_metadata):
    meta = raw_metadata["raw_insider_trades"]
    # June's partition reaches 49 months back (from 2019-05): a 2019 sale, five 2020 lines (one of
    # them a 2019 trade reported late), the 2023 sales and the 4/A; July: one sale, one bad line
    assert meta["sec_form345_rows"] == 11 and meta["rows_from_other_files"] == 0
    assert meta["sec_amendments_applied"] == 1
    assert meta["sec_late_filings"] == 1
    assert meta["sec_10b5_1_stated_rows"] == 4 and meta["sec_10b5_1_share"] == pytest.approx(0.25)
    assert meta["sec_quarantined_rows"] == 1 and meta["rows_quarantined"] == 1
    per_partition = meta["summary_per_partition"]
    assert per_partition[JUNE]["sec_form345_rows"] == 10 and per_partition[JULY]["sec_form345_rows"] == 1
    assert per_partition[JUNE]["sec_amendments_applied"] == 1 and per_partition[JULY]["sec_amendments_applied"] == 0
    assert per_partition[JUNE]["sec_late_filings"] == 1 and per_partition[JULY]["sec_late_filings"] == 0
    assert per_partition[JUNE]["sec_10b5_1_share"] == pytest.approx(1 / 3)  # planned, discretionary, its 4/A
    assert per_partition[JULY]["sec_10b5_1_share"] == 0.0
    assert per_partition[JULY]["sec_quarantined_rows"] == 1 and meta["rows_quarantined_per_partition"] == {JULY: 1}
    assert meta["source_sec_form345_files_read"] == 8  # the fetch's own statistics stay beside them


def test_raw_institutional_holdings_show_the_13f_numbers(raw_metadata):
    meta = raw_metadata["raw_institutional_holdings"]
    # the 13F-HR (AAA, CCC) and its NEW HOLDINGS amendment (the whole quarter: AAA, CCC, BBB)
    assert meta["sec_13f_rows"] == 5 and meta["sec_amendments_applied"] == 3 and meta["sec_13f_filers"] == 1
    assert meta["sec_unmapped_cusips"] == 1 and meta["sec_unmapped_cusip_lines"] == 1
    assert meta["sec_quarantined_rows"] == 0
    per_partition = meta["summary_per_partition"]
    assert per_partition[JUNE]["sec_13f_rows"] == 5 and per_partition[JULY]["sec_13f_rows"] == 0
    assert "sec_unmapped_cusips" not in per_partition[JUNE]  # counted per file read, not per partition


def test_tables_the_sec_files_do_not_fill_carry_no_sec_numbers(raw_metadata):
    meta = raw_metadata["raw_congress_trades"]
    assert not any(key.startswith("sec_") for key in meta) and "summary_per_partition" not in meta
