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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

from stigscap.schemas import namespaces as ns
from stigscap.schemas.catalog import configured_schema_dir
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.user_cache import cache_dir, private
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


# Bump when the layout of the cached table changes.
_TABLE_FORMAT = 2


@lru_cache(maxsize=8)
def _table(namespaces: frozenset[str]) -> DefaultsTable:
    """The defaults table for these namespaces. Building it needs the schema set (xmlschema,
    seconds), so the table (plain tuples and dicts, a few hundred kB) is kept in the user's cache
    directory (keyed by the table format, xmlschema version and the schema files' size/mtime; a
    private 0700 directory; any problem with it just means building again). Loading it takes
    milliseconds and does not import xmlschema."""
    import importlib.metadata

    locations = _locations()
    try:
        xs_version = importlib.metadata.version("xmlschema")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a dependency
        xs_version = "?"
    stamp = [f"table {_TABLE_FORMAT}", xs_version, str(schema_root())]
    for n in sorted(namespaces):
        try:
            st = Path(locations[n]).stat()
            stamp.append(f"{n}|{st.st_size}|{st.st_mtime_ns}")
        except OSError:
            stamp.append(f"{n}|missing")
    key = hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:32]
    cache = cache_dir() / f"defaults-table-{key}.pickle"
    try:
        # a pickle runs code when loaded: only one that no one but this user could have
        # written (the file and its directory private, as for verified_digests' record)
        if private(os.stat(cache.parent)) and private(os.stat(cache)):
            with cache.open("rb") as fh:
                table = pickle.load(fh)
            if isinstance(table, DefaultsTable):
                return table
    except Exception:  # noqa: BLE001 - no cache, stale or unreadable: build
        pass
    table = build_table(_build_schema(namespaces))
    try:
        cache.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(cache, pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL), mode=0o600)
    except Exception:  # noqa: BLE001 - a read-only home must not stop signing
        pass
    return table


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


@dataclass(frozen=True)
class DefaultsTable:
    """What default filling needs from a schema set, as plain data.

    `types[i]` is (defaults, children) of one XSD type: the (attribute name, default-or-fixed
    value) pairs it declares, and the type index of each child element name its content model
    names (None for a type without element content: every child is then read through its
    global declaration). `elements` maps a global element name to its type index, `named` a
    global type name (for xsi:type) to its index. A child name missing from `children` is read
    through `elements` too (wildcards, names the content model does not list)."""

    types: tuple[tuple[tuple[tuple[str, str], ...], dict[str, int] | None], ...]
    elements: dict[str, int]
    named: dict[str, int]


def build_table(schema) -> DefaultsTable:
    """The table of an xmlschema schema set. Child lookup follows the content model as a
    validator matches a child: the first element particle whose name or substitution group
    member is the child's name; a substitution group member is read through its own global
    declaration."""
    maps = schema.maps
    index: dict[int, int] = {}
    pending: list[tuple[int, object]] = []
    rows: list[object] = []

    def type_index(xsd_type) -> int:
        k = id(xsd_type)
        if k not in index:
            index[k] = len(rows)
            rows.append(None)
            pending.append((index[k], xsd_type))
        return index[k]

    elements = {str(name): type_index(decl.type) if decl.type is not None else -1
                for name, decl in maps.elements.items()}
    named = {str(name): type_index(t) for name, t in maps.types.items()}
    while pending:
        i, xsd_type = pending.pop()
        rows[i] = (_type_defaults(xsd_type), _type_children(maps, xsd_type, type_index))
    return DefaultsTable(tuple(rows), elements, named)   # type: ignore[arg-type]


def _type_defaults(xsd_type) -> tuple[tuple[str, str], ...]:
    found = []
    attrs = getattr(xsd_type, "attributes", None)
    if attrs is not None:
        for name, attr in attrs.items():
            value = attr.fixed if attr.fixed is not None else attr.default
            if name and value is not None:
                found.append((name, value))
    return tuple(found)


def _type_children(maps, xsd_type, type_index) -> dict[str, int] | None:
    content = getattr(xsd_type, "content", None)
    if content is None or not hasattr(content, "iter_elements"):
        return None
    children: dict[str, int] = {}
    for item in content.iter_elements():
        name = getattr(item, "name", None)
        if name is None or not hasattr(item, "is_matching"):
            continue   # a wildcard: its children are read through their global declarations
        # XsdElement.is_matching(n) is n == name or n in substitutes
        for n in (name, *sorted(getattr(item, "substitutes", ()) or ())):
            if n in children or not item.is_matching(n):
                continue
            decl = item if n == name else maps.elements.get(n, item)
            children[n] = type_index(decl.type) if decl.type is not None else -1
    return children


def fill_default_attributes(root: etree._Element, skip=None) -> int:
    """Add every absent default/fixed attribute in place; returns how many were written.

    For each element the declaration is found as a validator would (children by name through
    the parent's content model, substitution groups and wildcards via global declarations,
    xsi:type) and every attribute with a default or fixed value that is absent is written.
    `skip(element)` true leaves that element's subtree as it is (e.g. a signed data stream
    embedded in an ARF: writing into it would break its signature)."""
    locations = _locations()
    tags = {str(el.tag) for el in root.iter(etree.Element)}
    present = {t[1:].partition("}")[0] for t in tags if t[:1] == "{"}
    wanted = frozenset(n for n in present if n in locations)
    if not wanted:
        return 0
    return fill_with_table(root, _table(wanted), skip)


def fill_with_table(root: etree._Element, table: DefaultsTable, skip=None) -> int:
    """fill_default_attributes with a given table."""
    types, elements, named = table.types, table.elements, table.named
    added = 0
    root_type = elements.get(str(root.tag), -1)
    stack = [(root, root_type)]
    pop, push = stack.pop, stack.append
    while stack:
        el, ti = pop()
        xsi = el.get(XSI_TYPE)
        if xsi:
            prefix, _, local = xsi.rpartition(":")
            uri = el.nsmap.get(prefix or None)
            ti = named.get(f"{{{uri}}}{local}" if uri else local, ti)
        if ti >= 0:
            defaults, children = types[ti]
            for name, value in defaults:
                if el.get(name) is None:
                    el.set(name, value)
                    added += 1
        else:
            children = None
        for child in el:
            tag = child.tag
            if tag.__class__ is not str or (skip is not None and skip(child)):
                continue
            if children is not None:
                ci = children.get(tag)
                if ci is None:
                    ci = elements.get(tag, -1)
            else:
                ci = elements.get(tag, -1)
            push((child, ci))
    return added
