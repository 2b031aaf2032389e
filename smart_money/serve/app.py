"""The HTTP service: predictions, registry, feature toggle, stock analysis, smart-money events
(history, replay, live WebSocket) and the web page. Started by `smart-money serve`; OpenAPI
docs at /docs (served from local files, no CDN).

The app is built by `create_app(settings)`; it reads nothing from the environment at import.
`create_app` only wires: it builds the shared objects (kept on `app.state`, reached by the routes
through `dependencies.py`), their start and stop, the error handlers (`problems.py`) and the
routers (`routers/`, one module per resource).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi_offline import FastAPIOffline

from smart_money.model.registry import Registry, RegistryError
from smart_money.research.latest import StoredSignals
from smart_money.serve import dependencies, problems
from smart_money.serve.event_reader import EventReader, EventsUnavailable, LiveFeed
from smart_money.serve.feature_provider import FeatureProvider
from smart_money.serve.limits import MAX_BODY_BYTES, RequestLimits
from smart_money.serve.prediction import ChampionModel, PredictionError, PredictionService
from smart_money.serve.routers import admin, analysis, events, models, pages, predictions, signals
from smart_money.serve.toggles import CorruptToggleFile, FeatureToggles
from smart_money.settings import Settings
from smart_money.settings.options import OptionsSettings
from smart_money.settings.serve import ServeSettings

log = logging.getLogger("smart_money.serve")

DESCRIPTION = (
    "Smart-money flow predictions (calibrated P(+5 % in 14 days) read against volatility), the model registry, "
    "the feature toggle, stock analysis and the options-flow smart-money events. "
    "Guides: docs/user-guide.md, docs/admin-guide.md."
)


def create_app(
    settings: Settings,
    admin_token: str | None = None,
    features: FeatureProvider | None = None,
    event_store: str | None = None,
    poll_interval_s: float = 1.0,
    warm: bool = False,
    max_body: int = MAX_BODY_BYTES,
    start_worker: bool = True,
) -> FastAPI:
    """The service for `settings`: the champion in settings.models_dir, features through the
    configured source, toggles under data/serve/, events in the configured ClickHouse store.
    The admin token defaults to SMART_MONEY_ADMIN_TOKEN (unset: the toggle cannot be changed).
    `warm` starts the event reader and the latest close's features at start-up instead of on
    first use. `start_worker` starts the feature worker at start-up, in the background (when the
    app owns its FeatureProvider), so a first new date does not wait for its process start.
    Request bodies above `max_body` bytes are refused with 413 (serve/limits.py)."""
    token = admin_token if admin_token is not None else ServeSettings.from_env().admin_token
    own_features = features is None
    service = PredictionService(ChampionModel(Registry(settings.models_dir)), features or FeatureProvider(settings))
    toggles = FeatureToggles(settings.data_dir / "serve" / "feature-toggles.json")
    reader = EventReader(event_store or OptionsSettings.from_env().store_url(settings.data_dir))
    feed = LiveFeed(reader, poll_interval_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:  # in a thread: the model's LightGBM texts are parsed in a child process first
            await asyncio.to_thread(service.models.get)
        except PredictionError as exc:
            log.warning("no model loaded at start: %s", exc)
        if (
            own_features and start_worker
        ):  # the feature worker starts now, in the background: a new date does not wait for it
            service.features.start_worker()
        if warm:
            service.features.submit(service.day(None))
            await asyncio.to_thread(reader.start)
        yield
        # stop and wait for every child process: the live feed, the event reader (its store
        # closed first), the feature workers
        await feed.close()
        await asyncio.to_thread(reader.close)
        if own_features:  # a provider passed in is the caller's to close
            await asyncio.to_thread(service.features.close)

    app = FastAPIOffline(title="smart-money", version="1.0", description=DESCRIPTION, lifespan=lifespan)
    dependencies.attach(app, service, toggles, reader, feed, token, StoredSignals(settings.data_location))

    app.add_exception_handler(RequestValidationError, problems.invalid_request)
    app.add_exception_handler(PredictionError, problems.prediction_error)
    app.add_exception_handler(EventsUnavailable, problems.events_unavailable)
    app.add_exception_handler(CorruptToggleFile, problems.corrupt_state)
    app.add_exception_handler(RegistryError, problems.corrupt_state)
    app.add_exception_handler(Exception, problems.internal_error)

    app.add_middleware(RequestLimits, max_body=max_body)
    app.mount("/static", pages.static_files(), name="static")
    for router in (
        pages.router,
        predictions.router,
        models.router,
        predictions.stats_router,
        admin.router,
        analysis.router,
        events.router,
        signals.router,
    ):
        app.include_router(router)
    return app
