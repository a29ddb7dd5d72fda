"""NIST SCAPVal's own unit tests (Decima content unit tests), instantiated for our tests.

Each unit test in ../shared/scapval/unit-tests/unit-tests/**.xml names a template document
(``classpath:scap-1.3/templates/…``), a list of edits (delete, replace, insert-child,
insert-sibling, modify-attribute, add-attribute, each at an XPath), the Schematron it is
assessed with, and the expected result per derived requirement (PASS / FAIL / NOT_APPLICABLE;
``assert-remaining ALL PASS`` for every other one). ``instantiate`` applies the edits with lxml
(XPath 2's ``*:name`` steps are rewritten to ``*[local-name()='name']``) and returns the
document; nothing is copied from ../shared. Unit tests whose template is not in the snapshot
(SCAP 1.2 templates) are left out.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from tests.conftest import SHARED

UNITS = SHARED / "scapval" / "unit-tests"
T = "http://csrc.nist.gov/ns/decima/template/1.0"
_WILD = re.compile(r"\*:([A-Za-z_][\w.-]*)")


@dataclass
class UnitTest:
    path: Path
    template: Path
    ruleset: str          # e.g. "scap/source-data-stream-1.3.sch", "other/xccdf-1.2.sch"
    expected: dict[str, str] = field(default_factory=dict)   # requirement id → PASS/FAIL/…
    remaining: str | None = None                             # result of every other one

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.stem}"


def unit_tests() -> list[UnitTest]:
    """Every unit test whose template is in the ../shared snapshot (empty when absent)."""
    root = UNITS / "unit-tests"
    if not root.is_dir():
        return []
    out = []
    for p in sorted(root.rglob("*.xml")):
        doc = etree.parse(str(p)).getroot()
        tmpl = doc.find(f"{{{T}}}template")
        rel = (tmpl.get("template") or "").removeprefix("classpath:")
        template = UNITS / rel
        if not template.is_file():
            continue
        assess = next(doc.iter("{*}schematron-assessment"))
        unit = UnitTest(p, template, assess.get("ruleset").removeprefix("classpath:rules/"))
        for a in doc.find("{*}assertions"):
            if not isinstance(a.tag, str):
                continue
            if etree.QName(a).localname == "assert-remaining":
                unit.remaining = a.get("result")
            else:
                unit.expected[a.get("requirement-id")] = a.get("result")
        out.append(unit)
    return out


def _xpath(op: etree._Element) -> etree.XPath:
    ns = {k: v for k, v in op.nsmap.items() if k}
    return etree.XPath(_WILD.sub(r"*[local-name()='\1']", op.get("xpath").strip()), namespaces=ns)


def _content(op: etree._Element) -> list[etree._Element]:
    return [_rebuild(c) for c in op if isinstance(c.tag, str)]


def _rebuild(el: etree._Element, parent: etree._Element | None = None) -> etree._Element:
    """A copy of `el` that declares no default namespace (prefixed names only).

    Moving a copied element whose subtree declares a default namespace under a parent whose
    default namespace is the element's own namespace makes libxml2 serialize it in the
    wrong namespace (the copy's `xmlns=` shadows the parent's); prefixed names avoid that."""
    nsmap = {k: v for k, v in el.nsmap.items() if k}
    new = (etree.Element(el.tag, nsmap=nsmap) if parent is None
           else etree.SubElement(parent, el.tag, nsmap=nsmap))
    for k, v in el.attrib.items():
        new.set(k, v)
    new.text, new.tail = el.text, el.tail
    for child in el:
        if isinstance(child.tag, str):
            _rebuild(child, new)
        else:
            new.append(copy.deepcopy(child))
    return new


def _build(template: Path) -> etree._ElementTree:
    """A template document; a template can itself be a Decima template over another one."""
    tree = etree.parse(str(template))
    root = tree.getroot()
    if root.tag != f"{{{T}}}template":
        return tree
    base = _build(template.parent / root.get("template"))
    _apply(base, root, template)
    return base


def instantiate(unit: UnitTest) -> bytes:
    """The template with the unit test's edits applied, serialized."""
    tree = _build(unit.template)
    _apply(tree, etree.parse(str(unit.path)).getroot().find(f"{{{T}}}template"), unit.path)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def _apply(tree: etree._ElementTree, template: etree._Element, where: Path) -> None:
    for op in template:
        if not isinstance(op.tag, str):
            continue
        kind = etree.QName(op).localname
        hits = _xpath(op)(tree)
        for hit in hits:
            if kind == "modify-attribute":
                parent = hit.getparent()
                parent.set(hit.attrname, op.get("value"))
            elif kind == "add-attribute":
                hit.set(op.get("name"), op.get("value"))
            elif kind == "delete":
                if isinstance(hit, str):   # an attribute
                    del hit.getparent().attrib[hit.attrname]
                else:
                    _remove(hit)
            elif kind == "replace":
                parent = hit.getparent()
                at = parent.index(hit)
                for n, new in enumerate(_content(op)):
                    parent.insert(at + n, new)
                _remove(hit)
            elif kind == "insert-child":
                for new in _content(op):
                    hit.append(new)
            elif kind == "insert-sibling":
                parent = hit.getparent()
                at = parent.index(hit) + (0 if op.get("before") == "true" else 1)
                for n, new in enumerate(_content(op)):
                    parent.insert(at + n, new)
            else:  # pragma: no cover - a new kind of edit
                raise ValueError(f"{where}: unknown template edit {kind}")


def _remove(el: etree._Element) -> None:
    """Remove an element, keeping its tail text in place."""
    parent = el.getparent()
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)
