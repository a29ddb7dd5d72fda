"""Find the parts of a SCAP 1.3 source data stream through its catalogs (no evaluation here).

A `SourceDataStream` wraps a parsed `ds:data-stream-collection` and answers: which XCCDF
Benchmark does the data stream carry, which component does an XCCDF `check-content-ref/@href`
(an OVAL file name) resolve to, and which CPE dictionary / inventory OVAL component decides a
platform. Resolution follows SP 800-126r3 §3.2: the href is looked up in the `cat:catalog` of
the checklist's `ds:component-ref`, giving `#<component-ref id>`, whose `xlink:href` names the
`ds:component`; a bare `#<component-ref id>` href is accepted as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from stigscap.schemas.errors import StigscapError
from stigscap.schemas.namespaces import CAT, CPE_DICT, CPE23_DICT_EXT, DS, OVAL_DEF, XCCDF12, XLINK
from stigscap.schemas.xmlio import element_text

_XLINK_HREF = f"{{{XLINK}}}href"


@dataclass(frozen=True)
class Component:
    """A `ds:component` and the document it holds."""

    id: str
    ref_id: str          # the component-ref that led to it
    root: etree._Element  # the component's single child (Benchmark, oval_definitions, cpe-list)


class SourceDataStream:
    """One data stream of a source data stream collection, with catalog-based resolution."""

    def __init__(self, collection: etree._Element, *, datastream_id: str | None = None,
                 source: str = "<data stream>"):
        self.source = source
        if collection.tag != f"{{{DS}}}data-stream-collection":
            raise StigscapError(
                f"not a SCAP source data stream (root element is {etree.QName(collection).localname})",
                file=source)
        self.collection = collection
        streams = collection.findall(f"{{{DS}}}data-stream")
        if not streams:
            raise StigscapError("the data stream collection holds no ds:data-stream", file=source)
        if datastream_id:
            found = [s for s in streams if s.get("id") == datastream_id]
            if not found:
                ids = ", ".join(s.get("id", "?") for s in streams)
                raise StigscapError(f"no data stream {datastream_id!r}; available: {ids}",
                                    file=source)
            self.datastream = found[0]
        else:
            self.datastream = streams[0]
        self.components = {c.get("id", ""): c for c in collection.iter(
            f"{{{DS}}}component", f"{{{DS}}}extended-component")}
        self.component_refs = {r.get("id", ""): r
                               for r in self.datastream.iter(f"{{{DS}}}component-ref")}
        self._cache: dict[str, Component] = {}

        checklists = self.datastream.findall(f"{{{DS}}}checklists/{{{DS}}}component-ref")
        benchmark = None
        for ref in checklists:
            comp = self._component_for_ref(ref.get("id", ""))
            if comp.root.tag == f"{{{XCCDF12}}}Benchmark":
                benchmark = comp
                break
        if benchmark is None:
            raise StigscapError("the data stream has no XCCDF 1.2 Benchmark checklist",
                                file=source)
        self.benchmark_component = benchmark
        self.benchmark: etree._Element = benchmark.root

        self.dictionary: Component | None = None
        self.dictionary_problem: str | None = None   # why no CPE dictionary can be used
        not_cpe = []
        for ref in self.datastream.findall(f"{{{DS}}}dictionaries/{{{DS}}}component-ref"):
            comp = self._component_for_ref(ref.get("id", ""))
            if comp.root.tag == f"{{{CPE_DICT}}}cpe-list":
                self.dictionary = comp
                break
            not_cpe.append(f"component {comp.id} holds {{{etree.QName(comp.root).namespace}}}"
                           f"{etree.QName(comp.root).localname}")
        if self.dictionary is None:
            self.dictionary_problem = (
                "no CPE dictionary in the data stream's ds:dictionaries" if not not_cpe else
                "no CPE dictionary in the data stream's ds:dictionaries ("
                + "; ".join(not_cpe) + f", not {{{CPE_DICT}}}cpe-list)")

    # --- resolution -----------------------------------------------------------------------
    def _component_for_ref(self, ref_id: str) -> Component:
        if ref_id in self._cache:
            return self._cache[ref_id]
        ref = self.component_refs.get(ref_id)
        if ref is None:
            raise StigscapError(f"data stream refers to a missing component-ref {ref_id!r}",
                                file=self.source)
        href = ref.get(_XLINK_HREF, "")
        if not href.startswith("#"):
            raise StigscapError(f"component-ref {ref_id} points outside the data stream "
                                f"({href!r}); only local components are supported",
                                file=self.source)
        comp = self.components.get(href[1:])
        if comp is None or len(comp) == 0:
            raise StigscapError(f"component-ref {ref_id} points to a missing component {href!r}",
                                file=self.source)
        root = next((c for c in comp if isinstance(c.tag, str)), None)
        if root is None:
            raise StigscapError(f"component {href[1:]} is empty", file=self.source)
        result = Component(comp.get("id", ""), ref_id, root)
        self._cache[ref_id] = result
        return result

    def component_for_ref(self, ref_id: str) -> Component:
        """The component a component-ref of this data stream points at."""
        return self._component_for_ref(ref_id)

    def _resolve(self, from_ref_id: str, href: str) -> Component:
        if href.startswith("#"):
            return self._component_for_ref(href[1:])
        ref = self.component_refs.get(from_ref_id)
        if ref is not None:
            for uri in ref.iterfind(f"{{{CAT}}}catalog/{{{CAT}}}uri"):
                if uri.get("name") == href:
                    target = uri.get("uri", "")
                    if target.startswith("#"):
                        return self._component_for_ref(target[1:])
        raise StigscapError(f"check reference {href!r} is not resolved by the catalog of "
                            f"{from_ref_id}", file=self.source)

    def check_component(self, href: str) -> Component:
        """The OVAL component an XCCDF check-content-ref/@href points at."""
        comp = self._resolve(self.benchmark_component.ref_id, href)
        if comp.root.tag != f"{{{OVAL_DEF}}}oval_definitions":
            raise StigscapError(f"check reference {href!r} does not lead to OVAL definitions",
                                file=self.source)
        return comp

    def platform_check(self, cpe_name: str) -> tuple[Component, str]:
        """(inventory OVAL component, definition id) deciding a CPE name. A name that cannot
        be decided that way (no usable dictionary, name not listed, no OVAL check, a check
        that does not resolve to a definition) raises StigscapError saying why: the platform
        cannot be evaluated, which is never 'not applicable'."""
        if self.dictionary is None:
            raise StigscapError(self.dictionary_problem or "no CPE dictionary", file=self.source)
        where = f"CPE dictionary {self.dictionary.id}"
        for item in self.dictionary.root.iterfind(f"{{{CPE_DICT}}}cpe-item"):
            names = {item.get("name")}
            names.update(e.get("name") for e in item.iterfind(f"{{{CPE23_DICT_EXT}}}cpe23-item"))
            if cpe_name not in names:
                continue
            for check in item.iterfind(f"{{{CPE_DICT}}}check"):
                if check.get("system") != OVAL_DEF:
                    continue
                def_id = (element_text(check) or "").strip()
                href = check.get("href")
                if not href or not def_id:
                    raise StigscapError(f"{where}: the OVAL check of {cpe_name} lacks an href "
                                        "or a definition id", file=self.source)
                comp = self._resolve(self.dictionary.ref_id, href)
                if comp.root.tag != f"{{{OVAL_DEF}}}oval_definitions":
                    raise StigscapError(f"{where}: the check of {cpe_name} ({href})"
                                        " does not lead to OVAL definitions", file=self.source)
                if not any(d.get("id") == def_id
                           for d in comp.root.iter(f"{{{OVAL_DEF}}}definition")):
                    raise StigscapError(f"{where}: OVAL definition {def_id} (check of "
                                        f"{cpe_name}) is not in component {comp.id}",
                                        file=self.source)
                return comp, def_id
            raise StigscapError(f"{where}: {cpe_name} has no OVAL check", file=self.source)
        raise StigscapError(f"{where} does not list {cpe_name}", file=self.source)


def open_datastream(tree: etree._ElementTree | etree._Element, *, datastream_id: str | None = None,
                    source: str = "<data stream>") -> SourceDataStream:
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    return SourceDataStream(root, datastream_id=datastream_id, source=source)
