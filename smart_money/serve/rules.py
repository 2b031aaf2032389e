"""How a calibrated probability becomes a conviction, a confidence and four signal readings.

The model answers one question: P(the close 14 days after the date is more than 5 % above the
date's close). Most of that probability is volatility (a volatile stock crosses +5 % more often
either way), so the *smart-money* reading is how far the smart-money features move the
probability away from what the stock's volatility alone implies:

- neutral probability p0 = the calibrated probability with the smart-money part of the model
  switched off (the volatility prior alone, through the same calibrator): the decision
  threshold for this stock on this date;
- shift = logit(p) - logit(p0), the log of the factor by which smart money multiplies the odds;
- predicted_conviction = BULLISH when shift > 0, else BEARISH;
- conviction_score = 100 * expit(shift), so 50 means "no information beyond volatility" and
  score / (100 - score) is that odds factor (60 -> odds x1.5, 75 -> x3, 40 -> x0.67);
- confidence from |shift|: HIGH >= 0.25 (odds x1.28 or /1.28), MEDIUM >= 0.10 (x1.105), else
  LOW. Scale: at 40 % volatility a +1 % drift over the 14 days (about what the strongest
  published insider signals earn) moves P(+5 %) from 28.6 % to 30.8 %, a shift of about 0.105; so
  MEDIUM is a literature-sized effect and HIGH more than twice that.

The signal rules read the plan's features (docs/features.md has their exact definitions) and
say what the disclosures show, not what the model concluded: they are descriptions a person can
check against the filings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from scipy.special import expit, logit

HIGH_SHIFT = 0.25
MEDIUM_SHIFT = 0.10
INSIDER_BEARISH_NET_FLOW_BP = -10.0  # net open-market sales of at least 0.1 % of market cap in 30 days
INSTITUTIONAL_MOMENTUM = 0.10  # net share of 13F filers adding (or cutting) the position
HEDGE_FUND_CONVICTION = 1.0  # net number of listed hedge funds adding (or cutting)


@dataclass(frozen=True)
class Conviction:
    predicted_conviction: str  # BULLISH | BEARISH
    conviction_score: float  # 0-100, 50 = no information beyond volatility
    confidence: str  # HIGH | MEDIUM | LOW
    shift: float  # logit(p) - logit(p0)


def conviction(probability: float, neutral_probability: float) -> Conviction:
    """The reading of a calibrated probability against the stock's neutral probability."""
    shift = float(logit(probability) - logit(neutral_probability))
    size = abs(shift)
    confidence = "HIGH" if size >= HIGH_SHIFT else "MEDIUM" if size >= MEDIUM_SHIFT else "LOW"
    return Conviction("BULLISH" if shift > 0 else "BEARISH", round(100.0 * float(expit(shift)), 2), confidence, shift)


@dataclass(frozen=True)
class Signal:
    value: str
    reason: str


def _num(features: Mapping[str, float | None], name: str) -> float | None:
    value = features.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def insider_activity(f: Mapping[str, float | None]) -> Signal:
    """bullish: an open-market purchase in 30 days and purchases >= sales by value;
    bearish: no purchase and net sales of at least 10 bp of market cap; neutral otherwise.
    Purchases carry the information in the literature; sales mostly do not, hence the
    asymmetric rule."""
    buyers, net = _num(f, "insider_cluster_score"), _num(f, "insider_net_flow_30d")
    if buyers is None and net is None:
        return Signal("neutral", "no insider data for this date")
    buyers, net_bp = buyers or 0.0, net if net is not None else 0.0
    if buyers >= 1 and net_bp >= 0:
        return Signal(
            "bullish",
            f"{buyers:.0f} insider(s) bought on the open market in 30 days; net flow {net_bp:+.1f} bp of market cap",
        )
    if buyers == 0 and net_bp <= INSIDER_BEARISH_NET_FLOW_BP:
        return Signal("bearish", f"open-market sales only, net {net_bp:+.1f} bp of market cap in 30 days")
    return Signal("neutral", f"{buyers:.0f} insider buyer(s), net flow {net_bp:+.1f} bp of market cap in 30 days")


def institutional_flow(f: Mapping[str, float | None]) -> Signal:
    """accumulation: momentum >= +0.10 (net share of 13F filers adding) and total ownership up;
    distribution: momentum <= -0.10 and ownership down; neutral otherwise."""
    momentum, change = _num(f, "inst_momentum_score"), _num(f, "inst_ownership_change_1q")
    if momentum is None or change is None:
        return Signal("neutral", "no 13F changes known for this date")
    detail = f"13F momentum {momentum:+.2f}, ownership change {change:+.2f} pp over the last quarter"
    if momentum >= INSTITUTIONAL_MOMENTUM and change > 0:
        return Signal("accumulation", detail)
    if momentum <= -INSTITUTIONAL_MOMENTUM and change < 0:
        return Signal("distribution", detail)
    return Signal("neutral", detail)


def congressional_sentiment(f: Mapping[str, float | None]) -> Signal:
    """positive: more purchase than sale disclosures (transactions in the last 90 days, known by
    the date); negative: more sales; neutral: equal or none."""
    buys, sells = _num(f, "congress_buy_count_90d"), _num(f, "congress_sell_count_90d")
    if buys is None or sells is None:
        return Signal("neutral", "no congressional disclosures known for this date")
    detail = f"{buys:.0f} purchase(s), {sells:.0f} sale(s) disclosed for the last 90 days"
    if buys > sells:
        return Signal("positive", detail)
    if sells > buys:
        return Signal("negative", detail)
    return Signal("neutral", detail)


def hedge_fund_positioning(f: Mapping[str, float | None]) -> Signal:
    """long: net >= 1 listed hedge fund adding (increases + entries - cuts - exits) and their
    combined stake not down; short: net <= -1 and stake not up; neutral otherwise. 13F filings
    show long positions only: 'short' means funds cutting or leaving, not short selling."""
    conviction_score, change = _num(f, "hedgefund_conviction_score"), _num(f, "hedgefund_net_change_1q")
    if conviction_score is None or change is None:
        return Signal("neutral", "no hedge-fund 13F changes (no list configured or no filings known)")
    detail = f"net {conviction_score:+.0f} hedge fund(s) adding, stake change {change:+.2f} pp"
    if conviction_score >= HEDGE_FUND_CONVICTION and change >= 0:
        return Signal("long", detail)
    if conviction_score <= -HEDGE_FUND_CONVICTION and change <= 0:
        return Signal("short", detail)
    return Signal("neutral", detail)


SIGNAL_RULES = {
    "insider_activity": insider_activity,
    "institutional_flow": institutional_flow,
    "congressional_sentiment": congressional_sentiment,
    "hedge_fund_positioning": hedge_fund_positioning,
}


def signals(features: Mapping[str, float | None]) -> dict[str, Signal]:
    return {name: rule(features) for name, rule in SIGNAL_RULES.items()}
