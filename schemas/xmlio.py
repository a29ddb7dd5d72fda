"""Safe XML reading and atomic file writing, shared by every stage.

Reading: lxml with entity resolution, DTD loading and network access off. A document that
carries a DOCTYPE at all is refused: SCAP documents never need one, and refusing it closes
entity-expansion and external-entity tricks before they start.

Writing: bytes go to a temporary file beside the target, fsync, then rename; a failure leaves
no partial output file behind. A process killed mid-write (SIGKILL, power loss) cannot clean up:
its temporary file is named `.<target>.stigscap-tmp-<pid>-<random>` so users recognise it, and
the first write of a later process into that directory removes those whose writer is gone.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from lxml import etree

from .errors import StigscapError


def safe_parser(*, remove_blank_text: bool = False, huge_tree: bool = False) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        remove_blank_text=remove_blank_text,
        huge_tree=huge_tree,
        collect_ids=False,
    )


def parse_xml_bytes(data: bytes, source: str = "<input>", *, huge_tree: bool = False,
                    remove_blank_text: bool = False) -> etree._ElementTree:
    """Parse bytes with the safe parser; every failure is a one-line StigscapError."""
    if not data or data.isspace():  # no copy of a large buffer (strip() would make one)
        raise StigscapError("empty file, expected an XML document", file=source)
    parser = safe_parser(huge_tree=huge_tree, remove_blank_text=remove_blank_text)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if getattr(exc, "lineno", None) else None
        msg = exc.msg if getattr(exc, "msg", None) else str(exc)
        raise StigscapError(f"not well-formed XML: {msg}", file=source, line=line) from None
    except ValueError as exc:  # e.g. unicode strings with encoding declarations
        raise StigscapError(f"not readable as XML: {exc}", file=source) from None
    if root is None:
        raise StigscapError("no XML root element", file=source)
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise StigscapError("document type declarations (DTD) are not allowed", file=source,
                            line=1)
    return tree


def read_file_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of an input file; a directory or an unreadable file is a one-line error."""
    p = Path(path)
    try:
        return p.read_bytes()
    except IsADirectoryError:
        raise StigscapError("is a directory, expected a file", file=str(p)) from None
    except OSError as exc:
        raise StigscapError(f"cannot read file: {exc.strerror}", file=str(p)) from None


def parse_xml_file(path: str | os.PathLike, *, huge_tree: bool = False,
                   remove_blank_text: bool = False) -> etree._ElementTree:
    data = read_file_bytes(path)
    return parse_xml_bytes(data, str(Path(path)), huge_tree=huge_tree,
                           remove_blank_text=remove_blank_text)


TMP_MARK = ".stigscap-tmp-"
_swept: set[str] = set()
_swept_lock = threading.Lock()

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, under another user
        return True
    return True


def remove_stale_temp_files(directory: str | os.PathLike) -> list[str]:
    """Remove atomic_write's temporary files in `directory` left by writers that are gone: the
    pid in the name is not running, and no process holds the file's lock (a live writer holds
    it from creation to rename, whatever its host or pid namespace). Returns the names removed."""
    removed = []
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


def atomic_write(path: str | os.PathLike, data: bytes | str, *, mode: int = 0o644) -> None:
    """Write `data` to `path` via temp file + rename in the same directory."""
    p = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if p.is_dir():
        raise StigscapError("is a directory, expected a file", file=str(p))
    directory = p.parent if str(p.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}{TMP_MARK}{os.getpid()}-", suffix="",
                                   dir=directory)
    except OSError as exc:
        raise StigscapError(f"cannot write file: {exc.strerror}", file=str(p)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            _lock(fh.fileno())  # held until the file is renamed and closed
            _sweep_once(directory)
            fh.write(data)
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
