"""Components → one SCAP 1.3 source data stream (`ds:data-stream-collection`)."""

from __future__ import annotations

from lxml import etree

from stigscap.schemas.errors import StigscapError
from stigscap.schemas.namespaces import CAT, DS
from stigscap.schemas.xmlio import parse_xml_bytes, serialize

from .ids import IdScheme
from .render import render

# component key -> file suffix
COMPONENTS = {"xccdf": "xccdf", "oval": "oval", "ocil": "ocil", "cpe_oval": "cpe-oval",
              "cpe_dict": "cpe-dictionary"}


def component_files(ids: IdScheme) -> dict[str, str]:
    return {key: ids.file(suffix) for key, suffix in COMPONENTS.items()}


def _body(doc: bytes) -> str:
    """A component document without its XML declaration, ready to embed."""
    root = parse_xml_bytes(doc, "<generated component>").getroot()
    return etree.tostring(root, encoding="unicode")


def source_data_stream(docs: dict[str, bytes], ids: IdScheme, benchmark_id: str,
                       timestamp: str) -> bytes:
    files = component_files(ids)
    comps = {k: ids.ds("comp", f) for k, f in files.items()}
    refs = {k: ids.ds("cref", f) for k, f in files.items()}
    order = ["cpe_dict", "xccdf", "oval", "ocil", "cpe_oval"]
    components = [{"id": comps[k], "xml": _body(docs[k])} for k in order]
    raw = render("datastream.xml.j2", collection_id=ids.ds("collection", benchmark_id),
                 datastream_id=ids.ds("datastream", benchmark_id), timestamp=timestamp,
                 files=files, comps=comps, refs=refs, components=components)
    # re-indent the whole document uniformly (oscap misreads compact catalogs)
    pretty = serialize(parse_xml_bytes(raw, "<generated data stream>", remove_blank_text=True))
    return _oscap_readable_catalogs(pretty)


def merge_collections(collections: list[bytes], collection_id: str) -> bytes:
    """Several one-data-stream collections → one collection: every ds:data-stream first, then
    every ds:component (the schema's order), under `collection_id`. Component ids carry each
    benchmark's file stem, so they stay unique."""
    trees = [parse_xml_bytes(c, "<generated data stream>", remove_blank_text=True)
             for c in collections]
    root = trees[0].getroot()
    root.set("id", collection_id)
    streams = list(root.findall(f"{{{DS}}}data-stream"))
    comps = list(root.findall(f"{{{DS}}}component"))
    for t in trees[1:]:
        streams += t.getroot().findall(f"{{{DS}}}data-stream")
        comps += t.getroot().findall(f"{{{DS}}}component")
    for el in list(root):
        root.remove(el)
    ids: set[str] = set()
    for el in [*streams, *comps]:
        if el.get("id") in ids:
            raise StigscapError(f"two benchmarks give the data stream collection the same "
                                f"id {el.get('id')}")
        ids.add(el.get("id", ""))
        root.append(el)
    pretty = serialize(parse_xml_bytes(serialize(trees[0]), "<generated data stream>",
                                       remove_blank_text=True))
    return _oscap_readable_catalogs(pretty)


def _oscap_readable_catalogs(data: bytes) -> bytes:
    """Keep whitespace before the first cat:uri but none between cat:uri siblings.

    oscap 1.3.7's C implementation of SRC-236-2 / SRC-346-1 (`_xcf_resolve_in_catalog`) starts
    at the catalog's second child node and stops at the first node that is not a `uri`, so in
    a fully indented catalog it only ever sees the first entry and reports false errors for
    references resolved by the others. Both layouts are the same catalog to any XML reader.
    """
    tree = parse_xml_bytes(data, "<generated data stream>")
    for catalog in tree.getroot().iter(f"{{{CAT}}}catalog"):
        uris = [u for u in catalog if u.tag == f"{{{CAT}}}uri"]
        for u in uris[:-1]:
            u.tail = None
    return serialize(tree, pretty=False)
