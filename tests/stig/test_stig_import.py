"""`stigscap import-stig`: drafting the common check-text forms, never overwriting authored
content, and reporting what changed between releases."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from stigscap.content.loader import load_model
from stigscap.content.model import Rule
from stigscap.generator.disa_xccdf import read_disa_benchmark
from stigscap.generator.import_stig import _expectation, compare_rules, draft_rule
from tests.cli_helpers import assert_one_line_error, stigscap
from tests.conftest import shared_file

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "disa_mini_v2r3.xml"
REPO = HERE.parents[1]
V1R5 = ("samples", "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R5_Manual-xccdf.xml")
V1R6 = ("samples", "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R6_Manual-xccdf.xml")


@pytest.fixture(scope="module")
def mini():
    return read_disa_benchmark(FIXTURE)


def _fields(rule: Rule):
    return [(t.object.cmdlet, f.property, f.datatype, f.operation, f.value, f.value_ref)
            for t in rule.check.tests for f in t.state.fields]


@pytest.mark.parametrize("text, expected", [
    ("True", ("true", "equals", "boolean")),
    ("$false", ("false", "equals", "boolean")),
    ("Unlimited", ("Unlimited", "equals", "string")),
    ("00:05:00", ("00:05:00", "equals", "string")),
    ("20", ("20", "equals", "string")),
    ("10 or less", ("10", "less than or equal", "int")),
    ("5 or greater", ("5", "greater than or equal", "int")),
    ("10MB", (r"^10 MB \(10,485,760 bytes\)$", "pattern match", "string")),
    ("Reject", ("Reject", "equals", "string")),
    ("Tls, BasicAuth, BasicAuthRequireTLS", ("Tls, BasicAuth, BasicAuthRequireTLS", "equals", "string")),
])
def test_expected_value_forms(text, expected):
    e = _expectation("P", text)
    assert (e.value, e.operation, e.datatype) == expected


def test_unsure_forms_are_not_guessed():
    assert _expectation("P", "the value of the internal <'SMTP Domain'>") is None
    assert _expectation("P", "10MB or less") is None  # size threshold: by hand
    assert _expectation("P", "25:00:00 or less") is None  # not a time of day


def test_timespan_threshold_becomes_a_pattern():
    e = _expectation("TarpitInterval", "00:00:05 or greater")
    assert (e.operation, e.datatype) == ("pattern match", "string")
    assert re.search(e.value, "00:00:05") and re.search(e.value, "1.00:00:00")
    assert not re.search(e.value, "00:00:04.9000000") and not re.search(e.value, "-00:01:00")


def test_drafts_of_fixture_forms(mini):
    d = {r.group_id: draft_rule(r) for r in mini.rules}
    assert _fields(d["V-1001"]) == [("Get-ReceiveConnector", "DomainSecureEnabled", "boolean", "equals", "true", None)]
    assert d["V-1001"].check.tests[0].object.select == ["Name", "Identity", "DomainSecureEnabled"]
    assert d["V-1001"].check.tests[0].object.module == "Microsoft.Exchange.Management.PowerShell.SnapIn"
    assert _fields(d["V-1002"]) == [("Get-TransportService", "TransientFailureRetryCount", "int",
                                     "less than or equal", "10", None)]
    assert "int comparison" in d["V-1002"].review
    # EDSP risk acceptance: a tailorable Value with the STIG's default
    assert _fields(d["V-1003"]) == [("Get-ReceiveConnector", "ConnectionTimeout", "string", "equals",
                                     None, "receive_connector_connectiontimeout")]
    v = d["V-1003"].values[0]
    assert (v.default_value(), v.site_must_set) == ("00:05:00", False)
    # "| fl Property" and a size
    assert _fields(d["V-1004"]) == [("Get-TransportConfig", "MaxSendSize", "string", "pattern match",
                                     r"^10 MB \(10,485,760 bytes\)$", None)]
    assert _fields(d["V-1005"])[0][2:5] == ("boolean", "equals", "false")
    # organization-defined: a Value the site must set, whose placeholder matches nothing
    v = d["V-1006"].values[0]
    assert v.site_must_set and v.id == "send_connector_tlsdomain"
    assert "organization-defined" in d["V-1006"].review
    # not understood / no cmdlet: manual, with the reason
    for gid in ("V-1007", "V-1008"):
        assert d[gid].check is None and d[gid].review.startswith("manual: ")
    assert "no Get-* cmdlet" in d["V-1008"].review
    for r in d.values():
        assert r.review  # every draft asks for review
        Rule.model_validate(r.model_dump())


def test_draft_v1r5_recognises_the_plain_form():
    b = read_disa_benchmark(shared_file(*V1R5))
    drafts = [draft_rule(r) for r in b.rules]
    plain = {r.version for r in b.rules
             if re.search(r"if the value (of|for) \w+ is not set to", r.check_content, re.I)}
    drafted = {d.version for d in drafts if d.check}
    # every plain "if the value of X is not set to Y" rule is drafted
    assert len(plain) >= 24
    assert plain <= drafted
    tarpit = next(d for d in drafts if d.version == "EX13-EG-000240")
    assert "TimeSpan greater than or equal 00:00:05" in tarpit.review
    no_cmdlet = [d for d in drafts if d.review == "manual: the check text runs no Get-* cmdlet"]
    assert len(no_cmdlet) == 10
    # the seed rule's draft agrees with the authored check on what is collected and compared
    seed = next(d for d in drafts if d.rule_id == "SV-84553r1_rule")
    assert _fields(seed) == [("Get-ReceiveConnector", "AuthMechanism", "string", "equals", "Tls", None)]


def test_cli_writes_drafts_and_never_overwrites_authored_files(tmp_path):
    out = tmp_path / "rules"
    run = stigscap("import-stig", FIXTURE, "--output", out)
    assert run.rc == 0, run.err
    assert "wrote 8 rule files" in run.out and "drafted 6 of 8" in run.out
    assert sorted(p.name for p in out.glob("*.yaml")) == [f"TEST-00-0000{i}0.yaml" for i in range(1, 9)]
    for p in out.glob("*.yaml"):
        load_model(p, Rule)
    authored = out / "TEST-00-000010.yaml"
    authored.write_text(authored.read_text().replace("verify the drafted check", "AUTHORED"))
    before = {p.name: p.read_bytes() for p in out.glob("*.yaml")}
    run = stigscap("import-stig", FIXTURE, "--output", out, "--drafts", tmp_path / "d")
    assert run.rc == 0, run.err
    assert "wrote 0 rule files" in run.out and "8 drafts of existing rules" in run.out
    assert {p.name: p.read_bytes() for p in out.glob("*.yaml")} == before
    assert len(list((tmp_path / "d").glob("*.yaml"))) == 8
    assert "changes content" in run.out and "0 changed, 0 added, 0 removed, 8 unchanged" in run.out
    run = stigscap("import-stig", FIXTURE, "--output", out, "--force")
    assert run.rc == 0 and "wrote 8 rule files" in run.out
    assert "AUTHORED" not in authored.read_text()


def _next_release(tmp_path: Path) -> Path:
    """The fixture's next release: one check text changed, one rule re-numbered, one removed."""
    text = FIXTURE.read_bytes().decode("utf-8")
    text = text.replace("is not set to 10 or less", "is not set to 5 or less")
    text = text.replace('Release: 3 Benchmark Date: 05 Feb 2021', 'Release: 4 Benchmark Date: 01 Jan 2022')
    text = text.replace('"SV-2005r1_rule"', '"SV-2005r2_rule"')
    start = text.index('<Group id="V-1008">')
    text = text[:start] + text[text.index("</Group>", start) + len("</Group>"):]
    p = tmp_path / "disa_mini_v2r4.xml"
    p.write_bytes(text.encode("utf-8"))
    return p


def test_change_report_between_fixture_releases(tmp_path):
    new = _next_release(tmp_path)
    ch = {c.stig_id: c for c in compare_rules(list(read_disa_benchmark(FIXTURE).rules),
                                               list(read_disa_benchmark(new).rules))}
    assert ch["TEST-00-000020"].kind == "changed"
    assert any(d.startswith("check text") for d in ch["TEST-00-000020"].details)
    assert ch["TEST-00-000050"].details == ("rule id SV-2005r1_rule -> SV-2005r2_rule",)
    assert ch["TEST-00-000080"].kind == "removed"
    assert sum(c.kind == "same" for c in ch.values()) == 5
    run = stigscap("import-stig", new, "--previous", FIXTURE, "--report-only", "--output", tmp_path / "r")
    assert run.rc == 0, run.err
    assert "changes V2R3 -> V2R4: 2 changed, 0 added, 1 removed, 5 unchanged" in run.out
    assert not (tmp_path / "r").exists()


def test_change_report_v1r5_to_v1r6():
    old, new = shared_file(*V1R5), shared_file(*V1R6)
    ch = compare_rules(list(read_disa_benchmark(old).rules), list(read_disa_benchmark(new).rules))
    assert len(ch) == 63 and all(c.kind == "changed" for c in ch)  # every rule got new ids
    seed = next(c for c in ch if c.stig_id == "EX13-EG-000340")
    assert seed.details == ("group id V-69931 -> V-234760",
                            "rule id SV-84553r1_rule -> SV-234760r961632_rule")
    text_changed = [c.stig_id for c in ch if any(d.startswith("check text") for d in c.details)]
    assert text_changed == ["EX13-EG-000350"]
    run = stigscap("import-stig", new, "--previous", old, "--report-only")
    assert run.rc == 0, run.err
    assert "changes V1R5 -> V1R6: 63 changed, 0 added, 0 removed, 0 unchanged" in run.out
    assert ("EX13-EG-000350: group id V-69935 -> V-234762; rule id SV-84557r1_rule -> "
            "SV-234762r991683_rule; check text ") in run.out


def test_v1r6_against_authored_content_keeps_content(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "content" / "rules", rules)
    before = {p.name: p.read_bytes() for p in rules.glob("*.yaml")}
    run = stigscap("import-stig", shared_file(*V1R6), "--output", rules)
    assert run.rc == 0, run.err
    assert "63 changed, 0 added, 0 removed" in run.out
    assert "wrote 0 rule files" in run.out and "63 drafts of existing rules" in run.out
    assert {p.name: p.read_bytes() for p in rules.glob("*.yaml")} == before
    assert len(list((tmp_path / "drafts").glob("*.yaml"))) == 63


def test_bad_input_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<Benchmark")
    assert_one_line_error(stigscap("import-stig", bad, "--output", tmp_path / "o"), "bad.xml", "not well-formed")
    assert_one_line_error(stigscap("import-stig", tmp_path / "none.xml"), "cannot read file")
    assert not (tmp_path / "o").exists()
