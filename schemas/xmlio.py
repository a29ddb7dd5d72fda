"""Safe XML reading and atomic file writing, shared by every stage.

Reading: lxml with entity resolution, DTD loading and network access off. A document that
carries a DOCTYPE at all is refused: SCAP documents never need one, and refusing it closes
entity-expansion and external-entity tricks before they start.

Writing: bytes go to a temporary file beside the target, fsync, then rename; a failure leaves
no partial output file behind.
"""

from __future__ import annotations

import os
import tempfile
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


def atomic_write(path: str | os.PathLike, data: bytes | str, *, mode: int = 0o644) -> None:
    """Write `data` to `path` via temp file + rename in the same directory."""
    p = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    directory = p.parent if str(p.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise StigscapError(f"cannot write file: {exc.strerror}", file=str(p)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
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
