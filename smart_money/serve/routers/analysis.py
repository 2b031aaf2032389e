"""The stock analysis: price context per symbol, with the smart-money section when enabled."""

from __future__ import annotations

from fastapi import APIRouter, Request

from smart_money.serve import api_models as m
from smart_money.serve.analysis import stock_analysis
from smart_money.serve.dependencies import Service, Toggles
from smart_money.serve.toggles import SMART_MONEY_FLOW

router = APIRouter(tags=["analysis"])


@router.post(
    "/api/stock-analysis", response_model=m.AnalysisResponse, response_model_exclude_unset=True, responses=m.ERRORS
)
async def analysis(body: m.AnalysisRequest, request: Request, service: Service, toggles: Toggles) -> dict:
    """Price context per symbol as of a close; with `include_smart_money` and the toggle on,
    each symbol also gets a `smart_money_flow` section. If the model or the smart-money data
    fails, the analysis still answers: the section is absent and the reason is given."""
    day = service.day(body.date)
    data = await service.aday_features(day, request.is_disconnected)
    symbols = list(dict.fromkeys(body.symbols))
    return stock_analysis(service, data, symbols, body.include_smart_money, toggles.enabled(SMART_MONEY_FLOW))
