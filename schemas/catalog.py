"""The schema catalog: which official XSD validates which SCAP document, and where it lives.

The official XSDs are not copied into this repository. `catalog.json` (beside this module)
lists, for every namespace/root element/version we validate, the entry XSD as a path relative
to a *schema directory*, the files that XSD pulls in through `xs:import`/`xs:include` (its
closure), and the SHA-256 of every one of those files as shipped by Debian's
`openscap-common` package (1.3.7).

The schema directory is, in this order: the `--schema-dir` option (`schema_dir` argument), the
`STIGSCAP_SCHEMA_DIR` environment variable, the system's OpenSCAP schema directory
(`/usr/share/openscap/schemas`). `configured_schema_dir` is the one place that reads the setting
(the signer's default-attribute filling uses it too); the older name `STIGSCAP_OPENSCAP_SCHEMAS`
is still read for one release, with a one-line deprecation warning on stderr. Before an XSD
is compiled, every file of its closure is checked against its pinned digest; a missing or
changed file is a `StigscapError` naming the file and saying how to install the official
copy. Checks and compiled schemas are cached per process; a file found unchanged is recorded
in the user's cache directory by device, inode, size, mtime and ctime, and not read again
while all five stay the same (`verified_digests`).

Maintainers regenerate the catalog from an installed schema tree with
`python -m stigscap.schemas.catalog --write [--schema-dir DIR]`. The closure of each entry XSD
is what libxml2 loads (its `schemaLocation` imports and includes, followed recursively);
xmlschema's own import resolution is run on the main entries as a cross-check, since it is the
reference implementation for locating a schema set.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, BinaryIO
from pathlib import Path, PurePosixPath

from lxml import etree

from . import namespaces as ns, verified_digests
from .errors import StigscapError
from .xmlio import LoaderWindow, element_text, open_input_file, parse_xml_bytes

CATALOG_FILE = Path(__file__).with_name("catalog.json")
ENV_VAR = "STIGSCAP_SCHEMA_DIR"
DEPRECATED_ENV_VAR = "STIGSCAP_OPENSCAP_SCHEMAS"   # read until the next release, with a warning
DEFAULT_SCHEMA_DIR = "/usr/share/openscap/schemas"
INSTALL_HINT = "install the official schemas with `apt-get install openscap-common`"
REINSTALL_HINT = ("restore the official file with `apt-get install --reinstall openscap-common`"
                  " or point --schema-dir / STIGSCAP_SCHEMA_DIR at an unmodified copy")

XS = ns.XS
EXTRA_FILES = ("sds/1.3/source-data-stream-1.3.xsl",)


@dataclass(frozen=True)
class SchemaEntry:
    """One validatable document kind: `name` is `kind@version`, e.g. `oval-results@5.11.2`."""

    kind: str
    version: str
    namespace: str
    roots: tuple[str, ...]
    file: str
    closure: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.kind}@{self.version}"


@dataclass(frozen=True)
class Catalog:
    package: str
    entries: tuple[SchemaEntry, ...]
    digests: dict[str, str]

    def entry(self, name: str) -> SchemaEntry:
        for e in self.entries:
            if e.name == name:
                return e
        raise StigscapError(f"unknown schema kind {name!r}; known: "
                            + ", ".join(sorted(e.name for e in self.entries)))

    def by_root(self, namespace: str, local: str) -> list[SchemaEntry]:
        return [e for e in self.entries if e.namespace == namespace and local in e.roots]


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    try:
        data = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StigscapError(f"schema catalog unreadable: {exc}", file=str(CATALOG_FILE)) from None
    entries = tuple(
        SchemaEntry(kind=e["kind"], version=e["version"], namespace=e["namespace"],
                    roots=tuple(e["roots"]), file=e["file"], closure=tuple(e["closure"]))
        for e in data["schemas"])
    return Catalog(package=data["package"], entries=entries, digests=dict(data["files"]))


_deprecation_warned = False


def _warn_deprecated(ignored: bool) -> None:
    """One line on stderr, once per process, when the old variable name is set."""
    global _deprecation_warned
    if _deprecation_warned:
        return
    _deprecation_warned = True
    state = f"ignored, {ENV_VAR} is set" if ignored else "still read for this release"
    print(f"stigscap: warning: {DEPRECATED_ENV_VAR} is deprecated ({state}); "
          f"use {ENV_VAR}", file=sys.stderr)


def configured_schema_dir(explicit: str | os.PathLike | None = None) -> tuple[Path, str]:
    """The schema directory setting and where it came from, not checked: the option, then
    `STIGSCAP_SCHEMA_DIR`, then the deprecated `STIGSCAP_OPENSCAP_SCHEMAS`, then the system's."""
    if os.environ.get(DEPRECATED_ENV_VAR):
        _warn_deprecated(ignored=bool(explicit or os.environ.get(ENV_VAR)))
    if explicit:
        return Path(explicit), "--schema-dir"
    for var in (ENV_VAR, DEPRECATED_ENV_VAR):
        if os.environ.get(var):
            return Path(os.environ[var]), var
    return Path(DEFAULT_SCHEMA_DIR), "the system schema directory"


def schema_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The schema directory in force (`configured_schema_dir`), which must exist."""
    where, origin = configured_schema_dir(explicit)
    if not where.is_dir():
        hint = INSTALL_HINT if origin == "the system schema directory" else (
            f"give an existing directory, or unset it and {INSTALL_HINT}")
        raise StigscapError(f"schema directory {where} ({origin}) does not exist; {hint}")
    return where.resolve()


def _sha256(path: Path) -> str:
    import hashlib   # here: OpenSSL's import (3-8 ms) only when a file is hashed

    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_verified: dict[tuple[str, str], bool] = {}
_lock = threading.Lock()


def verify_file(rel: str, directory: Path, purpose: str, *, save: bool = True) -> None:
    """Check one catalogued file against its pinned SHA-256 (once per process; a version of
    the file found to match in an earlier run is not read again: `verified_digests`)."""
    key = (str(directory), rel)
    if _verified.get(key):
        return
    cat = load_catalog()
    path = directory / rel
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is None or not stat.S_ISREG(st.st_mode):
        raise StigscapError(
            f"schema file {rel} (needed for {purpose}) is missing from {directory}; "
            + INSTALL_HINT)
    expected = cat.digests.get(rel)
    if expected is None:
        raise StigscapError(f"schema file {rel} is not in the catalog {CATALOG_FILE.name}")
    if not verified_digests.known(str(path), st, expected):
        got = _sha256(path)
        if got != expected:
            raise StigscapError(
                f"schema file {path} differs from the official {cat.package} copy "
                f"(SHA-256 {got[:16]}…, expected {expected[:16]}…); {REINSTALL_HINT}")
        verified_digests.remember(str(path), st, expected)
        if save:
            verified_digests.save()
    with _lock:
        _verified[key] = True


def verify_entry(entry: SchemaEntry, directory: Path) -> None:
    """Check every file the entry's XSD loads against the pinned SHA-256 (once per process)."""
    try:
        for rel in entry.closure:
            verify_file(rel, directory, entry.name, save=False)
    finally:
        verified_digests.save()


class _LocalOnlyResolver(etree.Resolver):
    """Imports of absolute http(s) URLs of known schemas map to local files; others are empty.

    The official XSDs import by relative schemaLocation; this only guards against a schema
    that names a remote location (never fetched: the parser also has no_network=True).
    """

    _KNOWN = {
        "http://www.w3.org/2001/xml.xsd": "common/xml.xsd",
        ns.XML: "common/xml.xsd",
        "http://www.w3.org/1999/xlink.xsd": "common/xlink.xsd",
        "http://www.w3.org/TR/2002/REC-xmldsig-core-20020212/xmldsig-core-schema.xsd":
            "common/xmldsig-core-schema.xsd",
    }

    def __init__(self, directory: Path, keep: frozenset[str] | None = None):
        super().__init__()
        self.directory = directory
        self.keep = keep
        self.window: LoaderWindow | None = None   # closed at the first load (see _compile)

    def resolve(self, url, pubid, context):
        if self.window is not None:
            self.window.close()
        if url and re.match(r"^(https?|ftp)://", url):
            local = self._KNOWN.get(url)
            if local:
                return self.resolve_filename(str(self.directory / local), context)
            return self.resolve_string(
                f'<xs:schema xmlns:xs="{XS}"/>', context)
        if url and self.keep is not None:
            reduced = _reduced_schema_file(url, self.directory, self.keep)
            if reduced is not None:
                return self.resolve_string(reduced, context, base_url=url)
        return None


# ---------------------------------------------------------------------------------------------
# OVAL extension schemas a document does not use
#
# OVAL's core schemas import every platform extension schema (`…-5#windows`, `…-5#linux`, …:
# 3.7 MB of the 4.5 MB of XSD behind SDS 1.3), so compiling them is most of a small file's
# validation time (SDS 1.3: ≈55 ms, against ≈20 ms for the extensions an SSG Linux stream uses).
# An element, attribute or xsi:type in a namespace can only appear where that namespace is
# declared, so a schema without the extensions the document never declares gives the same
# verdict: the omitted declarations could match nothing in it. The wording of some errors
# differs (libxml2 lists the allowed elements of a substitution group, every extension's
# included), so `validate` re-words a reduced schema's errors with the full one.

EXTENSION_NS = re.compile(r"http://oval\.mitre\.org/XMLSchema/oval-[a-z-]+-5#[A-Za-z0-9_]+")
_DECLARATION = re.compile(rb"""xmlns(?::[^\s=]+)?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ASCII_ENCODINGS = re.compile(r"(utf-?8|us-ascii|ascii|iso-8859-\d+|latin-?1|windows-125\d|"
                              r"cp125\d)$", re.IGNORECASE)


def used_extensions(data: bytes) -> frozenset[str] | None:
    """The OVAL extension namespaces (`…-5#platform`) the document declares, from its raw
    bytes; None when the bytes cannot tell (an encoding that is not ASCII-compatible, or a
    declaration written with a character or entity reference): then nothing is left out.

    A declaration inside a comment or an attribute value is counted too: that only keeps a
    schema that was not needed."""
    if data[:3] != b"\xef\xbb\xbf":
        if data[:2] in (b"\xfe\xff", b"\xff\xfe") or data[:1] in (b"\x00", b"\x4c") or \
                data[1:2] == b"\x00":
            return None   # UTF-16/32, EBCDIC: namespace names are not ASCII bytes here
    enc = _ENCODING.match(data[:203].removeprefix(b"\xef\xbb\xbf"))
    if enc is not None and not _ASCII_ENCODINGS.match(enc.group(1).decode("ascii")):
        return None
    found: set[str] = set()
    for m in _DECLARATION.finditer(data):
        value = m.group(1) if m.group(1) is not None else m.group(2)
        if b"&" in value:
            return None   # `&#35;windows`: the namespace is not the bytes
        if b"#" in value:
            text = value.decode("ascii", "replace")
            if EXTENSION_NS.fullmatch(text):
                found.add(text)
    return frozenset(found)


_IMPORTS_EXTENSIONS = ("oval-definitions-schema.xsd", "oval-system-characteristics-schema.xsd")


def _reduced_schema_file(url: str, directory: Path, keep: frozenset[str]) -> bytes | None:
    """A schema file of the directory without its imports of extensions not in `keep`; None
    when it imports none of those (libxml2 then loads the file itself). Only OVAL's two core
    schemas import extensions (every OVAL version in openscap-common)."""
    path = Path(url)
    if path.name not in _IMPORTS_EXTENSIONS:
        return None
    try:
        path.resolve().relative_to(directory)
        data = path.read_bytes()
    except (OSError, ValueError):
        return None
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    doc = etree.fromstring(data, parser, base_url=url)
    if not _drop_unused_imports(doc, keep):
        return None
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")


def _drop_unused_imports(root: etree._Element, keep: frozenset[str]) -> int:
    dropped = 0
    for imp in root.findall(f"{{{XS}}}import"):
        namespace = imp.get("namespace") or ""
        if EXTENSION_NS.fullmatch(namespace) and namespace not in keep:
            root.remove(imp)
            dropped += 1
    return dropped


_compiled: dict[tuple[str, str, frozenset[str] | None], etree.XMLSchema] = {}
_compiling: dict[tuple[str, str, frozenset[str] | None], threading.Lock] = {}


def compiled_schema(name: str, directory: str | os.PathLike | None = None,
                    extensions: frozenset[str] | None = None, *,
                    window: LoaderWindow | None = None) -> etree.XMLSchema:
    """The lxml/libxml2 XMLSchema for `kind@version`, verified and compiled once per process.

    `extensions` (from `used_extensions`): only these OVAL extension schemas are compiled in,
    for a document that declares no others; None: all of them, the official schema as is.
    A compile that another thread has under way (a prefetch) is waited for, not repeated.
    An lxml XMLSchema keeps its error log on the object: one thread validates with it at a
    time (validate's XSD worker takes over the pass it would otherwise run itself).

    `window`: an `xmlio.LoaderWindow` opened by a caller that starts this compile in another
    thread and parses meanwhile, so that its parse waits until the compile has lxml's entity
    loader in place (see xmlio); closed here in any case. Without one, a compile opens its own.
    """
    try:
        d = schema_dir(directory)
        key = (str(d), name, extensions)
        schema = _compiled.get(key)
        if schema is not None:
            return schema
        with _lock:
            key_lock = _compiling.setdefault(key, threading.Lock())
        with key_lock:   # a compile already under way (another thread's prefetch): wait for it
            schema = _compiled.get(key)
            if schema is None:
                schema = _compile(name, d, extensions, window)
                with _lock:
                    _compiled[key] = schema
        return schema
    finally:
        if window is not None:
            window.close()


def _compile(name: str, d: Path, extensions: frozenset[str] | None = None,
             window: LoaderWindow | None = None) -> etree.XMLSchema:
    window = window or LoaderWindow()
    try:
        entry = load_catalog().entry(name)
        verify_entry(entry, d)
        # not xmlio.parse_xml_*: these are the official XSDs, every file checked against its
        # pinned SHA-256 just above (a FIFO or other non-file is "missing"), never user input
        parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
        resolver = _LocalOnlyResolver(d, extensions)
        parser.resolvers.add(resolver)
        try:
            doc = etree.parse(str(d / entry.file), parser)
            if extensions is not None:
                _drop_unused_imports(doc.getroot(), extensions)
            # from here on, a load reaches the resolver through lxml's hook: the hook is in
            # place, and a parse that begins now cannot take it away (xmlio.LoaderWindow)
            resolver.window = window
            return etree.XMLSchema(doc)
        except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
            if extensions is not None:   # never expected: the official schema as it is
                window.close()
                return _compile(name, d)
            raise StigscapError(f"schema {entry.file} could not be compiled: "
                                f"{' '.join(str(exc).split())}", file=str(d / entry.file)) from None
    finally:
        window.close()


# ---------------------------------------------------------------------------------------------
# Which entry validates a document

def _child_text(root: etree._Element, local: str) -> str | None:
    for gen in root:
        if isinstance(gen.tag, str) and etree.QName(gen).localname == "generator":
            for sv in gen.iter():
                if (isinstance(sv.tag, str) and etree.QName(sv).localname == local
                        and not sv.get("platform")):
                    return (element_text(sv) or "").strip()
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


def peek_entry(data: bytes, limit: int = 65536) -> SchemaEntry | None:
    """The catalog entry for the document, judged from its head only; None when unsure."""
    try:
        parser = etree.XMLPullParser(events=("start",), resolve_entities=False,
                                     no_network=True, load_dtd=False)
        parser.feed(data[:limit])
        root = None
        for _event, el in parser.read_events():
            root = el if root is None else root
        return detect(root) if root is not None else None
    except (etree.XMLSyntaxError, ValueError, StigscapError):
        return None


PREPARE_MAX_BYTES = 8 << 20        # larger files: check_file compiles while it parses
_HEAD_BYTES = 65536                # what peek_entry reads
HUGE_TREE_BYTES = 8 << 20          # above this, parsed with lxml's huge_tree (as validate does)


class EarlyPass:
    """The XSD pass `prepare` runs on one file, for `validate.check_file` to collect."""

    def __init__(self, path: str, directory: Path):
        self.path, self.directory = path, directory
        self._data: bytes | None = None
        self._valid = False
        self.document: Any = None   # kept, not freed here: the process's exit frees it
        self._done = threading.Event()

    def valid(self, data: bytes) -> bool:
        """True when the pass found these very bytes valid (against the schema their head
        names, as check_file's own peek of the same bytes does); waits for a pass still under
        way. False whenever that is not certain: the caller then validates itself."""
        self._done.wait()
        return self._valid and self._data == data


_early: EarlyPass | None = None


def prepare(path: str | os.PathLike, schema_dir: str | os.PathLike | None = None) -> None:
    """Start `validate` on the file at `path` before the command itself runs: compile the
    schema it will be validated against (the kind judged from its head, the OVAL extensions
    from its declarations) and, when a core is idle (`cores.spare_core`, as for validate's
    own XSD worker), parse the file and validate it too, so that `validate.check_file` finds
    the schema compiled and, for a valid file, the XSD verdict reached (`early_pass`).
    `start_prepare` runs the same in a background thread.

    Files over 8 MiB are left alone: check_file compiles while it parses them, and its own
    XSD worker is then as fast as an early pass (measured: an early pass of files up to
    32 MiB made ssg-rhel8 slower, 0.60 -> 0.64-0.67 s, and no file of 9-16 MB faster; an
    early compile alone made none faster either). Never raises: whatever is wrong with the
    file or the schemas is for `validate.check_file` to report, and only a valid verdict is
    handed on (an invalid file is validated again on the main path, which words its errors).
    """
    started = _prepare_start(path, schema_dir)
    if started is not None:
        _prepare_finish(*started)


def start_prepare(path: str | os.PathLike, schema_dir: str | os.PathLike | None = None) -> None:
    """`prepare` for a launcher, while the rest of the program loads: the short part that
    needs the GIL (the file's head, the schema files' digests) runs here, the compile, the
    parse and the validation (libxml2, mostly without the GIL) in daemon threads. Each time
    a background thread needs the GIL back from the importing main thread it waits up to a
    switch interval; so they need it as seldom as possible. Never raises, never waits on the
    file (a regular file only)."""
    started = _prepare_start(path, schema_dir)
    if started is not None:
        threading.Thread(target=_prepare_finish, args=started, daemon=True,
                         name="stigscap-schema-prepare").start()


def _prepare_start(path: str | os.PathLike, directory: str | os.PathLike | None):
    """The part of `prepare` that needs the GIL most. Returns what `_prepare_finish` needs
    (the file still open; no EarlyPass for the compile alone), or None."""
    global _early
    from .cores import spare_core

    _early = None
    fh = None
    try:
        d = schema_dir(directory)
        fh = open_input_file(path)   # a regular file only, never waits on a FIFO
        if os.fstat(fh.fileno()).st_size <= PREPARE_MAX_BYTES:
            full = spare_core()
            head = fh.read(_HEAD_BYTES)
            entry = peek_entry(head)
            if entry is not None:
                verify_entry(entry, d)
                record = _early = EarlyPass(os.fspath(path), d) if full else None
                return record, d, fh, head, entry
    except Exception:  # noqa: BLE001 - reported properly on the main path
        pass
    if fh is not None:
        fh.close()
    return None


def _prepare_finish(record: EarlyPass | None, directory: Path, fh: BinaryIO, head: bytes,
                    entry: SchemaEntry) -> None:
    compiled: list[etree.XMLSchema] = []
    try:
        with fh:
            data = head + fh.read(PREPARE_MAX_BYTES + 1 - len(head))
        if len(data) > PREPARE_MAX_BYTES:
            return

        def compile_(window: LoaderWindow | None = None) -> None:
            with contextlib.suppress(Exception):   # reported properly on the main path
                compiled.append(compiled_schema(entry.name, directory, used_extensions(data),
                                                window=window))
            if window is not None:
                window.close()

        if record is None:
            compile_()
            return
        # the compile beside the parse: both libxml2, mostly without the GIL. The parse waits
        # until the compile's first import has put lxml's entity loader in place
        # (xmlio.LoaderWindow)
        window = LoaderWindow()
        compiler = threading.Thread(target=compile_, args=(window,), daemon=True,
                                    name="stigscap-schema-compile")
        try:
            compiler.start()
        except BaseException:
            window.close()
            raise
        record.document = parse_xml_bytes(data, record.path, huge_tree=len(data) > HUGE_TREE_BYTES)
        compiler.join()
        if compiled:
            record._valid = bool(compiled[0].validate(record.document))
            record._data = data
    except Exception:  # noqa: BLE001 - reported properly on the main path
        pass
    finally:
        if record is not None:
            record._done.set()


def early_pass(path: str | os.PathLike, directory: str | os.PathLike | None) -> EarlyPass | None:
    """The `prepare` pass of this file against the same schema directory, under way or done;
    None where there is none to wait for (another file, another directory, a pass that
    ended without a verdict). A pass under way is always waited for, even when the file has
    changed since (its verdict is then not taken): never two passes with one compiled
    schema at once, whose error log is the schema object's."""
    record = _early
    if record is None or record.path != os.fspath(path) or (
            record._done.is_set() and record._data is None):
        return None
    try:
        if schema_dir(directory) != record.directory:
            return None
    except StigscapError:
        return None
    return record


# ---------------------------------------------------------------------------------------------
# Catalog generation (maintainers)

def _closure(directory: Path, entry_file: str) -> list[str]:
    """Relative paths of the entry XSD and everything it imports/includes, recursively."""
    seen: list[str] = []
    todo = [entry_file]
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    while todo:
        rel = todo.pop()
        if rel in seen:
            continue
        seen.append(rel)
        doc = etree.parse(str(directory / rel), parser)
        for el in doc.iter(f"{{{XS}}}import", f"{{{XS}}}include", f"{{{XS}}}redefine"):
            loc = el.get("schemaLocation")
            if not loc or re.match(r"^[a-z]+://", loc):
                continue
            target = os.path.normpath(str(PurePosixPath(rel).parent / loc))
            if (directory / target).is_file():
                todo.append(target)
    return sorted(seen)


def _global_elements(directory: Path, rel: str) -> tuple[str, list[str]]:
    doc = etree.parse(str(directory / rel))
    root = doc.getroot()
    names = [el.get("name") for el in root.findall(f"{{{XS}}}element")]
    return root.get("targetNamespace", ""), sorted(n for n in names if n)


def _entry_specs(directory: Path) -> list[tuple[str, str, str, list[str] | None]]:
    """(kind, version, entry file, root elements or None for all globals)."""
    specs: list[tuple[str, str, str, list[str] | None]] = [
        ("sds", "1.2", "sds/1.2/scap-source-data-stream_1.2.xsd", ["data-stream-collection"]),
        ("sds", "1.3", "sds/1.3/scap-source-data-stream_1.3.xsd", ["data-stream-collection"]),
        ("xccdf", "1.2", "xccdf/1.2/xccdf_1.2.xsd", ["Benchmark", "TestResult", "Tailoring"]),
        ("xccdf", "1.1", "xccdf/1.1/xccdf-schema.xsd", ["Benchmark", "TestResult"]),
        ("xccdf-tailoring", "1.1", "xccdf/1.1-tailoring/xccdf-1.1-tailoring.xsd", ["Tailoring"]),
        ("arf", "1.1", "arf/1.1/asset-reporting-format_1.1.0.xsd", ["asset-report-collection"]),
        ("cpe-dictionary", "2.0", "cpe/2.0/cpe-dictionary_2.0.xsd", ["cpe-list"]),
        ("cpe-dictionary", "2.1", "cpe/2.1/cpe-dictionary_2.1.xsd", ["cpe-list"]),
        ("cpe-dictionary", "2.2", "cpe/2.2/cpe-dictionary_2.2.xsd", ["cpe-list"]),
        ("cpe-dictionary", "2.3", "cpe/2.3/cpe-dictionary_2.3.xsd", ["cpe-list"]),
        ("cpe-language", "2.3", "cpe/2.3/cpe-language_2.3.xsd", ["platform-specification"]),
        ("ocil", "2.0", "ocil/2.0/ocil-2.0.xsd", ["ocil"]),
    ]
    oval_docs = {
        "oval-definitions": ("oval-definitions-schema.xsd", ["oval_definitions"]),
        "oval-system-characteristics": ("oval-system-characteristics-schema.xsd",
                                        ["oval_system_characteristics"]),
        "oval-results": ("oval-results-schema.xsd", ["oval_results"]),
        "oval-variables": ("oval-variables-schema.xsd", ["oval_variables"]),
        "oval-directives": ("oval-directives-schema.xsd", ["oval_directives"]),
    }
    versions = sorted((p.name for p in (directory / "oval").iterdir() if p.is_dir()),
                      key=lambda v: tuple(int(x) for x in v.split(".")))
    for v in versions:
        for kind, (fname, roots) in oval_docs.items():
            if (directory / "oval" / v / fname).is_file():
                specs.append((kind, v, f"oval/{v}/{fname}", roots))
    return specs


def build_catalog(directory: Path, cross_check: bool = True) -> dict:
    schemas = []
    files: dict[str, str] = {}
    for kind, version, rel, roots in _entry_specs(directory):
        ns, globals_ = _global_elements(directory, rel)
        closure = _closure(directory, rel)
        if cross_check and kind in ("sds", "arf", "xccdf"):
            _xmlschema_cross_check(directory, rel, closure)
        schemas.append({"kind": kind, "version": version, "namespace": ns,
                        "roots": [r for r in (roots or globals_) if r in globals_],
                        "file": rel, "closure": closure})
        for f in closure:
            files.setdefault(f, _sha256(directory / f))
    for f in EXTRA_FILES:  # non-XSD official files we run (the SDS 1.3 schematron)
        files.setdefault(f, _sha256(directory / f))
    return {
        "format": 1,
        "package": "openscap-common",
        "package_version": _package_version(),
        "comment": "Generated by `python -m stigscap.schemas.catalog --write`; paths are "
                   "relative to the schema directory; digests are SHA-256 of the official files.",
        "schemas": schemas,
        "files": dict(sorted(files.items())),
    }


def _xmlschema_cross_check(directory: Path, rel: str, closure: list[str]) -> None:
    """xmlschema's import resolution must find no local file outside our closure."""
    import warnings

    import xmlschema

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = xmlschema.XMLSchema(str(directory / rel), allow="local", build=False)
    base = directory.resolve().as_uri() + "/"
    found = {s.url[len(base):] for s in schema.maps.iter_schemas()
             if s.url and s.url.startswith(base)}
    extra = found - set(closure)
    if extra:
        raise SystemExit(f"{rel}: xmlschema resolves files outside the closure: {sorted(extra)}")


def _package_version() -> str:
    try:
        import subprocess
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "openscap-common"],
                             capture_output=True, text=True, check=False)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schema-dir", default=DEFAULT_SCHEMA_DIR)
    ap.add_argument("--write", action="store_true", help=f"write {CATALOG_FILE.name}")
    ap.add_argument("--no-cross-check", action="store_true")
    args = ap.parse_args(argv)
    data = build_catalog(Path(args.schema_dir), cross_check=not args.no_cross_check)
    text = json.dumps(data, indent=1) + "\n"
    if args.write:
        from .xmlio import atomic_write
        atomic_write(CATALOG_FILE, text)
        print(f"wrote {CATALOG_FILE}: {len(data['schemas'])} schemas, {len(data['files'])} files")
    else:
        print(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
