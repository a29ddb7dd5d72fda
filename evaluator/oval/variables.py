"""OVAL external variable values from an oval_variables document (OVAL 5.11.2 variables schema)."""

from __future__ import annotations

from lxml import etree

from stigscap.schemas.errors import StigscapError
from stigscap.schemas.namespaces import OVAL_VAR
from stigscap.schemas.xmlio import element_text


def variables_from_document(root: etree._Element, source: str | None = None
                            ) -> dict[str, list[str]]:
    """An oval_variables document → {variable id: [values]} (each value's whole text)."""
    if root.tag != f"{{{OVAL_VAR}}}oval_variables":
        raise StigscapError(f"expected an OVAL oval_variables document, found <{root.tag!s}>",
                            file=source)
    out: dict[str, list[str]] = {}
    for var in root.iterfind(f"{{{OVAL_VAR}}}variables/{{{OVAL_VAR}}}variable"):
        vid = var.get("id")
        if not vid:
            raise StigscapError("a variable without an id", file=source, line=var.sourceline)
        out[vid] = [element_text(v) or "" for v in var.iterfind(f"{{{OVAL_VAR}}}value")]
    return out
