"""Live collection from a test-server host serving the built-in example (EDGE01, every cmdlet
the content uses, typed PSRP values) equals the offline import of content/examples, for every
cmdlet_object of the full data stream."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.winrm.fleet_psobjects import ExampleHost, ps_value
from lxml import etree

from stigscap.evaluator.cli.main import main
from tests.conftest import REPO
from tests.examples import clixml_writer as cw
from tests.examples import example_server as ex

TS = "2026-01-01T00:00:00Z"
W = "http://oval.mitre.org/XMLSchema/oval-definitions-5#windows"


@pytest.fixture(scope="session")
def full_ds(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fleet-ds") / "ds.xml"
    r = CliRunner().invoke(main, ["generate", "--content", str(REPO / "content"), "-o", str(out),
                                  "--timestamp", "2026-01-01T00:00:00"])
    assert r.exit_code == 0, r.output
    return out




def items_by_object(path: Path) -> dict[str, tuple[str, list]]:
    """object id → (flag, value records of its item: [(field name, datatype, text), ...] each)."""
    root = etree.parse(str(path)).getroot()
    items = {el.get("id"): el for el in root.iter("{*}cmdlet_item")}
    out = {}
    for obj in root.iter("{*}object"):
        refs = [r.get("item_ref") for r in obj.iter("{*}reference")]
        recs = []
        for ref in refs:
            for value in items[ref].findall("{*}value"):
                recs.append([(f.get("name"), f.get("datatype") or "string", f.text or "")
                             for f in value])
        out[obj.get("id")] = (obj.get("flag"), recs)
    return out


def test_adapter_keeps_the_typed_values():
    """The psrpcore objects carry the .NET types (not pre-rendered strings)."""
    from psrpcore.types import PSDuration, PSEnumBase, PSList, PSObject
    v = ps_value(ex.minutes(5))   # an Exchange setting: EnhancedTimeSpan, as remoting sends it
    assert isinstance(v, PSObject) and v.PSObject.to_string == "00:05:00"
    assert v.PSObject.type_names[0] == "Microsoft.Exchange.Data.EnhancedTimeSpan"
    assert v.Ticks == 300 * 10_000_000
    plain = ps_value(cw.TimeSpan(300, enhanced=False))
    assert isinstance(plain, PSDuration) and plain.total_seconds() == 300
    e = ps_value(cw.enum("X.AuthMechanisms", ex.AUTH_MECHANISMS, "Tls, ExchangeServer"))
    assert isinstance(e, PSEnumBase) and int(e) == 17 and "System.Enum" in e.PSObject.type_names
    b = ps_value(cw.byte_size(10 * ex.MB))
    assert isinstance(b, PSObject) and b.PSObject.to_string == "10 MB (10,485,760 bytes)"
    u = ps_value(cw.unlimited_int(None))
    assert u.PSObject.to_string == "Unlimited"
    lst = ps_value(ex.strings(["a", "b"]))
    assert isinstance(lst, PSList) and list(lst) == ["a", "b"]
    assert lst.PSObject.type_names[0].startswith("Microsoft.Exchange.Data.MultiValuedProperty`1")


def test_live_collection_of_the_example_equals_its_offline_import(make_server, full_ds, tmp_path, env):
    srv = make_server(hosts=[ExampleHost()])
    live = tmp_path / "live.xml"
    r = CliRunner().invoke(main, ["collect", "-d", str(full_ds), "--host", "127.0.0.1", "--port",
                                  str(srv.port), "--transport", "http", "--auth", "ntlm", "--no-prompt",
                                  "--retries", "0", "-o", str(live), "--timestamp", TS])
    assert r.exit_code == 0, r.output + "\n".join(m.text or "" for m in etree.parse(str(live)).iter("{*}message") if "error" in (m.get("level") or ""))
    offline = tmp_path / "offline.xml"
    r = CliRunner().invoke(main, ["collect", "-d", str(full_ds), "--from", str(REPO / "content" / "examples" / "edge2013"),
                                  "-o", str(offline), "--timestamp", TS])
    assert r.exit_code == 0, r.output
    live_items, offline_items = items_by_object(live), items_by_object(offline)
    queries = {o.get("id") for o in etree.parse(str(full_ds)).iter(f"{{{W}}}cmdlet_object")}
    assert set(live_items) == set(offline_items) == queries
    assert len(queries) >= 50
    for oid in sorted(queries):
        assert live_items[oid] == offline_items[oid], oid
    # equal because both collected, not because both failed the same way
    flags = {oid: flag for oid, (flag, _) in live_items.items()}
    assert {o for o, f in flags.items() if f != "complete"} == {"oval:mil.disa.stig:obj:6989501"}
    assert all(recs for oid, (_, recs) in live_items.items() if flags[oid] == "complete")
    # every cmdlet was asked of the host (once per object), never through a script
    sent = [c for rc in srv.received for c in rc.commands]
    assert all(not c["is_script"] for c in sent)
    asked = {c["name"] for c in sent}
    assert {f"Get-{n}" for n in ("ReceiveConnector", "SendConnector", "TransportConfig",
                                 "SenderReputationConfig", "EventLogLevel", "IPAllowListEntry",
                                 "ExchangeCertificate", "TransportAgent")} <= asked
    # the typed values arrived and were normalized the same way on both paths
    flat = {(oid, f) for oid, (_, recs) in live_items.items() for rec in recs for f in rec}
    texts = {f for _, f in flat}
    assert ("connectiontimeout", "string", "00:05:00") in texts
    assert ("maxmessagesize", "string", "10 MB (10,485,760 bytes)") in texts
    assert ("authmechanism", "string", "Tls, ExchangeServer") in texts
    assert ("errorreportingenabled", "boolean", "true") in texts
    assert ("srlblockthreshold", "int", "7") in texts
    assert ("internalsmtpservers", "string", "192.0.2.11") in texts
    assert live_items["oval:mil.disa.stig:obj:6989501"][0] == "does not exist"  # no allow-list entries
    # -Status went out as a Boolean (a switch rejects the string "true")
    status = [c["parameters"] for c in sent if c["name"] == "Get-ExchangeServer" and c["parameters"]]
    assert status and all(p == [("status", True)] for p in status)


def collect_both(srv, full_ds, tmp_path, exports: dict) -> tuple[dict, dict]:
    live = tmp_path / "live.xml"
    r = CliRunner().invoke(main, ["collect", "-d", str(full_ds), "--host", "127.0.0.1", "--port",
                                  str(srv.port), "--transport", "http", "--auth", "ntlm", "--no-prompt",
                                  "--retries", "0", "-o", str(live), "--timestamp", TS])
    assert r.exit_code == 0, r.output
    folder = tmp_path / "exports"
    folder.mkdir()
    for cmdlet, objs in exports.items():
        (folder / f"{cmdlet}.xml").write_bytes(cw.clixml_bytes(objs))
    offline = tmp_path / "offline.xml"
    r = CliRunner().invoke(main, ["collect", "-d", str(full_ds), "--from", str(folder), "-o", str(offline),
                                  "--timestamp", TS])
    assert r.exit_code == 0, r.output
    return items_by_object(live), items_by_object(offline)


def test_deviating_host_live_equals_offline_export_of_the_same_objects(make_server, full_ds, tmp_path, env):
    """Unlimited, zero TimeSpan, odd sizes, other enum members, empty and longer multi-valued
    properties, extra pipeline objects: both paths still give the same records."""
    from tests.winrm.fleet_psobjects import named, set_property
    host = ExampleHost(overrides={
        "Get-ReceiveConnector": [
            set_property("ConnectionTimeout", cw.TimeSpan(86400 + 3723), where=named("Legacy relay EDGE01")),
            set_property("TarpitInterval", cw.TimeSpan(0)),
            set_property("MaxMessageSize", cw.byte_size(64 * 1024), where=named("Anonymous test EDGE01")),
            set_property("MaxInboundConnection", cw.unlimited_int(None)),
            set_property("PermissionGroups", cw.enum("Microsoft.Exchange.Data.PermissionGroups",
                                                     ex.PERMISSION_GROUPS,
                                                     "AnonymousUsers, ExchangeUsers, Custom")),
            set_property("Banner", cw.NIL)],
        "Get-TransportConfig": [set_property("MaxSendSize", cw.unlimited_bytes(None)),
                                set_property("InternalSMTPServers", ex.strings([]))],
        "Get-ExchangeCertificate": [set_property("CertificateDomains", ex.strings(
            ["a.example.mil", "b.example.mil", "c.example.mil"]))],
        "Get-TransportAgent": [lambda objs: objs + [ex.transport_agent("Malware Agent", 11)]],
    })
    srv = make_server(hosts=[host])
    live, offline = collect_both(srv, full_ds, tmp_path, host.exports())
    assert set(live) == set(offline) and len(live) >= 50
    assert {flag for flag, _ in live.values()} == {"complete", "does not exist"}
    for oid in sorted(live):
        assert live[oid] == offline[oid], oid
    texts = {f for _, recs in live.values() for rec in recs for f in rec}
    for expected in [("connectiontimeout", "string", "1.01:02:03"), ("tarpitinterval", "string", "00:00:00"),
                     ("maxmessagesize", "string", "64 KB (65,536 bytes)"),
                     ("maxinboundconnection", "string", "Unlimited"), ("maxsendsize", "string", "Unlimited"),
                     ("permissiongroups", "string", "AnonymousUsers, ExchangeUsers, Custom"),
                     ("banner", "string", ""), ("internalsmtpservers", "string", ""),
                     ("certificatedomains", "string", "c.example.mil"), ("identity", "string", "Malware Agent")]:
        assert expected in texts, expected


def test_oval_parameter_fields_are_bound_with_their_datatype():
    from stigscap.evaluator.collect.winrm import parameter_value
    assert parameter_value("true", "boolean") is True and parameter_value("0", "boolean") is False
    assert parameter_value("25", "int") == 25 and isinstance(parameter_value("25", "int"), int)
    assert parameter_value("true", "string") == "true"          # a string stays a string
    assert parameter_value("x'; Remove-Item C:\\", "boolean") == "x'; Remove-Item C:\\"  # no coercion
