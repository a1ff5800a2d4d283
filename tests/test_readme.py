"""The README's code blocks, run, so they can never drift from the emulator.

Every fenced block of the README is labelled: ```sh runnable / ```python runnable blocks are run here, a block
labelled ``sketch`` shows a shape and is not. The runnable shell blocks run in README order in one bash
session (a reader pastes them into one shell), under ``set -euo pipefail``; each runnable Python block runs as a
script of its own. They run against a live ``serve`` (gunicorn, with the simulated pump, as ``make run`` starts
it) in a fresh folder that has a ``.venv`` of this Python, as a checkout has after ``make run``; the server's
URL stands where the README says http://127.0.0.1:8080, and ``MDSP_EMU_URL`` names it for the commands that
default to that address.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from emulator.testing import ServerProcess, fetch_token

README = Path(__file__).resolve().parents[1] / "README.md"
SANDBOX_URL = "http://127.0.0.1:8080"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def fenced_blocks() -> list[tuple[int, list[str], str]]:
    """(line, info words, text) of every fenced block of the README."""
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, found.start()) + 1, found.group(1).split(), found.group(2))
            for found in FENCE.finditer(text)]


def runnable(language: str) -> list[tuple[int, str]]:
    return [(line, body) for line, info, body in fenced_blocks() if info[:1] == [language] and "runnable" in info]


def test_every_fenced_block_is_runnable_or_a_sketch():
    blocks = fenced_blocks()
    unlabelled = [(line, info) for line, info, _body in blocks if not {"runnable", "sketch"} & set(info)]
    assert unlabelled == [], "label each fenced block of README.md `runnable` (run by this file) or `sketch`"
    assert len(runnable("sh")) >= 7 and len(runnable("python")) >= 1  # the quick start's, at least
    assert all(info[0] in ("sh", "python") for _line, info, _body in blocks if "runnable" in info)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """``serve`` with the pump and a day of history, once the pump's last three hours are there."""
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path_factory.mktemp("sandbox")), "--pump",
                       "--backfill-days", "1") as srv:
        headers = {"Authorization": "Bearer " + fetch_token(srv.url, "emutenant-client", "emulator-secret")}
        assets = requests.get(f"{srv.url}/api/assetmanagement/v3/assets", headers=headers, timeout=10,
                              params={"filter": '{"name": "P-101"}'}).json()["_embedded"]["assets"]
        series = f"{srv.url}/api/iottimeseries/v3/timeseries/{assets[0]['assetId']}/PumpData"
        oldest = time.time() // 3600 * 3600 - 3 * 3600  # the README reads from three whole hours ago
        window = {"from": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(oldest)),
                  "to": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(oldest + 600))}
        deadline = time.monotonic() + 60
        while not requests.get(series, headers=headers, timeout=10, params=window).json():
            assert time.monotonic() < deadline, srv.output
            time.sleep(0.2)
        yield srv


@pytest.fixture
def shell_home(tmp_path) -> Path:
    """A folder like a checkout after ``make run``: ``.venv`` is this Python's environment."""
    (tmp_path / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    return tmp_path


def fresh_environment(url: str) -> dict:
    """A fresh shell's environment: none of our settings, no proxy between the examples and loopback."""
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith("MDSP_EMU_") and k.lower() not in ("http_proxy", "https_proxy")}
    return {**keep, "MDSP_EMU_URL": url}


def test_the_shell_blocks_run_as_written(sandbox, shell_home):
    blocks = runnable("sh")
    script = "set -euo pipefail\n" + "".join(f"echo '>>> README.md line {line}'\n{body}\n" for line, body in blocks)
    done = subprocess.run(["bash", "-c", script.replace(SANDBOX_URL, sandbox.url)], cwd=shell_home, text=True,
                          capture_output=True, env=fresh_environment(sandbox.url), timeout=300)
    shown = done.stdout[-4000:] + done.stderr[-2000:]
    assert done.returncode == 0, f"the block after the last '>>>' failed:\n{shown}"
    assert done.stdout.count(">>> README.md line") == len(blocks)
    out = done.stdout
    assert "acme reads the pump of emutenant: 404" in out
    assert "attempt 1: 503" in out and "attempt 2: 200" in out
    assert f"{sandbox.url}/odata/pumps/" in out and '"name":"P-101"' in out
    assert "published plant at" in out and (shell_home / "plant.xml").read_text().startswith("<?xml")


@pytest.mark.parametrize("line, body", runnable("python"), ids=lambda value: f"line {value}"
                         if isinstance(value, int) else "")
def test_the_python_blocks_run_as_written(sandbox, shell_home, line, body):
    script = shell_home / f"readme_line_{line}.py"
    script.write_text(body.replace(SANDBOX_URL, sandbox.url))
    done = subprocess.run([sys.executable, str(script)], cwd=shell_home, text=True, capture_output=True,
                          env=fresh_environment(sandbox.url), timeout=120)
    assert done.returncode == 0, f"README.md line {line}:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
