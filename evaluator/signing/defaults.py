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

import hashlib
import os
import pickle
from functools import lru_cache
from pathlib import Path

from lxml import etree

from stigscap.schemas import namespaces as ns
from stigscap.schemas.catalog import configured_schema_dir
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write

XSI_TYPE = f"{{{ns.XSI}}}type"
OVAL_PLATFORMS = ("independent", "unix", "linux", "windows")


def schema_root() -> Path:
    return configured_schema_dir()[0]


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


def _cache_dir() -> Path:
    base = os.environ.get("STIGSCAP_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "stigscap")
    return Path(base)


@lru_cache(maxsize=8)
def _schema(namespaces: frozenset[str]):
    """The schema set for these namespaces. Building it takes seconds, so a pickled copy is
    kept in the user's cache directory (keyed by xmlschema version and the schema files'
    size/mtime; a private 0700 directory; any problem with it just means building again)."""
    import xmlschema

    locations = _locations()
    stamp = [xmlschema.__version__, str(schema_root())]
    for n in sorted(namespaces):
        try:
            st = Path(locations[n]).stat()
            stamp.append(f"{n}|{st.st_size}|{st.st_mtime_ns}")
        except OSError:
            stamp.append(f"{n}|missing")
    key = hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:32]
    cache = _cache_dir() / f"defaults-schema-{key}.pickle"
    try:
        if cache.stat().st_uid == os.getuid():
            with cache.open("rb") as fh:
                return pickle.load(fh)
    except Exception:  # noqa: BLE001 - no cache, stale or unreadable: build
        pass
    schema = _build_schema(namespaces)
    try:
        cache.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(cache, pickle.dumps(schema, protocol=pickle.HIGHEST_PROTOCOL), mode=0o600)
    except Exception:  # noqa: BLE001 - a read-only home must not stop signing
        pass
    return schema


def _build_schema(namespaces: frozenset[str]):
    import xmlschema  # imported lazily: building the schema takes seconds

    locations = _locations()
    imports = "".join(
        f'<xs:import namespace="{n}" schemaLocation="{Path(locations[n]).as_uri()}"/>'
        for n in sorted(namespaces))
    wrapper = (f'<xs:schema xmlns:xs="{ns.XS}" '
               'targetNamespace="urn:stigscap:defaults-wrapper">' + imports + "</xs:schema>")
    missing = [locations[n] for n in namespaces if not Path(locations[n]).exists()]
    if missing:
        raise StigscapError(f"schema not found: {missing[0]} (needed to write default "
                            "attributes before signing; set STIGSCAP_SCHEMA_DIR)")
    return xmlschema.XMLSchema(wrapper, base_url=str(schema_root()), validation="lax",
                               build=True)


def fill_default_attributes(root: etree._Element, skip=None) -> int:
    """Add every absent default/fixed attribute in place; returns how many were written.

    `skip(element)` true leaves that element's subtree as it is (e.g. a signed data stream
    embedded in an ARF: writing into it would break its signature)."""
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

    memo: dict[tuple[int, str], object] = {}

    def child_decl_cached(xsd_type, tag):
        k = (id(xsd_type), tag)
        if k not in memo:
            memo[k] = child_decl(xsd_type, tag)
        return memo[k]

    defaults_memo: dict[int, list[tuple[str, str]]] = {}

    def defaults_of(xsd_type):
        k = id(xsd_type)
        if k not in defaults_memo:
            found = []
            attrs = getattr(xsd_type, "attributes", None)
            if attrs is not None:
                for name, attr in attrs.items():
                    value = attr.fixed if attr.fixed is not None else attr.default
                    if name and value is not None:
                        found.append((name, value))
            defaults_memo[k] = found
        return defaults_memo[k]

    stack = [(root, maps.elements.get(root.tag))]
    while stack:
        el, decl = stack.pop()
        xsd_type = type_of(el, decl)
        if xsd_type is not None:
            for name, value in defaults_of(xsd_type):
                if name not in el.attrib:
                    el.set(name, value)
                    added += 1
        for child in el:
            if isinstance(child.tag, str) and not (skip is not None and skip(child)):
                stack.append((child, child_decl_cached(xsd_type, child.tag)
                               if xsd_type is not None else maps.elements.get(child.tag)))
    return added
