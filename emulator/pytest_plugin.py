"""The pytest plugin (registered through the ``pytest11`` entry point: installing the package is enough).

Fixtures:

* ``mindsphere`` (session): the emulator. Started in a thread on a free port over an in-memory store,
  or, with ``--mindsphere-url URL`` or ``MDSP_EMU_URL``, an emulator already running (a CI backend
  shared by many test jobs). ``.url``, ``.gateway`` (what Siemens' SDKs take), ``.admin`` (a session
  on the control plane), ``.new_tenant()``.
* ``mindsphere_tenant`` (function): a fresh tenant with its own client credentials and root asset, so
  tests never see each other's data and run in parallel (pytest-xdist) against one server. Deleted
  after the test, with its fault rules; a clock the test moved is set back to real time.
* ``mindsphere_client`` (function): a ``requests.Session`` of that tenant with a valid bearer token and
  the base URL: ``mindsphere_client.get("/api/assetmanagement/v3/assets/root")``.

The tenant carries the control-plane helpers, scoped to it: ``faults.inject(...)`` (a context manager),
``clock.freeze(...)``/``clock.advance(...)``, ``journal(...)``, ``pump(...)``, ``raise_event(...)``,
``events(...)`` and ``agent(...)`` (an onboarded MindConnect agent mapped onto an asset's aspect).

What the fixtures hand out (:mod:`emulator.mindsphere`) is imported when a test first asks for one of them: pytest
imports this module in every run of every project where the package is installed, and the emulator's stack
(Flask, SQLAlchemy, PyJWT with cryptography, requests) took half a second of each run's start.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from emulator import collector

if TYPE_CHECKING:
    from emulator.mindsphere import Tenant
    from emulator.testing import ApiSession, LiveServer

URL_ENV = "MDSP_EMU_URL"
ADMIN_TOKEN_ENV = "MDSP_EMU_ADMIN_TOKEN"


def pytest_addoption(parser) -> None:
    group = parser.getgroup("mindsphere", "MindSphere emulator")
    group.addoption("--mindsphere-url", default=None,
                    help=f"use the emulator running at this URL instead of starting one [env {URL_ENV}]")
    group.addoption("--mindsphere-admin-token", default=None,
                    help=f"the running emulator's --admin-token, for its control plane [env {ADMIN_TOKEN_ENV}]")


@pytest.fixture(scope="session")
def mindsphere(request):
    """The emulator: started here (in a thread, in-memory store, no pump), or the one at --mindsphere-url."""
    url = request.config.getoption("--mindsphere-url") or os.environ.get(URL_ENV)
    token = request.config.getoption("--mindsphere-admin-token") or os.environ.get(ADMIN_TOKEN_ENV)
    if url:
        from emulator.mindsphere import MindSphere
        from emulator.testing import wait_healthy

        wait_healthy(url.rstrip("/"))
        emulator = MindSphere(url, token)
        yield emulator
        emulator.close()
        return
    with in_thread() as live:
        from emulator.mindsphere import MindSphere

        emulator = MindSphere(live.url, server=live)
        yield emulator
        emulator.close()


def in_thread() -> LiveServer:
    """The emulator the ``mindsphere`` fixture starts when it is given no URL: in a thread, over an in-memory store,
    without a pump (a :class:`LiveServer`, to be entered). Its stack (Flask, SQLAlchemy, requests, PyJWT, the
    emulator) is imported and its app made with the garbage collector paused (:mod:`emulator.collector`)."""
    with collector.paused():
        import emulator.mindsphere  # noqa: F401  (what the fixture hands out: imported here, with the rest)
        from emulator.settings import Settings
        from emulator.testing import LiveServer

        return LiveServer(Settings(database_url="sqlite://", pump=False))


@pytest.fixture
def mindsphere_tenant(mindsphere) -> Tenant:
    """A fresh tenant for this test, removed after it: with the next test's tenant, in the same request, or at the
    session's end (``Tenant.release``)."""
    tenant = mindsphere.new_tenant()
    try:
        yield tenant
    finally:
        tenant.release()


@pytest.fixture
def mindsphere_client(mindsphere_tenant) -> ApiSession:
    """A requests session of the test's tenant: base URL and bearer token set."""
    with mindsphere_tenant.session() as session:
        yield session


def __getattr__(name: str):
    """The objects the fixtures hand out (``from emulator.pytest_plugin import MindSphere``), imported on first use
    (PEP 562)."""
    if name in _HANDED_OUT:
        from emulator import mindsphere

        return getattr(mindsphere, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_HANDED_OUT = ("Clock", "Faults", "MindSphere", "Tenant")
