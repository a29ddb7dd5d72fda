"""DISA manual XCCDF 1.1 reader: facts from the samples (V1R5, V1R6) and from our own fixture."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from stigscap.content.loader import load_content
from stigscap.generator.disa_xccdf import read_disa_benchmark
from stigscap.schemas.errors import StigscapError

from tests.conftest import shared_file

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "disa_mini_v2r3.xml"
REPO = HERE.parents[1]
V1R5 = ("samples", "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R5_Manual-xccdf.xml")
V1R6 = ("samples", "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R6_Manual-xccdf.xml")
DISA_FACTS = ("group_id", "group_title", "rule_id", "version", "severity", "weight", "title",
              "discussion", "check_content", "check_id", "fix_text", "fix_id", "ccis", "legacy_ids")


def test_fixture_benchmark_facts():
    assert FIXTURE.read_bytes().startswith(b"\xef\xbb\xbf<?xml")  # BOM kept in the fixture
    b = read_disa_benchmark(FIXTURE)
    assert (b.id, b.version, b.release) == ("Contoso_Mail_Relay_STIG", "2", 3)
    assert b.benchmark_date == dt.date(2021, 2, 5)
    assert (b.status, b.status_date) == ("accepted", dt.date(2021, 2, 3))
    assert b.release_info == "Release: 3 Benchmark Date: 05 Feb 2021"
    assert (b.publisher, b.source) == ("DISA", "STIG.DOD.MIL")
    assert (b.dpms_target, b.dpms_identifier) == ("Contoso Mail Relay", "9001")
    assert [p.id for p in b.profiles] == ["MAC-1_Classified", "MAC-3_Public"]
    assert b.profiles[0].selected == tuple(f"V-100{i}" for i in range(1, 9))
    assert len(b.rules) == 8


def test_fixture_rule_facts_and_encoded_description():
    b = read_disa_benchmark(FIXTURE)
    r = b.rule("SV-2001r1_rule")
    assert r is b.rule("V-1001") is b.rule("TEST-00-000010")
    assert r.group_title == "SRG-APP-000001"
    assert r.severity == "medium" and r.weight == 10.0
    # escaped <VulnDiscussion>, CRLF and trailing blanks normalised
    assert r.discussion == ("Domain security protects mail between partner domains.\n\n"
                            "Without it, mail can be read.")
    assert r.check_id == "C-3001r1_chk" and r.fix_id == "F-4001r1_fix"
    assert "Get-ReceiveConnector | Select Name, Identity, DomainSecureEnabled" in r.check_content
    assert r.fix_text == "Set-ReceiveConnector -Identity <'IdentityName'> -DomainSecureEnabled $true"
    assert r.ccis == ["CCI-001368"] and r.legacy_ids == []
    assert r.check is None
    assert b.rule("V-1002").discussion == "Retries consume resources & may be abused."
    legacy = b.rule("SV-2008r1_rule")
    assert legacy.ccis == ["CCI-001348"] and legacy.legacy_ids == ["SV-1234", "V-567"]


def test_unknown_rule_and_bad_files(tmp_path):
    b = read_disa_benchmark(FIXTURE)
    with pytest.raises(StigscapError, match="no rule 'SV-1r1_rule'"):
        b.rule("SV-1r1_rule")
    wrong = tmp_path / "x.xml"
    wrong.write_text('<?xml version="1.0"?><Benchmark xmlns="urn:other"/>')
    with pytest.raises(StigscapError, match="not a DISA XCCDF 1.1 benchmark"):
        read_disa_benchmark(wrong)
    broken = tmp_path / "b.xml"
    broken.write_bytes(FIXTURE.read_bytes()[:500])
    with pytest.raises(StigscapError, match="not well-formed"):
        read_disa_benchmark(broken)
    dtd = tmp_path / "d.xml"
    dtd.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>')
    with pytest.raises(StigscapError, match="DTD"):
        read_disa_benchmark(dtd)


def test_v1r5_facts_match_authored_seed_rule():
    b = read_disa_benchmark(shared_file(*V1R5))
    assert (b.id, b.version, b.release, b.benchmark_date) == (
        "MS_Exchange_2013_Edge_STIG", "1", 5, dt.date(2019, 4, 26))
    assert (b.status, b.status_date) == ("accepted", dt.date(2019, 3, 11))
    assert len(b.rules) == 63 and len(b.profiles) == 9
    disa = b.rule("SV-84553r1_rule")
    authored = load_content(REPO / "content").rule("SV-84553r1_rule")
    for name in DISA_FACTS:
        assert getattr(disa, name) == getattr(authored, name), name
    bench = load_content(REPO / "content").benchmark
    assert (bench.id, bench.title, bench.description) == (b.id, b.title, b.description)
    assert bench.release_info == b.release_info
    assert [p.id for p in bench.profiles] == [p.id for p in b.profiles]
    assert [p.title for p in bench.profiles] == [p.title for p in b.profiles]
    assert (bench.dpms_target, bench.dpms_identifier) == (b.dpms_target, b.dpms_identifier)


def test_v1r6_seed_rule_has_new_ids_and_legacy_ids():
    b = read_disa_benchmark(shared_file(*V1R6))
    assert (b.release, b.benchmark_date, b.status_date) == (6, dt.date(2024, 7, 24), dt.date(2024, 6, 10))
    r = b.rule("EX13-EG-000340")
    assert (r.group_id, r.rule_id) == ("V-234760", "SV-234760r961632_rule")
    assert r.legacy_ids == ["SV-84553", "V-69931"]
    assert r.ccis == ["CCI-002418"]
    assert r.severity == "high"
    assert len(b.rules) == 63


def test_v1r6_rule_with_authored_check():
    from stigscap.generator.disa_xccdf import benchmark_with_disa_facts, with_disa_facts
    content = load_content(REPO / "content")
    b = read_disa_benchmark(shared_file(*V1R6))
    merged = with_disa_facts(b.rule("SV-234760r961632_rule"), content.rules)
    seed = content.rule("SV-84553r1_rule")
    assert merged.authored == seed and not merged.check_text_changed
    r = merged.rule
    assert (r.group_id, r.rule_id, r.legacy_ids) == ("V-234760", "SV-234760r961632_rule",
                                                      ["SV-84553", "V-69931"])
    assert r.check == seed.check and r.values == seed.values and r.nist == seed.nist
    assert r.fix_id == "F-37909r616919_fix"
    # V1R6 rewrote EX13-EG-000350's check ("Exchange 2013 is no longer supported"): the V1R5
    # check (approved build) must not judge it, so a rule without a check authored for the new
    # text becomes manual unless asked
    authored350 = content.rule("EX13-EG-000350")
    unrevised = [authored350.model_copy(update={"revisions": []})]
    m350 = with_disa_facts(b.rule("EX13-EG-000350"), unrevised)
    assert m350.check_text_changed and m350.rule.check is None and not m350.rule.values
    assert m350.rule.review.startswith("manual: the STIG's check text changed")
    kept = with_disa_facts(b.rule("EX13-EG-000350"), unrevised, keep_changed_checks=True)
    assert kept.rule.check == authored350.check
    # issue 14: the content reads V1R6's text as an automatic finding on every Exchange 2013
    # server (its revision for SV-234762r991683_rule), not as manual
    revised = with_disa_facts(b.rule("EX13-EG-000350"), content.rules)
    assert revised.check_text_changed and revised.rule.review is None
    assert revised.rule.check == authored350.revisions[0].check and not revised.rule.values
    assert revised.rule.check.tests[0].check == "none satisfy"
    assert "automatic finding" in revised.rule.reading
    bench = benchmark_with_disa_facts(content.benchmark, b)
    assert (bench.release, bench.benchmark_date) == (6, dt.date(2024, 7, 24))
    assert bench.title == "Microsoft Exchange 2013 Edge Transport Server Security Technical Implementation Guide"
    assert bench.platform == content.benchmark.platform


def test_matching_by_legacy_ids_only():
    from stigscap.generator.disa_xccdf import find_authored
    b = read_disa_benchmark(FIXTURE)
    legacy = b.rule("SV-2008r1_rule")  # legacy ids SV-1234, V-567
    old = legacy.model_copy(update={"group_id": "V-567", "rule_id": "SV-1234r3_rule",
                                    "version": "OLD-ID", "legacy_ids": []})
    assert find_authored(legacy, [b.rule("V-1001"), old]) is old
    assert find_authored(b.rule("V-1001"), [old]) is None
