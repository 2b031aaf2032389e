"""Running the app under uvicorn the way `smart-money serve` does: the h11 parser with its cap on
request heads, a grace period for open requests on SIGTERM, and a shutdown hook that makes
requests still waiting for a date's features answer 503 at once (they would otherwise hold the
shutdown until the grace period cancels them). The app's lifespan then stops and joins its
worker processes."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from smart_money.serve.limits import UVICORN_OPTIONS


class Server(uvicorn.Server):
    """uvicorn's server, telling the app's feature provider when shutdown begins."""

    def __init__(self, config: uvicorn.Config, app: FastAPI):
        super().__init__(config)
        self.fastapi_app = app

    def handle_exit(self, sig: int, frame) -> None:
        features = getattr(getattr(self.fastapi_app.state, "service", None), "features", None)
        stop_waiting = getattr(features, "stop_waiting", None)
        if stop_waiting is not None:
            stop_waiting()
        super().handle_exit(sig, frame)


def run(app: FastAPI, host: str, port: int, **options) -> None:
    """Serve `app` on host:port until SIGTERM / Ctrl-C (`options` go to uvicorn.Config)."""
    Server(uvicorn.Config(app, host=host, port=port, **{**UVICORN_OPTIONS, **options}), app).run()
