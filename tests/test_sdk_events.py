"""Siemens' Node SDK (``@mindconnect/mindconnect-nodejs`` 3.24.2) drives Event Management v3.

``tests/sdk/events.mjs`` creates an event type (after looking it up by name, as the SDK's agent test does),
patches it with the SDK's PUT, posts standard and custom events for the root asset, corrects one with
``If-Match``, lists and filters them, and deletes the type; the tests here check what it printed. Without node
or the npm packages the tests skip locally but fail in CI (``CI`` set), see tests/support/sdk.py.
"""

from __future__ import annotations

import pytest

from tests.support import sdk

pytestmark = pytest.mark.node

SCRIPT = sdk.SDK_DIR / "events.mjs"
TYPE_ID = f"{sdk.TENANT}.SdkPumpEvent"
STANDARD = "com.siemens.mindsphere.eventmgmt.event.type.MindSphereStandardEvent"


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory) -> dict:
    return sdk.run_on_fresh_emulator(tmp_path_factory, SCRIPT, "lifecycle")


def test_event_types_through_the_sdk(request):
    steps = sdk.after_sdk_check(request, "lifecycle")
    assert {"self", "events", "eventTypes"} <= set(steps["billboard"]["keys"]), steps["billboard"]
    assert steps["lookupType"] == {"hasEmbedded": False}  # the agent test's "no such type" check
    assert steps["postType"] == {"id": TYPE_ID, "etag": 0, "parentId": STANDARD}, steps["postType"]
    assert steps["patchType"] == {"scope": "GLOBAL", "etag": 1}, steps["patchType"]
    assert steps["listTypes"] == {"ids": [TYPE_ID]}, steps["listTypes"]
    assert steps["deletedType"]["rejected"] and TYPE_ID in steps["deletedType"]["message"], steps["deletedType"]


def test_events_through_the_sdk(request):
    steps = sdk.after_sdk_check(request, "lifecycle")
    assert steps["postEvents"] == {"etags": [1, 1, 1], "typeIds": [STANDARD] * 3}, steps["postEvents"]
    assert steps["postCustom"] == {"typeId": TYPE_ID, "temperature": 23.7}, steps["postCustom"]
    assert steps["getEvent"]["code"] == "C0" and steps["getEvent"]["etag"] == 1, steps["getEvent"]
    assert steps["putEvent"] == {"acknowledged": True, "etag": 2}, steps["putEvent"]
    stale = steps["stalePut"]
    assert stale["rejected"] and "precondition failed" in stale["message"].lower(), stale
    assert steps["listAll"]["codes"] == ["T", "C2", "C1", "C0"], steps["listAll"]
    assert steps["listErrors"]["codes"] == ["C1"], steps["listErrors"]
    assert steps["listCustom"]["codes"] == ["T"], steps["listCustom"]
    page = steps["pageOne"]
    assert page["codes"] == ["C2", "T"] and page["page"]["totalElements"] == 4, page
    unknown = steps["unknownEvent"]
    assert unknown["rejected"] and "no-such-event" in unknown["message"], unknown
