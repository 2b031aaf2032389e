"""`serve` and `predict`: the HTTP service and command-line predictions."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from smart_money.cli.common import console, settings_from
from smart_money.cli.errors import USAGE, expected, usage_error

app = typer.Typer()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    warm: Annotated[
        bool,
        typer.Option(
            help="Start the feature worker, compute the latest close's features and start the event reader at "
            "start-up, not on first use."
        ),
    ] = True,
) -> None:
    """Start the HTTP service: predictions, registry, feature toggle, stock analysis, smart-money
    events and the web page (http://HOST:PORT/, OpenAPI docs at /docs)."""
    settings = settings_from()
    # lazy: keeps --help and argument errors fast (uvicorn, FastAPI and the model load here)
    from smart_money.serve.app import create_app
    from smart_money.serve.server import run

    console.print(
        f"smart-money serve: source={settings.source}, models in {settings.models_dir}, "
        f"http://{host}:{port}/ (docs: /docs)"
    )
    # the h11 parser with a cap on request heads; on SIGTERM / Ctrl-C requests waiting for
    # features answer 503, the rest get a grace period, then the app's shutdown stops and joins
    # its worker processes (serve/server.py)
    run(create_app(settings, warm=warm, start_worker=warm), host, port, log_level="info")


@app.command()
def predict(
    symbol: Annotated[str | None, typer.Argument(help="Ticker (omit with --jsonl).")] = None,
    date: Annotated[str | None, typer.Option(help="Session date YYYY-MM-DD (default: the latest close).")] = None,
    features: Annotated[
        str | None, typer.Option(help="The 27 smart-money features as a JSON list (null where undefined).")
    ] = None,
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl",
            help="Read one JSON request per stdin line, write one JSON answer per line; the model is loaded once.",
        ),
    ] = False,
) -> None:
    """Predict with the champion model from the command line, or as a long-running JSON-lines
    worker for programs in other languages (requests and answers have the API's shape)."""
    if not jsonl and not symbol:
        raise usage_error("give a SYMBOL, or --jsonl to read requests from stdin")
    request: dict[str, object] = {"symbol": symbol}
    if date:
        request["date"] = date
    if features:
        with expected(ValueError, exit_code=USAGE, context="--features", fix="e.g. --features '[0.1, null, ...]'"):
            request["features"] = json.loads(features)
    settings = settings_from()
    # lazy: keeps --help and argument errors fast (the model and the feature pipeline load here)
    from smart_money.serve.jsonlines import answer_line, prediction_session, serve_lines

    with prediction_session(settings) as service:
        if jsonl:
            for answer in serve_lines(service, sys.stdin):
                sys.stdout.write(answer + "\n")
                sys.stdout.flush()
            return
        result = answer_line(service, json.dumps(request))
    print(json.dumps(result, indent=2))
    if "error" in result:
        raise typer.Exit(1)
