"""A small records folder written by the tests, in every public format the public_records source
reads, with the traps of the real files planted on purpose (look-ahead columns, duplicates,
renamed and delisted tickers, dirty price files, 13F units, ARK's start-of-day switch).

Prices are a seeded random walk over 2019-01 .. 2021-09 for N_STOCKS tickers plus SPY; a few
events are placed at known dates so tests can check exactly when they become usable.
"""

from __future__ import annotations

import io
import json
import lzma
import tarfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

N_STOCKS = 30
FIRST_DAY, LAST_DAY = "2019-01-02", "2021-09-30"
SPLIT_TICKER, SPLIT_DATE, SPLIT_RATIO = "T00", pd.Timestamp("2020-08-31"), 4  # split after the records
RENAMED_OLD, RENAMED_NEW = "OLDN", "T01"  # trade files say OLDN, prices are under T01
DELISTED = "GONE"  # an old-symbol file that ends early, with null rows, repeats and an error tail
FUTURE_COLUMNS = [
    "2w",
    "1m",
    "2m",
    "1yr",
    "2yr",
    "2w%",
    "1m%",
    "1yr%",
    "2yr%",
    "active",
    "done",
    "skip",
    "source",
    "exchange",
]


def tickers() -> list[str]:
    return [f"T{i:02d}" for i in range(N_STOCKS)]


def sessions() -> pd.DatetimeIndex:
    from smart_money.data import calendar as cal

    return cal.sessions_between(FIRST_DAY, LAST_DAY)


def price_frame(symbol: str, seed: int, days: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """A Yahoo-style frame: Close split-adjusted (as of 'download'), Adj Close also for a small
    dividend yield."""
    days = sessions() if days is None else days
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0003, 0.02 + 0.01 * (seed % 3), len(days))
    close = 50.0 * np.exp(np.cumsum(returns))
    adj = close * np.exp(-0.0001 * np.arange(len(days))[::-1])
    return pd.DataFrame(
        {
            "Date": days.strftime("%Y-%m-%d"),
            "Open": close * 0.995,
            "High": close * 1.01,
            "Low": close * 0.99,
            "Close": close,
            "Adj Close": adj,
            "Volume": rng.integers(100_000, 2_000_000, len(days)),
        }
    )


@lru_cache(maxsize=64)
def close_series(symbol: str) -> pd.Series:
    frame = price_frame(symbol, tickers().index(symbol) if symbol in tickers() else 99)
    return pd.Series(frame["Close"].to_numpy(), index=pd.to_datetime(frame["Date"]))


def close_on(folder: Path, symbol: str, day: str) -> float:
    """The fixture's close for `symbol` on the last session on or before `day`."""
    series = close_series(symbol)
    return float(series[series.index <= pd.Timestamp(day)].iloc[-1])


def _write_xz(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with lzma.open(path, "wt") as handle:
        handle.write(text)


def _tar_xz(path: Path, members: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:xz") as archive:
        for name, payload in members.items():
            data = json.dumps(payload).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def write_prices(root: Path) -> None:
    for i, symbol in enumerate(tickers()):
        frame = price_frame(symbol, i)
        if i % 2:
            _write_xz(root / "prices" / "yahoo" / "data" / f"{symbol}.csv.xz", frame.to_csv(index=False))
        else:
            (root / "prices" / "yahoo" / "data").mkdir(parents=True, exist_ok=True)
            frame.to_csv(root / "prices" / "yahoo" / "data" / f"{symbol}.csv", index=False)
    (root / "prices" / "index").mkdir(parents=True, exist_ok=True)
    price_frame("SPY", 99).to_csv(root / "prices" / "index" / "SPY_fixture.csv", index=False)
    # a delisted name: its series ends in 2020-11, with the dirt of the archived files
    gone = price_frame(DELISTED, 77, sessions()[sessions() <= "2020-11-30"]).to_csv(index=False)
    lines = gone.splitlines()
    lines.insert(5, "2019-01-09,null,null,null,null,null,null")
    lines.insert(9, lines[8].replace(lines[8].split(",")[-1], "1"))  # a repeated date, another volume
    text = "\n".join(lines) + '\n    "finance": {\n        "error": {"code": "Unauthorized"}\n    }\n}\n'
    _write_xz(root / "prices" / "old" / "stocks" / f"{DELISTED}.csv.xz", text)
    # an old-collection name still listed at the collection's end (so GONE's early end shows)
    _write_xz(root / "prices" / "old" / "stocks" / "LAST.csv.xz", price_frame("LAST", 78).to_csv(index=False))
    # not Yahoo-style (no Adj Close): ignored
    (root / "prices" / "other").mkdir(parents=True, exist_ok=True)
    (root / "prices" / "other" / "T05_data.csv").write_text(
        "date,open,high,low,close,volume,Name\n2019-01-02,1,1,1,1,1,T05\n"
    )
    (root / "ticker_changes.csv").write_text(
        f"old,new,date,event\n{RENAMED_OLD},{RENAMED_NEW},2020-06-01,fixture rename\n"
    )


def write_congress(root: Path) -> None:
    senate = pd.DataFrame(
        [
            # purchase on 2020-05-01, disclosed 2020-06-20: public only after the June sample
            [
                "05/01/2020",
                "Self",
                "T02",
                "T02 Inc",
                "Stock",
                "Purchase",
                "$1,001 - $15,000",
                "--",
                "Jane Roe",
                "https://ptr/1",
                "06/20/2020",
            ],
            [
                "05/04/2020",
                "Spouse",
                "T03",
                "T03 Inc",
                "Stock",
                "Sale (Full)",
                "$15,001 - $50,000",
                "--",
                "Jane Roe",
                "https://ptr/1",
                "05/10/2020",
            ],
            [
                "05/04/2020",
                "Spouse",
                "--",
                "A Bond",
                "Corporate Bond",
                "Purchase",
                "$1,001 - $15,000",
                "--",
                "Jane Roe",
                "https://ptr/1",
                "05/10/2020",
            ],
            [
                "13/45/2020",
                "Self",
                "T04",
                "T04 Inc",
                "Stock",
                "Purchase",
                "$1,001 - $15,000",
                "--",
                "Jane Roe",
                "https://ptr/2",
                "05/10/2020",
            ],
            [
                "03/02/2020",
                "Joint",
                "T05",
                "T05 Inc",
                "Stock",
                "Purchase",
                "Over $50,000,000",
                "--",
                "John Doe",
                "https://ptr/3",
                "03/20/2020",
            ],
        ],
        columns=[
            "transaction_date",
            "owner",
            "ticker",
            "asset_description",
            "asset_type",
            "type",
            "amount",
            "comment",
            "senator",
            "ptr_link",
            "disclosure_date",
        ],
    )
    (root / "congress" / "senate").mkdir(parents=True, exist_ok=True)
    senate.to_csv(root / "congress" / "senate" / "senate_all_transactions.csv", index=False)
    # the aggregate export: no disclosure date; one trade also in the CSV, one only here
    aggregate = senate.drop(columns="disclosure_date").iloc[[1]].to_dict("records") + [
        {
            "transaction_date": "07/01/2020",
            "owner": "Self",
            "ticker": "T06",
            "asset_description": "T06 Inc",
            "asset_type": "Stock",
            "type": "Purchase",
            "amount": "$1,001 - $15,000",
            "comment": "--",
            "senator": "John Doe",
            "ptr_link": "https://ptr/4",
        },
    ]
    (root / "congress" / "senate" / "aggregate_transactions.json").write_text(json.dumps(aggregate))
    ann = ["2020", "07/20/2020", "2020-06-01", "self", "T07", "T07 Inc", "purchase", "$1,001 -", "Hon. Ann Smith"]
    ann += ["CA01", "https://h/1", "False"]
    dependent = [*ann[:3], "dependent", *ann[4:]]  # the same trade in another account: a disclosure of its own
    house = pd.DataFrame(
        [
            ann,
            dependent,
            ann,  # a repeated line
            [
                "2021",
                "08/02/2021",
                "0021-08-02",
                "self",
                "T08",
                "T08 Inc",
                "sale_full",
                "$15,001 - $50,000",
                "Hon. Ann Smith",
                "CA01",
                "https://h/2",
                "False",
            ],
            [
                "2020",
                "09/01/2020",
                "2020-08-03",
                "joint",
                "BRK.B",
                "Berkshire",
                "purchase",
                "$1,000,000 +",
                "Hon. Bob Lee",
                "TX02",
                "https://h/3",
                "False",
            ],
        ],
        columns=[
            "disclosure_year",
            "disclosure_date",
            "transaction_date",
            "owner",
            "ticker",
            "asset_description",
            "type",
            "amount",
            "representative",
            "district",
            "ptr_link",
            "cap_gains_over_200_usd",
        ],
    )
    (root / "congress" / "house").mkdir(parents=True, exist_ok=True)
    house.to_csv(root / "congress" / "house" / "house_all_transactions.csv", index=False)
    scrape = [
        # the same trade as the CSV's first row, spelled as another scraper does
        {
            "transaction_date": "06/01/2020",
            "disclosure_date": "07/20/2020",
            "ticker": "T07",
            "asset_description": "T07 Inc",
            "asset_type": "Stock",
            "type": "Purchase",
            "amount": "$1,001 - $15,000",
            "representative": "Ann Smith",
            "district": "CA01",
            "owner": "Self",
            "filing_id": "1",
            "source_url": "https://h/1",
        },
        {
            "transaction_date": "04/14/2021",
            "disclosure_date": "05/17/1935",
            "ticker": "T09",
            "asset_description": "T09",
            "asset_type": "Stock",
            "type": "Sale",
            "amount": "$1,001 - $15,000",
            "representative": "Ann Smith",
            "district": "CA01",
            "owner": "Self",
            "filing_id": "2",
            "source_url": "https://h/4",
        },
    ]
    (root / "congress" / "house" / "house_scrape.json").write_text(json.dumps(scrape))


# An OpenInsider one-insider screen's columns (before the scraper's look-ahead columns)
SCREEN_COLUMNS = [
    "Filing_Date",
    "Trade_Date",
    "Ticker",
    "Company_Name",
    "Insider_Name",
    "Title",
    "Trade_Type",
    "Price",
    "Qty",
    "Owned",
    "ΔOwn",
    "Value",
]


def openinsider_rows(root: Path) -> pd.DataFrame:
    t10 = round(close_on(root, "T10", "2020-06-12") * 1.01, 2)
    t01 = round(close_on(root, RENAMED_NEW, "2020-03-03"), 2)
    t00 = round(close_on(root, SPLIT_TICKER, "2020-05-18") * SPLIT_RATIO, 2)
    rows = [
        # CEO buy of T10 on 2020-06-12 (Fri), filed 2020-06-16: usable from the 16th's next session
        [
            1,
            "False",
            "2020-06-16",
            "2020-06-12",
            "T10",
            "T10 Inc",
            "Doe John",
            "Pres, CEO",
            "P - Purchase",
            f"${t10}",
            "+10,000",
            "110000",
            "10%",
            f"${t10 * 10_000:,.0f}",
        ],
        # a renamed ticker (OLDN is stored as T01)
        [
            2,
            "False",
            "2020-03-05",
            "2020-03-03",
            RENAMED_OLD,
            "Old Name",
            "Smith Ann",
            "CFO",
            "P - Purchase",
            f"{t01}",
            "5000",
            "50000",
            "11%",
            f"{t01 * 5000:.0f}",
        ],
        # bought before the 4:1 split the price file is restated for
        [
            3,
            "False",
            "2020-05-20",
            "2020-05-18",
            SPLIT_TICKER,
            "T00 Inc",
            "Roe Jane",
            "Dir",
            "P - Purchase",
            f"{t00}",
            "1000",
            "9000",
            "12%",
            f"{t00 * 1000:.0f}",
        ],
    ]
    return pd.DataFrame(rows, columns=["idx", "Option", *SCREEN_COLUMNS])


def write_openinsider(root: Path, future_value: float = 0.0) -> None:
    folder = root / "insider" / "openinsider_fixture"
    folder.mkdir(parents=True, exist_ok=True)
    screen = openinsider_rows(root)
    for column in FUTURE_COLUMNS:
        screen[column] = future_value
    screen.to_csv(folder / "CEO_BUYS.csv", index=False)
    screen.iloc[[0]].to_csv(folder / "CEOBUYS_2020.csv", index=False)  # overlapping screens
    t10 = screen.loc[0, "Price"].lstrip("$")
    cluster = pd.DataFrame(
        [
            [
                1,
                "True",
                "2020-06-16",
                "2020-06-12",
                "T10",
                "T10 Inc",
                "Software",
                3.0,
                "P - Purchase",
                t10,
                "40000",
                "1e6",
                "5%",
                f"{float(t10) * 40_000:.0f}",
            ]
        ],
        columns=[
            "idx",
            "Option",
            "Filing_Date",
            "Trade_Date",
            "Ticker",
            "Company_Name",
            "Industry",
            "Insider_Amount",
            "Trade_Type",
            "Price",
            "Qty",
            "Owned",
            "ΔOwn",
            "Value",
        ],
    )
    for column in FUTURE_COLUMNS:
        cluster[column] = future_value
    cluster.to_csv(folder / "Group_cluster.csv", index=False)


def form4_transaction(i: int, **fields) -> dict:
    base = {
        "id": i,
        "issuer_name": "T11 INC",
        "reporting_owner": "Lee Kim",
        "reporting_owner_cik": "0000000011",
        "reporting_owner_position": "Sr. Vice President",
        "transaction_date": "2020-07-02",
        "transaction_shares": "500",
        "transaction_price": "30.5",
        "transaction_type": "S",
        "shares_after_transaction": "1500",
    }
    return {**base, **fields}


def write_form4(root: Path) -> None:
    sale = form4_transaction(1, transaction_price=f"{close_on(root, 'T11', '2020-07-02'):.2f}")
    members = {
        "data/json/T11/quarterly/2020-Q3.json": {
            "ticker": "T11",
            "year": 2020,
            "quarter": 3,
            "transactions": [
                sale,
                {**sale, "id": 2},  # the same line under two ids
                form4_transaction(3, transaction_type="G", transaction_price=None, transaction_shares="100"),
                form4_transaction(
                    4,
                    transaction_type="A",
                    transaction_price="0.0",
                    transaction_date="2020-07-10",
                    transaction_shares="250",
                ),
            ],
        },
        "data/json/T11/quarterly/2020.0-Q4.0.json": {
            "ticker": "T11",
            "year": 2020,
            "quarter": 4,
            "transactions": [{**sale, "id": 5}],
        },
        "data/json/T12/quarterly/2017-Q1.json": {
            "ticker": "T12",
            "year": 2017,
            "quarter": 1,
            "transactions": [form4_transaction(6, transaction_date="2017-02-01")],
        },
    }
    _tar_xz(root / "insider" / "form4_fixture" / "data_json_quarterly.tar.xz", members)


def position(name: str, cusip: str, shares: float, value: float, kind: str | None = None) -> dict:
    return {"name": name, "cusip": cusip, "shares": shares, "value": value, "putCall": kind}


def write_13f(root: Path) -> None:
    c13 = close_on(root, "T13", "2019-12-31")
    c13_march, c14 = close_on(root, "T13", "2020-03-31"), close_on(root, "T14", "2020-03-31")
    members = {
        # filed 2020-02-14 for 2019-12-31, values in thousands of USD; two sub-account rows of T13
        "src/data/holdings/alpha/2020-Q1.json": {
            "form": "13F-HR",
            "date": "2020-02-14",
            "accession": "A-1",
            "positions": [
                position("T13", "111111111", 1000, round(1000 * c13 / 1000, 3)),
                position("T13", "111111111", 500, round(500 * c13 / 1000, 3)),
                position("T13 CALL", "111111111", 100, 5, "Call"),
                position("UNMAPPED", "999999999", 10, 1),
            ],
        },
        # filed 2020-05-15 for 2020-03-31, already in USD (the switch was not clean per year)
        "src/data/holdings/alpha/2020-Q2.json": {
            "form": "13F-HR",
            "date": "2020-05-15",
            "positions": [
                position("T13", "111111111", 2000, 2000 * c13_march),
                position("T14", "222222222", 300, 300 * c14),
            ],
        },
        "src/data/holdings/beta/2020-Q2.json": {
            "form": "NPORT-P",
            "groupingDate": "2020-03-31",
            "positions": [position("T14", "222222222", 5, 5)],
        },
    }
    _tar_xz(root / "13f" / "fixture" / "src_data_holdings.tar.xz", members)
    (root / "13f" / "fixture" / "cusip_map.csv").write_text("cusip,ticker\n111111111,T13\n")
    (root / "13f" / "fixture" / "stocks_us.csv").write_text(
        "ticker,cusip,name,sector,metrics\nT14,222222222,T14 Corp,Technology,[]\nT13,111111111,Wrong Map,Energy,[]\n"
    )


def write_etf(root: Path) -> None:
    rows = []
    for day in ["2021-03-11", "2021-03-12", "2021-03-15", "2021-03-16"]:
        rows += [
            [day, "ARKK", "T15 INC", "T15 UW", 1000.0, 1000.0 * close_on(root, "T15", day), 1.5],
            [day, "ARKK", "FOREIGN CO", "ZZZ LN", 10.0, 100.0, 0.1],
            [day, "ARKK", "MONEY MARKET", "", 1e6, 1e6, 5.0],
        ]
    folder = root / "etf" / "ark_fixture"
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["date", "fund", "company", "ticker", "shares", "market value($)", "weight(%)"]).to_csv(
        folder / "fund-holdings_master.csv", index=False
    )


def write_normalized(root: Path) -> None:
    folder = root / "normalized"
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        [
            {
                "symbol": "T16",
                "event_date": "2020-04-01",
                "known_at": "2020-04-20",
                "record_id": "vendor-1",
                "member_id": "house:vendor",
                "member_name": "Vendor Member",
                "chamber": "house",
                "transaction_type": "purchase",
                "amount_low": 1001,
                "amount_high": 15000,
                "owner": "self",
            }
        ]
    ).to_csv(folder / "congress_trades.csv", index=False)


def write_records(root: Path, future_value: float = 0.0) -> Path:
    """The whole fixture folder under `root`; `future_value` fills the look-ahead columns."""
    write_prices(root)
    write_congress(root)
    write_openinsider(root, future_value)
    write_form4(root)
    write_13f(root)
    write_etf(root)
    write_normalized(root)
    return root


def add_activity(root: Path, seed: int = 11, symbols: int = 24) -> Path:
    """Seeded background activity in every format (trades, filings, holdings over 2018-2021 for
    the first `symbols` tickers), so that every family varies enough to train on; the
    hand-placed records above stay as they are."""
    rng = np.random.default_rng(seed)
    names = tickers()[:symbols]
    days = sessions()[sessions() <= "2021-05-31"]

    def closes(symbol: str, when: pd.DatetimeIndex | list) -> np.ndarray:
        return close_series(symbol).reindex(pd.DatetimeIndex(when), method="ffill").to_numpy()

    trade_days = days[rng.integers(0, len(days), 400)]
    lags = rng.integers(5, 60, len(trade_days))
    senate = pd.DataFrame(
        {
            "transaction_date": trade_days.strftime("%m/%d/%Y"),
            "owner": rng.choice(["Self", "Spouse", "Joint"], len(trade_days)),
            "ticker": rng.choice(names, len(trade_days)),
            "asset_description": "stock",
            "asset_type": "Stock",
            "type": rng.choice(["Purchase", "Sale (Full)", "Sale (Partial)"], len(trade_days)),
            "amount": rng.choice(["$1,001 - $15,000", "$15,001 - $50,000", "$50,001 - $100,000"], len(trade_days)),
            "comment": "--",
            "senator": rng.choice(["Member One", "Member Two", "Member Three", "Member Four"], len(trade_days)),
            "ptr_link": [f"https://ptr/a{i}" for i in range(len(trade_days))],
            "disclosure_date": (trade_days + pd.to_timedelta(lags, unit="D")).strftime("%m/%d/%Y"),
        }
    )
    senate.to_csv(root / "congress" / "senate" / "activity_all_transactions.csv", index=False)

    buys = days[rng.integers(0, len(days), 200)]
    buyers = rng.choice(names, len(buys))
    price = np.array([closes(s, [d])[0] for s, d in zip(buyers, buys)]) * rng.uniform(0.98, 1.02, len(buys))
    qty = rng.integers(1_000, 50_000, len(buys))
    screen = pd.DataFrame(
        {
            "idx": range(len(buys)),
            "Option": "False",
            "Filing_Date": (buys + pd.to_timedelta(rng.integers(1, 4, len(buys)), unit="D")).strftime("%Y-%m-%d"),
            "Trade_Date": buys.strftime("%Y-%m-%d"),
            "Ticker": buyers,
            "Company_Name": "co",
            "Insider_Name": rng.choice(["Ann A", "Bob B", "Cy C", "Di D", "Ed E"], len(buys)),
            "Title": rng.choice(["CEO", "CFO", "Dir", "10%", "COO"], len(buys)),
            "Trade_Type": "P - Purchase",
            "Price": np.round(price, 2),
            "Qty": qty,
            "Owned": qty * 10,
            "ΔOwn": "10%",
            "Value": np.round(price * qty),
        }
    )
    for column in FUTURE_COLUMNS:
        screen[column] = 0.0
    screen.to_csv(root / "insider" / "openinsider_fixture" / "activity_screen.csv", index=False)

    sells = days[rng.integers(0, len(days), 200)]
    sellers = rng.choice(names, len(sells))
    members: dict[str, dict] = {}
    for i, (symbol, day) in enumerate(zip(sellers, sells)):
        key = f"data/json/{symbol}/quarterly/{day.year}-Q{(day.month - 1) // 3 + 1}.json"
        entry = members.setdefault(key, {"ticker": symbol, "transactions": []})
        entry["transactions"].append(
            form4_transaction(
                1000 + i,
                transaction_date=f"{day:%Y-%m-%d}",
                transaction_price=f"{closes(symbol, [day])[0]:.2f}",
                transaction_shares=str(int(rng.integers(100, 20_000))),
                reporting_owner_cik=f"{int(rng.integers(1, 6)):010d}",
            )
        )
    _tar_xz(root / "insider" / "form4_fixture" / "activity.tar.xz", members)

    cusips = {symbol: f"5{tickers().index(symbol):02d}000000" for symbol in names}
    with (root / "13f" / "fixture" / "cusip_map.csv").open("a") as handle:
        handle.writelines(f"{cusip},{symbol}\n" for symbol, cusip in cusips.items())
    filings: dict[str, dict] = {}
    for manager in [f"manager{i:02d}" for i in range(16)]:  # > 10 holders: top-10 concentration varies
        holdings = {s: int(rng.integers(10_000, 500_000)) for s in rng.choice(names, 21, replace=False)}
        for quarter in pd.period_range("2018Q4", "2021Q1", freq="Q"):
            filed = quarter.end_time.normalize() + pd.Timedelta(days=int(rng.integers(30, 45)))
            held = {s: max(0, int(n * rng.uniform(0.6, 1.5))) for s, n in holdings.items() if rng.random() > 0.1}
            if rng.random() < 0.5:
                held[str(rng.choice(names))] = int(rng.integers(10_000, 100_000))
            holdings = {s: n for s, n in held.items() if n > 0}
            end = quarter.end_time.normalize()
            filings[f"src/data/holdings/{manager}/{filed.year}-Q{filed.quarter}.json"] = {
                "form": "13F-HR",
                "date": f"{filed:%Y-%m-%d}",
                "positions": [position(s, cusips[s], n, n * float(closes(s, [end])[0])) for s, n in holdings.items()],
            }
    _tar_xz(root / "13f" / "fixture" / "activity_holdings.tar.xz", filings)

    fridays = days[days.dayofweek == 4][::2]
    rows = []
    for fund in ("ARKK", "ARKW"):
        held = {s: float(rng.integers(1_000, 100_000)) for s in rng.choice(names, 8, replace=False)}
        for day in fridays:
            for symbol, shares in held.items():
                rows.append(
                    [
                        f"{day:%Y-%m-%d}",
                        fund,
                        "co",
                        f"{symbol} UW",
                        shares,
                        shares * float(closes(symbol, [day])[0]),
                        1.0,
                    ]
                )
            held = {s: n * rng.uniform(0.9, 1.1) for s, n in held.items()}
    pd.DataFrame(rows, columns=["date", "fund", "company", "ticker", "shares", "market value($)", "weight(%)"]).to_csv(
        root / "etf" / "ark_fixture" / "fund-holdings_activity.csv", index=False
    )
    return root


# Malformed files, one per way a real file breaks (test_malformed_files.py and the pipeline run)
BROKEN_SENATE = "congress/senate/broken_quote_transactions.csv"
RAGGED_SCREEN = "insider/openinsider_fixture/ragged_screen.csv"
BAD_BYTE_PRICES = "prices/yahoo/data/BADFF.csv"
TRUNCATED_PRICES = "prices/yahoo/data/TRUNC.csv.xz"
MALFORMED = (BROKEN_SENATE, RAGGED_SCREEN, BAD_BYTE_PRICES, TRUNCATED_PRICES)


def write_malformed(root: Path) -> Path:
    """Beside a records folder's good files: a Senate export with an unterminated quote, an
    OpenInsider screen with a ragged row, a price file with a 0xFF byte and an .xz price file cut
    short. Their rows are all new (tickers no good file has), so a run that sets them aside is
    the run of the good files alone."""
    header = (
        "transaction_date,owner,ticker,asset_description,asset_type,type,amount,comment,senator,ptr_link,"
        "disclosure_date\n"
    )
    good = '05/01/2020,Self,T20,T20 Inc,Stock,Purchase,"$1,001 - $15,000",--,Jane Roe,https://ptr/9,06/20/2020\n'
    broken = '05/02/2020,Self,T21,"T21 Inc,Stock,Purchase,$1001 - $15000,--,Jane Roe,https://ptr/9,06/21/2020\n'
    (root / BROKEN_SENATE).write_text(header + good + good.replace("T20", "T22") + broken)  # the quote never closes
    screen = openinsider_rows(root).head(2)
    lines = screen.to_csv(index=False).splitlines()
    lines.append(lines[-1] + ",extra,fields")  # a row longer than the header
    (root / RAGGED_SCREEN).write_text("\n".join(lines) + "\n")
    text = price_frame("BADFF", 41).to_csv(index=False).encode()
    middle = len(text) // 2
    (root / BAD_BYTE_PRICES).write_bytes(text[:middle] + b"\xff" + text[middle:])
    packed = lzma.compress(price_frame("TRUNC", 42).to_csv(index=False).encode())
    (root / TRUNCATED_PRICES).write_bytes(packed[: len(packed) // 2])
    return root
