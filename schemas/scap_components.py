"""The component Schematrons SCAPVal runs besides the SCAP 1.3 rules: XCCDF 1.2, OCIL 2.0 and
TMSAD 1.0 (XML digital signatures), natively over lxml, same verdicts (XPath 1.0 semantics
for the XCCDF one, as its XSLT-1 binding asks).

Requirement ids are `xccdf-1.2:<pattern id>` (the XCCDF Schematron names each pattern),
`ocil-2.0#<n>` and `tmsad-1.0#<n>` (the n-th assert of those files, which name none).
A source data stream gets all three; an ARF result data stream the TMSAD rules only (the
XCCDF Schematron looks for each rule result's Rule in an enclosing Benchmark, which a
TestResult in an ARF report never has, so it would reject every ARF).

One deliberate difference: SCAPVal's OCIL Schematron binds its prefix to the OCIL check
system URI (`ns.OCIL_2`), not to the namespace of OCIL 2.0 documents (`ns.OCIL`), so it never
fires on real OCIL; we apply its rules to both.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from lxml import etree

from . import namespaces as ns
from .scap_requirements import Findings, implements, text_of
from .tag_index import iter_tags

X = ns.XCCDF12
G = ns.DSIG


_q = ns.qname


T_BENCHMARK, T_RULE, T_GROUP, T_VALUE, T_PROFILE, T_TAILORING = (
    _q(X, n) for n in ("Benchmark", "Rule", "Group", "Value", "Profile", "Tailoring"))
ITEMS = (T_BENCHMARK, T_RULE, T_GROUP, T_VALUE, T_PROFILE)
XHTML_OBJECT, XHTML_A = _q(ns.XHTML, "object"), _q(ns.XHTML, "a")


@lru_cache(maxsize=None)
def _tags(locals_: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_q(X, n) for n in locals_)


def _kids(el: etree._Element, *locals_: str) -> list[etree._Element]:
    return list(el.iterchildren(*_tags(locals_)))


class _Kids:
    """An item's element children with a given tag, from one pass over them: the item checks
    ask up to a dozen such questions of each Value (`_kids` would walk them each time)."""

    __slots__ = ("_order", "_by_tag")

    def __init__(self, el: etree._Element):
        self._order = [(c.tag, c) for c in el.iterchildren(etree.Element)]
        by_tag: dict[object, list[etree._Element]] = {}
        for tag, c in self._order:
            by_tag.setdefault(tag, []).append(c)
        self._by_tag = by_tag

    def __call__(self, *locals_: str) -> list[etree._Element]:
        """The children named xccdf:<one of locals_>, in document order."""
        tags = _tags(locals_)
        if len(tags) == 1:
            return self._by_tag.get(tags[0], [])
        return [c for tag, c in self._order if tag in tags]


def _sel(el: etree._Element) -> str:
    return el.get("selector") or ""


class _Doc:
    """Document-wide lookups of the XCCDF Schematron (`/*//xccdf:X[@id=…]`)."""

    def __init__(self, root: etree._Element):
        self.by_tag_id: dict[str, dict[str, list[etree._Element]]] = defaultdict(
            lambda: defaultdict(list))
        self.clusters: dict[str, dict[str, list[etree._Element]]] = defaultdict(
            lambda: defaultdict(list))
        top = root.getroottree().getroot()
        for el in iter_tags(top, T_RULE, T_GROUP, T_VALUE, T_PROFILE, _q(X, "plain-text"),
                            _q(X, "fact")):
            if el is top:
                continue   # /*//x: below the document element
            tag = str(el.tag)
            if el.get("id") is not None:
                self.by_tag_id[tag][el.get("id", "")].append(el)
            if el.get("cluster-id") is not None:
                self.clusters[tag][el.get("cluster-id", "")].append(el)

    def find(self, tags: Iterable[str], ref: str | None, cluster: bool = False) -> list:
        if ref is None:
            return []
        out = []
        for t in tags:
            out += self.by_tag_id[t].get(ref, [])
            if cluster:
                out += self.clusters[t].get(ref, [])
        return out


# ---------------------------------------------------------------------------------------------
# XCCDF 1.2

@implements("xccdf-1.2:xhtml_object_data_prefix", "xccdf-1.2:xhtml_object_data_values",
            "xccdf-1.2:xhtml_object_data_values_exist", "xccdf-1.2:xhtml_a_name_link_prefix")
def xhtml_references(el: etree._Element, doc: _Doc, f: Findings) -> None:
    if el.tag == XHTML_A:
        if not (el.get("name") or "").startswith("#xccdf:link:"):
            f.fail("xccdf-1.2:xhtml_a_name_link_prefix", el, f"@name {el.get('name')!r} does "
                   "not start with '#xccdf:link:'")
        return
    data = el.get("data") or ""
    if not data.startswith("#xccdf:"):
        f.fail("xccdf-1.2:xhtml_object_data_prefix", el, f"@data {el.get('data')!r} does not "
               "start with '#xccdf:'")
    if not (data.startswith("#xccdf:title:") or data.startswith("#xccdf:value:")):
        f.fail("xccdf-1.2:xhtml_object_data_values", el, f"@data {el.get('data')!r} is neither "
               "'#xccdf:value:<id>' nor '#xccdf:title:<id>'")
    if data.startswith("#xccdf:value:"):
        ref = data[len("#xccdf:value:"):]
        if ref == "" or not doc.find((_q(X, "plain-text"), T_VALUE, _q(X, "fact")), ref):
            f.fail("xccdf-1.2:xhtml_object_data_values_exist", el, f"{ref!r} is the @id of no "
                   "xccdf:plain-text, Value or fact")


@implements("xccdf-1.2:xccdf_signature_dsig_ref")
def xccdf_signature(el: etree._Element, f: Findings) -> None:
    if not any(s.find(_q(G, "Reference")) is not None for s in el.iterchildren(_q(G,
                                                                                  "Signature"))):
        f.fail("xccdf-1.2:xccdf_signature_dsig_ref", el, "has no dsig:Signature with a "
               "dsig:Reference child")


@implements("xccdf-1.2:xccdf_contains_title_child", "xccdf-1.2:benchmark_multiple_status_dates")
def item_title_status(el: etree._Element, kids: _Kids, f: Findings) -> None:
    if not kids("title"):
        f.fail("xccdf-1.2:xccdf_contains_title_child", el, "has no xccdf:title")
    statuses = kids("status")
    if len(statuses) > 1 and any(s.get("date") is None for s in statuses):
        f.fail("xccdf-1.2:benchmark_multiple_status_dates", el, f"{len(statuses)} xccdf:status "
               "elements, not all with @date")


@implements("xccdf-1.2:benchmark_extend_self_type")
def extends_same_type(el: etree._Element, doc: _Doc, f: Findings) -> None:
    found = doc.find((T_RULE, T_GROUP, T_VALUE, T_PROFILE), el.get("extends"))
    first = min(found, key=_doc_order) if found else None
    if first is None or first.tag != el.tag:
        what = etree.QName(first).localname if first is not None else "nothing"
        f.fail("xccdf-1.2:benchmark_extend_self_type", el, f"extends {el.get('extends')!r}, "
               f"which is {what}, not a {etree.QName(el).localname}")


def _doc_order(el: etree._Element) -> tuple[int, ...]:
    path = []
    node: etree._Element | None = el
    while node is not None:
        parent = node.getparent()
        path.append(parent.index(node) if parent is not None else 0)
        node = parent
    return tuple(reversed(path))


@implements("xccdf-1.2:benchmark_check_import_empty")
def check_import(el: etree._Element, f: Findings) -> None:
    if el.text or any(isinstance(c.tag, str) or c.tail for c in el):
        f.fail("xccdf-1.2:benchmark_check_import_empty", el, "check-import in a Rule's check "
               "has content; it SHALL be empty")


_SELECTED = {  # children that pick by @selector: (unique id, omitted id, default id)
    "match": ("benchmark_unique_match_selector", "benchmark_omitted_match_selector",
              "benchmark_default_value_match_selector"),
    "lower-bound": ("benchmark_unique_lower_bound_selector",
                    "benchmark_omitted_lower_bound_selector",
                    "benchmark_default_value_lower_bound_selector"),
    "upper-bound": ("benchmark_unique_upper_bound_selector",
                    "benchmark_omitted_upper_bound_selector",
                    "benchmark_default_value_upper_bound_selector"),
    "choices": ("benchmark_unique_choices_selector", "benchmark_omitted_choices_selector",
                "benchmark_default_value_choices_selector"),
}
_PAIRED = {  # value / complex-value and default / complex-default count together
    ("value", "complex-value"): ("benchmark_unique_value_value_selector",
                                 "benchmark_omitted_value_value_selector",
                                 "benchmark_default_value_value_selector"),
    ("default", "complex-default"): ("benchmark_unique_value_default_selector",
                                     "benchmark_omitted_value_default_selector",
                                     "benchmark_default_value_default_selector"),
}


@implements(*(f"xccdf-1.2:{i}" for ids in [*_SELECTED.values(), *_PAIRED.values()] for i in ids),
            "xccdf-1.2:benchmark_value_match_datatype", "xccdf-1.2:benchmark_value_bounds_datatype",
            "xccdf-1.2:benchmark_value_description_question_exists")
def value_selectors(value: etree._Element, kids_of: _Kids, f: Findings) -> None:
    groups = [((n,), ids, False) for n, ids in _SELECTED.items()] + \
             [(names, ids, True) for names, ids in _PAIRED.items()]
    for names, (unique, omitted, default), paired in groups:
        kids = kids_of(*names)
        if not kids:
            continue
        if len(kids) > 1:
            counts: dict[str, int] = defaultdict(int)
            for k in kids:
                counts[_sel(k)] += 1
            for k in kids:
                if counts[_sel(k)] != 1:
                    f.fail(f"xccdf-1.2:{unique}", k, f"@selector {_sel(k)!r} is used by "
                           f"{counts[_sel(k)]} xccdf:{'/'.join(names)} elements of the Value")
        no_sel = [k for k in kids if k.get("selector") is None]
        if len(no_sel) > 1:
            if paired:
                f.fail(f"xccdf-1.2:{omitted}", value, f"{len(no_sel)} xccdf:{'/'.join(names)} "
                       "elements without @selector; at most one may omit it")
            else:
                for k in no_sel:
                    f.fail(f"xccdf-1.2:{omitted}", k, f"{len(no_sel)} xccdf:{names[0]} elements "
                           "without @selector; at most one may omit it")
        if not any(_sel(k) == "" for k in kids):
            f.fail(f"xccdf-1.2:{default}", value, f"every xccdf:{'/'.join(names)} has a "
                   "non-empty @selector, so none is the default")
    vtype = value.get("type")
    if kids_of("match") and vtype not in (None, "string", "number"):
        f.fail("xccdf-1.2:benchmark_value_match_datatype", value, f"@type {vtype!r} with an "
               "xccdf:match (string or number expected)")
    if kids_of("lower-bound", "upper-bound") and vtype != "number":
        f.fail("xccdf-1.2:benchmark_value_bounds_datatype", value, f"@type {vtype!r} with a "
               "lower-bound or upper-bound (number expected)")
    if not kids_of("description", "question"):
        f.fail("xccdf-1.2:benchmark_value_description_question_exists", value, "has no "
               "xccdf:description or xccdf:question")


@implements("xccdf-1.2:benchmark_rule_group_idref_exists", "xccdf-1.2:benchmark_value_idref_exists",
            "xccdf-1.2:benchmark_note_tag_exists")
def profile_refs(prof: etree._Element, doc: _Doc, f: Findings) -> None:
    parent = prof.getparent()
    if parent is not None and parent.tag == T_BENCHMARK:
        for sel in _kids(prof, "select", "refine-rule"):
            if not doc.find((T_RULE, T_GROUP), sel.get("idref"), cluster=True):
                f.fail("xccdf-1.2:benchmark_rule_group_idref_exists", sel, f"@idref "
                       f"{sel.get('idref')!r} is the @id or @cluster-id of no Rule or Group")
        for sel in _kids(prof, "refine-value", "set-value", "set-complex-value"):
            if not doc.find((T_VALUE,), sel.get("idref"), cluster=True):
                f.fail("xccdf-1.2:benchmark_value_idref_exists", sel, f"@idref "
                       f"{sel.get('idref')!r} is the @id or @cluster-id of no Value")
    tag = prof.get("note-tag")
    if tag is not None:
        bench = next(prof.iterancestors(T_BENCHMARK), None)
        if bench is None or not any(n.get("tag") == tag for r in _kids(bench, "Rule")
                                    for n in _kids(r, "profile-note")):
            f.fail("xccdf-1.2:benchmark_note_tag_exists", prof, f"@note-tag {tag!r} is the @tag "
                   "of no profile-note of a Rule directly in the Benchmark")


@implements("xccdf-1.2:benchmark_rule_result_override", "xccdf-1.2:benchmark_rule_result_idref_exists",
            "xccdf-1.2:ARF_benchmark_rule_result_idref_exists",
            "xccdf-1.2:benchmark_testresult_test_system_exists",
            "xccdf-1.2:benchmark_rule_result_single_child", "xccdf-1.2:benchmark_rule_result_check_valid")
def test_result(tr: etree._Element, f: Findings) -> None:
    results = _kids(tr, "rule-result")
    if tr.get("test-system") is None:
        f.fail("xccdf-1.2:benchmark_testresult_test_system_exists", tr, "has no @test-system")
    bench = next(tr.iterancestors(T_BENCHMARK), None)
    rules: dict[str, list[etree._Element]] = defaultdict(list)
    if bench is not None:
        for r in iter_tags(bench, T_RULE):
            rules[r.get("id", "\0")].append(r)
    overridden = any(_kids(rr, "override") for rr in results)
    for rr in results:
        idref = rr.get("idref")
        if overridden:
            new = {text_of(n) for o in _kids(rr, "override") for n in _kids(o, "new-result")}
            for res in _kids(rr, "result"):
                if text_of(res) not in new:
                    f.fail("xccdf-1.2:benchmark_rule_result_override", res, f"result "
                           f"{text_of(res)!r} is not the new-result of an override")
        if not rules.get(idref or "\0"):
            for rid in ("benchmark_rule_result_idref_exists",
                        "ARF_benchmark_rule_result_idref_exists"):
                f.fail(f"xccdf-1.2:{rid}", rr, f"@idref {idref!r} is the @id of no Rule in an "
                       "enclosing Benchmark")
        if len(_kids(rr, "check", "complex-check")) != 1:
            f.fail("xccdf-1.2:benchmark_rule_result_single_child", rr, "has "
                   f"{len(_kids(rr, 'check', 'complex-check'))} check / complex-check children, "
                   "not one")
        for chk in _kids(rr, "check"):
            if not any(_sel(c) == _sel(chk) for r in rules.get(idref or "\0", ())
                       for c in _kids(r, "check")):
                f.fail("xccdf-1.2:benchmark_rule_result_check_valid", chk, f"no check of Rule "
                       f"{idref!r} has @selector {_sel(chk)!r}")


@implements("xccdf-1.2:benchmark_contains_metadata", "xccdf-1.2:benchmark_platform_exists",
            "xccdf-1.2:benchmark_description_exists")
def benchmark(bench: etree._Element, f: Findings) -> None:
    metas = _kids(bench, "metadata")
    if not metas or not any(etree.QName(c).namespace == ns.DC for m in metas
                            for c in m.iterchildren(etree.Element)):
        f.fail("xccdf-1.2:benchmark_contains_metadata", bench, "has no xccdf:metadata with a "
               "Dublin Core element")
    if not _kids(bench, "platform"):
        f.fail("xccdf-1.2:benchmark_platform_exists", bench, "names no xccdf:platform (it then "
               "applies to every platform)")
    if not _kids(bench, "description"):
        f.fail("xccdf-1.2:benchmark_description_exists", bench, "has no xccdf:description")


@implements("xccdf-1.2:benchmark_platform_invalid_prefix", "xccdf-1.2:benchmark_platform_prefix_deprecated",
            "xccdf-1.2:benchmark_platform_specification_exists")
def platform(el: etree._Element, f: Findings) -> None:
    idref = el.get("idref") or ""
    if idref.startswith("cpe:/"):
        f.fail("xccdf-1.2:benchmark_platform_prefix_deprecated", el, f"CPE URI {idref!r}; the "
               "CPE 2.3 formatted string binding is preferred")
    elif idref.startswith("#"):
        bench = next(el.iterancestors(T_BENCHMARK), None)
        spec = [] if bench is None else [
            p for s in bench.iterchildren(_q(ns.CPE_LANG, "platform-specification"))
            for p in s.iterchildren(_q(ns.CPE_LANG, "platform")) if p.get("id") == idref[1:]]
        if not spec:
            f.fail("xccdf-1.2:benchmark_platform_specification_exists", el, f"{idref!r} names no "
                   "cpe-lang:platform in the Benchmark's platform-specification")
    elif not idref.startswith("cpe:2.3:"):
        f.fail("xccdf-1.2:benchmark_platform_invalid_prefix", el, f"@idref {idref!r} starts "
               "with none of 'cpe:/', 'cpe:2.3:', '#'")


@implements("xccdf-1.2:benchmark_conflicts_exists")
def conflicts(el: etree._Element, f: Findings) -> None:
    parent = el.getparent()
    idref, parent_id = el.get("idref"), (parent.get("id") if parent is not None else None)
    bench = next(el.iterancestors(T_BENCHMARK), None)
    ok = bench is not None and idref is not None and any(
        c.get("id") == idref and c.get("id") != parent_id for c in _kids(bench, "Rule", "Group"))
    if not ok:
        f.fail("xccdf-1.2:benchmark_conflicts_exists", el, f"@idref {idref!r} is not another Rule "
               "or Group directly in the Benchmark")


@implements("xccdf-1.2:benchmark_multi_check_true", "xccdf-1.2:benchmark_default_rule_check_selector",
            "xccdf-1.2:benchmark_group_deprecated_extends", "xccdf-1.2:benchmark_group_deprecated_abstract",
            "xccdf-1.2:benchmark_rule_deprecated_impact_metric")
def rule_group(el: etree._Element, kids: _Kids, f: Findings) -> None:
    if el.tag == T_GROUP:
        if el.get("extends") is not None:
            f.fail("xccdf-1.2:benchmark_group_deprecated_extends", el, "uses the deprecated "
                   "@extends")
        if el.get("abstract") == "true":
            f.fail("xccdf-1.2:benchmark_group_deprecated_abstract", el, "uses the deprecated "
                   "abstract='true'")
        return
    checks = kids("check")
    if checks and not any(_sel(c) == "" for c in checks):
        f.fail("xccdf-1.2:benchmark_default_rule_check_selector", el, "every xccdf:check has a "
               "non-empty @selector, so none is used by default")
    if kids("impact-metric"):
        f.fail("xccdf-1.2:benchmark_rule_deprecated_impact_metric", el, "uses the deprecated "
               "xccdf:impact-metric")


def multi_check_in_complex(cc: etree._Element, f: Findings) -> None:
    for chk in _kids(cc, "check"):
        if chk.get("multi-check") == "true":
            f.fail("xccdf-1.2:benchmark_multi_check_true", chk, "multi-check='true' inside a "
                   "complex-check, where tools ignore it")


@implements("xccdf-1.2:tailoring_profile_extends_valid", "xccdf-1.2:tailoring_group_deprecated_abstract")
def tailoring(tl: etree._Element, f: Findings) -> None:
    profiles = _kids(tl, "Profile")
    for p in profiles:
        ext = p.get("extends")
        if ext is not None and any(o.get("id") == ext and o.get("id") != p.get("id")
                                   for o in profiles):
            f.fail("xccdf-1.2:tailoring_profile_extends_valid", p, f"extends {ext!r}, another "
                   "Profile of the same Tailoring")
        if p.get("abstract") == "true":
            f.fail("xccdf-1.2:tailoring_group_deprecated_abstract", p, "abstract='true' in a "
                   "Tailoring, where a Profile can never be extended")


def check_xccdf(root: etree._Element, f: Findings) -> None:
    """The XCCDF 1.2 Schematron rules. In a tailoring file (root xccdf:Tailoring) a Profile's
    @extends names a Benchmark Profile of another document, so it is not looked up here."""
    doc = _Doc(root)
    tailoring_file = root.tag == T_TAILORING
    tags = [*ITEMS, T_TAILORING, XHTML_OBJECT, XHTML_A, _q(X, "signature"), _q(X, "title"),
            _q(X, "check-import"), _q(X, "TestResult"), _q(X, "platform"), _q(X, "conflicts"),
            _q(X, "complex-check")]
    for el in iter_tags(root, *tags):
        tag = el.tag
        if tag in ITEMS:
            kids = _Kids(el)
            item_title_status(el, kids, f)
            if el.get("extends") is not None and tag != T_BENCHMARK and not (
                    tailoring_file and tag == T_PROFILE):
                extends_same_type(el, doc, f)
            if tag == T_VALUE:
                value_selectors(el, kids, f)
            elif tag == T_PROFILE:
                profile_refs(el, doc, f)
            elif tag == T_BENCHMARK:
                benchmark(el, f)
            else:
                rule_group(el, kids, f)
        elif tag == T_TAILORING:
            tailoring(el, f)
        elif tag in (XHTML_OBJECT, XHTML_A):
            if tag == XHTML_OBJECT or el.get("name") is not None:
                xhtml_references(el, doc, f)
        elif tag == _q(X, "signature"):
            xccdf_signature(el, f)
        elif tag == _q(X, "title"):
            parent = el.getparent()
            if parent is not None and parent.tag == T_TAILORING:
                f.fail("xccdf-1.2:xccdf_contains_title_child", el, "a Tailoring's title has no "
                       "xccdf:title child (SCAPVal's rule asks for one)")
        elif tag == _q(X, "check-import"):
            chk = el.getparent()
            rule = chk.getparent() if chk is not None else None
            if chk is not None and chk.tag == _q(X, "check") and rule is not None and \
                    rule.tag == T_RULE:
                check_import(el, f)
        elif tag == _q(X, "TestResult"):
            test_result(el, f)
        elif tag == _q(X, "platform"):
            platform(el, f)
        elif tag == _q(X, "conflicts"):
            parent = el.getparent()
            if parent is not None and parent.tag in (T_RULE, T_GROUP):
                conflicts(el, f)
        else:
            multi_check_in_complex(el, f)


# ---------------------------------------------------------------------------------------------
# OCIL 2.0

OCIL_NS = (ns.OCIL_2, ns.OCIL)


def _o(el: etree._Element, local: str) -> str:
    return _q(etree.QName(el).namespace or ns.OCIL, local)


def _choice_ok(question: etree._Element | None, choice_ref: str | None) -> bool:
    """The choice is one of the question's choices or of a choice_group it references."""
    if question is None or choice_ref is None:
        return False
    if any(c.get("id") == choice_ref for c in question.iterchildren(_o(question, "choice"))):
        return True
    questions = next(question.iterancestors(_o(question, "questions")), None)
    if questions is None:
        return False
    for ref in question.iterchildren(_o(question, "choice_group_ref")):
        for group in questions.iterchildren(_o(question, "choice_group")):
            if group.get("id") == text_of(ref) and any(
                    c.get("id") == choice_ref for c in group.iterchildren(_o(question, "choice"))):
                return True
    return False


def _questions(el: etree._Element, qid: str | None) -> list[etree._Element]:
    ocil = next(el.iterancestors(_o(el, "ocil")), None)
    if ocil is None or qid is None:
        return []
    return [q for qs in ocil.iterchildren(_o(el, "questions"))
            for q in qs.iterchildren(etree.Element)
            if etree.QName(q).namespace == etree.QName(el).namespace and q.get("id") == qid]


@implements("ocil-2.0#1", "ocil-2.0#2")
def ocil_choices(el: etree._Element, f: Findings) -> None:
    if etree.QName(el).localname == "choice_question":
        ref = el.get("default_answer_ref")
        if ref is not None and not _choice_ok(el, ref):
            f.fail("ocil-2.0#1", el, f"@default_answer_ref {ref!r} is no choice of the question")
        return
    answers = list(el.iterchildren(_o(el, "answer")))
    refs = [a.get("choice_ref") for a in answers if a.get("choice_ref") is not None]
    if not refs:
        return
    qs = [q for q in _questions(el, el.get("question_ref"))
          if etree.QName(q).localname == "choice_question"]
    if not any(_choice_ok(q, r) for q in qs for r in refs):
        f.fail("ocil-2.0#2", el, f"answer @choice_ref {refs[0]!r} is no choice of question "
               f"{el.get('question_ref')!r}")


_VAR_RULES = {  # question type → (datatype rule, datatype, set rule, allowed set children)
    "choice_question": ("ocil-2.0#3", "TEXT", "ocil-2.0#7", "(when_choice)"),
    "numeric_question": ("ocil-2.0#4", "NUMERIC", "ocil-2.0#8", "(when_pattern|when_range)"),
    "string_question": ("ocil-2.0#5", "TEXT", "ocil-2.0#9", "(when_pattern)"),
    "boolean_question": (None, None, "ocil-2.0#6", "(when_boolean)"),
}


@implements("ocil-2.0#3", "ocil-2.0#4", "ocil-2.0#5", "ocil-2.0#6", "ocil-2.0#7", "ocil-2.0#8",
            "ocil-2.0#9", "ocil-2.0#10")
def ocil_local_variable(var: etree._Element, f: Findings) -> None:
    qs = _questions(var, var.get("question_ref"))
    if len(qs) != 1:
        return
    qtype = etree.QName(qs[0]).localname
    rule = _VAR_RULES.get(qtype)
    if rule is None:
        return
    dt_rule, datatype, set_rule, allowed = rule
    if dt_rule is not None and var.get("datatype") != datatype:
        f.fail(dt_rule, var, f"references a {qtype}, so @datatype SHALL be {datatype!r}, not "
               f"{var.get('datatype')!r}")
    exprs = [e for s in var.iterchildren(_o(var, "set")) for e in s.iterchildren(etree.Element)]
    bad = [e for e in exprs if not re.search(allowed, etree.QName(e).localname)]
    if bad:
        f.fail(set_rule, var, f"references a {qtype}, but its set holds "
               f"{etree.QName(bad[0]).localname}", bad[0])
    if qtype == "choice_question":
        for s in var.iterchildren(_o(var, "set")):
            for wc in s.iterchildren(_o(var, "when_choice")):
                if not _choice_ok(qs[0], wc.get("choice_ref")):
                    f.fail("ocil-2.0#10", var, f"when_choice @choice_ref {wc.get('choice_ref')!r} "
                           f"is no choice of question {var.get('question_ref')!r}", wc)


@implements("ocil-2.0#11")
def ocil_question_result(res: etree._Element, f: Findings) -> None:
    answers = list(res.iterchildren(_o(res, "answer")))
    nil = any(a.get(f"{{{ns.XSI}}}nil") is not None for a in answers)
    chosen = any(a.get("choice_ref") is not None for a in answers)
    response = res.get("response")
    if response is None or response == "ANSWERED":
        valued = len(answers) == 1 and text_of(answers[0]) != ""
        if nil or not (valued or chosen):
            f.fail("ocil-2.0#11", res, "answered (no @response or ANSWERED), so the answer "
                   "SHALL have a value or @choice_ref and not be nil")
    elif not nil or chosen:
        f.fail("ocil-2.0#11", res, f"@response {response!r}: the answer SHALL be nil, without "
               "@choice_ref")


def check_ocil(root: etree._Element, f: Findings) -> None:
    for space in OCIL_NS:
        for el in iter_tags(root, _q(space, "choice_question"),
                            _q(space, "choice_question_result"), _q(space, "local_variable"),
                            _q(space, "question_results")):
            local = etree.QName(el).localname
            if local == "local_variable":
                ocil_local_variable(el, f)
            elif local == "question_results":
                for child in el.iterchildren(etree.Element):
                    ocil_question_result(child, f)
            elif local == "choice_question" and el.get("default_answer_ref") is not None:
                ocil_choices(el, f)
            elif local == "choice_question_result":
                ocil_choices(el, f)


# ---------------------------------------------------------------------------------------------
# TMSAD 1.0

SIGNATURE_METHODS = {f"{G}dsa-sha1", f"{G}rsa-sha1",
                     "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                     "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"}
SHA256, SHA384, SHA512 = ("http://www.w3.org/2001/04/xmlenc#sha256",
                          "http://www.w3.org/2001/04/xmldsig-more#sha384",
                          "http://www.w3.org/2001/04/xmlenc#sha512")
DIGEST_FORM = {SHA256: ("tmsad-1.0#4", re.compile(r"[a-zA-z0-9/+]{43}="), 256),
               SHA384: ("tmsad-1.0#5", re.compile(r"[a-zA-z0-9/+]{64}"), 384),
               SHA512: ("tmsad-1.0#6", re.compile(r"[a-zA-z0-9/+]{86}={2}"), 512)}
C14N11 = ("http://www.w3.org/2006/12/xml-c14n11", "http://www.w3.org/2006/12/xml-c14n11#WithComments")
_TYPES = {"Object": ("tmsad-1.0#12", f"{G}Object"),
          "Manifest": ("tmsad-1.0#13", f"{G}Manifest"),
          "SignatureProperties": ("tmsad-1.0#14", f"{G}SignatureProperties")}


@implements("tmsad-1.0#1", "tmsad-1.0#2", "tmsad-1.0#3", "tmsad-1.0#4", "tmsad-1.0#5", "tmsad-1.0#6",
            "tmsad-1.0#7", "tmsad-1.0#8", "tmsad-1.0#9", "tmsad-1.0#10", "tmsad-1.0#11",
            "tmsad-1.0#12", "tmsad-1.0#13", "tmsad-1.0#14", "tmsad-1.0#15", "tmsad-1.0#16",
            "tmsad-1.0#17")
def signature(sig: etree._Element, f: Findings) -> None:
    ids: dict[str, list[etree._Element]] = defaultdict(list)
    for el in sig.iter(etree.Element):
        if el.get("Id") is not None and etree.QName(el).namespace == G:
            ids["#" + el.get("Id", "")].append(el)
    for el in sig.iter(_q(G, "SignatureMethod"), _q(G, "DigestMethod"), _q(G, "DigestValue"),
                       _q(G, "Manifest"), _q(G, "SignatureProperties"), _q(G, "Reference"),
                       _q(G, "Transform"), _q(G, "SignedInfo")):
        if next(el.iterancestors(_q(G, "Signature")), None) is not sig:
            continue   # inside a signature nested in this one: checked with that one
        local = etree.QName(el).localname
        alg = el.get("Algorithm")
        if local == "SignatureMethod" and alg not in SIGNATURE_METHODS:
            f.fail("tmsad-1.0#1", el, f"signature method {alg!r} is not DSA-SHA1, RSA-SHA1, "
                   "RSA-SHA256 or ECDSA-SHA256")
        elif local == "DigestMethod":
            if alg not in (SHA256, SHA384, SHA512):
                f.fail("tmsad-1.0#2", el, f"digest method {alg!r} is not SHA-256, 384 or 512")
            if alg is None or alg == f"{G}sha1":
                f.fail("tmsad-1.0#3", el, f"digest method {alg!r}: SHA-1 SHOULD NOT be used")
        elif local == "DigestValue":
            method = next(el.itersiblings(_q(G, "DigestMethod"), preceding=True), None)
            form = DIGEST_FORM.get(method.get("Algorithm", "") if method is not None else "")
            if form is not None:
                rid, pattern, bits = form
                if not pattern.fullmatch(re.sub(r"\s+", "", text_of(el))):
                    f.fail(rid, el, f"is not a {bits}-bit Base64 digest value")
        elif local == "SignedInfo":
            if el.getparent() is not sig:
                continue
            refs = list(el.iterchildren(_q(G, "Reference")))
            if len(refs) < 2:
                f.fail("tmsad-1.0#7", el, f"{len(refs)} dsig:Reference; at least two (content, "
                       "SignatureProperties) are expected")
            elif not any(any(p.tag == _q(G, "SignatureProperties") for p in ids.get(r.get("URI")
                                                                                  or "\0", ()))
                         for r in refs):
                f.fail("tmsad-1.0#8", el, "no dsig:Reference is to a dsig:SignatureProperties")
        elif local == "Manifest":
            si = sig.find(_q(G, "SignedInfo"))
            uri = "#" + (el.get("Id") or "")
            if si is None or not any(r.get("URI") == uri for r in si.iterchildren(_q(G,
                                                                                     "Reference"))):
                f.fail("tmsad-1.0#9", el, "the dsig:Manifest is not referenced from SignedInfo")
        elif local == "SignatureProperties":
            if not any(p.find(_q(ns.TMSAD, "signature-info")) is not None
                       for p in el.iterchildren(_q(G, "SignatureProperty"))):
                f.fail("tmsad-1.0#11", el, "no dsig:SignatureProperty holds a tmsad:signature-info")
        elif local == "Reference":
            targets = ids.get(el.get("URI") or "\0", [])
            if len(targets) == 1:
                kind = etree.QName(targets[0]).localname
                if kind in _TYPES and el.get("Type") != _TYPES[kind][1]:
                    f.fail(_TYPES[kind][0], el, f"references a dsig:{kind}, so @Type SHALL be "
                           f"{_TYPES[kind][1]!r}, not {el.get('Type')!r}")
        elif local == "Transform":
            if alg == "http://www.w3.org/TR/1999/REC-xpath-19991116":
                f.fail("tmsad-1.0#15", el, "an XPath 1.0 transform; XPath Filter 2.0 SHOULD be "
                       "used")
            if alg == "http://www.w3.org/TR/1999/REC-xslt-19991116":
                f.fail("tmsad-1.0#16", el, "an XSLT transform SHOULD be avoided")
            if alg not in C14N11:
                f.fail("tmsad-1.0#17", el, f"transform {alg!r}: Canonical XML 1.1 SHOULD be used")
    if not any(o.find(_q(G, "SignatureProperties")) is not None
               for o in sig.iterchildren(_q(G, "Object"))):
        f.fail("tmsad-1.0#10", sig, "has no dsig:Object/dsig:SignatureProperties")


def check_signatures(root: etree._Element, f: Findings) -> None:
    for sig in iter_tags(root, _q(G, "Signature")):
        signature(sig, f)


def check(root: etree._Element, f: Findings, kind: str = "sds") -> None:
    """The component Schematrons for a source data stream (`sds`) or an ARF (`arf`)."""
    if kind == "sds":
        check_xccdf(root, f)
        check_ocil(root, f)
    check_signatures(root, f)
