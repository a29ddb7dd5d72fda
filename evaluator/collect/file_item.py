"""Get-Item output → OVAL `win-sc:file_item`s (what a `file_object` is collected as): the rules
both collectors follow.

A file_object names one file or directory; it is collected with `Get-Item -LiteralPath <path>`
(live, one call per object; offline, ``Get-Item -LiteralPath <path>, <path> | Export-Clixml
Get-Item.xml``). The FileInfo / DirectoryInfo whose FullName names the path gives:

- filepath, path, filename: the object (its FullName must agree);
- size: Length (files only);
- a_time, c_time, m_time: LastAccessTimeUtc, CreationTimeUtc, LastWriteTimeUtc as Windows
  FILETIMEs (100-ns intervals since 1601-01-01 UTC);
- version, company, internal_name, language, original_filename, product_name,
  product_version: VersionInfo (FileVersionInfo: an object, or the text its ToString gives at a
  smaller serialization depth); version is the leading dotted numbers of FileVersion;
- type: FILE_TYPE_DISK (Get-Item reads the file system);
- attribute: Attributes, each flag as FILE_ATTRIBUTE_<NAME>.

owner, ms_checksum and development_class are not what Get-Item returns: they are not in the
item (a state naming them cannot be satisfied, per OVAL). A time, length or flag that cannot be
read is an `error` naming the property, never a guessed value.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Iterable

from .model import CmdletQuery, CollectedObject, ItemEntity, WinItem, nothing_found
from .normalize import lookup_property, properties
from .records import Unattributed, attributed, collected_error

_EPOCH_1601 = _dt.datetime(1601, 1, 1, tzinfo=_dt.timezone.utc)
_VERSION = re.compile(r"\d+(?:\.\d+){0,3}")
# FileVersionInfo property → file_item entity (in the schema's order after `type`)
_VERSION_INFO = (("CompanyName", "company"), ("InternalName", "internal_name"),
                 ("Language", "language"), ("OriginalFilename", "original_filename"),
                 ("ProductName", "product_name"), ("ProductVersion", "product_version"))
# System.IO.FileAttributes names → OVAL's FILE_ATTRIBUTE_* (EntityItemFileAttributeType)
_ATTRIBUTES = {"ReadOnly": "READONLY", "Hidden": "HIDDEN", "System": "SYSTEM",
               "Directory": "DIRECTORY", "Archive": "ARCHIVE", "Device": "DEVICE",
               "Normal": "NORMAL", "Temporary": "TEMPORARY", "SparseFile": "SPARSE_FILE",
               "ReparsePoint": "REPARSE_POINT", "Compressed": "COMPRESSED",
               "Offline": "OFFLINE", "NotContentIndexed": "NOT_CONTENT_INDEXED",
               "Encrypted": "ENCRYPTED", "IntegrityStream": "INTEGRITY_STREAM",
               "NoScrubData": "NO_SCRUB_DATA"}


class _Unreadable(ValueError):
    """A property whose value cannot be read as the entity needs (names the property)."""


def filetime(value: Any, prop: str) -> str:
    """A DateTime (deserialized, or its ISO text) as a Windows FILETIME."""
    when = value
    if isinstance(value, str):
        try:
            when = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _Unreadable(f"property {prop}: {value!r} is not a time") from None
    if not isinstance(when, _dt.datetime):
        raise _Unreadable(f"property {prop}: a {type(value).__name__} is not a time")
    if when.tzinfo is None:
        raise _Unreadable(f"property {prop}: a time without its UTC offset")
    delta = when - _EPOCH_1601
    ticks = (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10
    nanos = getattr(when, "nanosecond", 0)   # psrpcore's PSDateTime keeps the 100-ns digit
    return str(ticks + nanos // 100)


def _version_info(value: Any) -> dict[str, str]:
    """FileVersionInfo's properties, from the object or from its multi-line ToString."""
    props = properties(value)
    if props is not None:
        return {k: str(v) for k, v in props.items() if v is not None}
    text = str(value) if value is not None else ""
    out = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        if sep:
            out[key.strip().replace(" ", "")] = rest.strip()
    out.setdefault("ProductName", out.get("Product", ""))
    return out


def _attributes(value: Any) -> list[str]:
    text = str(getattr(value, "to_string", None) or value)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in _ATTRIBUTES]
    if unknown or not names:
        raise _Unreadable(f"property Attributes: {text!r} is not a set of FileAttributes names")
    return [f"FILE_ATTRIBUTE_{_ATTRIBUTES[n]}" for n in names]


def _entities(props: dict[str, Any], folder: str, name: str, full: str
              ) -> tuple[ItemEntity, ...]:
    ents = [ItemEntity("filepath", full), ItemEntity("path", folder if name else full),
            ItemEntity("filename", name or None)]
    if name:
        has, length = lookup_property(props, "Length")
        if has and (isinstance(length, bool) or not isinstance(length, int)):
            raise _Unreadable(f"property Length: {length!r} is not a number of bytes")
        if has:
            ents.append(ItemEntity("size", str(int(length)), "int"))
    for entity, prop in (("a_time", "LastAccessTimeUtc"), ("c_time", "CreationTimeUtc"),
                         ("m_time", "LastWriteTimeUtc")):
        has, when = lookup_property(props, prop)
        if has and when is not None:
            ents.append(ItemEntity(entity, filetime(when, prop), "int"))
    has, info = lookup_property(props, "VersionInfo")
    details = _version_info(info) if has and info is not None and name else {}
    file_version = details.get("FileVersion", "").strip()
    if file_version:
        m = _VERSION.match(file_version)
        ents.append(ItemEntity("version", m.group() if m else None, "version",
                               "exists" if m else "error"))
    ents.append(ItemEntity("type", "FILE_TYPE_DISK"))
    has, attrs = lookup_property(props, "Attributes")
    if has and attrs is not None:
        ents += [ItemEntity("attribute", a) for a in _attributes(attrs)]
    for prop, entity in _VERSION_INFO:
        if details.get(prop):
            ents.append(ItemEntity(entity, details[prop]))
    ents.append(ItemEntity("windows_view", "64_bit"))
    return tuple(ents)


def file_item_result(query: CmdletQuery, objects: Iterable[Any], source: str, *,
                     offline: bool) -> CollectedObject:
    """The CollectedObject of one file_object from Get-Item's pipeline objects (live: this
    object's own call; offline: every object of the export)."""
    folder, name, _kind = query.target
    full = f"{folder}\\{name}" if name else folder

    def identify(props: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        has, fullname = lookup_property(props or {}, "FullName")
        if props is None or not has or not isinstance(fullname, str):
            raise Unattributed(" has no FullName: not Get-Item's output for a file or directory")
        return fullname, props

    got = attributed(query, objects, source, offline=offline, wanted=full, shown=full,
                     identify=identify)
    if isinstance(got, CollectedObject):
        return got
    found, head = got
    if not found:
        return nothing_found(query, head, offline=offline, what=full, cmdlet="Get-Item",
                             export=f"Get-Item -LiteralPath '{full}'")
    try:
        items = {_entities(p, folder, name, full) for p in found}
    except _Unreadable as exc:
        return collected_error(query, f"{source}: {full}: {exc}; not compared")
    if len(items) > 1:
        return collected_error(query, f"{source}: {len(found)} objects name {full} and disagree; none "
                             "is compared")
    (entities,) = items
    return CollectedObject(query, flag="complete", status="exists", messages=[head],
                           items=[WinItem("file", entities)])



__all__ = ["file_item_result", "filetime"]
