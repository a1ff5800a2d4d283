// Drives Siemens' Node SDK (@mindconnect/mindconnect-nodejs, pinned in package.json) through IoT File Service v3
// against a running emulator, as the SDK's own "PUT AND GET" test does: UploadFile (its single-request path),
// PutFile with the raw headers, a chunked UploadFile (multipart), GetFiles with an unquoted filter, GetFile, DeleteFile. By hand:
//
//   EMU_GATEWAY=http://127.0.0.1:8080 EMU_TENANT=emutenant EMU_CLIENT_ID=... EMU_CLIENT_SECRET=... \
//     node tests/sdk/iotfiles.mjs lifecycle
//
// Protocol (stdout): one "STEP <name> <json>" line per step, then "DONE {}" (see common.mjs).

import { done, message, refusal, runMode, serviceSdk, step } from "./common.mjs";

async function lifecycle() {
    const sdk = serviceSdk();
    const files = sdk.GetIoTFileClient();
    const root = await sdk.GetAssetManagementClient().GetRootAsset();
    const entity = root.assetId;

    const md5 = await files.UploadFile(entity, "unit/test/a.txt", Buffer.from("xyz"),
        { description: "blubb", type: "text/plain" });
    step("uploadFile", { md5 });
    const put = await files.PutFile(entity, "unit/test/b.txt", Buffer.from("abcd"),
        { description: "raw", type: "text/plain" });
    step("putFile", { etag: put.get("etag") });

    const found = await files.GetFiles(entity, { filter: "name eq a.txt and path eq unit/test/" });
    step("getFiles", found.map((f) => ({ name: f.name, path: f.path, size: f.size, type: f.type,
                                          description: f.description, etag: f.etag })));
    const all = await files.GetFiles(entity, { filter: "path eq unit/test/", order: "name desc" });
    step("listFiles", { names: all.map((f) => `${f.path}${f.name}`) });

    const download = await files.GetFile(entity, "unit/test/a.txt");
    step("getFile", { status: download.status, text: await download.text() });

    // a multipart upload as the SDK splits it: 8 MiB + 1 B -> upload=start, part=1 (8 MiB), upload=complete (1 B)
    const big = Buffer.alloc(8 * 1024 * 1024 + 1, 7);
    const bigMd5 = await files.UploadFile(entity, "unit/test/big.bin", big, { chunk: true, type: "application/x-big" });
    const [bigFile] = await files.GetFiles(entity, { filter: "name eq big.bin" });
    step("multipart", { md5: bigMd5, size: bigFile.size, type: bigFile.type, etag: bigFile.etag });

    await files.DeleteFile(entity, "unit/test/a.txt");
    step("deleted", await refusal(() => files.GetFile(entity, "unit/test/a.txt")));
    done();
}

await runMode({ lifecycle });
