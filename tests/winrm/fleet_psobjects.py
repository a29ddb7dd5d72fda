"""The example Edge server (tests/examples/example_server.py) as psrpcore objects, for the
loopback WinRM test server: one adapter from the typed CLIXML values of clixml_writer to the
psrpcore objects a real Exchange host would send over PSRP, plus per-host overrides so a
simulated host can deviate from the example.

Typed values map as Exchange remoting sends them:
- bool → <B>, int / I32 → <I32>, I64 → <I64>, Guid → <G>, DateTime → <DT>, TimeSpan → the
  EnhancedTimeSpan <Obj> Exchange writes (<TS> for a plain System.TimeSpan)
  (psrpcore PSDuration), Nil → <Nil>;
- Enum → a psrpcore enum (type names ending System.Enum, <ToString> the .NET text, <I32>);
- Obj (ADObjectId, ByteQuantifiedSize, Unlimited<T>, SmtpDomain, ServerVersion ...) → a PSObject
  with the type names, the ToString text and its depth-0 properties;
- Collection (MultiValuedProperty) → a psrpcore PSList carrying the MultiValuedProperty type
  names (<Obj><TN>…<LST>).

`ExampleHost` is an `ExchangeHost` that serves every Get-* cmdlet the example exports, from
`example_server.exports()` with its overrides applied.
"""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from psrpcore.types import (ErrorCategory, PSByteArray, PSDateTime, PSDuration, PSEnumBase, PSInt64, PSList,
                            PSNoteProperty, PSObject, PSType)
from tests.winrm.winrm_testserver import ExchangeHost, _error_record, _only, _Terminating, full_object

from tests.examples import clixml_writer as cw
from tests.examples import example_server as ex

# switch parameters of the cmdlets the content calls with parameters
SWITCHES = {"get-exchangeserver": {"status"}}


@lru_cache(maxsize=None)
def _enum_class(type_name: str, text: str, value: int) -> type:
    """A psrpcore enum type whose one member prints as `text` (the .NET ToString, flags joined
    by ", ") with the integer `value`: serialized exactly like the .NET enum value."""
    cls = PSEnumBase(f"Enum_{zlib.crc32(f'{type_name}={text}'.encode()):08x}", {text: value})
    return PSType([type_name], rehydrate=False)(cls)


def ps_value(value: cw.Value) -> Any:
    """One clixml_writer typed value → the psrpcore object PSRP serializes the same way."""
    if isinstance(value, cw.Nil):
        return None
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, cw.I32):
        return int(value.value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, cw.I64):
        return PSInt64(value.value)
    if isinstance(value, cw.Double):
        return float(value.value)
    if isinstance(value, cw.Bytes):
        return PSByteArray(value.value)
    if isinstance(value, cw.Guid):
        return uuid.UUID(value.value)
    if isinstance(value, cw.DateTime):
        return PSDateTime.fromisoformat(value.value.replace("Z", "+00:00"))
    if isinstance(value, cw.TimeSpan):
        # an Exchange setting is a Microsoft.Exchange.Data.EnhancedTimeSpan object over
        # remoting too (ToString plus Days/…/Ticks), a plain System.TimeSpan only when asked
        if value.enhanced:
            return ps_value(value.enhanced_obj())
        return PSDuration(seconds=value.seconds)
    if isinstance(value, cw.Enum):
        cls = _enum_class(value.type_name, value.text, value.value)
        return cls(value.value)
    if isinstance(value, cw.Obj):
        o = PSObject()
        o.PSObject.type_names = list(value.type_names)
        if value.to_string is not None:
            o.PSObject.to_string = value.to_string
        for name, v in value.props:
            o.PSObject.adapted_properties.append(PSNoteProperty(name, ps_value(v)))
        return o
    if isinstance(value, cw.Collection):
        lst = PSList(ps_value(v) for v in value.items)
        lst.PSObject.type_names = list(value.type_names)
        return lst
    raise TypeError(f"no psrpcore form for {type(value).__name__}")


# --------------------------------------------------------------------------- overrides
Override = Callable[[list[cw.PipelineObject]], list[cw.PipelineObject]]


def set_property(prop: str, value: cw.Value, *, where: Callable[[cw.PipelineObject], bool] | None = None
                 ) -> Override:
    """Override: set `prop` to `value` on every object (or those `where` selects)."""
    def apply(objs: list[cw.PipelineObject]) -> list[cw.PipelineObject]:
        out = []
        for o in objs:
            if where is None or where(o):
                props = [(n, value if n == prop else v) for n, v in o.props]
                if prop not in {n for n, _ in o.props}:
                    raise KeyError(f"{o.to_string}: no property {prop}")
                o = cw.PipelineObject(o.type_names, o.to_string, props)
            out.append(o)
        return out
    return apply


def named(name: str) -> Callable[[cw.PipelineObject], bool]:
    return lambda o: dict(o.props).get("Name") == name


@dataclass
class ExampleHost(ExchangeHost):
    """EDGE01 of the built-in example, served live; `overrides` maps a cmdlet name
    (Get-ReceiveConnector) to changes applied to the example's objects."""

    overrides: dict[str, list[Override]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.name = ex.HOST
        self.domain = ex.FQDN.split(".", 1)[1]

    def exports(self) -> dict[str, list[cw.PipelineObject]]:
        data = ex.exports()
        for cmdlet, changes in self.overrides.items():
            if cmdlet not in data:
                raise KeyError(f"the example has no {cmdlet}")
            for change in changes:
                data[cmdlet] = change(data[cmdlet])
        return data

    def serve(self, cmdlet: str, params: dict[str, Any]) -> list[PSObject] | None:
        """The pipeline objects of `cmdlet` (None: not an example cmdlet)."""
        data = {k.lower(): v for k, v in self.exports().items()}
        objs = data.get(cmdlet.lower())
        if objs is None:
            return None
        switches = SWITCHES.get(cmdlet.lower(), set())
        _only(params, {"identity", "domaincontroller"} | switches, cmdlet)
        for name in switches & set(params):
            if not isinstance(params[name], bool):
                # PowerShell's binder: a SwitchParameter takes only $true/$false or a number
                raise _Terminating(_error_record(
                    f"Cannot process argument transformation on parameter '{name}'. Cannot convert "
                    f"value \"System.String\" to type \"System.Management.Automation.SwitchParameter\". "
                    "Boolean parameters accept only Boolean values and numbers, like $True, $False, "
                    "1 or 0.", f"ParameterArgumentTransformationError,{cmdlet}",
                    ErrorCategory.InvalidData,
                    "System.Management.Automation.ParameterBindingArgumentTransformationException"))
        return [full_pipeline_object(o) for o in objs]


def full_pipeline_object(obj: cw.PipelineObject) -> PSObject:
    """A top-level object; Select-Object on the test server takes its full property values."""
    props = {name: ps_value(v) for name, v in obj.props}
    return full_object(list(obj.type_names), props, obj.to_string)
