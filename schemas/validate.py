"""Validate SCAP documents: official XSDs (libxml2 through lxml) plus our semantic checks.

Split of work between the two XSD engines:
- **lxml / libxml2 validates.** It is the engine oscap itself uses, so its verdicts match the
  reference tool: on the 24 MB SSG rhel8 stream it validates as fast as `oscap ds
  sds-validate` (compile ≈0.1 s, validate ≈0.4 s) and it reports no false identity-constraint
  errors on OVAL content. Compiled `XMLSchema` objects are cached per process
  (`catalog.compiled_schema`), and the schema files are checked against pinned SHA-256 digests
  before compilation.
- **xmlschema locates the schema set.** Its import resolution (restricted to local files) is
  used when the catalog is generated (`python -m stigscap.schemas.catalog --write`) to
  cross-check the import closure we pin; it is not used on the validation path, because it is
  ~7× slower on large streams and reports 1,149 false identity-constraint (keyref) errors on
  the SSG debian11 stream.

Documents are read with the safe parser (`schemas.xmlio`: no DTD, no entities, no network;
`huge_tree` above 8 MiB). The root element decides the kind (see `detect`); the version comes
from the document (SDS `@schematron-version`, OVAL/CPE `generator/schema_version`).

ARF result data streams: the envelope is validated against the ARF 1.1 XSD, then every
embedded report and report-request is validated on its own against its XSD (the ARF XSD
declares `arf:content` lax, so the envelope alone proves nothing about them), then the ARF
cross-reference checks run. A standalone XCCDF TestResult is validated XSD-only: its idrefs
point into a Benchmark that is not there.

Public API: `validate_file(path)`, `validate_document(tree_or_root, source_name)`,
`validate_element(element, kind)` (all return `list[Problem]`), `check_file` (also returns the
detected kind), `detect(root)`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from . import namespaces as ns
from . import semantic
from .catalog import SchemaEntry, compiled_schema, load_catalog
from .errors import StigscapError
from .semantic import Problem, element_path
from .xmlio import parse_xml_file

HUGE_TREE_BYTES = 8 << 20

__all__ = ["Problem", "ValidationResult", "detect", "validate_element", "validate_document",
           "validate_file", "check_file", "check_document"]


@dataclass
class ValidationResult:
    source: str
    kind: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def valid(self) -> bool:
        return not self.errors


def _child_text(root: etree._Element, local: str) -> str | None:
    for gen in root:
        if isinstance(gen.tag, str) and etree.QName(gen).localname == "generator":
            for sv in gen.iter():
                if (isinstance(sv.tag, str) and etree.QName(sv).localname == local
                        and not sv.get("platform")):
                    return (sv.text or "").strip()
    return None


def detect(root: etree._Element, source: str = "<input>") -> SchemaEntry:
    """The catalog entry that validates this root element; StigscapError when there is none."""
    if not isinstance(root.tag, str):
        raise StigscapError("no element at the document root", file=source)
    q = etree.QName(root)
    candidates = load_catalog().by_root(q.namespace or "", q.localname)
    if not candidates:
        raise StigscapError(
            f"unknown root element {q.localname!r} in namespace {q.namespace or '(none)'!r}: not "
            "an XCCDF, OVAL, source data stream, ARF, CPE or OCIL document",
            file=source, line=root.sourceline)
    if len(candidates) == 1:
        return candidates[0]
    versions = {e.version: e for e in candidates}
    if q.namespace == ns.DS:
        want = root.get("schematron-version")
        if want not in versions:
            stream = root.find(f"{{{ns.DS}}}data-stream")
            want = stream.get("scap-version") if stream is not None else "1.3"
        if want not in versions:
            want = "1.3"
        return versions[want]
    if q.namespace in (ns.OVAL_DEF, ns.OVAL_SC, ns.OVAL_RES, ns.OVAL_VAR, ns.OVAL_DIR,
                       ns.CPE_DICT):
        version = _child_text(root, "schema_version")
        if version is not None:
            version = version.split(":")[0]
        if not version:
            return versions.get("5.11.2") or versions[max(versions)]
        if version not in versions:
            raise StigscapError(
                f"{q.localname} declares schema_version {version}, for which no official XSD is "
                f"catalogued (known: {', '.join(sorted(versions))})",
                file=source, line=root.sourceline)
        return versions[version]
    return candidates[0]


def _entry_for(element: etree._Element, kind: str | None, source: str) -> SchemaEntry:
    if kind is None:
        return detect(element, source)
    if "@" in kind:
        return load_catalog().entry(kind)
    entry = detect(element, source)
    if entry.kind != kind:
        raise StigscapError(f"element {etree.QName(element).localname!r} is a {entry.kind} "
                            f"document, not {kind}", file=source, line=element.sourceline)
    return entry


def _xsd_problems(element: etree._Element, entry: SchemaEntry, source: str,
                  schema_dir: str | os.PathLike | None, base_path: str = "") -> list[Problem]:
    schema = compiled_schema(entry.name, schema_dir)
    if schema.validate(element):
        return []
    out = []
    for err in schema.error_log:
        path = err.path or ""
        if base_path and path.startswith("/"):
            path = base_path + path[path.find("/", 1):] if path.count("/") > 1 else base_path
        out.append(Problem(source, err.line or None, path, f"XSD {entry.name}",
                           err.message, "error"))
    return out


def validate_element(element: etree._Element, kind: str | None = None, *,
                     source: str = "<element>", schema_dir: str | os.PathLike | None = None,
                     semantic_checks: bool = False) -> list[Problem]:
    """Validate one element (document root or embedded) against a named catalog schema.

    `kind` is `kind@version` (e.g. `oval-results@5.11.2`, `sds@1.3`, `xccdf@1.2`), a bare kind
    (`oval-definitions`: version taken from the element), or None (detected). Generators call
    this before writing output; problems name the element's position in its own document.
    """
    entry = _entry_for(element, kind, source)
    base = element_path(element) if element.getparent() is not None else ""
    problems = _xsd_problems(element, entry, source, schema_dir, base)
    if semantic_checks:
        problems += semantic.run(element, entry.kind, source)
    return problems


def check_document(tree_or_root, source_name: str = "<input>", *,
                   schema_dir: str | os.PathLike | None = None, xsd: bool = True,
                   semantic_checks: bool = True) -> ValidationResult:
    root = tree_or_root.getroot() if isinstance(tree_or_root, etree._ElementTree) else tree_or_root
    entry = detect(root, source_name)
    result = ValidationResult(source_name, entry.name)
    if xsd:
        result.problems += _xsd_problems(root, entry, source_name, schema_dir)
    if entry.kind == "arf":
        result.problems += _arf_parts(root, source_name, schema_dir, xsd, semantic_checks)
    if semantic_checks and not (entry.kind == "xccdf" and etree.QName(root).localname == "TestResult"):
        result.problems += semantic.run(root, entry.kind, source_name)
    return result


def _arf_parts(arf: etree._Element, source: str, schema_dir, xsd: bool,
               semantic_checks: bool) -> list[Problem]:
    """Each arf:report / arf:report-request content validated on its own."""
    out: list[Problem] = []
    for holder in arf.iter(f"{{{ns.ARF}}}report", f"{{{ns.ARF}}}report-request"):
        content = holder.find(f"{{{ns.ARF}}}content")
        if content is None:
            continue
        part = next((c for c in content if isinstance(c.tag, str)), None)
        if part is None:
            out.append(Problem(source, content.sourceline, element_path(content), "ARF",
                               "arf:content is empty", "error"))
            continue
        try:
            entry = detect(part, source)
        except StigscapError as exc:
            out.append(Problem(source, part.sourceline, element_path(part), "ARF",
                               f"embedded document not validated: {exc.message}", "warning"))
            continue
        if xsd:
            out += _xsd_problems(part, entry, source, schema_dir, element_path(part))
        if semantic_checks and entry.kind in ("sds", "oval-results", "oval-definitions",
                                              "oval-system-characteristics"):
            out += semantic.run(part, entry.kind, source)
    return out


def validate_document(tree_or_root, source_name: str = "<input>", *,
                      schema_dir: str | os.PathLike | None = None, xsd: bool = True,
                      semantic_checks: bool = True) -> list[Problem]:
    """All problems of a parsed document (XSD first, then semantic checks)."""
    return check_document(tree_or_root, source_name, schema_dir=schema_dir, xsd=xsd,
                          semantic_checks=semantic_checks).problems


def check_file(path: str | os.PathLike, *, schema_dir: str | os.PathLike | None = None,
               xsd: bool = True, semantic_checks: bool = True) -> ValidationResult:
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise StigscapError(f"cannot read file: {exc.strerror}", file=str(p)) from None
    prefetch = _prefetch_schema(p, schema_dir) if xsd else None
    try:
        tree = parse_xml_file(p, huge_tree=size > HUGE_TREE_BYTES)
    finally:
        if prefetch is not None:
            prefetch.join()
    return check_document(tree, str(path), schema_dir=schema_dir, xsd=xsd,
                          semantic_checks=semantic_checks)


def _peek_root(path: Path, limit: int = 65536) -> etree._Element | None:
    """The root element (with its first children) from the head of the file, or None."""
    try:
        with path.open("rb") as fh:
            head = fh.read(limit)
        parser = etree.XMLPullParser(events=("start",), resolve_entities=False,
                                     no_network=True, load_dtd=False)
        parser.feed(head)
        root = None
        for _event, el in parser.read_events():
            root = el if root is None else root
        return root
    except (OSError, etree.XMLSyntaxError, ValueError):
        return None


def _prefetch_schema(path: Path, schema_dir) -> threading.Thread | None:
    """Verify and compile the schema in a thread while the main thread parses the file.

    Both libxml2 phases release the GIL, so on a multi-core machine the compile (≈0.06-0.1 s
    for SDS 1.3) overlaps the parse. Any failure is left for the main path to report.
    """
    root = _peek_root(path)
    if root is None:
        return None
    try:
        entry = detect(root)
    except StigscapError:
        return None

    def work():
        try:
            compiled_schema(entry.name, schema_dir)
        except Exception:  # noqa: BLE001 - reported again, properly, on the main path
            pass

    t = threading.Thread(target=work, name="stigscap-schema-prefetch", daemon=True)
    t.start()
    return t


def validate_file(path: str | os.PathLike, *, schema_dir: str | os.PathLike | None = None,
                  xsd: bool = True, semantic_checks: bool = True) -> list[Problem]:
    """Parse (safely) and validate one file; unreadable/unknown input raises StigscapError."""
    return check_file(path, schema_dir=schema_dir, xsd=xsd, semantic_checks=semantic_checks).problems
