"""Planted violations of SCAP 1.3 requirements, for the coverage test.

A case is (requirement id, base document, edit): the edit breaks the requirement in an
otherwise unchanged copy of the base. Bases: `mini` (tests/schemas/fixtures/mini-ds.xml),
`ocil` (mini with an OCIL 2.0 questionnaire component added), `signed` (mini signed by
stigscap, the real TMSAD signature layout), `arf` (the ARF `stigscap.evaluate` writes for the
example exports). Requirements SCAPVal's own unit tests already break are not repeated here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from pathlib import Path

from lxml import etree

from stigscap.schemas import namespaces as ns

FIXTURES = Path(__file__).with_name("fixtures")
NS = {"x": ns.XCCDF12, "ds": ns.DS, "dsig": ns.DSIG, "xhtml": ns.XHTML, "ocil": ns.OCIL,
      "cpe-dict": ns.CPE_DICT, "oval-def": ns.OVAL_DEF, "oval-res": ns.OVAL_RES, "arf": ns.ARF,
      "tmsad": ns.TMSAD, "cat": ns.CAT}
X, G = f"{{{ns.XCCDF12}}}", f"{{{ns.DSIG}}}"


def one(root: etree._Element, xpath: str) -> etree._Element:
    found = root.xpath(xpath, namespaces=NS)
    assert found, xpath
    return found[0]


def add(parent: etree._Element, xml: str, index: int | None = None) -> etree._Element:
    """Parse `xml` (prefixes of NS declared) and put it under `parent`."""
    decl = " ".join(f'xmlns:{p}="{u}"' for p, u in NS.items())
    wrapper = etree.fromstring(f"<w {decl}>{xml}</w>")
    el = wrapper[0]
    if index is None:
        parent.append(el)
    else:
        parent.insert(index, el)
    return el


def bench(r): return one(r, "//x:Benchmark")
def value(r): return one(r, "//x:Value")
def rule(r): return one(r, "//x:Rule")
def group(r): return one(r, "//x:Group")
def profile(r): return one(r, "//x:Profile")
def rule_check(r): return one(r, "//x:Rule/x:check")


def remove(r, xpath):
    for el in r.xpath(xpath, namespaces=NS):
        el.getparent().remove(el)


def test_result(r, body='<x:rule-result idref="xccdf_mil.disa.stig_rule_SV-84553r1_rule">'
                        '<x:result>pass</x:result><x:check system="http://oval.mitre.org/'
                        'XMLSchema/oval-definitions-5"/></x:rule-result>', test_system=True):
    ts = ' test-system="cpe:/a:example:tool:1"' if test_system else ""
    return add(bench(r), f'<x:TestResult id="xccdf_mil.disa.stig_testresult_t" '
                         f'end-time="2024-01-01T00:00:00"{ts}><x:target>t</x:target>{body}'
                         '</x:TestResult>')


def selectors(tag, a, b):
    """Two `tag` children of the Value with selectors a and b (None: no @selector)."""
    def edit(r):
        for s in (a, b):
            sel = "" if s is None else f' selector="{s}"'
            add(value(r), f"<x:{tag}{sel}>1</x:{tag}>")
    return edit


def countersign(r):
    """An arf:extended-info holding a countersignature that breaks RES-318..321."""
    infos = r.find(f"{{{ns.ARF}}}extended-infos")
    if infos is None:
        infos = add(r, "<arf:extended-infos/>")
    add(infos, '<arf:extended-info id="countersign"><dsig:Signature Id="cs">'
               '<dsig:SignedInfo><dsig:Reference URI="#elsewhere"/></dsig:SignedInfo>'
               '<dsig:Object Id="orig"><dsig:Signature Id="original"/></dsig:Object>'
               '</dsig:Signature></arf:extended-info>')


OCIL = """<ds:component id="scap_mil.disa.stig_comp_test-ocil.xml" timestamp="2024-01-01T00:00:00">
 <ocil:ocil>
  <ocil:generator><ocil:schema_version>2.0</ocil:schema_version>
   <ocil:timestamp>2024-01-01T00:00:00</ocil:timestamp></ocil:generator>
  <ocil:questionnaires><ocil:questionnaire id="ocil:t:questionnaire:1"><ocil:actions>
   <ocil:test_action_ref>ocil:t:testaction:1</ocil:test_action_ref></ocil:actions>
  </ocil:questionnaire></ocil:questionnaires>
  <ocil:test_actions><ocil:boolean_question_test_action id="ocil:t:testaction:1"
    question_ref="ocil:t:question:4"><ocil:when_true><ocil:result>PASS</ocil:result></ocil:when_true>
   <ocil:when_false><ocil:result>FAIL</ocil:result></ocil:when_false>
  </ocil:boolean_question_test_action></ocil:test_actions>
  <ocil:questions>
   <ocil:choice_question id="ocil:t:question:1" default_answer_ref="ocil:t:choice:1">
    <ocil:question_text>q</ocil:question_text><ocil:choice id="ocil:t:choice:1">a</ocil:choice>
    <ocil:choice_group_ref>ocil:t:choicegroup:1</ocil:choice_group_ref></ocil:choice_question>
   <ocil:numeric_question id="ocil:t:question:2"><ocil:question_text>n</ocil:question_text>
   </ocil:numeric_question>
   <ocil:string_question id="ocil:t:question:3"><ocil:question_text>s</ocil:question_text>
   </ocil:string_question>
   <ocil:boolean_question id="ocil:t:question:4"><ocil:question_text>b</ocil:question_text>
   </ocil:boolean_question>
   <ocil:choice_group id="ocil:t:choicegroup:1"><ocil:choice id="ocil:t:choice:2">b</ocil:choice>
   </ocil:choice_group>
  </ocil:questions>
  <ocil:variables>
   <ocil:local_variable id="ocil:t:variable:1" datatype="TEXT" question_ref="ocil:t:question:1">
    <ocil:set><ocil:when_choice choice_ref="ocil:t:choice:2"><ocil:value>x</ocil:value>
    </ocil:when_choice></ocil:set></ocil:local_variable>
   <ocil:local_variable id="ocil:t:variable:2" datatype="NUMERIC" question_ref="ocil:t:question:2">
    <ocil:set><ocil:when_range><ocil:value>1</ocil:value></ocil:when_range></ocil:set>
   </ocil:local_variable>
   <ocil:local_variable id="ocil:t:variable:3" datatype="TEXT" question_ref="ocil:t:question:3">
    <ocil:set><ocil:when_pattern><ocil:value>x</ocil:value></ocil:when_pattern></ocil:set>
   </ocil:local_variable>
   <ocil:local_variable id="ocil:t:variable:4" datatype="TEXT" question_ref="ocil:t:question:4">
    <ocil:set><ocil:when_boolean value="true"><ocil:value>x</ocil:value></ocil:when_boolean>
    </ocil:set></ocil:local_variable>
  </ocil:variables>
  <ocil:results start_time="2024-01-01T00:00:00"><ocil:question_results>
   <ocil:choice_question_result question_ref="ocil:t:question:1">
    <ocil:answer choice_ref="ocil:t:choice:2"/></ocil:choice_question_result>
   <ocil:boolean_question_result question_ref="ocil:t:question:4" response="ANSWERED">
    <ocil:answer>true</ocil:answer></ocil:boolean_question_result>
  </ocil:question_results></ocil:results>
 </ocil:ocil>
</ds:component>"""


def variable(r, n):
    return one(r, f"//ocil:local_variable[@id='ocil:t:variable:{n}']")


def set_expr(n, xml):
    def edit(r):
        s = variable(r, n).find(f"{{{ns.OCIL}}}set")
        s.clear()
        add(s, xml)
    return edit


def first_ref(r):
    return one(r, "//dsig:Signature/dsig:SignedInfo/dsig:Reference[1]")


CASES: list[tuple[str, str, Callable[[etree._Element], object]]] = [
    # SCAP 1.3 source
    ("SRC-9-2", "mini", lambda r: add(rule(r), '<x:title xml:lang="en-US">T</x:title>', 2)),
    ("SRC-9-3", "mini", lambda r: [t.set(f"{{{ns.XML}}}lang", "de") for t in [
        add(rule(r), '<x:title>T</x:title>', 2), one(r, "//x:Rule/x:title[2]")]]),
    ("A-16-1", "mini", lambda r: add(rule(r), '<x:ident system="http://cce.mitre.org"/>', 3)),
    ("SRC-358-1", "mini", lambda r: remove(r, "//cpe-dict:cpe-item/cpe-dict:check")),
    ("SRC-289-1", "signed", lambda r: (lambda m: m.append(m[0]))(one(r, "//dsig:Manifest"))),
    # XCCDF 1.2 Schematron
    ("xccdf-1.2:xhtml_object_data_prefix", "mini",
     lambda r: add(one(r, "//x:Rule/x:description"), '<xhtml:object data="#other"/>')),
    ("xccdf-1.2:xhtml_object_data_values", "mini",
     lambda r: add(one(r, "//x:Rule/x:description"), '<xhtml:object data="#xccdf:link:a"/>')),
    ("xccdf-1.2:xhtml_object_data_values_exist", "mini",
     lambda r: add(one(r, "//x:Rule/x:description"), '<xhtml:object data="#xccdf:value:none"/>')),
    ("xccdf-1.2:xhtml_a_name_link_prefix", "mini",
     lambda r: add(one(r, "//x:Rule/x:description"), '<xhtml:a name="here"/>')),
    ("xccdf-1.2:xccdf_signature_dsig_ref", "mini",
     lambda r: add(bench(r), "<x:signature><dsig:Signature/></x:signature>")),
    ("xccdf-1.2:xccdf_contains_title_child", "mini", lambda r: remove(r, "//x:Rule/x:title")),
    ("xccdf-1.2:benchmark_multiple_status_dates", "mini",
     lambda r: (add(rule(r), "<x:status>draft</x:status>", 0),
                add(rule(r), "<x:status>accepted</x:status>", 0))),
    ("xccdf-1.2:benchmark_extend_self_type", "mini",
     lambda r: rule(r).set("extends", "xccdf_mil.disa.stig_group_V-69931")),
    ("xccdf-1.2:benchmark_check_import_empty", "mini",
     lambda r: add(rule_check(r), '<x:check-import import-name="stdout">x</x:check-import>', 1)),
    ("xccdf-1.2:benchmark_unique_match_selector", "mini", selectors("match", "a", "a")),
    ("xccdf-1.2:benchmark_omitted_match_selector", "mini", selectors("match", None, None)),
    ("xccdf-1.2:benchmark_unique_lower_bound_selector", "mini", selectors("lower-bound", "a", "a")),
    ("xccdf-1.2:benchmark_omitted_lower_bound_selector", "mini",
     selectors("lower-bound", None, None)),
    ("xccdf-1.2:benchmark_unique_upper_bound_selector", "mini", selectors("upper-bound", "a", "a")),
    ("xccdf-1.2:benchmark_omitted_upper_bound_selector", "mini",
     selectors("upper-bound", None, None)),
    ("xccdf-1.2:benchmark_unique_choices_selector", "mini", selectors("choices", "a", "a")),
    ("xccdf-1.2:benchmark_omitted_choices_selector", "mini", selectors("choices", None, None)),
    ("xccdf-1.2:benchmark_unique_value_value_selector", "mini",
     lambda r: [v.set("selector", "exact") for v in r.xpath("//x:Value/x:value", namespaces=NS)]),
    ("xccdf-1.2:benchmark_omitted_value_value_selector", "mini",
     lambda r: [v.attrib.pop("selector") for v in r.xpath("//x:Value/x:value", namespaces=NS)]),
    ("xccdf-1.2:benchmark_unique_value_default_selector", "mini", selectors("default", "a", "a")),
    ("xccdf-1.2:benchmark_omitted_value_default_selector", "mini",
     selectors("default", None, None)),
    ("xccdf-1.2:benchmark_rule_group_idref_exists", "mini",
     lambda r: add(profile(r), '<x:select idref="xccdf_mil.disa.stig_rule_none" selected="true"/>')),
    ("xccdf-1.2:benchmark_value_idref_exists", "mini",
     lambda r: add(profile(r), '<x:set-value idref="xccdf_mil.disa.stig_value_none">1</x:set-value>')),
    ("xccdf-1.2:benchmark_rule_result_override", "mini",
     lambda r: test_result(r, '<x:rule-result idref="xccdf_mil.disa.stig_rule_SV-84553r1_rule">'
                              '<x:result>pass</x:result><x:override time="2024-01-01T00:00:00" '
                              'authority="a"><x:old-result>fail</x:old-result><x:new-result>'
                              'fail</x:new-result><x:remark>r</x:remark></x:override>'
                              '</x:rule-result>')),
    ("xccdf-1.2:benchmark_rule_result_idref_exists", "mini",
     lambda r: test_result(r, '<x:rule-result idref="xccdf_mil.disa.stig_rule_none">'
                              '<x:result>pass</x:result></x:rule-result>')),
    ("xccdf-1.2:ARF_benchmark_rule_result_idref_exists", "mini",
     lambda r: test_result(r, '<x:rule-result idref="xccdf_mil.disa.stig_rule_none">'
                              '<x:result>pass</x:result></x:rule-result>')),
    ("xccdf-1.2:benchmark_contains_metadata", "mini", lambda r: remove(r, "//x:Benchmark/x:metadata")),
    ("xccdf-1.2:benchmark_platform_invalid_prefix", "mini",
     lambda r: one(r, "//x:Benchmark/x:platform").set("idref", "exchange")),
    ("xccdf-1.2:benchmark_platform_prefix_deprecated", "mini",
     lambda r: one(r, "//x:Benchmark/x:platform").set("idref", "cpe:/a:microsoft:exchange_server:2013")),
    ("xccdf-1.2:benchmark_platform_specification_exists", "mini",
     lambda r: one(r, "//x:Benchmark/x:platform").set("idref", "#nowhere")),
    ("xccdf-1.2:benchmark_platform_exists", "mini", lambda r: remove(r, "//x:Benchmark/x:platform")),
    ("xccdf-1.2:benchmark_description_exists", "mini",
     lambda r: remove(r, "//x:Benchmark/x:description")),
    ("xccdf-1.2:benchmark_conflicts_exists", "mini",
     lambda r: add(rule(r), '<x:conflicts idref="xccdf_mil.disa.stig_rule_none"/>', 4)),
    ("xccdf-1.2:benchmark_note_tag_exists", "mini", lambda r: profile(r).set("note-tag", "none")),
    ("xccdf-1.2:benchmark_value_match_datatype", "mini",
     lambda r: (value(r).set("type", "boolean"), add(value(r), "<x:match>x</x:match>"))),
    ("xccdf-1.2:benchmark_value_bounds_datatype", "mini",
     lambda r: add(value(r), "<x:lower-bound>1</x:lower-bound>")),
    ("xccdf-1.2:benchmark_default_value_value_selector", "mini",
     lambda r: add(bench(r), '<x:Value id="xccdf_mil.disa.stig_value_other" type="string">'
                             '<x:title>t</x:title><x:description>d</x:description>'
                             '<x:value selector="a">1</x:value></x:Value>')),
    ("xccdf-1.2:benchmark_default_value_default_selector", "mini", selectors("default", "a", "b")),
    ("xccdf-1.2:benchmark_default_value_match_selector", "mini", selectors("match", "a", "b")),
    ("xccdf-1.2:benchmark_default_value_lower_bound_selector", "mini",
     selectors("lower-bound", "a", "b")),
    ("xccdf-1.2:benchmark_default_value_upper_bound_selector", "mini",
     selectors("upper-bound", "a", "b")),
    ("xccdf-1.2:benchmark_default_value_choices_selector", "mini", selectors("choices", "a", "b")),
    ("xccdf-1.2:benchmark_multi_check_true", "mini",
     lambda r: add(rule(r), '<x:complex-check operator="AND"><x:check system="s" multi-check="true">'
                            '<x:check-content-ref href="h"/></x:check></x:complex-check>')),
    ("xccdf-1.2:benchmark_default_rule_check_selector", "mini",
     lambda r: rule_check(r).set("selector", "alt")),
    ("xccdf-1.2:benchmark_value_description_question_exists", "mini",
     lambda r: remove(r, "//x:Value/x:description")),
    ("xccdf-1.2:benchmark_testresult_test_system_exists", "mini",
     lambda r: test_result(r, test_system=False)),
    ("xccdf-1.2:benchmark_rule_result_single_child", "mini",
     lambda r: test_result(r, '<x:rule-result idref="xccdf_mil.disa.stig_rule_SV-84553r1_rule">'
                              '<x:result>pass</x:result></x:rule-result>')),
    ("xccdf-1.2:benchmark_rule_result_check_valid", "mini",
     lambda r: test_result(r, '<x:rule-result idref="xccdf_mil.disa.stig_rule_SV-84553r1_rule">'
                              '<x:result>pass</x:result><x:check system="s" selector="other"/>'
                              '</x:rule-result>')),
    ("xccdf-1.2:benchmark_group_deprecated_extends", "mini",
     lambda r: group(r).set("extends", "xccdf_mil.disa.stig_group_V-69931")),
    ("xccdf-1.2:benchmark_group_deprecated_abstract", "mini", lambda r: group(r).set("abstract", "true")),
    ("xccdf-1.2:benchmark_rule_deprecated_impact_metric", "mini",
     lambda r: add(rule(r), "<x:impact-metric>AV:N</x:impact-metric>", 4)),
    ("xccdf-1.2:tailoring_profile_extends_valid", "mini",
     lambda r: add(r, '<x:Tailoring id="xccdf_t_tailoring_t"><x:version time="2024-01-01T00:00:00">1'
                      '</x:version><x:Profile id="xccdf_t_profile_a"><x:title>a</x:title></x:Profile>'
                      '<x:Profile id="xccdf_t_profile_b" extends="xccdf_t_profile_a"><x:title>b'
                      '</x:title></x:Profile></x:Tailoring>')),
    ("xccdf-1.2:tailoring_group_deprecated_abstract", "mini",
     lambda r: add(r, '<x:Tailoring id="xccdf_t_tailoring_t"><x:version time="2024-01-01T00:00:00">1'
                      '</x:version><x:Profile id="xccdf_t_profile_a" abstract="true"><x:title>a'
                      '</x:title></x:Profile></x:Tailoring>')),
    # OCIL 2.0 Schematron (applied to OCIL 2.0 documents)
    ("ocil-2.0#1", "ocil", lambda r: one(r, "//ocil:choice_question").set("default_answer_ref", "ocil:t:choice:9")),
    ("ocil-2.0#2", "ocil", lambda r: one(r, "//ocil:choice_question_result/ocil:answer").set("choice_ref", "ocil:t:choice:9")),
    ("ocil-2.0#3", "ocil", lambda r: variable(r, 1).set("datatype", "NUMERIC")),
    ("ocil-2.0#4", "ocil", lambda r: variable(r, 2).set("datatype", "TEXT")),
    ("ocil-2.0#5", "ocil", lambda r: variable(r, 3).set("datatype", "NUMERIC")),
    ("ocil-2.0#6", "ocil", set_expr(4, "<ocil:when_pattern><ocil:value>x</ocil:value></ocil:when_pattern>")),
    ("ocil-2.0#7", "ocil", set_expr(1, "<ocil:when_pattern><ocil:value>x</ocil:value></ocil:when_pattern>")),
    ("ocil-2.0#8", "ocil", set_expr(2, '<ocil:when_boolean value="true"><ocil:value>1</ocil:value></ocil:when_boolean>')),
    ("ocil-2.0#9", "ocil", set_expr(3, "<ocil:when_range><ocil:value>1</ocil:value></ocil:when_range>")),
    ("ocil-2.0#10", "ocil", set_expr(1, '<ocil:when_choice choice_ref="ocil:t:choice:9"><ocil:value>x</ocil:value></ocil:when_choice>')),
    ("ocil-2.0#11", "ocil", lambda r: one(r, "//ocil:boolean_question_result").set("response", "NOT_APPLICABLE")),
    # TMSAD 1.0 Schematron
    ("tmsad-1.0#1", "signed", lambda r: one(r, "//dsig:SignatureMethod").set("Algorithm", f"{ns.DSIG}hmac-sha1")),
    ("tmsad-1.0#2", "signed", lambda r: one(r, "//dsig:DigestMethod").set("Algorithm", f"{ns.DSIG}sha1")),
    ("tmsad-1.0#3", "signed", lambda r: one(r, "//dsig:DigestMethod").set("Algorithm", f"{ns.DSIG}sha1")),
    ("tmsad-1.0#4", "signed", lambda r: setattr(one(r, "//dsig:DigestValue"), "text", "AAAA")),
    ("tmsad-1.0#5", "signed", lambda r: (one(r, "//dsig:DigestMethod").set(
        "Algorithm", "http://www.w3.org/2001/04/xmldsig-more#sha384"))),
    ("tmsad-1.0#6", "signed", lambda r: (one(r, "//dsig:DigestMethod").set(
        "Algorithm", "http://www.w3.org/2001/04/xmlenc#sha512"))),
    ("tmsad-1.0#7", "signed", lambda r: remove(r, "//dsig:SignedInfo/dsig:Reference[position() > 1]")),
    ("tmsad-1.0#8", "signed", lambda r: [ref.set("URI", "#x") for ref in r.xpath(
        "//dsig:SignedInfo/dsig:Reference[position() > 1]", namespaces=NS)]),
    ("tmsad-1.0#9", "signed", lambda r: remove(r, "//dsig:SignedInfo/dsig:Reference[3]")),
    ("tmsad-1.0#10", "signed", lambda r: remove(r, "//dsig:Object[dsig:SignatureProperties]")),
    ("tmsad-1.0#11", "signed", lambda r: remove(r, "//tmsad:signature-info")),
    ("tmsad-1.0#12", "signed", lambda r: (one(r, "//dsig:Object[dsig:Manifest]").set("Id", "obj"),
                                          one(r, "//dsig:SignedInfo/dsig:Reference[3]").set("URI", "#obj"))),
    ("tmsad-1.0#13", "signed", lambda r: one(r, "//dsig:SignedInfo/dsig:Reference[3]").attrib.pop("Type")),
    ("tmsad-1.0#14", "signed", lambda r: one(r, "//dsig:SignedInfo/dsig:Reference[2]").attrib.pop("Type")),
    ("tmsad-1.0#15", "signed", lambda r: add(one(r, "//dsig:Reference/dsig:Transforms"),
                                             '<dsig:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"/>')),
    ("tmsad-1.0#16", "signed", lambda r: add(one(r, "//dsig:Reference/dsig:Transforms"),
                                             '<dsig:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"/>')),
    ("tmsad-1.0#17", "signed", lambda r: add(one(r, "//dsig:Reference/dsig:Transforms"),
                                             '<dsig:Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>')),
    # SCAP 1.3 results SCAPVal leaves unchecked
    ("RES-69-1", "arf", lambda r: remove(r, "(//oval-res:results//oval-res:definition)[1]")),
    ("RES-390-1", "arf", lambda r: remove(r, "//x:TestResult/x:set-value[1]")),
    ("RES-300-2", "arf", lambda r: add(one(r, "//x:TestResult"),
                                       '<x:tailoring-file href="t.xml" id="xccdf_t_tailoring_t" '
                                       'version="1" time="2024-01-01T00:00:00"/>', 1)),
    ("RES-318-1", "arf", countersign),
    ("RES-319-1", "arf", countersign),
    ("RES-320-1", "arf", countersign),
    ("RES-321-1", "arf", countersign),
]


@cache
def base_bytes(name: str) -> bytes:
    mini = (FIXTURES / "mini-ds.xml").read_bytes()
    if name == "mini":
        return mini
    if name == "ocil":
        root = etree.fromstring(mini)
        add(root, OCIL)
        return etree.tostring(root)
    if name == "signed":
        import tempfile

        import stigscap
        from tests.pki import make_identity

        with tempfile.TemporaryDirectory() as tmp:
            ident = make_identity(Path(tmp), "planted")
            key = stigscap.load_signing_key(ident.key_pem, ident.cert_pem)
            return stigscap.sign(mini, key, timestamp="2024-01-01T00:00:00Z")
    if name == "arf":
        import stigscap

        ds = stigscap.generate_datastream(timestamp="2024-01-01T00:00:00")
        sc = stigscap.collect_offline(ds, stigscap.example_exports(), timestamp="2024-01-01T00:00:00Z")
        result = stigscap.evaluate(ds, sc, profile="MAC-1_Classified", timestamp="2024-01-01T00:00:00Z",
                                   addresses=["192.0.2.1"])
        return result.to_bytes()
    raise ValueError(name)


def planted(name: str, edit) -> tuple[bytes, bytes]:
    """(base, base with the edit applied), serialized."""
    base = base_bytes(name)
    root = copy.deepcopy(etree.fromstring(base))
    edit(root)
    return base, etree.tostring(root)
