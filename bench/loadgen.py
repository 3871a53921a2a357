"""Drive a server for a fixed time and report requests/s and latency percentiles.

Two generators with one interface: ``wrk`` when it is on PATH (a C load generator, so the
numbers measure the server and not the client), else a bounded Python loop (threads with
keep-alive ``http.client`` connections). Both open one keep-alive connection per simulated
client. Each connection follows a ``Flow``: a fixed request for reads; for PATCH, a chain
in which every request carries the ETag the previous answer returned (the contract's
optimistic locking), each connection editing a section of its own so they never collide.
"""

from __future__ import annotations

import http.client
import json
import math
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Flow:
    """What one connection sends: the same request, or a PATCH chain that follows ETags."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    bodies: tuple[str, ...] = ()  # PATCH bodies, sent in turn so every request changes something
    expect: int = 200
    follow_etag: bool = False  # send the last answer's ETag as If-Match
    sent: int = 0

    def next_request(self) -> tuple[str, str, dict[str, str], bytes | None]:
        body = self.bodies[self.sent % len(self.bodies)].encode() if self.bodies else None
        self.sent += 1
        return self.method, self.path, self.headers, body

    def on_response(self, status: int, etag: str | None) -> None:
        if self.follow_etag and status == self.expect and etag:
            self.headers = {**self.headers, "If-Match": etag}

    def stale(self, status: int) -> bool:
        """A 412 means the chain lost track of the ETag: GET it again rather than fail on."""
        return self.follow_etag and status == 412


@dataclass(frozen=True)
class Result:
    requests: int  # every answer, including unexpected ones and re-fetches after a 412
    ok: int  # answers with the expected status: the only ones requests/s counts
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # unexpected statuses plus socket errors and timeouts

    @property
    def rps(self) -> float:
        """Successful answers per second: a 412 or a 500 never makes a server look faster."""
        return self.ok / self.seconds if self.seconds else 0.0


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (nan when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


# -- Python loop ------------------------------------------------------------------------------


def _client(
    host: str,
    port: int,
    flow: Flow,
    deadline: float,
    latencies: list[float],
    errors: list[int],
    ok: list[int],
) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        while time.perf_counter() < deadline:
            method, path, headers, body = flow.next_request()
            start = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                connection.close()  # http.client reconnects on the next request
                continue
            latencies.append(time.perf_counter() - start)
            if response.status != flow.expect:
                errors[0] += 1
            else:
                ok[0] += 1
            flow.on_response(response.status, response.getheader("ETag"))
            if flow.stale(response.status):  # untimed: not part of the measured requests
                try:
                    connection.request("GET", flow.path)
                    refreshed = connection.getresponse()
                    refreshed.read()
                    flow.on_response(flow.expect, refreshed.getheader("ETag"))
                except (OSError, http.client.HTTPException):
                    connection.close()
    finally:
        connection.close()


def run_python(host: str, port: int, flows: list[Flow], seconds: float) -> Result:
    """One thread per flow, each on its own keep-alive connection, for ``seconds``."""
    per_thread: list[list[float]] = [[] for _ in flows]
    errors: list[list[int]] = [[0] for _ in flows]
    ok: list[list[int]] = [[0] for _ in flows]
    start = time.perf_counter()
    deadline = start + seconds
    threads = [
        threading.Thread(
            target=_client,
            args=(host, port, flow, deadline, per_thread[n], errors[n], ok[n]),
            daemon=True,
        )
        for n, flow in enumerate(flows)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 15)  # a request in flight has its 10 s socket timeout
    elapsed = time.perf_counter() - start
    latencies = sorted(value for values in per_thread for value in values)
    return Result(
        requests=len(latencies),
        ok=sum(count[0] for count in ok),
        seconds=elapsed,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        errors=sum(count[0] for count in errors),
    )


# -- wrk --------------------------------------------------------------------------------------

# Every script counts answers with an unexpected status (wrk itself counts only >= 400, and a
# 304 test that got 200s must not pass) and prints its numbers as one JSON line.
LUA_COMMON = """
local threads = {}
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("flow_index", counter)
  table.insert(threads, thread)
end
unexpected = 0
expected = 0
done = function(summary, latency, requests)
  local e = summary.errors
  local bad, good = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("unexpected")
    good = good + thread:get("expected")
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "ok": %d, "duration_us": %d, "p50_us": %.0f, '
    .. '"p99_us": %.0f, "unexpected": %d, "socket_errors": %d}\\n',
    summary.requests, good, summary.duration, latency:percentile(50), latency:percentile(99),
    bad, e.connect + e.read + e.write + e.timeout))
end
"""

LUA_FIXED = """
response = function(status, headers, body)
  if status == %(expect)d then expected = expected + 1 else unexpected = unexpected + 1 end
end
"""

# One wrk thread per connection, so request() and response() strictly alternate in each Lua
# state, and each thread gets the flow of its own section from setup().
LUA_CHAIN = """
local flows = %(flows)s
local flow, sent, etag
init = function(args)
  flow = flows[flow_index]
  sent = 0
  etag = flow.etag
end
local refetch, refetching = false, false
request = function()
  if refetch then  -- after a 412: GET the current ETag (counted by wrk, but rare)
    refetch, refetching = false, true
    return wrk.format("GET", flow.path)
  end
  sent = sent + 1
  local headers = {}
  for k, v in pairs(flow.headers) do headers[k] = v end
  if etag then headers["If-Match"] = etag end
  local body = flow.bodies[(sent - 1) %% #flow.bodies + 1]
  return wrk.format(flow.method, flow.path, headers, body)
end
response = function(status, headers, body)
  if refetching then
    refetching = false
    etag = headers["ETag"] or headers["etag"] or headers["Etag"] or etag
  elseif status == %(expect)d then
    expected = expected + 1
    etag = headers["ETag"] or headers["etag"] or headers["Etag"] or etag
  else
    unexpected = unexpected + 1
    refetch = status == 412
  end
end
"""


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal


def _lua_flow(flow: Flow) -> str:
    headers = {k: v for k, v in flow.headers.items() if k != "If-Match"}
    header_items = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    bodies = ", ".join(_lua_string(body) for body in flow.bodies) or '""'
    etag = _lua_string(flow.headers["If-Match"]) if "If-Match" in flow.headers else "nil"
    return (
        f"{{method = {_lua_string(flow.method)}, path = {_lua_string(flow.path)}, "
        f"headers = {{{header_items}}}, bodies = {{{bodies}}}, etag = {etag}}}"
    )


def _lua_fixed(flow: Flow) -> str:
    lines = [f"wrk.method = {_lua_string(flow.method)}", f"wrk.path = {_lua_string(flow.path)}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in flow.headers.items()]
    return "\n".join(lines) + "\n"


def run_wrk(host: str, port: int, flows: list[Flow], seconds: float, *, script_dir: Path) -> Result:
    """Run wrk with one connection per flow; a Lua script reports the numbers as JSON."""
    chained = any(flow.follow_etag or flow.bodies for flow in flows)
    if chained:
        table = "{" + ", ".join(_lua_flow(flow) for flow in flows) + "}"
        script = LUA_CHAIN % {"flows": table, "expect": flows[0].expect}
        threads = len(flows)
    else:
        script = _lua_fixed(flows[0]) + LUA_FIXED % {"expect": flows[0].expect}
        threads = min(2, len(flows))  # two event loops are plenty for a few connections
    path = script_dir / "bench.lua"
    path.write_text(LUA_COMMON + script, encoding="utf-8")
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{len(flows)}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(path),
        f"http://{host}:{port}{flows[0].path}",
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            raw = json.loads(line[len("BENCH_JSON ") :])
            break
    else:
        raise RuntimeError(f"wrk gave no result: {completed.stdout}\n{completed.stderr}")
    return Result(
        requests=raw["requests"],
        ok=raw["ok"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=raw["unexpected"] + raw["socket_errors"],
    )
