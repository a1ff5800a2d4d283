"""``mindsphere-emulator contract create|list|publish|download``: the contract wizard from a shell.

Like ``token`` and ``snapshot``, it works straight in the database of ``--database-url`` /
``--data-dir`` (no server needed), on the tenant of ``--tenant``; service URLs use ``--base-url``.
"""

from __future__ import annotations

import argparse

import orjson


def add_parser(sub, add_settings_flags) -> None:
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
    contract.add_argument("--base-url", default="http://127.0.0.1:8080", help="the emulator's URL, for service URLs")
    add_settings_flags(contract)


OWN_ARGS = ("action", "name", "asset_types", "contract_version", "environment", "description", "application_name",
            "publisher_email", "file", "base_url")


def run(settings, args: argparse.Namespace) -> str:
    from emulator.app import init_state
    from emulator.clock import Clock
    from emulator.errors import NotFound
    from emulator.odata import contracts
    from emulator.odata.spec import check
    from emulator.store import Store, TenantScope

    store = Store(settings.effective_database_url)
    clock = Clock()
    init_state(settings, store, clock)
    if args.action != "list" and not args.name:
        raise NotFound(f"contract {args.action} needs the contract's name")
    with store.transaction(write=args.action in ("create", "publish")) as conn:
        scope = TenantScope(conn, settings.tenant)
        if args.action == "create":
            body = {"name": args.name, "assetTypeIds": args.asset_types or [], "version": args.contract_version,
                    "environment": args.environment, "description": args.description,
                    "applicationName": args.application_name, "publisherEmail": args.publisher_email}
            body = {k: v for k, v in body.items() if v is not None}
            check("ContractInput", body, "contract")  # as POST /_emulator/contracts checks its body
            row = contracts.create(scope, body, clock.time())
            return orjson.dumps(contracts.as_json(row, args.base_url), option=orjson.OPT_INDENT_2).decode()
        if args.action == "list":
            return "\n".join(f"{row['name']}\t{row['version']}\t"
                             f"{'published' if row['published_at'] is not None else 'saved'}\t"
                             f"{contracts.service_url(args.base_url, row) or ''}"
                             for row in contracts.listing(scope))
        if args.action == "publish":
            body = {"publisherEmail": args.publisher_email} if args.publisher_email else None
            check("PublishInput", body or {}, "contract")
            row = contracts.publish(scope, args.name, body, clock.time())
            return f"published {row['name']} at {contracts.service_url(args.base_url, row)}"
        document = contracts.metadata(contracts.get(scope, args.name))
    if args.file:
        with open(args.file, "wb") as out:
            out.write(document)
        return f"wrote {args.file}"
    return document.decode()
