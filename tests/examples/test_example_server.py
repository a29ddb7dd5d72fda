"""The built-in example server (content/examples): exports as built, readable, complete, and
`stigscap run --example` judging every rule with exactly the documented findings."""

from __future__ import annotations

import codecs
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from psrpcore.types import PSCryptoProvider, deserialize_clixml

from stigscap.content.loader import load_content
from stigscap.evaluator.collect.certificates import certificate_properties
from stigscap.evaluator.collect.offline import example_exports_dir
from stigscap.schemas.namespaces import ARF, XCCDF12
from stigscap.schemas.xmlio import parse_xml_file
from tests.conftest import require_tool

from .example_server import FINDINGS, HOST, ORG_DEFINED, RECEIVE_CONNECTORS, exports, rendered

EPOCH = "1767225600"  # 2026-01-01T00:00:00Z
NS = {"arf": ARF, "x": XCCDF12}
CONTENT = load_content()


def _cmdlet_selects() -> dict[str, set[str]]:
    """Cmdlet -> every property some rule (or the platform check) selects from it."""
    tests = [t for r in CONTENT.rules if r.check for t in r.check.tests]
    tests += list(CONTENT.benchmark.platform.check.tests)
    out: dict[str, set[str]] = {}
    for t in tests:
        out.setdefault(t.object.cmdlet, set()).update(t.object.select)
    return out


def _text(raw: bytes) -> str:
    """An export's text: Windows PowerShell 5.1 writes UTF-16LE with BOM, or with
    `-Encoding UTF8` UTF-8 with BOM (the example has both)."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8")
    assert raw.startswith(codecs.BOM_UTF16_LE)
    return raw[2:].decode("utf-16-le")


def _read(name: str) -> list:
    raw = (example_exports_dir() / name).read_bytes()
    text = _text(raw)
    if text.endswith(" />") and text.count("<") == 1:
        # an empty pipeline: Export-Clixml writes the root element only, which psrpcore's
        # deserialize_clixml cannot take (it cuts the root tag at the first ">")
        assert len(parse_xml_file(example_exports_dir() / name).getroot()) == 0
        return []
    return deserialize_clixml(text, PSCryptoProvider())


# --- the files ------------------------------------------------------------------------------

def test_committed_exports_equal_the_builder():
    files = {n: d for n, d in rendered().items() if n.endswith(".xml")}
    on_disk = {p.name: p.read_bytes() for p in example_exports_dir().glob("*.xml")}
    assert sorted(on_disk) == sorted(files)
    stale = [n for n in files if on_disk[n] != files[n]]
    assert not stale, (f"{stale} differ from tests/examples/example_server.py; rerun "
                       "`python -m tests.examples.example_server`")


XML_FILES = sorted(n for n in rendered() if n.endswith(".xml"))


def test_one_export_per_cmdlet_the_content_uses():
    assert sorted(f"{c}.xml" for c in _cmdlet_selects()) == XML_FILES


@pytest.mark.parametrize("name", XML_FILES)
def test_export_is_windows_powershell_51_clixml(name):
    raw = (example_exports_dir() / name).read_bytes()
    text = _text(raw)
    assert text.startswith('<Objs Version="1.1.0.1" '
                           'xmlns="http://schemas.microsoft.com/powershell/2004/04"')
    assert "\n" not in text.replace("\r\n", "") and not text.endswith("\n")
    assert text.count("<TN RefId=") == len(set(text.split("<TN RefId=")[1:]))  # each TN once


@pytest.mark.parametrize("cmdlet", sorted(_cmdlet_selects()))
def test_export_deserializes_with_every_selected_property(cmdlet):
    objs = _read(f"{cmdlet}.xml")
    assert len(objs) == len(exports()[cmdlet])
    wanted = _cmdlet_selects()[cmdlet]
    for obj in objs:
        names = {p.name.lower() for p in obj.PSObject.adapted_properties}
        names |= {p.name.lower() for p in obj.PSObject.extended_properties}
        if cmdlet == "Get-ExchangeCertificate":
            # exported whole, a certificate is its RawData alone: the rest is parsed from it
            assert names == {"rawdata"}
            names = {k.lower() for k in certificate_properties(bytes(obj.RawData))}
        missing = {w for w in wanted if w.lower() not in names}
        assert not missing, f"{cmdlet} object {obj.PSObject.to_string!r} lacks {missing}"
    # the Edge shell loads the snap-in locally, and nothing was selected: live .NET type names
    raw = _text((example_exports_dir() / f"{cmdlet}.xml").read_bytes())
    assert "<T>Deserialized." not in raw and "<T>Selected." not in raw


def test_values_keep_their_dotnet_types():
    (config,) = _read("Get-TransportConfig.xml")
    assert str(config.MaxSendSize) == "10 MB (10,485,760 bytes)"
    assert config.MaxSendSize.IsUnlimited is False
    assert [str(s) for s in config.InternalSMTPServers] == ["192.0.2.10", "192.0.2.11"]
    conns = _read("Get-ReceiveConnector.xml")
    # issue 14: an Exchange TimeSpan is an EnhancedTimeSpan object, not a <TS>
    timeout = conns[0].ConnectionTimeout
    assert timeout.PSObject.type_names[0].endswith("Microsoft.Exchange.Data.EnhancedTimeSpan")
    assert str(timeout) == "00:05:00" and int(timeout.Ticks) == 5 * 60 * 10_000_000
    assert dt.timedelta(seconds=float(timeout.TotalSeconds)) == dt.timedelta(minutes=5)
    assert conns[0].PermissionGroups.PSObject.type_names[0].endswith(
        "Microsoft.Exchange.Data.PermissionGroups")
    assert conns[0].ChunkingEnabled is True and int(conns[0].MaxHopCount) == 60
    assert int(conns[0].AuthMechanism) == 17 and str(conns[0].AuthMechanism) == \
        "Tls, ExchangeServer"
    assert str(conns[0].MaxInboundConnection) == "5000"
    (server,) = _read("Get-ExchangeServer.xml")
    assert (server.Name, server.Fqdn, str(server.ServerRole)) == (
        HOST, "edge01.perimeter.example.mil", "Edge")
    assert _read("Get-IPAllowListEntry.xml") == []


def test_seed_connectors_are_the_seed_examples():
    conns = _read("Get-ReceiveConnector.xml")
    assert [(c.Name, str(c.Identity), str(c.AuthMechanism)) for c in conns] == [
        ("Default internal receive connector EDGE01",
         "EDGE01\\Default internal receive connector EDGE01", "Tls, ExchangeServer"),
        ("Default Frontend EDGE01 partner TLS", "EDGE01\\Default Frontend EDGE01 partner TLS",
         "Tls"),
        ("Legacy relay EDGE01", "EDGE01\\Legacy relay EDGE01", "BasicAuth, BasicAuthRequireTLS"),
        ("Anonymous test EDGE01", "EDGE01\\Anonymous test EDGE01", "None"),
    ]
    assert [c[0] for c in RECEIVE_CONNECTORS] == [c.Name for c in conns]


# --- stigscap run --example -------------------------------------------------------------------

@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
    p = subprocess.run([sys.executable, "-m", "stigscap.evaluator.cli.main", "run", "--example",
                        "--output", str(out)], capture_output=True, text=True, env=env,
                       cwd=out, timeout=300)
    return p, out


def _verdicts(arf_path: Path) -> dict[str, str]:
    root = parse_xml_file(arf_path, huge_tree=True).getroot()
    assert root.tag == f"{{{ARF}}}asset-report-collection"
    results = root.findall(".//x:TestResult/x:rule-result", NS)
    prefix = "xccdf_mil.disa.stig_rule_"
    return {rr.get("idref")[len(prefix):]: rr.findtext("x:result", namespaces=NS)
            for rr in results}


def test_run_example_judges_every_rule_with_the_documented_findings(example_run):
    p, out = example_run
    assert p.returncode == 2, p.stdout + p.stderr  # findings
    assert "Traceback" not in p.stderr
    verdicts = _verdicts(out / "edge01.perimeter.example.mil-arf.xml")
    automated = {r.rule_id for r in CONTENT.rules if r.check}
    manual = {r.rule_id for r in CONTENT.rules if not r.check}
    assert set(verdicts) == automated | manual and len(verdicts) == 63
    assert {r: verdicts[r] for r in manual if verdicts[r] != "notchecked"} == {}
    assert {r: verdicts[r] for r in automated - set(ORG_DEFINED)
            if verdicts[r] not in ("pass", "fail")} == {}
    assert {r: verdicts[r] for r in ORG_DEFINED} == {r: "notchecked" for r in ORG_DEFINED}
    assert {r for r, v in verdicts.items() if v == "fail"} == set(FINDINGS)
    # issue 14: EX13-EG-000245 waits for the site's internal connector names (was: pass)
    assert "rules: pass 39, fail 4, notchecked 20" in p.stdout


def test_findings_carry_evidence(example_run):
    _, out = example_run
    root = parse_xml_file(out / "edge01.perimeter.example.mil-arf.xml", huge_tree=True)
    for rule_id, (version, _cmdlet, _why) in FINDINGS.items():
        rr = root.find(f".//x:rule-result[@idref='xccdf_mil.disa.stig_rule_{rule_id}']", NS)
        assert rr.get("version") == version
        assert rr.findall("x:message", NS), rule_id
    seed = root.find(".//x:rule-result[@idref='xccdf_mil.disa.stig_rule_SV-84553r1_rule']", NS)
    assert [i.text for i in seed.findall("x:instance", NS)] == [
        "EDGE01\\Default internal receive connector EDGE01", "EDGE01\\Legacy relay EDGE01",
        "EDGE01\\Anonymous test EDGE01"]


def test_run_example_outputs_validate_and_are_deterministic(example_run, tmp_path):
    _, out = example_run
    sc, arf = out / "edge01.perimeter.example.mil-sc.xml", out / "edge01.perimeter.example.mil-arf.xml"
    p = subprocess.run([sys.executable, "-m", "stigscap.evaluator.cli.main", "validate", str(sc),
                        str(arf)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "valid oval-system-characteristics@5.11.2" in p.stdout
    assert "valid arf@1.1" in p.stdout
    # the same epoch gives the same bytes
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
    again = subprocess.run([sys.executable, "-m", "stigscap.evaluator.cli.main", "run", "--example",
                            "--output", str(tmp_path)], capture_output=True, text=True, env=env,
                           timeout=300)
    assert again.returncode == 2
    assert (tmp_path / arf.name).read_bytes() == arf.read_bytes()
    assert (tmp_path / sc.name).read_bytes() == sc.read_bytes()


def test_oscap_accepts_the_example_arf(example_run):
    oscap = require_tool("oscap")
    _, out = example_run
    p = subprocess.run([oscap, "ds", "rds-validate",
                        str(out / "edge01.perimeter.example.mil-arf.xml")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr


def test_builder_check_mode_reports_drift(tmp_path, monkeypatch):
    from . import example_server
    from .stig_examples import STIGS
    monkeypatch.setattr(example_server, "EXAMPLES_DIR", tmp_path)
    for stig in STIGS:
        example_server.write(stig=stig)
    assert example_server.main(["--check"]) == 0
    (tmp_path / "edge2019" / "Get-SenderIdConfig.xml").write_bytes(b"\xff\xfe")
    assert example_server.main(["--check"]) == 1


def test_readme_documents_the_findings():
    readme = (example_exports_dir() / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in readme.splitlines()
            if line.startswith("| EX13-EG-")}
    assert set(rows) == {v for v, _c, _w in FINDINGS.values()}
    for rule_id, (version, cmdlet, _why) in FINDINGS.items():
        assert rule_id in rows[version] and cmdlet in rows[version]
    assert f"fail {len(FINDINGS)}," in readme


def test_site_values_make_the_organization_defined_rules_decidable(example_run, tmp_path):
    """Setting the three organization-defined values turns their notchecked into verdicts."""
    _, out = example_run
    arf = tmp_path / "tailored-arf.xml"
    p = subprocess.run([sys.executable, "-m", "stigscap.evaluator.cli.main", "eval",
                        str(out / "ms-exchange-2013-edge-stig-ds.xml"),
                        "--system-characteristics", str(out / "edge01.perimeter.example.mil-sc.xml"),
                        "--results-arf", str(arf),
                        "--set-value", r"transport_config_internalsmtpservers=^192\.0\.2\.1[01]$",
                        "--set-value", r"send_connector_tlsdomain=^(\*\.mil|example\.mil)$",
                        "--set-value", r"receive_connector_internal_names=^(Legacy relay|Anonymous test) "],
                       capture_output=True, text=True, env=dict(os.environ, SOURCE_DATE_EPOCH=EPOCH),
                       timeout=300)
    assert p.returncode == 2, p.stdout + p.stderr
    verdicts = _verdicts(arf)
    assert {r for r, v in verdicts.items() if v == "fail"} == set(FINDINGS)
    assert {r: verdicts[r] for r in ORG_DEFINED} == {r: "pass" for r in ORG_DEFINED}
