"""Content machine checks → OVAL 5.11.2 definitions (compliance and platform inventory)."""

from __future__ import annotations

from dataclasses import dataclass

from stigscap.content.model import (FILE_RIGHTS_STATE_ENTITIES, Applicability, Benchmark,
                                    CmdletObject, FileRightsObject, MachineCheck, Platform,
                                    RegistryObject, Rule, XccdfValue)
from stigscap.schemas.errors import StigscapError

from .ids import IdScheme
from .render import render

PRODUCT = "stigscap"
# state entities in the order each schema wants them (cmdlet states hold one record)
_ENTITY_ORDER = {"registry": ("type", "value"),
                 "fileeffectiverights53": FILE_RIGHTS_STATE_ENTITIES}


@dataclass(frozen=True)
class OvalIds:
    """The OVAL ids one definition uses (so XCCDF and tests can name them)."""

    definition: str
    tests: tuple[str, ...]
    variables: dict[tuple[int, str], str]  # (test index, property lower) -> var id


def _param_text(v) -> tuple[str, str]:
    if isinstance(v, bool):
        return ("true" if v else "false"), "boolean"
    if isinstance(v, int):
        return str(v), "int"
    return str(v), "string"


def _var_id(ids: IdScheme, sub: int, n: int, var_ids: dict[tuple[int, str], str],
            local_ids: list[tuple[int, str]]) -> str:
    """Variable ids of test `sub`: the first is `sub`, the next `sub*10+1`, ... (external and
    local variables counted together)."""
    k = sum(1 for key in var_ids if key[0] == n) + sum(1 for t, _ in local_ids if t == n)
    return ids.oval("var", sub if k == 0 else sub * 10 + k)


def _definition(ids: IdScheme, number: int, cls: str, title: str, description: str,
                check: MachineCheck, references: list[dict], values: list[XccdfValue],
                view: dict) -> OvalIds:
    def_id = ids.oval("def", number)
    test_ids: list[str] = []
    var_ids: dict[tuple[int, str], str] = {}
    local_ids: list[tuple[int, str]] = []
    criteria = []
    for n, test in enumerate(check.tests, start=1):
        sub = number * 100 + n
        tid, oid = ids.oval("tst", sub), ids.oval("obj", sub)
        test_ids.append(tid)
        obj = test.object
        kind = ("registry" if isinstance(obj, RegistryObject) else
                "fileeffectiverights53" if isinstance(obj, FileRightsObject) else "cmdlet")
        if isinstance(obj, FileRightsObject):
            view["objects"].append({
                "id": oid, "kind": kind, "comment": f"trustees of {obj.shown}",
                "path": obj.path, "filename": obj.filename, "trustee_sid": obj.trustee_sid,
                "trustee_operation": obj.trustee_operation})
        elif isinstance(obj, RegistryObject):
            view["objects"].append({
                "id": oid, "kind": kind, "comment": f"registry value {obj.shown}",
                "hive": obj.hive, "key": obj.key, "name": obj.name})
        else:
            view["objects"].append({
                "id": oid, "kind": kind,
                "comment": f"{obj.cmdlet} | Select-Object {', '.join(obj.select)}",
                "module": obj.module, "verb": obj.verb, "noun": obj.noun,
                "parameters": [dict(zip(("value", "datatype"), _param_text(v)), name=k.lower())
                               for k, v in obj.parameters.items()],
                "select": list(obj.select),
            })
        state_ids = []
        for k, state in enumerate(test.states):
            sid = ids.oval("ste", sub if k == 0 else sub * 10 + k)
            state_ids.append(sid)
            fields = []
            for f in state.fields:
                field = {"name": f.property.lower(), "datatype": f.datatype,
                         "operation": f.operation, "entity_check": f.entity_check,
                         "value": f.value, "var_ref": None}
                if f.value_ref:
                    vid = _var_id(ids, sub, n, var_ids, local_ids)
                    var_ids[test.variable_key(n, k, f.property)] = vid
                    value = next((v for v in values if v.id == f.value_ref), None)
                    view["variables"].append({
                        "id": vid, "datatype": f.datatype,
                        "comment": value.title if value else f.value_ref})
                    field["var_ref"] = vid
                elif f.value_of:
                    vid = _var_id(ids, sub, n, var_ids, local_ids)
                    local_ids.append((n, vid))
                    ref = f.value_of
                    other = check.tests[ref.test - 1].object
                    assert isinstance(other, CmdletObject)   # the model allows no other
                    view["local_variables"].append({
                        "id": vid, "datatype": f.datatype,
                        "comment": f"{ref.property} of {other.cmdlet} (test {ref.test})",
                        "object_id": ids.oval("obj", number * 100 + ref.test),
                        "record_field": ref.property.lower()})
                    field["var_ref"] = vid
                fields.append(field)
            if kind in _ENTITY_ORDER:   # the schema's entity order
                fields.sort(key=lambda x: _ENTITY_ORDER[kind].index(x["name"]))
            view["states"].append({"id": sid, "kind": kind, "comment": test.comment,
                                   "entity_check": state.entity_check, "fields": fields})
        view["tests"].append({"id": tid, "kind": kind, "check": test.check,
                              "check_existence": test.check_existence,
                              "comment": test.comment, "object_id": oid, "state_ids": state_ids,
                              "state_operator": "OR" if test.alternatives else "AND"})
        criteria.append({"test_id": tid, "negate": test.negate, "comment": test.comment})
    view["definitions"].append({"id": def_id, "cls": cls, "title": title,
                                "description": description, "references": references,
                                "operator": check.operator, "criteria": criteria})
    return OvalIds(def_id, tuple(test_ids), var_ids)


def _empty_view() -> dict:
    return {"definitions": [], "tests": [], "objects": [], "states": [], "variables": [],
            "local_variables": []}


def compliance_oval(rules: list[Rule], ids: IdScheme, timestamp: str,
                    version: str) -> tuple[bytes, dict[str, OvalIds]]:
    """One compliance definition per automated rule. Returns the document and ids per rule."""
    view = _empty_view()
    out: dict[str, OvalIds] = {}
    for rule in rules:
        if not rule.check:
            continue
        refs = [{"source": "DISA", "ref_id": rule.rule_id}, {"source": "DISA", "ref_id": rule.version}]
        refs += [{"source": "DISA-CCI", "ref_id": c} for c in rule.ccis]
        out[rule.rule_id] = _definition(
            ids, rule.vuln_number, "compliance", f"{rule.version}: {rule.title}",
            rule.check.meaning, rule.check, refs, rule.values, view)
    data = render("oval.xml.j2", product_name=PRODUCT, product_version=version,
                  timestamp=timestamp, **view)
    return data, out


def applicabilities(rules: list[Rule]) -> list[Applicability]:
    """The rules' applicability conditions, each once, in rule order."""
    out: dict[str, Applicability] = {}
    for r in rules:
        a = r.applicability
        if a is None:
            continue
        if a.id in out and out[a.id] != a:
            raise StigscapError(f"applicability {a.id!r} is defined differently by two rules "
                                f"(second: {r.rule_id})")
        out.setdefault(a.id, a)
    return list(out.values())


def inventory_oval(benchmark: Benchmark, ids: IdScheme, timestamp: str, version: str,
                   rules: list[Rule] | None = None, *,
                   first: int = 1) -> tuple[bytes, dict[str, OvalIds]]:
    """The platform's inventory definition (number `first`, 1 by default) and one per rule
    applicability condition (`first`+1, ...). Returns the document and ids per CPE 2.2 name.
    A collection of several benchmarks gives each its own `first`, so no OVAL id names two
    different inventory checks in one collection."""
    view = _empty_view()
    out: dict[str, OvalIds] = {}
    p = benchmark.platform
    conditions: list[Platform | Applicability] = [p, *applicabilities(rules or [])]
    for n, c in enumerate(conditions, start=first):
        refs = [{"source": "CPE", "ref_id": c.cpe}]
        out[c.cpe22] = _definition(ids, n, "inventory", c.title, c.check.meaning, c.check,
                                   refs, [], view)
    data = render("oval.xml.j2", product_name=PRODUCT, product_version=version,
                  timestamp=timestamp, **view)
    return data, out
