"""Plain pandas versions of the per-date row selections and groupings in dataset/features.py, as
they were before issue 18 made them fast (boolean masks over the whole table, grouping by the
names). The fast versions (integer codes, numpy masks, one pass per date) must give the same
frames bit for bit; smart_money_tests/dataset/test_features.py checks it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from smart_money.dataset.catalogue import CATALOGUE
from smart_money.dataset.features import (
    OPEN_MARKET_CODES,
    PriceMatrix,
    _snapshot,
    insider_classes,
    split_history_start,
)


def known_insider_lines(ins: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    known = ins[ins["known_at"] <= cutoff]
    amendments = known[known["amends_record_id"].notna()]
    latest = amendments.sort_values("known_at", kind="stable").drop_duplicates("amends_record_id", keep="last").index
    superseded = known["record_id"].isin(amendments["amends_record_id"]) | (
        known["amends_record_id"].notna() & ~known.index.isin(latest)
    )
    return known[~superseded]


def latest_filings(h: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    known = h[(h["known_at"] <= cutoff) & (h["event_date"] > cutoff - pd.Timedelta(days=250 + 92))]
    if known.empty:
        return known, known
    filings = known.drop_duplicates(["filer_cik", "event_date", "accession"])[
        ["filer_cik", "event_date", "accession", "known_at", "period_q"]
    ]
    chosen = filings.sort_values("known_at", kind="stable").drop_duplicates(["filer_cik", "event_date"], keep="last")
    rows = known[known["accession"].isin(chosen["accession"])]
    latest_period = chosen.groupby("filer_cik")["period_q"].max()
    recent = latest_period[latest_period.map(lambda p: p.end_time) > cutoff - pd.Timedelta(days=250)]
    current = rows[rows["filer_cik"].map(recent) == rows["period_q"]]
    previous_period = recent - 1
    has_previous = chosen.set_index(["filer_cik", "period_q"]).index.isin(
        list(zip(previous_period.index, previous_period.values))
    )
    filers_with_previous = set(chosen.loc[has_previous, "filer_cik"])
    previous = rows[
        (rows["filer_cik"].map(previous_period) == rows["period_q"]) & rows["filer_cik"].isin(filers_with_previous)
    ]
    current = current.assign(has_previous=current["filer_cik"].isin(filers_with_previous))
    return current, previous.assign(has_previous=True)


def changes(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    now = current[current["has_previous"]].groupby(["filer_cik", "symbol"])[["size", "frac"]].sum()
    before = previous.groupby(["filer_cik", "symbol"])[["size", "frac"]].sum()
    both = pd.concat([now.add_prefix("now_"), before.add_prefix("before_")], axis=1).fillna(0.0).reset_index()
    both = both.rename(columns={"now_size": "now", "before_size": "before"})
    both["increase"] = (both["now"] > both["before"] * 1.005) & (both["before"] > 0)
    both["decrease"] = (both["now"] < both["before"] * 0.995) & (both["now"] > 0)
    both["new"] = (both["now"] > 0) & (both["before"] == 0)
    both["closed"] = (both["now"] == 0) & (both["before"] > 0)
    return both


def institutional_block(h: pd.DataFrame, cutoff: pd.Timestamp, hedge_funds: frozenset[str]) -> pd.DataFrame:
    current, previous = latest_filings(h, cutoff)
    if current.empty:
        columns = [spec.name for spec in CATALOGUE if spec.family in ("institutional", "hedge_fund")]
        return pd.DataFrame(columns=[*columns, "asof_institutional"], index=pd.Index([], name="symbol"), dtype=float)
    holders = current.groupby(["symbol", "filer_cik"])["size"].sum()
    ranked = holders.reset_index().sort_values(["symbol", "size"], ascending=[True, False])
    in_top10 = ranked.groupby("symbol").cumcount() < 10
    total = holders.groupby(level="symbol").sum()
    top10 = ranked.loc[in_top10].groupby("symbol")["size"].sum() / total.where(total > 0)
    ch = changes(current, previous)
    g = ch.groupby("symbol")
    active = ch[(ch["now"] > 0) | (ch["before"] > 0)].groupby("symbol").size()
    steady = ch[(ch["now"] > 0) & (ch["before"] > 0)]
    hf = ch[ch["filer_cik"].isin(hedge_funds)]
    g_hf = hf.groupby("symbol")
    out = pd.DataFrame(
        {
            "inst_ownership_pct": 100.0
            * current.groupby(["symbol", "filer_cik"])["frac"].sum().groupby(level="symbol").sum(),
            "inst_ownership_change_1q": 100.0 * (g["now_frac"].sum() - g["before_frac"].sum()),
            "inst_new_positions_count": g["new"].sum(),
            "inst_closed_positions_count": g["closed"].sum(),
            "inst_avg_position_size_change": (steady["now"] / steady["before"] - 1.0).groupby(steady["symbol"]).mean(),
            "inst_concentration_top10": top10,
            "inst_momentum_score": (g["increase"].sum() + g["new"].sum() - g["decrease"].sum() - g["closed"].sum())
            / active,
            "hedgefund_top20_exposure": 100.0
            * current[current["filer_cik"].isin(hedge_funds)].groupby("symbol")["frac"].sum(),
            "hedgefund_net_change_1q": 100.0 * (g_hf["now_frac"].sum() - g_hf["before_frac"].sum()),
            "hedgefund_new_entry_count": g_hf["new"].sum(),
            "hedgefund_exit_count": g_hf["closed"].sum(),
            "hedgefund_conviction_score": g_hf["increase"].sum()
            + g_hf["new"].sum()
            - g_hf["decrease"].sum()
            - g_hf["closed"].sum(),
            "asof_institutional": pd.concat([current, previous]).groupby("symbol")["known_at"].max(),
        }
    )
    out.index.name = "symbol"
    return out


def price_arrays(prices: pd.DataFrame) -> dict[str, object]:
    """PriceMatrix's arrays as the pivot gave them (column-major float arrays)."""
    prices = prices.drop_duplicates(["symbol", "date"], keep="last")
    wide = prices.pivot(index="date", columns="symbol")
    symbols = pd.Index(wide.columns.get_level_values(1).unique())
    arrays: dict[str, object] = {"dates": pd.DatetimeIndex(wide.index), "symbols": symbols}
    for name, column in (
        ("adj", "adj_close"),
        ("close", "close"),
        ("volume", "volume"),
        ("shares", "shares_outstanding"),
    ):
        arrays[name] = wide[column].reindex(columns=symbols).to_numpy(dtype=float)
    adj = arrays["adj"]
    arrays["log_returns"] = np.vstack([np.full((1, len(symbols)), np.nan), np.diff(np.log(adj), axis=0)])
    return arrays


def insider_block(ins: pd.DataFrame, t: pd.Timestamp, cutoff: pd.Timestamp, px: PriceMatrix) -> pd.DataFrame:
    """(px is unused, as in the block it mirrors.)"""
    known = known_insider_lines(ins, cutoff)
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


def insider_split_block(lines: pd.DataFrame, t: pd.Timestamp, cutoff: pd.Timestamp, no_history: bool) -> pd.DataFrame:
    """Per symbol with open-market lines in the 90-day window (`lines`: split_lines): the
    routine/opportunistic split (unless `no_history`) and the planned/discretionary split of its
    trades. attrs['plan_missing']: no line of the window, for any symbol, states the 10b5-1 box."""
    known = known_insider_lines(lines, cutoff)
    om = known[known["transaction_code"].isin(OPEN_MARKET_CODES)]
    w90 = om[(om["event_date"] > t - pd.Timedelta(days=90)) & (om["event_date"] <= t)]
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
        kind = insider_classes(w90, om)
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
    read = om[(om["event_date"] >= split_history_start(t)) & om["insider"].isin(w90["insider"].unique())]
    out["asof_insider_split"] = read.groupby("symbol")["known_at"].max()
    out.index.name = "symbol"
    out.attrs["plan_missing"] = plan_missing
    return out


def etf_block(e: pd.DataFrame, t: pd.Timestamp, cutoff: pd.Timestamp) -> pd.DataFrame:
    """ETF features; `etf_flow_30d` is a real zero for unheld symbols when some ETF has both
    snapshots (filled by the caller), and undefined (NaN) when none has."""
    known = e[e["known_at"] <= cutoff]
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
