"""One Settings object, built from CLI flags and ``MDSP_EMU_*`` environment variables.

Every ``serve`` flag ``--some-flag`` is also read from ``MDSP_EMU_SOME_FLAG``; a flag given on the
command line wins over the environment, and the environment wins over the default. Values are
checked here, once, so a bad value stops the command with a one-line reason instead of a traceback.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path

from emulator import limits

DEFAULT_SECRET = "emulator-secret"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
PUMP_CADENCE_SECONDS = (1, 3600)  # a simulated pump's sample interval: the setting's and a pump request's bounds



def parse_rate_limit(value: str) -> dict | None:
    """``--rate-limit 100/60``: 100 requests a minute for every tenant and API, as a quota."""
    if not value:
        return None
    requests, _, seconds = value.partition("/")
    if not requests.isdigit() or not seconds.isdigit() or int(requests) < 1 or int(seconds) < 1:
        raise ValueError(f"--rate-limit {value!r} must be REQUESTS/SECONDS, e.g. 100/60")
    return {"tenant": None, "api": None, "requests": int(requests), "perSeconds": int(seconds)}

class SettingsError(ValueError):
    """A setting has a value the emulator cannot run with; the message is the one-line reason."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = ""  # empty: a SQLite file under data_dir
    data_dir: str = ".emulator-data"
    tenant: str = "emutenant"
    client_id: str = "emutenant-client"
    client_secret: str = DEFAULT_SECRET
    seed: int = 0
    workers: int = 1
    token_lifetime: int = limits.TOKEN_LIFETIME_SECONDS
    admin_token: str = ""
    allowed_hosts: str = ""  # host names (comma-separated) the control plane answers besides localhost and IPs
    journal_size: int = 10_000
    journal_bodies: int = 0  # characters of each request and response body the journal keeps; 0: none
    allow_fault_header: bool = False
    rate_limit: str = ""  # "REQUESTS/SECONDS" for every tenant and API
    odata_exact_counts: bool = False  # Data Hub's time series and aggregate counts are wrong (seed 8.6) unless set
    odata_capability_annotations: bool = False  # the query limits in $metadata: Mendix does not know them (seed 8.5)
    token_cache_size: int = 10_000  # verified tokens kept per process (signatures are checked once)
    pump: bool = False  # run the simulated pump feeder (``serve`` turns it on unless --no-pump)
    backfill_days: int = 7  # days of history the feeder writes for a new simulated pump
    pump_cadence: int = 10  # seconds between two samples of a simulated pump
    pump_via: str = "store"  # store: straight into IoT Time Series; agent: each pump a MindConnect agent
    exchange_strict: bool = False  # MindConnect exchange: refuse bad values with 400 instead of dropping them

    @property
    def host_names(self) -> frozenset[str]:
        """The names of ``--allowed-hosts``, lower case."""
        return frozenset(n.strip().lower().rstrip(".") for n in self.allowed_hosts.split(",") if n.strip())

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return "sqlite:///" + str(Path(self.data_dir) / "emulator.sqlite3")

    @property
    def is_loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)

    def validate(self) -> Settings:
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"--port must be between 0 and 65535, not {self.port}")
        if self.workers < 1 or self.workers > 64:
            raise SettingsError(f"--workers must be between 1 and 64, not {self.workers}")
        if not re.match(limits.TENANT_NAME_PATTERN, self.tenant):
            raise SettingsError(
                f"--tenant {self.tenant!r} is not a valid tenant name "
                "(2-20 lowercase letters and digits, starting with a letter)"
            )
        if self.pump_via not in ("store", "agent"):
            raise SettingsError(f"--pump-via must be store or agent, not {self.pump_via!r}")
        if not self.client_id or not self.client_secret:
            raise SettingsError("--client-id and --client-secret must not be empty")
        if self.rate_limit:
            try:
                parse_rate_limit(self.rate_limit)
            except ValueError as exc:
                raise SettingsError(str(exc)) from None
        if not 0 <= self.journal_bodies <= 1_000_000:
            raise SettingsError(f"--journal-bodies must be between 0 and 1000000, not {self.journal_bodies}")
        if self.journal_size < 1:
            raise SettingsError(f"--journal-size must be at least 1, not {self.journal_size}")
        if not 0 <= self.backfill_days <= 3650:
            raise SettingsError(f"--backfill-days must be between 0 and 3650, not {self.backfill_days}")
        low, high = PUMP_CADENCE_SECONDS
        if not low <= self.pump_cadence <= high:
            raise SettingsError(f"--pump-cadence must be between {low} and {high} seconds, not {self.pump_cadence}")
        if self.token_lifetime < 1:
            raise SettingsError(f"--token-lifetime must be at least 1 second, not {self.token_lifetime}")
        url = self.effective_database_url
        if not (url.startswith("sqlite:") or url.startswith("postgresql")):
            raise SettingsError(
                f"--database-url {url!r} is not supported: use sqlite:///FILE, sqlite:// or "
                "postgresql+psycopg://USER:PASSWORD@HOST/DB"
            )
        if self.workers > 1 and url in ("sqlite://", "sqlite:///:memory:"):
            raise SettingsError("--workers > 1 needs a shared database: an in-memory one lives in one process")
        return self


# name, type, help: the flags of `serve`, in the order the help shows them.
SERVE_FLAGS: list[tuple[str, type, str]] = [
    ("host", str, "address to bind (default 127.0.0.1)"),
    ("port", int, "port to bind; 0 picks a free one and prints it (default 8080)"),
    ("database-url", str, "SQLAlchemy URL: sqlite:///FILE, sqlite:// (in memory) or postgresql+psycopg://..."),
    ("data-dir", str, "directory of the default SQLite file (default ./.emulator-data)"),
    ("tenant", str, "name of the default tenant (default emutenant)"),
    ("client-id", str, "client id of the default tenant's technical user"),
    ("client-secret", str, "client secret of the default tenant's technical user"),
    ("seed", int, "seed of every generated value (default 0)"),
    ("workers", int, "worker processes (default 1; more need PostgreSQL or a SQLite file)"),
    ("token-lifetime", int, "access token lifetime in seconds (default 1800, as MindSphere)"),
    ("admin-token", str, "bearer token the control plane /_emulator/... requires (default: open on loopback)"),
    ("allowed-hosts", str, "host names the control plane answers to, comma-separated, besides localhost and IP "
                           "addresses (e.g. emulator for a CI service reached by that name)"),
    ("journal-size", int, "entries the request journal keeps, newest first (default 10000)"),
    ("journal-bodies", int, "characters of each request and response body the journal keeps (default 0: none)"),
    ("rate-limit", str, "a quota for every tenant and API, REQUESTS/SECONDS (e.g. 100/60; default none)"),
    ("odata-exact-counts", bool, "count Data Hub time series and aggregates exactly (default off: capped at 2000, "
                                 "as MindSphere's counts are wrong)"),
    ("odata-capability-annotations", bool, "state the Data Hub query limits as Capabilities annotations in "
                                           "$metadata (default off, as MindSphere: Mendix does not know them)"),
    ("pump", bool, "feed simulated pumps: one in the default tenant on first start, history, live data "
                   "(default on for serve; --no-pump turns it off)"),
    ("backfill-days", int, "days of history a new simulated pump gets, newest day first (default 7)"),
    ("pump-cadence", int, "seconds between two samples of a simulated pump (default 10)"),
    ("pump-via", str, "how simulated pumps feed their data: store (default: into IoT Time Series directly) or "
                      "agent (each pump a MindConnect agent posting through the exchange and its mappings)"),
    ("exchange-strict", bool, "MindConnect exchange: refuse unknown, unmapped or unparsable values with 400; by "
                              "default they are dropped with 200 and reported in diagnostics, as a tenant does"),
    ("allow-fault-header", bool, "let requests inject a fault with X-Emulator-Fault: 500|429|delay=MS (default off)"),
]


def env_name(flag: str) -> str:
    return "MDSP_EMU_" + flag.upper().replace("-", "_")


def from_sources(args: dict | None = None, environ: dict | None = None) -> Settings:
    """Settings from parsed CLI values (None = not given) over environment over defaults."""
    args = args or {}
    environ = os.environ if environ is None else environ
    values = {}
    for flag, kind, _help in SERVE_FLAGS:
        attr = flag.replace("-", "_")
        raw = args.get(attr)
        if raw is None and env_name(flag) in environ:
            raw = environ[env_name(flag)]
            if kind is bool:
                if raw.strip().lower() not in ("1", "true", "yes", "0", "false", "no", ""):
                    raise SettingsError(f"{env_name(flag)}={raw!r} is not true or false")
                raw = raw.strip().lower() in ("1", "true", "yes")
            elif kind is int:
                try:
                    raw = int(raw)
                except ValueError:
                    raise SettingsError(f"{env_name(flag)}={raw!r} is not an integer") from None
        if raw is not None:
            values[attr] = raw
    return Settings(**values).validate()
