"""DISA's manual STIG benchmarks (XCCDF 1.1, `U_*_Manual-xccdf.xml`) as content-model facts.

`read_disa_benchmark(path)` reads the STIG with the one XCCDF reader
(`schemas.disa_xccdf.read_benchmark`) and turns its facts into benchmark facts plus one
content-model `Rule` (without a machine check) per DISA rule. Texts are kept as DISA wrote them
except that line endings become `\\n`, trailing blanks at line ends are dropped and the whole
text is stripped (`normalize_text`). `with_disa_facts` / `benchmark_with_disa_facts` merge
those facts with the authored checks (`generate --stig`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from stigscap.content.model import Rule
from stigscap.schemas import namespaces as ns
from stigscap.schemas.disa_xccdf import XccdfRule, encoded_part, normalize_text, read_benchmark
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import parse_xml_file

_RELEASE = re.compile(r"Release:\s*(\d+)\s+Benchmark Date:\s*(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{4})")
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


@dataclass(frozen=True)
class DisaProfile:
    id: str
    title: str
    description: str
    selected: tuple[str, ...]


@dataclass(frozen=True)
class DisaBenchmark:
    """Facts of one DISA manual benchmark and its rules (content-model `Rule`s, no check)."""

    id: str
    title: str
    description: str
    version: str
    release: int | None
    benchmark_date: dt.date | None
    release_info: str
    status: str
    status_date: dt.date | None
    publisher: str
    source: str
    dpms_target: str
    dpms_identifier: str
    profiles: tuple[DisaProfile, ...]
    rules: tuple[Rule, ...]
    source_file: str = ""
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for r in self.rules:
            for key in (r.rule_id, r.group_id, r.version):
                self._index.setdefault(key, r)

    def rule(self, rule_id: str) -> Rule:
        """The rule by rule id (SV-84553r1_rule), group id (V-69931) or STIG ID (EX13-EG-000340)."""
        try:
            return self._index[rule_id]
        except KeyError:
            raise StigscapError(f"no rule {rule_id!r} in this STIG ({len(self.rules)} rules, e.g. "
                                f"{', '.join(r.rule_id for r in self.rules[:3])})",
                                file=self.source_file or None) from None

    @property
    def title_with_release(self) -> str:
        return f"{self.title} V{self.version}R{self.release}"


def check_text_hash(rule: Rule) -> str:
    """Stable short hash of a rule's check text (whitespace-insensitive) for change reports."""
    text = " ".join(rule.check_content.split())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def _parse_release(info: str) -> tuple[int | None, dt.date | None]:
    m = _RELEASE.search(info or "")
    if not m:
        return None, None
    release, day, mon, year = m.groups()
    month = _MONTHS.get(mon.capitalize())
    try:
        date = dt.date(int(year), month, int(day)) if month else None
    except ValueError:
        date = None
    return int(release), date


def _content_rule(rule: XccdfRule, source: str) -> Rule:
    data = {
        "group_id": rule.group.id if rule.group is not None else None,
        "group_title": normalize_text(rule.group.title) if rule.group is not None else "",
        "rule_id": rule.id,
        "version": normalize_text(rule.version),
        "severity": rule.severity,
        "weight": rule.weight,            # validated as a number by the model
        "title": normalize_text(rule.title),
        "discussion": encoded_part(rule.description, "VulnDiscussion"),
        "check_content": normalize_text(rule.check_content),
        "check_id": rule.check_system,
        "fix_text": normalize_text(rule.fixtext),
        "fix_id": rule.fix_id,
        "ccis": [normalize_text(c) for c in rule.ccis],
        "legacy_ids": [normalize_text(i) for i in rule.legacy_ids],
    }
    try:
        return Rule.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise StigscapError(f"rule {data['rule_id']!r}: {where}: {err['msg']}", file=source,
                            line=rule.line) from None


def read_disa_benchmark(path: str | os.PathLike) -> DisaBenchmark:
    """Read a DISA manual XCCDF 1.1 STIG (safe parser; BOM and stylesheet PI are fine)."""
    source = str(path)
    root = parse_xml_file(Path(path), huge_tree=True).getroot()
    if root.tag != f"{{{ns.XCCDF11}}}Benchmark":
        raise StigscapError(f"not a DISA XCCDF 1.1 benchmark (root element is {root.tag!s})",
                            file=source, line=root.sourceline)
    b = read_benchmark(root, source)
    if not b.groups:
        raise StigscapError("benchmark has no Group/Rule", file=source, line=b.line)
    for g in b.groups:
        if not g.has_rule:
            raise StigscapError(f"Group {g.id!r} has no Rule", file=source, line=g.line)
    release, bdate = _parse_release(normalize_text(b.release_info))
    first = b.rules[0]
    return DisaBenchmark(
        id=b.id,
        title=normalize_text(b.title),
        description=normalize_text(b.description),
        version=normalize_text(b.version),
        release=release,
        benchmark_date=bdate,
        release_info=normalize_text(b.release_info),
        status=normalize_text(b.status),
        status_date=_date(b.status_date),
        publisher=normalize_text(b.publisher),
        source=normalize_text(b.source),
        dpms_target=normalize_text(first.reference_subject),
        dpms_identifier=normalize_text(first.reference_identifier),
        profiles=tuple(
            DisaProfile(id=p.id, title=normalize_text(p.title),
                        description=encoded_part(p.description, "ProfileDescription"),
                        selected=p.selected)
            for p in b.profiles),
        rules=tuple(_content_rule(r, source) for r in b.rules),
        source_file=source,
    )


# ---- DISA facts + authored checks ---------------------------------------------------------

DISA_FACT_FIELDS = ("group_id", "group_title", "rule_id", "version", "severity", "weight", "title",
                    "discussion", "check_content", "check_id", "fix_text", "fix_id", "ccis",
                    "legacy_ids")


def _short_ids(rule: Rule) -> set[str]:
    """The rule's own and legacy ids without revision suffixes (SV-84553r1_rule -> SV-84553)."""
    ids = {rule.group_id, re.sub(r"r\d+_rule$", "", rule.rule_id)}
    ids |= {re.sub(r"r\d+_rule$", "", i) for i in rule.legacy_ids}
    return ids


def find_authored(disa_rule: Rule, authored: "list[Rule] | tuple[Rule, ...]") -> Rule | None:
    """The authored rule for a DISA rule: same STIG ID, else one sharing a current or legacy
    V-/SV- number (so V1R6's SV-234760 finds the rule authored as SV-84553 / V-69931)."""
    for a in authored:
        if a.version == disa_rule.version:
            return a
    wanted = _short_ids(disa_rule)
    for a in authored:
        if _short_ids(a) & wanted:
            return a
    return None


@dataclass(frozen=True)
class MergedRule:
    rule: Rule                 # DISA facts from the STIG, check/values/nist/review from content
    authored: Rule | None      # the authored rule it took the check from (None: manual)
    check_text_changed: bool   # the STIG's check text differs from the authored rule's


def with_disa_facts(disa_rule: Rule, authored: "list[Rule] | tuple[Rule, ...]", *,
                    keep_changed_checks: bool = False) -> MergedRule:
    """The rule as this STIG states it, with the machine check authored for it (if any).

    Authored content wins for what it owns (check, values, NIST mapping, review notes); the
    STIG wins for its facts (ids, texts, severity, CCIs). When the STIG's check text differs
    from the authored one the authored check may no longer fit: the rule is then manual, with
    a review note, unless `keep_changed_checks` - or unless the content has a `revisions`
    entry for exactly this rule id (V1R6's EX13-EG-000350 turned "current service pack" into
    "Exchange 2013 is unsupported": its revision fails every Exchange 2013 server).
    """
    a = find_authored(disa_rule, authored)
    if a is None:
        return MergedRule(disa_rule, None, False)
    data = a.model_dump()
    data.update({k: getattr(disa_rule, k) for k in DISA_FACT_FIELDS})
    data["revisions"] = []
    changed = check_text_hash(a) != check_text_hash(disa_rule)
    revision = next((r for r in a.revisions if r.rule_id == disa_rule.rule_id), None)
    if revision is not None:
        # the content has a check authored for exactly this release of the rule
        data.update({"check": revision.check.model_dump(),
                     "values": [v.model_dump() for v in revision.values],
                     "reading": revision.reading})
    elif changed and not keep_changed_checks and a.check is not None:
        data.update({"check": None, "values": [],
                     "review": (f"manual: the STIG's check text changed since the check authored "
                                f"for {a.rule_id} ({check_text_hash(a)} -> "
                                f"{check_text_hash(disa_rule)}); re-author the check")})
    return MergedRule(Rule.model_validate(data), a, changed)


def benchmark_with_disa_facts(base, disa: DisaBenchmark):
    """A content `Benchmark` (platform, profiles' selection) with this STIG's own facts."""
    update = {"id": disa.id or base.id, "title": disa.title or base.title,
              "description": disa.description or base.description}
    if disa.version.isdigit():
        update["version"] = int(disa.version)
    if disa.release is not None:
        update["release"] = disa.release
    if disa.benchmark_date is not None:
        update["benchmark_date"] = disa.benchmark_date
    if disa.status in ("accepted", "draft", "interim", "incomplete", "deprecated"):
        update["status"] = disa.status
    if disa.status_date is not None:
        update["status_date"] = disa.status_date
    for key in ("publisher", "source", "dpms_target", "dpms_identifier"):
        if getattr(disa, key):
            update[key] = getattr(disa, key)
    if disa.id and disa.id != base.id:   # another STIG: its file is named after its own id
        update["disa_file_stem"] = None
    return type(base).model_validate({**base.model_dump(), **update})
