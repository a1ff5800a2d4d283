"""The service model of a contract: which entity sets it publishes and what their properties are.

Built once, when the contract is saved, from the tenant's asset types, and stored with it, so that the
CSDL a user downloads and the ``$metadata`` the service answers stay one document (Asset Manager's
contract is a document too). Per asset type of the contract (mindsphere-api.md 6b, seed 8):

* an **asset** set named after the type: its assets and those of its subtypes, keyed by ``assetId``;
* per dynamic aspect, a **time series** set ``TS_{AspectType}_{AspectName}_{AssetType}`` (the name
  pattern is ours [?]): one row per record, keyed by a synthetic ``id`` (Mendix refuses date keys);
* per dynamic aspect, an **aggregate** set ``AGGR_{AspectType}_{AspectName}_{AssetType}`` [C]: one
  row per interval, variable and aggregation type.

Associations exist only inside one contract, and only of the one kind seed 8.2 describes: a derived
type and its base type published together. The pair is two single-valued navigation properties naming
each other as ``Partner`` (Mendix makes an association only from a partnered pair): ``Base_{Base}`` on
the derived type (every derived asset is an asset of its base type: exactly one, not nullable) and
``Derived_{Derived}`` on the base type (an asset of the base type is at most one asset of that derived
type). No other association is published: nothing says Data Hub publishes the asset hierarchy.
"""

from __future__ import annotations

import re

from emulator import limits

ASSET_FIELDS = [  # (property, column, Edm type, MaxLength, nullable)
    ("assetId", "asset_id", "Edm.String", 32, False),
    ("name", "name", "Edm.String", limits.ASSET_NAME_MAX, False),
    ("description", "description", "Edm.String", limits.DESCRIPTION_MAX, True),
    ("externalId", "external_id", "Edm.String", limits.EXTERNAL_ID_MAX, True),
    ("parentId", "parent_id", "Edm.String", 32, True),
    ("typeId", "type_id", "Edm.String", 128, False),
    ("timezone", "timezone", "Edm.String", 64, False),
    ("twinType", "twin_type", "Edm.String", 16, False),
]
TIMESTAMP_LENGTH = 23  # YYYY-MM-DDTHH:mm:ss.fff
AGGREGATION_TYPES = ("average", "sum", "minvalue", "maxvalue", "firstvalue", "lastvalue", "countgood",
                     "countuncertain", "countbad", "sd")
EDM = {"DOUBLE": "Edm.Double", "INT": "Edm.Int32", "LONG": "Edm.Int64", "BOOLEAN": "Edm.Boolean",
       "STRING": "Edm.String", "BIG_STRING": "Edm.String", "TIMESTAMP": "Edm.String"}
NUMERIC = ("DOUBLE", "INT", "LONG")

# Filter limits of seed 8.5: property -> operators (comparisons and string functions).
ASSET_FILTERS = {p: ("eq", "contains", "startswith", "endswith")
                 for p in ("assetId", "name", "parentId", "timezone", "typeId")}
TIMESERIES_FILTERS = {"assetId": ("eq",), "timestamp": ("gt", "le")}
AGGREGATE_FILTERS = {**{p: ("eq",) for p in ("assetId", "aggregationType", "variableName", "intervalUnit",
                                             "intervalValue", "intervalCount")},
                     "timestamp": ("gt", "le")}


def identifier(name: str) -> str:
    """An OData SimpleIdentifier for a MindSphere name (type names may start with a digit)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return name if re.match(r"[A-Za-z_]", name) else "_" + name


def prop(name: str, edm: str, max_length: int | None = None, nullable: bool = True, **source) -> dict:
    out = {"name": name, "type": edm, "nullable": nullable, **source}
    if max_length is not None:
        out["maxLength"] = max_length
    return out


def aggregate_name(aspect_type_name: str, aspect: str, asset_type_name: str) -> str:
    return f"AGGR_{aspect_type_name}_{aspect}_{asset_type_name}"


def _variable_prop(name: str, var: dict, **source) -> dict:
    data_type = var["dataType"]
    length = var.get("length") if data_type == "STRING" else (
        limits.BIG_STRING_MAX_LENGTH if data_type == "BIG_STRING" else
        TIMESTAMP_LENGTH if data_type == "TIMESTAMP" else None)
    return prop(name, EDM[data_type], length, True, dataType=data_type, **source)


def _asset_set(type_row: dict, model, taken: set[str]) -> dict:
    props = [prop(p, edm, n, nullable, column=col) for p, col, edm, n, nullable in ASSET_FIELDS]
    names = {p["name"] for p in props}

    def free(name: str) -> str:
        name = identifier(name)
        while name in names:
            name = "variable_" + name
        names.add(name)
        return name

    for var_name, var in model.variables.items():
        props.append(_variable_prop(free(var_name), var, variable=var_name))
    for aspect, aspect_type in model.static_aspects():
        for var in aspect_type["variables"]:
            props.append(_variable_prop(free(f"{aspect}_{var['name']}"), var, aspect=aspect, variable=var["name"]))
    name = _unique(identifier(type_row["name"]), taken)
    return {"kind": "asset", "name": name, "typeId": type_row["id"], "key": "assetId", "properties": props,
            "filters": ASSET_FILTERS, "sortable": [p for p, *_ in ASSET_FIELDS], "navigation": []}


def _aspect_sets(type_row: dict, model, taken: set[str]) -> list[dict]:
    out = []
    for aspect, aspect_type in model.aspects:
        if aspect_type["category"] != "dynamic":
            continue
        common = {"typeId": type_row["id"], "aspect": aspect, "aspectTypeId": aspect_type["id"]}
        key = prop("id", "Edm.String", 200, False)
        stamp = [prop("assetId", "Edm.String", 32, False), prop("timestamp", "Edm.String", TIMESTAMP_LENGTH, False)]
        variables = []
        for var in aspect_type["variables"]:
            variables.append(_variable_prop(identifier(var["name"]), var, variable=var["name"]))
            if var.get("qualityCode"):
                variables.append(prop(identifier(var["name"] + "_qc"), "Edm.Int64", None, True,
                                      variable=var["name"] + "_qc", dataType="LONG"))
        series = f"TS_{aspect_type['name']}_{aspect}_{type_row['name']}"
        out.append({"kind": "timeseries", "name": _unique(identifier(series), taken), "key": "id",
                    "properties": [key, *stamp, *variables], "filters": TIMESERIES_FILTERS,
                    "sortable": ["timestamp"], "navigation": [], **common})
        numeric = [var["name"] for var in aspect_type["variables"] if var["dataType"] in NUMERIC]
        fields = [prop("aggregationType", "Edm.String", 16, False), prop("variableName", "Edm.String", 64, False),
                  prop("intervalUnit", "Edm.String", 8, False), prop("intervalValue", "Edm.Int32", None, False),
                  prop("intervalCount", "Edm.Int32", None, False), prop("value", "Edm.Double", None, True)]
        aggregates = aggregate_name(aspect_type["name"], aspect, type_row["name"])
        out.append({"kind": "aggregate", "name": _unique(identifier(aggregates), taken), "fullName": aggregates,
                    "key": "id", "properties": [key, *stamp, *fields], "filters": AGGREGATE_FILTERS,
                    "sortable": ["timestamp"], "variables": numeric, "navigation": [], **common})
    return out


def _unique(name: str, taken: set[str]) -> str:
    base, n = name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _link(derived: dict, base: dict) -> None:
    """The partnered pair of a derived type's set and its base type's set (seed 8.2): the same asset seen as
    either, so one-to-zero-or-one."""
    base_nav, derived_nav = f"Base_{base['name']}", f"Derived_{derived['name']}"
    derived["navigation"].append({"name": base_nav, "target": base["name"], "collection": False,
                                  "partner": derived_nav, "relation": "base", "nullable": False})
    base["navigation"].append({"name": derived_nav, "target": derived["name"], "collection": False,
                               "partner": base_nav, "relation": "derived", "nullable": True})


def build(type_ids: list[str], catalog) -> dict:
    """The service model of a contract over ``type_ids`` (checked to exist by the caller)."""
    graph = catalog.graph
    taken: set[str] = set()
    asset_sets = [_asset_set(graph.rows[t], catalog.model(t), taken) for t in type_ids]
    sets = list(asset_sets)
    for type_id in type_ids:
        sets += _aspect_sets(graph.rows[type_id], catalog.model(type_id), taken)
    by_type = {s["typeId"]: s for s in asset_sets}
    for s in asset_sets:
        for base_id in graph.ancestors(s["typeId"]):
            if base_id in by_type:
                _link(s, by_type[base_id])
    return {"sets": sets}


def current(model: dict) -> dict:
    """A stored service model as this version publishes it. Contracts saved by earlier versions carry
    associations of the asset hierarchy (``Parent_``/``Children_``, invented) and a collection-valued
    ``Derived_``: the first are dropped, the second made single-valued, as :func:`build` makes them now."""
    def outdated(nav: dict) -> bool:
        return nav["relation"] in ("parent", "children") or (nav["relation"] == "derived" and nav["collection"])

    if not any(outdated(nav) for s in model["sets"] for nav in s["navigation"]):
        return model
    sets = []
    for s in model["sets"]:
        navs = [{**nav, "collection": False, "nullable": True} if nav["relation"] == "derived" else nav
                for nav in s["navigation"] if nav["relation"] not in ("parent", "children")]
        sets.append({**s, "navigation": navs})
    return {**model, "sets": sets}


def find_set(model: dict, name: str) -> dict | None:
    for entity_set in model["sets"]:
        if entity_set["name"] == name:
            return entity_set
    return None
