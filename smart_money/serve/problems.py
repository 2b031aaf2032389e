"""Problem responses: every error the service answers with is JSON `{"detail": ..., **extra}`
with `Cache-Control: no-store`; the exception handlers `create_app` installs turn invalid
requests (400, with the failing fields), prediction errors (their status; 503 with Retry-After),
an unreadable event store (503), a corrupt state file (the toggle file, registry.json: 503 naming
the file) and anything unexpected (500 with a request id, no internals) into them."""

from __future__ import annotations

import logging
import uuid

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from smart_money.serve.event_reader import EventsUnavailable
from smart_money.serve.prediction import PredictionError

log = logging.getLogger("smart_money.serve")


def problem(status: int, detail: str, headers: dict | None = None, **extra) -> JSONResponse:
    return JSONResponse(
        {"detail": detail, **extra}, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})}
    )


def field_errors(exc: RequestValidationError) -> list[dict]:
    out = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        out.append({"field": where, "message": error.get("msg", "invalid value")})
    return out


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = field_errors(exc)
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem(400, f"invalid request: {summary}", errors=errors)


async def prediction_error(request: Request, exc: PredictionError) -> JSONResponse:
    return problem(exc.status, str(exc), {"Retry-After": "5"} if exc.status == 503 else None)


async def events_unavailable(request: Request, exc: EventsUnavailable) -> JSONResponse:
    return problem(503, str(exc), {"Retry-After": "2"})


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    request_id = uuid.uuid4().hex[:12]
    log.error("request %s %s failed (id %s)", request.method, request.url.path, request_id, exc_info=exc)
    return problem(500, "internal server error", request_id=request_id)


async def corrupt_state(request: Request, exc: Exception) -> JSONResponse:
    """A state file the server reads on this request (the toggle file, registry.json) is
    corrupt: 503 with the message, which names the file and the repair."""
    log.error("request %s %s: %s", request.method, request.url.path, exc)
    return problem(503, str(exc), {"Retry-After": "30"})
