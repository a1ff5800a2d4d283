"""IoT File Service v3 over HTTP, as the Node SDK calls it (events-files-api.md section 2)."""

from __future__ import annotations

import pytest

from tests.support.tenants import temporary_tenant, tenant_session

BASE = "/api/iotfile/v3"
ASSETS = "/api/assetmanagement/v3/assets"
OCTETS = {"Content-Type": "application/octet-stream"}


def refused(resp, status: int, *words: str) -> dict:
    assert resp.status_code == status, resp.text
    error = resp.json()["errors"][0]
    assert set(error) == {"code", "logref", "message"}
    for word in words:
        assert word in error["message"], error["message"]
    return error


@pytest.fixture
def asset(api, tenant) -> str:
    resp = api.post(ASSETS, json={"name": "Pump", "typeId": "core.basicasset", "parentId": tenant["rootAssetId"]})
    assert resp.status_code == 201, resp.text
    return resp.json()["assetId"]


def upload(api, asset, filepath, data=b"xyz", **headers):
    return api.put(f"{BASE}/files/{asset}/{filepath}", data=data, headers={**OCTETS, **headers})


def test_a_file_is_uploaded_read_searched_and_deleted(api, asset):
    resp = upload(api, asset, "unit/test/a.txt", description="blubb", type="text/plain",
                  timestamp="2024-05-01T10:00:00.000Z")
    assert resp.status_code == 201 and resp.headers["ETag"] == "0"
    got = api.get(f"{BASE}/files/{asset}/unit/test/a.txt")
    assert got.status_code == 200 and got.content == b"xyz" and got.headers["Content-Type"].startswith("text/plain")
    found = api.get(f"{BASE}/files/{asset}", params={"filter": "name eq a.txt and path eq unit/test/"})
    assert found.status_code == 200
    (item,) = found.json()
    assert {k: item[k] for k in ("name", "path", "type", "size", "timestamp", "description", "etag")} == {
        "name": "a.txt", "path": "unit/test/", "type": "text/plain", "size": 3,
        "timestamp": "2024-05-01T10:00:00.000Z", "description": "blubb", "etag": 0}
    assert api.delete(f"{BASE}/files/{asset}/{item['path']}{item['name']}").status_code == 204
    refused(api.get(f"{BASE}/files/{asset}/unit/test/a.txt"), 404, "unit/test/a.txt")
    assert api.get(f"{BASE}/files/{asset}").json() == []


def test_overwriting_needs_the_etag(api, asset):
    assert upload(api, asset, "f.bin", b"one").status_code == 201
    refused(upload(api, asset, "f.bin", b"two"), 409, "f.bin")
    refused(upload(api, asset, "f.bin", b"two", **{"If-Match": "3"}), 412, "f.bin")
    again = upload(api, asset, "f.bin", b"two", **{"If-Match": "0"})
    assert again.status_code == 200 and again.headers["ETag"] == "1"
    raw = upload(api, asset, "f.bin", b"three", ifMatch="1")  # the SDK's raw PutFile header
    assert raw.status_code == 200 and raw.headers["ETag"] == "2"
    assert api.get(f"{BASE}/files/{asset}/f.bin").content == b"three"


def test_search_filters_orders_pages_and_counts(api, asset):
    for name in ("b.txt", "a.txt", "dir/c.txt", "dir/sub/d.log"):
        assert upload(api, asset, name).status_code == 201

    def names(**params):
        resp = api.get(f"{BASE}/files/{asset}", params=params)
        assert resp.status_code == 200, resp.text
        return [f"{f['path']}{f['name']}" for f in resp.json()], resp.headers.get("count")

    assert names()[0] == ["a.txt", "b.txt", "dir/c.txt", "dir/sub/d.log"]
    assert names(filter="name eq *.txt")[0] == ["a.txt", "b.txt", "dir/c.txt"]
    assert names(filter="path eq 'dir/'")[0] == ["dir/c.txt"]
    assert names(filter="path eq dir*")[0] == ["dir/c.txt", "dir/sub/d.log"]
    assert names(filter="name gt b")[0] == ["b.txt", "dir/c.txt", "dir/sub/d.log"]
    assert names(filter="this is not a filter")[0] == names()[0]  # malformed: ignored
    assert names(order="name desc")[0] == ["dir/sub/d.log", "dir/c.txt", "b.txt", "a.txt"]
    assert names(limit=2, offset=1, count="true") == (["b.txt", "dir/c.txt"], "4")


@pytest.mark.parametrize(("filepath", "status", "word"), [
    ("a/%2E%2E/b.txt", 400, "'..'"), ("a//b.txt", 400, "segment"), ("a/%2E/b", 400, "segment"),
])
def test_hostile_paths_are_refused(api, asset, filepath, status, word):
    refused(upload(api, asset, filepath), status, word)


def test_unknown_entities_files_and_bad_requests(api, asset):
    missing = "0" * 32
    refused(upload(api, missing, "a.txt"), 404, missing)
    refused(api.get(f"{BASE}/files/{missing}"), 404, missing)
    refused(api.get(f"{BASE}/files/{asset}/nope.txt"), 404, "nope.txt")
    refused(api.delete(f"{BASE}/files/{asset}/nope.txt"), 404, "nope.txt")
    refused(upload(api, asset, "a.txt", timestamp="yesterday"), 400, "timestamp")
    refused(upload(api, asset, "a.txt", **{"If-Match": "x"}), 400, "If-Match")
    refused(api.put(f"{BASE}/files/{asset}/big.bin?part=1", data=b"x", headers=OCTETS), 400, "big.bin")
    refused(api.put(f"{BASE}/files/{asset}/big.bin?part=1001", data=b"x", headers=OCTETS), 400, "part")
    refused(api.put(f"{BASE}/files/{asset}/big.bin?upload=finish", headers=OCTETS), 400, "upload")
    refused(api.get(f"{BASE}/files/{asset}", params={"limit": "501"}), 400, "limit")
    refused(api.get(f"{BASE}/files/{asset}", params={"offset": "10001"}), 400, "offset")
    assert api.get(f"{BASE}/files/{asset}").json() == []


def test_files_are_the_tenants_and_go_with_their_asset(api, admin, server, asset):
    assert upload(api, asset, "a.txt").status_code == 201
    with temporary_tenant(admin, prefix="o") as other, tenant_session(server.url, other) as them:
        refused(them.get(f"{BASE}/files/{asset}/a.txt"), 404, asset)
    etag = api.get(f"{ASSETS}/{asset}").json()["etag"]
    assert api.delete(f"{ASSETS}/{asset}", headers={"If-Match": str(etag)}).status_code == 204
    refused(api.get(f"{BASE}/files/{asset}/a.txt"), 404, asset)


MIB = 1024 * 1024


def test_a_multipart_upload_is_started_filled_completed_and_listed(api, asset, tenant):
    url = f"{BASE}/files/{asset}/big/file.bin"
    start = api.put(f"{url}?upload=start", headers={**OCTETS, "type": "application/x-test", "timeStamp":
                                                     "2024-05-01T10:00:00.000Z"})
    assert start.status_code == 200, start.text
    one, two = b"a" * (5 * MIB), b"b" * (5 * MIB)
    assert api.put(f"{url}?part=2", data=two, headers=OCTETS).status_code == 200  # any order
    refused(api.put(f"{url}?part=3", data=b"small", headers=OCTETS), 400, "Part 3")
    listed = api.get(f"{BASE}/fileslist/{asset}/big/file.bin")
    assert listed.status_code == 200
    assert [(p["partNo"], p["objectKey"]) for p in listed.json()] == [(2, f"{tenant['name']}/{asset}/big/file.bin")]
    refused(api.put(f"{url}?upload=complete", data=b"end", headers=OCTETS), 400, "[1]")
    assert api.put(f"{url}?part=1", data=one, headers=OCTETS).status_code == 200
    done = api.put(f"{url}?upload=complete", data=b"end", headers=OCTETS)
    assert done.status_code == 201 and done.headers["ETag"] == "0"
    got = api.get(url)
    assert got.content == one + two + b"end" and got.headers["Content-Type"].startswith("application/x-test")
    (item,) = api.get(f"{BASE}/files/{asset}").json()
    assert item["timestamp"] == "2024-05-01T10:00:00.000Z" and item["size"] == 10 * MIB + 3
    refused(api.get(f"{BASE}/fileslist/{asset}/big/file.bin"), 400, "big/file.bin")

    refused(api.put(f"{url}?upload=start", headers=OCTETS), 409, "big/file.bin")  # it exists: its etag, please
    assert api.put(f"{url}?upload=start", headers={**OCTETS, "If-Match": "0"}).status_code == 200
    assert api.put(f"{url}?upload=abort", headers=OCTETS).status_code == 200
    refused(api.put(f"{url}?upload=complete", data=b"x", headers=OCTETS), 400, "upload=start")
    assert api.get(url).content == one + two + b"end"


def test_a_range_of_a_file_is_read(api, asset):
    assert upload(api, asset, "r.txt", b"0123456789").status_code == 201
    url = f"{BASE}/files/{asset}/r.txt"
    part = api.get(url, headers={"Range": "bytes=2-5"})
    assert part.status_code == 206 and part.content == b"2345" and part.headers["Content-Range"] == "bytes 2-5/10"
    assert api.get(url, headers={"Range": "bytes=7-"}).content == b"789"
    assert api.get(url, headers={"Range": "bytes=-3"}).content == b"789"
    assert api.get(url, headers={"Range": "bytes=8-100"}).content == b"89"
    outside = api.get(url, headers={"Range": "bytes=10-20"})
    refused(outside, 416, "10 bytes")
    assert outside.headers["Content-Range"] == "bytes */10"
    refused(api.get(url, headers={"Range": "lines=1-2"}), 400, "Range")
