"""Fault tests (issue 4 "Done when", STYLE 27): real PostgreSQL, real Redis broker, a REAL ``celery worker``
process (with its embedded beat running the sweep), a zero-latency simulator.

(a) 200 provisionings while the worker is killed with ``kill -9`` mid-way and restarted;
(b) an operator failure rate of 30 %.
Both must end with every line active exactly once at the operator: no duplicate operator line, none lost
(R-PRV-3, R-CON-7, R-CON-8). Each test prints the counts it checked. Every wait is bounded, the worker is
always killed in a ``finally``.

The worker reads the pytest database (``connection.settings_dict["NAME"]``) and the broker
``FAULT_TEST_BROKER_URL`` (default ``redis://127.0.0.1:6379/7``, flushed before and after).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection

from contracts.models import Contract, OperatorRequest
from core.networks import Network
from provisioning.models import SimulatedOperatorRequest

from .test_dispatch_support import Stock, counts

LINES = 200
BROKER_URL = os.environ.get("FAULT_TEST_BROKER_URL", "redis://127.0.0.1:6379/7")
START_TIMEOUT = 60
FINISH_TIMEOUT = 180


def _redis():
    import redis

    return redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2)


@pytest.fixture
def broker():
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs a shared PostgreSQL database")
    try:
        _redis().ping()
    except Exception as exc:  # pragma: no cover - environment without Redis
        pytest.skip(f"Redis broker unreachable at {BROKER_URL}: {exc}")
    _redis().flushdb()
    yield BROKER_URL
    _redis().flushdb()


def _database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or "5432"
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


class Worker:
    """A real ``celery -A alphalink worker -B`` (2 processes) on the test database, in its own process group
    so that ``kill -9`` reaches the main process, its pool and its beat at once, like a crashed machine."""

    def __init__(self, tmp_path: Path, *, failure_rate: float = 0.0):
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "alphalink.settings",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": BROKER_URL,
            "REDIS_URL": BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "SIMULATOR_LATENCY_SECONDS": "0",
            "SIMULATOR_FAILURE_RATE": str(failure_rate),
            "PROVISIONING_SWEEP_SECONDS": "1",
            "PROVISIONING_RESEND_AFTER_SECONDS": "3",
            "PROVISIONING_POLL_SECONDS": "1",
            "PROVISIONING_RETRY_BASE_SECONDS": "1",
            "PROVISIONING_RETRY_MAX_SECONDS": "4",
            "PROVISIONING_MAX_ATTEMPTS": "30",
        }
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.log = self.tmp_path / f"worker-{self.starts}.log"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "alphalink",
            "worker",
            "-B",
            f"--schedule={self.tmp_path / 'beat-schedule'}",
            "--concurrency=2",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            f"--hostname=fault-{uuid.uuid4().hex[:8]}@%h",
            f"--logfile={self.log}",
        ]
        self.proc = subprocess.Popen(  # noqa: S603 - fixed command line
            command,
            cwd=django_settings.BASE_DIR,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited: {self._tail()}")
            if self.log.exists() and " ready." in self.log.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise AssertionError(f"worker not ready within {START_TIMEOUT}s: {self._tail()}")

    def kill9(self) -> None:
        """``kill -9`` of the worker's whole process group (main process, pool processes, beat)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self.proc = None

    def _tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else "(no log)"


def wait_until(predicate, timeout: float, what: str, worker: Worker) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timeout ({timeout}s) waiting for {what}; counts={counts()}\n{worker._tail()}")


def active_count() -> int:
    return Contract.objects.filter(state=Contract.State.ACTIVE).count()


def assert_every_line_active_exactly_once(checked: dict) -> None:
    """The "Done when" check: every line active exactly once at the operator — no duplicate, none lost."""
    assert checked["contracts"] == LINES
    assert checked["contracts_active"] == LINES  # none lost
    assert checked["requests_completed"] == LINES
    assert checked["operator_requests"] == LINES  # one operator request per platform request key
    assert checked["operator_lines"] == LINES  # no duplicate operator line
    assert checked["operator_lines_active"] == LINES
    assert checked["distinct_msisdns"] == LINES
    assert checked["lines_matching_contract_msisdn"] == LINES
    # Each platform request knows the operator reference of its (single) operator request.
    references = dict(SimulatedOperatorRequest.objects.values_list("idempotency_key", "reference"))
    for key, reference in OperatorRequest.objects.values_list("idempotency_key", "operator_reference"):
        assert references[key] == reference


def report(capsys, title: str, checked: dict, **extra) -> None:
    with capsys.disabled():
        print(f"\n[{title}] checked: " + ", ".join(f"{k}={v}" for k, v in {**checked, **extra}.items()))


def place_order() -> Stock:
    stock = Stock(sims=LINES, numbers=LINES, networks=(Network.BOUYGUES,))
    stock.order(Network.BOUYGUES, quantity=LINES)  # Bouygues: 24/7 window (R-PRV-3) whatever the real clock
    assert OperatorRequest.objects.filter(state=OperatorRequest.State.PENDING).count() == LINES
    return stock


@pytest.mark.django_db(transaction=True)
def test_R_PRV_3_kill_9_of_the_worker_during_200_provisionings_loses_and_duplicates_nothing(
    broker, tmp_path, settings, capsys
):
    settings.PROVISIONING_WAKE_ON_ORDER = False  # the worker's beat sweep finds the requests in the database
    place_order()
    worker = Worker(tmp_path)
    try:
        worker.start()
        wait_until(lambda: active_count() >= LINES // 5, FINISH_TIMEOUT, "the first lines", worker)
        worker.kill9()  # mid-way: some requests planned, some sent without an answer, some done
        time.sleep(0.5)  # a COMMIT already on the wire when the processes died lands now
        at_kill = {
            "active_at_kill": active_count(),
            "sent_in_flight_at_kill": OperatorRequest.objects.filter(
                state=OperatorRequest.State.SENT
            ).count(),
        }
        assert at_kill["active_at_kill"] < LINES, "the worker finished before it could be killed"
        time.sleep(1)
        assert active_count() == at_kill["active_at_kill"]  # nothing runs while the worker is down

        worker.start()
        wait_until(lambda: active_count() == LINES, FINISH_TIMEOUT, "every line active", worker)
        checked = counts()
    finally:
        worker.kill9()
    # Submits beyond one per line were re-sends after the crash; the operator answered them with its first
    # ticket (operator_requests stays at LINES).
    report(
        capsys,
        "kill -9",
        checked,
        worker_starts=worker.starts,
        resubmitted=checked["platform_attempts"] - LINES,
        **at_kill,
    )
    assert_every_line_active_exactly_once(checked)


@pytest.mark.django_db(transaction=True)
def test_R_CON_7_operator_failure_rate_30_percent_still_activates_every_line_once(
    broker, tmp_path, settings, capsys
):
    settings.PROVISIONING_WAKE_ON_ORDER = False
    place_order()
    worker = Worker(tmp_path, failure_rate=0.3)
    try:
        worker.start()
        wait_until(lambda: active_count() == LINES, FINISH_TIMEOUT, "every line active", worker)
        checked = counts()
    finally:
        worker.kill9()
    retried = SimulatedOperatorRequest.objects.filter(attempts__gt=1).count()
    report(capsys, "failure rate 30 %", checked, operator_requests_retried=retried)
    assert_every_line_active_exactly_once(checked)
    # The failures happened and were retried: more submits than lines, at the platform and at the operator.
    assert checked["platform_attempts"] > LINES
    assert retried > 0 and checked["operator_attempts"] > LINES
