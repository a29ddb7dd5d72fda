"""STIG Viewer 3 checklist (CKLB, JSON), with only the fields STIG Viewer 3 writes.

DISA's CKLB schema sets `additionalProperties: false` everywhere, so no tool extension block
is added. Key order follows STIG Viewer 3 / Evaluate-STIG output.
"""

from __future__ import annotations

import json
from pathlib import Path

from stigscap.evaluator.results.arf_reader import CKL_TO_CKLB, CKLB_TO_CKL, StigRule
from stigscap.evaluator.checklists.model import (
    Checklist, ChecklistRule, ChecklistStig, StigInfo, TargetData,
)
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import read_input_bytes


def _rule_dict(row: ChecklistRule, info: StigInfo, created: str) -> dict:
    r = row.rule
    overrides: dict = {}
    if row.severity_override:
        overrides["severity"] = {"severity": row.severity_override,
                                 "reason": row.severity_justification}
    return {
        "uuid": row.uuid, "stig_uuid": info.uuid, "target_key": None, "stig_ref": None,
        "group_id": r.group_id, "rule_id": r.rule_id_short, "rule_id_src": r.rule_id,
        "weight": r.weight or "10.0", "classification": info.classification,
        "severity": r.severity, "rule_version": r.version, "group_title": r.group_title,
        "rule_title": r.title, "fix_text": r.fix_text, "false_positives": r.false_positives,
        "false_negatives": r.false_negatives, "discussion": r.discussion,
        "check_content": r.check_content, "documentable": r.documentable or "false",
        "mitigations": r.mitigations, "potential_impacts": r.potential_impacts,
        "third_party_tools": r.third_party_tools, "mitigation_control": r.mitigation_control,
        "responsibility": r.responsibility,
        "security_override_guidance": r.severity_override_guidance,
        "ia_controls": r.ia_controls,
        "check_content_ref": {"href": r.check_content_ref_href or info.filename,
                              "name": r.check_content_ref_name or "M"},
        "legacy_ids": list(r.legacy_ids), "ccis": list(r.ccis),
        "group_tree": [{"id": r.group_id, "title": r.group_title,
                        "description": r.group_description}],
        "createdAt": created, "updatedAt": created, "STIGUuid": info.uuid,
        "status": CKL_TO_CKLB[row.status], "overrides": overrides,
        "comments": row.comments, "finding_details": row.finding_details,
    }


def cklb_dict(checklist: Checklist) -> dict:
    t = checklist.target
    stigs = []
    for s in checklist.stigs:
        i = s.info
        stigs.append({
            "stig_name": i.title, "display_name": i.display_name or i.title,
            "stig_id": i.stig_id, "version": str(i.version), "release_info": i.release_info,
            "uuid": i.uuid, "reference_identifier": next(
                (r.rule.target_key for r in s.rules if r.rule.target_key), ""),
            "size": len(s.rules),
            "rules": [_rule_dict(r, i, checklist.created) for r in s.rules],
        })
    return {
        "title": checklist.title, "id": checklist.id, "stigs": stigs, "active": False,
        "mode": 1, "has_path": True,
        "target_data": {
            "target_type": t.target_type, "host_name": t.host_name, "ip_address": t.ip,
            "mac_address": t.mac, "fqdn": t.fqdn, "comments": t.comment, "role": t.role,
            "is_web_database": t.web_or_database, "technology_area": t.tech_area,
            "web_db_site": t.web_db_site, "web_db_instance": t.web_db_instance,
        },
        "cklb_version": "1.0",
    }


def render_cklb(checklist: Checklist) -> bytes:
    return (json.dumps(cklb_dict(checklist), indent=2, ensure_ascii=False) + "\n").encode()


# ---------------------------------------------------------------------------------------------
# reading (for --merge)


def _s(v) -> str:
    return "" if v is None else str(v)


def checklist_from_cklb_bytes(data: bytes, source: str = "<cklb>") -> Checklist:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise StigscapError(f"not a CKLB checklist: cannot parse as JSON "
                            f"({getattr(exc, 'msg', exc)})", file=source, line=line) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("stigs"), list):
        raise StigscapError("not a CKLB checklist: no stigs list", file=source)
    td = doc.get("target_data") or {}
    if not isinstance(td, dict):
        raise StigscapError("not a CKLB checklist: target_data is not an object", file=source)
    target = TargetData(
        host_name=_s(td.get("host_name")), ip=_s(td.get("ip_address")),
        mac=_s(td.get("mac_address")), fqdn=_s(td.get("fqdn")),
        role=_s(td.get("role")) or "None", target_type=_s(td.get("target_type")) or "Computing",
        tech_area=_s(td.get("technology_area")), comment=_s(td.get("comments")),
        web_or_database=bool(td.get("is_web_database")), web_db_site=_s(td.get("web_db_site")),
        web_db_instance=_s(td.get("web_db_instance")), marking="")
    stigs = []
    for st in doc["stigs"]:
        if not isinstance(st, dict) or not isinstance(st.get("rules", []), list):
            raise StigscapError("not a CKLB checklist: malformed stigs entry", file=source)
        info = StigInfo(stig_id=_s(st.get("stig_id")), title=_s(st.get("stig_name")),
                        description="", version=_s(st.get("version")),
                        release_info=_s(st.get("release_info")), filename="",
                        uuid=_s(st.get("uuid")))
        rows = []
        for r in st.get("rules", []):
            if not isinstance(r, dict):
                raise StigscapError("not a CKLB checklist: malformed rule", file=source)
            status = _s(r.get("status")) or "not_reviewed"
            if status not in CKLB_TO_CKL:
                raise StigscapError(f"rule {r.get('rule_id_src')}: unknown status '{status}'",
                                    file=source)
            ov = (r.get("overrides") or {}).get("severity") or {}
            rule = StigRule(group_id=_s(r.get("group_id")), group_title=_s(r.get("group_title")),
                            rule_id=_s(r.get("rule_id_src")), version=_s(r.get("rule_version")),
                            title=_s(r.get("rule_title")), severity=_s(r.get("severity")),
                            check_content=_s(r.get("check_content")),
                            legacy_ids=[x for x in (r.get("legacy_ids") or []) if x],
                            ccis=list(r.get("ccis") or []))
            rows.append(ChecklistRule(
                rule=rule, status=CKLB_TO_CKL[status],
                finding_details=_s(r.get("finding_details")), comments=_s(r.get("comments")),
                severity_override=_s(ov.get("severity")) if isinstance(ov, dict) else "",
                severity_justification=_s(ov.get("reason")) if isinstance(ov, dict) else ""))
        stigs.append(ChecklistStig(info=info, rules=rows, source=source))
    return Checklist(target=target, stigs=stigs, created="")


def read_cklb(path: str | Path) -> Checklist:
    p = Path(path)
    data = read_input_bytes(p, "checklist")
    return checklist_from_cklb_bytes(data, str(p))
