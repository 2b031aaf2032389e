"""Request and response models of the HTTP API (they are the OpenAPI schema at /docs)."""

from __future__ import annotations

from datetime import date as Date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from smart_money.dataset.catalogue import PLAN_FEATURES
from smart_money.options.engine.contracts import PROFILES, AlertEvent, SmartMoneyEvent

Symbol = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=10, pattern=r"^[A-Za-z][A-Za-z0-9.\-]{0,9}$"),
    AfterValidator(str.upper),
    Field(
        description="Ticker, 1-10 characters (letters first; letters, digits, '.' and '-'), case-insensitive",
        examples=["AAPL"],
    ),
]
FeatureValue = Annotated[float, Field(allow_inf_nan=False)] | None
AsOf = Annotated[
    Date | None,
    Field(
        description="Session date YYYY-MM-DD, a trading session of the exchange calendar (a weekend or holiday "
        "gets 422 naming the session before); default: the latest close. Must not be after the latest close nor "
        "before the configured data's first month."
    ),
]
Profile = Literal[
    "institutional_directional", "retail_whale", "event_driven", "vol_seller", "arbitrage", "hedge_reactive"
]
assert tuple(Profile.__args__) == PROFILES  # type: ignore[attr-defined]
__all__ = ["AlertEvent", "SmartMoneyEvent"]  # event responses reuse the engine's records


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PredictionRequest(_Request):
    symbol: Symbol
    features: list[FeatureValue] | None = Field(
        default=None,
        min_length=len(PLAN_FEATURES),
        max_length=len(PLAN_FEATURES),
        description="Optional: the plan's 27 smart-money features in this order (null where a feature is undefined, "
        "e.g. no insider trade): "
        + ", ".join(PLAN_FEATURES)
        + ". The price context still comes from the source as of the date.",
    )
    date: AsOf = None


class BatchRequest(_Request):
    symbols: list[Symbol] = Field(min_length=1, max_length=500)
    date: AsOf = None


class AnalysisRequest(_Request):
    symbols: list[Symbol] = Field(min_length=1, max_length=50)
    include_smart_money: bool = False
    date: AsOf = None


class ToggleUpdate(_Request):
    enabled: bool
    actor: str = Field(min_length=1, max_length=100, description="Who makes the change (recorded in the audit log)")
    reason: str = Field(min_length=3, max_length=500, description="Why (recorded in the audit log)")


class ModelInfo(BaseModel):
    version: str
    accuracy: float | None = Field(
        description="Test-split accuracy at a 0.5 threshold (reported as the plan asks; uninformative at a ~25 % "
        "base rate)"
    )
    roc_auc: float | None = Field(description="Test-split ROC AUC of the registered model")


class Signals(BaseModel):
    insider_activity: Literal["bullish", "neutral", "bearish"]
    institutional_flow: Literal["accumulation", "distribution", "neutral"]
    congressional_sentiment: Literal["positive", "neutral", "negative"]
    hedge_fund_positioning: Literal["long", "short", "neutral"]


class Prediction(BaseModel):
    symbol: str
    as_of: str = Field(description="The session whose close the features are as of")
    predicted_conviction: Literal["BULLISH", "BEARISH"]
    conviction_score: float = Field(
        ge=0, le=100, description="100 x expit(logit(p) - logit(p0)); 50 = no information beyond volatility"
    )
    confidence: Literal["HIGH", "MEDIUM", "LOW"]
    probability: float = Field(ge=0, le=1, description="Calibrated P(close 14 days later > +5 %)")
    neutral_probability: float = Field(
        ge=0, le=1, description="p0: the same from volatility alone (the decision threshold)"
    )
    features: dict[str, float | None]
    signals: Signals
    signal_reasons: dict[str, str]
    model: ModelInfo
    feature_source: str = Field(description="'request' when the caller sent the features, else the source's name")
    universe_note: str
    cached: bool
    timestamp: str
    latency_ms: float


class BatchError(BaseModel):
    symbol: str
    status: int
    detail: str


class BatchResponse(BaseModel):
    as_of: str
    predictions: list[Prediction]
    errors: list[BatchError]


class Problem(BaseModel):
    detail: str
    errors: list[dict] | None = None


class AuditEntry(BaseModel):
    at: str
    actor: str
    client: str | None
    enabled: bool
    previous: bool
    reason: str


class ToggleState(BaseModel):
    feature: str
    enabled: bool
    updated_at: str | None
    updated_by: str | None
    reason: str | None
    audit: list[AuditEntry]


class SmartMoneyFlowStatus(BaseModel):
    requested: bool
    included: bool
    reason: str | None


class StockAnalysis(BaseModel):
    model_config = ConfigDict(extra="allow")
    symbol: str
    as_of: str
    momentum: dict[str, float | None]
    risk: dict[str, float | None]
    liquidity: dict[str, float | None]
    smart_money_flow: Prediction | None = None
    smart_money_flow_error: str | None = None


class AnalysisResponse(BaseModel):
    as_of: str
    analyses: list[StockAnalysis]
    errors: list[BatchError]
    smart_money_flow_status: SmartMoneyFlowStatus


ERRORS = {
    400: {"model": Problem, "description": "Invalid request (the message says which field and why)"},
    404: {
        "model": Problem,
        "description": "Unknown symbol (not in the configured universe on that date, or no price history)",
    },
    413: {"model": Problem, "description": "Request body larger than the server's limit (1 MiB)"},
    422: {
        "model": Problem,
        "description": "A date that cannot have features (not a session, before the data, after the latest close)",
    },
    500: {"model": Problem, "description": "Internal error (no details; the server log has them under the request id)"},
    503: {
        "model": Problem,
        "description": "Model or data unavailable (no champion, failed verification, corrupt registry, source "
        "failure, too many dates being computed); retry after Retry-After seconds",
    },
}


class CalibrationTop(BaseModel):
    """A profile's top calibration step: probabilities at or above `probability` are shown as
    `label`, the exact 95 % lower bound of the step's rate over its calibration events."""

    probability: float = Field(ge=0, le=1)
    events: int = Field(ge=1)
    positives: int = Field(ge=0)
    lower_95: float = Field(ge=0, le=1)
    label: str


class CalibrationInfo(BaseModel):
    """The calibration the server's engine applies: which events it was fitted on and what a
    probability on each profile's top step can honestly claim."""

    version: str
    source: str = Field(description="What it was fitted on (the synthetic market's generator, for the shipped file)")
    synthetic: bool = Field(
        description="Fitted on the synthetic market: the probabilities are synthetic-market evidence"
    )
    events: int | None = Field(description="Calibration events")
    top: dict[str, CalibrationTop]
