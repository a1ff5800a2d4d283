"""The ``mindsphere-emulator`` command and the store's life across restarts, as a user runs them."""

from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys

import pytest
import requests

from emulator.store.engine import json_loads
from emulator.store.models import INDEXES, SCHEMA_VERSION
from emulator.testing import HAVE_PROC, ServerProcess, child_pids, fetch_token
from tests.support.paths import ROOT, TOKEN_KEYS


def run_cli(*args, env=None, timeout=60):
    import os

    return subprocess.run([sys.executable, "-m", "emulator.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def one_line_error(result) -> str:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    return lines[0]


@pytest.mark.parametrize(("args", "needle"), [
    (["serve", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["serve", "--port", "http"], "invalid int value"),
    (["serve", "--port", "70000"], "--port must be between 0 and 65535"),
    (["serve", "--workers", "0"], "--workers must be between 1 and 64"),
    (["serve", "--tenant", "Bad Name"], "not a valid tenant name"),
    (["serve", "--database-url", "mysql://x/y"], "is not supported"),
    (["serve", "--database-url", "sqlite://", "--workers", "2"], "needs a shared database"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_flags_exit_with_one_line(args, needle):
    assert needle in one_line_error(run_cli(*args))


def test_bad_environment_value_exits_with_one_line():
    line = one_line_error(run_cli("serve", env={"MDSP_EMU_PORT": "eighty"}))
    assert "MDSP_EMU_PORT" in line


def test_serve_on_port_zero_prints_banner_and_serves(tmp_path):
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path), "--client-secret", "s3cret") as srv:
        out = srv.output
        assert srv.port and srv.port != 8080
        assert f"Base URL       http://127.0.0.1:{srv.port}" in out
        assert f"TokenURL     http://127.0.0.1:{srv.port}/oauth/token?grant_type=client_credentials" in out
        assert "ClientID     emutenant-client" in out and "ClientSecret s3cret" in out
        assert f'gateway: "http://127.0.0.1:{srv.port}"' in out
        assert requests.get(srv.url + "/_emulator/health", timeout=10).json()["status"] == "ok"
        assert (tmp_path / "emulator.sqlite3").exists()
        # gunicorn's master forked a worker, whose HTTP is waitress's (emulator.server.WaitressWorker)
        assert requests.get(srv.url + "/", timeout=10).headers["Server"] == "mindsphere-emulator"
        assert not HAVE_PROC or len(child_pids(srv.proc.pid)) == 1


def test_environment_variables_configure_serve(tmp_path):
    env = {"MDSP_EMU_TENANT": "envtenant", "MDSP_EMU_CLIENT_ID": "env-client", "MDSP_EMU_CLIENT_SECRET": "env-secret",
           "MDSP_EMU_DATA_DIR": str(tmp_path), "MDSP_EMU_PORT": "0"}
    with ServerProcess(env=env) as srv:
        token = fetch_token(srv.url, "env-client", "env-secret")
        root = requests.get(srv.url + ROOT, headers={"Authorization": "Bearer " + token}, timeout=10).json()
        assert root["tenantId"] == "envtenant"


def test_flag_wins_over_environment(tmp_path):
    with ServerProcess("--tenant", "flagtenant", "--port", "0", "--data-dir", str(tmp_path),
                       env={"MDSP_EMU_TENANT": "envtenant"}) as srv:
        assert "Tenant         flagtenant" in srv.output


def test_non_loopback_bind_with_default_secret_warns(tmp_path):
    with ServerProcess("--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path)) as srv:
        assert "WARNING" in srv.output and "client secret is the public default" in srv.output


def test_loopback_bind_does_not_warn(tmp_path):
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path)) as srv:
        assert "WARNING" not in srv.output


def test_tokens_keys_and_data_survive_a_restart(tmp_path):
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path)) as first:
        token = fetch_token(first.url, "emutenant-client", "emulator-secret")
        keys_before = requests.get(first.url + TOKEN_KEYS, timeout=10).json()
        root_before = requests.get(first.url + ROOT, headers={"Authorization": "Bearer " + token}, timeout=10).json()
        first.kill()  # kill -9: nothing gets a chance to flush
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path)) as second:
        assert requests.get(second.url + TOKEN_KEYS, timeout=10).json() == keys_before
        resp = requests.get(second.url + ROOT, headers={"Authorization": "Bearer " + token}, timeout=10)
        assert resp.status_code == 200
        assert resp.json()["assetId"] == root_before["assetId"]


def test_refuses_a_database_of_another_schema_version(tmp_path):
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path)):
        pass
    db = sqlite3.connect(tmp_path / "emulator.sqlite3")
    db.execute("UPDATE schema_meta SET value = '999' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    line = one_line_error(run_cli("serve", "--port", "0", "--data-dir", str(tmp_path)))
    assert "schema version 999" in line and f"uses version {SCHEMA_VERSION}" in line


def test_a_database_made_before_an_index_gets_it_at_its_next_start(tmp_path):
    """An index added in a later version (no data changes, so no schema version) is made on a database that lacks
    it as the server starts, and what the database held is served as before; the generation is then recorded, so
    the next start checks nothing."""
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path)) as first:
        token = fetch_token(first.url, "emutenant-client", "emulator-secret")
        root = requests.get(first.url + ROOT, headers={"Authorization": "Bearer " + token}, timeout=10).json()
    db = sqlite3.connect(tmp_path / "emulator.sqlite3")
    assert db.execute("SELECT value FROM schema_meta WHERE key = 'indexes'").fetchall() == [(str(INDEXES),)]
    db.execute("DROP INDEX ix_assets_tenant_type_live")  # as a database of the version before it
    db.execute("DELETE FROM schema_meta WHERE key = 'indexes'")
    db.commit()
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path)) as second:
        resp = requests.get(second.url + ROOT, headers={"Authorization": "Bearer " + token}, timeout=10)
        assert resp.status_code == 200 and resp.json()["assetId"] == root["assetId"], resp.text
    assert db.execute("SELECT sql FROM sqlite_master WHERE name = 'ix_assets_tenant_type_live'").fetchone()[0] == (
        "CREATE INDEX ix_assets_tenant_type_live ON assets (tenant_id, type_id, deleted, asset_id)")
    assert db.execute("SELECT value FROM schema_meta WHERE key = 'indexes'").fetchall() == [(str(INDEXES),)]
    db.close()


def test_refuses_a_foreign_database(tmp_path):
    db = sqlite3.connect(tmp_path / "emulator.sqlite3")
    db.execute("CREATE TABLE customers (id INTEGER)")
    db.commit()
    db.close()
    line = one_line_error(run_cli("serve", "--port", "0", "--data-dir", str(tmp_path)))
    assert "not the emulator's" in line


def test_token_command_prints_a_usable_token(tmp_path):
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path)):
        pass  # the store exists once a server has served it (the token command reads a store, never makes one)
    result = run_cli("token", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path)) as srv:
        assert requests.get(srv.url + ROOT, headers={"Authorization": "Bearer " + token}, timeout=10).ok


def test_port_in_use_exits_with_one_line(tmp_path):
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path / "a")) as srv:
        line = one_line_error(run_cli("serve", "--port", str(srv.port), "--data-dir", str(tmp_path / "b")))
        assert "in use" in line.lower()


def test_json_columns_read_back_what_the_standard_encoder_wrote():
    """JSON columns are decoded by orjson (``store.engine.json_loads``) but written by the standard library's
    encoder, which writes what orjson refuses when a value did not come through a checked request (no HTTP path
    stores one today: requests and scenarios refuse non-finite numbers). Without the fallback to the standard
    decoder such a row could never be read again: each read would answer 500."""
    assert json_loads(json.dumps({"a": [1, 2.5, "é", None]})) == {"a": [1, 2.5, "é", None]}
    odd = json_loads(json.dumps({"inf": math.inf, "big": 2**70, "s": "\ud800"}))
    assert odd["inf"] == math.inf and odd["big"] == 2**70 and odd["s"] == "\ud800"
    assert math.isnan(json_loads("[NaN]")[0])
