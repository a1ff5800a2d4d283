"""``mindsphere-emulator contract create|list|publish|download``: the contract wizard from a shell.

Over ``--url`` it calls ``/_emulator/contracts`` as the client of ``--client-id`` / ``--client-secret`` (the default
tenant's technical user by default), so it acts in that client's tenant, and service URLs are the server's. On a
store (``--data-dir``, ``--database-url``) it works in the database, on the tenant of ``--tenant``, and service URLs
use ``--base-url``; the store must exist.
"""

from __future__ import annotations

import argparse
from urllib.parse import quote

import orjson

from emulator.commands import CommandError, target

LOCAL_BASE_URL = "http://127.0.0.1:8080"


def add_parser(sub) -> None:
    contract = sub.add_parser("contract", help="create, list, publish or download a Data Hub contract")
    contract.add_argument("action", choices=("create", "list", "publish", "download"))
    contract.add_argument("name", nargs="?", help="the contract (create, publish, download)")
    contract.add_argument("--asset-type", action="append", dest="asset_types", default=None,
                          help="an asset type id of the contract (create; repeat for several)")
    contract.add_argument("--contract-version", default=None, help="the contract's version (create; default 1.0.0)")
    contract.add_argument("--environment", default=None, help="Sandbox, production or non-production (create)")
    contract.add_argument("--description", default=None, help="(create)")
    contract.add_argument("--application-name", default=None, help="(create; default mdsp_{tenant})")
    contract.add_argument("--publisher-email", default=None, help="who publishes (create, publish)")
    contract.add_argument("--file", default=None, help="where download writes the CSDL XML (default: stdout)")
    contract.add_argument("--base-url", default=None,
                          help=f"on a store: the emulator's URL, for service URLs (default {LOCAL_BASE_URL})")
    target.add_flags(contract)


OWN_ARGS = ("action", "name", "asset_types", "contract_version", "environment", "description", "application_name",
            "publisher_email", "file", "base_url")


def run(where, args: argparse.Namespace) -> str:
    if args.action != "list" and not args.name:
        raise CommandError(f"contract {args.action} needs the contract's name")
    if isinstance(where, target.Remote):
        if args.base_url is not None:
            raise CommandError("--base-url is for a store; over --url service URLs are the server's")
        answer = _over_http(where, args)
    else:
        answer = _in_store(where, args)
    if args.action != "download":
        return answer
    if args.file:
        with open(args.file, "wb") as out:
            out.write(answer)
        return f"wrote {args.file}"
    return answer.decode()


def _create_body(args: argparse.Namespace) -> dict:
    body = {"name": args.name, "assetTypeIds": args.asset_types or [], "version": args.contract_version,
            "environment": args.environment, "description": args.description,
            "applicationName": args.application_name, "publisherEmail": args.publisher_email}
    return {k: v for k, v in body.items() if v is not None}


def _listing(items: list[dict]) -> str:
    """One line a contract: name, version, saved or published, service URL."""
    return "\n".join(f"{c['name']}\t{c['version']}\t{'published' if c['published'] else 'saved'}\t"
                     f"{c['serviceUrl'] or ''}" for c in items)


def _pretty(contract: dict) -> str:
    return orjson.dumps(contract, option=orjson.OPT_INDENT_2).decode()


def _over_http(remote, args: argparse.Namespace):
    tenant = remote.token_tenant()
    if target.given(args, "tenant") and remote.settings.tenant != tenant:
        raise CommandError(f"client {remote.settings.client_id} belongs to tenant {tenant}, not "
                           f"{remote.settings.tenant}: give a client of {remote.settings.tenant} with --client-id "
                           "and --client-secret")
    base = "/_emulator/contracts"
    if args.action == "create":
        return _pretty(remote.request("POST", base, auth="tenant", expected=(201,), json=_create_body(args)).json())
    if args.action == "list":
        return _listing(remote.request("GET", base, auth="tenant").json()["contracts"])
    named = f"{base}/{quote(args.name, safe='')}"
    if args.action == "publish":
        body = {"json": {"publisherEmail": args.publisher_email}} if args.publisher_email else {}
        row = remote.request("POST", f"{named}/publish", auth="tenant", **body).json()
        return f"published {row['name']} at {row['serviceUrl']}"
    return remote.request("GET", f"{named}/download", auth="tenant").content


def _in_store(local, args: argparse.Namespace):
    from sqlalchemy import select

    from emulator.app import init_state
    from emulator.clock import Clock
    from emulator.control.plane import ControlPlane
    from emulator.odata import contracts
    from emulator.odata.spec import check
    from emulator.store import TenantScope
    from emulator.store.models import tenants

    settings = local.settings
    base_url = args.base_url or LOCAL_BASE_URL
    writes = args.action in ("create", "publish")
    store = local.open()
    try:
        clock = Clock()
        if writes:
            init_state(settings, store, clock)
        ControlPlane(store, clock).sync()  # the store's virtual clock: creation and publishing times follow it
        with store.transaction(write=writes) as conn:
            if conn.scalar(select(tenants.c.name).where(tenants.c.name == settings.tenant)) is None:
                raise CommandError(f"no tenant {settings.tenant!r} in {store.describe()}")
            scope = TenantScope(conn, settings.tenant)
            if args.action == "create":
                body = _create_body(args)
                check("ContractInput", body, "contract")  # as POST /_emulator/contracts checks its body
                row = contracts.create(scope, body, clock.time())
                return _pretty(contracts.as_json(row, base_url))
            if args.action == "list":
                return _listing([contracts.as_json(row, base_url) for row in contracts.listing(scope)])
            if args.action == "publish":
                body = {"publisherEmail": args.publisher_email} if args.publisher_email else None
                check("PublishInput", body or {}, "contract")
                row = contracts.publish(scope, args.name, body, clock.time())
                return f"published {row['name']} at {contracts.service_url(base_url, row)}"
            return contracts.metadata(contracts.get(scope, args.name), settings.odata_capability_annotations)
    finally:
        store.dispose()
