"""The oval_results document: official 5.11.2 XSDs (lxml), `oscap oval validate`, SCAP 1.3
directives (RES-179..182), copied system characteristics, masking; and evidence()."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lxml import etree

from ovalcases_builder import (F, P, State, Test, cmdlet_item, cmdlet_object, collected,
                               connector, criteria, criterion, definition, definitions_doc,
                               external_variable, syschar_doc)
from stigscap.evaluator.oval_engine import compile_definitions, evaluate
from tests.conftest import require_tool

OVAL_XSD = Path("/usr/share/openscap/schemas/oval/5.11.2")
NS = {"r": "http://oval.mitre.org/XMLSchema/oval-results-5",
      "sc": "http://oval.mitre.org/XMLSchema/oval-system-characteristics-5",
      "wsc": "http://oval.mitre.org/XMLSchema/oval-system-characteristics-5#windows",
      "oval": "http://oval.mitre.org/XMLSchema/oval-common-5"}
TS = "2026-11-28T04:00:00"
VAR = f"{P}:var:6993101"
DEF = f"{P}:def:69931"
OBJ = f"{P}:obj:6993101"


@pytest.fixture(scope="module")
def results_schema(tmp_path_factory):
    if not OVAL_XSD.is_dir():
        pytest.skip("official OVAL 5.11.2 schemas not installed")
    d = tmp_path_factory.mktemp("xsd")
    imports = [("http://oval.mitre.org/XMLSchema/oval-results-5", "oval-results-schema.xsd"),
               ("http://oval.mitre.org/XMLSchema/oval-definitions-5#windows",
                "windows-definitions-schema.xsd"),
               ("http://oval.mitre.org/XMLSchema/oval-system-characteristics-5#windows",
                "windows-system-characteristics-schema.xsd")]
    body = "".join(f'<xsd:import namespace="{ns}" schemaLocation="{OVAL_XSD / f}"/>'
                   for ns, f in imports)
    (d / "wrap.xsd").write_text(
        '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        f'targetNamespace="urn:stigscap:test:wrap">{body}</xsd:schema>')
    return etree.XMLSchema(etree.parse(str(d / "wrap.xsd")))


def seed_docs(auths, *, mask=False, field_mask=False, flag="complete"):
    defs = definitions_doc(
        [definition(DEF, criteria("AND", criterion(f"{P}:tst:6993101")))],
        [Test(f"{P}:tst:6993101", OBJ, [f"{P}:ste:6993101"]).xml()],
        [cmdlet_object(OBJ)],
        [State(f"{P}:ste:6993101", [F("authmechanism", None, operation="pattern match",
                                      var_ref=VAR, mask=field_mask)], entity_check="all",
               mask=mask).xml()],
        [external_variable(VAR)])
    recs = [connector(f"Conn {i}", a) for i, a in enumerate(auths)]
    items = [cmdlet_item(1, recs)] if flag == "complete" else []
    sc = syschar_doc([collected(OBJ, flag, [1] if items else [])], items)
    return etree.fromstring(defs), etree.fromstring(sc)


@pytest.mark.parametrize("directives", ["full", "thin"])
@pytest.mark.parametrize("auths,expected", [(["Tls", "Tls"], "true"),
                                            (["Tls", "None"], "false"),
                                            ([], "false")])
def test_results_document_validates(results_schema, tmp_path, directives, auths, expected):
    d, s = seed_docs(auths)
    ev = evaluate(d, s, {VAR: ["^Tls$"]})
    assert ev.definition_results == {DEF: expected}
    root = ev.results_document(directives, timestamp=TS)
    results_schema.assertValid(root)
    dirs = root.find("r:directives", NS)
    assert dirs.get("include_source_definitions") == "false"
    assert [(e.get("reported"), e.get("content")) for e in dirs] == [("true", directives)] * 6
    assert root.find("r:generator/oval:timestamp", NS).text == TS
    assert root.find("r:results/r:system/r:definitions/r:definition", NS).get("result") \
        == expected
    sc = root.find("r:results/r:system/sc:oval_system_characteristics", NS)
    if directives == "full":
        # RES-181: collected_objects and system_data are provided; criteria and tests too
        assert sc.find("sc:collected_objects", NS) is not None
        assert sc.find("sc:system_data", NS) is not None
        assert root.find(".//r:definition/r:criteria/r:criterion", NS).get("result") == expected
        test = root.find(".//r:tests/r:test", NS)
        assert test.get("result") == expected
        assert [t.text for t in test.findall("r:tested_variable", NS)] == ["^Tls$"]
    else:
        assert sc.find("sc:collected_objects", NS) is None
        assert root.find(".//r:criteria", NS) is None and root.find(".//r:tests", NS) is None
    # oscap accepts it too (its own validation of the results document)
    require_tool("oscap")
    f = tmp_path / "results.xml"
    f.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    r = subprocess.run(["oscap", "oval", "validate", str(f)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_include_source_definitions_and_deterministic(results_schema):
    d, s = seed_docs(["Tls"])
    compiled = compile_definitions(d)
    a = compiled.evaluate(s, {VAR: ["^Tls$"]}).results_document(
        "full", timestamp=TS, include_source_definitions=True)
    b = compiled.evaluate(s, {VAR: ["^Tls$"]}).results_document(
        "full", timestamp=TS, include_source_definitions=True)
    results_schema.assertValid(a)
    assert a.find("{http://oval.mitre.org/XMLSchema/oval-definitions-5}oval_definitions") \
        is not None
    assert etree.tostring(a) == etree.tostring(b)


def test_masked_field_is_blanked_in_results_only(results_schema):
    d, s = seed_docs(["Tls", "None"], field_mask=True)
    ev = evaluate(d, s, {VAR: ["^Tls$"]})
    root = ev.results_document("full", timestamp=TS)
    results_schema.assertValid(root)
    fields = root.findall(".//wsc:cmdlet_item/wsc:value/sc:field", NS)
    auth = [f for f in fields if f.get("name") == "authmechanism"]
    assert auth and all(f.get("mask") == "true" and not f.text for f in auth)
    assert {f.text for f in fields if f.get("name") == "name"} == {"Conn 0", "Conn 1"}
    # the input syschar is untouched
    assert "None" in [f.text for f in s.iter("{*}field")]
    # a masked record masks every field of it
    d, s = seed_docs(["Tls", "None"], mask=True)
    root = evaluate(d, s, {VAR: ["^Tls$"]}).results_document("full", timestamp=TS)
    results_schema.assertValid(root)
    fields = root.findall(".//wsc:cmdlet_item/wsc:value/sc:field", NS)
    assert fields and all(f.get("mask") == "true" and not f.text for f in fields)


def test_evidence_names_failing_connectors_and_reason():
    d, s = seed_docs(["Tls", "None", "BasicAuth, BasicAuthRequireTLS", "Tls, ExchangeServer"])
    ev = evaluate(d, s, {VAR: ["^Tls$"]})
    assert ev.definition_results[DEF] == "false"
    (test,) = ev.evidence(DEF)
    assert test.result == "false" and test.object_flag == "complete"
    (item,) = test.items
    failing = {r.fields["name"]: r for r in item.records}
    assert set(failing) == {"Conn 1", "Conn 2", "Conn 3"}
    r = failing["Conn 1"]
    assert r.fields["identity"] == "EDGE01\\Conn 1"
    (fail,) = r.failures
    assert (fail.field, fail.operation, fail.expected, fail.actual, fail.result) == \
        ("authmechanism", "pattern match", ["^Tls$"], ["None"], "false")
    assert fail.var_ref == VAR
    # tailored to the includes reading, only the connectors without the Tls flag remain
    ev2 = evaluate(d, s, {VAR: ["(^|, )Tls(, |$)"]})
    (test2,) = ev2.evidence(DEF)
    assert {r.fields["name"] for r in test2.items[0].records} == {"Conn 1", "Conn 2"}


def test_evidence_for_error_and_missing_variable():
    d, s = seed_docs(["Tls"])
    ev = evaluate(d, s, {})   # external variable not supplied
    assert ev.definition_results[DEF] == "error"
    (test,) = ev.evidence(DEF)
    (fail,) = test.items[0].records[0].failures
    assert fail.result == "error" and "no value supplied" in fail.message
    d, s = seed_docs([], flag="error")
    ev = evaluate(d, s, {VAR: ["^Tls$"]})
    assert ev.definition_results[DEF] == "error"
    assert any("flag error" in m for m in ev.evidence(DEF)[0].messages)


def test_unsupported_constructs_give_error_not_crash():
    d, s = seed_docs(["Tls"])
    # a state whose regex is invalid, a test pointing at a missing state, a local variable
    # with an unsupported component
    bad = etree.fromstring(etree.tostring(d).replace(b'operation="pattern match" var_ref="'
                                                     + VAR.encode() + b'"',
                                                     b'operation="pattern match">(unclosed'
                                                     b'</field><field name="x" datatype="int"'
                                                     b' operation="pattern match"'))
    ev = evaluate(bad, s, {})
    assert ev.definition_results[DEF] == "error"
    sc_no_collected = etree.fromstring(etree.tostring(s).replace(b"<collected_objects>", b"<x>")
                                       .replace(b"</collected_objects>", b"</x>"))
    # no collected_objects section: reported as error with a message
    ev = evaluate(d, sc_no_collected, {VAR: ["^Tls$"]})
    assert ev.definition_results[DEF] == "error"
