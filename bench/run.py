"""Benchmark the content API at several data-set sizes, each beside a replaying baseline.

For every size: generate a Jekyll site, migrate a fresh database, seed it, make a token, start
the service under gunicorn with ``gunicorn.conf.py``, capture its answers, start
``bench/baseline_app.py`` (which replays those bytes from memory) under the same settings,
then load both from this process with wrk (or a bounded Python loop without it), endpoint by
endpoint: a warm-up on each, then rounds alternating API and baseline, so both meet the same
moments of a machine other work may be using; ratios are medians of adjacent rounds.
Results: one table on stdout and in ``bench/results/results.md``, raw numbers in
``results.json`` and p50/p99 latency against size in ``latency.png``.

    .venv/bin/python bench/run.py                     # 10, 1,000 and 10,000 sections
    .venv/bin/python bench/run.py --quick --sizes 10  # smoke run
    .venv/bin/python bench/run.py --database-url postgresql://127.0.0.1:5432/test \
        --redis-url redis://127.0.0.1:6379/0          # the scale-out configuration
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import math
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import dataset, loadgen  # noqa: E402

HOST = "127.0.0.1"
HOP_BY_HOP = {"server", "date", "connection", "keep-alive", "content-length", "transfer-encoding"}
EDIT_SUFFIX = "\n\nEdited by the benchmark."
# Targets of the issue "Fast at any size".
READ_RATIO, REVALIDATE_RATIO, SCALE_FACTOR, SEARCH_P50_MS, RSS_MB = 0.6, 0.85, 1.5, 20.0, 100.0


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    kind: str  # "read", "revalidate", "search" or "write"


ENDPOINTS = (
    Endpoint("sections", "GET /sections", "read"),
    Endpoint("page_filter", "GET /sections?page=community", "read"),
    Endpoint("page_html", "GET /pages/community.html", "read"),
    Endpoint("revalidate", "GET /sections, If-None-Match (304)", "revalidate"),
    Endpoint("search", f"GET /sections?q={dataset.SEARCH_WORD}", "search"),
    Endpoint("patch", "PATCH /sections/<id>", "write"),
)


# -- processes -------------------------------------------------------------------------------


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally, which stops the servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def fetch(
    port: int,
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, list[tuple[str, str]], bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


# What gunicorn's arbiter logs when a worker dies rather than being recycled or stopped.
CRASH_MARKS = ("was sent SIG", "exited with code", "WORKER TIMEOUT")


def worker_memory(master: int) -> dict[int, dict[str, float]]:
    """RSS, peak RSS (VmHWM) and unique memory (USS) in MB of each child of ``master``."""
    found: dict[int, dict[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) != master:
                continue
            status = (entry / "status").read_text()
            rollup = (entry / "smaps_rollup").read_text()
        except (OSError, IndexError, ValueError):
            continue
        fields = dict(_kb_fields(status))
        smaps = dict(_kb_fields(rollup))
        found[int(entry.name)] = {
            "rss_mb": fields.get("VmRSS", 0) / 1024,
            "peak_mb": fields.get("VmHWM", 0) / 1024,
            "uss_mb": (smaps.get("Private_Clean", 0) + smaps.get("Private_Dirty", 0)) / 1024,
        }
    return found


def _kb_fields(text: str) -> Iterator[tuple[str, int]]:
    for line in text.splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            yield name.strip(), int(parts[0])


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name.lower()), None)


class Server:
    """A gunicorn master in its own process group, stopped with everything it started."""

    def __init__(self, name: str, app: str, env: dict[str, str], folder: Path) -> None:
        self.name, self.app, self.env = name, app, env
        self.log_path = folder / f"{name}.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.workers: dict[int, dict[str, float]] = {}

    def start(self, ready_target: str) -> None:
        command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
        command += ["--bind", f"{HOST}:{self.port}", self.app]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: one killpg stops the workers too
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.log_tail()}")
            try:
                if fetch(self.port, "GET", ready_target)[0] < 500:
                    time.sleep(0.5)  # the other workers fork right after the first
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within 60 s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""

    def sample_workers(self) -> None:
        """Note every worker's memory now. Peaks (VmHWM) are kept per process, so a worker
        that gunicorn replaced meanwhile (max_requests, a crash) still counts."""
        if self.process is None:
            return
        for pid, memory in worker_memory(self.process.pid).items():
            seen = self.workers.setdefault(pid, {"peak_mb": 0.0, "rss_mb": 0.0, "uss_mb": 0.0})
            seen["peak_mb"] = max(seen["peak_mb"], memory["peak_mb"], memory["rss_mb"])
            seen["rss_mb"], seen["uss_mb"] = memory["rss_mb"], memory["uss_mb"]

    def memory(self) -> dict[str, Any]:
        """Per-worker memory over the run, and what gunicorn logged about its workers."""
        self.sample_workers()
        live = worker_memory(self.process.pid) if self.process else {}
        log_text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return {
            "workers": len(live),
            "workers_seen": len(self.workers),
            "rss_mb": sorted(round(m["rss_mb"], 1) for m in live.values()),
            "uss_mb": sorted(round(m["uss_mb"], 1) for m in live.values()),
            "peak_mb": sorted(round(m["peak_mb"], 1) for m in self.workers.values()),
            "recycled": log_text.count("Autorestarting worker"),
            "crashed": sum(log_text.count(mark) for mark in CRASH_MARKS),
        }

    def stop(self) -> None:
        if self.process is None:
            return
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # stragglers of the group, should a worker have outlived its master
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self._log is not None:
            self._log.close()
        self.process = None


@contextmanager
def running(server: Server, ready_target: str) -> Iterator[Server]:
    try:
        server.start(ready_target)
        yield server
    finally:
        server.stop()


@contextmanager
def database(url: str | None, folder: Path) -> Iterator[str]:
    """A fresh database: an SQLite file in folder, or a new schema in the PostgreSQL given."""
    if url is None:
        yield f"sqlite:///{folder / 'content.sqlite3'}"
        return
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://").replace(
        "postgres://", "postgresql://"
    )
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        separator = "&" if urlsplit(plain).query else "?"
        yield f"{plain}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def flask_cli(env: dict[str, str], *args: str, timeout: float = 900) -> str:
    """Run a `flask --app wsgi` command; its stdout, or stop with its output."""
    completed = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{completed.stdout}{completed.stderr}")
    return completed.stdout


def service_env(settings: Settings, database_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "FLASK_DEBUG",
            "FLASK_TESTING",
            "BIND",
            "PORT",
            "WEB_CONCURRENCY",
            "RATELIMIT_ENABLED",
            "RATELIMIT_STORAGE_URI",
        }
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(32),
        # The limiter stays on, as in production, with a limit the PATCH load never reaches.
        RATELIMIT_WRITES="1000000 per minute",
        PYTHONUNBUFFERED="1",
    )
    if settings.workers:
        env["WEB_CONCURRENCY"] = str(settings.workers)
    if settings.redis_url:  # the scale-out path: limits shared by every process
        env["RATELIMIT_STORAGE_URI"] = settings.redis_url
    return env


# -- capturing the answers the baseline replays ----------------------------------------------


@dataclass
class Plan:
    """The requests of one size: flows per endpoint for ours and for the baseline."""

    captures: list[dict[str, Any]]
    ours: dict[str, Callable[[], list[loadgen.Flow]]]
    baseline: dict[str, Callable[[], list[loadgen.Flow]]]
    answer_bytes: dict[str, int]
    errors: dict[str, str]


def capture(
    entries: list[dict[str, Any]],
    method: str,
    target: str,
    answer: tuple[int, list[tuple[str, str]], bytes],
    if_none_match: str | None = None,
) -> None:
    status, headers, body = answer
    entries.append(
        {
            "method": method,
            "target": target,
            "if_none_match": if_none_match,
            "status": status,
            "headers": [[k, v] for k, v in headers if k.lower() not in HOP_BY_HOP],
            "body": base64.b64encode(body).decode(),
        }
    )


def settle(port: int, ids: list[int], timeout: float = 15) -> None:
    """Wait until PATCHes a load generator left in flight have landed (ETags stop changing)."""
    deadline = time.monotonic() + timeout
    previous = None
    while time.monotonic() < deadline:
        current = [header(fetch(port, "GET", f"/sections/{n}")[1], "ETag") for n in ids]
        if current == previous:
            return
        previous = current
        time.sleep(0.5)


def plan(port: int, token: str, connections: int) -> Plan:
    """GET (and PATCH) each endpoint once, keep the answers, and build the flows."""
    entries: list[dict[str, Any]] = []
    result = Plan(entries, {}, {}, {}, {})

    def fixed(key: str, target: str, headers: dict[str, str] | None, expect: int) -> None:
        answer = fetch(port, "GET", target, headers)
        if answer[0] != expect:
            result.errors[key] = f"status {answer[0]}, expected {expect}"
            return
        inm = (headers or {}).get("If-None-Match")
        capture(entries, "GET", target, answer, inm)
        result.answer_bytes[key] = len(answer[2])

        def flows() -> list[loadgen.Flow]:
            return [
                loadgen.Flow("GET", target, dict(headers or {}), expect=expect)
                for _ in range(connections)
            ]

        result.ours[key] = result.baseline[key] = flows

    # PATCH first, so the reads below capture (and their ETags describe) the edited state.
    # Each connection edits a section of its own, toggling an edit on and off.
    listing = fetch(port, "GET", "/sections")
    ids = [item["id"] for item in json.loads(listing[2])["data"]][-connections:]
    if len(ids) < connections:
        result.errors["patch"] = f"{len(ids)} sections for {connections} connections"
        ids = []
    originals = {}
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for section_id in ids:
        target = f"/sections/{section_id}"
        status, headers, body = fetch(port, "GET", target)
        originals[section_id] = json.loads(body)["body"]
        edited = json.dumps({"body": originals[section_id] + EDIT_SUFFIX}).encode()
        answer = fetch(
            port, "PATCH", target, {**auth, "If-Match": header(headers, "ETag") or ""}, edited
        )
        if answer[0] != 200:
            result.errors["patch"] = f"status {answer[0]}: {answer[2][:200]!r}"
            break
        capture(entries, "PATCH", target, answer)
        result.answer_bytes["patch"] = len(answer[2])

    def patch_flows(live: bool) -> list[loadgen.Flow]:
        if live:
            settle(port, ids)
        flows = []
        for section_id in ids:
            target = f"/sections/{section_id}"
            status, headers, body = fetch(port, "GET", target) if live else (200, [], b"")
            current = json.loads(body)["body"] if live else originals[section_id] + EDIT_SUFFIX
            original = originals[section_id]
            other = original + EDIT_SUFFIX if current == original else original
            bodies = (json.dumps({"body": other}), json.dumps({"body": current}))
            etag = header(headers, "ETag") if live else "baseline"
            flows.append(
                loadgen.Flow(
                    "PATCH",
                    target,
                    {**auth, "If-Match": etag or ""},
                    bodies=bodies,
                    follow_etag=True,
                )
            )
        return flows

    if "patch" not in result.errors:
        result.ours["patch"] = lambda: patch_flows(live=True)
        result.baseline["patch"] = lambda: patch_flows(live=False)

    etag = header(fetch(port, "GET", "/sections")[1], "ETag") or '"none"'
    fixed("sections", "/sections", None, 200)
    fixed("page_filter", "/sections?page=community", None, 200)
    fixed("page_html", "/pages/community.html", None, 200)
    fixed("revalidate", "/sections", {"If-None-Match": etag}, 304)
    fixed("search", f"/sections?q={dataset.SEARCH_WORD}", None, 200)
    return result


# -- measuring -------------------------------------------------------------------------------


@dataclass
class Settings:
    sizes: list[int]
    duration: float
    warmup: float
    rounds: int
    connections: int
    generator: str  # "wrk" or "python"
    database_url: str | None
    workers: int | None
    out: Path
    redis_url: str | None = None


def drive(
    settings: Settings,
    port: int,
    flows: Callable[[], list[loadgen.Flow]],
    folder: Path,
    seconds: float,
) -> loadgen.Result:
    """Load one server for ``seconds`` with fresh flows (PATCH chains need current ETags)."""
    if settings.generator == "wrk":
        return loadgen.run_wrk(HOST, port, flows(), seconds, script_dir=folder)
    return loadgen.run_python(HOST, port, flows(), seconds)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def summarize(rounds: list[loadgen.Result]) -> dict[str, Any]:
    """Medians over the rounds (robust to a burst of other work on the machine), and totals."""
    return {
        "rps": median([r.rps for r in rounds]),
        "p50_ms": median([r.p50_ms for r in rounds]),
        "p99_ms": median([r.p99_ms for r in rounds]),
        "requests": sum(r.requests for r in rounds),
        "ok": sum(r.ok for r in rounds),
        "errors": sum(r.errors for r in rounds),
        "seconds": round(sum(r.seconds for r in rounds), 2),
        "rounds": [{**asdict(r), "rps": r.rps} for r in rounds],
    }


def load_average() -> float:
    """The 1-minute load average: other work on the machine skews every number."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return math.nan


def log(message: str) -> None:
    print(message, flush=True)


def bench_size(settings: Settings, size: int) -> dict[str, Any]:
    """Everything for one data-set size, in a temporary folder that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"zarr-bench-{size}-") as temp:
        folder = Path(temp)
        started = time.monotonic()
        load_before = load_average()
        site = dataset.generate(folder / "site", size)
        with database(settings.database_url, folder) as url:
            env = service_env(settings, url)
            flask_cli(env, "db", "upgrade")
            seeded = flask_cli(env, "seed", str(site.folder)).strip().splitlines()[-1]
            token = flask_cli(env, "tokens", "create", "bench", "--role", "editor").split()[-1]
            setup_seconds = time.monotonic() - started
            log(f"[{size:,} sections] {site.pages} pages seeded in {setup_seconds:.0f} s")
            ours = Server("ours", "wsgi:app", env, folder)
            with running(ours, "/healthz"):
                the_plan = plan(ours.port, token, settings.connections)
                captures = folder / "captures.json"
                captures.write_text(json.dumps(the_plan.captures), encoding="utf-8")
                base_env = {**env, "BENCH_CAPTURES": str(captures)}
                baseline = Server("baseline", "bench.baseline_app:app", base_env, folder)
                with running(baseline, "/sections"):
                    rows = measure_endpoints(settings, the_plan, ours, baseline, folder, size)
                    memory = {"ours": ours.memory(), "baseline": baseline.memory()}
    return {
        "sections": size,
        "pages": site.pages,
        "seed_report": seeded,
        "setup_seconds": round(setup_seconds, 1),
        "load_average": {"before": load_before, "after": load_average()},
        "endpoints": rows,
        "memory": memory,
    }


def measure_endpoints(
    settings: Settings,
    the_plan: Plan,
    ours: Server,
    baseline: Server,
    folder: Path,
    size: int,
) -> dict[str, Any]:
    """Each endpoint on both servers: a warm-up each, then rounds that alternate API and
    baseline, so both meet the same moments of the machine; the ratio is the median of the
    ratios of adjacent rounds."""
    rows: dict[str, Any] = {}
    for endpoint in ENDPOINTS:  # PATCH last: it changes what the reads would return
        if endpoint.key in the_plan.errors:
            rows[endpoint.key] = {"error": the_plan.errors[endpoint.key]}
            log(f"[{size:,} sections] {endpoint.label}: skipped, {the_plan.errors[endpoint.key]}")
            continue
        servers = (
            ("ours", ours, the_plan.ours[endpoint.key]),
            ("baseline", baseline, the_plan.baseline[endpoint.key]),
        )
        if settings.warmup > 0:
            for _, server, flows in servers:
                drive(settings, server.port, flows, folder, settings.warmup)
        rounds: dict[str, list[loadgen.Result]] = {"ours": [], "baseline": []}
        for _ in range(settings.rounds):
            for name, server, flows in servers:
                rounds[name].append(drive(settings, server.port, flows, folder, settings.duration))
                server.sample_workers()
        ratios = [
            mine.rps / theirs.rps if theirs.rps else 0.0
            for mine, theirs in zip(rounds["ours"], rounds["baseline"], strict=True)
        ]
        row: dict[str, Any] = {
            "bytes": the_plan.answer_bytes.get(endpoint.key),
            "ours": summarize(rounds["ours"]),
            "baseline": summarize(rounds["baseline"]),
            "ratio": median(ratios),
            "ratio_range": [min(ratios), max(ratios)],
        }
        rows[endpoint.key] = row
        log(
            f"[{size:,} sections] {endpoint.label}: {row['ours']['rps']:.0f} req/s "
            f"(baseline {row['baseline']['rps']:.0f}, ratio {row['ratio']:.2f}, "
            f"rounds {', '.join(f'{r:.2f}' for r in ratios)}), "
            f"p50 {row['ours']['p50_ms']:.2f} ms, p99 {row['ours']['p99_ms']:.2f} ms, "
            f"errors {row['ours']['errors']}/{row['baseline']['errors']}"
        )
    return rows


# -- reporting -------------------------------------------------------------------------------


def number(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def table(results: list[dict[str, Any]]) -> str:
    """One aligned plain-text table, which is also a Markdown table."""
    head = [
        "sections",
        "endpoint",
        "req/s",
        "baseline req/s",
        "ratio (rounds)",
        "p50 ms",
        "p99 ms",
        "baseline p50",
        "baseline p99",
        "answer bytes",
        "errors",
    ]
    lines = []
    for result in results:
        for endpoint in ENDPOINTS:
            row = result["endpoints"][endpoint.key]
            if "error" in row:
                lines.append([f"{result['sections']:,}", endpoint.label, "error: " + row["error"]])
                lines[-1] += [""] * (len(head) - 3)
                continue
            ours, base = row["ours"], row["baseline"]
            lines.append(
                [
                    f"{result['sections']:,}",
                    endpoint.label,
                    number(ours["rps"], 0),
                    number(base["rps"], 0),
                    f"{number(row['ratio'], 2)} ({number(row['ratio_range'][0], 2)}"
                    f"-{number(row['ratio_range'][1], 2)})",
                    number(ours["p50_ms"], 2),
                    number(ours["p99_ms"], 2),
                    number(base["p50_ms"], 2),
                    number(base["p99_ms"], 2),
                    number(row["bytes"], 0),
                    f"{ours['errors']}/{base['errors']}",
                ]
            )
    widths = [max(len(str(cell)) for cell in column) for column in zip(head, *lines, strict=True)]
    left = {0, 1}

    def render(cells: list[str]) -> str:
        padded = [
            cell.ljust(width) if n in left else cell.rjust(width)
            for n, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        "-" * (width + 1) + ":" if n not in left else ":" + "-" * (width + 1)
        for n, width in enumerate(widths)
    )
    return "\n".join([render(head), rule + "|", *(render(line) for line in lines)])


@dataclass
class Verdict:
    target: str
    verdict: str  # PASS, MISS or n/a
    detail: str


def _value(result: dict[str, Any], key: str, *path: str) -> float | None:
    row = result["endpoints"].get(key, {})
    for part in path:
        if not isinstance(row, dict) or part not in row:
            return None
        row = row[part]
    return float(row) if isinstance(row, int | float) else None


def verdicts(results: list[dict[str, Any]]) -> list[Verdict]:
    """Each target of the issue checked against the measurements, per endpoint."""
    out = []
    labels = {endpoint.key: endpoint.label for endpoint in ENDPOINTS}

    def ratio_target(key: str, floor: float) -> None:
        ratios = [(r["sections"], _value(r, key, "ratio")) for r in results]
        measured = [(size, ratio) for size, ratio in ratios if ratio is not None]
        if not measured:
            out.append(Verdict(f"{labels[key]} >= {floor}x baseline req/s", "n/a", "no data"))
            return
        size, worst = min(measured, key=lambda pair: pair[1])
        verdict = "PASS" if worst >= floor else "MISS"
        out.append(
            Verdict(
                f"{labels[key]} >= {floor}x baseline req/s",
                verdict,
                f"lowest ratio {worst:.2f} (at {size:,} sections)",
            )
        )

    for endpoint in ENDPOINTS:
        if endpoint.kind in ("read", "search"):  # every 200 read, the search too
            ratio_target(endpoint.key, READ_RATIO)
    ratio_target("revalidate", REVALIDATE_RATIO)

    smallest = min(results, key=lambda r: r["sections"])
    largest = max(results, key=lambda r: r["sections"])
    for endpoint in ENDPOINTS:
        name = (
            f"{labels[endpoint.key]}: p50 at {largest['sections']:,} <= "
            f"{SCALE_FACTOR}x p50 at {smallest['sections']:,} sections"
        )
        small = _value(smallest, endpoint.key, "ours", "p50_ms")
        large = _value(largest, endpoint.key, "ours", "p50_ms")
        if smallest is largest or small is None or large is None:
            out.append(Verdict(name, "n/a", "needs two sizes measured"))
            continue
        factor = large / small
        verdict = "PASS" if factor <= SCALE_FACTOR else "MISS"
        detail = f"{small:.2f} ms -> {large:.2f} ms ({factor:.2f}x)"
        # Where the answer itself grows (50 sections instead of 10), the baseline's p50 shows
        # what the bigger answer alone costs.
        small_bytes = _value(smallest, endpoint.key, "bytes")
        large_bytes = _value(largest, endpoint.key, "bytes")
        base_small = _value(smallest, endpoint.key, "baseline", "p50_ms")
        base_large = _value(largest, endpoint.key, "baseline", "p50_ms")
        if small_bytes and large_bytes and large_bytes > 1.5 * small_bytes:
            detail += f"; the answer grows from {small_bytes:,.0f} to {large_bytes:,.0f} bytes"
            if base_small and base_large:
                detail += f", the baseline's p50 {base_large / base_small:.2f}x"
        out.append(Verdict(name, verdict, detail))

    search = _value(largest, "search", "ours", "p50_ms")
    name = f"search p50 < {SEARCH_P50_MS:.0f} ms at {largest['sections']:,} sections"
    if search is None:
        out.append(Verdict(name, "n/a", "no data"))
    else:
        verdict = "PASS" if search < SEARCH_P50_MS else "MISS"
        out.append(Verdict(name, verdict, f"{search:.2f} ms"))

    peaks = [(r["sections"], mb) for r in results for mb in r["memory"]["ours"]["peak_mb"]]
    name = f"<= {RSS_MB:.0f} MB RSS per worker (peak VmHWM of every worker over the run)"
    if not peaks:
        out.append(Verdict(name, "n/a", "no workers found"))
    else:
        size, worst = max(peaks, key=lambda pair: pair[1])
        verdict = "PASS" if worst <= RSS_MB else "MISS"
        out.append(Verdict(name, verdict, f"largest {worst:.1f} MB (at {size:,} sections)"))

    bad = [
        f"{labels[key]} at {r['sections']:,}: {row['ours']['errors']}"
        for r in results
        for key, row in r["endpoints"].items()
        if "error" in row or row["ours"]["errors"]
    ]
    crashed = sum(r["memory"]["ours"]["crashed"] for r in results)
    out.append(
        Verdict(
            "every API answer had the expected status (no 412, 5xx or socket error), no worker died",
            "PASS" if not bad and not crashed else "MISS",
            f"unexpected: {'; '.join(bad) or 'none'}; workers crashed: {crashed}",
        )
    )
    return out


def memory_lines(results: list[dict[str, Any]]) -> list[str]:
    def describe(memory: dict[str, Any]) -> str:
        def mbs(values: list[float]) -> str:
            return ", ".join(f"{mb:.0f}" for mb in values) or "-"

        return (
            f"RSS {mbs(memory['rss_mb'])} MB (peak {max(memory['peak_mb'], default=0):.0f}), "
            f"unique {mbs(memory['uss_mb'])} MB; {memory['workers_seen']} processes over the run "
            f"({memory['recycled']} recycled by max_requests, {memory['crashed']} crashed)"
        )

    lines = []
    for result in results:
        load = result["load_average"]
        lines.append(
            f"- {result['sections']:,} sections ({result['pages']} pages, seeded in "
            f"{result['setup_seconds']:.0f} s; machine load average {load['before']:.1f} before, "
            f"{load['after']:.1f} after):\n"
            f"  API workers: {describe(result['memory']['ours'])};\n"
            f"  baseline workers: {describe(result['memory']['baseline'])}"
        )
    return lines


def chart(results: list[dict[str, Any]], path: Path) -> None:
    """p50 and p99 latency against data-set size, one panel per endpoint."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    sizes = [r["sections"] for r in results]
    figure, axes = plt.subplots(2, 3, figsize=(14, 8), constrained_layout=True)
    for axis, endpoint in zip(axes.flat, ENDPOINTS, strict=True):
        for who, colour in (("ours", "tab:blue"), ("baseline", "tab:gray")):
            for stat, style, marker in (("p50_ms", "-", "o"), ("p99_ms", "--", "^")):
                values = [_value(r, endpoint.key, who, stat) for r in results]
                axis.plot(
                    sizes,
                    [math.nan if v is None else v for v in values],
                    style,
                    marker=marker,
                    color=colour,
                    label=f"{'API' if who == 'ours' else 'baseline'} {stat[:3]}",
                )
        axis.set_xscale("log")
        axis.set_yscale("log")  # p50 and p99, API and baseline span orders of magnitude
        axis.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.yaxis.set_minor_formatter(NullFormatter())
        axis.set_xticks(sizes, [f"{size:,}" for size in sizes])
        axis.set_title(endpoint.label, fontsize=10)
        axis.set_xlabel("sections in the database")
        axis.set_ylabel("latency (ms, log scale)")
        axis.grid(alpha=0.3, which="both")
    axes.flat[0].legend(fontsize=8)
    figure.suptitle("Content API latency by data-set size (beside the replaying baseline)")
    figure.savefig(path, dpi=110)
    plt.close(figure)


def report(settings: Settings, results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    checks = verdicts(results)
    text = [
        "# Benchmark results",
        "",
        f"{meta['machine']}; {meta['database']}; gunicorn.conf.py with {meta['workers']}; "
        f"load from {meta['generator']} with {settings.connections} keep-alive connections; "
        f"per endpoint {settings.warmup:g} s of warm-up on each server, then "
        f"{settings.rounds} rounds of {settings.duration:g} s alternating API and baseline. "
        "The load generator and both servers share the machine's cores, with whatever else "
        "runs on it (see the load averages below).",
        "",
        table(results),
        "",
        "req/s counts answers with the expected status only; req/s, p50 and p99 are medians "
        "over the rounds. ratio = API req/s / baseline req/s of adjacent rounds, median and "
        "(range): the baseline is a plain Flask app replaying the same answer bytes and "
        "headers from memory under the same gunicorn settings, so the ratio is the price of "
        "the API's own work. errors = unexpected statuses or socket errors, API/baseline.",
        "",
        "Worker memory (peak = VmHWM, unique = private pages, USS) and the machine around "
        "each size:",
        "",
        *memory_lines(results),
        "",
        "Targets:",
        "",
        *(f"- {c.verdict}: {c.target} ({c.detail})" for c in checks),
        "",
    ]
    return "\n".join(text)


def workers_description(settings: Settings) -> str:
    if settings.workers:
        return f"WEB_CONCURRENCY={settings.workers} workers"
    default = min(2 * (os.cpu_count() or 1) + 1, 8)
    return f"{os.environ.get('WEB_CONCURRENCY', default)} workers x 4 threads (gthread)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,1000,10000", help="comma-separated section counts")
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per endpoint")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up before")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive connections")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--database-url", help="PostgreSQL URL; each size gets a new schema")
    parser.add_argument("--redis-url", help="RATELIMIT_STORAGE_URI, e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: the config's)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--quick", action="store_true", help="one 1 s round: a smoke run")
    args = parser.parse_args(argv)

    generator = args.loadgen
    if generator == "auto":
        generator = "wrk" if loadgen.wrk_available() else "python"
    elif generator == "wrk" and not loadgen.wrk_available():
        parser.error("wrk is not on PATH (apt-get install wrk), or use --loadgen python")
    settings = Settings(
        sizes=[int(size.replace("_", "")) for size in args.sizes.split(",") if size.strip()],
        duration=1.0 if args.quick else args.duration,
        warmup=0.0 if args.quick else args.warmup,
        rounds=1 if args.quick else max(1, args.rounds),
        connections=args.connections,
        generator=generator,
        database_url=args.database_url,
        redis_url=args.redis_url,
        workers=args.workers,
        out=args.out,
    )
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    started = time.monotonic()
    results = [bench_size(settings, size) for size in settings.sizes]
    wrk_version = ""
    if generator == "wrk":
        wrk_version = subprocess.run(
            ["wrk", "-v"], capture_output=True, text=True, check=False
        ).stdout.split(" [")[0]
    meta = {
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "database": ("PostgreSQL" if settings.database_url else "SQLite")
        + (", rate limits in Redis" if settings.redis_url else ""),
        "workers": workers_description(settings),
        "generator": wrk_version or "the Python load loop",
        "seconds": round(time.monotonic() - started, 1),
    }
    settings.out.mkdir(parents=True, exist_ok=True)
    text = report(settings, results, meta)
    (settings.out / "results.md").write_text(text, encoding="utf-8")
    raw = {
        "meta": meta,
        "settings": {**asdict(settings), "out": str(settings.out)},
        "results": results,
        "targets": [asdict(check) for check in verdicts(results)],
    }
    (settings.out / "results.json").write_text(json.dumps(raw, indent=2), encoding="utf-8")
    chart(results, settings.out / "latency.png")
    print()
    print(text)
    log(f"written to {settings.out} in {meta['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
