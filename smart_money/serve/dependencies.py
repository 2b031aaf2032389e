"""What the routers get from the app: `create_app` builds the prediction service, the feature
toggles, the event reader, the live feed and the admin token once per app and keeps them on
`app.state` (`attach`); a route asks for one by annotating a parameter with the matching alias
below (`service: Service`), which FastAPI resolves with `Depends` per request or WebSocket.

The getters are `async def` although they never await: FastAPI runs a plain `def` dependency
in its thread pool, which would add a thread hand-off to every request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.requests import HTTPConnection

from smart_money.research.latest import StoredSignals
from smart_money.serve.event_reader import EventReader, LiveFeed
from smart_money.serve.prediction import PredictionService
from smart_money.serve.toggles import FeatureToggles


def attach(
    app: FastAPI,
    service: PredictionService,
    toggles: FeatureToggles,
    reader: EventReader,
    feed: LiveFeed,
    admin_token: str | None,
    signals: StoredSignals,
) -> None:
    """Keep the app's shared objects on `app.state`, where the dependencies below find them."""
    app.state.service, app.state.toggles, app.state.reader, app.state.feed = service, toggles, reader, feed
    app.state.admin_token, app.state.signals = admin_token, signals


async def stored_signals(connection: HTTPConnection) -> StoredSignals:
    return connection.app.state.signals


async def prediction_service(connection: HTTPConnection) -> PredictionService:
    return connection.app.state.service


async def feature_toggles(connection: HTTPConnection) -> FeatureToggles:
    return connection.app.state.toggles


async def event_reader(connection: HTTPConnection) -> EventReader:
    return connection.app.state.reader


async def live_feed(connection: HTTPConnection) -> LiveFeed:
    return connection.app.state.feed


async def admin_token(connection: HTTPConnection) -> str | None:
    """The bearer token that may switch the feature toggle (None or empty: nobody can)."""
    return connection.app.state.admin_token


Service = Annotated[PredictionService, Depends(prediction_service)]
Toggles = Annotated[FeatureToggles, Depends(feature_toggles)]
Reader = Annotated[EventReader, Depends(event_reader)]
Feed = Annotated[LiveFeed, Depends(live_feed)]
AdminToken = Annotated[str | None, Depends(admin_token)]
Signals = Annotated[StoredSignals, Depends(stored_signals)]
