"""Pure OVAL 5.11.2 analysis engine: definitions + system characteristics → results.

    evaluation = evaluate(definitions_root, syschar_root, {"oval:x:var:1": ["^Tls$"]})
    evaluation.definition_results            # {def_id: OvalResult.TRUE, FALSE, UNKNOWN, ...}
    evaluation.evidence(def_id)              # exactly the items that cause its result, and why

The OVAL results document is written by `oval.results` from the evaluation (the engine knows
nothing of it): `build_results_document(evaluation, directives="full", timestamp=...)`.

For many hosts against the same content, compile once and evaluate per syschar:

    compiled = compile_definitions(definitions_root)
    for sc in syschars:
        compiled.evaluate(sc, variables)

No I/O, no clock, no network: parsed lxml elements in, results out. Analysis follows the OVAL
5.11.2 specification (results schema TestType documentation for collected-object flags,
OperatorEnumeration / CheckEnumeration / ExistenceEnumeration tables, EntityAttributeGroup for
var_ref / var_check, record/field rules). Collected objects are taken from the system
characteristics as they are: object `set` and `filter` constructs were applied by the collector,
so analysis only needs the item references. Without a collected_objects section the items are
searched in system_data by comparing the object's entities (objects with set / filter /
behaviors then give "error"). Constructs the engine cannot analyse give an "error" result with
a message, never an exception.

Readings where the specification leaves room (each covered by tests/oval):
- a test's check over zero items (all items "does not exist", or none collected) keeps the
  existence result, so a none_exist test with a state is true when nothing exists;
- flag "incomplete" follows the results-schema TestType text literally: unknown unless one of
  its exceptions applies (a test without states is therefore unknown);
- check_existence="all_exist" on a test is at_least_one_exists (ExistenceEnumeration text);
- a record field missing from the collected record, or with status error, gives error.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypeAlias

from lxml.etree import _Element, _ElementTree

from stigscap.schemas.namespaces import XSI
from stigscap.schemas.xmlio import element_text as _text

from .compare import Comparison, CompareError, compile_comparison, compile_regex, to_boolean, \
    to_float, to_int, to_version
from .logic import Counts, check_counts, culprits, existence_result, negate, operator_counts
from .values import Check, Existence, Flag, ItemStatus, Operator, OvalResult

__all__ = ["evaluate", "compile_definitions", "CompiledDefinitions", "OvalEvaluation",
           "TestEvidence", "ItemEvidence", "RecordEvidence", "EntityFailure"]

_XSI_NIL = f"{{{XSI}}}nil"
_KNOWN_STATUSES = (ItemStatus.EXISTS, ItemStatus.DOES_NOT_EXIST, ItemStatus.ERROR)
# Members read once for the per-record and per-entity paths below: on Python 3.11 each read of
# a member off its Enum class goes through EnumType.__getattr__ (~70 ns, several per record).
_TRUE, _FALSE, _ERROR, _UNKNOWN = (OvalResult.TRUE, OvalResult.FALSE, OvalResult.ERROR,
                                   OvalResult.UNKNOWN)
_EXISTS, _DOES_NOT_EXIST, _STATUS_ERROR, _NOT_COLLECTED = (
    ItemStatus.EXISTS, ItemStatus.DOES_NOT_EXIST, ItemStatus.ERROR, ItemStatus.NOT_COLLECTED)
_NONE_SATISFY = Check.NONE_SATISFY

# a parsed oval_system_characteristics document (None: nothing was collected)
Syschar: TypeAlias = "_Element | _ElementTree[_Element] | None"


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _truthy(v: str | None) -> bool:
    return v in ("true", "1")


# ====================================================================== compiled content

@dataclass
class FieldSpec:
    name: str
    datatype: str
    operation: str
    value: str | None
    var_ref: str | None
    var_check: str
    entity_check: str
    mask: bool
    comparison: Comparison | None = None  # compiled comparison when no var_ref


@dataclass
class EntitySpec:
    name: str
    datatype: str
    operation: str
    value: str | None
    var_ref: str | None
    var_check: str
    entity_check: str
    check_existence: str
    mask: bool
    nil: bool
    fields: list[FieldSpec] | None  # record entity
    comparison: Comparison | None = None


@dataclass
class StateSpec:
    id: str
    version: str
    operator: str
    entities: list[EntitySpec]


@dataclass
class ObjectSpec:
    id: str
    version: str
    var_refs: list[str]
    masked: set[tuple[str, str | None]]
    item_name: str = ""                       # e.g. cmdlet_item for a cmdlet_object
    entities: list[EntitySpec] = field(default_factory=list)   # for item search
    unsupported: str | None = None            # set / filter: cannot search system_data


@dataclass
class TestSpec:
    id: str
    version: str
    comment: str
    check_existence: str
    check: str
    state_operator: str
    object_ref: str | None
    state_refs: list[str]
    problem: str | None  # set when the test cannot be analysed


@dataclass
class CriteriaNode:
    kind: str  # criteria | criterion | extend_definition
    negate: bool
    applicability_check: str | None
    operator: str = Operator.AND
    ref: str = ""
    children: list[CriteriaNode] = field(default_factory=list)


@dataclass
class DefinitionSpec:
    id: str
    version: str
    cls: str
    title: str
    criteria: CriteriaNode | None


def _entity_attrs(el: _Element) -> tuple[str, str, str | None, str, str]:
    g = el.get
    return (g("datatype") or "string", g("operation") or "equals", g("var_ref"),
            g("var_check") or Check.ALL, g("entity_check") or Check.ALL)


def _compile_state(el: _Element) -> StateSpec:
    entities: list[EntitySpec] = []
    for child in el:
        name = _local(child.tag)
        if not name or name in ("notes", "Signature"):
            continue
        datatype, op, var_ref, var_check, entity_check = _entity_attrs(child)
        fields: list[FieldSpec] | None = None
        if datatype == "record":
            fields = []
            for f in child:
                if _local(f.tag) != "field":
                    continue
                fdt, fop, fvar, fvc, fec = _entity_attrs(f)
                fspec = FieldSpec(f.get("name") or "", fdt, fop, _text(f), fvar, fvc, fec,
                                  _truthy(f.get("mask")) or _truthy(child.get("mask")))
                if not fvar:
                    fspec.comparison = compile_comparison(fdt, fop, fspec.value or "")
                fields.append(fspec)
        value = None if fields is not None else _text(child)   # a record's value is its fields
        spec = EntitySpec(name, datatype, op, value, var_ref, var_check, entity_check,
                          child.get("check_existence") or Existence.AT_LEAST_ONE_EXISTS,
                          _truthy(child.get("mask")), _truthy(child.get(_XSI_NIL)), fields)
        if fields is None and not var_ref:
            spec.comparison = compile_comparison(datatype, op, spec.value or "")
        entities.append(spec)
    return StateSpec(el.get("id", ""), el.get("version") or "1",
                     el.get("operator") or Operator.AND, entities)


def _stated(item_ents: list[_Element]) -> list[_Element]:
    """The item entities that state a value: status 'exists' and not nil."""
    return [ie for ie in item_ents if (ie.get("status") or _EXISTS) == _EXISTS
            and ie.get(_XSI_NIL) not in ("true", "1")]


def _fields_where_none(item_name: str, ent: EntitySpec, stated: list[_Element]) -> list[str]:
    """A nil object entity means any value, except a cmdlet_object's parameters and select,
    where it means none ("parameters are not provided to the cmdlet", "the Select-Object is
    not used"): the field names the item states for such an entity (none: [])."""
    if not (ent.nil and item_name == "cmdlet_item" and ent.name in ("parameters", "select")):
        return []
    return [f.get("name") or "" for ie in stated for f in ie if _local(f.tag) == "field"]


# The objects whose items are not named after them (the oval:element_mapping of the OVAL 5.11.2
# definitions schemas): e.g. a fileeffectiverights53_object collects fileeffectiverights_items.
_ITEM_OF_OBJECT = {
    "fileauditedpermissions53_object": "fileauditedpermissions_item",
    "fileeffectiverights53_object": "fileeffectiverights_item",
    "process58_object": "process_item",
    "regkeyauditedpermissions53_object": "regkeyauditedpermissions_item",
    "regkeyeffectiverights53_object": "regkeyeffectiverights_item",
    "user_sid55_object": "user_sid_item",
    "textfilecontent54_object": "textfilecontent_item",
    "inetlisteningservers_object": "inetlisteningserver_item",
    "patch53_object": "patch_item", "patch54_object": "patch_item", "patch56_object": "patch_item",
    "plist510_object": "plist_item", "plist511_object": "plist_item",
    "version55_object": "version_item",
}


def item_name(object_name: str) -> str:
    """The local name of the items an object of this local name collects
    (fileeffectiverights53_object → fileeffectiverights_item); "" for a non-object."""
    if object_name in _ITEM_OF_OBJECT:
        return _ITEM_OF_OBJECT[object_name]
    return object_name[:-len("_object")] + "_item" if object_name.endswith("_object") else ""


def _compile_object(el: _Element) -> ObjectSpec:
    var_refs: list[str] = []
    masked: set[tuple[str, str | None]] = set()
    for d in el.iter():
        v = d.get("var_ref") if d is not el else None
        if v and v not in var_refs:
            var_refs.append(v)
    for child in el:
        name = _local(child.tag)
        if _truthy(child.get("mask")):
            masked.add((name, None))
        for f in child:
            if _local(f.tag) == "field" and _truthy(f.get("mask")):
                masked.add((name, f.get("name")))
    spec = ObjectSpec(el.get("id", ""), el.get("version") or "1", var_refs, masked)
    local = _local(el.tag)
    spec.item_name = item_name(local)
    for child in el:
        name = _local(child.tag)
        if name in ("set", "filter"):
            spec.unsupported = f"object uses <{name}>"
        elif name == "behaviors":
            spec.unsupported = "object uses <behaviors>"
    if spec.unsupported is None:
        spec.entities = [e for e in _compile_state(el).entities]
    return spec


def _compile_test(el: _Element) -> TestSpec:
    object_ref = None
    state_refs: list[str] = []
    for child in el:
        name = _local(child.tag)
        if name == "object":
            object_ref = child.get("object_ref")
        elif name == "state":
            state_refs.append(child.get("state_ref", ""))
    check = el.get("check") or Check.ALL
    check_existence = el.get("check_existence") or Existence.AT_LEAST_ONE_EXISTS
    problem = None
    if object_ref is None:
        problem = "test has no object reference"
    return TestSpec(el.get("id", ""), el.get("version") or "1", el.get("comment") or "",
                    check_existence, check, el.get("state_operator") or Operator.AND, object_ref,
                    state_refs, problem)


def _compile_criteria(el: _Element) -> CriteriaNode:
    kind = _local(el.tag)
    node = CriteriaNode(kind, _truthy(el.get("negate")), el.get("applicability_check"))
    if kind == "criteria":
        node.operator = el.get("operator") or Operator.AND
        for child in el:
            if _local(child.tag) in ("criteria", "criterion", "extend_definition"):
                node.children.append(_compile_criteria(child))
    elif kind == "criterion":
        node.ref = el.get("test_ref", "")
    else:
        node.ref = el.get("definition_ref", "")
    return node


class CompiledDefinitions:
    """An indexed `oval_definitions` document, reusable across many system characteristics."""

    def __init__(self, definitions_root: _Element | _ElementTree[_Element]) -> None:
        root = definitions_root.getroot() if isinstance(definitions_root, _ElementTree) \
            else definitions_root
        if _local(root.tag) != "oval_definitions":
            raise ValueError("not an oval_definitions document")
        self.root = root
        self.definitions: dict[str, DefinitionSpec] = {}
        self.tests: dict[str, TestSpec] = {}
        self.objects: dict[str, ObjectSpec] = {}
        self.states: dict[str, StateSpec] = {}
        self.variable_elements: dict[str, _Element] = {}
        for section in root:
            sname = _local(section.tag)
            for el in section:
                if not isinstance(el.tag, str):
                    continue
                eid = el.get("id", "")
                if sname == "definitions":
                    crit = None
                    title = ""
                    for c in el:
                        ln = _local(c.tag)
                        if ln == "criteria":
                            crit = _compile_criteria(c)
                        elif ln == "metadata":
                            for m in c:
                                if _local(m.tag) == "title":
                                    title = _text(m) or ""
                    self.definitions[eid] = DefinitionSpec(eid, el.get("version") or "1",
                                                           el.get("class") or "", title, crit)
                elif sname == "tests":
                    self.tests[eid] = _compile_test(el)
                elif sname == "objects":
                    self.objects[eid] = _compile_object(el)
                elif sname == "states":
                    self.states[eid] = _compile_state(el)
                elif sname == "variables":
                    self.variable_elements[eid] = el
        self.definition_order = list(self.definitions)
        self._test_vars: dict[str, list[str]] = {}
        self.component_objects, self.item_variables = self._item_dependencies()

    def _item_dependencies(self) -> tuple[list[str], frozenset[str]]:
        """(the objects an object_component reads, the variables whose values come from
        collected items: those with an object_component, and those built from them through
        variable_components)."""
        objects: dict[str, None] = {}
        uses: dict[str, set[str]] = {}
        dependent: set[str] = set()
        for var_id, el in self.variable_elements.items():
            refs = uses.setdefault(var_id, set())
            for c in el.iter():
                local = _local(c.tag)
                if local == "object_component":
                    objects.setdefault(c.get("object_ref", ""))
                    dependent.add(var_id)
                elif local == "variable_component":
                    refs.add(c.get("var_ref", ""))
        grew = True
        while grew:
            grew = False
            for var_id, refs in uses.items():
                if var_id not in dependent and refs & dependent:
                    dependent.add(var_id)
                    grew = True
        return list(objects), frozenset(dependent)

    def test_reads_items(self, test_id: str) -> bool:
        """Whether the test's object or states use a variable whose value comes from
        collected items (an object_component)."""
        return any(v in self.item_variables for v in self.test_variables(test_id))

    def test_variables(self, test_id: str) -> list[str]:
        """Variables referenced directly by the test's object and states."""
        got = self._test_vars.get(test_id)
        if got is not None:
            return got
        t = self.tests[test_id]
        out: list[str] = []
        obj = self.objects.get(t.object_ref or "")
        if obj:
            out.extend(v for v in obj.var_refs if v not in out)
        for sid in t.state_refs:
            st = self.states.get(sid)
            if not st:
                continue
            for e in st.entities:
                if e.var_ref and e.var_ref not in out:
                    out.append(e.var_ref)
                for f in e.fields or ():
                    if f.var_ref and f.var_ref not in out:
                        out.append(f.var_ref)
        self._test_vars[test_id] = out
        return out

    def evaluate(self, syschar_root: Syschar,
                 external_variables: Mapping[str, Sequence[str] | str] | None = None, *,
                 not_evaluated: Mapping[str, str] | None = None) -> OvalEvaluation:
        """`not_evaluated`: definition id → why; those definitions are not analysed and get
        the result 'not evaluated' with that message (e.g. an XCCDF rule that is notchecked)."""
        return OvalEvaluation(self, syschar_root, external_variables or {}, not_evaluated)

    def stream_problem(self) -> str | None:
        """Why this content cannot be evaluated item by item (`start_stream`), None if it can:
        masked entities change the items the results document copies. (An object_component
        reads values of items other than the one at hand: the evaluation keeps those items,
        and defers the items whose tests need them until they have all gone by.)"""
        for obj in self.objects.values():
            if obj.masked:
                return f"object {obj.id} has masked entities"
        for st in self.states.values():
            for e in st.entities:
                if e.mask or any(f.mask for f in e.fields or ()):
                    return f"state {st.id} has masked entities"
        return None

    def start_stream(self, syschar_head: _Element,
                     external_variables: Mapping[str, Sequence[str] | str] | None = None, *,
                     not_evaluated: Mapping[str, str] | None = None,
                     explain: bool = True) -> OvalEvaluation:
        """An evaluation fed item by item (see OvalEvaluation): `syschar_head` is the
        oval_system_characteristics root with its collected_objects complete (its system_data
        is not read). `explain=False` when no evidence will be asked for."""
        problem = self.stream_problem()
        if problem:
            raise ValueError(f"cannot stream: {problem}")
        return OvalEvaluation(self, syschar_head, external_variables or {}, not_evaluated,
                              streaming=True, explain=explain)


def compile_definitions(definitions_root: _Element | _ElementTree[_Element]
                        ) -> CompiledDefinitions:
    return CompiledDefinitions(definitions_root)


def evaluate(definitions_root: _Element | _ElementTree[_Element] | CompiledDefinitions,
             syschar_root: Syschar,
             external_variables: Mapping[str, Sequence[str] | str] | None = None
             ) -> OvalEvaluation:
    """Analyse every definition of `definitions_root` against `syschar_root`."""
    if isinstance(definitions_root, CompiledDefinitions):
        return definitions_root.evaluate(syschar_root, external_variables)
    return CompiledDefinitions(definitions_root).evaluate(syschar_root, external_variables)


# ====================================================================== evidence

@dataclass(slots=True)
class EntityFailure:
    """One state entity (or record field) comparison that decides a result: result false (not
    satisfied), true (satisfied where that is the problem), error or unknown."""
    state_id: str
    entity: str                 # state entity name, e.g. "value"
    field: str | None           # record field name, e.g. "authmechanism"
    operation: str
    datatype: str
    expected: list[str]         # stated value, or the variable's values
    var_ref: str | None
    actual: list[str]           # collected value(s)
    result: OvalResult          # false / error / unknown
    message: str | None = None


@dataclass(slots=True)
class RecordEvidence:
    fields: dict[str, str]      # every field of the collected record (first value per name)
    result: OvalResult | ItemStatus  # against the state entity ('exists' when blamed for it)
    failures: list[EntityFailure]   # the field comparisons that decide it


@dataclass(slots=True)
class ItemEvidence:
    item_id: str
    status: str                        # the item's status, as collected
    result: OvalResult | ItemStatus    # ('exists' when blamed for existing)
    records: list[RecordEvidence]      # records that decide it (e.g. connectors)
    failures: list[EntityFailure]      # simple entities that decide it
    messages: list[str]
    reason: str | None = None          # blamed for existing (check_existence), not a state


@dataclass
class TestEvidence:
    test_id: str
    comment: str
    result: OvalResult
    check: str
    check_existence: str
    object_id: str | None
    object_flag: str | None
    items: list[ItemEvidence]          # the items that decide the test's result
    messages: list[str]


# ====================================================================== evaluation

@dataclass
class TestResult:
    result: OvalResult
    tested_items: list[tuple[str, OvalResult]]     # (item id, result)
    messages: list[str]
    variable_instance: str | None = None


class _Collected(NamedTuple):
    """A collected_objects/object of the system characteristics (or one found by searching
    system_data for the object's items)."""
    flag: str
    variable_instance: str | None
    refs: list[str]                                # item ids
    messages: list[str]
    variable_values: dict[str, list[str]]


# Loads items of system_data again by id (for evidence on an item a streamed evaluation no
# longer holds); given by whoever streamed the document (the engine itself does no I/O).
ItemLoader: TypeAlias = "Callable[[Sequence[str]], Mapping[str, _Element]]"


class OvalEvaluation:
    """The results of one definitions document against one system-characteristics document.

    Built in one go from a parsed document (`CompiledDefinitions.evaluate`), or item by item
    (`CompiledDefinitions.start_stream`): the document's head (collected_objects) first, then
    `feed_item` for each item of system_data as it is parsed, so the caller never holds all of
    them, then `finish_stream`. A streamed evaluation keeps of each item only its attributes and
    messages (a ghost); what it needs of the item's values (its result per test, and for
    evidence the explanation of every item that is not true, or that a check where true items
    are to blame has) is worked out while the item is fed. Anything else asks `loader` for the
    item again.

    Variables with an object_component (OVAL 5.11.2: the values of an item entity of another
    object's collected items) are resolved from the items of those objects (named by
    collected_objects), which a streamed evaluation keeps whole as they go by; only once all of
    them have gone by (or the document has ended) is such a variable resolved. An item fed
    earlier whose tests use one is deferred (`feed_item` returns True): the caller feeds it
    again with `feed_deferred` after the last item, before `finish_stream`."""

    def __init__(self, compiled: CompiledDefinitions, syschar_root: Syschar,
                 external_variables: Mapping[str, Sequence[str] | str],
                 not_evaluated: Mapping[str, str] | None = None, *,
                 streaming: bool = False, explain: bool = True) -> None:
        sc = syschar_root.getroot() if isinstance(syschar_root, _ElementTree) else syschar_root
        self.compiled = compiled
        self.syschar: _Element | None = sc
        self.external_variables = external_variables
        self._objects: dict[str, list[_Collected]] = {}
        self._items: dict[str, _Element] = {}
        self._item_entities: dict[str, dict[str, list[_Element]]] = {}
        # (object id, item id) → why that item contradicts the object that names it, or None
        self._contradictions: dict[tuple[str, str], str | None] = {}
        self.has_collected_objects = False
        self._streaming = streaming
        self._explain = explain
        # streamed: (test id, item id) → item result; (test id, item id, outcome or reason) →
        # explanation; ids whose _items entry is a ghost; items loaded again
        self._pre_results: dict[tuple[str, str], OvalResult] = {}
        self._explained: dict[tuple[str, str, str], ItemEvidence] = {}
        self._ghosts: set[str] = set()
        self._reloaded: dict[str, _Element] = {}
        self.loader: ItemLoader | None = None
        # streamed: the items object_components read (kept whole), those still to come, and
        # the tests whose work on an item waits for them (item id → tests)
        self._held: dict[str, _Element] = {}
        self._awaited: set[str] = set()
        self._deferred: dict[str, list[TestSpec]] = {}
        self._index_syschar(sc, items=not streaming)
        self._var_cache: dict[str, tuple[list[str], str | None]] = {}
        self._comp_cache: dict[tuple[str, str, str], Comparison] = {}
        self._field_comps: dict[int, tuple[list[Comparison] | None, str | None]] = {}
        self.test_results: dict[str, TestResult] = {}
        # id(criteria node) → (result, node)
        self.criteria_results: dict[int, tuple[OvalResult, CriteriaNode]] = {}
        self.definition_results: dict[str, OvalResult] = {}
        self.definition_messages: dict[str, list[str]] = {}
        self._in_progress: set[str] = set()
        # definitions the caller asked not to analyse (reported 'not evaluated', with why)
        self.skipped: dict[str, str] = {d: why for d, why in (not_evaluated or {}).items()
                                        if d in compiled.definitions}
        if streaming:
            for obj_id in compiled.component_objects:
                for entry in self._objects.get(obj_id, ()):
                    self._awaited.update(entry.refs)
            self._interest = self._stream_interest()
        else:
            self._analyse()

    def _analyse(self) -> None:
        for def_id in self.compiled.definition_order:
            if def_id not in self.skipped:
                self._definition(def_id)
        for def_id, why in self.skipped.items():
            # (one that another definition extends was analysed for it; still reported so)
            self.definition_results[def_id] = OvalResult.NOT_EVALUATED
            self.definition_messages.setdefault(def_id, []).append(why)

    # ------------------------------------------------------------------ streaming
    def _active_tests(self) -> list[str]:
        """The tests `_analyse` evaluates: those under a definition that is not skipped,
        through extend_definition too (an extended definition is analysed even when skipped)."""
        defs = self.compiled.definitions
        out: dict[str, None] = {}
        seen: set[str] = set()

        def walk(node: CriteriaNode) -> None:
            if node.kind == "criterion":
                out.setdefault(node.ref)
            elif node.kind == "extend_definition":
                spec = defs.get(node.ref)
                if node.ref not in seen and spec is not None and spec.criteria is not None:
                    seen.add(node.ref)
                    walk(spec.criteria)
            else:
                for child in node.children:
                    walk(child)

        for def_id in self.compiled.definition_order:
            spec = defs[def_id]
            if def_id in self.skipped or def_id in seen or spec.criteria is None:
                continue
            seen.add(def_id)
            walk(spec.criteria)
        return list(out)

    def _stream_interest(self) -> dict[str, list[TestSpec]]:
        """item id → the analysed tests that will look at it (known from collected_objects)."""
        interest: dict[str, list[TestSpec]] = {}
        for tid in self._active_tests():
            test = self.compiled.tests.get(tid)
            if test is None or test.problem:
                continue
            entries = self._objects.get(test.object_ref or "", [])
            if len(entries) > 1 and self._awaited and self.compiled.test_reads_items(tid):
                # which collection the test selects depends on a variable not yet known: any
                chosen = [e for e in entries if e.flag in (Flag.COMPLETE, Flag.INCOMPLETE)]
            else:
                entry = self._select_object(test)
                chosen = [entry] if entry is not None and entry.flag in (
                    Flag.COMPLETE, Flag.INCOMPLETE) else []
            for entry in chosen:
                for ref in entry.refs:
                    tests = interest.setdefault(ref, [])
                    if test not in tests:
                        tests.append(test)
        return interest

    def feed_item(self, item: _Element) -> bool:
        """Streaming: one item of system_data, complete, in document order. Its results for
        every test that looks at it (and the evidence likely to be asked for) are worked out
        now; the caller may discard the item afterwards. True when some of that work waits
        for items still to come (an object_component's): then feed the item again with
        `feed_deferred` once every item has been fed."""
        item_id = item.get("id", "")
        if item_id in self._awaited:
            self._held[item_id] = copy.deepcopy(item)
            self._awaited.discard(item_id)
        tests = self._interest.get(item_id)
        deferred = False
        for test in tests or ():
            self._contradiction(test.object_ref or "", item_id, item)  # while the item is whole
        if tests and (item.get("status") or _EXISTS) == _EXISTS:
            for test in tests:
                if self._awaited and self.compiled.test_reads_items(test.id):
                    self._deferred.setdefault(item_id, []).append(test)
                    deferred = True
                else:
                    self._work_out(test, item_id, item)
        self._item_entities.pop(item_id, None)
        return deferred

    def feed_deferred(self, item: _Element) -> None:
        """Streaming, after the last `feed_item`: an item `feed_item` deferred, again (any
        order). The items an object_component reads that did not come are not in the
        document."""
        self._awaited.clear()
        item_id = item.get("id", "")
        for test in self._deferred.pop(item_id, ()):
            self._work_out(test, item_id, item)
        self._item_entities.pop(item_id, None)

    def _work_out(self, test: TestSpec, item_id: str, item: _Element) -> None:
        """An item's result for a test, and the evidence likely to be asked for."""
        check_existence, check = test.check_existence, test.check
        if check == Check.NONE_EXIST:
            check_existence, check = Existence.NONE_EXIST, Check.NONE_SATISFY
        r = self._item_result(test, item_id, item) if test.state_refs else None
        if not self._explain:
            return
        try:
            if check_existence in (Existence.NONE_EXIST, Existence.ONLY_ONE_EXISTS):
                self._existing_item(test, item_id, _exists_reason(check_existence), item)
            # an item is explained for its own result: the items that are not true, and true
            # ones where a check blames true items for a false test
            if r is not None and (r != _TRUE or check in (Check.NONE_SATISFY, Check.ONLY_ONE)):
                self._explain_item(test, item_id, r, item)
        except Exception:  # noqa: BLE001 - raised again if this evidence is asked for
            pass

    def finish_stream(self, ghosts: Mapping[str, _Element]) -> None:
        """Streaming: every item was fed (and the deferred ones again); `ghosts` maps each
        item id of system_data to an element with the item's tag, attributes and messages
        (what is kept of it). The definitions are analysed now (an item deferred and not fed
        again is loaded again when its result is needed)."""
        self._awaited.clear()
        self._deferred.clear()
        self._items.update(ghosts)
        self._ghosts.update(ghosts)
        self._analyse()

    def forget_explanations(self) -> None:
        """Streamed: drop the evidence worked out while the items went by, once the caller
        has what it needs of it (asked for again, the items are loaded again)."""
        self._explained.clear()

    def item(self, item_id: str) -> _Element | None:
        """The item of system_data with this id (for a streamed evaluation its ghost: tag,
        attributes and messages only)."""
        return self._items.get(item_id)

    def _real_item(self, item_id: str) -> _Element | None:
        """The item with its values (a streamed one loaded again when it is gone)."""
        item = self._items.get(item_id)
        if item is None or item_id not in self._ghosts:
            return item
        got = self._reloaded.get(item_id)
        if got is None:
            if self.loader is None:
                raise RuntimeError(f"item {item_id} was streamed and cannot be loaded again")
            got = self.loader([item_id]).get(item_id)
            if got is None:
                raise RuntimeError(f"item {item_id} is no longer in the system characteristics")
            self._reloaded[item_id] = got
        return got

    # ------------------------------------------------------------------ syschar
    def _index_syschar(self, sc: _Element | None, *, items: bool = True) -> None:
        if sc is None:
            return
        for section in sc:
            sname = _local(section.tag)
            if sname == "collected_objects":
                self.has_collected_objects = True
                for obj in section:
                    if not isinstance(obj.tag, str):
                        continue
                    refs: list[str] = []
                    msgs: list[str] = []
                    varvals: dict[str, list[str]] = {}
                    for c in obj:
                        ln = _local(c.tag)
                        if ln == "reference":
                            refs.append(c.get("item_ref", ""))
                        elif ln == "message":
                            msgs.append(_text(c) or "")
                        elif ln == "variable_value":
                            varvals.setdefault(c.get("variable_id", ""), []).append(
                                _text(c) or "")
                    self._objects.setdefault(obj.get("id", ""), []).append(_Collected(
                        obj.get("flag") or Flag.COMPLETE, obj.get("variable_instance"), refs,
                        msgs, varvals))
            elif sname == "system_data" and items:
                for item in section:
                    if isinstance(item.tag, str):
                        self._items[item.get("id", "")] = item

    def _entities_of(self, item_id: str, item: _Element) -> dict[str, list[_Element]]:
        got = self._item_entities.get(item_id)
        if got is None:
            got = {}
            for c in item:
                tag = c.tag
                if isinstance(tag, str):
                    got.setdefault(tag.rpartition("}")[2], []).append(c)
            self._item_entities[item_id] = got
        return got

    def _contradiction(self, obj_id: str, item_id: str, item: _Element) -> str | None:
        """Why an item that collected_objects names for `obj_id` cannot be one of that
        object's items, or None. It contradicts the object when it is another kind of item,
        or when an identifying entity it states does not match the object's (a cmdlet item of
        another noun, module or verb, or collected with other parameters or another select).
        What the item leaves out, states as nil or with a status, and the object's entities
        that take a variable are not judged. Worked out once per pair: a streamed evaluation
        does it while the item is fed, when its entities are still there (a ghost has none)."""
        key = (obj_id, item_id)
        if key in self._contradictions:
            return self._contradictions[key]
        why: str | None = None
        obj = self.compiled.objects.get(obj_id)
        if obj is not None and obj.unsupported is None:
            kind = _local(item.tag)
            if obj.item_name and kind != obj.item_name:
                why = f"it is a {kind}, not a {obj.item_name}"
            else:
                ents = self._entities_of(item_id, item)
                for ent in obj.entities:
                    why = self._entity_contradiction(obj_id, obj.item_name, ent,
                                                     ents.get(ent.name, []))
                    if why:
                        break
        if why:
            why = f"item {item_id} is not an item of object {obj_id}: {why}"
        self._contradictions[key] = why
        return why

    def _contradicts(self, test: TestSpec, item_id: str) -> str | None:
        """What `_contradiction` found for the test's object and this item (after
        `_evaluate_test` asked), or None."""
        return self._contradictions.get((test.object_ref or "", item_id))

    def _entity_contradiction(self, obj_id: str, item_name: str, ent: EntitySpec,
                              item_ents: list[_Element]) -> str | None:
        if ent.var_ref or any(f.var_ref for f in ent.fields or ()):
            return None
        stated = _stated(item_ents)
        if not stated:
            return None
        if ent.nil:
            names = _fields_where_none(item_name, ent, stated)
            return (f"its {ent.name} holds {', '.join(names)}, the object's {ent.name} is nil "
                    "(none)") if names else None
        result = self._entity_result(obj_id, ent, stated)
        if result == _TRUE:
            return None
        if ent.fields is not None:
            want = ", ".join(f"{f.name}={f.value}" for f in ent.fields)
            have = "; ".join(", ".join(f"{f.get('name')}={_text(f) or ''}" for f in ie
                                       if _local(f.tag) == "field") for ie in stated)
            return f"its {ent.name} is {{{have}}}, the object's is {{{want}}}"
        have = ", ".join(repr(_text(ie) or "") for ie in stated)
        how = f" ({ent.operation})" if ent.operation != "equals" else ""
        if result != _FALSE:
            return (f"its {ent.name} {have} cannot be compared with the object's "
                    f"{ent.value!r}{how} ({result})")
        return f"its {ent.name} is {have}, the object's is {ent.value!r}{how}"

    # ------------------------------------------------------------------ variables
    def variable_values(self, var_id: str) -> tuple[list[str], str | None]:
        """(values, error message or None) of a variable for this evaluation."""
        got = self._var_cache.get(var_id)
        if got is not None:
            return got
        if self._awaited and var_id in self.compiled.item_variables:
            raise RuntimeError(f"variable {var_id} is resolved before the items it reads")
        self._var_cache[var_id] = ([], f"variable {var_id} refers to itself")
        try:
            got = self._resolve_variable(var_id)
        except CompareError as exc:
            got = ([], str(exc))
        self._var_cache[var_id] = got
        return got

    def _resolve_variable(self, var_id: str) -> tuple[list[str], str | None]:
        el = self.compiled.variable_elements.get(var_id)
        if el is None:
            return [], f"variable {var_id} is not defined"
        kind = _local(el.tag)
        datatype = el.get("datatype") or "string"
        if kind == "external_variable":
            if var_id not in self.external_variables:
                return [], f"no value supplied for external variable {var_id}"
            given = self.external_variables[var_id]
            vals = [str(v) for v in ([given] if isinstance(given, str) else given)]
            for v in vals:
                _check_datatype(datatype, v)
                msg = self._check_possible(el, datatype, v)
                if msg:
                    return [], msg
            return vals, None
        if kind == "constant_variable":
            vals = [_text(c) or "" for c in el if _local(c.tag) == "value"]
            for v in vals:
                _check_datatype(datatype, v)
            return vals, None
        if kind == "local_variable":
            comps = [c for c in el if isinstance(c.tag, str) and _local(c.tag) not in
                     ("notes", "Signature")]
            if len(comps) != 1:
                return [], f"local_variable {var_id} must have one component"
            vals, msg = self._component(comps[0])
            if msg:
                return [], msg
            for v in vals:
                _check_datatype(datatype, v)
            return vals, None
        return [], f"variable type {kind} is not supported"

    def _check_possible(self, el: _Element, datatype: str, value: str) -> str | None:
        pv = [c for c in el if _local(c.tag) == "possible_value"]
        pr = [c for c in el if _local(c.tag) == "possible_restriction"]
        if not pv and not pr:
            return None
        for c in pv:
            if compile_comparison(datatype, "equals", _text(c) or "")(value):
                return None
        for r in pr:
            results: list[OvalResult] = []
            for rest in r:
                if _local(rest.tag) != "restriction":
                    continue
                try:
                    ok = compile_comparison(datatype, rest.get("operation") or "equals",
                                            _text(rest) or "")(value)
                    results.append(OvalResult.TRUE if ok else OvalResult.FALSE)
                except CompareError:
                    results.append(OvalResult.ERROR)
            if operator_counts(r.get("operator") or Operator.AND,
                               Counts.of(results)) == OvalResult.TRUE:
                return None
        return f"value {value!r} is not allowed for external variable {el.get('id')}"

    def _component(self, c: _Element) -> tuple[list[str], str | None]:
        kind = _local(c.tag)
        if kind == "literal_component":
            return [_text(c) or ""], None
        if kind == "variable_component":
            return self.variable_values(c.get("var_ref", ""))
        if kind == "object_component":
            return self._object_component(c)
        subs = [s for s in c if isinstance(s.tag, str)]
        if kind in ("concat", "count", "unique", "escape_regex", "begin", "end", "substring",
                    "split", "regex_capture"):
            parts: list[list[str]] = []
            for s in subs:
                vals, msg = self._component(s)
                if msg:
                    return [], msg
                parts.append(vals)
            if kind == "concat":
                out = [""]
                for vals in parts:
                    out = [a + b for a in out for b in vals]
                return out, None
            flat = [v for vals in parts for v in vals]
            if kind == "count":
                return [str(len(flat))], None
            if kind == "unique":
                return list(dict.fromkeys(flat)), None
            if kind == "escape_regex":
                return [re.sub(r"([\^$.|?*+()\[\]{}\\])", r"\\\1", v) for v in flat], None
            if kind == "begin":
                ch = c.get("character") or ""
                return [v if v.startswith(ch) else ch + v for v in flat], None
            if kind == "end":
                ch = c.get("character") or ""
                return [v if v.endswith(ch) else v + ch for v in flat], None
            if kind == "substring":
                start = int(c.get("substring_start") or 1)
                length = int(c.get("substring_length") or -1)
                s0 = max(start, 1) - 1
                return [v[s0:] if length < 0 else v[s0:s0 + length] for v in flat], None
            if kind == "split":
                delim = c.get("delimiter") or ""
                if not delim:
                    return flat, None
                return [p for v in flat for p in v.split(delim)], None
            if kind == "regex_capture":
                rx = compile_regex(c.get("pattern") or "")
                out = []
                for v in flat:
                    m = rx.search(v)
                    if m and m.groups():
                        out.append(m.group(1) or "")
                    elif m is None or not m.groups():
                        out.append("")
                return out, None
        return [], f"variable component {kind} is not supported"

    def _object_component(self, c: _Element) -> tuple[list[str], str | None]:
        obj_id = c.get("object_ref", "")
        item_field = c.get("item_field", "")
        record_field = c.get("record_field")
        if not self.has_collected_objects and obj_id not in self._objects:
            found = self._search_object(obj_id)
            self._objects[obj_id] = [found] if found else []
        entries = self._objects.get(obj_id)
        if not entries:
            return [], f"object {obj_id} was not collected"
        flag, _vi, refs, _m, _vv = entries[0]
        if flag == Flag.ERROR:
            return [], f"object {obj_id} has flag error"
        out: list[str] = []
        for ref in refs:
            # (streamed: the items kept whole as they went by)
            item = self._held.get(ref) if self._streaming else self._items.get(ref)
            if item is None or (item.get("status") or ItemStatus.EXISTS) != ItemStatus.EXISTS:
                continue
            why = self._contradiction(obj_id, ref, item)
            if why:
                return [], f"object_component: {why}"
            for ent in item.iterchildren(f"{{*}}{item_field}"):
                if (ent.get("status") or ItemStatus.EXISTS) != ItemStatus.EXISTS:
                    continue
                if record_field:
                    out.extend(_text(f) or "" for f in ent
                               if _local(f.tag) == "field" and f.get("name") == record_field
                               and (f.get("status") or ItemStatus.EXISTS) == ItemStatus.EXISTS)
                elif any(isinstance(f.tag, str) for f in ent):
                    return [], (f"object_component: {item_field} of object {obj_id} is a "
                                "record; it needs a record_field")
                else:
                    out.append(_text(ent) or "")
        return out, None

    # ------------------------------------------------------------------ comparisons
    def _values_result(self, datatype: str, operation: str, var_ref: str | None,
                       var_check: str, comparison: Comparison | None, text: str,
                       stated: str | None, trace_msg: list[str] | None) -> OvalResult:
        """Compare one collected value with the stated value or the variable's values."""
        if not var_ref:
            assert comparison is not None   # compiled with the spec when it has no var_ref
            try:
                return _TRUE if comparison(text) else _FALSE
            except CompareError as exc:
                if trace_msg is not None:
                    trace_msg.append(str(exc))
                return _ERROR
        vals, msg = self.variable_values(var_ref)
        if msg or not vals:
            if trace_msg is not None:
                trace_msg.append(msg or f"variable {var_ref} has no value")
            return _ERROR
        c = Counts()
        for v in vals:
            key = (datatype, operation, v)
            comp = self._comp_cache.get(key)
            if comp is None:
                comp = self._comp_cache[key] = compile_comparison(datatype, operation, v)
            try:
                c.add(_TRUE if comp(text) else _FALSE)
            except CompareError as exc:
                if trace_msg is not None:
                    trace_msg.append(str(exc))
                c.add(_ERROR)
        return check_counts(var_check, c)

    def _expected(self, var_ref: str | None, stated: str | None) -> list[str]:
        if var_ref:
            return list(self.variable_values(var_ref)[0])
        return [stated or ""]

    def _field_result(self, state_id: str, ent: EntitySpec, spec: FieldSpec, rec: _Element,
                      failures: list[EntityFailure] | None = None) -> OvalResult:
        """One state record field against a collected record; with `failures`, the comparison
        (values, expectation, result, messages) is appended to it for evidence."""
        matches = [f for f in rec if f.get("name") == spec.name and _local(f.tag) == "field"]
        msgs: list[str] | None = [] if failures is not None else None
        if not matches:
            result = _ERROR
            if msgs is not None:
                msgs.append(f"field '{spec.name}' is not in the collected record")
        else:
            c = Counts()
            for f in matches:
                st = f.get("status") or _EXISTS
                if st == _EXISTS:
                    c.add(self._values_result(spec.datatype, spec.operation, spec.var_ref,
                                              spec.var_check, spec.comparison, _text(f) or "",
                                              None, msgs))
                elif st == _STATUS_ERROR:
                    c.add(_ERROR)
                elif st == _NOT_COLLECTED:
                    c.add(_UNKNOWN)
            result = check_counts(spec.entity_check, c) if c.decided else _ERROR
            if msgs is not None and result == _ERROR and not c.decided:
                msgs.append(f"field '{spec.name}' has no collected value")
        if failures is not None:
            failures.append(EntityFailure(
                state_id, ent.name, spec.name, spec.operation, spec.datatype,
                self._expected(spec.var_ref, spec.value), spec.var_ref,
                [_text(f) or "" for f in matches], result, "; ".join(msgs) if msgs else None))
        return result

    def _field_comparisons(self, spec: FieldSpec
                           ) -> tuple[list[Comparison] | None, str | None]:
        """(comparisons, error message) for a field in this evaluation (variables resolved)."""
        key = id(spec)
        got = self._field_comps.get(key)
        if got is None:
            if not spec.var_ref:
                assert spec.comparison is not None  # compiled with the spec (no var_ref)
                got = ([spec.comparison], None)
            else:
                vals, msg = self.variable_values(spec.var_ref)
                if msg or not vals:
                    got = (None, msg or f"variable {spec.var_ref} has no value")
                else:
                    got = ([compile_comparison(spec.datatype, spec.operation, v)
                            for v in vals], None)
            self._field_comps[key] = got
        return got

    def _record_fast(self, state_id: str, ent: EntitySpec, rec: _Element) -> OvalResult:
        """One record against the state's fields, no tracing (the per-connector hot path)."""
        c = None
        for spec in ent.fields or ():
            name = spec.name
            found: _Element | None = None
            multi = False
            for f in rec:
                if f.get("name") == name:
                    if found is not None:
                        multi = True
                        break
                    found = f
            comps, err = self._field_comparisons(spec)
            r: OvalResult
            if (found is None or multi or comps is None or err or len(comps) != 1
                    or spec.var_check == _NONE_SATISFY
                    or spec.entity_check == _NONE_SATISFY
                    or found.get("status") not in (None, _EXISTS)):
                r = self._field_result(state_id, ent, spec, rec)
            else:
                try:
                    # inline fast path of element_text: a field without children
                    text = found.text if not len(found) else _text(found)
                    r = _TRUE if comps[0](text or "") else _FALSE
                except CompareError:
                    r = _ERROR
            if r == _FALSE:
                return _FALSE
            if r != _TRUE:
                if c is None:
                    c = Counts()
                c.add(r)
        return _TRUE if c is None else operator_counts(Operator.AND, c)

    def _record_result(self, state_id: str, ent: EntitySpec, rec: _Element) -> OvalResult:
        if ent.fields:
            return self._record_fast(state_id, ent, rec)
        return _TRUE

    def _entity_existence(self, ent: EntitySpec, item_ents: list[_Element]
                          ) -> tuple[OvalResult, tuple[int, int, int, int]]:
        ex = dne = er = nc = 0
        for ie in item_ents:
            st = ie.get("status")
            if st is None or st == _EXISTS:
                ex += 1
            elif st == _DOES_NOT_EXIST:
                dne += 1
            elif st == _STATUS_ERROR:
                er += 1
            else:
                nc += 1
        return existence_result(ent.check_existence, ex, dne, er, nc), (ex, dne, er, nc)

    def _value_result(self, state_id: str, ent: EntitySpec, ie: _Element,
                      msgs: list[str] | None = None) -> OvalResult | None:
        """One collected entity value (or record) against the state entity; None when it
        does not count (status 'does not exist')."""
        st = ie.get("status") or _EXISTS
        if st == _EXISTS:
            if ent.fields is not None:
                return self._record_result(state_id, ent, ie)
            if ie.get(_XSI_NIL) in ("true", "1") and not ent.nil:
                if msgs is not None:
                    msgs.append("collected entity is nil")
                return _ERROR
            return self._values_result(ent.datatype, ent.operation, ent.var_ref,
                                       ent.var_check, ent.comparison, _text(ie) or "",
                                       ent.value, msgs)
        if st == _STATUS_ERROR:
            return _ERROR
        if st == _NOT_COLLECTED:
            return _UNKNOWN
        return None

    def _entity_result(self, state_id: str, ent: EntitySpec, item_ents: list[_Element]
                       ) -> OvalResult:
        existence, _counts = self._entity_existence(ent, item_ents)
        if existence != _TRUE:
            return existence
        if ent.fields is not None and len(ent.fields) == 1:
            c = self._records_one_field(state_id, ent, ent.fields[0], item_ents)
        else:
            c = Counts()
            for ie in item_ents:
                r = self._value_result(state_id, ent, ie)
                if r is not None:
                    c.add(r)
        if not c.total:
            return _TRUE
        return check_counts(ent.entity_check, c)

    def _records_one_field(self, state_id: str, ent: EntitySpec, spec: FieldSpec,
                           records: list[_Element]) -> Counts:
        """The results of records against a state entity with one field, counted: the loop
        of `_value_result` → `_record_fast` inlined (one record per connector: the hot path).
        Anything but one existing field with one comparison takes `_value_result`."""
        comps, err = self._field_comparisons(spec)
        if (comps is None or err or len(comps) != 1 or spec.var_check == _NONE_SATISFY
                or spec.entity_check == _NONE_SATISFY):
            return Counts.of(r for ie in records
                             if (r := self._value_result(state_id, ent, ie)) is not None)
        comp = comps[0]
        name = spec.name
        c = Counts()
        n_true = n_false = 0
        for ie in records:
            st = ie.get("status")
            if st is not None and st != _EXISTS:
                r = self._value_result(state_id, ent, ie)
                if r is not None:
                    c.add(r)
                continue
            found: _Element | None = None
            for f in ie:
                if f.get("name") == name:
                    if found is not None:
                        found = None       # two fields of the name: the general path
                        break
                    found = f
            if found is None or found.get("status") not in (None, _EXISTS):
                c.add(self._record_fast(state_id, ent, ie))
                continue
            try:
                # inline fast path of element_text: a field without children
                text = found.text if not len(found) else _text(found)
                ok = comp(text or "")
            except CompareError:
                c.error += 1
                continue
            if ok:
                n_true += 1
            else:
                n_false += 1
        c.true += n_true
        c.false += n_false
        return c

    def _state_result(self, state: StateSpec, item_id: str, item: _Element) -> OvalResult:
        if not state.entities:
            return _TRUE
        ents = self._entities_of(item_id, item)
        c = Counts()
        for ent in state.entities:
            c.add(self._entity_result(state.id, ent, ents.get(ent.name, [])))
        return operator_counts(state.operator, c)

    def _item_result(self, test: TestSpec, item_id: str, item: _Element) -> OvalResult:
        if self._streaming:
            got = self._pre_results.get((test.id, item_id))
            if got is not None:
                return got
            if item_id in self._ghosts:
                real = self._real_item(item_id)
                assert real is not None   # a ghost stands for an item that was there
                item = real
        c = Counts()
        for sid in test.state_refs:
            st = self.compiled.states.get(sid)
            c.add(OvalResult.ERROR if st is None else self._state_result(st, item_id, item))
        result = operator_counts(test.state_operator, c)
        if self._streaming:
            self._pre_results[(test.id, item_id)] = result
        return result

    # ------------------------------------------------------------------ tests
    def _search_object(self, obj_id: str) -> _Collected | None:
        """No collected_objects section: find the object's items in system_data (spec:
        "the evaluation engine must search the system characteristics for all Items that
        match the OVAL Object")."""
        obj = self.compiled.objects.get(obj_id)
        if obj is None:
            return None
        if obj.unsupported:
            return _Collected(Flag.ERROR, None, [], [
                f"{obj.unsupported}; it cannot be analysed without collected_objects in the "
                "system characteristics"], {})
        refs: list[str] = []
        for item_id, item in self._items.items():
            if _local(item.tag) != obj.item_name:
                continue
            ents = self._entities_of(item_id, item)
            ok = True
            for ent in obj.entities:
                got = ents.get(ent.name, [])
                if ent.nil:   # any value (a cmdlet's nil parameters / select: none)
                    if _fields_where_none(obj.item_name, ent, _stated(got)):
                        ok = False
                        break
                    continue
                if not got:
                    ok = False
                    break
                if self._entity_result(obj_id, ent, got) != OvalResult.TRUE:
                    ok = False
                    break
            if ok:
                refs.append(item_id)
        return _Collected(Flag.COMPLETE if refs else Flag.DOES_NOT_EXIST, None, refs, [], {})

    def _select_object(self, test: TestSpec) -> _Collected | None:
        ref = test.object_ref or ""
        if not self.has_collected_objects:
            if ref not in self._objects:
                found = self._search_object(ref)
                self._objects[ref] = [found] if found else []
        entries = self._objects.get(ref)
        if not entries:
            return None
        if len(entries) == 1:
            return entries[0]
        obj = self.compiled.objects.get(ref)
        for e in entries:
            varvals = e.variable_values
            if obj and all(self.variable_values(v)[0] == varvals.get(v, [])
                           for v in obj.var_refs if v in varvals):
                return e
        return entries[0]

    def test_result(self, test_id: str) -> TestResult:
        got = self.test_results.get(test_id)
        if got is None:
            got = self.test_results[test_id] = self._evaluate_test(test_id)
        return got

    def _evaluate_test(self, test_id: str) -> TestResult:
        test = self.compiled.tests.get(test_id)
        if test is None:
            return TestResult(OvalResult.ERROR, [], [f"test {test_id} is not defined"])
        if test.problem:
            return TestResult(OvalResult.ERROR, [], [test.problem])
        entry = self._select_object(test)
        if entry is None:
            return TestResult(OvalResult.UNKNOWN, [],
                              [f"object {test.object_ref} was not collected"])
        flag, vinst, refs, obj_msgs, _vv = entry
        check_existence = test.check_existence
        check = test.check
        if check == Check.NONE_EXIST:  # deprecated: same as check_existence="none_exist"
            check_existence = Existence.NONE_EXIST
            check = Check.NONE_SATISFY
        if flag == Flag.ERROR:
            return TestResult(OvalResult.ERROR, [], list(obj_msgs) + [
                f"object {test.object_ref} has flag error"], vinst)
        if flag == Flag.NOT_COLLECTED:
            return TestResult(OvalResult.UNKNOWN, [], [], vinst)
        if flag == Flag.NOT_APPLICABLE:
            return TestResult(OvalResult.NOT_APPLICABLE, [], [], vinst)
        if flag == Flag.DOES_NOT_EXIST:
            res = OvalResult.TRUE if check_existence in (Existence.NONE_EXIST,
                                                         Existence.ANY_EXIST) else OvalResult.FALSE
            return TestResult(res, [], [], vinst)
        if flag not in (Flag.COMPLETE, Flag.INCOMPLETE):
            return TestResult(OvalResult.ERROR, [], [f"unknown collected object flag {flag!r}"],
                              vinst)
        ex = dne = er = nc = 0
        tested: list[tuple[str, OvalResult]] = []
        messages: list[str] = []
        item_counts = Counts()
        has_states = bool(test.state_refs)
        for ref in refs:
            item = self._items.get(ref)
            if item is None:
                er += 1
                messages.append(f"item {ref} is referenced but not in system_data")
                continue
            why = self._contradiction(test.object_ref or "", ref, item)
            if why:
                er += 1
                messages.append(why)
                tested.append((ref, OvalResult.ERROR))
                if has_states:
                    item_counts.add(OvalResult.ERROR)
                continue
            st = item.get("status") or ItemStatus.EXISTS
            if st == ItemStatus.EXISTS:
                ex += 1
                r = (self._item_result(test, ref, item) if has_states
                     else OvalResult.NOT_EVALUATED)
            elif st == ItemStatus.DOES_NOT_EXIST:
                dne += 1
                tested.append((ref, OvalResult.NOT_EVALUATED))
                continue
            elif st == ItemStatus.ERROR:
                er += 1
                r = OvalResult.ERROR if has_states else OvalResult.NOT_EVALUATED
            else:
                nc += 1
                r = OvalResult.UNKNOWN if has_states else OvalResult.NOT_EVALUATED
            tested.append((ref, r))
            if has_states:
                item_counts.add(r)
        # ExistenceEnumeration: for a test, all_exist is at_least_one_exists ("non-existent
        # items have no impact upon evaluation")
        ce = (Existence.AT_LEAST_ONE_EXISTS if check_existence == Existence.ALL_EXIST
              else check_existence)
        existence = existence_result(ce, ex, dne, er, nc)
        n_checked = item_counts.decided
        if flag == Flag.COMPLETE:
            if existence != OvalResult.TRUE or not has_states or n_checked == 0:
                return TestResult(existence, tested, messages, vinst)
            return TestResult(check_counts(check, item_counts), tested, messages, vinst)
        # incomplete: unknown, with the exceptions of the results-schema TestType documentation
        if check_existence == Existence.NONE_EXIST and ex >= 1:
            return TestResult(OvalResult.FALSE, tested, messages, vinst)
        if check_existence == Existence.ONLY_ONE_EXISTS and ex > 1:
            return TestResult(OvalResult.FALSE, tested, messages, vinst)
        if existence == OvalResult.TRUE and has_states and n_checked:
            cr = check_counts(check, item_counts)
            if cr == OvalResult.FALSE:
                return TestResult(OvalResult.FALSE, tested, messages, vinst)
            if check == Check.AT_LEAST_ONE and cr == OvalResult.TRUE:
                return TestResult(OvalResult.TRUE, tested, messages, vinst)
        return TestResult(OvalResult.UNKNOWN, tested, messages + [
            f"object {test.object_ref} was collected incompletely"], vinst)

    # ------------------------------------------------------------------ definitions
    def _definition(self, def_id: str) -> OvalResult:
        got = self.definition_results.get(def_id)
        if got is not None:
            return got
        spec = self.compiled.definitions.get(def_id)
        if spec is None:
            return OvalResult.ERROR
        if def_id in self._in_progress:
            self.definition_messages.setdefault(def_id, []).append(
                "extend_definition cycle")
            return OvalResult.ERROR
        self._in_progress.add(def_id)
        try:
            if spec.criteria is None:
                result = OvalResult.NOT_EVALUATED
            else:
                result = self._criteria(spec.criteria)
        finally:
            self._in_progress.discard(def_id)
        self.definition_results[def_id] = result
        return result

    def _criteria(self, node: CriteriaNode) -> OvalResult:
        if node.kind == "criterion":
            r = self.test_result(node.ref).result
        elif node.kind == "extend_definition":
            r = self._definition(node.ref)
            if node.ref not in self.compiled.definitions:
                self.definition_messages.setdefault(node.ref, [])
        else:
            c = Counts()
            for child in node.children:
                c.add(self._criteria(child))
            r = operator_counts(node.operator, c) if node.children else OvalResult.ERROR
        r = negate(r) if node.negate else r
        self.criteria_results[id(node)] = (r, node)
        return r

    def node_result(self, node: CriteriaNode) -> OvalResult:
        return self.criteria_results[id(node)][0]

    # ------------------------------------------------------------------ public
    def tests_of(self, def_id: str) -> list[str]:
        """Test ids reachable from a definition (through extend_definition too), in order."""
        out: list[str] = []
        seen: set[str] = set()

        def walk(node: CriteriaNode | None) -> None:
            if node is None:
                return
            if node.kind == "criterion":
                if node.ref not in out:
                    out.append(node.ref)
            elif node.kind == "extend_definition":
                if node.ref not in seen and node.ref in self.compiled.definitions:
                    seen.add(node.ref)
                    walk(self.compiled.definitions[node.ref].criteria)
            else:
                for ch in node.children:
                    walk(ch)

        spec = self.compiled.definitions.get(def_id)
        if spec is not None:
            seen.add(def_id)
            walk(spec.criteria)
        return out

    def evidence(self, def_id: str, outcome: OvalResult | None = None) -> list[TestEvidence]:
        """What caused the definition's result (or `outcome`, for a negated XCCDF check the
        same result read the other way): the tests whose results decide it, and in each the
        items, records and state entities that decide the test (`oval.logic.culprits`) —
        for check="none satisfy" the items that DO satisfy the state, for check="all" the
        ones that do not, for none_exist the items that exist, and so on through negated
        criteria, state_operator, state operator, entity_check and record fields."""
        if outcome is None:
            outcome = self._definition(def_id)
        blamed: dict[str, OvalResult] = {}
        self._blame_definition(def_id, outcome, blamed, set())
        out: list[TestEvidence] = []
        for tid, test_outcome in blamed.items():
            tr = self.test_result(tid)
            test = self.compiled.tests.get(tid)
            entry = self._select_object(test) if test and test.object_ref else None
            items = self._explain_test(test, tr, entry, test_outcome) if test else []
            out.append(TestEvidence(
                tid, test.comment if test else "", tr.result,
                test.check if test else "", test.check_existence if test else "",
                test.object_ref if test else None, entry.flag if entry else None, items,
                list(tr.messages) + [m for m in (entry.messages if entry else ())
                                     if m not in tr.messages]))
        return out

    def _blame_definition(self, def_id: str, outcome: OvalResult,
                          blamed: dict[str, OvalResult], seen: set[str]) -> None:
        spec = self.compiled.definitions.get(def_id)
        if spec is None or spec.criteria is None or def_id in seen:
            return
        seen.add(def_id)
        self._blame_criteria(spec.criteria, outcome, blamed, seen)

    def _blame_criteria(self, node: CriteriaNode, outcome: OvalResult,
                        blamed: dict[str, OvalResult], seen: set[str]) -> None:
        if node.negate:
            outcome = negate(outcome)
        if node.kind == "criterion":
            blamed.setdefault(node.ref, outcome)
        elif node.kind == "extend_definition":
            self._blame_definition(node.ref, outcome, blamed, seen)
        else:
            results = [self.criteria_results[id(ch)][0] if id(ch) in self.criteria_results
                       else self._criteria(ch) for ch in node.children]
            for i in culprits(node.operator, results, outcome):
                self._blame_criteria(node.children[i], results[i], blamed, seen)

    def _explain_test(self, test: TestSpec, tr: TestResult, entry: _Collected | None,
                      outcome: OvalResult) -> list[ItemEvidence]:
        """The items that decide `outcome` of the test (existence stage, then check)."""
        if entry is None or entry.flag not in (Flag.COMPLETE, Flag.INCOMPLETE):
            return []   # decided by the collected object's flag: the test says why
        flag = entry.flag
        check_existence, check = test.check_existence, test.check
        if check == Check.NONE_EXIST:
            check_existence, check = Existence.NONE_EXIST, Check.NONE_SATISFY
        statuses: dict[str, str] = {}
        for item_id, _r in tr.tested_items:
            item = self._items.get(item_id)
            statuses[item_id] = ((item.get("status") or ItemStatus.EXISTS) if item is not None
                                 else ItemStatus.ERROR)
            if self._contradicts(test, item_id):
                statuses[item_id] = ItemStatus.ERROR   # counted as an error (_evaluate_test)
        existing = [i for i, s in statuses.items() if s == ItemStatus.EXISTS]
        ex = len(existing)
        er = sum(1 for s in statuses.values() if s == ItemStatus.ERROR)
        nc = sum(1 for s in statuses.values() if s not in _KNOWN_STATUSES)
        dne = sum(1 for s in statuses.values() if s == ItemStatus.DOES_NOT_EXIST)
        ce = (Existence.AT_LEAST_ONE_EXISTS if check_existence == Existence.ALL_EXIST
              else check_existence)
        existence = existence_result(ce, ex, dne, er, nc)
        checked = [(i, r) for i, r in tr.tested_items if r != OvalResult.NOT_EVALUATED]
        has_states = bool(test.state_refs)

        def by_existence() -> list[ItemEvidence]:
            if outcome == OvalResult.FALSE and (
                    ce == Existence.NONE_EXIST or (ce == Existence.ONLY_ONE_EXISTS and ex >= 2)):
                return [self._existing_item(test, i, _exists_reason(check_existence))
                        for i in existing]
            if outcome == OvalResult.TRUE and not has_states:
                return [self._existing_item(test, i, f"it exists (check_existence "
                                                     f"'{check_existence}')") for i in existing]
            if outcome == OvalResult.ERROR:
                return [self._status_item(i, OvalResult.ERROR, test) for i, s in statuses.items()
                        if s == ItemStatus.ERROR]
            if outcome == OvalResult.UNKNOWN:
                return [self._status_item(i, OvalResult.UNKNOWN) for i, s in statuses.items()
                        if s not in _KNOWN_STATUSES]
            return []

        def by_check() -> list[ItemEvidence]:
            results = [r for _i, r in checked]
            return [self._explain_item(test, checked[k][0], results[k])
                    for k in culprits(check, results, outcome)]

        if flag == Flag.INCOMPLETE:
            if ((ce == Existence.NONE_EXIST and ex >= 1)
                    or (ce == Existence.ONLY_ONE_EXISTS and ex > 1)):
                return by_existence()
            if (existence == OvalResult.TRUE and has_states and checked
                    and outcome in (OvalResult.TRUE, OvalResult.FALSE)):
                return by_check()
            return []
        if existence != OvalResult.TRUE or not has_states or not checked:
            return by_existence()
        return by_check()

    def _existing_item(self, test: TestSpec, item_id: str, reason: str,
                       item: _Element | None = None) -> ItemEvidence:
        """An item blamed for existing; its records (other than the object's own entities
        echoed into it, e.g. a cmdlet's parameters and select) are the objects that exist."""
        if not self._streaming:
            return self._existing_item_of(test, item_id, reason, self._items.get(item_id))
        key = (test.id, item_id, reason)
        got = self._explained.get(key)
        if got is None:
            got = self._explained[key] = self._existing_item_of(
                test, item_id, reason, item if item is not None else self._real_item(item_id))
        return got

    def _existing_item_of(self, test: TestSpec, item_id: str, reason: str,
                          item: _Element | None) -> ItemEvidence:
        obj = self.compiled.objects.get(test.object_ref or "")
        echoed = {e.name for e in obj.entities} if obj is not None else set()
        records: list[RecordEvidence] = []
        if item is None:
            return ItemEvidence(item_id, ItemStatus.EXISTS, ItemStatus.EXISTS, records, [], [],
                                reason)
        for name, ents in self._entities_of(item_id, item).items():
            if name in echoed:
                continue
            for ie in ents:
                if ie.get("datatype") == "record":
                    records.append(RecordEvidence(_record_fields(ie), ItemStatus.EXISTS, []))
        return ItemEvidence(item_id, ItemStatus.EXISTS, ItemStatus.EXISTS, records, [], [],
                            reason)

    def _status_item(self, item_id: str, result: OvalResult,
                     test: TestSpec | None = None) -> ItemEvidence:
        item = self._items.get(item_id)
        if item is None:
            return ItemEvidence(item_id, ItemStatus.ERROR, result, [], [],
                                [f"item {item_id} is referenced but not in system_data"])
        why = self._contradicts(test, item_id) if test else None
        msgs = [why] if why else [_text(m) or "" for m in item if _local(m.tag) == "message"]
        return ItemEvidence(item_id, item.get("status") or ItemStatus.EXISTS, result, [], [],
                            msgs)

    def _explain_item(self, test: TestSpec, item_id: str, outcome: OvalResult,
                      real: _Element | None = None) -> ItemEvidence:
        item = self._items.get(item_id) if real is None else real
        status = (item.get("status") or ItemStatus.EXISTS) if item is not None else \
            ItemStatus.ERROR
        if (item is None or status != ItemStatus.EXISTS
                or self._contradicts(test, item_id)):
            return self._status_item(item_id, outcome, test)
        if not self._streaming:
            return self._explain_existing(test, item_id, outcome, item)
        key = (test.id, item_id, str(outcome))
        got = self._explained.get(key)
        if got is None:
            if real is None:
                real = self._real_item(item_id)
                assert real is not None
            got = self._explained[key] = self._explain_existing(test, item_id, outcome, real)
        return got

    def _explain_existing(self, test: TestSpec, item_id: str, outcome: OvalResult,
                          item: _Element) -> ItemEvidence:
        status = item.get("status") or ItemStatus.EXISTS
        ev = ItemEvidence(item_id, status, outcome, [], [],
                          [_text(m) or "" for m in item if _local(m.tag) == "message"])
        states = [self.compiled.states.get(sid) for sid in test.state_refs]
        results = [OvalResult.ERROR if st is None else self._state_result(st, item_id, item)
                   for st in states]
        records: dict[int, RecordEvidence] = {}
        for k in culprits(test.state_operator, results, outcome):
            st = states[k]
            if st is None:
                sid = test.state_refs[k]
                ev.failures.append(EntityFailure(sid, "", None, "", "", [], None, [],
                                                 OvalResult.ERROR, f"state {sid} is not defined"))
                continue
            ents = self._entities_of(item_id, item)
            e_results = [self._entity_result(st.id, ent, ents.get(ent.name, []))
                         for ent in st.entities]
            for j in culprits(st.operator, e_results, results[k]):
                ent = st.entities[j]
                self._explain_entity(st.id, ent, ents.get(ent.name, []), e_results[j], ev,
                                     records)
        return ev

    def _explain_entity(self, state_id: str, ent: EntitySpec, item_ents: list[_Element],
                        outcome: OvalResult, ev: ItemEvidence,
                        records: dict[int, RecordEvidence]) -> None:
        existence, (ex, dne, er, nc) = self._entity_existence(ent, item_ents)
        expected = self._expected(ent.var_ref, ent.value)
        if existence != OvalResult.TRUE:
            ev.failures.append(EntityFailure(
                state_id, ent.name, None, ent.operation, ent.datatype, expected, ent.var_ref,
                [_text(ie) or "" for ie in item_ents], existence,
                f"check_existence '{ent.check_existence}' not satisfied: {ex} exist, "
                f"{dne} do not exist, {er} error, {nc} not collected"))
            return
        counted = [(ie, r) for ie in item_ents
                   if (r := self._value_result(state_id, ent, ie)) is not None]
        for k in culprits(ent.entity_check, [r for _ie, r in counted], outcome):
            ie, r = counted[k]
            if ent.fields is not None and \
                    (ie.get("status") or ItemStatus.EXISTS) == ItemStatus.EXISTS:
                reasons: list[EntityFailure] = []
                f_results = [self._field_result(state_id, ent, spec, ie) for spec in ent.fields]
                for j in culprits(Operator.AND, f_results, r):
                    self._field_result(state_id, ent, ent.fields[j], ie, reasons)
                rec = records.get(id(ie))
                if rec is None:
                    rec = records[id(ie)] = RecordEvidence(_record_fields(ie), r, [])
                    ev.records.append(rec)
                rec.failures.extend(reasons)
            else:
                msgs: list[str] = []
                if (ie.get("status") or ItemStatus.EXISTS) == ItemStatus.EXISTS:
                    self._value_result(state_id, ent, ie, msgs)
                else:
                    msgs.append(f"collected entity status {ie.get('status')}")
                ev.failures.append(EntityFailure(
                    state_id, ent.name, None, ent.operation, ent.datatype, expected,
                    ent.var_ref, [_text(ie) or ""], r, "; ".join(msgs) or None))


def _exists_reason(check_existence: str) -> str:
    return f"it exists, and check_existence is '{check_existence}'"


def _record_fields(rec: _Element) -> dict[str, str]:
    fields: dict[str, str] = {}
    for f in rec:
        if _local(f.tag) == "field":
            fields.setdefault(f.get("name", ""), _text(f) or "")
    return fields


def _check_datatype(datatype: str, value: str) -> None:
    """Raise CompareError when a variable value does not fit its datatype."""
    if datatype == "int":
        to_int(value)
    elif datatype == "float":
        to_float(value)
    elif datatype == "boolean":
        to_boolean(value)
    elif datatype == "version":
        to_version(value)
