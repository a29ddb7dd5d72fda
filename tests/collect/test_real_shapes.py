"""The shapes real Exchange exports have (issue 14, item 5), read by the offline collector:

- TimeSpans as Microsoft.Exchange.Data.EnhancedTimeSpan <Obj> (ToString + Days/…/Ticks), not
  <TS>; a ToString that contradicts its Ticks is an error;
- PermissionGroups as the Microsoft.Exchange.Data.PermissionGroups flags enum;
- <BA N="SerializationData"> blobs on every configuration object, never read;
- UTF-8 with BOM as well as UTF-16LE with BOM;
- Get-ExchangeCertificate exported whole: RawData alone (plus PSComputerName / RunspaceId),
  parsed for Subject, Issuer, Thumbprint, CertificateDomains, NotAfter …; RawData that
  contradicts a property the export also carries is an error naming file, object, property.

The exports are written by tests/examples/clixml_writer.py in the shapes Windows PowerShell
5.1 writes; the certificates are real (tests/examples/certificates.py).
"""

from __future__ import annotations

import hashlib
import codecs
import dataclasses
import datetime as dt
import json
from pathlib import Path

from cryptography import x509

from stigscap.evaluator.collect.certificates import (certificate_properties, disagreement,
                                                     dotnet_name)
from stigscap.evaluator.collect.model import CmdletQuery
from stigscap.evaluator.collect.offline import _collect_file
from tests.examples import clixml_writer as cw
from tests.examples import example_server as ex
from tests.examples.certificates import DOD_CA, certificate, dod_name

CERT_SELECT = ("Thumbprint", "Subject", "Issuer", "CertificateDomains", "NotAfter")


def query(noun: str, *select: str) -> CmdletQuery:
    return CmdletQuery(f"oval:test:obj:{len(select)}", None, "Get", noun, (), tuple(select))


def collect(path: Path, q: CmdletQuery):
    (obj,) = _collect_file(path, [q])
    return obj


def fields(obj) -> list[dict[str, str]]:
    return [{f.name: f.value for f in rec} for rec in obj.records]


def write(tmp_path: Path, name: str, objs, **kw) -> Path:
    path = tmp_path / name
    path.write_bytes(cw.clixml_bytes(objs, **kw))
    return path


def connector(**changes) -> cw.PipelineObject:
    name, auth, groups, bindings, remote = ex.RECEIVE_CONNECTORS[0]
    obj = ex.receive_connector(name, auth, groups, bindings, remote)
    props = [(n, changes.get(n, v)) for n, v in obj.props]
    return dataclasses.replace(obj, props=props)


# --- EnhancedTimeSpan ---------------------------------------------------------------------------

def test_enhanced_timespan_is_written_as_exchange_does_and_read_as_its_text(tmp_path):
    path = write(tmp_path, "Get-ReceiveConnector.xml",
                 [connector(ConnectionTimeout=cw.TimeSpan(86400 + 3723))])
    text = path.read_bytes()[2:].decode("utf-16-le")
    assert "<T>Microsoft.Exchange.Data.EnhancedTimeSpan</T>" in text and "<TS" not in text
    assert '<I64 N="Ticks">' + str((86400 + 3723) * 10_000_000) + "</I64>" in text
    obj = collect(path, query("ReceiveConnector", "Name", "ConnectionTimeout", "TarpitInterval"))
    assert obj.flag == "complete", obj.messages
    assert fields(obj) == [{"name": "Default internal receive connector EDGE01",
                            "connectiontimeout": "1.01:02:03", "tarpitinterval": "00:00:05"}]


def test_enhanced_timespan_whose_text_contradicts_its_ticks_is_an_error(tmp_path):
    path = write(tmp_path, "Get-ReceiveConnector.xml",
                 [connector(ConnectionTimeout=cw.TimeSpan(300))])
    raw = path.read_bytes().decode("utf-16")
    bad = raw.replace("<ToString>00:05:00</ToString>", "<ToString>00:01:00</ToString>", 1)
    assert bad != raw
    path.write_bytes(codecs.BOM_UTF16_LE + bad.encode("utf-16-le"))
    obj = collect(path, query("ReceiveConnector", "Name", "ConnectionTimeout"))
    assert obj.flag == "error" and not obj.records
    text = " ".join(obj.messages)
    assert "Get-ReceiveConnector.xml" in text
    assert "object 'Default internal receive connector EDGE01'" in text
    assert "property ConnectionTimeout" in text and "3000000000" in text and "00:01:00" in text


# --- PermissionGroups, SerializationData, encodings ---------------------------------------------

def test_permission_groups_enum_of_its_real_type(tmp_path):
    groups = cw.enum("Microsoft.Exchange.Data.PermissionGroups", ex.PERMISSION_GROUPS,
                     "AnonymousUsers, ExchangeServers, Partners")
    path = write(tmp_path, "Get-ReceiveConnector.xml", [connector(PermissionGroups=groups)])
    assert "<T>Microsoft.Exchange.Data.PermissionGroups</T>" in path.read_bytes().decode("utf-16")
    obj = collect(path, query("ReceiveConnector", "Name", "PermissionGroups"))
    assert fields(obj)[0]["permissiongroups"] == "AnonymousUsers, ExchangeServers, Partners"
    # the number is checked against the names (21 = 1 + 4 + 16)
    bad = path.read_bytes().decode("utf-16").replace("<I32>21</I32>", "<I32>23</I32>", 1)
    path.write_bytes(codecs.BOM_UTF16_LE + bad.encode("utf-16-le"))
    obj = collect(path, query("ReceiveConnector", "Name", "PermissionGroups"))
    assert obj.flag == "error" and "property PermissionGroups" in " ".join(obj.messages)


def test_serialization_data_blobs_are_carried_and_never_read(tmp_path):
    path = write(tmp_path, "Get-ReceiveConnector.xml", [connector(), connector()])
    text = path.read_bytes().decode("utf-16")
    assert text.count('<BA N="SerializationData">') == 2
    # a blob that is not even base64 does not matter: nobody selects it
    start = text.index('<BA N="SerializationData">') + len('<BA N="SerializationData">')
    broken = text[:start] + "!!not base64!!" + text[text.index("</BA>", start):]
    path.write_bytes(codecs.BOM_UTF16_LE + broken.encode("utf-16-le"))
    obj = collect(path, query("ReceiveConnector", "Name", "AuthMechanism"))
    assert obj.flag == "complete", obj.messages
    assert [f["authmechanism"] for f in fields(obj)] == ["Tls, ExchangeServer"] * 2
    assert not any("serializationdata" in f for f in fields(obj))


def test_utf8_bom_and_utf16_exports_give_the_same_records(tmp_path):
    objs = [ex.receive_connector(*c) for c in ex.RECEIVE_CONNECTORS]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    utf16 = write(tmp_path / "a", "Get-ReceiveConnector.xml", objs, encoding="utf-16")
    utf8 = write(tmp_path / "b", "Get-ReceiveConnector.xml", objs, encoding="utf-8")
    assert utf16.read_bytes()[:2] == codecs.BOM_UTF16_LE
    assert utf8.read_bytes()[:3] == codecs.BOM_UTF8
    select = ("Name", "AuthMechanism", "PermissionGroups", "ConnectionTimeout", "MaxMessageSize")
    a, b = collect(utf16, query("ReceiveConnector", *select)), collect(utf8, query(
        "ReceiveConnector", *select))
    assert a.flag == b.flag == "complete"
    assert a.records == b.records and len(a.records) == 4
    assert fields(a)[2]["permissiongroups"] == "ExchangeUsers"


# --- certificates as RawData --------------------------------------------------------------------

def test_certificate_exported_whole_is_raw_data_alone(tmp_path):
    cert = ex.exchange_certificate()
    path = write(tmp_path, "Get-ExchangeCertificate.xml", [cert],
                 remote=("mbx01.example.mil", "6f0f3c1e-8e1a-4c55-9a57-1b2a4d0c9e31"))
    text = path.read_bytes().decode("utf-16")
    assert '<BA N="RawData">' in text and '<S N="PSComputerName">mbx01.example.mil</S>' in text
    for prop in ("Subject", "Issuer", "Thumbprint", "CertificateDomains", "NotAfter"):
        assert f'N="{prop}"' not in text
    obj = collect(path, query("ExchangeCertificate", *CERT_SELECT))
    assert obj.flag == "complete", obj.messages
    (rec,) = fields(obj)
    live = dict(cert.props)   # what the live object shows (Select-Object)
    assert rec["subject"] == live["Subject"] == (
        "CN=edge01.perimeter.example.mil, OU=USA, OU=PKI, OU=DoD, O=U.S. Government, C=US")
    assert rec["issuer"] == live["Issuer"] == (
        "CN=DOD SW CA-66, OU=PKI, OU=DoD, O=U.S. Government, C=US")
    assert rec["thumbprint"] == live["Thumbprint"]
    assert rec["notafter"] == "2028-11-21T23:59:59+00:00"
    domains = [f.value for f in obj.records[0] if f.name == "certificatedomains"]
    assert domains == ["edge01.perimeter.example.mil", "mail.example.mil"]


def test_certificate_properties_as_dotnet_prints_them():
    der = certificate(dod_name("a.example.mil", "USA"), dod_name(DOD_CA), serial=0x80,
                      dns_names=[], not_before=dt.datetime(2025, 1, 1),
                      not_after=dt.datetime(2026, 1, 1), label="t", issuer_label="ca")
    props = certificate_properties(der)
    assert props["SerialNumber"] == "0080"          # a positive serial keeps its sign byte
    assert props["CertificateDomains"] == ["a.example.mil"]   # no SAN: the subject's CN
    assert props["IsSelfSigned"] is False and props["PublicKeySize"] == 256
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.ORGANIZATION_NAME, "Contoso, Ltd"),
                      x509.NameAttribute(x509.oid.NameOID.STATE_OR_PROVINCE_NAME, "VA"),
                      x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "x")])
    assert dotnet_name(name) == 'CN=x, S=VA, O="Contoso, Ltd"'


def test_raw_data_contradicting_an_exported_property_is_an_error(tmp_path):
    cert = ex.exchange_certificate()
    writer = cw.ClixmlWriter()
    # a certificate exported with its properties and its RawData (Select-Object *), whose
    # Subject names another host than the certificate does
    props = [(n, "CN=other.example.mil, O=U.S. Government, C=US" if n == "Subject" else v)
             for n, v in cert.props] + [("RawData", cw.Bytes(cert.raw_data or b""))]
    text = writer.write([cw.PipelineObject(cert.type_names, cert.to_string, props)])
    path = tmp_path / "Get-ExchangeCertificate.xml"
    path.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    obj = collect(path, query("ExchangeCertificate", *CERT_SELECT))
    assert obj.flag == "error" and not obj.records
    msg = " ".join(obj.messages)
    thumb = dict(cert.props)["Thumbprint"]   # a certificate is named by its thumbprint
    assert f"Get-ExchangeCertificate.xml: object '{thumb}': property Subject:" in msg
    assert "CN=other.example.mil" in msg and "edge01.perimeter.example.mil" in msg
    # the same export with the true Subject is read, and agrees with the certificate
    props = [(n, v) for n, v in cert.props] + [("RawData", cw.Bytes(cert.raw_data or b""))]
    text = cw.ClixmlWriter().write([cw.PipelineObject(cert.type_names, cert.to_string, props)])
    path.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    obj = collect(path, query("ExchangeCertificate", *CERT_SELECT))
    assert obj.flag == "complete", obj.messages


def test_raw_data_that_is_not_a_certificate_is_an_error(tmp_path):
    cert = dataclasses.replace(ex.exchange_certificate(), raw_data=b"\x30\x03\x02\x01\x05")
    path = write(tmp_path, "Get-ExchangeCertificate.xml", [cert])
    obj = collect(path, query("ExchangeCertificate", *CERT_SELECT))
    assert obj.flag == "error"
    msg = " ".join(obj.messages)
    assert "property Issuer" in msg and "RawData is not a DER X.509 certificate" in msg


def test_raw_data_from_convertto_json(tmp_path):
    """`Get-ExchangeCertificate | ConvertTo-Json` writes RawData as a list of byte numbers."""
    der = ex.exchange_certificate().raw_data or b""
    path = tmp_path / "Get-ExchangeCertificate.json"
    path.write_text(json.dumps([{"RawData": list(der), "FriendlyName": "EDGE01 DoD SMTP"}]),
                    encoding="utf-8-sig")
    obj = collect(path, query("ExchangeCertificate", *CERT_SELECT))
    assert obj.flag == "complete", obj.messages
    assert fields(obj)[0]["issuer"] == "CN=DOD SW CA-66, OU=PKI, OU=DoD, O=U.S. Government, C=US"
    assert fields(obj)[0]["thumbprint"] == hashlib.sha1(der).hexdigest().upper()


def test_certificate_facts_compare_as_facts_not_spellings():
    """An exported NotAfter in the host's offset is the same instant as the certificate's UTC
    one; domains compare as a set, case-insensitively; a time without an offset cannot be
    compared (no error); a different instant or flag is a contradiction."""
    utc = dt.datetime(2028, 11, 21, 23, 59, 59, tzinfo=dt.timezone.utc)
    est = dt.timezone(dt.timedelta(hours=-5))
    assert disagreement("NotAfter", utc, dt.datetime(2028, 11, 21, 18, 59, 59, tzinfo=est)) is None
    assert disagreement("NotAfter", utc, dt.datetime(2028, 11, 21, 18, 59, 59)) is None
    assert "2029-11-21" in disagreement("NotAfter", utc, utc.replace(year=2029))
    assert disagreement("CertificateDomains", ["a.mil", "b.mil"], ["B.MIL", "a.mil"]) is None
    assert disagreement("CertificateDomains", ["a.mil"], ["a.mil", "b.mil"])
    assert disagreement("IsSelfSigned", False, True)
