"""One DISA XCCDF reader (`schemas.disa_xccdf`), two consumers that see the same facts.

`generate --stig` / `import-stig` (generator.disa_xccdf: content-model rules, texts normalised
as authored content keeps them) and `export`/`report --stig` (evaluator.results.arf_reader: the
checklists' rules, texts as the STIG wrote them) read a STIG through the same reader. For every
rule of our fixture and of DISA's published STIGs in ../shared they must state the same ids,
severity, texts, CCIs and legacy ids. The two used to read the XML each on their own and
disagreed on shapes DISA's own files do not happen to have (an ident of another system, a CCI
under another system, a first check without check text)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from stigscap.evaluator.results.arf_reader import read_stig
from stigscap.generator.disa_xccdf import read_disa_benchmark
from stigscap.schemas.disa_xccdf import normalize_text
from tests.conftest import shared_file

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "disa_mini_v2r3.xml"
X11 = "http://checklists.nist.gov/xccdf/1.1"

SHARED_STIGS = [
    ("samples", "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R5_Manual-xccdf.xml"),
    ("samples", "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R6_Manual-xccdf.xml"),
    ("samples", "exchange-family", "U_MS_Exchange_2016_Edge_Transport_Server_STIG_V2R6_Manual-xccdf.xml"),
    ("samples", "exchange-family", "U_MS_Exchange_2016_Mailbox_Server_STIG_V2R6_Manual-xccdf.xml"),
    ("samples", "exchange-family", "U_MS_Exchange_2019_Edge_Server_STIG_V2R2_Manual-xccdf.xml"),
]
TEXTS = ("group_title", "version", "title", "discussion", "check_content", "fix_text")


def assert_same_facts(path: Path) -> int:
    content = read_disa_benchmark(path)      # generator's view
    stig = read_stig(path)                   # the checklists' view
    assert (content.id, content.version, content.release_info) == (
        stig.stig_id, stig.version, normalize_text(stig.release_info))
    assert (content.title, content.description) == (
        normalize_text(stig.title), normalize_text(stig.description))
    assert [r.rule_id for r in content.rules] == [r.rule_id for r in stig.rules]
    assert content.dpms_identifier == stig.rules[0].target_key
    for c, s in zip(content.rules, stig.rules):
        assert (c.group_id, c.rule_id, c.severity, c.weight) == (
            s.group_id, s.rule_id, s.severity, float(s.weight)), c.rule_id
        for name in TEXTS:
            assert getattr(c, name) == normalize_text(getattr(s, name)), (c.rule_id, name)
        assert (c.ccis, c.legacy_ids) == (s.ccis, s.legacy_ids), c.rule_id
    return len(content.rules)


def test_fixture_seen_alike():
    assert assert_same_facts(FIXTURE) == 8


@pytest.mark.parametrize("parts", SHARED_STIGS, ids=lambda p: p[-1].split("_STIG_")[0][2:])
def test_published_stigs_seen_alike(parts):
    assert assert_same_facts(shared_file(*parts)) > 60


def test_shapes_the_readers_used_to_disagree_on(tmp_path):
    """The fixture's V-1008 with an ident of another system (a CVE: neither CCI nor legacy id),
    a CCI written under another system, and a first check without check text."""
    tree = etree.parse(str(FIXTURE))
    ns = {"x": X11}
    rule = tree.find("x:Group[@id='V-1008']/x:Rule", ns)
    fixtext = rule.find("x:fixtext", ns)
    for system, value in (("urn:example:cve", "CVE-2020-0001"),
                          ("http://example.org/cci", "CCI-000366")):
        ident = etree.Element(f"{{{X11}}}ident", system=system)
        ident.text = value
        fixtext.addprevious(ident)
    empty = etree.Element(f"{{{X11}}}check", system="C-0000r0_chk")
    etree.SubElement(empty, f"{{{X11}}}check-content-ref", name="M", href="x.xml")
    rule.find("x:check", ns).addprevious(empty)
    path = tmp_path / "variant-xccdf.xml"
    tree.write(str(path), xml_declaration=True, encoding="UTF-8")

    assert assert_same_facts(path) == 8
    c = read_disa_benchmark(path).rule("V-1008")
    assert c.ccis == ["CCI-001348", "CCI-000366"]
    assert c.legacy_ids == ["SV-1234", "V-567"]
    assert c.check_content.startswith("Review the Email Domain Security Plan (EDSP).")
