"""What a collector hands to the system-characteristics writer: the shared, typed middle.

Both collectors (offline exports and live WinRM/PSRP) produce `CollectedObject`s; one writer
turns them into an OVAL system-characteristics document. Values are already normalized to the
text OVAL compares (see `normalize.py`), so both paths give the same items for the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

# OVAL FlagEnumeration for collected_objects/object/@flag
Flag = Literal["error", "complete", "incomplete", "does not exist", "not collected",
               "not applicable"]


@dataclass(frozen=True, slots=True)
class FieldValue:
    """One record field of a `value` record: lowercase name, OVAL datatype, text."""

    name: str
    value: str | None
    datatype: str = "string"  # string | int | boolean | version | float


@dataclass(frozen=True)
class CmdletQuery:
    """The identity of an OVAL cmdlet_object (what was asked of the host)."""

    object_id: str                  # oval:...:obj:N
    module_name: str | None
    verb: str
    noun: str
    parameters: tuple[tuple[str, str], ...] = ()   # (name as in content, value text)
    select: tuple[str, ...] = ()                    # property names, original case
    version: int = 1                                # the object's OVAL @version
    comment: str | None = None                      # the object's OVAL @comment
    # OVAL datatype of each parameter field (same order as `parameters`; empty = all string):
    # a live collector must send a boolean as a .NET Boolean (a switch rejects the text "true")
    parameter_datatypes: tuple[str, ...] = ()
    # what the object is: "cmdlet" (a win-def:cmdlet_object, one cmdlet_item of records) or
    # another OVAL object the collector turns into a Get- cmdlet call, e.g. "registry" (a
    # win-def:registry_object, collected with Get-ItemProperty -LiteralPath; see registry.py)
    kind: str = "cmdlet"
    # the OVAL object's own entities the items must echo (registry: hive, key, value name)
    target: tuple[str, ...] = ()


def cmdlet_name(query: CmdletQuery) -> str:
    """"Get-ReceiveConnector": the command a live collector runs, the name an offline export
    file is matched by (case-insensitively) and the name messages show.

    The verb is spelled as OVAL's (case-sensitive) verb enumeration spells it ("get" → "Get"),
    so a host is only ever sent a verb exactly as the safety check allowed it; a verb OVAL does
    not know is kept as written (the safety check refuses it before any host is contacted)."""
    return f"{_oval_verb(query.verb)}-{query.noun}"


@lru_cache(maxsize=64)
def _oval_verb(verb: str) -> str:
    # imported here: the content model (pydantic) is not needed by what only reads this module
    from stigscap.content.model import OVAL_CMDLET_VERBS
    return next((v for v in OVAL_CMDLET_VERBS if v.lower() == verb.lower()), verb)


@dataclass(frozen=True, slots=True)
class ItemEntity:
    """One entity of an item other than a cmdlet_item (e.g. registry_item `value`): its
    element name, text, OVAL datatype and status (`not collected` when the host cannot tell
    it, written without a value)."""

    name: str
    value: str | None
    datatype: str = "string"
    status: str = "exists"


@dataclass(frozen=True)
class WinItem:
    """One item of a non-cmdlet object: `kind` is the item element's name without `_item`
    (registry → win-sc:registry_item), entities in the schema's order."""

    kind: str
    entities: tuple[ItemEntity, ...]
    status: str = "exists"


@dataclass
class CollectedObject:
    query: CmdletQuery
    flag: Flag = "complete"
    status: Literal["exists", "error", "does not exist", "not collected"] = "exists"
    messages: list[str] = field(default_factory=list)
    # one record per pipeline object (e.g. per Receive connector)
    records: list[list[FieldValue]] = field(default_factory=list)
    # the items of a non-cmdlet object (query.kind != "cmdlet"), in place of the records
    items: list[WinItem] = field(default_factory=list)


@dataclass(frozen=True)
class SystemInfo:
    host_name: str
    os_name: str = "Microsoft Windows Server"
    os_version: str = ""
    architecture: str = "x86_64"
    fqdn: str | None = None
    interfaces: tuple[tuple[str, str, str], ...] = ()  # (name, ip, mac)


def nothing_found(query: CmdletQuery, head: str, *, offline: bool, what: str, export: str,
                  cmdlet: str) -> CollectedObject:
    """A non-cmdlet object whose file, key or path no pipeline object names: offline `not
    collected` (an export without it cannot say it is missing), live `does not exist` (the
    host said PathNotFound)."""
    if offline:
        return CollectedObject(query, flag="not collected", status="not collected",
                               messages=[head, f"the export holds no object for {what} (export "
                                               f"it with {export}; whether it exists cannot be "
                                               "told from an export without it)"])
    return CollectedObject(query, flag="does not exist", status="does not exist",
                           messages=[head, f"{what} does not exist on the host ({cmdlet}: "
                                           "PathNotFound)"])

