"""The stock analysis: each symbol's price context as of a close (momentum, risk, size and
liquidity, from the same point-in-time cross-section the model reads), optionally with the
smart-money prediction as a section.

The section is added only when the `smart-money-flow` toggle is on and the caller asks for it,
and its failure never fails the analysis: the section is then absent and the reason is given.
"""

from __future__ import annotations

import math

import pandas as pd

from smart_money.serve.feature_provider import DayFeatures
from smart_money.serve.prediction import PredictionError, PredictionService, Query, Unavailable

SECTIONS = {
    "momentum": ("return_1m", "return_3m", "return_6m", "return_12_1m"),
    "risk": (
        "volatility_20d",
        "volatility_60d",
        "volatility_250d",
        "beta_250d",
        "idio_volatility_60d",
        "max_abs_return_60d",
    ),
    "liquidity": ("volume_ratio_20_60",),
}


def _value(row: pd.Series, name: str) -> float | None:
    value = float(row[name])
    return value if math.isfinite(value) else None


def _exp(row: pd.Series, name: str) -> float | None:
    value = _value(row, name)
    return None if value is None else round(math.exp(value), 0)


def price_analysis(data: DayFeatures, symbol: str) -> dict:
    row = data.frame.loc[symbol]
    out: dict = {"symbol": symbol, "as_of": f"{data.day:%Y-%m-%d}"}
    for section, names in SECTIONS.items():
        out[section] = {name: _value(row, name) for name in names}
    out["liquidity"]["market_cap_usd"] = _exp(row, "log_market_cap")
    out["liquidity"]["dollar_volume_20d_usd"] = _exp(row, "log_dollar_volume_20d")
    return out


def stock_analysis(
    service: PredictionService, data: DayFeatures, symbols: list[str], include_smart_money: bool, toggle_on: bool
) -> dict:
    """Analyses for the symbols known on the date, errors for the others, and the smart-money
    section per symbol when it is enabled, requested and could be computed."""
    known = [s for s in symbols if data.has(s) and data.frame.at[s, "prices_missing"] != 1]
    analyses = {s: price_analysis(data, s) for s in known}
    errors = [
        {
            "symbol": s,
            "status": 404,
            "detail": f"unknown symbol {s}: no price context in the {data.source} universe on {data.day:%Y-%m-%d}",
        }
        for s in symbols
        if s not in analyses
    ]
    status: dict = {"requested": include_smart_money, "included": False, "reason": None}
    if not include_smart_money:
        status["reason"] = "not requested (set include_smart_money to true)"
    elif not toggle_on:
        status["reason"] = "the smart-money-flow feature is disabled by its admin toggle"
    elif known:
        try:
            predictions = service.predict([Query(s) for s in known], data)
        except PredictionError as exc:
            predictions = [exc] * len(known)
        except Exception:  # noqa: BLE001 - the analysis must answer whatever the model does
            predictions = [Unavailable("the smart-money model failed")] * len(known)
        reasons = set()
        for symbol, prediction in zip(known, predictions):
            if isinstance(prediction, PredictionError):
                analyses[symbol]["smart_money_flow_error"] = str(prediction)
                reasons.add(str(prediction))
            else:
                analyses[symbol]["smart_money_flow"] = prediction
        status["included"] = any("smart_money_flow" in a for a in analyses.values())
        status["reason"] = "; ".join(sorted(reasons)) or None
    else:
        status["reason"] = "no known symbol to predict"
    return {
        "as_of": f"{data.day:%Y-%m-%d}",
        "analyses": [analyses[s] for s in known],
        "errors": errors,
        "smart_money_flow_status": status,
    }
