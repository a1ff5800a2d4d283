"""Property tests of Asset Management's ``filter=`` language against a plain-Python reference.

Why: the filter language (mindsphere-api.md 2c, ``emulator/assets/filters.py``) is translated to
SQL, and SQL has its own ideas about NULL (three-valued logic), ``LIKE`` wildcards (``%``, ``_``,
``\\``) and case (SQLite's ``LIKE`` ignores ASCII case unless ``case_sensitive_like`` is on).
Each of those can silently change which assets a filter returns, and differently on SQLite and
PostgreSQL. So the documented semantics are written down a second time here, as a small
evaluator over asset JSON (:func:`matches`), and random filter documents must select exactly the
same assets through the SQL translation and through the HTTP API, as a client sees them.

The reference implements filters.py's docstring, nothing read off its code:

* a document is an object whose keys are ANDed; ``and``/``or`` take an object (each key a
  condition) or an array of documents; ``not`` takes a document;
* a field's value is a literal (implicit ``eq``; ``null`` means "the field is null") or an object
  of operators, ANDed: ``eq``, ``in`` (``{"value": [...]}``), ``startsWith``, ``endsWith``,
  ``contains`` (case-sensitive, no wildcards), ``before``/``after``/``between`` (timestamps), and
  field-level ``not`` (a condition), ``and``/``or`` (an array of conditions);
* two-valued logic: a comparison with a null field is false, except ``eq null``; ``not`` is the
  exact complement of its condition (so field-level ``{"not": null}`` means "is not null");
* unknown field names are ignored (true); anything malformed is 400 ``invalidParameter``.
  Reading of ours where the docs are silent: numbers compare as their decimal text (as filters.py
  does), and a time operator on a text field is malformed (like ``startsWith`` on a time field).

``hasType`` is not generated (its answer depends on the type hierarchy), nor time operators
on ``deleted`` in well-formed documents: every asset's ``deleted`` is null.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Float, MetaData, String, Table, Text, create_engine, delete, event, insert, select

from emulator import errors
from emulator.assets.filters import Field, parse, to_sql
from tests.support.paths import ASSETS, ROOT

INVALID = "mdsp.core.generic.invalidParameter"

TEXT_FIELDS = ("assetId", "tenantId", "name", "externalId", "timezone", "twinType", "parentId", "typeId")
TIME_FIELDS = ("deleted",)
FILTER_FIELDS = TEXT_FIELDS + TIME_FIELDS
IGNORED_FIELDS = ("description", "noSuchField")  # not filterable (2c): a condition on them is true
TEXT_OPS = ("startsWith", "endsWith", "contains")
TIME_OPS = ("before", "after", "between")


# --- the reference evaluator -------------------------------------------------------------------


class Malformed(Exception):
    """The reference's verdict that the document is malformed: the API must answer 400."""


def matches(doc, asset: dict) -> bool:
    """Whether ``asset`` (API JSON: ``assetId``, ``name``, ...) satisfies the filter document ``doc``.

    Every part of the document is evaluated (no short-circuit), so that a malformed part raises
    :class:`Malformed` wherever it is, as the server validates the whole document.
    """
    return _document(doc, asset)


def _document(doc, asset) -> bool:
    if not isinstance(doc, dict):
        raise Malformed(f"a condition must be an object, not {doc!r}")
    return all([_entry(key, value, asset) for key, value in doc.items()])


def _entry(key: str, value, asset) -> bool:
    if key in ("and", "or"):
        if isinstance(value, dict):
            parts = [_entry(k, v, asset) for k, v in value.items()]
        elif isinstance(value, list):
            parts = [_document(item, asset) for item in value]
        else:
            raise Malformed(f"{key!r} takes an object or an array, not {value!r}")
        return all(parts) if key == "and" else any(parts)
    if key == "not":
        return not _document(value, asset)
    if key == "hasType":
        if not isinstance(value, str):
            raise Malformed("'hasType' takes a type id")
        raise NotImplementedError("hasType needs the type hierarchy; the generators do not use it")
    if key in FILTER_FIELDS:
        return _condition(key, value, asset)
    return True  # unknown fields are ignored


def _condition(field: str, cond, asset) -> bool:
    actual = _field_value(field, asset)
    if not isinstance(cond, dict):
        return _equals(field, cond, actual)
    if not cond:
        raise Malformed("an empty operator object")
    results = []
    for op, arg in cond.items():
        if op == "eq":
            results.append(_equals(field, arg, actual))
        elif op == "in":
            if not isinstance(arg, dict) or list(arg) != ["value"] or not isinstance(arg["value"], list):
                raise Malformed(f"'in' takes {{\"value\": [...]}}, not {arg!r}")
            results.append(actual in [_literal(field, v) for v in arg["value"]])
        elif op in TEXT_OPS:
            if not isinstance(arg, str) or field not in TEXT_FIELDS:
                raise Malformed(f"{op!r} takes a string and applies to text fields")
            test = {"startsWith": str.startswith, "endsWith": str.endswith, "contains": str.__contains__}[op]
            results.append(actual is not None and test(actual, arg))
        elif op in TIME_OPS:
            if field not in TIME_FIELDS:
                raise Malformed(f"{op!r} applies to timestamp fields")
            results.append(_time_op(op, arg, actual))
        elif op == "not":
            results.append(not _condition(field, arg, asset))
        elif op in ("and", "or"):
            if not isinstance(arg, list):
                raise Malformed(f"field-level {op!r} takes an array")
            parts = [_condition(field, item, asset) for item in arg]
            results.append(all(parts) if op == "and" else any(parts))
        else:
            raise Malformed(f"unknown operator {op!r}")
    return all(results)


def _field_value(field: str, asset):
    value = asset.get(field)
    return _timestamp(value) if field in TIME_FIELDS and value is not None else value


def _literal(field: str, value):
    if value is None:
        return None
    if field in TIME_FIELDS:
        return _timestamp(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Malformed(f"expected a string, not {value!r}")
    return str(value)


def _equals(field: str, value, actual) -> bool:
    literal = _literal(field, value)
    return actual is None if literal is None else actual == literal


def _timestamp(value) -> float:
    if not isinstance(value, str):
        raise Malformed(f"expected a timestamp, not {value!r}")
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Malformed(f"{value!r} is not a timestamp") from None
    if parsed.tzinfo is None:
        raise Malformed(f"{value!r} has no time zone")
    return parsed.timestamp()


def _time_op(op: str, arg, actual) -> bool:
    if not isinstance(arg, str):
        raise Malformed(f"{op!r} takes a timestamp string")
    if op == "before":
        bound = _timestamp(arg)
        return actual is not None and actual < bound
    if op == "after":
        bound = _timestamp(arg)
        return actual is not None and actual > bound
    text = arg.strip()
    parts = text[1:-1].split(",")
    if text[:1] not in ("[", "(") or text[-1:] not in ("]", ")") or len(parts) != 2 or not all(
            p.strip() for p in parts):
        raise Malformed(f"'between' takes \"[from, to)\", not {arg!r}")
    low, high = (_timestamp(p) for p in parts)
    if actual is None:
        return False
    above = actual >= low if text[0] == "[" else actual > low
    below = actual <= high if text[-1] == "]" else actual < high
    return above and below


MALFORMED = "400 invalidParameter"


def reference(doc, assets: list[dict]):
    """The asset ids ``doc`` selects, or :data:`MALFORMED` (decided even when there are no assets)."""
    try:
        matches(doc, {})  # an asset whose every field is null
        return {a["assetId"] for a in assets if matches(doc, a)}
    except Malformed:
        return MALFORMED


# --- generators --------------------------------------------------------------------------------

NAME_STEMS = ("Pump", "pump", "Pümpe", "Motor", "MOTOR", "a_b", "a%b", "a\\b", "Ventil")
NAME_TAILS = ("", "1", "_1", "%1", "\\1", " Süd", "Pump", "-x")
TIMEZONES = ("Europe/Berlin", "UTC", "America/New_York")
TWIN_TYPES = ("performance", "simulation")
ABSENT = ("nope", "PUMP", "", "Pump ", "pümpe", "%", "_", "\\", "Ü")
TIMESTAMPS = ("2018-01-01T00:00:00.00Z", "2018-01-01T00:00:00", "[2018-01-01T00:00:00Z, 2018-02-01T00:00:00Z)",
              "(2018-01-01T00:00:00Z,2018-02-01T00:00:00Z]", "2018-01-01", "soon", "[2018-01-01T00:00:00Z)")


def _fragments(values) -> list[str]:
    """Prefixes, suffixes and infixes of the present values, so that string operators often hit."""
    out = set(ABSENT)
    for value in values:
        if not isinstance(value, str) or not value:
            continue
        out.add(value)
        out.add(value.swapcase())
        for k in (1, 2, 3, len(value) - 1):
            if 0 < k < len(value):
                out.update((value[:k], value[-k:]))
        if len(value) > 2:
            out.add(value[1:-1])
            out.add(value[len(value) // 3: 2 * len(value) // 3 + 1])
    return sorted(out)


class Pool:
    """Literal and fragment candidates per field, drawn mostly from the values actually present."""

    def __init__(self, assets: list[dict]):
        self.literals: dict[str, list] = {}
        self.fragments: dict[str, list[str]] = {}
        for field in TEXT_FIELDS:
            present = sorted({a.get(field) for a in assets} - {None})
            self.literals[field] = [*present, None, "nope", "PUMP", ""] + ([42] if field == "name" else [])
            self.fragments[field] = _fragments(present)
        self.literals["deleted"] = [None, "2018-01-01T00:00:00.00Z"]
        self.strings = sorted({s for frags in self.fragments.values() for s in frags})


def _merge(docs: list[dict]) -> dict:
    merged = {}
    for doc in docs:
        merged.update(doc)
    return merged


def field_conditions(field: str, pool: Pool) -> st.SearchStrategy:
    """A field's condition: a literal, or an operator object, nested through field-level not/and/or."""
    literal = st.sampled_from(pool.literals[field])
    ops = [st.tuples(st.just("eq"), literal),
           st.tuples(st.just("in"), st.lists(literal, max_size=3).map(lambda v: {"value": v}))]
    if field in TEXT_FIELDS:
        ops.append(st.tuples(st.sampled_from(TEXT_OPS), st.sampled_from(pool.fragments[field])))
    simple = st.one_of(ops)

    def extend(inner):
        nested = st.one_of(st.tuples(st.just("not"), inner),
                           st.tuples(st.sampled_from(("and", "or")), st.lists(inner, max_size=3)))
        return st.lists(st.one_of(nested, simple), min_size=1, max_size=3).map(dict)

    return st.recursive(literal | st.lists(simple, min_size=1, max_size=2).map(dict), extend, max_leaves=5)


def filter_documents(pool: Pool) -> st.SearchStrategy[dict]:
    """Well-formed filter documents over the filterable fields (and a few ignored ones)."""
    entries = [field_conditions(f, pool).map(lambda c, f=f: {f: c}) for f in FILTER_FIELDS]
    ignored = st.tuples(st.sampled_from(IGNORED_FIELDS), st.sampled_from(pool.strings)).map(lambda t: {t[0]: t[1]})
    base = st.one_of(*entries, ignored, st.just({}))

    def extend(inner):
        connective = st.sampled_from(("and", "or"))
        return st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(_merge),  # implicit AND of keys
            st.tuples(connective, st.lists(inner, max_size=3)).map(lambda t: {t[0]: t[1]}),
            st.tuples(connective, st.lists(inner, min_size=1, max_size=3).map(_merge)).map(lambda t: {t[0]: t[1]}),
            inner.map(lambda d: {"not": d}),
        )

    return st.recursive(base, extend, max_leaves=6)


FAULTS = (
    {"name": {"like": "Pump"}},  # unknown operator
    {"name": {"startswith": "Pump"}},  # operator names are case-sensitive
    {"name": {"in": ["Pump"]}},  # 'in' without {"value": ...}
    {"name": {"in": {"values": ["Pump"]}}},
    {"name": {"in": {"value": "Pump"}}},
    {"externalId": {"in": {"value": [True]}}},
    {"name": {"startsWith": 5}},  # non-string startsWith argument
    {"name": {"contains": None}},
    {"name": {"endsWith": ["Pump"]}},
    {"name": {}},
    {"name": True},
    {"externalId": {"eq": {"a": 1}}},
    {"name": {"or": {"eq": "Pump"}}},  # field-level or takes an array
    {"name": {"not": ["Pump"]}},
    {"and": "Pump"},
    {"or": 5},
    {"and": [["Pump"]]},
    {"not": ["Pump"]},
    {"not": None},
    {"deleted": {"startsWith": "2018"}},
    {"deleted": "yesterday"},
    {"deleted": {"before": "2018-01-01T00:00:00"}},  # no time zone
    {"deleted": {"between": "2018-01-01T00:00:00Z"}},
    {"hasType": 5},
    {"name": {"before": "2018-01-01T00:00:00Z"}},  # a time operator on a text field
)
PLACEMENTS = (
    lambda doc, fault: {**doc, **fault},
    lambda doc, fault: {"and": [doc, fault]},
    lambda doc, fault: {"or": [doc, fault]},
    lambda doc, fault: {"or": {**fault}},
    lambda doc, fault: {"not": {"and": [fault, doc]}},
)


def malformed_documents(pool: Pool) -> st.SearchStrategy[dict]:
    """A well-formed document with one fault placed somewhere in it (even under an ``or``)."""
    return st.builds(lambda place, doc, fault: place(doc, fault), st.sampled_from(PLACEMENTS),
                     filter_documents(pool), st.sampled_from(FAULTS))


LOOSE_KEYS = (*FILTER_FIELDS, *IGNORED_FIELDS, "and", "or", "not", "eq", "in", "value", *TEXT_OPS, *TIME_OPS,
              "like")


def loose_values(pool: Pool) -> st.SearchStrategy:
    """Any JSON built from the language's words: mostly malformed, sometimes not."""
    leaf = st.none() | st.booleans() | st.integers(-2, 50) | st.sampled_from(pool.strings + list(TIMESTAMPS))
    return st.recursive(leaf, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.sampled_from(LOOSE_KEYS), inner, max_size=3), max_leaves=8)


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


def _replace(node, path, new):
    if not path:
        return new
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replace(node[path[0]], path[1:], new)
    return copy


def loose_documents(pool: Pool) -> st.SearchStrategy:
    """Near misses: a well-formed document with one subtree replaced by loose JSON, or loose JSON."""
    mutated = filter_documents(pool).flatmap(
        lambda doc: st.builds(lambda path, new: _replace(doc, path, new),
                              st.sampled_from(list(_paths(doc))), loose_values(pool)))
    return mutated | loose_values(pool)


def _asset_id(i: int) -> str:
    return hashlib.md5(str(i).encode()).hexdigest()


VOCABULARY = [
    {"assetId": _asset_id(i), "tenantId": "t" + str(i % 2), "name": name, "externalId": ext,
     "description": desc, "timezone": TIMEZONES[i % 3], "twinType": TWIN_TYPES[i % 2],
     "typeId": ("core.basicasset", "core.basicenterprise", "t0.pump")[i % 3],
     "parentId": None if i == 0 else _asset_id(i % 3), "deleted": None}
    for i, (name, ext, desc) in enumerate([
        ("Pump", None, None), ("pump", "SN-001", "a pump"), ("Pümpe", "sn-001", None), ("Pump%1", "SN_002", ""),
        ("Pump_1", None, "x"), ("Pump\\1", "SN%3", None), ("a_b", "ÄÖÜ-9", None), ("a%b", None, None),
        ("aXb", "x", "y"), ("a\\b", "SN\\4", None), ("MotorPump", "SN-001-A", None), ("42", "42", None),
        ("Ventil Süd", None, None), ("MOTOR", "Motor", None)])
]
VOCABULARY_POOL = Pool(VOCABULARY)


# --- unit level: the reference against to_sql on SQLite ------------------------------------------

_metadata = MetaData()
sql_assets = Table(
    "assets", _metadata,
    Column("asset_id", String(32), primary_key=True), Column("tenant_id", String(20)), Column("name", String(128)),
    Column("external_id", String(255)), Column("description", Text), Column("timezone", String(64)),
    Column("twin_type", String(16)), Column("parent_id", String(32)), Column("type_id", String(128)),
    Column("deleted", Float),
)
COLUMNS = {"assetId": "asset_id", "tenantId": "tenant_id", "name": "name", "externalId": "external_id",
           "description": "description", "timezone": "timezone", "twinType": "twin_type", "parentId": "parent_id",
           "typeId": "type_id", "deleted": "deleted"}
SQL_FIELDS = {field: Field(sql_assets.c[COLUMNS[field]], "time" if field in TIME_FIELDS else "str")
              for field in FILTER_FIELDS}


@pytest.fixture(scope="module")
def sql_engine():
    """In-memory SQLite with ``case_sensitive_like``, as the emulator's own connections."""
    engine = create_engine("sqlite://")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.execute("PRAGMA case_sensitive_like=ON")

    _metadata.create_all(engine)
    yield engine
    engine.dispose()


def through_sql(engine, assets: list[dict], doc):
    """The asset ids ``to_sql`` selects from ``assets``, or :data:`MALFORMED`."""
    try:
        cond = to_sql(parse(json.dumps(doc)), SQL_FIELDS)
    except errors.BadRequest:
        return MALFORMED
    with engine.begin() as conn:
        conn.execute(delete(sql_assets))
        if assets:
            conn.execute(insert(sql_assets), [{COLUMNS[k]: v for k, v in a.items()} for a in assets])
        return set(conn.execute(select(sql_assets.c.asset_id).where(cond)).scalars())


def explain(doc, assets: list[dict], expected, got) -> str:
    """What a failing example needs to be understood: the filter, and the assets in disagreement."""
    lines = [f"filter: {json.dumps(doc, ensure_ascii=False)}", f"reference: {_names(expected, assets)}",
             f"actual:    {_names(got, assets)}"]
    if isinstance(expected, set) and isinstance(got, set):
        for asset_id in sorted(expected ^ got):
            asset = next(a for a in assets if a["assetId"] == asset_id)
            shown = {k: asset.get(k) for k in FILTER_FIELDS}
            lines.append(f"  {'missing' if asset_id in expected else 'extra'}: {json.dumps(shown, ensure_ascii=False)}")
    return "\n".join(lines)


def _names(ids, assets):
    if not isinstance(ids, set):
        return ids
    return sorted(a["name"] for a in assets if a["assetId"] in ids)


asset_sets = st.lists(st.sampled_from(VOCABULARY), max_size=10, unique_by=lambda a: a["assetId"])
PINNED = (
    {"externalId": {"not": None}},  # field-level not of "is null" is "is not null"
    {"deleted": None},
    {"deleted": {"eq": None}},
    {"deleted": {"not": None}},
    {"not": {"externalId": {"startsWith": "SN"}}},  # assets without an externalId are in the complement
    {"name": {"contains": "%"}},
    {"name": {"startsWith": "a_"}},
    {"name": {"endsWith": "\\1"}},
    {"name": {"startsWith": "pump"}},
    {"name": {"contains": "ümp"}},
    {"externalId": {"in": {"value": [None, "x"]}}},
    {"or": []},
    {"and": []},
    {"not": {}},
    {"name": 42},
)


def _pin(*docs):
    """``@example`` for each pinned document, so the known edge cases are always checked."""
    def decorate(test):
        for doc in reversed(docs):
            test = example(assets=VOCABULARY, doc=doc)(test)
        return test
    return decorate


@settings(max_examples=300, deadline=None)
@given(assets=asset_sets, doc=filter_documents(VOCABULARY_POOL))
@_pin(*PINNED)
def test_reference_agrees_with_to_sql_on_sqlite(sql_engine, assets, doc):
    """The evaluator and the SQL translation select the same assets; this validates the evaluator
    (and filters.py) without a server."""
    expected = reference(doc, assets)
    assert expected != MALFORMED, f"the generator made a malformed document: {doc}"
    got = through_sql(sql_engine, assets, doc)
    assert got == expected, explain(doc, assets, expected, got)


@settings(max_examples=300, deadline=None)
@given(assets=asset_sets, doc=loose_documents(VOCABULARY_POOL) | malformed_documents(VOCABULARY_POOL))
@_pin({"name": {"before": "2018-01-01T00:00:00Z"}}, {"name": {"not": None, "like": 1}}, {"deleted": {"after": 5}})
def test_reference_and_to_sql_agree_on_what_is_malformed(sql_engine, assets, doc):
    """Near-miss documents: both reject the same ones (400), and select the same assets otherwise."""
    expected = reference(doc, assets)
    got = through_sql(sql_engine, assets, doc)
    assert got == expected, explain(doc, assets, expected, got)


# --- through HTTP, as a client ------------------------------------------------------------------


def asset_bodies(root_id: str) -> list[dict]:
    """A fixed pseudo-random set of 32 assets: shared stems and tails, wildcard characters, case and
    umlauts in names; externalId, description, timezone and twinType sometimes omitted."""
    rng = random.Random(20240607)
    names = ["42", *rng.sample(sorted({stem + tail for stem in NAME_STEMS for tail in NAME_TAILS}), 31)]
    bodies = []
    for i, name in enumerate(names):
        body = {"name": name, "typeId": "core.basicasset", "parentId": root_id}
        if rng.random() < 0.7:
            body["externalId"] = f"{rng.choice(('SN', 'sn', 'SN_', 'Ä%'))}-{i:03d}"
        if rng.random() < 0.5:
            body["description"] = f"about {name}"
        timezone, twin_type = rng.choice((None, *TIMEZONES)), rng.choice((None, *TWIN_TYPES))
        if timezone:
            body["timezone"] = timezone
        if twin_type:
            body["twinType"] = twin_type
        bodies.append(body)
    return bodies


def create_assets(api) -> list[dict]:
    """The tenant's assets as the API shows them: its root and the 32 created ones."""
    root = api.get(ROOT)
    assert root.status_code == 200, root.text
    created = [root.json()]
    for body in asset_bodies(created[0]["assetId"]):
        resp = api.post(ASSETS, json=body)
        assert resp.status_code == 201, f"POST {body}: {resp.status_code} {resp.text}"
        created.append(resp.json())
    everything = through_http(api, {})
    assert everything == {a["assetId"] for a in created}, "an empty filter must list every asset of the tenant"
    return created


def through_http(api, doc):
    """The asset ids ``GET /assets?filter=<doc as JSON>`` answers, or :data:`MALFORMED` for a 400."""
    return through_http_raw(api, json.dumps(doc, ensure_ascii=False))


def through_http_raw(api, raw: str):
    """The same for a ``filter=`` that need not be JSON at all."""
    resp = api.get(ASSETS, params={"filter": raw, "size": 200, "page": 0})
    if resp.status_code == 400:
        codes = [e.get("code") for e in resp.json().get("errors", [])]
        assert codes == [INVALID], f"filter {raw}: 400 with {resp.text}"
        return MALFORMED
    assert resp.status_code == 200, f"filter {raw}: {resp.status_code} {resp.text}"
    body = resp.json()
    ids = {a["assetId"] for a in body.get("_embedded", {}).get("assets", [])}
    assert body["page"]["totalElements"] == len(ids), f"filter {raw}: {body['page']}"
    return ids


def http_settings(examples: int) -> settings:
    """Examples depend on server-made asset ids, so none are stored for replay."""
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_filters_over_http_agree_with_the_reference(api):
    """Random well-formed filters over a fixed set of assets select what the reference selects."""
    assets = create_assets(api)
    pool = Pool(assets)

    @http_settings(100)
    @given(doc=filter_documents(pool))
    @example(doc={"externalId": {"not": None}})
    @example(doc={"deleted": None})
    @example(doc={"deleted": {"eq": None}})
    @example(doc={"or": {"deleted": {"eq": None}, "name": {"startsWith": "Pump"}}})
    @example(doc={"name": {"or": [{"eq": "42"}, {"endsWith": "%1"}]}})
    @example(doc={"not": {"externalId": {"startsWith": "SN"}}})
    @example(doc={"parentId": None})
    @example(doc={"name": {"contains": "\\"}})
    def check(doc):
        expected = reference(doc, assets)
        got = through_http(api, doc)
        assert got == expected, explain(doc, assets, expected, got)

    check()


RAW_MALFORMED = ("[]", '[{"name": "Pump"}]', "1", '"Pump"', "null", "true", "{", "{'name': 'Pump'}",
                 '{"name": NaN}', '{"name": "Pump"} trailing', '{"not": ' * 200 + "{}" + "}" * 200)


def test_malformed_filters_answer_400_never_500(api):
    """Wrong operator names, ``in`` without ``value``, non-object documents, non-string arguments,
    wherever they hide in a document: 400 invalidParameter, never a 500 or a silent answer."""
    for raw in RAW_MALFORMED:
        assert through_http_raw(api, raw) == MALFORMED, f"filter {raw[:80]} was not rejected"
    for fault in FAULTS:
        assert through_http(api, fault) == MALFORMED, f"filter {json.dumps(fault)} was not rejected"
    assets = [api.get(ROOT).json()]

    @http_settings(60)
    @given(doc=malformed_documents(VOCABULARY_POOL))
    def check(doc):
        assert reference(doc, assets) == MALFORMED, f"the generator made a well-formed document: {doc}"
        got = through_http(api, doc)
        assert got == MALFORMED, explain(doc, assets, MALFORMED, got)

    check()


def test_near_miss_filters_over_http_agree_with_the_reference(api):
    """Documents one mutation away from well-formed: 400 exactly when the reference says malformed
    (never 500), and otherwise the reference's assets."""
    assets = create_assets(api)
    pool = Pool(assets)

    @http_settings(80)
    @given(doc=loose_documents(pool))
    @example(doc={"name": {"before": "2018-01-01T00:00:00Z"}})
    @example(doc={"deleted": {"between": "[2018-01-01T00:00:00Z, 2018-02-01T00:00:00Z)"}})
    def check(doc):
        expected = reference(doc, assets)
        got = through_http(api, doc)
        assert got == expected, explain(doc, assets, expected, got)

    check()
