"""The value normaliser on real deserializer output: psrpcore (offline + live) and pypsrp."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from psrpcore.types import PSCryptoProvider, deserialize_clixml

from stigscap.evaluator.collect.normalize import (AUTH_MECHANISMS, flags_to_text, normalize_value,
                                          record_from_object, timespan_from_xs_duration,
                                          to_fields)

NS = "http://schemas.microsoft.com/powershell/2004/04"


def _one(clixml_members: str):
    """psrpcore-deserialized PSCustomObject with the given <MS> members."""
    text = (f'<Objs Version="1.1.0.1" xmlns="{NS}"><Obj RefId="0"><TN RefId="0">'
            "<T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN>"
            f"<MS>{clixml_members}</MS></Obj></Objs>")
    return deserialize_clixml(text, PSCryptoProvider())[0]


@pytest.mark.parametrize("value, text", [
    (0, "None"), (1, "Tls"), (17, "Tls, ExchangeServer"), (12, "BasicAuth, BasicAuthRequireTLS"),
    (63, "Tls, Integrated, BasicAuth, BasicAuthRequireTLS, ExchangeServer, "
         "ExternalAuthoritative"),
    (64, "64"), (65, "65"),
])
def test_flags_print_like_dotnet_enum_tostring(value, text):
    assert flags_to_text(value, AUTH_MECHANISMS)[0] == text


def test_authmechanism_three_shapes_normalize_identically():
    obj = _one('<Obj N="AuthMechanism" RefId="1"><TN RefId="1"><T>Microsoft.Exchange.Data.'
               "Directory.SystemConfiguration.AuthMechanisms</T><T>System.Enum</T>"
               "<T>System.ValueType</T><T>System.Object</T></TN><ToString>Tls, ExchangeServer"
               "</ToString><I32>17</I32></Obj>"
               '<S N="AsString">Tls, ExchangeServer</S><I32 N="AsInt">17</I32>')
    as_enum = to_fields("AuthMechanism", obj.AuthMechanism)[0]
    as_str = to_fields("AuthMechanism", obj.AsString)[0]
    as_int = to_fields("AuthMechanism", obj.AsInt)[0]
    assert as_enum == as_str == as_int
    assert [(f.name, f.value, f.datatype) for f in as_enum] == [
        ("authmechanism", "Tls, ExchangeServer", "string")]


def test_unknown_flag_bits_are_an_error_unknown_names_are_kept_with_a_message():
    (n,) = normalize_value(64 | 1, property_name="AuthMechanism")
    assert n.text == "" and n.error and "65" in n.error and "AuthMechanisms" in n.error
    (n,) = normalize_value("Tls, Kerberos", property_name="AuthMechanism")
    assert n.text == "Tls, Kerberos" and "Kerberos" in n.messages[0]
    (n,) = normalize_value("exchangeserver,  TLS", property_name="AuthMechanism")
    assert n.text == "Tls, ExchangeServer" and not n.messages


def test_enum_object_whose_text_disagrees_with_its_number_is_an_error():
    obj = _one('<Obj N="AuthMechanism" RefId="1"><TN RefId="1"><T>X.AuthMechanisms</T>'
               "<T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN>"
               "<ToString>Tls</ToString><I32>2</I32></Obj>")
    (n,) = normalize_value(obj.AuthMechanism, property_name="AuthMechanism")
    assert n.text == "" and n.number == 2 and "'Tls'" in n.error and "Integrated" in n.error


def test_timespan_clixml_json_and_xs_duration_agree():
    obj = _one('<TS N="A">PT5M</TS><TS N="B">P0DT0H5M0S</TS><TS N="C">P1DT2H3M4.5S</TS>'
               '<TS N="D">-PT30S</TS>')
    assert normalize_value(obj.A)[0].text == "00:05:00"
    assert normalize_value(obj.B)[0].text == "00:05:00"
    assert normalize_value(obj.C)[0].text == "1.02:03:04.5000000"
    assert normalize_value(obj.D)[0].text == "-00:00:30"
    json_ts = {"Ticks": 3_000_000_000, "Days": 0, "Hours": 0, "Minutes": 5, "Seconds": 0,
               "TotalSeconds": 300.0, "TotalMinutes": 5.0}
    (n,) = normalize_value(json_ts, property_name="ConnectionTimeout")
    assert (n.text, n.kind, n.number) == ("00:05:00", "timespan", 300.0)
    assert timespan_from_xs_duration("P0DT0H5M0S") == "00:05:00"


def test_bytequantifiedsize_and_unlimited():
    obj = _one('<Obj N="Max" RefId="1"><TN RefId="1"><T>Microsoft.Exchange.Data.'
               "ByteQuantifiedSize</T><T>System.ValueType</T><T>System.Object</T></TN>"
               "<ToString>10 MB (10,485,760 bytes)</ToString></Obj>"
               '<Obj N="Quota" RefId="2"><TN RefId="2"><T>Microsoft.Exchange.Data.Unlimited`1'
               "[[Microsoft.Exchange.Data.ByteQuantifiedSize, Microsoft.Exchange.Data]]</T>"
               "<T>System.ValueType</T><T>System.Object</T></TN><ToString>Unlimited</ToString>"
               '<Props><B N="IsUnlimited">true</B><Nil N="Value" /></Props></Obj>'
               '<S N="Remote">35 MB (36,700,160 bytes)</S>')
    (n,) = normalize_value(obj.Max)
    assert (n.text, n.kind, n.number, n.datatype) == (
        "10 MB (10,485,760 bytes)", "bytesize", 10_485_760, "string")
    (n,) = normalize_value(obj.Quota)
    assert (n.text, n.kind) == ("Unlimited", "unlimited")
    # the live path receives the same value as a plain string: same field text
    assert normalize_value(obj.Remote)[0].text == "35 MB (36,700,160 bytes)"
    assert normalize_value({"IsUnlimited": True, "Value": None})[0].text == "Unlimited"


def test_booleans_ints_nulls_and_multivalued():
    obj = _one('<B N="Enabled">true</B><B N="Off">false</B><I32 N="Max">200</I32>'
               '<Nil N="Comment" /><Obj N="Bindings" RefId="1"><TN RefId="1"><T>Microsoft.'
               "Exchange.Data.MultiValuedProperty`1[[Microsoft.Exchange.Data.IPBinding]]</T>"
               "<T>System.Object</T></TN><LST><S>0.0.0.0:25</S><S>[::]:25</S></LST></Obj>"
               '<Obj N="Empty" RefId="2"><TN RefId="2"><T>System.Object[]</T><T>System.Array'
               "</T><T>System.Object</T></TN><LST /></Obj>")
    fields, messages, missing = record_from_object(
        obj, ["Enabled", "off", "MAX", "Comment", "Bindings", "Empty", "Nope"])
    assert [(f.name, f.value, f.datatype) for f in fields] == [
        ("enabled", "true", "boolean"), ("off", "false", "boolean"), ("max", "200", "int"),
        ("comment", "", "string"), ("bindings", "0.0.0.0:25", "string"),
        ("bindings", "[::]:25", "string"), ("empty", "", "string")]
    assert missing == ["Nope"]
    # the same values as JSON
    j = {"Enabled": True, "Off": False, "Max": 200, "Comment": None,
         "Bindings": ["0.0.0.0:25", "[::]:25"], "Empty": []}
    jfields, _, _ = record_from_object(j, ["Enabled", "off", "MAX", "Comment", "Bindings",
                                          "Empty"])
    assert jfields == fields


def test_pypsrp_generic_complex_objects_give_the_same_fields():
    """The live path's pypsrp 0.9 objects (real deserializer) normalize like psrpcore's."""
    from pypsrp.serializer import Serializer
    xml = ('<Obj RefId="0"><TN RefId="0"><T>Selected.Microsoft.Exchange.Data.Directory.'
           "SystemConfiguration.ReceiveConnector</T><T>System.Management.Automation."
           'PSCustomObject</T><T>System.Object</T></TN><MS><S N="Name">Default EDGE01</S>'
           '<Obj N="Identity" RefId="1"><TN RefId="1"><T>Microsoft.Exchange.Data.Directory.'
           "ADObjectId</T><T>System.Object</T></TN><ToString>EDGE01\\Default EDGE01</ToString>"
           '<Props><S N="Name">Default EDGE01</S></Props></Obj><Obj N="AuthMechanism" '
           'RefId="2"><TN RefId="2"><T>Microsoft.Exchange.Data.Directory.SystemConfiguration.'
           "AuthMechanisms</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T>"
           "</TN><ToString>Tls, ExchangeServer</ToString><I32>17</I32></Obj>"
           '<B N="Enabled">true</B></MS></Obj>')
    gco = Serializer().deserialize(ET.fromstring(xml))
    via_pypsrp, _, _ = record_from_object(gco, ["Name", "Identity", "AuthMechanism", "Enabled"])
    ps = deserialize_clixml(f'<Objs Version="1.1.0.1" xmlns="{NS}">{xml}</Objs>',
                            PSCryptoProvider())[0]
    via_psrpcore, _, _ = record_from_object(ps, ["Name", "Identity", "AuthMechanism",
                                                 "Enabled"])
    assert via_pypsrp == via_psrpcore
    assert [f.value for f in via_psrpcore] == ["Default EDGE01", "EDGE01\\Default EDGE01",
                                              "Tls, ExchangeServer", "true"]


def test_json_version_object_and_unknown_json_object():
    (n,) = normalize_value({"Major": 15, "Minor": 0, "Build": 1497, "Revision": 2},
                           property_name="AdminDisplayVersion")
    assert n.text == "Version 15.0 (Build 1497.2)"
    (n,) = normalize_value({"DistinguishedName": "CN=x", "Name": "x"}, property_name="Identity")
    assert n.text == '{"DistinguishedName":"CN=x","Name":"x"}' and "ToString" in n.messages[0]


def test_json_adobjectid_of_a_connector_is_rebuilt_from_its_dn():
    ident = {"IsDeleted": False, "Rdn": "CN=Legacy\\, relay EDGE01", "Parent": "SMTP Receive",
             "Depth": 11, "DistinguishedName": "CN=Legacy\\, relay EDGE01,CN=SMTP Receive "
             "Connectors,CN=Protocols,CN=EDGE01,CN=Servers,CN=Exchange Administrative Group "
             "(FYDIBOHF23SPDLT),CN=Administrative Groups,CN=First Organization,CN=Microsoft "
             "Exchange,CN=Services,CN=Configuration,CN={3B1A4D6E-2C7F-4F0A-9E1B-5D2C8A7F6E01}",
             "ObjectGuid": "c6ba352b-d895-5a43-b382-ba89cd6a4064", "Name": "Legacy, relay EDGE01"}
    (n,) = normalize_value(ident, property_name="Identity")
    assert n.text == "EDGE01\\Legacy, relay EDGE01" and "DistinguishedName" in n.messages[0]


def test_live_path_helper_matches_the_offline_path(tmp_path):
    """collected_from_values (live WinRM output) gives the records of the offline reader."""
    from pypsrp.serializer import Serializer

    from stigscap.evaluator.collect.offline import ExportMap, collect_offline
    from stigscap.evaluator.collect.records import collected_from_values
    from stigscap.evaluator.oval.objects import read_cmdlet_objects
    from tests.collect.collect_fixtures import clixml_text, definitions_root, write_clixml

    text = clixml_text()
    objects = read_cmdlet_objects(definitions_root())
    query = objects.queries[0]
    d = tmp_path / "x"
    d.mkdir()
    write_clixml(d / "Get-ReceiveConnector.xml", text)
    offline = collect_offline(objects, ExportMap.from_specs([str(d)]))[0]
    live_psrpcore = collected_from_values(
        query, deserialize_clixml(text, PSCryptoProvider()), source="EDGE01")
    root = ET.fromstring(text.replace(f' xmlns="{NS}"', ""))
    ser = Serializer()
    live_pypsrp = collected_from_values(
        query, [ser.deserialize(el, clear=(i == 0)) for i, el in enumerate(root)],
        source="EDGE01")
    assert offline.records == live_psrpcore.records == live_pypsrp.records
    assert len(offline.records) == 4 and live_pypsrp.flag == "complete"
    wrong = clixml_text(selected_type="Selected.Microsoft.Exchange.Data.Directory."
                                      "SystemConfiguration.SmtpSendConnectorConfig")
    bad = collected_from_values(query, deserialize_clixml(wrong, PSCryptoProvider()),
                                source="EDGE01")
    assert bad.flag == "error" and "SmtpSendConnectorConfig" in bad.messages[0]
    empty = collected_from_values(query, [], source="EDGE01")
    assert empty.flag == "does not exist"
