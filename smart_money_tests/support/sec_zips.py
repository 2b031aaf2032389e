"""Small SEC data set ZIPs in the SEC's layout, for tests (never fetched from sec.gov).

Members, header names and header order as in the SEC's files: tab-separated, one header row,
dates written `15-JAN-2023`. The headers of SUBMISSION, REPORTINGOWNER and NONDERIV_TRANS (Form
3/4/5) and of all 13F tables were recorded from the SEC's own ZIPs by public projects (see the
docstrings of smart_money/sources/public_records/sec/form345.py and form13f.py); DERIV_TRANS
follows a public loader's table of the same file; the holdings, footnote and signature tables
(which no reader here opens) follow public loaders as closely as they show them.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

import pandas as pd

FORM345_SUBMISSION = [
    "ACCESSION_NUMBER",
    "FILING_DATE",
    "PERIOD_OF_REPORT",
    "DATE_OF_ORIG_SUB",
    "NO_SECURITIES_OWNED",
    "NOT_SUBJECT_SEC16",
    "FORM3_HOLDINGS_REPORTED",
    "FORM4_TRANS_REPORTED",
    "DOCUMENT_TYPE",
    "ISSUERCIK",
    "ISSUERNAME",
    "ISSUERTRADINGSYMBOL",
    "REMARKS",
    "AFF10B5ONE",
]
FORM345_SUBMISSION_BEFORE_2023 = FORM345_SUBMISSION[:-1]  # AFF10B5ONE came with the 2023 forms
FORM345_REPORTINGOWNER = [
    "ACCESSION_NUMBER",
    "RPTOWNERCIK",
    "RPTOWNERNAME",
    "RPTOWNER_RELATIONSHIP",
    "RPTOWNER_TITLE",
    "RPTOWNER_TXT",
    "RPTOWNER_STREET1",
    "RPTOWNER_STREET2",
    "RPTOWNER_CITY",
    "RPTOWNER_STATE",
    "RPTOWNER_ZIPCODE",
    "RPTOWNER_STATE_DESC",
    "FILE_NUMBER",
]
FORM345_NONDERIV_TRANS = [
    "ACCESSION_NUMBER",
    "NONDERIV_TRANS_SK",
    "SECURITY_TITLE",
    "SECURITY_TITLE_FN",
    "TRANS_DATE",
    "TRANS_DATE_FN",
    "DEEMED_EXECUTION_DATE",
    "DEEMED_EXECUTION_DATE_FN",
    "TRANS_FORM_TYPE",
    "TRANS_CODE",
    "EQUITY_SWAP_INVOLVED",
    "EQUITY_SWAP_TRANS_CD_FN",
    "TRANS_TIMELINESS",
    "TRANS_TIMELINESS_FN",
    "TRANS_SHARES",
    "TRANS_SHARES_FN",
    "TRANS_PRICEPERSHARE",
    "TRANS_PRICEPERSHARE_FN",
    "TRANS_ACQUIRED_DISP_CD",
    "TRANS_ACQUIRED_DISP_CD_FN",
    "SHRS_OWND_FOLWNG_TRANS",
    "SHRS_OWND_FOLWNG_TRANS_FN",
    "VALU_OWND_FOLWNG_TRANS",
    "VALU_OWND_FOLWNG_TRANS_FN",
    "DIRECT_INDIRECT_OWNERSHIP",
    "DIRECT_INDIRECT_OWNERSHIP_FN",
    "NATURE_OF_OWNERSHIP",
    "NATURE_OF_OWNERSHIP_FN",
]
FORM345_NONDERIV_HOLDING = [
    "ACCESSION_NUMBER",
    "NONDERIV_HOLDING_SK",
    "SECURITY_TITLE",
    "SECURITY_TITLE_FN",
    "TRANS_FORM_TYPE",
    "TRANS_FORM_TYPE_FN",
    "SHRS_OWND_FOLWNG_TRANS",
    "SHRS_OWND_FOLWNG_TRANS_FN",
    "VALU_OWND_FOLWNG_TRANS",
    "VALU_OWND_FOLWNG_TRANS_FN",
    "DIRECT_INDIRECT_OWNERSHIP",
    "DIRECT_INDIRECT_OWNERSHIP_FN",
    "NATURE_OF_OWNERSHIP",
    "NATURE_OF_OWNERSHIP_FN",
]
FORM345_DERIV_TRANS = [
    "ACCESSION_NUMBER",
    "DERIV_TRANS_SK",
    "SECURITY_TITLE",
    "SECURITY_TITLE_FN",
    "CONV_EXERCISE_PRICE",
    "CONV_EXERCISE_PRICE_FN",
    "TRANS_DATE",
    "TRANS_DATE_FN",
    "DEEMED_EXECUTION_DATE",
    "DEEMED_EXECUTION_DATE_FN",
    "TRANS_FORM_TYPE",
    "TRANS_CODE",
    "EQUITY_SWAP_INVOLVED",
    "EQUITY_SWAP_TRANS_CD_FN",
    "TRANS_TIMELINESS",
    "TRANS_TIMELINESS_FN",
    "TRANS_SHARES",
    "TRANS_SHARES_FN",
    "TRANS_TOTAL_VALUE",
    "TRANS_TOTAL_VALUE_FN",
    "TRANS_PRICEPERSHARE",
    "TRANS_PRICEPERSHARE_FN",
    "TRANS_ACQUIRED_DISP_CD",
    "TRANS_ACQUIRED_DISP_CD_FN",
    "EXCERCISE_DATE",
    "EXCERCISE_DATE_FN",
    "EXPIRATION_DATE",
    "EXPIRATION_DATE_FN",
    "UNDLYNG_SEC_TITLE",
    "UNDLYNG_SEC_TITLE_FN",
    "UNDLYNG_SEC_SHARES",
    "UNDLYNG_SEC_SHARES_FN",
    "UNDLYNG_SEC_VALUE",
    "UNDLYNG_SEC_VALUE_FN",
    "SHRS_OWND_FOLWNG_TRANS",
    "SHRS_OWND_FOLWNG_TRANS_FN",
    "VALU_OWND_FOLWNG_TRANS",
    "VALU_OWND_FOLWNG_TRANS_FN",
    "DIRECT_INDIRECT_OWNERSHIP",
    "DIRECT_INDIRECT_OWNERSHIP_FN",
    "NATURE_OF_OWNERSHIP",
    "NATURE_OF_OWNERSHIP_FN",
]
FORM345_DERIV_HOLDING = [
    "ACCESSION_NUMBER",
    "DERIV_HOLDING_SK",
    "SECURITY_TITLE",
    "SECURITY_TITLE_FN",
    "CONV_EXERCISE_PRICE",
    "CONV_EXERCISE_PRICE_FN",
    "TRANS_FORM_TYPE",
    "TRANS_FORM_TYPE_FN",
    "EXCERCISE_DATE",
    "EXCERCISE_DATE_FN",
    "EXPIRATION_DATE",
    "EXPIRATION_DATE_FN",
    "UNDLYNG_SEC_TITLE",
    "UNDLYNG_SEC_TITLE_FN",
    "UNDLYNG_SEC_SHARES",
    "UNDLYNG_SEC_SHARES_FN",
    "UNDLYNG_SEC_VALUE",
    "UNDLYNG_SEC_VALUE_FN",
    "SHRS_OWND_FOLWNG_TRANS",
    "SHRS_OWND_FOLWNG_TRANS_FN",
    "VALU_OWND_FOLWNG_TRANS",
    "VALU_OWND_FOLWNG_TRANS_FN",
    "DIRECT_INDIRECT_OWNERSHIP",
    "DIRECT_INDIRECT_OWNERSHIP_FN",
    "NATURE_OF_OWNERSHIP",
    "NATURE_OF_OWNERSHIP_FN",
]
FORM345_FOOTNOTES = ["ACCESSION_NUMBER", "FOOTNOTE_ID", "FOOTNOTE_TXT"]
FORM345_OWNER_SIGNATURE = ["ACCESSION_NUMBER", "OWNERSIGNATURENAME", "OWNERSIGNATUREDATE"]

F13_SUBMISSION = ["ACCESSION_NUMBER", "FILING_DATE", "SUBMISSIONTYPE", "CIK", "PERIODOFREPORT"]
F13_COVERPAGE = [
    "ACCESSION_NUMBER",
    "REPORTCALENDARORQUARTER",
    "ISAMENDMENT",
    "AMENDMENTNO",
    "AMENDMENTTYPE",
    "CONFDENIEDEXPIRED",
    "DATEDENIEDEXPIRED",
    "DATEREPORTED",
    "REASONFORNONCONFIDENTIALITY",
    "FILINGMANAGER_NAME",
    "FILINGMANAGER_STREET1",
    "FILINGMANAGER_STREET2",
    "FILINGMANAGER_CITY",
    "FILINGMANAGER_STATEORCOUNTRY",
    "FILINGMANAGER_ZIPCODE",
    "REPORTTYPE",
    "FORM13FFILENUMBER",
    "CRDNUMBER",
    "SECFILENUMBER",
    "PROVIDEINFOFORINSTRUCTION5",
    "ADDITIONALINFORMATION",
]
F13_OTHERMANAGER = [
    "ACCESSION_NUMBER",
    "OTHERMANAGER_SK",
    "CIK",
    "FORM13FFILENUMBER",
    "CRDNUMBER",
    "SECFILENUMBER",
    "NAME",
]
F13_OTHERMANAGER2 = [
    "ACCESSION_NUMBER",
    "SEQUENCENUMBER",
    "CIK",
    "FORM13FFILENUMBER",
    "CRDNUMBER",
    "SECFILENUMBER",
    "NAME",
]
F13_SIGNATURE = ["ACCESSION_NUMBER", "NAME", "TITLE", "PHONE", "SIGNATURE", "CITY", "STATEORCOUNTRY", "SIGNATUREDATE"]
F13_SUMMARYPAGE = [
    "ACCESSION_NUMBER",
    "OTHERINCLUDEDMANAGERSCOUNT",
    "TABLEENTRYTOTAL",
    "TABLEVALUETOTAL",
    "ISCONFIDENTIALOMITTED",
]
F13_INFOTABLE = [
    "ACCESSION_NUMBER",
    "INFOTABLE_SK",
    "NAMEOFISSUER",
    "TITLEOFCLASS",
    "CUSIP",
    "FIGI",
    "VALUE",
    "SSHPRNAMT",
    "SSHPRNAMTTYPE",
    "PUTCALL",
    "INVESTMENTDISCRETION",
    "OTHERMANAGER",
    "VOTING_AUTH_SOLE",
    "VOTING_AUTH_SHARED",
    "VOTING_AUTH_NONE",
]
F13_INFOTABLE_BEFORE_FIGI = [c for c in F13_INFOTABLE if c != "FIGI"]

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def sec_date(day: str | date | pd.Timestamp) -> str:
    """'2023-01-15' -> '15-JAN-2023', the data sets' spelling."""
    stamp = pd.Timestamp(day)
    return f"{stamp.day:02d}-{MONTHS[stamp.month - 1]}-{stamp.year}"


def tsv(header: list[str], rows: Iterable[Mapping[str, object]]) -> bytes:
    lines = ["\t".join(header)]
    for row in rows:
        unknown = set(row) - set(header)
        if unknown:
            raise KeyError(f"columns not in the SEC header: {sorted(unknown)}")
        lines.append("\t".join("" if row.get(c) is None else str(row.get(c)) for c in header))
    return ("\n".join(lines) + "\n").encode()


def write_zip(path: Path, members: Mapping[str, bytes]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    path.write_bytes(buffer.getvalue())
    return path


# -- Forms 3/4/5 ----------------------------------------------------------------------------------
def submission(
    accession: str,
    filed: str,
    symbol: str,
    form: str = "4",
    issuer_cik: str = "0000320193",
    original: str | None = None,
    plan: str = "",
    issuer: str = "ISSUER INC",
) -> dict:
    return {
        "ACCESSION_NUMBER": accession,
        "FILING_DATE": sec_date(filed),
        "PERIOD_OF_REPORT": sec_date(filed),
        "DATE_OF_ORIG_SUB": sec_date(original) if original else "",
        "NO_SECURITIES_OWNED": "0",
        "NOT_SUBJECT_SEC16": "0",
        "FORM3_HOLDINGS_REPORTED": "0",
        "FORM4_TRANS_REPORTED": "0",
        "DOCUMENT_TYPE": form,
        "ISSUERCIK": issuer_cik,
        "ISSUERNAME": issuer,
        "ISSUERTRADINGSYMBOL": symbol,
        "REMARKS": "",
        "AFF10B5ONE": plan,
    }


def owner(accession: str, cik: str, name: str, relationship: str = "Officer", title: str = "", other: str = "") -> dict:
    return {
        "ACCESSION_NUMBER": accession,
        "RPTOWNERCIK": cik,
        "RPTOWNERNAME": name,
        "RPTOWNER_RELATIONSHIP": relationship,
        "RPTOWNER_TITLE": title,
        "RPTOWNER_TXT": other,
        "RPTOWNER_STREET1": "1 MAIN ST",
        "RPTOWNER_STREET2": "",
        "RPTOWNER_CITY": "SPRINGFIELD",
        "RPTOWNER_STATE": "IL",
        "RPTOWNER_ZIPCODE": "62701",
        "RPTOWNER_STATE_DESC": "",
        "FILE_NUMBER": "",
    }


def transaction(
    accession: str,
    sk: int,
    traded: str,
    code: str,
    shares: object,
    price: object,
    side: str,
    after: object = "",
    title: str = "Common Stock",
    timeliness: str = "",
    form: str = "4",
) -> dict:
    return {
        "ACCESSION_NUMBER": accession,
        "NONDERIV_TRANS_SK": sk,
        "SECURITY_TITLE": title,
        "TRANS_DATE": sec_date(traded) if traded else "",
        "TRANS_FORM_TYPE": form,
        "TRANS_CODE": code,
        "EQUITY_SWAP_INVOLVED": "0",
        "TRANS_TIMELINESS": timeliness,
        "TRANS_SHARES": shares,
        "TRANS_PRICEPERSHARE": price,
        "TRANS_ACQUIRED_DISP_CD": side,
        "SHRS_OWND_FOLWNG_TRANS": after,
        "DIRECT_INDIRECT_OWNERSHIP": "D",
    }


def derivative_transaction(accession: str, sk: int, traded: str, code: str = "M", shares: object = 1000) -> dict:
    return {
        "ACCESSION_NUMBER": accession,
        "DERIV_TRANS_SK": sk,
        "SECURITY_TITLE": "Stock Option (right to buy)",
        "CONV_EXERCISE_PRICE": "10",
        "TRANS_DATE": sec_date(traded),
        "TRANS_FORM_TYPE": "4",
        "TRANS_CODE": code,
        "EQUITY_SWAP_INVOLVED": "0",
        "TRANS_SHARES": shares,
        "TRANS_PRICEPERSHARE": "0",
        "TRANS_ACQUIRED_DISP_CD": "D",
        "UNDLYNG_SEC_TITLE": "Common Stock",
        "UNDLYNG_SEC_SHARES": shares,
        "SHRS_OWND_FOLWNG_TRANS": "0",
        "DIRECT_INDIRECT_OWNERSHIP": "D",
    }


def holding(accession: str, sk: int, shares: object, title: str = "Common Stock") -> dict:
    return {
        "ACCESSION_NUMBER": accession,
        "NONDERIV_HOLDING_SK": sk,
        "SECURITY_TITLE": title,
        "TRANS_FORM_TYPE": "4",
        "SHRS_OWND_FOLWNG_TRANS": shares,
        "DIRECT_INDIRECT_OWNERSHIP": "D",
    }


def form345_zip(
    path: Path,
    submissions: list[dict],
    owners: list[dict],
    transactions: list[dict],
    derivatives: list[dict] = (),  # type: ignore[assignment]
    holdings: list[dict] = (),  # type: ignore[assignment]
    before_2023: bool = False,
) -> Path:
    """A `YYYYqN_form345.zip` with the SEC's eight tables."""
    header = FORM345_SUBMISSION_BEFORE_2023 if before_2023 else FORM345_SUBMISSION
    if before_2023:
        submissions = [{k: v for k, v in s.items() if k != "AFF10B5ONE"} for s in submissions]
    signatures = [
        {
            "ACCESSION_NUMBER": s["ACCESSION_NUMBER"],
            "OWNERSIGNATURENAME": "/s/ Attorney-in-fact",
            "OWNERSIGNATUREDATE": s["FILING_DATE"],
        }
        for s in submissions
    ]
    return write_zip(
        path,
        {
            "SUBMISSION.tsv": tsv(header, submissions),
            "REPORTINGOWNER.tsv": tsv(FORM345_REPORTINGOWNER, owners),
            "NONDERIV_TRANS.tsv": tsv(FORM345_NONDERIV_TRANS, transactions),
            "NONDERIV_HOLDING.tsv": tsv(FORM345_NONDERIV_HOLDING, holdings),
            "DERIV_TRANS.tsv": tsv(FORM345_DERIV_TRANS, derivatives),
            "DERIV_HOLDING.tsv": tsv(FORM345_DERIV_HOLDING, []),
            "FOOTNOTES.tsv": tsv(FORM345_FOOTNOTES, []),
            "OWNER_SIGNATURE.tsv": tsv(FORM345_OWNER_SIGNATURE, signatures),
        },
    )


# -- 13F --------------------------------------------------------------------------------------------
def filing13f(accession: str, filed: str, cik: str, period: str, form: str = "13F-HR") -> dict:
    return {
        "ACCESSION_NUMBER": accession,
        "FILING_DATE": sec_date(filed),
        "SUBMISSIONTYPE": form,
        "CIK": cik,
        "PERIODOFREPORT": sec_date(period),
    }


def cover(
    accession: str,
    manager: str,
    period: str,
    amendment_type: str = "",
    amendment_no: str = "",
    report_type: str = "13F HOLDINGS REPORT",
) -> dict:
    return {
        "ACCESSION_NUMBER": accession,
        "REPORTCALENDARORQUARTER": sec_date(period),
        "ISAMENDMENT": "Y" if amendment_type else "N",
        "AMENDMENTNO": amendment_no,
        "AMENDMENTTYPE": amendment_type,
        "FILINGMANAGER_NAME": manager,
        "FILINGMANAGER_STREET1": "1 WALL ST",
        "FILINGMANAGER_CITY": "NEW YORK",
        "FILINGMANAGER_STATEORCOUNTRY": "NY",
        "FILINGMANAGER_ZIPCODE": "10005",
        "REPORTTYPE": report_type,
        "FORM13FFILENUMBER": "028-00001",
        "PROVIDEINFOFORINSTRUCTION5": "N",
    }


def position(
    accession: str,
    sk: int,
    cusip: str,
    value: object,
    shares: object,
    kind: str = "SH",
    putcall: str = "",
    issuer: str = "ISSUER INC",
) -> dict:
    return {
        "ACCESSION_NUMBER": accession,
        "INFOTABLE_SK": sk,
        "NAMEOFISSUER": issuer,
        "TITLEOFCLASS": "COM",
        "CUSIP": cusip,
        "VALUE": value,
        "SSHPRNAMT": shares,
        "SSHPRNAMTTYPE": kind,
        "PUTCALL": putcall,
        "INVESTMENTDISCRETION": "SOLE",
        "OTHERMANAGER": "",
        "VOTING_AUTH_SOLE": shares,
        "VOTING_AUTH_SHARED": "0",
        "VOTING_AUTH_NONE": "0",
    }


def form13f_zip(
    path: Path, submissions: list[dict], coverpages: list[dict], infotable: list[dict], with_figi: bool = True
) -> Path:
    """A 13F data set ZIP (`YYYYqN_form13f.zip` or a window file) with the SEC's seven tables."""
    info_header = F13_INFOTABLE if with_figi else F13_INFOTABLE_BEFORE_FIGI
    summaries = [
        {
            "ACCESSION_NUMBER": s["ACCESSION_NUMBER"],
            "OTHERINCLUDEDMANAGERSCOUNT": "0",
            "TABLEENTRYTOTAL": str(sum(1 for i in infotable if i["ACCESSION_NUMBER"] == s["ACCESSION_NUMBER"])),
            "TABLEVALUETOTAL": "0",
            "ISCONFIDENTIALOMITTED": "N",
        }
        for s in submissions
    ]
    signatures = [
        {
            "ACCESSION_NUMBER": s["ACCESSION_NUMBER"],
            "NAME": "Jane Roe",
            "TITLE": "CCO",
            "PHONE": "2125550100",
            "SIGNATURE": "Jane Roe",
            "CITY": "New York",
            "STATEORCOUNTRY": "NY",
            "SIGNATUREDATE": s["FILING_DATE"],
        }
        for s in submissions
    ]
    return write_zip(
        path,
        {
            "SUBMISSION.tsv": tsv(F13_SUBMISSION, submissions),
            "COVERPAGE.tsv": tsv(F13_COVERPAGE, coverpages),
            "OTHERMANAGER.tsv": tsv(F13_OTHERMANAGER, []),
            "OTHERMANAGER2.tsv": tsv(F13_OTHERMANAGER2, []),
            "SIGNATURE.tsv": tsv(F13_SIGNATURE, signatures),
            "SUMMARYPAGE.tsv": tsv(F13_SUMMARYPAGE, summaries),
            "INFOTABLE.tsv": tsv(
                info_header, [{k: v for k, v in row.items() if k in info_header} for row in infotable]
            ),
        },
    )
