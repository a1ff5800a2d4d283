// Drives Siemens' Node SDK (@mindconnect/mindconnect-nodejs, pinned in package.json) through the asset
// management life cycle against a running emulator, so that tests/test_sdk_assets.py checks the emulator's
// aspect types, asset types and assets with the real client's requests and its response handling. By hand:
//
//   EMU_GATEWAY=http://127.0.0.1:8080 EMU_TENANT=emutenant EMU_CLIENT_ID=... EMU_CLIENT_SECRET=... \
//     node tests/sdk/assets.mjs lifecycle
//
// Protocol (stdout): one line per step, "STEP <name> <json>", then "DONE {}". The JSON holds what the
// Python side asserts on (ids, etags, names in list order, page metadata, error messages), never free text.
// Steps that must be refused (stale If-Match, reads after delete) print {rejected, message} instead of
// throwing, so the test can name the step that went wrong. Anything else that throws ends the script:
// the stack on stderr, exit code 1; the steps printed so far show how far it got.

import { done, message, refusal, runMode, serviceSdk, step, tenant } from "./common.mjs";

const ASPECT_TYPE_ID = `${tenant}.SdkPumpSensors`;
const ASSET_TYPE_ID = `${tenant}.SdkPump`;
// Created in this order on purpose (not sorted), so that sort=name,asc has something to do.
const PUMP_NAMES = ["sdk-pump-c", "sdk-pump-a", "sdk-pump-b"];
const OTHER_NAME = "sdk-valve"; // same type, but outside the name filter

function page(list, key) {
    return {
        names: ((list._embedded || {})[key] || []).map((item) => item.name),
        hasEmbedded: list._embedded !== undefined,
        page: list.page ?? null,
    };
}

function assetSummary(asset) {
    return {
        assetId: asset.assetId, name: asset.name, etag: asset.etag, typeId: asset.typeId, parentId: asset.parentId,
        externalId: asset.externalId, description: asset.description, location: asset.location ?? null,
        variables: asset.variables ?? null,
    };
}

async function lifecycle() {
    const sdk = serviceSdk();
    const am = sdk.GetAssetManagementClient();

    const root = await am.GetRootAsset();
    step("root", { assetId: root.assetId });

    // --- aspect type: create (no If-Match), read, update with If-Match, list with a filter ---------------
    const aspectType = {
        name: "SdkPumpSensors",
        category: "dynamic",
        scope: "private",
        description: "created by tests/sdk/assets.mjs",
        variables: [
            { name: "temperature", dataType: "DOUBLE", unit: "C", searchable: true, qualityCode: true },
            { name: "status", dataType: "STRING", unit: "", searchable: true, length: 20, qualityCode: false },
        ],
    };
    const createdAspectType = await am.PutAspectType(ASPECT_TYPE_ID, aspectType);
    step("putAspectType", { id: createdAspectType.id, etag: createdAspectType.etag });

    const readAspectType = await am.GetAspectType(ASPECT_TYPE_ID);
    step("getAspectType", {
        id: readAspectType.id, name: readAspectType.name, etag: readAspectType.etag,
        category: readAspectType.category, variables: readAspectType.variables.map((v) => v.name),
    });

    const widened = {
        ...aspectType,
        variables: [...aspectType.variables, { name: "pressure", dataType: "DOUBLE", unit: "bar", qualityCode: true }],
    };
    const updatedAspectType = await am.PutAspectType(ASPECT_TYPE_ID, widened, { ifMatch: `${readAspectType.etag}` });
    step("updateAspectType", {
        etag: updatedAspectType.etag, variables: updatedAspectType.variables.map((v) => v.name),
    });

    const aspectTypes = await am.GetAspectTypes({
        filter: JSON.stringify({ id: { startsWith: `${tenant}.` } }), size: 100,
    });
    step("listAspectTypes", { ids: (aspectTypes._embedded?.aspectTypes || []).map((t) => t.id) });

    // --- asset type: create, read (the SDK always sends exploded=false), list by name ---------------------
    const createdAssetType = await am.PutAssetType(ASSET_TYPE_ID, {
        name: "SdkPump",
        description: "created by tests/sdk/assets.mjs",
        parentTypeId: "core.BasicAsset", // spelled as in the SDK's docs; the API's id is core.basicasset
        instantiable: true,
        scope: "private",
        aspects: [{ name: "Sensors", aspectTypeId: ASPECT_TYPE_ID }],
        variables: [{ name: "serialNumber", dataType: "STRING", unit: "", searchable: true, length: 32 }],
    });
    step("putAssetType", { id: createdAssetType.id, etag: createdAssetType.etag });

    const readAssetType = await am.GetAssetType(ASSET_TYPE_ID);
    step("getAssetType", {
        id: readAssetType.id, etag: readAssetType.etag, parentTypeId: readAssetType.parentTypeId,
        aspects: (readAssetType.aspects || []).map((a) => ({ name: a.name, aspectTypeId: a.aspectType?.id ?? null })),
        variables: (readAssetType.variables || []).map((v) => v.name),
    });

    const assetTypes = await am.GetAssetTypes({ filter: JSON.stringify({ name: { eq: "SdkPump" } }) });
    step("listAssetTypes", { ids: (assetTypes._embedded?.assetTypes || []).map((t) => t.id) });

    // --- assets under the root ----------------------------------------------------------------------------
    const created = {};
    for (const name of [...PUMP_NAMES, OTHER_NAME]) {
        const asset = await am.PostAsset({
            name,
            externalId: `ext-${name}`,
            description: "created by tests/sdk/assets.mjs",
            typeId: ASSET_TYPE_ID,
            parentId: root.assetId,
            timezone: "Europe/Berlin",
            twinType: "performance",
            location: { country: "Germany", locality: "Erlangen", latitude: 49.59, longitude: 11.0 },
        });
        created[name] = asset;
    }
    step("postAssets", Object.fromEntries(Object.entries(created).map(([n, a]) => [n, assetSummary(a)])));

    // Filter (an "and" of typeId and a name prefix), sorted by name, two per page; page 2 is past the end.
    const pumpFilter = JSON.stringify({ and: { typeId: { eq: ASSET_TYPE_ID }, name: { startsWith: "sdk-pump" } } });
    const pages = [];
    for (const pageNo of [0, 1, 2]) {
        pages.push(page(await am.GetAssets({ filter: pumpFilter, size: 2, page: pageNo, sort: "name,asc" }), "assets"));
    }
    step("listAssetPages", pages);
    step("listAssetsDesc", page(await am.GetAssets({ filter: pumpFilter, size: 2, page: 0, sort: "name,desc" }), "assets"));
    step("listAssetsByType", page(
        await am.GetAssets({ filter: JSON.stringify({ typeId: ASSET_TYPE_ID }), size: 10, sort: "name,asc" }), "assets"));

    const pumpA = created["sdk-pump-a"];
    const readA = await am.GetAsset(pumpA.assetId);
    step("getAsset", assetSummary(readA));

    const aspects = await am.GetAspects(pumpA.assetId);
    step("getAspects", {
        names: (aspects._embedded?.aspects || []).map((a) => a.name),
        aspectTypeIds: (aspects._embedded?.aspects || []).map((a) => a.aspectTypeId),
    });

    // The SDK's @sanity test reads the root's variables with size 2000 (asset-management-assets.spec.ts:198).
    const rootVariables = await am.GetVariables(root.assetId, { size: 2000 });
    step("getRootVariables2000", {
        page: rootVariables.page ?? null,
        names: (rootVariables._embedded?.variables || []).map((v) => v.name),
    });
    const pumpVariables = await am.GetVariables(pumpA.assetId, { size: 2000 });
    step("getVariables2000", {
        page: pumpVariables.page ?? null,
        names: (pumpVariables._embedded?.variables || []).map((v) => `${v.aspectName ?? ""}.${v.name}`),
    });

    // --- optimistic locking: PUT with the current etag, then again with the now stale one -----------------
    const update = {
        name: "sdk-pump-a",
        externalId: "ext-sdk-pump-a-v2",
        description: "updated with If-Match",
        location: { country: "Germany", locality: "Munich", latitude: 48.14, longitude: 11.58 },
        variables: [{ name: "serialNumber", value: "SN-0001" }],
        aspects: [],
    };
    const put = await am.PutAsset(pumpA.assetId, update, { ifMatch: `${readA.etag}` });
    step("putAsset", { sentIfMatch: readA.etag, ...assetSummary(put) });

    const stale = await refusal(() =>
        am.PutAsset(pumpA.assetId, { ...update, description: "must not be stored" }, { ifMatch: `${readA.etag}` }));
    step("putAssetStale", { sentIfMatch: readA.etag, ...stale });

    const afterStale = await am.GetAsset(pumpA.assetId);
    step("getAfterStale", assetSummary(afterStale));

    const patched = await am.PatchAsset(pumpA.assetId, { externalId: "ext-sdk-pump-a-v3" }, { ifMatch: `${put.etag}` });
    step("patchAsset", { sentIfMatch: put.etag, ...assetSummary(patched) });

    const stalePatch = await refusal(() =>
        am.PatchAsset(pumpA.assetId, { externalId: "must-not-be-stored" }, { ifMatch: `${put.etag}` }));
    step("patchAssetStale", { sentIfMatch: put.etag, ...stalePatch });

    // --- deletes: a stale etag is refused; then everything goes, and the lists no longer show it ----------
    const staleDelete = await refusal(() => am.DeleteAsset(pumpA.assetId, { ifMatch: `${readA.etag}` }));
    step("deleteAssetStale", { sentIfMatch: readA.etag, ...staleDelete });

    const current = { ...created, "sdk-pump-a": patched };
    for (const asset of Object.values(current)) {
        await am.DeleteAsset(asset.assetId, { ifMatch: `${asset.etag}` });
    }
    step("deleteAssets", { deleted: Object.values(current).map((a) => a.assetId) });
    step("listAssetsAfterDelete", page(
        await am.GetAssets({ filter: JSON.stringify({ typeId: ASSET_TYPE_ID }), size: 10 }), "assets"));
    const allAssets = await am.GetAssets({ size: 200 });
    step("allAssetsAfterDelete", { ids: (allAssets._embedded?.assets || []).map((a) => a.assetId) });
    step("getDeletedAsset", await refusal(() => am.GetAsset(pumpA.assetId)));

    const typeNow = await am.GetAssetType(ASSET_TYPE_ID);
    await am.DeleteAssetType(ASSET_TYPE_ID, { ifMatch: `${typeNow.etag}` });
    step("deleteAssetType", { sentIfMatch: typeNow.etag });
    step("listAssetTypesAfterDelete", {
        ids: ((await am.GetAssetTypes({ filter: JSON.stringify({ name: { eq: "SdkPump" } }) }))._embedded?.assetTypes
            || []).map((t) => t.id),
    });
    step("getDeletedAssetType", await refusal(() => am.GetAssetType(ASSET_TYPE_ID)));

    const aspectNow = await am.GetAspectType(ASPECT_TYPE_ID);
    await am.DeleteAspectType(ASPECT_TYPE_ID, { ifMatch: `${aspectNow.etag}` });
    step("deleteAspectType", { sentIfMatch: aspectNow.etag });
    step("listAspectTypesAfterDelete", {
        ids: ((await am.GetAspectTypes({ filter: JSON.stringify({ id: { startsWith: `${tenant}.` } }), size: 100 }))
            ._embedded?.aspectTypes || []).map((t) => t.id),
    });
    step("getDeletedAspectType", await refusal(() => am.GetAspectType(ASPECT_TYPE_ID)));
}

// Asset Management files through the SDK's file methods, as its files suite drives them
// (test/asset-management-files.spec.ts): PostFile (multipart, scope PRIVATE), GetFiles with a filter,
// DownloadFile (raw bytes), PutFile with If-Match, DeleteFile with the etag PutFile returned.
async function files() {
    const am = serviceSdk().GetAssetManagementClient();
    const name = "sdk-manual.2.text";
    const before = await am.GetFiles({ filter: JSON.stringify({ name: { endsWith: ".2.text" } }), size: 0, sort: "DESC" });
    step("filesBefore", { embedded: before._embedded ?? null, page: before.page ?? null });
    const posted = await am.PostFile(Buffer.from("xyz"), name, { description: "uploaded file", mimeType: "text/plain" });
    step("postFile", { id: posted.id, name: posted.name, scope: posted.scope, etag: posted.etag,
                       description: posted.description });
    const listed = await am.GetFiles({ filter: JSON.stringify({ name }) });
    step("getFiles", { ids: (listed._embedded?.files || []).map((f) => f.id) });
    const read = await am.GetFile(posted.id);
    step("getFile", { id: read.id, etag: read.etag });
    const download = await am.DownloadFile(posted.id);
    step("downloadFile", { ok: download.ok, text: await download.text(), type: download.headers.get("content-type") });
    // File assignments, as the SDK's asset and asset type suites call them (errors must name "abcd" / "xyz").
    const root = await am.GetRootAsset();
    const asset = await am.PostAsset({ name: "sdk-file-holder", typeId: "core.basicasset", parentId: root.assetId });
    step("putAssetAssignmentBad", await refusal(() =>
        am.PutAssetFileAssignment(asset.assetId, "Keyword", { fileId: "abcd" }, { ifMatch: `${asset.etag}` })));
    step("deleteAssetAssignmentMissing", await refusal(() =>
        am.DeleteAssetFileAssignment(asset.assetId, "xyz", { ifMatch: `${asset.etag}` })));
    const typeId = `${tenant}.SdkFileShip`;
    const shipType = await am.PutAssetType(typeId, { name: "SdkFileShip", parentTypeId: "core.basicdevice",
                                                     instantiable: true, scope: "private" });
    step("putTypeAssignmentBad", await refusal(() =>
        am.PutAssetTypeFileAssignment(typeId, "Keyword", { fileId: "abcd" }, { ifMatch: `${shipType.etag}` })));
    step("deleteTypeAssignmentMissing", await refusal(() =>
        am.DeleteAssetTypeFileAssignment(typeId, "xyz", { ifMatch: "0" })));
    const assigned = await am.PutAssetFileAssignment(asset.assetId, "manual", { fileId: posted.id },
                                                     { ifMatch: `${asset.etag}` });
    step("putAssetAssignment", { etag: assigned.etag,
                                 assignments: (assigned.fileAssignments || []).map((a) => [a.key, a.fileId]) });
    await am.DeleteAssetFileAssignment(asset.assetId, "manual", { ifMatch: `${assigned.etag}` });

    const put = await am.PutFile(posted.id, Buffer.from("abc"), name, { scope: "private", ifMatch: `${posted.etag}` });
    step("putFile", { etag: put.etag, scope: put.scope });
    step("downloadAfterPut", { text: await (await am.DownloadFile(posted.id)).text() });
    step("deleteFileStale", await refusal(() => am.DeleteFile(posted.id, { ifMatch: `${posted.etag}` })));
    await am.DeleteFile(posted.id, { ifMatch: `${put.etag}` });
    step("getDeletedFile", await refusal(() => am.GetFile(posted.id)));
}

await runMode({
    async files() {
        await files();
        done();
    },
    async lifecycle() {
        await lifecycle();
        done();
    },
});
