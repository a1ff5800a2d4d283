"""Fixtures of the project's own tests: a live emulator per storage backend, a fresh tenant per test.

API tests take ``server`` (session-scoped, one per backend) and run once on SQLite and, when
``MDSP_EMU_TEST_POSTGRES_URL`` names a PostgreSQL server, once more on PostgreSQL. In CI
(``CI=true``) that variable is required: the PostgreSQL run must not be skipped there.

The tenant of a test comes from the project's own pytest plugin (``emulator.pytest_plugin``, registered
through its entry point), as it does for the plugin's users: ``mindsphere`` is overridden here to be the
backend's ``server``, so the plugin's ``mindsphere_tenant`` (``MindSphere.new_tenant()``, removed by
``Tenant.delete()``) and ``mindsphere_client`` (the tenant's token) run under every API test, and ``tenant``
and ``api`` hand them on in the shapes the tests were written against.
"""

from __future__ import annotations

import os
import random
import uuid
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, core, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from emulator.pytest_plugin import MindSphere, Tenant
from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer

POSTGRES_URL = os.environ.get("MDSP_EMU_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Hypothesis profiles. Hypothesis's own "ci" profile (loaded whenever CI is set) derandomizes: every CI run
# replayed the same examples, so a strategy's blind spot stayed blind for ever (the OData filter test's 60
# examples in CI were 34 "selects nothing", 26 "selects everything", 0 selective). Ours draws anew each run:
# "ci" is random under a seed chosen per run and printed in the header (rerun a failure with
# ``--hypothesis-seed=N``; print_blob also prints each failure's reproduction blob), with no example database
# (a fresh clone has none); "dev" keeps the failure database in .hypothesis/ so a local failure is tried first
# next time. ``--hypothesis-profile`` picks either explicitly. Tests that set max_examples keep theirs.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", derandomize=False, database=None, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if IN_CI else "dev")


class TemporaryPostgres:
    """A database of its own on the test PostgreSQL server, dropped at the end."""

    def __init__(self, server_url: str):
        self.admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        self.name = "emu_test_" + uuid.uuid4().hex[:10]
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = make_url(server_url).set(database=self.name).render_as_string(hide_password=False)

    def drop(self):
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def pytest_configure(config):
    """In CI, a Hypothesis seed of this run's own unless ``--hypothesis-seed`` gives one (shown in the header)."""
    if IN_CI and config.getoption("hypothesis_seed", None) is None:
        config.option.hypothesis_seed = str(random.SystemRandom().randrange(2**32))
        core.global_force_seed = int(config.option.hypothesis_seed)


def pytest_report_header(config):
    seed = config.getoption("hypothesis_seed", None)
    return [f"hypothesis profile {settings.get_current_profile_name()!r}"
            + (f", seed {seed} (rerun with --hypothesis-seed={seed})" if seed is not None else "")]


def backend_params():
    params = [pytest.param("sqlite", id="sqlite")]
    if POSTGRES_URL or IN_CI:
        params.append(pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres))
    else:
        params.append(pytest.param("postgresql", id="postgresql", marks=[
            pytest.mark.postgres,
            pytest.mark.skip(reason="set MDSP_EMU_TEST_POSTGRES_URL to run the API tests on PostgreSQL too"),
        ]))
    return params


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory):
    """A fresh database for one backend: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path_factory.mktemp("sqlite") / "emulator.sqlite3")
        return
    with postgres_database() as url:
        yield url


@contextmanager
def postgres_database():
    """A new database on the test PostgreSQL server, dropped afterwards. Reached without a server only when
    CI=true (locally the PostgreSQL parameters carry a skip mark): then it fails, as CI must have one."""
    if not POSTGRES_URL:
        pytest.fail("CI=true but MDSP_EMU_TEST_POSTGRES_URL is not set: .ci/run must start PostgreSQL")
    db = TemporaryPostgres(POSTGRES_URL)
    try:
        yield db.url
    finally:
        db.drop()


def pytest_generate_tests(metafunc):
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", backend_params(), indirect=True, scope="session")


@pytest.fixture(scope="session")
def server(database_url):
    with LiveServer(Settings(database_url=database_url)) as live:
        yield live


@pytest.fixture
def admin(server) -> ApiSession:
    """A client of the control plane."""
    with ApiSession(server.url) as session:
        yield session


@pytest.fixture(scope="session")
def mindsphere(server) -> MindSphere:
    """The plugin's emulator, here the backend's ``server`` (the plugin's own fixture would start one of its
    own, or take ``--mindsphere-url``)."""
    emulator = MindSphere(server.url, server=server)
    yield emulator
    emulator.close()


@pytest.fixture
def tenant(mindsphere_tenant: Tenant) -> dict:
    """A fresh tenant with one all-scopes client, deleted after the test (the plugin's ``mindsphere_tenant``),
    as the body ``POST /_emulator/tenants`` answered: ``name``, ``rootAssetId``, ``clients``, ``tokenUrl``."""
    return dict(mindsphere_tenant.created)


@pytest.fixture
def api(mindsphere_client: ApiSession) -> ApiSession:
    """A client of the tenant's APIs with a valid bearer token (the plugin's ``mindsphere_client``)."""
    return mindsphere_client
