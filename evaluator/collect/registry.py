"""Get-ItemProperty output → OVAL `win-sc:registry_item`s: the rules both collectors follow.

A `win-def:registry_object` (hive, key, value name) is collected as
`Get-ItemProperty -LiteralPath Registry::<hive>\\<key>` (live, one call per object; offline,
one export of every key: ``Get-ItemProperty -LiteralPath <key>, <key> | Export-Clixml
Get-ItemProperty.xml``). Get-ItemProperty returns one PSCustomObject per key: each value of the
key as a property, plus the provider's PSPath, PSParentPath, PSChildName, PSDrive and
PSProvider. The object whose PSPath names the object's key holds the value.

What the registry type is, read from the .NET type the value arrives as (RegistryKey.GetValue):

| serialized as | type | OVAL value |
|---|---|---|
| Int32 `<I32>` | reg_dword | int, unsigned (PowerShell shows 0xFFFFFFFF as -1) |
| Int64 `<I64>` | reg_qword | int, unsigned |
| byte[] `<BA>` | reg_binary (REG_NONE reads the same) | binary (hex) |
| string[] | reg_multi_sz | one string `value` entity per string |
| string `<S>` | reg_sz or reg_expand_sz (expanded): the type is `not collected` | string |

A JSON export writes every number alike: the type of a number is `not collected` there.
Anything else (a Boolean, a nested object) cannot be a registry value: the object is `error`.

Outcomes: the value is there → one item (status exists); the key is there but not the value →
`does not exist` (no item); live, the key is missing (PathNotFound) → `does not exist`;
offline, no object of the export names the key → `not collected` (an export cannot say whether
the key is missing or was not exported); two objects for the key that disagree, or an object
whose PSPath names another key on the live path → `error`.
"""

from __future__ import annotations

from typing import Any, Iterable

from .model import CmdletQuery, CollectedObject, ItemEntity, WinItem, nothing_found
from .normalize import lookup_property
from .records import Unattributed, attributed, collected_error

# the properties the Registry provider adds to every Get-ItemProperty object
PROVIDER_PROPERTIES = ("PSPath", "PSParentPath", "PSChildName", "PSDrive", "PSProvider")
_PROVIDER_LOWER = {p.lower() for p in PROVIDER_PROPERTIES}
_DWORD = 1 << 32
_QWORD = 1 << 64


def key_of_pspath(pspath: str) -> str | None:
    """`Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\X` → the hive and
    key `HKEY_LOCAL_MACHINE\\SOFTWARE\\X`; None for a path of another provider."""
    head, sep, rest = pspath.partition("::")
    if not sep or head.rsplit("\\", 1)[-1].lower() != "registry":
        return None
    return rest.strip("\\")


def _type_and_values(value: Any, *, json: bool) -> tuple[str | None, list[ItemEntity]] | str:
    """(registry type or None when it cannot be told, the `value` entities), or a problem."""
    tname = type(value).__name__
    if isinstance(value, bool):
        return "a Boolean is not a registry value type"
    if isinstance(value, int):
        if json:
            return None, [ItemEntity("value", str(value), "int")]
        if tname in ("PSInt64", "PSUInt64"):
            return "reg_qword", [ItemEntity("value", str(int(value) % _QWORD), "int")]
        if tname in ("int", "PSInt") and -(1 << 31) <= value < _DWORD:
            return "reg_dword", [ItemEntity("value", str(int(value) % _DWORD), "int")]
        return f"an integer of .NET type {tname} is not what Get-ItemProperty returns"
    if isinstance(value, str):
        return None, [ItemEntity("value", str(value))]
    if isinstance(value, (bytes, bytearray)):
        return "reg_binary", [ItemEntity("value", bytes(value).hex().upper(), "binary")]
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, str) for v in value):
            return "reg_multi_sz", [ItemEntity("value", str(v)) for v in value]
        if json and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 256
                        for v in value):   # ConvertTo-Json writes a byte[] as numbers
            return "reg_binary", [ItemEntity("value", bytes(value).hex().upper(), "binary")]
        return "a list that is not all strings is not a registry value"
    return f"a {tname} is not a registry value type"


def registry_result(query: CmdletQuery, objects: Iterable[Any], source: str, *,
                    offline: bool, json: bool = False) -> CollectedObject:
    """The CollectedObject of one registry_object from Get-ItemProperty's pipeline objects
    (live: the output of this object's own call; offline: every object of the export)."""
    hive, key, name = query.target
    shown = f"{hive}\\{key}" if key else hive
    if name.lower() in _PROVIDER_LOWER:
        return collected_error(query, f"{source}: the value name {name!r} cannot be told from "
                                      "the property Get-ItemProperty adds under that name")

    def identify(props: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        if props is None:
            raise ValueError(" is not a Get-ItemProperty object (it has no properties)")
        has, pspath = lookup_property(props, "PSPath")
        path_key = key_of_pspath(str(pspath)) if has and pspath is not None else None
        if path_key is None:
            raise Unattributed(f" has no registry PSPath; the output cannot be attributed to "
                               f"{shown}")
        return path_key, props

    got = attributed(query, objects, source, offline=offline, wanted=shown, shown=shown,
                     identify=identify, noun="key ")
    if isinstance(got, CollectedObject):
        return got
    matches, head = got
    if not matches:
        return nothing_found(query, head, offline=offline, what=f"key {shown}",
                             cmdlet="Get-ItemProperty",
                             export=f"Get-ItemProperty -LiteralPath 'Registry::{shown}'")
    outcomes: list[tuple[str | None, list[ItemEntity]] | None] = []
    for props in matches:
        has, value = lookup_property(props, name)   # value names are case-insensitive
        if not has:
            outcomes.append(None)
            continue
        typed = _type_and_values(value, json=json)
        if isinstance(typed, str):
            return collected_error(query, f"{source}: key {shown}: value {name}: {typed}; not "
                                          "compared")
        outcomes.append(typed)
    if any(o != outcomes[0] for o in outcomes[1:]):
        return collected_error(query, f"{source}: {len(matches)} objects name key {shown} and "
                                      f"disagree about value {name}; none is compared")
    outcome = outcomes[0]
    if outcome is None:
        return CollectedObject(query, flag="does not exist", status="does not exist",
                               messages=[head, f"key {shown} has no value named {name}"])
    rtype, values = outcome
    messages = [head]
    type_entity = ItemEntity("type", rtype)
    if rtype is None:
        type_entity = ItemEntity("type", None, status="not collected")
        messages.append(
            f"value {name}: the registry type cannot be told from a "
            + ("JSON number (DWORD and QWORD read alike; export with Export-Clixml)"
               if json and values and values[0].datatype == "int" else
               "string (REG_SZ and REG_EXPAND_SZ read alike through Get-ItemProperty)"))
    entities = (ItemEntity("hive", hive), ItemEntity("key", key), ItemEntity("name", name),
                type_entity, *values, ItemEntity("windows_view", "64_bit"))
    return CollectedObject(query, flag="complete", status="exists", messages=messages,
                           items=[WinItem("registry", entities)])



__all__ = ["PROVIDER_PROPERTIES", "key_of_pspath", "registry_result"]
