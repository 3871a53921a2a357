"""The yardstick: a plain Flask app that replays captured answers from memory.

It serves the very bytes and headers the real service answered for the benchmarked requests,
so the difference in a measurement is the work the real service does per request (queries,
serialising, validators), not the size of the answer or the server around it. A request whose
If-None-Match equals the captured ETag gets the captured 304. ``BENCH_CAPTURES`` names the JSON
file ``bench/run.py`` writes: a list of {method, target, if_none_match, status, headers, body}.

    BENCH_CAPTURES=captures.json gunicorn -c gunicorn.conf.py bench.baseline_app:app
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from flask import Flask, Response, request

Key = tuple[str, str, str | None]


def load_captures(path: str) -> dict[Key, tuple[int, list[tuple[str, str]], bytes]]:
    """Answers by (method, path?query, If-None-Match or None)."""
    with open(path, encoding="utf-8") as file:
        entries: list[dict[str, Any]] = json.load(file)
    return {
        (entry["method"], entry["target"], entry["if_none_match"]): (
            entry["status"],
            [(name, value) for name, value in entry["headers"]],
            base64.b64decode(entry["body"]),
        )
        for entry in entries
    }


app = Flask(__name__)
CAPTURES = load_captures(os.environ["BENCH_CAPTURES"])


@app.route("/", defaults={"path": ""}, methods=["GET", "PATCH"])
@app.route("/<path:path>", methods=["GET", "PATCH"])
def replay(path: str) -> Response:
    """The captured answer for this request, or 404."""
    request.get_data()  # read a PATCH body, as the real service does
    target = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
    answer = CAPTURES.get((request.method, target, request.headers.get("If-None-Match")))
    if answer is None:
        answer = CAPTURES.get((request.method, target, None))
    if answer is None:
        return Response("not captured\n", status=404, content_type="text/plain")
    status, headers, body = answer
    return Response(body, status=status, headers=headers)
