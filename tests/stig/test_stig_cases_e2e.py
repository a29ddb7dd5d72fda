"""The case table through the real path: content → `generate` (OVAL) → collected objects →
system characteristics (evaluator.syschar) → OVAL engine; each automated rule's definition is
true on its compliant data and false on its non-compliant data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from stigscap.content.loader import load_content
from stigscap.evaluator.collected import CmdletQuery, CollectedObject, FieldValue, SystemInfo
from stigscap.evaluator.oval_engine import compile_definitions
from stigscap.evaluator.syschar import syschar_document
from stigscap.generator.build import generate
from stigscap.schemas.xmlio import parse_xml_bytes

HERE = Path(__file__).parent
REPO = HERE.parents[1]
CONTENT = load_content(REPO / "content")
CASES = yaml.safe_load((HERE / "cases" / "edge_v1r5.yaml").read_text(encoding="utf-8"))
AUTOMATED = [r for r in CONTENT.rules if r.automated]
TIMESTAMP = "2024-01-01T00:00:00"


@pytest.fixture(scope="module")
def generated():
    gen = generate(CONTENT, timestamp=TIMESTAMP)
    root = parse_xml_bytes(gen.components[gen.files["oval"]], "oval").getroot()
    return gen, compile_definitions(root)


def _datatype(text: str) -> str:
    """The datatype the collectors give a value of this text (evaluator/normalize.py)."""
    if text in ("true", "false"):
        return "boolean"
    if re.fullmatch(r"-?\d+", text):
        return "int"
    return "string"


def _record(item: dict) -> list[FieldValue]:
    fields = []
    for name, value in item.items():
        values = value if isinstance(value, list) else [value]
        for v in values or [""]:  # an empty collection is one empty value
            fields.append(FieldValue(name.lower(), str(v), _datatype(str(v))))
    return fields


def _collected(rule, case, test_ids) -> list[CollectedObject]:
    out = []
    for test, tid in zip(rule.check.tests, test_ids):
        o = test.object
        q = CmdletQuery(object_id=tid.replace(":tst:", ":obj:"), module_name=o.module,
                        verb=o.verb, noun=o.noun,
                        parameters=tuple((k, str(v).lower() if isinstance(v, bool) else str(v))
                                         for k, v in o.parameters.items()),
                        select=tuple(o.select))
        records = case[o.cmdlet]
        if not records:
            out.append(CollectedObject(q, flag="does not exist", status="does not exist"))
        else:
            out.append(CollectedObject(q, records=[_record(r) for r in records]))
    return out


def _variables(rule, case, oval_ids) -> dict[str, list[str]]:
    values = {v.id: v.default_value() for v in rule.values}
    values.update(case.get("values", {}))
    out = {}
    for n, test in enumerate(rule.check.tests, start=1):
        for f in test.state.fields if test.state else []:
            if f.value_ref:
                out[oval_ids.variables[(n, f.property.lower())]] = [values[f.value_ref]]
    return out


@pytest.mark.parametrize("rule", AUTOMATED, ids=lambda r: r.version)
def test_case_through_generate_syschar_and_engine(generated, rule):
    gen, compiled = generated
    ids = gen.oval_ids[rule.rule_id]
    for kind, expected in (("compliant", "true"), ("noncompliant", "false")):
        case = CASES[rule.rule_id][kind]
        sc = syschar_document(_collected(rule, case, ids.tests), SystemInfo(host_name="EDGE01"),
                              timestamp=TIMESTAMP)
        result = compiled.evaluate(sc, _variables(rule, case, ids))
        got = result.definition_results[ids.definition]
        assert got == expected, (rule.version, kind, got,
                                 result.definition_messages.get(ids.definition))


def test_permission_groups_as_a_number_never_passes(generated):
    # A JSON export made without enum names carries PermissionGroups as a number ("1" is
    # AnonymousUsers): the none-satisfy test alone would not see it, the name guard fails it.
    gen, compiled = generated
    rule = CONTENT.rule("EX13-EG-000245")
    ids = gen.oval_ids[rule.rule_id]
    case = {"Get-ReceiveConnector": [{"Name": "Internal EDGE01", "Identity": "EDGE01\\Internal EDGE01",
                                      "PermissionGroups": "1"}]}
    sc = syschar_document(_collected(rule, case, ids.tests), SystemInfo(host_name="EDGE01"),
                          timestamp=TIMESTAMP)
    result = compiled.evaluate(sc, _variables(rule, case, ids))
    assert result.definition_results[ids.definition] == "false"
