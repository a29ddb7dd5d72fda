"""Reference reading of the content model's machine checks, for the data-driven cases.

This is the OVAL semantics the content relies on (existence, check, entity_check, operations,
datatypes, negate, operator), applied to the case tables directly. It checks that each rule's
check and expected values say what the STIG says (compliant data passes, non-compliant data
fails); the real path (generate -> system characteristics -> OVAL engine) uses the same tables.
"""

from __future__ import annotations

import re

from stigscap.content.model import (FILE_RIGHTS, FieldCheck, FileRightsObject, RegistryObject,
                                    Rule, StateSpec, TestSpec)


def _as_list(v) -> list[str]:
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def _compare(f: FieldCheck, actual: str, expected: str) -> bool:
    op = f.operation
    if f.datatype == "boolean":
        a = actual.strip().lower() in ("true", "1")
        e = expected.strip().lower() in ("true", "1")
        assert actual.strip().lower() in ("true", "false", "1", "0"), actual
        return {"equals": a == e, "not equal": a != e}[op]
    if f.datatype == "int":
        a, e = int(actual), int(expected)
        return {"equals": a == e, "not equal": a != e, "greater than": a > e,
                "less than": a < e, "greater than or equal": a >= e,
                "less than or equal": a <= e}[op]
    if op == "pattern match":
        return re.search(expected, actual) is not None
    return {"equals": actual == expected, "not equal": actual != expected,
            "case insensitive equals": actual.lower() == expected.lower(),
            "case insensitive not equal": actual.lower() != expected.lower()}[op]


def _check(results: list[bool], how: str) -> bool:
    n = sum(results)
    return {"all": n == len(results), "at least one": n >= 1,
            "none satisfy": n == 0, "only one": n == 1}[how]


def _record_matches(state: StateSpec, record: dict, values: dict) -> bool:
    """All state fields match this record (a state field the record lacks cannot match)."""
    lower = {k.lower(): v for k, v in record.items()}
    for f in state.fields:
        if f.property.lower() not in lower:
            return False
        if f.value_of is not None:
            # a value collected for another test's object (OVAL local variable, var_check all)
            expected_all = values[f"@{f.value_of.test}.{f.value_of.property.lower()}"]
        else:
            expected_all = [values[f.value_ref] if f.value_ref else f.value]
        if not expected_all:
            return False   # the variable has no value: an error, never a pass
        for expected in expected_all:
            got = [_compare(f, a, expected) for a in _as_list(lower[f.property.lower()])]
            if not (got and _check(got, f.entity_check)):
                return False
    return True


def evaluate_test(test: TestSpec, records: list[dict], values: dict, shape: str) -> bool:
    """OVAL test result for the pipeline objects `records`.

    shape "object": the agreed system characteristics, one cmdlet_item per cmdlet_object holding
    one `value` record per pipeline object (the state's entity_check quantifies over records);
    no pipeline object means no item (flag "does not exist").
    shape "record": one item per pipeline object (the test's `check` quantifies over them).
    The content must give the same answer under both.
    """
    if not hasattr(test.object, "cmdlet"):   # one item per value / trustee, whatever the shape
        shape = "record"
    items = ([records] if records else []) if shape == "object" else [[r] for r in records]
    n = len(items)
    ex = test.check_existence
    if ex == "none_exist":
        return n == 0
    if ex in ("at_least_one_exists", "all_exist") and n == 0:
        return False
    if ex == "only_one_exists" and n != 1:
        return False
    if test.state is None or n == 0:
        return True
    # the state, or one of its alternatives (state_operator OR)
    matches = [any(_check([_record_matches(st, r, values) for r in item], st.entity_check)
                   for st in test.states) for item in items]
    return _check(matches, test.check)


def object_records(test: TestSpec, case: dict) -> list[dict]:
    """The case's pipeline objects for the test's object, as records of property → text: a
    cmdlet's objects as given; a registry value (case `registry`: key → {name: [type, value]})
    as one record {type, value}; a directory's trustees (case `acl`: path → {SID: [rights that
    are true]}) as one record per trustee {trustee_sid, every right: true/false}."""
    o = test.object
    if isinstance(o, RegistryObject):
        values = case["registry"].get(f"{o.hive}\\{o.key}", {})
        return [{"type": values[o.name][0], "value": values[o.name][1]}] if o.name in values else []
    if isinstance(o, FileRightsObject):
        trustees = case["acl"].get(o.shown, {})
        return [{"trustee_sid": sid, **{r: "true" if r in granted else "false" for r in FILE_RIGHTS}}
                for sid, granted in trustees.items() if re.search(o.trustee_sid, sid)]
    records = case.get(o.cmdlet)
    assert records is not None, f"case lacks {o.cmdlet}"
    return records


def evaluate_rule(rule: Rule, case: dict, shape: str = "object") -> bool:
    values: dict = {v.id: v.default_value() for v in rule.values}
    values.update(case.get("values", {}))
    for test in rule.check.tests:
        for f in (test.state.fields if test.state else []):
            if f.value_of is not None:
                source = rule.check.tests[f.value_of.test - 1].object.cmdlet
                prop = f.value_of.property.lower()
                values[f"@{f.value_of.test}.{prop}"] = [
                    v for rec in case.get(source, [])
                    for k, val in rec.items() if k.lower() == prop for v in _as_list(val)]
    results = []
    for test in rule.check.tests:
        r = evaluate_test(test, object_records(test, case), values, shape)
        results.append(not r if test.negate else r)
    op = rule.check.operator
    if op == "AND":
        return all(results)
    if op == "OR":
        return any(results)
    if op == "ONE":
        return sum(results) == 1
    return sum(results) % 2 == 1  # XOR
