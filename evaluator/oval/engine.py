"""Pure OVAL 5.11.2 analysis engine: definitions + system characteristics → results.

    evaluation = evaluate(definitions_root, syschar_root, {"oval:x:var:1": ["^Tls$"]})
    evaluation.definition_results            # {def_id: OvalResult.TRUE | FALSE | UNKNOWN | ...}
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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


from stigscap.schemas.xmlio import element_text as _text

from .compare import CompareError, compile_comparison, compile_regex, to_boolean, \
    to_float, to_int, to_version
from .logic import (DOES_NOT_EXIST, ERROR, EXISTS, FALSE, NOT_APPLICABLE, NOT_COLLECTED,
                         NOT_EVALUATED, STATUS_ERROR, TRUE, UNKNOWN, Counts, check_counts,
                         culprits, existence_result, negate, operator_counts)

__all__ = ["evaluate", "compile_definitions", "CompiledDefinitions", "OvalEvaluation",
           "TestEvidence", "ItemEvidence", "RecordEvidence", "EntityFailure"]

_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


def _local(tag) -> str:
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
    comparison: object = None  # compiled comparison when no var_ref


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
    comparison: object = None


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
    entities: list = field(default_factory=list)   # EntitySpec list, for item search
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
    operator: str = "AND"
    ref: str = ""
    children: list["CriteriaNode"] = field(default_factory=list)


@dataclass
class DefinitionSpec:
    id: str
    version: str
    cls: str
    title: str
    criteria: CriteriaNode | None


def _entity_attrs(el) -> tuple[str, str, str | None, str, str]:
    g = el.get
    return (g("datatype") or "string", g("operation") or "equals", g("var_ref"),
            g("var_check") or "all", g("entity_check") or "all")


def _compile_state(el) -> StateSpec:
    entities: list[EntitySpec] = []
    for child in el:
        name = _local(child.tag)
        if not name or name in ("notes", "Signature"):
            continue
        datatype, op, var_ref, var_check, entity_check = _entity_attrs(child)
        fields = None
        if datatype == "record":
            fields = []
            for f in child:
                if _local(f.tag) != "field":
                    continue
                fdt, fop, fvar, fvc, fec = _entity_attrs(f)
                spec = FieldSpec(f.get("name") or "", fdt, fop, _text(f), fvar, fvc, fec,
                                 _truthy(f.get("mask")) or _truthy(child.get("mask")))
                if not fvar:
                    spec.comparison = compile_comparison(fdt, fop, spec.value or "")
                fields.append(spec)
        value = None if fields is not None else _text(child)   # a record's value is its fields
        spec = EntitySpec(name, datatype, op, value, var_ref, var_check, entity_check,
                          child.get("check_existence") or "at_least_one_exists",
                          _truthy(child.get("mask")), _truthy(child.get(_XSI_NIL)), fields)
        if fields is None and not var_ref:
            spec.comparison = compile_comparison(datatype, op, spec.value or "")
        entities.append(spec)
    return StateSpec(el.get("id"), el.get("version") or "1", el.get("operator") or "AND",
                     entities)


def _compile_object(el) -> ObjectSpec:
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
    spec = ObjectSpec(el.get("id"), el.get("version") or "1", var_refs, masked)
    local = _local(el.tag)
    spec.item_name = local[:-len("_object")] + "_item" if local.endswith("_object") else ""
    for child in el:
        name = _local(child.tag)
        if name in ("set", "filter"):
            spec.unsupported = f"object uses <{name}>"
        elif name == "behaviors":
            spec.unsupported = "object uses <behaviors>"
    if spec.unsupported is None:
        spec.entities = [e for e in _compile_state(el).entities]
    return spec


def _compile_test(el) -> TestSpec:
    object_ref = None
    state_refs: list[str] = []
    for child in el:
        name = _local(child.tag)
        if name == "object":
            object_ref = child.get("object_ref")
        elif name == "state":
            state_refs.append(child.get("state_ref"))
    check = el.get("check") or "all"
    check_existence = el.get("check_existence") or "at_least_one_exists"
    problem = None
    if object_ref is None:
        problem = "test has no object reference"
    return TestSpec(el.get("id"), el.get("version") or "1", el.get("comment") or "",
                    check_existence, check, el.get("state_operator") or "AND", object_ref,
                    state_refs, problem)


def _compile_criteria(el) -> CriteriaNode:
    kind = _local(el.tag)
    node = CriteriaNode(kind, _truthy(el.get("negate")), el.get("applicability_check"))
    if kind == "criteria":
        node.operator = el.get("operator") or "AND"
        for child in el:
            if _local(child.tag) in ("criteria", "criterion", "extend_definition"):
                node.children.append(_compile_criteria(child))
    elif kind == "criterion":
        node.ref = el.get("test_ref")
    else:
        node.ref = el.get("definition_ref")
    return node


class CompiledDefinitions:
    """An indexed `oval_definitions` document, reusable across many system characteristics."""

    def __init__(self, definitions_root):
        root = definitions_root.getroot() if hasattr(definitions_root, "getroot") \
            else definitions_root
        if _local(root.tag) != "oval_definitions":
            raise ValueError("not an oval_definitions document")
        self.root = root
        self.definitions: dict[str, DefinitionSpec] = {}
        self.tests: dict[str, TestSpec] = {}
        self.objects: dict[str, ObjectSpec] = {}
        self.states: dict[str, StateSpec] = {}
        self.variables: dict[str, object] = {}
        self.variable_elements: dict[str, object] = {}
        for section in root:
            sname = _local(section.tag)
            for el in section:
                if not isinstance(el.tag, str):
                    continue
                eid = el.get("id")
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

    def evaluate(self, syschar_root, external_variables: Mapping[str, Sequence[str]] | None
                 = None, *, not_evaluated: Mapping[str, str] | None = None) -> "OvalEvaluation":
        """`not_evaluated`: definition id → why; those definitions are not analysed and get
        the result 'not evaluated' with that message (e.g. an XCCDF rule that is notchecked)."""
        return OvalEvaluation(self, syschar_root, external_variables or {}, not_evaluated)


def compile_definitions(definitions_root) -> CompiledDefinitions:
    return CompiledDefinitions(definitions_root)


def evaluate(definitions_root, syschar_root,
             external_variables: Mapping[str, Sequence[str]] | None = None) -> "OvalEvaluation":
    """Analyse every definition of `definitions_root` against `syschar_root`."""
    if isinstance(definitions_root, CompiledDefinitions):
        return definitions_root.evaluate(syschar_root, external_variables)
    return CompiledDefinitions(definitions_root).evaluate(syschar_root, external_variables)


# ====================================================================== evidence

@dataclass
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
    result: str                 # false / error / unknown
    message: str | None = None


@dataclass
class RecordEvidence:
    fields: dict[str, str]      # every field of the collected record (first value per name)
    result: str                 # the record's result against the state entity
    failures: list[EntityFailure]   # the field comparisons that decide it


@dataclass
class ItemEvidence:
    item_id: str
    status: str
    result: str
    records: list[RecordEvidence]      # records that decide it (e.g. connectors)
    failures: list[EntityFailure]      # simple entities that decide it
    messages: list[str]
    reason: str | None = None          # blamed for existing (check_existence), not a state


@dataclass
class TestEvidence:
    test_id: str
    comment: str
    result: str
    check: str
    check_existence: str
    object_id: str | None
    object_flag: str | None
    items: list[ItemEvidence]          # the items that decide the test's result
    messages: list[str]


# ====================================================================== evaluation

@dataclass
class TestResult:
    result: str
    tested_items: list[tuple[str, str]]
    messages: list[str]
    variable_instance: str | None = None


class OvalEvaluation:
    def __init__(self, compiled: CompiledDefinitions, syschar_root,
                 external_variables: Mapping[str, Sequence[str]],
                 not_evaluated: Mapping[str, str] | None = None):
        sc = syschar_root.getroot() if hasattr(syschar_root, "getroot") else syschar_root
        self.compiled = compiled
        self.syschar = sc
        self.external_variables = external_variables
        self._objects: dict[str, list[tuple[str, str | None, list[str], list[str], dict]]] = {}
        self._items: dict[str, object] = {}
        self._item_entities: dict[str, dict[str, list]] = {}
        self.has_collected_objects = False
        self._index_syschar(sc)
        self._var_cache: dict[str, tuple[list[str], str | None]] = {}
        self._comp_cache: dict[tuple, object] = {}
        self._field_comps: dict[int, tuple] = {}
        self.test_results: dict[str, TestResult] = {}
        self.criteria_results: dict[str, tuple[str, object]] = {}
        self.definition_results: dict[str, str] = {}
        self.definition_messages: dict[str, list[str]] = {}
        self._in_progress: set[str] = set()
        # definitions the caller asked not to analyse (reported 'not evaluated', with why)
        self.skipped: dict[str, str] = {d: why for d, why in (not_evaluated or {}).items()
                                        if d in compiled.definitions}
        for def_id in compiled.definition_order:
            if def_id not in self.skipped:
                self._definition(def_id)
        for def_id, why in self.skipped.items():
            # (one that another definition extends was analysed for it; still reported so)
            self.definition_results[def_id] = NOT_EVALUATED
            self.definition_messages.setdefault(def_id, []).append(why)

    # ------------------------------------------------------------------ syschar
    def _index_syschar(self, sc) -> None:
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
                            refs.append(c.get("item_ref"))
                        elif ln == "message":
                            msgs.append(_text(c) or "")
                        elif ln == "variable_value":
                            varvals.setdefault(c.get("variable_id"), []).append(_text(c) or "")
                    self._objects.setdefault(obj.get("id"), []).append(
                        (obj.get("flag") or "complete", obj.get("variable_instance"), refs, msgs,
                         varvals))
            elif sname == "system_data":
                for item in section:
                    if isinstance(item.tag, str):
                        self._items[item.get("id")] = item

    def _entities_of(self, item_id: str, item) -> dict[str, list]:
        got = self._item_entities.get(item_id)
        if got is None:
            got = {}
            for c in item:
                tag = c.tag
                if isinstance(tag, str):
                    got.setdefault(tag.rpartition("}")[2], []).append(c)
            self._item_entities[item_id] = got
        return got

    # ------------------------------------------------------------------ variables
    def variable_values(self, var_id: str) -> tuple[list[str], str | None]:
        """(values, error message or None) of a variable for this evaluation."""
        got = self._var_cache.get(var_id)
        if got is not None:
            return got
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
            vals = self.external_variables[var_id]
            if isinstance(vals, str):
                vals = [vals]
            vals = [str(v) for v in vals]
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

    def _check_possible(self, el, datatype: str, value: str) -> str | None:
        pv = [c for c in el if _local(c.tag) == "possible_value"]
        pr = [c for c in el if _local(c.tag) == "possible_restriction"]
        if not pv and not pr:
            return None
        for c in pv:
            if compile_comparison(datatype, "equals", _text(c) or "")(value):
                return None
        for r in pr:
            results = []
            for rest in r:
                if _local(rest.tag) != "restriction":
                    continue
                try:
                    ok = compile_comparison(datatype, rest.get("operation") or "equals",
                                            _text(rest) or "")(value)
                    results.append(TRUE if ok else FALSE)
                except CompareError:
                    results.append(ERROR)
            if operator_counts(r.get("operator") or "AND", Counts.of(results)) == TRUE:
                return None
        return f"value {value!r} is not allowed for external variable {el.get('id')}"

    def _component(self, c) -> tuple[list[str], str | None]:
        kind = _local(c.tag)
        if kind == "literal_component":
            return [_text(c) or ""], None
        if kind == "variable_component":
            return self.variable_values(c.get("var_ref"))
        if kind == "object_component":
            return self._object_component(c)
        subs = [s for s in c if isinstance(s.tag, str)]
        if kind in ("concat", "count", "unique", "escape_regex", "begin", "end", "substring",
                    "split", "regex_capture"):
            parts = []
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
                import re as _re
                return [_re.sub(r"([\^$.|?*+()\[\]{}\\])", r"\\\1", v) for v in flat], None
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

    def _object_component(self, c) -> tuple[list[str], str | None]:
        obj_id = c.get("object_ref")
        item_field = c.get("item_field")
        record_field = c.get("record_field")
        if not self.has_collected_objects and obj_id not in self._objects:
            found = self._search_object(obj_id)
            self._objects[obj_id] = [found] if found else []
        entries = self._objects.get(obj_id)
        if not entries:
            return [], f"object {obj_id} was not collected"
        flag, _vi, refs, _m, _vv = entries[0]
        if flag == "error":
            return [], f"object {obj_id} has flag error"
        out: list[str] = []
        for ref in refs:
            item = self._items.get(ref)
            if item is None or (item.get("status") or EXISTS) != EXISTS:
                continue
            for ent in self._entities_of(ref, item).get(item_field, ()):
                if (ent.get("status") or EXISTS) != EXISTS:
                    continue
                if record_field:
                    out.extend(_text(f) or "" for f in ent
                               if _local(f.tag) == "field" and f.get("name") == record_field
                               and (f.get("status") or EXISTS) == EXISTS)
                elif any(isinstance(c.tag, str) for c in ent):
                    return [], (f"object_component: {item_field} of object {obj_id} is a "
                                "record; it needs a record_field")
                else:
                    out.append(_text(ent) or "")
        return out, None

    # ------------------------------------------------------------------ comparisons
    def _values_result(self, datatype: str, operation: str, var_ref: str | None,
                       var_check: str, comparison, text: str, stated: str | None,
                       trace_msg: list | None) -> str:
        """Compare one collected value with the stated value or the variable's values."""
        if not var_ref:
            try:
                return TRUE if comparison(text) else FALSE
            except CompareError as exc:
                if trace_msg is not None:
                    trace_msg.append(str(exc))
                return ERROR
        vals, msg = self.variable_values(var_ref)
        if msg or not vals:
            if trace_msg is not None:
                trace_msg.append(msg or f"variable {var_ref} has no value")
            return ERROR
        c = Counts()
        for v in vals:
            key = (datatype, operation, v)
            comp = self._comp_cache.get(key)
            if comp is None:
                comp = self._comp_cache[key] = compile_comparison(datatype, operation, v)
            try:
                c.add(TRUE if comp(text) else FALSE)
            except CompareError as exc:
                if trace_msg is not None:
                    trace_msg.append(str(exc))
                c.add(ERROR)
        return check_counts(var_check, c)

    def _expected(self, var_ref: str | None, stated: str | None) -> list[str]:
        if var_ref:
            return list(self.variable_values(var_ref)[0])
        return [stated or ""]

    def _field_result(self, state_id: str, ent: EntitySpec, spec: FieldSpec, rec,
                      failures: list | None = None) -> str:
        """One state record field against a collected record; with `failures`, the comparison
        (values, expectation, result, messages) is appended to it for evidence."""
        matches = [f for f in rec if f.get("name") == spec.name and _local(f.tag) == "field"]
        msgs: list[str] | None = [] if failures is not None else None
        if not matches:
            result = ERROR
            if msgs is not None:
                msgs.append(f"field '{spec.name}' is not in the collected record")
        else:
            c = Counts()
            for f in matches:
                st = f.get("status") or EXISTS
                if st == EXISTS:
                    c.add(self._values_result(spec.datatype, spec.operation, spec.var_ref,
                                              spec.var_check, spec.comparison, _text(f) or "",
                                              None, msgs))
                elif st == STATUS_ERROR:
                    c.add(ERROR)
                elif st == NOT_COLLECTED:
                    c.add(UNKNOWN)
            result = check_counts(spec.entity_check, c) if c.decided else ERROR
            if msgs is not None and result == ERROR and not c.decided:
                msgs.append(f"field '{spec.name}' has no collected value")
        if failures is not None:
            failures.append(EntityFailure(
                state_id, ent.name, spec.name, spec.operation, spec.datatype,
                self._expected(spec.var_ref, spec.value), spec.var_ref,
                [_text(f) or "" for f in matches], result, "; ".join(msgs) if msgs else None))
        return result

    def _field_comparisons(self, spec: FieldSpec):
        """(comparisons, error message) for a field in this evaluation (variables resolved)."""
        key = id(spec)
        got = self._field_comps.get(key)
        if got is None:
            if not spec.var_ref:
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

    def _record_fast(self, state_id: str, ent: EntitySpec, rec) -> str:
        """One record against the state's fields, no tracing (the per-connector hot path)."""
        c = None
        for spec in ent.fields:
            name = spec.name
            found = None
            multi = False
            for f in rec:
                if f.get("name") == name:
                    if found is not None:
                        multi = True
                        break
                    found = f
            comps, err = self._field_comparisons(spec)
            if (found is None or multi or err or len(comps) != 1
                    or spec.var_check == "none satisfy" or spec.entity_check == "none satisfy"
                    or found.get("status") not in (None, EXISTS)):
                r = self._field_result(state_id, ent, spec, rec)
            else:
                try:
                    # inline fast path of element_text: a field without children
                    text = found.text if not len(found) else _text(found)
                    r = TRUE if comps[0](text or "") else FALSE
                except CompareError:
                    r = ERROR
            if r == FALSE:
                return FALSE
            if r != TRUE:
                if c is None:
                    c = Counts()
                c.add(r)
        return TRUE if c is None else operator_counts("AND", c)

    def _record_result(self, state_id: str, ent: EntitySpec, rec) -> str:
        if ent.fields:
            return self._record_fast(state_id, ent, rec)
        return TRUE

    def _entity_existence(self, ent: EntitySpec, item_ents: list) -> tuple[str, tuple]:
        ex = dne = er = nc = 0
        for ie in item_ents:
            st = ie.get("status")
            if st is None or st == EXISTS:
                ex += 1
            elif st == DOES_NOT_EXIST:
                dne += 1
            elif st == STATUS_ERROR:
                er += 1
            else:
                nc += 1
        return existence_result(ent.check_existence, ex, dne, er, nc), (ex, dne, er, nc)

    def _value_result(self, state_id: str, ent: EntitySpec, ie,
                      msgs: list | None = None) -> str | None:
        """One collected entity value (or record) against the state entity; None when it
        does not count (status 'does not exist')."""
        st = ie.get("status") or EXISTS
        if st == EXISTS:
            if ent.fields is not None:
                return self._record_result(state_id, ent, ie)
            if ie.get(_XSI_NIL) in ("true", "1") and not ent.nil:
                if msgs is not None:
                    msgs.append("collected entity is nil")
                return ERROR
            return self._values_result(ent.datatype, ent.operation, ent.var_ref,
                                       ent.var_check, ent.comparison, _text(ie) or "",
                                       ent.value, msgs)
        if st == STATUS_ERROR:
            return ERROR
        if st == NOT_COLLECTED:
            return UNKNOWN
        return None

    def _entity_result(self, state_id: str, ent: EntitySpec, item_ents: list) -> str:
        existence, _counts = self._entity_existence(ent, item_ents)
        if existence != TRUE:
            return existence
        c = Counts()
        for ie in item_ents:
            r = self._value_result(state_id, ent, ie)
            if r is not None:
                c.add(r)
        if not c.total:
            return TRUE
        return check_counts(ent.entity_check, c)

    def _state_result(self, state: StateSpec, item_id: str, item) -> str:
        if not state.entities:
            return TRUE
        ents = self._entities_of(item_id, item)
        c = Counts()
        for ent in state.entities:
            c.add(self._entity_result(state.id, ent, ents.get(ent.name, [])))
        return operator_counts(state.operator, c)

    def _item_result(self, test: TestSpec, item_id: str, item) -> str:
        c = Counts()
        for sid in test.state_refs:
            st = self.compiled.states.get(sid)
            c.add(ERROR if st is None else self._state_result(st, item_id, item))
        return operator_counts(test.state_operator, c)

    # ------------------------------------------------------------------ tests
    def _search_object(self, obj_id: str):
        """No collected_objects section: find the object's items in system_data (spec:
        "the evaluation engine must search the system characteristics for all Items that
        match the OVAL Object")."""
        obj = self.compiled.objects.get(obj_id)
        if obj is None:
            return None
        if obj.unsupported:
            return ("error", None, [], [f"{obj.unsupported}; it cannot be analysed without "
                                        "collected_objects in the system characteristics"], {})
        refs: list[str] = []
        for item_id, item in self._items.items():
            if _local(item.tag) != obj.item_name:
                continue
            ents = self._entities_of(item_id, item)
            ok = True
            for ent in obj.entities:
                if ent.nil:
                    continue  # xsi:nil on an object entity: any value
                got = ents.get(ent.name, [])
                if not got:
                    ok = False
                    break
                if self._entity_result(obj_id, ent, got) != TRUE:
                    ok = False
                    break
            if ok:
                refs.append(item_id)
        return ("complete" if refs else "does not exist", None, refs, [], {})

    def _select_object(self, test: TestSpec):
        if not self.has_collected_objects:
            if test.object_ref not in self._objects:
                found = self._search_object(test.object_ref)
                self._objects[test.object_ref] = [found] if found else []
        entries = self._objects.get(test.object_ref)
        if not entries:
            return None
        if len(entries) == 1:
            return entries[0]
        obj = self.compiled.objects.get(test.object_ref)
        for e in entries:
            varvals = e[4]
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
            return TestResult(ERROR, [], [f"test {test_id} is not defined"])
        if test.problem:
            return TestResult(ERROR, [], [test.problem])
        entry = self._select_object(test)
        if entry is None:
            return TestResult(UNKNOWN, [], [f"object {test.object_ref} was not collected"])
        flag, vinst, refs, obj_msgs, _vv = entry
        check_existence = test.check_existence
        check = test.check
        if check == "none exist":  # deprecated: same as check_existence="none_exist"
            check_existence = "none_exist"
            check = "none satisfy"
        if flag == "error":
            return TestResult(ERROR, [], list(obj_msgs) + [
                f"object {test.object_ref} has flag error"], vinst)
        if flag == "not collected":
            return TestResult(UNKNOWN, [], [], vinst)
        if flag == "not applicable":
            return TestResult(NOT_APPLICABLE, [], [], vinst)
        if flag == "does not exist":
            res = TRUE if check_existence in ("none_exist", "any_exist") else FALSE
            return TestResult(res, [], [], vinst)
        if flag not in ("complete", "incomplete"):
            return TestResult(ERROR, [], [f"unknown collected object flag {flag!r}"], vinst)
        ex = dne = er = nc = 0
        tested: list[tuple[str, str]] = []
        messages: list[str] = []
        item_counts = Counts()
        has_states = bool(test.state_refs)
        for ref in refs:
            item = self._items.get(ref)
            if item is None:
                er += 1
                messages.append(f"item {ref} is referenced but not in system_data")
                continue
            st = item.get("status") or EXISTS
            if st == EXISTS:
                ex += 1
                r = self._item_result(test, ref, item) if has_states else NOT_EVALUATED
            elif st == DOES_NOT_EXIST:
                dne += 1
                tested.append((ref, NOT_EVALUATED))
                continue
            elif st == STATUS_ERROR:
                er += 1
                r = ERROR if has_states else NOT_EVALUATED
            else:
                nc += 1
                r = UNKNOWN if has_states else NOT_EVALUATED
            tested.append((ref, r))
            if has_states:
                item_counts.add(r)
        # ExistenceEnumeration: for a test, all_exist is at_least_one_exists ("non-existent
        # items have no impact upon evaluation")
        ce = "at_least_one_exists" if check_existence == "all_exist" else check_existence
        existence = existence_result(ce, ex, dne, er, nc)
        n_checked = item_counts.decided
        if flag == "complete":
            if existence != TRUE or not has_states or n_checked == 0:
                return TestResult(existence, tested, messages, vinst)
            return TestResult(check_counts(check, item_counts), tested, messages, vinst)
        # incomplete: unknown, with the exceptions of the results-schema TestType documentation
        if check_existence == "none_exist" and ex >= 1:
            return TestResult(FALSE, tested, messages, vinst)
        if check_existence == "only_one_exists" and ex > 1:
            return TestResult(FALSE, tested, messages, vinst)
        if existence == TRUE and has_states and n_checked:
            cr = check_counts(check, item_counts)
            if cr == FALSE:
                return TestResult(FALSE, tested, messages, vinst)
            if check == "at least one" and cr == TRUE:
                return TestResult(TRUE, tested, messages, vinst)
        return TestResult(UNKNOWN, tested, messages + [
            f"object {test.object_ref} was collected incompletely"], vinst)

    # ------------------------------------------------------------------ definitions
    def _definition(self, def_id: str) -> str:
        got = self.definition_results.get(def_id)
        if got is not None:
            return got
        spec = self.compiled.definitions.get(def_id)
        if spec is None:
            return ERROR
        if def_id in self._in_progress:
            self.definition_messages.setdefault(def_id, []).append(
                "extend_definition cycle")
            return ERROR
        self._in_progress.add(def_id)
        try:
            if spec.criteria is None:
                result = NOT_EVALUATED
            else:
                result = self._criteria(spec.criteria)
        finally:
            self._in_progress.discard(def_id)
        self.definition_results[def_id] = result
        return result

    def _criteria(self, node: CriteriaNode) -> str:
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
            r = operator_counts(node.operator, c) if node.children else ERROR
        r = negate(r) if node.negate else r
        self.criteria_results[id(node)] = (r, node)
        return r

    def node_result(self, node: CriteriaNode) -> str:
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

    def evidence(self, def_id: str, outcome: str | None = None) -> list[TestEvidence]:
        """What caused the definition's result (or `outcome`, for a negated XCCDF check the
        same result read the other way): the tests whose results decide it, and in each the
        items, records and state entities that decide the test (`oval.logic.culprits`) —
        for check="none satisfy" the items that DO satisfy the state, for check="all" the
        ones that do not, for none_exist the items that exist, and so on through negated
        criteria, state_operator, state operator, entity_check and record fields."""
        if outcome is None:
            outcome = self._definition(def_id)
        blamed: dict[str, str] = {}
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
                test.object_ref if test else None, entry[0] if entry else None, items,
                list(tr.messages) + [m for m in (entry[3] if entry else ())
                                     if m not in tr.messages]))
        return out

    def _blame_definition(self, def_id: str, outcome: str, blamed: dict[str, str],
                          seen: set[str]) -> None:
        spec = self.compiled.definitions.get(def_id)
        if spec is None or spec.criteria is None or def_id in seen:
            return
        seen.add(def_id)
        self._blame_criteria(spec.criteria, outcome, blamed, seen)

    def _blame_criteria(self, node: CriteriaNode, outcome: str, blamed: dict[str, str],
                        seen: set[str]) -> None:
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

    def _explain_test(self, test: TestSpec, tr: TestResult, entry, outcome: str
                      ) -> list[ItemEvidence]:
        """The items that decide `outcome` of the test (existence stage, then check)."""
        if entry is None or entry[0] not in ("complete", "incomplete"):
            return []   # decided by the collected object's flag: the test says why
        flag = entry[0]
        check_existence, check = test.check_existence, test.check
        if check == "none exist":
            check_existence, check = "none_exist", "none satisfy"
        statuses: dict[str, str] = {}
        for item_id, _r in tr.tested_items:
            item = self._items.get(item_id)
            statuses[item_id] = (item.get("status") or EXISTS) if item is not None else ERROR
        existing = [i for i, s in statuses.items() if s == EXISTS]
        ex = len(existing)
        er = sum(1 for s in statuses.values() if s == STATUS_ERROR)
        nc = sum(1 for s in statuses.values() if s not in (EXISTS, DOES_NOT_EXIST, STATUS_ERROR))
        dne = sum(1 for s in statuses.values() if s == DOES_NOT_EXIST)
        ce = "at_least_one_exists" if check_existence == "all_exist" else check_existence
        existence = existence_result(ce, ex, dne, er, nc)
        checked = [(i, r) for i, r in tr.tested_items if r != NOT_EVALUATED]
        has_states = bool(test.state_refs)

        def by_existence() -> list[ItemEvidence]:
            if outcome == FALSE and (ce == "none_exist" or (ce == "only_one_exists" and ex >= 2)):
                return [self._existing_item(test, i, f"it exists, and check_existence is "
                                                     f"'{check_existence}'") for i in existing]
            if outcome == TRUE and not has_states:
                return [self._existing_item(test, i, f"it exists (check_existence "
                                                     f"'{check_existence}')") for i in existing]
            if outcome == ERROR:
                return [self._status_item(i, ERROR) for i, s in statuses.items()
                        if s == STATUS_ERROR]
            if outcome == UNKNOWN:
                return [self._status_item(i, UNKNOWN) for i, s in statuses.items()
                        if s not in (EXISTS, DOES_NOT_EXIST, STATUS_ERROR)]
            return []

        def by_check() -> list[ItemEvidence]:
            results = [r for _i, r in checked]
            return [self._explain_item(test, checked[k][0], results[k])
                    for k in culprits(check, results, outcome)]

        if flag == "incomplete":
            if (ce == "none_exist" and ex >= 1) or (ce == "only_one_exists" and ex > 1):
                return by_existence()
            if existence == TRUE and has_states and checked and outcome in (TRUE, FALSE):
                return by_check()
            return []
        if existence != TRUE or not has_states or not checked:
            return by_existence()
        return by_check()

    def _existing_item(self, test: TestSpec, item_id: str, reason: str) -> ItemEvidence:
        """An item blamed for existing; its records (other than the object's own entities
        echoed into it, e.g. a cmdlet's parameters and select) are the objects that exist."""
        item = self._items.get(item_id)
        obj = self.compiled.objects.get(test.object_ref or "")
        echoed = {e.name for e in obj.entities} if obj is not None else set()
        records = []
        for name, ents in (self._entities_of(item_id, item).items() if item is not None else ()):
            if name in echoed:
                continue
            for ie in ents:
                if ie.get("datatype") == "record":
                    records.append(RecordEvidence(_record_fields(ie), EXISTS, []))
        return ItemEvidence(item_id, EXISTS, EXISTS, records, [], [], reason)

    def _status_item(self, item_id: str, result: str) -> ItemEvidence:
        item = self._items.get(item_id)
        status = (item.get("status") or EXISTS) if item is not None else ERROR
        msgs = [_text(m) or "" for m in item if _local(m.tag) == "message"] \
            if item is not None else [f"item {item_id} is referenced but not in system_data"]
        return ItemEvidence(item_id, status, result, [], [], msgs)

    def _explain_item(self, test: TestSpec, item_id: str, outcome: str) -> ItemEvidence:
        item = self._items.get(item_id)
        status = (item.get("status") or EXISTS) if item is not None else ERROR
        if status != EXISTS:
            return self._status_item(item_id, outcome)
        ev = ItemEvidence(item_id, status, outcome, [], [],
                          [_text(m) or "" for m in item if _local(m.tag) == "message"])
        states = [self.compiled.states.get(sid) for sid in test.state_refs]
        results = [ERROR if st is None else self._state_result(st, item_id, item)
                   for st in states]
        records: dict[int, RecordEvidence] = {}
        for k in culprits(test.state_operator, results, outcome):
            st = states[k]
            if st is None:
                sid = test.state_refs[k]
                ev.failures.append(EntityFailure(sid, "", None, "", "", [], None, [], ERROR,
                                                 f"state {sid} is not defined"))
                continue
            ents = self._entities_of(item_id, item)
            e_results = [self._entity_result(st.id, ent, ents.get(ent.name, []))
                         for ent in st.entities]
            for j in culprits(st.operator, e_results, results[k]):
                ent = st.entities[j]
                self._explain_entity(st.id, ent, ents.get(ent.name, []), e_results[j], ev,
                                     records)
        return ev

    def _explain_entity(self, state_id: str, ent: EntitySpec, item_ents: list, outcome: str,
                        ev: ItemEvidence, records: dict[int, RecordEvidence]) -> None:
        existence, (ex, dne, er, nc) = self._entity_existence(ent, item_ents)
        expected = self._expected(ent.var_ref, ent.value)
        if existence != TRUE:
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
            if ent.fields is not None and (ie.get("status") or EXISTS) == EXISTS:
                reasons: list[EntityFailure] = []
                f_results = [self._field_result(state_id, ent, spec, ie) for spec in ent.fields]
                for j in culprits("AND", f_results, r):
                    self._field_result(state_id, ent, ent.fields[j], ie, reasons)
                rec = records.get(id(ie))
                if rec is None:
                    rec = records[id(ie)] = RecordEvidence(_record_fields(ie), r, [])
                    ev.records.append(rec)
                rec.failures.extend(reasons)
            else:
                msgs: list[str] = []
                if (ie.get("status") or EXISTS) == EXISTS:
                    self._value_result(state_id, ent, ie, msgs)
                else:
                    msgs.append(f"collected entity status {ie.get('status')}")
                ev.failures.append(EntityFailure(
                    state_id, ent.name, None, ent.operation, ent.datatype, expected,
                    ent.var_ref, [_text(ie) or ""], r, "; ".join(msgs) or None))


def _record_fields(rec) -> dict[str, str]:
    fields: dict[str, str] = {}
    for f in rec:
        if _local(f.tag) == "field":
            fields.setdefault(f.get("name"), _text(f) or "")
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
