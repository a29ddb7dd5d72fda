"""The one reader of STIG benchmarks in XCCDF: DISA's manual STIGs (XCCDF 1.1,
`U_*_Manual-xccdf.xml`) and the XCCDF 1.2 Benchmark of a stigscap source data stream.

DISA ships each STIG as an XCCDF 1.1 document with a UTF-8 byte-order mark, an
`xml-stylesheet` processing instruction, the release and date in `plain-text id="release-info"`
("Release: 5 Benchmark Date: 26 Apr 2019"), one Group per vulnerability (V-number) holding one
Rule (SV-number), and each rule's discussion as *escaped* pseudo-XML inside `description`
(`&lt;VulnDiscussion&gt;...&lt;/VulnDiscussion&gt;&lt;FalsePositives&gt;...`).

`read_benchmark(root)` walks a parsed `Benchmark` element once and returns the facts as the
document states them (`XccdfBenchmark`, `XccdfRule`): ids as written (an XCCDF 1.2 id keeps its
`xccdf_<ns>_rule_` prefix), texts stripped and otherwise unchanged, CCIs and legacy ids told
apart once. Its two consumers shape these facts for their own model:

* `generator.disa_xccdf` (`generate --stig`, `import-stig`): content-model `Rule`s, texts
  normalised as authored content keeps them (`normalize_text`);
* `evaluator.results.arf_reader` (`export`/`report --stig`, the Benchmark inside an ARF): the
  checklists' `StigRule`s, texts as the STIG wrote them.

It sits in the base layer (like `xmlio` and `namespaces`) so the evaluator can read a STIG
without importing the generator. Pure: parsed element in, facts out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from . import namespaces as ns
from .errors import StigscapError
from .xmlio import all_text, element_text

CCI_SYSTEMS = (ns.CCI_SYSTEM_LEGACY, ns.CCI_SYSTEM)


# ---- texts ------------------------------------------------------------------------------------

def normalize_text(text: str | None) -> str:
    """DISA text as authored content keeps it: `\\n` line ends, no trailing blanks, stripped."""
    if not text:
        return ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def encoded_part(description: str | None, tag: str) -> str:
    """Text of the first `<tag>...</tag>` inside DISA's escaped description pseudo-XML,
    normalised ('' if absent): what `re.search(r"<tag>(.*?)</tag>", text, re.S)` finds."""
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


# Tags of the pseudo-XML, opening and closing; \w+ then ">" never backtracks past one "<".
_DESC_TAG_RE = re.compile(r"<(/?)(\w+)>")


def description_parts(text: str) -> list[tuple[str, str]]:
    r"""Every (tag, body) of DISA's description pseudo-XML, exactly as
    `re.findall(r"<(\w+)>(.*?)</\1>", text, re.S)` gives them, in linear time: left to right,
    each opening tag with the nearest closing tag of the same name after it; an opening tag
    with no closing tag is skipped; scanning resumes after a closing tag. (The expression
    retried from every opening tag: 20,000 unclosed `<VulnDiscussion>` took tens of seconds.)"""
    opens: list[tuple[int, int, str]] = []
    closes: dict[str, list[int]] = {}
    for m in _DESC_TAG_RE.finditer(text):
        if m.group(1):
            closes.setdefault(m.group(2), []).append(m.start())
        else:
            opens.append((m.start(), m.end(), m.group(2)))
    out: list[tuple[str, str]] = []
    nxt: dict[str, int] = {}  # per tag, index of the first closing tag not yet passed
    cursor = 0
    for start, end, tag in opens:
        if start < cursor:
            continue
        pos, i = closes.get(tag, []), nxt.get(tag, 0)
        while i < len(pos) and pos[i] < end:
            i += 1
        nxt[tag] = i
        if i < len(pos):
            out.append((tag, text[end:pos[i]]))
            cursor = pos[i] + len(tag) + 3
    return out


# ---- the facts ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class XccdfCheck:
    system: str                              # DISA: the check id (C-…_chk); else a URI
    content: str                             # check-content text, "" when absent
    refs: tuple[tuple[str, str], ...]        # (name, href) of each check-content-ref
    exports: tuple[str, ...]                 # value-id of each check-export


@dataclass(frozen=True)
class XccdfGroup:
    id: str                                  # V-69931
    title: str                               # SRG-APP-000439
    description: str                         # DISA: <GroupDescription></GroupDescription>
    has_rule: bool                           # a Rule is a child of this Group
    line: int | None


@dataclass(frozen=True)
class XccdfRule:
    id: str                                  # SV-84553r1_rule
    group: XccdfGroup | None                 # the Group it is in (None: not in a Group)
    version: str                             # the STIG ID, EX13-EG-000340
    severity: str                            # "medium" when not given
    weight: str                              # as written, "10.0" when not given
    title: str
    description: str                         # DISA: escaped pseudo-XML, see description_parts
    ccis: tuple[str, ...]                    # idents of a CCI system (or CCI-… values)
    legacy_ids: tuple[str, ...]              # idents of a legacy system (SV-84553, V-69931)
    fixtext: str
    fixref: str | None                       # fixtext/@fixref
    fixes: tuple[tuple[str | None, str], ...]   # (id, text) of each fix element that holds
                                                # commands (not a urn:xccdf:fix:script:* script)
    checks: tuple[XccdfCheck, ...]
    reference_subject: str                   # DISA: the DPMS target (first reference)
    reference_identifier: str                # DISA: the DPMS identifier (STIG Viewer TargetKey)
    line: int | None
    nist: tuple[str, ...] = ()               # SP 800-53 controls its NIST references name

    @property
    def check_system(self) -> str | None:
        return self.checks[0].system if self.checks else None

    @property
    def check_content(self) -> str:
        """The manual check text: the first non-empty check-content."""
        return next((c.content for c in self.checks if c.content), "")

    @property
    def fix_id(self) -> str | None:
        return self.fixref or next((i for i, _ in self.fixes), None)


@dataclass(frozen=True)
class XccdfProfile:
    id: str
    title: str
    description: str                         # DISA: <ProfileDescription></ProfileDescription>
    selected: tuple[str, ...]                # idrefs of the selects with selected="true"


@dataclass(frozen=True)
class XccdfValue:
    id: str
    default: str                             # the value without selector (else the first)
    title: str


@dataclass(frozen=True)
class XccdfBenchmark:
    xccdf_version: str                       # "1.1" (DISA) or "1.2"
    id: str
    title: str
    description: str
    version: str
    release_info: str                        # plain-text release-info
    status: str
    status_date: str                         # status/@date as written
    notice: str                              # id of the first notice ("" if none)
    publisher: str                           # of the Benchmark's first reference
    source: str
    profiles: tuple[XccdfProfile, ...]
    values: tuple[XccdfValue, ...]
    groups: tuple[XccdfGroup, ...]           # every Group, document order
    rules: tuple[XccdfRule, ...]             # every Rule, document order
    line: int | None
    disa_file: str = ""                      # stigscap: plain-text disa-manual-xccdf, the
                                             # DISA manual XCCDF's file name


def _text(el: etree._Element | None) -> str:
    """Stripped text of an element that holds only text (ids, versions, names)."""
    return "" if el is None else (element_text(el) or "").strip()


def _prose(el: etree._Element | None) -> str:
    """Stripped text of an element that may hold markup (titles, descriptions, check text)."""
    return "" if el is None else all_text(el).strip()


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def read_benchmark(root: etree._Element, source: str = "") -> XccdfBenchmark:
    """An XCCDF 1.1 or 1.2 `Benchmark` element → its facts (pure)."""
    xns = etree.QName(root).namespace
    if _local(root) != "Benchmark" or xns not in (ns.XCCDF11, ns.XCCDF12):
        raise StigscapError(f"not an XCCDF Benchmark (root element {root.tag!s})",
                            file=source or None)
    q = lambda name: f"{{{xns}}}{name}"  # noqa: E731
    dc = lambda name: f"{{{ns.DC}}}{name}"  # noqa: E731
    release = disa_file = ""
    for pt in root.findall(q("plain-text")):
        if pt.get("id") == "release-info":
            release = _text(pt)
        elif pt.get("id") == "disa-manual-xccdf":
            disa_file = _text(pt)
    status = root.find(q("status"))
    notice = root.find(q("notice"))
    ref = root.find(q("reference"))
    groups: dict[etree._Element, XccdfGroup] = {}
    for g in root.iter(q("Group")):
        groups[g] = XccdfGroup(id=g.get("id", ""), title=_prose(g.find(q("title"))),
                               description=_prose(g.find(q("description"))),
                               has_rule=g.find(q("Rule")) is not None, line=g.sourceline)
    return XccdfBenchmark(
        xccdf_version="1.2" if xns == ns.XCCDF12 else "1.1",
        id=root.get("id", ""),
        title=_prose(root.find(q("title"))),
        description=_prose(root.find(q("description"))),
        version=_text(root.find(q("version"))),
        release_info=release,
        status=_text(status),
        status_date=status.get("date", "") if status is not None else "",
        notice=(notice.get("id") or "") if notice is not None else "",
        publisher=_text(ref.find(dc("publisher"))) if ref is not None else "",
        source=_text(ref.find(dc("source"))) if ref is not None else "",
        profiles=tuple(
            XccdfProfile(id=p.get("id", ""), title=_prose(p.find(q("title"))),
                         description=_prose(p.find(q("description"))),
                         selected=tuple(s.get("idref", "") for s in p.findall(q("select"))
                                        if s.get("selected", "true") in ("true", "1")))
            for p in root.findall(q("Profile"))),
        values=tuple(_value(v, q) for v in root.iter(q("Value"))),
        groups=tuple(groups.values()),
        rules=tuple(_rule(r, q, dc, groups) for r in root.iter(q("Rule"))),
        line=root.sourceline,
        disa_file=disa_file,
    )


def _value(val: etree._Element, q) -> XccdfValue:
    default = None
    for v in val.findall(q("value")):
        if not v.get("selector"):
            default = _text(v)
    if default is None and val.find(q("value")) is not None:
        default = _text(val.find(q("value")))
    return XccdfValue(id=val.get("id", ""), default=default or "",
                      title=_prose(val.find(q("title"))))


def _rule(rule: etree._Element, q, dc, groups: dict) -> XccdfRule:
    ccis: list[str] = []
    legacy: list[str] = []
    for ident in rule.findall(q("ident")):
        system, value = ident.get("system", ""), _text(ident)
        if system in CCI_SYSTEMS or value.startswith("CCI-"):
            ccis.append(value)
        elif "legacy" in system:
            legacy.append(value)
    ref = rule.find(q("reference"))
    fixtext = rule.find(q("fixtext"))
    return XccdfRule(
        id=rule.get("id", ""),
        group=groups.get(rule.getparent()),
        version=_text(rule.find(q("version"))),
        severity=rule.get("severity") or "medium",
        weight=rule.get("weight") or "10.0",
        title=_prose(rule.find(q("title"))),
        description=_prose(rule.find(q("description"))),
        ccis=tuple(ccis),
        legacy_ids=tuple(legacy),
        fixtext=_prose(fixtext),
        fixref=fixtext.get("fixref") if fixtext is not None else None,
        fixes=tuple((f.get("id"), _prose(f)) for f in rule.findall(q("fix"))
                    if not f.get("system", "").startswith("urn:xccdf:fix:script:")),
        checks=tuple(
            XccdfCheck(system=c.get("system", ""), content=_prose(c.find(q("check-content"))),
                       refs=tuple((r.get("name", ""), r.get("href", ""))
                                  for r in c.findall(q("check-content-ref"))),
                       exports=tuple(e.get("value-id", "") for e in c.findall(q("check-export"))))
            for c in rule.findall(q("check"))),
        reference_subject=_text(ref.find(dc("subject"))) if ref is not None else "",
        reference_identifier=_text(ref.find(dc("identifier"))) if ref is not None else "",
        line=rule.sourceline,
        nist=tuple(dict.fromkeys(
            _text(r.find(dc("identifier"))) for r in rule.findall(q("reference"))
            if "csrc.nist.gov/pubs/sp/800/53" in r.get("href", "")
            and _text(r.find(dc("identifier"))))),
    )
