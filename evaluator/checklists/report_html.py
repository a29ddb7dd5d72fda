"""A self-contained HTML compliance report (one file: inline CSS and SVG, no external fetch).

`html_report(arfs, stig=…)` → str. Content: a summary chart (inline SVG), a per-host table, a
per-rule table with each host's status, and for every open finding the failing items with
their values and the fix command. Layout in templates/report.html.j2.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import jinja2

from stigscap.evaluator.results.arf_reader import CKL_STATUSES, read_arf, read_stig
from stigscap.evaluator.checklists.model import (
    Checklist, ChecklistOptions, ChecklistRule, build_checklists, iso_utc,
    record_mark,
)
from stigscap.schemas.clock import as_utc, product_version
from stigscap.schemas.fixtext import IDENTITY_PLACEHOLDER, fix_text_lines
from stigscap.schemas.templating import environment

STATUS_LABEL = {"NotAFinding": "Not a Finding", "Open": "Open",
                "Not_Applicable": "Not Applicable", "Not_Reviewed": "Not Reviewed"}
STATUS_CLASS = {"NotAFinding": "naf", "Open": "open", "Not_Applicable": "na",
                "Not_Reviewed": "nr"}
STATUS_COLOR = {"NotAFinding": "#2e7d32", "Open": "#c62828", "Not_Applicable": "#757575",
                "Not_Reviewed": "#ef8f00"}
MATRIX_MAX_HOSTS = 25          # above this, the rule table shows counts only
CAT = {"high": "CAT I", "medium": "CAT II", "low": "CAT III"}


def fix_commands(row: ChecklistRule) -> list[str]:
    """The fix as commands: the rule-result's own fixes, the Rule's fix scripts, else the
    cmdlet lines of the fix text with the failing instances filled in."""
    rr = row.rule_result
    if rr is not None and rr.fixes:
        return list(rr.fixes)
    if row.rule.fix_commands:
        return list(row.rule.fix_commands)
    lines = fix_text_lines(row.rule.fix_text)
    instances = rr.instances if rr is not None else []
    out = []
    for line in lines:
        if IDENTITY_PLACEHOLDER.search(line) and instances:
            for inst in instances:
                quoted = "'" + inst.replace("'", "''") + "'"
                out.append(IDENTITY_PLACEHOLDER.sub(quoted.replace("\\", "\\\\"), line))
        else:
            out.append(line)
    return out


@dataclass
class Failing:
    host: str
    row: ChecklistRule
    items: list[dict[str, str]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)


def _counts(statuses) -> dict[str, int]:
    c = {s: 0 for s in CKL_STATUSES}
    for s in statuses:
        c[s] += 1
    return c


def _bar(counts: dict[str, int], width: float) -> list[dict]:
    total = sum(counts.values()) or 1
    x, segs = 0.0, []
    for s in CKL_STATUSES:
        w = width * counts[s] / total
        if counts[s]:
            segs.append({"x": round(x, 2), "w": round(w, 2), "color": STATUS_COLOR[s],
                         "status": s, "n": counts[s], "label": STATUS_LABEL[s]})
        x += w
    return segs


def report_model(checklists: list[Checklist]) -> dict:
    hosts, failing = [], []
    rules: dict[str, dict] = {}
    labels: set[str] = set()
    for c in checklists:
        label = c.target.host_name
        if label in labels:                      # same short name, another domain
            label = c.target.fqdn or f"{label} ({c.target.ip})"
        labels.add(label)
        rows = [r for s in c.stigs for r in s.rules]
        counts = _counts(r.status for r in rows)
        decided = counts["NotAFinding"] + counts["Open"]
        tr = next((s.test_result for s in c.stigs if s.test_result), None)
        hosts.append({
            "name": label, "ip": c.target.ip, "fqdn": c.target.fqdn,
            "stigs": ", ".join(f"{s.info.stig_id} {s.info.revision}".strip() for s in c.stigs),
            "profile": tr.profile if tr else "", "time": tr.end_time if tr else "",
            "counts": counts, "total": len(rows),
            "errors": sum(1 for r in rows if r.xccdf_result in ("error", "unknown")),
            "score": round(100 * counts["NotAFinding"] / decided) if decided else None,
            "bar": _bar(counts, 440)})
        for r in rows:
            key = r.rule.rule_id
            entry = rules.setdefault(key, {"rule": r.rule, "by_host": {}, "rows": {},
                                           "counts": _counts([])})
            entry["by_host"][label] = r.status
            entry["rows"][label] = r
            entry["counts"][r.status] += 1
            if r.status == "Open":
                f = Failing(host=label, row=r, fixes=fix_commands(r))
                if r.rule_result is not None:
                    f.messages = [m for _s, m in r.rule_result.messages]
                instances = r.rule_result.instances if r.rule_result is not None else []
                for ev in r.evidence:
                    if instances and not ev.decisive:
                        continue
                    for item in ev.items:
                        # the rule-result names the objects that cause the finding; without
                        # such names, the items OVAL judged false/error/unknown
                        if not instances and item.result not in ("false", "error", "unknown"):
                            continue
                        for rec in item.records or [{"item": item.item_id}]:
                            if record_mark(rec, instances) in ("", "[FAIL]") \
                                    and rec not in f.items:
                                f.items.append(rec)
                failing.append(f)
    sev_order = {"high": 0, "medium": 1, "low": 2}
    rule_list = sorted(rules.values(), key=lambda e: (-e["counts"]["Open"],
                                                     sev_order.get(e["rule"].severity, 3),
                                                     e["rule"].group_id))
    totals = _counts(r.status for c in checklists for s in c.stigs for r in s.rules)
    decided = totals["NotAFinding"] + totals["Open"]
    applicable = sum(totals.values()) - totals["Not_Applicable"]
    return {"hosts": hosts, "rules": rule_list, "failing": failing, "totals": totals,
            "total": sum(totals.values()), "decided": decided, "applicable": applicable,
            "score": round(100 * totals["NotAFinding"] / decided) if decided else None,
            "score_all": (round(100 * totals["NotAFinding"] / applicable)
                          if applicable else None),
            "overall_bar": _bar(totals, 600), "host_names": [h["name"] for h in hosts],
            "matrix": len(hosts) <= MATRIX_MAX_HOSTS}


def _env() -> jinja2.Environment:
    return environment("stigscap.evaluator", autoescape=True, trim_blocks=True,
                       lstrip_blocks=True)


def html_report(arfs, *, timestamp: str | dt.datetime, stig=None, title: str | None = None,
                options: ChecklistOptions | None = None) -> str:
    """The report for ARFs (paths, bytes, trees or ArfReport); `stig` a DISA manual XCCDF;
    `timestamp` the report's "generated" time (the caller resolves it)."""
    reports = [read_arf(a) for a in arfs]
    bench = read_stig(stig) if isinstance(stig, (str,)) or hasattr(stig, "__fspath__") else stig
    checklists = build_checklists(reports, stig=bench, options=options)
    model = report_model(checklists)
    stig_titles = sorted({s.info.title + (f" ({s.info.revision})" if s.info.revision else "")
                          for c in checklists for s in c.stigs})
    return _env().get_template("report.html.j2").render(
        m=model, title=title or ("STIG compliance report: " + ", ".join(model["host_names"])),
        stig_titles=stig_titles, generated=iso_utc(as_utc(timestamp).isoformat()),
        tool_version=product_version(),
        labels=STATUS_LABEL, classes=STATUS_CLASS, colors=STATUS_COLOR, cat=CAT,
        statuses=CKL_STATUSES)
