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

from dataclasses import dataclass

from lxml import etree

from stigscap.schemas.errors import StigscapError
from stigscap.schemas.namespaces import DS, OVAL_DEF, XCCDF12

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


def benchmark_platforms(collection: etree._Element, syschar_root: etree._Element,
                        source: str = "<data stream>") -> list[BenchmarkPlatform]:
    """Every benchmark's platform, evaluated on the host's system characteristics."""
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
                problems.append(f"inventory definition {def_id} of {name} is {r}")
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
                     source: str = "<data stream>", host: str = "the host") -> BenchmarkPlatform:
    """The one benchmark whose platform `host` matches; StigscapError naming every benchmark's
    platform result when none matches, several do, or one cannot be decided."""
    found = benchmark_platforms(collection, syschar_root, source)
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
