"""odata2ts (npm ``@odata2ts/odata2ts`` 0.34.0), a client generated from a published contract's ``$metadata``, reads
the Data Hub service: a third OData client, independent of the two Python ones (tests/test_odata_clients.py), and
the first that builds its code from the contract the way a Mendix app builds its domain model from it.

The test downloads ``$metadata`` of the plant (tests/support/odata.py), runs the generator on it (service mode,
emitted as CommonJS JavaScript through the pinned TypeScript), and then ``tests/sdk/odata2ts.mjs``, which drives
the generated ``PlantService`` over odata2ts' fetch client: a filtered, sorted, paged and counted asset query with
``$select``, an entity by key, both ends of the derived/base association (one of them empty: 204), ``$expand``
with a nested ``$select``, time series and aggregates within MindSphere's limits, and three refusals (a
property outside the limits, a date-only time, odata2ts' big-number Accept ``IEEE754Compatible=true``),
each as odata2ts reports it, and the format parameters ``odata.metadata=minimal`` and ``full`` in ``Accept``.
The generator and the runtime come from ``tests/sdk/node_modules`` (``npm ci --prefix tests/sdk``, ``make
sdk``): nothing is fetched while the test runs.

Without node or the npm packages the test skips locally but fails in CI (``CI`` set), see tests/support/sdk.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from datetime import timedelta
from urllib.parse import unquote

import pytest

from tests.support import sdk as support
from tests.support.odata import START, make_plant, publish_contract, stamp

pytestmark = pytest.mark.node

GENERATOR_VERSION = "0.34.0"
GENERATOR = support.SDK_DIR / "node_modules" / "@odata2ts" / "odata2ts"
SCRIPT = support.SDK_DIR / "odata2ts.mjs"
TSCONFIG = {"compilerOptions": {"target": "ES2022", "module": "CommonJS", "moduleResolution": "node",
                                "esModuleInterop": True, "skipLibCheck": True}}



def require_generator() -> str:
    """The node executable, once the pinned odata2ts is installed in tests/sdk/node_modules (called first thing
    in each test, as tests/support/sdk.py's require_sdk is: in CI a missing package is a test failure, not a setup
    error)."""
    node = shutil.which("node")
    if node is None:
        support.unavailable("node is not on PATH; install Node.js >= 18 to run the odata2ts test")
    package = GENERATOR / "package.json"
    if not package.is_file():
        support.unavailable("@odata2ts/odata2ts is not installed in tests/sdk/node_modules; run `npm ci --prefix "
                            "tests/sdk`")
    installed = json.loads(package.read_text(encoding="utf-8"))["version"]
    if installed != GENERATOR_VERSION:
        pytest.fail(f"tests/sdk has @odata2ts/odata2ts {installed}, expected {GENERATOR_VERSION}; run `npm ci "
                    "--prefix tests/sdk`", pytrace=False)
    return node


def generate(node: str, work, metadata: bytes) -> list[str]:
    """Run the generator on ``metadata`` in ``work``; the names of the files it wrote."""
    (work / "metadata.xml").write_bytes(metadata)
    (work / "tsconfig.json").write_text(json.dumps(TSCONFIG), encoding="utf-8")
    os.symlink(support.SDK_DIR / "node_modules", work / "node_modules")  # the generated code's imports resolve here
    proc = subprocess.run([node, str(GENERATOR / "lib" / "run-cli.js"), "-s", "metadata.xml", "-o", "gen",
                           "-m", "service", "-e", "js", "-name", "Plant", "-t", "tsconfig.json"],
                          capture_output=True, text=True, cwd=work, env=support.base_env(),
                          timeout=support.NODE_TIMEOUT, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and "Successfully finished" in proc.stdout, proc.stdout + proc.stderr
    return sorted(p.name for p in (work / "gen").iterdir())


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict:
    """A ``serve`` process with the plant and its published contract; the client generated from its $metadata,
    what odata2ts.mjs printed driving it, and the journal of the requests it sent."""
    node = require_generator()
    with support.emulator_server(tmp_path_factory.mktemp("odata2ts-server")) as server, \
            support.api_session(server.url) as api:
        tenant = next(t for t in api.get("/_emulator/tenants").json()["tenants"] if t["name"] == support.TENANT)
        ids = make_plant(api, tenant)
        publish_contract(api, tenant)
        work = tmp_path_factory.mktemp("odata2ts")
        files = generate(node, work, api.get("/odata/plant/$metadata").content)
        env = support.node_env(server.url)
        env.update(EMU_GEN_DIR=str(work / "gen"), EMU_SERVICE_URL=f"{server.url}/odata/plant/",
                   EMU_TOKEN=api.headers["Authorization"].removeprefix("Bearer "), EMU_IDS=json.dumps(ids))
        steps = support.run_steps(node, SCRIPT, "run", env)
        time.sleep(0.5)  # journal entries reach the store within a quarter of a second
        journal = api.get("/_emulator/journal", params={"tenant": support.TENANT, "path": "/odata/plant/*"})
    return {"files": files, "steps": steps, "ids": ids, "journal": journal.json()["entries"]}


def result(request) -> dict:
    require_generator()
    return request.getfixturevalue("generated")


def at(minute: int) -> str:
    return stamp(START + timedelta(minutes=minute))


def test_the_generator_builds_a_client_from_the_metadata(request):
    assert result(request)["files"] == ["PlantModel.js", "PlantService.js", "QPlant.js"]


def test_generated_client_queries_assets(request):
    steps = result(request)["steps"]
    assert steps["assetPage"] == {"status": 200, "count": 3, "names": ["Turbine B", "Turbine A"],
                                  "keys": ["assetId", "name"]}
    assert steps["assetByKey"] == {"name": "Turbine A", "rating": 5.5, "serial": "SN-1",
                                   "typeId": f"{support.TENANT}.CNGTurbine"}


def test_generated_client_follows_the_association(request):
    found = result(request)
    assert found["steps"]["navigation"] == {"base": found["ids"]["lpg"], "baseStatus": 200, "noneStatus": 204,
                                            "none": None}
    assert found["steps"]["expand"] == {"value": [{"name": "Turbine C",
                                                   "Base_CNGTurbine": {"typeId": f"{support.TENANT}.LPGTurbine"}}]}


def test_generated_client_reads_time_series_and_aggregates(request):
    steps = result(request)["steps"]
    # Turbine B: current = 100 + minute - 1, quality code 0, voltage 231, one record a minute
    assert steps["timeSeries"] == {"count": 30, "rows": [[at(m), 99.0 + m, 0, 231, "run"] for m in (60, 59, 58)]}
    # Turbine C: current = 200 + minute - 1; the averages of minutes 1..60 and 61..120
    assert steps["aggregates"] == {"rows": [[at(0), 229.5, 2], [at(60), 289.5, 2]]}


def test_generated_client_reports_refusals_with_the_services_message(request):
    steps = result(request)["steps"]
    assert steps["notFilterable"]["status"] == 400
    assert "cannot be filtered by 'voltage'" in steps["notFilterable"]["message"]
    assert steps["dateOnly"]["status"] == 400 and "'YYYY-MM-DDTHH:mm:ss'" in steps["dateOnly"]["message"]
    assert steps["bigNumbers"]["status"] == 406 and "IEEE754Compatible" in steps["bigNumbers"]["message"]


def test_generated_client_with_format_parameters(request):
    """The JSON format parameters in Accept (JSON format 3): minimal as without, full with @odata.type and id."""
    assert result(request)["steps"]["formats"] == {
        "minimal": ["Plant North"], "fullKeys": ["@odata.type", "@odata.id"],
        "contentType": "application/json;odata.metadata=full;odata.streaming=true;IEEE754Compatible=false"}


def test_what_the_generated_client_sent(request):
    """The journal holds what odata2ts wrote: $select, a contains() filter, $orderby, $top/$skip, $count=true and
    an $expand with a nested $select, each answered as the steps above show, none by a 5xx."""
    entries = result(request)["journal"]
    queries = [unquote(e["query"] or "") for e in entries]
    assert any("$filter=contains(name,'Turbine')" in q and "$count=true" in q and "$top=2" in q and "$skip=1" in q
               for q in queries), queries
    assert any("$expand=Base_CNGTurbine($select=typeId)" in q for q in queries), queries
    assert all(e["status"] < 500 for e in entries), entries
