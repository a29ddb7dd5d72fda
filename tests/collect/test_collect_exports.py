"""Offline exports → CollectedObjects → system characteristics, for every export shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from stigscap.evaluator.collect.offline import ExportMap, collect_offline, example_exports_dir
from stigscap.evaluator.oval.objects import read_cmdlet_objects
from stigscap.schemas.xmlio import parse_xml_bytes
from tests.collect.collect_fixtures import (AUTH_VALUES, CONNECTORS, DEFS, assert_valid_syschar,
                                            clixml_text, definitions_root, json_export,
                                            receive_item, run_collect, syschar_for,
                                            write_clixml, write_json)

EXPECTED = [[("name", n, "string"), ("identity", f"EDGE01\\{n}", "string"),
             ("authmechanism", a, "string")] for n, a in CONNECTORS]


def _records(collected):
    return [[(f.name, f.value, f.datatype) for f in rec] for rec in receive_item(
        collected).records]


def _dir(tmp_path: Path, name: str) -> Path:
    d = tmp_path / name
    d.mkdir()
    return d


@pytest.mark.parametrize("encoding", ["utf-16-le-bom", "utf-8", "utf-8-bom"])
@pytest.mark.parametrize("depth", [1, 2])
def test_clixml_encodings_and_depths(tmp_path, encoding, depth):
    d = _dir(tmp_path, "x")
    write_clixml(d / "Get-ReceiveConnector.xml", clixml_text(depth=depth), encoding)
    collected = run_collect(d)
    item = receive_item(collected)
    assert item.flag == "complete" and item.status == "exists"
    assert _records(collected) == EXPECTED


def test_clixml_prefix_and_xml_declaration(tmp_path):
    d = _dir(tmp_path, "x")
    text = "#< CLIXML\r\n" + '<?xml version="1.0" encoding="utf-16"?>' + clixml_text()
    write_clixml(d / "get-receiveconnector.CLIXML", text)
    assert _records(run_collect(d)) == EXPECTED


def test_three_authmechanism_shapes_and_json_give_identical_syschar(tmp_path):
    outputs = {}
    for shape in ("enum", "string", "int"):
        d = _dir(tmp_path, shape)
        write_clixml(d / "Get-ReceiveConnector.xml", clixml_text(auth_shape=shape))
        outputs[shape] = syschar_for(d)
    for label, enums, enc in (("ps51-json", "int", "utf-16-le-bom"),
                              ("ps7-json", "string", "utf-8")):
        d = _dir(tmp_path, label)
        write_json(d / "Get-ReceiveConnector.json", json_export(enums=enums), encoding=enc)
        outputs[label] = syschar_for(d)
    first = outputs["enum"].replace(b"Get-ReceiveConnector.xml", b"EXPORT")
    for label, data in outputs.items():
        data = data.replace(b"Get-ReceiveConnector.xml", b"EXPORT").replace(
            b"Get-ReceiveConnector.json", b"EXPORT")
        assert data == first, label
    out = tmp_path / "sc.xml"
    out.write_bytes(outputs["enum"])
    assert_valid_syschar(out)


def test_json_single_object_is_not_wrapped(tmp_path):
    d = _dir(tmp_path, "x")
    write_json(d / "Get-ReceiveConnector.json", json_export(CONNECTORS[:1], enums="string")[0])
    assert _records(run_collect(d)) == EXPECTED[:1]


def test_json_in_ansi_code_page_is_read_with_a_message(tmp_path):
    d = _dir(tmp_path, "x")
    conns = [("Relais für Partner", "Tls")]
    write_json(d / "Get-ReceiveConnector.json", json_export(conns, enums="int"),
               encoding="cp1252")
    item = receive_item(run_collect(d))
    assert item.records[0][0].value == "Relais für Partner"
    assert any("Windows-1252" in m for m in item.messages)


def test_example_exports(tmp_path):
    collected = collect_offline(read_cmdlet_objects(definitions_root()),
                                ExportMap.from_specs([str(example_exports_dir())]))
    rc = receive_item(collected)
    values = [rec[2].value for rec in rc.records]
    assert values == ["Tls, ExchangeServer", "Tls", "BasicAuth, BasicAuthRequireTLS", "None"]
    server = next(c for c in collected if c.query.noun == "ExchangeServer")
    assert [(f.name, f.value) for f in server.records[0]] == [
        ("name", "EDGE01"), ("serverrole", "Edge"),
        ("admindisplayversion", "Version 15.0 (Build 1497.2)")]
    raw = (example_exports_dir() / "Get-ExchangeServer.xml").read_bytes()
    assert raw.startswith(b"\xff\xfe<\x00O\x00b\x00j\x00s\x00")  # PS 5.1: UTF-16LE + BOM
    # issue 14: exported with -Encoding UTF8 (UTF-8 with BOM), read the same way
    raw = (example_exports_dir() / "Get-ReceiveConnector.xml").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf<Objs ")


def test_missing_export_is_not_collected(tmp_path):
    d = _dir(tmp_path, "x")
    write_clixml(d / "Get-ReceiveConnector.xml", clixml_text())
    collected = run_collect(d)
    server = next(c for c in collected if c.query.noun == "ExchangeServer")
    assert server.flag == "not collected" and "Get-ExchangeServer" in server.messages[0]
    assert receive_item(collected).flag == "complete"


@pytest.mark.parametrize("content, expect", [
    (b"", "empty file"),
    (b"   \r\n", "empty file"),
    (b"\xff\xfe", "empty file"),
])
def test_empty_file_is_an_error(tmp_path, content, expect):
    d = _dir(tmp_path, "x")
    (d / "Get-ReceiveConnector.xml").write_bytes(content)
    item = receive_item(run_collect(d))
    assert (item.flag, item.status) == ("error", "error")
    assert expect in item.messages[0]


def test_no_objects_means_does_not_exist(tmp_path):
    d = _dir(tmp_path, "x")
    write_clixml(d / "Get-ReceiveConnector.xml", clixml_text([]))
    item = receive_item(run_collect(d))
    assert item.flag == "does not exist" and "returned nothing" in item.messages[-1]
    d2 = _dir(tmp_path, "j")
    write_json(d2 / "Get-ReceiveConnector.json", [])
    assert receive_item(run_collect(d2)).flag == "does not exist"


def test_wrong_object_type_is_an_error(tmp_path):
    d = _dir(tmp_path, "x")
    text = clixml_text(selected_type="Selected.Microsoft.Exchange.Data.Directory."
                                     "SystemConfiguration.SmtpSendConnectorConfig")
    write_clixml(d / "Get-ReceiveConnector.xml", text)
    item = receive_item(run_collect(d))
    assert item.flag == "error"
    assert "SmtpSendConnectorConfig" in item.messages[0] and "wrong export" in item.messages[0]


def test_deserialized_type_prefix_is_accepted(tmp_path):
    d = _dir(tmp_path, "x")
    text = clixml_text(selected_type="Deserialized.Selected.Microsoft.Exchange.Data.Directory."
                                     "SystemConfiguration.ReceiveConnector")
    write_clixml(d / "Get-ReceiveConnector.xml", text)
    assert _records(run_collect(d)) == EXPECTED


def test_error_record_export_is_an_error(tmp_path):
    """`Get-ReceiveConnector 2>&1 | Export-Clixml` without the snap-in: an ErrorRecord."""
    d = _dir(tmp_path, "x")
    text = ('<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
            '<Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.ErrorRecord</T>'
            "<T>System.Object</T></TN><ToString>The term 'Get-ReceiveConnector' is not "
            "recognized as the name of a cmdlet, function, script file, or operable program."
            '</ToString><Props><S N="FullyQualifiedErrorId">CommandNotFoundException</S>'
            "</Props></Obj></Objs>")
    write_clixml(d / "Get-ReceiveConnector.xml", text)
    item = receive_item(run_collect(d))
    assert item.flag == "error" and "is not recognized" in item.messages[0]
    d2 = _dir(tmp_path, "j")
    write_json(d2 / "Get-ReceiveConnector.json", {
        "Exception": {"Message": "The term 'Get-ReceiveConnector' is not recognized"},
        "CategoryInfo": {"Category": 13}, "FullyQualifiedErrorId": "CommandNotFoundException"})
    item = receive_item(run_collect(d2))
    assert item.flag == "error" and "is not recognized" in item.messages[0]


def test_missing_selected_property_leaves_the_field_out(tmp_path):
    d = _dir(tmp_path, "x")
    write_clixml(d / "Get-ReceiveConnector.xml", clixml_text(auth_shape="missing"))
    item = receive_item(run_collect(d))
    assert item.flag == "complete"
    assert all([f.name for f in rec] == ["name", "identity"] for rec in item.records)
    assert any("AuthMechanism is missing from 4 of 4" in m for m in item.messages)


def test_export_with_none_of_the_properties_is_an_error(tmp_path):
    d = _dir(tmp_path, "x")
    write_json(d / "Get-ReceiveConnector.json", [{"Foo": 1}, {"Bar": 2}])
    item = receive_item(run_collect(d))
    assert item.flag == "error" and "none of the selected properties" in item.messages[0]


def test_two_exports_for_one_cmdlet_is_an_error(tmp_path):
    d = _dir(tmp_path, "x")
    write_clixml(d / "Get-ReceiveConnector.xml", clixml_text())
    write_json(d / "Get-ReceiveConnector.json", json_export())
    item = receive_item(run_collect(d))
    assert item.flag == "error" and "more than one export" in item.messages[0]


def test_explicit_mapping_by_cmdlet_and_object_id(tmp_path):
    f = write_clixml(tmp_path / "connectors-2026.xml", clixml_text())
    objects = read_cmdlet_objects(definitions_root())
    for key in ("Get-ReceiveConnector", "oval:mil.disa.stig:obj:6993101"):
        collected = collect_offline(objects, ExportMap.from_specs([f"{key}={f}"]))
        assert _records(collected) == EXPECTED


def test_data_stream_input_reads_every_oval_component(tmp_path):
    oval = DEFS.read_text(encoding="utf-8").split("?>", 1)[1]
    ds = f"""<?xml version="1.0" encoding="UTF-8"?>
<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2"
    id="scap_mil.disa.stig_collection_x" schematron-version="1.3">
  <ds:component id="scap_mil.disa.stig_comp_x-oval.xml" timestamp="2026-01-01T00:00:00">
{oval}
  </ds:component>
</ds:data-stream-collection>"""
    root = parse_xml_bytes(ds.encode()).getroot()
    objects = read_cmdlet_objects(root)
    assert [q.object_id for q, _ in objects.all()] == [
        "oval:mil.disa.stig:obj:6993101", "oval:mil.disa.stig:obj:101"]
    q = objects.queries[0]
    assert (q.verb, q.noun, q.select, q.module_name) == (
        "Get", "ReceiveConnector", ("Name", "Identity", "AuthMechanism"),
        "Microsoft.Exchange.Management.PowerShell.SnapIn")


def test_parameters_are_echoed_and_noted(tmp_path):
    text = DEFS.read_text(encoding="utf-8").replace(
        '<win-def:parameters datatype="record" xsi:nil="true"/>\n      <win-def:select '
        'datatype="record">\n        <oval-def:field name="name" datatype="string">Name',
        '<win-def:parameters datatype="record"><oval-def:field name="server" '
        'datatype="string">EDGE01</oval-def:field></win-def:parameters>\n      '
        '<win-def:select datatype="record">\n        <oval-def:field name="name" '
        'datatype="string">Name', 1)
    assert "EDGE01</oval-def:field></win-def:parameters>" in text
    root = parse_xml_bytes(text.encode()).getroot()
    d = _dir(tmp_path, "x")
    write_clixml(d / "Get-ReceiveConnector.xml", clixml_text())
    collected = run_collect(d, defs_root=root)
    item = receive_item(collected)
    assert item.query.parameters == (("server", "EDGE01"),)
    assert any("-server EDGE01" in m for m in item.messages)
    from stigscap.evaluator.collect.model import SystemInfo
    from stigscap.evaluator.collect.syschar import syschar_bytes
    out = tmp_path / "sc.xml"
    out.write_bytes(syschar_bytes(collected, SystemInfo("EDGE01"), timestamp="2026-01-01T00:00:00Z"))
    assert b'<oval-sc:field name="server" datatype="string">EDGE01</oval-sc:field>' in \
        out.read_bytes()
    assert_valid_syschar(out)


def test_example_dir_is_packaged():
    from stigscap.content.loader import load_content
    content = load_content()
    cmdlets = {t.object.cmdlet for r in content.rules if r.check for t in r.check.tests}
    cmdlets |= {t.object.cmdlet for t in content.benchmark.platform.check.tests}
    d = example_exports_dir()
    assert sorted(p.name for p in d.iterdir() if p.suffix == ".xml") == sorted(
        f"{c}.xml" for c in cmdlets)


def test_unselected_full_export_reads_adapted_properties(tmp_path):
    """`Get-ReceiveConnector | Export-Clixml` (no Select-Object): adapted <Props>, ToString."""
    ns = "http://schemas.microsoft.com/powershell/2004/04"
    objs = []
    for i, (name, auth) in enumerate(CONNECTORS):
        tn = ('<TN RefId="0"><T>Microsoft.Exchange.Data.Directory.SystemConfiguration.'
              "ReceiveConnector</T><T>Microsoft.Exchange.Data.Directory.ADConfigurationObject"
              "</T><T>System.Object</T></TN>" if i == 0 else '<TNRef RefId="0" />')
        etn = ('<TN RefId="1"><T>Microsoft.Exchange.Data.Directory.SystemConfiguration.'
               "AuthMechanisms</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object"
               "</T></TN>" if i == 0 else '<TNRef RefId="1" />')
        objs.append(
            f'<Obj RefId="{10 * i}">{tn}<ToString>{name}</ToString><Props>'
            f'<I32 N="MaxInboundConnection">5000</I32><Obj N="AuthMechanism" '
            f'RefId="{10 * i + 1}">{etn}<ToString>{auth}</ToString><I32>{AUTH_VALUES[auth]}</I32></Obj>'
            f'<S N="Name">{name}</S><S N="Identity">EDGE01\\{name}</S>'
            f'<B N="Enabled">true</B></Props></Obj>')
    text = f'<Objs Version="1.1.0.1" xmlns="{ns}">' + "".join(objs) + "</Objs>"
    d = _dir(tmp_path, "x")
    write_clixml(d / "Get-ReceiveConnector.xml", text)
    assert _records(run_collect(d)) == EXPECTED


def test_pwsh_output_stream_records_are_skipped(tmp_path):
    """`pwsh -OutputFormat xml` output: '#< CLIXML' prefix, progress records (S="progress")."""
    text = clixml_text(CONNECTORS[:1])
    progress = ('<Obj S="progress" RefId="99"><TN RefId="98"><T>System.Management.Automation.'
                'PSCustomObject</T><T>System.Object</T></TN><MS><I64 N="SourceId">1</I64>'
                "</MS></Obj>")
    text = "#< CLIXML\n" + text.replace("\r\n  <Obj RefId=\"0\">", progress + "<Obj RefId=\"0\">", 1)
    assert progress in text
    d = _dir(tmp_path, "x")
    write_clixml(d / "Get-ReceiveConnector.xml", text, "utf-8")
    collected = run_collect(d)
    assert _records(collected) == EXPECTED[:1]
    assert any("progress" in m for m in receive_item(collected).messages)


def test_objects_the_collector_cannot_honour_are_flagged_error(tmp_path):
    text = DEFS.read_text(encoding="utf-8").replace(
        '<win-def:noun>ReceiveConnector</win-def:noun>',
        '<win-def:noun var_ref="oval:mil.disa.stig:var:1">ReceiveConnector</win-def:noun>', 1)
    root = parse_xml_bytes(text.encode()).getroot()
    d = _dir(tmp_path, "x")
    write_clixml(d / "Get-ReceiveConnector.xml", clixml_text())
    item = receive_item(run_collect(d, defs_root=root))
    assert item.flag == "error" and "var_ref" in item.messages[0]
