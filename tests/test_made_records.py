"""The pump's records, stored without being read back out of their JSON form (``records.made_records``).

Why here and not through HTTP: the feeder hands the time series service its batches (times, records, columns)
in-process, and the HTTP tests of the pump (``test_pump_feeder.py``) read what it stored. What they cannot show is
the rule that keeps this shortcut honest: a batch is stored exactly as the client's check would store it, and one
that does not fit its aspect (a type changed under the pump) gets the client's check and its refusal.
"""

from __future__ import annotations

import pytest

from emulator import errors, limits
from emulator.times import iso
from emulator.timeseries.records import AspectSchema, check_records, made_records

T0 = 1_767_225_600_000


def schema(flow: str = "DOUBLE", quality: bool = True) -> AspectSchema:
    return AspectSchema("PumpData", {"Flow": {"name": "Flow", "dataType": flow, "qualityCode": quality},
                                     "Head": {"name": "Head", "dataType": "DOUBLE", "qualityCode": False}})


def batch(codes: dict[int, int] | None = None, n: int = 5) -> tuple[list[int], list[dict], dict[str, list]]:
    """As ``Frame.batch`` makes it: a code beside a value only where it is not good (0), a code column for the
    variable that has one somewhere."""
    times = [T0 + k * 1000 for k in range(n)]
    records = [{"_time": iso(t), "Flow": 10.0 + k, "Head": 0.5 * k} for k, t in enumerate(times)]
    columns = {"Flow": [r["Flow"] for r in records], "Head": [r["Head"] for r in records]}
    if codes:
        for k, code in codes.items():
            records[k]["Flow_qc"] = code
        columns["Flow_qc"] = [codes.get(k, 0) for k in range(n)]
    return times, records, columns


@pytest.mark.parametrize("codes", [None, {1: 0x80000000, 3: 0x40000000}, {0: limits.TS_QC_MAX}],
                         ids=["good", "with codes", "the highest code"])
def test_a_made_batch_is_stored_as_the_clients_check_stores_it(codes):
    """... and its times are the ones it came with (nothing read back out of the records)."""
    times, records, columns = batch(codes)
    made = made_records(schema(), times, records, columns)
    assert made == check_records(schema(), records)
    assert made.times is times
    assert made.texts[1].startswith(f'{{"_time":"{iso(T0 + 1000)}"')


def _integers_for_a_double(records, columns):
    for record in records:
        record["Head"] = 3
    columns["Head"] = [3] * len(records)


def _codes_of_a_variable_without_them(records, columns):
    columns["Head_qc"] = [0] * len(records)  # all good: no record carries one


def _codes_of_no_variable(records, columns):
    columns["Gone_qc"] = [0] * len(records)


def _booleans_for_codes(records, columns):
    columns["Flow_qc"] = [False] * len(records)


def _a_column_of_no_variable(records, columns):
    columns["Flowing"] = [0] * len(records)  # not a code: no "_qc"


@pytest.mark.parametrize("change", [_integers_for_a_double, _codes_of_a_variable_without_them, _codes_of_no_variable,
                                    _booleans_for_codes, _a_column_of_no_variable])
def test_a_made_batch_that_the_shortcut_does_not_know_is_read_back_out_of_its_records(change):
    """A column the simulation does not make (integers for a DOUBLE, codes beside a variable that takes none or
    beside no variable, booleans for codes, a column of no variable) sends the batch through the client's check,
    which reads it out of the records as a client's: its times are not the ones it came with, and what it stores
    is what the check stores."""
    times, records, columns = batch()
    change(records, columns)
    made = made_records(schema(), times, records, columns)
    assert made == check_records(schema(), records) and made.times is not times


@pytest.mark.parametrize(("aspect", "codes", "refusal"), [
    (schema(flow="INT"), None, "Flow is INT"),  # the type changed: floats for an INT
    (schema(quality=False), {2: 0x80000000}, "Flow has no quality code"),  # codes it does not take
    (schema(), {2: limits.TS_QC_MAX + 1}, "Flow_qc must be an integer"),  # no status code
    (schema(), {2: -1}, "Flow_qc must be an integer"),
], ids=["int variable", "no quality code", "code past the range", "negative code"])
def test_a_made_batch_that_does_not_fit_its_aspect_gets_the_clients_check(aspect, codes, refusal):
    with pytest.raises(errors.BadRequest, match=refusal):
        made_records(aspect, *batch(codes))
