"""Offline collection grows with the exports, once: each export is parsed in one pass whatever
the number of OVAL objects reading it, a value seen again is the one read before, and the fast
reading of Exchange-shaped objects gives exactly what the general reading gives. (Linearity
itself is measured by bench/collect_scale.py, never by a timed test.)"""

from __future__ import annotations

import shutil
from types import SimpleNamespace
from collections import Counter
from pathlib import Path

import pytest

import stigscap
from stigscap.evaluator.collect import offline
from stigscap.evaluator.collect.offline import (ExportMap, collect_offline, collect_with_system,
                                                example_exports_dir, system_info_from_exports)
from stigscap.evaluator.collect.model import CollectedObject
from stigscap.evaluator.collect.syschar import _check_well_formed, syschar_bytes, write_syschar
from stigscap.schemas.errors import StigscapError
from stigscap.evaluator.oval.objects import read_cmdlet_objects
from stigscap.schemas.xmlio import parse_xml_bytes
from tests.collect.collect_fixtures import NS, STAMP
from tests.examples import example_server
from tests.examples.clixml_writer import clixml_bytes

N = 60   # Receive connectors in the test export


@pytest.fixture(scope="module")
def whole_stig():
    """The cmdlet_objects of the whole STIG (46 automated rules)."""
    ds = stigscap.generate_datastream()
    return read_cmdlet_objects(parse_xml_bytes(ds, "<data stream>").getroot())


def _exports(tmp_path: Path, n: int = N) -> Path:
    """The example server's exports, with N Receive connectors in the example's shape."""
    d = tmp_path / "exports"
    shutil.copytree(example_exports_dir(), d, ignore=shutil.ignore_patterns("*.md"))
    connectors = []
    for i in range(n):
        name, auth, groups, bindings, remote = example_server.RECEIVE_CONNECTORS[i % 4]
        connectors.append(example_server.receive_connector(f"{name} {i:03d}", auth, groups,
                                                           bindings, remote))
    (d / "Get-ReceiveConnector.xml").write_bytes(clixml_bytes(connectors))
    return d


@pytest.fixture
def parsed(monkeypatch):
    """Objects each export yields over the whole run, by file name (a spy: the reader runs)."""
    seen: Counter[str] = Counter()
    real = offline._ClixmlStream.__iter__

    def counting(self):
        for obj in real(self):
            seen[self.path.name] += 1
            yield obj

    monkeypatch.setattr(offline._ClixmlStream, "__iter__", counting)
    return seen


def test_each_export_is_parsed_once_for_the_whole_stig(tmp_path, whole_stig, parsed):
    """13 OVAL objects read Get-ReceiveConnector and the system information reads its
    Bindings: one pass over the file (before: one for the objects, one for the bindings)."""
    exports = ExportMap.from_specs([str(_exports(tmp_path))])
    readers = Counter(offline.cmdlet_name(q) for q, _ in whole_stig.all())
    assert readers["Get-ReceiveConnector"] >= 10
    collected, system, notes = collect_with_system(whole_stig, exports)
    assert parsed["Get-ReceiveConnector.xml"] == N
    assert [ip for _, ip, _ in system.interfaces] == ["203.0.113.25", "192.0.2.20"]
    for path in exports.files.values():
        name = path[0].name
        if name.lower() != "get-exchangeserver.xml":   # system info also reads its first object
            count = len(next(c.records for c in collected
                             if offline.cmdlet_name(c.query) + ".xml" == name))
            assert parsed[name] in (0, count), name   # 0: an empty export yields nothing
    assert parsed["Get-ExchangeServer.xml"] == 2


def test_one_pass_gives_what_a_separate_read_gives(tmp_path, whole_stig):
    exports = ExportMap.from_specs([str(_exports(tmp_path))])
    collected, system, notes = collect_with_system(whole_stig, exports)
    assert collected == collect_offline(whole_stig, exports)
    assert (system, notes) == system_info_from_exports(exports)
    assert any("bindings" in n for n in notes)


def _one_connector(bindings_xml: str, tn: str = "") -> str:
    tn = tn or ('<TN RefId="0"><T>Microsoft.Exchange.Data.Directory.SystemConfiguration.'
                'ReceiveConnector</T><T>System.Object</T></TN>')
    return (f'<Obj RefId="0">{tn}<ToString>EDGE01\\A</ToString><Props>'
            '<S N="Name">A</S><S N="Identity">EDGE01\\A</S>'
            '<Obj N="AuthMechanism" RefId="1"><TN RefId="1"><T>Microsoft.Exchange.Data.'
            'Directory.SystemConfiguration.AuthMechanisms</T><T>System.Enum</T>'
            '<T>System.ValueType</T><T>System.Object</T></TN><ToString>Tls</ToString>'
            f'<I32>1</I32></Obj>{bindings_xml}</Props></Obj>')


@pytest.mark.parametrize("bindings, ips", [
    ('<Obj N="Bindings" RefId="2"><TN RefId="2"><T>Microsoft.Exchange.Data.'
     'MultiValuedProperty`1[[Microsoft.Exchange.Data.IPBinding]]</T></TN><LST>'
     '<S>192.0.2.7:25</S></LST></Obj>', ["192.0.2.7"]),
    # a Bindings value psrpcore cannot read: a read for Bindings alone fails, so no address
    # (and no note); the objects that do not select Bindings are still collected
    ('<I32 N="Bindings">not a number</I32>', []),
])
def test_bindings_read_in_the_pass_as_a_separate_read_reads_them(tmp_path, whole_stig,
                                                                  bindings, ips):
    d = tmp_path / "x"
    d.mkdir()
    (d / "Get-ReceiveConnector.xml").write_text(
        f'<Objs Version="1.1.0.1" xmlns="{NS}">{_one_connector(bindings)}</Objs>')
    exports = ExportMap.from_specs([str(d)])
    collected, system, notes = collect_with_system(whole_stig, exports)
    assert (system, notes) == system_info_from_exports(exports)
    assert [ip for _, ip, _ in system.interfaces] == ips
    seed = [c for c in collected if c.query.select == ("Name", "Identity", "AuthMechanism")]
    assert seed and all(c.flag == "complete" for c in seed)


def test_a_pass_that_fails_reads_the_bindings_on_their_own(tmp_path, whole_stig):
    """Get-ReceiveConnector.xml holds send connectors (a wrong file): the collection stops at
    the first object, so the bindings are read as before, by a read of their own."""
    d = tmp_path / "x"
    d.mkdir()
    wrong = ('<TN RefId="0"><T>Microsoft.Exchange.Data.Directory.SystemConfiguration.'
             'SmtpSendConnectorConfig</T><T>System.Object</T></TN>')
    bindings = ('<Obj N="Bindings" RefId="2"><TN RefId="2"><T>X</T></TN><LST>'
                '<S>192.0.2.8:25</S></LST></Obj>')
    (d / "Get-ReceiveConnector.xml").write_text(
        f'<Objs Version="1.1.0.1" xmlns="{NS}">{_one_connector(bindings, wrong)}</Objs>')
    exports = ExportMap.from_specs([str(d)])
    collected, system, notes = collect_with_system(whole_stig, exports)
    assert all(c.flag == "error" for c in collected if c.query.noun == "ReceiveConnector")
    assert [ip for _, ip, _ in system.interfaces] == ["192.0.2.8"]
    assert (system, notes) == system_info_from_exports(exports)


def test_equal_values_are_one_object(tmp_path, whole_stig):
    """100,000 connectors hold a few distinct values: a value read again is the one read
    before, and its record field is one (immutable) object shared by every record."""
    collected = collect_offline(whole_stig, ExportMap.from_specs([str(_exports(tmp_path))]))
    seed = [c for c in collected if c.query.select == ("Name", "Identity", "AuthMechanism")]
    assert len(seed) == 2   # EX13-EG-000340 and EX13-EG-000090 read the same properties
    records = seed[0].records
    assert len(records) == N
    # (the first four connectors define the type lists the others refer to)
    auth = [r[2] for r in records[4:]]
    assert auth[0] is auth[4] is auth[8] and auth[0].value == "Tls, ExchangeServer"
    assert len({id(f) for f in auth}) == 4   # four distinct AuthMechanism values
    # two OVAL objects reading the same properties: one record per connector, each with its
    # own list of records
    assert seed[0].records[7] is seed[1].records[7] and seed[0].records is not seed[1].records
    # the same connector's Name field in the records of OVAL objects reading other properties
    other = next(c for c in collected if c.query.select == ("Name", "Identity",
                                                            "ConnectionTimeout"))
    assert other.records[7][0] is seed[0].records[7][0]


def test_objects_before_a_broken_end_are_read_as_before(tmp_path):
    """A file cut off after its first object: the reader still gives that object (the host
    name comes from it), then reports the file as truncated."""
    d = tmp_path / "x"
    d.mkdir()
    data = (example_exports_dir() / "Get-ExchangeServer.xml").read_bytes()
    end = data.rindex("</Obj>".encode("utf-16-le")) + len("</Obj>".encode("utf-16-le"))
    (d / "Get-ExchangeServer.xml").write_bytes(data[:end])
    content = offline.read_export(d / "Get-ExchangeServer.xml", {"name", "fqdn"})
    objects = iter(content.objects)
    assert next(objects).index == 0
    with pytest.raises(offline.ExportError, match="truncated"):
        next(objects)
    system, notes = system_info_from_exports(ExportMap.from_specs([str(d)]))
    assert system.host_name == "edge01.perimeter.example.mil"
    assert not any(n.startswith("Get-ExchangeServer.xml") for n in notes)


def test_fast_reading_equals_the_general_reading(tmp_path, whole_stig, monkeypatch):
    """Every example export (17 cmdlets, the shapes Exchange writes) and N connectors give
    the same system characteristics whether each object is read property by property or
    handed whole to psrpcore."""
    exports = ExportMap.from_specs([str(_exports(tmp_path))])

    def document() -> bytes:
        collected, system, _ = collect_with_system(whole_stig, exports)
        return syschar_bytes(collected, system, timestamp=STAMP)

    fast = document()
    monkeypatch.setattr(offline._ClixmlStream, "_plain_object", lambda self, el, index: None)
    assert document() == fast
    assert fast.count(b"<win-sc:value ") > 10 * N


def test_streamed_document_is_the_document(tmp_path, whole_stig):
    """`collect` writes the system characteristics as they are rendered (100,000 connectors
    give half a gigabyte): the same bytes as the document made in memory."""
    exports = ExportMap.from_specs([str(_exports(tmp_path))])
    collected, system, _ = collect_with_system(whole_stig, exports)
    out = tmp_path / "sc.xml"
    write_syschar(out, collected, system, timestamp=STAMP)
    assert out.read_bytes() == syschar_bytes(collected, system, timestamp=STAMP)


def test_a_failure_while_streaming_leaves_no_file(tmp_path, whole_stig):
    """The document is written as it is rendered; a failure half-way (here: a record field
    without a name, met while rendering the last item) leaves an existing output as it was
    and no temporary file."""
    exports = ExportMap.from_specs([str(_exports(tmp_path, 2000))])
    collected, system, _ = collect_with_system(whole_stig, exports)
    last = collected[-1]
    broken = collected[:-1] + [CollectedObject(last.query, last.flag, last.status, last.messages,
                                               last.records + [[SimpleNamespace(value="x")]])]
    out = tmp_path / "out" / "sc.xml"
    out.parent.mkdir()
    out.write_bytes(b"earlier run")
    with pytest.raises(AttributeError):
        write_syschar(out, broken, system, timestamp=STAMP)
    assert out.read_bytes() == b"earlier run"
    assert [p.name for p in out.parent.iterdir()] == ["sc.xml"]


@pytest.mark.parametrize("data", [b"<a><b></a>", b"<a>\x01</a>", b"", b"<a>&x;</a>"])
def test_the_writer_never_writes_what_is_not_well_formed(data):
    with pytest.raises(StigscapError, match="internal error: system characteristics not "
                                            "well-formed"):
        _check_well_formed(data)
