"""`stigscap scan` of one data stream collection holding every built-in benchmark against a
mixed fleet on the loopback WSMan/PSRP test server: Exchange 2013 Edge, 2016 Edge, 2016 Mailbox
and 2019 Edge hosts (each its own Get-ExchangeServer version and role), the Mailbox host
answering only on the Exchange management endpoint (/PowerShell, Microsoft.Exchange), the Edge
hosts only on /wsman with the snap-in. Each host is judged against the benchmark of its own
product and role; hosts whose product no benchmark covers, or whose Get-ExchangeServer is
empty, are errors naming every benchmark's platform result, never notapplicable.

Expectations come from the facts set here (version, role, ErrorReportingEnabled,
CustomerFeedbackEnabled per host) and the content's own rules, not from engine output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from stigscap.content.loader import builtin_benchmark_dir, load_content
from stigscap.evaluator.cli.main import main
from tests.examples import clixml_writer as cw
from tests.examples import example_server as ex
from tests.winrm.conftest import PASSWORD, USER
from tests.winrm.fleet_psobjects import ExampleHost, set_property

TS = "2026-01-01T00:00:00Z"
XCCDF = {"x": "http://checklists.nist.gov/xccdf/1.2"}
RULE = "xccdf_mil.disa.stig_rule_"
ROLE_TYPE = "Microsoft.Exchange.Data.Directory.SystemConfiguration.ServerRole"


def exchange_server(minor: int, build: int, role: str) -> list:
    """Get-ExchangeServer of a host: version 15.<minor> and its role, its Is*Server flags
    agreeing with the role."""
    version = cw.Obj(("Microsoft.Exchange.Data.ServerVersion", "System.Object"),
                     f"Version 15.{minor} (Build {build}.2)",
                     (("Major", cw.I32(15)), ("Minor", cw.I32(minor)), ("Build", cw.I32(build)),
                      ("Revision", cw.I32(2)), ("FilePatchLevelDescription", "")))
    return [set_property("AdminDisplayVersion", version),
            set_property("ServerRole", cw.enum(ROLE_TYPE, ex.SERVER_ROLES, role)),
            set_property("IsEdgeServer", role == "Edge"),
            set_property("IsMailboxServer", role == "Mailbox")]


def other_server(name: str, minor: int, build: int, role: str):
    """Override adding another server of the organization to Get-ExchangeServer (what a
    Mailbox server lists: every Exchange server, subscribed Edge servers included)."""
    def add(objs: list) -> list:
        other = [objs[0]]
        for change in [*exchange_server(minor, build, role), set_property("Name", name)]:
            other = change(other)
        return objs + other
    return add


# name -> (benchmark it must get, Get-ExchangeServer facts, endpoint, ErrorReportingEnabled,
#          CustomerFeedbackEnabled); both settings comply only when False
HOSTS = {
    "ex2013-edge": ("exchange2013_edge", (0, 1497, "Edge"), "wsman", True, False),
    "ex2016-edge": ("exchange2016_edge", (1, 2507, "Edge"), "wsman", False, True),
    "ex2016-mbx": ("exchange2016_mailbox", (1, 2507, "Mailbox"), "exchange", True, True),
    "ex2019-edge": ("exchange2019_edge", (2, 1544, "Edge"), "wsman", False, False),
}
FACTS = {("Get-ExchangeServer", "ErrorReportingEnabled"): 3,
         ("Get-OrganizationConfig", "CustomerFeedbackEnabled"): 4}


def host(name: str) -> ExampleHost:
    _bench, (minor, build, role), endpoint, error_reporting, feedback = HOSTS[name]
    # a Mailbox server lists its organization too; its own record carries its computer name
    # (here the inventory name: the Exchange endpoint gives no system facts)
    org = [set_property("Name", name.upper()), other_server("EDGE16", 1, 2507, "Edge"),
           other_server("EDGE13", 0, 1497, "Edge"),
           other_server("MBX19", 2, 1544, "Mailbox")] if role == "Mailbox" else []
    h = ExampleHost(overrides={
        "Get-ExchangeServer": [*exchange_server(minor, build, role),
                               set_property("ErrorReportingEnabled", error_reporting), *org],
        "Get-OrganizationConfig": [set_property("CustomerFeedbackEnabled", feedback)]})
    h.endpoint = endpoint
    if name == "ex2019-edge":   # SchUseStrongCrypto set, but to 0: a registry finding
        h.registry = {"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319":
                      {"SchUseStrongCrypto": 0, "SystemDefaultTlsVersions": 1}}
    return h


def fact_rules(bench: str) -> dict[tuple[str, str], str]:
    """The rule of `bench` that checks each FACT (cmdlet, property), from the content."""
    out = {}
    for r in load_content(builtin_benchmark_dir(bench)).rules:
        for t in (r.check.tests if r.check else ()):
            for f in (t.state.fields if t.state else ()):
                if (getattr(t.object, "cmdlet", None), f.property) in FACTS \
                        and len(r.check.tests) == 1:
                    out[(t.object.cmdlet, f.property)] = r.rule_id
    assert set(out) == set(FACTS), bench
    return out


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mixed-fleet") / "all-ds.xml"
    r = CliRunner().invoke(main, ["generate", "--benchmark", "all", "-o", str(out),
                                  "--timestamp", "2026-01-01T00:00:00"])
    assert r.exit_code == 0, r.output
    return out


def arf_results(arf: Path) -> tuple[str, dict[str, str]]:
    root = etree.parse(str(arf)).getroot()
    tr = root.find(".//x:TestResult", XCCDF)
    bench = tr.find("x:benchmark", XCCDF).get("id")
    return bench, {rr.get("idref")[len(RULE):]: rr.findtext("x:result", namespaces=XCCDF)
                   for rr in tr.iterfind("x:rule-result", XCCDF)}


def test_mixed_fleet_each_host_gets_its_own_benchmark(make_server, collection, tmp_path,
                                                       monkeypatch):
    monkeypatch.setenv("STIGSCAP_USERNAME", USER)
    monkeypatch.setenv("STIGSCAP_PASSWORD", PASSWORD)
    names = list(HOSTS)
    hosts = [host(n) for n in names]
    # a 2013 Mailbox server: no benchmark of the collection covers it
    unknown = ExampleHost(overrides={"Get-ExchangeServer": exchange_server(0, 1497, "Mailbox")})
    unknown.endpoint = "exchange"
    # Get-ExchangeServer returns nothing: the product cannot be told
    blank = ExampleHost(overrides={"Get-ExchangeServer": [lambda objs: []]})
    blank.endpoint = "wsman"
    # Exchange 2019 with ServerRole Edge, but IsEdgeServer False: contradictory role data
    contradictory = ExampleHost(overrides={"Get-ExchangeServer": [
        *exchange_server(2, 1544, "Edge"), set_property("IsEdgeServer", False)]})
    contradictory.endpoint = "wsman"
    # a 2019 Mailbox server in an organization with a 2016 Mailbox server: its own record
    # decides (no 2019 Mailbox benchmark), not the other server's
    mbx19 = ExampleHost(overrides={"Get-ExchangeServer": [
        *exchange_server(2, 1544, "Mailbox"), set_property("Name", "EX2019-MBX"),
        other_server("MBX16", 1, 2507, "Mailbox")]})
    mbx19.endpoint = "exchange"
    srv = make_server(hosts=[*hosts, unknown, blank, contradictory, mbx19])
    entries = [{"host": "127.0.0.1", "port": p, "name": n, "endpoint": HOSTS[n][2]}
               for n, p in zip(names, srv.ports)]
    entries += [{"host": "127.0.0.1", "port": srv.ports[-4], "name": "ex2013-mbx",
                 "endpoint": "exchange"},
                {"host": "127.0.0.1", "port": srv.ports[-3], "name": "no-exchangeserver"},
                {"host": "127.0.0.1", "port": srv.ports[-2], "name": "contradictory"},
                {"host": "127.0.0.1", "port": srv.ports[-1], "name": "ex2019-mbx",
                 "endpoint": "exchange"}]
    inv = tmp_path / "hosts.yaml"
    inv.write_text(json.dumps({"defaults": {"transport": "http", "auth": "ntlm", "retries": 0,
                                            "connection_timeout": 3, "operation_timeout": 2,
                                            "command_timeout": 20},
                               "hosts": entries}))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["scan", str(collection), "--profile", "MAC-1_Classified",
                                  "--inventory", str(inv), "--out", str(out), "--timestamp", TS,
                                  "--no-prompt", "--concurrency", "2", "--processes", "1", "-q"])
    assert r.exit_code == 1, r.output   # the four hosts without a benchmark are errors
    summary = {h["name"]: h for h in json.loads((out / "summary.json").read_text())["hosts"]}

    for n in names:
        bench = HOSTS[n][0]
        content = load_content(builtin_benchmark_dir(bench))
        expected_bench = f"xccdf_mil.disa.stig_benchmark_{content.benchmark.id}"
        assert summary[n]["benchmark"] == expected_bench, (n, summary[n])
        got_bench, results = arf_results(out / summary[n]["files"]["arf"])
        assert got_bench == expected_bench, n
        # every rule of its own benchmark, no rule of another
        assert set(results) == {rule.rule_id for rule in content.rules}, n
        assert "notapplicable" not in results.values(), n   # the platform matched
        _b, _v, _e, error_reporting, feedback = HOSTS[n]
        rules = fact_rules(bench)
        setting = {("Get-ExchangeServer", "ErrorReportingEnabled"): error_reporting,
                   ("Get-OrganizationConfig", "CustomerFeedbackEnabled"): feedback}
        for fact, rule_id in rules.items():
            assert results[rule_id] == ("fail" if setting[fact] else "pass"), (n, fact)

    # registry values: the 2019 Edge host's SchUseStrongCrypto (0) is read over WinRM and
    # fails EX19-ED-000006; the Mailbox host's Exchange endpoint has no Get-ItemProperty, so
    # its IMAP4/POP3 service rules are errors (never a pass)
    _b, results19 = arf_results(out / summary["ex2019-edge"]["files"]["arf"])
    assert results19["SV-259577r960759_rule"] == "fail"
    _b, results_mbx = arf_results(out / summary["ex2016-mbx"]["files"]["arf"])
    assert results_mbx["SV-228371r944805_rule"] == results_mbx["SV-228372r879587_rule"] == "error"
    assert "Get-ItemProperty" in _commands(srv, srv.ports[3])

    # only the Mailbox host used the Exchange management endpoint, and it was asked for the
    # Mailbox benchmark's cmdlets (which the Edge benchmarks do not read)
    paths = {p.strip("/").split("?")[0].lower() for p, _uri in srv.shell_opens}
    assert paths == {"wsman", "powershell"}
    mbx_cmds = {c.lower() for c in _commands(srv, srv.ports[2])}
    edge_cmds = {c.lower() for c in _commands(srv, srv.ports[0])}
    assert "get-owavirtualdirectory" in mbx_cmds and "get-owavirtualdirectory" not in edge_cmds
    assert "add-pssnapin" not in mbx_cmds and "add-pssnapin" in edge_cmds

    for bad, why in (("ex2013-mbx", "no benchmark's platform matches"),
                     ("no-exchangeserver", "cannot be decided"),
                     ("no-exchangeserver", "lists at least the server itself"),
                     ("contradictory", "cannot be decided"),
                     ("contradictory", "IsEdgeServer is False but ServerRole is 'Edge'"),
                     ("ex2019-mbx", "no benchmark's platform matches"),
                     ("ex2019-mbx", "MS_Exchange_2016_Mailbox_Server_STIG (cpe:/a:microsoft:"
                                    "exchange_server:2016::~~~~~mailbox): false")):
        row = summary[bad]
        assert row["status"] == "error" and not row.get("benchmark"), row
        assert why in row["errors"][0], row
        # every benchmark is named with its platform result
        for b in ("MS_Exchange_2013_Edge_STIG", "MS_Exchange_2016_Mailbox_Server_STIG",
                  "MS_Exchange_2019_Edge_Server_STIG"):
            assert b in row["errors"][0]
        assert not (out / f"{bad}.arf.xml").exists()   # never a notapplicable report


def _commands(srv, port) -> list[str]:
    return [c["name"] for rc in srv.received if rc.port == port for c in rc.commands]
