"""Content machine checks → OVAL 5.11.2 definitions (compliance and platform inventory)."""

from __future__ import annotations

from dataclasses import dataclass

from stigscap.content.model import Benchmark, MachineCheck, Rule

from .ids import IdScheme
from .render import render

PRODUCT = "stigscap"


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


def _definition(ids: IdScheme, number: int, cls: str, title: str, description: str,
                check: MachineCheck, references: list[dict], rule: Rule | None,
                view: dict) -> OvalIds:
    def_id = ids.oval("def", number)
    test_ids: list[str] = []
    var_ids: dict[tuple[int, str], str] = {}
    criteria = []
    for n, test in enumerate(check.tests, start=1):
        sub = number * 100 + n
        tid, oid = ids.oval("tst", sub), ids.oval("obj", sub)
        sid = ids.oval("ste", sub) if test.state else None
        test_ids.append(tid)
        obj = test.object
        view["objects"].append({
            "id": oid, "comment": f"{obj.cmdlet} | Select-Object {', '.join(obj.select)}",
            "module": obj.module, "verb": obj.verb, "noun": obj.noun,
            "parameters": [dict(zip(("value", "datatype"), _param_text(v)), name=k.lower())
                           for k, v in obj.parameters.items()],
            "select": list(obj.select),
        })
        if test.state:
            fields = []
            for f in test.state.fields:
                field = {"name": f.property.lower(), "datatype": f.datatype,
                         "operation": f.operation, "entity_check": f.entity_check,
                         "value": f.value, "var_ref": None}
                if f.value_ref:
                    k = sum(1 for key in var_ids if key[0] == n)
                    vid = ids.oval("var", sub if k == 0 else sub * 10 + k)
                    var_ids[(n, f.property.lower())] = vid
                    value = next(v for v in rule.values if v.id == f.value_ref) if rule else None
                    view["variables"].append({
                        "id": vid, "datatype": f.datatype,
                        "comment": value.title if value else f.value_ref})
                    field["var_ref"] = vid
                fields.append(field)
            view["states"].append({"id": sid, "comment": test.comment,
                                   "entity_check": test.state.entity_check, "fields": fields})
        view["tests"].append({"id": tid, "check": test.check,
                              "check_existence": test.check_existence,
                              "comment": test.comment, "object_id": oid, "state_id": sid})
        criteria.append({"test_id": tid, "negate": test.negate, "comment": test.comment})
    view["definitions"].append({"id": def_id, "cls": cls, "title": title,
                                "description": description, "references": references,
                                "operator": check.operator, "criteria": criteria})
    return OvalIds(def_id, tuple(test_ids), var_ids)


def _empty_view() -> dict:
    return {"definitions": [], "tests": [], "objects": [], "states": [], "variables": []}


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
            rule.check.meaning, rule.check, refs, rule, view)
    data = render("oval.xml.j2", product_name=PRODUCT, product_version=version,
                  timestamp=timestamp, **view)
    return data, out


def inventory_oval(benchmark: Benchmark, ids: IdScheme, timestamp: str,
                   version: str) -> tuple[bytes, OvalIds]:
    view = _empty_view()
    p = benchmark.platform
    refs = [{"source": "CPE", "ref_id": p.cpe}]
    out = _definition(ids, 1, "inventory", p.title, p.check.meaning, p.check, refs, None, view)
    data = render("oval.xml.j2", product_name=PRODUCT, product_version=version,
                  timestamp=timestamp, **view)
    return data, out
