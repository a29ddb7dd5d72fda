"""What a collector hands to the system-characteristics writer: the shared, typed middle.

Both collectors (offline exports and live WinRM/PSRP) produce `CollectedObject`s; one writer
turns them into an OVAL system-characteristics document. Values are already normalized to the
text OVAL compares (see `normalize.py`), so both paths give the same items for the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# OVAL FlagEnumeration for collected_objects/object/@flag
Flag = Literal["error", "complete", "incomplete", "does not exist", "not collected",
               "not applicable"]


@dataclass(frozen=True)
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


@dataclass
class CollectedObject:
    query: CmdletQuery
    flag: Flag = "complete"
    status: Literal["exists", "error", "does not exist", "not collected"] = "exists"
    messages: list[str] = field(default_factory=list)
    # one record per pipeline object (e.g. per Receive connector)
    records: list[list[FieldValue]] = field(default_factory=list)


@dataclass(frozen=True)
class SystemInfo:
    host_name: str
    os_name: str = "Microsoft Windows Server"
    os_version: str = ""
    architecture: str = "x86_64"
    fqdn: str | None = None
    interfaces: tuple[tuple[str, str, str], ...] = ()  # (name, ip, mac)
