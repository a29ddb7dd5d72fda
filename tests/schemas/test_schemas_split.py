"""Two-thread XSD validation of large data streams gives the verdicts of one whole-document run."""

from __future__ import annotations

from pathlib import Path

import pytest

from stigscap.schemas.validate import check_file

FIXTURES = Path(__file__).with_name("fixtures")
MINI = (FIXTURES / "mini-ds.xml").read_text(encoding="utf-8")

SINGLE_ERRORS = {
    "oval-content": ("<win-def:verb>Get</win-def:verb>", "<win-def:verb>Set</win-def:verb>"),
    "component-attribute": ('id="scap_mil.disa.stig_comp_test-cpe-dictionary.xml" timestamp="2024-01-01T00:00:00"',
                            'id="scap_mil.disa.stig_comp_test-cpe-dictionary.xml" timestamp="yesterday"'),
    "xccdf-content": ('<xccdf:status date="2024-01-01">accepted</xccdf:status>',
                      '<xccdf:status date="2024-01-01">accepted</xccdf:status><xccdf:bogus/>'),
    "datastream-attribute": ('use-case="CONFIGURATION"\n      timestamp="2024-01-01T00:00:00"',
                             'use-case="CONFIGURATION"\n      timestamp="soon"'),
    "duplicate-component-id": ('id="scap_mil.disa.stig_comp_test-oval.xml" timestamp',
                               'id="scap_mil.disa.stig_comp_test-xccdf.xml" timestamp'),
    "duplicate-id-across-parts": ('<xccdf:Profile id="xccdf_mil.disa.stig_profile_MAC-1_Classified">',
                                  '<xccdf:Profile id="xccdf_mil.disa.stig_profile_MAC-1_Classified" '
                                  'Id="scap_mil.disa.stig_comp_test-oval.xml">'),
    "cpe-content": ('<cpe-item name="cpe:/a:microsoft:exchange_server:2013">', '<cpe-item name="not a cpe">'),
}


def _where(result):
    return sorted((p.line, p.path, p.rule) for p in result.problems)


@pytest.mark.parametrize("case", sorted(SINGLE_ERRORS))
def test_split_matches_whole_document(schema_dir, tmp_path, case):
    old, new = SINGLE_ERRORS[case]
    assert old in MINI
    p = tmp_path / "ds.xml"
    p.write_text(MINI.replace(old, new, 1), encoding="utf-8")
    whole = check_file(p, parallel=False, semantic_checks=False)
    split = check_file(p, parallel=True, semantic_checks=False)
    assert not whole.valid
    assert _where(split) == _where(whole)


def test_split_on_valid_fixture_and_ssg(schema_dir):
    assert check_file(FIXTURES / "mini-ds.xml", parallel=True, requirements=False).problems == []
    ssg = Path("/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml")
    if not ssg.exists():
        pytest.skip("SSG debian11 stream not installed")
    whole = check_file(ssg, parallel=False, semantic_checks=False)
    split = check_file(ssg, parallel=True, semantic_checks=False)
    assert whole.problems == [] and split.problems == []


def test_split_on_broken_large_stream(schema_dir, tmp_path):
    ssg = Path("/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml")
    if not ssg.exists():
        pytest.skip("SSG debian11 stream not installed")
    text = ssg.read_text(encoding="utf-8")
    broken = text.replace('check="all"', 'check="most"', 1).replace(
        "<xccdf-1.2:title", "<xccdf-1.2:titel", 1).replace("</xccdf-1.2:title>", "</xccdf-1.2:titel>", 1)
    p = tmp_path / "broken-ds.xml"
    p.write_text(broken, encoding="utf-8")
    whole = check_file(p, parallel=False, semantic_checks=False)
    split = check_file(p, parallel=True, semantic_checks=False)
    assert len(whole.problems) >= 2
    assert _where(split) == _where(whole)
