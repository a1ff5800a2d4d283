"""Schema-driven fuzzing: schemathesis generates requests for every operation of the emulator's own
OpenAPI document (``/_emulator/openapi.json``) and checks each answer with all its default checks:
never a 5xx (no fault is injected here); status, content type, headers and body as the document says;
schema-valid data not refused, schema-violating data refused, 401 without credentials, 405 with
``Allow`` for an undocumented method.

The tenant has a small plant and a published Data Hub contract (``plant``, the document's example of a
contract name), so the OData operations reach real entity sets, not only 404s. Hypothesis runs
derandomized: the same requests on every run, so CI cannot flake on a lucky draw.
"""

from __future__ import annotations

import calendar
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import allow_header_conformance, positive_data_acceptance

from emulator import errors
from emulator.control.openapi import build
from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, fetch_token
from emulator.times import TIME_PATTERN, ZONED_TIME_PATTERN, parse_instant
from tests.support.odata import make_plant, publish_contract
from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, ASSETS
from tests.support.tenants import create_tenant

EXAMPLES = 10  # per operation, in the fuzzing phase; the examples and coverage phases add ~50 each (~4600 in all)

# A check that cannot apply to one operation, and why. Each of these refuses some schema-valid requests (400)
# for a reason a JSON schema cannot state: another parameter, the caller's tenant or what the store holds.
EXCLUDED = {
    # grant_type comes in the form body or in the query (Mendix's TokenURL): one of the two, which a schema cannot say
    ("POST", "/oauth/token"): [positive_data_acceptance],
    # the id is '{the token's tenant}.{the body's name}'; a default value must parse as its variable's dataType
    ("PUT", f"{ASPECT_TYPES}/{{type_id}}"): [positive_data_acceptance],
    # as above, and parentTypeId and the aspects' aspectTypeId name existing types
    ("PUT", f"{ASSET_TYPES}/{{type_id}}"): [positive_data_acceptance],
    # typeId and parentId name an existing asset type and asset (400 when they do not, as MindSphere answers)
    ("POST", ASSETS): [positive_data_acceptance],
    # assetTypeIds name existing asset types of the tenant
    ("POST", "/_emulator/contracts"): [positive_data_acceptance],
    # scenario names a built-in scenario or a scenario file on the server
    ("POST", "/_emulator/tenants/{name}/pumps"): [positive_data_acceptance],
    # a snapshot is what GET /_emulator/snapshots/{name} exported: its rows must fit the store's tables
    ("POST", "/_emulator/snapshots"): [positive_data_acceptance],
    # $filter, $orderby, $select and $expand are OData expressions over the entity set's properties ($metadata)
    ("GET", "/odata/{contract}/{resource}"): [positive_data_acceptance],
    # the same query options, in the body of {Set}/$query
    ("POST", "/odata/{contract}/{resource}"): [positive_data_acceptance],
}


def excluded(case) -> list:
    out = list(EXCLUDED.get((case.method.upper(), case.path), []))
    if not any(status.startswith("2") for status in case.operation.definition.raw["responses"]):
        # Documented only to say that it is refused (the writes to the read-only OData services: 405): no request
        # is "valid data" for it.
        out.append(positive_data_acceptance)
    if case.path.startswith("/odata/"):
        # OPTIONS answers Allow: GET, HEAD (the methods that work), while the document also lists the refused
        # writes (every route is documented, tests/test_openapi.py): Allow cannot name every documented method.
        out.append(allow_header_conformance)
    return out


# Control-plane operations whose effect would reach the other operations (a fault rule, a quota, the clock):
# undone after each call.
UNDO = {
    "/_emulator/faults": ("DELETE", "/_emulator/faults", None),
    "/_emulator/ratelimits": ("DELETE", "/_emulator/ratelimits", None),
    "/_emulator/clock": ("PUT", "/_emulator/clock", {"mode": "real"}),
    "/_emulator/clock/advance": ("PUT", "/_emulator/clock", {"mode": "real"}),
    "/_emulator/snapshots": ("PUT", "/_emulator/clock", {"mode": "real"}),  # an imported snapshot sets its clock
}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite3'}"
    with LiveServer(Settings(database_url=url)) as server, ApiSession(server.url) as admin:
        tenant = create_tenant(admin, prefix="f")
        client = tenant["clients"][0]
        token = fetch_token(server.url, client["clientId"], client["clientSecret"])
        with ApiSession(server.url, token) as api:
            make_plant(api, tenant)
            publish_contract(api, tenant)  # "plant": the document's example contract name
        yield server, admin, f"Bearer {token}"


# The document as the server serves it, built without one (the base URL is given per call below).
schema = schemathesis.openapi.from_dict(build("http://127.0.0.1"))
PLACEHOLDER = "Bearer <the tenant's token>"  # cases are made at collection, before the server runs: replaced when sent


@schema.auth(refresh_interval=None).apply_to(path_regex=r"^/(api/(assetmanagement|iottimeseries|iottsaggregates)/"
                                                        r"|odata/|_emulator/contracts)")
class TenantToken:
    """The tenant's token on the operations that take one (bearerAuth) as schemathesis' own auth, so that a case
    leaving Authorization out on purpose goes without it (and must answer 401)."""

    def get(self, case, context):
        return PLACEHOLDER

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": data}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, live):
    server, admin, bearer = live
    if case.path == "/_emulator/reset":
        pytest.skip("a reset would pull the ground (the tenant, its token, its plant) from under the other operations")
    if case.headers and case.headers.get("Authorization") == PLACEHOLDER:
        case.headers["Authorization"] = bearer
    try:
        case.call_and_validate(base_url=server.url, excluded_checks=excluded(case))
    finally:
        if case.path in UNDO:
            method, path, body = UNDO[case.path]
            admin.request(method, path, json=body)


@pytest.mark.parametrize("year", [1, 1969, 1970, 1972, 1982, 2000, 2024, 2100, 2400, 8996, 8999, 9000, 9999])
def test_the_time_patterns_take_what_the_emulator_takes(year):
    """The document's time patterns (a regular expression of the calendar) and parse_instant agree."""
    patterns = {True: re.compile(ZONED_TIME_PATTERN), False: re.compile(TIME_PATTERN)}
    for month in range(0, 14):
        for day in (0, 1, 28, 29, 30, 31, 32):
            for tail in ("", "Z", "T23", "T00:00+05:00", "T12:30:59.5-0530", "T24:00Z", "T10:60Z", "+01:00"):
                text = f"{year:04d}-{month:02d}-{day:02d}{tail}"
                for zone_required, pattern in patterns.items():
                    try:
                        parse_instant(text, zone_required=zone_required)
                        taken = True
                    except errors.ApiError:
                        taken = False
                    assert taken == bool(pattern.match(text)), (text, zone_required, taken)
    assert bool(patterns[True].match(f"{year:04d}-02-29T00:00Z")) == (calendar.isleap(year) and 1970 <= year <= 8999)
