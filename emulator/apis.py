"""Which emulated API a request path belongs to, and which error envelope that API speaks.

Error rendering, scope checks, fault matching, rate limits and the journal all ask the same
question ("what API is this?"), so the answer lives in one table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Api:
    name: str  # token | assets | timeseries | aggregates | odata | control | technicaltoken | other
    envelope: str  # core | timeseries | oauth | odata
    protected: bool  # needs a bearer token


# Longest prefixes first: the first match wins.
_TABLE: list[tuple[str, Api]] = [
    ("/api/technicaltokenmanager/", Api("token", "core", False)),
    ("/api/assetmanagement/", Api("assets", "core", True)),
    ("/api/iottimeseries/", Api("timeseries", "timeseries", True)),
    ("/api/iottsaggregates/v3/", Api("aggregates", "timeseries", True)),
    ("/api/iottsaggregates/", Api("aggregates", "core", True)),
    ("/api/", Api("other", "core", True)),
    ("/odata/", Api("odata", "odata", True)),
    ("/_emulator/contracts", Api("contracts", "core", True)),  # contracts are tenant data: the tenant's token
    ("/oauth/", Api("token", "oauth", False)),
    ("/token_keys", Api("token", "oauth", False)),
    ("/_emulator/", Api("control", "core", False)),
]
_OTHER = Api("other", "core", False)


def api_of(path: str) -> Api:
    for prefix, api in _TABLE:
        if path.startswith(prefix):
            return api
    return _OTHER


API_NAMES = ("token", "assets", "timeseries", "aggregates", "odata", "contracts")
