"""Fixture builders for the offline-collection tests: exports in the shapes PowerShell writes.

CLIXML follows Export-Clixml's layout (Objs 1.1.0.1, document-wide TN/TNRef RefIds, NoteProperties
of Select-Object output in <MS>); the AuthMechanism value can be written in each of the three
shapes ../shared/reference/psrp-exchange.md §6 lists: enum object (ToString + I32), string, integer.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from tests.conftest import require_tool

from stigscap.evaluator.collect.offline import ExportMap, collect_offline
from stigscap.evaluator.collect.model import SystemInfo
from stigscap.evaluator.oval.objects import read_cmdlet_objects
from stigscap.evaluator.collect.syschar import syschar_bytes
from stigscap.schemas.xmlio import parse_xml_file

HERE = Path(__file__).resolve().parent
DEFS = HERE / "data" / "receive-connector-oval.xml"
OVAL_SCHEMAS = Path("/usr/share/openscap/schemas/oval")
NS = "http://schemas.microsoft.com/powershell/2004/04"
AUTH_VALUES = {"None": 0, "Tls": 1, "Tls, ExchangeServer": 17,
               "BasicAuth, BasicAuthRequireTLS": 12}
STAMP = "2026-01-01T00:00:00Z"

CONNECTORS = [
    ("Default internal receive connector EDGE01", "Tls, ExchangeServer"),
    ("Partner TLS EDGE01", "Tls"),
    ("Legacy relay EDGE01", "BasicAuth, BasicAuthRequireTLS"),
    ("Anonymous EDGE01", "None"),
]


def _clixml_escape(text: str) -> str:
    """Export-Clixml string escaping: _xHHHH_ for control characters, then XML escaping."""
    out = []
    text = re.sub(r"_(?=x[0-9A-Fa-f]{4}_)", "_x005F_", text)
    for ch in text:
        code = ord(ch)
        if (code < 0x20 and ch not in "\t\n\r") or 0xD800 <= code <= 0xDFFF or code in (
                0xFFFE, 0xFFFF):
            out.append(f"_x{code:04X}_")
        elif ch == "\r":
            out.append("_x000D_")
        else:
            out.append(ch)
    return escape("".join(out))


def clixml_text(connectors=CONNECTORS, *, auth_shape: str = "enum", depth: int = 2,
                selected_type: str = "Selected.Microsoft.Exchange.Data.Directory."
                                     "SystemConfiguration.ReceiveConnector",
                auth_ints: dict | None = None) -> str:
    """Export-Clixml text of `Get-ReceiveConnector | Select Name, Identity, AuthMechanism`."""
    ints = dict(AUTH_VALUES, **(auth_ints or {}))
    ref = 0
    lines = [f'<Objs Version="1.1.0.1" xmlns="{NS}">']
    tn_done: set[str] = set()

    def tn(key: str, names: list[str], rid: int) -> str:
        if key in tn_done:
            return f'<TNRef RefId="{rid}" />'
        tn_done.add(key)
        return f'<TN RefId="{rid}">' + "".join(f"<T>{t}</T>" for t in names) + "</TN>"

    for name, auth in connectors:
        ename = _clixml_escape(name)
        obj_ref, ref = ref, ref + 1
        lines.append(f'  <Obj RefId="{obj_ref}">')
        lines.append("    " + tn("sel", [selected_type,
                                         "System.Management.Automation.PSCustomObject",
                                         "System.Object"], 0))
        lines.append("    <MS>")
        lines.append(f'      <S N="Name">{ename}</S>')
        id_ref, ref = ref, ref + 1
        props = (f'<B N="IsDeleted">false</B><S N="Rdn">CN={ename}</S>'
                 f'<S N="Parent">SMTP Receive Connectors</S><I32 N="Depth">11</I32>'
                 f'<S N="Name">{ename}</S>')
        if depth < 2:  # at depth 1 the ADObjectId's own properties are plain strings
            props = (f'<S N="IsDeleted">False</S><S N="Rdn">CN={ename}</S>'
                     f'<S N="Parent">SMTP Receive Connectors</S><S N="Depth">11</S>'
                     f'<S N="Name">{ename}</S>')
        lines.append(f'      <Obj N="Identity" RefId="{id_ref}">'
                     + tn("adobj", ["Microsoft.Exchange.Data.Directory.ADObjectId",
                                    "System.Object"], 1)
                     + f"<ToString>EDGE01\\{ename}</ToString><Props>{props}</Props></Obj>")
        if auth_shape == "enum":
            a_ref, ref = ref, ref + 1
            lines.append(f'      <Obj N="AuthMechanism" RefId="{a_ref}">'
                         + tn("auth", ["Microsoft.Exchange.Data.Directory.SystemConfiguration."
                                       "AuthMechanisms", "System.Enum", "System.ValueType",
                                       "System.Object"], 2)
                         + f"<ToString>{escape(auth)}</ToString><I32>{ints.get(auth, 0)}</I32>"
                         + "</Obj>")
        elif auth_shape == "string":
            lines.append(f'      <S N="AuthMechanism">{escape(auth)}</S>')
        elif auth_shape == "int":
            lines.append(f'      <I32 N="AuthMechanism">{ints[auth]}</I32>')
        else:  # "missing"
            pass
        lines.append("    </MS>")
        lines.append("  </Obj>")
    lines.append("</Objs>")
    return "\r\n".join(lines)


def write_clixml(path: Path, text: str, encoding: str = "utf-16-le-bom") -> Path:
    if encoding == "utf-16-le-bom":
        data = b"\xff\xfe" + text.encode("utf-16-le")
    elif encoding == "utf-8-bom":
        data = b"\xef\xbb\xbf" + text.encode("utf-8")
    else:
        data = text.encode(encoding)
    path.write_bytes(data)
    return path


def json_export(connectors=CONNECTORS, *, enums: str = "int") -> list[dict]:
    """`Select Name, @{n='Identity';e={"$($_.Identity)"}}, AuthMechanism | ConvertTo-Json`."""
    out = []
    for name, auth in connectors:
        value = AUTH_VALUES[auth] if enums == "int" else auth
        out.append({"Name": name, "Identity": f"EDGE01\\{name}", "AuthMechanism": value})
    return out


def write_json(path: Path, value, *, encoding: str = "utf-8") -> Path:
    text = json.dumps(value, indent=4, ensure_ascii=False)
    if encoding == "utf-16-le-bom":
        path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    else:
        path.write_bytes(text.encode(encoding))
    return path


def definitions_root():
    return parse_xml_file(DEFS).getroot()


def run_collect(export_dir: Path, *, defs_root=None) -> list:
    objects = read_cmdlet_objects(defs_root if defs_root is not None else definitions_root())
    return collect_offline(objects, ExportMap.from_specs([str(export_dir)]))


def syschar_for(export_dir: Path) -> bytes:
    collected = run_collect(export_dir)
    return syschar_bytes(collected, SystemInfo("EDGE01"), timestamp=STAMP)


def receive_item(collected):
    return next(c for c in collected if c.query.noun == "ReceiveConnector")


_SCHEMA = None


def sc_schema() -> etree.XMLSchema:
    global _SCHEMA
    if _SCHEMA is None:
        base = OVAL_SCHEMAS / "5.11.2"
        driver = f"""<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema">
<xsd:import namespace="http://oval.mitre.org/XMLSchema/oval-system-characteristics-5"
  schemaLocation="{base}/oval-system-characteristics-schema.xsd"/>
<xsd:import namespace="http://oval.mitre.org/XMLSchema/oval-system-characteristics-5#windows"
  schemaLocation="{base}/windows-system-characteristics-schema.xsd"/>
</xsd:schema>"""
        _SCHEMA = etree.XMLSchema(etree.fromstring(driver.encode(),
                                                   base_url=str(base) + "/driver.xsd"))
    return _SCHEMA


def assert_valid_syschar(path: Path) -> None:
    """Official 5.11.2 XSDs (core + windows) and the 5.11.2 and 5.11.3 syschar schematron."""
    if not (OVAL_SCHEMAS / "5.11.2" / "oval-system-characteristics-schema.xsd").exists():
        pytest.skip("OpenSCAP OVAL schemas not installed")
    doc = etree.parse(str(path), etree.XMLParser(huge_tree=True))
    schema = sc_schema()
    assert schema.validate(doc), str(schema.error_log)
    xsltproc = require_tool("xsltproc")
    for version in ("5.11.2", "5.11.3"):
        xsl = OVAL_SCHEMAS / version / "oval-system-characteristic-schematron.xsl"
        out = subprocess.run([xsltproc, str(xsl), str(path)], capture_output=True, text=True,
                             check=False)
        lines = [ln for ln in out.stdout.splitlines()
                 if ln.strip() and not ln.startswith("<?xml")]
        assert out.returncode == 0 and not lines, f"schematron {version}: {lines[:5]} {out.stderr}"


def collect_queries(folder: Path, queries) -> list:
    """Offline collection of these queries from the exports in `folder`, through the real
    CmdletObjects (what read_cmdlet_objects gives the collector)."""
    from stigscap.evaluator.oval.objects import CmdletObjects
    objects = CmdletObjects(queries=list(queries), _order=list(queries))
    return collect_offline(objects, ExportMap.from_specs([str(folder)]))

