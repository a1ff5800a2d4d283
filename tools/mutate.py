"""``make mutate``: mutation testing (mutmut 3) of the modules that hold the emulator's rules, in bounded time.

Why: a suite can pass while a rule it exists for is broken (an audit planted 24 one-line bugs; six survived the
whole suite). mutmut changes one thing at a time in a module and runs the tests that reach the changed function;
a mutant the tests do not notice ("survived") is either a missing test or a change that cannot be seen
(equivalent, listed below with the reason).

How: the suite is slow, so each module is run against the few test files that exercise it (``MODULES``), on
SQLite only (CI and the PostgreSQL URL are taken out of the environment), in a scratch copy of the work tree
(``.mutants/<module>/``: mutmut writes its ``mutants/`` there, never into the sources), for at most
``--minutes`` per module (mutants not reached by then are reported as not checked). A run resumes the last one:
the sources and tests are copied in afresh, mutmut keeps the verdicts of functions that did not change and goes
on with the mutants not checked yet, and the last run's survivors are tried first against the current tests (a
survivor killed by a new test shows as killed). A changed module, or ``--fresh``, starts over. At the end it
prints, per module, the mutants, killed, survived and equivalent, and each survivor's diff.

    python tools/mutate.py                      # every module, 4 minutes each
    python tools/mutate.py paging intervals     # some of them
    python tools/mutate.py stats --minutes 10   # a longer bound (run again to go on where it stopped)

Not part of CI: a module takes minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = ROOT / ".mutants"

# module -> (the file mutated, the pytest arguments that select its tests)
MODULES = {
    # mutmut mutates function bodies only: limits.py has one, as_table, in which it finds nothing to change (0
    # mutants); the constants are exercised where the rules use them (the other modules here)
    "limits": ("emulator/limits.py", ["tests/test_control_tenants.py::test_capabilities_lists_every_limit",
                                      "tests/test_security_limits.py"]),
    "filters": ("emulator/assets/filters.py", ["tests/test_assets.py", "tests/test_asset_filter_property.py"]),
    "stats": ("emulator/timeseries/stats.py",  # Stats.of_points: the OData seconds intervals (raw records)
              ["tests/test_aggregates.py", "tests/test_timeseries_property.py", "tests/test_odata_seconds.py",
               "-k", "not paging"]),
    # the time series write rules: each record's types, ranges and quality codes, the usual batch a column at a time
    "records": ("emulator/timeseries/records.py", ["tests/test_timeseries.py", "tests/test_timeseries_property.py",
                                                    "tests/test_made_records.py", "-k", "not paging"]),
    "intervals": ("emulator/aggregates/intervals.py",
                  ["tests/test_aggregates.py", "tests/test_timeseries_property.py", "-k", "not paging"]),
    "odata-query": ("emulator/odata/query.py",
                    ["tests/test_odata_service.py", "tests/test_odata_property.py", "tests/test_odata_count_cap.py",
                     "tests/test_odata_formats.py"]),  # the format parameters ($format, Accept) are read here
    "odata-sets": ("emulator/odata/sets.py",
                   ["tests/test_odata_service.py", "tests/test_odata_count_cap.py", "tests/test_pump_endpoint.py",
                    "tests/test_odata_values_property.py",  # values as Data Hub writes them (datahub_time)
                    "tests/test_odata_seconds.py",
                    # the $filter oracles: assets (asset_condition) and time series / aggregates (bounds, _runs)
                    "tests/test_odata_property.py", "tests/test_odata_timeseries_property.py",
                    "tests/test_odata_formats.py"]),  # odata.metadata=full: rows parsed, not spliced
    # the OData rows of a stored block, spliced from its texts and kept by content
    "odata-spliced": ("emulator/odata/spliced.py", ["tests/test_odata_kept_rows.py", "tests/test_odata_service.py",
                                                    "tests/test_odata_timeseries_property.py",
                                                    "tests/test_odata_values_property.py"]),
    # the aggregate answers from the rollups (an interval of one rollup: its encoded object, kept by its values)
    "aggregates-query": ("emulator/aggregates/query.py",
                         ["tests/test_aggregates.py", "tests/test_timeseries_property.py",
                          "tests/test_odata_service.py", "-k", "not paging"]),
    "types": ("emulator/assets/types.py",  # with the ETag preconditions (check_preconditions, update_checked)
              ["tests/test_asset_types.py", "tests/test_aspect_types.py", "tests/test_assets.py",
               "tests/test_model_cache.py"]),
    # ETags: the preconditions of every resource are the first functions of types.py; If-Match is read here
    "validation": ("emulator/assets/validation.py",
                   ["tests/test_assets.py", "tests/test_asset_types.py", "tests/test_aspect_types.py"]),
    # the request schemas of every API, checked before a route: compiled once per server, so the compiling
    # functions are mapped to every test by COMPILED_PER_TEST below
    "schema-validation": ("emulator/validation.py",
                          ["tests/test_request_validation.py", "tests/test_schema_fuzz.py"]),
    "paging": ("emulator/assets/paging.py",  # with Event Management's pages, which leave an empty _embedded out
               ["tests/test_assets.py", "tests/test_aspect_types.py", "tests/test_asset_types.py",
                "tests/test_events.py"]),
}

# Survivors that no test can kill, with the reason (mutmut's names are stable while the function is unchanged).
EQUIVALENT = {
    **{f"emulator.odata.spliced.x_spliced__mutmut_{n}": "zip's strict: the lengths were compared just before "
       "(a cut that does not match the records returns None first)" for n in (26, 29, 30)},
    "emulator.odata.spliced.x_block_rows__mutmut_37": "popitem(last=None): None is false, as last=False",
    **{f"emulator.aggregates.query.x__encoded__mutmut_{n}": "nothing kept is found: each object is encoded afresh, "
       "the same text (the tests compare kept and fresh answers); only the time differs" for n in (1, 2)},
    "emulator.aggregates.query.x__encoded__mutmut_4": "the kept objects' bound one larger: memory, not an answer",
    "emulator.aggregates.query.x__interval_rows__mutmut_1": "no variables asked: SQLite reads `variable IN ()` as "
    "false, the same empty answer; PostgreSQL refuses it, which test_an_aspect_without_numeric_variables_has_no_"
    "aggregates[postgresql] catches (make mutate runs on SQLite only)",
    "emulator.odata.spliced.x\u01c1Rows\u01c1__init____mutmut_15": "a signed array of the row ends: they are "
    "positive and far below 2**31 (a block holds at most 64 K characters of records)",
    "emulator.odata.spliced.x\u01c1Rows\u01c1__init____mutmut_6": "every row's length counted in its bytes, ASCII "
    "or not: the same ends (counting characters where the text is all ASCII is a shortcut)",
    **{f"emulator.assets.paging.x_ordered__mutmut_{n}": "PostgreSQL's C collation only: the test databases "
       "(SQLite; PostgreSQL initialised with C.UTF-8) already order byte-wise" for n in (1, 3, 4, 5, 7, 8)},
    **{f"emulator.validation.x\u01c1DocumentChecks\u01c1__init____mutmut_{n}": "the spec modules make their "
       "DocumentChecks when imported, before mutmut picks a mutant: never run here (with it every document check "
       "would fail)" for n in (1, 2)},
    "emulator.assets.paging.x_fetch_page__mutmut_8": "the dialect is only read for PostgreSQL's collation "
                                                     "(as the ordered mutants)",
    "emulator.assets.paging.x_envelope__mutmut_4": "no elements make no pages either way: ceil(0 / size) is 0",
    "emulator.assets.paging.x_page_request__mutmut_43": "an empty sort and any other text that is no direction and "
                                                       "no field both keep the default order",
    **{f"emulator.assets.paging.x_page_request__mutmut_{n}": "a bare asc is the default order, whichever branch "
       "takes it (the default field, ascending)" for n in (48, 49)},
    **{f"emulator.timeseries.stats.x\u01c1Stats\u01c1merge__mutmut_{n}": "merge takes its stats in time order "
       "(its docstring): self's first and last are never after other's, and no two points share a time"
       for n in (26, 27, 30, 31)},
    **{f"emulator.timeseries.stats.x\u01c1Stats\u01c1public__mutmut_{n}": "a Stats holds at least one point and m2 "
       "is a sum of squares (>= 0): sqrt(m2 / n) is 0.0 when m2 is 0" for n in (4, 7, 8)},
    "emulator.timeseries.stats.x\u01c1Stats\u01c1public__mutmut_45": "a non-finite sd is written as null anyway "
                                                                     "(orjson, emulator/jsonio.py)",
    "emulator.assets.filters.x__no_constant__mutmut_1": "the ValueError's text is never shown: parse() answers "
                                                        "'not valid JSON' for it",
    "emulator.assets.filters.x\u01c1_Translator\u01c1_has_type__mutmut_11": "typeId and has_type come together: "
        "the assets list has both, every other list neither",
    **{f"emulator.assets.filters.x\u01c1_Translator\u01c1condition__mutmut_{n}": "and_ of one condition is that "
       "condition (SQLAlchemy renders it alone)" for n in (87, 88)},
    "emulator.assets.filters.x\u01c1_Translator\u01c1_in__mutmut_23": "SQLAlchemy renders an empty IN as a "
                                                                     "condition never true, as false() is",
    "emulator.odata.query.x__split_top_level__mutmut_21": "depth is only compared with 0: counted the other way "
                                                          "round it is zero at the same places",
    **{f"emulator.validation.x__explain__mutmut_{n}": "every type a served schema names is in TYPE_NAMES: the "
       "default of the lookup is never read" for n in (15, 16, 17)},
    "emulator.validation.x__explain__mutmut_22": "no served pattern is exactly LONG_PATTERN (120) characters long, "
                                                 "where < and <= differ",
    **{f"emulator.validation.x__explain__mutmut_{n}": "every long pattern of the served schemas without a text of "
       "its own has an example (today one: an event's timestamp), so the else of the example's condition is never "
       "taken" for n in (27, 33)},
    **{f"emulator.validation.x__explain__mutmut_{n}": reason for reason, numbers in (
        ("every served minLength and minProperties is 1: 'must not be empty' is said either way", (99, 127)),
        ("every minItems that is reported is 1 (the uniform delay's minItems 2 lies inside an anyOf, whose failure "
         "is reported as the anyOf's)", (113,)),
        ("an additionalProperties refusal comes from an object schema, which spec.obj always gives its properties: "
         "the default is never read", (140, 142)),
        ("no served schema has a oneOf", (158, 159, 160)),
        ("every keyword of the served schemas has its own branch above (required is said by Check.error): the "
         "fallback is never reached", (172, 173))) for n in numbers},
    **{f"emulator.validation.x__schema_at__mutmut_{n}": "every object schema served has its properties (spec.obj "
       "writes them, if empty): the default is never read" for n in (10, 12)},
    "emulator.validation.x\u01c1Check\u01c1__call____mutmut_1": "a cache only: the check is compiled again by "
                                                                  "_compiled, which keeps it by its text",
    **{f"emulator.validation.x\u01c1Check\u01c1__call____mutmut_{n}": "the text only keys _compiled's cache and is "
       "read back by json.loads: the same schema either way" for n in (6, 8, 9)},
    **{f"emulator.validation.x\u01c1Check\u01c1error__mutmut_{n}": "a required rule fails only when one of its names "
       "is absent: next() always finds it, and the default is never read" for n in (15, 17)},
    **{f"emulator.validation.x_to_json_schema__mutmut_{n}": reason for reason, numbers in (
        ("every $ref is #/components/{kind}/{name}: of its four parts the last two are also those from the third",
         (9,)),
        ("seen only catches a schema that refers to itself, and no served schema does (the refusal is never raised)",
         (12, 18, 31, 47)),
        ("no served schema has a not, an allOf or a oneOf", (39, 40, 52, 53, 54, 55, 56, 57)),
        ("no anyOf of a request's schema holds a $ref at any depth (only the OData answers' do, which are not "
         "checked): components and seen are never read inside one", (60, 61, 63, 64))) for n in numbers},
    **{f"emulator.validation.x__query_check__mutmut_{n}": reason for reason, numbers in (
        ("required and allowEmptyValue are only tested for truth: None is False", (55, 57, 62, 64)),
        ("every query parameter states whether it is required (spec's parameter helpers write it): the default is "
         "never read", (60,)),
        ("a query value is a string checked against a scalar schema: no required rule, never null, so the missing "
         "error is never raised (a required parameter's absence is OperationCheck's)", (73, 78))) for n in numbers},
    "emulator.validation.x_compile_operations__mutmut_22": "the operationIds with a .{method} suffix (the OData "
                                                           "writes, answered 405) have no query or body to check: "
                                                           "none reaches this line, where neither call removes "
                                                           "anything",
    "emulator.validation.x__operation_check__mutmut_28": "no query parameter's schema holds a $ref (each is inline): "
                                                         "the components are never read",
    **{f"emulator.validation.x__operation_check__mutmut_{n}": reason for reason, numbers in (
        ("the first required is only read where the operation has no JSON body, and then no body is checked",
         (35,)),
        ("required is only tested for truth (None is False), and spec.json_body always states it", (71, 73, 79)))
       for n in numbers},
    "emulator.validation.x__query_check__mutmut_19": "no query parameter's schema holds a $ref (each is inline): "
                                                     "the components are never read",
    **{f"emulator.validation.x_{function}__mutmut_{n}": "no query parameter is of type number (only integers and "
       "strings): its parser is never made or used" for function, numbers in (("_query_check", (35, 36, 37, 38)),
                                                                                ("_number", (3,))) for n in numbers},
    "emulator.validation.x__step__mutmut_1": "_step names a required property, and no property's name is all "
                                             "digits: the index form is never taken",
    "emulator.validation.x\u01c1OperationCheck\u01c1__call____mutmut_22": "the body is then read by httpio.json_body "
        "where the route would have read it with the same function: an empty body is missing whatever its media "
        "type, a body sent without one is 415, in the same words (the routes read their body before their other "
        "refusals: checked by hand for PUT, PATCH and move of an unknown asset, 400 either way)",
    "emulator.validation.x_install__mutmut_16": "unreachable: every operation of the document has its route "
                                                "(test_every_json_body_and_query_parameter_has_a_compiled_validator), "
                                                "so the LookupError is never raised",
    "emulator.odata.query.x_parse_query_string__mutmut_4": "'ASCII' names the same codec as 'ascii'",
    **{f"emulator.odata.query.x_parse_query_string__mutmut_{n}": "unreachable: waitress (the test server's and "
       "serve's) refuses a request target with bytes outside ASCII itself ('Bad URI'), so the query string always "
       "decodes" for n in (5, 6, 7, 8)},
    "emulator.odata.query.x_media_ranges__mutmut_16": "a missing q then fails float() and takes the ValueError "
                                                      "branch's 1.0: the same weight",
    "emulator.odata.query.x_negotiate__mutmut_10": "a media range with two slashes matches no served type either "
                                                   "way (split at the first or the last slash)",
    "emulator.odata.query.x\u01c1_Deferred\u01c1__init____mutmut_1": "the three _Deferred modules are made when "
        "query.py is imported, before mutmut picks a mutant: this one never runs (with it every OData query "
        "would fail)",
    "emulator.odata.query.x__nesting__mutmut_3": "not None is True, as not False is: None toggles alike",
    "emulator.odata.query.x__check__mutmut_33": "a not's operand is checked further only where conjunction_only is "
                                                "False (it refuses not otherwise): None reads alike",
    **{f"emulator.odata.sets.x__too_long__mutmut_{n}": "the maximum ranges are 1, 7 and 90 days: none lies between "
       "2 and 3 days, where these bounds differ" for n in (23, 25, 26)},
    "emulator.odata.sets.x__key_number__mutmut_4": "a number at its bound names no row either: no record or "
                                                   "interval starts at 9999-12-31T23:59:59.999 (times end in the "
                                                   "year 8999, times.TIME_YEARS), and 2**31-1 units or intervals "
                                                   "are past every maximum range (the key's query is refused)",
    "emulator.odata.sets.x_stamp__mutmut_2": "always_millis is only tested for truth: None is False",
    "emulator.odata.sets.x_asset_condition__mutmut_37": "SQLAlchemy renders column == None as IS NULL, as "
                                                        "column.is_(None)",
    **{f"emulator.odata.sets.x_datahub_time__mutmut_{n}": "the name is only read in a refusal's message, which is "
       "swallowed here, and zone_required only for its truth (None is False)" for n in (4, 5)},
    **{f"emulator.odata.sets.x_datahub_time__mutmut_{n}": "the first path (parse_time, the fast one) then never "
       "answers, or only off its bounds: the second (fromisoformat, the general reader) reads each text the first "
       "reads to the same Data Hub form (Z or z, offsets with or without a colon, no zone as UTC, digits past the "
       "millisecond cut; the values property test draws these forms)" for n in (2, 3, 6, 15, 16, 17)},
    **{f"emulator.odata.sets.x_datahub_time__mutmut_{n}": "the name is only read in a refusal's message, which is "
       "swallowed here" for n in (7, 9, 10)},
    **{f"emulator.odata.sets.x_datahub_time__mutmut_{n}": "a text without a zone is then refused by the first path "
       "and read by the second, which takes it as UTC too (the wall clock as written)" for n in (8, 11)},
    **{f"emulator.odata.sets.x_datahub_time__mutmut_{n}": "Python 3.11's fromisoformat (the project's floor) "
       "reads a trailing upper-case Z itself: only the lower-case z needs the replacement" for n in (29, 30)},
    **{f"emulator.odata.sets.x_static_value__mutmut_{n}": "BIG_STRING exists only in dynamic aspect types, which "
       "hold no static values" for n in (10, 11)},
    "emulator.odata.sets.x_timeseries_by_key__mutmut_3": "asset ids hold no underscore: a key with two is not "
                                                         "found either way",
    "emulator.odata.sets.x_timeseries_by_key__mutmut_15": "the set's members (None: all of them) hold the asset "
                                                          "exactly when the one-asset query finds it",
    **{f"emulator.assets.types.x_aspect_type_body__mutmut_{n}": "the stored scope is always 'private' "
       "(_aspect_type_fields): a merge patch's base scope is never read" for n in (9, 10)},
    **{f"emulator.assets.types.x_{function}__mutmut_{n}": "the loser of an ETag race at the guarded UPDATE or DELETE "
       "(update_checked, delete_checked): SQLite (these runs) serialises writers from BEGIN, so its etag check "
       "always fails first; PostgreSQL reaches it, and test_a_writer_that_read_the_old_etag_loses_at_the_guarded_"
       "write kills these there" for function, numbers in (
           ("patch_asset_type_variables", (106, 117, 118)), ("patch_aspect_type_variables", (101, 110, 111)),
           ("delete_checked", (6, 11)), ("delete_asset_type", (49, 58, 59)), ("delete_aspect_type", (37, 44, 45)),
           ("update_checked", (8, 17)))
       for n in numbers},
    **{f"emulator.assets.types.x_{function}__mutmut_{n}": "the name in the message of the loser of an ETag race "
       "at a PUT's guarded UPDATE (update_checked): SQLite (these runs) serialises writers, so its If-Match check "
       "fails first; on PostgreSQL test_concurrent_type_writers_with_one_etag_one_wins races four PUTs and checks "
       "the message" for function, numbers in (("put_aspect_type", (58, 67, 68)), ("put_asset_type", (64, 73, 74)))
       for n in numbers},
    **{f"emulator.assets.types.x\u01c1Catalog\u01c1model__mutmut_{n}": "a cache only: a model missed is built "
       "again from the same catalog" for n in (1, 2)},
    **{f"emulator.assets.types.x\u01c1TypeGraph\u01c1ancestors__mutmut_{n}": "every parent is a row of the graph "
       "(the core types are rows too) and no type is its own ancestor (refused on write): the walk ends at the top "
       "either way" for n in (6, 10)},
    "emulator.assets.types.x_model_changed__mutmut_7": "the model version only keys caches (compared for "
                                                       "equality): counted up by 2 it changes as by 1",
    "emulator.assets.types.x\u01c1TypeGraph\u01c1with_subtypes__mutmut_3": "an unknown type's [None] matches no "
                                                                         "asset, as the empty list does (IN (NULL))",
    **{f"emulator.assets.types.x_{function}__mutmut_{n}": "only reached when the lengths differ: < and <= agree"
       for function, n in (("_patched_variable", 32), ("_check_aspect_type_update", 64))},
    **{f"emulator.assets.types.x_asset_type_body__mutmut_{n}": "the stored scope is always 'private' "
       "(_asset_type_fields): a merge patch's base scope is never read" for n in (18, 19)},
    "emulator.assets.types.x_patch_aspect_type_variables__mutmut_38": "asset_type is only tested for truth: None "
                                                                      "is False",
    "emulator.assets.types.x_patch_aspect_type_variables__mutmut_78": "users is only tested for truth",
    "emulator.assets.types.x_patch_asset_type_variables__mutmut_21": "unreachable: the contract (spec.py) refuses "
                                                                     "a null variable patch before the route",
    **{f"emulator.assets.types.x_{function}__mutmut_{n}": "an asset type's category is only compared with 'dynamic' "
       "(variable_definition, _patched_variable)" for function, numbers in (
           ("patch_asset_type_variables", (37, 44, 45)), ("_asset_type_fields", (62, 68, 69))) for n in numbers},
    "emulator.assets.types.x__check_family_names__mutmut_8": "every id of the family is a known type other than the "
                                                             "type itself (a type is never its own ancestor: refused "
                                                             "before)",
    **{f"emulator.assets.validation.x_timezone__mutmut_{n}": "only the offset's minutes are read, and no zone "
       "moved to or from a :45 offset between these January dates" for n in (17, 18, 19)},
    "emulator.assets.validation.x_timezone__mutmut_21": "unreachable: a name of available_timezones() always loads",
    "emulator.assets.validation.x_timezone__mutmut_25": "every offset of 2024 is whole minutes",
    "emulator.assets.validation.x_timezone__mutmut_29": "no zone has a :15 offset (Nepal, Chatham and Eucla are :45; "
                                                        "negative half hours read as :30)",
    **{f"emulator.assets.validation.x_value_of_type__mutmut_{n}": "BIG_STRING exists only in dynamic aspect types, "
       "which hold no values (no defaults, no static values)" for n in (8, 9)},
    **{f"emulator.assets.validation.x_value_of_type__mutmut_{n}": "every STRING definition has its length "
       "(variable_definition sets it, core_types give 255): the fallback is never read" for n in range(14, 21)},
    "emulator.assets.validation.x_value_of_type__mutmut_60": "unreachable: text matched [+-]?\\d+, which int() "
                                                             "always reads",
    **{f"emulator.assets.validation.x_value_of_type__mutmut_{n}": "float() reads 'INF' as 'inf'" for n in (94, 97)},
    # numbered after the TIMESTAMP branch took a lower-case z (its Z mutants 109 and 116 went with the old code)
    "emulator.assets.validation.x_value_of_type__mutmut_111": "unreachable: the contract enumerates the data types",
    **{f"emulator.assets.validation.x_type_id__mutmut_{n}": "the contract checks the path's id first (spec.py: "
       "TYPE_ID_PATTERN, maxLength 128): after the tenant's prefix the rest always matches TYPE_NAME, and no id "
       "longer than 128 arrives" for n in (4, 11)},
    "emulator.assets.validation.x_unique_names__mutmut_3": "names match [A-Za-z][A-Za-z0-9_]* (limits.NAME_PATTERN): "
                                                           "upper and lower case fold alike",
    **{f"emulator.assets.types.x_patch_asset_type_variables__mutmut_{n}": "both lists are built from current, one "
       "for one: zip's strictness is never tested" for n in (70, 73, 74)},
    **{f"emulator.odata.sets.x_aggregate_by_key__mutmut_{n}": "a value or count past its bound is no interval "
       "either: the query the key becomes is refused and reads as not found, as before" for n in
       (14, 15, 16, 17, 18, 19, 25, 26, 27, 28, 29)},
    **{f"emulator.odata.sets.x_aggregate_by_key__mutmut_{n}": "bounds() reads the key's built filter loosely: "
       "a comparison of any other property is an equality whatever its operator, and a timestamp one other than gt "
       "is the upper bound (eq is le there)" for n in (80, 81, 82, 83)},
    "emulator.odata.sets.x_aggregate_by_key__mutmut_96": "conditions() takes every BoolOp of the built filter as a "
                                                         "conjunction, whatever its operator",
    **{f"emulator.odata.sets.x_aggregate_by_key__mutmut_{n}": "exact is only read together with options.count, "
       "which a read by key never sets" for n in (106, 116)},
    "emulator.odata.sets.x__seconds_plan__mutmut_64": "intervals[:None] is the whole list",
    "emulator.odata.sets.x__bound_raw_work__mutmut_30": "count() always answers a number: the 'or' is never taken",
    "emulator.odata.sets.x__raw_stats__mutmut_12": "both stores read these rows through the (tenant, asset, aspect, "
                                                   "t) primary key, in time order, with or without ORDER BY "
                                                   "(test_odata_seconds writes them out of order: checked by hand)",
    "emulator.odata.sets.x_aggregate_by_key__mutmut_107": "the key's filter gives both bounds: now only completes a "
                                                          "missing one (plan_v4, _seconds_plan)",
    "emulator.odata.sets.x_aggregate_by_key__mutmut_72": "the rows are matched on their id afterwards: a wider time "
                                                         "range finds the same one",
    # sets.py: reads that give the same answer another way
    "emulator.odata.sets.x__json__mutmut_2": "make mutate runs on SQLite, whose driver gives the JSON columns as text: "
                                             "loading them always is the same there (PostgreSQL's driver gives them "
                                             "decoded, which the OData tests' PostgreSQL runs read)",
    "emulator.odata.sets.x_read_assets__mutmut_22": "every set has properties without a variable (assetId, name): the "
                                                    "value columns are then always read, and used only where a "
                                                    "property has a variable",
    **{f"emulator.odata.sets.x_read_assets__mutmut_{n}": "only the page's rows are used (rows[:limit]) and more asks "
       "whether one lies past them: reading all, or two past, answers alike" for n in (28, 37)},
    "emulator.odata.sets.x__members__mutmut_2": "the members are merged by (time, asset id) wherever their order "
                                                "could show (_runs, read_aggregates)",
    "emulator.odata.sets.x__member_query__mutmut_5": "the table's first column is asset_id: r[0] is the same",
    # _runs: the page's records, one member's stored pieces or several members' records merged
    **{f"emulator.odata.sets.x__runs__mutmut_{n}": "an empty page reads nothing either way: no member gives no "
       "stream (heapq.merge() of none is empty), and a limit of 0 (it is never negative: _window) gives no piece "
       "(blocks.pieces returns at the first record when it has no room) and no merged record (islice(merged, skip, "
       "skip))" for n in (1, 2)},
    **{f"emulator.odata.sets.x__runs__mutmut_{n}": "without the key the merge compares the items (time, asset id, "
       "text): each member's stream holds a time once and the streams are of different assets, so the text is "
       "never compared" for n in (43, 46)},
    # read_timeseries: a page's rows spliced from the stored texts (emulator.odata.spliced) are a shortcut for the
    # rows parsed and encoded again, which hold the same members with the same values (orjson wrote the stored texts
    # and writes the rows; a record stored holds only the set's variables and codes, all of them where it is spliced)
    **{f"emulator.odata.sets.x_read_timeseries__mutmut_{n}": "the rows are then parsed and encoded, not spliced: the "
       "same JSON objects (their members in the entity type's order, not the stored record's: JSON objects are "
       "unordered)" for n in (79, 104, 105, 130)},
    "emulator.odata.sets.x_read_timeseries__mutmut_69": "variable names match limits.NAME_PATTERN, which model."
                                                        "identifier keeps as it is: no property's name differs from "
                                                        "its variable, so quick is empty and the rows are parsed, "
                                                        "not spliced (as mutant 79)",
    **{f"emulator.odata.sets.x_read_timeseries__mutmut_{n}": "zip's strictness is never tested: the times and the "
       "texts are of the same records, one for one (ts.piece_run, _runs)" for n in (146, 149, 151)},
    **{f"emulator.odata.sets.x_asset_rows__mutmut_{n}": "each asset's plan made afresh instead of once per type: the "
       "same plan (it depends on the type and the set alone)" for n in (18, 19)},
    **{f"emulator.odata.sets.x_read_aggregates__mutmut_{n}": "without the key the merge compares the items (start, "
       "asset id, stats): each asset's stream holds a start once, so the stats are never compared" for n in (208, 211)},
    "emulator.odata.sets.x_bounds__mutmut_61": "the range (t, t] holds no time: the read finds nothing either way",
    "emulator.odata.sets.x_read_aggregates__mutmut_180": "interval_stats and _raw_stats read only the schema's name",
    "emulator.odata.sets.x_read_aggregates__mutmut_187": "_raw_stats computes any plan's intervals from the stored "
                                                         "records, of which the rollups are a cache: the same stats "
                                                         "(test_aggregates_are_the_rest_aggregates compares them "
                                                         "exactly)",
    "emulator.odata.sets.x_read_aggregates__mutmut_261": "'' is false as None is: public is computed alike",
    **{f"emulator.odata.sets.x_read_aggregates__mutmut_{n}": "the break only stops reading early: the rows past the "
       "2000th are outside every window, and the count is capped at 2000 unless exact (then it does not stop)"
       for n in (298, 300)},
    "emulator.odata.sets.x__rest_unit__mutmut_53": "value is a multiple of 60 there: value / 60 equals value // 60, "
                                                   "and 2.0 is in a list holding 2",
    # records.py: a batch of the usual shape is checked a column at a time (_uniform, _column_fits, _extras_fit);
    # whatever that check declines goes to the record-by-record check (_one_by_one), which gives the same answer
    # (the same records stored, or the same refusal), only slower: a mutant that only makes it decline more is
    # unobservable
    **{f"emulator.timeseries.records.x__column_fits__mutmut_{n}": "declines more, never accepts more: "
       + reason for reason, numbers in (
           ("no column's kinds are None (every branch compares them)", (1,)),
           ("every variable column then reads as a code's, and a variable's name, not ending in _qc, names no code",
            (7, 8)),
           ("a code's variable is then never found (name None)", (10, 11, 16, 17)),
           ("a code column of a known variable is then refused", (23,)),
           ("only a code column holding 0 or the largest code is then refused", (28, 29, 31)),
           ("the data type then matches no branch (the ending return False)", (32, 37, 38, 51, 52, 53, 54, 69, 70,
                                                                              73, 74, 75, 76)),
           ("a DOUBLE column of integers, or of integers at INT64's bounds, is then refused", (39, 44, 45, 48)),
           ("every column then meets a branch that refuses its kinds (INT and LONG fall to return False; BOOLEAN, "
            "STRING and TIMESTAMP columns hold no int)", (50,)),
           ("a LONG column beyond INT32, or an INT or LONG column at its bounds, is then refused", (57, 64, 67)),
           ("BOOLEAN columns then fall to return False; STRING and TIMESTAMP columns hold no bool", (68,)),
           ("a string at its length cap is then refused", (86,)))
       for n in numbers},
    **{f"emulator.timeseries.records.x__extras_fit__mutmut_{n}": "declines more, never accepts more: " + reason
       for reason, numbers in (
           ("a code's variable is then never found (name None)", (3, 4, 9, 10)),
           ("the value read is then None, or the variable's value is looked up under None, which no record holds",
            (11, 19)),
           ("the type of None is never int", (21,)),
           ("only a code of 0 or of the largest code is then refused", (24, 25, 26)),
           ("every record with a code beyond the shared keys is then refused", (36,)))
       for n in numbers},
    "emulator.timeseries.records.x__extras_fit__mutmut_35": "the records without a code get 1 instead of 0 in the "
                                                            "code column: a good code as 0 is (the aggregates read a "
                                                            "code's severity, its top two bits, only)",
    **{f"emulator.timeseries.records.x__uniform__mutmut_{n}": "declines more, never accepts more: " + reason
       for reason, numbers in (
           ("every non-empty batch is then refused", (2,)),
           ("a batch of one variable beside _time is then refused", (34, 35)),
           ("every shape then fails the first-key test; with == only shapes with no _time first pass it, and _time "
            "then is a checked column, which _column_fits refuses (no variable, no code)", (37, 38, 39, 40)),
           ("the times are then None", (51, 52)),
           ("the second column's values are times in MindSphere's form only where they are a TIMESTAMP variable's, "
            "and _column_fits refuses such a column", (53,)),
           ("each time is then compared with itself (never less)", (65, 67, 68)))
       for n in numbers},
    **{f"emulator.timeseries.records.x__uniform__mutmut_{n}": "the shared keys are the same whichever shape "
       "orders them (_time first in every shape, the rest only checked in another order): the commonest shape "
       "found another way, or the first record's, gives the same check" for n in (18, 19, 21, 22, 23, 25)},
    **{f"emulator.timeseries.records.x__uniform__mutmut_{n}": "zip's strictness is never tested: every row holds "
       "one value per shared key (itemgetter of them all; at least two, so a tuple)" for n in
       (43, 45, 50, 82, 85, 88, 95, 98, 99)},
    "emulator.timeseries.records.x__uniform__mutmut_102": "the columns are only read for numeric variables "
                                                          "(rollups: schema.numeric) and their codes: a code column "
                                                          "of another key is never read",
    "emulator.timeseries.records.x__uniform__mutmut_109": "with one shape no record has more keys than the shared "
                                                          "ones: the loop finds none",
    "emulator.timeseries.records.x__uniform__mutmut_139": "a checked batch's bodies are read only where it has no "
                                                          "columns (rollups._buckets); this one has them",
    **{f"emulator.timeseries.records.x__uniform__mutmut_{n}": "without the columns the rollups read the same "
       "records' bodies (rollups._from_records): the same values and codes, a record without a code good either "
       "way" for n in (140, 144)},
    **{f"emulator.timeseries.records.x_check_records__mutmut_{n}": "every batch then goes to the record-by-record "
       "check, which gives the same answer (see _column_fits above)" for n in (6, 8, 12)},
    **{f"emulator.timeseries.records.x__one_by_one__mutmut_{n}": "_QUICK and _PLAIN are shortcuts for valid "
       "values: without them (or with the value read as None, which no shortcut takes) _check_value decides "
       "alike" for n in (3, 40, 42, 54, 58)},
    **{f"emulator.timeseries.records.x__check_value__mutmut_{n}": "_check_value sees an INT or LONG value only "
       "once _QUICK refused it, and _QUICK takes the bounds themselves: a bound never reaches this comparison"
       for n in (20, 21)},
    **{f"emulator.timeseries.records.x__check_value__mutmut_{n}": "a DOUBLE value reaches _check_value only once "
       "_QUICK refused it: a float never (nor a bool or a non-number: refused above), an integer only outside "
       "INT64's range, which each of these comparisons refuses too" for n in (33, 35, 36, 37)},
    **{f"emulator.timeseries.records.x__string_cap__mutmut_{n}": "every STRING and BIG_STRING definition has its "
       "length (validation.variable_definition sets the type's cap when none is sent; core types give theirs): "
       "the default is never read" for n in (1, 2, 3, 7, 8, 9)},
    **{f"emulator.timeseries.records.x__texts__mutmut_{n}": "a cut at another text (white space, or one the "
       "encoding never writes) leaves the batch's text whole, one piece: as many as the records only for one record, "
       "which is that text; otherwise each record is encoded alone: the same texts" for n in (3, 8)},
    **{f"emulator.timeseries.records.x\u01c1Checked\u01c1pairs__mutmut_{n}": "zip's strictness is never tested: "
       "times and texts are made one for one" for n in (4, 7, 8)},
    "emulator.aggregates.intervals.x__derive__mutmut_36": "a range under 2 minutes falls through to the same "
                                                          "minute/2 as the last choice",
    **{f"emulator.aggregates.intervals.x_floor_to__mutmut_{n}": "minutes and hours are floored only to test "
       "alignment (is_aligned; _start floors them itself): ms + r equals ms exactly when ms - r does" for n in (4, 9)},
    "emulator.aggregates.intervals.x__too_long__mutmut_8": "the maximum ranges are 1, 7 and 90 days: none is 2",
    "emulator.aggregates.intervals.x__derive__mutmut_51": "a range under 2 minutes falls through to the same "
                                                          "minute/2 as the last choice",
    **{f"emulator.aggregates.intervals.x__fits__mutmut_{n}": "whole local weeks: 12 are 84 days and an hour at "
       "most, 13 are 91 days less an hour at least, so the hour of slack never decides for weeks" for n in (7, 8)},
    **{f"emulator.aggregates.intervals.x__check_range__mutmut_{n}": "unreachable: plan_v4 passes the bounds of "
       "built intervals (each ends after it starts) and plan_v3 refused from >= to before" for n in (1, 2, 3, 4)},
    **{f"emulator.aggregates.intervals.x__far_too_long__mutmut_{n}": "a bound on work, not a rule: a range over "
       "the unit's maximum that it lets through is built and refused by _check_range in the same words (its "
       "spans, at most 3 maxima, are stepped without overflow)" for n in (1, 3)},
    "emulator.aggregates.intervals.x__fits__mutmut_11": "minute and hour ranges are whole minutes: a millisecond of "
                                                        "slack admits none more",
    **{f"emulator.aggregates.intervals.x_plan_v4__mutmut_{n}": "step reads forward for its truth: None is False"
       for n in (36, 53)},
    "emulator.aggregates.intervals.x_plan_v4__mutmut_69": "the end completed from the start only has to lie in the "
                                                          "count-th interval: build covers the interval holding it "
                                                          "and the plan is cut to count, so an hour either way (UTC "
                                                          "or local days) keeps the same intervals",
    "emulator.aggregates.intervals.x_plan_v3__mutmut_56": "nothing reads a v3 plan's value (its intervals are built)",
}

STATUS = re.compile(r"^\s*(\S+): (.+)$")
MUTMUT = [sys.executable, "-m", "mutmut"]


# mutmut runs each mutant in a process forked from one that has run the tests once, so whatever the emulator computes
# once per process (compiled request schemas, the zone names) would be inherited, and a mutant of the code that
# computes it never run. The scratch conftest empties those caches when each mutant's session starts.
FRESH_CACHES = """

def pytest_sessionstart(session):  # appended by tools/mutate.py: nothing computed before mutmut forked is kept
    import functools
    import gc
    import sys
    for cached in gc.get_objects():
        if isinstance(cached, functools._lru_cache_wrapper) and \\
                str(getattr(cached, "__module__", "")).startswith("emulator"):
            cached.cache_clear()
    if "emulator.assets.validation" in sys.modules:
        sys.modules["emulator.assets.validation"]._ZONES = None
"""


# mutmut maps each function to the tests that called it while it collected its stats; what a server compiles once
# (the request schemas: compile_operations, _query_check, _number, to_json_schema, ...) is called in the first test
# that starts one only, so a mutant there ran that test alone, and its survival said nothing. For these modules the
# scratch conftest compiles them again in each test of that collection (the mutants themselves run as before: each
# session's server compiles under the mutant, FRESH_CACHES).
COMPILED_PER_TEST = {"schema-validation"}

# mutmut stops a mutant's run after (the durations of the tests mapped to the function + timeout_constant) * 15
# seconds of wall time (and twice that of CPU). The durations it measures leave out what a session sets up once (a
# server, every compiled schema): for schema-validation (its compiling functions mapped to 39 tests, measured at 0.8
# s) the bound was 26.6 s, while the selection takes about a minute unmutated, so a mutant the tests did not kill was
# stopped and reported "timeout", counted as killed (to_json_schema__mutmut_12, which only changes an unreachable
# message, was one). A larger constant gives the whole selection its time (about 2 minutes); changing it makes mutmut
# check its timeouts again, nothing else.
TIMEOUT_CONSTANT = {"schema-validation": 8.0}
RECOMPILE = """

@pytest.fixture(autouse=True)
def _compiled_in_each_test():  # appended by tools/mutate.py: only while mutmut collects which tests call what
    import functools
    import gc
    import os
    if os.environ.get("MUTANT_UNDER_TEST") == "stats":
        for cached in gc.get_objects():
            if isinstance(cached, functools._lru_cache_wrapper) and \\
                    getattr(cached, "__module__", "") in ("emulator.validation", "emulator.control.openapi"):
                cached.cache_clear()  # the compiled schemas only: the session's server keeps the rest
        from emulator.control import openapi
        openapi.request_checks()
    yield
"""


def scratch_copy(name: str, module: str, selection: list[str], fresh: bool) -> Path:
    """A copy of the sources and tests with a ``[mutmut]`` section of this module's own; the last run's
    ``mutants/`` (mutmut's verdicts) is kept unless ``fresh``. Files keep their times (mutmut compares them)."""
    where = SCRATCH / name
    source = hashlib.sha256((ROOT / module).read_bytes()).hexdigest()
    stamp = where / "source.sha256"
    if fresh or (stamp.exists() and stamp.read_text() != source):
        # the module changed: mutmut would map its changed functions only to the tests added since (its stats
        # are incremental), and a survivor there would be no finding; start over
        shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "node_modules", "*.pyc")
    for folder in ("emulator", "tests"):
        shutil.rmtree(where / folder, ignore_errors=True)
        shutil.copytree(ROOT / folder, where / folder, ignore=ignore)
    for file in ("conftest.py", "pyproject.toml"):
        shutil.copy2(ROOT / file, where / file)
    with open(where / "conftest.py", "a") as conftest:
        conftest.write(FRESH_CACHES + (RECOMPILE if name in COMPILED_PER_TEST else ""))
    config = (ROOT / "setup.cfg").read_text()
    selected = "".join(f"\n    {arg}" for arg in selection)
    config += ("\n[mutmut]\nsource_paths = emulator\nalso_copy = conftest.py\n"
               f"only_mutate = {module}\n"
               + (f"timeout_constant = {TIMEOUT_CONSTANT[name]}\n" if name in TIMEOUT_CONSTANT else "") +
               "pytest_add_cli_args = -p no:cacheprovider -q -x\n"
               f"pytest_add_cli_args_test_selection ={selected}\n")
    (where / "setup.cfg").write_text(config)
    stamp.write_text(source)
    return where


def statuses_of(where: Path, env: dict) -> dict[str, str]:
    """mutmut's verdict of every mutant of the scratch copy (none before its first run)."""
    if not (where / "mutants").is_dir():
        return {}
    results = subprocess.run([*MUTMUT, "results", "--all", "true"], cwd=where, env=env, capture_output=True,
                             text=True, timeout=300)
    return {m.group(1): m.group(2).strip() for m in map(STATUS.match, results.stdout.splitlines()) if m}


def run_bounded(args: list[str], where: Path, env: dict, deadline: float, log) -> bool:
    """``mutmut run`` until it ends or the deadline; False if the deadline stopped it."""
    proc = subprocess.Popen([*MUTMUT, "run", *args], cwd=where, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        proc.wait(timeout=max(deadline - time.monotonic(), 1))
        return True
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)
        return False


def run_module(name: str, minutes: float, children: int, fresh: bool) -> dict:
    module, selection = MODULES[name]
    where = scratch_copy(name, module, selection, fresh)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "MDSP_EMU_TEST_POSTGRES_URL")}
    started = time.monotonic()
    deadline = started + minutes * 60
    print(f"== {name}: {module}, tests {' '.join(selection)}; at most {minutes:g} minutes", flush=True)
    earlier = [m for m, s in statuses_of(where, env).items() if s == "survived" and m not in EQUIVALENT]
    with open(where / "run.log", "w") as log:
        finished = True
        if earlier:  # mutmut keeps a verdict while the function is unchanged: ask again with today's tests
            print(f"   {len(earlier)} survivors of the last run tried again first", flush=True)
            finished = run_bounded(["--max-children", str(children), *earlier], where, env, deadline, log)
        if finished:
            finished = run_bounded(["--max-children", str(children)], where, env, deadline, log)
        if not finished:
            print(f"   stopped at the time bound ({minutes:g} min)", flush=True)
    statuses = statuses_of(where, env)
    if not statuses:
        print(f"   no results: see {where / 'run.log'}")
    summary = {"mutants": len(statuses), "killed": 0, "survived": 0, "equivalent": 0, "other": 0, "timeout": 0}
    survivors = []
    for mutant, status in sorted(statuses.items()):
        if status == "survived" and mutant in EQUIVALENT:
            summary["equivalent"] += 1
        elif status == "survived":
            summary["survived"] += 1
            survivors.append(mutant)
        elif status in ("killed", "timeout"):  # a mutant that hangs the tests is seen; one too slow for the bound
            summary["killed"] += 1              # may not be (TIMEOUT_CONSTANT): the count says how many to look at
            summary["timeout"] += status == "timeout"
        else:  # not checked (the bound), no tests, suspicious, skipped
            summary["other"] += 1
    for mutant in survivors:
        shown = subprocess.run([*MUTMUT, "show", mutant], cwd=where, env=env, capture_output=True, text=True,
                               timeout=120).stdout
        print("   " + "\n   ".join(line for line in shown.splitlines() if line[:1] in "#-+" and line[:3] not in
                                   ("---", "+++")))
    for mutant in sorted(m for m, s in statuses.items() if s == "survived" and m in EQUIVALENT):
        print(f"   equivalent {mutant}: {EQUIVALENT[mutant]}")
    timeouts = f" ({summary['timeout']} of them by timeout)" if summary["timeout"] else ""
    print(f"   {name}: {summary['mutants']} mutants, {summary['killed']} killed{timeouts}, "
          f"{summary['survived']} survived, {summary['equivalent']} equivalent, "
          f"{summary['other']} not checked or other ({(time.monotonic() - started) / 60:.1f} min)", flush=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"some of: {', '.join(MODULES)} (default: all)")
    parser.add_argument("--minutes", type=float, default=4.0, help="the time bound of each module (default 4)")
    parser.add_argument("--children", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--fresh", action="store_true", help="forget the last run's verdicts and start over")
    args = parser.parse_args(argv)
    unknown = [name for name in args.modules if name not in MODULES]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}: use some of {', '.join(MODULES)}")
    totals = [run_module(name, args.minutes, args.children, args.fresh) for name in (args.modules or list(MODULES))]
    print("== surviving mutants: " + str(sum(t["survived"] for t in totals)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
