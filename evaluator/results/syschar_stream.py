"""System characteristics read item by item: OVAL evaluations and results documents for a
file far larger than its tree would fit in memory.

A system-characteristics document of a host with 100,000 Receive connectors is ~500 MB; its
lxml tree ~10x that. `stream_syschar` parses the file in pieces (the safe parser,
`xmlio.stream_xml_file`) and hands each item of system_data, once complete, to the OVAL
evaluations (`OvalEvaluation.feed_item`), serializes it into a spool (a temporary file) in the
form(s) the results documents need, and drops it. What stays is the document without its
items (the *skeleton*: generator, system_info, collected_objects, an empty system_data holding
a marker comment) and, per item, a *ghost* (its attributes and messages). The results writers
render from the skeleton as usual; `StreamedSyschar.expand` puts the spooled items in place of
the marker. The output is byte for byte what the whole-tree path writes (tests compare both on
every system-characteristics document of the test suite):

- FORM_INPLACE: the syschar serialized on its own (`results_text`, the ARF): each item as
  `tostring(item)` would write it inside the document — lxml's copies of the ancestors'
  namespace declarations dropped from its start tag;
- FORM_COPIED: the syschar deep-copied into an oval_results tree (`build_results_document`:
  `oval-analyse`, `eval --oval-results`). The copy renames the namespace declarations the
  results root also makes (the syschar's default namespace becomes `oval-sc:`); an item that
  uses none of those is written as in place, any other is copied into an empty copy of the
  document element placed where the whole copy goes (`oval.results.copy_target`), so lxml
  gives its namespaces the same prefixes as in the whole copy.

An item's tail (the text after it) is written when the next item ends: the parser may not have
read it yet when the item's own end is reported.

An item whose evaluation waits for items still to come (a test comparing with an
object_component's variable, whose object's items come later in system_data) is also
serialized into a spool of its own; once the document has ended, that spool is parsed and its
items fed again (`OvalEvaluation.feed_deferred`), so the document is read once whatever the
order of its items.

Whatever the item-by-item path cannot reproduce exactly raises `NotStreamable` before
anything is written, and the caller parses the file as a whole: a namespace declared below the
document element, no collected_objects before system_data, two items with one id, a message
that is not plain text, a document element without text children (the results writer's
pretty-printing would then indent the copy), content the engine cannot stream (masked
entities), or a file the streaming reader refuses (the whole-tree reader then reports
it in its usual words).
"""

from __future__ import annotations

import copy
import ctypes
import re
import secrets
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

from lxml import etree

from stigscap.schemas.errors import StigscapError
from stigscap.schemas.namespaces import OVAL_DEF, OVAL_SC
from stigscap.schemas.xmlio import SAFE_PARSER_OPTIONS, element_text, stream_xml_file

from ..oval.engine import CompiledDefinitions, OvalEvaluation, item_name
from ..oval.results import copy_target

FORM_INPLACE = "inplace"
FORM_COPIED = "copied"

_SC = f"{{{OVAL_SC}}}"
SC_ROOT = _SC + "oval_system_characteristics"
_COLLECTED = _SC + "collected_objects"
_SYSTEM_DATA = _SC + "system_data"
_SPOOL_IN_MEMORY = 32 << 20     # a spool larger than this goes to a temporary file
_COPY_CHUNK = 1 << 20
_NS_DECLS = re.compile(rb'(?: xmlns(?::[^\s=]+)?="[^"]*")*')


class NotStreamable(Exception):
    """This document (or content) needs the whole tree; the message says why."""


def item_tags(compiled: Iterable[CompiledDefinitions]) -> list[str]:
    """The item element names the objects of these definitions are collected as
    (`win-def:cmdlet_object` → `win-sc:cmdlet_item`): the items the parser reports one by one
    (any other element in system_data is handled when the next one ends)."""
    tags: dict[str, None] = {}
    for c in compiled:
        objects = c.root.find(f"{{{OVAL_DEF}}}objects")
        for obj in objects if objects is not None else ():
            if not isinstance(obj.tag, str):
                continue
            q = etree.QName(obj)
            if q.namespace and q.localname.endswith("_object"):
                ns = q.namespace.replace("oval-definitions-5", "oval-system-characteristics-5")
                tags.setdefault(f"{{{ns}}}{item_name(q.localname)}")
    return list(tags)


def _qname(el: etree._Element) -> str:
    local = etree.QName(el).localname
    return f"{el.prefix}:{local}" if el.prefix else local


def _text_bytes(text: str | None) -> bytes:
    """Text content as libxml2 serializes it (UTF-8)."""
    if not text:
        return b""
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\r", "&#13;"))
    return text.encode("utf-8")


def _ghost(item: etree._Element) -> etree._Element:
    """What an evaluation keeps of a streamed item: tag, attributes, message children."""
    ghost = etree.Element(item.tag, dict(item.attrib))
    for child in item.iterchildren("{*}message"):   # (any namespace, or none)
        try:
            element_text(child)   # a message the readers refuse: the whole-tree path says so
        except StigscapError as exc:
            raise NotStreamable(f"item message: {exc.message}") from None
        m = copy.deepcopy(child)
        m.tail = None
        ghost.append(m)
    return ghost


@dataclass
class StreamedSyschar:
    """A system-characteristics document read item by item (see the module docstring)."""

    path: str
    root: etree._Element                       # the skeleton
    item_tags: list[str]
    ghosts: dict[str, etree._Element] = field(default_factory=dict)
    marker: bytes | None = None                # the serialized marker comment, if any
    spools: dict[str, IO[bytes]] = field(default_factory=dict)
    huge_tree: bool = True

    def expand(self, data: bytes, form: str) -> Iterator[bytes]:
        """`data` (rendered from the skeleton) with the spooled items of `form` in place of
        the marker."""
        if self.marker is None or self.marker not in data:
            yield data
            return
        spool = self.spools[form]
        parts = data.split(self.marker)
        yield parts[0]
        for part in parts[1:]:
            spool.seek(0)
            while chunk := spool.read(_COPY_CHUNK):
                yield chunk
            yield part

    def close(self) -> None:
        for spool in self.spools.values():
            spool.close()
        self.spools.clear()

    def load_items(self, ids: Sequence[str]) -> dict[str, etree._Element]:
        """The items with these ids, parsed again from the file (for evidence an evaluation
        did not work out while the item went by)."""
        wanted = set(ids)
        found: dict[str, etree._Element] = {}
        sd: etree._Element | None = None
        for event, el in stream_xml_file(self.path, events=("start", "end"),
                                         tag=[SC_ROOT, _SYSTEM_DATA, *self.item_tags],
                                         huge_tree=self.huge_tree):
            if event == "start":
                if el.tag == _SYSTEM_DATA and sd is None and el.getparent() is not None \
                        and el.getparent().getparent() is None:
                    sd = el
                continue
            if sd is None or (el is not sd and el.getparent() is not sd):
                continue
            for child in list(sd):    # complete: everything before `el` (all at the end)
                if child is el:
                    break
                if isinstance(child.tag, str) and child.get("id", "") in wanted:
                    found[child.get("id", "")] = child
                elif isinstance(child.tag, str):
                    child.clear()
                sd.remove(child)
            if el is not sd:
                if el.get("id", "") in wanted:
                    found[el.get("id", "")] = el
                    sd.remove(el)
                else:
                    el.clear(keep_tail=True)
        return found


Starter = Callable[[etree._Element], Sequence[OvalEvaluation]]


def stream_syschar(path: str, start: Starter, *, tags: Sequence[str],
                   forms: Collection[str] = (), huge_tree: bool = True,
                   chunk_size: int = 1 << 20) -> tuple[StreamedSyschar, list[OvalEvaluation]]:
    """Read the system characteristics at `path` item by item.

    `start(root)` is called once collected_objects is complete (the root then holds
    generator, system_info and collected_objects) and returns the evaluations to feed
    (`CompiledDefinitions.start_stream`); they are finished here (`finish_stream`) and come
    back with the streamed document, whose spools hold the items serialized in `forms`.
    Raises NotStreamable (nothing written, the evaluations dropped) when the document needs
    the whole tree; errors of `start` propagate as they are."""
    s = _Streamer(path, start, tags, forms, huge_tree, chunk_size)
    try:
        s.run()
    except BaseException:
        s.out.close()
        if s.deferred is not None:
            s.deferred.close()
        raise
    return s.out, s.evaluations or []


class _Streamer:
    def __init__(self, path: str, start: Starter, tags: Sequence[str],
                 forms: Collection[str], huge_tree: bool, chunk_size: int = 1 << 20) -> None:
        unknown = set(forms) - {FORM_INPLACE, FORM_COPIED}
        if unknown:
            raise ValueError(f"unknown forms {sorted(unknown)}")
        self.path = path
        self.huge_tree = huge_tree
        self.chunk_size = chunk_size
        self.start = start
        self.tags = list(tags)
        self.forms = set(forms)
        self.decls: list[tuple[str | None, str]] = []
        self.root: etree._Element | None = None
        self.sd: etree._Element | None = None
        self.sd_text_done = False
        self.evaluations: list[OvalEvaluation] | None = None
        self.pending: etree._Element | None = None   # written, emptied, its tail to come
        self.wrote = False
        self.shell_sd: etree._Element | None = None
        self.shell_end = b""
        self.copy_differs: re.Pattern[bytes] | None = None
        self.out = StreamedSyschar(path, etree.Element("placeholder"), self.tags,
                                   huge_tree=huge_tree)
        # the items some evaluation deferred (`feed_item` True), serialized one after another
        self.deferred: IO[bytes] | None = None
        for form in sorted(self.forms):
            self.out.spools[form] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)

    # ------------------------------------------------------------------ driving
    def run(self) -> None:
        events = stream_xml_file(self.path, events=("start-ns", "start", "end"),
                                 tag=[SC_ROOT, _COLLECTED, _SYSTEM_DATA, *self.tags],
                                 huge_tree=self.huge_tree, chunk_size=self.chunk_size)
        try:
            while True:
                try:
                    event, el = next(events)
                except StopIteration:
                    break
                except StigscapError as exc:   # the whole-tree reader reports it in its words
                    raise NotStreamable(exc.message) from None
                if event == "start-ns":
                    self._namespace(*el)
                elif event == "start":
                    self._start(el)
                else:
                    self._end(el)
        finally:
            events.close()
        self._finish()

    def _namespace(self, prefix: str, uri: str) -> None:
        if self.root is not None:
            raise NotStreamable("a namespace is declared below the document element")
        if not uri or any(c in uri for c in "\"'&<>"):
            raise NotStreamable(f"namespace name {uri!r}")
        self.decls.append((prefix or None, uri))

    def _start(self, el: etree._Element) -> None:
        if el.tag == SC_ROOT and self.root is None and el.getparent() is None:
            self.root = el
        elif el.tag == _SYSTEM_DATA and self.root is not None and el.getparent() is self.root:
            if self.evaluations is None:
                raise NotStreamable("system_data comes before collected_objects (or without)")
            if self.sd is not None:
                raise NotStreamable("two system_data sections")
            self.sd = el
            if FORM_COPIED in self.forms:
                self._make_shell(el)

    def _end(self, el: etree._Element) -> None:
        root = self.root
        if root is None:
            return
        parent = el.getparent()
        if el.tag == _COLLECTED and parent is root:
            if self.evaluations is not None or self.sd is not None:
                raise NotStreamable("collected_objects after system_data, or twice")
            self.evaluations = list(self.start(root))
        elif el is self.sd:
            self._flush(None)
        elif self.sd is not None and parent is self.sd:
            self._flush(el)

    # ------------------------------------------------------------------ items
    def _flush(self, upto: etree._Element | None) -> None:
        """Everything in system_data before `upto` (all of it when None) is complete: write
        it out; then `upto` itself, whose tail may still be coming."""
        sd = self.sd
        assert sd is not None
        if not self.sd_text_done:
            self._write_text(sd.text)
            self.sd_text_done = True
        for child in list(sd):
            if child is upto:
                break
            if child is self.pending:
                self._write_text(child.tail)
                self.pending = None
                sd.remove(child)
                continue
            self._item(child, complete=True)
        if upto is not None:
            self._item(upto, complete=False)

    def _item(self, c: etree._Element, *, complete: bool) -> None:
        sd = self.sd
        assert sd is not None and self.evaluations is not None
        self.wrote = True
        if not isinstance(c.tag, str):    # a comment or processing instruction
            text = etree.tostring(c, encoding="UTF-8", with_tail=False)
            for spool in self.out.spools.values():
                spool.write(text)
            self._done(c, complete)
            return
        item_id = c.get("id", "")
        if item_id in self.out.ghosts:
            raise NotStreamable(f"two items with id {item_id!r}")
        deferred = False
        try:
            for ev in self.evaluations:
                if ev.feed_item(c):
                    deferred = True
        except StigscapError as exc:   # e.g. a value that is not text: as the whole tree says
            raise NotStreamable(exc.message) from None
        self.out.ghosts[item_id] = _ghost(c)
        text = etree.tostring(c, encoding="UTF-8", with_tail=False)
        if deferred:      # as serialized on its own: with the namespaces it uses declared
            if self.deferred is None:
                self.deferred = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)
            self.deferred.write(text)
        head = b"<" + _qname(c).encode("utf-8")
        if not text.startswith(head):
            raise NotStreamable("unexpected serialization of an item")
        m = _NS_DECLS.match(text, len(head))
        assert m is not None   # the pattern matches the empty string
        if text.startswith(b" xmlns", m.end()):
            raise NotStreamable("unexpected namespace declaration in an item")
        body = memoryview(text)[m.end():]
        if FORM_INPLACE in self.forms:
            spool = self.out.spools[FORM_INPLACE]
            spool.write(head)
            spool.write(body)
        if FORM_COPIED in self.forms:
            spool = self.out.spools[FORM_COPIED]
            if self.copy_differs is None or not self.copy_differs.search(text):
                spool.write(head)      # the copy gives every prefix it uses the same name
                spool.write(body)
            else:
                spool.write(self._copied(c))
        del text, body
        self._done(c, complete)

    def _copied(self, c: etree._Element) -> bytes:
        """The item as the copy in an oval_results tree has it, made so: a copy put into the
        shell (moving the item itself out of the parsed document costs far more)."""
        shell = self.shell_sd
        assert shell is not None
        item = copy.deepcopy(c)
        item.tail = None
        shell.append(item)
        text = etree.tostring(shell, encoding="UTF-8")
        shell.remove(item)
        start = text.find(b">") + 1
        if start <= 0 or not text.endswith(self.shell_end):
            raise NotStreamable("unexpected serialization of a copied item")
        return text[start:len(text) - len(self.shell_end)]

    def _done(self, c: etree._Element, complete: bool) -> None:
        """The child `c` of system_data is written: its tail now, or when it is complete."""
        sd = self.sd
        assert sd is not None
        if isinstance(c.tag, str):
            c.clear(keep_tail=True)     # its values go (in place: moving them out is slow)
        if complete:
            self._write_text(c.tail)
            sd.remove(c)
        else:
            self.pending = c            # its tail keeps arriving

    def _write_text(self, text: str | None) -> None:
        data = _text_bytes(text)
        if data:
            self.wrote = True
            for spool in self.out.spools.values():
                spool.write(data)

    def _make_shell(self, sd: etree._Element) -> None:
        """How the deep copy into an oval_results tree names the namespaces: a declaration of
        the document element whose namespace the results root declares is dropped and its
        elements take the results' prefix (the default namespace of the system
        characteristics becomes `oval-sc:`); the others are kept. An item using none of the
        renamed declarations is copied as it is written in place."""
        root = self.root
        assert root is not None
        target = copy_target()
        results_prefix = {uri: prefix for prefix, uri in target.nsmap.items()}
        seen: set[str] = set()
        renamed: list[str | None] = []
        for p, u in self.decls:
            if u in seen and u not in results_prefix:
                # the whole copy keeps both prefixes; a copy item by item would take the first
                raise NotStreamable(f"namespace {u} is declared twice")
            seen.add(u)
            if u in results_prefix and results_prefix[u] != p:
                renamed.append(p)
        alternatives = [rb"<[^\s/>!?:]+[\s/>]" if p is None else
                        rb"[<\s]" + re.escape(p.encode("utf-8")) + rb":" for p in renamed]
        self.copy_differs = re.compile(b"|".join(alternatives)) if alternatives else None
        decls = "".join(f' xmlns:{p}="{u}"' if p else f' xmlns="{u}"' for p, u in self.decls)
        source = etree.fromstring(
            f"<{_qname(root)}{decls}><{_qname(sd)}/></{_qname(root)}>".encode("utf-8"))
        target.append(copy.deepcopy(source))
        self.shell_sd = target[0][0]
        self.shell_end = f"</{_qname(self.shell_sd)}>".encode("utf-8")

    # ------------------------------------------------------------------ end
    def _finish(self) -> None:
        root = self.root
        if root is None:
            raise NotStreamable("not an OVAL system characteristics document")
        if self.evaluations is None:
            raise NotStreamable("no collected_objects")
        if FORM_COPIED in self.forms and root.text is None and \
                all(c.tail is None for c in root):
            raise NotStreamable("the document element has no text between its children")
        sd = self.sd
        if sd is not None:
            if self.pending is not None:   # cannot happen: system_data's end flushes all
                raise NotStreamable("an item was left unwritten")
            sd.text = None
            if self.wrote:
                token = f"stigscap-items-{secrets.token_hex(16)}"
                sd.append(etree.Comment(token))
                self.out.marker = f"<!--{token}-->".encode("ascii")
        self.out.root = root
        self._feed_deferred()
        loader = self.out.load_items
        for ev in self.evaluations:
            ev.loader = loader
            ev.finish_stream(self.out.ghosts)

    def _feed_deferred(self) -> None:
        """The deferred items, parsed again from their spool (written here, so read with the
        safe parser but not checked as input), fed to the evaluations one by one."""
        spool = self.deferred
        if spool is None:
            return
        self.deferred = None
        assert self.evaluations is not None
        try:
            parser = etree.XMLPullParser(events=("start", "end"), huge_tree=self.huge_tree,
                                         **SAFE_PARSER_OPTIONS)
            parser.feed(b"<deferred>")
            wrapper: etree._Element | None = None
            spool.seek(0)
            while True:
                chunk = spool.read(_COPY_CHUNK)
                if not chunk:
                    parser.feed(b"</deferred>")
                for event, el in parser.read_events():
                    if wrapper is None:
                        wrapper = el
                    parent = el.getparent()
                    if event != "end" or parent is None or parent is not wrapper:
                        continue
                    for ev in self.evaluations:
                        ev.feed_deferred(el)
                    el.clear()
                    parent.remove(el)
                if not chunk:
                    break
                parser.feed(chunk)
            parser.close()
        finally:
            spool.close()


def release_memory() -> None:
    """Give the heap the streamed items' trees used back to the system (glibc keeps freed
    memory for reuse by malloc, but Python's small objects come from arenas of their own, so
    without this the peak of the largest item stays in the process' resident size)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):   # not glibc: nothing to do
        pass


def analyse_file(compiled: CompiledDefinitions, path: str,
                 variables: Mapping[str, Sequence[str] | str], *,
                 whole: Callable[[], etree._Element], forms: Collection[str] = (),
                 explain: bool = False, huge_tree: bool = False
                 ) -> tuple[OvalEvaluation, StreamedSyschar | None]:
    """`compiled` against the system characteristics at `path`, item by item when it can be
    (the streamed document comes back: expand what is written with it, then close it), else
    against the whole tree `whole()` parses (and checks)."""
    if compiled.stream_problem() is None:
        try:
            streamed, (ev,) = stream_syschar(
                path, lambda root: [compiled.start_stream(root, variables, explain=explain)],
                tags=item_tags([compiled]), forms=forms, huge_tree=huge_tree)
        except NotStreamable:
            pass
        else:
            release_memory()
            return ev, streamed
    return compiled.evaluate(whole(), variables), None
