"""``mindsphere-emulator snapshot export|import``: one tenant to a file, or a file into an emulator.

Over ``--url`` it is ``GET /_emulator/snapshots/{tenant}`` and ``POST /_emulator/snapshots`` (admin token; a request
carries at most 16 MB). On a store (``--data-dir``, ``--database-url``) it reads and writes the database itself,
without that limit; an import may create the store, an export needs one that exists.
"""

from __future__ import annotations

import argparse
import os

import orjson

from emulator import limits
from emulator.commands import CommandError, target

OWN_ARGS = ("action", "file")


def add_parser(sub) -> None:
    snapshot = sub.add_parser("snapshot", help="export one tenant to a file, or import one")
    snapshot.add_argument("action", choices=("export", "import"))
    snapshot.add_argument("--file", required=True, help="the snapshot file (JSON)")
    target.add_flags(snapshot)


def run(where, args: argparse.Namespace) -> str:
    tenant = where.settings.tenant
    if args.action == "export":
        if isinstance(where, target.Remote):
            pieces = where.request("GET", f"/_emulator/snapshots/{tenant}", stream=True).iter_content(1 << 20)
        else:
            pieces = _plane(where, create=False).export_snapshot(tenant, where.settings.seed)
        with open(args.file, "wb") as out:  # streamed, as the server streams it: a big tenant is never held
            out.writelines(pieces)
        return f"exported tenant {tenant} to {args.file}"
    try:
        with open(args.file, "rb") as source:
            raw = source.read()
        doc = orjson.loads(raw)
    except (OSError, orjson.JSONDecodeError) as exc:
        raise CommandError(f"cannot read snapshot {args.file}: {getattr(exc, 'strerror', None) or exc}") from None
    if isinstance(where, target.Remote):
        if len(raw) > limits.MAX_REQUEST_BYTES:
            raise CommandError(f"{args.file} is {len(raw) // 2**20} MB, more than a request may carry "
                               f"({limits.MAX_REQUEST_BYTES // 2**20} MB): import it with --data-dir or --database-url")
        name = where.request("POST", "/_emulator/snapshots", expected=(201,), data=raw,
                             headers={"Content-Type": "application/json"}).json()["imported"]
    else:
        name = _plane(where, create=True).import_snapshot(doc, where.settings.tenant)
    return f"imported tenant {name} from {os.fspath(args.file)}"


def _plane(local: target.Local, create: bool):
    """The control plane over the store (the snapshot verbs); an import first makes the store ready to serve."""
    from emulator.app import init_state
    from emulator.clock import Clock
    from emulator.control.plane import ControlPlane

    store = local.open(create=create)
    clock = Clock()
    if create:
        init_state(local.settings, store, clock)
    return ControlPlane(store, clock)
