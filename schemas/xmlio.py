"""Safe XML reading and atomic file writing, shared by every stage.

Reading: lxml with entity resolution, DTD loading and network access off. A document that
carries a DOCTYPE at all is refused: SCAP documents never need one, and refusing it closes
entity-expansion and external-entity tricks before they start. The refusal happens *before*
libxml2 sees the document (`check_prolog`): libxml2 reads external parameter entities of an
internal subset while it parses, whatever the parser options, so a DOCTYPE naming a FIFO,
/dev/zero or a URL must never reach it. The prolog is read in the document's own encoding;
encodings in which markup could hide from a byte scan (UTF-7, UTF-32, EBCDIC, …) are refused.
Input files must be regular files (`read_input_bytes`): a FIFO or device is refused before it
is opened for a blocking read.

Text of elements: `element_text` is the one reader of an element's text. It returns what
Canonical XML without comments (the form every signature here covers) keeps: the text around
comments joined; an element that may hold only text but holds a processing instruction or a
child element is refused. `el.text` alone would stop at the first comment, so a comment
inserted into a signed value would change what the engines read while the signature stays
valid.

Writing: bytes go to a temporary file beside the target, fsync, then rename; a failure leaves
no partial output file behind. A process killed mid-write (SIGKILL, power loss) cannot clean up:
its temporary file is named `.<target>.stigscap-tmp-<pid>-<random>` so users recognise it, and
the first write of a later process into that directory removes those whose writer is gone.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import threading
from pathlib import Path
from collections.abc import Generator, Iterable, Sequence
from typing import Any, BinaryIO, Literal, NoReturn, TypedDict

from lxml import etree

from .errors import StigscapError

DTD_REFUSED = "document type declarations (DTD) are not allowed"

class _SafeParserOptions(TypedDict):
    resolve_entities: bool
    no_network: bool
    load_dtd: bool
    dtd_validation: bool
    collect_ids: bool


# lxml parser settings every reader of untrusted XML uses (iterparse takes the same keywords)
SAFE_PARSER_OPTIONS = _SafeParserOptions(resolve_entities=False, no_network=True,
                                         load_dtd=False, dtd_validation=False,
                                         collect_ids=False)


def safe_parser(*, remove_blank_text: bool = False, huge_tree: bool = False) -> etree.XMLParser:
    return etree.XMLParser(remove_blank_text=remove_blank_text, huge_tree=huge_tree,
                           **SAFE_PARSER_OPTIONS)


# ---------------------------------------------------------------------------------- prolog

_XML_SPACE = " \t\r\n"
_XML_SPACE_CHARS = (" ", "\t", "\r", "\n")
# Declared encodings in which every byte below 0x80 is that ASCII character and no multi-byte
# sequence contains one: a scan of the bytes for markup sees what libxml2 sees. UTF-16 is
# allowed when the bytes are UTF-16 (BOM or "<?" in UTF-16); libxml2 then ignores the label.
_ASCII_SAFE_ENCODING = re.compile(
    r"(?:UTF-?8|US-ASCII|ASCII|ISO[-_]?646-US|ISO[-_]?8859-(?:[1-9]|1[0-6])|LATIN-?1|"
    r"(?:WINDOWS|CP)-?125[0-8])", re.IGNORECASE)
_UTF16_LABEL = re.compile(r"(?:UTF-?16(?:LE|BE)?|UCS-?2|ISO-10646-UCS-2)", re.IGNORECASE)
_ENCODING_DECL = re.compile(r"encoding[ \t\r\n]*=[ \t\r\n]*(?:\"([^\"]*)\"|'([^']*)')")


class PrologCheck:
    """Refuse a DOCTYPE before the parser sees it: feed the decoded start of a document until
    `feed` returns True (the root element's start tag is reached) — or it raises.

    Only XML whitespace, comments and processing instructions (the XML declaration among
    them) may come before the root element; any other `<!` there is a DOCTYPE (or not XML)
    and is refused. Anything else ends the check: it is not well-formed and the parser stops
    at it without reading on.
    """

    def __init__(self, source: str, *, utf16_label_ok: bool = False):
        self.source = source
        self.utf16_label_ok = utf16_label_ok   # the parser ignores a label (BOM / UTF-16 bytes)
        self.done = False
        self._buf = ""
        self._pos = 0       # how far _buf is checked
        self._start = True
        self._search = 0    # where to go on looking for the end of a comment / PI
        self._line = 1

    def _refuse(self, message: str) -> NoReturn:
        self._line += self._buf.count("\n", 0, self._pos)
        raise StigscapError(message, file=self.source, line=self._line)

    def _check_labels(self, decl: str) -> None:
        """Every encoding the XML declaration names must be one a byte scan cannot be fooled
        by (libxml2 switches to the declared encoding right after reading it)."""
        for m in re.finditer("encoding", decl):
            got = _ENCODING_DECL.match(decl, m.start())
            if got is None:
                self._refuse("unreadable encoding declaration")
            label = got.group(1) if got.group(1) is not None else got.group(2)
            if _ASCII_SAFE_ENCODING.fullmatch(label):
                continue
            if _UTF16_LABEL.fullmatch(label):
                if self.utf16_label_ok:
                    continue
                self._refuse(f"character encoding {label!r} does not match the document's "
                             "bytes (not UTF-16)")
            self._refuse(f"unsupported character encoding {label!r}; use UTF-8 or UTF-16")

    def feed(self, text: str, final: bool = False) -> bool:
        if self.done:
            return True
        if self._pos:   # drop what is checked (once per chunk, not once per comment)
            self._line += self._buf.count("\n", 0, self._pos)
            self._search -= self._pos
            self._buf = self._buf[self._pos:]
            self._pos = 0
        self._buf += text
        b, n = self._buf, len(self._buf)
        while True:
            i = self._pos
            if self._start:
                if b.startswith("\ufeff"):
                    i += 1
                if n - i < 6 and not final:
                    return False
                if b.startswith("<?xml", i) and b[i + 5:i + 6] in _XML_SPACE_CHARS:
                    end = b.find("?>", i + 5)
                    if end < 0:
                        if final:
                            break
                        return False
                    self._check_labels(b[i:end])
                    i = end + 2
                self._start = False
                self._pos = i
                continue
            while i < n and b[i] in _XML_SPACE:
                i += 1
            self._pos = i
            if i >= n:
                if final:
                    break
                return False
            if b[i] != "<":
                break              # not well-formed: the parser stops here
            if n - i < 4 and not final:
                return False
            if b.startswith("<?", i):
                end = b.find("?>", max(i + 2, self._search))
                if end < 0:
                    if final:
                        break
                    self._search = max(i + 2, n - 1)
                    return False
                self._pos = end + 2
            elif b.startswith("<!--", i):
                end = b.find("-->", max(i + 4, self._search))
                if end < 0:
                    if final:
                        break
                    self._search = max(i + 4, n - 2)
                    return False
                self._pos = end + 3
            elif b.startswith("<!", i):
                self._refuse(DTD_REFUSED)
            else:
                break              # the root element
        self.done = True
        self._buf = ""
        return True


def _byte_encoding(head: bytes, source: str) -> tuple[str, int, bool]:
    """(Python codec, BOM length, label ignored) for how libxml2 reads the prolog's bytes.

    With a BOM, or "<?" in UTF-16, libxml2 keeps that encoding whatever the declaration says;
    otherwise the bytes are read as ASCII up to the declaration, which then decides."""
    def refuse(what: str) -> None:
        raise StigscapError(f"unsupported character encoding ({what}); use UTF-8 or UTF-16",
                            file=source, line=1)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3, True
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        refuse("UTF-32")
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2, True
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2, True
    if head[:4] in (b"\x00\x00\x00<", b"<\x00\x00\x00", b"\x00\x00<\x00", b"\x00<\x00\x00"):
        refuse("UCS-4")
    if head[:4] == b"\x00<\x00?":
        return "utf-16-be", 0, True
    if head[:4] == b"<\x00?\x00":
        return "utf-16-le", 0, True
    if head[:4] == b"\x4c\x6f\xa7\x94":
        refuse("EBCDIC")
    # ASCII-compatible: markup bytes are ASCII whatever the (checked) declared encoding
    return "latin-1", 0, False


# The usual start of a document (an optional UTF-8 BOM, an optional plain XML declaration
# naming UTF-8 or nothing, blanks, then the root element's start tag): nothing else to check.
_PLAIN_START = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:<\?xml[ \t\r\n]+version=(?:\"1\.[0-9]+\"|'1\.[0-9]+')"
    rb"(?:[ \t\r\n]+encoding=(?:\"(?i:utf-8)\"|'(?i:utf-8)'))?"
    rb"(?:[ \t\r\n]+standalone=(?:\"(?:yes|no)\"|'(?:yes|no)'))?[ \t\r\n]*\?>)?"
    rb"[ \t\r\n]*<[A-Za-z_]")


def check_prolog(data: bytes | str, source: str = "<input>") -> None:
    """Raise a one-line StigscapError when the document has a DOCTYPE (or an encoding that
    could hide one), reading no further than the root element's start tag."""
    if isinstance(data, (bytes, bytearray)) and _PLAIN_START.match(data):
        return
    if isinstance(data, str):
        PrologCheck(source, utf16_label_ok=True).feed(data, final=True)
        return
    codec, bom, label_ignored = _byte_encoding(bytes(data[:4]), source)
    check = PrologCheck(source, utf16_label_ok=label_ignored)
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    step = 4096   # the prolog is usually short: start small, double up to 1 MiB
    pos, n = bom, len(data)
    while True:
        chunk = data[pos:pos + step]
        pos += len(chunk)
        final = pos >= n
        if check.feed(decoder.decode(chunk, final=final), final=final):
            return
        step = min(step * 2, 1 << 20)


# ---------------------------------------------------------------------------------- files

def read_input_bytes(path: str | os.PathLike, what: str = "file") -> bytes:
    """The bytes of a regular file. A FIFO, device, socket or directory is refused before it
    is opened for reading (reading one could block forever or never end)."""
    with open_input_file(path, what) as fh:
        try:
            return fh.read()
        except OSError as exc:
            raise StigscapError(f"cannot read {what}: {exc.strerror}", file=str(path)) from None


def open_input_file(path: str | os.PathLike, what: str = "file") -> BinaryIO:
    """A regular file opened for reading (binary); refused like `read_input_bytes`."""
    p = str(path)
    try:
        st = os.stat(p)
        if stat.S_ISDIR(st.st_mode):
            raise StigscapError("is a directory, expected a file", file=p)
        if not stat.S_ISREG(st.st_mode):
            raise StigscapError(f"cannot read {what}: not a regular file "
                                f"({_file_kind(st.st_mode)})", file=p)
        # O_NONBLOCK: should the path have become a FIFO since, opening it does not wait
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise StigscapError(f"cannot read {what}: {exc.strerror}", file=p) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise StigscapError(f"cannot read {what}: not a regular file "
                                f"({_file_kind(st.st_mode)})", file=p)
        fh = os.fdopen(fd, "rb", closefd=True)
        fd = -1
        return fh
    except OSError as exc:
        raise StigscapError(f"cannot read {what}: {exc.strerror}", file=p) from None
    finally:
        if fd >= 0:
            os.close(fd)


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"


# ------------------------------------------------------------------ libxml2's entity loader
#
# libxml2 has one external entity loader per process. lxml points it at its own hook for each
# parse and each schema compile, and puts back the one it found when that ends. A parse that
# begins before a schema compile and ends during it therefore puts back libxml2's own loader
# under the compile: the compile's remaining imports bypass its resolver
# (`catalog._LocalOnlyResolver`), and the OVAL core schemas come in whole, with every
# extension schema. The verdicts are the same; the work is three times as much (measured,
# ssg-eks, the launcher's compile beside its parse: 25-28 ms CPU and 1,885 page faults when
# the resolver held, 69-76 ms and 4,660 when it did not, in about half the runs). A parse
# that begins once the compile has lxml's hook in place finds that hook and puts it back,
# which is harmless. So a compile holds a `LoaderWindow` open from before it starts until its
# first import (the hook is in place) or its end, and a parse begins only when none is open.

LOADER_WINDOW_WAIT = 2.0   # seconds a parse waits at most: a late window costs speed only
_windows = 0
_windows_changed = threading.Condition()


class LoaderWindow:
    """An open window: parses through this module wait until it is closed."""

    def __init__(self) -> None:
        global _windows
        self._open, self._pid = True, os.getpid()
        with _windows_changed:
            _windows += 1

    def close(self) -> None:
        """Close the window (again: nothing happens)."""
        global _windows
        with _windows_changed:
            if self._open:
                self._open = False
                if self._pid == os.getpid():   # a forked child never counted it
                    _windows -= 1
                    _windows_changed.notify_all()

    @property
    def closed(self) -> bool:
        return not self._open


def _no_windows_after_fork() -> None:
    """A forked child has none of the threads whose windows were open (the fleet's workers)."""
    global _windows, _windows_changed
    _windows, _windows_changed = 0, threading.Condition()


os.register_at_fork(after_in_child=_no_windows_after_fork)


def wait_for_loader_windows() -> None:
    """Wait until no `LoaderWindow` is open (at most LOADER_WINDOW_WAIT seconds)."""
    if _windows:   # none open, the usual case: no lock taken
        with _windows_changed:
            _windows_changed.wait_for(lambda: not _windows, LOADER_WINDOW_WAIT)


# ---------------------------------------------------------------------------------- parsing

def parse_xml_bytes(data: bytes, source: str = "<input>", *, huge_tree: bool = False,
                    remove_blank_text: bool = False) -> etree._ElementTree:
    """Parse bytes with the safe parser; every failure is a one-line StigscapError.

    The document's URL is `source`, so `element_text` can name the file of a refused value."""
    if not data or data.isspace():  # no copy of a large buffer (strip() would make one)
        raise StigscapError("empty file, expected an XML document", file=source)
    check_prolog(data, source)
    parser = safe_parser(huge_tree=huge_tree, remove_blank_text=remove_blank_text)
    wait_for_loader_windows()
    try:
        root = etree.fromstring(data, parser, base_url=source)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if getattr(exc, "lineno", None) else None
        msg = exc.msg if getattr(exc, "msg", None) else str(exc)
        raise StigscapError(f"not well-formed XML: {msg}", file=source, line=line) from None
    except ValueError as exc:  # e.g. unicode strings with encoding declarations
        raise StigscapError(f"not readable as XML: {exc}", file=source) from None
    if root is None:
        raise StigscapError("no XML root element", file=source)
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:  # second line of defence
        raise StigscapError(DTD_REFUSED, file=source, line=1)
    return tree


def _syntax_error(exc: etree.XMLSyntaxError, source: str) -> StigscapError:
    line = exc.lineno if getattr(exc, "lineno", None) else None
    msg = exc.msg if getattr(exc, "msg", None) else str(exc)
    return StigscapError(f"not well-formed XML: {msg}", file=source, line=line)


ParseEvent = Literal["start", "end", "start-ns", "end-ns", "comment", "pi"]


def stream_xml_file(path: str | os.PathLike, *, events: Sequence[ParseEvent] = ("end",),
                    tag: str | Sequence[str] | None = None, huge_tree: bool = False,
                    chunk_size: int = 1 << 20) -> Generator[tuple[str, Any], None, None]:
    """Parse a file piece by piece with the safe parser, yielding lxml's (event, element)
    pairs (XMLPullParser: `events`, `tag`) as they come, so a caller can drop what it has
    handled and never hold the whole document (or its bytes). The file is refused as
    `parse_xml_file` refuses it (not a regular file, empty, a DOCTYPE: checked before the
    parser sees the prolog, not well-formed), with a one-line StigscapError; the wording of
    a syntax error may differ from `parse_xml_file`'s (the parser reads in pieces)."""
    source = str(Path(path))
    with open_input_file(path) as fh:
        def read() -> bytes:
            try:
                return fh.read(chunk_size)
            except OSError as exc:
                raise StigscapError(f"cannot read file: {exc.strerror}", file=source) from None

        pending = [read()]
        while pending[-1] and pending[-1].isspace():   # nothing but blanks so far
            pending.append(read())
        if not pending[-1]:
            raise StigscapError("empty file, expected an XML document", file=source)
        head = b"".join(pending)
        pending = [head]
        if not _PLAIN_START.match(head):
            # the prolog, checked in the document's encoding, before libxml2 reads a byte
            codec, bom, label_ignored = _byte_encoding(head[:4], source)
            check = PrologCheck(source, utf16_label_ok=label_ignored)
            decoder = codecs.getincrementaldecoder(codec)(errors="replace")
            done = check.feed(decoder.decode(head[bom:]))
            while not done:
                more = read()
                done = check.feed(decoder.decode(more, final=not more), final=not more)
                pending.append(more)
        parser = etree.XMLPullParser(events=events, tag=tag, huge_tree=huge_tree,
                                     base_url=source, **SAFE_PARSER_OPTIONS)
        checked = False
        try:
            while pending or (pending := [read()])[0]:
                wait_for_loader_windows()
                for chunk in pending:
                    parser.feed(chunk)
                pending = []
                for event, el in parser.read_events():
                    if not checked and event != "start-ns" and event != "end-ns":
                        checked = True
                        docinfo = el.getroottree().docinfo
                        if docinfo.doctype or docinfo.internalDTD is not None:
                            raise StigscapError(DTD_REFUSED, file=source, line=1)
                    yield event, el
            root = parser.close()
            for event, el in parser.read_events():
                yield event, el
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc, source) from None
        if root is None:
            raise StigscapError("no XML root element", file=source)


def parse_xml_file(path: str | os.PathLike, *, huge_tree: bool = False,
                   remove_blank_text: bool = False) -> etree._ElementTree:
    data = read_input_bytes(path)
    return parse_xml_bytes(data, str(Path(path)), huge_tree=huge_tree,
                           remove_blank_text=remove_blank_text)


TMP_MARK = ".stigscap-tmp-"
_swept: set[str] = set()
_swept_lock = threading.Lock()

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, under another user
        return True
    return True


def remove_stale_temp_files(directory: str | os.PathLike[str]) -> list[str]:
    """Remove atomic_write's temporary files in `directory` left by writers that are gone: the
    pid in the name is not running, and no process holds the file's lock (a live writer holds
    it from creation to rename, whatever its host or pid namespace). Returns the names removed."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for e in entries:
        name = e.name
        at = name.find(TMP_MARK)
        if not name.startswith(".") or at < 0:
            continue
        pid = name[at + len(TMP_MARK):].split("-", 1)[0]
        if not pid.isdigit() or _pid_alive(int(pid)):
            continue
        try:
            if not e.is_file(follow_symlinks=False):
                continue
            fd = os.open(e.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if not os.path.isfile(e.path):
                continue
            os.unlink(e.path)
            removed.append(name)
        except OSError:
            pass  # locked by a live writer, or already gone
        finally:
            os.close(fd)
    return removed


def _lock(fd: int) -> None:
    """Mark a temporary file as in use; a file system without locks only loses that mark."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass


def _sweep_once(directory: Path) -> None:
    """remove_stale_temp_files, once per process and directory (a scan writes thousands of
    files into one directory; one pass is enough, stale files come from earlier processes)."""
    key = os.path.abspath(directory)
    with _swept_lock:
        if key in _swept:
            return
        _swept.add(key)
    remove_stale_temp_files(directory)


# ---------------------------------------------------------------------------------- text

def element_text(el: etree._Element) -> str | None:
    """The text of an element that may hold only text, as a signature covers it.

    Like `el.text` (None when empty), but comments do not cut it short: Canonical XML without
    comments drops a comment and keeps the text on both sides, so `^<!-- -->Tls$` is signed
    as, and read as, `^Tls$`. A processing instruction or child element inside is refused
    (one-line error naming file, line and element): it would be signed, yet no reader can
    take it as part of a value."""
    if not len(el):   # the common case: no children, el.text is the whole text
        return el.text
    parts = [el.text or ""]
    for child in el:
        if child.tag is etree.Comment:
            parts.append(child.tail or "")
            continue
        if child.tag is etree.PI:
            found = "a processing instruction"
        elif child.tag is etree.Entity:
            found = "an entity reference"
        else:
            found = f"element <{etree.QName(child).localname}>"
        raise StigscapError(f"<{etree.QName(el).localname}> may contain only text, found "
                            f"{found}", file=_url(el), line=child.sourceline or el.sourceline)
    return "".join(parts) or None


def find_text(parent: etree._Element, path: str, default: str | None = None,
              namespaces=None) -> str | None:
    """`parent.findtext(path)` through `element_text`: "" for an empty element, `default`
    when there is none."""
    el = parent.find(path, namespaces)
    if el is None:
        return default
    return element_text(el) or ""


def all_text(el: etree._Element) -> str:
    """All text inside an element whose content may be markup (XHTML descriptions): the text
    of it and its descendants, without comments and processing instructions."""
    return "".join(el.itertext())


def _url(el: etree._Element) -> str | None:
    try:
        return el.getroottree().docinfo.URL
    except Exception:  # noqa: BLE001 - a detached element has no document URL
        return None


# ---------------------------------------------------------------------------------- writing

def atomic_write(path: str | os.PathLike, data: bytes | str | Iterable[bytes], *,
                 mode: int = 0o644) -> None:
    """Write `data` to `path` via temp file + rename in the same directory.

    `data` may also be an iterable of byte chunks (a document too large to hold twice in
    memory): written as they come; if the iterable raises, nothing is written."""
    p = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    chunks: Iterable[bytes] = (bytes(data),) if isinstance(data, (bytes, bytearray, memoryview)) \
        else data
    if p.is_dir():
        raise StigscapError("is a directory, expected a file", file=str(p))
    directory = p.parent if str(p.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        import tempfile   # here: a command that writes nothing (validate) never loads it (3 ms)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}{TMP_MARK}{os.getpid()}-", suffix="",
                                   dir=directory)
    except OSError as exc:
        raise StigscapError(f"cannot write file: {exc.strerror}", file=str(p)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            _lock(fh.fileno())  # held until the file is renamed and closed
            _sweep_once(directory)
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, p)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise StigscapError(f"cannot write file: {exc.strerror}", file=str(p)) from None
        raise


def serialize(root: etree._Element | etree._ElementTree, *, pretty: bool = True) -> bytes:
    """UTF-8 with XML declaration, pretty-printed (oscap misreads compact catalogs)."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=pretty)
