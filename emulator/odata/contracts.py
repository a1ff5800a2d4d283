"""Contract administration, as Asset Manager's contract wizard does it (seed 2.3.3): save a contract
over some of the tenant's asset types, list and download it, publish it to the Data Hub catalogue.

Publishing fails with 500 when an aggregate entity name ``AGGR_{AspectType}_{AspectName}_{AssetType}``
is longer than 200 characters, while saving still works (seed 9.2). The catalogue shows a tenant's
published contracts only to users of the email domain of whoever published its first contract
(seed 2.3.3: Mendix companies are email domains).
"""

from __future__ import annotations

import re

from sqlalchemy import select

from emulator import errors, limits
from emulator.assets.types import catalog, model_changed
from emulator.odata import csdl
from emulator.odata.model import build, current
from emulator.odata.models import contracts
from emulator.store import TenantScope, kept_for_model
from emulator.times import iso_seconds

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")  # [?] 1.0.0-style; it names the downloaded file
# The local part: no @, control character or space (spelt out, as Python's \s and a JSON Schema validator's differ,
# and the OpenAPI document states this very pattern); the domain: dot-separated ASCII labels.
EMAIL = re.compile(r"^[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+"
                   r"@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$")
def _check(scope: TenantScope, body: dict) -> dict:
    """The stored fields of a contract body (its form checked against the contract, spec.py: ContractInput):
    its asset types resolved in the tenant, each once, and the defaults filled in."""
    graph = catalog(scope).graph
    resolved = []
    for i, type_id in enumerate(body["assetTypeIds"]):
        found = graph.resolve(type_id)
        if found is None:
            raise errors.InvalidBody(f"assetTypeIds[{i}]: no asset type {type_id!r} in this tenant")
        if found in resolved:
            raise errors.InvalidBody(f"assetTypeIds[{i}]: {type_id!r} is listed twice")
        resolved.append(found)
    return {"name": body["name"], "version": body.get("version") or "1.0.0",
            "environment": body.get("environment", "Sandbox"), "description": body.get("description"),
            "application_name": body.get("applicationName") or f"mdsp_{scope.tenant}",
            "publisher_email": body.get("publisherEmail"), "asset_type_ids": resolved}


def create(scope: TenantScope, body, now: float) -> dict:
    fields = _check(scope, body)
    if find(scope, fields["name"]) is not None:
        raise errors.Conflict(f"A contract named {fields['name']!r} already exists")
    model = build(fields["asset_type_ids"], catalog(scope))
    scope.insert(contracts, **fields, model=model, created_at=now, published_at=None)
    model_changed(scope)
    return get(scope, fields["name"])


def find(scope: TenantScope, name: str):
    """The tenant's contract of that name, or None."""
    return scope.conn.execute(scope.select(contracts).where(contracts.c.name == name)).mappings().first()


def published(scope: TenantScope, name: str) -> tuple[dict, dict] | None:
    """A published contract's row (without its model) and its service model, or None. Cached per process
    under the tenant's model version, which every contract change moves (as every type change does)."""

    def read(version):
        row = scope.conn.execute(select(contracts).where(contracts.c.tenant_id == scope.tenant,
                                                         contracts.c.name == name)).mappings().first()
        if row is None or row["published_at"] is None:
            return None
        return {**{k: v for k, v in row.items() if k != "model"}, "model_key": version}, current(row["model"])

    return kept_for_model(scope, ("contract", scope.tenant, name), read)


def get(scope: TenantScope, name: str):
    row = find(scope, name)
    if row is None:
        raise errors.NotFound(f"No contract named {name!r}")
    return row


def listing(scope: TenantScope) -> list:
    return scope.all(scope.select(contracts).order_by(contracts.c.created_at, contracts.c.name))


def delete(scope: TenantScope, name: str) -> None:
    get(scope, name)
    scope.delete(contracts, contracts.c.name == name)
    model_changed(scope)


def metadata(row, capabilities: bool = False) -> bytes:
    """The contract's CSDL document (what download and ``$metadata`` answer); ``capabilities``: with the query
    limits as annotations (``--odata-capability-annotations``)."""
    return csdl.render(row["tenant_id"], row["name"], current(row["model"]), capabilities)


def publish(scope: TenantScope, name: str, body: dict | None, now: float):
    """Publish (the body, if any, checked against the contract: an email address or null)."""
    row = get(scope, name)
    email = (body or {}).get("publisherEmail") or row["publisher_email"]
    if email is None:
        raise errors.MissingBodyProperty("publisherEmail is required to publish (Data Hub shows contracts to the "
                                         "publisher's company, its email domain)")
    too_long = [s["fullName"] for s in row["model"]["sets"]
                if s["kind"] == "aggregate" and len(s["fullName"]) > limits.DATAHUB_AGGR_NAME_MAX]
    if too_long:
        raise errors.InternalError(f"Publishing failed: {too_long[0]} is {len(too_long[0])} characters long; Data Hub "
                                   f"takes at most {limits.DATAHUB_AGGR_NAME_MAX} (AGGR_{{AspectType}}_{{AspectName}}_"
                                   "{AssetType})")
    # publishing again keeps the first publication's time (and so the catalogue's first publisher)
    scope.update(contracts, contracts.c.name == name, publisher_email=email, published_at=row["published_at"] or now)
    model_changed(scope)
    return get(scope, name)


def service_url(base_url: str, row) -> str | None:
    return f"{base_url}/odata/{row['name']}/" if row["published_at"] is not None else None


def as_json(row, base_url: str) -> dict:
    return {"name": row["name"], "version": row["version"], "environment": row["environment"],
            "description": row["description"], "applicationName": row["application_name"],
            "publisherEmail": row["publisher_email"], "assetTypeIds": row["asset_type_ids"],
            "entitySets": [s["name"] for s in row["model"]["sets"]], "createdAt": iso_seconds(row["created_at"]),
            "published": row["published_at"] is not None, "publishedAt": iso_seconds(row["published_at"]),
            "serviceUrl": service_url(base_url, row)}


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def visible(conn, user: str, base_url: str) -> list[dict]:
    """Published contracts of every tenant that ``user`` (an email: the contract checks it) may see in the Data
    Hub catalogue."""
    rows = conn.execute(select(contracts).where(contracts.c.published_at.is_not(None))
                        .order_by(contracts.c.tenant_id, contracts.c.published_at, contracts.c.name)).mappings().all()
    company: dict[str, str] = {}
    for row in rows:  # the domain of each tenant's first publisher
        company.setdefault(row["tenant_id"], _domain(row["publisher_email"]))
    domain = _domain(user)
    return [{**as_json(row, base_url), "tenant": row["tenant_id"]} for row in rows
            if company[row["tenant_id"]] == domain]
