"""Siemens' Node SDK (``@mindconnect/mindconnect-nodejs`` 3.24.2) drives IoT File Service v3.

``tests/sdk/iotfiles.mjs`` uploads with ``UploadFile`` (the SDK's single-request path), ``PutFile`` (its raw
headers) and ``UploadFile`` with ``chunk`` (a multipart upload: start, part 1, complete), searches with the
unquoted filter of the SDK's own test, downloads and deletes; the tests here check what it printed. Without node
or the npm packages the tests skip locally but fail in CI, see tests/support/sdk.py.
"""

from __future__ import annotations

import hashlib

import pytest

from tests.support import sdk

pytestmark = pytest.mark.node

SCRIPT = sdk.SDK_DIR / "iotfiles.mjs"


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory) -> dict:
    return sdk.run_on_fresh_emulator(tmp_path_factory, SCRIPT, "lifecycle")


def test_files_through_the_sdk(request):
    steps = sdk.after_sdk_check(request, "lifecycle")
    assert steps["uploadFile"] == {"md5": hashlib.md5(b"xyz").hexdigest()}, steps["uploadFile"]  # noqa: S324
    assert steps["putFile"] == {"etag": "0"}, steps["putFile"]
    assert steps["getFiles"] == [{"name": "a.txt", "path": "unit/test/", "size": 3, "type": "text/plain",
                                  "description": "blubb", "etag": 0}], steps["getFiles"]
    assert steps["listFiles"] == {"names": ["unit/test/b.txt", "unit/test/a.txt"]}, steps["listFiles"]
    assert steps["getFile"] == {"status": 200, "text": "xyz"}, steps["getFile"]
    big = bytes([7]) * (8 * 1024 * 1024 + 1)
    assert steps["multipart"] == {"md5": hashlib.md5(big).hexdigest(), "size": len(big),  # noqa: S324
                                  "type": "application/x-big", "etag": 0}, steps["multipart"]
    deleted = steps["deleted"]
    assert deleted["rejected"] and "unit/test/a.txt" in deleted["message"], deleted
