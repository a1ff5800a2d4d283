"""The pytest plugin, used the way a user's project uses it: example test files run by ``pytester`` in a
fresh pytest process, the plugin found through its entry point (nothing in the examples imports it)."""

from __future__ import annotations

import json
import os
import textwrap
import time

import pytest
import requests

from emulator.pytest_plugin import MindSphere
from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, ServerProcess

pytest_plugins = ["pytester"]

ISOLATION = """
    import pytest

    ASSETS = "/api/assetmanagement/v3/assets"

    @pytest.mark.parametrize("name", ["Alpha", "Beta", "Gamma", "Delta"])
    def test_each_tenant_sees_only_its_own(mindsphere_client, mindsphere_tenant, name):
        root = mindsphere_client.get(ASSETS + "/root").json()
        assert root["assetId"] == mindsphere_tenant.root_asset_id
        resp = mindsphere_client.post(ASSETS, json={"name": name, "typeId": "core.basicasset",
                                                    "parentId": root["assetId"]})
        assert resp.status_code == 201, resp.text
        listed = mindsphere_client.get(ASSETS, params={"size": 200}).json()["_embedded"]["assets"]
        assert sorted(a["name"] for a in listed) == sorted([name, mindsphere_tenant.name])
"""


def _run(pytester, source: str, *args: str):
    pytester.makepyfile(test_example=textwrap.dedent(source))
    env_url = os.environ.pop("MDSP_EMU_URL", None)  # the examples choose their emulator themselves
    try:
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    finally:
        if env_url is not None:
            os.environ["MDSP_EMU_URL"] = env_url


def test_a_run_that_asks_for_no_fixture_does_not_import_the_emulator(pytester):
    """pytest imports the plugin (its entry point) in every run of every project where the package is installed;
    the emulator's stack (Flask, SQLAlchemy, PyJWT with cryptography, requests: half a second of each run's start)
    is imported when a test first asks for one of its fixtures, and the objects they hand out are still importable
    from the plugin's module."""
    result = _run(pytester, """
    import sys

    def test_a_project_that_does_not_use_the_emulator():
        loaded = [m for m in ("emulator.app", "emulator.mindsphere", "sqlalchemy", "jwt") if m in sys.modules]
        assert loaded == [], loaded

    def test_the_handed_out_objects_are_importable_from_the_plugin():
        from emulator.pytest_plugin import Clock, Faults, MindSphere, Tenant
        from emulator import mindsphere
        assert (MindSphere, Tenant, Faults, Clock) == (mindsphere.MindSphere, mindsphere.Tenant,
                                                       mindsphere.Faults, mindsphere.Clock)
    """)
    assert "mindsphere-emulator" in result.stdout.str()  # the plugin was loaded, through its entry point
    result.assert_outcomes(passed=2)


def test_fixtures_start_an_emulator_and_isolate_tenants(pytester):
    result = _run(pytester, ISOLATION + """

    def test_the_session_fixture(mindsphere):
        assert mindsphere.url.startswith("http://127.0.0.1:") and mindsphere.gateway == mindsphere.url
        assert mindsphere.server is not None  # started in this process

    def test_tenant_credentials_work_as_the_sdk_uses_them(mindsphere, mindsphere_tenant):
        import requests
        resp = requests.post(mindsphere_tenant.token_url, auth=(mindsphere_tenant.client_id,
                                                               mindsphere_tenant.client_secret))
        assert resp.status_code == 200 and resp.json()["access_token"]
        assert mindsphere_tenant.binding_keys["clientID"] == mindsphere_tenant.client_id
    """)
    result.assert_outcomes(passed=6)


def test_control_plane_helpers(pytester):
    result = _run(pytester, """
    import pytest

    ROOT = "/api/assetmanagement/v3/assets/root"
    SERIES = "/api/iottimeseries/v3/timeseries/x/y"

    def test_faults_inject_is_scoped_to_the_block_and_the_api(mindsphere_client, mindsphere_tenant):
        with mindsphere_tenant.faults.inject(500, api="assets", times=1) as rule:
            failed = mindsphere_client.get(ROOT)
            assert failed.status_code == 500
            assert failed.json()["errors"][0]["code"] == "mdsp.core.generic.internalServerError"
            assert mindsphere_client.get(ROOT).status_code == 200  # times=1
            assert mindsphere_tenant.faults.list()[0]["id"] == rule["id"]
        assert mindsphere_tenant.faults.list() == []
        with mindsphere_tenant.faults.inject(429, api="timeseries"):
            assert mindsphere_client.get(SERIES).status_code == 429
            assert mindsphere_client.get(ROOT).status_code == 200  # another API

    def test_faults_of_one_tenant_spare_the_others(mindsphere, mindsphere_client, mindsphere_tenant):
        other = mindsphere.new_tenant()
        try:
            with other.faults.inject(503), other.session() as theirs:
                assert theirs.get(ROOT).status_code == 503
                assert mindsphere_client.get(ROOT).status_code == 200
        finally:
            other.delete()

    def test_clock_freeze_and_advance(mindsphere_tenant):
        state = mindsphere_tenant.clock.freeze("2030-01-01T00:00:00Z")
        assert state["mode"] == "frozen" and state["time"].startswith("2030-01-01T00:00:00")
        state = mindsphere_tenant.clock.advance(3600)
        assert state["time"].startswith("2030-01-01T01:00:00")

    def test_the_clock_is_real_again_after_a_test_that_moved_it(mindsphere_tenant):
        assert mindsphere_tenant.clock.now()["mode"] == "real"

    def test_journal_shows_what_was_sent(mindsphere_client, mindsphere_tenant):
        mindsphere_client.get(ROOT)
        mindsphere_client.get("/api/assetmanagement/v3/assets/nope")
        entries = mindsphere_tenant.journal(path="/api/assetmanagement/v3/assets/*")
        assert [(e["method"], e["path"], e["status"]) for e in entries] == [
            ("GET", "/api/assetmanagement/v3/assets/root", 200), ("GET", "/api/assetmanagement/v3/assets/nope", 404)]
        assert mindsphere_tenant.journal(status=404)[0]["path"].endswith("/nope")

    def test_pump_with_history(mindsphere_client, mindsphere_tenant):
        pump = mindsphere_tenant.pump(hours=1, seed=7)
        records = mindsphere_client.get(f"/api/iottimeseries/v3/timeseries/{pump}/PumpData", params={
            "from": "1970-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}).json()
        assert 355 <= len(records) <= 361  # an hour at the default 10 s cadence
        assert {"Flow", "MotorCurrent", "PressureIn", "PressureOut", "StuffingBoxTemperature"} <= set(records[-1])
        assert mindsphere_tenant.pump(hours=0, seed=7, name="Other") != pump
    """)
    result.assert_outcomes(passed=6)


@pytest.fixture
def shared_server(tmp_path):
    with ServerProcess("--port", "0", "--database-url", f"sqlite:///{tmp_path / 'shared.sqlite3'}") as server:
        yield server


def test_parallel_workers_share_one_server(pytester, shared_server):
    """``pytest -n 2 --mindsphere-url``: two xdist workers, one emulator, each test its own tenant."""
    result = _run(pytester, ISOLATION + """

    def test_points_at_the_shared_server(mindsphere):
        assert mindsphere.server is None
    """, "-n", "2", "--mindsphere-url", shared_server.url)
    result.assert_outcomes(passed=5)
    assert "2 workers" in result.stdout.str() or "gw1" in result.stdout.str()


def test_url_from_the_environment(pytester, shared_server, monkeypatch):
    pytester.makepyfile(test_env="""
    def test_uses_it(mindsphere, mindsphere_client):
        assert mindsphere.server is None
        assert mindsphere_client.get("/api/assetmanagement/v3/assets/root").status_code == 200
    """)
    monkeypatch.setenv("MDSP_EMU_URL", shared_server.url)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_tenant_that_cannot_be_removed_fails_loudly(pytester):
    """[trust] item 3: the plugin ignored the answer of its cleanup, so tenants a CI backend could not remove
    piled up unnoticed. Here the first test takes the admin token away, so its tenant's removal answers 401: with
    the next test's creation, whose setup then errors naming the finished test's tenant, and at the session's end;
    the first test itself still passes."""
    with ServerProcess("--port", "0", "--database-url", "sqlite://", env={"MDSP_EMU_ADMIN_TOKEN": "ci-token"}) as srv:
        result = _run(pytester, """
        def test_loses_the_admin_token(mindsphere, mindsphere_tenant):
            mindsphere.admin.headers["Authorization"] = "Bearer wrong"
            print("first tenant:", mindsphere_tenant.name)

        def test_next(mindsphere_tenant):
            pass
        """, "--mindsphere-url", srv.url, "--mindsphere-admin-token", "ci-token", "-s")
    result.assert_outcomes(passed=1, errors=2)
    out = result.stdout.str()
    first = out.split("first tenant: ", 1)[1].split()[0]
    assert f"deleting the tenants of finished tests: {first}) answered 401" in out
    assert f"DELETE /_emulator/tenants/{first} answered 401" in out


def test_a_finished_tests_tenant_goes_with_the_next_creation(pytester):
    """The fixture releases its tenant after the test (``Tenant.release``): the next test's creation deletes it in
    the same request, so a test costs one request of the control plane; the last one goes at the session's end.
    A tenant the test deleted itself is not deleted twice, and no tenant of the run is left on the server."""
    with ServerProcess("--port", "0", "--database-url", "sqlite://") as srv:
        result = _run(pytester, """
        import json

        SEEN, CALLS = [], []

        def _live(mindsphere):
            return {t["name"] for t in mindsphere.admin.get("/_emulator/tenants").json()["tenants"]}

        def test_first(mindsphere, mindsphere_tenant):
            SEEN.append(mindsphere_tenant.name)
            real = mindsphere.lifecycle.call  # the plugin's control-plane calls from here on
            mindsphere.lifecycle.call = lambda method, path, body=None: CALLS.append(method) or real(method, path, body)

        def test_second(mindsphere, mindsphere_tenant):
            assert SEEN[0] not in _live(mindsphere)  # gone with this test's creation
            SEEN.append(mindsphere_tenant.name)
            mindsphere_tenant.delete()

        def test_third(mindsphere, mindsphere_tenant):
            assert mindsphere.released == [] and SEEN[1] not in _live(mindsphere)
            assert CALLS == ["POST", "DELETE", "POST"]  # a creation a test (and the test's own deletion)
            SEEN.append(mindsphere_tenant.name)
            assert mindsphere_tenant.created.get("deleted") is None  # nothing was handed over
            print("tenants:", json.dumps(SEEN))
        """, "--mindsphere-url", srv.url, "-s")
        result.assert_outcomes(passed=3)
        seen = json.loads(result.stdout.str().split("tenants: ", 1)[1].splitlines()[0])
        with ApiSession(srv.url) as admin:
            assert not set(seen) & {t["name"] for t in admin.get("/_emulator/tenants").json()["tenants"]}


def test_token_faults_reach_the_tenants_token_requests(pytester):
    """[trust] item 11: ``faults.inject(500, api="token")`` never fired (token requests had no tenant), so a
    "survives a token outage" test passed without anything injected."""
    result = _run(pytester, """
    import pytest

    def test_a_token_outage(mindsphere, mindsphere_tenant):
        with mindsphere_tenant.faults.inject(500, api="token", times=1):
            with pytest.raises(RuntimeError, match="answered 500"):
                mindsphere_tenant.token()
        assert mindsphere_tenant.token()
        assert [e["status"] for e in mindsphere_tenant.journal(path="/oauth/token")] == [500, 200]
    """)
    result.assert_outcomes(passed=1)


def test_event_helpers(pytester):
    """[events-files]: the plugin posts and reads a tenant's events (``raise_event``, ``events``), as an app test
    of an alarm list would."""
    result = _run(pytester, """
    ASSETS = "/api/assetmanagement/v3/assets"

    def test_an_alarm_is_raised_and_listed(mindsphere_client, mindsphere_tenant):
        pump = mindsphere_client.post(ASSETS, json={"name": "P", "typeId": "core.basicasset",
                                                    "parentId": mindsphere_tenant.root_asset_id}).json()["assetId"]
        other = mindsphere_client.post(ASSETS, json={"name": "Q", "typeId": "core.basicasset",
                                                     "parentId": mindsphere_tenant.root_asset_id}).json()["assetId"]
        alarm = mindsphere_tenant.raise_event(pump, "Overheat", severity=20, code="E1")
        mindsphere_tenant.raise_event(other, "Door open", severity=40)
        assert alarm["entityId"] == pump and alarm["description"] == "Overheat"
        assert [e["id"] for e in mindsphere_tenant.events(pump)] == [alarm["id"]]
        assert len(mindsphere_tenant.events()) == 2
        assert [e["description"] for e in mindsphere_tenant.events(severity=40)] == ["Door open"]
    """)
    result.assert_outcomes(passed=1)


def test_agent_helper(pytester):
    """[mindconnect]: the plugin makes an onboarded MindConnect agent mapped onto an asset's aspect, and the values
    it posts through the exchange read back from IoT Time Series, as a device's data would."""
    result = _run(pytester, """
    import pytest

    AM = "/api/assetmanagement/v3"

    def test_a_device_posts_through_an_agent(mindsphere_client, mindsphere_tenant):
        t = mindsphere_tenant.name
        mindsphere_client.put(f"{AM}/aspecttypes/{t}.Env", json={"name": "Env", "category": "dynamic", "variables": [
            {"name": "temperature", "dataType": "DOUBLE", "unit": "C", "qualityCode": True},
            {"name": "running", "dataType": "BOOLEAN"}]})
        mindsphere_client.put(f"{AM}/assettypes/{t}.Box", json={"name": "Box", "parentTypeId": "core.basicasset",
                                                              "aspects": [{"name": "Env", "aspectTypeId": f"{t}.Env"}]})
        box = mindsphere_client.post(f"{AM}/assets", json={"name": "B", "typeId": f"{t}.Box",
                                                           "parentId": mindsphere_tenant.root_asset_id}).json()
        agent = mindsphere_tenant.agent(box["assetId"], "Env")
        agent.post_data({"temperature": 21.5, "running": True}, at="2024-01-01T00:00:00.000Z")
        agent.bulk_post_data([("2024-01-01T00:01:00.000Z", {"temperature": 22}),
                              ("2024-01-01T00:02:00.000Z", {"running": False})])
        got = mindsphere_client.get(f"/api/iottimeseries/v3/timeseries/{box['assetId']}/Env",
                                    params={"from": "2023-12-31T00:00:00Z", "to": "2024-01-02T00:00:00Z"}).json()
        assert got == [
            {"_time": "2024-01-01T00:00:00.000Z", "temperature": 21.5, "temperature_qc": 0, "running": True},
            {"_time": "2024-01-01T00:01:00.000Z", "temperature": 22.0, "temperature_qc": 0},
            {"_time": "2024-01-01T00:02:00.000Z", "running": False}]
        with pytest.raises(ValueError, match="no variables"):
            mindsphere_tenant.agent(box["assetId"], "Env", variables=["pressure"])
    """)
    result.assert_outcomes(passed=1)


def test_the_in_thread_server_stops_at_once_while_a_client_holds_a_connection():
    """A failed test keeps its client's keep-alive connection open (its traceback holds the session): stop() used
    to wait 5 s for the event loop that polled that connection, per failed test (and per mutant in make mutate)."""
    server = LiveServer(Settings(database_url="sqlite://"))
    server.start()
    client = ApiSession(server.url)
    assert client.get("/_emulator/health").status_code == 200  # the connection stays open (keep-alive)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/_emulator/health", timeout=2)
    client.close()


def test_the_in_thread_lifecycle_answers_as_the_server_does():
    """With the server in the plugin's own process, a tenant's creation and deletion go straight into its app (no
    socket): the answers are the server's own, as a client over HTTP gets them. The same calls, both ways, side
    by side: the token URL names the server's address, the admin token is asked for, a taken name is refused, a
    second delete finds nothing."""
    with LiveServer(Settings(database_url="sqlite://", admin_token="s3cret")) as live:
        direct = MindSphere(live.url, admin_token="s3cret", server=live)
        remote = MindSphere(live.url, admin_token="s3cret")
        assert type(direct.lifecycle) is not type(remote.lifecycle)
        for emulator in (direct, remote):
            tenant = emulator.new_tenant()
            assert tenant.token_url == live.url + "/oauth/token?grant_type=client_credentials"
            with tenant.session() as api:  # its token, issued with it, is good for the tenant's data
                assert api.get("/api/assetmanagement/v3/assets/root").json()["assetId"] == tenant.root_asset_id
            with pytest.raises(RuntimeError, match="answered 409"):
                emulator.new_tenant(tenant.name)
            tenant.delete()
            tenant.delete()  # gone already: fine
            assert tenant.name not in [t["name"] for t in emulator.admin.get("/_emulator/tenants").json()["tenants"]]
            emulator.close()
        for anonymous in (MindSphere(live.url, server=live), MindSphere(live.url)):
            with pytest.raises(RuntimeError, match="answered 401"):
                anonymous.new_tenant()
            anonymous.close()
