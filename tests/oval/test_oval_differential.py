"""Differential tests: stigscap's OVAL engine against `oscap oval analyse` (OpenSCAP 1.3.7).

One generated definitions document (every scenario × check × check_existence × state, state
operators, entity_check / var_check, datatypes, the platform inventory definition, and
criteria trees with AND/OR/ONE/XOR, negate and extend_definition) is analysed over one
generated system-characteristics document, once per tailored value of the seed rule's
external variable (`^Tls$` and `(^|, )Tls(, |$)`). Every definition result must equal
oscap's, except the documented cases in KNOWN_DIFFERENCES where oscap departs from the OVAL
5.11.2 specification (../shared/reference/tool-quirks.md §10 and the results-schema TestType rules): there the
test asserts both our specification answer and oscap's known different answer, so a change
on either side is noticed. oscap reads the documents indented (ovalcases_builder.indented):
compact, its reader loses the collected object after an empty one, which made flag 'error' and
'not applicable' objects look unknown to it.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from lxml import etree

import tests.oval.ovalcases_matrix as M
from tests.oval.ovalcases_builder import indented, variables_doc
from stigscap.evaluator.oval.engine import compile_definitions
from stigscap.evaluator.oval.results import build_results_document
from tests.conftest import require_tool

RES_NS = {"r": "http://oval.mitre.org/XMLSchema/oval-results-5"}
# the seed rule's tailorable Value (exact / includes reading), and both values at once
# (an external variable with two values: var_check="all" must satisfy both patterns)
VALUES = {"exact": [M.EXACT], "includes": [M.INCLUDES], "both": [M.EXACT, M.INCLUDES]}

# label "scenario|check|check_existence|state" → (specification answer, oscap 1.3.7 answer)
KNOWN_DIFFERENCES: dict[str, dict[str, tuple[str, str]]] = {
    # ../shared/reference/tool-quirks.md §10: the state entity's existence check counts every item entity, so an item with no value record gives unknown (spec: false; none_exist on the entity: true).
    'no_value_record': {
        'no_connectors|all|all_exist|ste:1': ('false', 'unknown'),
        'no_connectors|all|any_exist|ste:1': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|ste:1': ('false', 'unknown'),
        'no_connectors|all|only_one_exists|ste:1': ('false', 'unknown'),
        'no_connectors|at least one|all_exist|ste:1': ('false', 'unknown'),
        'no_connectors|at least one|any_exist|ste:1': ('false', 'unknown'),
        'no_connectors|at least one|at_least_one_exists|ste:1': ('false', 'unknown'),
        'no_connectors|at least one|only_one_exists|ste:1': ('false', 'unknown'),
        'no_connectors|none satisfy|all_exist|ste:1': ('true', 'unknown'),
        'no_connectors|none satisfy|any_exist|ste:1': ('true', 'unknown'),
        'no_connectors|none satisfy|at_least_one_exists|ste:1': ('true', 'unknown'),
        'no_connectors|none satisfy|only_one_exists|ste:1': ('true', 'unknown'),
        'no_connectors|only one|all_exist|ste:1': ('false', 'unknown'),
        'no_connectors|only one|any_exist|ste:1': ('false', 'unknown'),
        'no_connectors|only one|at_least_one_exists|ste:1': ('false', 'unknown'),
        'no_connectors|only one|only_one_exists|ste:1': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|ste:2': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|ste:3': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|ste:4': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|ste:5': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|ste:6': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|ste:7': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|ste:8': ('true', 'false'),
        'no_connectors|all|at_least_one_exists|ste:9': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|ste:10': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|ste:11': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|ste:12': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|ste:13': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|multi-AND': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|multi-OR': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|multi-ONE': ('false', 'unknown'),
        'no_connectors|all|at_least_one_exists|multi-XOR': ('false', 'unknown'),
    },
    # ../shared/reference/tool-quirks.md §10: flag 'error' with check_existence any_exist and no state; spec (TestType) says error, oscap true.
    'flag_error': {
        'flag_error|all|any_exist|': ('error', 'true'),
        'flag_error|at least one|any_exist|': ('error', 'true'),
        'flag_error|none satisfy|any_exist|': ('error', 'true'),
        'flag_error|only one|any_exist|': ('error', 'true'),
    },
    # ../shared/reference/tool-quirks.md §10: flag 'not collected' with check_existence any_exist and no state; spec (TestType) says unknown, oscap true.
    'flag_not_collected_any_exist': {
        'flag_not_collected|all|any_exist|': ('unknown', 'true'),
        'flag_not_collected|at least one|any_exist|': ('unknown', 'true'),
        'flag_not_collected|none satisfy|any_exist|': ('unknown', 'true'),
        'flag_not_collected|only one|any_exist|': ('unknown', 'true'),
    },
    # ../shared/reference/tool-quirks.md §10: flag 'not applicable' with check_existence any_exist and no state; spec (TestType) says not applicable, oscap true.
    'flag_not_applicable': {
        'flag_not_applicable|all|any_exist|': ('not applicable', 'true'),
        'flag_not_applicable|at least one|any_exist|': ('not applicable', 'true'),
        'flag_not_applicable|none satisfy|any_exist|': ('not applicable', 'true'),
        'flag_not_applicable|only one|any_exist|': ('not applicable', 'true'),
    },
    # ExistenceEnumeration: on a test all_exist equals at_least_one_exists; oscap applies the all_exist table (error items → error).
    'all_exist_on_test': {
        'item_error_and_good|all|all_exist|': ('true', 'error'),
        'item_error_and_good|at least one|all_exist|ste:1': ('true', 'error'),
        'item_error_and_good|at least one|all_exist|': ('true', 'error'),
        'item_error_and_good|none satisfy|all_exist|ste:1': ('false', 'error'),
        'item_error_and_good|none satisfy|all_exist|': ('true', 'error'),
        'item_error_and_good|only one|all_exist|': ('true', 'error'),
        'error_and_bad|all|all_exist|ste:1': ('false', 'error'),
        'error_and_bad|all|all_exist|': ('true', 'error'),
        'error_and_bad|at least one|all_exist|': ('true', 'error'),
        'error_and_bad|none satisfy|all_exist|': ('true', 'error'),
        'error_and_bad|only one|all_exist|': ('true', 'error'),
    },
    # ../shared/reference/tool-quirks.md §10: none_exist with ≥1 existing item is false whatever else; oscap error.
    'none_exist_with_error_item': {
        'item_error_and_good|all|none_exist|ste:1': ('false', 'error'),
        'item_error_and_good|all|none_exist|': ('false', 'error'),
        'item_error_and_good|at least one|none_exist|ste:1': ('false', 'error'),
        'item_error_and_good|at least one|none_exist|': ('false', 'error'),
        'item_error_and_good|none satisfy|none_exist|ste:1': ('false', 'error'),
        'item_error_and_good|none satisfy|none_exist|': ('false', 'error'),
        'item_error_and_good|only one|none_exist|ste:1': ('false', 'error'),
        'item_error_and_good|only one|none_exist|': ('false', 'error'),
        'item_error_and_good|none exist|-|none-exist': ('false', 'error'),
        'error_and_bad|all|none_exist|ste:1': ('false', 'error'),
        'error_and_bad|all|none_exist|': ('false', 'error'),
        'error_and_bad|at least one|none_exist|ste:1': ('false', 'error'),
        'error_and_bad|at least one|none_exist|': ('false', 'error'),
        'error_and_bad|none satisfy|none_exist|ste:1': ('false', 'error'),
        'error_and_bad|none satisfy|none_exist|': ('false', 'error'),
        'error_and_bad|only one|none_exist|ste:1': ('false', 'error'),
        'error_and_bad|only one|none_exist|': ('false', 'error'),
        'error_and_bad|none exist|-|none-exist': ('false', 'error'),
    },
    # ../shared/reference/tool-quirks.md §10: oscap's existence check ignores 'not collected' items (spec: unknown), and 'at least one' / 'none satisfy' / 'only one' over false+unknown gives error (tables: unknown).
    'not_collected_items': {
        'item_not_collected|all|all_exist|ste:1': ('unknown', 'false'),
        'item_not_collected|all|all_exist|': ('unknown', 'false'),
        'item_not_collected|all|any_exist|ste:1': ('unknown', 'error'),
        'item_not_collected|all|at_least_one_exists|ste:1': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|': ('unknown', 'false'),
        'item_not_collected|all|none_exist|ste:1': ('unknown', 'error'),
        'item_not_collected|all|none_exist|': ('unknown', 'true'),
        'item_not_collected|all|only_one_exists|ste:1': ('unknown', 'false'),
        'item_not_collected|all|only_one_exists|': ('unknown', 'false'),
        'item_not_collected|at least one|all_exist|ste:1': ('unknown', 'false'),
        'item_not_collected|at least one|all_exist|': ('unknown', 'false'),
        'item_not_collected|at least one|any_exist|ste:1': ('unknown', 'error'),
        'item_not_collected|at least one|at_least_one_exists|ste:1': ('unknown', 'false'),
        'item_not_collected|at least one|at_least_one_exists|': ('unknown', 'false'),
        'item_not_collected|at least one|none_exist|ste:1': ('unknown', 'error'),
        'item_not_collected|at least one|none_exist|': ('unknown', 'true'),
        'item_not_collected|at least one|only_one_exists|ste:1': ('unknown', 'false'),
        'item_not_collected|at least one|only_one_exists|': ('unknown', 'false'),
        'item_not_collected|none satisfy|all_exist|ste:1': ('unknown', 'false'),
        'item_not_collected|none satisfy|all_exist|': ('unknown', 'false'),
        'item_not_collected|none satisfy|any_exist|ste:1': ('unknown', 'error'),
        'item_not_collected|none satisfy|at_least_one_exists|ste:1': ('unknown', 'false'),
        'item_not_collected|none satisfy|at_least_one_exists|': ('unknown', 'false'),
        'item_not_collected|none satisfy|none_exist|ste:1': ('unknown', 'error'),
        'item_not_collected|none satisfy|none_exist|': ('unknown', 'true'),
        'item_not_collected|none satisfy|only_one_exists|ste:1': ('unknown', 'false'),
        'item_not_collected|none satisfy|only_one_exists|': ('unknown', 'false'),
        'item_not_collected|only one|all_exist|ste:1': ('unknown', 'false'),
        'item_not_collected|only one|all_exist|': ('unknown', 'false'),
        'item_not_collected|only one|any_exist|ste:1': ('unknown', 'error'),
        'item_not_collected|only one|at_least_one_exists|ste:1': ('unknown', 'false'),
        'item_not_collected|only one|at_least_one_exists|': ('unknown', 'false'),
        'item_not_collected|only one|none_exist|ste:1': ('unknown', 'error'),
        'item_not_collected|only one|none_exist|': ('unknown', 'true'),
        'item_not_collected|only one|only_one_exists|ste:1': ('unknown', 'false'),
        'item_not_collected|only one|only_one_exists|': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|ste:2': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|ste:3': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|ste:4': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|ste:5': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|ste:6': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|ste:7': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|ste:8': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|ste:9': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|ste:10': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|ste:11': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|ste:12': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|ste:13': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|multi-AND': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|multi-OR': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|multi-ONE': ('unknown', 'false'),
        'item_not_collected|all|at_least_one_exists|multi-XOR': ('unknown', 'false'),
        'item_not_collected|none exist|-|none-exist': ('unknown', 'true'),
        'nc_and_bad|all|only_one_exists|ste:1': ('unknown', 'false'),
        'nc_and_bad|all|only_one_exists|': ('unknown', 'true'),
        'nc_and_bad|at least one|all_exist|ste:1': ('unknown', 'error'),
        'nc_and_bad|at least one|any_exist|ste:1': ('unknown', 'error'),
        'nc_and_bad|at least one|at_least_one_exists|ste:1': ('unknown', 'error'),
        'nc_and_bad|at least one|only_one_exists|ste:1': ('unknown', 'error'),
        'nc_and_bad|at least one|only_one_exists|': ('unknown', 'true'),
        'nc_and_bad|none satisfy|all_exist|ste:1': ('unknown', 'error'),
        'nc_and_bad|none satisfy|any_exist|ste:1': ('unknown', 'error'),
        'nc_and_bad|none satisfy|at_least_one_exists|ste:1': ('unknown', 'error'),
        'nc_and_bad|none satisfy|only_one_exists|ste:1': ('unknown', 'error'),
        'nc_and_bad|none satisfy|only_one_exists|': ('unknown', 'true'),
        'nc_and_bad|only one|all_exist|ste:1': ('unknown', 'error'),
        'nc_and_bad|only one|any_exist|ste:1': ('unknown', 'error'),
        'nc_and_bad|only one|at_least_one_exists|ste:1': ('unknown', 'error'),
        'nc_and_bad|only one|only_one_exists|ste:1': ('unknown', 'error'),
        'nc_and_bad|only one|only_one_exists|': ('unknown', 'true'),
        'nc_and_bad|all|at_least_one_exists|ste:10': ('unknown', 'error'),
        'nc_and_bad|all|at_least_one_exists|ste:11': ('unknown', 'error'),
    },
    # ../shared/reference/tool-quirks.md §10 / TestType: items with status 'does not exist' are ignored by check; oscap counts them as false.
    'dne_items_in_check': {
        'item_dne_and_good|all|all_exist|ste:1': ('true', 'false'),
        'item_dne_and_good|all|any_exist|ste:1': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|ste:1': ('true', 'false'),
        'item_dne_and_good|all|only_one_exists|ste:1': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|ste:2': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|ste:3': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|ste:4': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|ste:5': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|ste:6': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|ste:7': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|ste:9': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|ste:10': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|ste:11': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|ste:12': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|ste:13': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|multi-AND': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|multi-OR': ('true', 'false'),
        'item_dne_and_good|all|at_least_one_exists|multi-XOR': ('true', 'false'),
        'item_dne_and_bad|all|at_least_one_exists|ste:10': ('true', 'false'),
        'item_dne_and_bad|all|at_least_one_exists|ste:11': ('true', 'false'),
        'only_dne|all|any_exist|ste:1': ('true', 'false'),
        'only_dne|all|none_exist|ste:1': ('true', 'false'),
        'only_dne|at least one|any_exist|ste:1': ('true', 'false'),
        'only_dne|at least one|none_exist|ste:1': ('true', 'false'),
        'only_dne|only one|any_exist|ste:1': ('true', 'false'),
        'only_dne|only one|none_exist|ste:1': ('true', 'false'),
    },
    # results-schema TestType, flag 'incomplete': unknown except none_exist/only_one_exists with too many items → false, check false → false, 'at least one' true → true; oscap returns true without states and ignores the exceptions for all_exist/only_one_exists.
    'incomplete_flag': {
        'incomplete_good|all|any_exist|': ('unknown', 'true'),
        'incomplete_good|all|at_least_one_exists|': ('unknown', 'true'),
        'incomplete_good|at least one|all_exist|ste:1': ('true', 'unknown'),
        'incomplete_good|at least one|any_exist|': ('unknown', 'true'),
        'incomplete_good|at least one|at_least_one_exists|': ('unknown', 'true'),
        'incomplete_good|at least one|only_one_exists|ste:1': ('true', 'unknown'),
        'incomplete_good|none satisfy|all_exist|ste:1': ('false', 'unknown'),
        'incomplete_good|none satisfy|any_exist|': ('unknown', 'true'),
        'incomplete_good|none satisfy|at_least_one_exists|': ('unknown', 'true'),
        'incomplete_good|none satisfy|only_one_exists|ste:1': ('false', 'unknown'),
        'incomplete_good|only one|any_exist|': ('unknown', 'true'),
        'incomplete_good|only one|at_least_one_exists|': ('unknown', 'true'),
        'incomplete_bad|all|all_exist|ste:1': ('false', 'unknown'),
        'incomplete_bad|all|any_exist|': ('unknown', 'true'),
        'incomplete_bad|all|at_least_one_exists|': ('unknown', 'true'),
        'incomplete_bad|all|only_one_exists|ste:1': ('false', 'unknown'),
        'incomplete_bad|at least one|all_exist|ste:1': ('false', 'unknown'),
        'incomplete_bad|at least one|any_exist|': ('unknown', 'true'),
        'incomplete_bad|at least one|at_least_one_exists|': ('unknown', 'true'),
        'incomplete_bad|at least one|only_one_exists|ste:1': ('false', 'unknown'),
        'incomplete_bad|none satisfy|any_exist|': ('unknown', 'true'),
        'incomplete_bad|none satisfy|at_least_one_exists|': ('unknown', 'true'),
        'incomplete_bad|only one|all_exist|ste:1': ('false', 'unknown'),
        'incomplete_bad|only one|any_exist|': ('unknown', 'true'),
        'incomplete_bad|only one|at_least_one_exists|': ('unknown', 'true'),
        'incomplete_bad|only one|only_one_exists|ste:1': ('false', 'unknown'),
        'incomplete_two|all|any_exist|': ('unknown', 'true'),
        'incomplete_two|all|at_least_one_exists|': ('unknown', 'true'),
        'incomplete_two|at least one|all_exist|ste:1': ('true', 'unknown'),
        'incomplete_two|at least one|any_exist|': ('unknown', 'true'),
        'incomplete_two|at least one|at_least_one_exists|': ('unknown', 'true'),
        'incomplete_two|none satisfy|all_exist|ste:1': ('false', 'unknown'),
        'incomplete_two|none satisfy|any_exist|': ('unknown', 'true'),
        'incomplete_two|none satisfy|at_least_one_exists|': ('unknown', 'true'),
        'incomplete_two|only one|all_exist|ste:1': ('false', 'unknown'),
        'incomplete_two|only one|any_exist|': ('unknown', 'true'),
        'incomplete_two|only one|at_least_one_exists|': ('unknown', 'true'),
    },
    # ResultEnumeration: comparing against an item entity (field) with status 'error' gives error; oscap compares its text.
    'field_status_error': {
        'field_error|all|all_exist|ste:1': ('error', 'false'),
        'field_error|all|any_exist|ste:1': ('error', 'false'),
        'field_error|all|at_least_one_exists|ste:1': ('error', 'false'),
        'field_error|all|only_one_exists|ste:1': ('error', 'false'),
        'field_error|at least one|all_exist|ste:1': ('error', 'false'),
        'field_error|at least one|any_exist|ste:1': ('error', 'false'),
        'field_error|at least one|at_least_one_exists|ste:1': ('error', 'false'),
        'field_error|at least one|only_one_exists|ste:1': ('error', 'false'),
        'field_error|none satisfy|all_exist|ste:1': ('error', 'true'),
        'field_error|none satisfy|any_exist|ste:1': ('error', 'true'),
        'field_error|none satisfy|at_least_one_exists|ste:1': ('error', 'true'),
        'field_error|none satisfy|only_one_exists|ste:1': ('error', 'true'),
        'field_error|only one|all_exist|ste:1': ('error', 'false'),
        'field_error|only one|any_exist|ste:1': ('error', 'false'),
        'field_error|only one|at_least_one_exists|ste:1': ('error', 'false'),
        'field_error|only one|only_one_exists|ste:1': ('error', 'false'),
        'field_error|all|at_least_one_exists|ste:2': ('error', 'false'),
        'field_error|all|at_least_one_exists|ste:3': ('error', 'false'),
        'field_error|all|at_least_one_exists|ste:4': ('error', 'true'),
        'field_error|all|at_least_one_exists|ste:5': ('error', 'false'),
        'field_error|all|at_least_one_exists|ste:6': ('error', 'false'),
        'field_error|all|at_least_one_exists|ste:7': ('error', 'true'),
        'field_error|all|at_least_one_exists|ste:10': ('error', 'false'),
        'field_error|all|at_least_one_exists|ste:11': ('error', 'true'),
        'field_error|all|at_least_one_exists|ste:12': ('error', 'false'),
        'field_error|all|at_least_one_exists|ste:13': ('error', 'false'),
        'field_error|all|at_least_one_exists|multi-AND': ('error', 'false'),
        'field_error|all|at_least_one_exists|multi-OR': ('error', 'true'),
        'field_error|all|at_least_one_exists|multi-ONE': ('error', 'false'),
        'field_error|all|at_least_one_exists|multi-XOR': ('error', 'false'),
    },
    # ResultEnumeration / StatusEnumeration: a record field with status 'not collected' gives
    # unknown (and the tables combine false+unknown to unknown); oscap compares its empty text.
    'field_not_collected': {
        'field_nc_and_bad|all|at_least_one_exists|ste:3': ('unknown', 'false'),
        'field_nc_and_bad|all|at_least_one_exists|ste:5': ('unknown', 'false'),
        'field_nc_and_bad|all|at_least_one_exists|ste:10': ('unknown', 'false'),
        'field_nc_and_bad|all|at_least_one_exists|ste:11': ('unknown', 'true'),
    },
    # ../shared/reference/tool-quirks.md §10: version datatype against a non-version value ('Unlimited') is an error; oscap compares numerically.
    'version_non_version': {
        'dt_a|all|at_least_one_exists|limit version less than 15': ('error', 'true'),
    },
    # ../shared/reference/tool-quirks.md §10 / SimpleDatatypeEnumeration: boolean literals are true/false/1/0 only ('True' is an error); oscap reads it as false.
    'boolean_lexical': {
        'dt_c|all|at_least_one_exists|enabled boolean equals true': ('error', 'false'),
        'dt_c|all|at_least_one_exists|enabled boolean equals 0': ('error', 'true'),
        'dt_c|all|at_least_one_exists|enabled boolean not equal false': ('error', 'false'),
    },
}
KNOWN = {label: pair for cat in KNOWN_DIFFERENCES.values() for label, pair in cat.items()}


@pytest.fixture(scope="module")
def matrix():
    return M.build(n_trees=300, leaf_ok=lambda label: label not in KNOWN)


def _oscap(tmp_path, m, name: str, value: list[str]) -> dict[str, str]:
    d = tmp_path / f"defs-{name}.xml"
    s = tmp_path / f"sc-{name}.xml"
    v = tmp_path / f"vars-{name}.xml"
    out = tmp_path / f"res-{name}.xml"
    d.write_bytes(indented(m.defs))
    s.write_bytes(indented(m.syschar))
    v.write_bytes(variables_doc({M.VAR: ("string", value)}))
    r = subprocess.run(["oscap", "oval", "analyse", "--variables", str(v), "--results",
                        str(out), str(d), str(s)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    doc = etree.parse(str(out))
    return {e.get("definition_id"): e.get("result")
            for e in doc.iterfind(".//r:results//r:definition", RES_NS)}


@pytest.fixture(scope="module")
def runs(matrix, tmp_path_factory):
    require_tool("oscap")
    tmp = tmp_path_factory.mktemp("oval-diff")
    compiled = compile_definitions(etree.fromstring(matrix.defs))
    sc = etree.fromstring(matrix.syschar)
    with ThreadPoolExecutor(max_workers=3) as pool:
        futs = {n: pool.submit(_oscap, tmp, matrix, n, v) for n, v in VALUES.items()}
        theirs = {n: f.result() for n, f in futs.items()}
    ours = {n: compiled.evaluate(sc, {M.VAR: v}).definition_results
            for n, v in VALUES.items()}
    return ours, theirs


@pytest.mark.parametrize("value", list(VALUES))
def test_every_definition_matches_oscap_or_is_a_known_difference(matrix, runs, value):
    ours, theirs = runs[0][value], runs[1][value]
    assert set(ours) == set(matrix.cases) and set(theirs) == set(matrix.cases)
    mismatched, wrong_known = [], []
    for def_id, case in matrix.cases.items():
        label = case.label
        if label in KNOWN:
            spec, osc = KNOWN[label]
            if (ours[def_id], theirs[def_id]) != (spec, osc):
                wrong_known.append((label, ours[def_id], theirs[def_id], spec, osc))
        elif ours[def_id] != theirs[def_id]:
            mismatched.append((label, ours[def_id], theirs[def_id]))
    assert not mismatched, f"{len(mismatched)} differ from oscap: {mismatched[:20]}"
    assert not wrong_known, f"known differences changed (label, ours, oscap, spec, oscap-known): {wrong_known[:20]}"


def test_matrix_covers_every_result_and_axis(matrix, runs):
    """The generated suite is not only easy cases: every result value is reached."""
    results = {r for res in runs[0].values() for r in res.values()}
    assert {"true", "false", "error", "unknown", "not applicable"} <= results
    tree_results = {runs[0]["exact"][d] for d, c in matrix.cases.items() if c.kind == "tree"}
    assert {"true", "false", "error", "unknown"} <= tree_results
    labels = {c.label for c in matrix.cases.values() if c.kind == "single"}
    for ce in M.EXISTENCES:
        for check in M.CHECKS:
            assert any(f"|{check}|{ce}|" in lab for lab in labels)
    assert len([c for c in matrix.cases.values() if c.kind == "tree"]) == 300
    # every documented difference is still exercised by the matrix
    assert KNOWN.keys() <= labels


def test_seed_rule_tailoring_differs_only_where_expected(matrix, runs):
    """`^Tls$` vs `(^|, )Tls(, |$)`: 'Tls, ExchangeServer' passes only the includes reading;
    'BasicAuth, BasicAuthRequireTLS' and 'None' fail both (oscap agrees on all of these)."""
    by_label = {c.label: d for d, c in matrix.cases.items()}
    seed = "|all|at_least_one_exists|ste:1"
    for scen, exact, includes in [("compliant", "true", "true"), ("one_bad", "false", "false"),
                                  ("tls_exchangeserver", "false", "true"),
                                  ("basic_requiretls", "false", "false"),
                                  ("all_bad", "false", "false"), ("mixed_case", "false", "false"),
                                  ("flag_dne", "false", "false")]:
        d = by_label[scen + seed]
        for value, want in (("exact", exact), ("includes", includes)):
            assert runs[0][value][d] == want == runs[1][value][d], (scen, value)


def test_platform_inventory_definition(matrix, runs):
    got = {c.scenario: runs[1]["exact"][d] for d, c in matrix.cases.items()
           if c.state == "inventory"}
    ours = {c.scenario: runs[0]["exact"][d] for d, c in matrix.cases.items()
            if c.state == "inventory"}
    assert got == ours == {"inv_edge2013": "true", "inv_mailbox": "false",
                           "inv_edge2016": "false"}


def test_missing_external_variable_is_error_like_oscap(matrix, runs, tmp_path):
    """Without a value for the external variable, the seed rule's state gives error (oscap
    too, rc 0); definitions that do not use the variable keep their results."""
    d, s, out = tmp_path / "d.xml", tmp_path / "s.xml", tmp_path / "o.xml"
    d.write_bytes(indented(matrix.defs))
    s.write_bytes(indented(matrix.syschar))
    r = subprocess.run(["oscap", "oval", "analyse", "--results", str(out), str(d), str(s)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    theirs = {e.get("definition_id"): e.get("result")
              for e in etree.parse(str(out)).iterfind(".//r:results//r:definition", RES_NS)}
    ours = compile_definitions(etree.fromstring(matrix.defs)).evaluate(
        etree.fromstring(matrix.syschar), {}).definition_results
    checked = 0
    for def_id, case in matrix.cases.items():
        if case.kind != "single":
            continue
        if case.state == "ste:1" and case.scenario in (
                "compliant", "one_bad", "all_bad", "tls_exchangeserver", "basic_requiretls",
                "single_tls", "two_items_good_bad", "mixed_case"):
            assert ours[def_id] == theirs[def_id], case.label
            if case.test.check_existence in ("at_least_one_exists", "any_exist", "all_exist"):
                assert ours[def_id] == "error", case.label
            checked += 1
        elif case.state not in ("ste:1",) and case.label not in KNOWN:
            assert ours[def_id] == theirs[def_id] == runs[0]["exact"][def_id], case.label
            checked += 1
    assert checked > 500


def test_not_evaluated_propagation_matches_oscap(tmp_path):
    """A deprecated definition without criteria is 'not evaluated'; it combines through
    extend_definition with every operator and negate like oscap does."""
    require_tool("oscap")
    from itertools import product

    from tests.oval.ovalcases_builder import (F, P, State, Test, cmdlet_item, cmdlet_object, collected,
                                   connector, criteria, criterion, definition,
                                   definitions_doc, extend, syschar_doc)
    obj = f"{P}:obj:1"
    dep = (f'<definition id="{P}:def:9" version="1" class="compliance" deprecated="true">'
           "<metadata><title>x</title><description>d</description></metadata></definition>")
    leaves = {"t": lambda neg: criterion(f"{P}:tst:1", neg),
              "f": lambda neg: criterion(f"{P}:tst:2", neg),
              "ne": lambda neg: extend(f"{P}:def:9", neg)}
    defs, n = [dep], 100
    for op, combo, negs in product(("AND", "OR", "ONE", "XOR"),
                                   (("t", "ne"), ("f", "ne"), ("ne",), ("t", "t", "ne")),
                                   (False, True)):
        n += 1
        defs.append(definition(f"{P}:def:{n}", criteria(
            op, *[leaves[k](negs and i == 0) for i, k in enumerate(combo)], negate=negs)))
    doc = definitions_doc(
        defs, [Test(f"{P}:tst:1", obj, [f"{P}:ste:1"]).xml(),
               Test(f"{P}:tst:2", obj, [f"{P}:ste:2"]).xml()],
        [cmdlet_object(obj)],
        [State(f"{P}:ste:1", [F("authmechanism", "Tls")]).xml(),
         State(f"{P}:ste:2", [F("authmechanism", "None")]).xml()])
    sc = syschar_doc([collected(obj, "complete", [1])], [cmdlet_item(1, [connector("A", "Tls")])])
    (tmp_path / "d.xml").write_bytes(indented(doc))
    (tmp_path / "s.xml").write_bytes(indented(sc))
    r = subprocess.run(["oscap", "oval", "analyse", "--results", str(tmp_path / "o.xml"),
                        str(tmp_path / "d.xml"), str(tmp_path / "s.xml")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    theirs = {e.get("definition_id"): e.get("result") for e in
              etree.parse(str(tmp_path / "o.xml")).iterfind(".//r:results//r:definition",
                                                            RES_NS)}
    ours = compile_definitions(etree.fromstring(doc)).evaluate(
        etree.fromstring(sc)).definition_results
    assert ours == theirs
    assert {"not evaluated", "true", "false"} <= set(ours.values())


@pytest.mark.parametrize("directives", ["full", "thin"])
def test_matrix_results_document_is_schema_valid(matrix, results_schema, directives):
    """Every result value, messages, tested items and variables: the whole matrix's results
    document validates against the official OVAL 5.11.2 results schema (+ Windows items)."""
    ev = compile_definitions(etree.fromstring(matrix.defs)).evaluate(
        etree.fromstring(matrix.syschar), {M.VAR: [M.EXACT]})
    doc = build_results_document(ev, directives=directives, timestamp="2026-11-28T04:00:00")
    results_schema.assertValid(doc)
    got = {d.get("definition_id"): d.get("result")
           for d in doc.iterfind(".//r:definitions/r:definition", RES_NS)}
    assert got == ev.definition_results
