"""Predictions over JSON lines (`smart-money predict --jsonl`): one request per input line,
one JSON object per output line, in order; the model and each date's features are loaded once
for the whole session. Requests have the API's shape ({"symbol", "features"?, "date"?}) and
are validated by the same model; a bad line gets {"error", "status"} and the session goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from pydantic import ValidationError

from smart_money.model.registry import Registry
from smart_money.serve.api_models import PredictionRequest
from smart_money.serve.feature_provider import FeatureProvider
from smart_money.serve.prediction import ChampionModel, PredictionError, PredictionService, Query
from smart_money.settings import Settings


def answer(service: PredictionService, request: PredictionRequest) -> dict:
    day = service.day(request.date)
    data = service.day_features(day)
    [result] = service.predict(
        [Query(request.symbol, tuple(request.features) if request.features is not None else None)], data
    )
    if isinstance(result, PredictionError):
        raise result
    return result


def answer_line(service: PredictionService, line: str) -> dict:
    try:
        return answer(service, PredictionRequest.model_validate_json(line))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}" for e in exc.errors()[:5])
        return {"error": f"invalid request: {problems}", "status": 400}
    except PredictionError as exc:
        return {"error": str(exc), "status": exc.status}


def serve_lines(service: PredictionService, lines: Iterable[str]) -> Iterator[str]:
    """Answers for non-blank input lines, as JSON lines."""
    for line in lines:
        if line.strip():
            yield json.dumps(answer_line(service, line))


@contextmanager
def prediction_session(settings: Settings) -> Iterator[PredictionService]:
    """The champion of `settings` and its features through the configured source, for one
    session of requests (the feature workers are shut down after it)."""
    provider = FeatureProvider(settings)
    try:
        yield PredictionService(ChampionModel(Registry(settings.models_dir)), provider)
    finally:
        provider.close()
