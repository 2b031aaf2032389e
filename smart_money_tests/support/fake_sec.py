"""A fake sec.gov on 127.0.0.1 for the downloader's tests (never used by production code).

It serves data set files by URL path, answers 403 without a declared User-Agent ("Name email")
like sec.gov, 404 for what it does not have, honours `Range: bytes=N-` with 206, and misbehaves
on request: per path, a queue of faults consumed one per request: "429" (with Retry-After: 0),
"503", "truncate" (a complete HTTP answer whose ZIP is cut in half) and "drop" (the connection
closes halfway through the declared body). It records every request's arrival time, path,
User-Agent and Range header, so tests can measure the request rate on the server side.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_USER_AGENT = re.compile(r"^\S.*\s\S+@\S+\.\S+$")


@dataclass
class Arrival:
    at: float  # time.monotonic()
    path: str
    user_agent: str | None
    range: str | None


@dataclass
class FakeSecLog:
    arrivals: list[Arrival] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)

    def paths(self) -> Counter:
        return Counter(a.path for a in self.arrivals)

    def most_in_one_second(self) -> int:
        """The most requests that arrived within any one-second window."""
        times = sorted(a.at for a in self.arrivals)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= 1.0:
                lo += 1
            best = max(best, hi - lo + 1)
        return best


class FakeSecServer:
    """`with FakeSecServer({"/files/.../2019q1_form345.zip": payload}) as sec:` then use `sec.url`
    as the base URL."""

    def __init__(self, files: dict[str, bytes], faults: dict[str, list[str]] | None = None):
        self.files = dict(files)
        self.faults = {path: deque(kinds) for path, kinds in (faults or {}).items()}
        self.log = FakeSecLog()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-sec", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeSecServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self, path: str) -> str | None:
        with self._lock:
            queue = self.faults.get(path)
            return queue.popleft() if queue else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                return

            def _status(self, code: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
                with fake._lock:
                    fake.log.statuses[code] += 1
                self.send_response(code)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                agent, wanted = self.headers.get("User-Agent"), self.headers.get("Range")
                with fake._lock:
                    fake.log.arrivals.append(Arrival(time.monotonic(), self.path, agent, wanted))
                if not agent or not _USER_AGENT.match(agent):
                    return self._status(
                        403, body=b"Your request has been identified as part of a network of automated tools"
                    )
                payload = fake.files.get(self.path)
                if payload is None:
                    return self._status(404, body=b"Not Found")
                fault = fake._next_fault(self.path)
                if fault == "429":
                    return self._status(429, {"Retry-After": "0"}, b"Request Rate Threshold Exceeded")
                if fault == "503":
                    return self._status(503, body=b"Service Unavailable")
                if fault == "truncate":
                    return self._status(200, {"Content-Type": "application/zip"}, payload[: len(payload) // 2])
                start = 0
                if wanted and (match := re.fullmatch(r"bytes=(\d+)-", wanted.strip())) and int(match[1]) < len(payload):
                    start = int(match[1])
                body = payload[start:]
                with fake._lock:
                    fake.log.statuses[206 if start else 200] += 1
                self.send_response(206 if start else 200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(body)))
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(payload) - 1}/{len(payload)}")
                self.end_headers()
                if fault == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        return Handler
