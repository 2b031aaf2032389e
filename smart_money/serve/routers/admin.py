"""The feature toggle: anyone may read it; switching it needs the admin bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from smart_money.serve import api_models as m
from smart_money.serve.dependencies import AdminToken, Toggles
from smart_money.serve.problems import problem
from smart_money.serve.toggles import SMART_MONEY_FLOW, token_matches

TOGGLE_PATH = f"/api/admin/ml-features/{SMART_MONEY_FLOW}"

router = APIRouter(tags=["admin"])


def refusal(authorization: str | None, token: str | None) -> Response | None:
    """401 without a bearer token, 403 with a wrong one (or when the server has none); None
    when the presented token is the configured one."""
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return problem(401, "admin token required: send Authorization: Bearer <token>", {"WWW-Authenticate": "Bearer"})
    if not token_matches(presented.strip(), token):
        return problem(
            403,
            "the admin token is not valid"
            if token
            else "no admin token is configured on this server (SMART_MONEY_ADMIN_TOKEN)",
        )
    return None


CORRUPT = {503: {"model": m.Problem, "description": "The toggle file is corrupt (named); a PUT rewrites it"}}


@router.get(TOGGLE_PATH, response_model=m.ToggleState, responses=CORRUPT)
async def toggle_state(toggles: Toggles) -> dict:
    """Whether the smart-money-flow feature is on, and the audit log (newest first); 503 naming
    the toggle file when it is corrupt."""
    return toggles.state(SMART_MONEY_FLOW)


@router.put(
    TOGGLE_PATH,
    response_model=m.ToggleState,
    responses={401: {"model": m.Problem}, 403: {"model": m.Problem}, 400: {"model": m.Problem}},
)  # a corrupt toggle file is set aside and rewritten: the repair path
async def toggle_set(
    body: m.ToggleUpdate,
    request: Request,
    toggles: Toggles,
    token: AdminToken,
    authorization: Annotated[str | None, Header()] = None,
) -> Response | dict:
    """Switch the feature on or off. Needs `Authorization: Bearer <SMART_MONEY_ADMIN_TOKEN>`:
    401 without a bearer token, 403 with a wrong one (or when the server has no token)."""
    refused = refusal(authorization, token)
    if refused is not None:
        return refused
    client = request.client.host if request.client else None
    return toggles.set(SMART_MONEY_FLOW, body.enabled, body.actor, body.reason, client)
