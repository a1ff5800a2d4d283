"""Injection and traversal strings in ids, names, values and filters: SQL (quotes, comments, ``LIKE``
wildcards, backslashes), path traversal (plain, percent-encoded, double-encoded, encoded slashes), NUL and
control characters, very long strings, and unicode (right-to-left, emoji, combining marks, fullwidth).

Every answer is a 4xx in the API's own envelope, or a 2xx where the value is legitimately accepted, and then
it reads back exactly as sent; never a 5xx; and a refused request leaves the tenant's store as it was (a dump
of the whole tenant compared at the end of each test; what an accepted request created is removed again).
Paths and filters take every attack string; the string fields of bodies are fuzzed by hypothesis, half from
the attack strings and half arbitrary text (surrogates too, where JSON carries them).
"""

from __future__ import annotations

import base64
import json
import uuid
from urllib.parse import quote, unquote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import middleware
from emulator.testing import ApiSession
from tests.support.odata import make_plant, publish_contract
from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, ASSETS, TIMESERIES
from tests.support.security import (
    ATTACKS,
    RANGE,
    TRAVERSAL,
    assert_envelope,
    delete_tenant,
    dump,
    new_tenant,
    raw_request,
)

EXAMPLES = settings(max_examples=50, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
BODY_ONLY = ["\ud800", "a\udfffb"]  # lone surrogates: JSON escapes them; no URL does
PATH_TEXT = st.one_of(st.sampled_from(ATTACKS), st.text(max_size=200))  # no surrogates: a URL is UTF-8
TEXT = st.one_of(st.sampled_from(ATTACKS + BODY_ONLY), st.text(max_size=200))
T = "2024-05-01T00:00:00.000Z"


@pytest.fixture(scope="module")
def target(server):
    """A tenant with the plant, its published contract ``plant``, and a ``Box`` asset whose aspects take any
    text: ``Notes.text`` (dynamic, BIG_STRING) and ``Label.label`` (static, STRING 255)."""
    tenant, api = new_tenant(server.url, "i")
    t = tenant["name"]
    try:
        ids = make_plant(api, tenant)
        publish_contract(api, tenant)
        for name, body in ((f"{t}.Notes", {"name": "Notes", "category": "dynamic", "variables": [
                                {"name": "text", "dataType": "BIG_STRING", "length": 100_000}]}),
                           (f"{t}.Label", {"name": "Label", "category": "static", "variables": [
                               {"name": "label", "dataType": "STRING", "length": 255}]})):
            assert api.put(f"{ASPECT_TYPES}/{name}", json=body).status_code == 201
        assert api.put(f"{ASSET_TYPES}/{t}.Box", json={
            "name": "Box", "parentTypeId": "core.basicasset",
            "aspects": [{"name": "Notes", "aspectTypeId": f"{t}.Notes"},
                        {"name": "Label", "aspectTypeId": f"{t}.Label"}]}).status_code == 201
        resp = api.post(ASSETS, json={"name": "box", "typeId": f"{t}.Box", "parentId": tenant["rootAssetId"]})
        assert resp.status_code == 201, resp.text
        ids["box"] = resp.json()["assetId"]
        resp = api.post(ASSETS, json={"name": "renamed", "typeId": f"{t}.Box",
                                      "parentId": tenant["rootAssetId"]})
        ids["renamed"] = resp.json()["assetId"]  # the one asset a test changes (and leaves changed)
        found = {"server": server, "tenant": tenant, "api": api, "ids": ids}
        yield {**found, "before": state(found)}
    finally:
        api.close()
        delete_tenant(server.url, tenant)


def state(target) -> dict:
    """The tenant's dump without the asset that update tests rename."""
    out = dump(target["api"])
    out["assets"] = [a for a in out["assets"] if a["assetId"] != target["ids"]["renamed"]]
    return out


def check_answer(resp, path: str, accepted=(200, 201, 202, 204)) -> bool:
    """Never a 5xx; an error in the envelope of the API the (decoded) path belongs to. True if accepted."""
    where = f"{resp.request.method} {resp.request.url[:200]}"
    assert resp.status_code < 500, f"{where}: {resp.status_code} {resp.text[:300]}"
    if resp.status_code >= 400:
        assert_envelope(resp, path=path)
        return False
    assert resp.status_code in accepted, f"{where}: {resp.status_code} {resp.text[:300]}"
    return True


# --- paths ---------------------------------------------------------------------------------------------

def path_templates(target) -> list[tuple[str, str, dict]]:
    """(method, path with {} for the attack string, request kwargs): every kind of id and name in a path."""
    t, ids = target["tenant"]["name"], target["ids"]
    if_match = {"headers": {"If-Match": '"0"'}}
    return [
        ("GET", f"{ASSETS}/{{}}", {}),
        ("DELETE", f"{ASSETS}/{{}}", if_match),
        ("PUT", f"{ASSETS}/{{}}", {"json": {"name": "x", "typeId": f"{t}.Site"}, **if_match}),
        ("GET", f"{ASSETS}/{{}}/aspects", {}),
        ("POST", f"{ASSETS}/{{}}/move", {"json": {"newParentId": ids["site"]}, **if_match}),
        ("GET", f"{ASPECT_TYPES}/{{}}", {}),
        ("GET", f"{ASPECT_TYPES}/{t}.{{}}", {}),
        ("DELETE", f"{ASPECT_TYPES}/{t}.{{}}", if_match),
        ("GET", f"{ASSET_TYPES}/{{}}", {"params": {"exploded": "true"}}),
        ("PATCH", f"{ASSET_TYPES}/{t}.{{}}", {"data": "{}", "headers": {
            "Content-Type": "application/merge-patch+json", "If-Match": '"0"'}}),
        ("GET", f"{TIMESERIES}/{ids['box']}/{{}}", {"params": RANGE}),
        ("PUT", f"{TIMESERIES}/{ids['box']}/{{}}", {"json": [{"_time": T, "text": "x"}]}),
        ("DELETE", f"{TIMESERIES}/{ids['box']}/{{}}", {"params": RANGE}),
        ("GET", f"{TIMESERIES}/{{}}/Power", {"params": {"latestValue": "true"}}),
        ("GET", f"/api/iottsaggregates/v3/aggregates/{ids['cng1']}/{{}}",
         {"params": {"from": "2024-03-01T00:00:00Z", "to": "2024-03-01T01:00:00Z", "intervalValue": "1",
                     "intervalUnit": "hour"}}),
        ("GET", "/odata/{}/", {}),
        ("GET", "/odata/plant/{}", {}),
        ("GET", "/odata/plant/CNGTurbine('{}')", {}),
        ("GET", "/_emulator/contracts/{}", {}),
        ("GET", "/_emulator/contracts/{}/download", {}),
        ("DELETE", "/_emulator/contracts/{}", {}),
    ]


def test_attack_strings_in_path_ids_and_names(target):
    """Each attack string, percent-encoded as one segment, in every kind of path id (each string in several of
    the paths in turn, every path with many strings): 4xx in the envelope, never 5xx, nothing changed."""
    api, before = target["api"], state(target)
    templates = path_templates(target)
    sent, accepted = 0, set()
    for i, attack in enumerate(ATTACKS):
        for k in range(3):
            method, template, kwargs = templates[(3 * i + k) % len(templates)]
            segment = quote(attack.replace("'", "''") if "('{}')" in template else attack, safe="")
            segment = segment.replace(".", "%2E")  # one segment: no client may resolve "." or ".." away
            path = template.replace("{}", segment)
            resp = api.request(method, path, **kwargs)
            sent += 1
            decoded = unquote(path)
            if check_answer(resp, decoded, accepted=(200,)):  # "", "root", "$metadata": a real resource, read
                assert method == "GET", f"{method} {decoded!r}: {resp.status_code} {resp.text[:200]}"
                accepted.add(attack)
    assert sent >= 3 * len(ATTACKS) > 10 * len(templates)
    assert accepted <= {"", "root", "$metadata", ".", "/", "//"}, accepted
    assert state(target) == before


def test_traversal_strings_sent_raw(target):
    """The path exactly as written (no client-side dot-segment removal or re-quoting): ``..`` never climbs to
    another route, least of all the control plane."""
    api, server, before = target["api"], target["server"], state(target)
    auth = {"Authorization": api.headers["Authorization"]}
    prefixes = [f"{ASSETS}/", f"{ASPECT_TYPES}/", f"{TIMESERIES}/{target['ids']['box']}/", "/odata/plant/",
                "/odata/", "/_emulator/contracts/"]
    for i, attack in enumerate(TRAVERSAL):
        raw = quote(attack, safe="/%\\.;~")
        for k, prefix in enumerate(prefixes):
            for suffix in (("", "_emulator/tenants", "/../../../_emulator/tenants")[(i + k) % 3],):
                path = prefix + raw + suffix
                resp = raw_request(server.port, "GET", path, auth)
                assert resp.status_code < 500, f"{path}: {resp.status_code} {resp.text[:200]}"
                assert "emutenant-client" not in resp.text, f"{path} reached the control plane: {resp.text[:200]}"
                if resp.status_code in (301, 302, 307, 308):
                    continue  # merged slashes: the canonical path, which answers for itself
                if resp.status_code == 400 and resp.headers.get("Content-Type", "").startswith("text/plain"):
                    continue  # the HTTP server's own refusal of a malformed request line
                if prefix == "/odata/plant/" and attack in ("/", "//", ".") and suffix == "":
                    continue  # the service document or a merged slash: legitimately the contract
                assert 400 <= resp.status_code < 500, f"{path}: {resp.status_code} {resp.text[:200]}"
                assert_envelope(resp, path=unquote(path))
    assert state(target) == before


# --- filters ----------------------------------------------------------------------------------------------

def test_attack_strings_in_the_asset_filter(target):
    """Each attack string as a filter value, with each string operator: a 200 whose assets satisfy it (none
    has such a name), or a 400; ``%``, ``_`` and ``\\`` are literal characters, not wildcards."""
    api, t = target["api"], target["tenant"]["name"]
    names = {"100%": None, "a_b": None, "c\\d": None}
    for name in names:
        resp = api.post(ASSETS, json={"name": name, "typeId": f"{t}.Box",
                                      "parentId": target["tenant"]["rootAssetId"]})
        assert resp.status_code == 201, resp.text
        names[name] = (resp.json()["assetId"], resp.json()["etag"])
    try:
        before = state(target)
        literal = {"%": {"100%"}, "_": {"a_b"}, "\\": {"c\\d"}, "%_%": set(), "\\%": set(), "a%": set(),
                   "_b": {"a_b"}}
        for i, attack in enumerate(ATTACKS):
            op = ("eq", "contains", "startsWith", "endsWith")[i % 4]
            for field in (("name", "externalId", "assetId", "typeId", "parentId")[i % 5],):
                value = attack if op == "eq" else {op: attack}
                resp = api.get(ASSETS, params={"filter": json.dumps({field: value}), "size": 200})
                if not check_answer(resp, ASSETS, accepted=(200,)):
                    continue
                found = {a["name"] for a in resp.json().get("_embedded", {}).get("assets", [])}
                assert all(match(op, name, attack) for name in found), f"{field} {op} {attack!r}: {found}"
            if attack in literal:
                resp = api.get(ASSETS, params={"filter": json.dumps({"name": {"contains": attack}})})
                found = {a["name"] for a in resp.json().get("_embedded", {}).get("assets", [])}
                assert found == literal[attack], f"contains {attack!r}: {found}"
        assert state(target) == before
    finally:
        for asset_id, etag in names.values():
            api.delete(f"{ASSETS}/{asset_id}", headers={"If-Match": f'"{etag}"'})


def match(op: str, name: str, value: str) -> bool:
    return {"eq": name == value, "contains": value in name, "startsWith": name.startswith(value),
            "endsWith": name.endswith(value)}[op]


def test_attack_strings_in_odata_filters(target):
    """As a string literal (quotes doubled) the value matches nothing; as the whole ``$filter`` text it is a 400
    (or a valid expression); never a 5xx; ``%`` and ``_`` in ``contains`` are literal."""
    api = target["api"]
    for i, attack in enumerate(ATTACKS):
        literal = attack.replace("'", "''")
        expression = (f"name eq '{literal}'", f"contains(name,'{literal}')", f"startswith(name,'{literal}')",
                      f"assetId eq '{literal}'")[i % 4]
        entity_set = ("CNGTurbine", "Site")[i % 2]
        others = ({"$filter": attack}, {"$orderby": attack}, {"$select": attack})
        for params in ({"$filter": expression}, others[i % 3]):
            resp = api.get(f"/odata/plant/{entity_set}", params=params)
            if check_answer(resp, "/odata/plant/", accepted=(200,)) and params.get("$filter") == expression:
                rows = resp.json()["value"]
                op = {0: "eq", 1: "contains", 2: "startsWith", 3: "id"}[i % 4]
                assert all(match(op, row["name"], attack) for row in rows) if op != "id" else rows == [], rows


# --- bodies (hypothesis) ------------------------------------------------------------------------------------

@EXAMPLES
@given(name=TEXT, external_id=TEXT, description=TEXT, label=TEXT)
def test_asset_string_fields(target, name, external_id, description, label):
    """Name, externalId, description and a static aspect value: created and read back exactly, or refused
    with nothing created."""
    api, t = target["api"], target["tenant"]["name"]
    body = {"name": name, "externalId": external_id, "description": description, "typeId": f"{t}.Box",
            "parentId": target["tenant"]["rootAssetId"],
            "aspects": [{"name": "Label", "variables": [{"name": "label", "value": label}]}]}
    resp = api.post(ASSETS, json=body)
    if not check_answer(resp, ASSETS, accepted=(201,)):
        return  # nothing created: test_nothing_else_changed compares the whole tenant
    created = resp.json()
    try:
        read = api.get(f"{ASSETS}/{created['assetId']}").json()
        assert (read["name"], read["externalId"], read["description"]) == (name, external_id, description)
        label_values = [v["value"] for a in read["aspects"] if a["name"] == "Label" for v in a["variables"]]
        assert label_values == [label]
        found = api.get(ASSETS, params={"filter": json.dumps({"name": name})}).json()
        assert created["assetId"] in [a["assetId"] for a in found["_embedded"]["assets"]]
    finally:
        assert api.delete(f"{ASSETS}/{created['assetId']}",
                          headers={"If-Match": f'"{created["etag"]}"'}).status_code == 204


@EXAMPLES
@given(name=TEXT)
def test_renaming_an_asset(target, name):
    """An update with the string: applied exactly, or refused with the asset as it was (same etag)."""
    api, asset_id = target["api"], target["ids"]["renamed"]
    current = api.get(f"{ASSETS}/{asset_id}").json()
    resp = api.patch(f"{ASSETS}/{asset_id}", data=json.dumps({"name": name}),
                     headers={"Content-Type": "application/merge-patch+json", "If-Match": f'"{current["etag"]}"'})
    after = api.get(f"{ASSETS}/{asset_id}").json()
    if check_answer(resp, f"{ASSETS}/{asset_id}", accepted=(200,)):
        assert after["name"] == name and resp.json()["name"] == name
    else:
        assert after == current


@EXAMPLES
@given(type_name=PATH_TEXT, variable=TEXT, aspect=TEXT)
def test_type_ids_names_and_aspect_names(target, type_name, variable, aspect):
    """An aspect type ``{tenant}.{type_name}`` named ``type_name`` with a variable ``variable``, and an asset type
    naming an aspect ``aspect``: created and read back exactly, or refused with nothing created."""
    api, t = target["api"], target["tenant"]["name"]
    path = f"{ASPECT_TYPES}/{t}.{quote(type_name.replace(chr(0), ''), safe='')}"
    body = {"name": type_name, "category": "static", "variables": [{"name": variable, "dataType": "STRING"}]}
    resp = api.put(path, json=body)
    if check_answer(resp, unquote(path), accepted=(201,)):
        created = resp.json()
        assert (created["id"], created["name"], created["variables"][0]["name"]) == (
            f"{t}.{type_name}", type_name, variable)
        assert api.get(path).json()["name"] == type_name
        assert api.delete(path, headers={"If-Match": f'"{created["etag"]}"'}).status_code == 204
    type_path = f"{ASSET_TYPES}/{t}.Holder"
    resp = api.put(type_path, json={"name": "Holder", "parentTypeId": "core.basicasset",
                                    "aspects": [{"name": aspect, "aspectTypeId": f"{t}.Label"}]})
    if check_answer(resp, type_path, accepted=(201,)):
        created = resp.json()
        assert [a["name"] for a in created["aspects"]] == [aspect]
        assert api.delete(type_path, headers={"If-Match": f'"{created["etag"]}"'}).status_code == 204


@EXAMPLES
@given(text=TEXT)
def test_time_series_string_values(target, text):
    """A BIG_STRING value: stored and read back exactly (then deleted), or refused with no record written."""
    api, box = target["api"], target["ids"]["box"]
    path = f"{TIMESERIES}/{box}/Notes"
    window = {"from": "2024-04-30T23:59:59Z", "to": "2024-05-01T00:00:01Z"}
    resp = api.put(path, json=[{"_time": T, "text": text}])
    records = api.get(path, params=window).json()
    if check_answer(resp, path, accepted=(204,)):
        assert records == [{"_time": T, "text": text}]
        assert api.delete(path, params=window).status_code == 204
    else:
        assert records == []


@EXAMPLES
@given(name=TEXT, version=TEXT, description=TEXT)
def test_contract_string_fields(target, name, version, description):
    """A contract's name, version and description: created, read back exactly and downloadable, or refused with
    nothing created."""
    api, t = target["api"], target["tenant"]["name"]
    resp = api.post("/_emulator/contracts", json={"name": name, "version": version, "description": description,
                                                  "assetTypeIds": [f"{t}.Site"]})
    if not check_answer(resp, "/_emulator/contracts", accepted=(201,)):
        return
    path = f"/_emulator/contracts/{quote(name, safe='')}"
    try:
        read = api.get(path)
        assert read.status_code == 200 and (read.json()["name"], read.json()["version"],
                                            read.json()["description"]) == (name, version or "1.0.0", description)
        download = api.get(path + "/download")  # the version names the file (Content-Disposition)
        assert download.status_code == 200, f"download of version {version!r}: {download.status_code}"
    finally:
        assert api.delete(path).status_code == 204


@pytest.mark.parametrize("version", ["1.0.0\u202e", "1.0\U0001F600", "1.0\n"])
def test_contract_versions_that_cannot_name_a_file_are_refused(target, version):
    """The version names the downloaded file (Content-Disposition): once a version outside Latin-1 or with a
    newline was saved and its download answered 500; now such a version is refused when saved."""
    api, t = target["api"], target["tenant"]["name"]
    resp = api.post("/_emulator/contracts", json={"name": "versioned", "version": version,
                                                  "assetTypeIds": [f"{t}.Site"]})
    assert resp.status_code == 400 and "version" in resp.json()["errors"][0]["message"], resp.text
    assert api.get("/_emulator/contracts/versioned").status_code == 404


def test_nothing_else_changed(target):
    """After every test above (refused requests and removed creations): the tenant is as the fixture made it."""
    assert state(target) == target["before"]
    data = target["api"].get(f"{TIMESERIES}/{target['ids']['cng1']}/Power", params={**RANGE, "limit": 2000}).json()
    assert len(data) == 120


def test_attack_strings_as_client_credentials(target):
    """The token endpoints look credentials up in the store: an attack string as client id or secret (Basic or
    form) is a 401 in their envelopes (a NUL character once answered 500 on PostgreSQL)."""
    url, client = target["server"].url, target["tenant"]["clients"][0]
    session = requests.Session()
    session.trust_env = False
    with session:
        for attack in ATTACKS[::6] + ["\x00", "a\x00b", client["clientId"] + "\x00"]:
            for client_id, secret in ((attack, attack), (client["clientId"], attack), (attack, client["clientSecret"])):
                basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
                for kwargs in ({"headers": {"Authorization": f"Basic {basic}"}},
                               {"data": {"client_id": client_id, "client_secret": secret}}):
                    data = {"grant_type": "client_credentials", **kwargs.get("data", {})}
                    resp = session.post(url + "/oauth/token", data=data, headers=kwargs.get("headers"), timeout=30)
                    assert resp.status_code == 401, f"{client_id!r}:{secret!r}: {resp.status_code} {resp.text[:200]}"
                    assert_envelope(resp, "oauth")
            resp = session.post(url + "/api/technicaltokenmanager/v3/oauth/token", timeout=30, headers={
                "X-SPACE-AUTH-KEY": "Basic " + base64.b64encode(f"{attack}:{attack}".encode()).decode()})
            assert resp.status_code == 401, f"{attack!r}: {resp.status_code} {resp.text[:200]}"
            assert_envelope(resp, "core")


def test_the_journal_keeps_requests_with_nul_as_sent(target):
    """The journal writes in batches: one entry PostgreSQL refused (a NUL in a path or a body) once lost the
    whole batch, and a read of the journal answered 500. A NUL is kept as sent (``%00``) or, in a body the
    journal keeps (``--journal-bodies``), replaced by U+FFFD."""
    api, marker = target["api"], uuid.uuid4().hex
    assert api.get(f"{ASSETS}/{marker}%00").status_code == 400
    assert api.post(ASSETS, data=b'{"name": "' + marker.encode() + b'\x00"}',
                    headers={"Content-Type": "application/json"}).status_code == 400
    assert api.get(f"{ASSETS}/{marker}").status_code == 404
    with ApiSession(target["server"].url) as admin:
        resp = admin.get("/_emulator/journal", params={"path": f"*{marker}*"})
    assert resp.status_code == 200, resp.text[:300]
    assert [(e["path"].rsplit("/", 1)[1], e["status"]) for e in resp.json()["entries"]] == [
        (f"{marker}%00", 400), (marker, 404)]
    assert middleware._capped(b'{"name": "a\x00"}', 100) == '{"name": "a\ufffd"}'


@pytest.mark.parametrize("url, body", [
    ("/api/assetmanagement/v3/aspecttypes/{t}.Trailing", {"name": "Trailing", "category": "dynamic",
                                                         "variables": [{"name": "v\n", "dataType": "DOUBLE"}]}),
    ("/api/assetmanagement/v3/assettypes/{t}.Trailing", {
        "name": "Trailing", "parentTypeId": "core.basicasset",
        "aspects": [{"name": "a\n", "aspectTypeId": "{t}.PowerConsumption"}]}),
])
def test_a_trailing_newline_is_no_part_of_a_name(target, url, body):
    """Patterns anchored with ``$`` let a final newline through under ``re.match``; names are checked whole."""
    t = target["tenant"]["name"]
    resp = target["api"].put(url.replace("{t}", t), json=_with_tenant(body, t))
    assert resp.status_code == 400, resp.text


def _with_tenant(value, t):
    if isinstance(value, dict):
        return {k: _with_tenant(v, t) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_tenant(v, t) for v in value]
    return value.replace("{t}", t) if isinstance(value, str) else value
