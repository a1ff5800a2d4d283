"""Simulated devices: a centrifugal pump whose data follows from physics, and the feeder that writes it.

Why physics and not random numbers: an app that raises an alarm when a pump cavitates needs data in
which cavitation looks like cavitation (suction pressure falls, flow drops, current fluctuates), and
needs it the same on every run. The modules, each small:

* :mod:`.timebase`     durations in scenario files; the sample grid and its blocks
* :mod:`.noise`        per-asset seeds and counter-based random numbers (chunk-independent)
* :mod:`.schedule`     the duty schedule: starts, stops and speed setpoints
* :mod:`.environment`  outdoor temperature, humidity and pressure with a daily cycle
* :mod:`.room`         the pump room's air: the building lags the weather, a heater keeps it above freezing
* :mod:`.hydraulics`   pump curve, system curve, affinity laws, motor current, suction pressure
* :mod:`.thermal`      the stuffing box's first-order thermal lag, computed per block
* :mod:`.scenarios`    declarative fault scenarios (built in: ``data/scenarios/*.yaml``)
* :mod:`.sensors`      ranges, noise, resolution and quality codes of the eight sensors
* :mod:`.simulation`   all of the above as one pure function of (seed, asset, time range)
* :mod:`.model`        the asset model from ``data/asset-model.json``; pumps read from the store
* :mod:`.fleet`        ``mindsphere-emulator seed``: enterprise, sites, pump stations, pumps
* :mod:`.feeder`       writes the pumps' data through the time series service, history and live
* :mod:`.data`         the files the above read at run time, inside the package (importlib.resources)
* :mod:`.routes`       ``POST /_emulator/tenants/{name}/pumps`` (a control-plane route) and :mod:`.spec`, its contract
"""

from __future__ import annotations

from emulator.apis import Api


def describe() -> Api:
    """The pumps' control-plane route (``POST /_emulator/tenants/{name}/pumps``): its blueprint and its contract.
    Its paths lie under the control plane's prefix, so it has none of its own (and is no data-plane API)."""
    from emulator.devices import routes, spec

    return Api(name="pumps", title="Control plane", prefixes=(), protected=False, data_plane=False,
               blueprints=(routes.bp,), spec=spec.fragment)
