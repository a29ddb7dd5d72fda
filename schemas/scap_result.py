"""SCAP 1.3 result data stream requirements (RES-*, A-26-1), natively over lxml.

The same verdicts as NIST SCAPVal's `result-data-stream-1.3.sch` (compared rule context by
rule context in tests), including its reading of SP 800-126r3 Table 23 (RES-126-1: an XCCDF
rule result against the OVAL definition result it came from, through the definition's class
and the check's @negate, for single checks and AND / OR complex checks).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from lxml import etree

from . import namespaces as ns
from .scap_requirements import Findings, implements, text_of
from .scap_source import CPE22, CPE23, OVAL_SYS

X = ns.XCCDF12
A = ns.ARF


_q = ns.qname


T_RULE_RESULT, T_CHECK, T_CCR, T_RESULT, T_RULE = (
    _q(X, n) for n in ("rule-result", "check", "check-content-ref", "result", "Rule"))
T_COMPLEX = _q(X, "complex-check")
T_ARC = _q(A, "asset-report-collection")
T_REPORT = _q(A, "report")
T_RES_DEF = _q(ns.OVAL_RES, "definition")
T_DEF = _q(ns.OVAL_DEF, "definition")
ISABOUT = {(ns.ARF_REL_OSCAP, "isAbout"), (ns.ARF_REL, "isAbout")}
IPV4 = re.compile(r"([0-9]|[1-9][0-9]|1([0-9][0-9])|2([0-4][0-9]|5[0-5]))\."
                  r"([0-9]|[1-9][0-9]|1([0-9][0-9])|2([0-4][0-9]|5[0-5]))\."
                  r"([0-9]|[1-9][0-9]|1([0-9][0-9])|2([0-4][0-9]|5[0-5]))\."
                  r"([0-9]|[1-9][0-9]|1([0-9][0-9])|2([0-4][0-9]|5[0-5]))")
IPV6 = re.compile(r"([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}")
PASS_CLASSES = ("compliance", "inventory")   # Table 23: 'true' means pass
FAIL_CLASSES = ("vulnerability", "patch")     # Table 23: 'true' means fail
SCAP_IDENT = {"http://cce.mitre.org", "http://cpe.mitre.org", "http://cve.mitre.org"}


class _Reports:
    """The asset report collection's reports and report-request definitions, indexed."""

    def __init__(self, arc: etree._Element | None):
        self.arc = arc
        self.reports: dict[str, list[etree._Element]] = defaultdict(list)
        self.request_defs: dict[str, list[etree._Element]] = defaultdict(list)
        self.request_rules: dict[str, list[etree._Element]] = defaultdict(list)   # any depth
        self.direct_rules: dict[str, list[etree._Element]] = defaultdict(list)    # arc/report-requests
        self.all_rules: dict[str, list[etree._Element]] = defaultdict(list)
        self._res_defs: dict[etree._Element, dict[str, list[etree._Element]]] = {}
        self._def_defs: dict[etree._Element, dict[str, list[etree._Element]]] = {}
        if arc is None:
            return
        for rep in arc.iter(T_REPORT):
            self.reports["#" + (rep.get("id") or "")].append(rep)
        for rule in arc.iter(T_RULE):
            self.all_rules[rule.get("id", "\0")].append(rule)
        for rrs in arc.iter(_q(A, "report-requests")):
            direct = rrs.getparent() is arc
            for rule in rrs.iter(T_RULE):
                self.request_rules[rule.get("id", "\0")].append(rule)
                if direct:
                    self.direct_rules[rule.get("id", "\0")].append(rule)
        for rr in arc.iter(_q(A, "report-request")):
            for defs in rr.iter(_q(ns.OVAL_DEF, "oval_definitions")):
                for container in {p for d in defs.iter(T_DEF) if (p := d.getparent()) is not None}:
                    seen: set[str] = set()
                    for d in container.iterchildren(T_DEF):
                        did = d.get("id", "\0")
                        if did not in seen:   # definition[@id eq X][1], per parent
                            seen.add(did)
                            self.request_defs[did].append(d)

    def _index(self, cache: dict, rep: etree._Element, tag: str, attr: str) -> dict:
        if rep not in cache:
            idx: dict[str, list[etree._Element]] = defaultdict(list)
            for d in rep.iter(tag):
                idx[d.get(attr, "\0")].append(d)
            cache[rep] = idx
        return cache[rep]

    def result_defs(self, href: str | None, name: str | None) -> list[etree._Element]:
        """ARC[1]//arf:report[concat('#',@id) eq href]//oval-res:definition[@definition_id eq name]"""
        if href is None or name is None:
            return []
        return [d for rep in self.reports.get(href, ())
                for d in self._index(self._res_defs, rep, T_RES_DEF, "definition_id").get(name, ())]

    def report_defs(self, href: str | None, name: str | None) -> list[etree._Element]:
        """ARC[1]//arf:report[…]//oval-def:definition[@id eq name]"""
        if href is None or name is None:
            return []
        return [d for rep in self.reports.get(href, ())
                for d in self._index(self._def_defs, rep, T_DEF, "id").get(name, ())]


def _first_ccr(check: etree._Element) -> etree._Element | None:
    return next(check.iterchildren(T_CCR), None)


def _result(rr: etree._Element) -> str | None:
    r = rr.find(T_RESULT)
    return None if r is None else text_of(r)


def _eq(values: list[str | None], want: str) -> bool:
    """XPath `seq eq 'x'` in an if-condition: one item equal to want (several: SCAPVal errs)."""
    return len(values) == 1 and values[0] == want


class _Check:
    """One xccdf:check of a rule result and the OVAL definition (results) it names."""

    def __init__(self, check: etree._Element, reps: _Reports):
        ccr = _first_ccr(check)
        self.check = check
        self.href = ccr.get("href") if ccr is not None else None
        self.name = ccr.get("name") if ccr is not None else None
        self.defs = reps.result_defs(self.href, self.name)
        self.reps = reps

    def results(self) -> list[str | None]:
        return [d.get("result") for d in self.defs]

    def classes(self, classes: tuple[str, ...]) -> bool:
        """The definition's class is one of `classes`: from the results, the report's own
        definitions, or the report-request's source data stream."""
        for d in self.defs:
            if d.get("class") in classes:
                return True
        rdefs = self.reps.report_defs(self.href, self.name)
        if any(d.get("class") in classes for d in rdefs):
            return True
        req = self.reps.request_defs.get(self.name or "\0", [])
        return len(req) == 1 and req[0].get("class") in classes

    def has_class(self) -> bool:
        return any(d.get("class") is not None for d in self.defs) or any(
            d.get("class") is not None for d in self.reps.report_defs(self.href, self.name)) or any(
            d.get("class") is not None for d in self.reps.request_defs.get(self.name or "\0", []))


def _negate(nodes: Iterable[etree._Element], value: str) -> bool:
    return any(n.get("negate") == value for n in nodes)


def _no_negate(nodes: Iterable[etree._Element]) -> bool:
    return not any(n.get("negate") is not None for n in nodes)


def _single_ok(rr: etree._Element, c: _Check, direct: list[etree._Element]) -> bool:
    """RES-126-1's test of one check (//xccdf:check) of a rule result."""
    result, role = _result(rr), rr.get("role")
    if len(c.defs) > 1:
        return True
    if not any(ccr.get("name") is not None for chk in direct for ccr in chk.iterchildren(T_CCR)):
        return True
    res = c.results()
    if result == "error":
        return _eq(res, "error")
    if result == "unknown":
        return _eq(res, "unknown")
    if role == "unchecked":
        return result == "notchecked"
    if result == "notchecked":
        return _eq(res, "not evaluated")
    plain = _negate(direct, "false") or _no_negate(direct)
    if (result == "fail" and plain) or (result in ("pass", "fixed") and _negate(direct, "true")):
        return (_eq(res, "false") and c.classes(PASS_CLASSES)) or \
            (_eq(res, "true") and c.classes(FAIL_CLASSES))
    if (result in ("pass", "fixed") and plain) or (result == "fail" and _negate(direct, "true")):
        return (_eq(res, "true") and c.classes(PASS_CLASSES)) or \
            (_eq(res, "false") and c.classes(FAIL_CLASSES))
    return result in ("notselected", "informational", "notapplicable")


def _complex_ok(rr: etree._Element, checks: list[_Check], operator: str) -> bool:
    """RES-126-1's test of the checks of an AND / OR complex-check."""
    result, role = _result(rr), rr.get("role")
    if any(len(c.defs) > 1 for c in checks):
        return True
    complexes = list(rr.iterchildren(T_COMPLEX))
    if not any(cc.get("operator") == operator for cc in complexes):
        return True
    if result == "error":
        return any(_eq(c.results(), "error") for c in checks)
    if result == "unknown":
        return any(_eq(c.results(), "unknown") for c in checks)
    if role == "unchecked":
        return result == "notchecked"
    if result == "notchecked":
        return any(_eq(c.results(), "not evaluated") for c in checks)

    def fail_cat(c: _Check) -> bool:
        neg = c.check.get("negate") == "true"
        res = c.results()
        return ((_eq(res, "false") or (neg and _eq(res, "true"))) and c.classes(PASS_CLASSES)) or \
            ((_eq(res, "true") or (neg and _eq(res, "false"))) and c.classes(FAIL_CLASSES))

    def pass_cat(c: _Check) -> bool:
        neg = c.check.get("negate") == "true"
        res = c.results()
        return ((_eq(res, "true") or (neg and _eq(res, "false"))) and c.classes(PASS_CLASSES)) or \
            ((_eq(res, "false") or (neg and _eq(res, "true"))) and c.classes(FAIL_CLASSES))

    plain = _negate(complexes, "false") or _no_negate(complexes)
    negated = _negate(complexes, "true")
    pass_like = result in ("pass", "fixed")
    if (result == "fail" and plain) or (pass_like and negated):
        return (any if operator == "AND" else all)(fail_cat(c) for c in checks)
    if (pass_like and plain) or (pass_like and negated):
        return (all if operator == "AND" else any)(pass_cat(c) for c in checks)
    return result in ("notselected", "informational", "notapplicable")


@implements("RES-126-1", "RES-126-2", "RES-126-3", "RES-126-4", "RES-126-5")
def table23(rr: etree._Element, reps: _Reports, f: Findings) -> None:
    direct = list(rr.iterchildren(T_CHECK))
    every = [_Check(c, reps) for c in rr.iter(T_CHECK)]
    complex_checks = [_Check(c, reps) for cc in rr.iterchildren(T_COMPLEX)
                      for c in cc.iterchildren(T_CHECK)]
    not_oval = any(c.get("system") != OVAL_SYS for c in direct)
    result = _result(rr)
    ok = all(_single_ok(rr, c, direct) for c in every) and \
        _complex_ok(rr, complex_checks, "AND") and _complex_ok(rr, complex_checks, "OR")
    if not (ok or not_oval):
        shown = ", ".join(f"{c.name} = {('/'.join(str(r) for r in c.results()) or 'none')}"
                          for c in (every or complex_checks)) or "no OVAL definition result"
        f.fail("RES-126-1", rr, f"result {result!r} does not follow from the OVAL definition "
               f"result(s) by SP 800-126r3 Table 23 ({shown})")
    named = any(ccr.get("name") is not None for chk in direct for ccr in chk.iterchildren(T_CCR))
    if not not_oval and not (all(not named or c.has_class() for c in every)
                             and all(c.has_class() for c in complex_checks)):
        f.fail("RES-126-2", rr, "the class of an OVAL definition it checks is found neither in "
               "the OVAL results nor in the report request, so Table 23 cannot be applied")
    if result == "notapplicable":
        for c in every + complex_checks:
            if len(c.defs) <= 1 and not (_eq(c.results(), "not applicable")
                                         or _eq(c.results(), "not evaluated")):
                f.fail("RES-126-3", rr, f"notapplicable, but OVAL definition {c.name!r} is "
                       f"{('/'.join(str(r) for r in c.results()) or 'not reported')}, not "
                       "'not applicable' or 'not evaluated'", c.check)
                break
    if not not_oval:
        for c in every + complex_checks:
            if len(c.defs) > 1:
                f.fail("RES-126-4", rr, f"OVAL definition {c.name!r} is reported {len(c.defs)} "
                       "times in the OVAL results, so the mapping cannot be verified", c.check)
                break
    idref = rr.get("idref")
    for chk in rr.iter(T_CHECK):
        if any(ccr.get("name") is not None for ccr in chk.iterchildren(T_CCR)):
            continue
        why = _unnamed_check_problem(reps, idref)
        if why:
            f.fail("RES-126-5", rr, f"a check-content-ref without @name, but {why}", chk)


def _unnamed_check_problem(reps: _Reports, idref: str | None) -> str | None:
    """Why a rule result's unnamed check-content-ref is wrong (RES-126-5 / RES-260-1)."""
    rules = reps.direct_rules.get(idref or "\0", [])
    if len(rules) != 1:
        return f"{len(rules)} Rules with @id {idref!r} in the report requests (need exactly one)"
    rule = rules[0]
    if any(ccr.get("name") is not None for chk in rule.iterchildren(T_CHECK)
           for ccr in chk.iterchildren(T_CCR)):
        return f"the Rule {idref!r} names its check"
    if any(chk.get("multi-check") == "true" for chk in rule.iterchildren(T_CHECK)):
        return f"the Rule {idref!r} is a multi-check"
    return None


@implements("RES-44-1", "RES-69-1", "RES-260-1", "RES-370-1", "RES-370-2", "RES-391-1",
            "RES-391-2", "RES-392-1", "A-26-1")
def rule_result(rr: etree._Element, reps: _Reports, f: Findings) -> None:
    idref = rr.get("idref")
    result = _result(rr)
    rules = reps.all_rules.get(idref or "\0", []) if reps.arc is not None else []
    rule_idents = [i for r in rules for i in r.iterchildren(_q(X, "ident"))]
    if any(i.get("system") in SCAP_IDENT for i in rule_idents):
        mine = list(rr.iterchildren(_q(X, "ident")))
        if not _deep_equal(mine, rule_idents):
            f.fail("RES-44-1", rr, f"its xccdf:ident elements differ from those of Rule {idref!r} "
                   f"({len(mine)} vs {len(rule_idents)}, or their content)")
    if result is not None and result not in ("notapplicable", "notchecked", "notselected"):
        checks = list(rr.iter(T_CHECK))
        if not checks:
            f.fail("RES-260-1", rr, f"result {result!r} but no xccdf:check")
        for chk in checks:
            ccrs = list(chk.iterchildren(T_CCR))
            if not any(c.get("name") is not None for c in ccrs):
                why = None if any(c.get("href") is not None for c in ccrs) else \
                    "it has no @href"
                why = why or _unnamed_check_problem(reps, idref)
                if why:
                    f.fail("RES-260-1", rr, f"an unnamed check-content-ref, but {why}", chk)
            elif not any(c.get("href") is not None and c.get("name") is not None
                         for ch in rr.iter(T_CHECK) for c in ch.iterchildren(T_CCR)):
                f.fail("RES-260-1", rr, "no check-content-ref has both @href and @name", chk)
    if result not in (None, "notapplicable", "notchecked", "notselected"):
        for chk in rr.iter(T_CHECK):
            if chk.get("system") != OVAL_SYS:
                continue
            for ccr in chk.iterchildren(T_CCR):
                href, name = ccr.get("href"), ccr.get("name")
                holders = [r for r in reps.reports.get(href or "\0", ())
                           if r.find(f"{_q(A, 'content')}/{_q(ns.OVAL_RES, 'oval_results')}")
                           is not None]
                if name is not None and holders and not reps.result_defs(href, name):
                    f.fail("RES-69-1", rr, f"OVAL definition {name!r} has no result in report "
                           f"{href!r}", ccr)
    report = _report_of(rr)
    for ccr in rr.iter(T_CCR):
        href = ccr.get("href")
        if href is None or not reps.reports.get(href) or report is None or \
                "#" + (report.get("id") or "") == href:
            f.fail("RES-370-1", rr, f"@href {href!r} is not '#' + the @id of another arf:report",
                   ccr)
        holder = ccr.getparent()
        system = (holder.get("system") if holder is not None and holder.tag == T_CHECK
                  else None) or ""
        want = "oval_results" if "oval" in system else "ocil" if "ocil" in system else None
        target = [r for r in reps.reports.get("#" + (href or "").replace("#", ""), [])]
        if want is None or not any(etree.QName(c).localname == want
                                   for t in target for content in t.iterchildren(_q(A, "content"))
                                   for c in content.iterchildren(etree.Element)):
            f.fail("RES-370-2", rr, f"@href {href!r} names no arf:report holding "
                   f"{want or 'OVAL or OCIL'} results (check system {system!r})", ccr)
    selected = [r for r in reps.request_rules.get(idref or "\0", [])
                if r.get("selected") in ("true", None)]
    if any(r.get("role") == "unchecked" for r in selected) and result != "notchecked":
        f.fail("RES-391-1", rr, f"Rule {idref!r} is selected with role 'unchecked', but the "
               f"result is {result!r}, not 'notchecked'")
    if any(r.get("role") == "unscored" for r in selected) and result != "informational":
        f.fail("RES-391-2", rr, f"Rule {idref!r} is selected with role 'unscored', but the "
               f"result is {result!r}, not 'informational'")
    empty = [a for a in ("role", "severity", "weight") if not rr.get(a)]
    if empty:
        f.fail("RES-392-1", rr, "no " + ", ".join(f"@{a}" for a in empty) + " (the values "
               "used in the assessment)")
    missing = [a for a in ("role", "severity", "weight") if rr.get(a) is None]
    if missing:
        f.fail("A-26-1", rr, "default attributes not written out: " + ", ".join(
            f"@{a}" for a in missing))


def _report_of(rr: etree._Element) -> etree._Element | None:
    """parent::*/parent::*/parent::* of a rule result: the arf:report of its TestResult."""
    node: etree._Element | None = rr
    for _ in range(3):
        node = node.getparent() if node is not None else None
    return node


def _children_seq(el: etree._Element) -> list[object]:
    seq: list[object] = []
    text = el.text or ""
    for child in el:
        if isinstance(child.tag, str):
            if text:
                seq.append(text)
            seq.append(child)
            text = child.tail or ""
        else:   # a comment or PI: not compared, but it separates text nodes
            if text:
                seq.append(text)
            text = child.tail or ""
    if text:
        seq.append(text)
    return seq


def _deep_equal(a: list[etree._Element], b: list[etree._Element]) -> bool:
    """XPath deep-equal over two element sequences (untyped)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.tag != y.tag or dict(x.attrib) != dict(y.attrib):
            return False
        sx, sy = _children_seq(x), _children_seq(y)
        if len(sx) != len(sy):
            return False
        for p, q in zip(sx, sy):
            if isinstance(p, str) or isinstance(q, str):
                if p != q:
                    return False
            elif not _deep_equal([p], [q]):  # type: ignore[list-item]
                return False
    return True


@implements("RES-258-1")
def requested_rule(rule: etree._Element, f: Findings) -> None:
    first = rule.find(T_CHECK)
    if first is not None and first.get("multi-check") == "true":
        f.fail("RES-258-1", rule, "a multi-check Rule: check by hand that its results report "
               "every definition (SCAPVal does not test this)", first)
    missing = [a for a in ("selected", "weight", "role", "severity") if rule.get(a) is None]
    if missing:
        f.fail("A-26-1", rule, "default attributes not written out: " + ", ".join(
            f"@{a}" for a in missing))


@implements("RES-131-1")
def report(rep: etree._Element, f: Findings) -> None:
    for content in rep.iterchildren(_q(A, "content")):
        first = next(content.iterchildren(etree.Element), None)
        if first is not None and etree.QName(first).namespace == X and \
                content.find(_q(X, "TestResult")) is None:
            f.fail("RES-131-1", rep, f"holds an XCCDF {etree.QName(first).localname}; XCCDF "
                   "results SHALL be an xccdf:TestResult", first)


@implements("RES-133-1", "RES-134-1", "RES-136-1", "RES-136-2", "RES-253-1", "RES-253-2",
            "RES-304-1", "RES-42-1", "RES-390-1")
def test_result(tr: etree._Element, reps: _Reports, f: Findings) -> None:
    set_values = {sv.get("idref") for sv in tr.iterchildren(_q(X, "set-value"),
                                                            _q(X, "set-complex-value"))}
    for rr in tr.iterchildren(T_RULE_RESULT):
        if _result(rr) in (None, "notselected"):
            continue
        systems = {(c.get("system"), c.get("selector") or "") for c in rr.iter(T_CHECK)}
        for rule in reps.request_rules.get(rr.get("idref") or "\0", ()):
            for chk in rule.iter(T_CHECK):
                if (chk.get("system"), chk.get("selector") or "") not in systems:
                    continue
                for ex in chk.iterchildren(_q(X, "check-export")):
                    if ex.get("value-id") not in set_values:
                        f.fail("RES-390-1", tr, f"Rule {rr.get('idref')!r} exports Value "
                               f"{ex.get('value-id')!r}, but the TestResult has no set-value "
                               "for it", rr)
                        set_values.add(ex.get("value-id"))
    missing = [a for a in ("start-time", "end-time") if tr.get(a) is None]
    if missing:
        f.fail("RES-133-1", tr, "no " + " and no ".join(f"@{a}" for a in missing))
    ts = tr.get("test-system")
    if ts is None or not (CPE22.fullmatch(ts) or CPE23.fullmatch(ts)):
        f.fail("RES-134-1", tr, f"@test-system {ts!r} is not a CPE name of the tool")
    if tr.find(_q(X, "target")) is None or tr.find(_q(X, "target-address")) is None:
        f.fail("RES-136-1", tr, "needs both xccdf:target and xccdf:target-address")
    for addr in tr.iterchildren(_q(X, "target-address")):
        value = text_of(addr)
        if not (IPV4.search(value) or IPV6.search(value)):
            f.fail("RES-136-2", tr, f"target-address {value!r} is not an IPv4 or full IPv6 "
                   "address", addr)
    bm = tr.find(_q(X, "benchmark"))
    if bm is None or not bm.get("id"):
        f.fail("RES-253-1", tr, "xccdf:benchmark has no @id", bm)
    href = (bm.get("href") if bm is not None else None) or ""
    if href.startswith("#"):
        if not any(c.get("id") == href[1:] for c in tr.getroottree().iter(_q(ns.DS, "component"))):
            f.fail("RES-253-2", tr, f"benchmark/@href {href!r} names no ds:component", bm)
    elif "://" not in href:
        f.fail("RES-253-2", tr, f"benchmark/@href {href!r} is neither '#' + a component id nor "
               "a URL", bm)
    abouts = _isabout_refs(tr, reps)
    about = abouts[0] if len(abouts) == 1 else None
    ok = any(t.get("system") == ns.AI and t.get("href") == "" and about is not None
             and t.get("name") == about for t in tr.iter(_q(X, "target-id-ref")))
    if not ok:
        f.fail("RES-304-1", tr, "no xccdf:target-id-ref with system "
               f"'{ns.AI}', href '' and @name the isAbout asset "
               f"{about!r} of its report")
    ids = list(tr.iterchildren(_q(X, "identity")))
    if not ids or any(not re.search(r"\S", text_of(i)) for i in ids):
        f.fail("RES-42-1", tr, "needs an xccdf:identity naming the security principal"
               + ("" if not ids else " (one is empty)"))


def _relationship_type(rel: etree._Element) -> tuple[str, str] | None:
    t = rel.get("type") or ""
    prefix, _, local = t.rpartition(":")
    uri = rel.nsmap.get(prefix or None)
    return (uri, local) if uri else None


def _isabout_refs(el: etree._Element, reps: _Reports) -> list[str]:
    """The first rc:ref of each isAbout relationship whose subject is el's arf:report."""
    rep = next(el.iterancestors(T_REPORT), None)
    if rep is None or reps.arc is None:
        return []
    out = []
    for rels in reps.arc.iterchildren(_q(ns.CORE, "relationships")):
        for rel in rels.iterchildren(_q(ns.CORE, "relationship")):
            if rel.get("subject") == rep.get("id") and _relationship_type(rel) in ISABOUT:
                ref = rel.find(_q(ns.CORE, "ref"))
                if ref is not None:
                    out.append(text_of(ref))
    return out


@implements("RES-179-1", "RES-181-1")
def oval_results(res: etree._Element, f: Findings) -> None:
    dirs = res.find(_q(ns.OVAL_RES, "directives"))
    items = [] if dirs is None else list(dirs.iterchildren(etree.Element))
    bad = len(items) != 6
    for n, d in enumerate(items):
        if d.get("reported") != "true":
            bad = True
        if n + 1 < len(items):
            nxt = items[n + 1].get("content")
            content = d.get("content")
            if content == "thin":
                bad = bad or nxt not in ("thin", None)
            elif content in ("full", None):
                bad = bad or nxt not in ("full", None)
            else:
                bad = True
    if bad:
        f.fail("RES-179-1", res, "directives SHALL report all six definition results, all "
               "'full' or all 'thin'", dirs)
    first = items[0].get("content") if items else None
    if first in ("full", None) or not items:
        sc = _q(ns.OVAL_SC, "oval_system_characteristics")
        objs = any(s.find(_q(ns.OVAL_SC, "collected_objects")) is not None for s in res.iter(sc))
        data = any(s.find(_q(ns.OVAL_SC, "system_data")) is not None for s in res.iter(sc))
        if objs != data:
            f.fail("RES-181-1", res, "full results: the system characteristics SHALL have both "
                   "collected_objects and system_data, or neither")


@implements("RES-299-1")
def asset(el: etree._Element, f: Findings) -> None:
    ai = ns.AI
    have = {k: next(el.iter(_q(ai, k)), None) is not None
            for k in ("ip-v4", "ip-v6", "mac-address", "fqdn", "hostname")}
    missing = [k for k in ("mac-address", "fqdn", "hostname") if not have[k]]
    if not (have["ip-v4"] or have["ip-v6"]):
        missing.insert(0, "ip-v4 or ip-v6")
    if missing:
        f.fail("RES-299-1", el, "the asset has no " + ", ".join(f"ai:{m}" for m in missing))


@implements("RES-300-1", "RES-300-2", "RES-300-3", "RES-316-1", "RES-323-1")
def collection(arc: etree._Element, f: Findings) -> None:
    has_request = next(arc.iter(_q(A, "report-request")), None) is not None
    tailored = next(arc.iter(_q(X, "tailoring-file")), None)
    requests = list(arc.iter(_q(A, "report-request")))
    if tailored is not None and any(r.find(f".//{_q(ns.DS, 'data-stream-collection')}") is not None
                                    for r in requests) and not any(
            r.find(f".//{_q(X, 'Tailoring')}") is not None for r in requests):
        f.fail("RES-300-2", arc, f"a tailoring was applied ({tailored.get('href')!r}) and the "
               "source data stream is included, but no report request holds the xccdf:Tailoring",
               tailored)
    if not has_request:
        f.fail("RES-300-1", arc, "no arf:report-request holds the source data stream used")
        f.fail("RES-300-3", arc, "no arf:report-request holds the source data stream used")
    sigs = [s for e in arc.iter(_q(A, "extended-info")) for s in e.iterchildren(_q(ns.DSIG,
                                                                                   "Signature"))]
    if sigs:
        by_id: dict[str | None, int] = defaultdict(int)
        for s in arc.iter(_q(ns.DSIG, "Signature")):
            by_id[s.get("Id")] += 1
        for s in sigs:
            if s.get("Id") is None or by_id[s.get("Id")] != 1:
                f.fail("RES-316-1", arc, "a signature in arf:extended-info needs an @Id no other "
                       "signature has", s)
        if not has_request:
            f.fail("RES-323-1", arc, "signed, but the source data stream is not in an "
                   "arf:report-request")


@implements("RES-306-1")
def system_characteristics(sc: etree._Element, reps: _Reports, f: Findings) -> None:
    ref = sc.find(f"{_q(ns.OVAL_SC, 'system_info')}/{_q(ns.CON, 'asset-identification')}/"
                  f"{_q(A, 'object-ref')}")
    if ref is None:
        f.fail("RES-306-1", sc, "system_info names no asset (scap-con:asset-identification/"
               "arf:object-ref)")
        return
    abouts = _isabout_refs(sc, reps)
    if ref.get("ref-id") not in abouts:
        f.fail("RES-306-1", sc, f"system_info names asset {ref.get('ref-id')!r}, not an "
               f"isAbout asset of its report ({', '.join(abouts) or 'none'})", ref)


@implements("RES-311-1", "RES-312-1", "RES-313-1", "RES-314-1", "RES-315-1", "RES-318-1",
            "RES-319-1", "RES-320-1", "RES-321-1")
def signature(sig: etree._Element, f: Findings) -> None:
    g = ns.DSIG
    _countersignature(sig, f)
    if next(sig.iter(_q(ns.TMSAD, "signature-info")), None) is None:
        f.fail("RES-311-1", sig, "has no tmsad:signature-info")
    firsts = [r for r in sig.iter(_q(g, "Reference"))
              if (p := r.getparent()) is not None and p.find(_q(g, "Reference")) is r]
    objects = {"#" + (o.get("Id") or "") for o in sig.iter(_q(g, "Object"))}
    if not any(r.get("URI") == "" or r.get("URI") in objects for r in firsts):
        f.fail("RES-312-1", sig, "the first dsig:Reference is not URI=\"\" (the report "
               "collection)")
    filters = sum(1 for r in firsts for t in r.iter(_q(g, "Transform"))
                  if t.get("Algorithm") == ns.DSIG_FILTER2)
    if filters != 2:
        f.fail("RES-313-1", sig, f"the first dsig:Reference has {filters} XPath Filter 2.0 "
               "transforms, not 2")
    si = sig.find(_q(g, "SignedInfo"))
    refs = [] if si is None else list(si.iterchildren(_q(g, "Reference")))
    second = refs[1].get("URI") if len(refs) > 1 else None
    if second is None or not any("#" + (p.get("Id") or "") == second
                                 for p in sig.iter(_q(g, "SignatureProperties"))):
        f.fail("RES-314-1", sig, "the second dsig:Reference is not to the signature's "
               "dsig:SignatureProperties")
    if sig.find(_q(g, "KeyInfo")) is None:
        f.fail("RES-315-1", sig, "has no dsig:KeyInfo")


def check(root: etree._Element, f: Findings) -> None:
    """Every result data stream requirement on a document (normally an ARF report)."""
    arcs: dict[etree._Element | None, _Reports] = {}

    def reps_of(el: etree._Element) -> _Reports:
        arc = el if el.tag == T_ARC else next(el.iterancestors(T_ARC), None)
        if arc not in arcs:
            arcs[arc] = _Reports(arc)
        return arcs[arc]

    tags = [T_RULE_RESULT, T_RULE, T_REPORT, _q(X, "TestResult"), _q(ns.OVAL_RES, "oval_results"),
            _q(A, "asset"), T_ARC, _q(ns.OVAL_SC, "oval_system_characteristics"),
            _q(ns.DSIG, "Signature")]
    for el in root.iter(*tags):
        tag = el.tag
        if tag == T_RULE_RESULT:
            reps = reps_of(el)
            table23(el, reps, f)
            rule_result(el, reps, f)
        elif tag == T_RULE:
            if any(a.tag == _q(A, "report-requests") for a in el.iterancestors()) and \
                    next(el.iterancestors(T_ARC), None) is not None:
                requested_rule(el, f)
        elif tag == T_REPORT:
            report(el, f)
        elif tag == _q(X, "TestResult"):
            test_result(el, reps_of(el), f)
        elif tag == _q(ns.OVAL_RES, "oval_results"):
            oval_results(el, f)
        elif tag == _q(A, "asset"):
            asset(el, f)
        elif tag == T_ARC:
            collection(el, f)
        elif tag == _q(ns.OVAL_SC, "oval_system_characteristics"):
            system_characteristics(el, reps_of(el), f)
        else:
            parent = el.getparent()
            if parent is not None and parent.tag == _q(A, "extended-info"):
                signature(el, f)


def _countersignature(sig: etree._Element, f: Findings) -> None:
    """RES-318..321: a signature holding the original signature in a dsig:Object."""
    g = ns.DSIG
    objects = [o for o in sig.iterchildren(_q(g, "Object"))
               if o.find(_q(g, "Signature")) is not None]
    if not objects:
        return
    si = sig.find(_q(g, "SignedInfo"))
    uris = [] if si is None else [r.get("URI") for r in si.iterchildren(_q(g, "Reference"))]
    if not uris or not any(uris[0] == "#" + (o.get("Id") or "\0") for o in objects):
        f.fail("RES-318-1", sig, "a countersignature whose first dsig:Reference is not '#' + the "
               "@Id of the dsig:Object holding the original signature")
    props = [p for o in sig.iterchildren(_q(g, "Object"))
             for p in o.iterchildren(_q(g, "SignatureProperties"))]
    if len(uris) < 2 or not any(uris[1] == "#" + (p.get("Id") or "\0") for p in props):
        f.fail("RES-319-1", sig, "a countersignature whose second dsig:Reference is not to its "
               "dsig:SignatureProperties")
    if not any(pr.find(_q(ns.TMSAD, "signature-info")) is not None
               for p in props for pr in p.iterchildren(_q(g, "SignatureProperty"))):
        f.fail("RES-320-1", sig, "a countersignature without SignatureProperties holding a "
               "tmsad:signature-info")
    if sig.find(_q(g, "KeyInfo")) is None:
        f.fail("RES-321-1", sig, "a countersignature without dsig:KeyInfo")
