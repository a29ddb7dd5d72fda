"""Checks beyond the XSDs: every reference resolves (our own rules, `ref:<what>`).

Pure functions: a parsed element in, a list of `Problem` out, no I/O. Each check names the rule
it enforces: `ref:<what>` for a dangling reference (an id that names nothing). The SCAP 1.3
requirements (SRC-*, RES-*, as NIST SCAPVal numbers and checks them) are in `scap_source`,
`scap_result` and `scap_components`; `Problem` is shared with them.

What is checked, by document kind:
- SDS (`ds:data-stream-collection`): component-ref `xlink:href` → a component of the
  collection; `cat:uri/@uri` → a component-ref; in a SCAP 1.2 collection also XCCDF
  `check-content-ref/@href` resolved through the benchmark's component-ref catalog to an
  OVAL/OCIL component and `@name` → a definition / questionnaire there (for 1.3 the requirement
  checks SRC-31/345/346/348/349 do that, as SCAPVal does); `check-export/@export-name` → an
  OVAL variable; CPE dictionary checks → OVAL definitions; plus every XCCDF and OVAL check
  below for each embedded benchmark and OVAL component.
- XCCDF Benchmark: every idref (select, refine-rule, refine-value, set-value, extends, requires,
  conflicts, check-export/@value-id, sub, platform `#id`) names an item of the right type.
- OVAL definitions: criterion/@test_ref, extend_definition/@definition_ref, @object_ref,
  @state_ref, filter, set/object_reference, @var_ref → the right kind of OVAL item.
- OVAL system characteristics: collected object reference/@item_ref → an item.
- OVAL results: definition/test ids → the embedded definitions; tested_item/@item_id → an item.
- ARF: relationship subject/ref → ids; benchmark/@href → a component of the report-request's
  SDS holding a Benchmark, with the same @id (`ref:arf-benchmark`); rule-result/@idref → a Rule
  of that benchmark, set-value / profile → its Values / Profiles.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from lxml import etree

from . import namespaces as ns
from .tag_index import iter_tags
from .xmlio import element_text

XCCDF_OVAL = ns.OVAL_DEF
OCIL_PREFIX = ns.OCIL_ANY


@dataclass
class Problem:
    """One finding about a document: where it is, which rule it breaks, what is wrong.

    `element_id` is the id of the element at fault (or of its nearest ancestor that has one),
    `requirement` the text of the SCAP requirement broken (None for XSD and reference checks).
    `context` is not reported: the element SCAPVal's Schematron would report the failure on.
    """

    file: str
    line: int | None
    path: str
    rule: str
    message: str
    severity: str = "error"  # "error" | "warning" | "info"
    element_id: str | None = None
    requirement: str | None = None
    context: Any = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        text = " ".join(self.message.split())
        req = f" (requirement: {' '.join(self.requirement.split())})" if self.requirement else ""
        return f"{where}: {self.severity}: [{self.rule}] {self.path}: {text}{req}"

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "path": self.path, "id": self.element_id,
                "rule": self.rule, "message": " ".join(self.message.split()),
                "requirement": " ".join(self.requirement.split()) if self.requirement else None,
                "severity": self.severity}


def element_path(el: etree._Element) -> str:
    """/prefix:name[n]/... with 1-based positions among same-named siblings (like libxml2)."""
    parts = []
    node: etree._Element | None = el
    while node is not None:
        parent = node.getparent()
        q = etree.QName(node)
        name = f"{node.prefix}:{q.localname}" if node.prefix else q.localname
        if parent is not None:
            same = [s for s in parent.iterchildren(cast(str, node.tag))]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/" + "/".join(reversed(parts))


@dataclass
class Checker:
    source: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, el: etree._Element, rule: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.source, el.sourceline, element_path(el), rule,
                                     message, severity))


_q = ns.qname


# ---------------------------------------------------------------------------------------------
# XCCDF

def _xccdf_ns(el: etree._Element) -> str:
    return etree.QName(el).namespace or ns.XCCDF12


def check_xccdf_benchmark(bench: etree._Element, ck: Checker) -> None:
    x = _xccdf_ns(bench)
    # One pass over the tree, then dispatch by tag (repeated iter() walks dominate otherwise).
    wanted = ["Rule", "Group", "Value", "Profile", "plain-text", "select", "refine-rule",
              "refine-value", "set-value", "set-complex-value", "requires", "conflicts",
              "check-export", "sub", "platform", "TestResult"]
    by: dict[str, list[etree._Element]] = {w: [] for w in wanted}
    by["cpe-platform"] = []
    cpe_platform = _q(ns.CPE_LANG, "platform")
    tags = [_q(x, w) for w in wanted] + [cpe_platform]
    for el in iter_tags(bench, *tags):
        if el.tag == cpe_platform:
            by["cpe-platform"].append(el)
        else:
            by[cast(str, el.tag)[len(x) + 2:]].append(el)
    ids_of = {k: {el.get("id") for el in by[k] if el.get("id")}
              for k in ("Rule", "Group", "Value", "Profile")}
    clusters = {el.get("cluster-id") for k in ("Rule", "Group", "Value")
                for el in by[k] if el.get("cluster-id")}
    plain = {el.get("id") for el in by["plain-text"]}
    items = ids_of["Rule"] | ids_of["Group"]
    values = ids_of["Value"]
    platforms = {el.get("id") for el in by["cpe-platform"]}

    def need(el, attr, allowed, what, rule):
        ref = el.get(attr)
        if ref is not None and ref not in allowed:
            ck.add(el, rule, f"{etree.QName(el).localname}/@{attr} {ref!r} names no {what}")

    for prof in by["Profile"]:
        need(prof, "extends", ids_of["Profile"], "Profile", "ref:xccdf-extends")
    items_or_clusters, values_or_clusters = items | clusters, values | clusters  # once, not per ref
    for sel in by["select"] + by["refine-rule"]:
        need(sel, "idref", items_or_clusters, "Rule, Group or cluster", "ref:xccdf-idref")
    for rv in by["refine-value"]:
        need(rv, "idref", values_or_clusters, "Value or cluster", "ref:xccdf-idref")
    for sv in by["set-value"] + by["set-complex-value"]:
        parent = sv.getparent()
        if parent is not None and parent.tag == _q(x, "Profile"):
            need(sv, "idref", values, "Value", "ref:xccdf-idref")
    for kind in ("Rule", "Group", "Value"):
        for item in by[kind]:
            need(item, "extends", ids_of[kind], kind, "ref:xccdf-extends")
    for rq in by["requires"] + by["conflicts"]:
        for ref in (rq.get("idref") or "").split():
            if ref not in items and ref not in clusters:
                ck.add(rq, "ref:xccdf-idref",
                       f"{etree.QName(rq).localname}/@idref {ref!r} names no Rule or Group")
    for ex in by["check-export"]:
        need(ex, "value-id", values, "Value", "ref:xccdf-check-export")
    values_or_plain = values | plain
    for sub in by["sub"]:
        need(sub, "idref", values_or_plain, "Value or plain-text", "ref:xccdf-sub")
    for pl in by["platform"]:
        ref = pl.get("idref") or ""
        if ref.startswith("#") and ref[1:] not in platforms:
            ck.add(pl, "ref:xccdf-platform",
                   f"platform/@idref {ref!r} names no cpe-lang:platform in the benchmark")
    for tr in by["TestResult"]:
        check_xccdf_testresult_refs(tr, ck, ids_of["Rule"], values, ids_of["Profile"])


def check_xccdf_testresult_refs(tr: etree._Element, ck: Checker,
                                rules: Collection[str | None], values: Collection[str | None],
                                profiles: Collection[str | None]) -> None:
    x = _xccdf_ns(tr)
    for rr in tr.iter(_q(x, "rule-result")):
        if rr.get("idref") not in rules:
            ck.add(rr, "ref:xccdf-rule-result",
                   f"rule-result/@idref {rr.get('idref')!r} names no Rule of the benchmark")
    for sv in tr.iter(_q(x, "set-value")):
        if sv.get("idref") not in values:
            ck.add(sv, "ref:xccdf-idref", f"set-value/@idref {sv.get('idref')!r} names no Value")
    for p in tr.iter(_q(x, "profile")):
        if p.get("idref") not in profiles:
            ck.add(p, "ref:xccdf-idref", f"profile/@idref {p.get('idref')!r} names no Profile")


# ---------------------------------------------------------------------------------------------
# OVAL

def oval_ids(defs: etree._Element) -> dict[str, set[str]]:
    d = ns.OVAL_DEF

    def ids(section):
        sec = defs.find(_q(d, section))
        return set() if sec is None else {c.get("id") for c in sec if c.get("id")}

    return {"definition": ids("definitions"), "test": ids("tests"), "object": ids("objects"),
            "state": ids("states"), "variable": ids("variables")}


def check_oval_definitions(defs: etree._Element, ck: Checker) -> dict[str, set[str]]:
    d = ns.OVAL_DEF
    ids = oval_ids(defs)

    def need(el, ref, kind, what):
        if ref not in ids[kind]:
            ck.add(el, f"ref:oval-{kind}", f"{what} {ref!r} names no OVAL {kind}")

    attr_kind = {"test_ref": "test", "definition_ref": "definition", "object_ref": "object",
                 "state_ref": "state", "var_ref": "variable"}
    filter_tag, object_reference_tag = _q(d, "filter"), _q(d, "object_reference")
    # one walk over the elements (half the time of an XPath on the attributes); the message
    # is only worded for a reference that names nothing
    for el in defs.iter(etree.Element):
        if el.tag == filter_tag:
            need(el, (element_text(el) or "").strip(), "state", "filter")
        elif el.tag == object_reference_tag:
            need(el, (element_text(el) or "").strip(), "object", "set/object_reference")
        if not el.attrib:
            continue
        for attr in el.keys():
            kind = attr_kind.get(attr)
            if kind is not None:
                ref = el.get(attr)
                if ref not in ids[kind]:
                    need(el, ref, kind, f"{etree.QName(el).localname}/@{attr}")
    return ids


def oval_schema_version(root: etree._Element) -> str | None:
    gen = root.find(_q(ns.OVAL_DEF, "generator"))
    for child in root:
        if etree.QName(child).localname == "generator":
            gen = child
            break
    if gen is None:
        return None
    for sv in gen.iter(_q(ns.OVAL_COMMON, "schema_version")):
        if not sv.get("platform"):
            return (element_text(sv) or "").strip().split(":")[0]
    return None


def check_oval_syschar(sc: etree._Element, ck: Checker) -> None:
    s = ns.OVAL_SC
    data = sc.find(_q(s, "system_data"))
    items = set() if data is None else {i.get("id") for i in data}
    for ref in sc.iter(_q(s, "reference")):
        if ref.get("item_ref") not in items:
            ck.add(ref, "ref:oval-item",
                   f"reference/@item_ref {ref.get('item_ref')!r} names no item in system_data")


def check_oval_results(res: etree._Element, ck: Checker) -> None:
    r = ns.OVAL_RES
    defs = res.find(_q(ns.OVAL_DEF, "oval_definitions"))
    ids = check_oval_definitions(defs, ck) if defs is not None else None
    for system in res.iter(_q(r, "system")):
        sc = system.find(_q(ns.OVAL_SC, "oval_system_characteristics"))
        items = None
        if sc is not None:
            check_oval_syschar(sc, ck)
            data = sc.find(_q(ns.OVAL_SC, "system_data"))
            items = set() if data is None else {i.get("id") for i in data}
        if ids is not None:
            for de in system.iter(_q(r, "definition")):
                if de.get("definition_id") not in ids["definition"]:
                    ck.add(de, "ref:oval-definition",
                           f"definition/@definition_id {de.get('definition_id')!r} is not in "
                           "the results' oval_definitions")
            for te in system.iter(_q(r, "test")):
                if te.get("test_id") not in ids["test"]:
                    ck.add(te, "ref:oval-test", f"test/@test_id {te.get('test_id')!r} is not "
                           "in the results' oval_definitions")
        if items is not None:
            for ti in system.iter(_q(r, "tested_item")):
                if ti.get("item_id") not in items:
                    ck.add(ti, "ref:oval-item", f"tested_item/@item_id {ti.get('item_id')!r} "
                           "names no item in the system characteristics")


# ---------------------------------------------------------------------------------------------
# Source data stream

def _content(component: etree._Element) -> etree._Element | None:
    for child in component:
        if isinstance(child.tag, str):
            return child
    return None


def check_sds(coll: etree._Element, ck: Checker, scap13: bool = True) -> None:
    d, x = ns.DS, ns.XLINK
    components = {c.get("id"): c for c in coll.iterchildren(_q(d, "component"),
                                                            _q(d, "extended-component"))}
    crefs = {c.get("id"): c for st in coll.iterchildren(_q(d, "data-stream"))
             for c in st.iter(_q(d, "component-ref"))}
    href_attr = _q(x, "href")

    def target_of(cref):
        href = cref.get(href_attr) or ""
        return components.get(href[1:]) if href.startswith("#") else None

    for cref in crefs.values():
        href = cref.get(href_attr) or ""
        if not href.startswith("#"):
            ck.add(cref, "ref:ds-component-ref", f"component-ref/@xlink:href {href!r} is not a "
                   "local reference (#component-id); only local components are supported",
                   "warning")
        elif target_of(cref) is None:
            ck.add(cref, "ref:ds-component-ref",
                   f"component-ref/@xlink:href {href!r} names no component of the collection")
        for uri in cref.iter(_q(ns.CAT, "uri")):
            u = uri.get("uri") or ""
            if not u.startswith("#") or u[1:] not in crefs:
                ck.add(uri, "ref:ds-catalog",
                       f"cat:uri @uri {u!r} (name {uri.get('name')!r}) names no component-ref")

    oval_cache: dict[str, dict[str, set[str]]] = {}
    ocil_cache: dict[str | None, set[str | None]] = {}

    def oval_of(comp):
        cid = comp.get("id")
        if cid not in oval_cache:
            root = _content(comp)
            oval_cache[cid] = check_oval_definitions(root, ck) if root is not None else {}
        return oval_cache[cid]

    # Every OVAL component is checked, referenced or not.
    for comp in components.values():
        root = _content(comp)
        if root is not None and root.tag == _q(ns.OVAL_DEF, "oval_definitions"):
            oval_of(comp)

    # CPE dictionaries: cpe-item/check (OVAL) → a definition in the component its href names
    for cref in crefs.values():
        comp = target_of(cref)
        root = _content(comp) if comp is not None else None
        if root is None or root.tag != _q(ns.CPE_DICT, "cpe-list"):
            continue
        catalog = {u.get("name"): u.get("uri") for u in cref.iter(_q(ns.CAT, "uri"))}
        for chk in iter_tags(root, _q(ns.CPE_DICT, "check")):
            if chk.get("system") != XCCDF_OVAL:
                continue
            href = chk.get("href") or ""
            ref_uri = href if href.startswith("#") else catalog.get(href)
            tref = crefs.get(ref_uri[1:]) if ref_uri and ref_uri.startswith("#") else None
            if tref is not None and not (tref.get(href_attr) or "").startswith("#"):
                continue
            target = target_of(tref) if tref is not None else None
            troot = _content(target) if target is not None else None
            if target is None or troot is None or \
                    troot.tag != _q(ns.OVAL_DEF, "oval_definitions"):
                ck.add(chk, "ref:cpe-check", f"cpe-item check/@href {href!r} does not resolve "
                       f"through the catalog of component-ref {cref.get('id')!r} to an OVAL "
                       "component")
                continue
            name = (element_text(chk) or "").strip()
            if name not in oval_of(target).get("definition", ()):
                ck.add(chk, "ref:cpe-check", f"cpe-item check {name!r} is not an OVAL "
                       f"definition in component {target.get('id')!r}")

    checked_benchmarks: set[tuple[str | None, str | None]] = set()
    for cref in crefs.values():
        comp = target_of(cref)
        root = _content(comp) if comp is not None else None
        if root is None or root.tag != _q(ns.XCCDF12, "Benchmark"):
            continue
        key = (comp.get("id"), cref.get("id"))
        if key in checked_benchmarks:
            continue
        first_time = not any(k[0] == key[0] for k in checked_benchmarks)
        checked_benchmarks.add(key)
        if first_time:
            check_xccdf_benchmark(root, ck)
        catalog = {u.get("name"): u.get("uri") for u in cref.iter(_q(ns.CAT, "uri"))}
        for ccr in iter_tags(root, _q(ns.XCCDF12, "check-content-ref")):
            check = ccr.getparent()
            assert check is not None   # a check-content-ref inside the Benchmark
            system = check.get("system") or ""
            is_oval = system == XCCDF_OVAL
            is_ocil = system.startswith(OCIL_PREFIX)
            if not (is_oval or is_ocil):
                continue
            href = ccr.get("href") or ""
            ref_uri = href if href.startswith("#") else catalog.get(href)
            target_cref = crefs.get(ref_uri[1:]) if ref_uri and ref_uri.startswith("#") else None
            if target_cref is not None and not (target_cref.get(href_attr) or "").startswith("#"):
                continue  # a remote component (e.g. a vendor OVAL feed): not ours to check
            target = target_of(target_cref) if target_cref is not None else None
            if target is None:
                if not scap13:  # SCAP 1.3: SRC-31-1 / SRC-346-1 / SRC-349-1 report it
                    ck.add(ccr, "ref:check-content-ref", f"check-content-ref/@href {href!r} does "
                           f"not resolve through the catalog of component-ref {cref.get('id')!r} "
                           "to a component")
                continue
            troot = _content(target)
            want = (_q(ns.OVAL_DEF, "oval_definitions") if is_oval
                    else _q(ns.OCIL, "ocil"))
            if troot is None or troot.tag != want:
                if not scap13:  # SCAP 1.3: SRC-345-1 / SRC-348-1
                    ck.add(ccr, "ref:check-content-ref", f"check-content-ref/@href {href!r} "
                           f"resolves to component {target.get('id')!r}, which is not an "
                           f"{'OVAL definitions' if is_oval else 'OCIL'} document")
                continue
            ref_name = ccr.get("name")
            if is_oval:
                ids = oval_of(target)
                if ref_name is not None and ref_name not in ids.get("definition", ()) and \
                        not scap13:  # SCAP 1.3: SRC-346-1
                    ck.add(ccr, "ref:oval-definition", f"check-content-ref/@name {ref_name!r} is "
                           f"not an OVAL definition in component {target.get('id')!r}")
                for ex in check.iter(_q(ns.XCCDF12, "check-export")):
                    if ex.get("export-name") not in ids.get("variable", ()):
                        ck.add(ex, "ref:xccdf-check-export",
                               f"check-export/@export-name {ex.get('export-name')!r} is not an "
                               f"OVAL variable in component {target.get('id')!r}")
            elif ref_name is not None:
                tid = target.get("id")
                if tid not in ocil_cache:
                    ocil_cache[tid] = {q.get("id") for q in iter_tags(
                        troot, _q(ns.OCIL, "questionnaire"))}
                if ref_name not in ocil_cache[tid] and not scap13:  # SCAP 1.3: SRC-349-1
                    ck.add(ccr, "ref:ocil-questionnaire", f"check-content-ref/@name {ref_name!r} "
                           f"is not an OCIL questionnaire in component {tid!r}")


# ---------------------------------------------------------------------------------------------
# ARF

def check_arf(arf: etree._Element, ck: Checker) -> None:
    a, c = ns.ARF, ns.CORE
    ids: dict[str | None, etree._Element] = {}
    for tag in ("report-request", "asset", "report", "extended-info"):
        for el in arf.iter(_q(a, tag)):
            ids[el.get("id")] = el
    reports = {el.get("id"): el for el in arf.iter(_q(a, "report"))}
    for rel in arf.iter(_q(c, "relationship")):
        subj = rel.get("subject")
        if subj not in ids:
            ck.add(rel, "ref:arf-relationship", f"relationship/@subject {subj!r} names no "
                   "report, report-request, asset or extended-info")
        refs = [element_text(r) or "" for r in rel.iter(_q(c, "ref"))]
        for r_el, r in zip(rel.iter(_q(c, "ref")), refs):
            if r not in ids:
                ck.add(r_el, "ref:arf-relationship", f"relationship ref {r!r} names nothing")

    # Components of the report-request source data streams, for benchmark/@href.
    sds_components: dict[str | None, etree._Element] = {}
    tailored_profiles: set[str | None] = set()  # a tailoring report-request (RES-300) may define them
    for rr in arf.iter(_q(a, "report-request")):
        for coll in rr.iter(_q(ns.DS, "data-stream-collection")):
            for comp in coll.iter(_q(ns.DS, "component")):
                sds_components[comp.get("id")] = comp
        for tailoring in rr.iter(_q(ns.XCCDF12, "Tailoring")):
            tailored_profiles |= {p.get("id") for p in tailoring.iter(_q(ns.XCCDF12, "Profile"))}

    for rep in reports.values():
        content = rep.find(_q(a, "content"))
        root = _content(content) if content is not None else None
        if root is None:
            continue
        if root.tag != _q(ns.XCCDF12, "TestResult"):
            continue
        tr, x = root, ns.XCCDF12
        bm = tr.find(_q(x, "benchmark"))
        bm_href = (bm.get("href") or "") if bm is not None else ""
        if bm is not None and bm_href.startswith("#") and sds_components:
            bcomp = sds_components.get(bm_href[1:])
            broot = _content(bcomp) if bcomp is not None else None
            if broot is None or broot.tag != _q(x, "Benchmark"):
                ck.add(bm, "ref:arf-benchmark", f"benchmark/@href {bm.get('href')!r} names no "
                       "ds:component with a Benchmark in the report-request")
            else:
                if bm.get("id") and bm.get("id") != broot.get("id"):
                    ck.add(bm, "ref:arf-benchmark", f"benchmark/@id {bm.get('id')!r} differs "
                           f"from the Benchmark id {broot.get('id')!r}")
                rules = {r.get("id") for r in broot.iter(_q(x, "Rule"))}
                values = {v.get("id") for v in broot.iter(_q(x, "Value"))}
                profiles = {p.get("id") for p in broot.iter(_q(x, "Profile"))} | tailored_profiles
                check_xccdf_testresult_refs(tr, ck, rules, values, profiles)


def run(root: etree._Element, kind: str, source: str) -> list[Problem]:
    """Semantic checks for a document root of the given catalog kind (`sds`, `xccdf`, ...)."""
    ck = Checker(source)
    if kind == "sds":
        check_sds(root, ck, scap13=root.get("schematron-version", "1.3") != "1.2")
    elif kind == "xccdf" and etree.QName(root).localname == "Benchmark":
        check_xccdf_benchmark(root, ck)
    elif kind == "oval-definitions":
        check_oval_definitions(root, ck)
    elif kind == "oval-system-characteristics":
        check_oval_syschar(root, ck)
    elif kind == "oval-results":
        check_oval_results(root, ck)
    elif kind == "arf":
        check_arf(root, ck)
    return ck.problems


def rules_of(problems: Iterable[Problem]) -> set[str]:
    return {p.rule for p in problems}
