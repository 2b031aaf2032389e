"""The SEC's Form 13F Data Sets (`YYYYqN_form13f.zip`, `01mar2024-31may2024_form13f.zip`, ...)
-> `institutional_holdings`.

Columns read, by table (tab-separated, dates like `30-JUN-2023`, keyed by ACCESSION_NUMBER):

- SUBMISSION.tsv: ACCESSION_NUMBER, FILING_DATE, SUBMISSIONTYPE (13F-HR, 13F-HR/A, 13F-NT,
  13F-NT/A), CIK (the filer), PERIODOFREPORT (the quarter end the holdings are as of).
- COVERPAGE.tsv: ACCESSION_NUMBER, ISAMENDMENT (Y/N), AMENDMENTTYPE (RESTATEMENT or NEW HOLDINGS),
  FILINGMANAGER_NAME.
- INFOTABLE.tsv: ACCESSION_NUMBER, CUSIP, VALUE, SSHPRNAMT, SSHPRNAMTTYPE (SH shares, PRN
  principal amount), PUTCALL (Put, Call or empty).

Verified against the headers copied from 01jun2026-31aug2026_form13f.zip in a public loader
(rao-usha/zerostack-data `app/ingest/bulk/sec_13f/parse.py` and its tests: the full SUBMISSION,
COVERPAGE, SUMMARYPAGE, INFOTABLE, OTHERMANAGER, OTHERMANAGER2 and SIGNATURE headers, quoted
fields with doubled quotes, and the SEC readme's sentence on VALUE: "Starting on January 3, 2023,
market value is reported rounded to the nearest dollar. Previously, market value was reported in
thousands."), and the amendment rules as the SEC's form describes them (ShayanZafar/ThirteenF
`docs/13f-data.md`: start from the latest RESTATEMENT or the original, then add later NEW
HOLDINGS amendments). The SEC's readme is https://www.sec.gov/files/form_13f_readme.pdf.

Rules:

- One row per filing, quarter end and ticker: known_at = FILING_DATE at 23:59:59 (usable from the
  next session), event_date = PERIODOFREPORT. Sub-account lines of a CUSIP, and CUSIPs mapping
  to one ticker, are summed. record_id = `sec13f:<accession>:<ticker>`.
- shares = SSHPRNAMT of SH lines. PRN lines (bonds: a principal amount, not shares) and option
  lines (PUTCALL set: VALUE is the underlying's notional) are left out and counted; 13F-NT notices
  report no holdings and yield no row.
- value_usd: VALUE is in thousands of dollars in filings before 2023-01-03 and in dollars from
  then on. The filing date decides, then a per-filing plausibility test corrects filers who used
  the other unit: the median value per share of the filing's SH lines must lie between $0.50 and
  $5,000 in the chosen unit; when it does not and the other unit puts it there, the other unit is
  used (counted `filings_value_unit_overridden`); when neither does, the date's unit stays
  (counted `filings_value_unit_implausible`). A 1,000x slip moves a median of $40 to $0.04 or
  $40,000, far outside the band, while real portfolios' medians sit well inside it.
- Tickers from the CUSIP maps (CSV files with the columns cusip,ticker: nine-character CUSIPs,
  tickers as in the price files; the first map listing a CUSIP wins); positions whose CUSIP no map
  lists are counted (lines and distinct CUSIPs) and left out: without a ticker they belong to no
  symbol's table.
- Amendments. core.features takes, per filer and quarter end, the filing with the latest known_at
  and uses only its rows. So each filing's rows here are the filer's whole quarter as it stood
  after that filing: an original (13F-HR) and a RESTATEMENT (13F-HR/A) carry their own holdings and
  replace what came before; a NEW HOLDINGS amendment adds lines to the quarter, so its rows are the
  quarter it completes (the latest original or restatement plus every NEW HOLDINGS amendment up to
  and including it), emitted under the amendment's accession and filing date. Before the amendment
  is public the features see the original; from the next session on, the completed quarter. An
  amendment that does not say which kind it is counts as a restatement (counted). A NEW HOLDINGS
  amendment whose original is not among the files read (the source reads a year of files before
  a window) is quarantined with the reason. An amendment with no holdings table changes nothing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from smart_money.data.normalize import end_of_day
from smart_money.data.quality import QUARANTINE_REASON
from smart_money.data.schemas import TABLES
from smart_money.sources.public_records.common import Parsed
from smart_money.sources.public_records.sec.tsv import cik, read_table, read_whole, sec_dates, sec_numbers, unquote

FORMS = ("13F-HR", "13F-HR/A")
NOTICES = ("13F-NT", "13F-NT/A")
RESTATEMENT, NEW_HOLDINGS = "RESTATEMENT", "NEW HOLDINGS"
DOLLARS_FROM = pd.Timestamp("2023-01-03")  # the SEC's switch from thousands to dollars
PLAUSIBLE_PRICE = (0.5, 5_000.0)  # a filing's median value per share lies in this band
RECORD_PREFIX = "sec13f:"

SUBMISSION_COLUMNS = ("ACCESSION_NUMBER", "FILING_DATE", "SUBMISSIONTYPE", "CIK", "PERIODOFREPORT")
COVER_COLUMNS = ("ACCESSION_NUMBER", "ISAMENDMENT", "AMENDMENTTYPE", "FILINGMANAGER_NAME")
INFO_COLUMNS = ("ACCESSION_NUMBER", "CUSIP", "VALUE", "SSHPRNAMT", "SSHPRNAMTTYPE", "PUTCALL")
TABLE_COLUMNS = TABLES["institutional_holdings"].columns
FILING_COLUMNS = [
    "accession",
    "filer_cik",
    "filer_name",
    "form_type",
    "amendment_type",
    "filing_day",
    "period",
    "usd_per_unit",
    "share_lines",
    "sec_file",
]
POSITION_COLUMNS = ["accession", "cusip", "symbol", "shares", "value_usd", "lines"]


def value_units(filed: pd.Series, median_per_share: pd.Series, counts: Counter) -> pd.Series:
    """USD per unit of VALUE for each filing (see the module docstring)."""
    by_date = pd.Series(np.where(filed < DOLLARS_FROM, 1_000.0, 1.0), index=filed.index)
    other = np.where(by_date == 1_000.0, 1.0, 1_000.0)
    low, high = PLAUSIBLE_PRICE
    plausible = median_per_share.mul(by_date).between(low, high)
    other_plausible = (median_per_share * other).between(low, high)
    known = median_per_share.notna()
    switch = known & ~plausible & other_plausible
    counts["filings_value_unit_overridden"] += int(switch.sum())
    counts["filings_value_unit_implausible"] += int((known & ~plausible & ~other_plausible).sum())
    return by_date.where(~switch, other)


def _filings(path: Path, counts: Counter) -> pd.DataFrame:
    raw = read_whole(path, "SUBMISSION.tsv", SUBMISSION_COLUMNS, SUBMISSION_COLUMNS).drop_duplicates("ACCESSION_NUMBER")
    form = raw["SUBMISSIONTYPE"].str.upper()
    counts["notices_without_holdings"] += int(form.isin(NOTICES).sum())
    counts["filings_other_types"] += int((~form.isin(FORMS) & ~form.isin(NOTICES)).sum())
    raw = raw[form.isin(FORMS)]
    cover = (
        read_whole(path, "COVERPAGE.tsv", COVER_COLUMNS, ("ACCESSION_NUMBER",))
        .drop_duplicates("ACCESSION_NUMBER")
        .set_index("ACCESSION_NUMBER")
    )
    cover = cover.reindex(raw["ACCESSION_NUMBER"])
    amendment_type = (
        cover["AMENDMENTTYPE"].fillna("").str.upper().str.strip().to_numpy() if "AMENDMENTTYPE" in cover else ""
    )
    frame = pd.DataFrame(
        {
            "accession": raw["ACCESSION_NUMBER"].to_numpy(),
            "filer_cik": cik(raw["CIK"]).to_numpy(),
            "filer_name": unquote(cover["FILINGMANAGER_NAME"]).replace("", pd.NA).to_numpy()
            if "FILINGMANAGER_NAME" in cover
            else None,
            "form_type": raw["SUBMISSIONTYPE"].str.upper().to_numpy(),
            "amendment_type": amendment_type,
            "filing_day": sec_dates(raw["FILING_DATE"]).to_numpy(),
            "period": sec_dates(raw["PERIODOFREPORT"]).to_numpy(),
            "sec_file": path.name,
        }
    )
    is_amendment = frame["form_type"] == "13F-HR/A"
    unstated = is_amendment & ~frame["amendment_type"].isin([RESTATEMENT, NEW_HOLDINGS])
    counts["amendments_kind_unstated_taken_as_restatement"] += int(unstated.sum())
    frame["amendment_type"] = np.where(is_amendment, np.where(unstated, RESTATEMENT, frame["amendment_type"]), "")
    counts["holdings_reports"] += int((~is_amendment).sum())
    counts["amendments_restatement"] += int((frame["amendment_type"] == RESTATEMENT).sum())
    counts["amendments_new_holdings"] += int((frame["amendment_type"] == NEW_HOLDINGS).sum())
    return frame


def _reject(raw: pd.DataFrame, mask: pd.Series, reason: str, symbols: pd.Series, file: str) -> pd.DataFrame:
    rows = raw.loc[mask].astype("string").assign(symbol=symbols[mask].to_numpy(), sec_file=file)
    rows[QUARANTINE_REASON] = f"institutional_holdings: {reason}"
    return rows.reset_index(drop=True)


def read_file(path: Path, cusip_to_ticker: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame, Parsed]:
    """One 13F data set ZIP -> (filings: FILING_COLUMNS, positions per accession and CUSIP with a
    ticker: POSITION_COLUMNS, Parsed with the quarantined lines and counts). INFOTABLE is read in
    chunks; only positions whose CUSIP maps to a ticker are kept."""
    path = Path(path)
    counts: Counter = Counter()
    filings = _filings(path, counts)
    bad_filing = filings["filing_day"].isna() | filings["period"].isna() | filings["filer_cik"].isna()
    known = set(filings["accession"])
    broken = set(filings.loc[bad_filing, "accession"])
    parts, rejected, price_parts = [], [], []
    share_lines: Counter = Counter()  # SH lines per filing, mapped or not: does it carry holdings?
    unmapped: set[str] = set()
    for chunk in read_table(
        path, "INFOTABLE.tsv", INFO_COLUMNS, INFO_COLUMNS, strip=("CUSIP", "SSHPRNAMTTYPE", "PUTCALL")
    ):
        counts["infotable_lines_read"] += len(chunk)
        chunk = chunk[chunk["ACCESSION_NUMBER"].isin(known)]
        cusip = chunk["CUSIP"].str.upper()
        symbols = cusip.map(cusip_to_ticker)
        kind = chunk["SSHPRNAMTTYPE"].str.upper()
        option = chunk["PUTCALL"] != ""
        shares = sec_numbers(chunk["SSHPRNAMT"])
        value = sec_numbers(chunk["VALUE"])
        counts["option_lines_set_aside"] += int(option.sum())
        counts["principal_amount_lines_set_aside"] += int((~option & (kind == "PRN")).sum())
        held = ~option & (kind == "SH")
        checks = [
            (
                held & chunk["ACCESSION_NUMBER"].isin(broken),
                "the filing's date, quarter end or filer CIK is missing or unreadable",
            ),
            (held & shares.isna(), "SSHPRNAMT (shares) missing or unreadable"),
            (~option & ~kind.isin(["SH", "PRN"]), "SSHPRNAMTTYPE is neither SH nor PRN"),
        ]
        bad = pd.Series(False, index=chunk.index)
        for mask, reason in checks:
            mask = mask & ~bad
            if mask.any():
                rejected.append(_reject(chunk, mask, reason, symbols, path.name))
                counts[f"quarantined: {reason}"] += int(mask.sum())
            bad |= mask
        usable = held & ~bad
        share_lines.update(chunk.loc[usable, "ACCESSION_NUMBER"].value_counts().to_dict())
        priced = usable & (shares > 0) & (value > 0)
        price_parts.append(
            pd.DataFrame(
                {"accession": chunk.loc[priced, "ACCESSION_NUMBER"], "per_share": value[priced] / shares[priced]}
            )
        )
        mapped = usable & symbols.notna()
        missing_ticker = usable & symbols.isna()
        counts["lines_unmapped_cusip"] += int(missing_ticker.sum())
        unmapped.update(cusip[missing_ticker])
        parts.append(
            pd.DataFrame(
                {
                    "accession": chunk.loc[mapped, "ACCESSION_NUMBER"],
                    "cusip": cusip[mapped],
                    "symbol": symbols[mapped],
                    "shares": shares[mapped],
                    "value": value[mapped],
                }
            )
        )
    counts["unmapped_cusips"] += len(unmapped)
    prices = (
        pd.concat(price_parts, ignore_index=True) if price_parts else pd.DataFrame(columns=["accession", "per_share"])
    )
    median = prices.groupby("accession")["per_share"].median().reindex(filings["accession"]).astype(float)
    filings["usd_per_unit"] = value_units(filings.set_index("accession")["filing_day"], median, counts).to_numpy()
    counts["filings_in_thousands"] += int((filings["usd_per_unit"] == 1_000.0).sum())
    filings["share_lines"] = filings["accession"].map(share_lines).fillna(0).astype(int)
    lines = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["accession", "cusip", "symbol", "shares", "value"])
    )
    lines["value_usd"] = lines["value"] * lines["accession"].map(filings.set_index("accession")["usd_per_unit"])
    grouped = lines.groupby(["accession", "cusip"], sort=False)
    positions = grouped.agg(
        symbol=("symbol", "first"), shares=("shares", "sum"), lines=("shares", "size")
    ).reset_index()
    positions["value_usd"] = grouped["value_usd"].sum(min_count=1).to_numpy()  # unknown stays unknown
    counts["sub_account_lines_summed"] += int((positions["lines"] - 1).sum())
    parsed = Parsed(
        pd.DataFrame(),
        pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(columns=["symbol", QUARANTINE_REASON]),
        counts,
    )
    positions = positions[POSITION_COLUMNS].astype(
        {"accession": "category", "cusip": "category", "symbol": "category"}
    )  # a quarter is millions of lines
    return filings[~bad_filing][FILING_COLUMNS].reset_index(drop=True), positions, parsed


def holdings(filings: pd.DataFrame, positions: pd.DataFrame) -> Parsed:
    """Filings and positions of one or more files -> `institutional_holdings` rows, each filing
    carrying the filer's whole quarter as it stood after it (see the module docstring)."""
    counts: Counter = Counter()
    filings = filings.drop_duplicates("accession").sort_values(
        ["filer_cik", "period", "filing_day", "accession"], kind="stable"
    )
    by_accession = {a: rows for a, rows in positions.groupby("accession", sort=False)}
    per_quarter = filings.groupby(["filer_cik", "period"], sort=False)["accession"].transform("size")
    simple = filings[(per_quarter == 1) & (filings["amendment_type"] != NEW_HOLDINGS)]
    emitted = [positions[positions["accession"].isin(simple["accession"])].assign(emitted_as=lambda f: f["accession"])]
    rejected = []
    for _, group in filings[~filings.index.isin(simple.index)].groupby(["filer_cik", "period"], sort=False):
        state: pd.DataFrame | None = None
        for filing in group.itertuples(index=False):
            own = by_accession.get(filing.accession, pd.DataFrame(columns=POSITION_COLUMNS))
            if filing.amendment_type == NEW_HOLDINGS:
                if state is None:
                    counts["new_holdings_amendments_without_original"] += 1
                    if len(own):
                        rows = own.astype("string").assign(
                            **{
                                QUARANTINE_REASON: "institutional_holdings: NEW HOLDINGS amendment whose original "
                                "13F-HR is not in the files read (a year before the window)"
                            }
                        )
                        rejected.append(rows)
                    continue
                state = pd.concat([state, own], ignore_index=True)
                counts["new_holdings_amendments_combined"] += 1
            else:
                if filing.form_type == "13F-HR/A" and filing.share_lines == 0:
                    counts["amendments_without_holdings_ignored"] += 1
                    continue
                if state is not None:
                    counts["filings_replacing_an_earlier_one"] += 1
                state = own
            emitted.append(state.assign(emitted_as=filing.accession))
    rows = (
        pd.concat([e for e in emitted if len(e)], ignore_index=True)
        if any(len(e) for e in emitted)
        else pd.DataFrame(columns=[*POSITION_COLUMNS, "emitted_as"])
    )
    meta = filings.set_index("accession")
    grouped = rows.groupby(["emitted_as", "symbol"], sort=False)
    summed = grouped.agg(cusip=("cusip", "first"), shares=("shares", "sum")).reset_index()
    summed["value_usd"] = grouped["value_usd"].sum(min_count=1).to_numpy()
    filing = meta.reindex(summed["emitted_as"])
    frame = pd.DataFrame(
        {
            "symbol": summed["symbol"].to_numpy(),
            "event_date": filing["period"].to_numpy(),
            "known_at": end_of_day(pd.Series(filing["filing_day"].to_numpy())).to_numpy(),
            "record_id": (RECORD_PREFIX + summed["emitted_as"] + ":" + summed["symbol"]).to_numpy(),
            "accession": summed["emitted_as"].to_numpy(),
            "filer_cik": filing["filer_cik"].to_numpy(),
            "filer_name": filing["filer_name"].to_numpy(),
            "cusip": summed["cusip"].to_numpy(),
            "form_type": filing["form_type"].to_numpy(),
            "shares": summed["shares"].to_numpy(dtype=float),
            "value_usd": summed["value_usd"].to_numpy(dtype=float),
        }
    )
    return Parsed(
        frame[TABLE_COLUMNS],
        pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(columns=["symbol", QUARANTINE_REASON]),
        counts,
    )
