// Drives Siemens' Node SDK (@mindconnect/mindconnect-nodejs, pinned in package.json) through Event Management v3
// against a running emulator, so that tests/test_sdk_events.py checks event types and events with the real
// client's requests (its PUT for a patch, If-Match without quotes, URL-encoded JSON filters) and its response
// handling. By hand:
//
//   EMU_GATEWAY=http://127.0.0.1:8080 EMU_TENANT=emutenant EMU_CLIENT_ID=... EMU_CLIENT_SECRET=... \
//     node tests/sdk/events.mjs lifecycle
//
// Protocol (stdout): one line per step, "STEP <name> <json>", then "DONE {}" (see common.mjs). Steps that must
// be refused print {rejected, message} instead of throwing.

import { done, message, refusal, runMode, serviceSdk, step, tenant } from "./common.mjs";

const TYPE_ID = `${tenant}.SdkPumpEvent`;

function events(list) {
    return {
        codes: ((list._embedded || {}).events || []).map((e) => e.code ?? null),
        hasEmbedded: list._embedded !== undefined,
        page: list.page ?? null,
    };
}

async function lifecycle() {
    const sdk = serviceSdk();
    const em = sdk.GetEventManagementClient();
    const root = await sdk.GetAssetManagementClient().GetRootAsset();

    const billboard = await em.GetBillboard();
    step("billboard", { keys: Object.keys(billboard).sort() });

    // --- event type: look it up as the agent test does, create, read, patch (PUT), list ---------------------
    const before = await em.GetEventTypes({ filter: JSON.stringify({ name: "SdkPumpEvent" }) });
    step("lookupType", { hasEmbedded: before._embedded !== undefined });
    const created = await em.PostEventType({
        id: TYPE_ID, name: "SdkPumpEvent", ttl: 10,
        fields: [{ name: "temperature", type: "DOUBLE", filterable: true }],
    });
    step("postType", { id: created.id, etag: created.etag, parentId: created.parentId });
    const patched = await em.PatchEventType(TYPE_ID, { op: "replace", path: "/scope", value: "GLOBAL" },
        { ifMatch: created.etag });
    step("patchType", { scope: patched.scope, etag: patched.etag });
    const types = await em.GetEventTypes({
        filter: JSON.stringify({ and: { id: { contains: "SdkPump" }, owner: { eq: tenant } } }), sort: "id,asc",
        size: 100,
    });
    step("listTypes", { ids: (types._embedded.eventTypes || []).map((t) => t.id) });

    // --- events: standard and custom, read, correct with If-Match, list and filter -------------------------
    const now = Date.now();
    const standard = [];
    for (let i = 0; i < 3; i++) {
        standard.push(await em.PostEvent({
            entityId: root.assetId, timestamp: new Date(now - (3 - i) * 60000).toISOString(),
            severity: i === 1 ? 20 : 40, description: `event ${i}`, code: `C${i}`, source: "sdk",
            acknowledged: false,
        }));
    }
    step("postEvents", { etags: standard.map((e) => e.etag), typeIds: standard.map((e) => e.typeId) });
    const custom = await em.PostEvent({
        entityId: root.assetId, timestamp: new Date(now).toISOString(), typeId: TYPE_ID, temperature: 23.7,
        code: "T",
    });
    step("postCustom", { typeId: custom.typeId, temperature: custom.temperature });

    const read = await em.GetEvent(standard[0].id);
    step("getEvent", { id: read.id, code: read.code, etag: read.etag });
    const corrected = await em.PutEvent(read.id, { ...read, acknowledged: true }, { ifMatch: read.etag });
    step("putEvent", { acknowledged: corrected.acknowledged, etag: corrected.etag });
    step("stalePut", await refusal(() => em.PutEvent(read.id, { ...read, acknowledged: false }, { ifMatch: read.etag })));

    step("listAll", events(await em.GetEvents({ sort: "timestamp,desc" })));
    step("listErrors", events(await em.GetEvents({ filter: JSON.stringify({ severity: 20 }) })));
    step("listCustom", events(await em.GetEvents({
        filter: JSON.stringify({ typeId: TYPE_ID, temperature: { in: [23.7] } }),
    })));
    step("pageOne", events(await em.GetEvents({ size: 2, page: 1, sort: "timestamp,asc" })));
    step("unknownEvent", await refusal(() => em.GetEvent("no-such-event")));

    // --- delete the type (GET for the etag, then DELETE with If-Match), as the CLI does ----------------------
    const current = await em.GetEventType(TYPE_ID);
    await em.DeleteEventType(TYPE_ID, { ifMatch: current.etag });
    step("deletedType", await refusal(() => em.GetEventType(TYPE_ID)));
    done();
}

await runMode({ lifecycle });
