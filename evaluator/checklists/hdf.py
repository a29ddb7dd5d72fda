"""Heimdall Data Format (HDF, InSpec's exec-json shape) for one checklist: what Heimdall,
`saf` and eMASS tooling read.

One profile per STIG, one control per rule (id = the STIG's group id V-…, as `saf convert
ckl2hdf` and Evaluate-STIG name them), with impact from severity (high 0.7, medium 0.5, low 0.3;
0.0 when not applicable), tags gid/rid/stig_id/severity/cci/nist/gtitle/legacy, descriptions
(default, check, fix), and one result per object collected (failed for the objects that cause
a finding, with the reason; passed for the others), so Heimdall shows which objects caused a
finding. XCCDF results map to HDF statuses: pass → passed, fail → failed, error/unknown →
error, notapplicable/notchecked/notselected/informational → skipped (with the reason).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from stigscap.schemas.clock import product_version

from .model import Checklist, ChecklistRule, ChecklistStig

IMPACT = {"high": 0.7, "medium": 0.5, "low": 0.3}
STATUS = {"pass": "passed", "fail": "failed", "error": "error", "unknown": "error",
          "fixed": "passed"}
CKL_TO_STATUS = {"NotAFinding": "passed", "Open": "failed", "Not_Applicable": "skipped",
                 "Not_Reviewed": "skipped"}


def _objects(details: str, rule_status: str) -> list[tuple[str, str, str]]:
    """(status, object, explanation) per collected object of a rule's finding details: the
    "Collected for …" lists mark each object [FAIL] or [ok] when the rule failed (unmarked
    objects share the rule's status); a failing object's explanation is the line above that
    names it ("Receive connector 'X' (…): AuthMechanism is …")."""
    lines = details.splitlines()
    explanations = []
    objects: list[tuple[str, str, str]] = []
    collected = False
    for line in lines:
        if line.startswith("Collected for "):
            collected = True
            continue
        if not line.startswith("- "):
            continue
        text = line[2:].strip()
        if not collected:
            explanations.append(text)
            continue
        status = rule_status
        if text.startswith("[FAIL] "):
            status, text = "failed", text[7:]
        elif text.startswith("[ok] "):
            status, text = "passed", text[5:]
        why = ""
        if status == "failed":
            fields = dict(f.split("=", 1) for f in text.split("; ") if "=" in f)
            ident = (fields.get("identity") or fields.get("trustee_sid") or fields.get("name")
                     or "")
            why = next((e for e in explanations if ident and ident in e), "")
        objects.append((status, text, why))
    return objects


def _results(row: ChecklistRule, start: str) -> list[dict[str, Any]]:
    xr = row.xccdf_result
    status = STATUS.get(xr, "skipped") if xr else CKL_TO_STATUS.get(row.status, "skipped")
    objects = _objects(row.finding_details, status) if status in ("passed", "failed") else []
    if objects:
        out = []
        for obj_status, obj, why in objects:
            res: dict[str, Any] = {"status": obj_status, "code_desc": obj, "start_time": start,
                                   "run_time": 0.0}
            if why:
                res["message"] = why
            out.append(res)
        return out
    what = f"{row.rule.version or row.rule.rule_id}: {xr or row.status}"
    result: dict[str, Any] = {"status": status, "code_desc": what, "start_time": start,
                              "run_time": 0.0}
    reason = " ".join(row.finding_details.split()) if row.finding_details else ""
    if status == "skipped":
        result["skip_message"] = reason or f"{xr or row.status}: not evaluated by stigscap"
    elif reason:
        result["message"] = reason
    return [result]


def _control(row: ChecklistRule, start: str) -> dict[str, Any]:
    r = row.rule
    not_applicable = row.status == "Not_Applicable" or row.xccdf_result == "notapplicable"
    descriptions = [{"label": "default", "data": r.discussion or r.title}]
    if r.check_content:
        descriptions.append({"label": "check", "data": r.check_content})
    if r.fix_text:
        descriptions.append({"label": "fix", "data": r.fix_text})
    tags: dict[str, Any] = {
        "gid": r.group_id, "rid": r.rule_id, "stig_id": r.version, "severity": r.severity,
        "gtitle": r.group_title, "cci": list(r.ccis), "nist": list(r.nist),
    }
    if r.legacy_ids:
        tags["legacy"] = list(r.legacy_ids)
    if row.comments:
        tags["comments"] = row.comments
    return {
        "id": r.group_id or r.rule_id, "title": r.title, "desc": r.discussion or r.title,
        "descriptions": descriptions,
        "impact": 0.0 if not_applicable else IMPACT.get(r.severity, 0.5),
        "refs": [], "tags": tags, "code": "",
        "source_location": {"ref": r.rule_id, "line": 0},
        "results": _results(row, start),
    }


def _profile(stig: ChecklistStig, start: str) -> dict[str, Any]:
    info = stig.info
    controls = [_control(row, start) for row in stig.rules]
    digest = hashlib.sha256(json.dumps([c["id"] for c in controls]).encode()).hexdigest()
    return {
        "name": info.stig_id, "version": info.version, "title": info.title,
        "maintainer": "DISA", "summary": info.description, "license": info.notice,
        "copyright": "DISA", "copyright_email": "disa.stig_spt@mail.mil",
        "supports": [], "attributes": [], "depends": [], "groups": [], "status": "loaded",
        "sha256": digest, "controls": controls,
    }


def render_hdf(checklist: Checklist) -> bytes:
    """The HDF document (JSON bytes, keys in a stable order) for one checklist."""
    start = checklist.created
    doc = {
        "platform": {"name": "stigscap", "release": product_version(),
                     "target_id": checklist.target.fqdn or checklist.target.host_name},
        "version": product_version(),
        "statistics": {"duration": 0.0},
        "profiles": [_profile(s, start) for s in checklist.stigs],
        "passthrough": {"target": {"host_name": checklist.target.host_name,
                                   "ip": checklist.target.ip, "mac": checklist.target.mac,
                                   "fqdn": checklist.target.fqdn}},
    }
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
