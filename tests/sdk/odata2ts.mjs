// odata2ts (npm @odata2ts/odata2ts 0.34.0): a TypeScript/JavaScript client generated from a published contract's
// $metadata, driven against the emulator with odata2ts' own runtime (@odata2ts/odata-service) over fetch
// (@odata2ts/http-client-fetch). tests/test_sdk_odata2ts.py runs the generator first (into EMU_GEN_DIR, as
// CommonJS) and then this script, which reads the plant of tests/odata_support.py (make_plant) through the
// generated PlantService and prints one STEP line per call.
//
// Settings: EMU_GEN_DIR (the generated code), EMU_SERVICE_URL (the service root, ending in /), EMU_TOKEN (a bearer
// token of the plant's tenant), EMU_IDS (JSON: site, cng1, cng2, lpg), plus common.mjs' EMU_* settings.

import path from "node:path";
import { createRequire } from "node:module";
import { done, env, message, runMode, step } from "./common.mjs";

const require = createRequire(import.meta.url);
const { FetchClient } = require("@odata2ts/http-client-fetch");
const { PlantService } = require(path.join(env("EMU_GEN_DIR"), "PlantService.js"));

const ids = JSON.parse(env("EMU_IDS"));
const TS = "TS_PowerConsumption_Power_CNGTurbine";
const AGGR = "AGGR_PowerConsumption_Power_LPGTurbine";

function service() {
    const client = new FetchClient({ headers: { Authorization: `Bearer ${env("EMU_TOKEN")}` } });
    return new PlantService(client, env("EMU_SERVICE_URL"));
}

// A request's own headers win over odata2ts' defaults (Accept: application/json).
const accept = (value) => ({ headers: { Accept: value } });
// What odata2ts' big-number mode sends (@odata2ts/odata-service RequestHeaders.BIG_NUMBERS_HEADERS: Int64 and
// Decimal as strings), which the service does not serve.
const BIG_NUMBERS = "application/json;IEEE754Compatible=true";

// What a rejected call carried: the HTTP status and the message odata2ts took from the OData error body.
async function refusal(call) {
    try {
        const answer = await call();
        return { rejected: false, status: answer.status };
    } catch (err) {
        return { rejected: true, status: err.status ?? null, message: message(err) };
    }
}

async function run() {
    const plant = service();

    const turbines = await plant.CNGTurbine().query((b, q) => b
        .select("assetId", "name")
        .filter(q.name.contains("Turbine"))
        .orderBy(q.name.desc())
        .top(2)
        .skip(1)
        .count());
    step("assetPage", { status: turbines.status, count: turbines.data["@odata.count"],
        names: turbines.data.value.map((t) => t.name), keys: Object.keys(turbines.data.value[0]) });

    const a = await plant.CNGTurbine(ids.cng1).query();
    step("assetByKey", { name: a.data.name, rating: a.data.rating, serial: a.data.Plate_serial,
        typeId: a.data.typeId });

    const base = await plant.LPGTurbine(ids.lpg).Base_CNGTurbine().query();
    const none = await plant.CNGTurbine(ids.cng1).Derived_LPGTurbine().query();
    step("navigation", { base: base.data.assetId, baseStatus: base.status, noneStatus: none.status,
        none: none.data ?? null });

    const expanded = await plant.LPGTurbine().query((b) => b
        .select("name")
        .expanding("Base_CNGTurbine", (eb) => eb.select("typeId")));
    step("expand", { value: expanded.data.value });

    const records = await plant[TS]().query((b, q) => b
        .filter(q.assetId.eq(ids.cng2), q.timestamp.gt("2024-03-01T00:30:00"), q.timestamp.le("2024-03-01T01:00:00"))
        .orderBy(q.timestamp.desc())
        .top(3)
        .count());
    step("timeSeries", { count: records.data["@odata.count"],
        rows: records.data.value.map((r) => [r.timestamp, r.current, r.current_qc, r.voltage, r.mode]) });

    const aggregates = await plant[AGGR]().query((b, q) => b
        .filter(q.assetId.eq(ids.lpg), q.intervalUnit.eq("minutes"), q.intervalValue.eq(60),
            q.timestamp.gt("2024-03-01T00:00:00"), q.timestamp.le("2024-03-01T02:00:00"),
            q.aggregationType.eq("average"), q.variableName.eq("current")));
    step("aggregates", { rows: aggregates.data.value.map((r) => [r.timestamp, r.value, r.intervalCount]) });

    step("notFilterable", await refusal(() => plant[TS]().query((b, q) => b.filter(q.voltage.eq(230)))));
    step("dateOnly", await refusal(() => plant[TS]().query((b, q) => b.filter(q.timestamp.gt("2024-03-01")))));
    step("bigNumbers", await refusal(() => plant.CNGTurbine().query(undefined, accept(BIG_NUMBERS))));
    const minimal = await plant.Site().query(undefined, accept("application/json;odata.metadata=minimal"));
    const full = await plant.Site().query(undefined, accept("application/json;odata.metadata=full"));
    step("formats", { minimal: minimal.data.value.map((s) => s.name),
        fullKeys: Object.keys(full.data.value[0]).slice(0, 2), contentType: full.headers["content-type"] });
    done();
}

await runMode({ run });
