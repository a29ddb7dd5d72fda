"""`stigscap report`: one self-contained HTML file, checked in headless Chromium."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter

import pytest
from click.testing import CliRunner
from lxml import etree, html

from stigscap.evaluator.cli.main import main
from tests.conftest import require_tool

X12 = "http://checklists.nist.gov/xccdf/1.2"
CKL = {"pass": "NotAFinding", "fixed": "NotAFinding", "fail": "Open",
       "notapplicable": "Not_Applicable"}


def chromium(tmp_path, page, *extra, fragment: str = "") -> subprocess.CompletedProcess:
    exe = require_tool("chromium")
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *extra,
         page.as_uri() + fragment], capture_output=True, text=True, timeout=120)


def console_errors(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines()
            if "CONSOLE" in ln and re.search(r"Uncaught|Error|Refused|violat", ln)]


def arf_statuses(*arfs) -> dict[tuple[str, str], str]:
    out = {}
    for a in arfs:
        for tr in etree.parse(str(a)).getroot().iter(f"{{{X12}}}TestResult"):
            host = tr.findtext(f"{{{X12}}}target")
            for rr in tr.iter(f"{{{X12}}}rule-result"):
                out[(host, rr.get("idref"))] = CKL.get(rr.findtext(f"{{{X12}}}result"),
                                                       "Not_Reviewed")
    return out


@pytest.fixture
def report(arf_fleet, tmp_path):
    out = tmp_path / "report.html"
    res = CliRunner().invoke(main, ["report", str(arf_fleet), "-o", str(out),
                                    "--timestamp", "2026-11-28T04:00:00Z"])
    assert res.exit_code == 0, res.output
    return out


def test_report_is_self_contained(report):
    text = report.read_text()
    doc = html.fromstring(text)
    for el in doc.iter():
        for attr in ("src", "href", "data", "action", "srcset"):
            v = el.get(attr)
            assert v is None or v.startswith("#"), (el.tag, attr, v)
    assert not doc.xpath("//link | //iframe | //object | //embed | //img")
    assert "url(" not in text and "@import" not in text
    assert doc.xpath("//svg") and doc.xpath("//style")
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert csp and "default-src 'none'" in csp[0]


def test_report_in_chromium_shows_the_arf_numbers(report, arf_fleet, tmp_path):
    proc = chromium(tmp_path, report, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert console_errors(proc.stderr) == []
    dom = html.fromstring(proc.stdout)
    want = arf_statuses(arf_fleet)
    counts = Counter(want.values())
    # the page's own script ran and counted the cells of the rule table
    check = dom.get_element_by_id("dom-check")
    assert check.get("data-cells") == str(len(want))
    assert json.loads(check.get("data-counts")) == dict(counts)
    assert check.get("data-findings") == str(counts["Open"])
    assert check.get("data-matrix-cells") == str(len(want))
    # the summary numbers and the per-host table equal the ARF
    shown = {b.get("data-status"): int(b.text_content()) for b in dom.find_class("count")}
    assert shown == {s: counts.get(s, 0) for s in shown} and len(shown) == 4
    for host in ("EDGE01", "EDGE02"):
        row = dom.xpath(f"//section[@id='hosts']//tr[@data-host='{host}']")[0]
        per = {td.get("data-status"): int(td.text_content())
               for td in row.xpath("td[@data-status]")}
        assert per == {s: sum(1 for (h, _r), v in want.items() if h == host and v == s)
                       for s in per}
    # per-rule cells carry each host's status
    for (host, idref), status in want.items():
        rid = idref.split("_rule_", 1)[1]
        cell = dom.xpath(f"//section[@id='rules']//tr[@data-rule='{rid}']"
                         f"//span[@data-host='{host}']")
        assert cell and cell[0].get("data-status") == status, (host, rid)
    # the failing connectors with their values and the fix command
    finding = dom.xpath("//div[@class='finding'][@data-host='EDGE01']")[0]
    cells = [c.text_content() for c in finding.xpath(".//tr[@class='failing-item']/td")]
    assert "EDGE01\\Default internal receive connector EDGE01" in cells and "None" in cells
    assert "Tls, ExchangeServer" in cells and "EDGE01\\Secure EDGE01" not in cells
    fixes = [p.text_content() for p in finding.xpath(".//pre[@class='fix']")]
    assert ("Set-ReceiveConnector -Identity 'EDGE01\\Default EDGE01' -AuthMechanism 'Tls'"
            in fixes)


def test_console_error_detection_works(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>nosuchfunction();</script></body></html>")
    proc = chromium(tmp_path, page, "--dump-dom")
    assert console_errors(proc.stderr), proc.stderr[-2000:]


def test_report_screenshot_renders(report, tmp_path):
    shot = tmp_path / "report.png"
    proc = chromium(tmp_path, report, f"--screenshot={shot}", "--window-size=1300,1400")
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000


def test_large_fleet_report_shows_counts_per_rule(kit, tmp_path):
    hosts = [kit.Host(f"EDGE{i:02d}", f"192.0.2.{100 + i}", f"00:15:5D:00:01:{i:02X}",
                      {"SV-84553r1_rule": "fail" if i % 3 == 0 else "pass",
                       "SV-84405r1_rule": "notapplicable" if i % 2 else "pass"},
                      [(f"Default EDGE{i:02d}", f"EDGE{i:02d}\\Default EDGE{i:02d}",
                        "None" if i % 3 == 0 else "Tls")]) for i in range(30)]
    arf = tmp_path / "fleet30.xml"
    arf.write_bytes(kit.make_arf(hosts))
    out = tmp_path / "fleet30.html"
    assert CliRunner().invoke(main, ["report", str(arf), "-o", str(out)]).exit_code == 0
    proc = chromium(tmp_path, out, "--dump-dom")
    assert proc.returncode == 0 and console_errors(proc.stderr) == []
    dom = html.fromstring(proc.stdout)
    check = dom.get_element_by_id("dom-check")
    want = Counter(arf_statuses(arf).values())
    assert check.get("data-cells") == "90" and check.get("data-matrix-cells") == "0"
    assert json.loads(check.get("data-counts")) == dict(want)
    seed = dom.xpath("//section[@id='rules']//tr[@data-rule='SV-84553r1_rule']")[0]
    assert {td.get("data-status"): int(td.text_content())
            for td in seed.xpath("td[@data-status]")} == {
        "NotAFinding": 20, "Open": 10, "Not_Applicable": 0, "Not_Reviewed": 0}
    assert len(dom.xpath("//div[@class='finding']")) == 10


def test_report_bad_input_is_one_line_error_without_output(kit, tmp_path):
    bad = tmp_path / "not-arf.xml"
    bad.write_text(kit.benchmark_xml())
    out = tmp_path / "r.html"
    res = CliRunner().invoke(main, ["report", str(bad), "-o", str(out)])
    assert res.exit_code == 1 and len(res.output.strip().splitlines()) == 1
    assert "not an ARF" in res.output and not out.exists()


def _rules_with(want, statuses, severity=None, severities=None):
    """Rule ids whose status on any host is one of `statuses` (and of `severity`)."""
    rules = {idref.split("_rule_", 1)[1] for (_h, idref), st in want.items() if st in statuses}
    if severity:
        rules = {r for r in rules if severities[r] == severity}
    return rules


@pytest.mark.parametrize("fragment, statuses, severity", [
    ("", ("NotAFinding", "Open", "Not_Applicable", "Not_Reviewed"), None),
    ("#status=Open", ("Open",), None),
    ("#status=Open,Not_Reviewed&severity=high", ("Open", "Not_Reviewed"), "high"),
])
def test_filters_show_the_rules_they_select(report, arf_fleet, tmp_path, fragment, statuses,
                                            severity):
    proc = chromium(tmp_path, report, "--dump-dom", fragment=fragment)
    assert proc.returncode == 0 and console_errors(proc.stderr) == [], proc.stderr[-2000:]
    dom = html.fromstring(proc.stdout)
    rows = dom.xpath("//section[@id='rules']//tbody/tr")
    severities = {r.get("data-rule"): r.get("data-severity") for r in rows}
    expected = _rules_with(arf_statuses(arf_fleet), statuses, severity, severities)
    visible = {r.get("data-rule") for r in rows if r.get("hidden") is None}
    assert visible == expected and expected
    assert dom.get_element_by_id("dom-check").get("data-shown") == str(len(expected))


def test_every_rule_has_its_details_and_both_scores(report, arf_fleet, tmp_path):
    dom = html.fromstring(report.read_text())
    want = arf_statuses(arf_fleet)
    counts = Counter(want.values())
    decided = counts["NotAFinding"] + counts["Open"]
    applicable = len(want) - counts["Not_Applicable"]
    assert dom.get_element_by_id("score").text_content() == \
        f"{round(100 * counts['NotAFinding'] / decided)}%"
    assert dom.get_element_by_id("score-all").text_content() == \
        f"{round(100 * counts['NotAFinding'] / applicable)}%"
    for row in dom.xpath("//section[@id='rules']//tbody/tr"):
        details = row.xpath(".//details[@class='rule']")
        assert details, row.get("data-rule")
        hosts = {d.get("data-host") for d in details[0].xpath(".//div[@data-host]")}
        assert hosts == {h for (h, idref) in want if idref.endswith(row.get("data-rule"))}
    assert "Self-check" not in dom.text_content()
    assert dom.get_element_by_id("dom-check").get("hidden") is not None


def test_filtered_report_screenshot_renders(report, tmp_path):
    shot = tmp_path / "open.png"
    proc = chromium(tmp_path, report, f"--screenshot={shot}", "--window-size=1300,1400",
                    fragment="#status=Open")
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000
