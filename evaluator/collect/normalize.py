"""PowerShell / .NET values → the text OVAL compares, and its OVAL datatype.

One normaliser for every collection path: psrpcore-deserialized objects (offline Export-Clixml
files and the live psrpcore-based transport), pypsrp 0.9 `GenericComplexObject`s (duck-typed),
and plain JSON values (`ConvertTo-Json` exports). The same property therefore gives the same
OVAL field whichever way it arrived.

Rules (the agreed convention: a field holds the value's PowerShell ToString() text):

- .NET Boolean → "true" / "false", datatype ``boolean``.
- integers → decimal text, datatype ``int`` — except when the property is a known enum
  (exchange_enums.ENUM_PROPERTIES: AuthMechanism, ServerRole, EventLevel, ...; Windows
  PowerShell 5.1 ConvertTo-Json writes enums as numbers): the integer is turned into the names
  .NET's ``Enum.ToString()`` prints (17 → "Tls, ExchangeServer", 0 → "Lowest"), datatype
  ``string``. A number the table does not cover is an error (``Normalized.error``), never a
  compared value.
- enum objects (CLIXML ``<Obj>`` with ``<ToString>`` and ``<I32>``) of a known enum: the
  ToString and the number must agree under the table (flags: the names' bits sum to the
  number); a disagreement, or a name or number the table does not know, is an error. Enum
  objects of other enums → the ToString text.
- enum names in a string ("tls, exchangeserver") of a known enum are put in .NET's canonical
  order and spelling when every name is known; unknown names keep the text verbatim and add a
  message (a newer Exchange build may have more members); a number written as text is a number.
- TimeSpan → .NET "c" format ("00:05:00", "1.02:03:04.5000000"); ``number`` = total seconds.
  Exchange's EnhancedTimeSpan (an <Obj> with ToString and Days/…/Ticks) → its ToString, which
  must agree with its Ticks when both are there (else an error).
- ByteQuantifiedSize → the ToString text "10 MB (10,485,760 bytes)" (what Exchange remoting
  sends as a string, so both paths agree); ``number`` = the byte count. Unlimited<T> →
  "Unlimited" (``kind`` "unlimited").
- collections (MultiValuedProperty, arrays) → one value per element (the caller writes one
  field per value, same name repeated); an empty collection → one empty string value.
- null → one empty string value (``kind`` "null").
- DateTime → ISO 8601 (culture-independent; .NET's ToString() depends on the host's culture).
- anything else with a ToString → that text; property bags without one → "@{A=1; B=x}" the way
  PowerShell prints a PSCustomObject in a string; JSON objects of unknown shape → compact JSON
  plus a message.

Text is returned exactly (control characters included); making it XML-safe is the writer's job
(`syschar.xml_safe_text`).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from .model import FieldValue
from .exchange_enums import EnumTable, enum_for
from .exchange_enums import AUTH_MECHANISMS as _AUTH_MECHANISMS_TABLE

# Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthMechanisms ([Flags]) members; every
# enum table the content needs, with its source, is in exchange_enums.py
AUTH_MECHANISMS: tuple[tuple[str, int], ...] = _AUTH_MECHANISMS_TABLE.members

_MAX_DEPTH = 16


@dataclass(frozen=True)
class Normalized:
    """One value as OVAL will see it, plus what the writer/evidence may want besides the text."""

    text: str
    datatype: str = "string"          # string | int | boolean | binary
    kind: str = "string"              # string int bool enum timespan bytesize unlimited null ...
    number: int | float | None = None  # enum integer, TimeSpan seconds, byte count, the int
    messages: tuple[str, ...] = ()
    # contradictory or unmappable data (an enum number no table covers, a ToString that
    # disagrees with its number): the value must not be compared; the collector flags the
    # object error with this text (it does not name the property: the caller does)
    error: str | None = None


# --- .NET formatting helpers -------------------------------------------------------------

def flags_to_text(value: int, members: Sequence[tuple[str, int]]) -> tuple[str, bool]:
    """.NET ``Enum.ToString()`` for a [Flags] enum: (text, every bit known).

    0 → the zero member's name ("None") or "0"; an exact member → its name; otherwise the
    names whose bits are all set, highest first consumed, printed in ascending order joined by
    ", "; bits no member covers → the number as text, like .NET.
    """
    by_value = {v: n for n, v in members}
    if value in by_value:
        return by_value[value], True
    if value < 0:
        return str(value), False
    remaining = value
    names: list[tuple[int, str]] = []
    for name, bit in sorted(members, key=lambda m: m[1], reverse=True):
        if bit and (remaining & bit) == bit:
            remaining -= bit
            names.append((bit, name))
    if remaining != 0:
        return str(value), False
    return ", ".join(n for _, n in sorted(names)), True


def timespan_text(seconds_or_delta: _dt.timedelta | int | float, *, ticks: int | None = None) -> str:
    """.NET TimeSpan.ToString() ("c"): ``[-][d.]hh:mm:ss[.fffffff]``."""
    if ticks is None:
        if isinstance(seconds_or_delta, _dt.timedelta):
            d = seconds_or_delta
            ticks = (d.days * 86400 + d.seconds) * 10_000_000 + d.microseconds * 10
            # psrpcore keeps sub-microsecond precision on PSDuration as .nanoseconds
            ns = getattr(d, "nanoseconds", None)
            if isinstance(ns, int) and 0 <= ns < 1000:
                ticks += ns // 100
        else:
            ticks = int(round(float(seconds_or_delta) * 10_000_000))
    sign = "-" if ticks < 0 else ""
    ticks = abs(ticks)
    total_seconds, frac = divmod(ticks, 10_000_000)
    days, rem = divmod(total_seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    out = sign + (f"{days}." if days else "") + f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    if frac:
        out += f".{frac:07d}"
    return out


_XS_DURATION = re.compile(
    r"^(?P<neg>-)?P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?"
    r"(?:(?P<s>\d+)(?:\.(?P<f>\d{1,7}))?S)?)?$")


def timespan_from_xs_duration(text: str) -> str | None:
    """CLIXML ``<TS>P0DT0H5M0S</TS>`` text → "00:05:00" (pypsrp hands TS over as raw text)."""
    m = _XS_DURATION.match(text.strip())
    if not m or text.strip() in ("P", "-P", "PT", "-PT"):
        return None
    secs = (int(m["d"] or 0) * 86400 + int(m["h"] or 0) * 3600 + int(m["m"] or 0) * 60
            + int(m["s"] or 0))
    ticks = secs * 10_000_000 + int((m["f"] or "0").ljust(7, "0"))
    return timespan_text(0, ticks=-ticks if m["neg"] else ticks)


def float_text(value: float) -> str:
    """.NET Core 3.0+ Double.ToString(): shortest round-trip, "E+XX" exponents."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mant, exp = text.split("e")
        sign = "-" if exp.startswith("-") else "+"
        text = f"{mant}E{sign}{exp.lstrip('+-').zfill(2)}"
    return text


_BYTES_IN_TEXT = re.compile(r"\(([\d,.\u00a0\u202f ']+) bytes\)")


def bytes_from_text(text: str) -> int | None:
    """"10 MB (10,485,760 bytes)" → 10485760 (any digit-group separator)."""
    m = _BYTES_IN_TEXT.search(text)
    if not m:
        return None
    digits = re.sub(r"\D", "", m.group(1))
    return int(digits) if digits else None


# --- type-name helpers -------------------------------------------------------------------

def base_type_name(type_names: Sequence[str]) -> str:
    """First type name without the "Deserialized." / "Selected." prefixes ("" if none)."""
    if not type_names:
        return ""
    name = str(type_names[0])
    changed = True
    while changed:
        changed = False
        for prefix in ("Deserialized.", "Selected."):
            if name.startswith(prefix):
                name = name[len(prefix):]
                changed = True
    return name


def _type_names(obj: Any) -> list[str]:
    meta = getattr(obj, "PSObject", None)
    if meta is not None and hasattr(meta, "type_names"):
        try:
            return [str(t) for t in meta.type_names]
        except Exception:  # noqa: BLE001 - defensive: a broken object is just untyped
            return []
    types = getattr(obj, "types", None)  # pypsrp GenericComplexObject
    if isinstance(types, list):
        return [str(t) for t in types]
    return []


def _to_string(obj: Any) -> str | None:
    meta = getattr(obj, "PSObject", None)
    if meta is not None and hasattr(meta, "to_string"):
        ts = meta.to_string
        return None if ts is None else str(ts)
    if _is_pypsrp_complex(obj):
        ts = getattr(obj, "to_string", None)
        return None if ts is None else str(ts)
    return None


def _is_pypsrp_complex(obj: Any) -> bool:
    return (hasattr(obj, "adapted_properties") and hasattr(obj, "extended_properties")
            and hasattr(obj, "types") and not hasattr(obj, "PSObject"))


def _is_enum(type_names: Sequence[str]) -> bool:
    return any(t.endswith("System.Enum") for t in type_names)


def _is_psrpcore_object(obj: Any) -> bool:
    meta = getattr(obj, "PSObject", None)
    return meta is not None and hasattr(meta, "extended_properties")


def properties(obj: Any) -> dict[str, Any] | None:
    """All properties of a deserialized object / JSON object, original-case names, in order.

    None when the value is not an object with properties.
    """
    if isinstance(obj, Mapping) and not _is_psrpcore_object(obj):
        return {str(k): v for k, v in obj.items()}
    if _is_psrpcore_object(obj):
        meta = obj.PSObject
        out: dict[str, Any] = {}
        for prop in list(meta.adapted_properties) + list(meta.extended_properties):
            try:
                out.setdefault(prop.name, prop.get_value(obj))
            except Exception:  # noqa: BLE001 - a script property we cannot run
                continue
        return out
    if _is_pypsrp_complex(obj):
        out = {}
        out.update(obj.adapted_properties or {})
        for k, v in (obj.extended_properties or {}).items():
            out.setdefault(k, v)
        return out
    return None


def lookup_property(props: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    """Case-insensitive property lookup: (found, value)."""
    if name in props:
        return True, props[name]
    low = name.lower()
    for key, value in props.items():
        if key.lower() == low:
            return True, value
    return False, None


# --- the normaliser ----------------------------------------------------------------------

def normalize_value(obj: Any, *, property_name: str | None = None, noun: str | None = None,
                    _depth: int = 0) -> list[Normalized]:
    """One PowerShell/.NET/JSON value → its OVAL value(s). Never raises for data.

    `noun`: the cmdlet noun the value came from (`ReceiveConnector`), which decides the enum of
    `property_name` (exchange_enums.enum_for); None: the property name alone decides.
    """
    enum_info = enum_for(noun, property_name)
    if _depth > _MAX_DEPTH:
        return [Normalized("", messages=(f"{property_name or 'value'}: nested deeper than "
                                         f"{_MAX_DEPTH} levels; value left empty",))]
    if obj is None:
        return [Normalized("", kind="null")]

    type_names = _type_names(obj)

    # Enum objects first (psrpcore: PSInt with System.Enum type names; pypsrp: property_sets)
    if type_names and _is_enum(type_names):
        return [_normalize_enum(obj, type_names, enum_info, property_name)]

    if isinstance(obj, bool):
        return [Normalized("true" if obj else "false", "boolean", "bool", int(obj))]

    if isinstance(obj, _dt.timedelta):
        return [Normalized(timespan_text(obj), kind="timespan", number=obj.total_seconds())]

    if isinstance(obj, int) and not isinstance(obj, bool):
        if type(obj).__name__ == "PSChar":
            return [Normalized(chr(int(obj)), kind="char")]
        if enum_info is not None:
            return [_enum_from_int(int(obj), enum_info)]
        return [Normalized(str(int(obj)), "int", "int", int(obj))]

    if isinstance(obj, str):
        text = str(obj)
        if enum_info is not None:
            return [_enum_from_text(text, enum_info, property_name)]
        return [Normalized(text)]

    if isinstance(obj, float) and enum_info is not None:
        if obj.is_integer():
            return [_enum_from_int(int(obj), enum_info)]
        return [Normalized("", kind="enum", error=f"{float_text(obj)} is not a value of "
                                                  f"{enum_info.name}")]

    if isinstance(obj, float):
        return [Normalized(float_text(float(obj)), kind="float", number=float(obj))]
    if isinstance(obj, decimal.Decimal):
        return [Normalized(format(obj, "f"), kind="decimal")]
    if isinstance(obj, _dt.datetime):
        return [Normalized(obj.isoformat(), kind="datetime")]
    if isinstance(obj, uuid.UUID):
        return [Normalized(str(obj), kind="guid")]
    if isinstance(obj, (bytes, bytearray)):
        return [Normalized(bytes(obj).hex().upper(), "binary", "bytes")]
    if type(obj).__name__ == "PSSecureString":
        return [Normalized("System.Security.SecureString", kind="securestring",
                           messages=(f"{property_name or 'value'}: a SecureString is never "
                                     "written out",))]
    if type(obj).__name__ == "PSVersion":
        return [Normalized(str(obj), kind="version")]

    # Exchange typed values recognised by type name (psrpcore / pypsrp objects)
    base = base_type_name(type_names)
    if base:
        special = _normalize_exchange_typed(obj, base, property_name)
        if special is not None:
            return special

    # Collections (MultiValuedProperty, arrays, lists); dictionaries are single values
    if isinstance(obj, (list, tuple)) or (_is_iterable_collection(obj)):
        return _normalize_collection(obj, property_name, _depth, noun)

    # pypsrp: an <Obj> of a collection type it does not know (MultiValuedProperty<T>) keeps
    # its <LST> as the one entry of property_sets
    if _is_pypsrp_complex(obj) and _to_string(obj) is None:
        sets = getattr(obj, "property_sets", None)
        if isinstance(sets, list) and len(sets) == 1 and isinstance(sets[0], (list, tuple)):
            return _normalize_collection(sets[0], property_name, _depth, noun)

    if isinstance(obj, Mapping):
        if type_names or _is_psrpcore_object(obj):  # a deserialized hashtable
            ts = _to_string(obj)
            return [Normalized(ts if ts is not None else "System.Collections.Hashtable",
                               kind="dictionary")]
        return [_normalize_json_object(obj, property_name, _depth)]

    ts = _to_string(obj)
    if ts is not None:
        return [Normalized(ts, kind="object")]

    props = properties(obj)
    if props is not None:
        return [Normalized(_property_bag_text(props, _depth), kind="object",
                           messages=(f"{property_name or 'value'}: a structured object with "
                                     "no ToString() text; written as @{...}",))]
    return [Normalized(str(obj), kind="object")]


def _is_iterable_collection(obj: Any) -> bool:
    cls = type(obj).__name__
    if cls in ("PSList", "PSIEnumerable", "PSStack", "PSQueue", "PSListBase", "PSStackBase"):
        return True
    if cls in ("PSQueueBase",):
        return True
    return False


def _normalize_collection(obj: Any, property_name: str | None, depth: int,
                          noun: str | None = None) -> list[Normalized]:
    if type(obj).__name__ in ("PSQueue", "PSQueueBase"):
        items = list(obj.queue)  # queue.Queue subclass
    else:
        items = list(obj)
    if not items:
        return [Normalized("", kind="empty")]
    out: list[Normalized] = []
    for item in items:
        if isinstance(item, (list, tuple)) or _is_iterable_collection(item):
            # nested collection: PowerShell prints it space-joined in a string
            inner = _normalize_collection(item, property_name, depth + 1, noun)
            errors = [n.error for n in inner if n.error]
            out.append(Normalized(" ".join(n.text for n in inner),
                                  messages=tuple(m for n in inner for m in n.messages),
                                  error=errors[0] if errors else None))
        else:
            out.extend(normalize_value(item, property_name=property_name, noun=noun,
                                       _depth=depth + 1))
    return out


def _enum_int(obj: Any) -> int | None:
    if isinstance(obj, int) and not isinstance(obj, bool):
        return int(obj)
    sets = getattr(obj, "property_sets", None)  # pypsrp GenericComplexObject
    if isinstance(sets, list) and sets and isinstance(sets[0], int):
        return int(sets[0])
    return None


def _normalize_enum(obj: Any, type_names: Sequence[str], table: EnumTable | None,
                    property_name) -> Normalized:
    number = _enum_int(obj)
    text = _to_string(obj)
    if table is None:  # an enum the content does not compare: its ToString, as PowerShell shows it
        if text is not None:
            return Normalized(text, kind="enum", number=number)
        if number is not None:
            return Normalized(str(number), kind="enum", number=number,
                              messages=(f"{property_name or 'value'}: enum "
                                        f"{base_type_name(type_names)} without its name text; "
                                        f"written as the number {number}",))
        return Normalized(str(obj), kind="enum")
    if text is None:
        if number is None:
            return Normalized("", kind="enum", error=f"{table.name} value without a name or a "
                                                     "number")
        return _enum_from_int(number, table)
    if number is None:
        return _enum_from_text(text, table, property_name)
    # both: the export carries the name and the number; they must say the same
    expected, known = enum_text(number, table)
    if not known:
        return Normalized("", kind="enum", number=number, error=(
            f"the number {number} is not a value of {table.name} (the text says "
            f"'{text}'); an unmapped number is not compared"))
    value, unknown, _ = parse_enum_text(text, table)
    if unknown:
        return Normalized("", kind="enum", number=number, error=(
            f"the text '{text}' names {', '.join(repr(u) for u in unknown)}, which "
            f"{table.name} does not have (the number {number} is '{expected}'); not compared"))
    if value != number:
        return Normalized("", kind="enum", number=number, error=(
            f"the text '{text}' and the number {number} disagree: under {table.name} "
            f"{number} is '{expected}'; contradictory data is not compared"))
    return Normalized(expected, kind="enum", number=number)


def enum_text(number: int, table: EnumTable) -> tuple[str, bool]:
    """.NET Enum.ToString() of `number`: (text, every bit/the value is a known member)."""
    if table.flags:
        return flags_to_text(number, table.members)
    for name, value in table.members:
        if value == number:
            return name, True
    return str(number), False


def parse_enum_text(text: str, table: EnumTable) -> tuple[int | None, list[str], bool]:
    """Enum text as .NET's Enum.Parse(ignoreCase) reads it → (value, unknown names, whether a
    number was written). Flags enums take a comma list; a part may be a number."""
    lookup = {n.lower(): v for n, v in table.members}
    parts = [p.strip() for p in text.split(",")] if table.flags else [text.strip()]
    value, unknown, numeric = 0, [], False
    for part in parts:
        if part.lower() in lookup:
            value |= lookup[part.lower()]
        elif re.fullmatch(r"[+-]?\d+", part):
            value |= int(part)
            numeric = True
        else:
            unknown.append(part)
    return (None if unknown else value), unknown, numeric


def _enum_from_int(number: int, table: EnumTable) -> Normalized:
    text, known = enum_text(number, table)
    if not known:
        what = "has bits no" if table.flags and number >= 0 else "is not a"
        return Normalized("", kind="enum", number=number, error=(
            f"the number {number} {what} {table.name} value "
            f"({', '.join(f'{n}={v}' for n, v in table.members)}); an unmapped number is not "
            "compared"))
    return Normalized(text, kind="enum", number=number)


def _enum_from_text(text: str, table: EnumTable, property_name) -> Normalized:
    if not text.strip():
        return Normalized("", kind="enum")
    value, unknown, numeric = parse_enum_text(text, table)
    if value is None:
        return Normalized(text, kind="enum", messages=(
            f"{property_name}: unknown {table.name} name(s) "
            f"{', '.join(repr(u) for u in unknown)}; value kept as written",))
    if numeric:  # a number written as text is still a number: map it, or refuse it
        return _enum_from_int(value, table)
    canon, known = enum_text(value, table)
    return Normalized(canon if known else text, kind="enum", number=value)


def _normalize_exchange_typed(obj: Any, base: str, property_name) -> list[Normalized] | None:
    simple = base.split("[", 1)[0]
    if simple.startswith("Microsoft.Exchange.Data.Unlimited`1"):
        ts = _to_string(obj)
        props = properties(obj) or {}
        found, is_unl = lookup_property(props, "IsUnlimited")
        if (ts is not None and ts.strip().lower() == "unlimited") or (found and is_unl is True):
            return [Normalized("Unlimited", kind="unlimited")]
        if ts is not None:
            return [Normalized(ts, kind="bytesize" if "bytes)" in ts else "object",
                               number=bytes_from_text(ts))]
        found, inner = lookup_property(props, "Value")
        if found:
            return normalize_value(inner, property_name=property_name, _depth=1)
        return None
    if simple == "Microsoft.Exchange.Data.EnhancedTimeSpan":
        return [_enhanced_timespan(obj)]
    if simple == "Microsoft.Exchange.Data.ByteQuantifiedSize":
        ts = _to_string(obj)
        if ts is not None:
            return [Normalized(ts, kind="bytesize", number=bytes_from_text(ts))]
    return None


def _enhanced_timespan(obj: Any) -> Normalized:
    """Microsoft.Exchange.Data.EnhancedTimeSpan (how Exchange exports every TimeSpan setting:
    an <Obj> with its ToString and Days/Hours/…/Ticks): the ToString text; when Ticks is
    there too, both must say the same (else an error, not a compared value)."""
    ts = _to_string(obj)
    found, ticks_value = lookup_property(properties(obj) or {}, "Ticks")
    ticks: int | None = None
    if found and isinstance(ticks_value, int) and not isinstance(ticks_value, bool):
        ticks = int(ticks_value)
    elif found and ticks_value is not None:
        return Normalized("", kind="timespan", error=(
            f"EnhancedTimeSpan Ticks {ticks_value!r} is not a number; not compared"))
    if ticks is None:
        if ts is None:
            return Normalized("", kind="timespan", error="EnhancedTimeSpan without its text "
                                                         "or Ticks; not compared")
        return Normalized(ts, kind="timespan")
    expected = timespan_text(0, ticks=ticks)
    if ts is not None and ts.strip() != expected:
        return Normalized("", kind="timespan", number=ticks / 10_000_000, error=(
            f"the text '{ts}' and Ticks {ticks} ('{expected}') of the EnhancedTimeSpan "
            "disagree; contradictory data is not compared"))
    return Normalized(expected, kind="timespan", number=ticks / 10_000_000)


# JSON objects ConvertTo-Json writes for .NET types whose ToString() is not in the file
def _normalize_json_object(obj: Mapping[str, Any], property_name, depth) -> Normalized:
    keys = {k.lower(): v for k, v in obj.items()}
    name = property_name or "value"
    if "ticks" in keys and ("totalseconds" in keys or "totalmilliseconds" in keys):
        try:
            ticks = int(keys["ticks"])
            return Normalized(timespan_text(0, ticks=ticks), kind="timespan",
                              number=ticks / 10_000_000)
        except (TypeError, ValueError):
            pass
    if "isunlimited" in keys:
        if keys["isunlimited"] is True:
            return Normalized("Unlimited", kind="unlimited")
        if "value" in keys:
            inner = normalize_value(keys["value"], property_name=property_name,
                                    _depth=depth + 1)
            if len(inner) == 1:
                return inner[0]
    if all(k in keys for k in ("major", "minor", "build", "revision")):
        try:
            major, minor, build, rev = (int(keys[k]) for k in ("major", "minor", "build",
                                                             "revision"))
        except (TypeError, ValueError):
            pass
        else:
            if name.lower() == "admindisplayversion":
                text = f"Version {major}.{minor} (Build {build}.{rev})"
            else:
                text = ".".join(str(p) for p in (major, minor, build, rev) if p >= 0)
            return Normalized(text, kind="version", messages=(
                f"{name}: rebuilt as {text!r} from the JSON version object",))
    dn = keys.get("distinguishedname")
    if isinstance(dn, str) and ("rdn" in keys or "objectguid" in keys):
        m = _CONNECTOR_DN.match(dn)
        if m:  # ADObjectId of a connector: Exchange shows it as SERVER\Name
            text = f"{_dn_unescape(m['server'])}\\{_dn_unescape(m['name'])}"
            return Normalized(text, kind="object", messages=(
                f"{name}: rebuilt as SERVER\\Name from the DistinguishedName in the JSON "
                "export",))
    compact = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
    return Normalized(compact, kind="object", messages=(
        f"{name}: the JSON export holds a structured object, not its ToString() text; "
        f"written as compact JSON (export it as a string, see the README)",))


_CONNECTOR_DN = re.compile(
    r"^CN=(?P<name>(?:[^,\\]|\\.)+),CN=SMTP (?:Receive|Send) Connectors,CN=Protocols,"
    r"CN=(?P<server>(?:[^,\\]|\\.)+),CN=Servers,", re.IGNORECASE)


def _dn_unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _property_bag_text(props: Mapping[str, Any], depth: int) -> str:
    parts = []
    for key, value in props.items():
        # a nested object's properties belong to another type: no cmdlet enum table applies
        vals = normalize_value(value, property_name=key, noun="", _depth=depth + 1)
        parts.append(f"{key}=" + " ".join(v.text for v in vals))
    return "@{" + "; ".join(parts) + "}"


# --- records -----------------------------------------------------------------------------

def to_fields(property_name: str, obj: Any, *, noun: str | None = None,
              errors: list[tuple[str, str]] | None = None
              ) -> tuple[list[FieldValue], list[str]]:
    """A property value → its record fields (lowercase name, repeated for multi-values).

    A value that must not be compared (``Normalized.error``) is appended to ``errors`` as
    (property, problem) when a list is given, else reported in the messages; either way it
    gives no field.
    """
    field_name = property_name.lower()
    values = normalize_value(obj, property_name=property_name, noun=noun)
    fields = [FieldValue(field_name, v.text, v.datatype) for v in values if not v.error]
    messages = [m for v in values for m in v.messages]
    for v in values:
        if v.error:
            if errors is not None:
                errors.append((property_name, v.error))
            else:
                messages.append(f"{property_name}: error: {v.error}")
    return fields, messages


# what one property value gives: (the value, its fields, messages, errors)
FieldMemo = dict[tuple[int, str, "str | None"], tuple[Any, tuple[FieldValue, ...],
                                                      tuple[str, ...], tuple[str, ...]]]
FIELD_MEMO_SIZE = 16384


def _memo_fields(memo: FieldMemo, property_name: str, obj: Any, noun: str | None,
                 errors: list[tuple[str, str]] | None
                 ) -> tuple[Sequence[FieldValue], Sequence[str]]:
    """`to_fields` of a value normalised before under the same property name and noun: the
    same (shared, immutable) fields. The memo holds the value, so its id stays its own."""
    key = (id(obj), property_name, noun)
    hit = memo.get(key)
    if hit is None or hit[0] is not obj:
        values = normalize_value(obj, property_name=property_name, noun=noun)
        field_name = property_name.lower()
        if len(memo) >= FIELD_MEMO_SIZE:
            memo.clear()
        hit = memo[key] = (obj, tuple(FieldValue(field_name, v.text, v.datatype)
                                      for v in values if not v.error),
                           tuple(m for v in values for m in v.messages),
                           tuple(v.error for v in values if v.error))
    _, fields, messages, errs = hit
    if errs:
        if errors is not None:
            errors.extend((property_name, e) for e in errs)
        else:
            messages = messages + tuple(f"{property_name}: error: {e}" for e in errs)
    return fields, messages


def record_from_object(obj: Any, select: Iterable[str] | None, *, noun: str | None = None,
                       errors: list[tuple[str, str]] | None = None,
                       memo: FieldMemo | None = None
                       ) -> tuple[list[FieldValue], list[str], list[str]]:
    """One pipeline object → (fields, messages, names of selected properties it lacks).

    ``select`` None or empty = every property of the object, in the object's order. ``noun``:
    the cmdlet noun (decides enum tables); ``errors``: receives (property, problem) for values
    that must not be compared (see `to_fields`). ``memo``: shared by the records made from the
    same objects (several OVAL objects reading one export), so a value is normalised once
    for each property name and noun it is read under.
    """
    # a plain dict (an offline export's object, property name → value) is read as it is
    props = obj if type(obj) is dict else properties(obj)
    if props is None:
        # a bare value (e.g. a string written to the pipeline): no properties to select
        return [], [f"pipeline object is a bare {type(obj).__name__}, not an object with "
                    "properties"], list(select or [])
    fields: list[FieldValue] = []
    messages: list[str] = []
    missing: list[str] = []
    names = list(select) if select else list(props)
    for name in names:
        found, value = lookup_property(props, name)
        if not found:
            missing.append(name)
            continue
        if memo is None:
            f, m = to_fields(name, value, noun=noun, errors=errors)
            fields.extend(f)
            messages.extend(m)
        else:
            mf, mm = _memo_fields(memo, name, value, noun, errors)
            fields.extend(mf)
            messages.extend(mm)
    return fields, messages, missing


def object_label(obj: Any, index: int) -> str:
    """How a message names one pipeline object: its Identity, else its Name (a certificate: its
    Thumbprint), else its position."""
    props = properties(obj) or {}
    for key in ("Identity", "Name", "Thumbprint"):   # a certificate has neither of the first
        found, value = lookup_property(props, key)
        if found and value is not None:
            try:
                text = normalize_value(value, property_name=key, noun="")[0].text
            except Exception:  # noqa: BLE001 - a label must never fail the collection
                text = ""
            if text:
                return f"'{text}'"
    return f"#{index + 1}"
