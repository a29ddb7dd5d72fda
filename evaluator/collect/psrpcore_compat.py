"""psrpcore's deserializer, with the one psrpcore 0.3 defect that made collection quadratic
repaired.

psrpcore 0.3.1 (the latest release) decorates `PSDuration`'s comparison and arithmetic methods
with `_ensure_types_and_self`, whose wrapper appends ``type(self)`` to a list kept in its
closure on *every* call and then checks ``isinstance(other, tuple(that list))``. Deserializing
a ``<TS>`` compares the PSDuration with psrpcore's unset-value sentinel (`PSPropertyInfo`'s
``value != _UnsetValue``, again in ``get_value``), so every TimeSpan read made every later one
slower: the process-wide list held one entry per TimeSpan ever read (1,000 full Receive
connectors with the whole STIG: 17 s instead of 2 s, growing with the square of the count),
and never shrank.

`repair_psduration` puts behind each of those methods the check the wrapper means — the other
operand is a `datetime.timedelta` (PSDuration is one, so the appended types never widened it),
else ``NotImplemented`` — and calls the original method, so results are unchanged. It touches
only wrappers of exactly that shape (free variables ``func`` and ``types_to_check``); a
psrpcore whose methods look different is left alone. Every module that hands CLIXML to
psrpcore imports `deserialize` from here.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any, Callable

from psrpcore.types import PSCryptoProvider, PSDuration, PSString, deserialize

_METHODS = ("__add__", "__sub__", "__rsub__", "__eq__", "__ne__", "__le__", "__lt__", "__ge__",
            "__gt__")


def _checked(func: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    @functools.wraps(func)
    def method(self: Any, other: Any) -> Any:
        if not isinstance(other, datetime.timedelta):
            return NotImplemented
        return func(self, other)
    method.__stigscap_repaired__ = True  # type: ignore[attr-defined]
    return method


def repair_psduration(cls: type = PSDuration) -> list[str]:
    """Replace the growing-list wrappers of `cls`'s operators; returns the names replaced."""
    replaced = []
    for name in _METHODS:
        wrapper = cls.__dict__.get(name)
        code = getattr(wrapper, "__code__", None)
        closure = getattr(wrapper, "__closure__", None)
        if code is None or closure is None or set(code.co_freevars) != {"func",
                                                                         "types_to_check"}:
            continue
        cells = dict(zip(code.co_freevars, closure))
        func = cells["func"].cell_contents
        if not callable(func) or not isinstance(cells["types_to_check"].cell_contents, list):
            continue
        setattr(cls, name, _checked(func))
        replaced.append(name)
    return replaced


REPAIRED = tuple(repair_psduration())

__all__ = ["PSCryptoProvider", "PSString", "REPAIRED", "deserialize", "repair_psduration"]
