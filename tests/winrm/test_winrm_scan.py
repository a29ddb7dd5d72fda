"""`stigscap scan` / `stigscap collect --host` end to end against loopback WSMan servers."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psrpcore
import pytest
from click.testing import CliRunner
from tests.winrm.conftest import PASSWORD, USER
from lxml import etree
from psrpcore.types import serialize_clixml
from tests.winrm.winrm_testserver import (RC_TYPES, SRV_TYPES, Connector, ExchangeHost, exchange_server_props, full_object,
                              receive_connector_props)

from stigscap.evaluator.cli.main import main
from stigscap.evaluator.collect.winrm import WinRMOptions
from stigscap.evaluator.collect.credentials import load_credentials_file
from stigscap.evaluator.fleet.scan import read_inventory
from stigscap.schemas.errors import StigscapError
from tests.conftest import REPO

TS = "2026-01-01T00:00:00Z"
RULE = "xccdf_mil.disa.stig_rule_SV-84553r1_rule"
PROFILE = "MAC-1_Classified"
GOOD = ExchangeHost("EDGE01", connectors=[Connector("Default internal receive connector EDGE01", 1),
                                           Connector("Inbound", 1)])
BAD = ExchangeHost("EDGE02", connectors=[Connector("Default internal receive connector EDGE02", 1 | 16),
                                          Connector("Anonymous relay", 0)])




def write_inventory(tmp_path, entries, name="hosts.yaml") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps({"defaults": {"transport": "http", "auth": "ntlm", "retries": 0,
                                          "connection_timeout": 3, "operation_timeout": 2,
                                          "command_timeout": 10},
                             "hosts": entries}))
    return p


def all_output_text(out: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())


def test_scan_fleet_pass_fail_error_and_resume(make_server, ds_path, tmp_path, env):
    good = make_server(hosts=[GOOD, BAD])
    denied = make_server()
    denied.faults.http_401 = True
    inv = write_inventory(tmp_path, [
        {"host": "127.0.0.1", "port": good.ports[0], "name": "edge01"},
        {"host": "127.0.0.1", "port": good.ports[1], "name": "edge02"},
        {"host": "127.0.0.1", "port": denied.port, "name": "edge03"},
    ])
    out = tmp_path / "out"
    args = ["scan", str(ds_path), "--profile", PROFILE, "--inventory", str(inv), "--output", str(out),
            "--timestamp", TS, "--no-prompt", "--concurrency", "3", "--processes", "1"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1, r.output  # one host errored
    summary = json.loads((out / "summary.json").read_text())
    status = {h["name"]: h["status"] for h in summary["hosts"]}
    assert status == {"edge01": "pass", "edge02": "fail", "edge03": "error"}
    assert "authentication failed" in summary["hosts"][2]["errors"][0]
    arf = etree.parse(str(out / "edge02.arf.xml"))
    results = arf.xpath("//x:rule-result[@idref=$r]/x:result/text()", r=RULE,
                        namespaces={"x": "http://checklists.nist.gov/xccdf/1.2"})
    assert results == ["fail"]
    assert "Anonymous relay" in (out / "edge02.arf.xml").read_text()
    sc = etree.parse(str(out / "edge03.failed.syschar.xml"))  # a failed host never replaces edge03.syschar.xml
    flags = sc.xpath("//*[local-name()='object']/@flag")
    assert flags and set(flags) == {"error"}
    assert PASSWORD not in all_output_text(out) + r.output
    # resume: finished hosts are not contacted again, the errored one is retried
    before = len(good.received)
    denied.faults.http_401 = False
    r2 = CliRunner().invoke(main, [*args, "--resume"])
    assert r2.exit_code == 2, r2.output  # now: pass, fail, fail (default host has "Tls, ExchangeServer")
    assert len(good.received) == before
    assert denied.received  # edge03 collected this time
    summary = json.loads((out / "summary.json").read_text())
    assert {h["name"]: h["status"] for h in summary["hosts"]} == {"edge01": "pass", "edge02": "fail",
                                                                 "edge03": "fail"}
    assert [h["resumed"] for h in summary["hosts"]] == [True, True, False]


def test_scan_with_worker_processes(make_server, ds_path, tmp_path, env):
    srv = make_server(hosts=[GOOD, GOOD, GOOD, GOOD])
    inv = write_inventory(tmp_path, [{"host": "127.0.0.1", "port": p, "name": f"h{i}"}
                                     for i, p in enumerate(srv.ports)])
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["scan", str(ds_path), "--profile", PROFILE, "--inventory", str(inv),
                                  "--output", str(out), "--timestamp", TS, "--no-prompt", "--concurrency", "4",
                                  "--processes", "2", "-q"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.glob("*.arf.xml")) == [f"h{i}.arf.xml" for i in range(4)]
    assert len({rc.port for rc in srv.received}) == 4


# Starts the scan with SIGINT set as given (SIG_IGN: what a shell does to `cmd &`, nohup and CI
# runners without job control), whatever the disposition of the test process itself.
_WITH_SIGINT = ("import os, signal, sys; signal.signal(signal.SIGINT, getattr(signal, sys.argv[1])); "
                "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])")


@pytest.mark.parametrize("inherited", ["SIG_DFL", "SIG_IGN"])
def test_ctrl_c_leaves_finished_hosts_complete(make_server, ds_path, tmp_path, env, inherited):
    srv = make_server(hosts=[GOOD] * 6, latency=0.05)
    inv = write_inventory(tmp_path, [{"host": "127.0.0.1", "port": p, "name": f"h{i}"}
                                     for i, p in enumerate(srv.ports)])
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "stigscap.evaluator.cli.main", "scan", str(ds_path), "--profile", PROFILE,
           "--inventory", str(inv), "--output", str(out), "--timestamp", TS, "--no-prompt", "--concurrency", "1",
           "--processes", "1", "-q"]
    p = subprocess.Popen([sys.executable, "-c", _WITH_SIGINT, inherited, *cmd[1:]], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(out.glob("*.result.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True
    done = [h for h in summary["hosts"] if h["status"] in ("pass", "fail")]
    assert 1 <= len(done) < 6
    for h in done:  # every finished host: all its files, each complete
        for f in h["files"].values():
            etree.parse(str(out / f))
    assert not [f for f in out.iterdir() if f.name.startswith(".")]  # no temporary file
    r = CliRunner().invoke(main, [*cmd[3:], "--resume"])
    assert r.exit_code == 0, r.output
    assert len(list(out.glob("*.arf.xml"))) == 6


def _items(path: Path) -> list[list[tuple[str, str, str]]]:
    root = etree.parse(str(path)).getroot()
    out = []
    for item in root.iter("{*}cmdlet_item"):
        recs = []
        for value in item.iter("{*}value"):
            recs.append([(f.get("name"), f.get("datatype") or "string", f.text or "") for f in value])
        out.append(recs)
    return out


def test_live_collection_equals_offline_import_of_the_same_objects(make_server, ds_path, tmp_path, env):
    host = BAD
    srv = make_server(hosts=[host])
    live = tmp_path / "live.xml"
    r = CliRunner().invoke(main, ["collect", "-d", str(ds_path), "--host", "127.0.0.1", "--port", str(srv.port),
                                  "--transport", "http", "--auth", "ntlm", "--no-prompt", "-o", str(live),
                                  "--timestamp", TS])
    assert r.exit_code == 0, r.output
    # the offline export of the very same objects (Export-Clixml of the un-selected objects)
    exports = tmp_path / "exports"
    exports.mkdir()
    crypto = psrpcore.PSRemotingCrypto()
    rcs = [full_object(RC_TYPES, receive_connector_props(host, c), host.identity(c)) for c in host.connectors]
    (exports / "Get-ReceiveConnector.xml").write_text(serialize_clixml(rcs, crypto))
    srv_obj = [full_object(SRV_TYPES, exchange_server_props(host), host.name)]
    (exports / "Get-ExchangeServer.xml").write_text(serialize_clixml(srv_obj, crypto))
    offline = tmp_path / "offline.xml"
    r = CliRunner().invoke(main, ["collect", "-d", str(ds_path), "--from", str(exports), "-o", str(offline),
                                  "--timestamp", TS])
    assert r.exit_code == 0, r.output
    live_items, offline_items = _items(live), _items(offline)
    assert live_items == offline_items
    assert ("authmechanism", "string", "None") in [f for rec in live_items[0] for f in rec]
    assert ("authmechanism", "string", "Tls, ExchangeServer") in [f for rec in live_items[0] for f in rec]


def test_collect_host_errors_are_written_and_exit_1(make_server, ds_path, tmp_path, env):
    srv = make_server()
    srv.faults.access_denied = True
    out = tmp_path / "sc.xml"
    args = ["collect", "-d", str(ds_path), "--host", "127.0.0.1", "--port", str(srv.port),
            "--transport", "http", "--auth", "ntlm", "--no-prompt", "-o", str(out), "--retries", "0"]
    r = CliRunner().invoke(main, args)
    # the collection failed as a whole: one line, exit 1, nothing written
    assert r.exit_code == 1
    assert "access denied" in r.output and len(r.output.strip().splitlines()) == 1
    assert not out.exists() and PASSWORD not in r.output
    # one object fails, the others are collected: written, with that object flagged error
    srv.faults.access_denied = False
    srv.faults.cmdlet_not_found = ("get-receiveconnector",)
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1
    assert "cmdlet not found" in r.output
    text = out.read_text()
    assert 'flag="error"' in text and 'flag="complete"' in text and PASSWORD not in text


def test_cli_refuses_basic_over_http_and_has_no_password_option(ds_path, tmp_path, env):
    inv = tmp_path / "h.csv"
    inv.write_text("host,port\n127.0.0.1,5985\n")
    r = CliRunner().invoke(main, ["scan", str(ds_path), "--inventory", str(inv), "--output", str(tmp_path / "o"),
                                  "--transport", "http", "--auth", "basic", "--no-prompt"])
    assert r.exit_code == 1 and "clear text" in r.output
    r = CliRunner().invoke(main, ["scan", "--help"])
    assert "--password" not in r.output


# --------------------------------------------------------------------------- inventory / credentials
def test_inventory_yaml_and_csv(tmp_path):
    y = tmp_path / "h.yaml"
    y.write_text("defaults: {transport: http, auth: ntlm}\nhosts:\n  - edge01.example\n"
                 "  - {host: 10.0.0.5, name: edge02, port: 15985, endpoint: exchange}\n")
    hosts = read_inventory(y, WinRMOptions())
    assert [(h.name, h.address, h.options.effective_port, h.options.endpoint) for h in hosts] == [
        ("edge01.example", "edge01.example", 5985, "wsman"), ("edge02", "10.0.0.5", 15985, "exchange")]
    c = tmp_path / "h.csv"
    c.write_text("host,name,transport,auth\nedge01,,https,basic\nedge02,e2,http,ntlm\n")
    hosts = read_inventory(c, WinRMOptions())
    assert [(h.name, h.options.transport, h.options.auth) for h in hosts] == [
        ("edge01", "https", "basic"), ("e2", "http", "ntlm")]
    c.write_text("host,transport,auth\nedge01,https,ntlm\nedge02,http,basic\n")
    with pytest.raises(StigscapError) as exc:
        read_inventory(c, WinRMOptions())
    assert exc.value.line == 3 and "clear text" in str(exc.value)
    y.write_text("- {host: a, pasword: x}\n")
    with pytest.raises(StigscapError, match="unknown inventory key"):
        read_inventory(y, WinRMOptions())


def test_credentials_file_must_be_private(tmp_path):
    f = tmp_path / "creds.yaml"
    f.write_text(f"username: {USER}\npassword: '{PASSWORD}'\n")
    f.chmod(0o644)
    with pytest.raises(StigscapError, match="chmod 600") as exc:
        load_credentials_file(f)
    assert PASSWORD not in str(exc.value)
    f.chmod(0o600)
    creds = load_credentials_file(f)
    assert creds.username == USER and creds.password.reveal() == PASSWORD
    assert PASSWORD not in repr(creds) + str(creds.password) + f"{creds.password}"
    f.write_text("username: a\npassword: [unclosed\n")
    with pytest.raises(StigscapError) as exc:
        load_credentials_file(f)
    assert "unclosed" not in str(exc.value)


def test_scan_bench_smoke():
    """The benchmark script runs end to end on a tiny fleet (no timing asserted here: the
    efficiency target is off, --min-efficiency 0)."""
    r = subprocess.run([sys.executable, str(REPO / "bench" / "scan_bench.py"), "--hosts", "4", "--latency", "0.01",
                        "--concurrency", "4", "--server-processes", "1", "--min-efficiency", "0"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "efficiency" in r.stdout and "hosts            4 (" in r.stdout
    # the per-host breakdown adds up: latency charged + the simulated host's late wake-ups
    # + its handlers + the scanner's part = a host's mean time; a sleep never ends early
    m = re.search(r"per host +([\d.]+) s on average = ([\d.]+) s latency \+ (-?\d+) ms .*?"
                  r"\+ (-?\d+) ms in its request handlers \+ (-?\d+) ms in the scanner", r.stdout)
    assert m, r.stdout
    mean, latency, late, handlers, scanner = (float(g) for g in m.groups())
    rt = float(re.search(r"round trips +\d+ \(([\d.]+) per host", r.stdout).group(1))
    assert latency == pytest.approx(rt * 0.01, abs=0.0006)
    assert late >= 0 and handlers > 0 and scanner > 0
    assert latency + (late + handlers + scanner) / 1000 == pytest.approx(mean, abs=0.002)
    share = re.search(r"latency's share ([\d.]+) % × slots in use ([\d.]+) %", r.stdout)
    eff = re.search(r"efficiency +([\d.]+) %", r.stdout)
    assert float(share.group(1)) * float(share.group(2)) / 100 == pytest.approx(float(eff.group(1)), abs=0.2)
    assert 0 < float(share.group(2)) <= 100   # hosts' seconds measured in seconds, none counted twice


def test_per_host_credentials_file(make_server, ds_path, tmp_path, monkeypatch):
    monkeypatch.delenv("STIGSCAP_PASSWORD", raising=False)
    monkeypatch.delenv("STIGSCAP_USERNAME", raising=False)
    srv = make_server(hosts=[GOOD, GOOD])
    good = tmp_path / "good.yaml"
    good.write_text(f"username: {USER}\npassword: '{PASSWORD}'\n")
    good.chmod(0o600)
    loose = tmp_path / "loose.yaml"
    loose.write_text(f"username: {USER}\npassword: '{PASSWORD}'\n")
    loose.chmod(0o640)
    inv = write_inventory(tmp_path, [
        {"host": "127.0.0.1", "port": srv.ports[0], "name": "ok", "credentials_file": str(good)},
        {"host": "127.0.0.1", "port": srv.ports[1], "name": "loose", "credentials_file": str(loose)}])
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["scan", str(ds_path), "--profile", PROFILE, "--inventory", str(inv), "--output",
                                  str(out), "--timestamp", TS, "--no-prompt", "--processes", "1", "-q"])
    assert r.exit_code == 1, r.output
    rows = {h["name"]: h for h in json.loads((out / "summary.json").read_text())["hosts"]}
    assert rows["ok"]["status"] == "pass"
    assert rows["loose"]["status"] == "error" and "chmod 600" in rows["loose"]["errors"][0]
    assert {rc.port for rc in srv.received} == {srv.ports[0]}  # nothing sent with the refused file
    assert PASSWORD not in all_output_text(out) + r.output


def test_content_with_write_verb_and_injection_reaches_server_only_as_literals(make_server, ds_path, tmp_path, env):
    """A tampered data stream: one object asks for Set-ReceiveConnector, another carries a
    PowerShell injection in a parameter value. Assert on what the server received."""
    W = "http://oval.mitre.org/XMLSchema/oval-definitions-5#windows"
    D = "http://oval.mitre.org/XMLSchema/oval-definitions-5"
    tree = etree.parse(str(ds_path))
    objs = tree.findall(f".//{{{W}}}cmdlet_object")
    rc = next(o for o in objs if o.findtext(f"{{{W}}}noun") == "ReceiveConnector")
    evil = "x'; Remove-Item C:\\ -Recurse; '"
    params = rc.find(f"{{{W}}}parameters")
    params.attrib.pop("{http://www.w3.org/2001/XMLSchema-instance}nil", None)
    field = etree.SubElement(params, f"{{{D}}}field", name="identity", datatype="string")
    field.text = evil
    injected_ds = tmp_path / "injected-ds.xml"
    tree.write(str(injected_ds))
    srv_obj = next(o for o in objs if o.findtext(f"{{{W}}}noun") == "ExchangeServer")
    srv_obj.find(f"{{{W}}}verb").text = "Set"
    bad_ds = tmp_path / "tampered-ds.xml"
    tree.write(str(bad_ds))
    srv = make_server()
    out = tmp_path / "sc.xml"
    base = ["collect", "--host", "127.0.0.1", "--port", str(srv.port), "--transport", "http", "--auth", "ntlm",
            "--no-prompt", "-o", str(out)]
    # the write verb: the whole data stream is refused before any connection
    r = CliRunner().invoke(main, [*base, "-d", str(bad_ds)])
    assert r.exit_code == 1, r.output
    assert "Set-ExchangeServer" in r.output and "no host was contacted" in r.output
    assert srv.received == [] and srv.exchanges == 0 and not out.exists()
    # the injection alone: sent, but only as a literal parameter value
    r = CliRunner().invoke(main, [*base, "-d", str(injected_ds)])
    assert r.exit_code == 1, r.output  # no such connector
    sent = [c for rc_ in srv.received for c in rc_.commands]
    assert all(not c["is_script"] for c in sent)
    names = {c["name"].lower() for c in sent}
    assert "remove-item" not in names
    get = next(c for c in sent if c["name"] == "Get-ReceiveConnector")
    assert get["parameters"] == [("identity", evil)]
