"""Send webhook deliveries after the commit that queued them.

``WEBHOOKS_DISPATCH`` decides how: ``thread`` (default) wakes a daemon worker thread of this
process, started on the first commit that recorded events; it then also wakes up every
``WEBHOOK_POLL_INTERVAL`` seconds (or sooner, when a retry falls due) to send retries.
``inline`` sends right after the commit, in the committing thread (tests, tiny setups).
A commit outside a request (a command such as ``seed``) sends inline in ``thread`` mode too:
the process may end right after it, taking a daemon thread's sending with it.
``off`` leaves everything to ``flask webhooks deliver`` (e.g. ``--watch`` in its own process).
Whichever sends, deliveries are claimed in the database, so any number of processes and
threads can run side by side without sending a delivery twice.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask, current_app, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from api.extensions import db
from api.models.base import utcnow
from api.services.webhooks import (
    PENDING_KEY,
    DeliverySettings,
    DispatchReport,
    deliver_pending,
    next_due,
)

log = logging.getLogger(__name__)
EXTENSION = "webhooks"


class Dispatcher:
    """The per-application sender: runs deliveries inline or in one daemon thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def mode(self) -> str:
        return str(self.app.config.get("WEBHOOKS_DISPATCH", "thread"))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def nudge(self) -> None:
        """Deliveries were committed: send them as the configured mode says."""
        mode = self.mode
        if mode == "inline" or (mode == "thread" and not has_request_context()):
            self.run_once()
        elif mode == "thread":
            self.start()
            self._wake.set()

    def run_once(self) -> DispatchReport:
        """Send everything due now; failures are logged, never raised to the caller."""
        try:
            with self.app.app_context():
                settings = DeliverySettings.from_config(self.app.config)
                return deliver_pending(db.engine, settings)
        except Exception:
            log.exception("webhook dispatch failed")
            return DispatchReport()

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._loop, name="webhook-dispatcher", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to finish its current batch and end (tests, shutdown)."""
        with self._lock:
            thread = self._thread
            self._stopping.set()
            self._wake.set()
        if thread is not None:
            thread.join(timeout)
        self._thread = None

    def _loop(self) -> None:
        poll = float(self.app.config.get("WEBHOOK_POLL_INTERVAL", 60))
        wait: float | None = 0
        while not self._stopping.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            if self._stopping.is_set():
                break
            self.run_once()
            wait = poll
            try:
                with self.app.app_context():
                    due = next_due(db.engine)
            except Exception:
                log.exception("webhook dispatcher could not read the queue")
                continue
            if due is not None:
                wait = min(poll, max(0.5, (due - utcnow()) / timedelta(seconds=1)))


def dispatcher_of(app: Flask) -> Dispatcher:
    return app.extensions[EXTENSION]


def _after_commit(session: Session) -> None:
    if not session.info.pop(PENDING_KEY, False) or not has_app_context():
        return
    dispatcher = current_app.extensions.get(EXTENSION)
    if dispatcher is not None:
        dispatcher.nudge()


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)  # the events went with the transaction


_listening = False


def init_webhooks(app: Flask) -> None:
    """Give the app its dispatcher and nudge it after every commit that recorded events."""
    global _listening
    app.extensions[EXTENSION] = Dispatcher(app)
    if not _listening:
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_rollback", _after_rollback)
        _listening = True
