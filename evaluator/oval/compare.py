"""OVAL 5.11.2 datatypes and operations: compare one collected value with one stated value.

`compile_comparison(datatype, operation, stated)` returns a function `f(collected_text) -> bool`
that raises `CompareError` (message included) when the comparison cannot be made: a value that
cannot be cast to the datatype, an operation the datatype does not allow, a bad regular
expression. The caller turns `CompareError` into the OVAL result "error". The stated value is
parsed (and a regex compiled) once, so the returned function is cheap to call per item.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import string
from collections.abc import Callable
from typing import TypeVar

Comparison = Callable[[str], bool]


class CompareError(Exception):
    """The comparison gives the OVAL result 'error'; str() is the reason."""


# ---------------------------------------------------------------- casting

_INT_RE = re.compile(r"\s*[+-]?[0-9]+\s*\Z")
_VERSION_RE = re.compile(r"[0-9]+(?:[^0-9][0-9]+)*\Z")
_FLOAT_RE = re.compile(r"\s*(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|INF|-INF|NaN)\s*\Z")


def to_int(text: str) -> int:
    if text is None or not _INT_RE.match(text):
        raise CompareError(f"{text!r} is not an int")
    return int(text)


def to_float(text: str) -> float:
    if text is None or not _FLOAT_RE.match(text):
        raise CompareError(f"{text!r} is not a float")
    return float(text)


def to_boolean(text: str) -> bool:
    t = (text or "").strip()
    if t in ("true", "1"):
        return True
    if t in ("false", "0"):
        return False
    raise CompareError(f"{text!r} is not a boolean (true, false, 1 or 0)")


def to_version(text: str) -> tuple[int, ...]:
    t = (text or "").strip()
    if not _VERSION_RE.match(t):
        raise CompareError(f"{text!r} is not a version")
    return tuple(int(p) for p in re.findall(r"[0-9]+", t))


def _pad(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    n = max(len(a), len(b))
    return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))


def to_binary(text: str) -> bytes:
    t = (text or "").strip()
    if len(t) % 2 or not re.fullmatch(r"[0-9a-fA-F]*", t):
        raise CompareError(f"{text!r} is not hex binary")
    return bytes.fromhex(t)


def to_ip(text: str, version: int) -> tuple[int, int]:
    t = (text or "").strip()
    try:
        if version == 4:
            # leading zeros are allowed: normalise each dotted part
            addr, _, pfx = t.partition("/")
            parts = addr.split(".")
            if len(parts) != 4:
                raise ValueError
            addr = ".".join(str(int(p)) for p in parts)
            if pfx and "." in pfx:
                pfx = ".".join(str(int(p)) for p in pfx.split("."))
            net: ipaddress.IPv4Network | ipaddress.IPv6Network = ipaddress.IPv4Network(
                f"{addr}/{pfx}" if pfx else addr, strict=False)
        else:
            net = ipaddress.IPv6Network(t, strict=False)
    except (ValueError, ipaddress.AddressValueError, ipaddress.NetmaskValueError):
        raise CompareError(f"{text!r} is not an ipv{version}_address") from None
    return int(net.network_address), net.prefixlen


# ------------------------------------------------------- evr (rpmvercmp)

_EVR_SEG = re.compile(r"([0-9]+)|([A-Za-z]+)|(~)|(\^)")
# rpmvercmp's segments: ASCII letters and digits (rpm's risalnum); anything else separates
_EVR_KEEP = frozenset(string.ascii_letters + string.digits + "~^")


def _rpmvercmp(a: str, b: str) -> int:
    if a == b:
        return 0
    i = j = 0
    while True:
        # skip separators (anything but ASCII letters and digits, ~ and ^)
        while i < len(a) and a[i] not in _EVR_KEEP:
            i += 1
        while j < len(b) and b[j] not in _EVR_KEEP:
            j += 1
        ca = a[i] if i < len(a) else ""
        cb = b[j] if j < len(b) else ""
        if ca == "~" or cb == "~":
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i += 1
            j += 1
            continue
        if ca == "^" or cb == "^":
            if not ca:
                return -1
            if not cb:
                return 1
            if ca != "^":
                return 1
            if cb != "^":
                return -1
            i += 1
            j += 1
            continue
        if not ca or not cb:
            break
        ma = _EVR_SEG.match(a, i)
        mb = _EVR_SEG.match(b, j)
        assert ma is not None and mb is not None   # both start with an ASCII letter or digit
        sa, sb = ma.group(0), mb.group(0)
        isnum = ma.group(1) is not None
        if isnum != (mb.group(1) is not None):
            return 1 if isnum else -1
        if isnum:
            na, nb = int(sa), int(sb)
            if na != nb:
                return 1 if na > nb else -1
        elif sa != sb:
            return 1 if sa > sb else -1
        i, j = ma.end(), mb.end()
    if i >= len(a) and j >= len(b):
        return 0
    return -1 if i >= len(a) else 1


def _split_evr(text: str) -> tuple[str, str, str]:
    t = (text or "").strip()
    epoch, sep, rest = t.partition(":")
    if not sep:
        epoch, rest = "0", t
    version, _, release = rest.rpartition("-") if "-" in rest else (rest, "", "")
    return epoch or "0", version, release


def evr_cmp(a: str, b: str) -> int:
    ea, va, ra = _split_evr(a)
    eb, vb, rb = _split_evr(b)
    for x, y in ((ea, eb), (va, vb), (ra, rb)):
        r = _rpmvercmp(x, y)
        if r:
            return r
    return 0


# ------------------------------------------------------- regular expressions

_POSIX_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r" \t\n\r\f\v", "blank": r" \t", "punct": r"!-/:-@\[-`{-~", "xdigit": "0-9A-Fa-f",
    "word": r"\w", "cntrl": r"\x00-\x1f\x7f", "print": r"\x20-\x7e", "graph": r"\x21-\x7e",
}


def perl_to_python_regex(pattern: str) -> str:
    """Translate the Perl 5 constructs OVAL allows that Python's `re` spells differently."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            d = pattern[i + 1]
            if d == "Q":  # \Q...\E literal span
                end = pattern.find("\\E", i + 2)
                lit = pattern[i + 2:] if end < 0 else pattern[i + 2:end]
                out.append(re.escape(lit))
                i = n if end < 0 else end + 2
                continue
            if d == "z":
                out.append(r"\Z")
            elif d == "Z":
                out.append(r"(?=\n?\Z)")
            elif d == "k" and i + 2 < n and pattern[i + 2] in "<{'":
                close = {"<": ">", "{": "}", "'": "'"}[pattern[i + 2]]
                end = pattern.find(close, i + 3)
                if end < 0:
                    out.append(pattern[i:i + 2])
                    i += 2
                    continue
                out.append(f"(?P={pattern[i + 3:end]})")
                i = end + 1
                continue
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if c == "[" and pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            name = pattern[i + 2:end] if end > 0 else ""
            neg = name.startswith("^")
            if neg:
                name = name[1:]
            if name in _POSIX_CLASSES and not neg:
                out.append(_POSIX_CLASSES[name])
                i = end + 2
                continue
        if c == "(" and pattern.startswith("(?<", i) and i + 3 < n and pattern[i + 3] not in "=!":
            out.append("(?P<")
            i += 3
            continue
        if c == "(" and pattern.startswith("(?'", i):
            end = pattern.find("'", i + 3)
            if end > 0:
                out.append(f"(?P<{pattern[i + 3:end]}>")
                i = end + 1
                continue
        out.append(c)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def compile_regex(pattern: str) -> re.Pattern[str]:
    """Perl-style pattern → compiled Python regex (ASCII classes like PCRE's default)."""
    try:
        return re.compile(perl_to_python_regex(pattern), re.ASCII)
    except re.error as exc:
        raise CompareError(f"invalid regular expression {pattern!r}: {exc}") from None


# ------------------------------------------------------- operations

STRING_OPS = ("equals", "not equal", "case insensitive equals", "case insensitive not equal",
              "pattern match")
ORDER_OPS = ("equals", "not equal", "greater than", "greater than or equal", "less than",
             "less than or equal")


_T = TypeVar("_T")


def _ordered(op: str, cmp: Callable[[_T, _T], int], stated: _T) -> Callable[[_T], bool]:
    if op == "equals":
        return lambda v: cmp(v, stated) == 0
    if op == "not equal":
        return lambda v: cmp(v, stated) != 0
    if op == "greater than":
        return lambda v: cmp(v, stated) > 0
    if op == "greater than or equal":
        return lambda v: cmp(v, stated) >= 0
    if op == "less than":
        return lambda v: cmp(v, stated) < 0
    if op == "less than or equal":
        return lambda v: cmp(v, stated) <= 0
    raise KeyError(op)


def _num_cmp(a: float, b: float) -> int:
    return (a > b) - (a < b)


def _version_cmp(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    a, b = _pad(a, b)
    return (a > b) - (a < b)


def _raiser(msg: str) -> Comparison:
    def fail(_value: str) -> bool:
        raise CompareError(msg)
    return fail


def compile_comparison(datatype: str, operation: str, stated: str | None) -> Comparison:
    """f(collected) -> bool for `collected <operation> stated` under `datatype`.

    Problems found with the stated value itself (bad regex, not an int, unsupported
    operation) are deferred into the returned function, so evaluation reports them as an
    error result on the entity instead of failing the whole run.
    """
    datatype = datatype or "string"
    operation = operation or "equals"
    try:
        return _compile(datatype, operation, stated)
    except CompareError as exc:
        return _raiser(str(exc))
    except KeyError:
        return _raiser(f"operation '{operation}' is not allowed for datatype '{datatype}'")


def _compile(datatype: str, op: str, stated: str | None) -> Comparison:
    s = "" if stated is None else stated
    if datatype == "string":
        if op == "equals":
            return lambda v: v == s
        if op == "not equal":
            return lambda v: v != s
        if op == "case insensitive equals":
            ls = s.lower()
            return lambda v: v.lower() == ls
        if op == "case insensitive not equal":
            ls = s.lower()
            return lambda v: v.lower() != ls
        if op == "pattern match":
            rx = compile_regex(s)
            search = rx.search
            return lambda v: search(v) is not None
        raise KeyError(op)
    if datatype == "int":
        si = to_int(s)
        if op == "bitwise and":
            return lambda v: (to_int(v) & si) == si
        if op == "bitwise or":
            return lambda v: (to_int(v) | si) == si
        fi = _ordered(op, _num_cmp, si)
        return lambda v: fi(to_int(v))
    if datatype == "float":
        sf = to_float(s)
        ff = _ordered(op, _num_cmp, sf)
        return lambda v: ff(to_float(v))
    if datatype == "boolean":
        sb = to_boolean(s)
        if op == "equals":
            return lambda v: to_boolean(v) == sb
        if op == "not equal":
            return lambda v: to_boolean(v) != sb
        raise KeyError(op)
    if datatype == "version":
        sver = to_version(s)
        fver = _ordered(op, _version_cmp, sver)
        return lambda v: fver(to_version(v))
    if datatype == "binary":
        sbin = to_binary(s)
        if op == "equals":
            return lambda v: to_binary(v) == sbin
        if op == "not equal":
            return lambda v: to_binary(v) != sbin
        raise KeyError(op)
    if datatype in ("evr_string", "debian_evr_string"):
        if datatype == "debian_evr_string":
            raise CompareError("datatype 'debian_evr_string' is not supported")
        return _ordered(op, evr_cmp, s)
    if datatype in ("ipv4_address", "ipv6_address"):
        ver = 4 if datatype == "ipv4_address" else 6
        sa, sp = to_ip(s, ver)
        width = 32 if ver == 4 else 128

        def masked(addr: int, plen: int) -> int:
            return addr >> (width - plen) << (width - plen) if plen < width else addr

        sa = masked(sa, sp)
        if op in ("subset of", "superset of"):
            def sub(v: str) -> bool:
                a, p = to_ip(v, ver)
                a = masked(a, p)
                if op == "subset of":   # collected ⊆ stated
                    return p >= sp and masked(a, sp) == sa
                return sp >= p and masked(sa, p) == a
            return sub
        f = _ordered(op, _num_cmp, sa)

        def ordered(v: str) -> bool:
            a, p = to_ip(v, ver)
            a = masked(a, p)
            if op in ("equals", "not equal"):
                return (a == sa and p == sp) == (op == "equals")
            if p != sp:
                raise CompareError(f"prefix lengths differ ({v!r} vs {s!r})")
            return f(a)
        return ordered
    raise CompareError(f"datatype '{datatype}' is not supported")


def compare(datatype: str, operation: str, collected: str, stated: str | None) -> bool:
    """One-shot comparison (raises CompareError). For repeated use, compile_comparison."""
    return compile_comparison(datatype, operation, stated)(collected)
