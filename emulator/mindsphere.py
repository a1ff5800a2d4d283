"""What the pytest plugin's fixtures hand to tests (:mod:`emulator.pytest_plugin`): the emulator
(:class:`MindSphere`), its tenants (:class:`Tenant`) with their control-plane helpers (:class:`Faults`,
:class:`Clock`), and the two calls every test makes, a tenant's creation and deletion.

A module apart from the plugin's: pytest imports the plugin (its ``pytest11`` entry point) in every run of every
project where the package is installed, while this module brings the emulator's stack with it (requests, and
through :mod:`emulator.testing` Flask, SQLAlchemy, PyJWT with cryptography), which the plugin imports only when a
test asks for one of its fixtures.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from fnmatch import fnmatch

import requests
import urllib3
from werkzeug.test import EnvironBuilder

from emulator.agentclient import Agent
from emulator.control import MAX_DELETED
from emulator.testing import ApiSession
from emulator.times import iso_seconds

EVENTS = "/api/eventmanagement/v3"


def _check(resp: requests.Response, *expected: int) -> requests.Response:
    if resp.status_code not in expected:
        raise RuntimeError(f"{resp.request.method} {resp.request.path_url} answered {resp.status_code}: {resp.text}")
    return resp


class _Lifecycle:
    """The two control-plane calls every test makes, a tenant's creation and its deletion, on one kept-alive
    connection of urllib3 (under requests already): requests' own per-call machinery cost about 0.3 ms a call,
    a fifth of what the fixtures cost a test. urllib3 opens the connection again when the server closed it. The
    admin session stays the one place of the admin credentials: its ``Authorization`` header is sent here too."""

    def __init__(self, url: str, admin: ApiSession):
        self.pool = urllib3.connection_from_url(url, maxsize=1, retries=urllib3.Retry(total=2, read=0, redirect=0),
                                                timeout=30.0)
        self.admin = admin

    def call(self, method: str, path: str, body: dict | None = None):
        """The answer (``.status``, ``.data``) of ``method path`` with a JSON body."""
        headers = {"Content-Type": "application/json"}
        if "Authorization" in self.admin.headers:
            headers["Authorization"] = self.admin.headers["Authorization"]
        return self.pool.request(method, path, body=None if body is None else json.dumps(body), headers=headers)

    def close(self) -> None:
        self.pool.close()


class _Answer:
    """What :meth:`_InProcess.call` answers: the two fields the lifecycle reads of urllib3's answer."""

    def __init__(self, status: int, data: bytes):
        self.status = status
        self.data = data


class _InProcess:
    """The same two calls straight into the app of the in-thread server the plugin started (same process): the
    app answers them as it answers a request of its own threads (its whole request handling, the admin token
    included), without a socket, HTTP and the hand-offs between this thread, the server's event loop and its
    worker threads, which cost a test about a millisecond a call. The tests' own requests still go over HTTP."""

    def __init__(self, app, url: str, admin: ApiSession):
        self.app = app
        self.admin = admin
        # what every call shares (the server's address, WSGI's keys), made once by werkzeug: building it per call
        # cost a tenth of a test's fixtures
        self.environ = EnvironBuilder(base_url=url, content_type="application/json").get_environ()

    def call(self, method: str, path: str, body: dict | None = None) -> _Answer:
        data = b"" if body is None else json.dumps(body).encode()
        environ = {**self.environ, "REQUEST_METHOD": method, "PATH_INFO": path, "REQUEST_URI": path, "RAW_URI": path,
                   "wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data))}
        if "Authorization" in self.admin.headers:
            environ["HTTP_AUTHORIZATION"] = self.admin.headers["Authorization"]
        statuses = []
        answer = self.app(environ, lambda status, _headers, _exc=None: statuses.append(status))
        try:
            data = b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
        return _Answer(int(statuses[0].split(" ", 1)[0]), data)

    def close(self) -> None:
        pass


def _checked(resp, method: str, path: str, *expected: int):
    if resp.status not in expected:
        raise RuntimeError(f"{method} {path} answered {resp.status}: {resp.data.decode('utf-8', 'replace')}")
    return resp


def _iso(at) -> str | None:
    """A time as the control plane takes it: text as given, epoch seconds or a datetime (naive: UTC) formatted."""
    if at is None or isinstance(at, str):
        return at
    if isinstance(at, datetime):
        at = (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()
    return iso_seconds(at)


class Faults:
    """Fault rules for one tenant's requests (``POST /_emulator/faults`` with ``match.tenant``)."""

    def __init__(self, tenant: Tenant):
        self._tenant = tenant
        self.used = False  # no rule was ever made: nothing to clear after the test

    def add(self, status: int | None = 500, *, api: str | None = None, method: str | None = None,
            path: str | None = None, times: int | None = None, after: int | None = None,
            delay_ms=None, drop: bool = False, body=None, probability: float | None = None,
            seed: int | None = None) -> dict:
        """A rule that stays until removed: ``status`` (None for a pure delay), ``api`` (assets, timeseries,
        aggregates, odata, token, contracts), ``method``, ``path`` (a glob), ``times``, ``after``..."""
        match = {"tenant": self._tenant.name, "api": api, "method": method, "path": path}
        effect = {"status": status, "delayMs": delay_ms, "dropConnection": drop or None, "body": body}
        self.used = True
        if api in (None, "token") and method in (None, "POST") and (path is None or fnmatch("/oauth/token", path)):
            self._tenant.forget_token()  # the rule may meet token requests: the next token() makes one
        rule = {"match": {k: v for k, v in match.items() if v is not None},
                "effect": {k: v for k, v in effect.items() if v is not None},
                "times": times, "after": after, "probability": probability, "seed": seed}
        return _check(self._tenant.emulator.admin.post(
            "/_emulator/faults", json={k: v for k, v in rule.items() if v is not None}), 201).json()

    @contextmanager
    def inject(self, status: int | None = 500, **kw):
        """``with tenant.faults.inject(500, api="timeseries", times=1) as rule: ...``; removed on exit."""
        rule = self.add(status, **kw)
        try:
            yield rule
        finally:
            self._tenant.emulator.admin.delete(f"/_emulator/faults/{rule['id']}")

    def list(self) -> list[dict]:
        return _check(self._tenant.emulator.admin.get("/_emulator/faults", params={"tenant": self._tenant.name}),
                      200).json()["faults"]

    def clear(self) -> None:
        _check(self._tenant.emulator.admin.delete("/_emulator/faults", params={"tenant": self._tenant.name}), 204)


class Clock:
    """The emulator's virtual clock (one per server: under xdist against one server, tests that move it
    see each other's moves; the fixture sets it back to real time after a test that moved it)."""

    def __init__(self, emulator: MindSphere):
        self._emulator = emulator
        self.moved = False

    def _put(self, body: dict) -> dict:
        self.moved = True
        return _check(self._emulator.admin.put("/_emulator/clock", json=body), 200).json()

    def now(self) -> dict:
        return _check(self._emulator.admin.get("/_emulator/clock"), 200).json()

    def freeze(self, at=None) -> dict:
        """Stop time at ``at`` (datetime, epoch seconds or ISO text; default: now)."""
        return self._put({"mode": "frozen", "time": _iso(at)} if at is not None else {"mode": "frozen"})

    def run_from(self, at, speed: float = 1.0) -> dict:
        """Time runs from ``at`` at ``speed`` (e.g. 60: a minute per second)."""
        return self._put({"mode": "offset", "time": _iso(at), "speed": speed})

    def advance(self, seconds: float) -> dict:
        self.moved = True
        return _check(self._emulator.admin.post("/_emulator/clock/advance", json={"seconds": seconds}), 200).json()

    def real(self) -> dict:
        state = _check(self._emulator.admin.put("/_emulator/clock", json={"mode": "real"}), 200).json()
        self.moved = False
        return state


class Tenant:
    """A tenant of the emulator as ``POST /_emulator/tenants`` made it (``created``: that answer, whole); the
    attributes are its first client's."""

    def __init__(self, emulator: MindSphere, created: dict):
        self.emulator = emulator
        self.created: dict = created
        self.name: str = created["name"]
        self.root_asset_id: str = created["rootAssetId"]
        client = created["clients"][0]
        self.client_id: str = client["clientId"]
        self.client_secret: str = client["clientSecret"]
        self.scopes: list[str] = client["scopes"]
        self.binding_keys: dict = client["bindingKeys"]  # what the Mendix Marketplace shows
        self.token_url: str = created["tokenUrl"]
        self.faults = Faults(self)
        self.clock = Clock(emulator)
        self._token: tuple[float, str] | None = None
        self.deleted = False  # by delete() or release(): nothing left to do after the test
        if "token" in created:  # issued with the tenant: the first session needs no token request
            self._token = self._kept(created["token"])

    def token(self) -> str:
        """A bearer token of the tenant's client (fetched again a minute before it expires)."""
        if self._token is None or time.monotonic() > self._token[0]:
            self._token = self._kept(_check(self.emulator.oauth.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, auth=(self.client_id, self.client_secret)),
                200).json())
        return self._token[1]

    def forget_token(self) -> None:
        """Drop the token held, so that the next :meth:`token` requests one (and meets any fault rule on it)."""
        self._token = None

    @staticmethod
    def _kept(answer: dict) -> tuple[float, str]:
        """(when to fetch again, the token) of a token answer: a minute before it expires."""
        return time.monotonic() + max(answer["expires_in"] - 60, 1), answer["access_token"]

    def session(self) -> ApiSession:
        return ApiSession(self.emulator.url, self.token())

    def journal(self, method: str | None = None, path: str | None = None, status: int | None = None,
                wait: float = 1.0) -> list[dict]:
        """The tenant's recorded requests, oldest first (``path`` is a glob). Waits up to ``wait`` seconds for
        at least one entry, since a server with several workers writes its journal a moment later."""
        params = {"tenant": self.name, "method": method, "path": path, "status": status}
        deadline = time.monotonic() + wait
        while True:
            entries = _check(self.emulator.admin.get("/_emulator/journal", params={
                k: v for k, v in params.items() if v is not None}), 200).json()["entries"]
            if entries or time.monotonic() > deadline:
                return entries
            time.sleep(0.05)

    def pump(self, name: str = "Pump", hours: float = 1.0, seed: int | None = None, scenario=None,
             parent_id: str | None = None) -> str:
        """A simulated pump under the root (or ``parent_id``) with ``hours`` of history; its asset id."""
        body = {"name": name, "historyHours": hours, "seed": seed, "scenario": scenario, "parentId": parent_id}
        return _check(self.emulator.admin.post(f"/_emulator/tenants/{self.name}/pumps",
                                               json={k: v for k, v in body.items() if v is not None}),
                      201).json()["assetId"]

    def raise_event(self, entity_id: str, description: str = "", severity: int = 20, **fields) -> dict:
        """Post an event on one of the tenant's assets (Event Management v3; ``fields``: ``code``, ``source``,
        ``acknowledged``, ``typeId`` and a custom type's fields); the created event."""
        body = {"entityId": entity_id, "timestamp": _iso(time.time()), "severity": severity,
                "description": description, **fields}
        with self.session() as api:
            return _check(api.post(f"{EVENTS}/events", json=body), 201).json()

    def events(self, entity_id: str | None = None, **conditions) -> list[dict]:
        """The tenant's events (newest first), of one asset when ``entity_id`` is given; ``conditions`` are
        Event Management filter conditions (``severity=20``, ``typeId=...``). Every page is read."""
        filter_ = {**({"entityId": entity_id} if entity_id else {}), **conditions}
        params: dict = {"size": 100, "sort": "timestamp,desc", "page": 0}
        if filter_:
            params["filter"] = json.dumps(filter_)
        found: list[dict] = []
        with self.session() as api:
            while True:
                body = _check(api.get(f"{EVENTS}/events", params=params), 200).json()
                found += body.get("_embedded", {}).get("events", [])
                if params["page"] + 1 >= body["page"]["totalPages"]:
                    return found
                params["page"] += 1

    def agent(self, asset_id: str, aspect: str, variables: list[str] | None = None, name: str | None = None):
        """An onboarded MindConnect agent (SHARED_SECRET) whose data points are the variables of the asset's
        dynamic ``aspect`` (``variables``: some of them), mapped onto it. Post through the exchange as a device
        does: ``agent.post_data({"temperature": 21.5}, at=...)``, ``agent.bulk_post_data([(at, {...}), ...])``;
        the data point ids are the variable names. An :class:`emulator.agentclient.Agent`."""
        return Agent.for_aspect(self.emulator.url, self.token(), self.name, asset_id, aspect, variables, name)

    def delete(self) -> None:
        """Remove the tenant with its rules, and set a clock the test moved back to real time. A tenant that
        could not be removed fails loudly (a CI backend must not fill up unnoticed); one that is gone already (the
        test deleted it) is fine, and a busy store (503) is tried again twice."""
        if self.faults.used:
            self.faults.clear()
        if self.clock.moved:
            self.clock.real()
        self.deleted = True
        self.emulator.delete_tenant(self.name)

    def release(self) -> None:
        """What the ``mindsphere_tenant`` fixture does after its test: a clock the test moved is set back to real
        time at once (it is every tenant's), and the tenant is deleted with the next tenant's creation, in the same
        request and transaction (a test then costs the control plane one request, not two), or when the emulator
        is closed. A deletion that fails fails that creation (the next test's setup) or the close, naming the
        tenant. The tenant's fault rules go with it; until then they meet only its own requests."""
        if self.clock.moved:
            self.clock.real()
        if not self.deleted:
            self.deleted = True
            self.emulator.released.append(self.name)


class MindSphere:
    """The emulator the tests talk to (``mindsphere`` fixture)."""

    def __init__(self, url: str, admin_token: str | None = None, server=None):
        self.url = url.rstrip("/")
        self.gateway = self.url  # Siemens' SDKs take the gateway URL; the emulator serves every API there
        self.server = server  # the in-thread server, when the plugin started one
        self.admin = ApiSession(self.url, admin_token)
        # new_tenant and Tenant.delete, every test's two calls: into the app when the plugin serves it in a thread
        self.lifecycle = (_InProcess(server.app, self.url, self.admin) if server is not None
                          else _Lifecycle(self.url, self.admin))
        self.oauth = ApiSession(self.url)  # token requests, on a connection of their own (kept alive)
        self.released: list[str] = []  # tenants of finished tests, deleted with the next creation (Tenant.release)

    def new_tenant(self, name: str | None = None, clients: list[dict] | None = None) -> Tenant:
        """A new tenant (a random name unless given); ``clients`` as the endpoint takes them (``clientId``,
        ``clientSecret``, ``scopes``; default: one client with every scope and generated credentials). The tenants
        of finished tests (:meth:`Tenant.release`) are deleted first, in the same request."""
        body: dict = {"name": name or "t" + uuid.uuid4().hex[:12], "token": True}
        if clients is not None:
            body["clients"] = clients
        handed = self.released[:MAX_DELETED]
        if handed:
            body["deleteTenants"] = handed
        resp = self._call("POST", "/_emulator/tenants", body)
        what = "/_emulator/tenants" + (f" (deleting the tenants of finished tests: {', '.join(handed)})"
                                       if handed else "")
        tenant = Tenant(self, json.loads(_checked(resp, "POST", what, 201).data))
        del self.released[:len(handed)]
        return tenant

    def delete_tenant(self, name: str) -> None:
        """Delete a tenant; one that is gone already is fine, any other answer but 204 raises."""
        path = f"/_emulator/tenants/{name}"
        _checked(self._call("DELETE", path), "DELETE", path, 204, 404)

    def _call(self, method: str, path: str, body: dict | None = None):
        """A lifecycle call, tried again twice on a busy store (503), which committed nothing."""
        for attempt in range(3):
            resp = self.lifecycle.call(method, path, body)
            if resp.status != 503:
                break
            time.sleep(0.2 * (attempt + 1))
        return resp

    def close(self) -> None:
        """Delete the tenants of finished tests still held (:meth:`Tenant.release`), then close the connections;
        a deletion that fails raises once the connections are closed."""
        try:
            while self.released:
                self.delete_tenant(self.released.pop())
        finally:
            self.admin.close()
            self.lifecycle.close()
            self.oauth.close()

    def __enter__(self) -> MindSphere:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["Clock", "Faults", "MindSphere", "Tenant"]
