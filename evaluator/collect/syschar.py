"""CollectedObjects + SystemInfo → an OVAL 5.11 `oval_system_characteristics` document.

Pure: no file or network I/O. The XML shape lives in
templates/oval-system-characteristics.xml.j2; this module decides ids, flags, statuses and
messages, and makes every text XML-1.0-safe.

Item ids are 1..n in the order of the objects given (the definitions' document order), so the
same collection gives the same document. One `win-sc:cmdlet_item` per collected cmdlet object
whose flag is `complete` (status exists) or `error` (status error, with the messages); objects
that were `not collected` or `does not exist` get no item, only their flag and messages. Other
objects (e.g. registry) get their collected items (`CollectedObject.items`, e.g. one
`win-sc:registry_item`) when complete, and only their flag and messages otherwise.

Characters XML 1.0 cannot carry (C0 controls other than tab/newline/carriage return, U+FFFE,
U+FFFF, unpaired surrogates) are written as the visible escape ``_xHHHH_`` — the same escape
Export-Clixml uses, so an admin recognises it — and a literal ``_xHHHH_`` already in the text is
written ``_x005F_xHHHH_`` (again as CLIXML does), so the escape is reversible. A carriage return
is kept as the character reference ``&#13;`` so it survives parsing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterator, Sequence

import jinja2
from lxml import etree
from markupsafe import Markup, escape

from stigscap.schemas.clock import product_version as tool_version
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.templating import environment
from stigscap.schemas.xmlio import SAFE_PARSER_OPTIONS, atomic_write, parse_xml_bytes

from .model import CollectedObject, FieldValue, SystemInfo

OVAL_SCHEMA_VERSION = "5.11.2"
MAX_MESSAGES = 50

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_LITERAL_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_NEEDS_WORK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]|_x[0-9A-Fa-f]{4}_")


def xml_safe_text(text: str) -> tuple[str, bool]:
    """Text → (text every XML 1.0 parser accepts, whether anything was escaped)."""
    if not _NEEDS_WORK.search(text):
        return text, False
    out = _LITERAL_ESCAPE.sub("_x005F_", text)
    out = _FORBIDDEN.sub(lambda m: f"_x{ord(m.group()):04X}_", out)
    return out, _FORBIDDEN.search(text) is not None


def _xml(text: object) -> Markup:
    """Jinja filter: XML-1.0-safe, markup-escaped text (CR as a character reference).

    Used for our own texts (messages, names): forbidden characters become ``_xHHHH_``; a
    literal ``_xHHHH_`` is left alone (only collected values get the reversible escape).
    """
    if text is None:
        return Markup("")
    raw = str(text)
    safe = _FORBIDDEN.sub(lambda m: f"_x{ord(m.group()):04X}_", raw) if _FORBIDDEN.search(
        raw) else raw
    out = escape(safe)
    if "\r" in out:
        out = Markup(str(out).replace("\r", "&#13;"))
    return out


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = environment("stigscap.evaluator", autoescape=True, keep_trailing_newline=True,
                      filters={"x": _xml, "v": _value_text})
    return env.get_template("oval-system-characteristics.xml.j2")


@dataclass
class _Iface:
    name: str
    ip: str
    mac: str


def _cap(messages: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], None] = {}
    for m in messages:
        seen.setdefault(m, None)
    unique = list(seen)
    if len(unique) > MAX_MESSAGES:
        extra = len(unique) - (MAX_MESSAGES - 1)
        unique = unique[:MAX_MESSAGES - 1] + [("info", f"... and {extra} more messages")]
    return unique


def _level_for(obj: CollectedObject) -> str:
    if obj.flag == "error" or obj.status == "error":
        return "error"
    if obj.flag in ("not collected", "incomplete"):
        return "warning"
    return "info"


_SPLIT = "\x00"          # a placeholder no rendered text contains (XML 1.0 cannot carry it)
_RUN = 2048               # records rendered into one string for the template
_FIELD_CACHE_SIZE = 1 << 16


@lru_cache(maxsize=1)
def _record_macros() -> tuple[Callable[..., Any], Callable[..., Any]]:
    env = environment("stigscap.evaluator", autoescape=True, keep_trailing_newline=True,
                      filters={"x": _xml})
    module = env.get_template("oval-sc-record.xml.j2").module
    return module.value, module.field  # type: ignore[attr-defined]


@lru_cache(maxsize=1)
def _value_frame() -> tuple[str, str]:
    """The text of a win-sc:value record before and after its fields."""
    before, after = str(_record_macros()[0](Markup(_SPLIT))).split(_SPLIT)
    return before, after


@lru_cache(maxsize=4096)
def _field_frame(name: str, datatype: str) -> tuple[str, str]:
    """The text of one oval-sc:field before and after its value text."""
    before, after = str(_record_macros()[1](_xml(name), datatype, Markup(_SPLIT))).split(_SPLIT)
    return before, after


def _escaped_value(value: str | None) -> str:
    """A collected value as field text: XML-1.0-safe (reversible _xHHHH_), markup-escaped,
    a carriage return as a character reference."""
    safe, _ = xml_safe_text(value or "")
    text = str(escape(safe))
    return text.replace("\r", "&#13;") if "\r" in text else text


def _value_text(value: str | None) -> Markup:
    """Jinja filter: a collected value (an item entity's text), reversibly escaped."""
    return Markup(_escaped_value(value))


class _Records:
    """The records of one item as the template reads them: runs of rendered records.

    Fields are shared between records (a value read under the same property name is one
    FieldValue, see normalize.record_from_object), so each distinct field object is rendered
    once; the records stay alive while this renders, so an id names one field."""

    def __init__(self, records: Sequence[Sequence[FieldValue]], cache: dict[int, str]):
        self.records = records
        self.cache = cache

    def __iter__(self) -> Iterator[Markup]:
        cache = self.cache
        before, after = _value_frame()
        run: list[str] = []
        for rec in self.records:
            run.append(before)
            for f in rec:
                text = cache.get(id(f))
                if text is None:
                    head, tail = _field_frame(f.name, f.datatype)
                    text = head + _escaped_value(f.value) + tail
                    if len(cache) >= _FIELD_CACHE_SIZE:
                        cache.clear()
                    cache[id(f)] = text
                run.append(text)
            run.append(after)
            if len(run) >= _RUN:
                yield Markup("".join(run))
                run = []
        if run:
            yield Markup("".join(run))


def _forbidden_in(records: Sequence[Sequence[FieldValue]]) -> bool:
    """Whether any value holds a character XML 1.0 cannot carry (it is then escaped)."""
    for start in range(0, len(records), _RUN):
        if _FORBIDDEN.search("".join([f.value or "" for rec in records[start:start + _RUN]
                                      for f in rec])):
            return True
    return False


def _render_chunks(objects: Sequence[CollectedObject], system: SystemInfo, *,
                   timestamp: str, asset_ref: str | None, product_name: str,
                   product_version: str | None) -> Iterator[str]:
    if asset_ref is not None and not re.fullmatch(r"[A-Za-z_][\w.\-]*", asset_ref):
        raise StigscapError(f"asset reference id {asset_ref!r} is not an XML NCName")
    seen_ids: set[str] = set()
    view_objects, view_items = [], []
    field_cache: dict[int, str] = {}
    next_id = 1
    for obj in objects:
        q = obj.query
        if q.object_id in seen_ids:
            continue  # one entry per OVAL object id
        seen_ids.add(q.object_id)
        level = _level_for(obj)
        extra: list[tuple[str, str]] = []
        item_ids: list[int] = []
        if q.kind != "cmdlet":
            msgs = _cap([(level, m) for m in obj.messages])
            for item in obj.items if obj.flag in ("complete", "incomplete") else ():
                item_ids.append(next_id)
                view_items.append({"id": next_id, "kind": item.kind, "status": item.status,
                                   "messages": [], "entities": item.entities})
                next_id += 1
            view_objects.append({
                "id": q.object_id, "version": int(q.version), "comment": q.comment,
                "flag": obj.flag, "item_ids": item_ids, "messages": msgs})
            continue
        if obj.flag in ("complete", "incomplete", "error"):
            item_ids.append(next_id)
            next_id += 1
            if _forbidden_in(obj.records):
                extra.append(("warning", "some values hold characters XML 1.0 cannot carry; "
                              "each is written as _xHHHH_ (HHHH = its hex code point), and "
                              "a literal _xHHHH_ in a value as _x005F_xHHHH_"))
            status = "error" if obj.flag == "error" else (
                obj.status if obj.status in ("exists", "error") else "exists")
            msgs = _cap([(level, m) for m in obj.messages] + extra)
            view_items.append({
                "id": item_ids[0], "kind": "cmdlet", "status": status, "messages": msgs,
                "module_name": q.module_name, "verb": q.verb, "noun": q.noun,
                "parameters": [(n.lower(), v) for n, v in q.parameters],
                "select": [(s.lower(), s) for s in q.select],
                "records": _Records(obj.records, field_cache) if obj.flag != "error" else [],
            })
        view_objects.append({
            "id": q.object_id, "version": int(q.version), "comment": q.comment,
            "flag": obj.flag, "item_ids": item_ids,
            "messages": _cap([(level, m) for m in obj.messages] + extra),
        })
    ifaces = [_Iface(*i) for i in system.interfaces]
    yield from _template().generate(
        generator={"product_name": product_name,
                   "product_version": product_version or tool_version(),
                   "schema_version": OVAL_SCHEMA_VERSION, "timestamp": timestamp},
        system={"os_name": system.os_name, "os_version": system.os_version,
                "architecture": system.architecture, "host_name": system.host_name,
                "interfaces": ifaces},
        asset_ref=asset_ref, objects=view_objects, items=view_items)


def render_syschar(objects: Sequence[CollectedObject], system: SystemInfo, *,
                   timestamp: str, asset_ref: str | None = "asset0",
                   product_name: str = "stigscap",
                   product_version: str | None = None) -> str:
    """The system-characteristics document as text (UTF-8 declared)."""
    return "".join(_render_chunks(objects, system, timestamp=timestamp, asset_ref=asset_ref,
                                  product_name=product_name, product_version=product_version))


def write_syschar(path: str | os.PathLike, objects: Sequence[CollectedObject],
                  system: SystemInfo, *, timestamp: str, asset_ref: str | None = "asset0",
                  product_version: str | None = None) -> None:
    """Write the document to `path` as it is rendered (atomically, checked well-formed on
    the way: a problem leaves no file): the same bytes as `syschar_bytes`, without holding
    the whole document in memory (100,000 connectors give half a gigabyte)."""
    checker = _WellFormed()

    def chunks() -> Iterator[bytes]:
        buf: list[str] = []
        size = 0
        for text in _render_chunks(objects, system, timestamp=timestamp, asset_ref=asset_ref,
                                   product_name="stigscap", product_version=product_version):
            buf.append(text)
            size += len(text)
            if size >= 1 << 20:
                data = "".join(buf).encode("utf-8")
                buf, size = [], 0
                checker.feed(data)
                yield data
        data = "".join(buf).encode("utf-8")
        checker.feed(data)
        checker.close()
        yield data

    atomic_write(path, chunks())


class _WellFormed:
    """An incremental well-formedness check: libxml2 with no tree and no callbacks (C speed,
    constant memory). Raises StigscapError: a bug in this module, not bad input."""

    class _Nothing:
        def close(self) -> None:
            return None

    def __init__(self) -> None:
        self._parser = etree.XMLParser(  # type: ignore[call-overload]  # target: close() only
            target=self._Nothing(), huge_tree=True, **SAFE_PARSER_OPTIONS)

    def feed(self, data: bytes) -> None:
        try:
            self._parser.feed(data)
        except etree.XMLSyntaxError as exc:
            self._fail(exc)

    def close(self) -> None:
        try:
            self._parser.close()
        except etree.XMLSyntaxError as exc:
            self._fail(exc)

    @staticmethod
    def _fail(exc: etree.XMLSyntaxError) -> None:
        raise StigscapError(f"internal error: system characteristics not well-formed: "
                            f"{exc}") from None


def syschar_document(objects: Sequence[CollectedObject], system: SystemInfo, *,
                     timestamp: str, asset_ref: str | None = "asset0",
                     product_version: str | None = None) -> etree._Element:
    """The document as a parsed lxml root (what the OVAL engine takes)."""
    data = render_syschar(objects, system, timestamp=timestamp, asset_ref=asset_ref,
                          product_version=product_version).encode("utf-8")
    return parse_xml_bytes(data, "<system characteristics>", huge_tree=True).getroot()


def syschar_bytes(objects: Sequence[CollectedObject], system: SystemInfo, *,
                  timestamp: str, asset_ref: str | None = "asset0",
                  product_version: str | None = None) -> bytes:
    """The document as UTF-8 bytes, checked well-formed (safe to hand to atomic_write)."""
    data = render_syschar(objects, system, timestamp=timestamp, asset_ref=asset_ref,
                          product_version=product_version).encode("utf-8")
    _check_well_formed(data)  # never write bad XML
    return data


def _check_well_formed(data: bytes) -> None:
    """Fail loudly on anything not well-formed (see `_WellFormed`)."""
    checker = _WellFormed()
    for start in range(0, len(data), 1 << 20):
        checker.feed(data[start:start + (1 << 20)])
    checker.close()
