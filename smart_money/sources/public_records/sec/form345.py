"""The SEC's Insider Transactions Data Sets (Forms 3, 4, 5; `YYYYqN_form345.zip`) -> `insider_trades`.

Columns read, by table (tab-separated, one header row, dates like `15-JAN-2023`, keyed by
ACCESSION_NUMBER):

- SUBMISSION.tsv: ACCESSION_NUMBER, FILING_DATE, DATE_OF_ORIG_SUB, DOCUMENT_TYPE, ISSUERCIK,
  ISSUERTRADINGSYMBOL, AFF10B5ONE (the Rule 10b5-1 checkbox; the column exists only in files
  from 2023 on).
- REPORTINGOWNER.tsv: ACCESSION_NUMBER, RPTOWNERCIK, RPTOWNERNAME, RPTOWNER_RELATIONSHIP (the
  form's boxes run together: `Director`, `Officer`, `TenPercentOwner`, `Other`, comma-joined,
  sometimes without the comma or cut at 30 characters: `Director,Officer,TenPercentOwn`),
  RPTOWNER_TITLE (the officer title), RPTOWNER_TXT (the "other" text).
- NONDERIV_TRANS.tsv: ACCESSION_NUMBER, NONDERIV_TRANS_SK, SECURITY_TITLE, TRANS_DATE, TRANS_CODE,
  TRANS_TIMELINESS (`E` early, `L` late, empty on time), TRANS_SHARES, TRANS_PRICEPERSHARE,
  TRANS_ACQUIRED_DISP_CD, SHRS_OWND_FOLWNG_TRANS.
- DERIV_TRANS.tsv: ACCESSION_NUMBER only, to count the derivative lines left out (options,
  RSUs, conversions are never open-market trades).

Verified against the headers recorded from the SEC's own files by public projects (search of
public code, 2026): sutheimernico/equity-scout `src/equity_scout/evidence/backfill_form4.py`
(the full SUBMISSION, REPORTINGOWNER and NONDERIV_TRANS headers of 2024q1_form345.zip, and that
2006q1's SUBMISSION lacks AFF10B5ONE), the same header lists in PostgreSQL/SQLite loaders of the
data sets (SUBMISSION with NOT_SUBJECT_SEC16, FORM3_HOLDINGS_REPORTED, FORM4_TRANS_REPORTED,
REMARKS), and a column profile of REPORTINGOWNER.tsv for the RPTOWNER_RELATIONSHIP spellings.

Rules:

- One row per non-derivative transaction line of a Form 4, 4/A, 5 or 5/A. Form 3 carries no
  transactions; derivative-only filings yield no row; DERIV_TRANS lines are counted, not read.
- known_at = FILING_DATE at 23:59:59 (the data sets carry no acceptance time: usable from the
  next session); event_date = TRANS_DATE. record_id = `sec345:<accession>:<NONDERIV_TRANS_SK>`.
- Symbol: ISSUERTRADINGSYMBOL, with an exchange prefix (`NYSE:`) or an OTC venue suffix (`.OB`,
  `.PK`) taken off, then normalized like every public-records ticker (BRK.B -> BRK-B);
  placeholders (`NONE`, `N/A`) and lists (`GEF,GEF.B`) are quarantined.
- Role: the officer title through the project's title -> role rules (`core.normalize.insider_role`);
  when the title says nothing (`See Remarks`), the relationship boxes through the same rules.
  type_of_owner keeps what was filed (`Director, Officer: Chief Executive Officer`).
- Joint filings (several REPORTINGOWNER rows on one accession) report each line once: the line is
  one row, under a primary owner chosen deterministically (most senior role in
  schemas.INSIDER_ROLES order, then the lowest CIK); the others' CIKs are in co_reporting_ciks.
- plan_10b5_1: AFF10B5ONE of the filing: checked -> True; unchecked -> False only for filings from
  2023-04-01 (when the checkbox came onto the forms); blank, absent, or unchecked before then ->
  null (the box did not exist, so an unchecked one says nothing).
- filed_late: TRANS_TIMELINESS = `L` -> True, else False (the SEC's own mark of a line reported
  after its deadline; filers mark it themselves, so it undercounts).
- Lines of other securities than common stock (preferred, warrants, notes, units, rights,
  options, debt) are left out and counted (`lines_not_common_stock`): they are valid records of
  another security, not bad data, so they are not quarantined (they would swamp the raw
  assets' quarantine-rate warning).
- Bad lines are quarantined with a reason: no SUBMISSION or REPORTINGOWNER row, no usable symbol,
  unreadable filing or transaction date, shares missing, acquired/disposed code missing; the
  schema then quarantines zero shares and filings dated before their transaction.
- Amendments (4/A, 5/A) are kept next to the originals, each with its own known_at; an amendment
  line that restates an original line carries the original's record_id in amends_record_id, so
  core.features uses the version public at each sample date (see `apply_amendments`).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from smart_money.data.normalize import end_of_day, form4_code, insider_role
from smart_money.data.quality import QUARANTINE_REASON
from smart_money.data.schemas import INSIDER_ROLES, TABLES
from smart_money.sources.public_records.common import Parsed, normalize_tickers, valid_ticker
from smart_money.sources.public_records.sec.tsv import cik, read_table, read_whole, sec_dates, sec_numbers, unquote

FORMS = ("4", "4/A", "5", "5/A")
ORIGINAL_OF = {"4/A": "4", "5/A": "5"}
PLAN_CHECKBOX_FROM = pd.Timestamp("2023-04-01")  # Forms 4 and 5 filed from this day carry the box
RECORD_PREFIX = "sec345:"

SUBMISSION_COLUMNS = (
    "ACCESSION_NUMBER",
    "FILING_DATE",
    "DATE_OF_ORIG_SUB",
    "DOCUMENT_TYPE",
    "ISSUERCIK",
    "ISSUERTRADINGSYMBOL",
    "AFF10B5ONE",
)
SUBMISSION_REQUIRED = ("ACCESSION_NUMBER", "FILING_DATE", "DOCUMENT_TYPE", "ISSUERCIK", "ISSUERTRADINGSYMBOL")
OWNER_COLUMNS = (
    "ACCESSION_NUMBER",
    "RPTOWNERCIK",
    "RPTOWNERNAME",
    "RPTOWNER_RELATIONSHIP",
    "RPTOWNER_TITLE",
    "RPTOWNER_TXT",
)
OWNER_REQUIRED = ("ACCESSION_NUMBER", "RPTOWNERCIK", "RPTOWNER_RELATIONSHIP")
TRANS_COLUMNS = (
    "ACCESSION_NUMBER",
    "NONDERIV_TRANS_SK",
    "SECURITY_TITLE",
    "TRANS_DATE",
    "TRANS_CODE",
    "TRANS_TIMELINESS",
    "TRANS_SHARES",
    "TRANS_PRICEPERSHARE",
    "TRANS_ACQUIRED_DISP_CD",
    "SHRS_OWND_FOLWNG_TRANS",
)
TABLE_COLUMNS = TABLES["insider_trades"].columns
# What amendment matching needs besides the table's columns.
LINE_COLUMNS = [*TABLE_COLUMNS, "accession", "line_sk", "filing_day", "original_filing_day", "owner_ciks"]

_COMMON = re.compile(r"\bcommon\b|\bordinary\b|\bshares?\b|\bstock\b|\bads\b|depositary", re.IGNORECASE)
_NOT_COMMON = re.compile(
    r"prefer|warrant|\bnotes?\b|debenture|\bbonds?\b|\brights?\b|\boptions?\b|\bdebt\b|(?<!common "
    r")\bunits?\b|\bswaps?\b",
    re.IGNORECASE,
)
_EXCHANGE_PREFIX = r"^(?:NYSE|NASDAQ|NASD|AMEX|NYSE ?AMERICAN|NYSE ?ARCA|NYSEMKT|OTC|OTCBB|OTCQB|OTCQX|PINK)\s*:\s*"
_RELATIONSHIP_WORDS = (
    ("director", "Director"),
    ("officer", "Officer"),
    ("tenpercent", "10% Owner"),
    ("other", "Other"),
)


def common_stock(titles: pd.Series) -> pd.Series:
    """True for common equity ('Common Stock', 'Class A Common Stock, $.01 par', 'Ordinary Shares',
    'Common Units', 'American Depositary Shares'); False for preferred, warrants, notes, units,
    rights, options, debt, and blank titles."""
    text = titles.fillna("").astype(str)
    return text.str.contains(_COMMON) & ~text.str.contains(_NOT_COMMON)


def issuer_symbols(raw: pd.Series) -> pd.Series:
    """ISSUERTRADINGSYMBOL -> ticker (NA when missing); see the module docstring."""
    text = raw.astype("string").str.strip().str.upper()
    text = text.str.replace(_EXCHANGE_PREFIX, "", regex=True).str.replace(r"\.(?:OB|PK)$", "", regex=True)
    text = text.mask(text.isin({"NONE", "[NONE]", "[ NONE ]", "NA"}))
    return normalize_tickers(text)


def relationship_words(relationship: str) -> str:
    """'Director,TenPercentOwnerOther' -> 'Director, 10% Owner, Other'."""
    text = (relationship or "").lower().replace(" ", "")
    return ", ".join(word for key, word in _RELATIONSHIP_WORDS if key in text)


def owner_role(relationship: str, title: str) -> str:
    """The officer title decides when it names a role; otherwise the relationship boxes do."""
    by_title = insider_role(title)
    return by_title if by_title != "OTHER" else insider_role(relationship_words(relationship))


def plan_flags(raw: pd.Series, filed: pd.Series) -> pd.Series:
    """AFF10B5ONE -> True / False / null (see the module docstring)."""
    text = raw.fillna("").astype(str).str.strip().str.lower()
    out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    out[text.isin({"1", "true", "y", "yes"}).to_numpy()] = True
    out[(text.isin({"0", "false", "n", "no"}) & (filed >= PLAN_CHECKBOX_FROM)).to_numpy()] = False
    return out


def _submissions(path: Path, counts: Counter) -> tuple[pd.DataFrame, set[str]]:
    """Form 4/5 filings (and their amendments) by accession, plus every accession in the file."""
    raw = read_whole(path, "SUBMISSION.tsv", SUBMISSION_COLUMNS, SUBMISSION_REQUIRED)
    every = set(raw["ACCESSION_NUMBER"])
    raw = raw.drop_duplicates("ACCESSION_NUMBER")
    form = raw["DOCUMENT_TYPE"].str.upper()
    counts["filings_form_3_no_transactions"] += int(form.str.match(r"^3(/A)?$").sum())
    counts["filings_other_types"] += int((~form.isin(FORMS) & ~form.str.match(r"^3(/A)?$")).sum())
    raw = raw[form.isin(FORMS)]
    counts["filings_form_4_5"] += int(len(raw))
    filed = sec_dates(raw["FILING_DATE"])
    frame = pd.DataFrame(
        {
            "form_type": raw["DOCUMENT_TYPE"].str.upper(),
            "filing_day": filed,
            "original_filing_day": sec_dates(raw["DATE_OF_ORIG_SUB"]) if "DATE_OF_ORIG_SUB" in raw else pd.NaT,
            "issuer_cik": cik(raw["ISSUERCIK"]),
            "symbol": issuer_symbols(raw["ISSUERTRADINGSYMBOL"]),
            "raw_symbol": raw["ISSUERTRADINGSYMBOL"],
            "plan_10b5_1": plan_flags(raw["AFF10B5ONE"], filed)
            if "AFF10B5ONE" in raw
            else pd.Series(pd.NA, index=raw.index, dtype="boolean"),
        }
    )
    frame.index = pd.Index(raw["ACCESSION_NUMBER"], name="ACCESSION_NUMBER")
    return frame, every


def _owners(path: Path, accessions: pd.Index, counts: Counter) -> pd.DataFrame:
    """One row per accession: the primary reporting owner and the other owners' CIKs."""
    raw = read_whole(path, "REPORTINGOWNER.tsv", OWNER_COLUMNS, OWNER_REQUIRED)
    raw = raw[raw["ACCESSION_NUMBER"].isin(accessions)].copy()
    for column in ("RPTOWNERNAME", "RPTOWNER_TITLE", "RPTOWNER_TXT"):
        raw[column] = unquote(raw[column]) if column in raw else pd.Series("", index=raw.index, dtype="string")
    raw["cik"] = cik(raw["RPTOWNERCIK"]).fillna("")
    raw = raw.drop_duplicates(["ACCESSION_NUMBER", "cik"])
    pairs = raw[["RPTOWNER_RELATIONSHIP", "RPTOWNER_TITLE"]].fillna("").astype(str).drop_duplicates()
    roles = {
        (rel, title): owner_role(rel, title)
        for rel, title in zip(pairs["RPTOWNER_RELATIONSHIP"], pairs["RPTOWNER_TITLE"])
    }
    raw["role"] = [
        roles[(str(r), str(t))]
        for r, t in zip(raw["RPTOWNER_RELATIONSHIP"].fillna(""), raw["RPTOWNER_TITLE"].fillna(""))
    ]
    words = raw["RPTOWNER_RELATIONSHIP"].fillna("").map(relationship_words)
    title = raw["RPTOWNER_TITLE"].fillna("").astype(str)
    described = words + np.where(title != "", ": " + title, "")
    raw["type_of_owner"] = described.where(described != "")
    raw["rank"] = raw["role"].map(INSIDER_ROLES.index)
    raw["cik_number"] = pd.to_numeric(raw["cik"], errors="coerce").fillna(np.inf)
    raw = raw.sort_values(["ACCESSION_NUMBER", "rank", "cik_number", "cik"], kind="stable")
    grouped = raw.groupby("ACCESSION_NUMBER", sort=False)
    primary = grouped.head(1).set_index("ACCESSION_NUMBER")
    size = grouped.size().reindex(primary.index)
    all_ciks = primary["cik"].copy()
    others = pd.Series(None, index=primary.index, dtype=object)
    joint = raw[raw["ACCESSION_NUMBER"].isin(size.index[size > 1])]  # a few percent of filings
    for accession, ciks in joint.groupby("ACCESSION_NUMBER", sort=False)["cik"]:
        all_ciks[accession] = ",".join(sorted(ciks))
        others[accession] = ",".join(sorted(ciks.iloc[1:]))
    counts["joint_filings"] += int((size > 1).sum())
    return pd.DataFrame(
        {
            "reporting_cik": primary["cik"],
            "reporting_name": primary["RPTOWNERNAME"].where(primary["RPTOWNERNAME"].fillna("") != ""),
            "type_of_owner": primary["type_of_owner"],
            "role": primary["role"],
            "co_reporting_ciks": others,
            "owner_ciks": all_ciks,
            "n_owners": size,
        }
    )


def _reject(chunk: pd.DataFrame, mask: pd.Series, reason: str, symbols: pd.Series, file: str) -> pd.DataFrame:
    rows = chunk.loc[mask].astype("string")
    rows = rows.assign(symbol=symbols[mask].to_numpy(), sec_file=file)
    rows[QUARANTINE_REASON] = f"insider_trades: {reason}"
    return rows.reset_index(drop=True)


def _lines(
    chunk: pd.DataFrame, submissions: pd.DataFrame, owners: pd.DataFrame, every: set[str], file: str, counts: Counter
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """A chunk of NONDERIV_TRANS rows -> line rows (LINE_COLUMNS) and quarantined raw rows."""
    accession = chunk["ACCESSION_NUMBER"]
    known_filing = accession.isin(every)
    ours = accession.isin(submissions.index)
    counts["lines_of_other_forms"] += int((known_filing & ~ours).sum())
    chunk = chunk[ours | ~known_filing]
    sub = submissions.reindex(chunk["ACCESSION_NUMBER"])
    own = owners.reindex(chunk["ACCESSION_NUMBER"])
    sub.index = own.index = chunk.index
    symbols = sub["symbol"]
    event_day = sec_dates(chunk["TRANS_DATE"])
    shares = sec_numbers(chunk["TRANS_SHARES"])
    direction = chunk["TRANS_ACQUIRED_DISP_CD"].str.upper()
    line_sk = pd.to_numeric(chunk["NONDERIV_TRANS_SK"], errors="coerce")
    not_common = ~common_stock(unquote(chunk["SECURITY_TITLE"]))
    checks = [
        (~chunk["ACCESSION_NUMBER"].isin(submissions.index), "no SUBMISSION row for the line's accession"),
        (
            own["reporting_cik"].isna() | (own["reporting_cik"] == ""),
            "no REPORTINGOWNER row (or no owner CIK) for the line's accession",
        ),
        (line_sk.isna(), "NONDERIV_TRANS_SK missing (the line cannot be identified)"),
        (
            symbols.isna() | ~valid_ticker(symbols).fillna(False).astype(bool),
            "issuer trading symbol missing or not a single ticker",
        ),
        (sub["filing_day"].isna(), "filing date missing, unreadable or implausible"),
        (event_day.isna(), "transaction date missing, unreadable or implausible"),
        (shares.isna(), "shares missing or unreadable"),
        (~direction.isin(["A", "D"]), "acquired/disposed code missing"),
    ]
    rejected = []
    bad = pd.Series(False, index=chunk.index)
    set_aside = not_common & chunk["ACCESSION_NUMBER"].isin(submissions.index)
    counts["lines_not_common_stock"] += int(set_aside.sum())
    bad |= set_aside
    for mask, reason in checks:
        mask = mask.fillna(True).astype(bool) & ~bad
        if mask.any():
            rejected.append(_reject(chunk, mask, reason, symbols, file))
            counts[f"quarantined: {reason}"] += int(mask.sum())
        bad |= mask
    good = ~bad
    lines = pd.DataFrame(
        {
            "symbol": symbols[good],
            "event_date": event_day[good],
            "known_at": end_of_day(sub.loc[good, "filing_day"]),
            "record_id": RECORD_PREFIX
            + chunk.loc[good, "ACCESSION_NUMBER"]
            + ":"
            + line_sk[good].astype("int64").astype(str),
            "reporting_cik": own.loc[good, "reporting_cik"],
            "reporting_name": own.loc[good, "reporting_name"],
            "type_of_owner": own.loc[good, "type_of_owner"],
            "role": own.loc[good, "role"],
            "transaction_code": chunk.loc[good, "TRANS_CODE"].map(form4_code),
            "acquisition_or_disposition": direction[good],
            "shares": shares[good],
            "price": sec_numbers(chunk.loc[good, "TRANS_PRICEPERSHARE"]),
            "shares_owned_after": sec_numbers(chunk.loc[good, "SHRS_OWND_FOLWNG_TRANS"]),
            "form_type": sub.loc[good, "form_type"],
            "amends_record_id": None,
            "issuer_cik": sub.loc[good, "issuer_cik"],
            "co_reporting_ciks": own.loc[good, "co_reporting_ciks"],
            "plan_10b5_1": sub.loc[good, "plan_10b5_1"].astype("boolean"),
            "filed_late": chunk.loc[good, "TRANS_TIMELINESS"].str.upper().eq("L").astype("boolean"),
            "accession": chunk.loc[good, "ACCESSION_NUMBER"],
            "line_sk": line_sk[good].astype("int64"),
            "filing_day": sub.loc[good, "filing_day"],
            "original_filing_day": sub.loc[good, "original_filing_day"],
            "owner_ciks": own.loc[good, "owner_ciks"],
        }
    )
    counts["lines_of_joint_filings"] += int((own.loc[good, "n_owners"] > 1).sum())
    return lines, rejected


def read_quarter(path: Path) -> Parsed:
    """One `YYYYqN_form345.zip` -> line rows (LINE_COLUMNS, amendments not yet matched), the
    quarantined lines and counts. Reads only the columns above, NONDERIV_TRANS in chunks."""
    path = Path(path)
    counts: Counter = Counter()
    submissions, every = _submissions(path, counts)
    owners = _owners(path, submissions.index, counts)
    frames, rejected = [], []
    for chunk in read_table(path, "NONDERIV_TRANS.tsv", TRANS_COLUMNS, TRANS_COLUMNS):
        counts["nonderivative_lines_read"] += len(chunk)
        lines, bad = _lines(chunk, submissions, owners, every, path.name, counts)
        frames.append(lines)
        rejected += bad
    for chunk in read_table(path, "DERIV_TRANS.tsv", ("ACCESSION_NUMBER",), ("ACCESSION_NUMBER",), optional_table=True):
        counts["derivative_lines_not_used"] += int(chunk["ACCESSION_NUMBER"].isin(submissions.index).sum())
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LINE_COLUMNS)
    counts["lines"] += len(frame)
    return Parsed(
        frame[LINE_COLUMNS],
        pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(columns=["symbol", QUARANTINE_REASON]),
        counts,
    )


# -- amendments ----------------------------------------------------------------------------------
def _same_price(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or (
        not np.isnan(a) and not np.isnan(b) and abs(a - b) <= 1e-6 * max(1.0, abs(a))
    )


def apply_amendments(lines: pd.DataFrame) -> tuple[pd.DataFrame, Counter]:
    """Point each 4/A or 5/A line at the original line it restates (amends_record_id).

    The original filing: a Form 4 (for a 4/A) or 5 (for a 5/A) of the same issuer CIK, sharing a
    reporting owner CIK with the amendment, filed on the amendment's DATE_OF_ORIG_SUB (when the
    amendment states it; otherwise any such filing on or before the amendment's date, newest first).
    Its lines are matched one by one, each original line at most once per amendment:

    1. same transaction date, code, acquired/disposed, shares and price (a restatement as is);
    2. same date, code and acquired/disposed, the only such line left (shares or price corrected);
    3. same date, code and acquired/disposed, several left: the same price first, then the
       closest share count, then the newest original, then the lowest NONDERIV_TRANS_SK (counted
       as ambiguous);
    4. only when DATE_OF_ORIG_SUB names the original: same code, acquired/disposed and shares,
       another date, the only such line (a corrected date).

    An amendment line that matches nothing is a line the original did not have: it stays a line
    of its own (amends_record_id null), counted. Original lines no amendment line matches are kept
    as they are: an amendment restates what it shows, so a 4/A that carries only holdings (no
    transaction lines) changes nothing. Limits: the original must be among the lines given (the
    source loads a year of quarters before a window for this); an amendment of an amendment points
    at the original too (core.features then takes the newest version); owners are matched by CIK,
    so an amendment filed under a different owner CIK is not matched.
    """
    counts: Counter = Counter()
    lines = lines.reset_index(drop=True).copy()
    is_amendment = lines["form_type"].isin(list(ORIGINAL_OF)).to_numpy()
    if not is_amendment.any():
        return lines, counts
    originals = lines[~is_amendment]
    by_accession = originals.groupby("accession", sort=False).indices
    filing_of = originals.drop_duplicates("accession").set_index("accession")[["filing_day", "form_type"]]
    owner_index: dict[tuple[str, str], set[str]] = {}
    firsts = originals.drop_duplicates("accession")
    for accession, issuer, owners in zip(firsts["accession"], firsts["issuer_cik"], firsts["owner_ciks"]):
        for owner in str(owners).split(","):
            owner_index.setdefault((str(issuer), owner), set()).add(accession)

    amends = lines["amends_record_id"].to_numpy(dtype=object).copy()
    rows = {
        name: lines[name].to_numpy()
        for name in (
            "event_date",
            "transaction_code",
            "acquisition_or_disposition",
            "shares",
            "price",
            "line_sk",
            "record_id",
        )
    }
    amendments = lines[is_amendment]
    for positions in amendments.groupby("accession", sort=False).indices.values():
        head = amendments.iloc[positions[0]]
        counts["amendment_filings"] += 1
        family = ORIGINAL_OF[head["form_type"]]
        candidates = set().union(
            *(owner_index.get((str(head["issuer_cik"]), owner), set()) for owner in str(head["owner_ciks"]).split(","))
        )
        named = pd.notna(head["original_filing_day"])
        chosen = [
            a
            for a in candidates
            if filing_of.at[a, "form_type"] == family
            and filing_of.at[a, "filing_day"] <= head["filing_day"]
            and (not named or filing_of.at[a, "filing_day"] == head["original_filing_day"])
        ]
        if not chosen:
            counts["amendments_original_not_found"] += 1
            counts["amendment_lines_unmatched"] += len(positions)
            continue
        chosen.sort(key=lambda a: filing_of.at[a, "filing_day"], reverse=True)
        newest_first = {a: rank for rank, a in enumerate(chosen)}
        pool = [int(i) for a in chosen for i in by_accession[a]]
        pool_index = originals.index.to_numpy()[pool]
        pool_rank = [newest_first[originals.at[i, "accession"]] for i in pool_index]
        claimed: set[int] = set()
        for position in sorted(positions, key=lambda p: rows["line_sk"][amendments.index[p]]):
            line = amendments.index[position]
            match = _match_line(
                line, pool_index, pool_rank, claimed, rows, allow_date_fix=bool(named and len(chosen) == 1)
            )
            if match is None:
                counts["amendment_lines_unmatched"] += 1
                continue
            tier, original = match
            claimed.add(original)
            amends[line] = rows["record_id"][original]
            counts[f"amendment_lines_matched_{tier}"] += 1
    lines["amends_record_id"] = amends
    return lines, counts


def _match_line(
    line: int, pool: np.ndarray, rank: list[int], claimed: set[int], rows: dict[str, np.ndarray], allow_date_fix: bool
) -> tuple[str, int] | None:
    """The original line an amendment line restates (see apply_amendments), with the tier."""
    day, code, side = rows["event_date"][line], rows["transaction_code"][line], rows["acquisition_or_disposition"][line]
    shares, price = float(rows["shares"][line]), float(rows["price"][line])
    free = [
        (i, r)
        for i, r in zip(pool, rank)
        if i not in claimed and rows["transaction_code"][i] == code and rows["acquisition_or_disposition"][i] == side
    ]
    same_day = [(i, r) for i, r in free if rows["event_date"][i] == day]
    exact = [
        (i, r)
        for i, r in same_day
        if float(rows["shares"][i]) == shares and _same_price(float(rows["price"][i]), price)
    ]
    if exact:
        return "exact", min(exact, key=lambda ir: (ir[1], rows["line_sk"][ir[0]]))[0]
    if len(same_day) == 1:
        return "corrected", same_day[0][0]
    if same_day:

        def closeness(ir: tuple[int, int]) -> tuple:
            i, newest = ir
            return (
                not _same_price(float(rows["price"][i]), price),
                abs(float(rows["shares"][i]) - shares),
                newest,
                rows["line_sk"][i],
            )

        return "ambiguous", min(same_day, key=closeness)[0]
    if allow_date_fix:
        moved = [(i, r) for i, r in free if float(rows["shares"][i]) == shares]
        if len(moved) == 1:
            return "date_corrected", moved[0][0]
    return None


def insider_trades(lines: pd.DataFrame) -> pd.DataFrame:
    """Line rows -> the `insider_trades` table's columns."""
    return lines[TABLE_COLUMNS].reset_index(drop=True)
