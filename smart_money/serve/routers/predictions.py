"""Predictions: one symbol, a batch of symbols, and the server's prediction statistics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from smart_money.serve import api_models as m
from smart_money.serve.dependencies import Service
from smart_money.serve.prediction import PredictionError
from smart_money.serve.prediction import Query as PredictionQuery

PREDICTION_MAX_AGE_S = 300  # Cache-Control of predictions (= the server-side prediction cache TTL)

router = APIRouter(tags=["predictions"])
stats_router = APIRouter(tags=router.tags)  # included after the registry router: the OpenAPI path order of before


@router.post("/api/ml/smart-money-flow", response_model=m.Prediction, responses=m.ERRORS)
async def predict(body: m.PredictionRequest, request: Request, response: Response, service: Service) -> dict:
    """Smart-money conviction for one symbol as of a close. Without `features` every input comes
    from the configured source as of the date; with the 27 features, those replace the source's."""
    day = service.day(body.date)
    data = await service.aday_features(day, request.is_disconnected)
    query = PredictionQuery(body.symbol, tuple(body.features) if body.features is not None else None)
    [result] = service.predict([query], data)
    if isinstance(result, PredictionError):
        raise result
    response.headers["Cache-Control"] = f"public, max-age={PREDICTION_MAX_AGE_S}"
    response.headers["Server-Timing"] = f"predict;dur={result['latency_ms']}"
    return result


@router.post("/api/ml/smart-money-flow/batch", response_model=m.BatchResponse, responses=m.ERRORS)
async def predict_batch(body: m.BatchRequest, request: Request, response: Response, service: Service) -> dict:
    """Predictions for up to 500 symbols as of one close, computed in one model call;
    unknown symbols are listed under `errors`."""
    day = service.day(body.date)
    data = await service.aday_features(day, request.is_disconnected)
    symbols = list(dict.fromkeys(body.symbols))
    results = service.predict([PredictionQuery(s) for s in symbols], data)
    errors = [
        {"symbol": s, "status": r.status, "detail": str(r)}
        for s, r in zip(symbols, results)
        if isinstance(r, PredictionError)
    ]
    response.headers["Cache-Control"] = f"public, max-age={PREDICTION_MAX_AGE_S}"
    return {
        "as_of": f"{day:%Y-%m-%d}",
        "predictions": [r for r in results if not isinstance(r, PredictionError)],
        "errors": errors,
    }


@stats_router.get("/api/ml/stats")
async def stats(service: Service) -> dict:
    """Prediction counts, cache hits and recent latencies measured in the server."""
    return service.stats()
