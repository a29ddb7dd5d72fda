"""OVAL 5.11.2 results document (`oval_results`) from an OvalEvaluation.

Shape per SCAP 1.3 (SP 800-126r3 §4.6, RES-179..182):
- "full"  = Single Machine With System Characteristics: every definition result type
  reported="true" content="full"; definitions carry their criteria trees, the tests section
  lists tested items and variables, and the system characteristics are copied in whole
  (collected_objects and system_data), with masked entities blanked.
- "thin"  = Single Machine With Thin Results: content="thin"; definition ids and results only,
  and the system characteristics reduced to generator and system_info.
include_source_definitions defaults to false as both formats require.
The document is data-driven, so it is built with lxml here rather than from a template.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Hashable

from lxml import etree
from lxml.etree import _Element

from stigscap.schemas.namespaces import OVAL_COMMON, OVAL_DEF, OVAL_RES, OVAL_SC, XSI

from .engine import CompiledDefinitions, CriteriaNode, OvalEvaluation
from .values import OvalResult

_RES = "{%s}" % OVAL_RES
_OVAL = "{%s}" % OVAL_COMMON
_SC = "{%s}" % OVAL_SC
_THIN_TAGS = frozenset((_SC + "generator", _SC + "system_info"))  # what thin results keep

SCHEMA_VERSION = "5.11.2"
DIRECTIVE_NAMES = ("definition_true", "definition_false", "definition_unknown",
                   "definition_error", "definition_not_evaluated", "definition_not_applicable")

NSMAP = {None: OVAL_RES, "oval": OVAL_COMMON, "oval-def": OVAL_DEF, "oval-sc": OVAL_SC,
         "xsi": XSI}


def _sub(parent: _Element, tag: str, attrib: dict[str, str] | None = None,
         text: str | None = None) -> _Element:
    el = etree.SubElement(parent, tag, attrib or {})
    if text is not None:
        el.text = text
    return el


def _criteria_element(parent: _Element, evaluation: OvalEvaluation, node: CriteriaNode,
                      not_evaluated: bool = False) -> None:
    compiled = evaluation.compiled
    result = OvalResult.NOT_EVALUATED if not_evaluated else evaluation.node_result(node)
    attrs: dict[str, str] = {}
    if node.applicability_check is not None:
        attrs["applicability_check"] = node.applicability_check
    if node.kind == "criteria":
        attrs["operator"] = node.operator
        if node.negate:
            attrs["negate"] = "true"
        attrs["result"] = result
        el = _sub(parent, _RES + "criteria", attrs)
        for child in node.children:
            _criteria_element(el, evaluation, child, not_evaluated)
        return
    if node.kind == "criterion":
        t = compiled.tests.get(node.ref)
        attrs["test_ref"] = node.ref
        attrs["version"] = t.version if t else "0"
    else:
        d = compiled.definitions.get(node.ref)
        attrs["definition_ref"] = node.ref
        attrs["version"] = d.version if d else "0"
    if node.negate:
        attrs["negate"] = "true"
    attrs["result"] = result
    _sub(parent, _RES + node.kind, attrs)


def _masked_entities(evaluation: OvalEvaluation) -> dict[str, set[tuple[str, str | None]]]:
    """item id → {(entity name, field name or None)} to mask in the copied system data."""
    compiled = evaluation.compiled
    out: dict[str, set[tuple[str, str | None]]] = {}
    for tid, tr in evaluation.test_results.items():
        t = compiled.tests.get(tid)
        if t is None:
            continue
        masks: set[tuple[str, str | None]] = set()
        obj = compiled.objects.get(t.object_ref or "")
        if obj:
            masks |= obj.masked
        for sid in t.state_refs:
            st = compiled.states.get(sid)
            for e in (st.entities if st else ()):
                if e.mask:
                    masks.add((e.name, None))
                for f in e.fields or ():
                    if f.mask:
                        masks.add((e.name, f.name))
        if masks:
            for item_id, _r in tr.tested_items:
                out.setdefault(item_id, set()).update(masks)
    return out


def _apply_masks(sc_copy: _Element, masks: dict[str, set[tuple[str, str | None]]]) -> None:
    for section in sc_copy:
        if etree.QName(section).localname != "system_data":
            continue
        for item in section:
            m = masks.get(item.get("id", ""))
            if not m:
                continue
            for ent in item:
                if not isinstance(ent.tag, str):
                    continue
                name = etree.QName(ent).localname
                whole = (name, None) in m
                fields = {f for (e, f) in m if e == name and f}
                if whole:
                    ent.set("mask", "true")
                    _blank(ent)
                    for f in ent:
                        f.set("mask", "true")
                        _blank(f)
                elif fields:
                    for f in ent:
                        if isinstance(f.tag, str) and f.get("name") in fields:
                            f.set("mask", "true")
                            _blank(f)


def _blank(el: _Element) -> None:
    """A masked value leaves nothing behind: its text, and comments (with the text after
    them) or processing instructions inside it."""
    el.text = None
    for c in list(el):
        if not isinstance(c.tag, str):
            el.remove(c)


_HEADERS: dict[tuple[str, bool, str, str | None], _Element] = {}


def _header(directives: str, include_source: bool, product_name: str,
            product_version: str | None) -> _Element:
    """oval_results root with generator and directives (built once per distinct value)."""
    key = (directives, include_source, product_name, product_version)
    root = _HEADERS.get(key)
    if root is None:
        if len(_HEADERS) > 64:
            _HEADERS.clear()
        root = etree.Element(_RES + "oval_results", nsmap=NSMAP)
        gen = _sub(root, _RES + "generator")
        _sub(gen, _OVAL + "product_name", text=product_name)
        if product_version:
            _sub(gen, _OVAL + "product_version", text=product_version)
        _sub(gen, _OVAL + "schema_version", text=SCHEMA_VERSION)
        _sub(gen, _OVAL + "timestamp", text="")
        d = _sub(root, _RES + "directives",
                 {"include_source_definitions": "true" if include_source else "false"})
        for name in DIRECTIVE_NAMES:
            _sub(d, _RES + name, {"reported": "true", "content": directives})
        _HEADERS[key] = root
    return root


def copy_target() -> _Element:
    """The (empty) `system` element of an oval_results tree made as build_results_document
    makes it: the system characteristics are deep-copied into such an element, and the
    namespace prefixes of the copy follow from it (a streaming writer that copies the items
    one by one serializes them in this context)."""
    root = copy.deepcopy(_header("full", False, "stigscap", None))
    return _sub(_sub(root, _RES + "results"), _RES + "system")


def build_results_document(evaluation: OvalEvaluation, *, directives: str = "full",
                           timestamp: str, include_source_definitions: bool = False,
                           product_name: str = "stigscap", product_version: str | None = None,
                           viewer_shapes: bool = False,
                           _splice: list[_Element] | None = None) -> _Element:
    """The oval_results root element.

    `viewer_shapes`: a definition that was not evaluated gets its criteria (every node `not
    evaluated`) instead of the message saying why (which the XCCDF rule-result carries too):
    viewers such as openscap-report take a definition's first child for its criteria.

    With `_splice` (a list, used by `results_text`), the system characteristics are not copied
    into the tree: a comment marks their place and the elements to serialize there are
    appended to `_splice`.
    """
    if directives not in ("full", "thin"):
        raise ValueError("directives must be 'full' or 'thin'")
    if not timestamp:
        raise ValueError("timestamp is required (xsd:dateTime)")
    full = directives == "full"
    compiled = evaluation.compiled
    root = copy.deepcopy(_header(directives, include_source_definitions, product_name,
                                 product_version))
    root[0][-1].text = timestamp   # generator/timestamp
    if include_source_definitions:
        root.append(copy.deepcopy(compiled.root))
    results = _sub(root, _RES + "results")
    system = _sub(results, _RES + "system")

    if evaluation.definition_results:
        defs = _sub(system, _RES + "definitions")
        for def_id in compiled.definition_order:
            spec = compiled.definitions[def_id]
            attrs = {"definition_id": def_id, "version": spec.version}
            if spec.cls:
                attrs["class"] = spec.cls
            attrs["result"] = evaluation.definition_results[def_id]
            del_el = _sub(defs, _RES + "definition", attrs)
            skipped = def_id in evaluation.skipped
            if viewer_shapes:   # criteria first (the reasons are in the XCCDF rule-results)
                if full and spec.criteria is not None:
                    _criteria_element(del_el, evaluation, spec.criteria, skipped)
                continue
            for msg in evaluation.definition_messages.get(def_id, ()):
                _sub(del_el, _RES + "message", {"level": "info" if skipped else "error"}, msg)
            if full and spec.criteria is not None and not skipped:
                _criteria_element(del_el, evaluation, spec.criteria)

    if full and evaluation.test_results:
        tests = _sub(system, _RES + "tests")
        for tid in compiled.tests:
            tr = evaluation.test_results.get(tid)
            if tr is None:
                continue
            t = compiled.tests[tid]
            tel = _sub(tests, _RES + "test", {
                "test_id": tid, "version": t.version, "check_existence": t.check_existence,
                "check": t.check, "state_operator": t.state_operator, "result": tr.result})
            for msg in tr.messages:
                _sub(tel, _RES + "message", {"level": "info" if tr.result != OvalResult.ERROR
                                             else "error"}, msg)
            for item_id, r in tr.tested_items:
                _sub(tel, _RES + "tested_item", {"item_id": item_id, "result": r})
            for var_id in compiled.test_variables(tid):
                vals, err = evaluation.variable_values(var_id)
                if err:
                    continue
                for v in vals:
                    _sub(tel, _RES + "tested_variable", {"variable_id": var_id}, v)
        # a test that no definition reached is not listed; the schema needs ≥1 test
        if len(tests) == 0:
            system.remove(tests)

    sc = evaluation.syschar
    if full and sc is not None:
        masks = _masked_entities(evaluation)
        if _splice is not None and not masks:
            system.append(etree.Comment(SPLICE_MARK))
            _splice.append(sc)
        else:
            sc_copy = copy.deepcopy(sc)
            if masks:
                _apply_masks(sc_copy, masks)
            system.append(sc_copy)
    else:
        sc_el = etree.SubElement(system, _SC + "oval_system_characteristics")
        for child in (sc if sc is not None else ()):
            if child.tag in _THIN_TAGS:
                if _splice is not None:
                    sc_el.append(etree.Comment(SPLICE_MARK))
                    _splice.append(child)
                else:
                    sc_el.append(copy.deepcopy(child))
    return root


# Marks where results_text splices serialized system-characteristics elements. The results
# tree holds no comments of its own; copied source definitions (include_source_definitions)
# may, and one with exactly this text would be caught by the mark count check below.
SPLICE_MARK = "stigscap:splice"
_SPLICE_TEXT = f"<!--{SPLICE_MARK}-->"


def results_text(evaluation: OvalEvaluation, *, directives: str = "full", timestamp: str,
                 include_source_definitions: bool = False, product_name: str = "stigscap",
                 product_version: str | None = None, viewer_shapes: bool = False) -> str:
    """The same document as build_results_document, serialized (no XML declaration).

    The host's system characteristics (often most of the document) are serialized from the
    evaluated tree in place instead of being deep-copied into a new tree first; with masked
    entities the copy is made as usual. Equal to `tostring(build_results_document(...))` as XML
    (tests compare them).
    """
    key = _signature(evaluation, directives, timestamp, include_source_definitions,
                     product_name, product_version, viewer_shapes)
    cache = _text_cache(evaluation.compiled)
    got = cache.get(key) if key is not None else None
    if got is None:
        spliced: list[_Element] = []
        root = build_results_document(evaluation, directives=directives, timestamp=timestamp,
                                      include_source_definitions=include_source_definitions,
                                      product_name=product_name,
                                      product_version=product_version,
                                      viewer_shapes=viewer_shapes, _splice=spliced)
        parts = etree.tostring(root, encoding="unicode").split(_SPLICE_TEXT)
        if len(parts) != len(spliced) + 1:  # the mark occurs once per spliced element
            raise AssertionError("OVAL results splice marks do not match")
        # what is spliced: the whole syschar (full) or its generator and system_info (thin)
        names = tuple(etree.QName(el).localname for el in spliced)
        got = (parts, names)
        if key is not None:
            if len(cache) >= _TEXT_CACHE_SIZE:
                cache.clear()
            cache[key] = got
    parts, names = got
    if not names:
        return parts[0]
    sc = evaluation.syschar
    assert sc is not None   # only the system characteristics' elements are ever spliced
    elements = [sc] if names == ("oval_system_characteristics",) else \
        [c for c in sc if c.tag in _THIN_TAGS]
    out = [parts[0]]
    for el, rest in zip(elements, parts[1:]):
        out.append(etree.tostring(el, encoding="unicode", with_tail=False))
        out.append(rest)
    return "".join(out)


# Hosts judged by the same content mostly get the same results apart from their system
# characteristics (same item ids, same outcomes), so the serialized results part is cached per
# compiled definitions, keyed by everything build_results_document reads from the evaluation.
_TEXT_CACHE_SIZE = 256
_TextCache = dict[Hashable, tuple[list[str], tuple[str, ...]]]
_TEXT_CACHES: weakref.WeakKeyDictionary[CompiledDefinitions, _TextCache] = \
    weakref.WeakKeyDictionary()


def _text_cache(compiled: CompiledDefinitions) -> _TextCache:
    cache = _TEXT_CACHES.get(compiled)
    if cache is None:
        cache = _TEXT_CACHES[compiled] = {}
    return cache


def _signature(evaluation: OvalEvaluation, directives: str, timestamp: str,
               include_source: bool, product_name: str, product_version: str | None,
               viewer_shapes: bool = False) -> Hashable | None:
    """A key equal for two evaluations exactly when their results documents differ only in
    the spliced system-characteristics elements; None when not cacheable (masked entities,
    whose copies are changed in the tree)."""
    full = directives == "full"
    sc = evaluation.syschar
    if full and sc is not None and _masked_entities(evaluation):
        return None
    compiled = evaluation.compiled
    thin_children: tuple[str, ...] = ()
    if not full and sc is not None:
        thin_children = tuple(c.tag for c in sc if c.tag in _THIN_TAGS)
    key: list[Hashable] = [directives, timestamp, include_source, product_name, product_version,
                 viewer_shapes,
                 sc is None, thin_children,
                 tuple(evaluation.definition_results.items()), tuple(evaluation.skipped),
                 tuple((k, tuple(v)) for k, v in evaluation.definition_messages.items())]
    if full:
        key.append(tuple((k, r) for k, (r, _node) in evaluation.criteria_results.items()))
        tests: list[Hashable] = []
        for tid, tr in evaluation.test_results.items():
            tests.append((tid, tr.result, tuple(tr.messages), tuple(tr.tested_items)))
            for var_id in compiled.test_variables(tid):
                vals, err = evaluation.variable_values(var_id)
                tests.append((var_id, err is None, tuple(vals)))
        key.append(tuple(tests))
    return tuple(key)
