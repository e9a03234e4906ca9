"""The HTTP server: serves a :class:`World` on loopback, with injected faults."""

from __future__ import annotations

import gzip
import json
import signal
import sys
import threading
import time
import traceback
from collections import deque
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

from .faults import LOOP_PARAM, FaultSpec
from .router import route
from .sites.base import Response
from .world import World

LOOPBACK = ("127.0.0.1", "localhost", "::1")
_ERROR_BODY = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 30
    disable_nagle_algorithm = True
    sim: SimulatorServer  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        pass

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        sim = self.sim
        target = self.path
        if target.startswith("http://") or target.startswith("https://"):
            target = "/" + target.split("/", 3)[-1] if target.count("/") >= 3 else "/"
        attempt = sim.next_attempt(target)
        fault = sim.faults.draw(sim.world.seed, target, attempt)
        host = self.headers.get("Host") or f"{sim.host}:{sim.port}"
        base = f"http://{host}"
        extra: list[tuple[str, str]] = []
        if LOOP_PARAM + "=" in target:
            resp = self._loop(target)
        elif fault == "429":
            resp = Response(
                429, b"<html><body><h1>429 Too Many Requests</h1></body></html>", "text/html"
            )
            extra.append(("Retry-After", str(sim.faults.retry_after)))
        elif fault == "5xx":
            code = (500, 502, 503)[sim.faults.detail(sim.world.seed, target, attempt, 3)]
            resp = Response(
                code,
                f"<html><body><h1>{code} {_ERROR_BODY[code]}</h1></body></html>".encode(),
                "text/html",
            )
        elif fault == "redirect_loop":
            sep = "&" if "?" in target else "?"
            resp = Response(302, b"", "text/html", [("Location", f"{target}{sep}{LOOP_PARAM}=a")])
        else:
            if fault == "slow":
                time.sleep(sim.faults.slow_seconds)
            try:
                resp = route(sim.world, target, base)
            except Exception:  # a renderer bug must not kill the connection silently
                traceback.print_exc(file=sys.stderr)
                resp = Response(
                    500,
                    b"<html><body><h1>500 Internal Server Error</h1></body></html>",
                    "text/html",
                )
                fault = "error"
            if fault == "malformed_json":
                if resp.is_json and resp.status == 200:
                    resp = _break_json(resp, sim.faults.detail(sim.world.seed, target, attempt, 3))
                else:
                    fault = None
        sim.record(self.command, target, resp.status, fault, self.headers.get("User-Agent", ""))
        self._send(resp, extra, head, truncate=fault == "truncate")

    def _loop(self, target: str) -> Response:
        base, _, tail = target.rpartition(LOOP_PARAM + "=")
        other = "b" if tail.startswith("a") else "a"
        return Response(302, b"", "text/html", [("Location", f"{base}{LOOP_PARAM}={other}")])

    def _send(
        self, resp: Response, extra: list[tuple[str, str]], head: bool, truncate: bool
    ) -> None:
        body = resp.body
        headers = list(resp.headers) + extra
        accept = self.headers.get("Accept-Encoding", "")
        if (
            "gzip" in accept
            and len(body) > 1024
            and resp.content_type != "application/x-gzip"
            and resp.status == 200
        ):
            body = gzip.compress(body, compresslevel=6, mtime=0)
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        for k, v in headers:
            self.send_header(k, v)
        if truncate and not head:
            self.send_header("Content-Length", str(len(body) + 512 + len(body) // 2))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


def _break_json(resp: Response, how: int) -> Response:
    body = resp.body
    if how == 0:
        body = body[: max(1, len(body) * 2 // 3)]
    elif how == 1:
        body = body.replace(b'":', b'"', 1).replace(b",", b",,", 1)
    else:
        body = b"<html><body>upstream error</body></html>" if len(body) < 40 else body[:-1] + b"}}"
        body = body if body.startswith(b"<") else body.replace(b"{", b"{'", 1)
    return Response(resp.status, body, resp.content_type, resp.headers, is_json=True)


class SimulatorServer:
    """Serve ``world`` on loopback; a context manager serving in a background thread."""

    def __init__(
        self,
        world: World,
        faults: FaultSpec | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        request_log: Path | None = None,
        max_records: int = 1_000_000,
    ) -> None:
        if host not in LOOPBACK and not host.startswith("127."):
            raise ValueError(f"the simulator binds only to loopback, not {host!r}")
        self.world = world
        self.faults = faults or FaultSpec()
        self.host = host
        self._requested_port = port
        self.request_log = Path(request_log) if request_log else None
        self._records: deque[tuple[str, str, int]] = deque(maxlen=max_records)
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._log_fp: IO[str] | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ bookkeeping
    def next_attempt(self, target: str) -> int:
        with self._lock:
            n = self._attempts.get(target, 0)
            self._attempts[target] = n + 1
            return n

    def record(self, method: str, target: str, status: int, fault: str | None, agent: str) -> None:
        with self._lock:
            self._records.append((method, target, status))
            if self._log_fp is not None:
                entry = {
                    "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "method": method,
                    "path": target,
                    "status": status,
                    "fault": fault,
                    "user_agent": agent,
                }
                self._log_fp.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self._log_fp.flush()

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return list(self._records)

    # ------------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        if self._httpd is None:
            return self._requested_port
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _bind(self) -> ThreadingHTTPServer:
        handler = type("SimHandler", (_Handler,), {"sim": self})
        if ":" in self.host:
            import socket

            class _V6(ThreadingHTTPServer):
                address_family = socket.AF_INET6

            httpd: ThreadingHTTPServer = _V6((self.host, self._requested_port), handler)
        else:
            httpd = ThreadingHTTPServer((self.host, self._requested_port), handler)
        httpd.daemon_threads = True
        if self.request_log:
            self.request_log.parent.mkdir(parents=True, exist_ok=True)
            self._log_fp = self.request_log.open("a", encoding="utf-8")
        return httpd

    def start(self) -> SimulatorServer:
        if self._httpd is not None:
            return self
        self._httpd = self._bind()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._httpd = None
        with self._lock:
            if self._log_fp:
                self._log_fp.close()
                self._log_fp = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self, ready: IO[str] | None = None) -> None:
        """Serve until SIGINT or SIGTERM (for the command line)."""
        stop = threading.Event()

        def on_signal(signum: int, frame: object) -> None:
            stop.set()

        old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            if ready is not None:
                ready.write(
                    f"simulator serving {self.base_url}/ (products={self.world.products} "
                    f"seed={self.world.seed} faults={self.faults})\n"
                )
                ready.flush()
            while not stop.wait(0.5):
                pass
        finally:
            self.stop()
            for s, h in old.items():
                signal.signal(s, h)
