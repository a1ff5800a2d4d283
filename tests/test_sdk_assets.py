"""Siemens' Node SDK (``@mindconnect/mindconnect-nodejs`` 3.24.2) and its ``mc`` CLI drive Asset Management.

Why a real client: the asset routes were built from the API reference and a request log (sdk-requests.md 3-4),
and only the SDK shows whether its requests (``?`` with an empty query, URL-encoded JSON filters, ``If-Match``
without quotes, merge-patch PATCHes) are understood and whether every answer parses where it expects JSON.
``tests/sdk/assets.mjs`` runs the life cycle (aspect type, asset type, assets under the root, filtered and paged
lists, updates with ``If-Match``, a stale ``If-Match``, patch, deletes) and prints one ``STEP`` line per call; the
tests here check what it printed. The CLI tests run ``mc list-assets`` the way a developer would, with service
credentials stored (encrypted) under a temporary HOME.

Without node or the npm packages the tests skip locally but fail in CI (``CI`` set), see tests/support/sdk.py.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest

from tests.support import sdk
from tests.support.paths import ROOT

pytestmark = pytest.mark.node

SCRIPT = sdk.SDK_DIR / "assets.mjs"

ASPECT_TYPE_ID = f"{sdk.TENANT}.SdkPumpSensors"
ASSET_TYPE_ID = f"{sdk.TENANT}.SdkPump"
PUMPS = ["sdk-pump-a", "sdk-pump-b", "sdk-pump-c"]
ALL_NAMES = [*PUMPS, "sdk-valve"]
PRECONDITION = re.compile(r"precondition", re.IGNORECASE)
NOT_FOUND = re.compile(r"not found", re.IGNORECASE)

CLI_TYPE_ID = f"{sdk.TENANT}.CliPump"
CLI_ASSETS = 120  # more than the 100 per page `mc list-assets` asks for, so it must read page 1 (and page 2)
CLI_ROW = re.compile(r"^([0-9a-f]{32})\s+(\d+)\s+(\S+)\s+\[([^\]]*)\]\s+(.*?)\s*$")


# --- the SDK life cycle (tests/sdk/assets.mjs), run once for the module -----------------------------------

@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory) -> dict:
    """The steps of one ``assets.mjs lifecycle`` run on a fresh emulator (see ``sdk.after_sdk_check``).

    One run serves every test of the module: the steps build on each other (the asset that is updated is the
    one created), and starting node and the server once keeps the module well under its time budget.
    """
    return sdk.run_on_fresh_emulator(tmp_path_factory, SCRIPT, "lifecycle")


def _assert_refused(step: dict, pattern: re.Pattern, what: str) -> None:
    assert step["rejected"], f"{what} was accepted: {step}"
    assert pattern.search(step["message"]), f"{what}: the SDK's error does not match {pattern.pattern}: {step}"


def test_aspect_type_and_asset_type(request):
    """PUT creates (no If-Match), GET reads, PUT with If-Match updates, and the filtered lists find the types.

    The asset type names its parent ``core.BasicAsset`` as the SDK's docs do; the API answers with its id.
    """
    steps = sdk.after_sdk_check(request, "lifecycle")
    created = steps["putAspectType"]
    assert created["id"] == ASPECT_TYPE_ID and isinstance(created["etag"], int), created
    read = steps["getAspectType"]
    assert read == {"id": ASPECT_TYPE_ID, "name": "SdkPumpSensors", "etag": created["etag"], "category": "dynamic",
                    "variables": ["temperature", "status"]}, read
    updated = steps["updateAspectType"]
    assert updated == {"etag": created["etag"] + 1, "variables": ["temperature", "status", "pressure"]}, updated
    assert ASPECT_TYPE_ID in steps["listAspectTypes"]["ids"], steps["listAspectTypes"]

    assert steps["putAssetType"]["id"] == ASSET_TYPE_ID, steps["putAssetType"]
    asset_type = steps["getAssetType"]
    assert asset_type["parentTypeId"].lower() == "core.basicasset", asset_type
    assert asset_type["aspects"] == [{"name": "Sensors", "aspectTypeId": ASPECT_TYPE_ID}], asset_type
    assert asset_type["variables"] == ["serialNumber"], asset_type
    assert steps["listAssetTypes"]["ids"] == [ASSET_TYPE_ID], steps["listAssetTypes"]


def test_assets_under_root_listed_with_filter_sort_and_paging(request):
    """Assets made by PostAsset sit under the root; GetAssets filters (``and``), sorts both ways and pages.

    The page past the end must still be a 200 the SDK parses (with ``_embedded.assets`` empty), since the ``mc``
    CLI always asks for it.
    """
    steps = sdk.after_sdk_check(request, "lifecycle")
    root = steps["root"]["assetId"]
    assert re.fullmatch(r"[0-9a-f]{32}", root), steps["root"]
    posted = steps["postAssets"]
    assert sorted(posted) == ALL_NAMES
    ids = [asset["assetId"] for asset in posted.values()]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids), ids
    for name, asset in posted.items():
        assert (asset["name"], asset["parentId"], asset["typeId"]) == (name, root, ASSET_TYPE_ID), asset
        assert asset["externalId"] == f"ext-{name}" and asset["location"]["locality"] == "Erlangen", asset

    pages = steps["listAssetPages"]
    assert [p["names"] for p in pages] == [["sdk-pump-a", "sdk-pump-b"], ["sdk-pump-c"], []], pages
    for number, page in enumerate(pages):
        assert page["page"] == {"size": 2, "totalElements": 3, "totalPages": 2, "number": number}, page
    assert pages[2]["hasEmbedded"], pages[2]  # {"assets": []}: the SDK's own tests read it unguarded
    assert steps["listAssetsDesc"]["names"] == ["sdk-pump-c", "sdk-pump-b"], steps["listAssetsDesc"]
    assert steps["listAssetsByType"]["names"] == ALL_NAMES, steps["listAssetsByType"]

    assert steps["getAsset"] == posted["sdk-pump-a"], steps["getAsset"]
    assert steps["getAspects"] == {"names": ["Sensors"], "aspectTypeIds": [ASPECT_TYPE_ID]}, steps["getAspects"]


def test_variables_read_with_size_2000(request):
    """GetVariables(asset, {size: 2000}), as the SDK's @sanity test sends it (asset-management-assets.spec.ts:198):
    a 200 whose page holds up to 2000, not a 400."""
    steps = sdk.after_sdk_check(request, "lifecycle")
    pump = steps["getVariables2000"]
    assert pump["page"]["size"] == 2000 and pump["page"]["totalElements"] == len(pump["names"]), pump
    assert {".serialNumber", "Sensors.temperature", "Sensors.status", "Sensors.pressure"} <= set(pump["names"]), pump
    assert steps["getRootVariables2000"]["page"]["size"] == 2000, steps["getRootVariables2000"]


def test_put_and_patch_with_if_match_and_a_stale_etag(request):
    """PutAsset/PatchAsset with the current etag each bump it; the same calls (and a DeleteAsset) with the old
    etag are refused with 412, which the SDK can only show as its reason phrase ("PRECONDITION FAILED"), and
    leave the asset as it was."""
    steps = sdk.after_sdk_check(request, "lifecycle")
    put = steps["putAsset"]
    assert put["etag"] == put["sentIfMatch"] + 1, put
    assert (put["externalId"], put["description"]) == ("ext-sdk-pump-a-v2", "updated with If-Match"), put
    assert put["location"]["locality"] == "Munich", put
    assert put["variables"] == [{"name": "serialNumber", "value": "SN-0001"}], put

    _assert_refused(steps["putAssetStale"], PRECONDITION, "PutAsset with a stale If-Match")
    assert steps["getAfterStale"] == {k: v for k, v in put.items() if k != "sentIfMatch"}, steps["getAfterStale"]

    patched = steps["patchAsset"]
    assert patched["sentIfMatch"] == put["etag"] and patched["etag"] == put["etag"] + 1, patched
    assert patched["externalId"] == "ext-sdk-pump-a-v3", patched
    untouched = ("name", "description", "location", "variables", "typeId", "parentId")
    assert {k: patched[k] for k in untouched} == {k: put[k] for k in untouched}, patched
    _assert_refused(steps["patchAssetStale"], PRECONDITION, "PatchAsset with a stale If-Match")
    _assert_refused(steps["deleteAssetStale"], PRECONDITION, "DeleteAsset with a stale If-Match")


def test_deletes_take_assets_and_types_out_of_the_lists(request):
    """After DeleteAsset, DeleteAssetType and DeleteAspectType (each with its etag) neither the lists nor a
    read by id show them any more."""
    steps = sdk.after_sdk_check(request, "lifecycle")
    deleted = set(steps["deleteAssets"]["deleted"])
    assert deleted == {asset["assetId"] for asset in steps["postAssets"].values()}
    after = steps["listAssetsAfterDelete"]
    assert after["names"] == [] and after["page"]["totalElements"] == 0, after
    remaining = set(steps["allAssetsAfterDelete"]["ids"])
    assert not deleted & remaining and steps["root"]["assetId"] in remaining, remaining
    _assert_refused(steps["getDeletedAsset"], NOT_FOUND, "GetAsset of a deleted asset")

    assert steps["listAssetTypesAfterDelete"]["ids"] == [], steps["listAssetTypesAfterDelete"]
    _assert_refused(steps["getDeletedAssetType"], NOT_FOUND, "GetAssetType of a deleted asset type")
    assert ASPECT_TYPE_ID not in steps["listAspectTypesAfterDelete"]["ids"], steps["listAspectTypesAfterDelete"]
    _assert_refused(steps["getDeletedAspectType"], NOT_FOUND, "GetAspectType of a deleted aspect type")


# --- files (tests/sdk/assets.mjs files) ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def file_steps(tmp_path_factory) -> dict:
    return sdk.run_on_fresh_emulator(tmp_path_factory, SCRIPT, "files")


def test_files_through_the_sdk(request):
    """PostFile, GetFiles, GetFile, DownloadFile, PutFile and DeleteFile as Siemens' files suite calls them
    (asset-management-files.spec.ts): an empty filtered list with ``_embedded.files`` (read unguarded there,
    :104), the bytes downloaded raw (``text() == "xyz"``, :59-61), DeleteFile with the etag PutFile returned."""
    steps = sdk.after_sdk_check(request, "file_steps")
    assert steps["filesBefore"]["embedded"] == {"files": []}, steps["filesBefore"]
    posted = steps["postFile"]
    assert (posted["name"], posted["scope"], posted["etag"], posted["description"]) == (
        "sdk-manual.2.text", "private", 0, "uploaded file"), posted
    assert steps["getFiles"]["ids"] == [posted["id"]], steps["getFiles"]
    assert steps["getFile"] == {"id": posted["id"], "etag": 0}, steps["getFile"]
    download = steps["downloadFile"]
    assert download["ok"] and download["text"] == "xyz" and download["type"].startswith("text/plain"), download
    for name, needle in (("putAssetAssignmentBad", "abcd"), ("deleteAssetAssignmentMissing", "xyz"),
                         ("putTypeAssignmentBad", "abcd"), ("deleteTypeAssignmentMissing", "xyz")):
        _assert_refused(steps[name], re.compile(needle), name)  # assets.spec.ts:167,177, assetypes.spec.ts:197,208
    assert steps["putAssetAssignment"] == {"etag": 1, "assignments": [["manual", posted["id"]]]}, steps
    assert steps["putFile"] == {"etag": 1, "scope": "private"}, steps["putFile"]
    assert steps["downloadAfterPut"]["text"] == "abc"
    _assert_refused(steps["deleteFileStale"], PRECONDITION, "DeleteFile with a stale If-Match")
    _assert_refused(steps["getDeletedFile"], NOT_FOUND, "GetFile of a deleted file")


# --- the mc CLI ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli_tenant(tmp_path_factory) -> Iterator[dict]:
    """A server whose tenant holds ``CLI_ASSETS`` assets of one type, and a HOME with the CLI's credentials.

    The assets are made with plain HTTP (faster than the SDK and not what is under test). The credentials
    go in the way the CLI's docs say, ``mc service-credentials --mode add --type SERVICE`` (client id and
    secret as ``--user``/``--password``), encrypted with ``sdk.PASSKEY`` into ``$HOME/.mc/auth.json``.
    """
    node = sdk.require_sdk()
    home = tmp_path_factory.mktemp("mc-home")
    with sdk.emulator_server(tmp_path_factory.mktemp("sdk-cli")) as server:
        http = sdk.api_session(server.url)
        root = http.get(ROOT).json()
        sdk.put_asset_type(http, CLI_TYPE_ID, {})
        made = {}
        for i in range(CLI_ASSETS):
            asset = sdk.post_asset(http, f"cli-pump-{i:03d}", CLI_TYPE_ID, root["assetId"])
            made[asset["assetId"]] = asset["name"]
        http.close()
        yield sdk.mc_tenant(node, home, server.url, root=root, assets=made)


def _listed(proc: subprocess.CompletedProcess) -> tuple[dict, int]:
    """The ``assetid etag twintype [typeid] name`` rows of ``mc list-assets`` by id, and its "N assets listed"."""
    out = sdk.ANSI.sub("", proc.stdout)
    rows = {}
    for line in out.splitlines():
        match = CLI_ROW.match(line)
        if match:
            asset_id, _etag, _twin, type_id, name = match.groups()
            assert asset_id not in rows, f"{asset_id} listed twice (a page was read twice?)\n{out}"
            rows[asset_id] = (type_id, name)
    count = re.search(r"(\d+) assets listed", out)
    assert count, f"no 'assets listed' line\n{out}\nstderr:\n{proc.stderr}"
    return rows, int(count.group(1))


def test_cli_list_assets_reads_every_page(request):
    """``mc list-assets`` asks for 100 a page and goes on while ``page++ < totalPages``: it needs page 1 for the
    last 21 assets, then asks for page 2 (= totalPages), which must be an empty 200 or the CLI gives up (exit 1).
    """
    cli_tenant = sdk.after_sdk_check(request, "cli_tenant")
    rows, count = _listed(sdk.mc(cli_tenant, "list-assets", "--passkey", sdk.PASSKEY))
    expected = {asset_id: (CLI_TYPE_ID, name) for asset_id, name in cli_tenant["assets"].items()}
    root = cli_tenant["root"]
    expected[root["assetId"]] = (root["typeId"], root["name"])
    assert rows == expected
    assert count == CLI_ASSETS + 1


def test_cli_list_assets_with_name_and_type_filters(request):
    """``--typeid`` and ``--assetname`` become ``{"and": {"name": {"contains"}, "typeId": {"contains"}}}``."""
    cli_tenant = sdk.after_sdk_check(request, "cli_tenant")
    rows, count = _listed(sdk.mc(cli_tenant, "list-assets", "--passkey", sdk.PASSKEY, "--typeid", "CliPump",
                              "--assetname", "pump-11"))
    expected = {asset_id: (CLI_TYPE_ID, name) for asset_id, name in cli_tenant["assets"].items() if "pump-11" in name}
    assert len(expected) == 10 and rows == expected
    assert count == 10
