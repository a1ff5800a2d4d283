"""Asset Management v3 files over HTTP (research sdk-parity.md 4): multipart upload, list with filter and
paging, metadata, download, update and delete with If-Match, tenant scoping."""

from __future__ import annotations

import json
import re

from emulator import limits
from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, fetch_token
from tests.support.paths import ASSET_MANAGEMENT
from tests.support.tenants import temporary_tenant, tenant_session

FILES = f"{ASSET_MANAGEMENT}/files"


def upload(api, name="manual.2.text", content=b"xyz", **form):
    resp = api.post(FILES, files={"file": (name, content, "text/plain")}, data={"name": name, **form})
    assert resp.status_code == 201, resp.text
    return resp


def test_upload_read_download(api, tenant):
    resp = upload(api, description="uploaded file", scope="PRIVATE")  # the SDK's upper-case scope
    body = resp.json()
    assert resp.headers["Location"].endswith(f"/files/{body['id']}") and resp.headers["ETag"] == '"0"'
    assert {k: body[k] for k in ("name", "originalFileName", "description", "scope", "etag", "isAssigned")} == {
        "name": "manual.2.text", "originalFileName": "manual.2.text", "description": "uploaded file",
        "scope": "private", "etag": 0, "isAssigned": False}
    assert body["tenantId"] == tenant["name"] and body["_links"]["download"]["href"].endswith("/file")
    assert not {"path", "mimeType", "size"} & set(body)  # IoT File Service fields, not these
    assert api.get(f"{FILES}/{body['id']}").json() == body
    download = api.get(f"{FILES}/{body['id']}/file")
    assert download.content == b"xyz" and download.headers["Content-Type"].startswith("text/plain")


def test_list_with_filter_and_paging(api):
    empty = api.get(FILES, params={"filter": json.dumps({"name": {"endsWith": ".2.text"}}), "size": 0,
                                   "sort": "DESC"}).json()
    assert empty["_embedded"] == {"files": []}  # the SDK's files suite reads it unguarded (files.spec.ts:104)
    for name in ("a.2.text", "b.2.text", "c.txt"):
        upload(api, name)
    found = api.get(FILES, params={"filter": json.dumps({"name": {"endsWith": ".2.text"}}), "size": 1,
                                   "sort": "name,desc"}).json()
    assert [f["name"] for f in found["_embedded"]["files"]] == ["b.2.text"]
    assert found["page"] == {"size": 1, "totalElements": 2, "totalPages": 2, "number": 0}
    assert api.get(FILES, params={"size": 2000}).json()["page"]["size"] == 200


def test_update_and_delete_need_the_etag(api):
    file_id = upload(api).json()["id"]
    url = f"{FILES}/{file_id}"
    form = {"name": "manual.2.text", "scope": "public"}
    put = api.put(url, files={"file": ("m", b"new", "application/octet-stream")}, data=form,
                  headers={"If-Match": "0"})
    assert put.status_code == 200 and put.json()["etag"] == 1 and put.json()["scope"] == "public", put.text
    assert api.get(f"{url}/file").content == b"new"
    assert api.put(url, files={"file": ("m", b"x")}, data=form, headers={"If-Match": "0"}).status_code == 412
    no_scope = api.put(url, files={"file": ("m", b"x")}, data={"name": "m"}, headers={"If-Match": "1"})
    assert no_scope.status_code == 400 and "scope" in no_scope.text
    assert api.delete(url, headers={"If-Match": "0"}).status_code == 412
    assert api.delete(url, headers={"If-Match": "1"}).status_code == 204
    assert api.get(url).status_code == 404


def test_upload_refusals(api):
    def post(name="f", content=b"x", **data):
        return api.post(FILES, files={"file": (name, content)}, data={"name": name, **data})

    assert post(name="two words").status_code == 400
    # whitespace in either sense: Python's \s (\x1c-\x1f, \x85) or JSON Schema's (\ufeff); a schema fuzz once sent
    # "\x1d..." that the contract's pattern took and the route refused
    for space in ("\x1d", "\x85", "\ufeff", "\u3000"):
        refused = post(name=f"a{space}b")
        assert refused.status_code == 400 and "whitespace" in refused.json()["errors"][0]["message"], space
    assert [n for n in ("a\x1db", "a\ufeffb") if re.fullmatch(limits.AM_FILE_NAME_PATTERN, n)] == []
    assert post(name="Ü-manual_v2.pdf").status_code == 201
    assert api.delete(f"{FILES}/{api.get(FILES).json()['_embedded']['files'][0]['id']}",
                      headers={"If-Match": "0"}).status_code == 204
    assert post(scope="shared").status_code == 400
    assert api.post(FILES, data={"name": "f"}).status_code in (400, 415)  # no file part
    assert post(content=b"x" * (limits.AM_FILE_MAX_BYTES + 1)).status_code == 413
    assert api.get(FILES).json()["page"]["totalElements"] == 0


def test_files_are_the_tenants_own(server, admin, api):
    file_id = upload(api).json()["id"]
    with temporary_tenant(admin, prefix="f") as other, tenant_session(server.url, other) as other_api:
        assert other_api.get(f"{FILES}/{file_id}").status_code == 404
        assert other_api.get(FILES).json()["page"]["totalElements"] == 0


def test_files_survive_a_snapshot_and_go_with_a_reset():
    """The table is in the descriptor's tables: snapshotted (the bytes as base64 in the JSON) and reset."""
    with LiveServer(Settings(database_url="sqlite://", seed=5)) as first, ApiSession(first.url) as admin:
        with ApiSession(first.url, fetch_token(first.url, "emutenant-client", "emulator-secret")) as api:
            file_id = upload(api, content=b"\x00\xffbinary").json()["id"]
        snapshot = admin.get("/_emulator/snapshots/emutenant")
        assert snapshot.status_code == 200, snapshot.text
    with LiveServer(Settings(database_url="sqlite://", seed=5)) as second, ApiSession(second.url) as admin:
        assert admin.post("/_emulator/snapshots", data=snapshot.content,
                          headers={"Content-Type": "application/json"}).status_code == 201
        with ApiSession(second.url, fetch_token(second.url, "emutenant-client", "emulator-secret")) as api:
            assert api.get(f"{FILES}/{file_id}/file").content == b"\x00\xffbinary"


# --- file assignments (research sdk-parity.md 4) ---------------------------------------------------------

ASSETS = f"{ASSET_MANAGEMENT}/assets"
ASSET_TYPES = f"{ASSET_MANAGEMENT}/assettypes"


def test_assignments_on_types_are_inherited_and_assets_override_them(api, tenant):
    logo, manual = upload(api, "logo.png").json()["id"], upload(api, "manual.txt").json()["id"]
    t = tenant["name"]
    assert api.put(f"{ASSET_TYPES}/{t}.Pump", json={"name": "Pump", "parentTypeId": "core.basicasset"}
                   ).status_code == 201
    assert api.put(f"{ASSET_TYPES}/{t}.Rotary", json={"name": "Rotary", "parentTypeId": f"{t}.Pump"}
                   ).status_code == 201
    typed = api.put(f"{ASSET_TYPES}/{t}.Pump/fileAssignments/logo_small", json={"fileId": logo},
                    headers={"If-Match": "0"})
    assert typed.status_code == 200 and typed.json()["etag"] == 1, typed.text
    assert [(a["key"], a["fileId"]) for a in typed.json()["fileAssignments"]] == [("logo_small", logo)]
    assert api.get(f"{FILES}/{logo}").json()["isAssigned"] is True
    rotary = api.get(f"{ASSET_TYPES}/{t}.Rotary", params={"exploded": "true"}).json()
    inherited = rotary["fileAssignments"][0]
    assert inherited["fileId"] == logo and inherited["_links"]["origin"]["href"].endswith(f"/assettypes/{t}.Pump")
    assert api.get(f"{ASSET_TYPES}/{t}.Rotary").json()["fileAssignments"] == []  # not exploded: own only

    asset = api.post(ASSETS, json={"name": "R1", "typeId": f"{t}.Rotary", "parentId": tenant["rootAssetId"]}).json()
    assert [(a["key"], "origin" in a["_links"]) for a in asset["fileAssignments"]] == [("logo_small", True)]
    url = f"{ASSETS}/{asset['assetId']}/fileAssignments/logo_small"
    own = api.put(url, json={"fileId": manual}, headers={"If-Match": "0"})
    assert own.status_code == 200 and own.json()["etag"] == 1
    assert [(a["fileId"], "origin" in a["_links"]) for a in own.json()["fileAssignments"]] == [(manual, False)]
    back = api.delete(url, headers={"If-Match": "1"})
    assert back.status_code == 200 and back.json()["fileAssignments"][0]["fileId"] == logo  # inherited again
    blocked = api.delete(f"{FILES}/{logo}", headers={"If-Match": "0"})
    assert blocked.status_code == 409 and logo in blocked.text  # deletion blocked while assigned


def test_assignment_errors_name_the_file_id_or_the_key(api, tenant):
    """The SDK's tests look for "abcd" and "xyz" in the message (assets.spec.ts:167,177,
    assetypes.spec.ts:197,208); the key is checked before If-Match (the last sends If-Match "0")."""
    asset = api.post(ASSETS, json={"name": "A", "typeId": "core.basicasset",
                                   "parentId": tenant["rootAssetId"]}).json()
    url = f"{ASSETS}/{asset['assetId']}/fileAssignments"
    bad = api.put(f"{url}/Keyword", json={"fileId": "abcd"}, headers={"If-Match": "0"})
    assert bad.status_code == 400 and "abcd" in bad.text
    ghost = "0" * 32
    missing = api.put(f"{url}/Keyword", json={"fileId": ghost}, headers={"If-Match": "0"})
    assert missing.status_code == 404 and ghost in missing.text
    no_key = api.delete(f"{url}/xyz", headers={"If-Match": "7"})
    assert no_key.status_code == 404 and "xyz" in no_key.text
    t = tenant["name"]
    api.put(f"{ASSET_TYPES}/{t}.Ship", json={"name": "Ship", "parentTypeId": "core.basicdevice"})
    type_url = f"{ASSET_TYPES}/{t}.Ship/fileAssignments"
    assert "abcd" in api.put(f"{type_url}/Keyword", json={"fileId": "abcd"}, headers={"If-Match": "0"}).text
    assert "xyz" in api.delete(f"{type_url}/xyz", headers={"If-Match": "0"}).text
    file_id = upload(api).json()["id"]
    assert api.put(f"{url}/Keyword", json={"fileId": file_id}, headers={"If-Match": "5"}).status_code == 412
    assert api.get(f"{ASSETS}/{asset['assetId']}").json()["fileAssignments"] == []
