"""A MindConnect agent from the device's side, in Python: what Siemens' ``MindConnectAgent`` (Node) does, for the
pytest plugin, the benchmarks and tests that need an onboarded agent without node.

It provisions through the tenant's own API (Agent Management: the agent, its boarding configuration), onboards
with the initial access token, gets agent tokens with HS256 client assertions (mindconnect-api.md 3), and posts
exchange bodies byte for byte as the Node SDK's or the C library's (:func:`exchange_body`, the exchange module's
own builder). It reaches the server only over HTTP.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import jwt
import requests

from emulator.mindconnect.multipart import build as exchange_body
from emulator.mindconnect.multipart import value_text

AGENTS = "/api/agentmanagement/v3"
MINDCONNECT = "/api/mindconnect/v3"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
__all__ = ["Agent", "exchange_body", "timestamp"]


def timestamp(at=None) -> str:
    """``2024-01-01T00:00:00.000Z`` (JavaScript's ``toISOString``) of a datetime, epoch seconds or now."""
    if isinstance(at, str):
        return at
    if at is None:
        at = time.time()
    if isinstance(at, int | float):
        at = datetime.fromtimestamp(at, UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


class Agent:
    """An onboarded SHARED_SECRET agent. ``Agent.provision(url, tenant_token, tenant_name)`` makes one (a
    ``core.mclib`` asset, the agent, its onboarding); then ``configure(...)``, ``map(...)``, ``post_data(...)``."""

    def __init__(self, url: str, tenant: str, client: dict, agent_id: str, session: requests.Session | None = None):
        self.url = url.rstrip("/")
        self.tenant = tenant
        self.client = client  # the registration's answer: client_id, client_secret, ...
        self.id = agent_id
        self.http = session or requests.Session()
        self.configuration_id: str | None = None
        self._token: tuple[float, str] | None = None

    @classmethod
    def provision(cls, url: str, tenant_token: str, tenant: str, name: str | None = None,
                  parent_id: str | None = None) -> Agent:
        http = requests.Session()
        url = url.rstrip("/")
        auth = {"Authorization": f"Bearer {tenant_token}"}
        name = name or f"agent-{uuid.uuid4().hex[:8]}"
        if parent_id is None:
            parent_id = _ok(http.get(f"{url}/api/assetmanagement/v3/assets/root", headers=auth), 200).json()["assetId"]
        asset = _ok(http.post(f"{url}/api/assetmanagement/v3/assets", headers=auth,
                              json={"name": name, "typeId": "core.mclib", "parentId": parent_id}), 201).json()
        agent = _ok(http.post(f"{url}{AGENTS}/agents", headers=auth, json={
            "name": name, "securityProfile": "SHARED_SECRET", "entityId": asset["assetId"]}), 201).json()
        return cls.onboard(url, tenant_token, tenant, agent["id"], http)

    @classmethod
    def onboard(cls, url: str, tenant_token: str, tenant: str, agent_id: str,
                session: requests.Session | None = None) -> Agent:
        """An existing SHARED_SECRET agent of the tenant, onboarded with its initial access token."""
        http = session or requests.Session()
        url = url.rstrip("/")
        config = _ok(http.get(f"{url}{AGENTS}/agents/{agent_id}/boarding/configuration",
                              headers={"Authorization": f"Bearer {tenant_token}"}), 200).json()["content"]
        client = _ok(http.post(f"{url}{AGENTS}/register", json={},
                               headers={"Authorization": f"Bearer {config['iat']}"}), 201).json()
        return cls(url, tenant, client, agent_id, http)

    @classmethod
    def for_aspect(cls, url: str, tenant_token: str, tenant: str, asset_id: str, aspect: str,
                   variables: list[str] | None = None, name: str | None = None) -> Agent:
        """An onboarded agent whose data points are the aspect's variables (``variables``: some of them; default
        all), each point named and identified by its variable and of its type and unit, mapped onto the asset."""
        agent = cls.provision(url, tenant_token, tenant, name)
        found = _ok(agent.http.get(f"{agent.url}/api/assetmanagement/v3/assets/{asset_id}/aspects",
                                   headers={"Authorization": f"Bearer {tenant_token}"}, params={"size": 200}), 200)
        aspects = {a["name"]: a for a in found.json().get("_embedded", {}).get("aspects", [])}
        if aspect not in aspects or aspects[aspect]["category"] != "dynamic":
            raise ValueError(f"asset {asset_id} has no dynamic aspect {aspect!r}")
        chosen = [v for v in aspects[aspect]["variables"] if variables is None or v["name"] in variables]
        missing = set(variables or ()) - {v["name"] for v in chosen}
        if missing:
            raise ValueError(f"aspect {aspect!r} has no variables {sorted(missing)}")
        agent.configure([{"id": v["name"], "name": v["name"], "type": v["dataType"],
                          **({"unit": v["unit"]} if v.get("unit") else {})} for v in chosen],
                        configuration_id=f"CF-{aspect}"[:36], source=aspect[:64])
        for v in chosen:
            agent.map(v["name"], asset_id, aspect, v["name"])
        return agent

    def assertion(self) -> str:
        now = int(time.time())
        claims = {"iss": self.id, "sub": self.id, "aud": ["southgate"], "iat": now, "nbf": now, "exp": now + 3600,
                  "schemas": ["urn:siemens:mindsphere:v1"], "ten": self.tenant, "jti": str(uuid.uuid4())}
        return jwt.encode(claims, self.client["client_secret"], algorithm="HS256")

    def token(self) -> str:
        """An agent token (fetched again a minute before it expires)."""
        if self._token is None or time.monotonic() > self._token[0]:
            body = _ok(self.http.post(f"{self.url}{AGENTS}/oauth/token", data={
                "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self.assertion()}), 200).json()
            self._token = (time.monotonic() + max(body["expires_in"] - 60, 1), body["access_token"])
        return self._token[1]

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token()}"}

    def configure(self, points: list[dict], configuration_id: str = "CF-1", source: str = "DS-1") -> dict:
        """Put the data source configuration: ``points`` are ``{"id", "name", "type", "unit"?}``."""
        path = f"{self.url}{AGENTS}/agents/{self.id}/dataSourceConfiguration"
        etag = _ok(self.http.get(path, headers=self.headers()), 200).json()["eTag"]
        body = _ok(self.http.put(path, headers={**self.headers(), "If-Match": etag}, json={
            "configurationId": configuration_id, "dataSources": [{"name": source, "dataPoints": points}]}),
            200).json()
        self.configuration_id = configuration_id
        return body

    def map(self, point_id: str, entity_id: str, aspect: str, variable: str, keep: bool = True) -> dict:
        return _ok(self.http.post(f"{self.url}{MINDCONNECT}/dataPointMappings", headers=self.headers(), json={
            "agentId": self.id, "dataPointId": point_id, "entityId": entity_id, "propertySetName": aspect,
            "propertyName": variable, "keepMapping": keep}), 201).json()

    def post(self, samples: list[dict], style: str = "node") -> requests.Response:
        """One exchange of ``samples`` (the answer, whatever it is)."""
        body, content_type = exchange_body(samples, self.configuration_id or "", style)
        return self.http.post(f"{self.url}{MINDCONNECT}/exchange", data=body,
                              headers={**self.headers(), "Content-Type": content_type})

    def post_data(self, values: dict, at=None, quality: str = "0") -> None:
        """PostData: ``values`` is data point id -> value (sent as strings, as the SDK does)."""
        self.bulk_post_data([(at, values)], quality)

    def bulk_post_data(self, samples: list[tuple], quality: str = "0") -> None:
        """BulkPostData: ``[(time, {data point id: value}), ...]``."""
        _ok(self.post([{"timestamp": timestamp(at), "values": [
            {"dataPointId": k, "value": value_text(v), "qualityCode": quality} for k, v in values.items()]}
            for at, values in samples]), 200)


def _ok(resp: requests.Response, *expected: int) -> requests.Response:
    if resp.status_code not in expected:
        raise RuntimeError(f"{resp.request.method} {resp.request.path_url} answered {resp.status_code}: {resp.text}")
    return resp
