"""Offline collection: PowerShell exports made on an air-gapped Exchange server → CollectedObjects.

Inputs, per cmdlet, one file:
- ``Export-Clixml`` (Windows PowerShell 5.1 writes UTF-16LE with BOM, PowerShell 7 UTF-8; any
  ``-Depth``; a ``#< CLIXML`` prefix as ``pwsh -OutputFormat xml`` writes it is accepted);
- ``ConvertTo-Json`` (enums as integers in 5.1, names with 7's ``-EnumsAsStrings``; a single
  object arrives unwrapped; UTF-8, UTF-16 with BOM, or the ANSI code page of ``Set-Content``).

Which export belongs to which OVAL object: files named after the cmdlet in a directory
(``Get-ReceiveConnector.xml`` / ``.clixml`` / ``.json``, case-insensitive), or explicit
``KEY=FILE`` pairs where KEY is the cmdlet name or an OVAL object id. See `ExportMap`.

CLIXML is read as a stream with the safe-parser settings of `schemas.xmlio` (no DTD, no
entities, no network; the shared `PrologCheck` refuses a DOCTYPE before the parser sees it;
comments and processing instructions are dropped while parsing, so an element's `.text` is
its whole text); each top-level object is made self-contained (TNRef/Ref expanded,
properties nobody selected dropped) and handed to psrpcore's deserializer. Nothing here raises
for bad data: every problem becomes an `error` / `not collected` flag with a message.
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import io
import ipaddress
import json
import re
import stat
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Iterator, Sequence

from lxml import etree

from stigscap.schemas.errors import StigscapError
from stigscap.schemas.namespaces import CLIXML
from stigscap.schemas.xmlio import SAFE_PARSER_OPTIONS, PrologCheck, element_text

from .certificates import (DERIVED as _CERT_DERIVED,
                           CertificateError, certificate_properties, disagreement, raw_bytes)
from .model import CmdletQuery, CollectedObject, SystemInfo, cmdlet_name
from .records import ExportError, RecordCollector, collected_error as _error
from .items import items_result
from .normalize import FieldMemo, base_type_name, lookup_property, normalize_value, properties
from .psrpcore_compat import PSCryptoProvider, PSString, deserialize
from ..oval.objects import CmdletObjects

CLIXML_NS = CLIXML
_TN, _TNREF, _OBJ, _REF = (f"{{{CLIXML_NS}}}{t}" for t in ("TN", "TNRef", "Obj", "Ref"))
_OBJS = f"{{{CLIXML_NS}}}Objs"
_CHUNK = 32768   # what iterparse reads at a time (see _ClixmlStream.__iter__)
_T, _TOSTRING, _PROPS, _MS, _S = (f"{{{CLIXML_NS}}}{t}" for t in ("T", "ToString", "Props",
                                                                    "MS", "S"))
# children of an object in the plain shape, in the order they must come (see _plain_object)
_PLAIN_RANK = {_TN: 0, _TNREF: 0, _TOSTRING: 1, _PROPS: 2, _MS: 3}
_RECORD_STREAMS = frozenset(("error", "warning", "verbose", "debug", "information", "progress"))
_RECORD_TYPES = frozenset(f"System.Management.Automation.{t}Record" for t in (
    "Error", "Information", "Warning", "Verbose", "Debug", "Progress"))
_REF_PATTERN = re.compile(r"<Ref\b[^>]*?\bRefId\s*=\s*[\"']([^\"']*)[\"']", re.ASCII)
_REF_WINDOW = 4096   # characters of a <Ref ...> start tag the prescan reads
_VALUE_CACHE_SIZE = 16384
EXPORT_SUFFIXES = (".xml", ".clixml", ".json")




# --- which file belongs to which object ---------------------------------------------------

_CMDLET_FILE = re.compile(r"^(?P<cmdlet>[A-Za-z]+-[A-Za-z0-9]+)\.(?:xml|clixml|json)$",
                          re.IGNORECASE)


@dataclass
class ExportMap:
    """Export files by lowercase key: a cmdlet name ("get-receiveconnector") or an object id."""

    files: dict[str, list[Path]] = field(default_factory=dict)

    def add(self, key: str, path: Path) -> None:
        bucket = self.files.setdefault(key.strip().lower(), [])
        if path not in bucket:
            bucket.append(path)

    def lookup(self, query: CmdletQuery) -> list[Path]:
        by_id = self.files.get(query.object_id.lower())
        if by_id:
            return by_id
        return self.files.get(cmdlet_name(query).lower(), [])

    @classmethod
    def from_specs(cls, specs: Iterable[str]) -> "ExportMap":
        """``--from`` values: a directory, or ``KEY=FILE`` (cmdlet name or OVAL object id)."""
        out = cls()
        for spec in specs:
            key, sep, value = spec.partition("=")
            if sep and key and not Path(spec).exists():
                path = Path(value)
                if not path.is_file():
                    if path.exists():
                        raise StigscapError(f"export file is not a regular file: {value}")
                    raise StigscapError(f"export file not found: {value}")
                if not (re.fullmatch(r"[A-Za-z]+-[A-Za-z0-9]+", key)
                        or re.fullmatch(r"oval:[A-Za-z0-9_.\-]+:obj:[1-9][0-9]*", key)):
                    raise StigscapError(f"--from {spec!r}: the key must be a cmdlet name "
                                        "(Get-ReceiveConnector) or an OVAL object id")
                out.add(key, path)
                continue
            directory = Path(spec)
            if directory.is_dir():
                for child in sorted(directory.iterdir()):
                    m = _CMDLET_FILE.match(child.name)
                    if m and child.is_file():
                        out.add(m["cmdlet"], child)
            elif directory.is_file():
                m = _CMDLET_FILE.match(directory.name)
                if not m:
                    raise StigscapError(f"--from {spec}: name the file after the cmdlet "
                                        "(Get-ReceiveConnector.xml) or use "
                                        "Get-ReceiveConnector=FILE")
                out.add(m["cmdlet"], directory)
            elif directory.exists():
                raise StigscapError(f"--from {spec}: not a regular file or directory")
            else:
                raise StigscapError(f"--from {spec}: no such directory or file")
        return out


# the built-in examples: name → the built-in benchmark it is made for (content/examples/<name>)
EXAMPLES: dict[str, str] = {
    "edge2013": "exchange2013_edge",
    "edge2016": "exchange2016_edge",
    "mailbox2016": "exchange2016_mailbox",
    "edge2019": "exchange2019_edge",
}
DEFAULT_EXAMPLE = "edge2013"


def example_benchmark(stig: str = DEFAULT_EXAMPLE) -> str:
    """The built-in benchmark the example `stig` is made for."""
    try:
        return EXAMPLES[stig]
    except KeyError:
        raise StigscapError(f"no built-in example {stig!r}; the examples are "
                            f"{', '.join(EXAMPLES)}") from None


def example_exports_dir(stig: str = DEFAULT_EXAMPLE) -> Path:
    """The built-in example exports of one STIG's server (content/examples/<stig>), for
    ``stigscap run --example [STIG]``."""
    import stigscap.content as content_pkg
    example_benchmark(stig)   # refuses an unknown name
    return Path(content_pkg.__file__).resolve().parent / "examples" / stig


# --- reading bytes -----------------------------------------------------------------------

def _sniff_encoding(head: bytes) -> tuple[str, int]:
    """(codec, BOM length) from the first bytes."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    if len(head) >= 2 and head[0] == 0 and head[1] != 0:
        return "utf-16-be", 0
    if len(head) >= 2 and head[1] == 0 and head[0] != 0:
        return "utf-16-le", 0
    return "utf-8", 0


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.DOTALL)


class _Utf8Reader(io.RawIOBase):
    """File → UTF-8 bytes: BOM removed, ``#< CLIXML`` prefix and XML declaration dropped."""

    def __init__(self, fh, codec: str, skip: int):
        super().__init__()
        self._fh = fh
        self._fh.seek(skip)
        self._dec = codecs.getincrementaldecoder(codec)(errors="strict")
        self._codec = codec
        self._buf = b""
        self._first = True
        self._eof = False
        self._prolog = PrologCheck("")   # sees the UTF-8 text the parser gets

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        chunk = self._fh.read(1 << 20)
        try:
            text = self._dec.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise ExportError(f"not valid {self._codec} text (byte offset about "
                              f"{self._fh.tell() - len(chunk) + exc.start})") from None
        if not chunk:
            self._eof = True
        if self._first and (text or self._eof):
            self._first = False
            text = text.lstrip("\ufeff")
            stripped = text.lstrip()
            if stripped.startswith("#< CLIXML"):
                text = stripped[len("#< CLIXML"):].lstrip("\r\n")
            text = _XML_DECL.sub("", text, count=1)
        if not self._prolog.done:   # the shared DOCTYPE refusal, before the parser sees it
            try:
                self._prolog.feed(text, final=self._eof)
            except StigscapError as exc:
                raise ExportError(exc.message) from None
        self._buf += text.encode("utf-8")

    def readinto(self, b) -> int:
        while not self._buf and not self._eof:
            self._fill()
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _open_text_stream(path: Path):
    fh = open(path, "rb")
    head = fh.read(4)
    codec, bom = _sniff_encoding(head)
    return fh, io.BufferedReader(_Utf8Reader(fh, codec, bom), buffer_size=1 << 20)


def _read_text(path: Path) -> tuple[str, list[str]]:
    data = path.read_bytes()
    codec, bom = _sniff_encoding(data[:4])
    messages = []
    try:
        text = data[bom:].decode(codec)
    except UnicodeDecodeError:
        if codec != "utf-8":
            raise ExportError(f"not valid {codec} text") from None
        text = data.decode("cp1252", errors="replace")
        messages.append("the file is not UTF-8; read as Windows-1252 (the ANSI code page "
                        "Set-Content uses in Windows PowerShell 5.1)")
    return text, messages


# --- CLIXML -------------------------------------------------------------------------------

@dataclass
class ExportObject:
    """One top-level pipeline object of an export."""

    value: Any                 # psrpcore object / JSON value
    type_names: list[str]      # as written in the export ([] for JSON)
    index: int
    # contradictions in the export itself: (property, problem), e.g. a property written twice
    problems: list[tuple[str, str]] = field(default_factory=list)
    # properties read besides the selected ones (read_export's `extra`), as a read of the file
    # for them alone would give them; `extras_failed`: such a read would have failed
    extras: dict[str, Any] = field(default_factory=dict)
    extras_failed: bool = False


@dataclass
class ExportContent:
    format: str                              # "clixml" | "json"
    objects: Iterator[ExportObject]
    messages: list[str] = field(default_factory=list)


def _parent(node: etree._Element) -> etree._Element:
    parent = node.getparent()
    assert parent is not None   # a reference inside an exported object
    return parent


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _to_et(el: etree._Element, depth: int = 0) -> ET.Element:
    if depth > 200:
        raise ExportError("objects nested more than 200 levels deep")
    out = ET.Element(_local(el.tag), {k: v for k, v in el.attrib.items() if "}" not in k})
    out.text = el.text
    for child in el:
        if not isinstance(child.tag, str):
            continue  # comments / processing instructions
        c = _to_et(child, depth + 1)
        c.tail = child.tail
        out.append(c)
    return out


class _ClixmlStream:
    """Stream the top-level objects of an Export-Clixml file as psrpcore objects.

    Cost grows with the file, once: one pass of the parser over the file (which reports only
    <Obj> elements; top-level values of other kinds are taken from the root between them), a
    byte scan for <Ref> beforehand, and per object work that does not depend on the number of
    objects read before. Objects in the shape Exchange exports have (see `_plain_object`) are
    read property by property, each selected property deserialized by psrpcore on its own, and
    a property value already seen in the file (the same enum, Fqdn, Server on 100,000
    connectors) is deserialized once; anything else takes the general path (`_any_object`),
    which hands the whole object to psrpcore.
    """

    def __init__(self, path: Path, wanted: set[str] | None, extra: frozenset[str] = frozenset()):
        self.path = path
        self.wanted = wanted
        # properties also read, softly, for ExportObject.extras (those `wanted` lacks)
        self.extra = frozenset() if wanted is None else frozenset(extra - wanted)
        self.tn_by_ref: dict[str, etree._Element] = {}
        self.obj_by_ref: dict[str, etree._Element] = {}
        self.referenced: set[str] = set()
        self.messages: list[str] = []
        self._cipher = PSCryptoProvider()
        self._member_cache: dict[bytes, Any] = {}
        # property values already deserialized, by their XML (see _member_value)
        self._value_cache: dict[Any, Any] = {}
        self._type_names: dict[str, list[str]] = {}   # TN RefId → its type names
        self._tn_epoch = 0   # changes when a TN RefId is defined again with other content

    def _iterparse(self, **kw):
        fh, stream = _open_text_stream(self.path)
        parser = etree.iterparse(stream, huge_tree=True, remove_comments=True, remove_pis=True,
                                 **SAFE_PARSER_OPTIONS, **kw)
        return fh, parser

    def _prescan_refs(self) -> None:
        """RefIds that <Ref> elements point at (rare: the same .NET instance twice).

        A byte search for "<Ref" in the file's own encoding (UTF-16 files are not decoded for
        it); only the places it occurs are decoded and matched."""
        try:
            fh = open(self.path, "rb")
        except OSError:
            return  # reported by the main pass
        with fh:
            codec, bom = _sniff_encoding(fh.read(4))
            unit = 2 if codec.startswith("utf-16") else 1
            # (without UTF-16LE's last zero byte: a rare last byte makes the search skip ahead)
            needle = "<Ref".encode(codec).rstrip(b"\0")
            window = _REF_WINDOW * unit
            fh.seek(bom)
            tail, base = b"", bom   # base: file offset of data[0]
            while True:
                chunk = fh.read(1 << 22)
                if not chunk:
                    break
                data = tail + chunk if tail else chunk
                i = data.find(needle)
                while i >= 0:
                    if (base + i - bom) % unit == 0:   # on a character boundary
                        text = data[i:i + window].decode(codec, "replace")
                        m = _REF_PATTERN.match(text)
                        if m:
                            self.referenced.add(m.group(1))
                    i = data.find(needle, i + 1)
                keep = min(len(data), window)
                keep -= keep % unit
                tail, base = data[len(data) - keep:], base + len(data) - keep

    def _check_first_element(self) -> None:
        """The root element is checked when the first element ends, before any object is read
        (a file that is not an Export-Clixml file is refused at once, not read to its end)."""
        fh, parser = self._iterparse(events=("end",))
        try:
            for _, el in parser:
                self._check_root(el.getroottree().getroot())
                return
        except etree.XMLSyntaxError:
            return  # reported by the main pass
        finally:
            fh.close()

    def __iter__(self) -> Iterator[ExportObject]:
        self._prescan_refs()
        self._check_first_element()
        # The objects are taken from the root as the parser builds them, no per-element
        # events: an object is complete once the next one has begun. The data is fed in
        # iterparse's chunks; when reading or parsing fails, iterparse (`_objects_by_event`)
        # reads the file again from the object after the last one read here, so that what
        # is read before the error, and the error, are exactly iterparse's.
        done = 0
        fh, stream = _open_text_stream(self.path)
        parser = etree.XMLPullParser(events=("start",), tag=_OBJS, huge_tree=True,
                                     remove_comments=True, remove_pis=True,
                                     **SAFE_PARSER_OPTIONS)
        root = None
        try:
            while True:
                try:
                    data = stream.read(_CHUNK)
                    if data:
                        parser.feed(data)
                    else:
                        top = parser.close()
                except (etree.XMLSyntaxError, ExportError):
                    break
                if root is None:
                    for _, el in parser.read_events():
                        root = el
                        self._check_root(root)
                        break
                if root is not None:
                    complete = 1 if data else 0   # at the end every element is complete
                    while len(root) > complete:
                        obj = self._object(root[0], done)
                        done += 1
                        del root[0]
                        if obj is not None:
                            yield obj
                if not data:
                    if root is None:
                        if top is None:
                            raise ExportError("no XML content")
                        self._check_root(top)
                    return
        finally:
            fh.close()
        yield from self._objects_by_event(done)

    def _objects_by_event(self, skip: int) -> Iterator[ExportObject]:
        """The top-level objects by iterparse's events (only <Obj> elements reported; other
        top-level values taken from the root between them), the first `skip` not again."""
        fh, parser = self._iterparse(events=("end",), tag=_OBJ)
        index = 0
        root = None

        def take(el: etree._Element) -> ExportObject | None:
            nonlocal index
            obj = self._object(el, index) if index >= skip else None
            index += 1
            return obj

        try:
            for _, el in parser:
                if root is None:
                    root = el.getroottree().getroot()
                    self._check_root(root)
                if el.getparent() is not root:
                    continue
                # top-level values before this object that are not <Obj> (bare strings, ...)
                while root[0] is not el:
                    obj = take(root[0])
                    del root[0]
                    if obj is not None:
                        yield obj
                obj = take(el)
                el.clear(keep_tail=False)
                del root[0]
                if obj is not None:
                    yield obj
            if root is None:
                root = parser.root
                if root is None:
                    raise ExportError("no XML content")
                self._check_root(root)
            while len(root):   # top-level values after the last <Obj>
                obj = take(root[0])
                del root[0]
                if obj is not None:
                    yield obj
        except etree.XMLSyntaxError as exc:
            line = getattr(exc, "lineno", None)
            where = f" (line {line})" if line else ""
            msg = getattr(exc, "msg", None) or str(exc)
            raise ExportError(f"not well-formed XML{where}: {msg}; the file may be "
                              "truncated") from None
        finally:
            fh.close()

    @staticmethod
    def _check_root(root: etree._Element) -> None:
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise ExportError("document type declarations (DTD) are not allowed")
        if root.tag != f"{{{CLIXML_NS}}}Objs":
            raise ExportError(f"not an Export-Clixml file: the root element is "
                              f"<{_local(root.tag)}>, expected <Objs> in the PowerShell "
                              "namespace")

    def _register_tn(self, node: etree._Element, ref_id: str) -> None:
        old = self.tn_by_ref.get(ref_id)
        if old is not None and etree.tostring(old) != etree.tostring(node):
            self._tn_epoch += 1   # cached values were read under the earlier definition
        self.tn_by_ref[ref_id] = copy.deepcopy(node)
        self._type_names.pop(ref_id, None)

    def _object(self, el: etree._Element, index: int) -> ExportObject | None:
        if el.tag == _OBJ and not self.referenced:
            obj = self._plain_object(el, index)
            if obj is not None:
                return obj
        return self._any_object(el, index)

    def _plain_object(self, el: etree._Element, index: int) -> ExportObject | None:
        """An object in the shape Exchange exports have, property by property; None (nothing
        changed) for any other shape, which `_any_object` then reads.

        The shape: an <Obj> with, in this order, a type list (TN or TNRef), a ToString, one
        <Props>, one <MS> (each optional, at least one bag); every member named, no name twice
        (case-insensitively) and no _xHHHH_ escape in a name; no <Ref> in the file; a
        ToString only on Microsoft.Exchange.* types (which psrpcore builds as a plain
        PSObject); not an error, warning, verbose, debug, information or progress record. For
        these, the properties psrpcore gives the whole object are exactly the members, each
        deserialized on its own, in this order (adapted, then note properties)."""
        stream = el.get("S")
        if stream is not None and stream.lower() in _RECORD_STREAMS:
            return None
        types = to_string = None
        bags: list[etree._Element] = []
        rank = -1
        for child in el:
            r = _PLAIN_RANK.get(child.tag)  # type: ignore[arg-type]  # str tags here
            if r is None or r <= rank:
                return None
            rank = r
            if r == 0:
                types = child
            elif r == 1:
                to_string = child
            else:
                bags.append(child)
        if not bags:
            return None
        wanted, extra = self.wanted, self.extra
        members: list[tuple[str, str, etree._Element]] = []   # the members read
        seen: set[str] = set()
        for bag in bags:
            for member in bag:
                name = member.get("N")
                if name is None:
                    if wanted is None:
                        return None
                    continue   # dropped unread, as _prune drops it
                low = name.lower()
                if wanted is not None and low not in wanted and low not in extra:
                    continue   # not read: _prune drops it
                if "_x" in name or low in seen:
                    return None   # _any_object reports a property written twice
                seen.add(low)
                members.append((name, low, member))
        # type lists and references, in document order as _any_object checks them
        for node in el.iter(_TN, _TNREF, _REF):
            if node.tag == _TNREF:
                if node.get("RefId", "") not in self.tn_by_ref:
                    raise ExportError(f"object #{index + 1} refers to an undefined type list "
                                      f"(TNRef {node.get('RefId')!r})")
            elif node.tag == _TN:
                ref_id = node.get("RefId")
                if ref_id is not None:
                    old = self.tn_by_ref.get(ref_id)
                    if old is None:
                        self._register_tn(node, ref_id)
                    elif etree.tostring(old) != etree.tostring(node):
                        return None   # a type list redefined: the general path, in order
            else:
                raise ExportError(f"object #{index + 1} refers to an undefined object "
                                  f"(Ref {node.get('RefId')!r})")
        if types is None:
            type_names: list[str] = []
        else:
            ref_id = types.get("RefId", "") if types.tag == _TNREF else None
            cached = self._type_names.get(ref_id) if ref_id is not None else None
            if cached is None:
                tn = self.tn_by_ref[ref_id] if ref_id is not None else types
                cached = [t.text or "" for t in tn.findall(_T)]
                if ref_id is not None:
                    self._type_names[ref_id] = cached
            type_names = cached
        base = base_type_name(type_names)
        if base in _RECORD_TYPES or (to_string is not None and
                                     not base.startswith("Microsoft.Exchange.")):
            return None
        value: dict[str, Any] = {}
        extras: dict[str, Any] = {}
        extras_failed = False
        with _deserializing(index):
            for name, low, member in members:
                if wanted is None or low in wanted:
                    value[name] = self._member_value(member, wanted is not None)
                else:   # an extra property
                    try:
                        extras[name] = self._member_value(member, True)
                    except Exception:  # noqa: BLE001 - a read for it alone would fail
                        extras_failed = True
        return ExportObject(value, type_names, index, [], extras, extras_failed)

    def _member_value(self, member: etree._Element, prune: bool) -> Any:
        """One property, deserialized by psrpcore as it is inside its object (type lists
        expanded; a nested object with a ToString without its detail when properties were
        selected, as `_prune` does). A value whose XML was seen before (under the same type
        list definitions) is the object deserialized then."""
        key: Any
        if not len(member):
            key = (member.tag, member.text)
        else:   # its own RefId says nothing about its value (references are expanded)
            member.attrib.pop("RefId", None)
            key = (self._tn_epoch, etree.tostring(member, with_tail=False))
        cache = self._value_cache
        if key in cache:
            return cache[key]
        text = member.text
        if member.tag == _S and not len(member) and (text is None or "_x" not in text):
            value: Any = PSString(text or "")   # what psrpcore makes of a plain <S>
        elif len(member):
            for node in list(member.iter(_TNREF)):
                _parent(node).replace(node, copy.deepcopy(self.tn_by_ref[node.get("RefId", "")]))
            if prune and member.tag == _OBJ and member.find(_TOSTRING) is not None \
                    and not _keeps_detail(member):
                for detail in member.findall(_PROPS) + member.findall(_MS):
                    member.remove(detail)
            value = deserialize(_to_et(member), self._cipher)
        else:
            value = deserialize(_to_et(member), self._cipher)
        if len(cache) >= _VALUE_CACHE_SIZE:
            cache.clear()
        cache[key] = value
        return value

    def _any_object(self, el: etree._Element, index: int) -> ExportObject | None:
        """Any object: references expanded, then psrpcore reads it (or its members)."""
        stream = (el.get("S") or "").lower()
        problems = _duplicate_members(el)
        # register / expand type-name and object references (document-wide in Export-Clixml)
        for node in list(el.iter(_TN, _TNREF, _OBJ, _REF)):
            tag = _local(node.tag)
            if tag == "TN" and (ref_id := node.get("RefId")) is not None:
                self._register_tn(node, ref_id)
            elif tag == "TNRef":
                tn = self.tn_by_ref.get(node.get("RefId", ""))
                if tn is None:
                    raise ExportError(f"object #{index + 1} refers to an undefined type list "
                                      f"(TNRef {node.get('RefId')!r})")
                _parent(node).replace(node, copy.deepcopy(tn))
            elif tag == "Obj" and (ref_id := node.get("RefId")) in self.referenced:
                self.obj_by_ref[ref_id or ""] = copy.deepcopy(node)
            elif tag == "Ref":
                target = self.obj_by_ref.get(node.get("RefId", ""))
                if target is None:
                    raise ExportError(f"object #{index + 1} refers to an undefined object "
                                      f"(Ref {node.get('RefId')!r})")
                repl = copy.deepcopy(target)
                if (n := node.get("N")) is not None:
                    repl.set("N", n)
                else:
                    repl.attrib.pop("N", None)
                _parent(node).replace(node, repl)
        tn = el.find(f"{{{CLIXML_NS}}}TN")
        type_names = [t.text or "" for t in tn.findall(f"{{{CLIXML_NS}}}T")] if tn is not None \
            else []
        base = base_type_name(type_names)
        if stream in ("warning", "verbose", "debug", "information", "progress"):
            self.messages.append(f"{stream} records in the export were ignored")
            return None
        if stream == "error" or base == "System.Management.Automation.ErrorRecord":
            text = el.findtext(f"{{{CLIXML_NS}}}ToString") or el.text or ""
            text = " ".join(text.split()) or "an error record"
            raise ExportError(f"the export contains an error record instead of data: {text}")
        if base in ("System.Management.Automation.InformationRecord",
                    "System.Management.Automation.WarningRecord",
                    "System.Management.Automation.VerboseRecord",
                    "System.Management.Automation.DebugRecord",
                    "System.Management.Automation.ProgressRecord"):
            self.messages.append(f"{base.rsplit('.', 1)[-1]} entries in the export were "
                                 "ignored")
            return None
        obj = self.wanted is not None and _local(el.tag) == "Obj"
        extras: dict[str, Any] = {}
        extras_failed = False
        if obj and self.extra:   # as a read for the extra properties alone would see them
            alone = copy.deepcopy(el)
            self._prune(alone, self.extra)
            try:
                props = properties(self._value(alone, index)) or {}
            except ExportError:
                extras_failed = True
            else:
                extras = {k: v for k, v in props.items() if k.lower() in self.extra}
        if obj:
            assert self.wanted is not None
            self._prune(el, self.wanted)
        return ExportObject(self._value(el, index), type_names, index, problems, extras,
                            extras_failed)

    def _value(self, el: etree._Element, index: int) -> Any:
        with _deserializing(index):
            if self._is_property_bag(el):
                return self._bag_members(el)
            return deserialize(_to_et(el), self._cipher)

    _BAG_TAGS = {"TN", "TNRef", "MS", "Props", "ToString"}

    def _is_property_bag(self, el: etree._Element) -> bool:
        """A Select-Object / PSCustomObject-like object: only type names and property bags."""
        if _local(el.tag) != "Obj" or el.find(f"{{{CLIXML_NS}}}ToString") is not None:
            return False
        children = [_local(c.tag) for c in el if isinstance(c.tag, str)]
        return all(c in self._BAG_TAGS for c in children) and (
            "MS" in children or "Props" in children)

    def _bag_members(self, el: etree._Element) -> dict[str, Any]:
        """The properties of a property-bag object, each deserialized by psrpcore.

        The bag itself carries nothing but its members, so each member value is handed to
        psrpcore on its own; identical member values (the same enum on 50,000 connectors)
        are deserialized once (RefIds are irrelevant here: references were expanded).
        """
        out: dict[str, Any] = {}
        for bag_tag in ("Props", "MS"):  # adapted first, then note properties (psrpcore order)
            for bag in el.findall(f"{{{CLIXML_NS}}}{bag_tag}"):
                for member in bag:
                    if not isinstance(member.tag, str):
                        continue
                    name = member.get("N")
                    if name is None or name in out:
                        continue
                    key = None
                    if len(member):  # nested object: cache on its content with ids zeroed, no name
                        for node in member.iter():
                            if "RefId" in node.attrib:
                                node.set("RefId", "0")
                        member.attrib.pop("N", None)
                        key = etree.tostring(member)
                        if key in self._member_cache:
                            out[name] = self._member_cache[key]
                            continue
                    value = deserialize(_to_et(member), self._cipher)
                    if key is not None:
                        if len(self._member_cache) > 4096:
                            self._member_cache.clear()
                        self._member_cache[key] = value
                    out[name] = value
        return out

    @staticmethod
    def _prune(el: etree._Element, wanted: Collection[str]) -> None:
        """Drop properties nobody selected, and the detail of nested objects with a ToString."""
        for bag_tag in ("MS", "Props"):
            for bag in el.findall(f"{{{CLIXML_NS}}}{bag_tag}"):
                for member in list(bag):
                    name = (member.get("N") or "").lower()
                    if name not in wanted:
                        bag.remove(member)
                        continue
                    if _local(member.tag) == "Obj" and member.find(
                            f"{{{CLIXML_NS}}}ToString") is not None \
                            and not _keeps_detail(member):
                        for detail in member.findall(f"{{{CLIXML_NS}}}Props") + member.findall(
                                f"{{{CLIXML_NS}}}MS"):
                            member.remove(detail)


@contextlib.contextmanager
def _deserializing(index: int) -> Iterator[None]:
    """Reading export object #index+1: psrpcore's failures on hostile input (any exception,
    deep nesting) become one ExportError naming the object; an ExportError passes as it is."""
    try:
        yield
    except ExportError:
        raise
    except RecursionError:
        raise ExportError(f"object #{index + 1} is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - psrpcore on hostile input
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise ExportError(f"object #{index + 1} cannot be deserialized: {text}") from None


# values whose properties are read besides their ToString: an EnhancedTimeSpan's Ticks must
# agree with its text (normalize._enhanced_timespan)
_DETAIL_TYPES = frozenset(("Microsoft.Exchange.Data.EnhancedTimeSpan",
                           "Deserialized.Microsoft.Exchange.Data.EnhancedTimeSpan"))


def _keeps_detail(member: etree._Element) -> bool:
    """Whether a nested object keeps its properties when properties were selected (its type
    list expanded: TNRefs are replaced before pruning)."""
    tn = member.find(_TN)
    first = tn.find(_T) if tn is not None else None
    if first is None:
        return False
    try:
        return (element_text(first) or "").strip() in _DETAIL_TYPES
    except StigscapError:   # markup inside a type name: psrpcore's read reports the object
        return False


def _duplicate_members(el: etree._Element) -> list[tuple[str, str]]:
    """Properties a CLIXML object carries more than once (in <Props> and/or <MS>), compared
    case-insensitively as PowerShell does: (property, problem)."""
    seen: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for bag_tag in ("Props", "MS"):
        for bag in el.findall(f"{{{CLIXML_NS}}}{bag_tag}"):
            for member in bag:
                name = member.get("N") if isinstance(member.tag, str) else None
                if name is None:
                    continue
                first = seen.get(name.lower())
                if first is None:
                    seen[name.lower()] = name
                elif first == name:
                    problems.append((name, f"the object carries the property {name} more than "
                                           "once; contradictory data is not compared"))
                else:
                    problems.append((first, f"the object carries both {first} and {name} "
                                            "(PowerShell property names are case-insensitive); "
                                            "contradictory data is not compared"))
    return problems


# --- JSON ---------------------------------------------------------------------------------

class _JsonObject(dict[str, Any]):
    """A JSON object that remembers the keys it had more than once (exactly or by case)."""

    __slots__ = ("duplicates",)
    duplicates: list[tuple[str, str]]


def _json_pairs(pairs: list[tuple[str, Any]]) -> _JsonObject:
    out = _JsonObject()
    seen: dict[str, str] = {}
    dups: list[tuple[str, str]] = []
    for key, value in pairs:
        low = key.lower()
        if low in seen:
            dups.append((seen[low], key))
        else:
            seen[low] = key
        out[key] = value
    out.duplicates = dups
    return out


def _dup_text(first: str, other: str) -> str:
    if first == other:
        return f"the JSON object has the key '{first}' more than once"
    return (f"the JSON object has both '{first}' and '{other}' (PowerShell property names are "
            "case-insensitive)")


def _nested_duplicate(value: Any, depth: int = 0) -> str | None:
    if depth > 64:
        return None
    items: Iterable[Any]
    if isinstance(value, _JsonObject):
        if value.duplicates:
            return _dup_text(*value.duplicates[0])
        items = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        found = _nested_duplicate(item, depth + 1)
        if found:
            return found
    return None


def _json_problems(item: dict, wanted: set[str] | None) -> list[tuple[str, str]]:
    """Duplicated keys of one exported object (top level, or inside a wanted property)."""
    problems = []
    for first, other in getattr(item, "duplicates", ()):
        problems.append((first, _dup_text(first, other) + "; contradictory data is not compared"))
    for key, value in item.items():
        if wanted is not None and key.lower() not in wanted:
            continue
        nested = _nested_duplicate(value)
        if nested:
            problems.append((key, f"inside its value: {nested}; contradictory data is not "
                                  "compared"))
    return problems


def _json_objects(path: Path, wanted: set[str] | None = None) -> ExportContent:
    text, messages = _read_text(path)
    if not text.strip():
        raise ExportError("empty file")
    try:
        data = json.loads(text, object_pairs_hook=_json_pairs)
    except RecursionError:
        raise ExportError("JSON nested too deeply") from None
    except ValueError as exc:
        raise ExportError(f"not valid JSON: {exc}; the file may be truncated") from None
    if isinstance(data, dict) and set(data) == {"value", "Count"} and isinstance(
            data["value"], list):
        data = data["value"]  # PS 5.1 wraps arrays passed with -InputObject
    if isinstance(data, dict):
        data = [data]  # ConvertTo-Json does not wrap a single object
    if not isinstance(data, list):
        raise ExportError(f"the JSON holds a bare {type(data).__name__}, not exported "
                          "objects")
    for i, item in enumerate(data):
        if isinstance(item, dict) and "FullyQualifiedErrorId" in item and (
                "CategoryInfo" in item or "Exception" in item):
            found, exc_value = lookup_property(item, "Exception")
            msg = ""
            if isinstance(exc_value, dict):
                msg = str(exc_value.get("Message", ""))
            raise ExportError("the export contains an error record instead of data: "
                              + (" ".join(msg.split()) or str(item["FullyQualifiedErrorId"])))
        if not isinstance(item, dict):
            raise ExportError(f"object #{i + 1} is a bare {type(item).__name__}, not an "
                              "exported object")
    return ExportContent("json", (ExportObject(v, [], i, _json_problems(v, wanted))
                                  for i, v in enumerate(data)), messages)


def read_export(path: Path, wanted: set[str] | None = None,
                extra: frozenset[str] = frozenset()) -> ExportContent:
    """Open one export file (format from the content, not the name). Raises ExportError.

    `wanted`: the properties (lowercase) to read, None for all. `extra`: more properties
    (lowercase) to read besides, into `ExportObject.extras`, without a problem in them
    failing the read (CLIXML; a JSON object holds every property in its value)."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):   # a FIFO or device would block or never end
            raise ExportError("cannot read: not a regular file")
        size = st.st_size
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ExportError(f"cannot read: {exc.strerror}") from None
    if size == 0:
        raise ExportError("empty file")
    codec, bom = _sniff_encoding(head[:4])
    try:
        start = head[bom:].decode(codec, errors="ignore").lstrip()
    except LookupError:  # pragma: no cover
        start = ""
    if not start:
        raise ExportError("empty file")
    if start[0] in "[{" or (path.suffix.lower() == ".json" and not start.startswith("<")):
        return _json_objects(path, wanted)
    stream = _ClixmlStream(path, wanted, extra)
    return ExportContent("clixml", iter(stream), stream.messages)


# --- matching exports to objects ------------------------------------------------------------

def collect_offline(objects: CmdletObjects, exports: ExportMap) -> list[CollectedObject]:
    """One CollectedObject per cmdlet_object, in document order. Never raises for bad data."""
    return _collect_offline(objects, exports, None)


def collect_with_system(objects: CmdletObjects, exports: ExportMap, *,
                        host_name: str | None = None, fqdn: str | None = None,
                        os_name: str | None = None, os_version: str | None = None,
                        architecture: str | None = None,
                        interfaces: Sequence[tuple[str, str, str]] = ()
                        ) -> tuple[list[CollectedObject], SystemInfo, list[str]]:
    """`collect_offline` and `system_info_from_exports` in one: the Receive connectors'
    bindings (the host's addresses) are read in the same pass over Get-ReceiveConnector's
    export as the objects that select from it, so each export is read once."""
    tap = None
    files = exports.files.get("get-receiveconnector", [])
    if not interfaces and len(files) == 1:
        tap = _BindingTap(files[0])
    collected = _collect_offline(objects, exports, tap)
    system, notes = system_info_from_exports(
        exports, host_name=host_name, fqdn=fqdn, os_name=os_name, os_version=os_version,
        architecture=architecture, interfaces=interfaces,
        binding_ips=tap.result() if tap is not None else None)
    return collected, system, notes


def _collect_offline(objects: CmdletObjects, exports: ExportMap,
                     tap: _BindingTap | None) -> list[CollectedObject]:
    results: dict[str, CollectedObject] = {}
    pending: dict[tuple[Path, ...], list[CmdletQuery]] = {}
    for query, problem in objects.all():
        if problem is not None:
            results[query.object_id] = _error(query, f"not collected: {problem}")
            continue
        files = exports.lookup(query)
        if not files:
            results[query.object_id] = CollectedObject(
                query, flag="not collected", status="not collected",
                messages=[f"no export for {cmdlet_name(query)} was given (expected a file "
                          f"named {cmdlet_name(query)}.xml or .json)"])
            continue
        if len(files) > 1:
            names = ", ".join(p.name for p in files)
            results[query.object_id] = _error(
                query, f"more than one export for {cmdlet_name(query)} ({names}); keep one")
            continue
        pending.setdefault((files[0],), []).append(query)

    for (path,), queries in pending.items():
        special = [q for q in queries if q.kind != "cmdlet"]
        queries = [q for q in queries if q.kind == "cmdlet"]
        if special:
            for query, collected in zip(special, _collect_items_file(path, special)):
                results[query.object_id] = collected
        if not queries:
            continue
        file_tap = tap if tap is not None and tap.path == path and not tap.done else None
        for query, collected in zip(queries, _collect_file(path, queries, file_tap)):
            results[query.object_id] = collected
    return [results[q.object_id] for q, _ in objects.all()]


def _collect_file(path: Path, queries: list[CmdletQuery],
                  tap: _BindingTap | None = None) -> list[CollectedObject]:
    # None: some query selects every property
    wanted = None if any(not q.select for q in queries) else \
        {s.lower() for q in queries for s in q.select}
    certificates = wanted is None or bool(wanted & _CERT_DERIVED.keys())
    if wanted is not None and certificates:
        wanted.add("rawdata")   # a certificate exported whole carries only its RawData
    memo: FieldMemo = {}
    # one collector per distinct (verb, noun, select): the same records for each such query
    leads: dict[tuple, RecordCollector] = {}
    for q in queries:
        leads.setdefault(RecordCollector.twin_key(q), RecordCollector(q, path.name, memo=memo))
    collectors = list(leads.values())
    try:
        content = read_export(path, wanted, _BindingTap.EXTRA if tap is not None else
                              frozenset())
        for obj in content.objects:
            if certificates:
                obj = _certificate_view(obj)
            for acc in collectors:
                acc.add(obj.value, obj.type_names, obj.problems)
            if tap is not None:
                tap.add(obj)
        file_messages = list(dict.fromkeys(content.messages))
    except ExportError as exc:
        return [_error(q, f"{path.name}: {exc}") for q in queries]
    except MemoryError:
        return [_error(q, f"{path.name}: too large to read in the available memory")
                for q in queries]
    if tap is not None:
        tap.done = True
    out = []
    for q in queries:
        lead = leads[RecordCollector.twin_key(q)]
        out.append(lead.result(file_messages, query=None if lead.query is q else q))
    return out


def _collect_items_file(path: Path, queries: list[CmdletQuery]) -> list[CollectedObject]:
    """Non-cmdlet objects (registry values, file rights) from one export of the Get- cmdlet
    they stand for (one object per exported key or path)."""
    try:
        content = read_export(path, None)
        objects = []
        for obj in content.objects:
            if obj.problems:
                prop, problem = obj.problems[0]
                raise ExportError(f"object #{obj.index + 1}: property {prop}: {problem}")
            objects.append(obj.value)
    except ExportError as exc:
        return [_error(q, f"{path.name}: {exc}") for q in queries]
    except MemoryError:
        return [_error(q, f"{path.name}: too large to read in the available memory")
                for q in queries]
    notes = list(dict.fromkeys(content.messages))
    out = []
    for q in queries:
        got = items_result(q, objects, path.name, offline=True, json=content.format == "json")
        got.messages[1:1] = notes
        out.append(got)
    return out


def _certificate_view(obj: ExportObject) -> ExportObject:
    """A certificate object carrying RawData (Export-Clixml of Get-ExchangeCertificate writes
    nothing else): the properties the certificate decides (Subject, Issuer, Thumbprint,
    CertificateDomains, NotAfter, …) parsed from it. A property the export also carries must
    say the same as the certificate, else it is a problem (the object is not compared); RawData
    that is not a certificate is a problem of each property it should have given."""
    value = obj.value
    props = value if type(value) is dict else properties(value)
    if not props:
        return obj
    found, raw = lookup_property(props, "RawData")
    if not found:
        return obj
    der = raw_bytes(raw)
    if der is None and raw is None:
        return obj
    problems = list(obj.problems)
    merged = dict(props)
    try:
        if der is None:
            raise CertificateError(f"RawData is not a byte array ({type(raw).__name__})")
        derived = certificate_properties(der)
    except CertificateError as exc:
        for name in _CERT_DERIVED.values():
            if not lookup_property(props, name)[0]:
                problems.append((name, f"{exc}; not compared"))
        return ExportObject(merged, obj.type_names, obj.index, problems, obj.extras,
                            obj.extras_failed)
    for name, derived_value in derived.items():
        present, given = lookup_property(props, name)
        if not present:
            merged[name] = derived_value
        elif given is not None:
            problem = disagreement(name, derived_value, given)
            if problem:
                problems.append((name, problem))
    return ExportObject(merged, obj.type_names, obj.index, problems, obj.extras,
                        obj.extras_failed)


# --- system information ---------------------------------------------------------------------

def system_info_from_exports(exports: ExportMap, *, host_name: str | None = None,
                             fqdn: str | None = None, os_name: str | None = None,
                             os_version: str | None = None, architecture: str | None = None,
                             interfaces: Sequence[tuple[str, str, str]] = (),
                             binding_ips: Sequence[str] | None = None
                             ) -> tuple[SystemInfo, list[str]]:
    """SystemInfo from options, else the Get-ExchangeServer export (Fqdn / Name).

    Without `interfaces`, the addresses the Receive connectors bind: `binding_ips` when the
    caller read them already (see `collect_with_system`), else read from the export here."""
    notes: list[str] = []
    files = exports.files.get("get-exchangeserver", [])
    if (host_name is None or fqdn is None) and len(files) == 1:
        try:
            content = read_export(files[0], {"name", "fqdn"})
            first = next(iter(content.objects), None)
        except ExportError as exc:
            first = None
            notes.append(f"{files[0].name}: {exc}")
        if first is not None:
            props = properties(first.value) or {}
            for key in ("Fqdn", "Name"):
                found, value = lookup_property(props, key)
                if found and value is not None:
                    text = normalize_value(value)[0].text
                    if key == "Fqdn" and fqdn is None and text:
                        fqdn = text
                    if key == "Name" and host_name is None and text:
                        host_name = text
    if host_name is None:
        host_name = fqdn.split(".")[0] if fqdn else "unknown"
        if not fqdn:
            notes.append("host name unknown: give --host-name or a Get-ExchangeServer export")
    if not interfaces:
        interfaces = _binding_interfaces(exports, notes, binding_ips)
    kwargs: dict[str, Any] = {}
    if os_name:
        kwargs["os_name"] = os_name
    if os_version:
        kwargs["os_version"] = os_version
    if architecture:
        kwargs["architecture"] = architecture
    primary = fqdn or host_name
    return SystemInfo(host_name=primary, fqdn=fqdn, interfaces=tuple(interfaces),
                      **kwargs), notes


class _BindingTap:
    """The Receive connectors' Bindings, read as the collection passes over their export;
    `result()` is what a read of the export for Bindings alone gives (None: the pass did not
    finish, so that read has to be made)."""

    EXTRA = frozenset({"bindings"})

    def __init__(self, path: Path):
        self.path = path
        self.done = False
        self.failed = False
        self.found: dict[str, None] = {}
        self._read: dict[int, Any] = {}   # values read already (the reader shares equal ones)

    def add(self, obj: ExportObject) -> None:
        if obj.extras_failed:
            self.failed = True
        found, value = lookup_property(obj.extras, "Bindings")
        if not found:
            found, value = lookup_property(properties(obj.value) or {}, "Bindings")
        if found and value is not None and self._read.get(id(value)) is not value:
            _binding_ips(value, self.found)
            if len(self._read) >= 4096:
                self._read.clear()
            self._read[id(value)] = value

    def result(self) -> list[str] | None:
        if not self.done:
            return None
        return [] if self.failed else list(self.found)


def _binding_ips(value: Any, found: dict[str, None]) -> None:
    for n in normalize_value(value):
        host = (n.text or "").rpartition(":")[0].strip("[]")
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            continue
        if not ip.is_unspecified:
            found.setdefault(str(ip))


def _binding_interfaces(exports: ExportMap, notes: list[str],
                        binding_ips: Sequence[str] | None = None
                        ) -> tuple[tuple[str, str, str], ...]:
    """The host's own IP addresses as its Receive connectors bind them (Bindings holds the
    local IP:port each connector listens on; 0.0.0.0 and [::] mean any address and name
    none). Exports carry no other network data; the addresses become system_info interfaces
    (no MAC known) so the ARF names the target's addresses (SCAP 1.3 RES-136)."""
    files = exports.files.get("get-receiveconnector", [])
    if len(files) != 1:
        return ()
    if binding_ips is None:
        try:
            content = read_export(files[0], {"bindings"})
            objects = list(content.objects)
        except ExportError:
            return ()   # the collection itself reports an unreadable export
        seen: dict[str, None] = {}
        for obj in objects:
            props = properties(obj.value) or {}
            ok, value = lookup_property(props, "Bindings")
            if ok and value is not None:
                _binding_ips(value, seen)
        binding_ips = list(seen)
    if binding_ips:
        notes.append(f"IP addresses from the Receive connectors' bindings ({files[0].name}): "
                     + ", ".join(binding_ips))
    return tuple(("Receive connector binding", ip, "") for ip in binding_ips)


def collect(definitions_root: etree._Element, exports: ExportMap,
            read_objects: Callable[[etree._Element], CmdletObjects] | None = None
            ) -> list[CollectedObject]:
    """Convenience: cmdlet_objects of a definitions document / data stream → collection."""
    from ..oval.objects import read_cmdlet_objects
    return collect_offline((read_objects or read_cmdlet_objects)(definitions_root), exports)


__all__ = ["ExportMap", "ExportError", "collect", "collect_offline", "collect_with_system",
           "example_exports_dir",
           "read_export", "system_info_from_exports"]
