// Drives Siemens' Node SDK (@mindconnect/mindconnect-nodejs, pinned in package.json) through IoT Time Series v3
// and TS Aggregates v4/v3 against a running emulator, so that tests/test_sdk_timeseries.py checks the emulator's
// answers with the real client's requests and its response handling (JSON arrays, the Link header of bulk
// paging, the noResponse PUT/DELETE). By hand:
//
//   EMU_GATEWAY=http://127.0.0.1:8080 EMU_TENANT=emutenant EMU_CLIENT_ID=... EMU_CLIENT_SECRET=... \
//     EMU_TS_RECORDS=/tmp/records.json EMU_TS_START=2024-03-04T00:00:00.000Z node tests/sdk/timeseries.mjs series
//
// The records come from the Python side (EMU_TS_RECORDS: a JSON array of time series records, ascending, all
// after EMU_TS_START), which knows what it wrote and computes the expected answers itself; this script only
// makes the calls. Windows are given relative to EMU_TS_START and every step prints the bounds it used.
//
// Protocol (stdout): one line per step, "STEP <name> <json>", then "DONE {}". Anything that throws ends the
// script: the stack on stderr, exit code 1; the steps printed so far show how far it got.

import { readFileSync } from "node:fs";

import { done, env, runMode, serviceSdk, step, tenant } from "./common.mjs";

const RECORDS = JSON.parse(readFileSync(env("EMU_TS_RECORDS"), "utf-8"));
const START = new Date(env("EMU_TS_START"));
const ASPECT_TYPE_ID = `${tenant}.SdkTsSensors`;
const ASSET_TYPE_ID = `${tenant}.SdkTsPump`;
const ASPECT = "Sensors";
const PUT_CHUNK = 1000; // several PUTs, as an app streaming data would make them (each well under 1 MB)
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function at(ms) {
    return new Date(START.getTime() + ms);
}

// --- the asset whose "Sensors" aspect holds the series ------------------------------------------------------

async function createAsset(sdk) {
    const am = sdk.GetAssetManagementClient();
    const root = await am.GetRootAsset();
    await am.PutAspectType(ASPECT_TYPE_ID, {
        name: "SdkTsSensors",
        category: "dynamic",
        scope: "private",
        description: "created by tests/sdk/timeseries.mjs",
        variables: [
            { name: "temperature", dataType: "DOUBLE", unit: "C", searchable: true, qualityCode: true },
            { name: "pressure", dataType: "DOUBLE", unit: "bar", searchable: true, qualityCode: false },
            { name: "cycles", dataType: "INT", unit: "", searchable: true, qualityCode: false },
            { name: "status", dataType: "STRING", unit: "", searchable: true, length: 20, qualityCode: false },
        ],
    });
    await am.PutAssetType(ASSET_TYPE_ID, {
        name: "SdkTsPump",
        description: "created by tests/sdk/timeseries.mjs",
        parentTypeId: "core.BasicAsset",
        instantiable: true,
        scope: "private",
        aspects: [{ name: ASPECT, aspectTypeId: ASPECT_TYPE_ID }],
        variables: [],
    });
    const asset = await am.PostAsset({
        name: "sdk-ts-pump",
        typeId: ASSET_TYPE_ID,
        parentId: root.assetId,
        timezone: "Europe/Berlin",
        twinType: "performance",
    });
    step("asset", { assetId: asset.assetId });
    return asset.assetId;
}

// --- time series ---------------------------------------------------------------------------------------------

// A GetTimeSeries call with Date bounds (the SDK sends them as toISOString()), printed with what was asked.
async function read(ts, assetId, name, fromMs, toMs, extra = {}) {
    const params = { from: at(fromMs), to: at(toMs), ...extra };
    const records = await ts.GetTimeSeries(assetId, ASPECT, params);
    step(name, { from: params.from.toISOString(), to: params.to.toISOString(), ...extra, records });
}

// GetTimeSeriesBulkStyle, then GetNextRecordsBulkStyle while there is a nextRecord: what `mc timeseries` does.
// Pages are summed up (count, first, last, keys) rather than printed whole.
async function bulk(ts, assetId, name, fromMs, toMs, extra) {
    const params = { from: at(fromMs), to: at(toMs), ...extra };
    const pages = [];
    let times = [];
    let page = await ts.GetTimeSeriesBulkStyle(assetId, ASPECT, params);
    for (;;) {
        const records = page.records;
        pages.push({
            count: records.length,
            first: records[0]?._time ?? null,
            last: records.at(-1)?._time ?? null,
            keys: [...new Set(records.flatMap((r) => Object.keys(r)))].sort(),
            nextRecord: page.nextRecord ?? null,
        });
        times = times.concat(records.map((r) => Date.parse(r._time)));
        if (!page.nextRecord || pages.length > 10) {
            break; // more than 10 pages of at most 2000 means a Link that goes round in circles
        }
        page = await ts.GetNextRecordsBulkStyle(page.nextRecord);
    }
    const ascending = times.every((t, i) => i === 0 || t > times[i - 1]);
    step(name, {
        from: params.from.toISOString(), to: params.to.toISOString(), ...extra, pages,
        total: times.length, distinct: new Set(times).size, ascending,
    });
}

async function series() {
    const sdk = serviceSdk();
    const assetId = await createAsset(sdk);
    const ts = sdk.GetTimeSeriesClient();

    const puts = [];
    for (let i = 0; i < RECORDS.length; i += PUT_CHUNK) {
        const chunk = RECORDS.slice(i, i + PUT_CHUNK);
        const result = await ts.PutTimeSeries(assetId, ASPECT, chunk);
        puts.push({ records: chunk.length, result: result ?? null });
    }
    step("put", { puts });

    // Ranges are (from, to]: a window of 10 minutes an hour in, then the same with limit, select and sort.
    await read(ts, assetId, "range", HOUR, HOUR + 10 * MINUTE);
    await read(ts, assetId, "rangeLimit", HOUR, HOUR + 10 * MINUTE, { limit: 5 });
    await read(ts, assetId, "rangeSelect", HOUR, HOUR + 10 * MINUTE, { select: "temperature" });
    await read(ts, assetId, "rangeDesc", HOUR, HOUR + 10 * MINUTE, { limit: 3, sort: "desc" });
    step("latest", { records: await ts.GetTimeSeries(assetId, ASPECT) });

    // Everything (more than 2000 records) with limit 2000, as `mc timeseries` reads it; then with select.
    await bulk(ts, assetId, "bulk", 0, 5 * HOUR, { limit: 2000 });
    await bulk(ts, assetId, "bulkSelect", 0, 5 * HOUR, { limit: 2000, select: "temperature" });

    // Aggregates v4: hours over the whole series, 10-minute intervals with select over one hour.
    const v4 = sdk.GetTimeSeriesAggregateClientV4();
    const hourly = { from: at(0).toISOString(), to: at(5 * HOUR).toISOString(), intervalUnit: "hour", intervalValue: 1 };
    step("v4Hour", { ...hourly, answer: await v4.GetAggregates({ assetId, aspectName: ASPECT, ...hourly }) });
    const minutes = {
        from: at(HOUR).toISOString(), to: at(2 * HOUR).toISOString(), intervalUnit: "minute", intervalValue: 10,
        select: "temperature",
    };
    step("v4Minute", { ...minutes, answer: await v4.GetAggregates({ assetId, aspectName: ASPECT, ...minutes }) });

    // Aggregates v3 (Date bounds, aligned to the unit): the same hours, and two-hour intervals with select.
    const v3 = sdk.GetTimeSeriesAggregateClient();
    const v3Hour = { from: at(0), to: at(5 * HOUR), intervalUnit: "hour", intervalValue: 1 };
    step("v3Hour", {
        from: v3Hour.from.toISOString(), to: v3Hour.to.toISOString(), intervalUnit: "hour", intervalValue: 1,
        answer: await v3.GetAggregates(assetId, ASPECT, v3Hour),
    });
    const v3Select = { from: at(0), to: at(4 * HOUR), intervalUnit: "hour", intervalValue: 2, select: "cycles" };
    step("v3Select", {
        from: v3Select.from.toISOString(), to: v3Select.to.toISOString(), intervalUnit: "hour", intervalValue: 2,
        select: "cycles", answer: await v3.GetAggregates(assetId, ASPECT, v3Select),
    });

    // DeleteTimeSeries (from, to]: the last hour goes; reads, the latest record and the aggregates follow.
    const gone = { from: at(4 * HOUR), to: at(5 * HOUR) };
    const deleted = await ts.DeleteTimeSeries(assetId, ASPECT, gone.from, gone.to);
    step("delete", { from: gone.from.toISOString(), to: gone.to.toISOString(), result: deleted ?? null });
    await read(ts, assetId, "rangeAfterDelete", 4 * HOUR - MINUTE, 5 * HOUR);
    step("latestAfterDelete", { records: await ts.GetTimeSeries(assetId, ASPECT) });
    step("v4HourAfterDelete", { ...hourly, answer: await v4.GetAggregates({ assetId, aspectName: ASPECT, ...hourly }) });
}

await runMode({
    async series() {
        await series();
        done();
    },
});
