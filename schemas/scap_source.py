"""SCAP 1.3 source data stream requirements (SRC-*, A-*), natively over lxml.

The same verdicts as NIST SCAPVal's `source-data-stream-1.3.sch` (tests compare them, rule
context by rule context, on SCAPVal's own unit tests, all SCAP Security Guide streams and our
output), including the corner cases of its XPath: a component-ref resolves a check's `@href`
only through its own `cat:catalog` (first `cat:uri` whose @name matches, or a `rewriteURI`),
a reference to a remote component-ref is "external" and skipped where SCAPVal skips it, and
where SCAPVal reports a whole `ds:data-stream` we report each element at fault inside it.

Every check is one function over the parsed document, with the ids it checks in
`@implements(...)`; one pass over the tree collects the elements they need.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator

from lxml import etree

from . import namespaces as ns
from .scap_requirements import Findings, implements, text_of
from .tag_index import iter_tags

OVAL_SYS = ns.OVAL_CHECK_SYSTEM   # the check systems SCAP 1.3 allows (SRC-118)
OCIL_SYS = ns.OCIL_2
CHECK_SYSTEMS = (OVAL_SYS, OCIL_SYS)
XINCLUDE = ns.XINCLUDE
HREF = f"{{{ns.XLINK}}}href"
LANG = f"{{{ns.XML}}}lang"
SCAP_IDENT = {"http://cce.mitre.org", "http://cve.mitre.org", "http://cpe.mitre.org"}
# SCAPVal compares some of these with matches() (an unescaped '.' matches any character),
# others with eq; the regexes below are its patterns, used with fullmatch.
SCAP_IDENT_RE = re.compile(r"http://cce.mitre.org|http://cve.mitre.org|http://cpe.mitre.org")
SOURCE_RE = {"cce": re.compile(r"http://cce.mitre.org|CCE"),
             "cve": re.compile(r"http://cve.mitre.org|CVE"),
             "cpe": re.compile(r"http://cpe.mitre.org|CPE")}
# xcf:ident-mapping: an ident system → the reference sources that match it in OVAL metadata
IDENT_SOURCES = {"http://cce.mitre.org": SOURCE_RE["cce"], "http://cve.mitre.org": SOURCE_RE["cve"],
                 "http://cpe.mitre.org": SOURCE_RE["cpe"]}
OVAL_VERSION = re.compile(r"5\.(3|4|5|6|7|8|9|10(\.1)?|11(\.1|\.2)?)")
OVAL_PLATFORM_VERSION = re.compile(r"5\.11(\.1|\.2):1(\.0|\.1|\.2)")
CPE22 = re.compile(r"[c][pP][eE]:/[AHOaho]?(:[A-Za-z0-9._\-~%]*){0,6}")
_CPE23_VALUE = (r"(((\?*|\*?)([a-zA-Z0-9\-._]|(\\[\\*?!\"#$%&()+,/:;<=>@\[\]^`{|}~]))+(\?*|\*?))"
                r"|[*\-])")
CPE23 = re.compile(r"cpe:2\.3:[aho*\-](:" + _CPE23_VALUE + r"){5}(:(([a-zA-Z]{2,3}(-([a-zA-Z]{2}"
                   r"|[0-9]{3}))?)|[*\-]))(:" + _CPE23_VALUE + r"){4}")
CCE_FORMAT = re.compile(r"CCE-\d+-\d")
PATCHES_RULE = "security_patches_up_to_date"


_q = ns.qname


X = ns.XCCDF12
D = ns.DS
OV = ns.OVAL_DEF
T_BENCHMARK, T_PROFILE, T_VALUE, T_GROUP, T_RULE = (
    _q(X, n) for n in ("Benchmark", "Profile", "Value", "Group", "Rule"))
T_CHECK, T_CCR, T_IDENT, T_STATUS = (_q(X, n) for n in ("check", "check-content-ref", "ident",
                                                         "status"))
T_DEF = _q(OV, "definition")
T_OVAL_DEFS = _q(OV, "oval_definitions")
T_QUESTIONNAIRE = _q(ns.OCIL, "questionnaire")
T_CREF = _q(D, "component-ref")
T_CPE_ITEM = _q(ns.CPE_DICT, "cpe-item")


# ---------------------------------------------------------------------------------------------
# CPE name matching (NISTIR 7696), SCAPVal's java:isEqualOrSuperset

@functools.lru_cache(maxsize=4096)
def cpe_attributes(name: str) -> tuple[str, ...]:
    """The 11 WFN attributes of a CPE name (URI or 2.3 formatted string), lower-cased;
    '#ANY' / '#NA' for the logical values. Cached: a stream asks for the same few names
    thousands of times (ssg-ocp4: 11,040 calls, 17 ms of its 75 ms of checks)."""
    n = name.lower()
    if n.startswith("cpe:2.3:"):
        parts = [p.replace("\ue000", ":").replace("\\", "")
                 for p in n[8:].replace("\\:", "\ue000").split(":")]
        values = [parts[i] if i < len(parts) else "" for i in range(11)]
        return tuple("#ANY" if v in ("*", "") else "#NA" if v == "-" else v for v in values)
    parts = n[5:].split(":") if n.startswith("cpe:/") else []
    part = [parts[i] if i < len(parts) else "" for i in range(7)]
    ed = part[5][1:].split("~") if part[5].startswith("~") else [part[5]]
    ed += [""] * (5 - len(ed))
    values = part[:5] + [ed[0], part[6]] + ed[1:5]
    return tuple("#ANY" if v == "" else "#NA" if v == "-" else v for v in values)


def cpe_equal_or_superset(source: str, target: str) -> bool:
    """Is every attribute of `source` ANY or equal to `target`'s (SUPERSET or EQUAL)?"""
    s, t = cpe_attributes(source), cpe_attributes(target)
    return all(a == "#ANY" or a == b for a, b in zip(s, t))


def luhn_ok(cce: str) -> bool:
    """SCAPVal's CCE check digit: Luhn over the digits of CCE-<digits>-<check digit>."""
    digits = cce[4:-2] + cce[-1:]
    total = 0
    for pos, ch in enumerate(reversed(digits), start=1):
        v = ord(ch) - 48
        v = v * 2 if pos % 2 == 0 else v
        total += v % 10 + v // 10
    return total % 10 == 0


def _full(pattern: re.Pattern[str], value: str | None) -> bool:
    return value is not None and pattern.fullmatch(value) is not None


# ---------------------------------------------------------------------------------------------
# The collection: components, component-refs, catalogs (SCAPVal's xcf:* functions)

_ID_VALUES = etree.XPath(".//*/@id", smart_strings=False)


def _index_ids(top: etree._Element) -> dict[str, list[etree._Element]]:
    """@id → the elements below `top` that carry it (document order)."""
    idx: dict[str, list[etree._Element]] = {}
    for e in top.iterdescendants(etree.Element):   # a third faster than XPath's .//*[@id]
        value = e.get("id")
        if value is not None:
            found = idx.get(value)
            if found is None:
                idx[value] = [e]
            else:
                found.append(e)
    return idx


class _Component:
    """What the checks ask of one ds:component (xcf:get-component(…)//…), built on demand."""

    def __init__(self, el: etree._Element):
        self.el = el
        self._defs: dict[str, list[etree._Element]] | None = None
        self._quest: set[str] | None = None
        self._by_id: dict[str, list[etree._Element]] | None = None
        self._has: dict[str, bool] = {}
        self._vars: dict[str, etree._Element] | None = None

    @property
    def defs(self) -> dict[str, list[etree._Element]]:
        if self._defs is None:
            self._defs = defaultdict(list)
            for d in iter_tags(self.el, T_DEF):
                self._defs[d.get("id", "\0")].append(d)
        return self._defs

    def has_def(self, name: str | None, classes: Iterable[str] | None = None) -> bool:
        if name is None:
            return False
        found = self.defs.get(name, ())
        wanted = None if classes is None else set(classes)
        return any(wanted is None or d.get("class") in wanted for d in found)

    @property
    def questionnaires(self) -> set[str]:
        if self._quest is None:
            self._quest = {q.get("id", "\0") for q in iter_tags(self.el, T_QUESTIONNAIRE)}
        return self._quest

    def has_questionnaire(self, name: str | None) -> bool:
        return name is not None and name in self.questionnaires

    def has(self, tag: str) -> bool:
        if tag not in self._has:
            self._has[tag] = next(iter_tags(self.el, tag), None) is not None
        return self._has[tag]

    def by_id(self, value: str | None) -> list[etree._Element]:
        """The elements of the component with this @id (//*[@id eq value])."""
        if value is None:
            return []
        if self._vars is None:  # OVAL variables first: what check-export names
            self._vars = {}
            for d in iter_tags(self.el, T_OVAL_DEFS):
                for sec in d.iterchildren(_q(OV, "variables")):
                    for v in sec.iterchildren(etree.Element):
                        self._vars.setdefault(v.get("id", "\0"), v)
        var = self._vars.get(value)
        if var is not None:  # an id is unique in a valid component; SCAPVal errs otherwise
            return [var]
        if self._by_id is None:
            self._by_id = _index_ids(self.el)
        return self._by_id.get(value, [])

    def count_defs(self, cls: str) -> int:
        return sum(1 for ds in self.defs.values() for d in ds if d.get("class") == cls)


class Collection:
    """A ds:data-stream-collection and SCAPVal's way of resolving references in it."""

    def __init__(self, root: etree._Element):
        self.root = root
        self._components: dict[str, list[_Component]] = defaultdict(list)
        for comp in iter_tags(root, _q(D, "component")):
            self._components[comp.get("id", "\0")].append(_Component(comp))
        self._stream_crefs: dict[etree._Element, dict[str, list[etree._Element]]] = {}

    def component(self, crefs: Iterable[etree._Element]) -> list[_Component]:
        """xcf:get-component: the ds:component(s) whose @id is a component-ref's @xlink:href
        without its first character."""
        out: list[_Component] = []
        for cref in crefs:
            href = cref.get(HREF)
            if href is not None:
                out += self._components.get(href[1:], [])
        return out

    def _crefs_of(self, stream: etree._Element) -> dict[str, list[etree._Element]]:
        if stream not in self._stream_crefs:
            found: dict[str, list[etree._Element]] = defaultdict(list)
            for c in stream.iter(T_CREF):
                found[c.get("id", "\0")].append(c)
            self._stream_crefs[stream] = found
        return self._stream_crefs[stream]

    @staticmethod
    def resolve(catalog: etree._Element | None, uri: str | None) -> str | None:
        """xcf:resolve-in-catalog: '#…' as is, else the first matching cat:uri / rewriteURI
        among the catalog's children in order; any other entry ends the search."""
        if uri is None:
            return None
        if uri.startswith("#"):
            return uri
        if catalog is None:
            return None
        for entry in catalog.iterchildren(etree.Element):
            local = etree.QName(entry).localname
            if local == "uri":
                if entry.get("name") == uri:
                    return entry.get("uri")
            elif local == "rewriteURI":
                start = entry.get("uriStartString") or ""
                if uri.startswith(start):
                    return (entry.get("rewritePrefix") or "") + uri[len(start):]
            else:
                return None
        return None

    def component_ref(self, holder: etree._Element, uri: str | None) -> list[etree._Element]:
        """xcf:get-component-ref($holder/cat:catalog, uri): the component-ref(s) of the same
        data stream that the catalog of component-ref `holder` resolves `uri` to."""
        catalog = holder.find(_q(ns.CAT, "catalog"))
        if catalog is None:
            return []
        target = self.resolve(catalog, uri)
        if not target:
            return []
        stream = next(catalog.iterancestors(_q(D, "data-stream")), None)
        if stream is None:
            return []
        return self._crefs_of(stream).get(target[1:], [])

    def target(self, holder: etree._Element, uri: str | None) -> list[_Component]:
        """xcf:get-component(xcf:get-component-ref(...))."""
        return self.component(self.component_ref(holder, uri))

    def is_external(self, holder: etree._Element, uri: str | None) -> bool:
        """xcf:is-external-ref: the href resolves to a component-ref that is not local."""
        refs = self.component_ref(holder, uri)
        return bool(refs) and not (refs[0].get(HREF) or "").startswith("#")


def _checklists(stream: etree._Element) -> list[etree._Element]:
    return [c for cl in stream.iterchildren(_q(D, "checklists")) for c in cl.iterchildren(T_CREF)]


def _section(stream: etree._Element, name: str) -> list[etree._Element]:
    return [c for s in stream.iterchildren(_q(D, name)) for c in s.iterchildren(T_CREF)]


def _rules_in(comps: Iterable[_Component]) -> Iterator[etree._Element]:
    for comp in comps:
        yield from iter_tags(comp.el, T_RULE)


# ---------------------------------------------------------------------------------------------
# xccdf:Benchmark

def _items(bench: etree._Element) -> list[etree._Element]:
    return [bench, *iter_tags(bench, T_PROFILE, T_VALUE, T_GROUP, T_RULE)]


def _children(el: etree._Element, tag: str) -> list[etree._Element]:
    return list(el.iterchildren(tag))


@implements("SRC-10-1", "SRC-9-1", "SRC-9-2", "SRC-9-3")
def benchmark_items(bench: etree._Element, f: Findings) -> None:
    title, desc = _q(X, "title"), _q(X, "description")
    for item in _items(bench):
        titles = _children(item, title)
        if next(item.iterchildren(desc), None) is None:
            f.fail("SRC-10-1", bench, "has no xccdf:description", item)
        if not titles:
            f.fail("SRC-9-1", bench, "has no xccdf:title", item)
        if len(titles) > 1:
            if any(t.get(LANG) is None for t in titles):
                f.fail("SRC-9-2", bench, f"has {len(titles)} xccdf:title elements, not all with "
                       "@xml:lang", item)
            if not any(t.get(LANG) == "en-US" for t in titles):
                f.fail("SRC-9-3", bench, f"has {len(titles)} xccdf:title elements, none with "
                       "@xml:lang 'en-US'", item)


@implements("SRC-2-1", "SRC-3-2", "SRC-4-1", "SRC-8-1", "SRC-8-2", "SRC-341-1")
def benchmark_header(bench: etree._Element, f: Findings, any_version_update: bool) -> None:
    if bench.get(LANG) is None:
        f.fail("SRC-2-1", bench, "has no @xml:lang")
    versions = _children(bench, _q(X, "version"))
    if not any(v.get("time") is not None for v in versions):
        f.fail("SRC-3-2", bench, "xccdf:version has no @time")
    if not any_version_update:
        f.fail("SRC-341-1", bench, "no xccdf:version in the document has a non-empty @update")
    style = bench.get("style")
    if style != "SCAP_1.3":
        f.fail("SRC-4-1", bench, f"@style is {style!r}, not 'SCAP_1.3'")
    metas = _children(bench, _q(X, "metadata"))
    if not metas:
        f.fail("SRC-8-2", bench, "has no xccdf:metadata")
        f.fail("SRC-8-1", bench, "has no xccdf:metadata, so none of dc:creator, dc:publisher, "
               "dc:contributor, dc:source")
        return
    missing = [t for t in ("creator", "publisher", "contributor", "source")
               if not any(e.text is not None or any(c.tail for c in e)
                          for m in metas for e in m.iterchildren(_q(ns.DC, t)))]
    if missing:
        f.fail("SRC-8-1", bench, "metadata has no " + ", ".join(f"dc:{t}" for t in missing)
               + " with text", metas[0])


_IN_VALUE = {_q(X, n) for n in ("source", "complex-value", "complex-default", "complex-choice")}


@implements("SRC-25-1", "SRC-276-1", "SRC-339-1", "SRC-343-1", "SRC-354-1")
def benchmark_forbidden(bench: etree._Element, f: Findings) -> None:
    for el in iter_tags(bench, _q(X, "check-content"), _q(XINCLUDE, "include"),
                        _q(X, "set-complex-value"), T_GROUP, *_IN_VALUE):
        tag = el.tag
        if tag == T_GROUP:
            if el.get("extends") is not None:
                f.fail("SRC-354-1", bench, f"extends {el.get('extends')!r}: Group extension is "
                       "not allowed", el)
        elif tag in _IN_VALUE:
            if _in_value(el, bench):
                f.fail("SRC-276-1", bench, f"xccdf:{etree.QName(el).localname} is not allowed "
                       "in an xccdf:Value", el)
        elif tag == _q(X, "check-content"):
            f.fail("SRC-25-1", bench, "xccdf:check-content is not allowed (use "
                   "check-content-ref)", el)
        elif tag == _q(X, "set-complex-value"):
            f.fail("SRC-343-1", bench, "xccdf:set-complex-value is not allowed", el)
        else:
            f.fail("SRC-339-1", bench, "XInclude is not allowed in XCCDF content", el)


def _in_value(el: etree._Element, bench: etree._Element) -> bool:
    """Below an xccdf:Value of `bench` (a complex-choice: also below its xccdf:choices)?"""
    need_choices = el.tag == _q(X, "complex-choice")
    choices = False
    for a in el.iterancestors():
        if a is bench:
            return False
        if a.tag == _q(X, "choices"):
            choices = True
        elif a.tag == T_VALUE:
            return choices or not need_choices
    return False


@implements("SRC-3-3")
def benchmark_unique(benches: list[etree._Element], coll: etree._Element | None,
                     f: Findings) -> None:
    if coll is None:
        return
    by_id: dict[str, list[etree._Element]] = defaultdict(list)
    for b in benches:
        if b.get("id") is not None and coll in b.iterancestors():
            by_id[b.get("id", "")].append(b)
    for same in by_id.values():
        for b in same:
            mine = _first_text(b, _q(X, "version"))
            for other in same:
                if other is b:
                    continue
                theirs = _first_text(other, _q(X, "version"))
                if mine is None or theirs is None or mine == theirs:
                    f.fail("SRC-3-3", b, f"another xccdf:Benchmark with this @id has the same "
                           f"xccdf:version {mine!r} (line {other.sourceline})")
                    break


def _first_text(el: etree._Element, tag: str) -> str | None:
    c = next(el.iterchildren(tag), None)
    return None if c is None else text_of(c)


@implements("A-25-1")
def profile_unique(profiles: list[etree._Element], coll: etree._Element | None,
                   f: Findings) -> None:
    if coll is None:
        return
    counted: dict[str, list[etree._Element]] = defaultdict(list)
    for p in profiles:
        parent = p.getparent()
        if p.get("id") is not None and parent is not None and parent.tag == T_BENCHMARK:
            counted[p.get("id", "")].append(p)
    if all(len(v) < 2 for v in counted.values()):
        return
    for p in profiles:
        pid = p.get("id")
        if pid is not None and len(counted.get(pid, ())) > 1 and coll in p.iterancestors():
            lines = ", ".join(str(o.sourceline) for o in counted[pid] if o is not p)
            f.fail("A-25-1", p, f"the @id is used by another Benchmark Profile in the "
                   f"collection (line {lines})")


# ---------------------------------------------------------------------------------------------
# Check systems, rules, idents, status

@implements("SRC-118-1", "SRC-118-2", "SRC-118-3", "SRC-169-2")
def check_systems(el: etree._Element, f: Findings) -> None:
    system = el.get("system")
    if system not in CHECK_SYSTEMS:
        rid = {T_CHECK: "SRC-118-1", _q(ns.CPE_LANG, "check-fact-ref"): "SRC-118-3"}.get(
            str(el.tag), "SRC-118-2")
        f.fail(rid, el, f"@system is {system!r}, not the OVAL or OCIL 2 check system")
    if el.tag == T_CHECK:
        rule = el.getparent()
        if rule is not None and (rule.get("id") or "").endswith(PATCHES_RULE) and \
                system != OVAL_SYS:
            f.fail("SRC-169-2", el, f"a patches up-to-date Rule checks with {system!r}, not "
                   "OVAL")


@implements("A-27-1")
def check_fact_ref(el: etree._Element, sds: Collection | None, f: Findings) -> None:
    name = el.get("id-ref")
    if sds is not None:
        for cl in iter_tags(sds.root, _q(D, "checklists")):
            for m in cl.iterchildren(T_CREF):
                comps = sds.target(m, el.get("href"))
                if any(c.has_def(name) or c.has_questionnaire(name) for c in comps):
                    return
    f.fail("A-27-1", el, f"@id-ref {name!r} is no OVAL definition or OCIL questionnaire in the "
           f"component @href {el.get('href')!r} resolves to")


@implements("SRC-175-1", "SRC-251-1", "SRC-257-1", "A-26-1")
def rule_checks(rule: etree._Element, f: Findings) -> None:
    for chk in rule.iter(T_CHECK):
        if next(chk.iterchildren(T_CCR), None) is None:
            f.fail("SRC-175-1", rule, "xccdf:check has no xccdf:check-content-ref", chk)
    idents = _children(rule, T_IDENT)
    if not any(_full(SCAP_IDENT_RE, i.get("system")) for i in idents):
        f.fail("SRC-251-1", rule, "has no xccdf:ident with a CCE, CVE or CPE system")
    seen_other = None
    for i in idents:
        if not _full(SCAP_IDENT_RE, i.get("system")):
            seen_other = seen_other if seen_other is not None else i
        elif seen_other is not None:
            f.fail("SRC-257-1", rule, f"ident {text_of(i)!r} ({i.get('system')}) comes after "
                   f"the non-SCAP ident {text_of(seen_other)!r}", i)
            break
    missing = [a for a in ("selected", "weight", "role", "severity") if rule.get(a) is None]
    if missing:
        f.fail("A-26-1", rule, "default attributes not written out: " + ", ".join(
            f"@{a}" for a in missing))


@implements("A-16-1", "A-17-1")
def cce_format(el: etree._Element, f: Findings) -> None:
    """xccdf:ident (system CCE) text, oval-def:reference (source CCE) @ref_id."""
    if el.tag == T_IDENT:
        if el.get("system") not in ("http://cce.mitre.org", "CCE"):
            return
        value: str | None = text_of(el)
        what = "ident"
    else:
        if el.get("source") not in ("http://cce.mitre.org", "CCE"):
            return
        value = el.get("ref_id")
        what = "@ref_id"
    if not value:
        f.fail("A-16-1", el, f"CCE {what} is empty")
    if value is None or not _full(CCE_FORMAT, value):
        f.fail("A-17-1", el, f"CCE {what} {value!r} is not of the form CCE-<digits>-<digit>")
    elif not luhn_ok(value):
        f.fail("A-17-1", el, f"CCE {what} {value!r} has a wrong check digit")


@implements("SRC-5-1", "SRC-5-2")
def status(el: etree._Element, f: Findings) -> None:
    value = text_of(el)
    if value not in ("draft", "accepted"):
        f.fail("SRC-5-1", el, f"status is {value!r}, not 'draft' or 'accepted'")
    if not el.get("date"):
        f.fail("SRC-5-2", el, "has no @date (date of the last status change)")


# ---------------------------------------------------------------------------------------------
# OVAL definitions

@implements("SRC-207-1", "SRC-209-1", "SRC-214-1")
def oval_references(d: etree._Element, f: Findings) -> None:
    cls = d.get("class")
    refs = [r for m in d.iterchildren(_q(OV, "metadata")) for r in m.iterchildren(_q(OV, "reference"))]
    if cls == "compliance" and not any(_full(SOURCE_RE["cce"], r.get("source")) for r in refs):
        f.fail("SRC-207-1", d, "compliance definition has no CCE reference")
    elif cls == "inventory" and not any(
            _full(SOURCE_RE["cpe"], r.get("source"))
            and (_full(CPE22, r.get("ref_id")) or _full(CPE23, r.get("ref_id"))) for r in refs):
        f.fail("SRC-209-1", d, "inventory definition has no reference to a well-formed CPE name")
    elif cls == "vulnerability" and not any(_full(SOURCE_RE["cve"], r.get("source"))
                                            for r in refs):
        f.fail("SRC-214-1", d, "vulnerability definition has no CVE reference")


_EXTENDS = {"compliance": ("SRC-208-1", ("compliance", "inventory")),
            "inventory": ("SRC-210-1", ("inventory",)),
            "patch": ("SRC-213-1", ("patch", "inventory")),
            "vulnerability": ("SRC-215-1", ("inventory", "vulnerability"))}


class _OvalIds:
    """id → elements of one oval_definitions document (xcf:get-all-parents looks up there).

    An extend_definition leads to definitions, so they are looked up among the document's
    definitions. Every @id value of the document is counted too (strings only, no element
    objects: a third of the cost of indexing every element); an id that some other element
    carries as well (only in a document the XSD refuses) is looked up in an index of every
    element instead, so the answer is always that of //*[@id = ref]."""

    def __init__(self) -> None:
        self._defs: dict[etree._Element, tuple[dict[str, list[etree._Element]], dict[str, int]]] = {}
        self._every: dict[etree._Element, dict[str, list[etree._Element]]] = {}

    def lookup(self, doc: etree._Element | None, ref: str | None) -> list[etree._Element]:
        if doc is None or ref is None:
            return []
        known = self._defs.get(doc)
        if known is None:
            defs: dict[str, list[etree._Element]] = defaultdict(list)
            for d in iter_tags(doc, T_DEF):
                value = d.get("id")
                if value is not None:
                    defs[value].append(d)
            counts: dict[str, int] = defaultdict(int)
            for value in _ID_VALUES(doc):  # type: ignore[union-attr]
                counts[value] += 1         # type: ignore[index]
            known = self._defs[doc] = (defs, counts)
        defs, counts = known
        found = defs.get(ref, [])
        if counts.get(ref, 0) == len(found):
            return found
        if doc not in self._every:
            self._every[doc] = _index_ids(doc)
        return self._every[doc].get(ref, [])


@implements("SRC-208-1", "SRC-210-1", "SRC-213-1", "SRC-215-1")
def oval_extends(d: etree._Element, ids: _OvalIds, f: Findings) -> None:
    rule = _EXTENDS.get(d.get("class") or "")
    if rule is None:
        return
    rid, allowed = rule
    seen = {d}
    todo = [d]
    while todo:
        node = todo.pop()
        for ext in node.iter(_q(OV, "extend_definition")):
            doc = next(ext.iterancestors(T_OVAL_DEFS), None)
            for parent in ids.lookup(doc, ext.get("definition_ref")):
                if parent in seen:
                    continue
                seen.add(parent)
                todo.append(parent)
                if parent.get("class") not in allowed:
                    f.fail(rid, d, f"{d.get('class')} definition extends (directly or not) "
                           f"{parent.get('id')!r} of class {parent.get('class')!r}; only "
                           f"{' or '.join(allowed)} may be extended", ext)


@implements("SRC-216-1", "SRC-216-2")
def oval_versions(gen: etree._Element, f: Findings) -> None:
    for sv in gen.iterchildren(_q(ns.OVAL_COMMON, "schema_version")):
        value = text_of(sv)
        if sv.get("platform") is None:
            if not _full(OVAL_VERSION, value):
                f.fail("SRC-216-1", gen, f"schema_version {value!r} is not an OVAL version "
                       "allowed in SCAP 1.3 (5.3 to 5.11.2)", sv)
        elif not _full(OVAL_PLATFORM_VERSION, value):
            f.fail("SRC-216-2", gen, f"platform schema_version {value!r} (platform "
                   f"{sv.get('platform')!r}) is not 5.11.1 or 5.11.2 with platform version 1.0 to "
                   "1.2", sv)


# ---------------------------------------------------------------------------------------------
# XML digital signatures in the collection

@implements("SRC-282-1", "SRC-284-1", "SRC-284-2", "SRC-285-1", "SRC-286-1", "SRC-287-1",
            "SRC-288-1", "SRC-289-1", "SRC-290-1")
def signature(sig: etree._Element, f: Findings) -> None:
    g = ns.DSIG
    coll = next(sig.iterancestors(_q(D, "data-stream-collection")), None)
    streams = {} if coll is None else {
        "#" + (s.get("id") or ""): s for s in coll.iterchildren(_q(D, "data-stream"))}
    signed_info = sig.find(_q(g, "SignedInfo"))
    refs = [] if signed_info is None else _children(signed_info, _q(g, "Reference"))
    uris = [r.get("URI") for r in refs]
    to_streams = [r for r in refs if r.get("URI") in streams]
    if len(to_streams) > 1:
        f.fail("SRC-282-1", sig, f"signs {len(to_streams)} data streams; a signature SHALL sign "
               "one", to_streams[1])
    objects = _children(sig, _q(g, "Object"))
    manifests = [m for o in objects for m in o.iterchildren(_q(g, "Manifest"))]
    props = [p for o in objects for p in o.iterchildren(_q(g, "SignatureProperties"))]
    if not manifests:
        f.fail("SRC-284-1", sig, "has no dsig:Object/dsig:Manifest")
    first = streams.get(uris[0]) if uris and uris[0] is not None else None
    if first is None:
        f.fail("SRC-286-1", sig, f"the first dsig:Reference ({uris[0] if uris else None!r}) is "
               "not '#' + the @id of a ds:data-stream of the collection")
    else:
        listed = [r.get("URI") for m in manifests for r in m.iterchildren(_q(g, "Reference"))]
        order = []
        for cref in first.iter(T_CREF):
            href = cref.get(HREF) or ""
            if href.startswith("#") and href not in listed:
                f.fail("SRC-284-2", sig, f"the Manifest has no dsig:Reference to component "
                       f"{href!r} of the signed data stream", cref)
            elif href.startswith("#") and href not in order:
                order.append(href)
        in_manifest = [u for u in listed if u in order]
        if in_manifest != [h for h in order if h in in_manifest] and manifests:
            f.fail("SRC-289-1", sig, "the Manifest's references are not in the order of the "
                   "signed data stream's component-refs", manifests[0])
    if not any(pr.iterchildren(_q(ns.TMSAD, "signature-info"))
               for p in props for pr in p.iterchildren(_q(g, "SignatureProperty"))):
        f.fail("SRC-285-1", sig, "has no dsig:SignatureProperties/SignatureProperty with a "
               "tmsad:signature-info")
    if len(uris) < 2 or not any("#" + (p.get("Id") or "") == uris[1] for p in props):
        f.fail("SRC-287-1", sig, "the second dsig:Reference is not to the signature's "
               "dsig:SignatureProperties")
    if len(uris) < 3 or not any("#" + (m.get("Id") or "") == uris[2] for m in manifests):
        f.fail("SRC-288-1", sig, "the third dsig:Reference is not to the signature's "
               "dsig:Manifest")
    if sig.find(_q(g, "KeyInfo")) is None:
        f.fail("SRC-290-1", sig, "has no dsig:KeyInfo")


# ---------------------------------------------------------------------------------------------
# ds:data-stream: references between the components

@implements("SRC-324-1", "SRC-333-1")
def stream_basics(stream: etree._Element, f: Findings) -> None:
    uc = stream.get("use-case")
    if uc not in ("CONFIGURATION", "VULNERABILITY", "INVENTORY", "OTHER"):
        f.fail("SRC-324-1", stream, f"@use-case is {uc!r}, not CONFIGURATION, VULNERABILITY, "
               "INVENTORY or OTHER")
    seen: dict[str | None, etree._Element] = {}
    for cref in stream.iter(T_CREF):
        href = cref.get(HREF)
        if href is None:
            f.fail("SRC-333-1", stream, "component-ref has no @xlink:href", cref)
        elif href in seen:
            f.fail("SRC-333-1", stream, f"references component {href!r} more than once (also "
                   f"line {seen[href].sourceline})", cref)
        else:
            seen[href] = cref


@implements("SRC-15-1", "SRC-30-1", "SRC-33-1", "SRC-358-1")
def stream_platforms(stream: etree._Element, sds: Collection, f: Findings) -> None:
    checklists = _checklists(stream)
    dictionaries = _section(stream, "dictionaries")
    names: list[str] | None = None
    checked: list[str] = []
    for m in checklists:
        comps = sds.component([m])
        for comp in comps:
            for el in iter_tags(comp.el, _q(X, "platform"), _q(ns.CPE_LANG, "fact-ref")):
                is_platform = el.tag == _q(X, "platform")
                name = el.get("idref") if is_platform else el.get("name")
                if is_platform and (name or "").startswith("#"):
                    continue
                if names is None:
                    items = [i for c in sds.component(dictionaries) for i in iter_tags(c.el, T_CPE_ITEM)]
                    names = [i.get("name") or "" for i in items]
                    checked = [i.get("name") or "" for i in items
                               if i.find(_q(ns.CPE_DICT, "check")) is not None]
                if not any(cpe_equal_or_superset(name or "", n) for n in names):
                    f.fail("SRC-15-1", stream, f"CPE {name!r} matches no cpe-item (equal or "
                           "narrower) in a CPE dictionary of the data stream", el)
                if not any(cpe_equal_or_superset(name or "", n) for n in checked):
                    f.fail("SRC-358-1", stream, f"CPE {name!r} has no cpe-item with a check in a "
                           "CPE dictionary of the data stream", el)
        uc = stream.get("use-case")
        if uc in ("CONFIGURATION", "VULNERABILITY") and any(
                c.has(_q(X, "platform")) or c.has(T_CPE_ITEM) for c in comps):
            rid = "SRC-30-1" if uc == "CONFIGURATION" else "SRC-33-1"
            if not dictionaries:
                f.fail(rid, stream, f"checklist {m.get('id')!r} names platforms but the data "
                       "stream has no CPE dictionary", m)
            elif not any(c.count_defs("inventory") for c in sds.component(_section(stream,
                                                                                    "checks"))):
                f.fail(rid, stream, f"checklist {m.get('id')!r} names platforms but no check "
                       "component of the data stream has an OVAL inventory definition", m)


def _patch_rules(comps: Iterable[_Component]) -> Iterator[etree._Element]:
    for rule in _rules_in(comps):
        rid = rule.get("id") or ""
        if rid.startswith("xccdf_") and rid.endswith("_rule_" + PATCHES_RULE):
            yield rule


@implements("SRC-169-1", "SRC-171-1", "SRC-377-1", "SRC-379-1")
def stream_patch_rules(stream: etree._Element, sds: Collection, f: Findings) -> None:
    for m in _checklists(stream):
        for rule in _patch_rules(sds.component([m])):
            for ccr in rule.iter(T_CCR):
                chk = ccr.getparent()
                multi = chk.get("multi-check") if chk is not None else None
                external = sds.is_external(m, ccr.get("href"))
                name = ccr.get("name")
                if multi == "true":
                    if name is not None:
                        f.fail("SRC-171-1", stream, "a multi-check patches up-to-date reference "
                               f"names one definition ({name!r}); @name SHALL be omitted", ccr)
                    if not external and not any(
                            c.count_defs("patch") for c in sds.target(m, ccr.get("href"))):
                        f.fail("SRC-169-1", stream, f"@href {ccr.get('href')!r} resolves to no "
                               "OVAL component with patch definitions", ccr)
                elif multi == "false" or multi is None:
                    if name is None:
                        f.fail("SRC-379-1", stream, "a single-check patches up-to-date reference "
                               "has no @name", ccr)
                    if not external:
                        alone = len(list(chk.iterchildren("{*}check-content-ref"))) == 1 \
                            if chk is not None else True
                        n = sum(1 for c in sds.target(m, ccr.get("href"))
                                for d in c.defs.get(name or "\0", ()) if d.get("class") == "patch")
                        if not alone or n != 1:
                            why = ("the check has more than one check-content-ref" if not alone
                                   else f"@name {name!r} is not one OVAL patch definition")
                            f.fail("SRC-377-1", stream, f"a single-check patches up-to-date "
                                   f"Rule: {why}", ccr)


_USE_CASE = {"CONFIGURATION": ("SRC-236-1", "SRC-236-2", ("compliance", "patch")),
             "VULNERABILITY": ("SRC-242-1", "SRC-242-2", ("vulnerability", "patch")),
             "INVENTORY": ("SRC-248-1", "SRC-248-2", ("inventory",))}


@implements("SRC-236-1", "SRC-236-2", "SRC-242-1", "SRC-242-2", "SRC-248-1", "SRC-248-2",
            "SRC-262-1", "SRC-265-1")
def stream_use_case(stream: etree._Element, sds: Collection, any_checklist: bool,
                    f: Findings) -> None:
    uc = stream.get("use-case") or ""
    if uc not in _USE_CASE:
        return
    has_rid, rule_rid, classes = _USE_CASE[uc]
    checklists = _checklists(stream)
    if not any_checklist or not any(
            c.el.find(T_BENCHMARK) is not None for c in sds.component(checklists)):
        f.fail(has_rid, stream, f"a {uc} data stream references no ds:component holding an "
               "xccdf:Benchmark in its checklists")
    for m in checklists:
        comps = sds.component([m])
        for rule in _rules_in(comps):
            refs = [ccr for chk in rule.iterchildren(T_CHECK)
                    if chk.get("system") in CHECK_SYSTEMS
                    for ccr in chk.iterchildren(T_CCR)
                    if ccr.get("name") is not None and not sds.is_external(m, ccr.get("href"))]
            if uc == "CONFIGURATION" and not refs:
                continue
            if not any(_names_kind(sds.target(m, r.get("href")), r.get("name"), classes)
                       for r in refs):
                what = " or ".join(classes)
                f.fail(rule_rid, stream, f"no check of the Rule names an OVAL {what} definition "
                       "or an OCIL questionnaire", rule)
        if uc in ("CONFIGURATION", "VULNERABILITY") and any(
                c.el.find(T_BENCHMARK) is not None for c in comps):
            cls = "compliance" if uc == "CONFIGURATION" else "vulnerability"
            ok = any(_names_kind(sds.target(m, ccr.get("href")), ccr.get("name"), (cls,))
                     for c in comps for chk in iter_tags(c.el, T_CHECK)
                     if chk.get("system") in CHECK_SYSTEMS
                     for ccr in chk.iterchildren(T_CCR)
                     if not sds.is_external(m, ccr.get("href")))
            if not ok:
                f.fail("SRC-262-1" if uc == "CONFIGURATION" else "SRC-265-1", stream,
                       f"no Rule of checklist {m.get('id')!r} names an OVAL {cls} definition or "
                       "an OCIL questionnaire", m)


def _names_kind(comps: list[_Component], name: str | None, classes: Iterable[str]) -> bool:
    return any(c.has_def(name, classes) or c.has_questionnaire(name) for c in comps)


@implements("SRC-31-1", "SRC-345-1", "SRC-346-1", "SRC-348-1", "SRC-349-1")
def stream_check_refs(stream: etree._Element, sds: Collection, f: Findings) -> None:
    for m in _checklists(stream):
        for comp in sds.component([m]):
            for chk in iter_tags(comp.el, T_CHECK):
                system = chk.get("system")
                for ccr in chk.iter(T_CCR):
                    href, name = ccr.get("href"), ccr.get("name")
                    refs = sds.component_ref(m, href)
                    if not refs:
                        f.fail("SRC-31-1", stream, f"@href {href!r} does not resolve through the "
                               f"catalog of component-ref {m.get('id')!r} to a component-ref",
                               ccr)
                    if system not in CHECK_SYSTEMS or (
                            refs and not (refs[0].get(HREF) or "").startswith("#")):
                        continue
                    targets = sds.component(refs)
                    if system == OVAL_SYS:
                        if not any(t.has(T_OVAL_DEFS) for t in targets):
                            f.fail("SRC-345-1", stream, f"@href {href!r} resolves to no OVAL "
                                   "component", ccr)
                        if name is not None and not any(t.has_def(name) for t in targets):
                            f.fail("SRC-346-1", stream, f"@name {name!r} is no OVAL definition in "
                                   f"the component @href {href!r} resolves to", ccr)
                    else:
                        if not any(t.has(_q(ns.OCIL, "ocil")) for t in targets):
                            f.fail("SRC-348-1", stream, f"@href {href!r} resolves to no OCIL "
                                   "component", ccr)
                        if name is not None and not any(t.has_questionnaire(name)
                                                        for t in targets):
                            f.fail("SRC-349-1", stream, f"@name {name!r} is no OCIL questionnaire "
                                   f"in the component @href {href!r} resolves to", ccr)


@implements("SRC-251-2", "SRC-331-1", "SRC-331-2", "SRC-331-3")
def stream_idents(stream: etree._Element, sds: Collection, f: Findings) -> None:
    by_system = {"http://cce.mitre.org": ("SRC-331-1", "compliance"),
                 "http://cve.mitre.org": ("SRC-331-2", "vulnerability"),
                 "http://cpe.mitre.org": ("SRC-331-3", "inventory")}
    for m in _checklists(stream):
        for rule in _rules_in(sds.component([m])):
            idents = [i for i in rule.iterchildren(T_IDENT)
                      if _full(SCAP_IDENT_RE, i.get("system"))]
            if not idents:
                continue
            oval_refs = [ccr for chk in rule.iterchildren(T_CHECK)
                         if chk.get("system") == OVAL_SYS for ccr in chk.iter(T_CCR)
                         if ccr.get("name") is not None]
            for ident in idents:
                value = text_of(ident)
                sources = IDENT_SOURCES.get(ident.get("system", ""))
                for ccr in oval_refs:
                    defs = [d for c in sds.target(m, ccr.get("href"))
                            for d in c.defs.get(ccr.get("name", ""), ())]
                    if sources is None or not any(
                            _full(sources, r.get("source")) and r.get("ref_id") == value
                            for d in defs for r in d.iter(_q(OV, "reference"))):
                        f.fail("SRC-251-2", stream, f"ident {value!r} is not a reference of "
                               f"OVAL definition {ccr.get('name')!r} that the Rule checks", ident)
            for system in {i.get("system") or "" for i in idents} & SCAP_IDENT:
                rid, cls = by_system[system]
                for ccr in oval_refs:
                    if sds.is_external(m, ccr.get("href")):
                        continue
                    if not any(c.has_def(ccr.get("name"), (cls,))
                               for c in sds.target(m, ccr.get("href"))):
                        f.fail(rid, stream, f"the Rule has a {system} ident, so OVAL definition "
                               f"{ccr.get('name')!r} SHALL be of class {cls!r}", ccr)


@implements("SRC-38-1", "SRC-38-2", "SRC-38-3")
def stream_value_bindings(stream: etree._Element, sds: Collection, f: Findings) -> None:
    rules = {"number": ("SRC-38-1", ("int", "float")), "boolean": ("SRC-38-2", ("boolean",)),
             "string": ("SRC-38-3", ("string", "evr_string", "version", "ios_version",
                                     "fileset_revision", "binary"))}
    for m in _checklists(stream):
        for comp in sds.component([m]):
            values: dict[str, list[etree._Element]] | None = None
            for chk in iter_tags(comp.el, T_CHECK):
                if chk.get("system") != OVAL_SYS:
                    continue
                for ex in chk.iterchildren(_q(X, "check-export")):
                    bench = next(ex.iterancestors(T_BENCHMARK), None)
                    if bench is None:
                        continue
                    if values is None:
                        values = defaultdict(list)
                        for b in iter_tags(comp.el, T_BENCHMARK):
                            for v in iter_tags(b, T_VALUE):
                                values[v.get("id", "\0")].append(v)
                    found = [v for v in values.get(ex.get("value-id", "\0"), ())
                             if bench in v.iterancestors()]
                    vtype = found[0].get("type") if found else None
                    if vtype not in rules:
                        continue
                    rid, allowed = rules[vtype]
                    for ccr in ex.itersiblings(T_CCR):
                        targets = [e for c in sds.target(m, ccr.get("href"))
                                   for e in c.by_id(ex.get("export-name"))]
                        dtype = targets[0].get("datatype") if targets else None
                        if dtype not in allowed:
                            f.fail(rid, stream, f"Value {ex.get('value-id')!r} of type {vtype!r} "
                                   f"is bound to OVAL variable {ex.get('export-name')!r} of "
                                   f"datatype {dtype!r} (allowed: {', '.join(allowed)})", ex)


@implements("SRC-72-1")
def stream_cpe_checks(stream: etree._Element, sds: Collection, f: Findings) -> None:
    for m in _section(stream, "dictionaries"):
        for comp in sds.component([m]):
            for lst in iter_tags(comp.el, _q(ns.CPE_DICT, "cpe-list")):
                for item in lst.iterchildren(T_CPE_ITEM):
                    for chk in item.iterchildren(_q(ns.CPE_DICT, "check")):
                        name = text_of(chk)
                        if chk.get("system") != OVAL_SYS:
                            f.fail("SRC-72-1", stream, f"cpe-item {item.get('name')!r} check "
                                   "is not an OVAL check", chk)
                        elif not any(c.has_def(name) for c in sds.target(m, chk.get("href"))):
                            f.fail("SRC-72-1", stream, f"cpe-item {item.get('name')!r} check "
                                   f"{name!r} is no OVAL definition in the component @href "
                                   f"{chk.get('href')!r} resolves to", chk)


# ---------------------------------------------------------------------------------------------

@implements("SRC-330-2")
def collection_version(coll: etree._Element, f: Findings) -> None:
    if coll.get("schematron-version") != "1.3":
        f.fail("SRC-330-2", coll, f"@schematron-version is {coll.get('schematron-version')!r}, "
               "not '1.3'")


_TAGS = {
    "benchmark": T_BENCHMARK, "profile": T_PROFILE, "cpe_check": _q(ns.CPE_DICT, "check"),
    "fact_ref": _q(ns.CPE_LANG, "check-fact-ref"), "check": T_CHECK,
    "stream": _q(D, "data-stream"), "collection": _q(D, "data-stream-collection"),
    "rule": T_RULE, "definition": T_DEF, "generator": _q(OV, "generator"),
    "signature": _q(ns.DSIG, "Signature"), "status": T_STATUS, "ident": T_IDENT,
    "reference": _q(OV, "reference"), "version": _q(X, "version"),
    "checklists": _q(D, "checklists"),
}


def check(root: etree._Element, f: Findings) -> None:
    """Every source data stream requirement on a document (normally a collection)."""
    by: dict[str, list[etree._Element]] = {k: [] for k in _TAGS}
    tag_to = {v: k for k, v in _TAGS.items()}
    for el in iter_tags(root, *_TAGS.values()):
        by[tag_to[el.tag]].append(el)   # type: ignore[index]
    coll = root if root.tag == _TAGS["collection"] else next(
        root.iterancestors(_TAGS["collection"]), None)
    sds = Collection(coll) if coll is not None else None
    any_update = any(v.get("update") for v in by["version"])
    any_checklist = any(c.find(T_CREF) is not None for c in
                        iter_tags(root.getroottree().getroot(), "{*}checklists"))
    for bench in by["benchmark"]:
        benchmark_items(bench, f)
        benchmark_header(bench, f, any_update)
        benchmark_forbidden(bench, f)
    benchmark_unique(by["benchmark"], coll, f)
    profile_unique(by["profile"], coll, f)
    for el in by["cpe_check"]:
        check_systems(el, f)
    for el in by["fact_ref"]:
        check_systems(el, f)
        check_fact_ref(el, sds, f)
    for el in by["check"]:
        parent = el.getparent()
        if parent is not None and parent.tag == T_RULE:
            check_systems(el, f)
    for el in by["collection"]:
        collection_version(el, f)
    for stream in by["stream"]:
        stream_basics(stream, f)
        stream_sds = sds if sds is not None else Collection(stream)
        stream_platforms(stream, stream_sds, f)
        stream_patch_rules(stream, stream_sds, f)
        stream_use_case(stream, stream_sds, any_checklist, f)
        stream_check_refs(stream, stream_sds, f)
        stream_idents(stream, stream_sds, f)
        stream_value_bindings(stream, stream_sds, f)
        stream_cpe_checks(stream, stream_sds, f)
    for rule in by["rule"]:
        rule_checks(rule, f)
    ids = _OvalIds()
    for d in by["definition"]:
        oval_references(d, f)
        oval_extends(d, ids, f)
    for gen in by["generator"]:
        oval_versions(gen, f)
    for sig in by["signature"]:
        signature(sig, f)
    for st in by["status"]:
        status(st, f)
    for el in by["ident"] + by["reference"]:
        cce_format(el, f)
