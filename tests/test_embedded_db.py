"""The embedded PostgreSQL of ``make run`` (alphalink/embedded_db.py): DATABASE_URL wins, a failure is one French
line, the URL follows the running server's socket. The real server is exercised by ``make run`` itself."""

import subprocess
import types

import pytest

from alphalink import embedded_db


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded_db, "RUN_DIR", tmp_path)
    monkeypatch.setattr(embedded_db, "PGDATA", tmp_path / "pgdata")
    monkeypatch.setattr(embedded_db, "LOG_FILE", embedded_db.BASE_DIR / "run" / "embedded-postgres.log")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(embedded_db, "configured_url", lambda: "")
    return tmp_path


def test_database_url_set_starts_nothing(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example.fr:5432/alphalink")
    monkeypatch.setattr(embedded_db, "_library", lambda: pytest.fail("the embedded server must not start"))
    assert embedded_db.main(["start"]) == 0
    out, err = capsys.readouterr()
    assert out == "postgres://u@db.example.fr:5432/alphalink\n"
    assert "n'est pas démarré" in err


def test_failure_is_one_french_line(scratch, monkeypatch, capsys):
    def get_server(pgdata, cleanup_mode):
        raise subprocess.CalledProcessError(1, ["/somewhere/pginstall/bin/initdb", "-D", str(pgdata)])

    monkeypatch.setattr(embedded_db, "_library", lambda: types.SimpleNamespace(get_server=get_server))
    assert embedded_db.main(["start"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("Impossible de démarrer le PostgreSQL embarqué (initdb a échoué avec le code 1")
    assert "définissez DATABASE_URL=postgres://utilisateur@hôte:5432/alphalink puis relancez make run." in err


def test_url_follows_the_socket_of_the_running_server(scratch):
    assert embedded_db.database_url() == f"postgres://postgres@:5432/alphalink?host={scratch / 'pgdata'}"
    (scratch / "pgdata").mkdir()
    lines = ["4242", str(scratch / "pgdata"), "1700000000", "5432", "/tmp/elsewhere", "", "1 2", "ready"]
    (scratch / "pgdata" / "postmaster.pid").write_text("\n".join(lines) + "\n")
    assert embedded_db.database_url() == "postgres://postgres@:5432/alphalink?host=/tmp/elsewhere"


def test_stop_without_a_data_directory_does_nothing(scratch, capsys):
    assert embedded_db.main(["stop"]) == 0
    assert capsys.readouterr() == ("", "")
