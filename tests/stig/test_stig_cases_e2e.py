"""The case table through the real path: content → `generate` (OVAL) → collected objects →
system characteristics (evaluator.collect.syschar) → OVAL engine; each automated rule's definition is
true on its compliant data and false on its non-compliant data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from stigscap.content.loader import load_content
from stigscap.content.model import FILE_RIGHTS, RegistryObject
from stigscap.evaluator.collect.model import (CmdletQuery, CollectedObject, FieldValue, ItemEntity,
                                              SystemInfo, WinItem)
from stigscap.evaluator.oval.engine import compile_definitions
from stigscap.evaluator.collect.syschar import syschar_document
from stigscap.generator.build import generate
from stigscap.schemas.xmlio import parse_xml_bytes
from tests.stig.stig_case_eval import object_records

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
    """The datatype the collectors give a value of this text (evaluator/collect/normalize.py)."""
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
        if not hasattr(o, "cmdlet"):   # a registry value or a directory's trustees
            out.append(_items_object(test, case, tid.replace(":tst:", ":obj:")))
            continue
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


def _items_object(test, case, object_id: str) -> CollectedObject:
    """The case's registry value or trustees as the collectors write them (WinItems)."""
    o = test.object
    records = object_records(test, case)
    if isinstance(o, RegistryObject):
        kind = "registry"
        q = CmdletQuery(object_id, None, "Get", "ItemProperty", kind=kind,
                        target=(o.hive, o.key, o.name))
        items = [WinItem(kind, (ItemEntity("hive", o.hive), ItemEntity("key", o.key),
                                ItemEntity("name", o.name), ItemEntity("type", r["type"]),
                                ItemEntity("value", r["value"],
                                           "int" if r["type"] in ("reg_dword", "reg_qword")
                                           else "string"))) for r in records]
    else:
        kind = "fileeffectiverights"
        q = CmdletQuery(object_id, None, "Get", "Acl", kind=kind,
                        target=(o.path, o.filename or "", "directory", o.trustee_operation,
                                o.trustee_sid))
        items = [WinItem(kind, (ItemEntity("filepath", o.shown), ItemEntity("path", o.path),
                                ItemEntity("filename", o.filename),
                                ItemEntity("trustee_sid", r["trustee_sid"]),
                                *(ItemEntity(k, r[k], "boolean") for k in FILE_RIGHTS)))
                 for r in records]
    if not items:
        return CollectedObject(q, flag="does not exist", status="does not exist")
    return CollectedObject(q, items=items)


def _variables(rule, case, oval_ids) -> dict[str, list[str]]:
    values = {v.id: v.default_value() for v in rule.values}
    values.update(case.get("values", {}))
    out = {}
    for n, test in enumerate(rule.check.tests, start=1):
        for k, state in enumerate(test.states):
            for f in state.fields:
                if f.value_ref:
                    out[oval_ids.variables[test.variable_key(n, k, f.property)]] = \
                        [values[f.value_ref]]
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


# --- the same cases through `oscap oval analyse`: the differential suite grows with the content

def _variables_document(variables: dict[str, list[str]], datatypes: dict[str, str]) -> bytes:
    from lxml import etree
    ns = "http://oval.mitre.org/XMLSchema/oval-variables-5"
    oval = "http://oval.mitre.org/XMLSchema/oval-common-5"
    root = etree.Element(f"{{{ns}}}oval_variables", nsmap={None: ns, "oval": oval})
    gen = etree.SubElement(root, f"{{{ns}}}generator")
    etree.SubElement(gen, f"{{{oval}}}schema_version").text = "5.11.2"
    etree.SubElement(gen, f"{{{oval}}}timestamp").text = TIMESTAMP
    vs = etree.SubElement(root, f"{{{ns}}}variables")
    for vid, values in variables.items():
        v = etree.SubElement(vs, f"{{{ns}}}variable", id=vid, datatype=datatypes[vid],
                             comment="case value")
        for text in values:
            etree.SubElement(v, f"{{{ns}}}value").text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_cases_agree_with_oscap(generated, tmp_path):
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    from lxml import etree

    from tests.conftest import require_tool

    oscap = require_tool("oscap")
    gen, compiled = generated
    defs = tmp_path / "oval.xml"
    defs.write_bytes(gen.components[gen.files["oval"]])
    defs_root = parse_xml_bytes(defs.read_bytes(), "oval").getroot()
    datatypes = {v.get("id"): v.get("datatype") for v in defs_root.iter(
        "{http://oval.mitre.org/XMLSchema/oval-definitions-5}external_variable")}
    jobs = []
    for rule in AUTOMATED:
        ids = gen.oval_ids[rule.rule_id]
        for kind in ("compliant", "noncompliant"):
            case = CASES[rule.rule_id][kind]
            sc = syschar_document(_collected(rule, case, ids.tests), SystemInfo(host_name="EDGE01"),
                                  timestamp=TIMESTAMP)
            variables = _variables(rule, case, ids)
            ours = compiled.evaluate(sc, variables).definition_results[ids.definition]
            stem = tmp_path / f"{rule.version}-{kind}"
            sc_file = stem.with_suffix(".sc.xml")
            sc_file.write_bytes(etree.tostring(sc, xml_declaration=True, encoding="UTF-8"))
            cmd = [oscap, "oval", "analyse", "--results", str(stem.with_suffix(".res.xml"))]
            if variables:
                var_file = stem.with_suffix(".var.xml")
                var_file.write_bytes(_variables_document(variables, datatypes))
                cmd += ["--variables", str(var_file)]
            jobs.append((rule.version, kind, ids.definition, ours, cmd + [str(defs), str(sc_file)],
                         stem.with_suffix(".res.xml")))

    def theirs(job):
        _v, _k, def_id, _ours, cmd, res = job
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        el = etree.parse(str(res)).find(
            f".//{{http://oval.mitre.org/XMLSchema/oval-results-5}}definition[@definition_id='{def_id}']")
        return el.get("result")

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(theirs, jobs))
    differences = {(v, k): (ours, t) for (v, k, _d, ours, _c, _r), t in zip(jobs, answers)
                   if ours != t}
    assert len(jobs) == 2 * len(AUTOMATED)
    assert differences == {}
