"""Write an XCCDF 1.2 Tailoring document for a data stream's benchmark (`stigscap tailor`):
one Profile that extends a benchmark profile, with rules selected or unselected and Values set
literally or by selector. Every id is checked against the benchmark first (rules by full id,
short id, or STIG id such as EX13-EG-000340; Values by full or short id), so a typo is a
one-line error, never a tailoring that silently changes nothing. Pure: parsed data stream in,
bytes out; the caller gives the time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lxml import etree

from stigscap.schemas.clock import as_utc, naive_utc
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.templating import environment

from .datastream import open_datastream
from .engine import CompiledBenchmark


@dataclass
class Tailoring:
    id: str
    benchmark_href: str
    benchmark_id: str
    time: str
    version: str
    profile_id: str
    extends: str
    title: str
    description: str = ""
    selections: list[tuple[str, bool]] = field(default_factory=list)
    set_values: list[tuple[str, str]] = field(default_factory=list)
    refine_values: list[tuple[str, str]] = field(default_factory=list)


def _value_id(bench: CompiledBenchmark, text: str) -> str:
    full = bench.full_id("value", text)
    for candidate in (text, full):
        if candidate in bench.values:
            return candidate
    raise StigscapError(f"no Value {text!r} in benchmark {bench.id}")


def build_tailoring(datastream: etree._Element, *, profile: str, timestamp: str | dt.datetime,
                    select: Sequence[str] = (), unselect: Sequence[str] = (),
                    set_values: Mapping[str, str] | None = None,
                    refine_values: Mapping[str, str] | None = None,
                    benchmark_href: str = "ds.xml", new_profile: str | None = None,
                    title: str | None = None, source: str = "<data stream>") -> Tailoring:
    """The tailoring of `profile` of the data stream's benchmark, ids checked."""
    sds = open_datastream(datastream, source=source)
    bench = CompiledBenchmark(sds.benchmark)
    base = bench.profile_id(profile)
    short = re.sub(r"^xccdf_[^_]+_profile_", "", base)
    new_id = bench.full_id("profile", new_profile or f"{short}_tailored")
    if new_id in bench.profiles:
        raise StigscapError(f"profile {new_id} exists in the benchmark: give --new-profile")
    both = {bench.rule_id(r) for r in select} & {bench.rule_id(r) for r in unselect}
    if both:
        raise StigscapError(f"rule selected and unselected at once: {', '.join(sorted(both))}")
    selections = [(bench.rule_id(r), True) for r in select] + \
                 [(bench.rule_id(r), False) for r in unselect]
    values = [(_value_id(bench, k), v) for k, v in (set_values or {}).items()]
    refines = []
    for k, selector in (refine_values or {}).items():
        vid = _value_id(bench, k)
        known = bench.values[vid].selectors
        if selector not in known:
            raise StigscapError(f"Value {vid} has no selector {selector!r}; selectors: "
                                f"{', '.join(known) or '(none)'}")
        refines.append((vid, selector))
    if not (selections or values or refines):
        raise StigscapError("nothing to tailor: give --select, --unselect, --set-value or "
                            "--refine-value")
    when = as_utc(timestamp)
    base_title = bench.profiles[base].title
    return Tailoring(
        id=f"xccdf_{bench.id_namespace}_tailoring_{short}",
        benchmark_href=benchmark_href, benchmark_id=bench.id or "",
        time=naive_utc(when), version="1", profile_id=new_id, extends=base,
        title=title or f"{base_title} [tailored]", selections=selections, set_values=values,
        refine_values=refines)


def render_tailoring(t: Tailoring) -> bytes:
    """The Tailoring document (XML shape in templates/tailoring.xml.j2)."""
    env = environment("stigscap.evaluator", autoescape=True, keep_trailing_newline=True)
    return env.get_template("tailoring.xml.j2").render(t=t).encode("utf-8")
