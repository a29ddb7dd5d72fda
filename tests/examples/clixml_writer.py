"""Typed PowerShell/.NET values and a writer for Export-Clixml files as Windows PowerShell 5.1
writes them (UTF-16LE with BOM, or UTF-8 with BOM for `-Encoding UTF8`; CRLF, two-space indent,
`Objs Version="1.1.0.1"`, TN/TNRef type lists and Obj RefIds shared across the document,
depth 2), in the shapes real Exchange objects take: TimeSpans as
Microsoft.Exchange.Data.EnhancedTimeSpan <Obj>s (ToString, Days/…/Ticks), a
<BA N="SerializationData"> on every configuration object (ConfigurableObject), an
X509Certificate2 as its RawData alone, and for objects that came through a remote session
"Deserialized." type names with PSComputerName / RunspaceId / PSShowComputerName.

Only what the example server needs: the values are described here, the server data lives in
example_server.py. Depth is explicit in the data: a top-level object's property values are
written as typed objects (depth 1), and the properties of those nested objects are plain
primitives or their ToString() text (depth 0), the way the serializer runs out of depth.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
from dataclasses import dataclass, field
from typing import Sequence, Union
from xml.sax.saxutils import escape, quoteattr

CLIXML_NS = "http://schemas.microsoft.com/powershell/2004/04"
EXCHANGE_ASM = ("Microsoft.Exchange.Data, Version=15.0.0.0, Culture=neutral, "
                "PublicKeyToken=31bf3856ad364e35")
ENUM_BASES = ("System.Enum", "System.ValueType", "System.Object")


# --- typed values -----------------------------------------------------------------------------

@dataclass(frozen=True)
class I32:
    value: int


@dataclass(frozen=True)
class I64:
    value: int


@dataclass(frozen=True)
class Guid:
    value: str


@dataclass(frozen=True)
class DateTime:
    value: str  # xs:dateTime as .NET writes it, e.g. 2026-01-12T09:14:03.1234567Z


@dataclass(frozen=True)
class TimeSpan:
    """An Exchange TimeSpan: Microsoft.Exchange.Data.EnhancedTimeSpan, which Export-Clixml
    writes as an <Obj> with its ToString ("00:05:00") and Days/Hours/.../Ticks properties;
    `enhanced=False`: a plain System.TimeSpan (<TS>)."""

    seconds: int
    enhanced: bool = True

    def dotnet_text(self) -> str:
        """TimeSpan.ToString(): [d.]hh:mm:ss."""
        days, rem = divmod(self.seconds, 86400)
        hours, rem = divmod(rem, 3600)
        minutes, secs = divmod(rem, 60)
        return (f"{days}." if days else "") + f"{hours:02d}:{minutes:02d}:{secs:02d}"

    def enhanced_obj(self) -> "Obj":
        days, rem = divmod(self.seconds, 86400)
        hours, rem = divmod(rem, 3600)
        minutes, secs = divmod(rem, 60)
        total = float(self.seconds)
        return Obj(("Microsoft.Exchange.Data.EnhancedTimeSpan", "System.ValueType",
                    "System.Object"), self.dotnet_text(), (
            ("Days", I32(days)), ("Hours", I32(hours)), ("Milliseconds", I32(0)),
            ("Minutes", I32(minutes)), ("Seconds", I32(secs)),
            ("Ticks", I64(self.seconds * 10_000_000)),
            ("TotalDays", Double(total / 86400)), ("TotalHours", Double(total / 3600)),
            ("TotalMilliseconds", Double(total * 1000)), ("TotalMinutes", Double(total / 60)),
            ("TotalSeconds", Double(total))))

    def xs_duration(self) -> str:
        """XmlConvert.ToString(TimeSpan): PT5M, PT10M, PT5S, P1D, PT0S."""
        if self.seconds == 0:
            return "PT0S"
        days, rem = divmod(self.seconds, 86400)
        hours, rem = divmod(rem, 3600)
        minutes, secs = divmod(rem, 60)
        out = "P" + (f"{days}D" if days else "")
        if hours or minutes or secs:
            out += "T" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") \
                + (f"{secs}S" if secs else "")
        return out


@dataclass(frozen=True)
class Double:
    value: float

    def text(self) -> str:
        return str(int(self.value)) if self.value.is_integer() else repr(self.value)


@dataclass(frozen=True)
class Bytes:
    """<BA>: a byte array, base64."""

    value: bytes


@dataclass(frozen=True)
class Uri:
    """<URI>: a System.Uri."""

    value: str


@dataclass(frozen=True)
class Nil:
    pass


NIL = Nil()


@dataclass(frozen=True)
class Enum:
    """A .NET enum value: <Obj> with the type list, <ToString> and <I32>."""

    type_name: str
    text: str
    value: int


@dataclass(frozen=True)
class Obj:
    """A nested object at depth 1: type names, ToString text and depth-0 properties."""

    type_names: tuple[str, ...]
    to_string: str | None
    props: tuple[tuple[str, "Value"], ...] = ()


@dataclass(frozen=True)
class Collection:
    """A collection (MultiValuedProperty, array): <Obj> with type names and <LST>."""

    type_names: tuple[str, ...]
    items: tuple["Value", ...] = ()


Value = Union[str, bool, int, I32, I64, Double, Bytes, Uri, Guid, DateTime, TimeSpan, Nil, Enum,
              Obj, Collection]


def byte_quantified_text(n_bytes: int) -> str:
    """ByteQuantifiedSize.ToString() for whole units: "10 MB (10,485,760 bytes)"."""
    for unit, size in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n_bytes >= size:
            if n_bytes % size:
                raise ValueError(f"{n_bytes} is not a whole number of {unit}")
            return f"{n_bytes // size} {unit} ({n_bytes:,} bytes)"
    return f"{n_bytes} B ({n_bytes:,} bytes)"


def byte_size(n_bytes: int) -> Obj:
    """Microsoft.Exchange.Data.ByteQuantifiedSize at depth 1."""
    return Obj(("Microsoft.Exchange.Data.ByteQuantifiedSize", "System.ValueType",
                "System.Object"), byte_quantified_text(n_bytes))


def unlimited_bytes(n_bytes: int | None) -> Obj:
    """Unlimited<ByteQuantifiedSize> at depth 1 (None = Unlimited)."""
    tn = (f"Microsoft.Exchange.Data.Unlimited`1[[Microsoft.Exchange.Data.ByteQuantifiedSize, "
          f"{EXCHANGE_ASM}]]", "System.ValueType", "System.Object")
    if n_bytes is None:
        return Obj(tn, "Unlimited", (("IsUnlimited", True),))
    text = byte_quantified_text(n_bytes)
    return Obj(tn, text, (("IsUnlimited", False), ("Value", text)))


def unlimited_int(value: int | None) -> Obj:
    """Unlimited<Int32> at depth 1 (None = Unlimited)."""
    tn = ("Microsoft.Exchange.Data.Unlimited`1[[System.Int32, mscorlib, Version=4.0.0.0, "
          "Culture=neutral, PublicKeyToken=b77a5c561934e089]]", "System.ValueType",
          "System.Object")
    if value is None:
        return Obj(tn, "Unlimited", (("IsUnlimited", True),))
    return Obj(tn, str(value), (("IsUnlimited", False), ("Value", I32(value))))


def enum(type_name: str, members: dict[str, int], text: str) -> Enum:
    """An enum value by name; a flags value as names joined by ", " (ascending, like .NET)."""
    names = [n.strip() for n in text.split(",")]
    value = 0
    for n in names:
        value |= members[n]
    canonical = ", ".join(sorted(names, key=lambda n: members[n]))
    if canonical != text:
        raise ValueError(f"{text!r} is not in .NET order ({canonical!r})")
    return Enum(type_name, text, value)


def mvp(element_type: str, items: Sequence[Value]) -> Collection:
    """Microsoft.Exchange.Data.MultiValuedProperty<T> at depth 1 (elements at depth 0)."""
    return Collection((f"Microsoft.Exchange.Data.MultiValuedProperty`1[[{element_type}]]",
                       "Microsoft.Exchange.Data.MultiValuedPropertyBase", "System.Object"),
                      tuple(items))


# --- top-level pipeline objects ---------------------------------------------------------------

@dataclass
class PipelineObject:
    """One object of a cmdlet's output. `raw_data`: an X509Certificate2 (ExchangeCertificate),
    which the serializer writes as its RawData alone (its other properties stay what the live
    object has, for Select-Object)."""

    type_names: tuple[str, ...]
    to_string: str | None
    props: list[tuple[str, Value]] = field(default_factory=list)
    raw_data: bytes | None = None
    member_set: bool = False   # a PSCustomObject: its properties are note properties (<MS>)


# Exchange configuration objects carry the binary form Exchange rehydrates them from
SERIALIZABLE_BASE = "Microsoft.Exchange.Data.ConfigurableObject"


def serialization_data(obj: PipelineObject) -> bytes:
    """A stand-in for the BinaryFormatter blob (its header, then bytes fixed by the object)."""
    seed = hashlib.sha256(repr((obj.type_names, obj.to_string)).encode("utf-8")).digest()
    return (b"\x00\x01\x00\x00\x00\xff\xff\xff\xff\x01\x00\x00\x00\x00\x00\x00\x00\x0c\x02"
            + seed * 8)


# --- the writer -------------------------------------------------------------------------------

class ClixmlWriter:
    """Serializes pipeline objects the way Export-Clixml does (element order and spacing)."""

    def __init__(self, *, remote: tuple[str, str] | None = None) -> None:
        """`remote`: (computer name, runspace id) of the remote session the objects came
        through (Exchange Management Shell on a Mailbox server): "Deserialized." type names
        and the PSComputerName / RunspaceId / PSShowComputerName notes PowerShell adds."""
        self.remote = remote
        self.lines: list[str] = []
        self._obj_ref = 0
        self._tn_refs: dict[tuple[str, ...], int] = {}

    def _emit(self, depth: int, text: str) -> None:
        self.lines.append("  " * depth + text)

    def _next_obj(self) -> int:
        ref = self._obj_ref
        self._obj_ref += 1
        return ref

    def _type_names(self, depth: int, names: Sequence[str]) -> None:
        key = tuple(names)
        if key in self._tn_refs:
            self._emit(depth, f'<TNRef RefId="{self._tn_refs[key]}" />')
            return
        ref = len(self._tn_refs)
        self._tn_refs[key] = ref
        self._emit(depth, f'<TN RefId="{ref}">')
        for t in names:
            self._emit(depth + 1, f"<T>{escape(t)}</T>")
        self._emit(depth, "</TN>")

    def _value(self, depth: int, name: str | None, value: Value) -> None:
        n = f" N={quoteattr(name)}" if name is not None else ""
        if isinstance(value, Nil):
            self._emit(depth, f"<Nil{n} />")
        elif isinstance(value, bool):
            self._emit(depth, f"<B{n}>{'true' if value else 'false'}</B>")
        elif isinstance(value, I32) or (isinstance(value, int) and not isinstance(value, bool)):
            number = value.value if isinstance(value, I32) else value
            self._emit(depth, f"<I32{n}>{number}</I32>")
        elif isinstance(value, I64):
            self._emit(depth, f"<I64{n}>{value.value}</I64>")
        elif isinstance(value, str):
            self._emit(depth, f"<S{n}>{_text(value)}</S>")
        elif isinstance(value, Guid):
            self._emit(depth, f"<G{n}>{value.value}</G>")
        elif isinstance(value, DateTime):
            self._emit(depth, f"<DT{n}>{value.value}</DT>")
        elif isinstance(value, TimeSpan) and value.enhanced:
            self._value(depth, name, value.enhanced_obj())
        elif isinstance(value, TimeSpan):
            self._emit(depth, f"<TS{n}>{value.xs_duration()}</TS>")
        elif isinstance(value, Double):
            self._emit(depth, f"<Db{n}>{value.text()}</Db>")
        elif isinstance(value, Uri):
            self._emit(depth, f"<URI{n}>{_text(value.value)}</URI>")
        elif isinstance(value, Bytes):
            self._emit(depth, f"<BA{n}>{base64.b64encode(value.value).decode('ascii')}</BA>")
        elif isinstance(value, Enum):
            self._emit(depth, f'<Obj{n} RefId="{self._next_obj()}">')
            self._type_names(depth + 1, (value.type_name,) + ENUM_BASES)
            self._emit(depth + 1, f"<ToString>{_text(value.text)}</ToString>")
            self._emit(depth + 1, f"<I32>{value.value}</I32>")
            self._emit(depth, "</Obj>")
        elif isinstance(value, Obj):
            self._emit(depth, f'<Obj{n} RefId="{self._next_obj()}">')
            self._type_names(depth + 1, value.type_names)
            if value.to_string is not None:
                self._emit(depth + 1, f"<ToString>{_text(value.to_string)}</ToString>")
            self._props(depth + 1, value.props)
            self._emit(depth, "</Obj>")
        elif isinstance(value, Collection):
            self._emit(depth, f'<Obj{n} RefId="{self._next_obj()}">')
            self._type_names(depth + 1, value.type_names)
            if value.items:
                self._emit(depth + 1, "<LST>")
                for item in value.items:
                    self._value(depth + 2, None, item)
                self._emit(depth + 1, "</LST>")
            else:
                self._emit(depth + 1, "<LST />")
            self._emit(depth, "</Obj>")
        else:  # pragma: no cover - a data error in example_server.py
            raise TypeError(f"{name}: no CLIXML form for {type(value).__name__}")

    def _props(self, depth: int, props: Sequence[tuple[str, Value]]) -> None:
        if not props:
            return
        self._emit(depth, "<Props>")
        for name, value in props:
            self._value(depth + 1, name, value)
        self._emit(depth, "</Props>")

    def write(self, objects: Sequence[PipelineObject]) -> str:
        head = f'<Objs Version="1.1.0.1" xmlns="{CLIXML_NS}"'
        if not objects:  # an empty pipeline: the root element only
            self.lines = [head + " />"]
        else:
            self.lines = [head + ">"]
            for obj in objects:
                self._emit(1, f'<Obj RefId="{self._next_obj()}">')
                names = obj.type_names
                if self.remote is not None:
                    names = tuple(f"Deserialized.{t}" for t in names)
                self._type_names(2, names)
                if obj.to_string is not None:
                    self._emit(2, f"<ToString>{_text(obj.to_string)}</ToString>")
                props = list(obj.props)
                if obj.raw_data is not None:   # X509Certificate2: RawData alone
                    props = [("RawData", Bytes(obj.raw_data))]
                elif SERIALIZABLE_BASE in obj.type_names:
                    props.append(("SerializationData", Bytes(serialization_data(obj))))
                if obj.member_set:
                    self._emit(2, "<MS>")
                    for pname, pvalue in props:
                        self._value(3, pname, pvalue)
                    if self.remote is None:
                        self._emit(2, "</MS>")
                else:
                    self._props(2, props)
                if self.remote is not None:
                    computer, runspace = self.remote
                    if not obj.member_set:
                        self._emit(2, "<MS>")
                    self._value(3, "PSComputerName", computer)
                    self._value(3, "RunspaceId", Guid(runspace))
                    self._value(3, "PSShowComputerName", False)
                    self._emit(2, "</MS>")
                self._emit(1, "</Obj>")
            self.lines.append("</Objs>")
        return "\r\n".join(self.lines)


def _text(value: str) -> str:
    """Element text as the PowerShell serializer writes it (control characters as _xHHHH_)."""
    out = []
    for ch in value:
        if ord(ch) < 0x20 and ch not in "\t\n\r":
            out.append(f"_x{ord(ch):04X}_")
        else:
            out.append(ch)
    return escape("".join(out))


def clixml_bytes(objects: Sequence[PipelineObject], *, encoding: str = "utf-16",
                 remote: tuple[str, str] | None = None) -> bytes:
    """The file: `encoding` "utf-16" (Windows PowerShell 5.1's default: UTF-16LE with BOM) or
    "utf-8" (`Export-Clixml -Encoding UTF8` in 5.1: UTF-8 with BOM)."""
    text = ClixmlWriter(remote=remote).write(objects)
    if encoding == "utf-16":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    if encoding == "utf-8":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    raise ValueError(f"no such Export-Clixml encoding: {encoding}")
