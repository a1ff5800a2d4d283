"""``mindsphere-emulator seed --pumps N``: a fleet of simulated pumps (enterprise, sites, pump stations, pumps).

Over ``--url`` it asks the running server (``POST /_emulator/tenants/{tenant}/fleet``), whose feeder then writes the
pumps' history; scenarios are then built-in names, since the server's feeder could not read a file of this machine.
On a store (``--data-dir``, ``--database-url``) it writes the fleet into the database, creating the store if needed,
and a scenario may be a file (its path is stored; the feeder reads it).
"""

from __future__ import annotations

import argparse

from emulator.commands import CommandError, target

OWN_ARGS = ("pumps", "scenario")


def add_parser(sub) -> None:
    seed = sub.add_parser("seed", help="build a fleet of simulated pumps: enterprise, sites, pump stations, pumps")
    seed.add_argument("--pumps", type=int, default=5, help="how many pumps (default 5); more later adds to the fleet")
    seed.add_argument("--scenario", action="append", metavar="NAME_OR_FILE",
                      help="a scenario (a built-in name such as cavitation, or a file) for the next pump; repeatable")
    target.add_flags(seed)


def run(where, args: argparse.Namespace) -> str:
    chosen = args.scenario or []
    remote = isinstance(where, target.Remote)
    made = _over_http(where, args, chosen) if remote else _in_store(where, args.pumps, chosen)
    created = made["created"]
    return (f"seeded tenant {made['tenant']} with seed {made['seed']}: {made['pumps']} pumps "
            f"({created['pumps']} new, {created['sites']} new sites, {created['areas']} new pump stations)")


def _over_http(remote, args: argparse.Namespace, chosen: list[str]) -> dict:
    from emulator.devices import scenarios

    builtin = scenarios.builtin_names()
    for name in chosen:
        if name not in builtin:
            raise CommandError(f"--scenario {name}: over --url only built-in scenarios ({', '.join(builtin)}); a "
                               "scenario file is read by the feeder, so seed it into the store with --data-dir or "
                               "--database-url")
    body = {"pumps": args.pumps, "scenarios": chosen}
    if target.given(args, "seed"):
        body["seed"] = remote.settings.seed
    return remote.request("POST", f"/_emulator/tenants/{remote.settings.tenant}/fleet", json=body).json()


def _in_store(local, pumps: int, chosen: list[str]) -> dict:
    from emulator.app import init_state
    from emulator.clock import Clock
    from emulator.control.plane import ControlPlane
    from emulator.devices import fleet

    settings = local.settings
    store = local.open(create=True)
    try:
        clock = Clock()
        init_state(settings, store, clock)
        ControlPlane(store, clock).sync()  # the virtual clock: scenario times count from its now
        try:
            made = fleet.seed_fleet(store, settings.tenant, pumps, settings.seed, clock.time(), chosen)
        except ValueError as exc:  # pumps out of range, or a scenario file that cannot be used
            raise CommandError(str(exc)) from None
    finally:
        store.dispose()
    return {"tenant": settings.tenant, "seed": settings.seed, "pumps": pumps, "created": made}
