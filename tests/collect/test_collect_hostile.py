"""Hostile and broken exports: never a traceback, never a partial file, always valid output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from stigscap.evaluator.collect.model import SystemInfo
from stigscap.evaluator.collect.syschar import syschar_bytes, xml_safe_text
from tests.collect.collect_fixtures import (STAMP, assert_valid_syschar, clixml_text,
                                            receive_item, run_collect, write_clixml,
                                            write_json)

NS = "http://schemas.microsoft.com/powershell/2004/04"


def _collect_and_write(d: Path, tmp_path: Path):
    collected = run_collect(d)
    out = tmp_path / "sc.xml"
    out.write_bytes(syschar_bytes(collected, SystemInfo("EDGE01"), timestamp=STAMP))
    assert_valid_syschar(out)
    return receive_item(collected), out


def _mk(tmp_path: Path, content: bytes, name: str = "Get-ReceiveConnector.xml") -> Path:
    d = tmp_path / "exports"
    d.mkdir(exist_ok=True)
    (d / name).write_bytes(content)
    return d


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncated_clixml_is_an_error_not_a_partial_result(tmp_path, cut):
    data = b"\xff\xfe" + clixml_text().encode("utf-16-le")
    n = int(len(data) * cut) // 2 * 2
    item, _ = _collect_and_write(_mk(tmp_path, data[:n]), tmp_path)
    assert item.flag == "error" and item.records == []
    assert "truncated" in item.messages[0]


def test_truncated_json_is_an_error(tmp_path):
    text = json.dumps([{"Name": "a", "Identity": "b", "AuthMechanism": 1}] * 3)
    item, _ = _collect_and_write(_mk(tmp_path, text[:-7].encode(), "Get-ReceiveConnector.json"),
                                 tmp_path)
    assert item.flag == "error" and "not valid JSON" in item.messages[0]


BOMB = ('<?xml version="1.0"?>\n<!DOCTYPE Objs [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">'
        '<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">'
        '<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;"><!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">]>'
        f'<Objs Version="1.1.0.1" xmlns="{NS}"><Obj RefId="0"><MS><S N="Name">&i;</S>'
        '<S N="AuthMechanism">Tls</S></MS></Obj></Objs>')
XXE = ('<?xml version="1.0"?>\n<!DOCTYPE Objs [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       f'<Objs Version="1.1.0.1" xmlns="{NS}"><Obj RefId="0"><MS><S N="Name">&x;</S>'
       '<S N="AuthMechanism">Tls</S></MS></Obj></Objs>')


@pytest.mark.parametrize("doc", [BOMB, XXE], ids=["billion-laughs", "external-entity"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le-bom"])
def test_dtd_and_entities_are_refused(tmp_path, doc, encoding):
    d = tmp_path / "exports"
    d.mkdir()
    write_clixml(d / "Get-ReceiveConnector.xml", doc, encoding)
    item, out = _collect_and_write(d, tmp_path)
    assert item.flag == "error" and "DTD" in item.messages[0]
    assert b"root:" not in out.read_bytes()


def test_control_characters_and_markup_in_names_are_escaped(tmp_path):
    names = [("Evil <script>&amp;\"' ]]> EDGE01", "Tls"),
             ("Ctl \x01\x08\x0b\x1f\ufffe end", "None"),
             ("Looks escaped _x0041_ already", "Tls"),
             ("Tab\tand\r\nnewline", "Tls")]
    d = tmp_path / "exports"
    d.mkdir()
    write_clixml(d / "Get-ReceiveConnector.xml", clixml_text(names))
    item, out = _collect_and_write(d, tmp_path)
    assert item.flag == "complete"
    doc = etree.parse(str(out))
    fields = doc.findall(".//{*}value/{*}field[@name='name']")
    got = [f.text for f in fields]
    assert got[0] == "Evil <script>&amp;\"' ]]> EDGE01"
    assert got[1] == "Ctl _x0001__x0008__x000B__x001F__xFFFE_ end"
    assert got[2] == "Looks escaped _x005F_x0041_ already"
    assert got[3] == "Tab\tand\r\nnewline"  # CR kept as &#13;
    assert any("_xHHHH_" in m for m in item.messages) or b"_xHHHH_" in out.read_bytes()


def test_xml_safe_text_is_reversible():
    import re
    for text in ["plain", "a\x00b", "_x0041_", "_x005F_x0041_", "\ud800x", "\x1f_x1234_\x02"]:
        safe, _ = xml_safe_text(text)
        back = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), safe)
        assert back == text


def test_unknown_flag_names_are_kept_but_unknown_bits_are_an_error(tmp_path):
    d = tmp_path / "exports"
    d.mkdir()
    conns = [("A", "Tls, Kerberos"), ("B", "Tls")]
    write_clixml(d / "Get-ReceiveConnector.xml", clixml_text(conns, auth_shape="string"))
    item, _ = _collect_and_write(d, tmp_path)
    assert [r[2].value for r in item.records] == ["Tls, Kerberos", "Tls"]
    assert any("Kerberos" in m for m in item.messages)
    # a number the AuthMechanisms table does not cover is never a compared value
    d2 = tmp_path / "json"
    d2.mkdir()
    write_json(d2 / "Get-ReceiveConnector.json",
               [{"Name": "A", "Identity": "x\\A", "AuthMechanism": 129}])
    item, _ = _collect_and_write(d2, tmp_path)
    assert item.flag == "error" and item.records == []
    assert any("Get-ReceiveConnector.json" in m and "'x\\A'" in m and "AuthMechanism" in m
               and "129" in m for m in item.messages), item.messages


@pytest.mark.parametrize("content, expect", [
    (b"\x00\x01\x02garbage\xff", "not"),
    (b"<html><body>oops</body></html>", "not an Export-Clixml file"),
    (b'<Objs xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj RefId="0">'
     b'<TNRef RefId="9"/><MS/></Obj></Objs>', "undefined type list"),
    (b'<Objs xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj RefId="0">'
     b'<MS><Ref N="Name" RefId="7"/></MS></Obj></Objs>', "undefined object"),
    (b'<Objs xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj RefId="0"><MS>'
     b'<I32 N="AuthMechanism">notanumber</I32></MS></Obj></Objs>', "cannot be deserialized"),
    (b"[" * 100000, "JSON"),
    (b'{"Name": "a", "AuthMechanism": 1', "not valid JSON"),
    (b"42", "bare int"),
])
def test_broken_inputs_are_errors_with_messages(tmp_path, content, expect):
    name = "Get-ReceiveConnector.json" if content[:1] in b"[{4" else "Get-ReceiveConnector.xml"
    item, _ = _collect_and_write(_mk(tmp_path, content, name), tmp_path)
    assert item.flag == "error", item.messages
    assert expect in item.messages[0]


def test_deep_clixml_nesting_is_an_error(tmp_path):
    inner = "<S>x</S>"
    for _ in range(400):
        inner = f'<Obj RefId="1"><LST>{inner}</LST></Obj>'
    named = inner.replace("<Obj RefId", '<Obj N="Name" RefId', 1)
    doc = f'<Objs Version="1.1.0.1" xmlns="{NS}"><Obj RefId="0"><MS>{named}</MS></Obj></Objs>'
    item, _ = _collect_and_write(_mk(tmp_path, doc.encode()), tmp_path)
    assert item.flag == "error" and "nested" in item.messages[0]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le-bom", "utf-16-be"])
def test_refs_across_objects_are_expanded(tmp_path, encoding):
    """<Ref> targets are found by a byte search in the file's own encoding."""
    doc = (f'<Objs Version="1.1.0.1" xmlns="{NS}">'
           '<Obj RefId="0"><TN RefId="0"><T>Selected.X.ReceiveConnector</T><T>System.Object</T>'
           '</TN><MS><S N="Name">A</S><Obj N="AuthMechanism" RefId="1"><TN RefId="1">'
           "<T>X.AuthMechanisms</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T>"
           "</TN><ToString>Tls</ToString><I32>1</I32></Obj></MS></Obj>"
           '<Obj RefId="2"><TNRef RefId="0"/><MS><S N="Name">B</S><Ref N="AuthMechanism" '
           'RefId="1"/></MS></Obj></Objs>')
    d = tmp_path / "exports"
    d.mkdir()
    write_clixml(d / "Get-ReceiveConnector.xml", doc, encoding)
    item, _ = _collect_and_write(d, tmp_path)
    assert [[f.value for f in r] for r in item.records] == [["A", "Tls"], ["B", "Tls"]]


def test_many_connectors_stream(tmp_path):
    """A large export (scaled down here; bench/collect_100k.py runs 100,000)."""
    conns = [(f"Connector {i:05d} EDGE01", "Tls" if i % 3 else "None") for i in range(3000)]
    d = tmp_path / "exports"
    d.mkdir()
    write_clixml(d / "Get-ReceiveConnector.xml", clixml_text(conns))
    item, out = _collect_and_write(d, tmp_path)
    assert len(item.records) == 3000
    assert item.records[2999][0].value == "Connector 02999 EDGE01"
    assert out.read_bytes().count(b"<win-sc:value ") == 3000
