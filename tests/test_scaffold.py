"""``make new-api``: a new API is one folder and one registry line, and it is complete from the start.

In a temporary copy of the project the scaffold renders a stand-in API (``widgets``); the test then checks that
nothing outside ``emulator/widgets/``, its test file and one added line of ``emulator/registry.py`` changed,
serves the copy with ``mindsphere-emulator serve`` and finds the new API served, scoped, listed in capabilities
and the OpenAPI document, matched by fault rules, journaled and part of a tenant's snapshot; last, the rendered
test file passes against the copy. The copy is discarded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from emulator.testing import ServerProcess, fetch_token

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("emulator", "tests", "tools", "conftest.py", "setup.cfg", "ruff.toml")
BASE = "/api/widgets/v3"


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    ignore = shutil.ignore_patterns("__pycache__", "node_modules", ".hypothesis")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)
    before = _tree(root)
    registry_before = (root / "emulator" / "registry.py").read_text().splitlines()
    done = subprocess.run([sys.executable, "tools/new_api.py", "widgets", "--root", str(root)], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    after = _tree(root)
    changed = {path for path in after if before.get(path) != after[path]} | (set(before) - set(after))
    assert changed == {"emulator/registry.py", "tests/test_widgets.py",
                       *(f"emulator/widgets/{f}" for f in ("__init__.py", "models.py", "routes.py", "service.py",
                                                           "spec.py"))}
    registry_after = (root / "emulator" / "registry.py").read_text().splitlines()
    added = [line for line in registry_after if line not in registry_before]
    assert added == ['    "emulator.widgets",'] and len(registry_after) == len(registry_before) + 1
    return root


@pytest.fixture(scope="module")
def served(project):
    env = {"PYTHONPATH": str(project), "MDSP_EMU_DATA_DIR": str(project / "data")}
    with ServerProcess("--port", "0", "--workers", "1", env=env, cwd=project) as server:
        yield server


def test_the_scaffolded_api_is_served_scoped_documented_and_journaled(served):
    token = fetch_token(served.url, "emutenant-client", "emulator-secret")
    auth = {"Authorization": f"Bearer {token}"}
    created = requests.post(served.url + BASE + "/items", json={"name": "w1"}, headers=auth, timeout=30)
    assert created.status_code == 201, created.text
    assert requests.get(served.url + BASE + "/items", headers=auth, timeout=30).json()["_embedded"]["items"] == [
        created.json()]
    assert requests.get(served.url + BASE + "/items", timeout=30).status_code == 401  # protected: a token

    capabilities = requests.get(served.url + "/_emulator/capabilities", timeout=30).json()
    assert "widgets" in [api["name"] for api in capabilities["apis"]]
    assert capabilities["scopes"]["apis"]["widgets"] == {"r": "mdsp.widgets.r", "w": "mdsp.widgets.w",
                                                         "d": "mdsp.widgets.d"}
    doc = requests.get(served.url + "/_emulator/openapi.json", timeout=30).json()
    assert set(doc["paths"][BASE + "/items"]) == {"get", "post"}
    assert doc["paths"][BASE + "/items/{item_id}"]["delete"]["operationId"] == "widgets.delete_item"
    assert "WidgetsItem" in doc["components"]["schemas"]

    rule = requests.post(served.url + "/_emulator/faults", json={"match": {"api": "widgets"},
                                                                 "effect": {"status": 503}, "times": 1}, timeout=30)
    assert rule.status_code == 201, rule.text
    failed = requests.get(served.url + BASE + "/items", headers=auth, timeout=30)
    assert failed.status_code == 503 and failed.json()["errors"][0]["code"]
    journal = requests.get(served.url + "/_emulator/journal", params={"path": BASE + "/*"}, timeout=30).json()
    assert [entry["status"] for entry in journal["entries"]] == [201, 200, 401, 503]

    snapshot = requests.get(served.url + "/_emulator/snapshots/emutenant", timeout=30).json()
    assert [row["name"] for row in snapshot["tables"]["widgets_items"]] == ["w1"]  # tenant data: reset, deleted


def test_the_rendered_test_file_passes(project):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "MDSP_EMU_TEST_POSTGRES_URL")}
    env["PYTHONPATH"] = str(project)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_widgets.py"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
