"""The feeder: writes every simulated pump's data through the time series service, history and live.

* **Same path as the API.** Records go through :func:`emulator.timeseries.service.write` in a store
  transaction, as ``PUT /timeseries`` writes them, so rollups, aggregates and reads all agree.
* **History first, server at once.** A pump without data gets ``--backfill-days`` of history, newest
  day first (the last 24 hours are readable within seconds), one day at a time between live ticks,
  with progress in the log. The server does not wait for it. A pump with data gets the gap since its
  last record (the feeder was stopped) and any missing older days.
* **The virtual clock.** "Now" is the emulator's clock, read from the control table as every worker
  reads it: frozen, shifted, sped up (``speed`` 60: a minute of data a second) or advanced in a jump.
* **Time goes back, the future is withdrawn.** When the clock is set back (real time after an advance, a freeze
  at an earlier time, a reset), the pumps' readings stamped after the new now are deleted through the time
  series service (rollups follow): a device cannot have sent what it has not measured yet. Data being a pure
  function of time, the same readings arrive again when the clock reaches them.
* **At most ``--backfill-days`` of history.** A new pump, a restart after a pause and a jump ahead each fill
  the gap behind now, but never further back than ``--backfill-days``: a jump of ten years writes days, not
  years.
* **Outages.** A ``device_offline`` window of the pump's scenario writes nothing while it lasts; with
  store-and-forward its samples arrive in one burst when it ends.
* **One feeder.** Data is a pure function of (seed, asset, time), so a record written twice is the same
  record: two feeders on one database would only repeat each other. ``serve`` still runs exactly one:
  a thread under waitress (one process), and under gunicorn one child process of the master, started
  when the master is ready (``when_ready``) rather than in a worker, since every worker runs the app.
  The child exits when the master is gone.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field

from emulator import errors
from emulator.assets.models import assets
from emulator.clock import Clock
from emulator.control.plane import ControlPlane
from emulator.devices import agentfeed, model, sensors
from emulator.devices.scenarios import Scenario
from emulator.devices.simulation import Frame, PumpSimulation
from emulator.events import raised
from emulator.settings import Settings
from emulator.store import Store, TenantScope
from emulator.times import iso
from emulator.timeseries import service
from emulator.timeseries.settle import settle_tenant

log = logging.getLogger("emulator.pump")
DAY_MS = 86_400_000
TRANSACTION_SAMPLES = 3600  # samples per write transaction: other writers wait at most that long
DISCOVER_EVERY = 2.0  # wall seconds between looks for new (or deleted) pumps
BACKFILL_BUDGET = 0.5  # wall seconds of backfill between two live ticks


@dataclass
class _Pump:
    asset: model.PumpAsset
    sim: PumpSimulation
    last_ms: int  # newest time written live
    seen_ms: int  # the clock's now at the last tick (store-and-forward windows ending after it are sent)
    backfill: list[tuple[int, int]] = field(default_factory=list)  # (after, upto] ranges, newest first
    days_total: int = 0
    days_done: int = 0
    started: float = 0.0
    records: int = 0


class Feeder:
    """Feeds the simulated pumps of every tenant of a store. ``run()`` loops until ``stop()``."""

    def __init__(self, store: Store, settings: Settings, clock: Clock | None = None):
        self.store = store
        self.cadence = settings.pump_cadence
        self.backfill_days = settings.backfill_days
        self.via_agent = settings.pump_via == "agent"
        self.clock = clock or Clock()
        self.plane = ControlPlane(store, self.clock)
        self.pumps: dict[str, _Pump] = {}
        self._stop = threading.Event()
        self._discovered = 0.0
        self._thread: threading.Thread | None = None

    # --- running -------------------------------------------------------------------------------------

    def start(self) -> Feeder:
        self._thread = threading.Thread(target=self.run, name="pump-feeder", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        log.info("pump feeder: cadence %s s, %s days of history for new pumps", self.cadence, self.backfill_days)
        while not self._stop.is_set():
            busy = False
            try:
                busy = self.step()
            except Exception:  # noqa: BLE001 - the feeder must outlive one bad tick (a locked or lost database)
                log.exception("pump feeder: a tick failed; trying again")
                self._stop.wait(1.0)
            self._stop.wait(0.005 if busy else self._interval())

    def _interval(self) -> float:
        state = self.clock.state
        if state.mode == "frozen":
            return 0.5
        return min(0.5, max(0.02, self.cadence / max(state.speed, 1e-6) / 2))

    def step(self) -> bool:
        """One tick: sync the clock, find pumps, write live data, then some history. True if history is left."""
        self.plane.sync()
        now_ms = int(self.clock.time() * 1000)
        if time.monotonic() - self._discovered >= DISCOVER_EVERY:
            self._discover(now_ms)
        for pump in list(self.pumps.values()):
            self._live(pump, now_ms)
        return self._backfill(now_ms)

    # --- pumps -----------------------------------------------------------------------------------------

    def _discover(self, now_ms: int) -> None:
        self._discovered = time.monotonic()
        with self.store.transaction() as conn:
            found = {p.asset_id: p for p in model.simulated_pumps(conn)}
        for asset_id in set(self.pumps) - set(found):
            log.info("pump %s is gone; no longer fed", self.pumps.pop(asset_id).asset.name)
        for asset_id, asset in found.items():
            known = self.pumps.get(asset_id)
            if known is not None and known.asset == asset:
                continue
            try:
                self.pumps[asset_id] = self._plan(asset, now_ms)
            except (ValueError, OSError) as exc:  # a scenario file that went missing or bad
                log.error("pump %s (%s) cannot be simulated: %s", asset.name, asset.tenant, exc)

    def _plan(self, asset: model.PumpAsset, now_ms: int) -> _Pump:
        sim = asset.simulation(self.cadence)
        grid = sim.cadence_ms
        now_ms = now_ms // grid * grid
        first, last = self._extent(asset)
        if last is not None and last > now_ms:  # the clock was set back while nobody fed this pump
            withdraw(self.store, asset, now_ms, last)
            first, last = self._extent(asset)
        horizon = self._horizon(now_ms)
        ranges: list[tuple[int, int]] = []
        if last is None:
            ranges += _days(horizon, now_ms)
        else:
            ranges += _days(max(last, horizon), now_ms)  # the feeder was stopped: the gap since the newest record
            if first > horizon + grid:
                ranges += _days(horizon, first - 1)
        pump = _Pump(asset, sim, last_ms=now_ms, seen_ms=min(last, now_ms) if last is not None else now_ms,
                     backfill=ranges, days_total=len(ranges), started=time.monotonic())
        log.info("pump %s (tenant %s, asset %s, scenario %s): %d days to backfill", asset.name, asset.tenant,
                 asset.asset_id, asset.scenario or "none", len(ranges))
        return pump

    def _extent(self, asset: model.PumpAsset) -> tuple[int | None, int | None]:
        """The times of the pump's oldest and newest records."""
        with self.store.transaction() as conn:
            return service.extent(TenantScope(conn, asset.tenant), asset.asset_id, "PumpData")

    def _horizon(self, now_ms: int) -> int:
        """How far back history reaches: ``--backfill-days`` before now."""
        return now_ms - self.backfill_days * DAY_MS

    def _live(self, pump: _Pump, now_ms: int) -> None:
        if now_ms < pump.last_ms:
            self._rewind(pump, now_ms)
        if now_ms > pump.last_ms:
            start = max(pump.last_ms, now_ms - DAY_MS)
            if start > pump.last_ms:  # a jump of the clock: the older part is history, as far back as history goes
                older = _days(max(pump.last_ms, self._horizon(now_ms)), start)
                pump.backfill[:0] = older
                pump.days_total += len(older)
            self._write(pump, pump.sim.window(start, now_ms), now_ms)
            pump.last_ms = now_ms
        for start, end, forward in pump.sim.scenario.offline_windows():
            end_ms = int(end * 1000) if end != float("inf") else None
            if forward and end_ms is not None and pump.seen_ms < end_ms <= now_ms:
                log.info("pump %s is back online: forwarding what it buffered since %s", pump.asset.name,
                         iso(int(start * 1000)))
                self._write(pump, pump.sim.window(int(start * 1000) - 1, end_ms - 1), now_ms)
        pump.seen_ms = max(pump.seen_ms, now_ms)

    def _rewind(self, pump: _Pump, now_ms: int) -> None:
        """The clock went back to ``now_ms``: the readings after it have not been sent yet in its timeline."""
        try:
            withdrawn = withdraw(self.store, pump.asset, now_ms, pump.last_ms)
        except errors.NotFound:
            self.pumps.pop(pump.asset.asset_id, None)
            return
        log.info("pump %s (%s): the clock went back %s; %d readings after it withdrawn", pump.asset.name,
                 pump.asset.tenant, iso(now_ms), withdrawn)
        pump.backfill = [(after, min(upto, now_ms)) for after, upto in pump.backfill if after < now_ms]
        pump.last_ms = now_ms
        pump.seen_ms = min(pump.seen_ms, now_ms)  # an outage ending later forwards its buffer when it ends again

    def _backfill(self, now_ms: int) -> bool:
        deadline = time.monotonic() + BACKFILL_BUDGET
        for pump in list(self.pumps.values()):
            wrote = False
            while pump.backfill and time.monotonic() < deadline and not self._stop.is_set():
                after, upto = pump.backfill.pop(0)
                self._write(pump, pump.sim.window(after, upto), now_ms)
                pump.days_done += 1
                wrote = True
                self._progress(pump)
            if wrote:  # the rollups take the history in now: the dashboard's first chart need not (a week: seconds)
                settle_tenant(self.store, pump.asset.tenant)
            if pump.backfill:
                return True
        return any(p.backfill for p in self.pumps.values())

    def _progress(self, pump: _Pump) -> None:
        total, done = max(pump.days_total, 1), pump.days_done
        bar = "#" * (20 * done // total) + "-" * (20 - 20 * done // total)
        log.info("backfill %s (%s): [%s] %d/%d days", pump.asset.name, pump.asset.tenant, bar, done, total)
        if not pump.backfill:
            log.info("backfill %s (%s) done: %d records in %.1f s", pump.asset.name, pump.asset.tenant,
                     pump.records, time.monotonic() - pump.started)

    def _write(self, pump: _Pump, frame: Frame, now_ms: int) -> None:
        """The frame's samples visible by ``now_ms``, through the time series service, in transactions of
        at most ``TRANSACTION_SAMPLES`` samples."""
        try:
            pump.records += write_frame(self.store, pump.asset, frame, now_ms, pump.sim.scenario,
                                        via_agent=self.via_agent)
        except errors.NotFound:
            log.info("pump %s (%s) is gone; no longer fed", pump.asset.name, pump.asset.tenant)
            self.pumps.pop(pump.asset.asset_id, None)
            pump.backfill.clear()


def write_frame(store: Store, asset: model.PumpAsset, frame: Frame, now_ms: int,
                scenario: Scenario | None = None, via_agent: bool = False) -> int:
    """The frame's samples visible by ``now_ms``, through the time series service (``via_agent``: through the
    pump's MindConnect agent and the exchange, :mod:`emulator.devices.agentfeed`), in transactions of at most
    ``TRANSACTION_SAMPLES`` samples; how many records. NotFound when the pump or its tenant is gone. Then the
    events of the ``scenario``'s effects the frame's readings show (:mod:`emulator.events.raised`)."""
    written = 0
    for lo in range(0, len(frame), TRANSACTION_SAMPLES):
        part = frame.part(lo, lo + TRANSACTION_SAMPLES)
        batches = {aspect: part.batch(aspect, visible_by=now_ms) for aspect in sensors.ASPECTS}
        if not any(times for times, _records, _columns in batches.values()):
            continue
        with store.transaction(write=True) as conn:
            scope = TenantScope(conn, asset.tenant)
            if model.tenant_zone(conn, asset.tenant) is None:
                raise errors.NotFound(f"tenant {asset.tenant} is gone")
            if via_agent:
                if scope.get(assets, asset.asset_id) is None:
                    raise errors.NotFound(f"pump {asset.asset_id} is gone")
                written += agentfeed.post(scope, asset.asset_id, {aspect: records for aspect, (_t, records, _c)
                                                                  in batches.items()}, now_ms / 1000.0)
                continue
            for aspect, batch in batches.items():
                schema = service.aspect_schema(scope, asset.asset_id, aspect)
                written += service.write_made(scope, asset.asset_id, schema, batch)
    if scenario is not None and scenario.events and len(frame):
        visible = frame.times[frame.visible_at <= now_ms]
        if len(visible):
            with store.transaction(write=True) as conn:
                raised.raise_due(TenantScope(conn, asset.tenant), asset.asset_id, asset.name, scenario.events,
                                 int(visible.max()), now_ms / 1000.0)
    return written


def withdraw(store: Store, asset: model.PumpAsset, after: int, upto: int) -> int:
    """Delete the pump's readings in ``(after, upto]``, a day a transaction, through the time series service (so
    rollups and aggregates agree); how many records. NotFound when the pump or its tenant is gone."""
    withdrawn = 0
    for lo, hi in reversed(_days(after, upto)):
        with store.transaction(write=True) as conn:
            scope = TenantScope(conn, asset.tenant)
            zone = model.tenant_zone(conn, asset.tenant)
            if zone is None:
                raise errors.NotFound(f"tenant {asset.tenant} is gone")
            for aspect in sensors.ASPECTS:
                schema = service.aspect_schema(scope, asset.asset_id, aspect)
                withdrawn += service.delete_range(scope, asset.asset_id, schema, lo, hi, zone)
            raised.withdraw(scope, asset.asset_id, lo, hi)
    return withdrawn


def history(store: Store, tenant: str, asset_id: str, hours: float, cadence: float, now_ms: int) -> int:
    """``hours`` of a pump's data up to ``now_ms``, written at once (the pytest plugin's ``pump()``)."""
    with store.transaction() as conn:
        scope = TenantScope(conn, tenant)
        row = scope.get(assets, asset_id)
        if row is None:
            raise errors.NotFound(f"asset {asset_id!r} does not exist")
        asset = model.pump_asset(scope, row)
    sim = asset.simulation(cadence)
    upto = now_ms // sim.cadence_ms * sim.cadence_ms
    if hours <= 0:
        return 0
    return write_frame(store, asset, sim.window(upto - int(hours * 3_600_000), upto), now_ms, sim.scenario)


def _days(after: int, upto: int) -> list[tuple[int, int]]:
    """``(after, upto]`` cut into days, newest first."""
    out = []
    while upto > after:
        out.append((max(after, upto - DAY_MS), upto))
        upto -= DAY_MS
    return out


# --- starting it ----------------------------------------------------------------------------------------

def configure_logging() -> None:
    """Progress lines on stderr, unless the application configured logging itself."""
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s pump: %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def start_thread(settings: Settings, store: Store | None = None) -> Feeder:
    """The feeder in a thread of this process (waitress, the test server). Provisions the default pump."""
    configure_logging()
    own = store or Store(settings.effective_database_url)
    provision(settings, own)
    return Feeder(own, settings).start()


def provision(settings: Settings, store: Store) -> None:
    """The default tenant's pump on first start (idempotent)."""
    from emulator.devices.fleet import ensure_default_pump

    clock = Clock()
    ControlPlane(store, clock).sync()
    if ensure_default_pump(store, settings.tenant, settings.seed, clock.time()):
        log.info("created simulated pump P-101 in tenant %s", settings.tenant)


def spawn_process(settings: Settings):
    """The feeder as a child process (under gunicorn: one for all workers). Settings go by stdin, not argv,
    so the client secret does not show in the process list."""
    import subprocess

    proc = subprocess.Popen([sys.executable, "-m", "emulator.devices.feeder", str(os.getpid())],
                            stdin=subprocess.PIPE, text=True)
    proc.stdin.write(json.dumps(settings.__dict__))
    proc.stdin.close()
    return proc


def _main() -> None:
    parent = int(sys.argv[1])
    settings = Settings(**json.loads(sys.stdin.read())).validate()
    if hasattr(os, "nice"):
        os.nice(10)  # serving requests comes first: history can wait a moment for a busy CPU
    configure_logging()
    store = Store(settings.effective_database_url)
    feeder = Feeder(store, settings).start()
    try:
        while os.getppid() == parent and feeder._thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        feeder.stop()
        store.dispose()


if __name__ == "__main__":
    _main()
