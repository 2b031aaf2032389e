"""The HTTP service: predictions, registry, feature toggle, stock analysis, smart-money events
(history, replay, live WebSocket) and the web page. Started by `smart-money serve`; OpenAPI
docs at /docs (served from local files, no CDN).

The app is built by `create_app(settings)`; it reads nothing from the environment at import.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Header, Query, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import AfterValidator

from smart_money.model.registry import Registry
from smart_money.serve import api_models as m
from smart_money.serve.analysis import stock_analysis
from smart_money.serve.event_reader import (
    MAX_PAGE,
    MAX_REPLAY,
    EventReader,
    EventsUnavailable,
    LiveFeed,
)
from smart_money.serve.feature_provider import FeatureProvider
from smart_money.serve.prediction import ChampionModel, PredictionError, PredictionService
from smart_money.serve.prediction import Query as PredictionQuery
from smart_money.serve.toggles import SMART_MONEY_FLOW, FeatureToggles, token_matches
from smart_money.settings import Settings
from smart_money.settings.options import OptionsSettings
from smart_money.settings.serve import ServeSettings

log = logging.getLogger("smart_money.serve")

PREDICTION_MAX_AGE_S = 300  # Cache-Control of predictions (= the server-side prediction cache TTL)
REGISTRY_MAX_AGE_S = 60
STATIC = Path(__file__).parent / "static"
Profile = Annotated[m.Profile | None, Query(description="Primary profile of the event")]
Underlying = Annotated[
    str | None,
    Query(min_length=1, max_length=10, pattern=r"^[A-Za-z][A-Za-z0-9.\-]{0,9}$", description="Underlying ticker"),
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Events per page")]
EVENT_TIME_RANGE = (datetime(1970, 1, 1), datetime(2199, 12, 31))  # inside ClickHouse DateTime64's range


def _event_time(value: datetime | None) -> datetime | None:
    naive = value.replace(tzinfo=None) if value is not None else None
    if naive is not None and not EVENT_TIME_RANGE[0] <= naive <= EVENT_TIME_RANGE[1]:
        raise ValueError(f"must lie between {EVENT_TIME_RANGE[0]:%Y-%m-%d} and {EVENT_TIME_RANGE[1]:%Y-%m-%d}")
    return value


Since = Annotated[
    datetime | None,
    Query(description="Event time from (inclusive), ISO-8601; naive = UTC"),
    AfterValidator(_event_time),
]
Until = Annotated[
    datetime | None,
    Query(description="Event time until (exclusive), ISO-8601; naive = UTC"),
    AfterValidator(_event_time),
]


def _problem(status: int, detail: str, headers: dict | None = None, **extra) -> JSONResponse:
    return JSONResponse(
        {"detail": detail, **extra}, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})}
    )


def _field_errors(exc: RequestValidationError) -> list[dict]:
    out = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        out.append({"field": where, "message": error.get("msg", "invalid value")})
    return out


def create_app(
    settings: Settings,
    admin_token: str | None = None,
    features: FeatureProvider | None = None,
    event_store: str | None = None,
    poll_interval_s: float = 1.0,
    warm: bool = False,
) -> FastAPI:
    """The service for `settings`: the champion in settings.models_dir, features through the
    configured source, toggles under data/serve/, events in the configured ClickHouse store.
    The admin token defaults to SMART_MONEY_ADMIN_TOKEN (unset: the toggle cannot be changed).
    `warm` starts the event reader and the latest close's features at start-up instead of on
    first use."""
    token = admin_token if admin_token is not None else ServeSettings.from_env().admin_token
    own_features = features is None
    service = PredictionService(ChampionModel(Registry(settings.models_dir)), features or FeatureProvider(settings))
    toggles = FeatureToggles(settings.data_dir / "serve" / "feature-toggles.json")
    reader = EventReader(event_store or OptionsSettings.from_env().store_url(settings.data_dir))
    feed = LiveFeed(reader, poll_interval_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            service.models.get()
        except PredictionError as exc:
            log.warning("no model loaded at start: %s", exc)
        if warm:
            service.features.submit(service.day(None))
            await asyncio.to_thread(reader.start)
        yield
        await feed.close()
        reader.close()
        if own_features:  # a provider passed in is the caller's to close
            service.features.close()

    app = FastAPIOffline(
        title="smart-money",
        version="1.0",
        description="Smart-money flow predictions (calibrated P(+5 % in 14 days) read against volatility), the model registry, "
        "the feature toggle, stock analysis and the options-flow smart-money events. Guides: docs/user-guide.md, docs/admin-guide.md.",
        lifespan=lifespan,
    )
    app.state.service, app.state.toggles, app.state.reader, app.state.feed = service, toggles, reader, feed

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return _problem(400, f"invalid request: {summary}", errors=errors)

    @app.exception_handler(PredictionError)
    async def prediction_error(request: Request, exc: PredictionError) -> JSONResponse:
        return _problem(exc.status, str(exc), {"Retry-After": "5"} if exc.status == 503 else None)

    @app.exception_handler(EventsUnavailable)
    async def events_unavailable(request: Request, exc: EventsUnavailable) -> JSONResponse:
        return _problem(503, str(exc), {"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        request_id = uuid.uuid4().hex[:12]
        log.error("request %s %s failed (id %s)", request.method, request.url.path, request_id, exc_info=exc)
        return _problem(500, "internal server error", request_id=request_id)

    # -- page and health -----------------------------------------------------------------
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/healthz", tags=["service"], summary="Liveness (also the bare reference endpoint of the load test)")
    async def healthz() -> dict:
        return {"status": "ok"}

    # -- predictions ---------------------------------------------------------------------------
    @app.post("/api/ml/smart-money-flow", response_model=m.Prediction, responses=m.ERRORS, tags=["predictions"])
    async def predict(body: m.PredictionRequest, response: Response) -> dict:
        """Smart-money conviction for one symbol as of a close. Without `features` every input comes
        from the configured source as of the date; with the 27 features, those replace the source's."""
        day = service.day(body.date)
        data = await service.aday_features(day)
        query = PredictionQuery(body.symbol, tuple(body.features) if body.features is not None else None)
        [result] = service.predict([query], data)
        if isinstance(result, PredictionError):
            raise result
        response.headers["Cache-Control"] = f"public, max-age={PREDICTION_MAX_AGE_S}"
        response.headers["Server-Timing"] = f"predict;dur={result['latency_ms']}"
        return result

    @app.post(
        "/api/ml/smart-money-flow/batch", response_model=m.BatchResponse, responses=m.ERRORS, tags=["predictions"]
    )
    async def predict_batch(body: m.BatchRequest, response: Response) -> dict:
        """Predictions for up to 500 symbols as of one close, computed in one model call;
        unknown symbols are listed under `errors`."""
        day = service.day(body.date)
        data = await service.aday_features(day)
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

    @app.get("/api/ml/models", tags=["registry"])
    async def models(response: Response) -> dict:
        """The registry: every version with status, test metrics, gates (value, threshold,
        detail) and reasons, the champion and its history."""
        registry = service.models.registry
        index = registry.index()
        versions = []
        for entry in index["versions"]:
            metadata_path = registry.folder(entry["version"]) / "metadata.json"
            gates = json.loads(metadata_path.read_text()).get("gates", {}) if metadata_path.exists() else {}
            versions.append(
                {k: v for k, v in entry.items() if k not in ("sha256", "features")} | {"gates": gates or entry["gates"]}
            )
        response.headers["Cache-Control"] = f"public, max-age={REGISTRY_MAX_AGE_S}"
        return {
            "model_id": index["model_id"],
            "champion": index["champion"],
            "versions": versions,
            "champion_history": index["champion_history"],
        }

    @app.get("/api/ml/stats", tags=["predictions"])
    async def stats() -> dict:
        """Prediction counts, cache hits and recent latencies measured in the server."""
        return service.stats()

    # -- feature toggle ---------------------------------------------------------------------------
    toggle_path = f"/api/admin/ml-features/{SMART_MONEY_FLOW}"

    @app.get(toggle_path, response_model=m.ToggleState, tags=["admin"])
    async def toggle_state() -> dict:
        """Whether the smart-money-flow feature is on, and the audit log (newest first)."""
        return toggles.state(SMART_MONEY_FLOW)

    @app.put(
        toggle_path,
        response_model=m.ToggleState,
        tags=["admin"],
        responses={401: {"model": m.Problem}, 403: {"model": m.Problem}, 400: {"model": m.Problem}},
    )
    async def toggle_set(
        body: m.ToggleUpdate, request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Response | dict:
        """Switch the feature on or off. Needs `Authorization: Bearer <SMART_MONEY_ADMIN_TOKEN>`:
        401 without a bearer token, 403 with a wrong one (or when the server has no token)."""
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return _problem(
                401, "admin token required: send Authorization: Bearer <token>", {"WWW-Authenticate": "Bearer"}
            )
        if not token_matches(presented.strip(), token):
            return _problem(
                403,
                "the admin token is not valid"
                if token
                else "no admin token is configured on this server (SMART_MONEY_ADMIN_TOKEN)",
            )
        client = request.client.host if request.client else None
        return toggles.set(SMART_MONEY_FLOW, body.enabled, body.actor, body.reason, client)

    # -- stock analysis -----------------------------------------------------------------------------
    @app.post(
        "/api/stock-analysis",
        response_model=m.AnalysisResponse,
        response_model_exclude_unset=True,
        responses=m.ERRORS,
        tags=["analysis"],
    )
    async def analysis(body: m.AnalysisRequest) -> dict:
        """Price context per symbol as of a close; with `include_smart_money` and the toggle on,
        each symbol also gets a `smart_money_flow` section. If the model or the smart-money data
        fails, the analysis still answers: the section is absent and the reason is given."""
        day = service.day(body.date)
        data = await service.aday_features(day)
        symbols = list(dict.fromkeys(body.symbols))
        return stock_analysis(service, data, symbols, body.include_smart_money, toggles.enabled(SMART_MONEY_FLOW))

    # -- smart-money events ----------------------------------------------------------------------------
    @app.get("/flow/smart-money", tags=["events"])
    async def latest_events(limit: Limit = 50, include_abstained: bool = False) -> list[m.SmartMoneyEvent]:
        """The newest smart-money events (by event time)."""
        return await reader.query("history", limit=limit, include_abstained=include_abstained)  # type: ignore[return-value]

    @app.get("/history/smart-money", tags=["events"])
    async def event_history(
        underlying: Underlying = None,
        profile: Profile = None,
        start: Since = None,
        end: Until = None,
        limit: Limit = 100,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        include_abstained: bool = True,
    ) -> list[m.SmartMoneyEvent]:
        """Stored events, newest first, filtered by underlying, primary profile and event-time
        range; page with `limit` and `offset`."""
        return await reader.query(  # type: ignore[return-value]
            "history",
            underlying=underlying.upper() if underlying else None,
            profile=profile,
            start=start,
            end=end,
            limit=limit,
            offset=offset,
            include_abstained=include_abstained,
        )

    @app.get(
        "/replay/smart-money",
        tags=["events"],
        response_class=StreamingResponse,
        responses={
            200: {
                "content": {"application/x-ndjson": {}},
                "description": "One SmartMoneyEvent per line, in event-time order",
            }
        },
    )
    async def replay(
        start: Since = None,
        end: Until = None,
        underlying: Underlying = None,
        limit: Annotated[int, Query(ge=1, le=MAX_REPLAY)] = MAX_REPLAY,
    ) -> StreamingResponse:
        """The stored events of a time range in event-time order (source_ts, seq, event_id), as
        a live consumer saw them: newline-delimited JSON. A last line {"truncated": true} says
        the range held more than `limit` events."""
        batch = await reader.query(
            "replay", start=start, end=end, underlying=underlying.upper() if underlying else None, limit=limit
        )
        assert isinstance(batch, dict)

        def lines():
            for event in batch["events"]:
                yield json.dumps(event) + "\n"
            if batch["truncated"]:
                yield json.dumps({"truncated": True, "limit": limit}) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @app.get("/flow/classifier-hits", tags=["events (legacy)"])
    async def classifier_hits(limit: Limit = 50, underlying: Underlying = None) -> list[dict]:
        """Legacy view: ClassifierHits of the newest emitted events (primary profile plus any
        other at >= 0.5, at most 3 per event; none for abstentions)."""
        return await reader.query("hits", limit=limit, underlying=underlying.upper() if underlying else None)  # type: ignore[return-value]

    @app.get("/flow/alerts", tags=["events (legacy)"])
    async def alerts(limit: Limit = 50, underlying: Underlying = None) -> list[m.AlertEvent]:
        """Legacy view: one AlertEvent per emitted event (severity from the top probability)."""
        return await reader.query("alerts", limit=limit, underlying=underlying.upper() if underlying else None)  # type: ignore[return-value]

    @app.websocket("/ws/smart-money")
    async def live(websocket: WebSocket, underlying: str | None = None, profile: str | None = None) -> None:
        """Every smart-money event stored after the connection opened, as JSON
        {"type": "event", "event": SmartMoneyEvent}; filters `underlying` and `profile`."""
        await websocket.accept()
        try:
            subscriber = await feed.subscribe(underlying.upper() if underlying else None, profile)
        except EventsUnavailable as exc:
            await websocket.send_json({"type": "error", "detail": str(exc)})
            await websocket.close(code=1011)
            return
        await websocket.send_json({"type": "hello", "poll_interval_s": feed.poll_interval_s})

        async def until_disconnect() -> None:  # client messages are ignored
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass

        closed = asyncio.create_task(until_disconnect())
        try:
            while True:
                getter = asyncio.create_task(subscriber.queue.get())
                done, _ = await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
                if closed in done:
                    getter.cancel()
                    break
                await websocket.send_json({"type": "event", "event": getter.result()})
                if subscriber.overflowed:
                    await websocket.close(code=1013, reason="consumer too slow")
                    break
        except WebSocketDisconnect:
            pass
        finally:
            feed.unsubscribe(subscriber)
            closed.cancel()

    return app
