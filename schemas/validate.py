"""Validate SCAP documents: official XSDs (libxml2 through lxml) plus our semantic checks.

Split of work between the two XSD engines:
- **lxml / libxml2 validates.** It is the engine oscap itself uses, so its verdicts match the
  reference tool, and it reports no false identity-constraint errors on OVAL content. On the
  24 MB SSG rhel8 stream, parse ≈0.15 s + compile ≈0.07 s + validate ≈0.45 s: the same work as
  `oscap ds sds-validate` (0.67 s). To stay below it despite Python's start-up, the schema is
  compiled in a thread while the file is parsed, and when a second core is idle a second
  thread takes the XSD pass while this one runs the Python checks (`_XsdWorker`: the same
  verdicts as one thread, tested; on a busy machine its extra parse would only cost CPU).
  For a first file of at most 8 MiB the `stigscap` launcher starts that pass itself while
  Python is still importing (`catalog.start_prepare`); `check_file` takes its verdict for a
  valid file of the very same bytes (`_EarlyXsd`) and validates anything else itself.
  An XSD-only run otherwise stays on one thread: splitting the pass itself over two threads
  was measured not to shorten it once the compile overlaps the start-up (ssg-rhel8:
  0.86-0.98 s on one thread, 0.95-1.06 s split), for 30-50 % more CPU (bench/RESULTS.md).
  Compiled `XMLSchema` objects are cached per process (`catalog.compiled_schema`), and the
  schema files are checked against pinned SHA-256 digests before compilation. A file is
  validated against the schema without the OVAL extension schemas (`…-5#windows`, …) it
  never declares: the same verdict, a third of the compile (`catalog.used_extensions`);
  an invalid file's errors are then worded by the whole schema, as oscap words them.
- **xmlschema locates the schema set.** Its import resolution (local files only) is run when
  the catalog is generated (`python -m stigscap.schemas.catalog --write`) to cross-check the
  import closure we pin. It is not on the validation path: on the SSG debian11 stream it is
  ~7× slower than libxml2 and reports 1,149 false identity-constraint (keyref) errors.

Documents are read with the safe parser (`schemas.xmlio`: no DTD, no entities, no network;
`huge_tree` above 8 MiB). The root element decides the kind (see `detect`); the version comes
from the document (SDS `@schematron-version`, OVAL/CPE `generator/schema_version`).

ARF result data streams: the envelope is validated against the ARF 1.1 XSD, then every
embedded report and report-request is validated on its own against its XSD (the ARF XSD
declares `arf:content` lax, so the envelope alone proves nothing about them), then the ARF
cross-reference checks run. A standalone XCCDF TestResult is validated XSD-only: its idrefs
point into a Benchmark that is not there.

The reference and SCAP 1.3 checks look up elements by tag through `tag_index`: one walk of
the document instead of one per question (ssg-rhel8: checks 0.47 → 0.31 s).

SCAP 1.3 source data streams and ARF 1.1 result data streams also get the SCAP 1.3
requirement checks (`scap_checks`: NIST SCAPVal's SRC-*, RES-*, A-* and the XCCDF /
OCIL / TMSAD component rules, natively, same verdicts as SCAPVal), unless `requirements=False`
(then XSD and reference checks only).

Public API: `validate_file(path)`, `validate_document(tree_or_root, source_name)`,
`validate_element(element, kind)` (all return `list[Problem]`), `check_file` /
`check_document` (also return the detected kind), `ensure_valid` (raise unless valid: for
writers), `detect(root)`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from . import checklist_formats, semantic, tag_index
from . import namespaces as ns
from .cores import spare_core as _spare_core
from .catalog import (HUGE_TREE_BYTES, EarlyPass, SchemaEntry, compiled_schema, detect, early_pass,
                      load_catalog, peek_entry, used_extensions)
from .errors import StigscapError
from .semantic import Problem, element_path
from .xmlio import parse_xml_bytes, read_input_bytes


__all__ = ["Problem", "ValidationResult", "detect", "validate_element", "validate_document",
           "validate_file", "check_file", "check_document", "ensure_valid"]


@dataclass
class ValidationResult:
    source: str
    kind: str
    problems: list[Problem] = field(default_factory=list)
    document: str | None = None   # what the root is, where the kind does not say (Tailoring)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def valid(self) -> bool:
        return not self.errors


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
                  schema_dir: str | os.PathLike | None, base_path: str = "",
                  extensions: frozenset[str] | None = None) -> list[Problem]:
    """XSD problems; `extensions`: the OVAL extensions the document declares (the schema
    without the others gives the same verdict, `catalog.used_extensions`), None: all."""
    schema = compiled_schema(entry.name, schema_dir, extensions)
    if schema.validate(element):
        return []
    if extensions is not None:
        # invalid: the errors as the official schema words them (libxml2's lists of expected
        # elements name every OVAL extension's), as oscap reports them
        schema = compiled_schema(entry.name, schema_dir)
        schema.validate(element)
    out, seen = [], set()
    for err in schema.error_log:
        if (err.line, err.path, err.message) in seen:  # libxml2 repeats some lines verbatim
            continue
        seen.add((err.line, err.path, err.message))
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


REQUIREMENT_KINDS = ("sds@1.3", "arf@1.1")


def check_document(tree_or_root, source_name: str = "<input>", *,
                   schema_dir: str | os.PathLike | None = None, xsd: bool = True,
                   semantic_checks: bool = True, schematron: bool = False,
                   requirements: bool = True, _worker: _XsdWorker | _EarlyXsd | None = None,
                   _extensions: frozenset[str] | None = None) -> ValidationResult:
    root = tree_or_root.getroot() if isinstance(tree_or_root, etree._ElementTree) else tree_or_root
    if checklist_formats.is_ckl(root):   # STIG Viewer checklist (DISA CKL schema 2.5)
        return ValidationResult(source_name, checklist_formats.CKL_KIND,
                                checklist_formats.validate_ckl(root, source_name), "CHECKLIST")
    entry = detect(root, source_name)
    result = ValidationResult(source_name, entry.name)
    if entry.kind == "xccdf" and etree.QName(root).localname == "Tailoring":
        result.document = "Tailoring"
    # A worker thread's XSD pass (see check_file) is collected after the checks below, which
    # the main thread runs meanwhile; its problems still come first.
    worker = _worker if xsd and _worker is not None and _worker.entry == entry else None
    if xsd and worker is None:
        result.problems += _xsd_problems(root, entry, source_name, schema_dir,
                                         extensions=_extensions)
    if entry.kind == "arf":
        result.problems += _arf_parts(root, source_name, schema_dir, xsd, semantic_checks)
    with tag_index.indexed(root):   # the checks' many walks for a tag: one walk
        if semantic_checks and not (entry.kind == "xccdf"
                                    and etree.QName(root).localname == "TestResult"):
            result.problems += semantic.run(root, entry.kind, source_name)
        if semantic_checks and requirements and (entry.name in REQUIREMENT_KINDS
                                                 or result.document == "Tailoring"):
            from . import scap_checks
            result.problems += scap_checks.run(root, entry.kind, source_name)
    if schematron:
        from . import schematron as sch
        result.problems += sch.run(root, entry.name, source_name, schema_dir)
    if worker is not None:
        result.problems[:0] = worker.main_part(root)
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


def ensure_valid(tree_or_root, source_name: str = "<generated>", *,
                 schema_dir: str | os.PathLike | None = None, kind: str | None = None,
                 semantic_checks: bool = True) -> None:
    """Raise StigscapError (one line: the first error and how many more) unless valid.

    For writers (generator, ARF writer) to call before writing: warnings are ignored. With
    `kind`, an element is validated against that schema (see `validate_element`).
    """
    if kind is not None:
        root = (tree_or_root.getroot() if isinstance(tree_or_root, etree._ElementTree)
                else tree_or_root)
        problems = validate_element(root, kind, source=source_name, schema_dir=schema_dir,
                                    semantic_checks=semantic_checks)
    else:
        problems = validate_document(tree_or_root, source_name, schema_dir=schema_dir,
                                     semantic_checks=semantic_checks)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        rest = sorted({e.rule for e in errors[1:]})
        more = f" (and {len(errors) - 1} more: {', '.join(rest)})" if len(errors) > 1 else ""
        raise StigscapError(f"{source_name} is not valid: {errors[0]}{more}")


def validate_document(tree_or_root, source_name: str = "<input>", *,
                      schema_dir: str | os.PathLike | None = None, xsd: bool = True,
                      semantic_checks: bool = True, requirements: bool = True) -> list[Problem]:
    """All problems of a parsed document (XSD first, then reference and SCAP 1.3 checks)."""
    return check_document(tree_or_root, source_name, schema_dir=schema_dir, xsd=xsd,
                          semantic_checks=semantic_checks, requirements=requirements).problems


def check_file(path: str | os.PathLike, *, schema_dir: str | os.PathLike | None = None,
               xsd: bool = True, semantic_checks: bool = True, schematron: bool = False,
               requirements: bool = True, parallel: bool | None = None,
               keep: list[object] | None = None) -> ValidationResult:
    """Parse and validate one file.

    `parallel` (default: when a second core is idle) runs the XSD pass in a second thread
    while this one runs the reference and SCAP 1.3 checks (`_XsdWorker`); without checks
    there is nothing to overlap, and one thread validates.

    `keep`: a list the parsed documents are appended to instead of being freed on return.
    Freeing the trees of a 24 MB stream takes 30-70 ms; the CLI frees them when it starts the
    next file, and not at all after the last one (the process ends)."""
    p = Path(path)
    data = read_input_bytes(p)
    if checklist_formats.looks_like_json(data):   # CKLB (STIG Viewer 3) is the one JSON kind
        doc, text = checklist_formats.parse_cklb(data, str(path))
        return ValidationResult(str(path), checklist_formats.CKLB_KIND,
                                checklist_formats.validate_cklb(doc, text, str(path)), "CKLB")
    huge = len(data) > HUGE_TREE_BYTES
    entry = peek_entry(data) if xsd else None
    early = early_pass(path, schema_dir) if entry is not None else None
    worker: _XsdWorker | _EarlyXsd | None = None
    prefetch = None
    if early is not None:   # the launcher's XSD pass of this file (catalog.prepare)
        assert entry is not None
        worker = _EarlyXsd(early, data, str(path), entry, schema_dir)
    elif entry is not None:
        prefetch = _SchemaPrefetch(entry, schema_dir, data)
        if (semantic_checks or schematron) and (_spare_core() if parallel is None else parallel):
            worker = _XsdWorker(data, str(path), huge, entry, schema_dir, prefetch, keep)
        # started after the worker: its first step, the scan for declarations, holds the GIL
        # for milliseconds, while the worker's first step, its parse, soon lets go of it
        prefetch.start()
    try:
        reuse = (worker.document() if isinstance(worker, _EarlyXsd) and not semantic_checks
                 and not schematron else None)
        tree = reuse if reuse is not None else parse_xml_bytes(data, str(p), huge_tree=huge)
        if keep is not None:
            keep.append(tree)
    except BaseException:
        if worker is not None:
            worker.cancel()
        raise
    finally:
        extensions = prefetch.join() if prefetch is not None and worker is None else None
    try:
        return check_document(tree, str(path), schema_dir=schema_dir, xsd=xsd,
                              semantic_checks=semantic_checks, schematron=schematron,
                              requirements=requirements, _worker=worker,
                              _extensions=extensions)
    finally:
        if worker is not None:
            worker.cancel()


class _SchemaPrefetch:
    """Find the OVAL extensions the file declares and compile the schema without the others,
    in a thread while the main thread parses the file.

    Both libxml2 phases release the GIL, so on a multi-core machine the compile (SDS 1.3:
    ≈0.02 s for an SSG Linux stream's extensions, ≈0.06 s with all) overlaps the parse. Any
    failure is left for the main path to report.
    """

    def __init__(self, entry: SchemaEntry, schema_dir, data: bytes):
        self.extensions: frozenset[str] | None = None
        self._thread = threading.Thread(target=self._work, args=(entry, schema_dir, data),
                                        name="stigscap-schema-prefetch", daemon=True)
        self._start_lock = threading.Lock()
        self._started = False

    def start(self) -> None:
        """Start the compile, once: check_file starts it just after its XSD worker, whose
        parse of a small file may be done and join it first (then the join starts it)."""
        with self._start_lock:
            if not self._started:
                self._started = True
                self._thread.start()

    def _work(self, entry: SchemaEntry, schema_dir, data: bytes) -> None:
        try:
            self.extensions = used_extensions(data)
            compiled_schema(entry.name, schema_dir, self.extensions)
        except Exception:  # noqa: BLE001 - reported again, properly, on the main path
            pass

    def join(self) -> frozenset[str] | None:
        """Wait for the compile; the extensions to validate with (None: all)."""
        self.start()
        self._thread.join()
        return self.extensions


# ---------------------------------------------------------------------------------------------
# The XSD pass in a second thread

class _XsdWorker:
    """The whole XSD pass in a second thread, while the main thread runs the reference and
    SCAP 1.3 checks (Python: libxml2's validation releases the GIL, so the two overlap).

    The worker parses the same bytes itself (one lxml document must not be used from two
    threads at once) and validates its own copy against the schema the prefetch thread
    compiles. Same bytes, same parser: the same problems, lines and paths as a
    pass over the main thread's tree (tested). If the worker fails, the main thread validates.
    """

    def __init__(self, data: bytes, source: str, huge: bool, entry: SchemaEntry, schema_dir,
                 prefetch: _SchemaPrefetch, keep: list[object] | None = None):
        self.entry, self.source, self.schema_dir = entry, source, schema_dir
        self._prefetch = prefetch
        self._keep = keep   # where its tree goes, instead of being freed on this thread
        self._cancelled = threading.Event()
        self._result: list[Problem] | None = None
        self._thread = threading.Thread(target=self._work, args=(data, huge), daemon=True,
                                        name="stigscap-xsd-worker")
        self._thread.start()

    def cancel(self) -> None:
        self._cancelled.set()

    def _work(self, data: bytes, huge: bool) -> None:
        try:
            root = parse_xml_bytes(data, self.source, huge_tree=huge).getroot()
            if self._keep is not None:
                self._keep.append(root)
            extensions = self._prefetch.join()   # the schema, compiled while both parsed
            if not self._cancelled.is_set():
                self._result = _xsd_problems(root, self.entry, self.source, self.schema_dir,
                                             extensions=extensions)
        except Exception:  # noqa: BLE001 - the main thread then validates the whole document
            self._result = None

    def main_part(self, root: etree._Element) -> list[Problem]:
        self._thread.join()
        if self._result is None:
            return _xsd_problems(root, self.entry, self.source, self.schema_dir,
                                 extensions=self._prefetch.join())
        return self._result


class _EarlyXsd:
    """The XSD pass the launcher started on this file before the program had loaded
    (`catalog.prepare`: its own parse of the same bytes, against the same schema), collected
    like `_XsdWorker`'s after the main thread's checks. Only a valid verdict for exactly these
    bytes is taken; otherwise the main thread validates its own tree, as without it."""

    def __init__(self, early: EarlyPass, data: bytes, source: str, entry: SchemaEntry,
                 schema_dir):
        self.entry, self.source, self.schema_dir = entry, source, schema_dir
        self._early, self._data = early, data
        self._valid: bool | None = None

    def cancel(self) -> None:
        pass   # the launcher's thread ends on its own and holds nothing to release

    def valid(self) -> bool:
        """The early pass found this file valid (waits for it)."""
        if self._valid is None:
            self._valid = self._early.valid(self._data)
        return self._valid

    def document(self):
        """The early pass's own tree of the same bytes, once it found them valid: for an
        XSD-only run, which then needs no parse of its own."""
        return self._early.document if self.valid() else None

    def main_part(self, root: etree._Element) -> list[Problem]:
        if self.valid():
            return []
        return _xsd_problems(root, self.entry, self.source, self.schema_dir,
                             extensions=used_extensions(self._data))


def validate_file(path: str | os.PathLike, *, schema_dir: str | os.PathLike | None = None,
                  xsd: bool = True, semantic_checks: bool = True) -> list[Problem]:
    """Parse (safely) and validate one file; unreadable/unknown input raises StigscapError."""
    return check_file(path, schema_dir=schema_dir, xsd=xsd, semantic_checks=semantic_checks).problems
