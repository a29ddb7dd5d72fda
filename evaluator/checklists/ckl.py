"""DISA STIG Viewer 2 checklist (CKL, XML; DISA CKL schema 2.5, STIG Viewer 2.17 element order).

`render_ckl(checklist)` writes one checklist (XML shape in templates/ckl.xml.j2);
`read_ckl(path)` reads a CKL back into the neutral model (for --merge);
ARF → CKL in one call: checklists/export.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
from lxml import etree

from stigscap.evaluator.results.arf_reader import CKL_STATUSES, StigRule
from stigscap.evaluator.checklists.model import (
    Checklist, ChecklistRule, ChecklistStig, StigInfo, TargetData,
)
from stigscap.schemas.clock import product_version
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.templating import environment
from stigscap.schemas.xmlio import element_text, parse_xml_file

_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# STIG Viewer 2.17 order (the order its saved CKL files have)
SI_ORDER = ("version", "classification", "customname", "stigid", "description", "filename",
            "releaseinfo", "title", "uuid", "notice", "source")


def xml_text(value) -> str:
    """Escape for XML text and drop characters XML 1.0 cannot carry."""
    s = _INVALID_XML.sub("", "" if value is None else str(value))
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _env() -> jinja2.Environment:
    # no autoescaping: every text goes through the `x` filter (escapes and drops what XML
    # 1.0 cannot carry)
    return environment("stigscap.evaluator", autoescape=False, keep_trailing_newline=True,
                       filters={"x": xml_text})


def stig_data(rule: StigRule, info: StigInfo, target_key: str) -> list[tuple[str, str]]:
    """Every STIG_DATA attribute in STIG Viewer 2.17 order."""
    legacy = list(rule.legacy_ids) + [""] * max(0, 2 - len(rule.legacy_ids))
    rows = [
        ("Vuln_Num", rule.group_id), ("Severity", rule.severity),
        ("Group_Title", rule.group_title), ("Rule_ID", rule.rule_id),
        ("Rule_Ver", rule.version), ("Rule_Title", rule.title),
        ("Vuln_Discuss", rule.discussion), ("IA_Controls", rule.ia_controls),
        ("Check_Content", rule.check_content), ("Fix_Text", rule.fix_text),
        ("False_Positives", rule.false_positives), ("False_Negatives", rule.false_negatives),
        ("Documentable", rule.documentable or "false"), ("Mitigations", rule.mitigations),
        ("Potential_Impact", rule.potential_impacts),
        ("Third_Party_Tools", rule.third_party_tools),
        ("Mitigation_Control", rule.mitigation_control),
        ("Responsibility", rule.responsibility),
        ("Security_Override_Guidance", rule.severity_override_guidance),
        ("Check_Content_Ref", rule.check_content_ref_name or "M"),
        ("Weight", rule.weight or "10.0"), ("Class", "Unclass"), ("STIGRef", info.stig_ref),
        ("TargetKey", rule.target_key or target_key), ("STIG_UUID", info.uuid),
    ]
    rows += [("LEGACY_ID", x) for x in legacy]
    rows += [("CCI_REF", c) for c in rule.ccis]
    return rows


def _si_data(info: StigInfo) -> list[tuple[str, str]]:
    values = {"version": info.version, "classification": info.classification,
              "customname": info.customname, "stigid": info.stig_id,
              "description": info.description, "filename": info.filename,
              "releaseinfo": info.release_info, "title": info.title, "uuid": info.uuid,
              "notice": info.notice, "source": info.source}
    return [(k, values[k]) for k in SI_ORDER]


def render_ckl(checklist: Checklist) -> bytes:
    stigs = []
    for s in checklist.stigs:
        vulns = []
        for row in s.rules:
            if row.status not in CKL_STATUSES:
                raise StigscapError(f"internal: bad status {row.status}")
            vulns.append({
                "stig_data": stig_data(row.rule, s.info, checklist.target.target_key),
                "status": row.status, "finding_details": row.finding_details,
                "comments": row.comments, "severity_override": row.severity_override,
                "severity_justification": row.severity_justification})
        stigs.append({"si_data": _si_data(s.info), "vulns": vulns})
    text = _env().get_template("ckl.xml.j2").render(
        t=checklist.target, stigs=stigs, tool_version=product_version())
    return text.encode("utf-8")


# ---------------------------------------------------------------------------------------------
# reading


def _t(el, path: str) -> str:
    found = el.find(path)
    return (element_text(found) or "") if found is not None else ""


def checklist_from_ckl(root: etree._Element, source: str = "<ckl>") -> Checklist:
    if root.tag != "CHECKLIST":
        raise StigscapError(f"not a CKL checklist (root element {root.tag!s}, expected CHECKLIST)",
                            file=source)
    asset = root.find("ASSET")
    stigs_el = root.find("STIGS")
    if asset is None or stigs_el is None:
        raise StigscapError("not a CKL checklist: ASSET or STIGS missing", file=source)
    target = TargetData(
        host_name=_t(asset, "HOST_NAME"), ip=_t(asset, "HOST_IP"), mac=_t(asset, "HOST_MAC"),
        fqdn=_t(asset, "HOST_FQDN"), role=_t(asset, "ROLE") or "None",
        target_type=_t(asset, "ASSET_TYPE") or "Computing", tech_area=_t(asset, "TECH_AREA"),
        marking=_t(asset, "MARKING"), comment=_t(asset, "TARGET_COMMENT"),
        target_key=_t(asset, "TARGET_KEY"),
        web_or_database=_t(asset, "WEB_OR_DATABASE").strip().lower() == "true",
        web_db_site=_t(asset, "WEB_DB_SITE"), web_db_instance=_t(asset, "WEB_DB_INSTANCE"))
    stigs = []
    for istig in stigs_el.findall("iSTIG"):
        si = {_t(d, "SID_NAME"): _t(d, "SID_DATA") for d in istig.iterfind("STIG_INFO/SI_DATA")}
        info = StigInfo(stig_id=si.get("stigid", ""), title=si.get("title", ""),
                        description=si.get("description", ""), version=si.get("version", ""),
                        release_info=si.get("releaseinfo", ""), filename=si.get("filename", ""),
                        uuid=si.get("uuid", ""), classification=si.get("classification", ""))
        rows = []
        for vuln in istig.findall("VULN"):
            data: dict[str, list[str]] = {}
            for sd in vuln.findall("STIG_DATA"):
                data.setdefault(_t(sd, "VULN_ATTRIBUTE"), []).append(_t(sd, "ATTRIBUTE_DATA"))
            def one(key: str, data: dict[str, list[str]] = data) -> str:
                return (data.get(key) or [""])[0]
            rule = StigRule(group_id=one("Vuln_Num"), group_title=one("Group_Title"),
                            rule_id=one("Rule_ID"), version=one("Rule_Ver"),
                            title=one("Rule_Title"), severity=one("Severity"),
                            check_content=one("Check_Content"), fix_text=one("Fix_Text"),
                            discussion=one("Vuln_Discuss"), ccis=data.get("CCI_REF", []),
                            legacy_ids=[x for x in data.get("LEGACY_ID", []) if x])
            status = _t(vuln, "STATUS")
            if status not in CKL_STATUSES:
                raise StigscapError(f"VULN {rule.rule_id or '?'}: unknown STATUS '{status}'",
                                    file=source, line=vuln.sourceline)
            rows.append(ChecklistRule(
                rule=rule, status=status, finding_details=_t(vuln, "FINDING_DETAILS"),
                comments=_t(vuln, "COMMENTS"), severity_override=_t(vuln, "SEVERITY_OVERRIDE"),
                severity_justification=_t(vuln, "SEVERITY_JUSTIFICATION")))
        stigs.append(ChecklistStig(info=info, rules=rows, source=source))
    return Checklist(target=target, stigs=stigs, created="")


def read_ckl(path: str | Path) -> Checklist:
    p = Path(path)
    return checklist_from_ckl(parse_xml_file(p).getroot(), str(p))
