"""Findings name exactly the offending objects (rules whose meaning is "no object may satisfy
X"), end to end: `stigscap run` table, ARF instances, CKL FINDING_DETAILS and HTML report.

The exports are the built-in example's (Exchange's own CLIXML, UTF-16 or UTF-8) with one offender
each: one Receive connector whose PermissionGroups include AnonymousUsers (EX13-EG-000245,
state entity_check "none satisfy") among compliant ones, and an enabled transport agent named
'Malware Agent' (EX13-EG-003010, check_existence any_exist) among other enabled agents.
"""

from __future__ import annotations

import os
import shutil

import pytest
from lxml import etree, html

from stigscap.evaluator.collect.offline import example_exports_dir
from tests.cli_helpers import stigscap

HOST = "edge01.perimeter.example.mil"
X = "{http://checklists.nist.gov/xccdf/1.2}"
ANON = "Legacy relay EDGE01"
RULES = {  # STIG id → (rule id, offender, the other objects of the same cmdlet)
    "EX13-EG-000245": ("SV-84515r1_rule", ANON, ["Default internal receive connector EDGE01",
                                                 "Default Frontend EDGE01 partner TLS",
                                                 "Anonymous test EDGE01"]),
    "EX13-EG-003010": ("SV-84559r1_rule", "Malware Agent", ["Connection Filtering Agent",
                                                            "Edge Rule Agent",
                                                            "Content Filter Agent"]),
}


def _edit_utf16(path, old, new, count=1):
    """Edit an export in its own encoding (UTF-16LE or, exported with -Encoding UTF8, UTF-8;
    both with BOM)."""
    raw = path.read_bytes()
    codec = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-16"
    text = raw.decode(codec)
    assert text.count(old) == count, (path.name, old)
    path.write_bytes(text.replace(old, new).encode(codec))


@pytest.fixture(scope="module")
def offenders(tmp_path_factory):
    src = tmp_path_factory.mktemp("exports")
    for f in example_exports_dir().glob("*.xml"):
        shutil.copy(f, src / f.name)
    # the 'Legacy relay' connector (ExchangeUsers) now also admits anonymous users
    # (ToString and the flags value together: Exchange writes both, and a mismatch is an error)
    _edit_utf16(src / "Get-ReceiveConnector.xml",
                "<ToString>ExchangeUsers</ToString>\r\n        <I32>2</I32>",
                "<ToString>AnonymousUsers, ExchangeUsers</ToString>\r\n        <I32>3</I32>")
    # one of the enabled agents is the built-in Malware Agent (object and Identity)
    _edit_utf16(src / "Get-TransportAgent.xml", "Attachment Filtering Agent", "Malware Agent",
                count=2)
    out = tmp_path_factory.mktemp("run") / "out"
    # which Receive connectors are internal is organization-defined (issue 14): this site
    # declares all four internal
    run = stigscap("run", "--from", src, "--output", out,
                   "--set-value", "receive_connector_internal_names=.*",
                   env=dict(os.environ, SOURCE_DATE_EPOCH="1764300000"))
    assert run.rc == 2, run.err
    return run, out


def _table_rows(stdout: str, stig_id: str) -> list[tuple[str, str]]:
    """(object, verdict) of the run table's rows for one STIG id."""
    rows = []
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) > 5 and cells[1] == stig_id:
            rows.append((cells[3], cells[5]))
    return rows


@pytest.mark.parametrize("stig_id", sorted(RULES))
def test_run_table_marks_only_the_offender(offenders, stig_id):
    run, _ = offenders
    _rule, offender, others = RULES[stig_id]
    rows = _table_rows(run.out, stig_id)
    failing = [obj for obj, verdict in rows if verdict == "fail"]
    assert len(failing) == 1 and failing[0].endswith(offender), rows
    for other in others:
        assert all(verdict == "pass" for obj, verdict in rows if obj.endswith(other)), rows


@pytest.mark.parametrize("stig_id", sorted(RULES))
def test_arf_instances_and_messages_name_only_the_offender(offenders, stig_id):
    _, out = offenders
    rule_id, offender, others = RULES[stig_id]
    root = etree.parse(str(out / f"{HOST}-arf.xml")).getroot()
    (rr,) = [r for r in root.iter(f"{X}rule-result") if r.get("idref").endswith(rule_id)]
    assert rr.findtext(f"{X}result") == "fail"
    instances = [i.text for i in rr.iter(f"{X}instance")]
    assert len(instances) == 1 and instances[0].endswith(offender)
    messages = " ".join(m.text for m in rr.iter(f"{X}message"))
    assert offender in messages
    assert not [o for o in others if o in messages]


@pytest.mark.parametrize("stig_id", sorted(RULES))
def test_ckl_finding_details_mark_only_the_offender(offenders, stig_id):
    _, out = offenders
    _rule, offender, others = RULES[stig_id]
    ckl = etree.parse(str(out / f"{HOST}.ckl"))
    (vuln,) = [v for v in ckl.iter("VULN") if any(
        s.findtext("VULN_ATTRIBUTE") == "Rule_Ver" and s.findtext("ATTRIBUTE_DATA") == stig_id
        for s in v.iter("STIG_DATA"))]
    assert vuln.findtext("STATUS") == "Open"
    details = vuln.findtext("FINDING_DETAILS")
    fail_lines = [ln for ln in details.splitlines() if "[FAIL]" in ln]
    assert len(fail_lines) == 1 and offender in fail_lines[0], details
    instances = [ln for ln in details.splitlines() if ln.startswith("Failing instances:")]
    assert len(instances) == 1 and instances[0].endswith(offender)
    for other in others:
        assert any("[ok]" in ln and other in ln for ln in details.splitlines()), other
        assert not any(other in ln for ln in details.splitlines() if ln.startswith("- ")
                       and "[" not in ln[:4]), other


@pytest.mark.parametrize("stig_id", sorted(RULES))
def test_html_report_lists_only_the_offender(offenders, stig_id):
    _, out = offenders
    rule_id, offender, others = RULES[stig_id]
    doc = html.fromstring((out / f"{HOST}-report.html").read_text())
    (finding,) = doc.xpath(f"//div[@class='finding'][@data-rule='{rule_id}']")
    items = [r.text_content() for r in finding.xpath(".//tr[@class='failing-item']")]
    assert len(items) == 1 and offender in items[0], items
    text = finding.text_content()
    assert not [o for o in others if o in text]
