"""The data commands (``token``, ``seed``, ``snapshot``, ``contract``) act on the emulator the user means.

They run as a user runs them: the real ``mindsphere-emulator`` command in a subprocess, in a folder of its own.
By default they go through the HTTP API of the running server at ``--url`` / ``MDSP_EMU_URL`` (else
http://127.0.0.1:8080); a store is used only when named (``--data-dir``, ``--database-url``), and a read never
creates one. A command run where no server answers says so in one line and leaves no ``.emulator-data`` behind.
The fleet route ``seed --url`` calls (``POST /_emulator/tenants/{name}/fleet``) is checked over HTTP too.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from emulator.devices import fleet, scenarios
from emulator.testing import ApiSession, ServerProcess, fetch_token

AM = "/api/assetmanagement/v3"
EXAMPLE_SCENARIO = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "leak-then-outage.yaml"
CLIENT = ("emutenant-client", "emulator-secret")


def command(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """``mindsphere-emulator ARGS`` in ``cwd``, with no MDSP_EMU_* of the surrounding shell (only ``env``'s)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MDSP_EMU_")}
    return subprocess.run([sys.executable, "-m", "emulator.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**clean, **(env or {})}, timeout=120)


def refused(result: subprocess.CompletedProcess) -> str:
    """The one line a refused command prints (exit 2, nothing on stdout)."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def succeeded(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # free once the socket is closed: nothing answers there


DATA_COMMANDS = [["token"], ["contract", "list"], ["contract", "download", "plant"],
                 ["snapshot", "export", "--file", "t.json"], ["seed", "--pumps", "2"]]


@pytest.mark.parametrize("args", DATA_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_without_a_server_a_data_command_says_so_and_creates_nothing(tmp_path, args):
    url = f"http://127.0.0.1:{closed_port()}"
    line = refused(command(*args, cwd=tmp_path, env={"MDSP_EMU_URL": url}))
    assert f"no emulator answers at {url}" in line and "--data-dir" in line
    line = refused(command(*args, "--url", url, cwd=tmp_path))
    assert f"no emulator answers at {url}" in line
    assert list(tmp_path.iterdir()) == []  # no ./.emulator-data, no snapshot file


def test_by_default_a_data_command_asks_the_server_of_make_run(tmp_path):
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 8080)) == 0:
            pytest.skip("something listens on 127.0.0.1:8080 here (a sandbox of your own?)")
    line = refused(command("contract", "list", cwd=tmp_path))
    assert "no emulator answers at http://127.0.0.1:8080" in line
    assert not (tmp_path / ".emulator-data").exists()


@pytest.mark.parametrize("args", DATA_COMMANDS[:4], ids=lambda a: " ".join(a[:2]))
def test_a_store_that_does_not_exist_is_an_error_not_created(tmp_path, args):
    missing = tmp_path / "nowhere"
    line = refused(command(*args, "--data-dir", str(missing), cwd=tmp_path))
    assert f"no emulator store at {missing / 'emulator.sqlite3'}" in line
    line = refused(command(*args, "--database-url", f"sqlite:///{missing}/e.sqlite3", cwd=tmp_path))
    assert "no emulator store at" in line
    assert "in memory" in refused(command(*args, "--database-url", "sqlite://", cwd=tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgres
def test_a_postgresql_database_without_a_store_is_an_error(tmp_path):
    server = os.environ.get("MDSP_EMU_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("set MDSP_EMU_TEST_POSTGRES_URL to run the PostgreSQL tests")
    missing = server.rsplit("/", 1)[0] + "/emu_no_such_database"
    line = refused(command("contract", "list", "--database-url", missing, cwd=tmp_path))
    assert line.startswith("mindsphere-emulator: error: cannot open") and "emu_no_such_database" in line


def test_a_url_and_a_store_at_once_are_refused(tmp_path):
    line = refused(command("token", "--url", "http://127.0.0.1:9", "--data-dir", str(tmp_path), cwd=tmp_path))
    assert "not both" in line
    line = refused(command("token", cwd=tmp_path, env={"MDSP_EMU_URL": "http://127.0.0.1:9",
                                                       "MDSP_EMU_DATA_DIR": str(tmp_path)}))
    assert "MDSP_EMU_URL and MDSP_EMU_DATA_DIR are both set" in line
    assert "not an http" in refused(command("token", "--url", "127.0.0.1:8080", cwd=tmp_path))


def test_data_commands_go_through_the_running_server(tmp_path):
    work = tmp_path / "elsewhere"  # another folder than the server's: the commands must find it by its URL
    work.mkdir()
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path / "data"), "--seed", "3") as srv:
        url = ["--url", srv.url]
        with ApiSession(srv.url, succeeded(command("token", *url, cwd=work))) as api:
            assert api.get(f"{AM}/assets/root").json()["tenantId"] == "emutenant"
            out = succeeded(command("seed", "--pumps", "4", "--scenario", "cavitation", *url, cwd=work))
            assert out == "seeded tenant emutenant with seed 3: 4 pumps (4 new, 2 new sites, 2 new pump stations)"
            pumps = api.get(f"{AM}/assets", params={"filter": '{"typeId": "emutenant.Pump"}', "size": 50}).json()
            ids = {p["assetId"] for p in pumps["_embedded"]["assets"]}
            assert ids == {fleet.derived_id(3, "emutenant", "pump", i) for i in range(4)}  # the server's seed
            again = command("seed", "--pumps", "4", *url, cwd=work, env={"MDSP_EMU_SEED": "3"})
            assert succeeded(again).endswith("4 pumps (0 new, 0 new sites, 0 new pump stations)")
            line = refused(command("seed", "--pumps", "1", "--scenario", str(EXAMPLE_SCENARIO), *url, cwd=work))
            assert "only built-in scenarios" in line

            assert succeeded(command("contract", "create", "plant", "--asset-type", "emutenant.Pump", *url,
                                     cwd=work)).startswith("{")
            assert succeeded(command("contract", "list", *url, cwd=work)).split("\t")[:3] == ["plant", "1.0.0", "saved"]
            assert succeeded(command("contract", "publish", "plant", "--publisher-email", "me@example.com", *url,
                                     cwd=work)) == f"published plant at {srv.url}/odata/plant/"
            assert succeeded(command("contract", "download", "plant", "--file", "plant.xml", *url, cwd=work))
            assert (work / "plant.xml").read_bytes() == api.get("/odata/plant/$metadata").content
            line = refused(command("contract", "list", "--tenant", "acme", *url, cwd=work))
            assert "belongs to tenant emutenant, not acme" in line

            exported = succeeded(command("snapshot", "export", "--file", "emu.json", cwd=work,
                                         env={"MDSP_EMU_URL": srv.url}))
            assert exported == "exported tenant emutenant to emu.json"
    assert sorted(p.name for p in work.iterdir()) == ["emu.json", "plant.xml"]  # and no .emulator-data
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path / "other"), "--admin-token", "s3cret") as other:
        admin = requests.delete(other.url + "/_emulator/tenants/emutenant",
                                headers={"Authorization": "Bearer s3cret"}, timeout=10)
        assert admin.status_code == 204  # the snapshot's tenant must not exist where it is imported
        line = refused(command("snapshot", "import", "--file", "emu.json", "--url", other.url, cwd=work))
        assert "answered 401" in line and "--admin-token" in line
        imported = command("snapshot", "import", "--file", "emu.json", "--url", other.url, cwd=work,
                           env={"MDSP_EMU_ADMIN_TOKEN": "s3cret"})
        assert succeeded(imported) == "imported tenant emutenant from emu.json"
        token = fetch_token(other.url, *CLIENT)
        with ApiSession(other.url, token) as api:
            assert api.get(f"{AM}/assets/{fleet.derived_id(3, 'emutenant', 'pump', 0)}").status_code == 200


def test_a_scenario_file_of_your_own_is_seeded_into_a_store(tmp_path):
    data = tmp_path / "data"
    out = succeeded(command("seed", "--pumps", "1", "--scenario", str(EXAMPLE_SCENARIO), "--data-dir", str(data),
                            cwd=tmp_path))
    assert out.endswith("1 pumps (1 new, 1 new sites, 1 new pump stations)")
    assert succeeded(command("contract", "list", "--data-dir", str(data), cwd=tmp_path)) == ""
    with ServerProcess("--port", "0", "--data-dir", str(data)) as srv:
        token = fetch_token(srv.url, *CLIENT)
        pump = requests.get(f"{srv.url}{AM}/assets/{fleet.derived_id(0, 'emutenant', 'pump', 0)}",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    values = {v["name"]: v["value"] for v in pump["variables"]}
    assert values["Scenario"] == str(EXAMPLE_SCENARIO)


# --- the fleet route ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, status", [
    ({}, 400), ({"pumps": 0}, 400), ({"pumps": 10_001}, 400), ({"pumps": "2"}, 400), ({"pumps": True}, 400),
    ({"pumps": 1, "scenarios": ["/etc/passwd"]}, 400), ({"pumps": 1, "scenarios": "cavitation"}, 400),
    ({"pumps": 1, "scenarios": [7]}, 400), ({"pumps": 1, "colour": "red"}, 400),
])
def test_bad_fleet_requests_build_nothing(admin, api, tenant, body, status):
    resp = admin.post(f"/_emulator/tenants/{tenant['name']}/fleet", json=body)
    assert resp.status_code == status, resp.text
    assert resp.json()["errors"][0]["message"] and "root:" not in resp.text
    assert api.get(f"{AM}/assets").json()["page"]["totalElements"] == 1  # the root alone


def test_the_fleet_route_documents_the_built_in_scenarios(admin):
    doc = admin.get("/_emulator/openapi.json").json()
    body = doc["paths"]["/_emulator/tenants/{name}/fleet"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["properties"]["scenarios"]["items"]["enum"] == scenarios.builtin_names()


def test_the_fleet_route_builds_what_seed_builds(admin, api, tenant):
    name = tenant["name"]
    assert admin.post("/_emulator/tenants/nosuchtenant/fleet", json={"pumps": 1}).status_code == 404
    resp = admin.post(f"/_emulator/tenants/{name}/fleet", json={"pumps": 2, "seed": 9, "scenarios": ["seal-wear"]})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"tenant": name, "seed": 9, "pumps": 2, "created": {"pumps": 2, "sites": 1, "areas": 1}}
    first = api.get(f"{AM}/assets/{fleet.derived_id(9, name, 'pump', 0)}").json()
    assert {v["name"]: v["value"] for v in first["variables"]}["Scenario"] == "seal-wear"
    assert first["twinType"] == "simulation" and first["location"]["locality"]
    again = admin.post(f"/_emulator/tenants/{name}/fleet", json={"pumps": 2, "seed": 9})
    assert again.json()["created"] == {"pumps": 0, "sites": 0, "areas": 0}


def test_a_second_fleet_numbers_its_pumps_on(tmp_path):
    """The sandbox's pump is P-101; a fleet of another seed must not add a second P-101 (nor P-102, ...)."""
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path), "--pump", "--backfill-days", "0") as srv:
        out = succeeded(command("seed", "--pumps", "6", "--seed", "7", "--url", srv.url, cwd=tmp_path))
        assert out.endswith("6 pumps (6 new, 2 new sites, 2 new pump stations)")
        with ApiSession(srv.url, fetch_token(srv.url, *CLIENT)) as api:
            found = api.get(f"{AM}/assets", params={"filter": '{"typeId": "emutenant.Pump"}', "size": 50}).json()
    pumps = found["_embedded"]["assets"]
    names = sorted(p["name"] for p in pumps)
    assert names == [f"P-{n}" for n in range(101, 108)], names
    assert len({p["externalId"] for p in pumps}) == 7
    by_id = {p["assetId"]: p["name"] for p in pumps}
    assert by_id[fleet.derived_id(0, "emutenant", "pump", 0)] == "P-101"  # the sandbox's pump keeps its name
    assert by_id[fleet.derived_id(7, "emutenant", "pump", 0)] == "P-102"  # the fleet's first takes the next free
