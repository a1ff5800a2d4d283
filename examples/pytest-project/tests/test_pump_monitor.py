"""The app's tests against the MindSphere emulator, through its pytest plugin: installing mindsphere-emulator is
all it takes (nothing to import or start). Each test gets a tenant of its own, with its own credentials, so the
tests never see each other's data."""

from __future__ import annotations

import pytest
import requests
from pump_monitor import PumpMonitor

ASSETS = "/api/assetmanagement/v3/assets"


@pytest.fixture
def monitor(mindsphere, mindsphere_tenant) -> PumpMonitor:
    """The app, pointed at the emulator as it would be at MindSphere: a gateway and client credentials."""
    return PumpMonitor(mindsphere.gateway, mindsphere_tenant.client_id, mindsphere_tenant.client_secret)


def test_the_tenant_starts_with_its_root_asset_only(mindsphere_client, mindsphere_tenant):
    root = mindsphere_client.get(f"{ASSETS}/root").json()
    assert root["assetId"] == mindsphere_tenant.root_asset_id
    assert mindsphere_client.get(ASSETS).json()["page"]["totalElements"] == 1


def test_a_healthy_pump_does_not_cavitate(monitor, mindsphere_tenant):
    pump = mindsphere_tenant.pump("P-1", hours=2)  # a simulated pump with two hours of history
    assert len(monitor.suction_pressures(pump)) >= 300  # a reading every 10 seconds
    assert not monitor.cavitating(pump)
    assert len(monitor.hourly_flow(pump, hours=1)) == 1


def test_the_monitor_retries_a_failed_call(monitor, mindsphere_tenant):
    pump = mindsphere_tenant.pump("P-2", hours=1)
    with mindsphere_tenant.faults.inject(500, api="timeseries", times=1):
        assert monitor.suction_pressures(pump)  # the first call fails, the retry succeeds
    calls = mindsphere_tenant.journal(method="GET", path="/api/iottimeseries/*")
    assert [call["status"] for call in calls] == [500, 200]


def test_the_monitor_gives_up_when_the_service_stays_down(monitor, mindsphere_tenant):
    pump = mindsphere_tenant.pump("P-3", hours=0.1)
    with mindsphere_tenant.faults.inject(503, api="timeseries"), pytest.raises(requests.HTTPError):
        monitor.suction_pressures(pump)


def test_the_monitor_fetches_a_new_token_when_its_token_expired(monitor, mindsphere_tenant):
    pump = mindsphere_tenant.pump("P-4", hours=1)
    assert monitor.suction_pressures(pump)
    first = monitor.token()
    mindsphere_tenant.clock.advance(1801)  # tokens live 30 minutes; the fixture sets the clock back afterwards
    with mindsphere_tenant.session() as stale:
        stale.headers["Authorization"] = f"Bearer {first}"
        assert stale.get(f"{ASSETS}/root").status_code == 401  # the emulator's clock says it expired
    assert monitor.suction_pressures(pump, hours=2)  # a 401, a new token, the call again
    assert monitor.token() != first


def test_another_tenant_cannot_read_the_pump(mindsphere, mindsphere_tenant):
    pump = mindsphere_tenant.pump("P-5", hours=0.1)
    other = mindsphere.new_tenant()
    try:
        with other.session() as session:
            assert session.get(f"{ASSETS}/{pump}").status_code == 404
    finally:
        other.delete()
