"""Disclosure events from the raw tables (definitions: research/families.py).

`build_events(tables, hedge_funds)` turns the normalized raw tables into one row per event:
family, symbol, known_at (public time), event_date, size_usd where known, actor ids and the
fields a family needs. Everything is vectorised per table; only the cluster cool-down walks the
(few) candidate clusters of a symbol in order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import pandera.pandas as pa

from smart_money.data.schemas import SYMBOL_PATTERN
from smart_money.research.families import (
    CLUSTER_COOLDOWN_DAYS,
    CLUSTER_WINDOW_DAYS,
    ETF_MAX_SNAPSHOT_GAP_DAYS,
    FAMILY_NAMES,
)

CONGRESS_SALES = ("sale", "sale_partial", "sale_full")
EVENT_COLUMNS = (
    "event_id", "family", "symbol", "known_at", "event_date", "size_usd", "size_usd_high", "actor_ids",
    "n_actors", "role", "detail", "source_table",
)  # fmt: skip


class DisclosureEventsSchema(pa.DataFrameModel):
    """One row per disclosure event (research/families.py defines each family)."""

    event_id: str = pa.Field(unique=True, description="Hash of family, symbol, public time and actors")
    family: str = pa.Field(isin=FAMILY_NAMES)
    symbol: str = pa.Field(str_matches=SYMBOL_PATTERN)
    known_at: pd.Timestamp = pa.Field(description="Public time (New York); the event's time")
    event_date: pd.Timestamp = pa.Field(description="Trade date, quarter end or holdings date")
    size_usd: float = pa.Field(nullable=True, ge=0)
    size_usd_high: float = pa.Field(nullable=True, ge=0)
    actor_ids: str = pa.Field(description="Insider CIKs, member id, filer CIK or ETF symbol ('|'-joined)")
    n_actors: int = pa.Field(ge=1)
    role: str = pa.Field(nullable=True)
    detail: str = pa.Field(nullable=True)
    source_table: str

    class Config:
        coerce = True

    @pa.dataframe_check(error="event_date is after the public time")
    def public_after_event(cls, df: pd.DataFrame) -> pd.Series:
        return df["event_date"].dt.normalize() <= df["known_at"].dt.normalize()


def empty_events() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in EVENT_COLUMNS})
    for column in ("known_at", "event_date"):
        frame[column] = pd.Series(dtype="datetime64[ns]")
    for column in ("size_usd", "size_usd_high"):
        frame[column] = pd.Series(dtype=float)
    frame["n_actors"] = pd.Series(dtype="int64")
    return frame


def _finish(frame: pd.DataFrame, family: str, table: str) -> pd.DataFrame:
    out = frame.copy()
    out["family"] = family
    out["source_table"] = table
    for column in EVENT_COLUMNS:
        if column not in out:
            out[column] = np.nan if column in ("size_usd", "size_usd_high") else None
    out["n_actors"] = pd.to_numeric(out["n_actors"], errors="coerce").fillna(1).astype("int64")
    return out[list(EVENT_COLUMNS)]


def _sum_or_nan(values: pd.Series) -> float:
    """The reference of `_sums_or_nan` for one group."""
    return float(values.sum()) if values.notna().all() else float("nan")


def _sums_or_nan(frame: pd.DataFrame, keys: list[str], column: str) -> np.ndarray:
    """`_sum_or_nan` of `column` per group of `frame.groupby(keys, sort=True)`, in the groups'
    order, bit for bit, without a Python call per group (but for groups of `_SEQUENTIAL_SUM` rows
    or more). Each group's values in their row order, summed the way numpy's `sum` does below
    8 values (its pairwise sum adds them one after the other from 0); NaN when any is missing
    (NaN propagates)."""
    codes = frame.groupby(keys, sort=True).ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    order = order[codes[order] >= 0]  # rows with a missing key belong to no group
    values = frame[column].to_numpy(dtype=float)[order]
    if not len(values):
        return np.zeros(0)
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sizes = np.diff(np.r_[starts, len(values)])
    sums = np.zeros(len(starts))
    for k in range(_SEQUENTIAL_SUM):
        more = sizes > k
        sums[more] += values[starts[more] + k]
    for i in np.flatnonzero(sizes >= _SEQUENTIAL_SUM):  # numpy sums these pairwise: let it
        sums[i] = values[starts[i] : starts[i] + sizes[i]].sum()
    return sums


_SEQUENTIAL_SUM = 8  # numpy.sum adds fewer values than this one after the other


# -- insiders ---------------------------------------------------------------------------------------
def insider_filings(insider_trades: pd.DataFrame) -> pd.DataFrame:
    """Open-market filings (code P or S), one row per (symbol, insider, public time, code), from
    original lines only (a 4/A restates a filing already public)."""
    lines = insider_trades.drop_duplicates("record_id")
    lines = lines[lines["amends_record_id"].isna() & lines["transaction_code"].isin(["P", "S"])].copy()
    if lines.empty:
        return pd.DataFrame(
            columns=["symbol", "reporting_cik", "known_at", "transaction_code", "event_date", "size_usd", "role"]
        )
    lines["value"] = lines["shares"] * lines["price"].where(lines["price"] > 0)
    keys = ["symbol", "reporting_cik", "known_at", "transaction_code"]
    grouped = lines.groupby(keys, sort=True).agg(event_date=("event_date", "min"), role=("role", "first"))
    grouped.insert(1, "size_usd", _sums_or_nan(lines, keys, "value"))
    return grouped.reset_index()


def _insider_events(filings: pd.DataFrame, code: str, family: str) -> pd.DataFrame:
    rows = filings[filings["transaction_code"] == code]
    out = rows[["symbol", "known_at", "event_date", "size_usd", "role"]].copy()
    out["actor_ids"] = rows["reporting_cik"].astype(str)
    return _finish(out, family, "insider_trades")


def cluster_buys(purchases: pd.DataFrame) -> pd.DataFrame:
    """insider_cluster_buy events from purchase filings (symbol, reporting_cik, known_at,
    event_date, size_usd): a pair of filings by two insiders with trade dates within the window
    completes a cluster when the later of the two becomes public."""
    window = pd.Timedelta(days=CLUSTER_WINDOW_DAYS)
    p = purchases.reset_index(drop=True)[["symbol", "reporting_cik", "known_at", "event_date", "size_usd"]]
    pairs = p.merge(p, on="symbol", suffixes=("", "_o"))
    pairs = pairs[
        (pairs["reporting_cik"] != pairs["reporting_cik_o"])
        & ((pairs["event_date"] - pairs["event_date_o"]).abs() <= window)
        & (pairs["known_at_o"] <= pairs["known_at"])  # the other filing was public when this one came
    ]
    if pairs.empty:
        return _finish(pd.DataFrame(columns=["symbol", "known_at"]), "insider_cluster_buy", "insider_trades")
    candidates = pairs[["symbol", "known_at", "event_date"]].drop_duplicates(["symbol", "known_at"])
    candidates = candidates.sort_values(["symbol", "known_at", "event_date"], kind="stable")
    keep = np.zeros(len(candidates), dtype=bool)
    cooldown = pd.Timedelta(days=CLUSTER_COOLDOWN_DAYS).to_timedelta64()
    symbols, stamps = candidates["symbol"].to_numpy(), candidates["known_at"].to_numpy()
    last_symbol, last_kept = None, None
    for i in range(len(candidates)):  # the candidate clusters of each symbol, in public order
        if symbols[i] != last_symbol or stamps[i] - last_kept > cooldown:
            keep[i] = True
            last_symbol, last_kept = symbols[i], stamps[i]
    clusters = candidates[keep].reset_index(drop=True)
    members = clusters.merge(p, on="symbol", suffixes=("", "_m"))
    members = members[
        (members["known_at_m"] <= members["known_at"])
        & ((members["event_date_m"] - members["event_date"]).abs() <= window)
    ]
    agg = members.groupby(["symbol", "known_at"]).agg(
        actors=("reporting_cik", lambda s: "|".join(sorted(set(s.astype(str))))),
        n_actors=("reporting_cik", "nunique"),
        first_trade=("event_date_m", "min"),
    )
    agg.insert(2, "size_usd", _sums_or_nan(members, ["symbol", "known_at"], "size_usd"))
    out = clusters.merge(agg.reset_index(), on=["symbol", "known_at"])
    out = out.rename(columns={"actors": "actor_ids"})
    out["detail"] = "completing trade " + out["event_date"].dt.strftime("%Y-%m-%d")
    out["event_date"] = out["first_trade"]
    return _finish(out, "insider_cluster_buy", "insider_trades")


def insider_events(insider_trades: pd.DataFrame) -> list[pd.DataFrame]:
    filings = insider_filings(insider_trades)
    purchases = filings[filings["transaction_code"] == "P"]
    return [
        _insider_events(filings, "P", "insider_purchase"),
        _insider_events(filings, "S", "insider_sale"),
        cluster_buys(purchases),
        _insider_events(purchases[purchases["role"] == "CEO"], "P", "insider_ceo_buy"),
        _insider_events(purchases[purchases["role"] == "CFO"], "P", "insider_cfo_buy"),
    ]


# -- Congress -------------------------------------------------------------------------------------
def congress_events(congress_trades: pd.DataFrame) -> list[pd.DataFrame]:
    rows = congress_trades.drop_duplicates("record_id")
    out = []
    for family, types in (("congress_purchase", ("purchase",)), ("congress_sale", CONGRESS_SALES)):
        part = rows[rows["transaction_type"].isin(types)]
        keys = ["symbol", "member_id", "known_at"]
        grouped = part.groupby(keys, sort=True).agg(
            event_date=("event_date", "min"),
            size_usd=("amount_low", "sum"),
            detail=("chamber", "first"),
        )
        grouped.insert(2, "size_usd_high", _sums_or_nan(part, keys, "amount_high"))
        frame = grouped.reset_index().rename(columns={"member_id": "actor_ids"})
        out.append(_finish(frame, family, "congress_trades"))
    return out


# -- 13F ------------------------------------------------------------------------------------------
def _previous_quarter_end(period: pd.Series) -> pd.Series:
    return (period.dt.to_period("Q") - 1).dt.end_time.dt.normalize()


def thirteen_f_changes(holdings: pd.DataFrame) -> pd.DataFrame:
    """Per (filer, symbol, first public filing of a quarter): `change` new or exit against the
    filer's filing for the quarter before as known at that moment, with known_at, the quarter
    end (event_date) and the position's value."""
    h = holdings.drop_duplicates("record_id")
    columns = ["filer_cik", "symbol", "known_at", "event_date", "value_usd", "change"]
    if h.empty:
        return pd.DataFrame(columns=columns)
    filings = h.groupby(["filer_cik", "event_date", "accession"], sort=False)["known_at"].min().reset_index()
    filings = filings.sort_values(["known_at", "accession"], kind="stable")
    first = filings.drop_duplicates(["filer_cik", "event_date"], keep="first")
    first = first.assign(previous_period=_previous_quarter_end(first["event_date"]))
    candidates = first.merge(
        filings.rename(
            columns={
                "event_date": "previous_period",
                "accession": "previous_accession",
                "known_at": "previous_known_at",
            }
        ),
        on=["filer_cik", "previous_period"],
    )
    candidates = candidates[candidates["previous_known_at"] <= candidates["known_at"]]
    pairs = candidates.sort_values("previous_known_at", kind="stable").drop_duplicates("accession", keep="last")
    positions = h[h["shares"] > 0].groupby(["accession", "symbol"], sort=False)["value_usd"].sum().reset_index()
    now = pairs[["filer_cik", "accession", "previous_accession", "known_at", "event_date"]].merge(
        positions, on="accession"
    )
    before = pairs[["filer_cik", "accession", "previous_accession", "known_at", "event_date"]].merge(
        positions.rename(columns={"accession": "previous_accession"}), on="previous_accession"
    )
    both = now.merge(before, on=["accession", "symbol"], how="outer", suffixes=("", "_before"), indicator=True)
    for column in ("filer_cik", "known_at", "event_date"):
        both[column] = both[column].fillna(both[f"{column}_before"])
    new = both[both["_merge"] == "left_only"].assign(change="new")
    exit_ = both[both["_merge"] == "right_only"].assign(change="exit", value_usd=lambda f: f["value_usd_before"])
    return pd.concat([new, exit_], ignore_index=True)[columns]


def thirteen_f_events(holdings: pd.DataFrame, hedge_funds: Iterable[str]) -> list[pd.DataFrame]:
    changes = thirteen_f_changes(holdings).rename(columns={"filer_cik": "actor_ids", "value_usd": "size_usd"})
    funds = set(hedge_funds)
    out = []
    for family, change, only_funds in (
        ("inst_new_position", "new", False),
        ("inst_exit", "exit", False),
        ("inst_hf_new_position", "new", True),
        ("inst_hf_exit", "exit", True),
    ):
        part = changes[(changes["change"] == change) & (changes["actor_ids"].isin(funds) if only_funds else True)]
        out.append(_finish(part, family, "institutional_holdings"))
    return out


# -- ETFs -----------------------------------------------------------------------------------------
def etf_events(etf_holdings: pd.DataFrame) -> list[pd.DataFrame]:
    e = etf_holdings.drop_duplicates(["etf_symbol", "symbol", "event_date"])
    e = e[e["shares"] > 0]
    if e.empty:
        return [_finish(pd.DataFrame(columns=["symbol"]), f, "etf_holdings") for f in ("etf_add", "etf_remove")]
    snaps = (
        e.groupby(["etf_symbol", "event_date"])["known_at"]
        .max()
        .reset_index()
        .sort_values(["etf_symbol", "event_date"])
    )
    snaps["previous_date"] = snaps.groupby("etf_symbol")["event_date"].shift(1)
    snaps["previous_known_at"] = snaps.groupby("etf_symbol")["known_at"].shift(1)
    snaps = snaps[
        snaps["previous_date"].notna()
        & (snaps["event_date"] - snaps["previous_date"] <= pd.Timedelta(days=ETF_MAX_SNAPSHOT_GAP_DAYS))
        & (snaps["previous_known_at"] <= snaps["known_at"])
    ]
    held = e[["etf_symbol", "event_date", "symbol", "market_value"]]
    now = snaps.merge(held, on=["etf_symbol", "event_date"])
    before = snaps.merge(held.rename(columns={"event_date": "previous_date"}), on=["etf_symbol", "previous_date"])
    keys = ["etf_symbol", "event_date", "symbol"]
    both = now.merge(before[[*keys, "market_value"]], on=keys, how="outer", suffixes=("", "_before"), indicator=True)
    both = both.merge(
        snaps[["etf_symbol", "event_date", "known_at"]], on=["etf_symbol", "event_date"], suffixes=("_x", "")
    )
    out = []
    for family, side, value in (
        ("etf_add", "left_only", "market_value"),
        ("etf_remove", "right_only", "market_value_before"),
    ):
        part = both[both["_merge"] == side]
        frame = pd.DataFrame(
            {
                "symbol": part["symbol"],
                "known_at": part["known_at"],
                "event_date": part["event_date"],
                "size_usd": part[value],
                "actor_ids": part["etf_symbol"],
            }
        )
        out.append(_finish(frame, family, "etf_holdings"))
    return out


# -- all families -----------------------------------------------------------------------------------
def event_ids(frame: pd.DataFrame) -> pd.Series:
    """A stable id per event: the hash of (family, symbol, public time, actors)."""
    keys = (
        frame["family"].astype(str)
        + "|"
        + frame["symbol"].astype(str)
        + "|"
        + frame["known_at"].astype(str)
        + "|"
        + frame["actor_ids"].astype(str)
    )
    return keys.map(lambda k: hashlib.sha1(k.encode()).hexdigest()[:16])


def build_events(
    tables: Mapping[str, pd.DataFrame],
    hedge_funds: Iterable[str] = (),
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Every family's events from the raw tables (insider_trades, congress_trades,
    institutional_holdings, etf_holdings; a missing or empty table gives no events), keeping
    those whose public time lies in [start, end) when given. Rows before `start` still serve as
    history (a cluster's first filing, a 13F's quarter before, an ETF's previous snapshot)."""
    parts: list[pd.DataFrame] = []
    if len(tables.get("insider_trades", ())):
        parts += insider_events(tables["insider_trades"])
    if len(tables.get("congress_trades", ())):
        parts += congress_events(tables["congress_trades"])
    if len(tables.get("institutional_holdings", ())):
        parts += thirteen_f_events(tables["institutional_holdings"], hedge_funds)
    if len(tables.get("etf_holdings", ())):
        parts += etf_events(tables["etf_holdings"])
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_events()
    events = pd.concat(parts, ignore_index=True)
    events["known_at"] = pd.to_datetime(events["known_at"])
    events["event_date"] = pd.to_datetime(events["event_date"])
    if start is not None:
        events = events[events["known_at"] >= pd.Timestamp(start)]
    if end is not None:
        events = events[events["known_at"] < pd.Timestamp(end)]
    events = events.assign(event_id=event_ids(events) if len(events) else pd.Series(dtype=object))
    order = pd.Categorical(events["family"], categories=FAMILY_NAMES, ordered=True)
    events = events.assign(_order=order).sort_values(["known_at", "_order", "symbol", "actor_ids"], kind="stable")
    return events.drop(columns="_order").reset_index(drop=True)[list(EVENT_COLUMNS)]
