"""The SCAP 1.3 coverage table (schemas/scap13_requirements.json) against SCAPVal and the code.

- every SCAPVal requirement id in ../shared is listed, with SCAPVal's level (skipped without
  ../shared): the derived requirements of its requirements file, the ids its source / result
  data stream Schematrons report, and every assert of the XCCDF 1.2, OCIL 2.0 and TMSAD 1.0
  Schematrons;
- every `implemented` id is claimed by a check function (`scap_checks.registry`), named in the
  table, and no check claims an id the table does not mark implemented;
- every `implemented` id fires on a planted violation: SCAPVal's own unit tests where they
  break it (instantiated from ../shared), else our planted cases (tests/schemas/planted.py),
  where SCAPVal's Schematron, when it checks the id, must fire on the same edit;
- `covered` ids name implemented ids; `xsd` ids fire as XSD errors on a planted violation.
"""

from __future__ import annotations

import json
import pytest
from lxml import etree

from stigscap.schemas.scap_checks import registry, run
from stigscap.schemas.scap_requirements import TABLE, requirements
from stigscap.schemas.validate import check_document
from stigscap.schemas.xmlio import parse_xml_bytes
from tests.conftest import SHARED
from tests.schemas.planted import CASES, planted
from tests.schemas.scapval_units import UnitTest, instantiate, unit_tests

SCH = "{http://purl.oclc.org/dsdl/schematron}"
RULES = SHARED / "scapval" / "rules"
TABLE_DATA = json.loads(TABLE.read_text(encoding="utf-8"))["requirements"]
IMPLEMENTED = sorted(k for k, v in TABLE_DATA.items() if v["status"] == "implemented")
UNITS = unit_tests()
COMPONENTS = ("xccdf-1.2", "ocil-2.0", "tmsad-1.0")


def scapval_ids() -> dict[str, str]:
    """Every SCAPVal requirement id in ../shared → its level (MUST, SHOULD, …)."""
    req = RULES / "requirements" / "scapval-scap-1.3-requirements.xml"
    if not req.is_file():
        pytest.skip(f"reference file not available: {req}")
    ids = {d.get("id"): d.get("type")
           for d in etree.parse(str(req)).getroot().iter("{*}derived-requirement")}
    for kind in ("source", "result"):
        sch = etree.parse(str(RULES / "scap" / f"{kind}-data-stream-1.3.sch")).getroot()
        for a in sch.iter(f"{SCH}assert", f"{SCH}report"):
            ids.setdefault((a.text or "").strip().split("|")[0], "MUST")
    for name in COMPONENTS:
        sch = etree.parse(str(RULES / "other" / f"{name}.sch")).getroot()
        n = 0
        for pattern in sch.iter(f"{SCH}pattern"):
            for a in pattern.iter(f"{SCH}assert", f"{SCH}report"):
                n += 1
                key = f"{name}:{pattern.get('id')}" if name == "xccdf-1.2" else f"{name}#{n}"
                text = "".join(a.itertext()).strip()
                warn = a.get("flag") in ("WARNING", "INFO") or text.startswith("Warning")
                ids[key] = "SHOULD" if warn else "MUST"
    return ids


def scapval_checked() -> set[str]:
    """The ids SCAPVal's Schematrons actually assert (the others it leaves unchecked)."""
    listed = scapval_ids()   # skips cleanly without ../shared
    ids = set()
    for kind in ("source", "result"):
        sch = etree.parse(str(RULES / "scap" / f"{kind}-data-stream-1.3.sch")).getroot()
        ids |= {(a.text or "").strip().split("|")[0] for a in sch.iter(f"{SCH}assert")}
    return ids | {k for k in listed if k.startswith(COMPONENTS)}


def test_every_scapval_requirement_is_listed_with_its_level():
    ids = scapval_ids()
    assert sorted(set(ids) - set(TABLE_DATA)) == []
    assert sorted(set(TABLE_DATA) - set(ids)) == []
    assert {k: v["level"] for k, v in TABLE_DATA.items()} == ids


def test_table_entries_are_complete():
    assert {v["status"] for v in TABLE_DATA.values()} <= {"implemented", "xsd", "covered",
                                                          "not-checkable"}
    for rid, req in requirements().items():
        assert req.text and "\n" not in req.text, rid
        if req.status == "implemented":
            assert req.check, rid
        elif req.status == "covered":
            assert req.by and all(TABLE_DATA[b]["status"] in ("implemented", "xsd") for b in req.by), rid
        elif req.status == "xsd":
            assert req.check and req.check.startswith("validate: "), rid
        else:
            assert req.reason, rid


def test_checks_and_table_claim_the_same_ids():
    claimed = registry()
    assert sorted(set(claimed) - set(IMPLEMENTED)) == []   # no check claims an unlisted id
    assert sorted(set(IMPLEMENTED) - set(claimed)) == []   # every implemented id has a check
    for rid in IMPLEMENTED:
        assert TABLE_DATA[rid]["check"] == "; ".join(claimed[rid]), rid


def _fired(data: bytes) -> dict[str, int]:
    root = parse_xml_bytes(data, "planted.xml", huge_tree=True).getroot()
    kind = "arf" if etree.QName(root).localname == "asset-report-collection" else "sds"
    counts: dict[str, int] = {}
    for p in run(root, kind, "planted.xml"):
        counts[p.rule] = counts.get(p.rule, 0) + 1
    return counts


def _unit_breaking(rid: str) -> UnitTest | None:
    return next((u for u in UNITS if u.expected.get(rid) == "FAIL"), None)


PLANTED_IDS = {c[0] for c in CASES}


@pytest.mark.parametrize("rid", IMPLEMENTED)
def test_every_implemented_requirement_fires_on_a_planted_violation(rid):
    if rid in PLANTED_IDS:
        for case_rid, base_name, edit in CASES:
            if case_rid == rid:
                base, broken = planted(base_name, edit)
                assert _fired(broken).get(rid, 0) > _fired(base).get(rid, 0), rid
        return
    unit = _unit_breaking(rid)
    if unit is None:
        if not UNITS:
            pytest.skip(f"reference file not available: {SHARED / 'scapval' / 'unit-tests'}")
        pytest.fail(f"{rid}: no SCAPVal unit test breaks it and no planted case does")
    assert _fired(instantiate(unit)).get(rid, 0) > 0, unit.name


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_scapval_agrees_with_the_planted_violations(case):
    """Where SCAPVal's Schematron checks the id, it fails on the same edit (not on the base)."""
    from tests.scapval import scapval_results

    rid, base_name, edit = case
    if rid not in scapval_checked():
        pytest.skip(f"{rid}: SCAPVal does not check it (stigscap's own addition)")
    ruleset = ("source" if rid.startswith(("SRC", "A-")) else "result" if rid.startswith("RES")
               else "other/ocil-2.0.sch@2.0" if rid.startswith("ocil")
               else f"other/{rid.split(':')[0].split('#')[0]}.sch")
    base, broken = planted(base_name, edit)
    count = lambda data: sum(1 for f in scapval_results(data, ruleset) if f.requirement == rid)  # noqa: E731
    assert count(broken) > count(base)


XSD_CASES = {  # requirement → (mini-ds text edit), each a violation the official XSDs catch
    "SRC-154-1": ('<ds:component id="scap_mil.disa.stig_comp_test-cpe-dictionary.xml" '
                  'timestamp="2024-01-01T00:00:00">',
                  '<ds:component id="scap_mil.disa.stig_comp_test-cpe-dictionary.xml" '
                  'timestamp="2024-01-01T00:00:00"><other xmlns="urn:example"/>'),
    "SRC-3-1": ('<xccdf:version time="2024-01-01T00:00:00" update="https://public.cyber.mil/stigs/">'
                '1</xccdf:version>', ''),
    "SRC-52-1": ("<oval:schema_version>5.11.2</oval:schema_version>", ""),
    "SRC-338-1": ('id="xccdf_mil.disa.stig_rule_SV-84553r1_rule" severity',
                  'id="rule SV-84553" severity'),
    "SRC-360-1": ('  <ds:component id="scap_mil.disa.stig_comp_test-xccdf.xml"',
                  '  <Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/>\n'
                  '  <ds:component id="scap_mil.disa.stig_comp_test-xccdf.xml"'),
    "SRC-376-1": (' use-case="CONFIGURATION"', ""),
    "SRC-131-1": ("</xccdf:Group>", "</xccdf:Group><xccdf:Result/>"),
    "SRC-329-1": ('<ds:data-stream id="scap_mil.disa.stig_datastream_Test"', "<ds:data-stream"),
    "A-10-1": ("<xccdf:title>Test benchmark</xccdf:title>", "<xccdf:titel>Test benchmark</xccdf:titel>"),
}
ARF_XSD_CASES = {  # requirement → an edit of the ARF the API writes
    "RES-363-1": lambda r: r.remove(r.find("{http://scap.nist.gov/schema/asset-reporting-format/1.1}reports")),
    "RES-364-1": lambda r: [c.getparent().remove(c) for c in r.iter(
        "{http://scap.nist.gov/schema/asset-reporting-format/1.1}content")][:1],
    "RES-388-1": lambda r: next(r.iter("{http://checklists.nist.gov/xccdf/1.2}TestResult")).insert(
        1, etree.fromstring('<tailoring-file xmlns="http://checklists.nist.gov/xccdf/1.2" href="t.xml"/>')),
    "TOOL-202-1": lambda r: next(r.iter("{http://oval.mitre.org/XMLSchema/oval-results-5}definition")).set(
        "result", "truthy"),
    "TOOL-254-1": lambda r: setattr(next(r.iter("{http://checklists.nist.gov/xccdf/1.2}result")),
                                    "text", "passed-ish"),
}


def test_xsd_cases_cover_the_xsd_entries():
    xsd = {k for k, v in TABLE_DATA.items() if v["status"] == "xsd"}
    assert xsd == set(XSD_CASES) | set(ARF_XSD_CASES)


@pytest.mark.parametrize("rid", sorted(XSD_CASES))
def test_xsd_requirement_fires(schema_dir, rid):
    from tests.schemas.planted import FIXTURES

    old, new = XSD_CASES[rid]
    text = (FIXTURES / "mini-ds.xml").read_text(encoding="utf-8")
    assert old in text, rid
    doc = parse_xml_bytes(text.replace(old, new, 1).encode(), "x.xml")
    assert check_document(doc, "x.xml", schema_dir=schema_dir).errors[0].rule.startswith("XSD "), rid


@pytest.mark.parametrize("rid", sorted(ARF_XSD_CASES))
def test_xsd_requirement_fires_on_arf(schema_dir, rid):
    import copy

    from tests.schemas.planted import base_bytes

    root = copy.deepcopy(etree.fromstring(base_bytes("arf")))
    ARF_XSD_CASES[rid](root)
    errors = check_document(root, "arf.xml", schema_dir=schema_dir).errors
    assert errors and any(e.rule.startswith("XSD ") for e in errors), rid


def test_unit_tests_fail_what_they_expect():
    """For every requirement we implement, SCAPVal's unit tests' expected FAIL / PASS hold."""
    if not UNITS:
        pytest.skip(f"reference file not available: {SHARED / 'scapval' / 'unit-tests'}")
    implemented = set(IMPLEMENTED)
    for unit in UNITS:
        if not unit.ruleset.startswith("scap/"):
            continue
        fired = _fired(instantiate(unit))
        for rid, verdict in unit.expected.items():
            if rid not in implemented:
                continue
            assert (fired.get(rid, 0) > 0) == (verdict == "FAIL"), (unit.name, rid, verdict)


def test_coverage_figures():
    """The headline numbers (in the README line and the report), so they cannot go stale:
    of the ids SCAPVal's source / result Schematrons assert, how many (and how many MUSTs)
    stigscap checks natively; the rest are the asserts that cannot fire on SCAP 1.2/1.3
    content (A-15-1, A-18-1), need NIST data files (SRC-74-1, A-21-1), concern SCAPVal's own
    set-up (A-22-1) or always fail as a reminder (RES-366-1)."""
    levels = scapval_ids()
    figures = {}
    for kind in ("source", "result"):
        sch = etree.parse(str(RULES / "scap" / f"{kind}-data-stream-1.3.sch")).getroot()
        ids = {(a.text or "").strip().split("|")[0] for a in sch.iter(f"{SCH}assert")}
        must = {i for i in ids if levels[i] == "MUST"}
        done = {i for i in ids if TABLE_DATA[i]["status"] == "implemented"}
        figures[kind] = (len(ids), len(done), len(must), len(must & done))
    assert figures == {"source": (83, 78, 63, 62), "result": (37, 36, 25, 25)}
    assert sorted(i for i in TABLE_DATA if i.startswith(("SRC", "RES", "A-"))
                  and TABLE_DATA[i]["status"] == "implemented"
                  and i not in scapval_checked()) == [
        "RES-300-2", "RES-318-1", "RES-319-1", "RES-320-1", "RES-321-1", "RES-390-1",
        "RES-69-1", "SRC-289-1", "SRC-358-1"]   # mechanical ones SCAPVal leaves unchecked
