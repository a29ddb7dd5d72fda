"""Files (OVAL file_object) from Get-Item: an offline export in the shape Windows PowerShell 5.1
writes (FileInfo with its adapted properties, the provider's notes and VersionInfo in <MS>), the
same file served live over the loopback WSMan/PSRP server, and the items judged by our engine
and by `oscap oval analyse` alike."""

from __future__ import annotations

import codecs
import datetime as dt
import subprocess

import pytest
from lxml import etree

from stigscap.evaluator.collect.model import CmdletQuery, SystemInfo
from stigscap.evaluator.collect.syschar import syschar_bytes
from stigscap.evaluator.oval.engine import evaluate
from tests.collect.collect_fixtures import collect_queries
from tests.conftest import require_tool

BIN = "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Bin"
EXE = "ExSetup.exe"
# 2024-03-04T05:06:07.1234567Z as a FILETIME (100-ns since 1601): computed by hand
CREATED = "2024-03-04T05:06:07.1234567Z"
CREATED_FT = str(((dt.datetime(2024, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)
                   - dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)).total_seconds()
                  .__int__()) * 10_000_000 + 1234567)
WRITTEN = "2024-05-06T07:08:09Z"
WRITTEN_FT = str(int((dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
                      - dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)).total_seconds())
                 * 10_000_000)

CLIXML = f"""<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">
  <Obj RefId="0">
    <TN RefId="0">
      <T>System.IO.FileInfo</T>
      <T>System.IO.FileSystemInfo</T>
      <T>System.MarshalByRefObject</T>
      <T>System.Object</T>
    </TN>
    <ToString>{BIN}\\{EXE}</ToString>
    <Props>
      <S N="Name">{EXE}</S>
      <I64 N="Length">35392</I64>
      <S N="DirectoryName">{BIN}</S>
      <S N="Directory">{BIN}</S>
      <B N="IsReadOnly">false</B>
      <B N="Exists">true</B>
      <S N="FullName">{BIN}\\{EXE}</S>
      <S N="Extension">.exe</S>
      <DT N="CreationTime">2024-03-04T00:06:07.1234567-05:00</DT>
      <DT N="CreationTimeUtc">{CREATED}</DT>
      <DT N="LastAccessTime">2024-05-06T03:08:09-04:00</DT>
      <DT N="LastAccessTimeUtc">{WRITTEN}</DT>
      <DT N="LastWriteTime">2024-05-06T03:08:09-04:00</DT>
      <DT N="LastWriteTimeUtc">{WRITTEN}</DT>
      <Obj N="Attributes" RefId="1">
        <TN RefId="1">
          <T>System.IO.FileAttributes</T>
          <T>System.Enum</T>
          <T>System.ValueType</T>
          <T>System.Object</T>
        </TN>
        <ToString>ReadOnly, Archive</ToString>
        <I32>33</I32>
      </Obj>
    </Props>
    <MS>
      <S N="PSPath">Microsoft.PowerShell.Core\\FileSystem::{BIN}\\{EXE}</S>
      <S N="PSParentPath">Microsoft.PowerShell.Core\\FileSystem::{BIN}</S>
      <S N="PSChildName">{EXE}</S>
      <B N="PSIsContainer">false</B>
      <S N="Mode">-ar---</S>
      <Obj N="VersionInfo" RefId="2">
        <TN RefId="2">
          <T>System.Diagnostics.FileVersionInfo</T>
          <T>System.Object</T>
        </TN>
        <ToString>File:             {BIN}\\{EXE}_x000A_InternalName:     ExSetup_x000A_OriginalFilename: ExSetup.exe_x000A_FileVersion:      15.02.1544.004_x000A_FileDescription:  ExSetup_x000A_Product:          Microsoft® Exchange_x000A_ProductVersion:   15.02.1544.004_x000A_Language:         Language Neutral</ToString>
        <Props>
          <S N="CompanyName">Microsoft Corporation</S>
          <S N="FileVersion">15.02.1544.004</S>
          <S N="InternalName">ExSetup</S>
          <S N="Language">Language Neutral</S>
          <S N="OriginalFilename">ExSetup.exe</S>
          <S N="ProductName">Microsoft® Exchange</S>
          <S N="ProductVersion">15.02.1544.004</S>
        </Props>
      </Obj>
      <S N="BaseName">ExSetup</S>
    </MS>
  </Obj>
</Objs>"""


def query(name: str = EXE, n: int = 1) -> CmdletQuery:
    full = f"{BIN}\\{name}" if name else BIN
    return CmdletQuery(f"oval:t:obj:{n}", None, "Get", "Item", (("LiteralPath", full),),
                       kind="file", target=(BIN, name, "file" if name else "directory"))


def collect(tmp_path, queries, text=CLIXML):
    (tmp_path / "Get-Item.xml").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    return collect_queries(tmp_path, queries)


def entities(obj) -> list[tuple[str, str | None]]:
    return [(e.name, e.value) for e in obj.items[0].entities]


def test_the_file_s_attributes_version_and_times(tmp_path):
    exe, missing = collect(tmp_path, [query(), query("setup.dll", 2)])
    assert exe.flag == "complete"
    assert entities(exe) == [
        ("filepath", f"{BIN}\\{EXE}"), ("path", BIN), ("filename", EXE), ("size", "35392"),
        ("a_time", WRITTEN_FT), ("c_time", CREATED_FT), ("m_time", WRITTEN_FT),
        ("version", "15.02.1544.004"), ("type", "FILE_TYPE_DISK"),
        ("attribute", "FILE_ATTRIBUTE_READONLY"), ("attribute", "FILE_ATTRIBUTE_ARCHIVE"),
        ("company", "Microsoft Corporation"), ("internal_name", "ExSetup"),
        ("language", "Language Neutral"), ("original_filename", "ExSetup.exe"),
        ("product_name", "Microsoft® Exchange"), ("product_version", "15.02.1544.004"),
        ("windows_view", "64_bit")]
    assert missing.flag == "not collected"   # an export cannot say a file is missing


@pytest.mark.parametrize("change,problem", [
    (("<DT N=\"LastWriteTimeUtc\">2024-05-06T07:08:09Z</DT>",
      "<S N=\"LastWriteTimeUtc\">last Tuesday</S>"), "property LastWriteTimeUtc"),
    (("<ToString>ReadOnly, Archive</ToString>", "<ToString>ReadOnly, Magic</ToString>"),
     "property Attributes"),
    (("<I64 N=\"Length\">35392</I64>", "<S N=\"Length\">big</S>"), "property Length"),
])
def test_unreadable_values_are_errors(tmp_path, change, problem):
    (exe,) = collect(tmp_path, [query()], CLIXML.replace(*change))
    assert exe.flag == "error" and problem in exe.messages[0] and not exe.items


DEFS = """<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5"
 xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5"
 xmlns:w="http://oval.mitre.org/XMLSchema/oval-definitions-5#windows">
 <generator><oval:schema_version>5.11.2</oval:schema_version>
  <oval:timestamp>2026-01-01T00:00:00</oval:timestamp></generator>
 <definitions>{defs}</definitions><tests>{tests}</tests>
 <objects><w:file_object id="oval:t:obj:1" version="1"><w:path>{bin}</w:path>
  <w:filename>{exe}</w:filename></w:file_object></objects>
 <states>{states}</states></oval_definitions>"""
STATES = [  # (state body, what our reading of the collected file must give)
    ('<w:version datatype="version" operation="greater than or equal">15.2.1544.4</w:version>',
     "true"),
    ('<w:version datatype="version" operation="less than">15.2.1258.12</w:version>', "false"),
    ('<w:size datatype="int" operation="greater than">1024</w:size>'
     '<w:type>FILE_TYPE_DISK</w:type>', "true"),
    ('<w:m_time datatype="int" operation="less than">' + CREATED_FT + '</w:m_time>', "false"),
    # two attribute entities (READONLY, ARCHIVE): all must match by default, one need here
    ('<w:attribute>FILE_ATTRIBUTE_READONLY</w:attribute>', "false"),
    ('<w:attribute entity_check="at least one">FILE_ATTRIBUTE_READONLY</w:attribute>', "true"),
    ('<w:company operation="pattern match">^Microsoft</w:company>'
     '<w:product_version>15.02.1544.004</w:product_version>', "true"),
]


def test_collected_file_items_are_judged_like_oscap(tmp_path):
    require_tool("oscap")
    (exe,) = collect(tmp_path, [query()])
    sc = tmp_path / "sc.xml"
    sc.write_bytes(syschar_bytes([exe], SystemInfo("edge19"), timestamp="2026-01-01T00:00:00"))
    defs, tests, states = [], [], []
    for n, (body, _want) in enumerate(STATES, 1):
        defs.append(f'<definition id="oval:t:def:{n}" version="1" class="compliance"><metadata>'
                    f'<title>t{n}</title><description>d</description></metadata><criteria>'
                    f'<criterion test_ref="oval:t:tst:{n}"/></criteria></definition>')
        tests.append(f'<w:file_test id="oval:t:tst:{n}" version="1" check="all" comment="c">'
                     f'<w:object object_ref="oval:t:obj:1"/><w:state state_ref="oval:t:ste:{n}"/>'
                     '</w:file_test>')
        states.append(f'<w:file_state id="oval:t:ste:{n}" version="1">{body}</w:file_state>')
    d = tmp_path / "defs.xml"
    d.write_text(DEFS.format(defs="".join(defs), tests="".join(tests), states="".join(states),
                             bin=BIN, exe=EXE))
    out = tmp_path / "res.xml"
    r = subprocess.run(["oscap", "oval", "analyse", "--results", str(out), str(d), str(sc)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    theirs = {e.get("definition_id"): e.get("result") for e in etree.parse(str(out)).iter(
        "{http://oval.mitre.org/XMLSchema/oval-results-5}definition")}
    ours = evaluate(etree.parse(str(d)), etree.parse(str(sc))).definition_results
    want = {f"oval:t:def:{n}": w for n, (_b, w) in enumerate(STATES, 1)}
    assert ours == theirs == want
