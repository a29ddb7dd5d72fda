"""The oval_results document: official 5.11.2 XSDs (lxml), `oscap oval validate`, SCAP 1.3
directives (RES-179..182), copied system characteristics, masking; and evidence()."""

from __future__ import annotations

import subprocess

import pytest
from lxml import etree

from tests.oval.ovalcases_builder import (F, P, State, Test, cmdlet_item, cmdlet_object, collected,
                               connector, criteria, criterion, definition, definitions_doc,
                               external_variable, syschar_doc, variables_doc)
from stigscap.evaluator.oval.engine import compile_definitions, evaluate
from stigscap.evaluator.oval.results import build_results_document, results_text
from tests.conftest import require_tool

NS = {"r": "http://oval.mitre.org/XMLSchema/oval-results-5",
      "sc": "http://oval.mitre.org/XMLSchema/oval-system-characteristics-5",
      "wsc": "http://oval.mitre.org/XMLSchema/oval-system-characteristics-5#windows",
      "oval": "http://oval.mitre.org/XMLSchema/oval-common-5"}
TS = "2026-11-28T04:00:00"
VAR = f"{P}:var:6993101"
DEF = f"{P}:def:69931"
OBJ = f"{P}:obj:6993101"


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
    root = build_results_document(ev, directives=directives, timestamp=TS)
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
    a = build_results_document(compiled.evaluate(s, {VAR: ["^Tls$"]}), directives="full",
                               timestamp=TS, include_source_definitions=True)
    b = build_results_document(compiled.evaluate(s, {VAR: ["^Tls$"]}), directives="full",
                               timestamp=TS, include_source_definitions=True)
    results_schema.assertValid(a)
    assert a.find("{http://oval.mitre.org/XMLSchema/oval-definitions-5}oval_definitions") \
        is not None
    assert etree.tostring(a) == etree.tostring(b)


def test_masked_field_is_blanked_in_results_only(results_schema):
    d, s = seed_docs(["Tls", "None"], field_mask=True)
    ev = evaluate(d, s, {VAR: ["^Tls$"]})
    root = build_results_document(ev, directives="full", timestamp=TS)
    results_schema.assertValid(root)
    fields = root.findall(".//wsc:cmdlet_item/wsc:value/sc:field", NS)
    auth = [f for f in fields if f.get("name") == "authmechanism"]
    assert auth and all(f.get("mask") == "true" and not f.text for f in auth)
    assert {f.text for f in fields if f.get("name") == "name"} == {"Conn 0", "Conn 1"}
    # the input syschar is untouched
    assert "None" in [f.text for f in s.iter("{*}field")]
    # a masked record masks every field of it
    d, s = seed_docs(["Tls", "None"], mask=True)
    root = build_results_document(evaluate(d, s, {VAR: ["^Tls$"]}), directives="full",
                                  timestamp=TS)
    results_schema.assertValid(root)
    fields = root.findall(".//wsc:cmdlet_item/wsc:value/sc:field", NS)
    assert fields and all(f.get("mask") == "true" and not f.text for f in fields)


@pytest.mark.parametrize("mask, field_mask", [(False, True), (True, False)],
                         ids=["field", "record"])
def test_masked_value_split_by_a_comment_leaves_nothing(results_schema, mask, field_mask):
    """A comment inside a masked value: neither the comment nor the text after it (e.g. the
    rest of a secret) is copied into the results."""
    d, _ = seed_docs(["Tls"], mask=mask, field_mask=field_mask)
    sc = syschar_doc([collected(OBJ, "complete", [1])],
                     [cmdlet_item(1, [connector("Conn 0", "@AUTH@")])])
    s = etree.fromstring(sc.replace(b"@AUTH@", b"Tls<!-- c -->SECRET-TAIL"))
    ev = evaluate(d, s, {VAR: ["^Tls"]})
    assert ev.definition_results == {DEF: "true"}
    text = results_text(ev, directives="full", timestamp=TS)
    root = build_results_document(ev, directives="full", timestamp=TS)
    results_schema.assertValid(root)
    assert "SECRET-TAIL" not in text and "<!-- c -->" not in text
    assert "SECRET-TAIL" not in etree.tostring(root, encoding="unicode")


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
    # an invalid regex in the state, and a pattern match on an int field: error, no exception
    bad = etree.fromstring(etree.tostring(d).replace(
        b'operation="pattern match" var_ref="' + VAR.encode() + b'"',
        b'operation="pattern match">(unclosed</field><field name="x" datatype="int"'
        b' operation="pattern match"'))
    ev = evaluate(bad, s, {})
    assert ev.definition_results[DEF] == "error"
    (fail, *_rest) = ev.evidence(DEF)[0].items[0].records[0].failures
    assert "invalid regular expression" in fail.message
    # a local_variable with an unsupported component → error with a message
    lv = etree.fromstring(etree.tostring(d).replace(
        b'<external_variable id="' + VAR.encode() + b'" version="1" datatype="string" '
        b'comment="ext ' + VAR.encode() + b'"/>',
        b'<local_variable id="' + VAR.encode() + b'" version="1" datatype="string" '
        b'comment="l"><time_difference><literal_component>1</literal_component>'
        b'</time_difference></local_variable>'))
    ev = evaluate(lv, s, {})
    assert ev.definition_results[DEF] == "error"
    assert ev.variable_values(VAR)[1] == "variable component time_difference is not supported"


def _without_collected_objects(sc):
    sc = etree.fromstring(etree.tostring(sc))
    for co in sc.findall("sc:collected_objects", NS):
        sc.remove(co)
    return sc


@pytest.mark.parametrize("auths,expected", [(["Tls"], "true"), (["Tls", "None"], "false")])
def test_no_collected_objects_searches_system_data(tmp_path, auths, expected):
    """Results-schema TestType: without collected_objects the engine must search the items
    matching the object. Known difference: oscap 1.3.7 does not search and reports unknown
    ("No syschar for object")."""
    d, s = seed_docs(auths)
    s = _without_collected_objects(s)
    ev = evaluate(d, s, {VAR: ["^Tls$"]})
    assert ev.definition_results == {DEF: expected}
    assert ev.test_results[f"{P}:tst:6993101"].tested_items == [("1", expected)]
    # an object with a <set> cannot be searched: error with a message
    with_set = etree.fromstring(etree.tostring(d).replace(
        b"<win-def:module_name>", b"<set><object_reference>" + OBJ.encode()
        + b"</object_reference></set><win-def:module_name>", 1))
    ev2 = evaluate(with_set, s, {VAR: ["^Tls$"]})
    assert ev2.definition_results == {DEF: "error"}
    assert "object uses <set>" in ev2.test_results[f"{P}:tst:6993101"].messages[0]
    # oscap's answer for the same documents
    require_tool("oscap")
    (tmp_path / "d.xml").write_bytes(etree.tostring(d))
    (tmp_path / "s.xml").write_bytes(etree.tostring(s))
    (tmp_path / "v.xml").write_bytes(variables_doc({VAR: ("string", ["^Tls$"])}))
    r = subprocess.run(["oscap", "oval", "analyse", "--variables", str(tmp_path / "v.xml"),
                        "--results", str(tmp_path / "o.xml"), str(tmp_path / "d.xml"),
                        str(tmp_path / "s.xml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    res = etree.parse(str(tmp_path / "o.xml")).find(".//r:results//r:definition", NS)
    assert res.get("result") == "unknown"


def test_applicability_check_and_negate_are_reported(results_schema):
    d, s = seed_docs(["None"])
    crit = d.find(".//{*}criteria")
    crit.set("negate", "true")
    crit[0].set("applicability_check", "true")
    ev = evaluate(d, s, {VAR: ["^Tls$"]})
    assert ev.definition_results[DEF] == "true"      # false test, negated criteria
    root = build_results_document(ev, directives="full", timestamp=TS)
    results_schema.assertValid(root)
    c = root.find(".//r:definition/r:criteria", NS)
    assert (c.get("negate"), c.get("result")) == ("true", "true")
    assert (c[0].get("applicability_check"), c[0].get("result")) == ("true", "false")


def _same_xml(a: etree._Element, b: etree._Element) -> bool:
    """Equal as XML: C14N 2.0 with prefixes rewritten (a prefix is only a name for its URI)."""
    def canon(el):
        return etree.canonicalize(etree.tostring(el, encoding="unicode"), rewrite_prefixes=True)
    return canon(a) == canon(b)


@pytest.mark.parametrize("directives", ["full", "thin"])
def test_results_text_equals_the_document_across_hosts(results_schema, directives):
    """results_text (what the ARF embeds: the syschar spliced in, the rest cached across
    hosts) is the same XML as results_document for each host in turn, whether the cache hits
    (same outcome, other host) or not (other outcome, masked entities, other timestamp)."""
    d, _ = seed_docs(["Tls"])
    compiled = compile_definitions(d)
    hosts = [(["Tls", "Tls"], {}), (["Tls", "Tls", "Tls"], {}), (["Tls", "None"], {}),
             (["None"], {}), ([], {}), (["Tls", "None"], {"field_mask": True}),
             (["Tls", "None"], {"mask": True}), (["Tls"], {"flag": "not collected"}),
             (["Tls", "Tls"], {})]
    seen = set()
    for i, (auths, kw) in enumerate(hosts):
        d_host, s = seed_docs(auths, **kw)
        s.find(".//sc:system_info/sc:primary_host_name", NS).text = f"EDGE{i:02d}"
        masked = kw.get("mask") or kw.get("field_mask")   # masks live in the definitions
        ev = (compile_definitions(d_host) if masked else compiled).evaluate(s, {VAR: ["^Tls$"]})
        for ts in (TS, "2026-11-28T05:00:00"):
            text = results_text(ev, directives=directives, timestamp=ts)
            doc = build_results_document(ev, directives=directives, timestamp=ts)
            parsed = etree.fromstring(text)
            assert _same_xml(parsed, doc), (auths, kw, ts)
            results_schema.assertValid(parsed)
            assert parsed.findtext(".//sc:system_info/sc:primary_host_name", namespaces=NS) \
                == f"EDGE{i:02d}"
            seen.add(text)
        if kw.get("field_mask") and directives == "full":
            assert parsed.find(".//wsc:cmdlet_item//*[@mask='true']", NS) is not None
    assert len(seen) == 2 * len(hosts)   # every host's own text


def test_definitions_not_evaluated_on_request(results_schema):
    """evaluate(..., not_evaluated={def: why}) (an XCCDF rule that is notchecked): the
    definition is not analysed, is reported 'not evaluated' with the reason and without a
    criteria tree, its tests are not listed; the document stays valid and results_text (cached
    across hosts) keeps it apart from the same host evaluated in full."""
    d, s = seed_docs(["Tls", "None"])
    compiled = compile_definitions(d)
    full = compiled.evaluate(s, {VAR: ["^Tls$"]})
    skipped = compiled.evaluate(s, {VAR: ["^Tls$"]}, not_evaluated={DEF: "rule X: Value unset"})
    assert full.definition_results[DEF] == "false"
    assert skipped.definition_results[DEF] == "not evaluated" and not skipped.test_results
    for directives in ("full", "thin"):
        doc = build_results_document(skipped, directives=directives, timestamp=TS)
        results_schema.assertValid(doc)
        (el,) = doc.iterfind(".//r:definition", NS)
        assert el.get("result") == "not evaluated" and el.find("r:criteria", NS) is None
        assert [(m.get("level"), m.text) for m in el.iterfind("r:message", NS)] == \
            [("info", "rule X: Value unset")]
        assert doc.find(".//r:tests", NS) is None
        text = results_text(skipped, directives=directives, timestamp=TS)
        assert _same_xml(etree.fromstring(text), doc)
        assert text != results_text(full, directives=directives, timestamp=TS)
    # an unknown id in the request is ignored
    other = compiled.evaluate(s, {VAR: ["^Tls$"]}, not_evaluated={f"{P}:def:9": "x"})
    assert other.definition_results == full.definition_results
