"""The web page (`/`, its files under `/static/`) and the liveness probe. The OpenAPI pages
(/docs, /redoc) come from the app itself, built by fastapi-offline with bundled assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent.parent / "static"

router = APIRouter()


def static_files() -> StaticFiles:
    """The page's scripts and styles (mounted at /static by `create_app`)."""
    return StaticFiles(directory=STATIC)


@router.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(STATIC / "index.html")


@router.get("/healthz", tags=["service"], summary="Liveness (also the bare reference endpoint of the load test)")
async def healthz() -> dict:
    return {"status": "ok"}
