// What the scripts in tests/sdk share: the SDK itself, the emulator settings the Python side passes in
// (tests/support/sdk.py, node_env): EMU_GATEWAY, EMU_TENANT, EMU_CLIENT_ID, EMU_CLIENT_SECRET, and the protocol
// towards it (one "<PREFIX> <json>" line per answer, "STEP <name> <json>" for the step scripts, exit code 1 with
// the stack on stderr for anything that throws). Kept in one place so that the Python parsers in
// tests/support/sdk.py (steps, NodeSession.expect) have exactly one producer to agree with.
// Importing this module throws if one of the settings is not set, before any request is made.

import { createRequire } from "node:module";

// The SDK is CommonJS; createRequire loads it the way its own docs show (require). This file sits next to
// the scripts, so it resolves the same tests/sdk/node_modules.
const require = createRequire(import.meta.url);
export const { MindSphereSdk } = require("@mindconnect/mindconnect-nodejs");

export function env(name) {
    const value = process.env[name];
    if (!value) {
        throw new Error(`${name} is not set`);
    }
    return value;
}

export const gateway = env("EMU_GATEWAY");
export const tenant = env("EMU_TENANT");
export const clientId = env("EMU_CLIENT_ID");
export const clientSecret = env("EMU_CLIENT_SECRET");

// The SDK's basicAuth option: "Basic " + base64("<client id>:<client secret>").
export function basicAuth(id, secret) {
    return "Basic " + Buffer.from(`${id}:${secret}`).toString("base64");
}

// An SDK object with the service credentials (the SDK's CredentialAuth: POST /oauth/token); `secret` only for
// the tests that must see a wrong one rejected.
export function serviceSdk(secret = clientSecret) {
    return new MindSphereSdk({ gateway, tenant, basicAuth: basicAuth(clientId, secret) });
}

// The message of whatever a rejected SDK call threw (the SDK rejects with Errors, but be safe with anything).
export function message(err) {
    return String(err && err.message ? err.message : err);
}

// One protocol line: "<prefix> <json>". The Python side reads only such lines, never free text.
export function emit(prefix, data) {
    console.log(`${prefix} ${JSON.stringify(data)}`);
}

// One "STEP <name> <json>" line (steps in tests/support/sdk.py): what a step of a step script did, for the test to assert on.
// A call that must be refused: its error message (the SDK only exposes "Network error occured <reason> <body>").
export async function refusal(call) {
    try {
        const result = await call();
        return { rejected: false, result: result ?? null };
    } catch (err) {
        return { rejected: true, message: message(err) };
    }
}

export function step(name, data) {
    emit(`STEP ${name}`, data);
}

// The end of a step script: "DONE {}", which run_steps in tests/support/sdk.py requires, so that a script that
// stopped early without an error is still caught.
export function done() {
    emit("DONE", {});
}

// Runs modes[process.argv[2]] (an async function). An unknown mode, or anything the mode throws, ends the script
// with the stack on stderr and exit code 1, which the Python side reports together with what was printed.
export async function runMode(modes) {
    const mode = process.argv[2];
    try {
        if (!Object.hasOwn(modes, mode)) {
            throw new Error(`unknown mode ${JSON.stringify(mode)} (${Object.keys(modes).join(", ")})`);
        }
        await modes[mode]();
    } catch (err) {
        console.error(err && err.stack ? err.stack : String(err));
        process.exitCode = 1;
    }
}
