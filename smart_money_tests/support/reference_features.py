"""Reference implementation of every catalogue feature: a plain loop over (symbol, sample date)
that reads the raw rows directly. Deliberately simple and slow; the vectorised
`dataset.features.compute_features` must reproduce it (and is benchmarked against it)."""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from functools import lru_cache

import pandas as pd

from smart_money.data import calendar as cal
from smart_money.dataset.features import FeatureInputs

C_SUITE = {"CEO", "CFO", "COO", "PRESIDENT"}
SALES = {"sale", "sale_partial", "sale_full"}
NAN = float("nan")


def _std(values: list[float]) -> float:
    if len(values) < 2:
        return NAN
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


class Reference:
    def __init__(self, inputs: FeatureInputs):
        self.inputs = inputs
        prices = inputs.prices.drop_duplicates(["symbol", "date"], keep="last")
        self.dates = sorted(prices["date"].unique())
        self.row_of = {d: i for i, d in enumerate(self.dates)}
        self.series: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
        for r in prices.itertuples(index=False):
            row = self.row_of[r.date]
            for field in ("adj_close", "close", "volume", "shares_outstanding"):
                value = getattr(r, field)
                self.series[r.symbol][field][row] = float(value) if value == value and value is not None else NAN
        self.universe_shares = (
            inputs.universe.drop_duplicates("symbol").set_index("symbol")["shares_outstanding"].to_dict()
        )
        # plain row lists (whole tables, and per symbol for speed; the logic below stays a loop)
        self.rows = {
            name: list(getattr(inputs, name).itertuples(index=False))
            for name in ("insider_trades", "institutional_holdings", "congress_trades", "etf_holdings")
        }
        self.by_symbol = {name: defaultdict(list) for name in self.rows}
        for name, rows in self.rows.items():
            for r in rows:
                self.by_symbol[name][r.symbol].append(r)
        self._known_13f = lru_cache(maxsize=None)(self._chosen_13f)
        self._window_states_plan = lru_cache(maxsize=None)(self._plan_stated_anywhere)

    # -- helpers -------------------------------------------------------------------------------
    def value_at(self, symbol: str, field: str, row: int) -> float:
        return self.series.get(symbol, {}).get(field, {}).get(row, NAN)

    def row_on_or_before(self, day: pd.Timestamp) -> int:
        return bisect.bisect_right(self.dates, day) - 1

    def at_date(self, symbol: str, field: str, day: pd.Timestamp) -> float:
        row = self.row_on_or_before(day)
        return self.value_at(symbol, field, row) if row >= 0 else NAN

    def log_return(self, symbol: str, row: int) -> float:
        if row < 1:
            return NAN
        a, b = self.value_at(symbol, "adj_close", row), self.value_at(symbol, "adj_close", row - 1)
        return math.log(a / b) if a == a and b == b else NAN

    def shares_at(self, symbol: str, day: pd.Timestamp) -> float:
        value = self.at_date(symbol, "shares_outstanding", day)
        return value if value == value else float(self.universe_shares.get(symbol, NAN))

    # -- families ------------------------------------------------------------------------------
    def amended_lines(self, rows: list, cutoff: pd.Timestamp) -> list:
        """The rows known at the cutoff, each 4/A known by then in place of the line it amends."""
        known = [r for r in rows if r.known_at <= cutoff]
        latest_amendment: dict[str, object] = {}
        for r in sorted((r for r in known if isinstance(r.amends_record_id, str)), key=lambda r: r.known_at):
            latest_amendment[r.amends_record_id] = r
        return [
            r
            for r in known
            if r.record_id not in latest_amendment
            and not (isinstance(r.amends_record_id, str) and latest_amendment[r.amends_record_id] is not r)
        ]

    def insider(self, symbol: str, t: pd.Timestamp, cutoff: pd.Timestamp) -> dict:
        everything = self.rows["insider_trades"]
        out: dict = {
            "insider_missing": 0.0
            if any(cutoff - pd.Timedelta(days=365) < r.known_at <= cutoff for r in everything)
            else 1.0
        }
        if out["insider_missing"]:
            return {**out, "insider_history_missing": 1.0, "insider_plan_missing": 1.0}
        lines = self.amended_lines(self.by_symbol["insider_trades"][symbol], cutoff)  # amendments share the symbol
        out["insider_filings_365d"] = float(sum(1 for r in lines if r.known_at > cutoff - pd.Timedelta(days=365)))
        w30 = [r for r in lines if t - pd.Timedelta(days=30) < r.event_date <= t]
        w90 = [r for r in lines if t - pd.Timedelta(days=90) < r.event_date <= t]

        def price_used(r) -> float:
            return r.price if r.price == r.price and r.price > 0 else self.at_date(symbol, "close", r.event_date)

        trades = {
            (r.reporting_cik, r.event_date, r.transaction_code): r.role for r in w30 if r.transaction_code in ("P", "S")
        }
        n_buy = sum(1 for key in trades if key[2] == "P")
        n_csuite = sum(1 for role in trades.values() if role in C_SUITE)
        buys = [r for r in w30 if r.transaction_code == "P"]
        sells = [r for r in w30 if r.transaction_code == "S"]
        buy_value = sum(r.shares * price_used(r) for r in buys)
        sell_value = sum(r.shares * price_used(r) for r in sells)
        close_t, adj_t, shares_t = (self.at_date(symbol, f, t) for f in ("close", "adj_close", "shares_outstanding"))
        cost = bought = 0.0
        for r in buys:
            adj_price = (
                price_used(r)
                * self.at_date(symbol, "adj_close", r.event_date)
                / self.at_date(symbol, "close", r.event_date)
            )
            if adj_price == adj_price:
                cost += adj_price * r.shares
                bought += r.shares
        net_shares = sum(r.shares if r.acquisition_or_disposition == "A" else -r.shares for r in w90)
        out.update(
            insider_buy_ratio_30d=n_buy / len(trades) if trades else NAN,
            insider_buy_volume_30d=buy_value,
            insider_sell_volume_30d=sell_value,
            insider_net_flow_30d=1e4 * (buy_value - sell_value) / (close_t * shares_t),
            insider_cluster_score=float(len({r.reporting_cik for r in buys})),
            insider_ownership_change_90d=100.0 * net_shares / shares_t,
            insider_avg_premium=adj_t / (cost / bought) - 1.0 if bought > 0 else NAN,
            c_suite_activity_ratio=n_csuite / len(trades) if trades else NAN,
            asof_insider=max((r.known_at for r in w90), default=pd.NaT),
        )
        out.update(self.insider_split(symbol, t, cutoff, lines, price_used))
        return out

    def _plan_stated_anywhere(self, t: pd.Timestamp, cutoff: pd.Timestamp) -> bool:
        """Does any open-market line of the window, of any symbol, state the 10b5-1 box?"""
        for lines in self.by_symbol["insider_trades"].values():
            for r in self.amended_lines(lines, cutoff):
                if r.transaction_code in ("P", "S") and t - pd.Timedelta(days=90) < r.event_date <= t:
                    if _stated(r):
                        return True
        return False

    def insider_split(self, symbol: str, t: pd.Timestamp, cutoff: pd.Timestamp, lines: list, price_used) -> dict:
        """Routine/opportunistic (Cohen, Malloy & Pomorski 2012) and planned/discretionary trades,
        with plain sets per insider and year."""
        earliest = min((r.known_at for r in self.rows["insider_trades"] if r.known_at <= cutoff), default=None)
        first_year = (t - pd.Timedelta(days=89)).year - 3
        no_history = earliest is None or earliest >= pd.Timestamp(year=first_year, month=2, day=1)
        plan_missing = not self._window_states_plan(t, cutoff)
        om = [r for r in lines if r.transaction_code in ("P", "S")]
        w90 = [r for r in om if t - pd.Timedelta(days=90) < r.event_date <= t]
        out: dict = {"insider_history_missing": float(no_history), "insider_plan_missing": float(plan_missing)}

        sales = [r for r in w90 if r.transaction_code == "S"]
        sale_trades: dict[tuple, list] = defaultdict(list)
        for r in sales:
            sale_trades[(r.reporting_cik, r.event_date)].append(r)
        stated_trades = [rows for rows in sale_trades.values() if any(_stated(r) for r in rows)]
        out["insider_planned_sale_share_90d"] = (
            sum(1 for rows in stated_trades if any(_plan(r) is True for r in rows)) / len(stated_trades)
            if stated_trades
            else NAN
        )
        if plan_missing or any(not _stated(r) for r in sales):
            out["insider_discretionary_sale_value_90d"] = NAN
        else:
            out["insider_discretionary_sale_value_90d"] = sum(
                r.shares * price_used(r) for r in sales if _plan(r) is False
            )

        def kind(cik: str, year: int) -> str | None:
            mine = [r for r in om if r.reporting_cik == cik]
            years = {r.event_date.year for r in mine}
            months = {(r.event_date.year, r.event_date.month) for r in mine}
            if not all(year - k in years for k in (1, 2, 3)):
                return None
            for month in range(1, 13):
                if all((year - k, month) in months for k in (1, 2, 3)):
                    return "routine"
            return "opportunistic"

        if not no_history:
            trades = {(r.reporting_cik, r.event_date, r.transaction_code) for r in w90}
            kinds = {key: kind(key[0], key[1].year) for key in trades}
            classified = [key for key, k in kinds.items() if k is not None]
            out["insider_opportunistic_buy_count_90d"] = float(
                sum(1 for key in classified if kinds[key] == "opportunistic" and key[2] == "P")
            )
            out["insider_opportunistic_net_value_90d"] = sum(
                (1.0 if r.transaction_code == "P" else -1.0) * r.shares * price_used(r)
                for r in w90
                if kinds[(r.reporting_cik, r.event_date, r.transaction_code)] == "opportunistic"
            )
            out["insider_routine_share_90d"] = (
                sum(1 for key in classified if kinds[key] == "routine") / len(classified) if classified else NAN
            )
        insiders = {r.reporting_cik for r in w90}
        start = pd.Timestamp(year=first_year, month=1, day=1)
        out["asof_insider_split"] = max(
            (r.known_at for r in om if r.reporting_cik in insiders and start <= r.event_date <= t), default=pd.NaT
        )
        return out

    def _chosen_13f(self, cutoff: pd.Timestamp):
        """Per (filer, quarter) the filing in force at the cutoff; each filer's latest quarter."""
        known = [
            r
            for r in self.rows["institutional_holdings"]
            if r.known_at <= cutoff and r.event_date > cutoff - pd.Timedelta(days=342)
        ]
        chosen: dict[tuple[str, pd.Period], tuple[pd.Timestamp, str]] = {}
        for r in sorted(known, key=lambda r: r.known_at):
            chosen[(r.filer_cik, r.event_date.to_period("Q"))] = (r.known_at, r.accession)
        latest: dict[str, pd.Period] = {}
        for filer, period in chosen:
            latest[filer] = max(latest.get(filer, period), period)
        latest = {f: p for f, p in latest.items() if p.end_time > cutoff - pd.Timedelta(days=250)}
        with_previous = {f for f, p in latest.items() if (f, p - 1) in chosen}
        return {acc for _, acc in chosen.values()}, latest, with_previous

    def institutional(self, symbol: str, cutoff: pd.Timestamp) -> dict:
        hedge_funds = self.inputs.hedge_funds
        if not any(cutoff - pd.Timedelta(days=250) < r.known_at <= cutoff for r in self.rows["institutional_holdings"]):
            return {"institutional_missing": 1.0}
        out: dict = {"institutional_missing": 0.0}
        accessions, latest, with_previous = self._known_13f(cutoff)
        known = [
            r
            for r in self.by_symbol["institutional_holdings"][symbol]
            if r.known_at <= cutoff and r.event_date > cutoff - pd.Timedelta(days=342)
        ]
        now: dict[str, float] = defaultdict(float)
        before: dict[str, float] = defaultdict(float)
        stamps = []
        for r in known:
            if r.accession not in accessions:
                continue
            period = r.event_date.to_period("Q")
            frac = r.shares / self.shares_at(symbol, r.event_date)
            if r.filer_cik in latest and period == latest[r.filer_cik]:
                now[r.filer_cik] += frac
                stamps.append(r.known_at)
            elif r.filer_cik in with_previous and period == latest[r.filer_cik] - 1:
                before[r.filer_cik] += frac
                stamps.append(r.known_at)

        def tally(filers: set[str]) -> dict[str, float]:
            t = defaultdict(float)
            for f in filers:
                a, b = now.get(f, 0.0), before.get(f, 0.0)
                if a == 0 and b == 0:
                    continue
                t["active"] += 1
                t["change"] += a - b
                t["new"] += a > 0 and b == 0
                t["closed"] += a == 0 and b > 0
                t["increase"] += a > b * 1.005 and b > 0
                t["decrease"] += a < b * 0.995 and a > 0
                if a > 0 and b > 0:
                    t["steady"] += 1
                    t["size_change"] += a / b - 1.0
            return t

        every = tally(with_previous)
        hf = tally(with_previous & set(hedge_funds))
        holdings = sorted(now.values(), reverse=True)
        total = sum(holdings)
        out.update(
            inst_ownership_pct=100.0 * total,
            inst_ownership_change_1q=100.0 * every["change"],
            inst_new_positions_count=every["new"],
            inst_closed_positions_count=every["closed"],
            inst_avg_position_size_change=every["size_change"] / every["steady"] if every["steady"] else NAN,
            inst_concentration_top10=sum(holdings[:10]) / total if total > 0 else NAN,
            inst_momentum_score=(every["increase"] + every["new"] - every["decrease"] - every["closed"])
            / every["active"]
            if every["active"]
            else NAN,
            hedgefund_top20_exposure=100.0 * sum(v for f, v in now.items() if f in hedge_funds),
            hedgefund_net_change_1q=100.0 * hf["change"],
            hedgefund_new_entry_count=hf["new"],
            hedgefund_exit_count=hf["closed"],
            hedgefund_conviction_score=hf["increase"] + hf["new"] - hf["decrease"] - hf["closed"],
            asof_institutional=max(stamps, default=pd.NaT),
        )
        return out

    def congress(self, symbol: str, t: pd.Timestamp, cutoff: pd.Timestamp) -> dict:
        if not any(cutoff - pd.Timedelta(days=365) < r.known_at <= cutoff for r in self.rows["congress_trades"]):
            return {"congress_missing": 1.0}
        mine = [r for r in self.by_symbol["congress_trades"][symbol] if r.known_at <= cutoff]
        w90 = [r for r in mine if t - pd.Timedelta(days=90) < r.event_date <= t]
        recent = [r for r in mine if r.known_at > cutoff - pd.Timedelta(days=7)]
        buys = sum(1 for r in w90 if r.transaction_type == "purchase")
        sells = sum(1 for r in w90 if r.transaction_type in SALES)
        return {
            "congress_missing": 0.0,
            "congress_buy_count_90d": float(buys),
            "congress_sell_count_90d": float(sells),
            "congress_net_sentiment": (buys - sells) / (buys + sells) if buys + sells else NAN,
            "congress_recent_activity_7d": float(len(recent)),
            "asof_congress": max((r.known_at for r in w90 + recent), default=pd.NaT),
        }

    def etf(self, symbol: str, t: pd.Timestamp, cutoff: pd.Timestamp) -> dict:
        known = [r for r in self.rows["etf_holdings"] if r.known_at <= cutoff]
        if not any(r.event_date >= t - pd.Timedelta(days=14) for r in known):
            return {"etf_missing": 1.0}

        def snapshot(newest: pd.Timestamp, oldest: pd.Timestamp) -> dict[str, pd.Timestamp]:
            best: dict[str, pd.Timestamp] = {}
            for r in known:
                if oldest <= r.event_date <= newest:
                    best[r.etf_symbol] = max(best.get(r.etf_symbol, r.event_date), r.event_date)
            return best

        now, then = (
            snapshot(t, t - pd.Timedelta(days=14)),
            snapshot(t - pd.Timedelta(days=30), t - pd.Timedelta(days=44)),
        )
        both = set(now) & set(then)
        shares_by_etf: dict[str, float] = defaultdict(float)
        own_now = own_now_both = own_then_both = 0.0
        stamps = []
        for r in self.by_symbol["etf_holdings"][symbol]:
            if r.known_at > cutoff:
                continue
            frac = r.shares / self.shares_at(symbol, r.event_date)
            if now.get(r.etf_symbol) == r.event_date:
                shares_by_etf[r.etf_symbol] += r.shares
                own_now += frac
                own_now_both += frac if r.etf_symbol in both else 0.0
                stamps.append(r.known_at)
            if then.get(r.etf_symbol) == r.event_date:
                own_then_both += frac if r.etf_symbol in both else 0.0
                stamps.append(r.known_at)
        total = sum(shares_by_etf.values())
        return {
            "etf_missing": 0.0,
            "etf_ownership_pct": 100.0 * own_now,
            "etf_flow_30d": 100.0 * (own_now_both - own_then_both) if both else NAN,
            "etf_concentration": sum((s / total) ** 2 for s in shares_by_etf.values()) if total > 0 else NAN,
            "asof_etf": max(stamps, default=pd.NaT),
        }

    def prices(self, symbol: str, t: pd.Timestamp) -> dict:
        r = self.row_of.get(t)
        if r is None or symbol not in self.series:
            return {"prices_missing": 1.0}
        adj = lambda row: self.value_at(symbol, "adj_close", row) if row >= 0 else NAN  # noqa: E731
        market = self.inputs.market_index
        m_adj = lambda row: self.value_at(market, "adj_close", row) if row >= 0 else NAN  # noqa: E731

        def vol(n: int) -> float:
            rets = [x for x in (self.log_return(symbol, j) for j in range(max(r - n + 1, 0), r + 1)) if x == x]
            return _std(rets) * math.sqrt(252) if len(rets) >= int(0.8 * n) else NAN

        pairs = [(self.log_return(market, j), self.log_return(symbol, j)) for j in range(max(r - 249, 0), r + 1)]
        pairs = [(m, s) for m, s in pairs if m == m and s == s]
        beta = NAN
        if len(pairs) >= 120:
            mm = sum(m for m, _ in pairs) / len(pairs)
            sm = sum(s for _, s in pairs) / len(pairs)
            beta = sum((m - mm) * (s - sm) for m, s in pairs) / sum((m - mm) ** 2 for m, _ in pairs)
        resid = [self.log_return(symbol, j) - beta * self.log_return(market, j) for j in range(max(r - 59, 0), r + 1)]
        resid = [x for x in resid if x == x]
        market_rets = [x for x in (self.log_return(market, j) for j in range(max(r - 19, 0), r + 1)) if x == x]
        market_rets60 = [x for x in (self.log_return(market, j) for j in range(max(r - 59, 0), r + 1)) if x == x]
        rets60 = [x for x in (self.log_return(symbol, j) for j in range(max(r - 59, 0), r + 1)) if x == x]
        rows20, rows60 = range(max(r - 19, 0), r + 1), range(max(r - 59, 0), r + 1)
        dollars = [self.value_at(symbol, "close", j) * self.value_at(symbol, "volume", j) for j in rows20]
        dollars = [d for d in dollars if d == d]
        v20 = [v for v in (self.value_at(symbol, "volume", j) for j in rows20) if v == v]
        v60 = [v for v in (self.value_at(symbol, "volume", j) for j in rows60) if v == v]
        history = sum(1 for j in rows20 if adj(j) == adj(j))
        close_t, shares_t = self.value_at(symbol, "close", r), self.value_at(symbol, "shares_outstanding", r)
        return {
            "prices_missing": 1.0 if adj(r) != adj(r) or history < 20 else 0.0,
            "return_1m": adj(r) / adj(r - 21) - 1.0,
            "return_3m": adj(r) / adj(r - 63) - 1.0,
            "return_6m": adj(r) / adj(r - 126) - 1.0,
            "return_12_1m": adj(r - 21) / adj(r - 252) - 1.0,
            "volatility_10d": vol(10),
            "volatility_20d": vol(20),
            "volatility_60d": vol(60),
            "volatility_120d": vol(120),
            "volatility_250d": vol(250),
            "max_abs_return_60d": max(abs(x) for x in rets60) if len(rets60) >= 48 else NAN,
            "beta_250d": beta,
            "idio_volatility_60d": _std(resid) * math.sqrt(252) if len(resid) >= 48 else NAN,
            "market_volatility_20d": _std(market_rets) * math.sqrt(252) if len(market_rets) >= 16 else NAN,
            "market_volatility_60d": _std(market_rets60) * math.sqrt(252) if len(market_rets60) >= 48 else NAN,
            "market_return_1m": m_adj(r) / m_adj(r - 21) - 1.0,
            "log_market_cap": math.log(close_t * shares_t) if close_t * shares_t > 0 else NAN,
            "log_dollar_volume_20d": math.log(sum(dollars) / len(dollars)) if dollars else NAN,
            "volume_ratio_20_60": (sum(v20) / len(v20)) / (sum(v60) / len(v60)) if v20 and v60 else NAN,
            "asof_prices": t,
        }

    def features(self, symbol: str, t: pd.Timestamp) -> dict:
        cutoff = cal.sample_cutoff(t)
        row: dict = {"symbol": symbol, "sample_date": t}
        for part in (
            self.prices(symbol, t),
            self.insider(symbol, t, cutoff),
            self.institutional(symbol, cutoff),
            self.congress(symbol, t, cutoff),
            self.etf(symbol, t, cutoff),
        ):
            row.update(part)
        return row


def _plan(row) -> bool | None:
    """The line's 10b5-1 box: True, False, or None when its filing does not state it."""
    value = getattr(row, "plan_10b5_1", None)
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)


def _stated(row) -> bool:
    return _plan(row) is not None


def reference_features(inputs: FeatureInputs, symbols: list[str], sample_dates: list[pd.Timestamp]) -> pd.DataFrame:
    ref = Reference(inputs)
    return pd.DataFrame([ref.features(s, pd.Timestamp(t)) for t in sample_dates for s in symbols])
