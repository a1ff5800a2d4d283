"""Aspect types and asset types: create, update within MindSphere's rules, delete, inheritance.

Services take a :class:`TenantScope` and plain values, and return store rows; they know nothing of
HTTP. Update rules (mindsphere-api.md 2a, 2d): an aspect type's category, variables' data types,
units and quality codes are fixed; variables may be added, not removed; a static STRING may grow
longer, a dynamic one not. An asset type's parent is fixed, ``instantiable`` may only go from
false to true, aspects and variables may be added, and every aspect and variable name is unique
across the type's whole family (ancestors and descendants).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import update

from emulator import errors
from emulator.assets import validation as v
from emulator.assets.core_types import canonical
from emulator.assets.models import aspect_types, asset_types, assets
from emulator.store import TenantScope, kept_for_model, model_changed_here
from emulator.store.models import tenants

# --- ETag preconditions shared by every resource ----------------------------------------------------

def check_preconditions(row, if_match: str | None, if_none_match: str | None, what: str) -> int | None:
    """For a PUT that may create: the expected etag of an update, or None to create."""
    if row is None:
        if if_match is not None:
            raise errors.PreconditionFailed(f"The {what} does not exist; send no If-Match to create it")
        return None
    if if_none_match is not None and if_none_match.strip() == "*":
        raise errors.PreconditionFailed(f"The {what} already exists (If-None-Match: *)")
    return expect_etag(row, if_match, what)


def expect_etag(row, if_match: str | None, what: str) -> int:
    expected = v.if_match(if_match)
    if expected != row["etag"]:
        raise errors.PreconditionFailed(
            f"The {what} was changed by someone else: If-Match {expected} but its etag is {row['etag']}")
    return expected


def update_checked(scope: TenantScope, table, key_column, key, expected: int, what: str, values: dict) -> None:
    """UPDATE ... WHERE etag = expected: of two concurrent writers with one etag, exactly one wins."""
    count = scope.update(table, key_column == key, table.c.etag == expected, etag=expected + 1, **values)
    if count != 1:
        raise errors.PreconditionFailed(f"The {what} was changed by someone else (etag {expected} is stale)")


def delete_checked(scope: TenantScope, table, key_column, key, expected: int, what: str) -> None:
    if scope.delete(table, key_column == key, table.c.etag == expected) != 1:
        raise errors.PreconditionFailed(f"The {what} was changed by someone else (etag {expected} is stale)")


# --- aspect types -------------------------------------------------------------------------------------

def get_aspect_type(scope: TenantScope, type_id: str):
    row = scope.get(aspect_types, type_id)
    if row is None:
        raise errors.NotFound(f"Aspect type {type_id!r} not found")
    return row


def _name(scope: TenantScope, type_id: str, body: dict) -> str:
    name, suffix = body["name"], type_id[len(scope.tenant) + 1:]
    if name != suffix:
        raise errors.InvalidBody(f"name {name!r} must equal the id's name part {suffix!r}")
    return name


def _aspect_type_fields(scope: TenantScope, type_id: str, body: dict) -> dict:
    """The stored fields of an aspect type body (its shape checked: AspectTypeInput)."""
    category = body["category"]
    variables = [v.variable_definition(item, f"variables[{i}]", category=category)
                 for i, item in enumerate(body["variables"])]
    v.unique_names(variables, "Variable")
    return {"name": _name(scope, type_id, body), "category": category, "scope": "private",
            "description": body.get("description"), "variables": variables}


def _check_aspect_type_update(old, new: dict) -> None:
    if old["category"] != new["category"]:
        raise errors.InvalidBody(f"category cannot change ({old['category']} -> {new['category']})")
    by_name = {var["name"]: var for var in new["variables"]}
    for var in old["variables"]:
        now = by_name.get(var["name"])
        if now is None:
            raise errors.InvalidBody(f"variable {var['name']!r} cannot be removed; send every existing variable")
        for key in ("dataType", "unit", "qualityCode"):
            if now.get(key) != var.get(key):
                raise errors.InvalidBody(f"variable {var['name']!r}: {key} cannot change")
        if var["dataType"] in ("STRING", "BIG_STRING") and now["length"] != var["length"]:
            if old["category"] == "dynamic":
                raise errors.InvalidBody(f"variable {var['name']!r}: the length of a dynamic string cannot change")
            if now["length"] < var["length"]:
                raise errors.InvalidBody(f"variable {var['name']!r}: a static string's length may only grow")


def put_aspect_type(scope: TenantScope, type_id: str, body: dict, if_match, if_none_match, now: float):
    """Create (-> created=True) or update an aspect type; returns (row, created)."""
    v.type_id(scope.tenant, type_id, "aspect type")
    fields = _aspect_type_fields(scope, type_id, body)
    old = scope.get(aspect_types, type_id)
    expected = check_preconditions(old, if_match, if_none_match, "aspect type")
    if expected is None:
        scope.insert(aspect_types, id=type_id, etag=0, created_at=now, **fields)
        model_changed(scope)
        return scope.get(aspect_types, type_id), True
    _check_aspect_type_update(old, fields)
    update_checked(scope, aspect_types, aspect_types.c.id, type_id, expected, "aspect type", fields)
    model_changed(scope)
    return scope.get(aspect_types, type_id), False


def aspect_type_body(row) -> dict:
    """The request shape of an existing aspect type (the base a merge patch applies to)."""
    return {"name": row["name"], "category": row["category"], "scope": row["scope"],
            "description": row["description"], "variables": [dict(var) for var in row["variables"]]}


def delete_aspect_type(scope: TenantScope, type_id: str, if_match) -> None:
    row = get_aspect_type(scope, type_id)
    expected = expect_etag(row, if_match, "aspect type")
    for t in scope.all(scope.select(asset_types, asset_types.c.id, asset_types.c.aspects)):
        if any(a["aspectTypeId"] == type_id for a in t["aspects"]):
            raise errors.Conflict(f"Aspect type {type_id!r} is used by asset type {t['id']!r}")
    delete_checked(scope, aspect_types, aspect_types.c.id, type_id, expected, "aspect type")
    model_changed(scope)


# --- asset types and their family ----------------------------------------------------------------------

@dataclass
class TypeGraph:
    """All asset types of a tenant (a few dozen rows), for inheritance questions."""

    rows: dict[str, dict]

    @classmethod
    def load(cls, scope: TenantScope) -> TypeGraph:
        return cls({r["id"]: dict(r) for r in scope.all(scope.select(asset_types))})

    def resolve(self, type_id) -> str | None:
        if not isinstance(type_id, str):
            return None
        type_id = canonical(type_id)
        return type_id if type_id in self.rows else None

    def ancestors(self, type_id: str) -> list[str]:
        """Parent first, up to the top; stops on a cycle (which the service never creates)."""
        out, seen = [], {type_id}
        parent = self.rows[type_id]["parent_type_id"]
        while parent and parent in self.rows and parent not in seen:
            out.append(parent)
            seen.add(parent)
            parent = self.rows[parent]["parent_type_id"]
        return out

    def descendants(self, type_id: str) -> list[str]:
        children: dict[str, list[str]] = {}
        for row in self.rows.values():
            if row["parent_type_id"]:
                children.setdefault(row["parent_type_id"], []).append(row["id"])
        out, stack = [], list(children.get(type_id, []))
        while stack:
            current = stack.pop()
            if current not in out:
                out.append(current)
                stack.extend(children.get(current, []))
        return out

    def with_subtypes(self, type_id: str) -> list[str]:
        resolved = self.resolve(type_id)
        return [] if resolved is None else [resolved, *self.descendants(resolved)]

    def lineage(self, type_id: str) -> list[str]:
        """The type's ancestors from the top down, then the type itself (inheritance order)."""
        return [*reversed(self.ancestors(type_id)), type_id]

    def members(self, type_id: str) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
        """(origin, aspect) and (origin, variable) pairs the type has, inherited ones first."""
        aspects, variables = [], []
        for origin in self.lineage(type_id):
            row = self.rows[origin]
            aspects += [(origin, a) for a in row["aspects"]]
            variables += [(origin, var) for var in row["variables"]]
        return aspects, variables


class Model:
    """What an asset's type gives it: static variables and aspects (inherited ones included)."""

    def __init__(self, graph: TypeGraph, aspect_type_rows: dict, type_id: str):
        aspects, variables = graph.members(type_id)
        self.variables = {var["name"]: var for _src, var in variables}
        self.aspects = [(a["name"], aspect_type_rows[a["aspectTypeId"]]) for _src, a in aspects
                        if a["aspectTypeId"] in aspect_type_rows]

    def static_aspects(self):
        return [(name, at) for name, at in self.aspects if at["category"] == "static"]

    def render_values(self, stored_vars: list, stored_aspects: list) -> tuple[list, list]:
        """Asset ``variables`` and ``aspects`` values, defaults filled in. A variable without a value (its own
        or its default) is left out of ``variables``, as real answers do (a site shows ``[]`` although it
        inherits externalId and hierarchyModel; research sdk-parity.md 3) [D]."""
        given = {item["name"]: item["value"] for item in stored_vars}
        variables = [{"name": n, "value": value} for n, var in self.variables.items()
                     if (value := given.get(n, var.get("defaultValue"))) is not None]
        by_aspect = {a["name"]: {x["name"]: x["value"] for x in a["variables"]} for a in stored_aspects}
        aspects = [{"name": name, "variables": [{"name": var["name"],
                                                  "value": by_aspect.get(name, {}).get(var["name"],
                                                                                     var.get("defaultValue"))}
                                                 for var in at["variables"]]}
                   for name, at in self.static_aspects()]
        return variables, aspects

    def parse_values(self, body: dict) -> tuple[list, list]:
        """Validated ``variables`` and static ``aspects`` values of a request body (its shape checked), as stored:
        each a variable of the type, of its data type."""
        variables = []
        for i, item in enumerate(body.get("variables") or []):
            name, value = item["name"], item.get("value")
            var = self.variables.get(name)
            if var is None:
                raise errors.InvalidBody(f"variables[{i}]: the asset type has no variable {name!r}")
            variables.append({"name": name, "value": v.value_of_type(var["dataType"], value, var["length"],
                                                                     f"variables[{i}].value")})
        statics = dict(self.static_aspects())
        known = {name for name, _ in self.aspects}
        aspects = []
        for i, item in enumerate(body.get("aspects") or []):
            name = item["name"]
            if name not in statics:
                why = "is dynamic: its values are time series" if name in known else "is not an aspect of the type"
                raise errors.InvalidBody(f"aspects[{i}]: {name!r} {why}")
            defs = {var["name"]: var for var in statics[name]["variables"]}
            values = []
            for j, pair in enumerate(item.get("variables") or []):
                var_name, value = pair["name"], pair.get("value")
                if var_name not in defs:
                    raise errors.InvalidBody(f"aspects[{i}].variables[{j}]: no variable {var_name!r} in {name!r}")
                var = defs[var_name]
                values.append({"name": var_name, "value": v.value_of_type(
                    var["dataType"], value, var["length"], f"aspects[{i}].variables[{j}].value")})
            aspects.append({"name": name, "variables": values})
        return variables, aspects


@dataclass
class Catalog:
    """A tenant's asset types and aspect types at one model version: loaded once per version and
    process, shared by the requests that read it, never changed (a change makes a new version)."""

    graph: TypeGraph
    aspect_types: dict[str, dict]
    _models: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)  # other data of the same model version (files.assignments)

    def model(self, type_id: str) -> Model:
        model = self._models.get(type_id)
        if model is None:
            model = self._models[type_id] = Model(self.graph, self.aspect_types, type_id)
        return model


def catalog(scope: TenantScope) -> Catalog:
    """The tenant's catalog, read again only when its model version moved (one small query)."""
    return kept_for_model(scope, ("catalog", scope.tenant), lambda _version: Catalog(
        TypeGraph.load(scope), {r["id"]: dict(r) for r in scope.all(scope.select(aspect_types))}))


def model_changed(scope: TenantScope) -> None:
    """Called by every write of aspect or asset types and of file assignments, in its transaction."""
    scope.conn.execute(update(tenants).where(tenants.c.name == scope.tenant)
                       .values(model_version=tenants.c.model_version + 1))
    model_changed_here(scope)


def get_asset_type(scope: TenantScope, type_id: str, graph: TypeGraph | None = None):
    graph = graph or catalog(scope).graph
    resolved = graph.resolve(type_id)
    if resolved is None:
        raise errors.NotFound(f"Asset type {type_id!r} not found")
    return graph.rows[resolved], graph


def _asset_type_fields(scope: TenantScope, type_id: str, body: dict, graph: TypeGraph) -> dict:
    """The stored fields of an asset type body (its shape checked: AssetTypeInput)."""
    name = _name(scope, type_id, body)
    parent = graph.resolve(body.get("parentTypeId"))
    if parent is None:
        raise errors.InvalidBody(f"parentTypeId {body.get('parentTypeId')!r} is not an existing asset type")
    if parent == type_id or type_id in graph.ancestors(parent):
        raise errors.InvalidBody("parentTypeId would make the type its own ancestor")
    aspects = []
    for i, item in enumerate(body.get("aspects") or []):
        if scope.get(aspect_types, item["aspectTypeId"]) is None:
            raise errors.InvalidBody(f"aspects[{i}].aspectTypeId {item['aspectTypeId']!r} is not an existing aspect "
                                     "type")
        aspects.append({"name": item["name"], "aspectTypeId": item["aspectTypeId"]})
    variables = [v.variable_definition(item, f"variables[{i}]", category="static", asset_type=True)
                 for i, item in enumerate(body.get("variables") or [])]
    return {"name": name, "description": body.get("description"), "parent_type_id": parent,
            "instantiable": v.flag(body, "instantiable", True), "scope": "private", "aspects": aspects,
            "variables": variables}


def _check_family_names(graph: TypeGraph, type_id: str, fields: dict) -> None:
    """Aspect and variable names are unique across ancestors and descendants."""
    family = [t for t in (*graph.ancestors(fields["parent_type_id"]), fields["parent_type_id"],
                          *graph.descendants(type_id)) if t in graph.rows and t != type_id]
    for kind in ("aspects", "variables"):
        mine = fields[kind]
        v.unique_names(mine, "Aspect" if kind == "aspects" else "Variable")
        names = {item["name"].lower() for item in mine}
        for other in family:
            for item in graph.rows[other][kind]:
                if item["name"].lower() in names:
                    raise errors.InvalidBody(f"{kind[:-1]} name {item['name']!r} is already used by asset type "
                                             f"{other!r} of the same family")


def _check_asset_type_update(old: dict, new: dict) -> None:
    if old["parent_type_id"] != new["parent_type_id"]:
        raise errors.InvalidBody("parentTypeId cannot change")
    if old["instantiable"] and not new["instantiable"]:
        raise errors.InvalidBody("instantiable can only change from false to true")
    for kind in ("aspects", "variables"):
        kept = {item["name"]: item for item in new[kind]}
        for item in old[kind]:
            if item["name"] not in kept:
                raise errors.InvalidBody(f"{kind[:-1]} {item['name']!r} cannot be removed")
            if kind == "aspects" and kept[item["name"]]["aspectTypeId"] != item["aspectTypeId"]:
                raise errors.InvalidBody(f"aspect {item['name']!r}: aspectTypeId cannot change")
            if kind == "variables" and kept[item["name"]]["dataType"] != item["dataType"]:
                raise errors.InvalidBody(f"variable {item['name']!r}: dataType cannot change")


def put_asset_type(scope: TenantScope, type_id: str, body: dict, if_match, if_none_match, now: float):
    v.type_id(scope.tenant, type_id, "asset type")
    graph = catalog(scope).graph
    fields = _asset_type_fields(scope, type_id, body, graph)
    old = graph.rows.get(type_id)
    expected = check_preconditions(old, if_match, if_none_match, "asset type")
    _check_family_names(graph, type_id, fields)
    if expected is None:
        scope.insert(asset_types, id=type_id, builtin=False, etag=0, created_at=now, **fields)
        model_changed(scope)
        return True
    _check_asset_type_update(old, fields)
    update_checked(scope, asset_types, asset_types.c.id, type_id, expected, "asset type", fields)
    model_changed(scope)
    return False


def asset_type_body(row) -> dict:
    return {"name": row["name"], "description": row["description"], "parentTypeId": row["parent_type_id"],
            "instantiable": row["instantiable"], "scope": row["scope"],
            "aspects": [dict(a) for a in row["aspects"]], "variables": [dict(var) for var in row["variables"]]}


def delete_asset_type(scope: TenantScope, type_id: str, if_match) -> None:
    row, graph = get_asset_type(scope, type_id)
    if row["builtin"]:
        raise errors.Forbidden(f"The core type {row['id']!r} cannot be deleted")
    expected = expect_etag(row, if_match, "asset type")
    children = [r["id"] for r in graph.rows.values() if r["parent_type_id"] == row["id"]]
    if children:
        raise errors.Conflict(f"Asset type {row['id']!r} has child types ({', '.join(sorted(children))})")
    if scope.count(assets, assets.c.type_id == row["id"]):
        raise errors.Conflict(f"Asset type {row['id']!r} is instantiated by assets")
    delete_checked(scope, asset_types, asset_types.c.id, row["id"], expected, "asset type")
    model_changed(scope)


# --- PATCH .../variables: merge patch of a type's variables by name (research sdk-parity.md 4) ----------

_VARIABLE_CHANGES = ("name", "unit", "length", "defaultValue")


def _patched_variable(var: dict, change: dict, where: str, *, category: str, asset_type: bool) -> dict:
    """``var`` with ``change`` (name, unit, length, defaultValue) merged in, checked as a definition: a string
    may only grow (a dynamic one keeps its length, as on PUT)."""
    merged = {**var, **{key: change[key] for key in _VARIABLE_CHANGES if key in change}}
    out = v.variable_definition(merged, where, category=category, asset_type=asset_type)
    if var["dataType"] in ("STRING", "BIG_STRING") and out["length"] != var["length"]:
        if category == "dynamic":
            raise errors.InvalidBody(f"{where}: the length of a dynamic string cannot change")
        if out["length"] < var["length"]:
            raise errors.InvalidBody(f"{where}: a static string's length may only grow")
    return out


def _in_use(what: str, type_id: str, users: int, changed: list[str]) -> None:
    if changed and users:
        raise errors.Conflict(f"The {what} {type_id!r} is in use: its variables {', '.join(changed)} cannot be "
                              "renamed or deleted while it is")


def patch_asset_type_variables(scope: TenantScope, type_id: str, patch: dict, if_match) -> int:
    """Merge ``{"<variable>": {name?, unit?, length?, defaultValue?}}`` into an asset type's own variables;
    none can be added or deleted. Returns the new etag."""
    row, graph = get_asset_type(scope, type_id)
    if row["builtin"]:
        raise errors.Forbidden(f"The core type {row['id']!r} cannot be changed")
    current = {var["name"]: var for var in row["variables"]}
    for name, change in patch.items():
        if name not in current:
            raise errors.NotFound(f"Variable {name!r} not found in asset type {row['id']!r}")
        if change is None:
            raise errors.InvalidBody(f"variables.{name}: the variables of an asset type cannot be deleted")
    expected = expect_etag(row, if_match, "asset type")
    variables = [_patched_variable(var, patch[name], f"variables.{name}", category="static", asset_type=True)
                 if name in patch else dict(var) for name, var in current.items()]
    _check_family_names(graph, row["id"], {"parent_type_id": row["parent_type_id"], "aspects": row["aspects"],
                                           "variables": variables})
    renamed = [old for old, new in zip(current, variables, strict=True) if new["name"] != old]
    family = [row["id"], *graph.descendants(row["id"])]
    _in_use("asset type", row["id"], scope.count(assets, assets.c.type_id.in_(family)), renamed)
    update_checked(scope, asset_types, asset_types.c.id, row["id"], expected, "asset type", {"variables": variables})
    model_changed(scope)
    return expected + 1


def patch_aspect_type_variables(scope: TenantScope, type_id: str, patch: dict, if_match) -> int:
    """Merge ``{"<variable>": {...} | null}`` into an aspect type's variables: a known name is changed (name,
    unit, length, defaultValue), ``null`` deletes it, an unknown name adds a full definition. Returns the new
    etag."""
    row = get_aspect_type(scope, type_id)
    category = row["category"]
    current = {var["name"]: var for var in row["variables"]}
    for name, change in patch.items():
        if name not in current and change is None:
            raise errors.NotFound(f"Variable {name!r} not found in aspect type {type_id!r}")
    expected = expect_etag(row, if_match, "aspect type")
    variables, changed = [], []
    for name, var in current.items():
        if name not in patch:
            variables.append(dict(var))
        elif patch[name] is None:
            changed.append(name)
        else:
            new = _patched_variable(var, patch[name], f"variables.{name}", category=category, asset_type=False)
            if new["name"] != name:
                changed.append(name)
            variables.append(new)
    for name, change in patch.items():
        if name not in current:
            if "dataType" not in change:
                raise errors.InvalidBody(f"variables.{name}: a new variable needs its dataType")
            variables.append(v.variable_definition({"name": name, **change}, f"variables.{name}", category=category))
    if not variables:
        raise errors.InvalidBody("an aspect type keeps at least one variable")
    v.unique_names(variables, "Variable")
    users = sum(1 for t in catalog(scope).graph.rows.values() for a in t["aspects"] if a["aspectTypeId"] == type_id)
    _in_use("aspect type", type_id, users, changed)
    update_checked(scope, aspect_types, aspect_types.c.id, type_id, expected, "aspect type", {"variables": variables})
    model_changed(scope)
    return expected + 1
