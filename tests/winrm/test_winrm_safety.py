"""Live collection sends only `Get` cmdlets and loads only the Exchange snap-in: a data stream
that names anything else is refused before any connection (collect --host and scan), and a
failed live collection never replaces an existing system-characteristics file.

Against the loopback WSMan/PSRP test server (it counts TCP connections and records every
command), driven by the unmodified pypsrp client through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from tests.winrm.conftest import PASSWORD, USER
from tests.winrm.winrm_testserver import SNAPIN_2013, Connector, ExchangeHost

from stigscap.evaluator.cli.main import main
from stigscap.evaluator.collect.winrm import WinRMOptions, check_query, choose_snapin, collect_host
from stigscap.evaluator.collect.model import CmdletQuery
from stigscap.evaluator.collect.credentials import Credentials, Secret
from stigscap.schemas.errors import StigscapError

TS = "2026-01-01T00:00:00Z"
W = "http://oval.mitre.org/XMLSchema/oval-definitions-5#windows"
D = "http://oval.mitre.org/XMLSchema/oval-definitions-5"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
UNC = "\\\\attacker\\share\\evil.psm1"
GOOD = ExchangeHost("EDGE01", connectors=[Connector("Default internal receive connector EDGE01", 1)])




def crafted(ds_path: Path, tmp_path: Path, *, verb: str, noun: str, params=(), module=None) -> tuple[Path, str]:
    """The generated data stream with its Receive connector cmdlet_object rewritten."""
    tree = etree.parse(str(ds_path))
    obj = next(o for o in tree.iter(f"{{{W}}}cmdlet_object") if o.findtext(f"{{{W}}}noun") == "ReceiveConnector")
    obj.find(f"{{{W}}}verb").text = verb
    obj.find(f"{{{W}}}noun").text = noun
    mod = obj.find(f"{{{W}}}module_name")
    if module is not None:
        mod.attrib.pop(f"{{{XSI}}}nil", None)
        mod.text = module
    p_el = obj.find(f"{{{W}}}parameters")
    if params:
        p_el.attrib.pop(f"{{{XSI}}}nil", None)
        for name, value in params:
            f = etree.SubElement(p_el, f"{{{D}}}field", name=name, datatype="string")
            f.text = value
    out = tmp_path / "crafted-ds.xml"
    tree.write(str(out), xml_declaration=True, encoding="UTF-8")
    return out, obj.get("id")


CRAFTED = {
    "import-module-unc": dict(verb="Import", noun="Module", params=(("Name", UNC),)),
    "import-transport-rule-collection": dict(verb="Import", noun="TransportRuleCollection",
                                             params=(("FileData", "AAAA"),)),
    "approve": dict(verb="Approve", noun="ApplicationAccessPolicy"),
    "get-with-unc-module": dict(verb="Get", noun="ReceiveConnector", module=UNC),
    "get-with-other-module": dict(verb="Get", noun="ReceiveConnector", module="ExchangeOnlineManagement"),
}


def _no_contact(srv) -> None:
    assert srv.connections == 0 and srv.exchanges == 0 and srv.received == [] and srv.shell_opens == []


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_collect_host_refuses_unsafe_content_before_connecting(make_server, ds_path, tmp_path, env, case):
    srv = make_server(hosts=[GOOD])
    ds, oid = crafted(ds_path, tmp_path, **CRAFTED[case])
    out = tmp_path / "sc.xml"
    r = CliRunner().invoke(main, ["collect", "-d", str(ds), "--host", "127.0.0.1", "--port", str(srv.port),
                                  "--transport", "http", "--auth", "ntlm", "--retries", "0", "--no-prompt",
                                  "-o", str(out)])
    assert r.exit_code == 1, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("stigscap: "), r.output
    spec = CRAFTED[case]
    assert oid in lines[0] and f"{spec['verb']}-{spec['noun']}" in lines[0]
    assert "refused" in lines[0] and "no host was contacted" in lines[0]
    if spec.get("module"):
        assert spec["module"] in lines[0]
    assert "Traceback" not in r.output
    _no_contact(srv)
    assert not out.exists()


def test_scan_refuses_unsafe_content_before_contacting_any_host(make_server, ds_path, tmp_path, env):
    srv = make_server(hosts=[GOOD, GOOD])
    ds, oid = crafted(ds_path, tmp_path, verb="Import", noun="Module", params=(("Name", UNC),))
    inv = tmp_path / "hosts.yaml"
    inv.write_text(json.dumps({"defaults": {"transport": "http", "auth": "ntlm", "retries": 0},
                               "hosts": [{"host": "127.0.0.1", "port": p, "name": f"h{i}"}
                                         for i, p in enumerate(srv.ports)]}))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["scan", str(ds), "--profile", "MAC-1_Classified", "--inventory", str(inv),
                                  "--output", str(out), "--timestamp", TS, "--no-prompt", "--processes", "1", "-q"])
    assert r.exit_code == 1, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and oid in lines[0] and "Import-Module" in lines[0] and UNC in lines[0], r.output
    _no_contact(srv)
    assert not out.exists()


def test_only_get_and_the_exchange_snapin_pass_the_check():
    ok = CmdletQuery("oval:x:obj:1", SNAPIN_2013, "Get", "ReceiveConnector", (), ("Name",))
    assert check_query(ok) is None
    assert check_query(CmdletQuery("oval:x:obj:1", None, "get", "TransportConfig", (), ("Name",))) is None
    for verb in ("Import", "Approve", "Test", "Select", "Find", "Request", "Set"):
        assert "not allowed" in check_query(CmdletQuery("oval:x:obj:1", None, verb, "X", (), ("Name",)))
    for module in (UNC, "Microsoft.Exchange.Management.PowerShell.Setup", "evil"):
        assert "not allowed" in check_query(CmdletQuery("oval:x:obj:1", module, "Get", "X", (), ("Name",)))
    # a snap-in the host registers under a similar name is never chosen; --snapin is allowlisted too
    assert choose_snapin(SNAPIN_2013, ["Microsoft.Exchange.Management.PowerShell.Evil"]) is None
    with pytest.raises(StigscapError, match="not allowed"):
        WinRMOptions(snapin=UNC).validated()


def test_library_collector_never_sends_a_refused_query(make_server):
    """Second line of defence (collect_host used directly): the refused query is not sent."""
    srv = make_server(hosts=[GOOD])
    bad = CmdletQuery("oval:x:obj:9", None, "Import", "Module", (("Name", UNC),), ("Name",))
    r = collect_host("127.0.0.1", [bad], WinRMOptions(transport="http", auth="ntlm", port=srv.port, retries=0),
                     Credentials(USER, Secret(PASSWORD)))
    assert r.objects[0].flag == "error" and "not allowed" in r.objects[0].messages[0]
    _no_contact(srv)


# --------------------------------------------------------------------------- failed collections
def test_failed_collect_host_leaves_an_existing_syschar_untouched(make_server, ds_path, tmp_path, env):
    srv = make_server(hosts=[GOOD])
    out = tmp_path / "sc.xml"
    args = ["collect", "-d", str(ds_path), "--host", "127.0.0.1", "--port", str(srv.port), "--transport", "http",
            "--auth", "ntlm", "--retries", "0", "--no-prompt", "-o", str(out), "--timestamp", TS]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    before = out.read_bytes()
    assert b'flag="complete"' in before
    srv.faults.http_401 = True  # the next collection fails as a whole
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "authentication failed" in lines[0] and "nothing written" in lines[0], r.output
    assert out.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # a new output file is not created either
    fresh = tmp_path / "fresh.xml"
    r = CliRunner().invoke(main, [*args[:-4], "-o", str(fresh), "--timestamp", TS])
    assert r.exit_code == 1 and not fresh.exists()


def test_scan_keeps_the_previous_good_syschar_of_a_failed_host(make_server, ds_path, tmp_path, env):
    srv = make_server(hosts=[GOOD])
    inv = tmp_path / "hosts.yaml"
    inv.write_text(json.dumps({"defaults": {"transport": "http", "auth": "ntlm", "retries": 0},
                               "hosts": [{"host": "127.0.0.1", "port": srv.port, "name": "edge01"}]}))
    out = tmp_path / "out"
    args = ["scan", str(ds_path), "--profile", "MAC-1_Classified", "--inventory", str(inv), "--output", str(out),
            "--timestamp", TS, "--no-prompt", "--processes", "1", "-q"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    good = (out / "edge01.syschar.xml").read_bytes()
    srv.faults.http_401 = True
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1, r.output
    assert (out / "edge01.syschar.xml").read_bytes() == good
    failed = etree.parse(str(out / "edge01.failed.syschar.xml"))
    assert set(failed.xpath("//*[local-name()='object']/@flag")) == {"error"}
    result = json.loads((out / "edge01.result.json").read_text())
    assert result["status"] == "error" and result["files"]["syschar"] == "edge01.failed.syschar.xml"
    arf = etree.parse(str(out / "edge01.arf.xml"))
    assert arf.xpath("//x:rule-result/x:result/text()", namespaces={"x": "http://checklists.nist.gov/xccdf/1.2"}) \
        == ["error"]
    # the host answers again: its syschar is replaced, the .failed file goes
    srv.faults.http_401 = False
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert not (out / "edge01.failed.syschar.xml").exists()
    assert json.loads((out / "edge01.result.json").read_text())["files"]["syschar"] == "edge01.syschar.xml"


def test_module_id_or_version_is_not_silently_ignored(ds_path, tmp_path):
    """The collector loads the snap-in by name only; an object that pins a module id or version
    cannot be honoured, so it is reported unsupported (error), never collected as if it were."""
    from stigscap.evaluator.oval.objects import read_cmdlet_objects
    tree = etree.parse(str(ds_path))
    obj = next(o for o in tree.iter(f"{{{W}}}cmdlet_object") if o.findtext(f"{{{W}}}noun") == "ReceiveConnector")
    ver = obj.find(f"{{{W}}}module_version")
    ver.attrib.pop(f"{{{XSI}}}nil")
    ver.text = "14.0"
    objs = read_cmdlet_objects(tree.getroot())
    (q, why), = [(q, w) for q, w in objs.unsupported]
    assert q.object_id == obj.get("id") and "module_version '14.0'" in why
