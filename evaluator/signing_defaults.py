"""Write schema default attributes explicitly before signing (NISTIR 8085 A-26).

A validating parser that fills in XSD default attributes sees different octets than one that
does not; if the defaults are already written, every parser canonicalises the same document.

libxml2's own default filling (lxml `XMLSchema(attribute_defaults=True)`) stops with
"Internal error: xmlSchemaVAttributesComplex, default/fixed value on an attribute use was not
precomputed" on the SCAP 1.3 schemas (libxml2 2.14), so the declarations are read with
xmlschema and the document is walked here: for each element the matching declaration is found
(children by name, substitution groups and wildcards via global declarations, xsi:type), and
every attribute with a default or fixed value that is absent is written.

Covered namespaces are those of the official schemas shipped with OpenSCAP (SDS 1.3, XCCDF 1.2,
OVAL 5.11.3 core + independent/unix/linux/windows, ARF 1.1, CPE, OCIL); elements of other
namespaces are left as they are.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from lxml import etree

from stigscap.schemas import namespaces as ns
from stigscap.schemas.errors import StigscapError

XSI_TYPE = f"{{{ns.XSI}}}type"
OVAL_PLATFORMS = ("independent", "unix", "linux", "windows")


def schema_root() -> Path:
    return Path(os.environ.get("STIGSCAP_OPENSCAP_SCHEMAS", "/usr/share/openscap/schemas"))


def _locations() -> dict[str, str]:
    base = schema_root()
    o = base / "oval" / "5.11.3"
    loc = {
        ns.DS: base / "sds/1.3/scap-source-data-stream_1.3.xsd",
        ns.ARF: base / "arf/1.1/asset-reporting-format_1.1.0.xsd",
        ns.XCCDF12: base / "xccdf/1.2/xccdf_1.2.xsd",
        ns.OVAL_DEF: o / "oval-definitions-schema.xsd",
        ns.OVAL_SC: o / "oval-system-characteristics-schema.xsd",
        ns.OVAL_RES: o / "oval-results-schema.xsd",
        ns.OVAL_VAR: o / "oval-variables-schema.xsd",
    }
    for p in OVAL_PLATFORMS:
        loc[f"{ns.OVAL_DEF}#{p}"] = o / f"{p}-definitions-schema.xsd"
        loc[f"{ns.OVAL_SC}#{p}"] = o / f"{p}-system-characteristics-schema.xsd"
    return {k: str(v) for k, v in loc.items()}


@lru_cache(maxsize=8)
def _schema(namespaces: frozenset[str]):
    import xmlschema  # imported lazily: building the schema takes seconds

    locations = _locations()
    imports = "".join(
        f'<xs:import namespace="{n}" schemaLocation="{Path(locations[n]).as_uri()}"/>'
        for n in sorted(namespaces))
    wrapper = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
               'targetNamespace="urn:stigscap:defaults-wrapper">' + imports + "</xs:schema>")
    missing = [locations[n] for n in namespaces if not Path(locations[n]).exists()]
    if missing:
        raise StigscapError(f"schema not found: {missing[0]} (needed to write default "
                            "attributes before signing; set STIGSCAP_OPENSCAP_SCHEMAS)")
    return xmlschema.XMLSchema(wrapper, base_url=str(schema_root()), validation="lax",
                               build=True)


def fill_default_attributes(root: etree._Element) -> int:
    """Add every absent default/fixed attribute in place; returns how many were written."""
    locations = _locations()
    present = {etree.QName(el).namespace for el in root.iter(etree.Element)}
    wanted = frozenset(n for n in present if n in locations)
    if not wanted:
        return 0
    schema = _schema(wanted)
    maps = schema.maps
    added = 0

    def type_of(el, decl):
        xsi = el.get(XSI_TYPE)
        if xsi:
            prefix, _, local = xsi.rpartition(":")
            uri = el.nsmap.get(prefix or None)
            t = maps.types.get(f"{{{uri}}}{local}" if uri else local)
            if t is not None:
                return t
        return decl.type if decl is not None else None

    def child_decl(xsd_type, tag):
        content = getattr(xsd_type, "content", None)
        if content is None or not hasattr(content, "iter_elements"):
            return maps.elements.get(tag)
        for item in content.iter_elements():
            if getattr(item, "name", None) is not None and hasattr(item, "is_matching") \
                    and item.name is not None and item.is_matching(tag):
                if item.name == tag:
                    return item
                return maps.elements.get(tag, item)   # substitution group member
        return maps.elements.get(tag)                  # wildcard or unknown: global decl

    stack = [(root, maps.elements.get(root.tag))]
    while stack:
        el, decl = stack.pop()
        xsd_type = type_of(el, decl)
        attrs = getattr(xsd_type, "attributes", None)
        if attrs is not None:
            for name, attr in attrs.items():
                if not name or name in el.attrib:
                    continue
                value = attr.fixed if attr.fixed is not None else attr.default
                if value is None:
                    continue
                el.set(name, value)
                added += 1
        for child in el:
            if isinstance(child.tag, str):
                stack.append((child, child_decl(xsd_type, child.tag) if xsd_type is not None
                               else maps.elements.get(child.tag)))
    return added
