"""Registry values (OVAL registry_object) from offline Get-ItemProperty exports, in the shapes
Windows PowerShell 5.1 writes (UTF-16LE with BOM, PSCustomObject with the provider's PSPath
notes), through the whole path: export → system characteristics → OVAL → XCCDF verdict."""

from __future__ import annotations

import codecs
import json

import pytest
from lxml import etree

from stigscap.evaluator.collect.model import CmdletQuery
from stigscap.evaluator.oval.objects import read_cmdlet_objects, registry_path
from tests.collect.collect_fixtures import collect_queries
from tests.cli_helpers import stigscap
from tests.examples.clixml_writer import I32, I64, Bytes, clixml_bytes
from tests.examples.example_server import copy_exports
from tests.examples.stig_examples import NETFX, SERVICES, _strings, registry_key

HKLM = "HKEY_LOCAL_MACHINE"
IMAP = f"{SERVICES}\\MSExchangeIMAP4"
NS = {"x": "http://checklists.nist.gov/xccdf/1.2"}


def query(key: str, name: str, n: int = 1) -> CmdletQuery:
    return CmdletQuery(f"oval:t:obj:{n}", None, "Get", "ItemProperty",
                       (("LiteralPath", registry_path(HKLM, key)),), kind="registry",
                       target=(HKLM, key, name))


def collect(tmp_path, queries, objects=None, *, data: bytes | None = None, name="Get-ItemProperty.xml"):
    path = tmp_path / name
    path.write_bytes(data if data is not None else clixml_bytes(objects))
    return collect_queries(tmp_path, queries)


def entities(obj) -> list[tuple[str, str | None, str, str]]:
    return [(e.name, e.value, e.datatype, e.status) for it in obj.items for e in it.entities]


def test_each_type_is_told_by_the_dotnet_type_it_was_exported_as(tmp_path):
    key = "SOFTWARE\\stigscap\\Types"
    objs = [registry_key(key, [("Dword", I32(-1)), ("Qword", I64(5)), ("Binary", Bytes(b"\x00\xab")),
                               ("Multi", _strings("a", "b")), ("Text", "C:\\x")])]
    got = collect(tmp_path, [query(key, n, i) for i, n in
                             enumerate(["Dword", "qword", "Binary", "Multi", "Text"], 1)], objs)
    assert [o.flag for o in got] == ["complete"] * 5
    values = [[(e.name, e.value, e.datatype, e.status) for e in o.items[0].entities
               if e.name in ("type", "value")] for o in got]
    assert values == [
        [("type", "reg_dword", "string", "exists"), ("value", "4294967295", "int", "exists")],
        [("type", "reg_qword", "string", "exists"), ("value", "5", "int", "exists")],
        [("type", "reg_binary", "string", "exists"), ("value", "00AB", "binary", "exists")],
        [("type", "reg_multi_sz", "string", "exists"), ("value", "a", "string", "exists"),
         ("value", "b", "string", "exists")],
        # REG_SZ and REG_EXPAND_SZ both arrive as a string: the type is not claimed
        [("type", None, "string", "not collected"), ("value", "C:\\x", "string", "exists")],
    ]
    # the item echoes the object (hive, key, the name as the content spells it)
    assert entities(got[1])[:3] == [("hive", HKLM, "string", "exists"),
                                    ("key", key, "string", "exists"),
                                    ("name", "qword", "string", "exists")]
    assert "REG_SZ and REG_EXPAND_SZ" in " ".join(got[4].messages)


def test_keys_are_matched_by_pspath_and_missing_values_do_not_exist(tmp_path):
    objs = [registry_key(NETFX, [("SchUseStrongCrypto", I32(1))]),
            registry_key(IMAP, [("Start", I32(3))])]
    got = collect(tmp_path, [query(NETFX.upper(), "SchUseStrongCrypto", 1),
                             query(IMAP, "Start", 2), query(IMAP, "Nope", 3),
                             query(f"{SERVICES}\\MSExchangePOP3", "Start", 4)], objs)
    assert [o.flag for o in got] == ["complete", "complete", "does not exist", "not collected"]
    assert ("value", "1", "int", "exists") in entities(got[0])   # key compared case-insensitively
    assert ("value", "3", "int", "exists") in entities(got[1])
    assert "has no value named Nope" in got[2].messages[-1]
    # an export cannot say a key it lacks is missing on the host
    assert "holds no object for key" in got[3].messages[-1] and not got[3].items


@pytest.mark.parametrize("objects,problem", [
    ([registry_key(IMAP, [("Start", I32(3))]), registry_key(IMAP, [("Start", I32(4))])],
     "disagree about value Start"),
    ([registry_key(IMAP, [("Start", True)])], "a Boolean is not a registry value type"),
])
def test_contradictory_or_unmappable_exports_are_errors(tmp_path, objects, problem):
    (got,) = collect(tmp_path, [query(IMAP, "Start")], objects)
    assert got.flag == "error" and not got.items
    assert problem in got.messages[0] and "Get-ItemProperty.xml" in got.messages[0]


def test_a_value_named_like_a_provider_property_is_refused(tmp_path):
    (got,) = collect(tmp_path, [query(IMAP, "PSPath")], [registry_key(IMAP, [("Start", I32(4))])])
    assert got.flag == "error" and "cannot be told from the property" in got.messages[0]


def test_json_numbers_do_not_tell_dword_from_qword(tmp_path):
    data = json.dumps([{"Start": 4, "Blob": [1, 255], "PSPath":
                        f"Microsoft.PowerShell.Core\\Registry::{HKLM}\\{IMAP}"}]).encode()
    got = collect(tmp_path, [query(IMAP, "Start", 1), query(IMAP, "Blob", 2)],
                  data=codecs.BOM_UTF8 + data, name="Get-ItemProperty.json")
    assert ("type", None, "string", "not collected") in entities(got[0])
    assert ("value", "4", "int", "exists") in entities(got[0])
    assert "JSON number" in " ".join(got[0].messages)
    assert ("value", "01FF", "binary", "exists") in entities(got[1])


def test_registry_objects_the_collector_cannot_honour_are_reported():
    W = "http://oval.mitre.org/XMLSchema/oval-definitions-5#windows"
    doc = etree.fromstring(f"""<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5"
      xmlns:w="{W}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><objects>
      <w:registry_object id="oval:t:obj:1" version="1"><w:hive>HKEY_LOCAL_MACHINE</w:hive>
        <w:key operation="pattern match">^SOFTWARE\\\\.*</w:key><w:name>A</w:name></w:registry_object>
      <w:registry_object id="oval:t:obj:2" version="1"><w:behaviors windows_view="32_bit"/>
        <w:hive>HKEY_LOCAL_MACHINE</w:hive><w:key>SOFTWARE</w:key><w:name>A</w:name></w:registry_object>
      <w:registry_object id="oval:t:obj:3" version="1"><w:hive>HKEY_LOCAL_MACHINE</w:hive>
        <w:key>SOFTWARE</w:key><w:name xsi:nil="true"/></w:registry_object>
      <w:registry_object id="oval:t:obj:4" version="2" comment="c"><w:behaviors windows_view="64_bit"/>
        <w:hive>HKEY_USERS</w:hive><w:key>\\S-1-5-18\\Software\\</w:key><w:name>A</w:name></w:registry_object>
    </objects></oval_definitions>""".encode())
    objs = read_cmdlet_objects(doc)
    problems = {q.object_id: p for q, p in objs.unsupported}
    assert "operation 'pattern match'" in problems["oval:t:obj:1"]
    assert "windows_view" in problems["oval:t:obj:2"]
    assert "nil" in problems["oval:t:obj:3"]
    (ok,) = objs.queries
    assert ok.kind == "registry" and ok.version == 2 and ok.verb == "Get"
    assert ok.parameters == (("LiteralPath", "Registry::HKEY_USERS\\S-1-5-18\\Software"),)
    assert ok.target == ("HKEY_USERS", "S-1-5-18\\Software", "A")


@pytest.fixture
def mailbox_exports(tmp_path):
    return copy_exports("mailbox2016", tmp_path / "exports")


def _verdicts(tmp_path, folder) -> dict[str, tuple[str, list[str]]]:
    out = tmp_path / "out"
    r = stigscap("run", "--from", folder, "--benchmark", "exchange2016_mailbox", "-o", out,
                 "--timestamp", "2026-01-01T00:00:00")
    assert r.rc in (1, 2), r.err
    arf = etree.parse(str(next(out.glob("*-arf.xml"))))
    got = {}
    for rr in arf.iterfind(".//x:rule-result", NS):
        got[rr.get("version")] = (rr.findtext("x:result", namespaces=NS),
                                  [i.text for i in rr.findall("x:instance", NS)])
    return got


def test_a_service_key_missing_from_the_export_is_never_a_pass(tmp_path, mailbox_exports):
    """IMAP4's rule passes when the service is not installed (check_existence any_exist), so
    an export that simply lacks the key must not read as 'not installed'."""
    key_only_pop3 = [registry_key(f"{SERVICES}\\MSExchangePOP3", [("Start", I32(4))])]
    (mailbox_exports / "Get-ItemProperty.xml").write_bytes(clixml_bytes(key_only_pop3))
    got = _verdicts(tmp_path, mailbox_exports)
    assert got["EX16-MB-000190"] == ("pass", [])
    assert got["EX16-MB-000180"][0] == "unknown"
    arf = (tmp_path / "out").glob("*-arf.xml")
    assert f"holds no object for key {HKLM}\\{IMAP}" in next(arf).read_text()


def test_the_disabled_service_passes_and_the_manual_one_is_named(tmp_path, mailbox_exports):
    got = _verdicts(tmp_path, mailbox_exports)
    assert got["EX16-MB-000180"] == ("fail", [f"{HKLM}\\{IMAP}\\Start"])
    assert got["EX16-MB-000190"] == ("pass", [])
    # the same value as a REG_SZ "4" is not the REG_DWORD the rule wants: never a pass
    (mailbox_exports / "Get-ItemProperty.xml").write_bytes(clixml_bytes([
        registry_key(IMAP, [("Start", "4")]),
        registry_key(f"{SERVICES}\\MSExchangePOP3", [("Start", I32(4))])]))
    got = _verdicts(tmp_path, mailbox_exports)
    assert got["EX16-MB-000180"][0] not in ("pass", "notapplicable")
