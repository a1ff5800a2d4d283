// What tests/sdk/auth.mjs and tests/sdk/assets.mjs share: the SDK itself and the emulator settings the Python
// side passes in (tests/sdk_support.py, node_env): EMU_GATEWAY, EMU_TENANT, EMU_CLIENT_ID, EMU_CLIENT_SECRET.
// Importing this module throws if one of them is not set, before any request is made.

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
