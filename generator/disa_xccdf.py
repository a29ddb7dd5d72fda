"""Reader for DISA's manual STIG benchmarks (XCCDF 1.1, `U_*_Manual-xccdf.xml`).

DISA ships each STIG as an XCCDF 1.1 document with a UTF-8 byte-order mark, an
`xml-stylesheet` processing instruction, the release and date in `plain-text id="release-info"`
("Release: 5 Benchmark Date: 26 Apr 2019"), one Group per vulnerability (V-number) holding one
Rule (SV-number), and each rule's discussion as *escaped* pseudo-XML inside `description`
(`&lt;VulnDiscussion&gt;...&lt;/VulnDiscussion&gt;&lt;FalsePositives&gt;...`).

`read_disa_benchmark(path)` turns that into benchmark facts plus one content-model `Rule`
(without a machine check) per DISA rule. Texts are kept as DISA wrote them except that line
endings become `\\n`, trailing blanks at line ends are dropped and the whole text is stripped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from pydantic import ValidationError

from stigscap.content.model import Rule
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import all_text, element_text, parse_xml_file

XCCDF11_NS = "http://checklists.nist.gov/xccdf/1.1"
DC_NS = "http://purl.org/dc/elements/1.1/"
CCI_SYSTEMS = ("http://iase.disa.mil/cci", "http://cyber.mil/cci")

_NS = {"x": XCCDF11_NS, "dc": DC_NS}
_RELEASE = re.compile(r"Release:\s*(\d+)\s+Benchmark Date:\s*(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{4})")
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


def normalize_text(text: str | None) -> str:
    """DISA text as authored: `\\n` line ends, no trailing blanks, stripped."""
    if not text:
        return ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def encoded_part(description: str | None, tag: str) -> str:
    """Text of `<tag>...</tag>` inside DISA's escaped description pseudo-XML ('' if absent)."""
    if not description:
        return ""
    # Two str.find calls, not a lazy regex: `<tag>(.*?)</tag>` retries from every opening tag
    # and scans to the end each time (quadratic; 20,000 unclosed tags took 42 s). The first
    # opening tag is the leftmost one a regex would match; if no closing tag follows it, none
    # follows any later opening tag either.
    start = description.find(f"<{tag}>")
    if start < 0:
        return ""
    start += len(tag) + 2
    end = description.find(f"</{tag}>", start)
    return normalize_text(description[start:end]) if end >= 0 else ""


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


def _text(el: etree._Element | None, path: str) -> str:
    """Text of a child that holds only text (ids, versions, names)."""
    if el is None:
        return ""
    found = el.find(path, _NS)
    return normalize_text(element_text(found)) if found is not None else ""


def _prose(el: etree._Element | None, path: str) -> str | None:
    """Text of a child that may hold markup (titles, descriptions, fix and check text)."""
    found = el.find(path, _NS) if el is not None else None
    return all_text(found) if found is not None else None


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


def _read_rule(group: etree._Element, source: str) -> Rule:
    rule = group.find("x:Rule", _NS)
    if rule is None:
        raise StigscapError(f"Group {group.get('id')!r} has no Rule", file=source,
                            line=group.sourceline)
    idents = rule.findall("x:ident", _NS)
    ccis = [normalize_text(element_text(i)) for i in idents if i.get("system") in CCI_SYSTEMS]
    legacy = [normalize_text(element_text(i)) for i in idents
              if i.get("system") not in CCI_SYSTEMS]
    fixtext = rule.find("x:fixtext", _NS)
    fix = rule.find("x:fix", _NS)
    check = rule.find("x:check", _NS)
    check_content = normalize_text(_prose(check, "x:check-content"))
    data = {
        "group_id": group.get("id"),
        "group_title": normalize_text(_prose(group, "x:title")),
        "rule_id": rule.get("id"),
        "version": _text(rule, "x:version"),
        "severity": rule.get("severity") or "medium",
        "weight": float(rule.get("weight") or 10.0),
        "title": normalize_text(_prose(rule, "x:title")),
        "discussion": encoded_part(_prose(rule, "x:description"), "VulnDiscussion"),
        "check_content": check_content,
        "check_id": check.get("system") if check is not None else None,
        "fix_text": normalize_text(all_text(fixtext)) if fixtext is not None else "",
        "fix_id": (fixtext.get("fixref") if fixtext is not None else None)
        or (fix.get("id") if fix is not None else None),
        "ccis": ccis,
        "legacy_ids": legacy,
    }
    try:
        return Rule.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise StigscapError(f"rule {data['rule_id']!r}: {where}: {err['msg']}", file=source,
                            line=rule.sourceline) from None


def read_disa_benchmark(path: str | os.PathLike) -> DisaBenchmark:
    """Read a DISA manual XCCDF 1.1 STIG (safe parser; BOM and stylesheet PI are fine)."""
    source = str(path)
    tree = parse_xml_file(Path(path), huge_tree=True)
    root = tree.getroot()
    if root.tag != f"{{{XCCDF11_NS}}}Benchmark":
        raise StigscapError(f"not a DISA XCCDF 1.1 benchmark (root element is {root.tag!s})",
                            file=source, line=root.sourceline)
    status = root.find("x:status", _NS)
    info = ""
    for pt in root.findall("x:plain-text", _NS):
        if pt.get("id") == "release-info":
            info = normalize_text(element_text(pt))
    release, bdate = _parse_release(info)
    profiles = tuple(
        DisaProfile(
            id=p.get("id", ""),
            title=normalize_text(_prose(p, "x:title")),
            description=encoded_part(_prose(p, "x:description"), "ProfileDescription"),
            selected=tuple(s.get("idref", "") for s in p.findall("x:select", _NS)
                           if s.get("selected", "true") in ("true", "1")),
        )
        for p in root.findall("x:Profile", _NS)
    )
    groups = root.findall("x:Group", _NS)
    if not groups:
        raise StigscapError("benchmark has no Group/Rule", file=source, line=root.sourceline)
    rules = tuple(_read_rule(g, source) for g in groups)
    first_ref = groups[0].find("x:Rule/x:reference", _NS)
    return DisaBenchmark(
        id=root.get("id") or "",
        title=normalize_text(_prose(root, "x:title")),
        description=normalize_text(_prose(root, "x:description")),
        version=_text(root, "x:version"),
        release=release,
        benchmark_date=bdate,
        release_info=info,
        status=normalize_text(element_text(status)) if status is not None else "",
        status_date=_date(status.get("date")) if status is not None else None,
        publisher=_text(root, "x:reference/dc:publisher"),
        source=_text(root, "x:reference/dc:source"),
        dpms_target=_text(first_ref, "dc:subject"),
        dpms_identifier=_text(first_ref, "dc:identifier"),
        profiles=profiles,
        rules=rules,
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
    from the authored one the authored check may no longer fit (V1R6's EX13-EG-000350 turned
    "current service pack" into "Exchange 2013 is unsupported"): the rule is then manual, with
    a review note, unless `keep_changed_checks`.
    """
    a = find_authored(disa_rule, authored)
    if a is None:
        return MergedRule(disa_rule, None, False)
    data = a.model_dump()
    data.update({k: getattr(disa_rule, k) for k in DISA_FACT_FIELDS})
    changed = check_text_hash(a) != check_text_hash(disa_rule)
    if changed and not keep_changed_checks and a.check is not None:
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
    return type(base).model_validate({**base.model_dump(), **update})
