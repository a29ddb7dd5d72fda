"""One example server per built-in STIG (content/examples/<stig>/, issue 14 item 5):
`stigscap run --example <stig>` judges every rule as the example's expected.yaml says (facts
about the data, written in tests/examples/stig_examples.py), and with the site's values for the
organization-defined Values every automated rule gets pass or fail."""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stigscap import example_exports
from stigscap.content.loader import builtin_benchmark_dir, load_content
from stigscap.evaluator.collect.offline import EXAMPLES
from stigscap.schemas.namespaces import XCCDF12
from stigscap.schemas.xmlio import parse_xml_file

from .stig_examples import STIGS, rendered

EPOCH = "1767225600"  # 2026-01-01T00:00:00Z
NS = {"x": XCCDF12}
PREFIX = "xccdf_mil.disa.stig_rule_"


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stigscap.evaluator.cli.main", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300,
                          env=dict(os.environ, SOURCE_DATE_EPOCH=EPOCH))


def _verdicts(arf: Path) -> dict[str, str]:
    root = parse_xml_file(arf, huge_tree=True).getroot()
    return {rr.get("idref")[len(PREFIX):]: rr.findtext("x:result", namespaces=NS)
            for rr in root.iterfind(".//x:TestResult/x:rule-result", NS)}


def _expected(stig: str) -> dict:
    return yaml.safe_load((example_exports(stig) / "expected.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """`stigscap run --example <stig>` once per STIG: (process, output directory)."""
    out = {}
    for stig in EXAMPLES:
        d = tmp_path_factory.mktemp(stig)
        out[stig] = (_cli("run", "--example", stig, "--out", str(d), cwd=d), d)
    return out


def test_every_builtin_benchmark_has_an_example():
    assert set(EXAMPLES) == set(STIGS) == {"edge2013", "edge2016", "mailbox2016", "edge2019"}
    assert sorted(EXAMPLES.values()) == sorted(
        ["exchange2013_edge", "exchange2016_edge", "exchange2016_mailbox", "exchange2019_edge"])


@pytest.mark.parametrize("stig", sorted(STIGS))
def test_committed_example_equals_the_builder(stig):
    folder = example_exports(stig)
    files = rendered(stig)
    on_disk = {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix in (".xml", ".yaml")}
    assert sorted(on_disk) == sorted(files)
    stale = [n for n in files if on_disk[n] != files[n]]
    assert not stale, f"{stale}: rerun `python -m tests.examples.example_server`"


@pytest.mark.parametrize("stig", sorted(STIGS))
def test_exports_mix_utf8_and_utf16_with_bom(stig):
    boms = {p.name: p.read_bytes()[:3] for p in example_exports(stig).glob("*.xml")}
    utf8 = {n for n, b in boms.items() if b == codecs.BOM_UTF8}
    utf16 = {n for n, b in boms.items() if b[:2] == codecs.BOM_UTF16_LE}
    assert utf8 and utf16 and utf8 | utf16 == set(boms)
    assert utf8 == {f"{c}.xml" for c in STIGS[stig].utf8}


@pytest.mark.parametrize("stig", sorted(STIGS))
def test_exports_use_the_real_serialization_shapes(stig):
    folder = example_exports(stig)
    text = {p.name: p.read_bytes().decode("utf-8-sig" if p.read_bytes()[:3] == codecs.BOM_UTF8
                                          else "utf-16") for p in folder.glob("*.xml")}
    conns = text["Get-ReceiveConnector.xml"]
    assert "<T>Microsoft.Exchange.Data.EnhancedTimeSpan</T>" in conns and "<TS " not in conns
    assert "<T>Microsoft.Exchange.Data.PermissionGroups</T>" in conns
    assert conns.count('<BA N="SerializationData">') == 4
    cert = text["Get-ExchangeCertificate.xml"]
    assert '<BA N="RawData">' in cert and 'N="Issuer"' not in cert and 'N="Subject"' not in cert
    remote = STIGS[stig].remote
    # Exchange cmdlets come through the Exchange Management Shell's remote session on a
    # Mailbox server; Get-ItemProperty and Get-Acl run in the local shell
    assert all(("<T>Deserialized." in t) == remote and ('N="PSComputerName"' in t) == remote
               for n, t in text.items()
               if "<Obj" in t and n not in ("Get-ItemProperty.xml", "Get-Acl.xml"))
    if "Get-ItemProperty.xml" in text:
        reg = text["Get-ItemProperty.xml"]
        assert "<T>System.Management.Automation.PSCustomObject</T>" in reg
        assert "Deserialized." not in reg and 'N="PSComputerName"' not in reg
        assert reg.count('<S N="PSPath">Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\') \
            == len(STIGS[stig].registry) > 0
        assert '<I32 N="Start">' in reg or '<I32 N="SchUseStrongCrypto">' in reg


@pytest.mark.parametrize("stig", sorted(STIGS))
def test_run_example_judges_every_rule_as_documented(runs, stig):
    p, out = runs[stig]
    expected = _expected(stig)
    assert p.returncode == expected["exit_code"] == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    (arf,) = out.glob("*-arf.xml")
    assert arf.name == f"{expected['host']}-arf.xml"
    verdicts = _verdicts(arf)
    want = {rule: e["verdict"] for rule, e in expected["rules"].items()}
    assert verdicts == want
    counts = expected["counts"]
    assert (f"rules: pass {counts['pass']}, fail {counts['fail']}, notchecked "
            f"{counts['notchecked']}") in p.stdout
    # the data stream is the example's own benchmark
    content = load_content(builtin_benchmark_dir(EXAMPLES[stig]))
    assert set(verdicts) == {r.rule_id for r in content.rules}


@pytest.mark.parametrize("stig", sorted(STIGS))
def test_every_automated_rule_gets_pass_or_fail_with_the_site_values(runs, stig):
    """Untailored, an automated rule is notchecked only while its organization-defined Value is
    unset; with the site's values (expected.yaml) every automated rule is pass or fail."""
    _, out = runs[stig]
    expected = _expected(stig)
    content = load_content(builtin_benchmark_dir(EXAMPLES[stig]))
    automated = {r.rule_id for r in content.rules if r.check}
    (ds,) = out.glob("*-ds.xml")
    (sc,) = out.glob("*-sc.xml")
    arf = out / "site-arf.xml"
    args = ["eval", str(ds), "--system-characteristics", str(sc), "--results-arf", str(arf)]
    for value, regex in expected["site_values"].items():
        args += ["--set-value", f"{value}={regex}"]
    p = _cli(*args)
    assert p.returncode == 2, p.stdout + p.stderr
    verdicts = _verdicts(arf)
    assert {r: verdicts[r] for r in automated if verdicts[r] not in ("pass", "fail")} == {}
    want = {rule: e.get("with_site_values", e)["verdict"]
            for rule, e in expected["rules"].items() if rule in automated}
    assert {r: verdicts[r] for r in automated} == want
    # and the untailored run left only the organization-defined ones notchecked
    untailored = _verdicts(next(out.glob(f"{expected['host']}-arf.xml")))
    assert {r for r in automated if untailored[r] == "notchecked"} == {
        r for r, e in expected["rules"].items() if "with_site_values" in e}


@pytest.mark.parametrize("stig", sorted(STIGS))
def test_findings_blame_the_objects_the_expectations_name(runs, stig):
    """Each failing rule's evidence (its instances) is exactly the objects expected.yaml says
    cause the finding, and it carries a message."""
    _, out = runs[stig]
    expected = _expected(stig)
    root = parse_xml_file(next(out.glob(f"{expected['host']}-arf.xml")), huge_tree=True)
    blamed = 0
    for rule, e in expected["rules"].items():
        if e["verdict"] != "fail":
            continue
        rr = root.find(f".//x:rule-result[@idref='{PREFIX}{rule}']", NS)
        assert rr.get("version") == e["stig_id"]
        assert rr.findall("x:message", NS), rule
        if "objects" in e:
            assert [i.text for i in rr.findall("x:instance", NS)] == e["objects"], rule
            blamed += 1
    assert blamed >= 2


def test_run_example_without_a_name_is_edge2013(runs, tmp_path):
    p = _cli("run", "--example", "--out", str(tmp_path), cwd=tmp_path)
    assert p.returncode == 2, p.stdout + p.stderr
    assert (tmp_path / "edge01.perimeter.example.mil-arf.xml").is_file()
    assert (tmp_path / "ms-exchange-2013-edge-stig-ds.xml").is_file()
    _, out13 = runs["edge2013"]
    assert (tmp_path / "edge01.perimeter.example.mil-arf.xml").read_bytes() == (
        out13 / "edge01.perimeter.example.mil-arf.xml").read_bytes()


def test_unknown_example_is_refused_in_one_line(tmp_path):
    p = _cli("run", "--example", "edge2010", "--out", str(tmp_path))
    assert p.returncode != 0 and "Traceback" not in p.stderr
    assert "edge2010" in p.stderr and "edge2016" in p.stderr
    assert not any(tmp_path.iterdir())


def test_api_example_exports_takes_the_stig():
    assert example_exports() == example_exports("edge2013")
    assert example_exports("mailbox2016").name == "mailbox2016"
    assert (example_exports("edge2019") / "Get-ExecutionPolicy.xml").is_file()
