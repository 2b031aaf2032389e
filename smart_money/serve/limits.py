"""Request-size caps and security headers, as one pure-ASGI middleware (no body buffering).

- Bodies: a request whose Content-Length exceeds `max_body` is answered 413 before the app
  sees it; a body is read here (counted as it streams, so a chunked body without a length is
  cut off with 413 once it passes the cap) and handed to the app whole. The largest legitimate
  body (a batch of 500 symbols) is a few KB.
- Headers: `smart-money serve` runs uvicorn's h11 parser with `h11_max_incomplete_event_size`
  = `MAX_HEADER_BYTES`, which refuses a larger request head before it is parsed (uvicorn's
  httptools parser has no such cap, so serve does not use it: `UVICORN_OPTIONS`); behind any
  other server the middleware answers 431 for headers above the same size.
- Every HTTP response carries `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` and a
  Content-Security-Policy: the page loads only its own files (no inline scripts; its scripts set
  styles through the CSSOM, which CSP allows) and opens a WebSocket to its own host. The
  OpenAPI pages (/docs, /redoc) are built by FastAPI with one inline script each, so they get
  the same policy plus 'unsafe-inline' for scripts.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1 << 20  # 1 MiB
MAX_HEADER_BYTES = 16 << 10  # 16 KiB for the request line and headers together
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
DOCS_POLICY = PAGE_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
DOCS_PATHS = ("/docs", "/redoc")
SHUTDOWN_GRACE_S = 10  # on SIGTERM, open requests and WebSockets get this long before they are cut
UVICORN_OPTIONS = {
    "http": "h11",
    "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
    "timeout_graceful_shutdown": SHUTDOWN_GRACE_S,
}


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    policy = DOCS_POLICY if path.startswith(DOCS_PATHS) else PAGE_POLICY
    return [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", policy.encode()),
    ]


class RequestLimits:
    """Caps request bodies at `max_body` bytes (413) and adds the security headers."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message = {
                    **message,
                    "headers": [*message.get("headers", []), *(h for h in extra if h[0] not in names)],
                }
            await send(message)

        head = sum(len(name) + len(value) + 4 for name, value in scope.get("headers", []))
        if head > MAX_HEADER_BYTES:
            detail = f"request headers too large: {head} bytes, the limit is {MAX_HEADER_BYTES}"
            await _answer(send_with_headers, 431, detail)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            await self._refuse(send_with_headers, declared)
            return
        if declared is None and not _chunked(scope):
            await self.app(scope, receive, send_with_headers)
            return
        # read the body here (at most max_body bytes), then hand it to the app in one message
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > self.max_body:
                await self._refuse(send_with_headers, received)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_headers)

    async def _refuse(self, send: Send, size: int) -> None:
        await _answer(
            send,
            413,
            f"request body too large: {size} bytes or more, the limit is {self.max_body} bytes; send fewer symbols "
            "per request",
        )


async def _answer(send: Send, status: int, detail: str) -> None:
    """A problem response (the API's shape) sent straight from the middleware."""
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _chunked(scope: Scope) -> bool:
    return any(name == b"transfer-encoding" and b"chunked" in value.lower() for name, value in scope.get("headers", []))
