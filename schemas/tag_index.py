"""The elements of a source data stream by tag, found in one walk, for the checks.

The reference and SCAP 1.3 checks ask, again and again, for the elements of a few tags below
the collection, one of its components or a component's document (`el.iter(tag)`). On a
24 MB SSG stream each such walk takes ≈17 ms (libxml2 visits every node), and the checks
made more than twenty of them. While `indexed(root)` is in force (`validate.check_document`
puts it around the checks), `iter_tags(el, *tags)` answers from lists built by one walk instead,
in document order; for any other element, or a tag the walk did not collect, it is
`el.iter(*tags)` itself. The index holds the elements it found (the document must not change
while it is in force) and is dropped when the block ends. One per thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from lxml import etree

from . import namespaces as ns


_q = ns.qname


X, D, OV, G = ns.XCCDF12, ns.DS, ns.OVAL_DEF, ns.DSIG
_OCIL = (ns.OCIL, ns.OCIL_2)

# Every tag the checks look for below a collection, a component or a component's document.
INDEXED: frozenset[str] = frozenset({
    *(_q(X, n) for n in ("Benchmark", "Rule", "Group", "Value", "Profile", "Tailoring",
                         "plain-text", "fact", "check", "check-content-ref", "check-content",
                         "check-export", "status", "ident", "version", "signature", "title",
                         "check-import", "TestResult", "platform", "conflicts",
                         "complex-check", "select", "refine-rule", "refine-value",
                         "set-value", "set-complex-value", "requires", "sub", "source",
                         "complex-value", "complex-default", "complex-choice")),
    *(_q(D, n) for n in ("data-stream-collection", "data-stream", "component", "checklists",
                         "component-ref")),
    *(_q(OV, n) for n in ("oval_definitions", "definition", "generator", "reference")),
    *(_q(o, n) for o in _OCIL for n in ("ocil", "questionnaire", "choice_question",
                                        "choice_question_result", "local_variable",
                                        "question_results")),
    _q(ns.CPE_DICT, "cpe-list"), _q(ns.CPE_DICT, "cpe-item"), _q(ns.CPE_DICT, "check"),
    _q(ns.CPE_LANG, "check-fact-ref"), _q(ns.CPE_LANG, "fact-ref"), _q(ns.CPE_LANG, "platform"),
    _q(ns.XHTML, "object"), _q(ns.XHTML, "a"),
    _q(ns.XINCLUDE, "include"),
    _q(G, "Signature"),
    "{*}checklists",
})

_local = threading.local()


class _Part:
    """The matches below one element, in document order (the element itself first when it
    matches, unless `skip`: a component's document leaves out its component)."""

    def __init__(self, found: list[tuple[str, etree._Element]], skip: int = 0):
        self.found, self.skip = found, skip
        self._by_tag: dict[str, list[int]] | None = None

    def _positions(self) -> dict[str, list[int]]:
        """Each tag's positions in `found`, built on the first question."""
        if self._by_tag is None:
            self._by_tag = {}
            for i, (t, _e) in enumerate(self.found):
                self._by_tag.setdefault(t, []).append(i)
        return self._by_tag

    def single(self, tag: str) -> list[etree._Element]:
        found, skip = self.found, self.skip
        return [found[i][1] for i in self._positions().get(tag, ()) if i >= skip]

    def several(self, exact: set[str], local: set[str]) -> list[etree._Element]:
        # the positions of every wanted tag, merged back into document order
        pos = sorted(i for t, at in self._positions().items()
                     if t in exact or (local and t.rpartition("}")[2] in local) for i in at)
        found, skip = self.found, self.skip
        return [found[i][1] for i in pos if i >= skip]


class _Index:
    def __init__(self, root: etree._Element):
        self.root = root
        self._parts: dict[etree._Element, _Part] | None = None
        self._answers: dict[tuple[etree._Element, tuple[str, ...]], list[etree._Element]] = {}

    def _build(self) -> dict[etree._Element, _Part]:
        tags = sorted(INDEXED)
        root = self.root
        everything = [(str(root.tag), root)] if root.tag in INDEXED else []
        parts: dict[etree._Element, _Part] = {}
        for top in root.iterchildren(etree.Element):
            found = [(str(el.tag), el) for el in top.iter(*tags)]
            parts[top] = _Part(found)
            kids = list(top.iterchildren(etree.Element))
            if len(kids) == 1:   # a component's one document: its matches, without `top`
                parts[kids[0]] = _Part(found, 1 if found and found[0][1] is top else 0)
            everything += found
        parts[root] = _Part(everything)
        return parts

    def lookup(self, el: etree._Element, tags: tuple[str, ...]) -> list[etree._Element] | None:
        """el.iter(*tags) as a list, if el is the root, a child of it or a child's only
        element child; else None."""
        answer = self._answers.get((el, tags))
        if answer is not None:
            return answer
        if self._parts is None:
            self._parts = self._build()
        part = self._parts.get(el)
        if part is None:
            return None
        exact = {t for t in tags if not t.startswith("{*}")}
        local = {t[3:] for t in tags if t.startswith("{*}")}
        answer = part.single(tags[0]) if len(tags) == 1 and exact else part.several(exact, local)
        self._answers[(el, tags)] = answer
        return answer


def iter_tags(el: etree._Element, *tags: str) -> Iterator[etree._Element]:
    """`el.iter(*tags)`, from the index when one is in force for el's document."""
    index: _Index | None = getattr(_local, "index", None)
    if index is not None and tags and all(t in INDEXED for t in tags):
        found = index.lookup(el, tags)
        if found is not None:
            return iter(found)
    return el.iter(*tags)


@contextmanager
def indexed(root: etree._Element) -> Iterator[None]:
    """Answer `iter` for this document from one walk (built on first use) inside the block."""
    previous = getattr(_local, "index", None)
    _local.index = _Index(root)
    try:
        yield
    finally:
        _local.index = previous
