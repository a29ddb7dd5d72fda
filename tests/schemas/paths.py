"""XPath 2 `path()` of an lxml element, as SCAPVal's Schematron (run by tests/scapval.py)
reports a failure's location: `/Q{ns}local[n]/…` with positions among same-named siblings."""

from __future__ import annotations

from lxml import etree


def xpath2_path(el: etree._Element | None) -> str:
    if el is None:
        return ""
    parts = []
    node: etree._Element | None = el
    while node is not None:
        q = etree.QName(node)
        parent = node.getparent()
        pos = 1
        if parent is not None:
            for sib in parent.iterchildren(node.tag):
                if sib is node:
                    break
                pos += 1
        parts.append(f"Q{{{q.namespace or ''}}}{q.localname}[{pos}]")
        node = parent
    return "/" + "/".join(reversed(parts))
