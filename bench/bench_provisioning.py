"""Benchmark: provisioning 1,000 lines with 2 worker processes and a zero-latency simulator (issue 4, target
≥ 100 lines/s). Prints figures; asserts nothing about timing (it does check that every line is active exactly
once at the operator, or the figure would mean nothing).

    .venv/bin/python bench/bench_provisioning.py [--lines 1000] [--concurrency 2] [--production]

Needs PostgreSQL and Redis. ``BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/alphalink_bench_provisioning``, dropped and re-created on each run) and
``BENCH_BROKER_URL`` (default ``redis://127.0.0.1:6379/7``, flushed). ``BENCH_WORKER_ARGS`` adds options to
the worker command line (e.g. ``--prefetch-multiplier=4``).

What is timed: from the moment the sweep task is sent (order already placed, worker ready) until every contract
is active — planning, claiming, one ``provisioning.request_send_batch`` task per ``PROVISIONING_SEND_BATCH_SIZE``
claimed lines (each line: submit with its idempotency key, the operator's answer, outcome: contract Actif,
number in use, history). Also printed: the CPU time the worker processes used per line (Linux ``/proc``), a
figure that other load on the machine disturbs less than the wall-clock rate.

``--production`` runs the worker with ``DEBUG=0`` (as a deployed worker runs: no SQL kept in memory per query);
without it the worker gets the environment's ``DEBUG``, on unless set (the settings' own default is off), as
earlier figures were measured.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/alphalink_bench_provisioning"
)
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/7")
ENV = {
    "DEBUG": os.environ.get("DEBUG", "1"),
    "DATABASE_URL": DATABASE_URL,
    "CELERY_BROKER_URL": BROKER_URL,
    "REDIS_URL": BROKER_URL,
    "CELERY_TASK_ALWAYS_EAGER": "0",
    "SIMULATOR_LATENCY_SECONDS": "0",
    "SIMULATOR_FAILURE_RATE": "0",
    "PROVISIONING_SWEEP_SECONDS": "10",
    "DJANGO_SETTINGS_MODULE": "alphalink.settings",
    "LOG_LEVEL": "WARNING",
}


def recreate_database() -> None:
    import psycopg2

    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    conn = psycopg2.connect(
        dbname="postgres",
        user=url.username,
        password=url.password,
        host=url.hostname,
        port=url.port or 5432,
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


EXTRA = os.environ.get("BENCH_WORKER_ARGS", "").split()


def start_worker(concurrency: int, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "alphalink",
        "worker",
        f"--concurrency={concurrency}",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        *EXTRA,
        f"--hostname=bench-{uuid.uuid4().hex[:8]}@%h",
        f"--logfile={log}",
    ]
    proc = subprocess.Popen(  # noqa: S603 - fixed command line
        command,
        cwd=BASE_DIR,
        env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return proc


def worker_cpu_seconds(proc: subprocess.Popen) -> float | None:
    """User + system CPU time of every live process of the worker's process group (main process and pool)."""
    proc_dir = Path("/proc")
    if not proc_dir.exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in proc_dir.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == proc.pid:  # process group id: the worker's session leader
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def wait_ready(proc: subprocess.Popen, timeout: float = 60) -> None:
    from celery import current_app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("worker exited early")
        try:
            if current_app.control.ping(timeout=0.5):
                return
        except Exception:  # noqa: S110 - broker not answering yet
            pass
        time.sleep(0.3)
    raise SystemExit("worker not ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--production", action="store_true", help="worker with DEBUG=0")
    args = parser.parse_args()

    if args.production:
        ENV.update(
            DEBUG="0", SECRET_KEY=f"bench-{uuid.uuid4().hex}{uuid.uuid4().hex}", ALLOWED_HOSTS="localhost"
        )
    os.environ.update(ENV)
    sys.path.insert(0, str(BASE_DIR))
    recreate_database()
    import django

    django.setup()
    import redis
    from celery import current_app
    from django.conf import settings
    from django.core.management import call_command

    from contracts.models import Contract
    from core.networks import Network
    from tests.provisioning.test_dispatch_support import Stock, counts

    settings.PROVISIONING_WAKE_ON_ORDER = False  # the bench sends the sweep itself, after the worker is ready
    redis.Redis.from_url(BROKER_URL).flushdb()
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"database ready in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    stock = Stock(sims=args.lines, numbers=args.lines, networks=(Network.BOUYGUES,))
    stock.order(Network.BOUYGUES, quantity=args.lines)
    print(f"order of {args.lines} lines placed in {time.perf_counter() - t0:.2f} s")

    log = Path(tempfile.mkdtemp(prefix="bench-provisioning-")) / "worker.log"
    worker = start_worker(args.concurrency, log)
    try:
        wait_ready(worker)
        cpu_start = worker_cpu_seconds(worker)
        start = time.perf_counter()
        current_app.send_task("provisioning.dispatch_due_requests")
        deadline = start + args.timeout
        active = 0
        while time.perf_counter() < deadline:
            active = Contract.objects.filter(state=Contract.State.ACTIVE).count()
            if active >= args.lines:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        cpu_end = worker_cpu_seconds(worker)
    finally:
        try:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(worker.pid, signal.SIGKILL)
        redis.Redis.from_url(BROKER_URL).flushdb()

    checked = counts()
    print(f"checked: {checked}")
    if active < args.lines:
        raise SystemExit(f"only {active}/{args.lines} lines active after {args.timeout:.0f} s (log: {log})")
    if checked["operator_lines"] != args.lines or checked["operator_requests"] != args.lines:
        raise SystemExit("operator lines do not match the platform's contracts")
    if cpu_start is not None and cpu_end is not None:
        print(
            f"worker CPU: {(cpu_end - cpu_start) / args.lines * 1000:.1f} ms per line (all worker processes)"
        )
    print(
        f"provisioned {args.lines} lines with {args.concurrency} worker processes"
        f"{' (DEBUG=0)' if args.production else ''} in {elapsed:.2f} s: "
        f"{args.lines / elapsed:.0f} lines/s (target >= 100)"
    )


if __name__ == "__main__":
    main()
