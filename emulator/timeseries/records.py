"""Time series records: parse and check them against the aspect type, as the real service does.

A record is ``{"_time": ISO-8601, "<variable>": value, "<variable>_qc": int}``. Times are stored
as UTC epoch milliseconds (finer digits are cut, as MindSphere keeps milliseconds). Decisions
[?]: a ``null`` value means "no value" (the variable is left out of the record); a quality code
needs its value; quality codes are OPC UA status codes (0 = good; the top two bits of the 32-bit
code say uncertain, 01, or bad, 1x).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import compress, count, islice, repeat
from operator import gt, itemgetter, lt

import orjson

from emulator import errors, limits
from emulator.times import canonical_times, instant_and_form, parse_time

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
NUMERIC = frozenset({"INT", "LONG", "DOUBLE"})


@dataclass(frozen=True)
class AspectSchema:
    """The variables of one dynamic aspect of one asset."""

    name: str
    variables: dict[str, dict]  # name -> variable definition, in the aspect type's order

    @property
    def numeric(self) -> list[str]:
        return [n for n, v in self.variables.items() if v["dataType"] in NUMERIC]

    def has_qc(self, name: str) -> bool:
        return bool(self.variables[name].get("qualityCode"))


def _string_cap(var: dict) -> int:
    """The most characters a STRING or BIG_STRING variable's value may have: its ``length``, or its type's cap."""
    default = limits.STRING_MAX_LENGTH if var["dataType"] == "STRING" else limits.BIG_STRING_MAX_LENGTH
    return var.get("length") or default


def _check_value(var: dict, value, where: str):
    data_type = var["dataType"]
    if data_type in ("INT", "LONG"):
        low, high = INT32 if data_type == "INT" else INT64
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise errors.BadRequest(f"{where}: {var['name']} is {data_type} and takes an integer in [{low}, {high}]")
    elif data_type == "DOUBLE":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise errors.BadRequest(f"{where}: {var['name']} is DOUBLE and takes a number")
        if isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
            raise errors.BadRequest(f"{where}: {var['name']} is out of the range of a DOUBLE")
    elif data_type == "BOOLEAN":
        if not isinstance(value, bool):
            raise errors.BadRequest(f"{where}: {var['name']} is BOOLEAN and takes true or false")
    elif data_type in ("STRING", "BIG_STRING"):
        cap = _string_cap(var)
        if not isinstance(value, str):
            raise errors.BadRequest(f"{where}: {var['name']} is {data_type} and takes a string")
        if len(value) > cap:
            raise errors.BadRequest(f"{where}: {var['name']} is longer than {cap} characters")
    elif data_type == "TIMESTAMP":
        parse_time(value, f"{where}: {var['name']}")


# The common case checked in one expression; on False, _check_value says what is wrong.
_QUICK = {
    "INT": lambda v: type(v) is int and INT32[0] <= v <= INT32[1],
    "LONG": lambda v: type(v) is int and INT64[0] <= v <= INT64[1],
    "DOUBLE": lambda v: type(v) is float or (type(v) is int and INT64[0] <= v <= INT64[1]),
    "BOOLEAN": lambda v: type(v) is bool,
}

_PLAIN = {"DOUBLE": float, "BOOLEAN": bool}  # the value's type alone makes it valid


@dataclass
class Checked:
    """Records as they are stored, in time order (no time twice): their times (epoch ms), JSON texts and objects."""

    times: list[int]
    texts: list[str]
    bodies: list[dict]

    def __len__(self) -> int:
        return len(self.times)

    def pairs(self) -> list[tuple[int, str]]:
        """(time, text) of each record: what the blocks store."""
        return list(zip(self.times, self.texts, strict=True))


def check_records(schema: AspectSchema, records) -> Checked:
    """The records checked against the aspect's variables; one bad record refuses them all. Keys keep the order
    the client sent; ``null`` values are left out; the last record of a time wins, as a later write would.

    A batch in the usual shape (what every SDK and the pump send) is checked a column at a time
    (``_uniform``); any other batch, and any batch with a fault, goes through the record-by-record check, which
    names the first bad record."""
    if not isinstance(records, list):
        raise errors.BadRequest("The body must be a JSON array of records")
    checked = _uniform(schema, records)
    return _one_by_one(schema, records) if checked is None else checked


def made_records(schema: AspectSchema, times: list[int], records: list[dict], columns: dict[str, list]) -> Checked:
    """Records the emulator made itself (the simulated pump's, :meth:`emulator.devices.simulation.Frame.batch`): in
    time order, with their times and their variables' columns, each a DOUBLE variable's floats or the codes of one
    that takes them. Stored as a client's batch would be, without reading the times and values back out of the
    records (the feeder writes a week of history as it starts: 1.2 million records). A batch that does not fit the
    aspect so (its type changed under the pump) is checked as a client's is."""
    if not times or not all(_made_fits(schema, key, column) for key, column in columns.items()):
        return check_records(schema, records)
    return Checked(times, _texts(records), records)


def _made_fits(schema: AspectSchema, key: str, column: list) -> bool:
    """A column (as long as the batch, never empty) is a DOUBLE variable's floats, or valid codes of a variable that
    takes them."""
    var = schema.variables.get(key)
    if var is not None:
        return var["dataType"] == "DOUBLE" and set(map(type, column)) <= {float}
    name = key[:-3] if key.endswith("_qc") else None
    return (name in schema.variables and schema.has_qc(name) and set(map(type, column)) <= {int}
            and min(column) >= 0 and max(column) <= limits.TS_QC_MAX)


def _one_by_one(schema: AspectSchema, records: list) -> Checked:
    variables = schema.variables
    quick = {name: _QUICK.get(var["dataType"]) for name, var in variables.items()}
    plain = {name: _PLAIN[var["dataType"]] for name, var in variables.items() if var["dataType"] in _PLAIN}
    qc_of = {name + "_qc": name for name, var in variables.items()}
    with_qc = {name for name in variables if schema.has_qc(name)}
    qc_max = limits.TS_QC_MAX
    out: dict[int, dict] = {}
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise errors.BadRequest(f"record {i} is not a JSON object")
        if "_time" not in record:
            raise errors.BadRequest(f"record {i} has no _time")
        t, stamp = instant_and_form(record["_time"], f"record {i}: _time")
        body = {"_time": stamp}
        for key, value in record.items():
            if type(value) is plain.get(key):  # a float for a DOUBLE, a bool for a BOOLEAN: nothing to check
                body[key] = value
                continue
            if key == "_time" or value is None:
                continue
            var = variables.get(key)
            if var is not None:
                check = quick[key]
                if check is None or not check(value):
                    _check_value(var, value, f"record {i}")
                body[key] = value
                continue
            name = qc_of.get(key)
            if name is None:
                raise errors.BadRequest(f"record {i}: {key!r} is not a variable of aspect {schema.name!r}")
            if name not in with_qc:
                raise errors.BadRequest(f"record {i}: {name} has no quality code (qualityCode is false)")
            if type(value) is not int or not 0 <= value <= qc_max:
                raise errors.BadRequest(f"record {i}: {key} must be an integer in [0, {qc_max}]")
            if record.get(name) is None:
                raise errors.BadRequest(f"record {i}: {key} is given without a value of {name}")
            body[key] = value
        out[t] = body  # the last record of a time wins, as a later write would
    times = sorted(out)
    bodies = [out[t] for t in times]
    return Checked(times, _texts(bodies), bodies)


def _texts(bodies: list[dict]) -> list[str]:
    """Each record's JSON text: the batch encoded at once and cut between records (a twentieth of the cost of
    encoding each), unless a string value holds the cut's ``},{`` (more pieces than records tell): then one at a
    time."""
    if not bodies:
        return []
    pieces = orjson.dumps(bodies).decode()[2:-2].split("},{")
    if len(pieces) == len(bodies):
        return [f"{{{text}}}" for text in pieces]
    return [orjson.dumps(body).decode() for body in bodies]


def _column_fits(schema: AspectSchema, key: str, base: tuple, column: tuple) -> bool:
    """Every value of a column is valid for its key (a variable, or the quality code of one in ``base``), checked
    with C loops (``set``, ``min``, ``max``); False sends the batch to the record-by-record check (which also takes
    what this does not: a DOUBLE column mixing integers and floats, TIMESTAMP values)."""
    kinds = set(map(type, column))
    var = schema.variables.get(key)
    if var is None:  # a quality code beside each value of its variable
        name = key[:-3] if key.endswith("_qc") else None
        return (name in schema.variables and name in base and schema.has_qc(name) and kinds == {int}
                and min(column) >= 0 and max(column) <= limits.TS_QC_MAX)
    data_type = var["dataType"]
    if data_type == "DOUBLE":
        return kinds == {float} or (kinds == {int} and INT64[0] <= min(column) and max(column) <= INT64[1])
    if data_type in ("INT", "LONG"):
        low, high = INT32 if data_type == "INT" else INT64
        return kinds == {int} and low <= min(column) and max(column) <= high
    if data_type == "BOOLEAN":
        return kinds == {bool}
    if data_type in ("STRING", "BIG_STRING"):
        cap = _string_cap(var)
        return kinds == {str} and max(map(len, column)) <= cap
    return False


def _uniform(schema: AspectSchema, records: list) -> Checked | None:
    """The check of a batch in the usual shape, or None for the record-by-record check: every record an object
    whose keys start with ``_time``, each time in MindSphere's form and later than the one before, the keys that
    every record has checked a column at a time (no ``null``; variables of a type ``_column_fits`` knows, and
    their quality codes), the keys beyond them (quality codes that only some records carry) record by record.
    Such records are stored as sent."""
    if not records or set(map(type, records)) != {dict}:
        return None
    shapes = list(map(tuple, records))
    kinds = set(shapes)
    commonest = shapes[0] if len(kinds) == 1 else Counter(shapes).most_common(1)[0][0]
    shared = set(commonest).intersection(*kinds)
    base = tuple(key for key in commonest if key in shared)
    if len(base) < 2 or any(shape[:1] != ("_time",) for shape in kinds):
        return None
    columns = list(zip(*map(itemgetter(*base), records), strict=True))
    times = canonical_times(columns[0])
    if times is None or not all(map(lt, times, islice(times, 1, None))):
        return None
    if not all(_column_fits(schema, key, base, column) for key, column in zip(base[1:], columns[1:], strict=True)):
        return None
    if len(kinds) > 1:  # the records with more keys than the shared ones, found with C loops
        for i in compress(count(), map(gt, map(len, shapes), repeat(len(base)))):
            if not _extras_fit(schema, records[i], base):
                return None
    return Checked(times, _texts(records), records)


def _extras_fit(schema: AspectSchema, record: dict, base: tuple) -> bool:
    """The keys of a record beyond the shared ones are quality codes of its variables (valid ones)."""
    for key in record.keys() - set(base):
        name = key[:-3] if key.endswith("_qc") else None
        value = record[key]
        if (name not in schema.variables or not schema.has_qc(name) or record.get(name) is None
                or type(value) is not int or not 0 <= value <= limits.TS_QC_MAX):
            return False
    return True
