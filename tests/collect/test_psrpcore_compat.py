"""psrpcore 0.3's PSDuration operators kept a list in their closure that grew by one entry on
every call (each TimeSpan read compares one), which made collection quadratic in the number
of TimeSpan values read by the process. psrpcore_compat repairs them; results stay psrpcore's."""

from __future__ import annotations

import datetime

import pytest
from psrpcore.types import PSDuration

from stigscap.evaluator.collect import psrpcore_compat
from stigscap.evaluator.collect.offline import ExportMap, collect_offline
from stigscap.evaluator.oval.objects import read_cmdlet_objects
from stigscap.schemas.xmlio import parse_xml_bytes
from tests.collect.collect_fixtures import NS, write_clixml

OPS = ("__add__", "__sub__", "__rsub__", "__eq__", "__ne__", "__le__", "__lt__", "__ge__",
       "__gt__")

DEFS = """<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5"
  xmlns:win-def="http://oval.mitre.org/XMLSchema/oval-definitions-5#windows"><objects>
<win-def:cmdlet_object id="oval:x:obj:1" version="1">
  <win-def:module_name>Microsoft.Exchange.Management.PowerShell.E2010</win-def:module_name>
  <win-def:module_id xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>
  <win-def:module_version xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>
  <win-def:verb>Get</win-def:verb><win-def:noun>ReceiveConnector</win-def:noun>
  <win-def:parameters xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>
  <win-def:select datatype="record">
    <field xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5" name="name">Name</field>
    <field xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5"
      name="connectiontimeout">ConnectionTimeout</field>
  </win-def:select>
</win-def:cmdlet_object></objects></oval_definitions>"""


def _closure_lists() -> list[list]:
    """Every list a PSDuration operator keeps in its closure (psrpcore 0.3.1: one per operator)."""
    out = []
    for name in OPS:
        for cell in getattr(PSDuration.__dict__[name], "__closure__", None) or ():
            if isinstance(cell.cell_contents, list):
                out.append(cell.cell_contents)
    return out


def _export(n: int) -> str:
    """Export-Clixml of N connectors, each with two <TS> (TN defined once, TNRef after)."""
    objs = []
    for i in range(n):
        types = ('<TN RefId="0"><T>Microsoft.Exchange.Data.Directory.SystemConfiguration.'
                 'ReceiveConnector</T><T>System.Object</T></TN>') if i == 0 else \
            '<TNRef RefId="0" />'
        objs.append(f'<Obj RefId="{i}">{types}<ToString>EDGE01\\C{i}</ToString><Props>'
                    f'<S N="Name">C{i}</S><TS N="ConnectionTimeout">PT{i % 7 + 1}M</TS>'
                    f'<TS N="TarpitInterval">PT5S</TS></Props></Obj>')
    return f'<Objs Version="1.1.0.1" xmlns="{NS}">{"".join(objs)}</Objs>'


def test_reading_timespans_leaves_no_growing_state(tmp_path):
    """Reading 300 TimeSpans must not grow anything in psrpcore (fails on psrpcore 0.3.1
    unrepaired: each operator's closure list grew by one entry per comparison)."""
    write_clixml(tmp_path / "Get-ReceiveConnector.xml", _export(150))
    objects = read_cmdlet_objects(parse_xml_bytes(DEFS.encode(), "defs").getroot())
    before = [len(x) for x in _closure_lists()]
    [got] = collect_offline(objects, ExportMap.from_specs([str(tmp_path)]))
    assert [len(x) for x in _closure_lists()] == before
    assert got.flag == "complete" and len(got.records) == 150
    assert [(f.name, f.value) for f in got.records[8]] == [("name", "C8"),
                                                           ("connectiontimeout", "00:02:00")]


def test_operators_keep_psrpcore_results():
    five = PSDuration(minutes=5)
    assert five == datetime.timedelta(seconds=300) and five == PSDuration(seconds=300)
    assert not (five != datetime.timedelta(minutes=5)) and five != datetime.timedelta(0)
    assert five > datetime.timedelta(minutes=4) and five >= PSDuration(minutes=5)
    assert five < datetime.timedelta(minutes=6) and five <= datetime.timedelta(minutes=5)
    assert isinstance(five + datetime.timedelta(seconds=1), PSDuration)
    assert five + datetime.timedelta(seconds=1) == datetime.timedelta(seconds=301)
    assert five - PSDuration(minutes=1) == datetime.timedelta(minutes=4)
    assert datetime.timedelta(minutes=6) - five == datetime.timedelta(minutes=1)
    assert PSDuration(nanoseconds=100) != PSDuration(nanoseconds=200)   # below a microsecond
    assert (five == "00:05:00") is False and (five != 300) is True      # not a timedelta
    with pytest.raises(TypeError):
        five < 5  # noqa: B015 - the comparison itself must raise
    assert five.__eq__("x") is NotImplemented


def test_only_the_known_wrapper_shape_is_replaced():
    class Plain(datetime.timedelta):
        def __eq__(self, other):
            return "own"
        __hash__ = datetime.timedelta.__hash__

    assert psrpcore_compat.repair_psduration(Plain) == []
    assert Plain(1) == 5 and Plain(1).__eq__(5) == "own"   # type: ignore[comparison-overlap]
    # on the psrpcore this project pins, every operator had the defect and is now repaired
    assert set(psrpcore_compat.REPAIRED) <= set(OPS)
    for name in OPS:
        assert not any(isinstance(c.cell_contents, list)
                       for c in getattr(PSDuration.__dict__[name], "__closure__", None) or ())
