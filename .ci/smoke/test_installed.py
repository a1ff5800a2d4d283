"""The smoke suite: what a user installs is what works.

``.ci/smoke/run`` builds the wheel and the sdist, installs the wheel into a fresh virtualenv (not editable) and
runs this file with that virtualenv's Python, from a folder outside the checkout, so ``emulator`` can only come
from the installed wheel. It checks the distributions' contents, that ``serve`` answers and its pump has data,
that the command line works, that an app's own project uses the pytest plugin, that pytest still starts in a
project that does not use it, and that the installed dependencies agree (``pip check``).

Paths come from the runner: ``SMOKE_WHEEL``, ``SMOKE_SDIST`` and ``SMOKE_EXAMPLE`` (a copy of
``examples/pytest-project``).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
import requests

import emulator

BIN = Path(sys.executable).parent
CLI = str(BIN / "mindsphere-emulator")
SCENARIOS = {"blocked-discharge", "cavitation", "device-offline", "dry-running", "seal-wear", "sensor-drift",
             "sensor-dropout", "sensor-stuck"}
DATA_FILES = {"emulator/devices/data/asset-model.json", "emulator/devices/data/countries.json",
              *(f"emulator/devices/data/scenarios/{name}.yaml" for name in SCENARIOS),
              "emulator/dashboard/static/dashboard.css", "emulator/dashboard/static/dashboard.js",
              "emulator/dashboard/templates/dashboard/base.html", "emulator/dashboard/templates/dashboard/tenant.html"}
CLIENT = ("emutenant-client", "emulator-secret")


def env_without_emulator() -> dict:
    """The environment of a fresh shell: no MDSP_EMU_* setting, no proxy between us and loopback."""
    drop = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
    return {k: v for k, v in os.environ.items() if not k.startswith("MDSP_EMU_") and k not in drop}


def run(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env_without_emulator())


# --- what the distributions hold ---------------------------------------------------------------------------

def test_the_wheel_holds_every_package_and_the_data_the_program_reads():
    names = set(zipfile.ZipFile(os.environ["SMOKE_WHEEL"]).namelist())
    assert names >= DATA_FILES, sorted(DATA_FILES - names)
    code_folders = {str(Path(n).parent) for n in names if n.endswith(".py") and n.startswith("emulator/")}
    assert {f"{folder}/__init__.py" for folder in code_folders} <= names  # every folder of code is a package
    assert {n.split("/")[0] for n in names} == {"emulator", f"mindsphere_emulator-{emulator.__version__}.dist-info"}
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_the_sdist_holds_the_same_data_the_tests_and_the_examples():
    with tarfile.open(os.environ["SMOKE_SDIST"]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert names >= DATA_FILES, sorted(DATA_FILES - names)
    assert {"LICENSE", "README.md", "setup.cfg", "pyproject.toml", "conftest.py", "tests/test_cli_targets.py",
            "examples/pytest-project/tests/test_pump_monitor.py", "fixtures/scenarios/leak-then-outage.yaml"} <= names
    assert not [n for n in names if "node_modules" in n or "__pycache__" in n]


def test_the_installed_package_is_the_wheel_and_agrees_on_its_version():
    assert "site-packages" in emulator.__file__, emulator.__file__  # not a checkout, not an editable install
    assert importlib.metadata.version("mindsphere-emulator") == emulator.__version__
    assert emulator.__version__ in os.path.basename(os.environ["SMOKE_WHEEL"])
    done = run(CLI, "--version", cwd=Path.cwd())
    assert done.stdout.strip() == f"mindsphere-emulator {emulator.__version__}"


def test_pip_check_finds_the_dependencies_consistent():
    done = run(sys.executable, "-m", "pip", "check", cwd=Path.cwd())
    assert done.returncode == 0, done.stdout + done.stderr


# --- serve and the command line ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``mindsphere-emulator serve`` as a user starts it (gunicorn, the pump on, a day of history)."""
    home = tmp_path_factory.mktemp("served")
    proc = subprocess.Popen([CLI, "serve", "--port", "0", "--backfill-days", "1"], cwd=home, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env_without_emulator(),
                            start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 60
        port = None
        while port is None:
            line = proc.stdout.readline()
            assert line and time.monotonic() < deadline, "".join(lines)
            lines.append(line)
            found = re.match(r"\s+Port\s+(\d+)", line)
            port = int(found.group(1)) if found else None
        url = f"http://127.0.0.1:{port}"
        while requests.get(url + "/_emulator/health", timeout=5).status_code != 200:
            time.sleep(0.1)
        yield url, home, "".join(lines)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def bearer(url: str) -> dict:
    resp = requests.post(url + "/oauth/token", data={"grant_type": "client_credentials"}, auth=CLIENT, timeout=10)
    assert resp.status_code == 200, resp.text
    return {"Authorization": "Bearer " + resp.json()["access_token"]}


def test_serve_answers_and_its_pump_has_data(served):
    url, home, banner = served
    assert "MindSphere emulator" in banner and "Package would be ignored" not in banner
    health = requests.get(url + "/_emulator/health", timeout=10).json()
    assert health == {"status": "ok", "version": emulator.__version__}
    auth = bearer(url)
    found = requests.get(url + "/api/assetmanagement/v3/assets", params={"filter": '{"typeId": "emutenant.Pump"}'},
                         headers=auth, timeout=10).json()["_embedded"]["assets"]
    assert [p["name"] for p in found] == ["P-101"]
    series = f"{url}/api/iottimeseries/v3/timeseries/{found[0]['assetId']}/PumpData"
    now = time.time()
    deadline = time.monotonic() + 60
    while True:  # the newest day is written first, behind the running server
        records = requests.get(series, headers=auth, timeout=10, params={
            "from": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600)),
            "to": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}).json()
        if len(records) >= 300 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(records) >= 300 and {"Flow", "PressureIn", "MotorCurrent"} <= set(records[-1])
    assert (home / ".emulator-data" / "emulator.sqlite3").is_file()  # serve makes its store where it runs
    page = requests.get(f"{url}/_emulator/ui/tenants/emutenant/assets/{found[0]['assetId']}", timeout=30)
    assert page.status_code == 200 and "Aspect PumpData" in page.text  # the templates came with the wheel
    assert requests.get(url + "/_emulator/ui/static/dashboard.css", timeout=10).status_code == 200


def test_the_command_line_acts_on_the_running_server(served, tmp_path):
    url, _home, _banner = served
    token = run(CLI, "token", "--url", url, cwd=tmp_path)
    assert token.returncode == 0, token.stderr
    root = requests.get(url + "/api/assetmanagement/v3/assets/root", timeout=10,
                        headers={"Authorization": "Bearer " + token.stdout.strip()})
    assert root.status_code == 200
    seeded = run(CLI, "seed", "--url", url, "--pumps", "3", "--seed", "7", "--scenario", "cavitation", cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert "3 pumps (3 new, 1 new sites, 1 new pump stations)" in seeded.stdout
    created = run(CLI, "contract", "create", "plant", "--asset-type", "emutenant.Pump", "--publisher-email",
                  "me@example.com", "--url", url, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    published = run(CLI, "contract", "publish", "plant", "--url", url, cwd=tmp_path)
    assert published.stdout.strip() == f"published plant at {url}/odata/plant/", published.stderr
    exported = run(CLI, "snapshot", "export", "--file", "emutenant.json", "--url", url, cwd=tmp_path)
    assert exported.returncode == 0 and (tmp_path / "emutenant.json").stat().st_size > 1000, exported.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emutenant.json"]  # no .emulator-data here


def test_without_a_server_the_command_line_says_so_in_one_line(tmp_path):
    done = run(CLI, "contract", "list", "--url", "http://127.0.0.1:9", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().startswith("mindsphere-emulator: error: no emulator answers at http://127.0.0.1:9")
    assert list(tmp_path.iterdir()) == []


# --- pytest, with and without the plugin -------------------------------------------------------------------

def run_example(tmp_path: Path, *args: str) -> str:
    project = tmp_path / "pytest-project"
    shutil.copytree(os.environ["SMOKE_EXAMPLE"], project)
    done = run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args, cwd=project, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b6 passed\b", done.stdout) and "failed" not in done.stdout, done.stdout
    return done.stdout


def test_an_apps_own_project_uses_the_plugin(tmp_path):
    run_example(tmp_path)  # the plugin starts an emulator in the test process


def test_an_apps_own_project_runs_against_a_shared_server(served, tmp_path):
    url, _home, _banner = served
    run_example(tmp_path, "--mindsphere-url", url)  # the CI-backend way: one server, a tenant per test


def test_pytest_starts_in_a_project_that_does_not_use_the_plugin(tmp_path):
    (tmp_path / "test_plain.py").write_text("def test_arithmetic():\n    assert 1 + 1 == 2\n")
    done = run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", cwd=tmp_path)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr
    options = run(sys.executable, "-m", "pytest", "--help", cwd=tmp_path)
    assert "--mindsphere-url" in options.stdout  # the plugin is loaded, and stays out of the way
