"""The feature catalogue: every model input, defined precisely (rendered into docs/features.md
and the Dagster UI). t is the sample date, c = t 16:00 New York (the close): a row is usable only
if its `known_at` <= c. Windows are in calendar days ending at t, on the date field named."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    family: str  # insider | institutional | congress | hedge_fund | etf | price | missingness | insider_split
    formula: str
    source_table: str
    date_field: str
    window: str
    unit: str

    @property
    def is_smart_money(self) -> bool:
        return self.family in SMART_MONEY_FAMILIES


SMART_MONEY_FAMILIES = ("insider", "institutional", "congress", "hedge_fund", "etf")
# Descriptive levels: how much of a stock institutions or ETFs own. The literature finds no
# direction in them (ETF ownership raises volatility, Ben-David et al. 2018), and their levels
# trend with the market's structure, so they describe a stock rather than signal a move.
LEVEL_FEATURES = (
    "inst_ownership_pct",
    "inst_concentration_top10",
    "hedgefund_top20_exposure",
    "etf_ownership_pct",
    "etf_flow_30d",
    "etf_concentration",
)
DATE_LEVEL_FEATURES = ("market_volatility_20d", "market_volatility_60d", "market_return_1m")
OPEN_MARKET = (
    "open-market lines (Form 4 code P = purchase, S = sale; awards A, exercises M, tax F, gifts G and "
    "other codes never count)"
)
TRADE = "trade = distinct (insider CIK, transaction date, code)"
UNDEFINED_WITHOUT_SHARES = "NaN when the stock's shares outstanding at t are unknown (public files carry none)"
AMENDMENTS = "a 4/A known by c replaces the line it amends"
CMP_SPLIT = (
    "insiders split as in Cohen, Malloy & Pomorski (2012), per insider (CIK) and stock from the open-market "
    "trades known by c: for a trade in calendar year Y the insider is classified if it traded in each of Y-1, "
    "Y-2 and Y-3, routine if in one same calendar month of each of those years, else opportunistic; "
    "insiders with less history are in neither group (as in the paper)"
)
PLAN_BOX = (
    "a trade is planned when a line of it has the Rule 10b5-1 box checked (`plan_10b5_1`; SEC forms "
    "filed from 2023-04-01 state it, older forms and other sources do not)"
)
LATEST_13F = (
    "per filer, the latest filing (amendments replace originals) for its latest period known by c "
    "(period within 250 days) vs its filing for the quarter before; frac = shares / shares outstanding "
    "at the period end (share counts instead where shares outstanding are unknown: changes, counts and "
    "ratios are the same); only filers with both filings count for changes"
)

_F = FeatureSpec
CATALOGUE: tuple[FeatureSpec, ...] = (
    # --- insiders ---------------------------------------------------------------------------
    _F(
        "insider_buy_ratio_30d",
        "insider",
        f"purchase trades / (purchase + sale trades) among {OPEN_MARKET}; {TRADE}; NaN when there are none",
        "insider_trades",
        "event_date (known_at <= c)",
        "30d",
        "ratio 0-1",
    ),
    _F(
        "insider_buy_volume_30d",
        "insider",
        f"sum of shares x price of purchase lines ({AMENDMENTS}; missing price -> close on the transaction date); 0 "
        "when none",
        "insider_trades",
        "event_date (known_at <= c)",
        "30d",
        "USD",
    ),
    _F(
        "insider_sell_volume_30d",
        "insider",
        "sum of shares x price of open-market sale lines (same rules); 0 when none",
        "insider_trades",
        "event_date (known_at <= c)",
        "30d",
        "USD",
    ),
    _F(
        "insider_net_flow_30d",
        "insider",
        "(purchase value - sale value) / market cap at t",
        "insider_trades, prices",
        "event_date (known_at <= c)",
        "30d",
        "bp of market cap",
    ),
    _F(
        "insider_cluster_score",
        "insider",
        "number of distinct insiders (CIK) with an open-market purchase",
        "insider_trades",
        "event_date (known_at <= c)",
        "30d",
        "insiders",
    ),
    _F(
        "insider_ownership_change_90d",
        "insider",
        "net shares acquired (A) minus disposed (D) over all Form 4 lines / shares outstanding at t",
        "insider_trades, prices",
        "event_date (known_at <= c)",
        "90d",
        "% of shares",
    ),
    _F(
        "insider_avg_premium",
        "insider",
        "adjusted close at t / share-weighted average adjusted purchase price - 1 (how far the stock is above what "
        "insiders paid); NaN without purchases",
        "insider_trades, prices",
        "event_date (known_at <= c)",
        "30d",
        "ratio",
    ),
    _F(
        "c_suite_activity_ratio",
        "insider",
        "open-market trades by CEO/CFO/COO/President / all open-market trades; NaN when none",
        "insider_trades",
        "event_date (known_at <= c)",
        "30d",
        "ratio 0-1",
    ),
    # --- institutions (all 13F filers) ------------------------------------------------------
    _F(
        "inst_ownership_pct",
        "institutional",
        f"sum of frac over filers' latest filings ({LATEST_13F}); {UNDEFINED_WITHOUT_SHARES}",
        "institutional_holdings",
        "known_at (filing)",
        "latest quarter",
        "% of shares",
    ),
    _F(
        "inst_ownership_change_1q",
        "institutional",
        f"sum over filers of frac(latest) - frac(previous quarter); {UNDEFINED_WITHOUT_SHARES}",
        "institutional_holdings",
        "known_at (filing)",
        "1 quarter",
        "pp of shares",
    ),
    _F(
        "inst_new_positions_count",
        "institutional",
        "filers holding it in their latest filing but not the previous one",
        "institutional_holdings",
        "known_at (filing)",
        "1 quarter",
        "filers",
    ),
    _F(
        "inst_closed_positions_count",
        "institutional",
        "filers that held it in the previous filing and not in the latest",
        "institutional_holdings",
        "known_at (filing)",
        "1 quarter",
        "filers",
    ),
    _F(
        "inst_avg_position_size_change",
        "institutional",
        "mean over filers holding it in both filings of frac(latest) / frac(previous) - 1",
        "institutional_holdings",
        "known_at (filing)",
        "1 quarter",
        "ratio",
    ),
    _F(
        "inst_concentration_top10",
        "institutional",
        "shares of the 10 largest holders / shares of all holders (latest filings)",
        "institutional_holdings",
        "known_at (filing)",
        "latest quarter",
        "ratio 0-1",
    ),
    _F(
        "inst_momentum_score",
        "institutional",
        "(increases + new - decreases - closed) / filers with a position in either filing (increase: frac up > 0.5 %)",
        "institutional_holdings",
        "known_at (filing)",
        "1 quarter",
        "ratio -1..1",
    ),
    # --- hedge funds: the configured list of 13F filers -------------------------------------
    _F(
        "hedgefund_top20_exposure",
        "hedge_fund",
        f"sum of frac held by the configured hedge funds (latest filings); {UNDEFINED_WITHOUT_SHARES}",
        "institutional_holdings",
        "known_at (filing)",
        "latest quarter",
        "% of shares",
    ),
    _F(
        "hedgefund_net_change_1q",
        "hedge_fund",
        f"sum over the hedge funds of frac(latest) - frac(previous); {UNDEFINED_WITHOUT_SHARES}",
        "institutional_holdings",
        "known_at (filing)",
        "1 quarter",
        "pp of shares",
    ),
    _F(
        "hedgefund_new_entry_count",
        "hedge_fund",
        "hedge funds holding it now but not in their previous filing",
        "institutional_holdings",
        "known_at (filing)",
        "1 quarter",
        "funds",
    ),
    _F(
        "hedgefund_exit_count",
        "hedge_fund",
        "hedge funds that held it and no longer do",
        "institutional_holdings",
        "known_at (filing)",
        "1 quarter",
        "funds",
    ),
    _F(
        "hedgefund_conviction_score",
        "hedge_fund",
        "hedge-fund increases + new entries - decreases - exits",
        "institutional_holdings",
        "known_at (filing)",
        "1 quarter",
        "funds (net)",
    ),
    # --- Congress ---------------------------------------------------------------------------
    _F(
        "congress_buy_count_90d",
        "congress",
        "purchase disclosures with a transaction date in the window",
        "congress_trades",
        "event_date (known_at <= c)",
        "90d",
        "trades",
    ),
    _F(
        "congress_sell_count_90d",
        "congress",
        "sale disclosures (full, partial) with a transaction date in the window",
        "congress_trades",
        "event_date (known_at <= c)",
        "90d",
        "trades",
    ),
    _F(
        "congress_net_sentiment",
        "congress",
        "(buys - sells) / (buys + sells) over the 90d window; NaN when none",
        "congress_trades",
        "event_date (known_at <= c)",
        "90d",
        "ratio -1..1",
    ),
    _F(
        "congress_recent_activity_7d",
        "congress",
        "disclosures of any type that became public in the last 7 days",
        "congress_trades",
        "known_at",
        "7d",
        "disclosures",
    ),
    # --- ETFs -------------------------------------------------------------------------------
    _F(
        "etf_ownership_pct",
        "etf",
        "sum over ETFs of shares in each ETF's latest snapshot (dated within 14 days) / shares outstanding at the "
        f"snapshot; {UNDEFINED_WITHOUT_SHARES}",
        "etf_holdings",
        "event_date (known_at <= c)",
        "latest snapshot",
        "% of shares",
    ),
    _F(
        "etf_flow_30d",
        "etf",
        "ETF ownership now - ETF ownership in each ETF's latest snapshot dated 30-44 days earlier (ETFs with both "
        f"snapshots); {UNDEFINED_WITHOUT_SHARES}",
        "etf_holdings",
        "event_date (known_at <= c)",
        "30d",
        "pp of shares",
    ),
    _F(
        "etf_concentration",
        "etf",
        "Herfindahl index of the ETFs' shares in the stock (latest snapshots); NaN when held by none",
        "etf_holdings",
        "event_date (known_at <= c)",
        "latest snapshot",
        "0-1",
    ),
    # --- price context (controls any honest model needs) ------------------------------------
    _F(
        "return_1m",
        "price",
        "adj close(t) / adj close(21 sessions earlier) - 1",
        "prices",
        "date",
        "21 sessions",
        "ratio",
    ),
    _F(
        "return_3m",
        "price",
        "adj close(t) / adj close(63 sessions earlier) - 1",
        "prices",
        "date",
        "63 sessions",
        "ratio",
    ),
    _F(
        "return_6m",
        "price",
        "adj close(t) / adj close(126 sessions earlier) - 1",
        "prices",
        "date",
        "126 sessions",
        "ratio",
    ),
    _F(
        "return_12_1m",
        "price",
        "adj close(21 sessions earlier) / adj close(252 sessions earlier) - 1",
        "prices",
        "date",
        "252 sessions",
        "ratio",
    ),
    _F(
        "volatility_10d", "price", "std of daily log returns x sqrt(252)", "prices", "date", "10 sessions", "annualised"
    ),
    _F(
        "volatility_20d", "price", "std of daily log returns x sqrt(252)", "prices", "date", "20 sessions", "annualised"
    ),
    _F(
        "volatility_60d", "price", "std of daily log returns x sqrt(252)", "prices", "date", "60 sessions", "annualised"
    ),
    _F(
        "volatility_120d",
        "price",
        "std of daily log returns x sqrt(252)",
        "prices",
        "date",
        "120 sessions",
        "annualised",
    ),
    _F(
        "volatility_250d",
        "price",
        "std of daily log returns x sqrt(252)",
        "prices",
        "date",
        "250 sessions",
        "annualised",
    ),
    _F(
        "max_abs_return_60d",
        "price",
        "largest absolute daily log return (jump risk)",
        "prices",
        "date",
        "60 sessions",
        "log return",
    ),
    _F(
        "beta_250d",
        "price",
        "OLS slope of daily log returns on the market index's",
        "prices",
        "date",
        "250 sessions",
        "beta",
    ),
    _F(
        "idio_volatility_60d",
        "price",
        "std of (r - beta_250d x r_market) x sqrt(252)",
        "prices",
        "date",
        "60 sessions",
        "annualised",
    ),
    _F(
        "market_volatility_20d",
        "price",
        "market index volatility (same for all stocks of a date)",
        "prices",
        "date",
        "20 sessions",
        "annualised",
    ),
    _F(
        "market_volatility_60d",
        "price",
        "market index volatility (same for all stocks of a date)",
        "prices",
        "date",
        "60 sessions",
        "annualised",
    ),
    _F(
        "market_return_1m",
        "price",
        "market index return (same for all stocks of a date)",
        "prices",
        "date",
        "21 sessions",
        "ratio",
    ),
    _F("log_market_cap", "price", "log(close x shares outstanding) at t", "prices", "date", "t", "log USD"),
    _F(
        "log_dollar_volume_20d",
        "price",
        "log of mean(close x volume); NaN when the stock did not trade",
        "prices",
        "date",
        "20 sessions",
        "log USD",
    ),
    _F(
        "volume_ratio_20_60",
        "price",
        "mean volume over 20 sessions / mean over 60",
        "prices",
        "date",
        "60 sessions",
        "ratio",
    ),
    # --- insider trades split (analysis columns: stored with the features, not model inputs) -
    _F(
        "insider_opportunistic_buy_count_90d",
        "insider_split",
        f"open-market purchase trades by opportunistic insiders ({CMP_SPLIT}); {TRADE}; {AMENDMENTS}; "
        "0 when none; NaN when insider_history_missing",
        "insider_trades",
        "event_date (known_at <= c)",
        "90d (+ 3 calendar years of history)",
        "trades",
    ),
    _F(
        "insider_opportunistic_net_value_90d",
        "insider_split",
        "sum of shares x price of opportunistic insiders' purchase lines minus their sale lines (missing price "
        "-> close on the transaction date); 0 when none; NaN when insider_history_missing",
        "insider_trades",
        "event_date (known_at <= c)",
        "90d (+ 3 calendar years of history)",
        "USD",
    ),
    _F(
        "insider_routine_share_90d",
        "insider_split",
        "open-market trades by routine insiders / trades by classified (routine or opportunistic) insiders; "
        "NaN when no trade's insider is classified or insider_history_missing",
        "insider_trades",
        "event_date (known_at <= c)",
        "90d (+ 3 calendar years of history)",
        "ratio 0-1",
    ),
    _F(
        "insider_planned_sale_share_90d",
        "insider_split",
        f"planned sale trades / sale trades whose filing states the box ({PLAN_BOX}); NaN when no sale trade states it",
        "insider_trades",
        "event_date (known_at <= c)",
        "90d",
        "ratio 0-1",
    ),
    _F(
        "insider_discretionary_sale_value_90d",
        "insider_split",
        "sum of shares x price of sale lines whose filing states no 10b5-1 plan (box unchecked on a form from "
        "2023-04-01); 0 when no sale; NaN when a sale line of the window does not state the box, or "
        "insider_plan_missing",
        "insider_trades",
        "event_date (known_at <= c)",
        "90d",
        "USD",
    ),
    _F(
        "insider_history_missing",
        "insider_split",
        "1 if insider_missing, or the insider table's earliest row known by c became public after January of "
        "year(t - 89d) - 3: too little history to split the window's trades (the routine/opportunistic "
        "features are then NaN)",
        "insider_trades",
        "known_at",
        "3 calendar years before the window",
        "0/1",
    ),
    _F(
        "insider_plan_missing",
        "insider_split",
        "1 if no open-market line with a transaction date in the window known by c states the 10b5-1 box, for "
        "any symbol (the source does not say, or only forms from before 2023-04-01 are in the window)",
        "insider_trades",
        "event_date (known_at <= c)",
        "90d",
        "0/1",
    ),
    # --- missingness: 1 when a whole source has nothing in its window (NaN features follow) -
    _F(
        "insider_missing",
        "missingness",
        "1 if the insider table has no row known in (c - 365d, c] for any symbol",
        "insider_trades",
        "known_at",
        "365d",
        "0/1",
    ),
    _F(
        "institutional_missing",
        "missingness",
        "1 if no 13F row was filed in (c - 250d, c] for any symbol",
        "institutional_holdings",
        "known_at",
        "250d",
        "0/1",
    ),
    _F(
        "congress_missing",
        "missingness",
        "1 if the congress table has no row known in (c - 365d, c] for any symbol",
        "congress_trades",
        "known_at",
        "365d",
        "0/1",
    ),
    _F(
        "etf_missing",
        "missingness",
        "1 if no ETF snapshot dated within 14 days of t is known by c",
        "etf_holdings",
        "event_date",
        "14d",
        "0/1",
    ),
    _F(
        "prices_missing",
        "missingness",
        "1 if the stock has no close at t or fewer than 20 sessions of history",
        "prices",
        "date",
        "t",
        "0/1",
    ),
)

FEATURES = tuple(spec.name for spec in CATALOGUE)
PLAN_FEATURES = tuple(spec.name for spec in CATALOGUE if spec.is_smart_money)  # the plan's 27
PRICE_FEATURES = tuple(spec.name for spec in CATALOGUE if spec.family == "price")
# Smart-money features that can say which way a stock will move: trades and position changes.
DIRECTIONAL_FEATURES = tuple(name for name in PLAN_FEATURES if name not in LEVEL_FEATURES)
MISSING_INDICATORS = tuple(spec.name for spec in CATALOGUE if spec.family == "missingness")
# Analysis columns: computed point in time with the features and stored with them, but not model
# inputs. The plan's 27, the model's input list (which the registry versions) and the serving API
# do not change with them. Why, and how to model them: docs/sec-data.md#what-the-features-use.
ANALYSIS_FAMILIES = ("insider_split",)
ANALYSIS_FEATURES = tuple(spec.name for spec in CATALOGUE if spec.family in ANALYSIS_FAMILIES)
MODEL_FEATURES = tuple(name for name in FEATURES if name not in ANALYSIS_FEATURES)
INDICATORS = tuple(spec.name for spec in CATALOGUE if spec.unit == "0/1")  # every 0/1 column
BY_NAME = {spec.name: spec for spec in CATALOGUE}
# The date each family's inputs are stamped with; provenance columns asof_<family> record the
# newest input a sample used, and the temporal-integrity check requires asof <= cutoff.
PROVENANCE_COLUMNS = (
    "asof_insider", "asof_institutional", "asof_congress", "asof_etf", "asof_prices", "asof_insider_split",
)  # fmt: skip

assert len(PLAN_FEATURES) == 27, "the plan's 27 smart-money features"


def render_markdown() -> str:
    lines = [
        "| feature | family | formula | source | date field | window | unit |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in CATALOGUE:
        lines.append(
            f"| `{s.name}` | {s.family} | {s.formula} | {s.source_table} | {s.date_field} | {s.window} | {s.unit} |"
        )
    return "\n".join(lines)
