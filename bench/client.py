"""Load clients: wrk for throughput and tail latency, a small HTTP client for form flows and API
calls (timed per request), and an asyncio burst client that counts every answered request
exactly (wrk abandons the requests in flight when it stops, which would blur `clicks_lost`)."""

from __future__ import annotations

import asyncio
import http.client
import json
import math
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "report.lua"
MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
# Every client speaks to gunicorn as the TLS-terminating proxy in front of it would.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (the value below which `pct` % of the samples fall)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    seconds: float

    def header(self, name: str) -> str:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return ""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Session:
    """One browser or API client: its cookies, its source address, its Authorization header."""

    port: int
    source_ip: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
    ) -> Response:
        conn = http.client.HTTPConnection(
            "127.0.0.1",
            self.port,
            timeout=timeout,
            source_address=(self.source_ip, 0) if self.source_ip else None,
        )
        all_headers = {
            "Host": f"127.0.0.1:{self.port}",
            "User-Agent": MOBILE_UA,
            "Accept-Language": "ja",
            "Connection": "close",
            **PROXY_HEADERS,
            **self.headers,
            **(headers or {}),
        }
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=all_headers)
            raw = conn.getresponse()
            data = raw.read()
            seconds = time.perf_counter() - started
            headers_out = raw.getheaders()
        finally:
            conn.close()
        for key, value in headers_out:
            if key.lower() == "set-cookie":
                jar: SimpleCookie = SimpleCookie()
                jar.load(value)
                for name, morsel in jar.items():
                    self.cookies[name] = morsel.value
        return Response(raw.status, headers_out, data, seconds)

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post_form(self, path: str, data: dict[str, str], **kwargs: Any) -> Response:
        from urllib.parse import urlencode

        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"https://127.0.0.1:{self.port}",
            "Referer": f"https://127.0.0.1:{self.port}{path}",
            **kwargs.pop("headers", {}),
        }
        return self.request("POST", path, body=urlencode(data).encode(), headers=headers, **kwargs)

    def post_json(self, path: str, data: dict[str, Any], **kwargs: Any) -> Response:
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return self.request("POST", path, body=json.dumps(data).encode(), headers=headers, **kwargs)


CSRF_RE = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    if not match:
        raise RuntimeError("no csrfmiddlewaretoken in the page")
    return match.group(1)


# --- wrk ----------------------------------------------------------------------------------------


def wrk(
    *,
    port: int,
    path: str,
    seconds: float,
    connections: int = 32,
    threads: int = 2,
    paths_file: Path | None = None,
) -> dict[str, Any]:
    """Run wrk against one path (or a list of paths) and return its JSON summary."""
    exe = shutil.which("wrk")
    if exe is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    env = {"PATH": "/usr/bin:/bin"}
    if paths_file is not None:
        env["BENCH_PATHS"] = str(paths_file)
    result = subprocess.run(
        [
            exe,
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(WRK_SCRIPT),
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            summary = json.loads(line.removeprefix("BENCH_JSON "))
            summary["non_2xx"] = _non_2xx(result.stdout)
            return summary
    raise RuntimeError(f"wrk printed no summary:\n{result.stdout}\n{result.stderr}")


def _non_2xx(stdout: str) -> int:
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", stdout)
    return int(match.group(1)) if match else 0


# --- the burst ----------------------------------------------------------------------------------


@dataclass
class BurstResult:
    statuses: Counter[int]
    errors: int
    seconds: float

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)


async def _burst(port: int, paths: Sequence[str], total: int, concurrency: int) -> BurstResult:
    statuses: Counter[int] = Counter()
    errors = 0
    next_index = 0

    async def one(path: str) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                (
                    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {MOBILE_UA}\r\n"
                    "Accept: text/html\r\nAccept-Language: ja\r\nX-Forwarded-Proto: https\r\n"
                    "Connection: close\r\n\r\n"
                ).encode()
            )
            await writer.drain()
            data = await reader.read()
        finally:
            writer.close()
        return int(data.split(b" ", 2)[1])

    async def worker() -> None:
        nonlocal next_index, errors
        while next_index < total:
            index = next_index
            next_index += 1
            for _attempt in range(3):
                try:
                    statuses[await one(paths[index % len(paths)])] += 1
                    break
                except (OSError, IndexError, ValueError):
                    # A refused or reset connection never reached the view: try again.
                    await asyncio.sleep(0.05)
            else:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return BurstResult(statuses, errors, time.perf_counter() - started)


def burst(*, port: int, paths: Sequence[str], total: int, concurrency: int = 32) -> BurstResult:
    """Send exactly `total` GET requests, `concurrency` at a time, and count the answers."""
    return asyncio.run(_burst(port, paths, total, concurrency))
