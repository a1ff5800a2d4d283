"""IoT File Service v3's contract (its OpenAPI fragment), written once beside its routes; queries are validated
from it (:mod:`emulator.validation`); the upload's body is raw bytes (``application/octet-stream``)."""

from __future__ import annotations

from emulator import limits
from emulator.spec import (
    NO_CONTENT,
    NO_NUL_PATTERN,
    array,
    flag,
    header,
    integer,
    make_fragment,
    obj,
    ok,
    operations,
    path,
    query,
    string,
)

BASE = "/api/iotfile/v3"


def fragment(admin_token: bool = False) -> dict:
    op = operations("iotfiles", "IoT File Service v3", "core")
    entity = path("entity_id", string(pattern=limits.ASSET_ID_PATTERN), "The asset the files belong to")
    filepath = path("filepath", string(pattern=NO_NUL_PATTERN, maxLength=limits.IOTFILE_PATH_MAX),
                    "The file's path, `/` separating directories (sent unencoded)")
    etag = {"ETag": {"description": "The file's etag, a bare integer (`0` for a new file)", "schema": string()}}
    item = obj({"name": string(), "path": string(description="The directory, with a trailing slash"),
                "type": string(), "size": integer(), "timestamp": string(), "created": string(),
                "updated": string(), "createdBy": string(), "updatedBy": string(),
                "description": string(nullable=True), "etag": integer()}, "all")
    texts = {name: header(name, string(maxLength=limits.IOTFILE_HEADER_MAX), what) for name, what in (
        ("type", "The MIME type to store"), ("description", "A description"),
        ("timestamp", "The file's time (ISO-8601)"))}
    upload = [entity, filepath, *texts.values(),
              header("If-Match", string(), "The file's etag: required to overwrite it (missing: 409, stale: 412)"),
              query("part", integer(minimum=1, maximum=limits.IOTFILE_MAX_PARTS),
                    f"Multipart: part N (at least {limits.IOTFILE_MIN_PART_BYTES} bytes)"),
              query("upload", string(enum=["start", "complete", "abort"]),
                    "Multipart: start, complete (with the last part, any size; parts 1..n contiguous), abort")]
    part = obj({"objectKey": string(), "partNo": integer(), "created": integer(description="UTC ms"),
                "size": integer()}, "all")
    return make_fragment({
        f"{BASE}/fileslist/{{entity_id}}/{{filepath}}": {
            "get": op("list_parts", "The parts of an unfinished multipart upload",
                      {"200": ok("The parts", array(part))}, 400, 404, params=[entity, filepath]),
        },
        f"{BASE}/files/{{entity_id}}": {
            "get": op("search_files", "Search the entity's files", {"200": ok("The files (a JSON array)",
                      array(item), {"count": {"description": "The number of matches (count=true)",
                                              "schema": string()}})}, 404,
                      params=[entity,
                              query("filter", string(pattern=NO_NUL_PATTERN, maxLength=limits.FILTER_MAX_CHARS),
                                    "`name eq a.txt and path eq dir/`: eq gt gte lt lte (= > >= < <=) on name, "
                                    "path, updated; `*` a wildcard; malformed conditions are ignored"),
                              query("offset", integer(minimum=0, maximum=limits.IOTFILE_MAX_OFFSET), "Skip"),
                              query("limit", integer(minimum=1, maximum=limits.IOTFILE_MAX_LIMIT),
                                    f"At most {limits.IOTFILE_MAX_LIMIT}"),
                              query("count", flag(), "`true`: the total in the `count` header"),
                              query("order", string(pattern=NO_NUL_PATTERN, maxLength=64),
                                    "name, path or updated, optionally ` asc`/` desc`")]),
        },
        f"{BASE}/files/{{entity_id}}/{{filepath}}": {
            "put": op("put_file", "Upload a file (a single request)",
                      {"200": ok("Overwritten", headers=etag), "201": ok("Created", headers=etag)},
                      400, 404, 409, 412, 413, params=upload,
                      body={"required": False, "content": {"application/octet-stream": {
                          "schema": string(description="The file's bytes")}}}),
            "get": op("get_file", "Download a file (or a range of it)", {
                "200": ok("The file's bytes, as its stored type", headers=etag),
                "206": ok("The range's bytes", headers={**etag, "Content-Range": {
                    "description": "bytes first-last/size", "schema": string()}})}, 400, 404, 416,
                notes={416: "The range lies outside the file (Content-Range: bytes */size)"},
                params=[entity, filepath, header("Range", string(maxLength=100), "`bytes=200-600`, one range")]),
            "delete": op("delete_file", "Delete a file", {"204": NO_CONTENT}, 404, params=[entity, filepath]),
        },
    })
