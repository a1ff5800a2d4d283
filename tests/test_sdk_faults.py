"""Siemens' Node SDK (``@mindconnect/mindconnect-nodejs`` 3.24.2) sees injected 500s and 429s as errors and recovers.

Why a real client: fault rules exist so that an application's error handling can be tested against the emulator,
which is only worth something if the failure reaches a real client the way MindSphere's would. The SDK shows
what an application gets: a rejected promise whose message is ``Network error occured <reason phrase> <body>``
(mindconnect-base.js, HttpAction), with no retry of its own, not even for a 429 with ``Retry-After``. So the
tests check that the reason phrase and the API's own error envelope arrive in that message, that every SDK call
is exactly one request (the rule's ``matched``/``fired`` counters from ``GET /_emulator/faults``), and that the
very same SDK object answers again once the rule is spent (``times``), expired (``ttlSeconds`` on the virtual
clock) or deleted.

``tests/sdk/faults.mjs session`` keeps one SDK object for the whole module and makes one call per line it reads
on stdin; this module injects the rules between the calls. Each scenario runs for Asset Management
(``GetRootAsset``, core envelope) and IoT Time Series (``GetTimeSeries``, ``{"id", "message"}`` envelope).

Without node or the npm packages the tests skip locally but fail in CI (``CI`` set), see tests/support/sdk.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from emulator.testing import ApiSession
from tests.support.paths import ASSET_MANAGEMENT, ROOT, TIMESERIES
from tests.support.sdk import (
    SDK_DIR,
    TENANT,
    NodeSession,
    after_sdk_check,
    api_session,
    emulator_server,
    node_env,
    post_asset,
    put_aspect_type,
    put_asset_type,
    require_sdk,
)

pytestmark = pytest.mark.node

SCRIPT = SDK_DIR / "faults.mjs"
ASPECT_TYPE_ID = f"{TENANT}.SdkFaultSensors"
ASSET_TYPE_ID = f"{TENANT}.SdkFaultPump"
ASPECT = "Sensors"
RECORDS = [{"_time": f"2024-03-04T00:00:0{i}.000Z", "temperature": 20.0 + i} for i in (1, 2, 3)]
WINDOW = ("2024-03-04T00:00:00.000Z", "2024-03-04T01:00:00.000Z")
TTL = 30  # seconds of the virtual clock; the test moves the clock past it rather than waiting
# What HttpAction throws: "Network error occured " + response.statusText + " " + the response body.
SDK_ERROR = re.compile(r"Network error occured (?P<reason>[A-Z][A-Z ]*?) (?P<body>\{.*\})", re.DOTALL)


# --- the SDK session (tests/sdk/faults.mjs) ------------------------------------------------------------------

class _FaultSession(NodeSession):
    """``faults.mjs session``: one JSON command in, one answer line out, each read with a deadline."""

    def __init__(self, node: str, url: str):
        super().__init__(node, SCRIPT, "session", node_env(url))

    def call(self, command: dict) -> dict:
        """One SDK call: ``{"ok": True, "value", "token"}`` or ``{"ok": False, "message"}``."""
        self.send(json.dumps(command))
        return self.expect("RESULT")

    def quit(self) -> None:
        self.send(json.dumps({"call": "quit"}))
        self.expect("BYE")
        self.finish()


# --- the emulator, its data and the SDK object, once for the module --------------------------------------------

@dataclass
class _Env:
    url: str
    control: ApiSession
    sdk: _FaultSession
    root_id: str
    asset_id: str


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[_Env]:
    """A server with an asset holding ``RECORDS``, and one SDK object for every test of the module.

    The asset and records are made with plain HTTP (faster than the SDK, and not what is under test). One SDK
    object across all tests is the strongest form of "it recovers": each test starts with a call that must
    succeed after whatever the tests before it did to that object.
    """
    node = require_sdk()
    with emulator_server(tmp_path_factory.mktemp("sdk-faults")) as server:
        http = api_session(server.url)
        root = http.get(ROOT).json()
        put_aspect_type(http, ASPECT_TYPE_ID, [
            {"name": "temperature", "dataType": "DOUBLE", "unit": "C", "searchable": True, "qualityCode": False}])
        put_asset_type(http, ASSET_TYPE_ID, {ASPECT: ASPECT_TYPE_ID})
        asset_id = post_asset(http, "sdk-fault-pump", ASSET_TYPE_ID, root["assetId"])["assetId"]
        resp = http.put(f"{TIMESERIES}/{asset_id}/{ASPECT}", json=RECORDS)
        assert resp.status_code == 204, resp.text
        http.close()

        control = ApiSession(server.url)  # the control plane needs no token on loopback
        sdk = _FaultSession(node, server.url)
        try:
            sdk.expect("READY")
            yield _Env(server.url, control, sdk, root["assetId"], asset_id)
            sdk.quit()
        finally:
            sdk.close()
            control.close()


def _emu(request) -> _Env:
    """The module's ``env`` by ``after_sdk_check``, with no fault rule before or after the test.

    Clearing the rules afterwards keeps a failed test from failing the next one's calls too.
    """
    environment = after_sdk_check(request, "env")

    def clear() -> None:
        assert environment.control.delete("/_emulator/faults").status_code == 204

    clear()
    request.addfinalizer(clear)
    return environment


# --- the two APIs under test ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Api:
    name: str  # the fault rule's match.api
    path: str  # the fault rule's match.path glob
    envelope: str  # core | timeseries

    def command(self, emu: _Env) -> dict:
        if self.name == "assets":
            return {"call": "GetRootAsset"}
        return {"call": "GetTimeSeries", "assetId": emu.asset_id, "aspect": ASPECT, "from": WINDOW[0],
                "to": WINDOW[1]}

    def assert_answer(self, emu: _Env, answer: dict, what: str) -> None:
        """A successful call with the real data, not merely one that did not throw."""
        assert answer["ok"], f"{what}: the SDK call failed: {answer}"
        if self.name == "assets":
            assert answer["value"]["assetId"] == emu.root_id, f"{what}: {answer}"
        else:
            got = [(r["_time"], r["temperature"]) for r in answer["value"]["records"]]
            assert got == [(r["_time"], r["temperature"]) for r in RECORDS], f"{what}: {answer}"


ASSETS_API = _Api("assets", ASSET_MANAGEMENT + "/*", "core")
TIMESERIES_API = _Api("timeseries", TIMESERIES + "/*", "timeseries")
APIS = pytest.mark.parametrize("api", [ASSETS_API, TIMESERIES_API], ids=lambda api: api.name)


def _inject(emu: _Env, api: _Api, status: int, **schedule) -> str:
    """A rule for GETs of this API in our tenant; its id."""
    resp = emu.control.post("/_emulator/faults", json={
        "match": {"method": "GET", "path": api.path, "api": api.name, "tenant": TENANT},
        "effect": {"status": status}, **schedule})
    assert resp.status_code == 201, resp.text
    rule = resp.json()
    assert (rule["matched"], rule["fired"]) == (0, 0), rule
    return rule["id"]


def _counters(emu: _Env, rule_id: str) -> tuple[int, int] | None:
    """``(matched, fired)`` of the rule as ``GET /_emulator/faults`` lists it; None once it is gone."""
    resp = emu.control.get("/_emulator/faults")
    assert resp.status_code == 200, resp.text
    rules = {rule["id"]: rule for rule in resp.json()["faults"]}
    return (rules[rule_id]["matched"], rules[rule_id]["fired"]) if rule_id in rules else None


def _assert_fault(api: _Api, answer: dict, rule_id: str, status: int, reason: str, what: str) -> None:
    """The SDK rejected with the reason phrase and, after it, the API's own error body naming the rule."""
    assert not answer["ok"], f"{what}: the SDK call succeeded through the fault: {answer}"
    match = SDK_ERROR.fullmatch(answer["message"])
    assert match, f"{what}: not the SDK's 'Network error occured <reason> <body>': {answer['message']!r}"
    assert match["reason"] == reason, f"{what}: {answer['message']!r}"
    body = json.loads(match["body"])
    text = f"Injected fault {rule_id}: the emulator was told to answer {status}"
    if api.envelope == "timeseries":
        assert set(body) == {"id", "message"} and body["message"] == text, f"{what}: {body}"
        assert re.fullmatch(r"[0-9a-f]{32}", body["id"]), f"{what}: {body}"
    else:
        code = {500: "internalServerError", 429: "tooManyRequests"}[status]
        assert len(body["errors"]) == 1, f"{what}: {body}"
        error = body["errors"][0]
        assert (error["code"], error["message"]) == (f"mdsp.core.generic.{code}", text), f"{what}: {body}"
        assert re.fullmatch(r"[0-9a-f]{32}", error["logref"]), f"{what}: {body}"


# --- the tests -----------------------------------------------------------------------------------------------------

@APIS
def test_500_fails_each_call_until_the_rule_is_spent(request, api):
    """``times: 2``: the next two calls reject with "INTERNAL SERVER ERROR" and the envelope, the third answers.

    ``fired`` must end at exactly 2 and ``matched`` at 3: a third fired request would mean the rule outlived its
    schedule, a higher ``matched`` that the SDK retried behind the application's back.
    """
    emu = _emu(request)
    command = api.command(emu)
    api.assert_answer(emu, emu.sdk.call(command), "before the rule")
    rule_id = _inject(emu, api, 500, times=2)
    for n in (1, 2):
        _assert_fault(api, emu.sdk.call(command), rule_id, 500, "INTERNAL SERVER ERROR", f"call {n} under the rule")
        assert _counters(emu, rule_id) == (n, n)
    api.assert_answer(emu, emu.sdk.call(command), "the call after the rule was spent")
    assert _counters(emu, rule_id) == (3, 2)


@APIS
def test_429_fails_each_call_until_the_rule_expires_on_the_virtual_clock(request, api):
    """``ttlSeconds: 30``: calls reject with "TOO MANY REQUESTS" while the rule lives; once the virtual clock is
    past its TTL the same SDK object answers again, and the expired rule no longer even counts the request.

    The 429 carries ``Retry-After`` (checked with a plain request, the SDK's token and all), and the SDK still
    gives up at once: ``matched`` equals the requests made, so nothing was retried.
    """
    emu = _emu(request)
    command = api.command(emu)
    before = emu.sdk.call(command)
    api.assert_answer(emu, before, "before the rule")
    rule_id = _inject(emu, api, 429, ttlSeconds=TTL)
    for n in (1, 2, 3):
        _assert_fault(api, emu.sdk.call(command), rule_id, 429, "TOO MANY REQUESTS", f"call {n} under the rule")
    assert _counters(emu, rule_id) == (3, 3)

    with ApiSession(emu.url, before["token"]) as http:
        path = ROOT if api.name == "assets" else f"{TIMESERIES}/{emu.asset_id}/{ASPECT}"
        resp = http.get(path)
    assert resp.status_code == 429 and resp.headers.get("Retry-After") == "1", (resp.status_code, resp.headers)
    assert _counters(emu, rule_id) == (4, 4)

    resp = emu.control.post("/_emulator/clock/advance", json={"seconds": TTL + 1})
    assert resp.status_code == 200, resp.text
    after = emu.sdk.call(command)
    api.assert_answer(emu, after, "the call after the rule expired")
    assert _counters(emu, rule_id) == (4, 4), "an expired rule must not match"
    assert after["token"] == before["token"], "the SDK fetched a new token: the faults were taken for auth failures"


@APIS
def test_429_fails_each_call_until_the_rule_is_deleted(request, api):
    """A rule without a schedule fails every matching call until ``DELETE /_emulator/faults/{id}``; meanwhile the
    other API answers the same SDK object (the rule is scoped by ``api`` and ``path``), and afterwards this one
    does too."""
    emu = _emu(request)
    command = api.command(emu)
    other = TIMESERIES_API if api is ASSETS_API else ASSETS_API
    api.assert_answer(emu, emu.sdk.call(command), "before the rule")
    rule_id = _inject(emu, api, 429)
    _assert_fault(api, emu.sdk.call(command), rule_id, 429, "TOO MANY REQUESTS", "the call under the rule")
    other.assert_answer(emu, emu.sdk.call(other.command(emu)), f"{other.name} under a rule for {api.name}")
    _assert_fault(api, emu.sdk.call(command), rule_id, 429, "TOO MANY REQUESTS", "the second call under the rule")
    assert _counters(emu, rule_id) == (2, 2)

    assert emu.control.delete(f"/_emulator/faults/{rule_id}").status_code == 204
    assert _counters(emu, rule_id) is None
    api.assert_answer(emu, emu.sdk.call(command), "the call after the rule was deleted")
