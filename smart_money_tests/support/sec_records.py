"""A records folder whose insider and 13F tables come from SEC data set ZIPs with years of
history: insiders whose trades the routine/opportunistic split (Cohen, Malloy & Pomorski 2012)
classifies, a history filing that becomes public late, Rule 10b5-1 boxes on 2023 forms, a 4/A, a
late line, a quarantined line and a 13F filing with a NEW HOLDINGS amendment and an unmapped CUSIP.

Every date is placed so tests know exactly when a filing becomes usable (the session after its
filing date). Prices are the fixture's random walks over 2016-12 .. 2023-12.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smart_money.data import calendar as cal
from smart_money_tests.support.public_records import price_frame
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
ISSUER_CIK = {"AAA": "100", "BBB": "200", "CCC": "300"}
CUSIPS = {"AAA": "111111111", "BBB": "222222222", "CCC": "333333333"}
UNMAPPED_CUSIP = "999999999"
FIRST_PRICE, LAST_PRICE = "2016-12-01", "2023-12-29"

# insiders of AAA (reporting CIKs)
ROUTINE, OPPORTUNISTIC, NEWCOMER, LATE_ROUTINE = "31", "32", "33", "34"
# CCC, 2023: a sale under a 10b5-1 plan, a discretionary sale, a sale filed before the box existed
PLANNED_SELLER, DISCRETIONARY_SELLER = "41", "42"

OPPORTUNISTIC_BUY = ("2020-04-02", "2020-04-06")  # (traded, filed): public from 2020-04-07
LATE_HISTORY_FILED = "2020-04-20"  # LATE_ROUTINE's 2019 trade: public from 2020-04-21
SHARES = {"opportunistic_buy": 500, "planned_sale": 300, "discretionary_sale": 200, "early_sale": 100}


def sessions() -> pd.DatetimeIndex:
    return cal.sessions_between(FIRST_PRICE, LAST_PRICE)


def close(symbol: str, day: str) -> float:
    """The fixture's close on the last session on or before `day`, rounded as the filings write it."""
    frame = price_frame(symbol, seed(symbol), sessions())
    series = pd.Series(frame["Close"].to_numpy(), index=pd.to_datetime(frame["Date"]))
    return round(float(series[series.index <= pd.Timestamp(day)].iloc[-1]), 2)


def seed(symbol: str) -> int:
    return {"AAA": 1, "BBB": 2, "CCC": 3, "SPY": 99}[symbol]


def write_prices(root: Path) -> None:
    folder = root / "prices" / "yahoo" / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for symbol in TICKERS:
        price_frame(symbol, seed(symbol), sessions()).to_csv(folder / f"{symbol}.csv", index=False)
    (root / "prices" / "index").mkdir(parents=True, exist_ok=True)
    price_frame("SPY", seed("SPY"), sessions()).to_csv(root / "prices" / "index" / "SPY.csv", index=False)


class _Filings:
    """Form 4 filings collected per quarter of filing date, written as the SEC's quarterly ZIPs."""

    def __init__(self) -> None:
        self.quarters: dict[str, dict[str, list[dict]]] = {}
        self.serial = 0

    def add(
        self,
        symbol: str,
        cik: str,
        name: str,
        lines: list[tuple[str, str, object]],  # (traded, code, shares)
        filed: str,
        plan: str = "",
        form: str = "4",
        original: str | None = None,
        timeliness: str = "",
    ) -> str:
        self.serial += 1
        stamp = pd.Timestamp(filed)
        accession = f"0000020-{stamp:%y}-{self.serial:06d}"
        quarter = self.quarters.setdefault(f"{stamp.year}q{stamp.quarter}", {"s": [], "o": [], "t": []})
        quarter["s"].append(
            submission(accession, filed, symbol, form=form, issuer_cik=ISSUER_CIK[symbol], original=original, plan=plan)
        )
        quarter["o"].append(owner(accession, cik, name, "Director"))
        for i, (traded, code, shares) in enumerate(lines, start=1):
            side = "A" if code == "P" else "D"
            quarter["t"].append(
                transaction(
                    accession, i, traded, code, shares, close(symbol, traded), side, "10000", timeliness=timeliness
                )
            )
        return accession

    def write(self, folder: Path) -> None:
        for quarter, tables in self.quarters.items():
            form345_zip(
                folder / f"{quarter}_form345.zip",
                tables["s"],
                tables["o"],
                tables["t"],
                before_2023=int(quarter[:4]) < 2023,
            )


def write_sec_insider(root: Path) -> None:
    filings = _Filings()
    # the oldest filing: the data reach back to January 2017 (enough to split trades of 2020)
    filings.add("BBB", "51", "EARLY EVE", [("2017-01-05", "P", 100)], "2017-01-09")
    # a routine insider: sales in April of 2017, 2018 and 2019, then a purchase in April 2020
    for traded, filed in (("2017-04-03", "2017-04-05"), ("2018-04-02", "2018-04-04"), ("2019-04-01", "2019-04-03")):
        filings.add("AAA", ROUTINE, "ROUTINE RITA", [(traded, "S", 200)], filed)
    filings.add("AAA", ROUTINE, "ROUTINE RITA", [("2020-04-01", "P", 400)], "2020-04-03")
    # an opportunistic insider: a trade in each of the three years, never in the same month
    for traded, filed in (("2017-06-08", "2017-06-12"), ("2018-09-10", "2018-09-12"), ("2019-11-11", "2019-11-13")):
        filings.add("AAA", OPPORTUNISTIC, "OPPORTUNE OTTO", [(traded, "S", 150)], filed)
    traded, filed = OPPORTUNISTIC_BUY
    filings.add("AAA", OPPORTUNISTIC, "OPPORTUNE OTTO", [(traded, "P", SHARES["opportunistic_buy"])], filed)
    # a newcomer: no history, in neither group
    filings.add("AAA", NEWCOMER, "NEW NED", [("2020-04-03", "P", 250)], "2020-04-07")
    # routine in May, but its 2019 trade is reported late, in April 2020
    for traded, filed in (("2017-05-01", "2017-05-03"), ("2018-05-01", "2018-05-03")):
        filings.add("AAA", LATE_ROUTINE, "LATE LARRY", [(traded, "S", 120)], filed)
    filings.add("AAA", LATE_ROUTINE, "LATE LARRY", [("2020-04-08", "P", 180)], "2020-04-09")
    filings.add("AAA", LATE_ROUTINE, "LATE LARRY", [("2019-05-01", "S", 120)], LATE_HISTORY_FILED, timeliness="L")
    # CCC in 2023: a sale on a form without the box, then a planned and a discretionary sale
    filings.add("CCC", PLANNED_SELLER, "PLAN PAT", [("2023-03-20", "S", SHARES["early_sale"])], "2023-03-22")
    filings.add(
        "CCC", PLANNED_SELLER, "PLAN PAT", [("2023-06-05", "S", SHARES["planned_sale"])], "2023-06-07", plan="1"
    )
    filings.add(
        "CCC",
        DISCRETIONARY_SELLER,
        "FREE FRAN",
        [("2023-06-06", "S", SHARES["discretionary_sale"])],
        "2023-06-08",
        plan="0",
    )
    # its 4/A restates the share count
    filings.add(
        "CCC",
        DISCRETIONARY_SELLER,
        "FREE FRAN",
        [("2023-06-06", "S", SHARES["discretionary_sale"] + 20)],
        "2023-06-20",
        plan="0",
        form="4/A",
        original="2023-06-08",
    )
    # July: another discretionary sale, and a line without shares (quarantined)
    filings.add(
        "CCC",
        DISCRETIONARY_SELLER,
        "FREE FRAN",
        [("2023-07-06", "S", 90), ("2023-07-06", "S", "")],
        "2023-07-10",
        plan="0",
    )
    filings.write(root / "sec" / "insider")


def write_sec_13f(root: Path) -> None:
    """A 13F-HR for 2023-03-31 filed 2023-05-15 (AAA, CCC and a CUSIP no map lists), completed by a
    NEW HOLDINGS amendment filed 2023-06-01 (BBB)."""
    folder = root / "sec" / "13f"
    period = "2023-03-31"
    shares = {"AAA": 10_000, "BBB": 5_000, "CCC": 2_000}
    value = {s: round(n * close(s, period)) for s, n in shares.items()}  # dollars (filed in 2023)
    form13f_zip(
        folder / "2023q2_form13f.zip",
        [
            filing13f("0000099-23-000001", "2023-05-15", "9999", period),
            filing13f("0000099-23-000002", "2023-06-01", "9999", period, form="13F-HR/A"),
        ],
        [
            cover("0000099-23-000001", "FUND NINE LP", period),
            cover("0000099-23-000002", "FUND NINE LP", period, amendment_type="NEW HOLDINGS", amendment_no="1"),
        ],
        [
            position("0000099-23-000001", 1, CUSIPS["AAA"], value["AAA"], shares["AAA"]),
            position("0000099-23-000001", 2, CUSIPS["CCC"], value["CCC"], shares["CCC"]),
            position("0000099-23-000001", 3, UNMAPPED_CUSIP, 1000, 100),
            position("0000099-23-000002", 4, CUSIPS["BBB"], value["BBB"], shares["BBB"]),
        ],
    )
    (folder / "cusip_map.csv").write_text("cusip,ticker\n" + "".join(f"{c},{t}\n" for t, c in CUSIPS.items()))


def write_sec_records(root: Path) -> Path:
    """The whole folder under `root`."""
    write_prices(root)
    write_sec_insider(root)
    write_sec_13f(root)
    return root
