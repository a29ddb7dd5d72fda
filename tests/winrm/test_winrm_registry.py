"""Registry values (OVAL registry_object) collected live: the unmodified pypsrp client against
the loopback WSMan/PSRP test server, which answers Get-ItemProperty -LiteralPath as Windows
does (a PSCustomObject of the key's values plus the provider's notes; PathNotFound for a
missing key). The same data exported offline gives the same registry_items."""

from __future__ import annotations

from click.testing import CliRunner
from lxml import etree
from psrpcore.types import PSInt64

from stigscap.evaluator.cli.main import main
from stigscap.evaluator.collect.model import CmdletQuery
from stigscap.evaluator.collect.winrm import collect_host
from stigscap.evaluator.oval.objects import registry_path
from tests.examples.clixml_writer import I32, I64, Bytes, clixml_bytes
from tests.examples.stig_examples import NETFX, SERVICES, _strings, registry_key
from tests.winrm.fleet_psobjects import ps_value
from tests.winrm.test_winrm_collect import CREDS, opts, sent_commands
from tests.winrm.winrm_testserver import ExchangeHost

HKLM = "HKEY_LOCAL_MACHINE"
TS = "2026-01-01T00:00:00Z"
TYPES = "SOFTWARE\\stigscap\\Types"
# one data set, served live and exported offline
DATA = {
    NETFX: [("SchUseStrongCrypto", I32(1)), ("SystemDefaultTlsVersions", I32(1))],
    TYPES: [("Dword", I32(-2)), ("Qword", I64(1 << 40)), ("Binary", Bytes(b"\x10\x00")),
            ("Multi", _strings("x", "y")), ("Text", "%SystemRoot%")],
}


def live_host(data=DATA, **kw) -> ExchangeHost:
    return ExchangeHost(registry={f"{HKLM}\\{k}": {n: ps_value(v) for n, v in values}
                                  for k, values in data.items()}, **kw)


def query(key: str, name: str, n: int) -> CmdletQuery:
    return CmdletQuery(f"oval:t:obj:{n}", None, "Get", "ItemProperty",
                       (("LiteralPath", registry_path(HKLM, key)),), kind="registry",
                       target=(HKLM, key, name))


def test_values_keys_and_the_commands_sent(make_server):
    srv = make_server(hosts=[live_host()])
    qs = [query(TYPES, n, i) for i, n in enumerate(["Dword", "Qword", "Binary", "Multi", "Text",
                                                     "Absent"], 1)]
    qs.append(query("SOFTWARE\\stigscap\\NoSuchKey", "A", 7))
    r = collect_host("127.0.0.1", qs, opts(srv), CREDS)
    assert r.ok, r.errors
    got = {o.query.target[2]: o for o in r.objects}
    kinds = {n: [(e.name, e.value) for e in o.items[0].entities if e.name in ("type", "value")]
             for n, o in got.items() if o.items}
    assert kinds == {
        "Dword": [("type", "reg_dword"), ("value", str((1 << 32) - 2))],
        # an Int64 survives pypsrp's deserializer as a typed value: a QWORD, not a DWORD
        "Qword": [("type", "reg_qword"), ("value", str(1 << 40))],
        "Binary": [("type", "reg_binary"), ("value", "1000")],
        "Multi": [("type", "reg_multi_sz"), ("value", "x"), ("value", "y")],
        "Text": [("type", None), ("value", "%SystemRoot%")],
    }
    assert got["Absent"].flag == "does not exist" and "no value named Absent" in got["Absent"].messages[-1]
    # a missing key is PowerShell's PathNotFound: the value does not exist, not an error
    assert got["A"].flag == "does not exist" and "PathNotFound" in got["A"].messages[-1]
    # what went to the host: Get-ItemProperty with one literal parameter, nothing else
    sent = sent_commands(srv)
    reads = [c for c in sent if c["name"] == "Get-ItemProperty"]
    assert len(reads) == 7 and all(not c["is_script"] for c in sent)
    assert reads[0]["parameters"] == [("LiteralPath", f"Registry::{HKLM}\\{TYPES}")]
    pipelines = [rc.commands for rc in srv.received if rc.commands]
    assert all(len(p) == 1 for p in pipelines if p[0]["name"] == "Get-ItemProperty")
    assert {p[0]["name"] for p in pipelines} <= {"Get-ItemProperty", "Get-PSSnapin",
                                                 "Get-CimInstance"}   # the probe


def test_the_exchange_endpoint_cannot_read_the_registry_and_says_so(make_server):
    srv = make_server(hosts=[live_host()], exchange_endpoint=True)
    r = collect_host("127.0.0.1", [query(NETFX, "SchUseStrongCrypto", 1)],
                     opts(srv, endpoint="exchange"), CREDS)
    (obj,) = r.objects
    assert obj.flag == "error" and not obj.items
    assert "--endpoint wsman" in obj.messages[0] and "not recognized" in obj.messages[0]


def registry_items(path) -> dict[str, tuple[str | None, list[bytes]]]:
    """registry object id → (flag, its items' XML without ids)."""
    root = etree.parse(str(path)).getroot()
    items = {el.get("id"): el for el in root.iter("{*}registry_item")}
    out = {}
    for obj in root.iter("{*}object"):
        if ":obj:" not in obj.get("id", ""):
            continue
        refs = [r.get("item_ref") for r in obj.iter("{*}reference")]
        xml = []
        for ref in refs:
            if ref in items:
                el = items[ref]
                el.attrib.pop("id")
                xml.append(etree.tostring(el, with_tail=False))
        if xml or obj.get("comment", "").startswith("registry value"):
            out[obj.get("id")] = (obj.get("flag"), xml)
    return out


def test_live_and_offline_give_the_same_registry_items(make_server, tmp_path, env):
    ds = tmp_path / "ds.xml"
    r = CliRunner().invoke(main, ["generate", "--benchmark", "exchange2016_mailbox", "--rule",
                                  "EX16-MB-000180", "--rule", "EX16-MB-000190", "-o", str(ds),
                                  "--timestamp", TS])
    assert r.exit_code == 0, r.output
    data = {f"{SERVICES}\\MSExchangeIMAP4": [("Start", I32(3)), ("DependOnService",
                                                                  _strings("MSExchangeADTopology"))],
            f"{SERVICES}\\MSExchangePOP3": [("Start", I32(4))]}
    # a 2016 Mailbox server reached over WinRM (the Exchange endpoint has no Get-ItemProperty)
    srv = make_server(hosts=[live_host(data, role=2, version="Version 15.1 (Build 2507.6)",
                                       endpoint="wsman")])
    live = tmp_path / "live.xml"
    r = CliRunner().invoke(main, ["collect", "-d", str(ds), "--host", "127.0.0.1", "--port",
                                  str(srv.port), "--transport", "http", "--auth", "ntlm",
                                  "--no-prompt", "--retries", "0", "-o", str(live),
                                  "--timestamp", TS])
    assert r.exit_code == 0, r.output
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "Get-ItemProperty.xml").write_bytes(
        clixml_bytes([registry_key(k, v) for k, v in data.items()]))
    offline = tmp_path / "offline.xml"
    r = CliRunner().invoke(main, ["collect", "-d", str(ds), "--from", str(exports), "-o",
                                  str(offline), "--timestamp", TS])
    # the platform's Get-ExchangeServer was not exported: that object alone is not collected
    assert r.exit_code == 1 and "1 of 3 object(s) not collected" in r.output, r.output
    assert "(Get-ItemProperty): complete, 1 registry item(s)" in r.output
    live_items, offline_items = registry_items(live), registry_items(offline)
    assert len(live_items) == 2 and live_items == offline_items
    assert all(flag == "complete" and len(xml) == 1 for flag, xml in live_items.values())
    assert any(b">3</" in xml[0] for _, xml in live_items.values())
    # and the verdicts follow: IMAP4 (Start 3) fails, POP3 (Start 4) passes, live as offline
    arf = tmp_path / "arf.xml"
    r = CliRunner().invoke(main, ["eval", str(ds), "--profile", "MAC-1_Classified",
                                  "--system-characteristics", str(live), "--results-arf",
                                  str(arf), "--timestamp", TS])
    ns = {"x": "http://checklists.nist.gov/xccdf/1.2"}
    results = {rr.get("version"): rr.findtext("x:result", namespaces=ns)
               for rr in etree.parse(str(arf)).iterfind(".//x:rule-result", ns)}
    assert {k: v for k, v in results.items() if k in ("EX16-MB-000180", "EX16-MB-000190")} == \
        {"EX16-MB-000180": "fail", "EX16-MB-000190": "pass"}, r.output


def test_the_typed_int64_is_the_value_psrpcore_would_give():
    """The live deserializer keeps <I64> typed (a QWORD) and <I32> a plain int (a DWORD), the
    distinction psrpcore makes for the offline import."""
    from xml.etree import ElementTree as ET

    from stigscap.evaluator.collect.pypsrp_compat import use_typed_serializer

    class Pool:
        _serializer = None

        class _fragmenter:
            serializer = None

    pool = Pool()
    use_typed_serializer(pool)
    ser = pool._serializer
    assert isinstance(ser.deserialize(ET.fromstring("<I64>7</I64>"), clear=False), PSInt64)
    got = ser.deserialize(ET.fromstring("<I32>7</I32>"), clear=False)
    assert type(got) is int and got == 7



def test_a_fleet_scan_keeps_two_values_of_one_key_apart():
    """The scan runs each distinct call once for all benchmarks of a collection; two registry
    values of the same key are the same call but different items, never one answer for both."""
    from stigscap.evaluator.collect.model import CollectedObject, SystemInfo
    from stigscap.evaluator.collect.winrm import HostCollection
    from stigscap.evaluator.fleet.scan import _collect_deduplicated

    a, b = query(NETFX, "SchUseStrongCrypto", 1), query(NETFX, "SystemDefaultTlsVersions", 2)
    twin = query(NETFX, "SchUseStrongCrypto", 3)   # the same value under another object id
    asked: list[CmdletQuery] = []

    def collector(address, queries, options, creds):
        asked.extend(queries)
        return HostCollection(address, SystemInfo(address), [
            CollectedObject(q, messages=[q.target[2]]) for q in queries], [], 0.0, 1)

    got = _collect_deduplicated(collector, "h", [a, b, twin], None, None)
    assert asked == [a, b]
    assert [(o.query.object_id, o.messages) for o in got.objects] == [
        ("oval:t:obj:1", ["SchUseStrongCrypto"]), ("oval:t:obj:2", ["SystemDefaultTlsVersions"]),
        ("oval:t:obj:3", ["SchUseStrongCrypto"])]
