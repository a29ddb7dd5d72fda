"""Broken references and SCAP requirements are reported with file, line, path and rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from stigscap.schemas import namespaces as ns
from stigscap.schemas.validate import check_file, validate_document, validate_element
from stigscap.schemas.xmlio import parse_xml_bytes
from tests.schemas.conftest import MINI_WARNINGS

FIXTURES = Path(__file__).with_name("fixtures")


def line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of `needle` (so tests never hard-code lines)."""
    return text.count("\n", 0, text.index(needle)) + 1


def _write(tmp_path, text, name="doc.xml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_fixture_is_clean(cli, schema_dir):
    res = cli("validate", "--format", "json", FIXTURES / "mini-ds.xml")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)["files"][0]
    assert report["kind"] == "sds@1.3" and report["errors"] == 0
    # CONFIGURATION, SCAP_1.3, metadata, descriptions: only SCAPVal's SHOULDs the fixture cannot meet
    assert {p["rule"] for p in report["problems"]} == MINI_WARNINGS
    assert {p["severity"] for p in report["problems"]} == {"warning"}
    res = cli("validate", "--no-warnings", FIXTURES / "mini-ds.xml")
    assert ": warning:" not in res.stdout and "valid sds@1.3 (0 errors, 4 warnings)" in res.stdout


# (old text, new text, rule expected, line anchor in the mutated text)
BREAKS = [
    ('name="oval:mil.disa.stig:def:69931"/>', 'name="oval:mil.disa.stig:def:42"/>',
     "SRC-346-1", 'name="oval:mil.disa.stig:def:42"'),
    # SCAPVal: SRC-31-1 (SHOULD, a warning) and SRC-346-1 (MUST): the named definition is in no
    # component the reference resolves to
    ('<xccdf:check-content-ref href="test-oval.xml"', '<xccdf:check-content-ref href="nowhere.xml"',
     "SRC-346-1", 'href="nowhere.xml"'),
    ('<cat:uri name="test-oval.xml" uri="#scap_mil.disa.stig_cref_test-oval.xml"/>',
     '<cat:uri name="test-oval.xml" uri="#scap_mil.disa.stig_cref_gone"/>',
     "ref:ds-catalog", 'uri="#scap_mil.disa.stig_cref_gone"'),
    ('xlink:href="#scap_mil.disa.stig_comp_test-oval.xml"', 'xlink:href="#scap_mil.disa.stig_comp_gone"',
     "ref:ds-component-ref", 'xlink:href="#scap_mil.disa.stig_comp_gone"'),
    ('test_ref="oval:mil.disa.stig:tst:6993101"', 'test_ref="oval:mil.disa.stig:tst:6993199"',
     "ref:oval-test", 'test_ref="oval:mil.disa.stig:tst:6993199"'),
    ('object_ref="oval:mil.disa.stig:obj:6993101"', 'object_ref="oval:mil.disa.stig:obj:6993199"',
     "ref:oval-object", 'object_ref="oval:mil.disa.stig:obj:6993199"'),
    ('state_ref="oval:mil.disa.stig:ste:6993101"', 'state_ref="oval:mil.disa.stig:ste:6993199"',
     "ref:oval-state", 'state_ref="oval:mil.disa.stig:ste:6993199"'),
    ('var_ref="oval:mil.disa.stig:var:6993101"', 'var_ref="oval:mil.disa.stig:var:6993199"',
     "ref:oval-variable", 'var_ref="oval:mil.disa.stig:var:6993199"'),
    ('<xccdf:select idref="xccdf_mil.disa.stig_rule_SV-84553r1_rule"',
     '<xccdf:select idref="xccdf_mil.disa.stig_rule_SV-1r1_rule"',
     "ref:xccdf-idref", 'idref="xccdf_mil.disa.stig_rule_SV-1r1_rule"'),
    ('<xccdf:check-export value-id="xccdf_mil.disa.stig_value_receive_connector_authmechanism"',
     '<xccdf:check-export value-id="xccdf_mil.disa.stig_value_gone"',
     "ref:xccdf-check-export", 'value-id="xccdf_mil.disa.stig_value_gone"'),
    ('export-name="oval:mil.disa.stig:var:6993101"', 'export-name="oval:mil.disa.stig:var:1"',
     "ref:xccdf-check-export", 'export-name="oval:mil.disa.stig:var:1"'),
    ('href="test-cpe-oval.xml">oval:mil.disa.stig:def:1<', 'href="test-cpe-oval.xml">oval:mil.disa.stig:def:2<',
     "ref:cpe-check", "oval:mil.disa.stig:def:2<"),
    ('<cat:uri name="test-cpe-oval.xml" uri="#scap_mil.disa.stig_cref_test-cpe-oval.xml"/>\n        </cat:catalog>\n      </ds:component-ref>\n    </ds:dictionaries>',
     '</cat:catalog>\n      </ds:component-ref>\n    </ds:dictionaries>',
     "ref:cpe-check", 'href="test-cpe-oval.xml">'),
    # SCAPVal numbers a missing Dublin Core term SRC-8-1 (SRC-8-2: no metadata at all)
    ('<dc:source>STIG.DOD.MIL</dc:source>', '', "SRC-8-1", "<xccdf:metadata>"),
    ('<xccdf:description>Receive connectors must require TLS.</xccdf:description>', '',
     "SRC-10-1", '<xccdf:Rule id='),
]


@pytest.mark.parametrize("old,new,rule,anchor", BREAKS, ids=[b[2] + ":" + b[0][:30] for b in BREAKS])
def test_broken_reference_reported(cli, tmp_path, mini_ds_text, old, new, rule, anchor):
    assert old in mini_ds_text
    text = mini_ds_text.replace(old, new, 1)
    path = _write(tmp_path, text)
    res = cli("validate", "--format", "json", path)
    assert res.exit_code == 2, res.output
    report = json.loads(res.stdout)["files"][0]
    hits = [p for p in report["problems"] if p["rule"] == rule]
    assert hits, report["problems"]
    assert hits[0]["file"] == str(path)
    assert hits[0]["line"] == line_of(text, anchor)
    assert hits[0]["path"].startswith("/ds:data-stream-collection/")
    assert hits[0]["severity"] == "error"
    # text form names file:line, severity and rule
    res_text = cli("validate", path)
    assert f"{path}:{line_of(text, anchor)}: error: [{rule}]" in res_text.stdout


def test_use_case_other_is_accepted_and_unknown_is_an_error(cli, tmp_path, mini_ds_text):
    """SRC-324-1 allows CONFIGURATION, VULNERABILITY, INVENTORY and OTHER (as SCAPVal does)."""
    path = _write(tmp_path, mini_ds_text.replace('use-case="CONFIGURATION"', 'use-case="OTHER"'))
    res = cli("validate", path)
    assert res.exit_code == 0 and "SRC-324-1" not in res.stdout
    path = _write(tmp_path, mini_ds_text.replace('use-case="CONFIGURATION"', 'use-case="CUSTOM"'))
    res = cli("validate", path)
    assert res.exit_code == 2
    assert f"{path}:{line_of(path.read_text(), 'timestamp=')}: error: [SRC-324-1]" in res.stdout
    assert "'CUSTOM'" in res.stdout and "(requirement: a data stream's @use-case SHALL" in res.stdout


def test_xsd_error_has_line_path_and_rule(cli, tmp_path, mini_ds_text):
    text = mini_ds_text.replace('<win-def:verb>Get</win-def:verb>', '<win-def:verb>Set</win-def:verb>', 1)
    path = _write(tmp_path, text)
    res = cli("validate", "--format", "json", path)
    assert res.exit_code == 2
    probs = json.loads(res.stdout)["files"][0]["problems"]
    xsd = [p for p in probs if p["rule"] == "XSD sds@1.3"]
    assert xsd and xsd[0]["line"] == line_of(text, "<win-def:verb>Set")
    assert xsd[0]["path"].endswith("win-def:cmdlet_object/win-def:verb")
    assert "Set" in xsd[0]["message"]


def test_json_output_parses_for_several_files(cli, tmp_path, mini_ds_text):
    bad = _write(tmp_path, mini_ds_text.replace('name="oval:mil.disa.stig:def:69931"', 'name="x"'), "bad.xml")
    res = cli("validate", "--format", "json", FIXTURES / "mini-ds.xml", bad, tmp_path / "missing.xml")
    assert res.exit_code == 1  # one file could not be read at all
    doc = json.loads(res.stdout)
    assert doc["exit_code"] == 1
    good, invalid, missing = doc["files"]
    assert good["valid"] is True and good["kind"] == "sds@1.3" and good["errors"] == 0
    assert invalid["valid"] is False and invalid["errors"] >= 1
    assert missing["valid"] is None and "cannot read" in missing["error"]


def _component(text: str, comp_id: str) -> etree._Element:
    root = parse_xml_bytes(text.encode()).getroot()
    comp = root.find(f"{{{ns.DS}}}component[@id='{comp_id}']")
    return comp[0]


def test_standalone_components_validate(tmp_path, mini_ds_text):
    oval = _component(mini_ds_text, "scap_mil.disa.stig_comp_test-oval.xml")
    bench = _component(mini_ds_text, "scap_mil.disa.stig_comp_test-xccdf.xml")
    cpe = _component(mini_ds_text, "scap_mil.disa.stig_comp_test-cpe-dictionary.xml")
    for el, kind, name in ((oval, "oval-definitions@5.11.2", "oval.xml"),
                           (bench, "xccdf@1.2", "xccdf.xml"), (cpe, "cpe-dictionary@2.3", "cpe.xml")):
        p = tmp_path / name
        p.write_bytes(etree.tostring(el, xml_declaration=True, encoding="UTF-8"))
        result = check_file(p)
        assert result.kind == kind
        assert result.problems == [], result.problems


def test_validate_element_on_embedded_part(mini_ds_text):
    oval = _component(mini_ds_text, "scap_mil.disa.stig_comp_test-oval.xml")
    assert validate_element(oval, "oval-definitions") == []
    assert validate_element(oval, "oval-definitions@5.11.2", semantic_checks=True) == []
    # break it in place: the path names the element's place in the whole document
    verb = oval.find(f".//{{{ns.WIN_DEF}}}verb")
    verb.text = "Remove"
    probs = validate_element(oval, "oval-definitions@5.11.2", source="gen")
    assert probs and probs[0].file == "gen" and probs[0].line == verb.sourceline
    assert probs[0].path.startswith("/ds:data-stream-collection/ds:component[2]/")
    with pytest.raises(Exception, match="not xccdf"):
        validate_element(oval, "xccdf")


def test_validate_document_api_on_tree(mini_ds_text):
    tree = parse_xml_bytes(mini_ds_text.replace('state_ref="oval:mil.disa.stig:ste:6993101"',
                                                'state_ref="oval:mil.disa.stig:ste:9"').encode())
    probs = validate_document(tree, "memory.xml")
    rules = [p.rule for p in probs if p.severity == "error"]
    # libxml2 enforces the OVAL XSD keyref too; our check names the missing state plainly
    assert "ref:oval-state" in rules and set(rules) <= {"ref:oval-state", "XSD sds@1.3"}
    assert all(p.file == "memory.xml" for p in probs)
    ours = next(p for p in probs if p.rule == "ref:oval-state")
    assert "oval:mil.disa.stig:ste:9" in ours.message


def test_ensure_valid_for_writers(mini_ds_text):
    from stigscap.schemas.errors import StigscapError
    from stigscap.schemas.validate import ensure_valid

    ensure_valid(parse_xml_bytes(mini_ds_text.encode()), "out-ds.xml")
    oval = _component(mini_ds_text, "scap_mil.disa.stig_comp_test-oval.xml")
    ensure_valid(oval, "out-oval.xml", kind="oval-definitions@5.11.2")
    broken = mini_ds_text.replace('name="oval:mil.disa.stig:def:69931"', 'name="oval:x:def:1"')
    with pytest.raises(StigscapError) as exc:
        ensure_valid(parse_xml_bytes(broken.encode()), "out-ds.xml")
    text = str(exc.value)
    assert "\n" not in text and "out-ds.xml is not valid" in text and "SRC-346-1" in text


_OVAL_REFS = f"""<oval_definitions xmlns="{ns.OVAL_DEF}" xmlns:w="{ns.OVAL_DEF}#windows">
  <definitions><definition id="oval:x:def:1"><criteria>
    <criterion test_ref="oval:x:tst:1"/><criterion test_ref="oval:x:tst:9"/>
    <extend_definition definition_ref="oval:x:def:9"/></criteria></definition></definitions>
  <tests><w:registry_test id="oval:x:tst:1"><w:object object_ref="oval:x:obj:9"/>
    <w:state state_ref="oval:x:ste:1"/><w:state state_ref="oval:x:ste:9"/></w:registry_test></tests>
  <objects><w:registry_object id="oval:x:obj:1"><w:key var_ref="oval:x:var:9"/></w:registry_object>
    <w:registry_object id="oval:x:obj:2"><set><object_reference>oval:x:obj:1</object_reference>
      <object_reference>oval:x:<!-- split -->obj:8</object_reference>
      <filter>oval:x:ste:<!-- split -->7</filter><filter> oval:x:ste:1 </filter></set>
    </w:registry_object></objects>
  <states><w:registry_state id="oval:x:ste:1"><w:value var_ref="oval:x:var:1"/></w:registry_state></states>
  <variables><local_variable id="oval:x:var:1"><object_component object_ref="oval:x:obj:1"/>
    </local_variable></variables>
</oval_definitions>"""


def test_every_dangling_oval_reference_is_reported_once():
    """Each reference attribute and element kind, on any element: the dangling ones only,
    each once, with the rule of its kind; element text is read whole (comments split it)."""
    from stigscap.schemas.semantic import Checker, check_oval_definitions

    ck = Checker("refs.xml")
    ids = check_oval_definitions(etree.fromstring(_OVAL_REFS), ck)
    assert ids["object"] == {"oval:x:obj:1", "oval:x:obj:2"}
    got = sorted((p.rule, p.message.split("'")[1], p.line) for p in ck.problems)
    lines = _OVAL_REFS.splitlines()

    def line(needle):
        return next(i for i, text in enumerate(lines, 1) if needle in text)

    assert got == sorted([
        ("ref:oval-definition", "oval:x:def:9", line("oval:x:def:9")),
        ("ref:oval-object", "oval:x:obj:8", line("obj:8")),
        ("ref:oval-object", "oval:x:obj:9", line("oval:x:obj:9")),
        ("ref:oval-state", "oval:x:ste:7", line("ste:<!-- split -->7")),
        ("ref:oval-state", "oval:x:ste:9", line("oval:x:ste:9")),
        ("ref:oval-test", "oval:x:tst:9", line("oval:x:tst:9")),
        ("ref:oval-variable", "oval:x:var:9", line("oval:x:var:9")),
    ])


def test_xccdf_refine_value_sub_and_cluster_references():
    """refine-value may name a Value or a cluster, sub a Value or plain-text; anything else is
    reported, once per reference."""
    from stigscap.schemas.semantic import Checker, check_xccdf_benchmark

    x = ns.XCCDF12
    bench = etree.fromstring(f"""<Benchmark xmlns="{x}" id="xccdf_x_benchmark_b">
  <plain-text id="xccdf_x_plain_p">p</plain-text>
  <Value id="xccdf_x_value_v" cluster-id="vals"><value>1</value></Value>
  <Profile id="xccdf_x_profile_p"><title>p</title>
    <refine-value idref="xccdf_x_value_v" selector="a"/><refine-value idref="vals"/>
    <refine-value idref="xccdf_x_value_gone"/>
    <select idref="rules" selected="true"/><select idref="xccdf_x_rule_gone" selected="true"/>
  </Profile>
  <Rule id="xccdf_x_rule_r" cluster-id="rules"><description><sub idref="xccdf_x_value_v"/>
    <sub idref="xccdf_x_plain_p"/><sub idref="xccdf_x_plain_gone"/></description></Rule>
</Benchmark>""")
    ck = Checker("b.xml")
    check_xccdf_benchmark(bench, ck)
    assert sorted((p.rule, p.message.split("'")[1]) for p in ck.problems) == [
        ("ref:xccdf-idref", "xccdf_x_rule_gone"), ("ref:xccdf-idref", "xccdf_x_value_gone"),
        ("ref:xccdf-sub", "xccdf_x_plain_gone")]
