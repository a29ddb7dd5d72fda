"""A platform that cannot be evaluated is an error (exit 1), never "not applicable".

The data streams are the real generator's, broken the way real streams break: the CPE
dictionary in another namespace (the reported fail-open: every rule notapplicable, exit 0),
no dictionary, the platform's CPE name not listed, no OVAL check, a check that points nowhere
or at a definition the inventory component lacks; and, end to end through `stigscap run`, a
platform whose inventory OVAL check itself errors.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
from click.testing import CliRunner
from lxml import etree

from stigscap.evaluator.cli.main import main
from stigscap.evaluator.collect.offline import example_exports_dir
from stigscap.schemas.namespaces import XCCDF12
from tests.cli_helpers import stigscap

from tests.xccdf.xccdf_syschar import syschar_xml

RULE = "xccdf_mil.disa.stig_rule_SV-84553r1_rule"
CPE = "cpe:/a:microsoft:exchange_server:2013"
X = f"{{{XCCDF12}}}"
CHECK = ('<check system="http://oval.mitre.org/XMLSchema/oval-definitions-5" '
         'href="ms-exchange-2013-edge-stig-cpe-oval.xml">oval:mil.disa.stig:def:1</check>')

BROKEN = {  # name → (replacements on the data stream text, what the message must say)
    "dictionary in another namespace": (
        [('<cpe-list xmlns="http://cpe.mitre.org/dictionary/2.0"',
          '<cpe-list xmlns="http://cpe.mitre.org/dictionary/2.1"')],
        r"no CPE dictionary .*\{http://cpe\.mitre\.org/dictionary/2\.1\}cpe-list"),
    "no dictionary": (
        [(re.compile(r"<ds:dictionaries>.*?</ds:dictionaries>", re.S), "")],
        r"no CPE dictionary in the data stream"),
    "name not listed": (
        [(f'<cpe-item name="{CPE}">', '<cpe-item name="cpe:/a:microsoft:exchange_server:2016">')],
        rf"does not list {re.escape(CPE)}"),
    "no OVAL check": (
        [(CHECK, '<check system="http://scap.nist.gov/schema/ocil/2" href="x.xml">q1</check>')],
        rf"{re.escape(CPE)} has no OVAL check"),
    "check href not in the catalog": (
        [(CHECK, CHECK.replace('href="ms-exchange-2013-edge-stig-cpe-oval.xml"',
                               'href="elsewhere.xml"'))],
        r"'elsewhere\.xml' is not resolved by the catalog"),
    "check definition missing": (
        [(CHECK, CHECK.replace("def:1<", "def:999<"))],
        r"oval:mil\.disa\.stig:def:999 .* is not in component"),
}


@pytest.fixture(scope="module")
def ds_text(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("ds") / "ds.xml"
    r = CliRunner().invoke(main, ["generate", "--rule", "EX13-EG-000340", "-o", str(out),
                                  "--timestamp", "2026-01-01T00:00:00"])
    assert r.exit_code == 0, r.output
    return out.read_text()


def _break(text: str, replacements) -> str:
    for old, new in replacements:
        if isinstance(old, re.Pattern):
            text, n = old.subn(new, text)
        else:
            n = text.count(old)
            text = text.replace(old, new)
        assert n == 1, old
    return text


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_unevaluable_platform_is_error_exit_1(ds_text, tmp_path, case):
    replacements, message = BROKEN[case]
    ds = tmp_path / "ds.xml"
    ds.write_text(_break(ds_text, replacements))
    sc = tmp_path / "sc.xml"
    sc.write_bytes(syschar_xml([("A", "Tls")]))
    arf = tmp_path / "arf.xml"
    r = CliRunner().invoke(main, ["eval", str(ds), "--profile", "MAC-1_Classified",
                                  "--system-characteristics", str(sc), "--results-arf", str(arf),
                                  "--timestamp", "2026-01-01T00:00:00Z"])
    assert r.exit_code == 1, r.output
    assert "notapplicable" not in r.output
    root = etree.parse(str(arf)).getroot()
    (rr,) = [x for x in root.iter(f"{X}rule-result") if x.get("idref") == RULE]
    assert rr.findtext(f"{X}result") == "error"
    texts = [m.text for m in rr.iter(f"{X}message") if m.get("severity") == "error"]
    assert any(re.search(message, t) for t in texts), texts


def test_the_intact_stream_still_decides_applicability(ds_text, tmp_path):
    """Control: the same stream unbroken gives pass on an Edge 2013 host and notapplicable on
    another role (the inventory check answered false)."""
    ds = tmp_path / "ds.xml"
    ds.write_text(ds_text)
    for role, want, code in (("Edge", "pass", 0), ("Mailbox", "notapplicable", 0)):
        sc = tmp_path / f"{role}.xml"
        sc.write_bytes(syschar_xml([("A", "Tls")], role=role))
        arf = tmp_path / f"{role}-arf.xml"
        r = CliRunner().invoke(main, ["eval", str(ds), "--profile", "MAC-1_Classified",
                                      "--system-characteristics", str(sc), "--results-arf",
                                      str(arf), "--timestamp", "2026-01-01T00:00:00Z"])
        assert r.exit_code == code, r.output
        (rr,) = [x for x in etree.parse(str(arf)).getroot().iter(f"{X}rule-result")
                 if x.get("idref") == RULE]
        assert rr.findtext(f"{X}result") == want


def test_run_with_an_inventory_check_that_errors_exits_1(tmp_path):
    """`stigscap run`: the Get-ExchangeServer export (which the platform's inventory check
    reads) holds another cmdlet's objects → the inventory definition is error → every rule is
    error, exit 1, each naming the platform and its inventory definition."""
    src = tmp_path / "exports"
    shutil.copytree(example_exports_dir(), src)
    shutil.copy(src / "Get-TransportConfig.xml", src / "Get-ExchangeServer.xml")
    out = tmp_path / "out"
    run = stigscap("run", "--from", src, "--output", out,
                   env=dict(os.environ, SOURCE_DATE_EPOCH="1764300000"))
    assert run.rc == 1, (run.out, run.err)
    (arf,) = out.glob("*-arf.xml")
    results = [rr for rr in etree.parse(str(arf)).getroot().iter(f"{X}rule-result")]
    assert results and {rr.findtext(f"{X}result") for rr in results} == {"error"}
    for rr in results:
        msgs = [m.text for m in rr.iter(f"{X}message")]
        assert any(f"platform {CPE}: the inventory check (oval:mil.disa.stig:def:1) gave "
                   "'error'" in m for m in msgs), msgs
