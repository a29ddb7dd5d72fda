"""SCAP 1.3 requirements as NIST SCAPVal numbers them: the coverage table and the findings.

`scap13_requirements.json` (beside this module) lists every SCAPVal requirement id: the
derived requirements of SCAPVal's SCAP 1.3 requirements file (SRC-*, RES-*, A-*, TOOL-*) and
the asserts of the component Schematrons it runs (XCCDF 1.2, OCIL 2.0, TMSAD 1.0: keyed
`xccdf-1.2:<pattern>`, `ocil-2.0#<n>`, `tmsad-1.0#<n>`). Each entry says whether stigscap
checks it (`implemented`, with the check function) or why it cannot be checked on a document
(`not-checkable`: a requirement on a tool's behaviour, on facts outside the document, or
one SCAPVal itself leaves unchecked), in our own words. The checks themselves live in
`scap_source` (source data streams), `scap_result` (ARF result data streams) and
`scap_components` (the component Schematrons), run by `scap_checks.run`; each is registered
with `implements(...)`, so the table and the code cannot drift apart unnoticed
(tests/schemas/test_scap_coverage.py).

A failed requirement is one `Problem`: the offending element (line, path, id), what is
wrong with it, and the requirement's text, on one line. Its severity follows the
requirement's level: MUST → error, SHOULD / MAY → warning, INFORMATIONAL → info.
`Problem.context` keeps the element SCAPVal's Schematron reports the failure on (its rule
context), so verdicts can be compared with SCAPVal's one for one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeVar

from lxml import etree

from . import namespaces as ns
from .semantic import Problem

TABLE = Path(__file__).with_name("scap13_requirements.json")
SEVERITY = {"MUST": "error", "MUST_NOT": "error", "SHOULD": "warning", "MAY": "warning",
            "INFORMATIONAL": "info"}

# Prefixes used when naming an element in a message (the document's own prefixes vary).
_PREFIX = {v: k for k, v in ns.NSMAP_ALL.items()}
_PREFIX.update({ns.OCIL: "ocil", ns.OCIL_2: "ocil", ns.CPE_DICT: "cpe-dict",
                ns.CPE_LANG: "cpe-lang", ns.XCCDF12: "xccdf", ns.OVAL_COMMON: "oval-com",
                ns.XHTML: "xhtml", ns.XINCLUDE: "xinclude"})


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str        # MUST, MUST_NOT, SHOULD, MAY, INFORMATIONAL
    status: str       # implemented | xsd | covered | not-checkable
    text: str         # what the requirement asks, in a line
    check: str | None = None    # module:function(s) that check it, "; "-separated (or the XSD)
    reason: str | None = None   # why it is not checked (not-checkable)
    by: tuple[str, ...] = ()    # the requirements that check it (covered)

    @property
    def severity(self) -> str:
        return SEVERITY[self.level]


@cache
def requirements() -> dict[str, Requirement]:
    """The coverage table: requirement id → Requirement."""
    data = json.loads(TABLE.read_text(encoding="utf-8"))
    return {rid: Requirement(rid, level=e["level"], status=e["status"], text=e["text"],
                             check=e.get("check"), reason=e.get("reason"),
                             by=tuple(e.get("by", ())))
            for rid, e in data["requirements"].items()}


_F = TypeVar("_F", bound=Callable[..., object])
_REGISTRY: dict[str, list[str]] = {}


def claims() -> dict[str, list[str]]:
    """Requirement id → the check functions registered so far (see `scap_checks.registry`)."""
    return {k: list(v) for k, v in _REGISTRY.items()}


def implements(*ids: str) -> Callable[[_F], _F]:
    """Mark a check function as one that checks these requirement ids."""
    def mark(fn: _F) -> _F:
        where = f"{fn.__module__.rsplit('.', 1)[-1]}:{getattr(fn, '__qualname__', fn)}"
        for rid in ids:
            if where not in _REGISTRY.setdefault(rid, []):
                _REGISTRY[rid].append(where)
        return fn
    return mark


def qname(el: etree._Element) -> str:
    """`prefix:local` with the conventional prefix of the element's namespace."""
    q = etree.QName(el)
    prefix = _PREFIX.get(q.namespace or "")
    return f"{prefix}:{q.localname}" if prefix else q.localname


def _own_id(el: etree._Element) -> str | None:
    return el.get("id") or el.get("Id") or el.get("definition_id") or el.get("test_id") or None


def describe(el: etree._Element) -> tuple[str, str | None]:
    """("xccdf:Rule 'xccdf_..._rule_x'" / "xccdf:check-content-ref in xccdf:Rule '…'", id)."""
    own = _own_id(el)
    if own is not None:
        return f"{qname(el)} {own!r}", own
    node = el.getparent()
    while node is not None:
        nid = _own_id(node)
        if nid is not None:
            return f"{qname(el)} in {qname(node)} {nid!r}", nid
        node = node.getparent()
    return qname(el), None


class Findings:
    """Collects requirement failures of one document as `Problem`s."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []
        self._table = requirements()
        self._paths: dict[etree._Element, str] = {}
        self._positions: dict[etree._Element, dict[etree._Element, str]] = {}

    def path(self, el: etree._Element) -> str:
        """`element_path(el)`, with the ancestors' paths and sibling positions remembered
        (thousands of findings in one Group would otherwise rescan its children each time)."""
        done = self._paths.get(el)
        if done is not None:
            return done
        parent = el.getparent()
        q = etree.QName(el)
        name = f"{el.prefix}:{q.localname}" if el.prefix else q.localname
        if parent is None:
            out = "/" + name
        else:
            pos = self._positions.get(parent)
            if pos is None:
                pos = {}
                counts: dict[object, int] = {}
                for child in parent:
                    counts[child.tag] = counts.get(child.tag, 0) + 1
                seen: dict[object, int] = {}
                for child in parent:
                    if counts[child.tag] > 1:
                        seen[child.tag] = seen.get(child.tag, 0) + 1
                        pos[child] = f"[{seen[child.tag]}]"
                self._positions[parent] = pos
            out = self.path(parent) + "/" + name + pos.get(el, "")
        self._paths[el] = out
        return out

    def fail(self, rid: str, context: etree._Element, detail: str,
             where: etree._Element | None = None) -> None:
        """`rid` failed: SCAPVal reports it on `context`; `where` (default: context) is the
        element at fault, `detail` says what is wrong with it."""
        req = self._table[rid]
        el = context if where is None else where
        what, el_id = describe(el)
        self.problems.append(Problem(
            self.source, el.sourceline, self.path(el), rid, f"{what}: {detail}",
            req.severity, element_id=el_id, requirement=req.text, context=context))


def text_of(el: etree._Element) -> str:
    """XPath string value (all descendant text, comments excluded)."""
    return "".join(el.itertext()) if len(el) else (el.text or "")
