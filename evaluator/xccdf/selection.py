"""Which benchmark of a data stream collection applies to a host.

A collection written by `stigscap generate --benchmark all` holds one data stream per
benchmark (Exchange 2013 Edge, 2016 Edge, 2016 Mailbox, 2019 Edge, ...), each with its own
XCCDF Benchmark whose `xccdf:platform` is a CPE name checked by an inventory OVAL definition on
`Get-ExchangeServer` (ServerRole, AdminDisplayVersion). `benchmark_platforms` evaluates every
benchmark's platform against a host's system characteristics; `choose_benchmark` returns the
one that matches. No match, several matches, or a platform that cannot be decided (missing or
erroneous Get-ExchangeServer data) is an error naming each benchmark and its platform result:
a host is never judged `notapplicable` to everything when its product cannot be told.

`platform_queries` lists the cmdlet objects the platforms read, so a live scan can collect
them first and then only the chosen benchmark's objects. Pure: parsed documents in, results
out.
"""

from __future__ import annotations

import copy
import ipaddress
from dataclasses import dataclass
from typing import Sequence

from lxml import etree

from stigscap.schemas.errors import StigscapError
from stigscap.schemas.namespaces import DS, OVAL_DEF, OVAL_SC, XCCDF12
from stigscap.schemas.xmlio import element_text

from ..collect.model import CmdletQuery
from ..oval.engine import compile_definitions
from ..oval.objects import read_cmdlet_objects
from ..oval.values import OvalResult
from .datastream import SourceDataStream, open_datastream

X = f"{{{XCCDF12}}}"
D = f"{{{OVAL_DEF}}}"


@dataclass(frozen=True)
class BenchmarkPlatform:
    """One benchmark of the collection and how its platform came out on a host."""

    datastream_id: str
    benchmark_id: str
    platforms: tuple[str, ...]        # the Benchmark's xccdf:platform idrefs (OR)
    result: str                       # true | false | error (undecidable)
    message: str = ""

    @property
    def label(self) -> str:
        return f"{self.benchmark_id} ({', '.join(self.platforms) or 'no platform'}): " + \
            (self.result if not self.message else f"{self.result}, {self.message}")


def datastreams(collection: etree._Element, source: str = "<data stream>"
                ) -> list[SourceDataStream]:
    """Every data stream of the collection, opened."""
    return [open_datastream(collection, datastream_id=s.get("id", ""), source=source)
            for s in collection.findall(f"{{{DS}}}data-stream")]


def is_multi_benchmark(collection: etree._Element) -> bool:
    return len(collection.findall(f"{{{DS}}}data-stream")) > 1


def datastream_for_benchmark(collection: etree._Element, benchmark_id: str,
                             source: str = "<data stream>") -> str:
    """The id of the data stream whose checklist is the Benchmark `benchmark_id` (full id,
    or the part after `_benchmark_`, as oscap's --benchmark-id takes it)."""
    found = []
    for sds in datastreams(collection, source):
        bid = sds.benchmark.get("id", "")
        if benchmark_id in (bid, bid.split("_benchmark_", 1)[-1]):
            found.append(sds.datastream.get("id", ""))
    if len(found) != 1:
        have = ", ".join(s.benchmark.get("id", "?") for s in datastreams(collection, source))
        raise StigscapError(f"no benchmark {benchmark_id!r} in the data stream collection"
                            f" (it holds: {have})" if not found else
                            f"benchmark {benchmark_id!r} is in several data streams",
                            file=source)
    return found[0]


def _platform_definitions(sds: SourceDataStream) -> list[tuple[str, etree._Element | None,
                                                                 str | None, str]]:
    """(cpe name, inventory OVAL root, definition id, problem) per Benchmark platform."""
    out: list[tuple[str, etree._Element | None, str | None, str]] = []
    for p in sds.benchmark.iterfind(f"{X}platform"):
        name = p.get("idref", "")
        if name.startswith("#"):
            out.append((name, None, None, "a cpe-lang platform cannot choose a benchmark"))
            continue
        try:
            comp, def_id = sds.platform_check(name)
        except StigscapError as exc:
            out.append((name, None, None, exc.message))
            continue
        out.append((name, comp.root, def_id, ""))
    return out


def platform_queries(collection: etree._Element, source: str = "<data stream>"
                     ) -> list[CmdletQuery]:
    """The cmdlet objects the Benchmark-level platform checks of every data stream read (in
    document order, each object once)."""
    out: dict[str, CmdletQuery] = {}
    for sds in datastreams(collection, source):
        for _name, root, def_id, _problem in _platform_definitions(sds):
            if root is None or def_id is None:
                continue
            wanted = _definition_objects(root, def_id)
            for q in read_cmdlet_objects(root).queries:
                if q.object_id in wanted:
                    out.setdefault(q.object_id, q)
    return list(out.values())


def _definition_objects(root: etree._Element, def_id: str) -> set[str]:
    by_id = {el.get("id", ""): el for el in root.iter() if isinstance(el.tag, str)}
    definition = by_id.get(def_id)
    objects: set[str] = set()
    if definition is None:
        return objects
    todo = [definition]
    while todo:
        d = todo.pop()
        for c in d.iter(f"{D}criterion"):
            test = by_id.get(c.get("test_ref", ""))
            if test is not None:
                for child in test:
                    if isinstance(child.tag, str) and child.get("object_ref"):
                        objects.add(child.get("object_ref", ""))
        for e in d.iter(f"{D}extend_definition"):
            other = by_id.get(e.get("definition_ref", ""))
            if other is not None:
                todo.append(other)
    return objects


def _own_server_view(syschar_root: etree._Element, object_ids: set[str],
                     host_names: Sequence[str] = ()) -> etree._Element:
    """The system characteristics of the platform objects alone, where an item listing
    several servers (one `value` record each) keeps only the host's own. On a Mailbox server
    Get-ExchangeServer lists every server of the organization (other versions, subscribed Edge
    servers): the benchmark is chosen by the record whose Name is the host's computer name —
    the first label of system_info's primary_host_name or of one of `host_names` (the
    inventory name and address; the Exchange endpoint gives no system facts). When no record
    names the host, all are kept (several matching benchmarks are then an error, never a
    guess)."""
    root = etree.Element(syschar_root.tag, nsmap=syschar_root.nsmap)
    head = {etree.QName(c).localname: c for c in syschar_root if isinstance(c.tag, str)}
    for name in ("generator", "system_info"):
        if name in head:
            root.append(copy.deepcopy(head[name]))
    names = list(host_names)
    info = head.get("system_info")
    if info is not None:
        for el in info:
            if isinstance(el.tag, str) and etree.QName(el).localname == "primary_host_name":
                names.append((element_text(el) or "").strip())
    shorts = {n.split(".")[0].lower() for n in names if n and not _is_address(n)}
    items: dict[str, etree._Element] = {}
    data = head.get("system_data")
    if data is not None:
        items = {i.get("id", ""): i for i in data if isinstance(i.tag, str)}
    objects = etree.SubElement(root, f"{{{OVAL_SC}}}collected_objects")
    system_data = etree.SubElement(root, f"{{{OVAL_SC}}}system_data")
    kept: list[str] = []
    collected = head.get("collected_objects")
    for obj in (collected if collected is not None else ()):
        if not isinstance(obj.tag, str) or obj.get("id") not in object_ids:
            continue
        objects.append(copy.deepcopy(obj))
        kept += [r.get("item_ref", "") for r in obj if isinstance(r.tag, str)
                 and etree.QName(r).localname == "reference"]
    for ref in dict.fromkeys(kept):
        if ref not in items:
            continue
        item = copy.deepcopy(items[ref])
        values = [v for v in item if isinstance(v.tag, str)
                  and etree.QName(v).localname == "value"]
        own = [v for v in values if _record_name(v) in shorts]
        if len(values) > 1 and own:
            for v in values:
                if v not in own:
                    item.remove(v)
        system_data.append(item)
    return root


def _record_name(value: etree._Element) -> str | None:
    for f in value:
        if isinstance(f.tag, str) and etree.QName(f).localname == "field" and \
                f.get("name") == "name":
            return (element_text(f) or "").strip().lower()
    return None


def _collection_problems(view: etree._Element) -> str:
    """What the collector said about the platform objects it could not use (flag error):
    the file, object and property of contradictory or missing Get-ExchangeServer data."""
    seen: dict[str, None] = {}
    for obj in view.iter():
        if isinstance(obj.tag, str) and etree.QName(obj).localname == "object" and \
                obj.get("flag") == "error":
            for m in obj:
                text = (element_text(m) or "").strip() if isinstance(m.tag, str) and \
                    etree.QName(m).localname == "message" and m.get("level") == "error" else ""
                if text:
                    seen.setdefault(text)
    return "; ".join(seen)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
        return True
    except ValueError:
        return False


def benchmark_platforms(collection: etree._Element, syschar_root: etree._Element,
                        source: str = "<data stream>", host_names: Sequence[str] = ()
                        ) -> list[BenchmarkPlatform]:
    """Every benchmark's platform, evaluated on the host's system characteristics (for an
    object listing several servers, on the host's own record: `_own_server_view`)."""
    wanted: set[str] = set()
    for sds in datastreams(collection, source):
        for _name, root, def_id, _problem in _platform_definitions(sds):
            if root is not None and def_id is not None:
                wanted |= _definition_objects(root, def_id)
    syschar_root = _own_server_view(syschar_root, wanted, host_names)
    collected = _collection_problems(syschar_root)
    out = []
    for sds in datastreams(collection, source):
        results: list[str] = []
        names: list[str] = []
        problems: list[str] = []
        for name, root, def_id, problem in _platform_definitions(sds):
            names.append(name)
            if root is None or def_id is None:
                results.append("error")
                problems.append(f"{name}: {problem}")
                continue
            evaluation = compile_definitions(root).evaluate(syschar_root)
            r = evaluation.definition_results.get(def_id, OvalResult.UNKNOWN)
            if r == OvalResult.TRUE:
                results.append("true")
            elif r == OvalResult.FALSE:
                results.append("false")
            else:
                results.append("error")
                problems.append(f"inventory definition {def_id} of {name} is {r}"
                                + (f" ({collected})" if collected else ""))
        if not names or "true" in results:
            result = "true"          # no platform: the benchmark applies to every host
        elif "error" in results:
            result = "error"
        else:
            result = "false"
        out.append(BenchmarkPlatform(sds.datastream.get("id", ""), sds.benchmark.get("id", ""),
                                     tuple(names), result,
                                     "; ".join(problems) if result == "error" else ""))
    return out


def choose_benchmark(collection: etree._Element, syschar_root: etree._Element,
                     source: str = "<data stream>", host: str = "the host",
                     host_names: Sequence[str] = ()) -> BenchmarkPlatform:
    """The one benchmark whose platform `host` matches; StigscapError naming every benchmark's
    platform result when none matches, several do, or one cannot be decided. `host_names`:
    names the host is known by besides the syschar's (see `_own_server_view`)."""
    found = benchmark_platforms(collection, syschar_root, source, host_names)
    matching = [b for b in found if b.result == "true"]
    undecided = [b for b in found if b.result == "error"]
    if len(matching) == 1 and not undecided:
        return matching[0]
    if undecided:
        why = "the platform of " + ", ".join(b.benchmark_id for b in undecided) + \
              " cannot be decided"
    elif matching:
        why = "several benchmarks' platforms match (contradictory Get-ExchangeServer data?)"
    else:
        why = "no benchmark's platform matches"
    raise StigscapError(f"{host}: {why}; " + "; ".join(b.label for b in found))


def datastream_oval_roots(collection: etree._Element, datastream_id: str,
                          source: str = "<data stream>") -> list[etree._Element]:
    """The OVAL definitions documents one data stream's ds:checks hold (what a collector
    reads to judge a host against that data stream alone)."""
    sds = open_datastream(collection, datastream_id=datastream_id, source=source)
    out = []
    for ref in sds.datastream.iterfind(f"{{{DS}}}checks/{{{DS}}}component-ref"):
        comp = sds.component_for_ref(ref.get("id", ""))
        if comp.root.tag == f"{D}oval_definitions":
            out.append(comp.root)
    return out
