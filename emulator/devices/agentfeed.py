"""``--pump-via agent``: a simulated pump feeds its readings as a device does on MindSphere, as a MindConnect agent.

Each pump gets an agent (a ``core.mclib`` asset named after the pump, under the tenant's root) whose data source
configuration holds one data point per sensor (``<aspect>.<variable>``, of the variable's type and unit), mapped
with ``keepMapping`` onto the pump's variables. Its readings are posted as the Node SDK's BulkPostData bytes and
go through the exchange's own parsing, mapping and conversion (:mod:`emulator.mindconnect.exchange`) into IoT
Time Series, so the path device -> agent -> mapping -> time series -> aggregates -> OData runs end to end.

The feeder runs inside the server, so the exchange is entered in-process, in the feeder's transaction: the agent
needs no token (it is created, not onboarded). Values go as the strings the SDK sends (``repr`` of a float reads
back to the same float), a quality code only where a reading has one, so the records are the ones the store path
writes. Off by default: it costs the building and parsing of the bodies.
"""

from __future__ import annotations

from sqlalchemy import select

from emulator.agents import service as agents_service
from emulator.agents.models import agents
from emulator.devices import sensors
from emulator.mindconnect import exchange, multipart
from emulator.mindconnect import service as mc_service
from emulator.store import TenantScope
from emulator.store.models import tenants
from emulator.timeseries import service as ts_service

CONFIGURATION_ID = "CF-pump"


def agent_name(pump_id: str) -> str:
    return f"pump-agent-{pump_id}"


def _point_id(aspect: str, variable: str) -> str:
    return f"{aspect}.{variable}"


def ensure_agent(scope: TenantScope, pump_id: str, now: float) -> str:
    """The pump's agent id, provisioned (agent, configuration, mappings) on first use."""
    name = agent_name(pump_id)
    found = scope.conn.scalar(select(agents.c.agent_id).where(agents.c.tenant_id == scope.tenant,
                                                              agents.c.name == name))
    if found is not None:
        return found
    tenant = scope.conn.execute(select(tenants.c.root_asset_id, tenants.c.default_timezone)
                                .where(tenants.c.name == scope.tenant)).first()
    agent = agents_service.create(scope, {"name": name, "securityProfile": "SHARED_SECRET"}, now=now,
                                  root_id=tenant.root_asset_id, default_timezone=tenant.default_timezone)
    points, targets = [], []
    for aspect in sensors.ASPECTS:
        for variable in ts_service.aspect_schema(scope, pump_id, aspect).variables.values():
            point = {"id": _point_id(aspect, variable["name"]), "name": variable["name"][:64],
                     "type": variable["dataType"]}
            if variable.get("unit"):
                point["unit"] = variable["unit"]
            points.append(point)
            targets.append((point["id"], aspect, variable["name"]))
    agents_service.put_dsc(scope, agent["id"], {"configurationId": CONFIGURATION_ID, "dataSources": [
        {"name": "SimulatedPump", "description": f"the sensors of pump {pump_id}", "dataPoints": points}]}, "0")
    for point_id, aspect, variable in targets:
        mc_service.create_mapping(scope, {"agentId": agent["id"], "dataPointId": point_id, "entityId": pump_id,
                                          "propertySetName": aspect, "propertyName": variable, "keepMapping": True},
                                  caller=None, now=now)
    return agent["id"]


def samples(batches: dict[str, list[dict]]) -> list[dict]:
    """The aspects' records as BulkPostData samples, one per time, oldest first."""
    by_time: dict[str, list[dict]] = {}
    for aspect, records in batches.items():
        for record in records:
            values = by_time.setdefault(record["_time"], [])
            for key, value in record.items():
                if key == "_time" or key.endswith("_qc"):
                    continue
                item = {"dataPointId": _point_id(aspect, key), "value": multipart.value_text(value)}
                if f"{key}_qc" in record:
                    item["qualityCode"] = str(record[f"{key}_qc"])
                values.append(item)
    return [{"timestamp": t, "values": v} for t, v in sorted(by_time.items())]


def post(scope: TenantScope, pump_id: str, batches: dict[str, list[dict]], now: float) -> int:
    """The readings through the pump's agent and the exchange; how many records were written."""
    agent_id = ensure_agent(scope, pump_id, now)
    body, content_type = multipart.build(samples(batches), CONFIGURATION_ID)
    return exchange.ingest(scope, agent_id, multipart.parse(body, content_type), lenient=False).written

