"""A small app of the kind the emulator is for: it reads a pump's pressures from MindSphere and tells whether the
pump cavitates (suction pressure far below its normal level). It knows nothing of the emulator: it takes a
gateway URL and client credentials, fetches tokens by the client credentials grant, and retries a call that
failed with a 5xx once (or with a 401, after fetching a new token), as apps on MindSphere should.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import requests

TIMESERIES = "/api/iottimeseries/v3/timeseries"
AGGREGATES = "/api/iottsaggregates/v4/aggregates"


class PumpMonitor:
    def __init__(self, gateway: str, client_id: str, client_secret: str):
        self.gateway = gateway.rstrip("/")
        self.credentials = (client_id, client_secret)
        self.session = requests.Session()
        self.session.trust_env = False  # the gateway of these examples is on loopback
        self._token: tuple[float, str] | None = None

    def token(self) -> str:
        if self._token is None or time.time() > self._token[0]:
            resp = self.session.post(self.gateway + "/oauth/token", data={"grant_type": "client_credentials"},
                                     auth=self.credentials, timeout=30)
            resp.raise_for_status()
            body = resp.json()
            self._token = (time.time() + body["expires_in"] - 60, body["access_token"])
        return self._token[1]

    def get(self, path: str, **params) -> requests.Response:
        """A GET with a bearer token, tried once more after a 5xx, or after a 401 with a new token (the gateway
        decides when a token has expired, not this machine's clock)."""
        for attempt in (1, 2):
            resp = self.session.get(self.gateway + path, params=params, timeout=30,
                                    headers={"Authorization": f"Bearer {self.token()}"})
            if resp.status_code == 401:
                self._token = None
            if attempt == 2 or (resp.status_code < 500 and resp.status_code != 401):
                resp.raise_for_status()
                return resp
        raise AssertionError("unreachable")

    def suction_pressures(self, asset_id: str, hours: float = 1.0) -> list[float]:
        """The pump's suction pressure readings (hPa) of the last ``hours``."""
        now = datetime.now(UTC)
        records = self.get(f"{TIMESERIES}/{asset_id}/PumpData", **{
            "from": (now - timedelta(hours=hours)).isoformat(), "to": now.isoformat(), "select": "PressureIn"}).json()
        return [r["PressureIn"] for r in records if "PressureIn" in r]

    def hourly_flow(self, asset_id: str, hours: int = 3) -> list[float]:
        """The average flow (l/s) of each of the last ``hours`` whole hours, from the aggregates API (v4)."""
        upto = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        answer = self.get(AGGREGATES, assetId=asset_id, aspectName="PumpData", intervalUnit="hour",
                          intervalValue=1, **{"from": (upto - timedelta(hours=hours)).isoformat(),
                                              "to": upto.isoformat(), "select": "Flow"}).json()
        return [bucket["Flow"]["average"] for bucket in answer["aggregates"]]

    def cavitating(self, asset_id: str, hours: float = 1.0) -> bool:
        """Whether the suction pressure fell far below its usual level within the last ``hours``."""
        pressures = sorted(self.suction_pressures(asset_id, hours))
        if len(pressures) < 10:
            return False
        usual = pressures[len(pressures) // 2]
        return pressures[0] < usual - 200
