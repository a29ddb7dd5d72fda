"""Content → XCCDF 1.2 Benchmark (SCAP 1.3 style)."""

from __future__ import annotations

from stigscap.content.model import Benchmark, Rule
from stigscap.schemas.errors import StigscapError

from . import fixes, ocil
from .ids import IdScheme
from .oval import OvalIds
from .render import render

NIST_HREF = {
    4: "https://csrc.nist.gov/pubs/sp/800/53/r4/upd3/final",
    5: "https://csrc.nist.gov/pubs/sp/800/53/r5/upd1/final",
}


def rule_description(rule: Rule) -> str:
    """The DISA discussion, plus, for automated rules, the exact meaning of the machine check."""
    if rule.check:
        return f"{rule.discussion}\n\nAutomated check (stigscap): {rule.check.meaning}"
    return f"{rule.discussion}\n\nThis rule is checked manually; stigscap reports it as notchecked."


def benchmark_xccdf(benchmark: Benchmark, rules: list[Rule], ids: IdScheme,
                    oval_ids: dict[str, OvalIds], oval_href: str, ocil_href: str,
                    generator: str, timestamp: str) -> bytes:
    b = {
        "id": ids.benchmark(benchmark.id), "status": benchmark.status,
        "status_date": benchmark.status_date.isoformat(), "title": benchmark.title,
        "description": benchmark.description, "notice": benchmark.notice,
        "publisher": benchmark.publisher, "source": benchmark.source,
        "creator": benchmark.creator, "contributor": benchmark.contributor,
        "release_info": benchmark.release_info, "generator": generator,
        "disa_file": benchmark.disa_file_name,
        "platform_idref": benchmark.platform.cpe22, "version": str(benchmark.version),
        "time": timestamp, "dpms_target": benchmark.dpms_target,
        "dpms_identifier": benchmark.dpms_identifier,
    }
    profiles = []
    for p in benchmark.profiles:
        if p.rules == "all":
            chosen = rules
        else:
            chosen = [r for r in rules if r.rule_id in p.rules or r.group_id in p.rules]
        profiles.append({"id": ids.profile(p.id), "title": p.title,
                         "description": p.description or p.title,
                         "selected": [ids.rule(r.rule_id) for r in chosen]})
    values: dict[str, dict] = {}
    groups = []
    scripts = fixes.fix_scripts(rules, ids.value)
    for r in rules:
        for v in r.values:
            if v.id in values:
                if values[v.id]["model"] != v:
                    raise StigscapError(f"Value {v.id!r} is defined differently by two rules "
                                        f"(second: {r.rule_id})")
                continue
            values[v.id] = {
                "model": v, "id": ids.value(v.id), "type": v.type, "operator": v.operator,
                "title": v.title, "description": v.description, "default": v.default_value(),
                "options": v.options, "site_must_set": v.site_must_set,
            }
        oval = None
        if r.check and r.rule_id in oval_ids:
            o = oval_ids[r.rule_id]
            exports = []
            for n, test in enumerate(r.check.tests, start=1):
                for k, state in enumerate(test.states):
                    for f in state.fields:
                        if f.value_ref:
                            exports.append({"value_id": ids.value(f.value_ref), "var_id":
                                            o.variables[test.variable_key(n, k, f.property)]})
            oval = {"href": oval_href, "definition": o.definition, "exports": exports}
        rule = {
            "id": ids.rule(r.rule_id), "severity": r.severity, "weight": f"{r.weight:.1f}",
            "version": r.version, "title": r.title, "description": rule_description(r),
            "nist": [{"href": NIST_HREF[n.revision], "revision": n.revision,
                      "control": n.control, "via": ", ".join(r.ccis)} for n in r.nist],
            "platform": r.applicability.cpe22 if r.applicability else None,
            "ccis": r.ccis, "legacy_ids": r.legacy_ids, "fix_id": r.fix_id,
            "fix_text": r.fix_text, "check_id": r.check_id, "check_content": r.check_content,
            "oval": oval, "fix_script": scripts.get(r.rule_id), "fix_system": fixes.SYSTEM,
            "ocil": {"href": ocil_href, "questionnaire": ocil.questionnaire_id(ids, r)},
        }
        groups.append({"id": ids.group(r.group_id), "title": r.group_title, "rule": rule})
    return render("xccdf.xml.j2", b=b, profiles=profiles, values=list(values.values()),
                  groups=groups)
