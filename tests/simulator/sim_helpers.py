"""HTTP helpers for the simulator tests (standard library only)."""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlsplit

HOST = "sim.test:8000"  # a fixed Host header makes absolute URLs identical across servers


def fetch(
    base_url: str, path: str, host: str | None = HOST, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One GET on a fresh connection; returns (status, headers, body)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        hdrs = dict(headers or {})
        if host:
            hdrs["Host"] = host
        conn.request("GET", path, headers=hdrs)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


class Client:
    """A keep-alive client that reconnects after a closed or broken connection."""

    def __init__(self, base_url: str, host: str | None = HOST) -> None:
        parts = urlsplit(base_url)
        self.addr = (parts.hostname, parts.port)
        self.host = host
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(*self.addr, timeout=30)
        headers = {"Host": self.host} if self.host else {}
        try:
            self.conn.request("GET", path, headers=headers)
            resp = self.conn.getresponse()
            body = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            if hdrs.get("connection", "").lower() == "close":
                self.close()
            return resp.status, hdrs, body
        except (http.client.HTTPException, ConnectionError):
            self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def links(html: str, pattern: str) -> list[str]:
    return re.findall(r'href="(' + pattern + r')"', html)
