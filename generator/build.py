"""The generator pipeline: content → XCCDF, OVAL, CPE → SCAP 1.3 source data stream.

Pure apart from reading content: returns bytes per output; the CLI writes them atomically
only after the whole set has been built and validated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from stigscap.content.loader import Content
from stigscap.schemas.clock import as_utc, product_version
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.validate import validate_document
from stigscap.schemas.xmlio import parse_xml_bytes, serialize

from . import cpe, datastream, ocil, oval, xccdf
from .disa_xccdf import DisaBenchmark, benchmark_with_disa_facts, with_disa_facts
from .ids import IdScheme
from .render import xml_datetime


@dataclass(frozen=True)
class Generated:
    datastream: bytes
    components: dict[str, bytes]      # file name -> bytes (pretty-printed component documents)
    files: dict[str, str]             # component key -> file name
    oval_ids: dict[str, oval.OvalIds]


def _pretty(doc: bytes) -> bytes:
    return serialize(parse_xml_bytes(doc, "<generated>", remove_blank_text=True))


def _refuse_invalid(ds: bytes) -> None:
    """Validate the stream (official XSDs + SCAP 1.3 reference checks) before anyone writes it."""
    tree = parse_xml_bytes(ds, "<generated data stream>", huge_tree=True)
    errors = [p for p in validate_document(tree, "<generated data stream>")
              if p.severity == "error"]
    if errors:
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise StigscapError(f"refusing to write invalid content: {errors[0]}{more}")


def id_scheme(content: Content, namespace: str | None = None) -> IdScheme:
    """Ids for this content: file names from the benchmark id, the given id namespace."""
    stem = content.benchmark.id.lower().replace("_", "-")
    return IdScheme(stem=stem) if namespace is None else IdScheme(namespace=namespace, stem=stem)


def content_time(content: Content) -> dt.datetime:
    """The time generated content carries when none is given: the benchmark's status date
    (midnight UTC), so the same content gives the same bytes without any clock."""
    d = content.benchmark.status_date
    if isinstance(d, dt.datetime):
        return as_utc(d)
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc)


def generate(content: Content, ids: IdScheme | None = None,
             timestamp: str | dt.datetime | None = None) -> Generated:
    """The SCAP 1.3 source data stream and its components for `content`. `timestamp`: the
    time written into the content (default: content_time); the generator never reads the
    clock or the environment."""
    result = _build(content, ids or id_scheme(content), timestamp)
    _refuse_invalid(result.datastream)
    return result


def _build(content: Content, ids: IdScheme, timestamp: str | dt.datetime | None, *,
           inventory_first: int = 1) -> Generated:
    ts = xml_datetime(as_utc(timestamp) if timestamp is not None else content_time(content))
    ver = product_version()
    files = datastream.component_files(ids)
    rules = list(content.rules)
    oval_doc, oval_ids = oval.compliance_oval(rules, ids, ts, ver)
    inv_doc, inv_ids = oval.inventory_oval(content.benchmark, ids, ts, ver, rules,
                                           first=inventory_first)
    cpe_doc = cpe.cpe_dictionary(content.benchmark, inv_ids, files["cpe_oval"], ts, ver, rules)
    ocil_doc = ocil.ocil_document(rules, ids, ts, ver)
    xccdf_doc = xccdf.benchmark_xccdf(content.benchmark, rules, ids, oval_ids, files["oval"],
                                      files["ocil"], f"stigscap {ver}", ts)
    docs = {"xccdf": xccdf_doc, "oval": oval_doc, "ocil": ocil_doc, "cpe_oval": inv_doc,
            "cpe_dict": cpe_doc}
    ds = datastream.source_data_stream(docs, ids, content.benchmark.id, ts)
    return Generated(datastream=ds,
                     components={files[k]: _pretty(v) for k, v in docs.items()},
                     files=files, oval_ids=oval_ids)


# inventory (platform) OVAL definitions of the k-th benchmark of a collection are numbered
# from 1 + k * INVENTORY_STRIDE: far below any STIG V-number the compliance checks use
INVENTORY_STRIDE = 1000


def generate_collection(contents: list[Content], name: str, ids: list[IdScheme] | None = None,
                        timestamp: str | dt.datetime | None = None) -> Generated:
    """One SCAP 1.3 source data stream collection holding one data stream per benchmark, each
    with its own XCCDF Benchmark, OVAL, OCIL, CPE dictionary and platform (inventory) check:
    `stigscap eval --benchmark-id` / `--datastream-id` choose one, `eval` and `scan` without
    them pick per host the benchmark whose platform the host matches. `name` goes into the
    collection id. Each data stream is the one `generate` writes for its benchmark alone, except
    that ids unique to the collection are made so (SCAP 1.3 A-25-1): profile ids end in
    `.<platform id>` (`--profile MAC-1_Classified` still finds them), and the inventory
    definitions of all but the first are renumbered (INVENTORY_STRIDE) so that no OVAL id
    stands for two different checks."""
    if len(contents) < 2:
        raise StigscapError("a collection needs at least two benchmarks")
    ids = [replace(i, profile_tag=c.benchmark.platform.id)
           for c, i in zip(contents, ids or [id_scheme(c) for c in contents])]
    seen: dict[str, int] = {}
    for i, c in enumerate(contents):
        if c.benchmark.id in seen:
            raise StigscapError(f"benchmark {c.benchmark.id} is given twice")
        seen[c.benchmark.id] = i
    when = (as_utc(timestamp) if timestamp is not None
            else max(content_time(c) for c in contents))
    built = [_build(c, i, when, inventory_first=1 + k * INVENTORY_STRIDE)
             for k, (c, i) in enumerate(zip(contents, ids))]
    ds = datastream.merge_collections([b.datastream for b in built],
                                      ids[0].ds("collection", name))
    _refuse_invalid(ds)
    components: dict[str, bytes] = {}
    files: dict[str, str] = {}
    oval_ids: dict[str, oval.OvalIds] = {}
    for b in built:
        components.update(b.components)
        oval_ids.update(b.oval_ids)
    return Generated(datastream=ds, components=components, files=files, oval_ids=oval_ids)


def content_from_stig(content: Content, disa: DisaBenchmark, rule_ids: list[str], *,
                      keep_changed_checks: bool = False) -> Content:
    """The STIG's own facts (benchmark and rules), with the content's machine checks."""
    chosen = [disa.rule(r) for r in rule_ids] if rule_ids else list(disa.rules)
    merged = [with_disa_facts(r, content.rules, keep_changed_checks=keep_changed_checks).rule
              for r in chosen]
    return Content(benchmark_with_disa_facts(content.benchmark, disa), tuple(merged),
                   content.source_dir)
