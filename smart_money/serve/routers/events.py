"""Smart-money events of the options flow: the newest, the stored history, a replay of a time
range as NDJSON, the legacy ClassifierHit / AlertEvent views and the live WebSocket feed."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator

from smart_money.options.engine.calibration import load_calibration
from smart_money.options.engine.rules import load_rules
from smart_money.serve import api_models as m
from smart_money.serve.dependencies import Feed, Reader
from smart_money.serve.event_reader import MAX_PAGE, MAX_REPLAY, EventsUnavailable

EVENT_TIME_RANGE = (datetime(1970, 1, 1), datetime(2199, 12, 31))  # inside ClickHouse DateTime64's range


def _event_time(value: datetime | None) -> datetime | None:
    naive = value.replace(tzinfo=None) if value is not None else None
    if naive is not None and not EVENT_TIME_RANGE[0] <= naive <= EVENT_TIME_RANGE[1]:
        raise ValueError(f"must lie between {EVENT_TIME_RANGE[0]:%Y-%m-%d} and {EVENT_TIME_RANGE[1]:%Y-%m-%d}")
    return value


Profile = Annotated[m.Profile | None, Query(description="Primary profile of the event")]
Underlying = Annotated[
    str | None,
    Query(min_length=1, max_length=10, pattern=r"^[A-Za-z][A-Za-z0-9.\-]{0,9}$", description="Underlying ticker"),
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Events per page")]
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

router = APIRouter()


@router.get("/flow/smart-money", tags=["events"])
async def latest_events(reader: Reader, limit: Limit = 50, include_abstained: bool = False) -> list[m.SmartMoneyEvent]:
    """The newest smart-money events (by event time)."""
    return await reader.query("history", limit=limit, include_abstained=include_abstained)  # type: ignore[return-value]


@router.get("/history/smart-money", tags=["events"])
async def event_history(
    reader: Reader,
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


@router.get(
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
    reader: Reader,
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


@router.get("/flow/calibration", tags=["events"])
async def calibration() -> m.CalibrationInfo:
    """The engine's calibration: its version, what it was fitted on and, per profile, the top
    step of its isotonic map with the exact 95 % lower bound of that step's rate. On the
    synthetic market the top step is often 1.0 (its families are separable), so the page shows
    a probability on it as '> bound' rather than '100.0 %'."""
    cal = load_calibration(load_rules())
    top = {
        p: m.CalibrationTop(
            probability=t.probability, events=t.events, positives=t.positives, lower_95=t.lower, label=t.label()
        )
        for p, t in cal.tops.items()
    }
    return m.CalibrationInfo(
        version=cal.version, source=cal.source, synthetic=cal.synthetic, events=cal.events, top=top
    )


@router.get("/flow/classifier-hits", tags=["events (legacy)"])
async def classifier_hits(reader: Reader, limit: Limit = 50, underlying: Underlying = None) -> list[dict]:
    """Legacy view: ClassifierHits of the newest emitted events (primary profile plus any
    other at >= 0.5, at most 3 per event; none for abstentions)."""
    return await reader.query("hits", limit=limit, underlying=underlying.upper() if underlying else None)  # type: ignore[return-value]


@router.get("/flow/alerts", tags=["events (legacy)"])
async def alerts(reader: Reader, limit: Limit = 50, underlying: Underlying = None) -> list[m.AlertEvent]:
    """Legacy view: one AlertEvent per emitted event (severity from the top probability)."""
    return await reader.query("alerts", limit=limit, underlying=underlying.upper() if underlying else None)  # type: ignore[return-value]


@router.websocket("/ws/smart-money")
async def live(websocket: WebSocket, feed: Feed, underlying: str | None = None, profile: str | None = None) -> None:
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
