"""Time series records: parse and check them against the aspect type, as the real service does.

A record is ``{"_time": ISO-8601, "<variable>": value, "<variable>_qc": int}``. Times are stored
as UTC epoch milliseconds (finer digits are cut, as MindSphere keeps milliseconds). Decisions
[?]: a ``null`` value means "no value" (the variable is left out of the record); a quality code
needs its value; quality codes are OPC UA status codes (0 = good; the top two bits of the 32-bit
code say uncertain, 01, or bad, 1x).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from emulator import errors, limits
from emulator.times import instant_and_form, parse_time

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
        cap = var.get("length") or (limits.STRING_MAX_LENGTH if data_type == "STRING" else limits.BIG_STRING_MAX_LENGTH)
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


def check_records(schema: AspectSchema, records) -> list[tuple[int, str, dict]]:
    """(epoch ms, stored JSON text, the record as stored) per record, in time order; one bad record
    refuses them all. Keys keep the order the client sent; ``null`` values are left out."""
    if not isinstance(records, list):
        raise errors.BadRequest("The body must be a JSON array of records")
    variables = schema.variables
    quick = {name: _QUICK.get(var["dataType"]) for name, var in variables.items()}
    plain = {name: _PLAIN[var["dataType"]] for name, var in variables.items() if var["dataType"] in _PLAIN}
    qc_of = {name + "_qc": name for name, var in variables.items()}
    with_qc = {name for name in variables if schema.has_qc(name)}
    qc_max = limits.TS_QC_MAX
    out: dict[int, tuple[str, dict]] = {}
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
        out[t] = (orjson.dumps(body).decode(), body)  # the last record of a time wins, as a later write would
    return [(t, text, body) for t, (text, body) in sorted(out.items())]
