"""Point-in-time features, vectorised per sample date (definitions in dataset/catalogue.py).

For each sample date t only rows with `known_at` <= t 16:00 (the cutoff) are used, and each
family records the newest input it used in an `asof_<family>` column so the training dataset
can prove temporal integrity. Missing sources give NaN plus an indicator; "no filings in the
window" is a real zero.

Speed (issue 18): `prepare` works once per run (integer codes for the keys the blocks match and
group on, only the columns they read); each date then selects its known rows with numpy masks
over those arrays and groups by the codes. The outputs are those of the plain pandas version
bit for bit (smart_money_tests/support/reference_selection.py keeps it, the tests compare).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from smart_money.data import calendar as cal
from smart_money.data.raw_pull import combine_partitions
from smart_money.data.schemas import C_SUITE_ROLES, EVENT_TABLES
from smart_money.data.source import DataSource
from smart_money.dataset.catalogue import CATALOGUE, FEATURES, PROVENANCE_COLUMNS

SESSIONS_PER_YEAR = 252.0
CONGRESS_SALES = ("sale", "sale_partial", "sale_full")
OPEN_MARKET_CODES = ("P", "S")
ROUTINE_YEARS = 3  # Cohen, Malloy & Pomorski (2012): the three calendar years before a trade's


# how many monthly raw partitions before a sample's month the `features` asset reads, per table
# (its look-back; the first partition of a run also holds the history before it)
EVENT_LOOKBACK_MONTHS = 12  # insider 90d, 13F two quarters, universe rule 365d
INSIDER_LOOKBACK_MONTHS = 48  # the routine/opportunistic split: 3 calendar years before the 90d window
PRICE_LOOKBACK_MONTHS = 13  # 12-1 momentum, 250-session beta
FEATURE_LOOKBACK_MONTHS = {
    "insider_trades": INSIDER_LOOKBACK_MONTHS,
    "institutional_holdings": EVENT_LOOKBACK_MONTHS,
    "congress_trades": EVENT_LOOKBACK_MONTHS,
    "etf_holdings": EVENT_LOOKBACK_MONTHS,
    "prices": PRICE_LOOKBACK_MONTHS,
}


@dataclass(frozen=True)
class UniverseRules:
    """Point-in-time eligibility (the plan's rules); None disables a rule."""

    min_inst_ownership_pct: float | None = 5.0
    require_insider_activity: bool = True  # at least one Form 4 filing known in the past 365 days


@dataclass
class FeatureInputs:
    universe: pd.DataFrame
    insider_trades: pd.DataFrame
    institutional_holdings: pd.DataFrame
    congress_trades: pd.DataFrame
    etf_holdings: pd.DataFrame
    prices: pd.DataFrame
    hedge_funds: frozenset[str] = field(default_factory=frozenset)
    market_index: str = "SPY"


def build_feature_inputs(
    universe: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    source: DataSource,
    hedge_funds: Sequence[str] | None = None,
) -> FeatureInputs:
    """The one way to assemble FeatureInputs: every raw table (EVENT_TABLES and prices) with the
    overlaps of its partitions removed, the configured hedge funds (else the source's default
    list) and the source's market index."""
    combined = {table: combine_partitions(tables[table], table) for table in (*EVENT_TABLES, "prices")}
    return FeatureInputs(
        universe=universe,
        hedge_funds=frozenset(hedge_funds if hedge_funds is not None else source.default_hedge_funds()),
        market_index=source.market_index(),
        **combined,
    )


class PriceMatrix:
    """Wide (session x symbol) arrays of the price table for fast point-in-time lookups."""

    def __init__(self, prices: pd.DataFrame):
        # the pivot (sorted sessions x sorted symbols, NaN where a pair has no row) of the last
        # row of each (symbol, date), filled directly
        rows, dates = pd.factorize(prices["date"], sort=True)
        columns, symbols = pd.factorize(prices["symbol"], sort=True)
        pair = rows.astype("int64") * len(symbols) + columns
        last = len(pair) - 1 - np.unique(pair[::-1], return_index=True)[1]  # each pair's last row
        rows, columns = rows[last], columns[last]
        self.dates = pd.DatetimeIndex(dates, name="date")
        self.symbols = pd.Index(symbols, name="symbol")
        self.column = {s: i for i, s in enumerate(self.symbols)}

        def matrix(name: str) -> np.ndarray:
            # column-major like the pivot's arrays: the window statistics' summation order depends on it
            wide = np.full((len(self.dates), len(self.symbols)), np.nan, order="F")
            wide[rows, columns] = prices[name].to_numpy(dtype=float)[last]
            return wide

        self.adj = matrix("adj_close")
        self.close = matrix("close")
        self.volume = matrix("volume")
        self.shares = matrix("shares_outstanding")
        self.log_returns = np.vstack([np.full((1, len(self.symbols)), np.nan), np.diff(np.log(self.adj), axis=0)])

    def row_on_or_before(self, day: pd.Timestamp) -> int:
        return int(self.dates.searchsorted(pd.Timestamp(day), side="right")) - 1

    def lookup(self, matrix: np.ndarray, dates: pd.Series, symbols: pd.Series, on_or_before: bool = True) -> np.ndarray:
        """matrix value at (last session <= date, symbol) for each pair; NaN when unknown."""
        rows = self.dates.searchsorted(pd.DatetimeIndex(dates), side="right") - 1
        found = self.symbols.get_indexer(pd.Index(symbols))
        cols = np.where(found >= 0, found, np.nan)  # NaN: a symbol without prices
        ok = (rows >= 0) & ~np.isnan(cols)
        out = np.full(len(rows), np.nan)
        out[ok] = matrix[rows[ok], cols[ok].astype(int)]
        return out


def members_at(universe: pd.DataFrame, sample: pd.Timestamp) -> pd.Index:
    stocks = universe[universe["asset_type"] == "stock"]
    ok = (stocks["member_from"] <= sample) & (stocks["member_to"].isna() | (stocks["member_to"] >= sample))
    return pd.Index(stocks.loc[ok, "symbol"].drop_duplicates(), name="symbol")


# -- insiders ------------------------------------------------------------------------------------
def prepare_insider(frame: pd.DataFrame, px: PriceMatrix) -> pd.DataFrame:
    """Add value (USD), adjusted purchase price and signed shares once per run."""
    ins = frame.copy()
    close_e = px.lookup(px.close, ins["event_date"], ins["symbol"])
    adj_e = px.lookup(px.adj, ins["event_date"], ins["symbol"])
    price = ins["price"].where(ins["price"] > 0)
    price = price.fillna(pd.Series(close_e, index=ins.index))
    ins["value"] = ins["shares"] * price
    ins["adj_price"] = price * adj_e / close_e
    ins["signed_shares"] = np.where(ins["acquisition_or_disposition"] == "A", ins["shares"], -ins["shares"])
    ins["c_suite"] = ins["role"].isin(C_SUITE_ROLES)
    # the 10b5-1 box as filed: True, False, or null where the form or the source does not state it
    plan = ins["plan_10b5_1"] if "plan_10b5_1" in ins else pd.Series(pd.NA, index=ins.index)
    ins["plan"] = plan.astype("boolean")
    ins["_record"], ins["_amends"] = amendment_keys(ins)
    return ins


def _stamps(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A datetime column as a numpy datetime64 array (NaT compares False with everything)."""
    return frame[column].to_numpy()


def _at(moment: pd.Timestamp) -> np.datetime64:
    return pd.Timestamp(moment).to_datetime64()


def amendment_keys(ins: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """record_id and amends_record_id as integer codes of one code space (-1: amends nothing);
    computed once per run by prepare_insider (`_record`, `_amends`), else here."""
    if "_record" in ins and "_amends" in ins:
        return ins["_record"].to_numpy(), ins["_amends"].to_numpy()
    both = pd.concat([ins["record_id"], ins["amends_record_id"]], ignore_index=True)
    codes = pd.factorize(both)[0].astype("int64")
    return codes[: len(ins)], codes[len(ins) :]


def current_lines(ins: pd.DataFrame, cutoff: pd.Timestamp) -> np.ndarray:
    """Boolean mask over the rows of `ins`: the lines known at the cutoff, without those a 4/A
    known by then replaces (the latest amendment of a line wins: the newest known_at, the later
    row on a tie)."""
    record, amends = amendment_keys(ins)
    known_at = _stamps(ins, "known_at")
    known = known_at <= _at(cutoff)
    amending = np.flatnonzero(known & (amends >= 0))
    amended = amends[amending]
    order = np.lexsort((known_at[amending].view("int64"), amended))
    grouped = amended[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = grouped[1:] != grouped[:-1]
    superseded = np.isin(record, amended)
    superseded[amending[order[~last]]] = True  # an amendment a later one replaces
    return known & ~superseded


def known_insider_lines(ins: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Lines known at the cutoff, with 4/A amendments known by then replacing what they amend
    (the latest amendment of a line wins)."""
    return ins[current_lines(ins, cutoff)]


def insider_block(
    ins: pd.DataFrame, t: pd.Timestamp, cutoff: pd.Timestamp, px: PriceMatrix, current: np.ndarray | None = None
) -> pd.DataFrame:
    """`current`: current_lines(ins, cutoff) when the caller has it."""
    current = current_lines(ins, cutoff) if current is None else current
    event_date, known_at = _stamps(ins, "event_date"), _stamps(ins, "known_at")
    in_w90 = (event_date > _at(t - pd.Timedelta(days=90))) & (event_date <= _at(t))
    # the known lines the block reads: the 90-day window and the filings of the past 365 days
    known = ins[current & (in_w90 | (known_at > _at(cutoff - pd.Timedelta(days=365))))]
    w30 = known[(known["event_date"] > t - pd.Timedelta(days=30)) & (known["event_date"] <= t)]
    w90 = known[(known["event_date"] > t - pd.Timedelta(days=90)) & (known["event_date"] <= t)]
    om = w30[w30["transaction_code"].isin(["P", "S"])]
    trades = om.drop_duplicates(["symbol", "reporting_cik", "event_date", "transaction_code"])
    g_trades = trades.groupby("symbol")
    n_buy = (trades["transaction_code"] == "P").groupby(trades["symbol"]).sum()
    n_all = g_trades.size()
    n_csuite = g_trades["c_suite"].sum()
    buys = om[om["transaction_code"] == "P"]
    sells = om[om["transaction_code"] == "S"]
    g_buys = buys.groupby("symbol")
    out = pd.DataFrame(
        {
            "insider_buy_ratio_30d": n_buy / n_all,
            "insider_buy_volume_30d": g_buys["value"].sum(),
            "insider_sell_volume_30d": sells.groupby("symbol")["value"].sum(),
            "insider_cluster_score": g_buys["reporting_cik"].nunique(),
            "c_suite_activity_ratio": n_csuite / n_all,
            "_adj_cost": (buys["adj_price"] * buys["shares"]).groupby(buys["symbol"]).sum(),
            "_bought": buys.loc[buys["adj_price"].notna(), "shares"].groupby(buys["symbol"]).sum(),
            "_net_shares_90d": w90.groupby("symbol")["signed_shares"].sum(),
            "insider_filings_365d": known[known["known_at"] > cutoff - pd.Timedelta(days=365)].groupby("symbol").size(),
            "asof_insider": pd.concat([w90, w30]).groupby("symbol")["known_at"].max(),
        }
    )
    out.index.name = "symbol"
    return out


# -- insider trades split: routine / opportunistic, planned / discretionary ----------------------------
def split_history_start(t: pd.Timestamp) -> pd.Timestamp:
    """The first day the routine/opportunistic split of the 90-day window's trades reads: January 1
    of the third calendar year before the window's earliest transaction year."""
    return pd.Timestamp(year=(t - pd.Timedelta(days=89)).year - ROUTINE_YEARS, month=1, day=1)


def history_missing(ins: pd.DataFrame, cutoff: pd.Timestamp, t: pd.Timestamp) -> bool:
    """True when the insider rows known by the cutoff do not reach back to the first month the
    split reads (the stored history is shorter, or the source starts later): without the whole of
    the three years, a routine insider would pass for an opportunistic one."""
    if ins.empty:
        return True
    known_at = _stamps(ins, "known_at")
    known = known_at[known_at <= _at(cutoff)]
    if not len(known):
        return True
    return bool(pd.Timestamp(known.min()) >= split_history_start(t) + pd.DateOffset(months=1))


def split_lines(ins: pd.DataFrame) -> pd.DataFrame:
    """The columns the insider split reads, once per run: `insider` numbers each (CIK, stock)
    pair, `year` and `month` are the transaction's calendar year and month."""
    lines = ins[
        ["record_id", "amends_record_id", "known_at", "event_date", "symbol", "reporting_cik", "transaction_code"]
        + ["value", "plan"]
    ].copy()
    lines["_record"], lines["_amends"] = amendment_keys(ins)
    lines["_open_market"] = lines["transaction_code"].isin(OPEN_MARKET_CODES)
    lines["insider"] = pd.MultiIndex.from_frame(lines[["reporting_cik", "symbol"]]).factorize()[0]
    lines["year"] = lines["event_date"].dt.year.astype("int64")
    lines["month"] = lines["event_date"].dt.month.astype("int64")
    return lines


def insider_classes(trades: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """'routine', 'opportunistic' or None for each trade (split_lines rows), from `history`: the
    open-market lines known by the cutoff. Per insider (CIK and stock), for a trade in calendar
    year Y: classified if the insider traded in each of Y-1, Y-2 and Y-3; routine if in one same
    calendar month of each of them; else opportunistic. Insiders with less history are in
    neither group, as in Cohen, Malloy & Pomorski (2012)."""
    insider, year, month = (history[c].to_numpy(dtype="int64") for c in ("insider", "year", "month"))
    return pd.Series(_classes(trades, insider, year, month), index=trades.index, dtype=object)


def _classes(trades: pd.DataFrame, insider: np.ndarray, year: np.ndarray, month: np.ndarray) -> np.ndarray:
    """insider_classes on the history's (insider, year, month) arrays."""
    active_years = np.unique(insider * 10_000 + year)
    active_months = np.unique(insider * 1_000_000 + year * 100 + month)
    first_year = (active_months // 100) % 10_000  # each (insider, year, month) as the first of a run
    runs = np.ones(len(active_months), dtype=bool)
    for later in range(1, ROUTINE_YEARS):
        runs &= np.isin(active_months + later * 100, active_months)
    routine_years = (active_months[runs] // 1_000_000) * 10_000 + first_year[runs] + ROUTINE_YEARS
    t_insider, t_year = trades["insider"].to_numpy(dtype="int64"), trades["year"].to_numpy(dtype="int64")
    classified = np.ones(len(trades), dtype=bool)
    for back in range(1, ROUTINE_YEARS + 1):
        classified &= np.isin(t_insider * 10_000 + t_year - back, active_years)
    routine = classified & np.isin(t_insider * 10_000 + t_year, routine_years)
    kinds = np.full(len(trades), None, dtype=object)
    kinds[classified] = "opportunistic"
    kinds[routine] = "routine"
    return kinds


def insider_split_block(
    lines: pd.DataFrame, t: pd.Timestamp, cutoff: pd.Timestamp, no_history: bool, current: np.ndarray | None = None
) -> pd.DataFrame:
    """Per symbol with open-market lines in the 90-day window (`lines`: split_lines): the
    routine/opportunistic split (unless `no_history`) and the planned/discretionary split of its
    trades. attrs['plan_missing']: no line of the window, for any symbol, states the 10b5-1 box.
    `current`: current_lines(lines, cutoff) when the caller has it."""
    current = current_lines(lines, cutoff) if current is None else current
    om = current & lines["_open_market"].to_numpy()  # the open-market lines known at the cutoff
    event_date = _stamps(lines, "event_date")
    w90 = lines[om & (event_date > _at(t - pd.Timedelta(days=90))) & (event_date <= _at(t))]
    # the open-market history of the window's insiders: all the classification of its trades reads
    history = om & np.isin(lines["insider"].to_numpy(), w90["insider"].unique())
    stated = w90["plan"].notna()
    sales = w90[w90["transaction_code"] == "S"]
    sale_trades = (
        sales.assign(stated=stated[sales.index], planned=sales["plan"].fillna(False).astype(bool))
        .groupby(["symbol", "reporting_cik", "event_date"])[["stated", "planned"]]
        .any()
    )
    stated_trades = sale_trades[sale_trades["stated"]]
    discretionary = sales["value"].where(sales["plan"].eq(False).fillna(False).astype(bool), 0.0)
    unstated = (~stated[sales.index]).groupby(sales["symbol"]).any()
    plan_missing = not bool(stated.any())
    out = pd.DataFrame(
        {
            "_window_lines": w90.groupby("symbol").size(),
            "insider_planned_sale_share_90d": stated_trades["planned"].groupby(level="symbol").mean(),
        }
    )
    with_sales = discretionary.groupby(sales["symbol"]).sum().where(~unstated)  # NaN: a sale line says nothing
    out["insider_discretionary_sale_value_90d"] = (
        np.nan if plan_missing else with_sales.reindex(out.index).where(out.index.isin(with_sales.index), 0.0)
    )
    if not no_history:
        kind = pd.Series(
            _classes(w90, *(lines[c].to_numpy(dtype="int64")[history] for c in ("insider", "year", "month"))),
            index=w90.index,
            dtype=object,
        )
        trades = w90.assign(kind=kind).drop_duplicates(["insider", "event_date", "transaction_code"])
        classified = trades[trades["kind"].notna()]
        opportunistic = w90[kind == "opportunistic"]
        signed = opportunistic["value"].where(opportunistic["transaction_code"] == "P", -opportunistic["value"])
        by_symbol = classified.groupby("symbol")
        opportunistic_buys = (classified["kind"] == "opportunistic") & (classified["transaction_code"] == "P")
        out = out.join(
            pd.DataFrame(
                {
                    "insider_opportunistic_buy_count_90d": opportunistic_buys.groupby(classified["symbol"]).sum(),
                    "insider_opportunistic_net_value_90d": signed.groupby(opportunistic["symbol"]).sum(),
                    "insider_routine_share_90d": (classified["kind"] == "routine").groupby(classified["symbol"]).sum()
                    / by_symbol.size(),
                }
            ),
            how="left",
        )
    # the newest input: the window's lines and the history of their insiders the split can read
    read = lines.loc[history & (event_date >= _at(split_history_start(t))), ["symbol", "known_at"]]
    out["asof_insider_split"] = read.groupby("symbol")["known_at"].max()
    out.index.name = "symbol"
    out.attrs["plan_missing"] = plan_missing
    return out


# -- 13F --------------------------------------------------------------------------------------------
def position_sizes(frame: pd.DataFrame, px: PriceMatrix, universe: pd.DataFrame) -> pd.DataFrame:
    """`frac` = shares / shares outstanding at the row's event date (NaN when unknown) and
    `size` = frac, or the share count for a symbol whose shares outstanding are unknown at some
    row (public files carry none): changes, counts and ratios of sizes are the same either way,
    only ownership levels need the fraction."""
    h = frame.copy()
    shares_out = pd.Series(px.lookup(px.shares, h["event_date"], h["symbol"]), index=h.index)
    fallback = h["symbol"].map(universe.drop_duplicates("symbol").set_index("symbol")["shares_outstanding"])
    h["frac"] = h["shares"] / shares_out.fillna(fallback)
    known = h["frac"].notna().groupby(h["symbol"]).transform("all")
    h["size"] = h["frac"].where(known, h["shares"])
    return h


def prepare_13f(frame: pd.DataFrame, px: PriceMatrix, universe: pd.DataFrame) -> pd.DataFrame:
    h = position_sizes(frame, px, universe)
    h["period_q"] = h["event_date"].dt.to_period("Q")
    return with_filing_keys(h, copy=False)


FILING_KEYS = ("_filing", "_filer_date", "_accession", "_filer", "_symbol", "_period", "_period_end")


def with_filing_keys(h: pd.DataFrame, copy: bool = True) -> pd.DataFrame:
    """13F rows (with `period_q`) plus integer codes latest_filings and institutional_block read,
    once per run: the filing (filer, report date, accession), the filer's report (filer, report
    date), the accession, the filer and the symbol (both numbered in sorted order, so grouping by
    them orders groups as grouping by the names does), the quarter's ordinal and its end."""
    if all(key in h for key in FILING_KEYS):
        return h
    h = h.copy() if copy else h

    def codes(column: str, sort: bool = False) -> tuple[np.ndarray, int]:
        values, uniques = pd.factorize(h[column], sort=sort, use_na_sentinel=False)
        return values.astype("int64"), len(uniques)

    filer, n_filers = codes("filer_cik", sort=True)
    event_date, n_dates = codes("event_date")
    accession, n_accessions = codes("accession")
    h["_filer_date"] = filer * n_dates + event_date
    h["_filing"] = h["_filer_date"] * n_accessions + accession
    h["_accession"] = accession
    h["_filer"] = filer
    h["_symbol"] = codes("symbol", sort=True)[0]
    h["_period"] = h["period_q"].array.asi8
    h["_period_end"] = h["period_q"].dt.end_time
    return h


def latest_filings(h: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(current, previous): each filer's latest known filing and its filing for the quarter
    before (both as of the cutoff; an amendment replaces the original it restates)."""
    h = with_filing_keys(h)
    current, has_previous, previous = latest_rows(h, cutoff)
    return h.iloc[current].assign(has_previous=has_previous), h.iloc[previous].assign(has_previous=True)


def latest_rows(h: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """latest_filings as row positions of `h` (with_filing_keys): current rows, whether each
    one's filer has its previous quarter's filing, previous rows."""
    known_at = _stamps(h, "known_at")
    event_date = _stamps(h, "event_date")
    known = np.flatnonzero((known_at <= _at(cutoff)) & (event_date > _at(cutoff - pd.Timedelta(days=250 + 92))))
    if not len(known):
        return known, np.zeros(0, dtype=bool), known
    filing, filer_date, accession, filer, period = (
        h[key].to_numpy() for key in ("_filing", "_filer_date", "_accession", "_filer", "_period")
    )
    filings = known[np.sort(np.unique(filing[known], return_index=True)[1])]  # first row of each filing
    # per (filer, report date), the filing known last (the later row on a tie) is the one chosen
    order = np.lexsort((known_at[filings].view("int64"), filer_date[filings]))
    grouped = filer_date[filings][order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = grouped[1:] != grouped[:-1]
    chosen = filings[order[last]]
    rows = known[np.isin(accession[known], accession[chosen])]
    n_filers = int(filer.max()) + 1
    latest = np.full(n_filers, np.iinfo("int64").min)
    np.maximum.at(latest, filer[chosen], period[chosen])
    latest_end = np.full(n_filers, np.iinfo("int64").min)
    np.maximum.at(latest_end, filer[chosen], _stamps(h, "_period_end")[chosen].view("int64"))
    recent = latest_end > _at(cutoff - pd.Timedelta(days=250)).astype("datetime64[ns]").view("int64")
    current = rows[recent[filer[rows]] & (period[rows] == latest[filer[rows]])]
    previous_period = latest - 1
    has_previous = recent[filer[chosen]] & (period[chosen] == previous_period[filer[chosen]])
    with_previous = np.zeros(n_filers, dtype=bool)
    with_previous[filer[chosen[has_previous]]] = True
    previous = rows[with_previous[filer[rows]] & (period[rows] == previous_period[filer[rows]])]
    return current, with_previous[filer[current]], previous


def changes(
    current: pd.DataFrame, previous: pd.DataFrame, keys: tuple[str, ...] = ("filer_cik", "symbol")
) -> pd.DataFrame:
    """Per (filer, symbol) with a previous filing: size now and before (0 when absent), and
    frac now and before (NaN where shares outstanding are unknown). `keys`: the filer and symbol
    columns, or one column numbering the (filer, symbol) pairs in sorted order."""
    now = current[current["has_previous"]].groupby(list(keys))[["size", "frac"]].sum()
    before = previous.groupby(list(keys))[["size", "frac"]].sum()
    return changes_of_sums(now, before)


def changes_of_sums(now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """changes from the (filer, symbol) sums of size and frac now and before."""
    both = pd.concat([now.add_prefix("now_"), before.add_prefix("before_")], axis=1).fillna(0.0).reset_index()
    both = both.rename(columns={"now_size": "now", "before_size": "before"})
    both["increase"] = (both["now"] > both["before"] * 1.005) & (both["before"] > 0)
    both["decrease"] = (both["now"] < both["before"] * 0.995) & (both["now"] > 0)
    both["new"] = (both["now"] > 0) & (both["before"] == 0)
    both["closed"] = (both["now"] == 0) & (both["before"] > 0)
    return both


def institutional_block(h: pd.DataFrame, cutoff: pd.Timestamp, hedge_funds: frozenset[str]) -> pd.DataFrame:
    h = with_filing_keys(h)
    current, has_previous, previous = latest_rows(h, cutoff)
    if not len(current):  # filings known, but none for a recent period (e.g. only late filings)
        columns = [spec.name for spec in CATALOGUE if spec.family in ("institutional", "hedge_fund")]
        return pd.DataFrame(columns=[*columns, "asof_institutional"], index=pd.Index([], name="symbol"), dtype=float)
    # grouped by the sorted codes of symbol and filer (same groups, same order as the names); a
    # (symbol, filer) or (filer, symbol) pair as one number, in the same order as the pair
    symbol, filer = "_symbol", "_filer"
    symbols, filers = h[symbol].to_numpy(), h[filer].to_numpy()
    n_symbols, n_filers = int(symbols.max()) + 1, int(filers.max()) + 1
    size, frac, known_at = h["size"].to_numpy(), h["frac"].to_numpy(), _stamps(h, "known_at")

    def rows(at: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {
                symbol: symbols[at],
                filer: filers[at],
                "_position": filers[at] * n_symbols + symbols[at],
                "size": size[at],
                "frac": frac[at],
            }
        )

    now = rows(current)
    by_holder = now[symbol].to_numpy() * n_filers + now[filer].to_numpy()
    held = now[["size", "frac"]].groupby(by_holder).sum()
    holders = held["size"]
    holder_symbol, holder_filer = np.divmod(holders.index.to_numpy(), n_filers)
    # by symbol, largest size first (NaN last, ties in filer order), as sort_values would order them
    ranked = np.lexsort((-holders.to_numpy(), holder_symbol))
    starts = np.flatnonzero(np.r_[True, holder_symbol[ranked][1:] != holder_symbol[ranked][:-1]])
    rank = np.arange(len(ranked)) - np.repeat(starts, np.diff(np.r_[starts, len(ranked)]))
    top = ranked[rank < 10]
    total = holders.groupby(holder_symbol).sum()
    top10 = pd.Series(holders.to_numpy()[top]).groupby(holder_symbol[top]).sum() / total.where(total > 0)
    # the per-(filer, symbol) sums now: the holders' sums (same rows, same order) of the filers
    # with a previous filing, in (filer, symbol) order
    with_previous = np.zeros(n_filers, dtype=bool)
    with_previous[now[filer].to_numpy()[has_previous]] = True
    kept = with_previous[holder_filer]
    now_sums = (
        held[kept]
        .set_axis(pd.Index(holder_filer[kept] * n_symbols + holder_symbol[kept], name="_position"))
        .sort_index()
    )
    previous_rows = rows(previous)
    before_sums = previous_rows.groupby("_position")[["size", "frac"]].sum()
    ch = changes_of_sums(now_sums, before_sums)
    ch[filer], ch[symbol] = ch["_position"] // n_symbols, ch["_position"] % n_symbols
    g = ch.groupby(symbol)
    active = ch[(ch["now"] > 0) | (ch["before"] > 0)].groupby(symbol).size()
    steady = ch[(ch["now"] > 0) & (ch["before"] > 0)]
    # the hedge funds among the filers (every filer of `previous` has current rows)
    row_of_filer = np.full(n_filers, -1)
    row_of_filer[filers[current]] = current
    present = np.flatnonzero(row_of_filer >= 0)
    hedge_fund_codes = present[pd.Series(h["filer_cik"].to_numpy()[row_of_filer[present]]).isin(hedge_funds).to_numpy()]
    is_hedge_fund = np.isin(now[filer].to_numpy(), hedge_fund_codes)
    hf = ch[ch[filer].isin(hedge_fund_codes)]
    g_hf = hf.groupby(symbol)
    either = np.concatenate([current, previous])
    out = pd.DataFrame(
        {
            "inst_ownership_pct": 100.0 * held["frac"].groupby(holder_symbol).sum(),
            "inst_ownership_change_1q": 100.0 * (g["now_frac"].sum() - g["before_frac"].sum()),
            "inst_new_positions_count": g["new"].sum(),
            "inst_closed_positions_count": g["closed"].sum(),
            "inst_avg_position_size_change": (steady["now"] / steady["before"] - 1.0).groupby(steady[symbol]).mean(),
            "inst_concentration_top10": top10,
            "inst_momentum_score": (g["increase"].sum() + g["new"].sum() - g["decrease"].sum() - g["closed"].sum())
            / active,
            "hedgefund_top20_exposure": 100.0 * now[is_hedge_fund].groupby(symbol)["frac"].sum(),
            "hedgefund_net_change_1q": 100.0 * (g_hf["now_frac"].sum() - g_hf["before_frac"].sum()),
            "hedgefund_new_entry_count": g_hf["new"].sum(),
            "hedgefund_exit_count": g_hf["closed"].sum(),
            "hedgefund_conviction_score": g_hf["increase"].sum()
            + g_hf["new"].sum()
            - g_hf["decrease"].sum()
            - g_hf["closed"].sum(),
            "asof_institutional": pd.Series(known_at[either]).groupby(symbols[either]).max(),
        }
    )
    row_of_symbol = np.zeros(n_symbols, dtype="int64")
    row_of_symbol[symbols[either]] = either  # a row of each symbol code, for its name
    out.index = pd.Index(h["symbol"].to_numpy()[row_of_symbol[out.index.to_numpy()]], name="symbol")
    return out


# -- Congress -----------------------------------------------------------------------------------------
def congress_block(cg: pd.DataFrame, t: pd.Timestamp, cutoff: pd.Timestamp) -> pd.DataFrame:
    known = cg[cg["known_at"] <= cutoff]
    w90 = known[(known["event_date"] > t - pd.Timedelta(days=90)) & (known["event_date"] <= t)]
    buys = w90[w90["transaction_type"] == "purchase"].groupby("symbol").size()
    sells = w90[w90["transaction_type"].isin(CONGRESS_SALES)].groupby("symbol").size()
    recent = known[known["known_at"] > cutoff - pd.Timedelta(days=7)]
    out = pd.DataFrame({"congress_buy_count_90d": buys, "congress_sell_count_90d": sells}).fillna(0.0)
    total = out["congress_buy_count_90d"] + out["congress_sell_count_90d"]
    out["congress_net_sentiment"] = (out["congress_buy_count_90d"] - out["congress_sell_count_90d"]) / total.where(
        total > 0
    )
    out = out.join(recent.groupby("symbol").size().rename("congress_recent_activity_7d"), how="outer")
    out["asof_congress"] = pd.concat([w90, recent]).groupby("symbol")["known_at"].max()
    out.index.name = "symbol"
    return out


# -- ETFs ---------------------------------------------------------------------------------------------
def _snapshot(known: pd.DataFrame, newest: pd.Timestamp, oldest: pd.Timestamp) -> pd.DataFrame:
    """Each ETF's latest snapshot dated in [oldest, newest]."""
    window = known[(known["event_date"] <= newest) & (known["event_date"] >= oldest)]
    last = window.groupby("etf_symbol")["event_date"].transform("max")
    return window[window["event_date"] == last]


def etf_block(e: pd.DataFrame, t: pd.Timestamp, cutoff: pd.Timestamp) -> pd.DataFrame:
    """ETF features; `etf_flow_30d` is a real zero for unheld symbols when some ETF has both
    snapshots (filled by the caller), and undefined (NaN) when none has."""
    event_date = _stamps(e, "event_date")
    # the known rows of the two snapshot windows, [t-44d, t-30d] and [t-14d, t]
    known = e[
        (_stamps(e, "known_at") <= _at(cutoff))
        & (event_date >= _at(t - pd.Timedelta(days=44)))
        & (event_date <= _at(t))
    ]
    now = _snapshot(known, t, t - pd.Timedelta(days=14))
    if now.empty:
        return pd.DataFrame(index=pd.Index([], name="symbol"))
    then = _snapshot(known, t - pd.Timedelta(days=30), t - pd.Timedelta(days=44))
    both_etfs = set(now["etf_symbol"]) & set(then["etf_symbol"])
    per_etf = now.groupby(["symbol", "etf_symbol"])["shares"].sum()
    share = per_etf / per_etf.groupby(level="symbol").transform("sum")
    now_both = now[now["etf_symbol"].isin(both_etfs)].groupby("symbol")["frac"].sum()
    then_both = then[then["etf_symbol"].isin(both_etfs)].groupby("symbol")["frac"].sum()
    flow = now_both.sub(then_both, fill_value=0.0)
    out = pd.DataFrame(
        {
            "etf_ownership_pct": 100.0 * now.groupby("symbol")["frac"].sum(),
            "etf_flow_30d": 100.0 * flow,
            "etf_concentration": (share**2).groupby(level="symbol").sum(),
            "asof_etf": pd.concat([now, then]).groupby("symbol")["known_at"].max(),
        }
    )
    out.index.name = "symbol"
    out.attrs["flow_defined"] = bool(both_etfs)
    return out


# -- prices -------------------------------------------------------------------------------------------
def _window_std(x: np.ndarray, min_count: int) -> np.ndarray:
    count = np.sum(~np.isnan(x), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.nanstd(x, axis=0, ddof=1)
    return np.where(count >= min_count, std, np.nan)


def _window_max_abs(x: np.ndarray, min_count: int) -> np.ndarray:
    count = np.sum(~np.isnan(x), axis=0)
    peak = np.fmax.reduce(np.abs(x), axis=0) if len(x) else np.full(x.shape[1], np.nan)  # fmax skips NaN
    return np.where(count >= min_count, peak, np.nan)


def price_block(px: PriceMatrix, t: pd.Timestamp, market_index: str) -> pd.DataFrame:
    with warnings.catch_warnings():  # symbols without prices in a window: NaN, said once here
        warnings.filterwarnings("ignore", "Mean of empty slice|Degrees of freedom", RuntimeWarning)
        return _price_block(px, t, market_index)


def _positive_log(x: np.ndarray) -> np.ndarray:
    """log of positive values; NaN for zero (a stock that did not trade) or negative."""
    return np.log(np.where(x > 0, x, np.nan))


def _price_block(px: PriceMatrix, t: pd.Timestamp, market_index: str) -> pd.DataFrame:
    r = px.row_on_or_before(t)
    index = pd.Index(px.symbols, name="symbol")
    if r < 0 or px.dates[r] != t:
        return pd.DataFrame({"prices_missing": 1.0}, index=index)
    adj, lr = px.adj, px.log_returns

    def back(n: int) -> np.ndarray:
        return adj[r - n] if r - n >= 0 else np.full(adj.shape[1], np.nan)

    def window(n: int) -> np.ndarray:
        return lr[max(r - n + 1, 0) : r + 1]

    def vol(n: int) -> np.ndarray:
        return _window_std(window(n), int(0.8 * n)) * np.sqrt(SESSIONS_PER_YEAR)

    m_col = px.column.get(market_index)
    market = lr[:, m_col] if m_col is not None else np.full(len(px.dates), np.nan)
    m250, s250 = market[max(r - 249, 0) : r + 1], window(250)
    ok = ~np.isnan(s250) & ~np.isnan(m250)[:, None]
    count = ok.sum(axis=0)
    m_c = np.where(ok, m250[:, None], np.nan)
    s_c = np.where(ok, s250, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = np.nansum((m_c - np.nanmean(m_c, axis=0)) * (s_c - np.nanmean(s_c, axis=0)), axis=0)
        var = np.nansum((m_c - np.nanmean(m_c, axis=0)) ** 2, axis=0)
        beta = np.where(count >= 120, cov / var, np.nan)
    resid = window(60) - beta[None, :] * market[max(r - 59, 0) : r + 1][:, None]
    close_now = px.close[r]
    vol20 = px.volume[max(r - 19, 0) : r + 1]
    vol60 = px.volume[max(r - 59, 0) : r + 1]
    dollar = px.close[max(r - 19, 0) : r + 1] * vol20
    history = np.sum(~np.isnan(adj[max(r - 19, 0) : r + 1]), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame(
            {
                "return_1m": adj[r] / back(21) - 1.0,
                "return_3m": adj[r] / back(63) - 1.0,
                "return_6m": adj[r] / back(126) - 1.0,
                "return_12_1m": back(21) / back(252) - 1.0,
                "volatility_10d": vol(10),
                "volatility_20d": vol(20),
                "volatility_60d": vol(60),
                "volatility_120d": vol(120),
                "volatility_250d": vol(250),
                "max_abs_return_60d": _window_max_abs(window(60), 48),
                "beta_250d": beta,
                "idio_volatility_60d": _window_std(resid, 48) * np.sqrt(SESSIONS_PER_YEAR),
                "log_market_cap": np.log(close_now * px.shares[r]),
                "log_dollar_volume_20d": _positive_log(np.nanmean(dollar, axis=0)),
                "volume_ratio_20_60": np.nanmean(vol20, axis=0) / np.nanmean(vol60, axis=0),
                "prices_missing": ((np.isnan(adj[r])) | (history < 20)).astype(float),
                "_close": close_now,
                "_adj_close": adj[r],
                "_shares_out": px.shares[r],
            },
            index=index,
        )
    if m_col is not None:
        m = market[max(r - 19, 0) : r + 1]
        out["market_volatility_20d"] = (
            np.nanstd(m, ddof=1) * np.sqrt(SESSIONS_PER_YEAR) if np.sum(~np.isnan(m)) >= 16 else np.nan
        )
        m60 = market[max(r - 59, 0) : r + 1]
        out["market_volatility_60d"] = (
            np.nanstd(m60, ddof=1) * np.sqrt(SESSIONS_PER_YEAR) if np.sum(~np.isnan(m60)) >= 48 else np.nan
        )
        out["market_return_1m"] = adj[r, m_col] / back(21)[m_col] - 1.0
    else:
        out["market_volatility_20d"] = np.nan
        out["market_volatility_60d"] = np.nan
        out["market_return_1m"] = np.nan
    out["asof_prices"] = px.dates[r]
    return out


# -- assembly ---------------------------------------------------------------------------------------
ZERO_WHEN_ABSENT = (
    "insider_buy_volume_30d", "insider_sell_volume_30d", "insider_cluster_score", "insider_filings_365d",
    "congress_buy_count_90d", "congress_sell_count_90d", "congress_recent_activity_7d",
)  # fmt: skip
INSTITUTIONAL_ZERO = (
    "inst_ownership_pct", "inst_new_positions_count", "inst_closed_positions_count",
    "hedgefund_top20_exposure", "hedgefund_new_entry_count", "hedgefund_exit_count",
)  # fmt: skip
SPLIT_ZERO = ("insider_opportunistic_buy_count_90d", "insider_opportunistic_net_value_90d")
INSTITUTIONAL_CHANGES = ("inst_ownership_change_1q", "hedgefund_net_change_1q", "hedgefund_conviction_score")
# Features in % of shares outstanding: undefined (NaN) for a stock whose shares outstanding are
# unknown at t, whether or not anyone holds it.
FRACTION_OF_SHARES = (
    "inst_ownership_pct", "inst_ownership_change_1q", "hedgefund_top20_exposure", "hedgefund_net_change_1q",
    "etf_ownership_pct", "etf_flow_30d",
)  # fmt: skip
HEDGE_FUND_FEATURES = tuple(spec.name for spec in CATALOGUE if spec.family == "hedge_fund")


def source_missing(frame: pd.DataFrame, cutoff: pd.Timestamp, days: int, column: str = "known_at") -> bool:
    if frame.empty:
        return True
    stamps = _stamps(frame, column)
    return not bool(((stamps <= _at(cutoff)) & (stamps > _at(cutoff - pd.Timedelta(days=days)))).any())


def features_for_date(
    inputs: FeatureInputs, prepared: dict[str, pd.DataFrame], px: PriceMatrix, t: pd.Timestamp
) -> pd.DataFrame:
    cutoff = cal.sample_cutoff(t)
    symbols = members_at(inputs.universe, t)
    frame = pd.DataFrame(index=symbols)
    ins, h, cg, e = prepared["insider"], prepared["institutional"], prepared["congress"], prepared["etf"]

    insider_missing = source_missing(ins, cutoff, 365)
    institutional_missing = source_missing(h, cutoff, 250)
    congress_missing = source_missing(cg, cutoff, 365)
    etf_missing = not len(e) or not bool(
        ((_stamps(e, "known_at") <= _at(cutoff)) & (_stamps(e, "event_date") >= _at(t - pd.Timedelta(days=14)))).any()
    )

    prices = price_block(px, t, inputs.market_index)
    frame = frame.join(prices, how="left")
    frame["prices_missing"] = frame["prices_missing"].fillna(1.0)

    no_history = insider_missing or history_missing(ins, cutoff, t)
    current = None if insider_missing else current_lines(ins, cutoff)  # the same rows in ins and insider_split
    split = None if insider_missing else insider_split_block(prepared["insider_split"], t, cutoff, no_history, current)
    plan_missing = split is None or split.attrs["plan_missing"]

    etf = None if etf_missing else etf_block(e, t, cutoff)
    etf_zero = (
        ("etf_ownership_pct", "etf_flow_30d")
        if etf is not None and etf.attrs.get("flow_defined")
        else ("etf_ownership_pct",)
    )
    blocks = [
        (
            insider_missing,
            insider_block(ins, t, cutoff, px, current) if not insider_missing else None,
            ZERO_WHEN_ABSENT[:4],
        ),
        (
            institutional_missing,
            institutional_block(h, cutoff, inputs.hedge_funds) if not institutional_missing else None,
            INSTITUTIONAL_ZERO,
        ),
        (congress_missing, congress_block(cg, t, cutoff) if not congress_missing else None, ZERO_WHEN_ABSENT[4:]),
        (etf_missing, etf, etf_zero),
    ]
    joined = [frame]  # each block aligned on the members (a left join), joined in one concat
    for missing, block, zero_columns in blocks:
        if block is None or missing:
            continue
        block = block.reindex(frame.index)
        for column in zero_columns:
            block[column] = block[column].fillna(0.0)
        joined.append(block)
    if split is not None:
        joined.append(split.reindex(frame.index))
    frame = pd.concat(joined, axis=1) if len(joined) > 1 else frame
    if split is not None:
        without_lines = frame["_window_lines"].isna()  # no open-market line in the window: real zeros
        if not no_history:
            frame[list(SPLIT_ZERO)] = frame[list(SPLIT_ZERO)].fillna(0.0)
        if not plan_missing:
            frame.loc[without_lines, "insider_discretionary_sale_value_90d"] = 0.0
    if not institutional_missing:
        for column in INSTITUTIONAL_CHANGES:
            frame[column] = frame[column].fillna(0.0)
    latest_shares = frame.index.to_series().map(
        inputs.universe.drop_duplicates("symbol").set_index("symbol")["shares_outstanding"]
    )
    shares_known = frame.get("_shares_out", pd.Series(np.nan, index=frame.index)).fillna(latest_shares).notna()
    frame.loc[~shares_known.to_numpy(), list(FRACTION_OF_SHARES)] = np.nan
    if not inputs.hedge_funds:  # no configured list: hedge-fund features are undefined, not zero
        frame[list(HEDGE_FUND_FEATURES)] = np.nan
    if not insider_missing:
        with np.errstate(invalid="ignore", divide="ignore"):
            market_cap = frame["_close"] * frame["_shares_out"]
            frame["insider_net_flow_30d"] = (
                1e4 * (frame["insider_buy_volume_30d"] - frame["insider_sell_volume_30d"]) / market_cap
            )
            frame["insider_avg_premium"] = frame["_adj_close"] / (frame["_adj_cost"] / frame["_bought"]) - 1.0
            frame["insider_ownership_change_90d"] = 100.0 * frame["_net_shares_90d"].fillna(0.0) / frame["_shares_out"]
    frame["insider_missing"] = float(insider_missing)
    frame["institutional_missing"] = float(institutional_missing)
    frame["congress_missing"] = float(congress_missing)
    frame["etf_missing"] = float(etf_missing)
    frame["insider_history_missing"] = float(no_history)
    frame["insider_plan_missing"] = float(plan_missing)

    frame = frame.reindex(columns=[*FEATURES, *PROVENANCE_COLUMNS, "insider_filings_365d"])
    for column in PROVENANCE_COLUMNS:  # all-missing families still get a datetime column
        frame[column] = pd.to_datetime(frame[column])
    frame.insert(0, "cutoff", cutoff)
    frame.insert(0, "sample_date", t)
    return frame.reset_index()


# the columns the per-date blocks read (the others are dropped once per run: less to copy per date)
READ_COLUMNS = {
    "insider": (
        "symbol", "event_date", "known_at", "record_id", "amends_record_id", "reporting_cik", "transaction_code",
        "shares", "value", "adj_price", "signed_shares", "c_suite", "_record", "_amends",
    ),
    "institutional": ("symbol", "filer_cik", "event_date", "known_at", "size", "frac", *FILING_KEYS),
    "congress": ("symbol", "event_date", "known_at", "transaction_type"),
    "etf": ("symbol", "etf_symbol", "event_date", "known_at", "shares", "frac"),
}  # fmt: skip


def prepare(inputs: FeatureInputs) -> tuple[dict[str, pd.DataFrame], PriceMatrix]:
    px = PriceMatrix(inputs.prices)
    insider = prepare_insider(inputs.insider_trades, px) if len(inputs.insider_trades) else inputs.insider_trades
    prepared = {
        "insider": insider,
        "insider_split": split_lines(insider) if len(insider) else insider,
        "institutional": prepare_13f(inputs.institutional_holdings, px, inputs.universe)
        if len(inputs.institutional_holdings)
        else inputs.institutional_holdings,
        "congress": inputs.congress_trades,
        "etf": position_sizes(inputs.etf_holdings, px, inputs.universe)
        if len(inputs.etf_holdings)
        else inputs.etf_holdings,
    }
    for name, columns in READ_COLUMNS.items():
        if len(prepared[name]):
            prepared[name] = prepared[name][list(columns)]
    return prepared, px


def compute_features(
    inputs: FeatureInputs,
    sample_dates: Iterable[pd.Timestamp],
    rules: UniverseRules | None = None,
    prepared: tuple[dict[str, pd.DataFrame], PriceMatrix] | None = None,
) -> pd.DataFrame:
    """One row per (member symbol, sample date) with every catalogue feature, provenance
    columns and, when `rules` are given, `excluded_reason` ('' when eligible). `prepared`:
    `prepare(inputs)` done before (a caller that computes more dates of the same inputs later
    keeps it; the inputs are only read)."""
    prepared, px = prepared or prepare(inputs)
    frames = [features_for_date(inputs, prepared, px, pd.Timestamp(t)) for t in sample_dates]
    features = (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["symbol", "sample_date", *FEATURES])
    )
    features["excluded_reason"] = exclusion_reasons(features, rules or UniverseRules(None, False))
    return features


def exclusion_reasons(features: pd.DataFrame, rules: UniverseRules) -> pd.Series:
    """Why a sample is outside the point-in-time universe ('' when it is in)."""
    reasons = pd.Series("", index=features.index, dtype=object)
    if rules.min_inst_ownership_pct is not None:
        low = features["inst_ownership_pct"] < rules.min_inst_ownership_pct  # NaN (no 13F data) never excludes
        reasons[low] = reasons[low] + f"inst_ownership<{rules.min_inst_ownership_pct:g}%;"
    if rules.require_insider_activity:
        quiet = (features["insider_filings_365d"] == 0) & (features["insider_missing"] == 0)
        reasons[quiet] = reasons[quiet] + "no_insider_filing_365d;"
    return reasons.str.rstrip(";")


def sample_dates_for(months: Sequence[pd.Timestamp]) -> list[pd.Timestamp]:
    return [cal.sample_date(m) for m in months]
