"""STIG Viewer checklists for `validate`: CKL (XML, DISA Checklist schema 2.5) and CKLB (JSON,
what STIG Viewer 3 writes).

CKL: the content model of DISA's U_Checklist_Schema_V2.5.xsd, restated here (the XSD is not
shipped with stigscap): the order and number of each element's children, the enumerated
values (ROLE, ASSET_TYPE, TECH_AREA, SID_NAME, VULN_ATTRIBUTE, STATUS, SEVERITY_OVERRIDE),
WEB_OR_DATABASE as xs:boolean, no other attributes than xsi:*, no text in element-only
content. tests/schemas/test_checklist_formats.py checks the verdicts against libxml2 with the
real XSD (from ../shared) on STIG Viewer's files and on broken copies.

CKLB: the structure STIG Viewer 3 writes (samples from STIG Viewer 3, Evaluate-STIG and STIG
Manager; evaluator/checklists/cklb.py): the top object (title, id, target_data, stigs), the
target data, each STIG (uuid, stig_id, rules) and each rule (uuid, stig_uuid of its STIG,
group/rule ids, severity, status among not_reviewed / not_a_finding / open / not_applicable,
overrides, ccis…), with the JSON types STIG Viewer 3 uses; keys it does not write are
warnings (tools add their own, e.g. `evaluate-stig`). Findings are located by the line of the
JSON object they are about.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from bisect import bisect_right
from typing import Any

from lxml import etree

from . import namespaces as ns
from .semantic import Problem, element_path

CKL_KIND, CKLB_KIND = "ckl@2.5", "cklb@1.0"

# element → its children in order: (name, minOccurs, maxOccurs; None = unbounded)
_SEQUENCE: dict[str, list[tuple[str, int, int | None]]] = {
    "CHECKLIST": [("ASSET", 1, 1), ("STIGS", 1, 1)],
    "ASSET": [("ROLE", 1, 1), ("ASSET_TYPE", 1, 1), ("MARKING", 0, 1), ("HOST_NAME", 1, 1),
              ("HOST_IP", 1, 1), ("HOST_MAC", 1, 1), ("HOST_GUID", 0, 1), ("HOST_FQDN", 1, 1),
              ("TARGET_COMMENT", 0, 1), ("TECH_AREA", 1, 1), ("TARGET_KEY", 1, 1),
              ("STIG_GUID", 0, 1), ("WEB_OR_DATABASE", 1, 1), ("WEB_DB_SITE", 1, 1),
              ("WEB_DB_INSTANCE", 1, 1)],
    "STIGS": [("iSTIG", 1, None)],
    "iSTIG": [("STIG_INFO", 1, 1), ("VULN", 1, None)],
    "STIG_INFO": [("SI_DATA", 1, None)],
    "SI_DATA": [("SID_NAME", 1, 1), ("SID_DATA", 0, 1)],
    "VULN": [("STIG_DATA", 1, None), ("STATUS", 1, 1), ("FINDING_DETAILS", 1, 1),
             ("COMMENTS", 1, 1), ("SEVERITY_OVERRIDE", 1, 1), ("SEVERITY_JUSTIFICATION", 1, 1)],
    "STIG_DATA": [("VULN_ATTRIBUTE", 1, 1), ("ATTRIBUTE_DATA", 1, 1)],
}
_ENUMS: dict[str, set[str]] = {
    "ROLE": {"None", "Workstation", "Member Server", "Domain Controller"},
    "ASSET_TYPE": {"Computing", "Non-Computing"},
    "TECH_AREA": {"", "Application Review", "Boundary Security", "CDS Admin Review",
                  "CDS Technical Review", "Database Review", "Domain Name System (DNS)",
                  "Exchange Server", "Host Based System Security (HBSS)", "Internal Network",
                  "Mobility", "Releasable Networks (REL)", "Releaseable Networks (REL)",
                  "Traditional Security", "UNIX OS", "VVOIP Review", "Web Review", "Windows OS",
                  "Other Review"},
    "SID_NAME": {"classification", "customname", "description", "filename", "notice",
                 "releaseinfo", "source", "stigid", "title", "uuid", "version"},
    "VULN_ATTRIBUTE": {"CCI_REF", "Check_Content", "Check_Content_Ref", "Class", "Documentable",
                       "False_Negatives", "False_Positives", "Fix_Text", "Group_Title",
                       "IA_Controls", "Mitigation_Control", "Mitigations", "Potential_Impact",
                       "Responsibility", "Rule_ID", "Rule_Title", "Rule_Ver", "STIGRef",
                       "Security_Override_Guidance", "Severity", "Third_Party_Tools",
                       "Vuln_Discuss", "Vuln_Num", "Weight", "TargetKey", "STIG_UUID",
                       "LEGACY_ID"},
    "STATUS": {"NotAFinding", "Open", "Not_Applicable", "Not_Reviewed"},
    "SEVERITY_OVERRIDE": {"", "low", "medium", "high"},
}
_BOOLEAN = {"WEB_OR_DATABASE"}
_SIMPLE = {"ROLE", "ASSET_TYPE", "MARKING", "HOST_NAME", "HOST_IP", "HOST_MAC", "HOST_GUID",
           "HOST_FQDN", "TARGET_COMMENT", "TECH_AREA", "TARGET_KEY", "STIG_GUID",
           "WEB_OR_DATABASE", "WEB_DB_SITE", "WEB_DB_INSTANCE", "SID_NAME", "SID_DATA",
           "VULN_ATTRIBUTE", "ATTRIBUTE_DATA", "STATUS", "FINDING_DETAILS", "COMMENTS",
           "SEVERITY_OVERRIDE", "SEVERITY_JUSTIFICATION"}


def is_ckl(root: etree._Element) -> bool:
    return root.tag == "CHECKLIST"


def validate_ckl(root: etree._Element, source: str) -> list[Problem]:
    """The CKL 2.5 structure of a CHECKLIST document."""
    out: list[Problem] = []

    def add(el: etree._Element, message: str) -> None:
        out.append(Problem(source, el.sourceline, element_path(el), CKL_KIND, message))

    def check(el: etree._Element) -> None:
        name = str(el.tag) if isinstance(el.tag, str) else ""
        for attr in el.attrib:
            if not attr.startswith(f"{{{ns.XSI}}}"):
                add(el, f"{name}: attribute {attr!r} is not allowed (the CKL 2.5 schema declares "
                        "no attributes)")
        if name in _SEQUENCE:
            _check_sequence(el, name, add)
            for child in el.iterchildren(etree.Element):
                if child.tag in _SEQUENCE or child.tag in _SIMPLE:
                    check(child)
        elif name in _SIMPLE:
            _check_simple(el, name, add)

    if root.tag != "CHECKLIST":
        add(root, f"the root element is {root.tag!r}, not CHECKLIST")
    else:
        check(root)
    return out


def _check_sequence(el: etree._Element, name: str, add) -> None:
    if (el.text or "").strip() or any((c.tail or "").strip() for c in el):
        add(el, f"{name}: text is not allowed between its child elements")
    children = [c for c in el if isinstance(c.tag, str)]
    i = 0
    for child_name, low, high in _SEQUENCE[name]:
        n = 0
        while i < len(children) and children[i].tag == child_name:
            if high is not None and n >= high:
                break
            n += 1
            i += 1
        if n < low:
            got = (f"found {children[i].tag!s}" if i < len(children) else "found nothing more")
            add(children[i] if i < len(children) else el,
                f"{name}: missing {child_name} ({got}); expected "
                + ", ".join(c for c, _lo, _hi in _SEQUENCE[name]))
            return
    if i < len(children):
        add(children[i], f"{name}: {str(children[i].tag)} is not expected here (expected order: "
                         + ", ".join(c for c, _lo, _hi in _SEQUENCE[name]) + ")")


def _check_simple(el: etree._Element, name: str, add) -> None:
    if any(isinstance(c.tag, str) for c in el):
        add(el, f"{name}: child elements are not allowed (text only)")
        return
    value = "".join(el.itertext())
    if name in _ENUMS and value not in _ENUMS[name]:
        add(el, f"{name}: {value!r} is not one of " + ", ".join(
            repr(v) for v in sorted(_ENUMS[name])))
    if name in _BOOLEAN and " ".join(value.split()) not in ("true", "false", "1", "0"):
        add(el, f"{name}: {value!r} is not a boolean (true, false, 1, 0)")


# ---------------------------------------------------------------------------------------------
# CKLB

STATUSES = {"not_reviewed", "not_a_finding", "open", "not_applicable"}
SEVERITIES = {"high", "medium", "low", "unknown"}
ROLES = {"None", "Workstation", "Member Server", "Domain Controller"}
S, SN, B, INT, L, D = "string", "string or null", "boolean", "integer", "array", "object"
# key → (JSON type, required)
_TOP = {"title": (S, True), "id": (S, True), "active": (B, False), "mode": (INT, False),
        "has_path": (B, False), "target_data": (D, True), "stigs": (L, True),
        "cklb_version": (S, False)}
_TARGET = {"target_type": (S, True), "host_name": (S, True), "ip_address": (S, True),
           "mac_address": (S, True), "fqdn": (S, True), "comments": (SN, True),
           "role": (SN, True), "is_web_database": (B, True), "technology_area": (SN, True),
           "web_db_site": (SN, True), "web_db_instance": (SN, True)}
_STIG = {"stig_name": (S, True), "display_name": (S, True), "stig_id": (S, True),
         "version": (S, False), "release_info": (S, True), "uuid": (S, True),
         "reference_identifier": (SN, True), "size": (INT, True), "rules": (L, True)}
_RULE = {"uuid": (S, True), "stig_uuid": (S, True), "target_key": (SN, False),
         "stig_ref": (SN, False), "group_id": (S, True), "rule_id": (S, True),
         "rule_id_src": (S, True), "weight": (S, True), "classification": (S, True),
         "severity": (S, True), "rule_version": (S, True), "group_title": (S, True),
         "rule_title": (S, True), "fix_text": (SN, True), "false_positives": (SN, False),
         "false_negatives": (SN, False), "discussion": (SN, True), "check_content": (SN, True),
         "documentable": (SN, False), "mitigations": (SN, False),
         "potential_impacts": (SN, False), "third_party_tools": (SN, False),
         "mitigation_control": (SN, False), "responsibility": (SN, False),
         "security_override_guidance": (SN, False), "ia_controls": (SN, False),
         "check_content_ref": (D, False), "legacy_ids": (L, True), "group_tree": (L, False),
         "createdAt": (S, False), "updatedAt": (S, False), "STIGUuid": (S, False),
         "status": (S, True), "overrides": (D, True), "comments": (SN, True),
         "finding_details": (SN, True), "ccis": (L, True)}
_TOOL_KEYS = {"evaluate-stig"}   # extensions tools write beside STIG Viewer's keys


class _Pos(dict):
    """A JSON object remembering where it starts in the text."""

    start = 0


def _decoder() -> json.JSONDecoder:
    dec: Any = json.JSONDecoder(object_pairs_hook=_pairs)
    parse_object = dec.parse_object

    def located(s_and_end, *args, **kwargs):
        obj, end = parse_object(s_and_end, *args, **kwargs)
        if isinstance(obj, _Pos):
            obj.start = s_and_end[1] - 1
        return obj, end

    dec.parse_object = located
    make_scanner: Any = json.scanner.py_make_scanner  # type: ignore[attr-defined]
    dec.scan_once = make_scanner(dec)   # the Python scanner calls parse_object (the C one not)
    return dec


class DuplicateKey(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> _Pos:
    obj = _Pos()
    for k, v in pairs:
        if k in obj:
            raise DuplicateKey(k)
        obj[k] = v
    return obj


def _type_ok(value: Any, kind: str) -> bool:
    if kind == S:
        return isinstance(value, str)
    if kind == SN:
        return value is None or isinstance(value, str)
    if kind == B:
        return isinstance(value, bool)
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == L:
        return isinstance(value, list)
    return isinstance(value, dict)


def looks_like_json(data: bytes) -> bool:
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith((b"{", b"["))


def parse_cklb(data: bytes, source: str) -> tuple[Any, str]:
    """(the parsed JSON, its text); StigscapError (one line, with the line) when it is not."""
    from .errors import StigscapError

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StigscapError(f"not UTF-8 text (byte {exc.start}); a CKLB is UTF-8 JSON",
                            file=source) from None
    try:
        return _decoder().decode(text), text
    except DuplicateKey as exc:
        raise StigscapError(f"JSON object key {exc.args[0]!r} is given twice", file=source) \
            from None
    except json.JSONDecodeError as exc:
        raise StigscapError(f"not valid JSON: {exc.msg} (column {exc.colno})", file=source,
                            line=exc.lineno) from None


def validate_cklb(doc: Any, text: str, source: str) -> list[Problem]:
    """The structure STIG Viewer 3 writes, for a parsed CKLB document."""
    newlines = [m.start() for m in re.finditer("\n", text)]
    out: list[Problem] = []

    def line(obj: Any) -> int | None:
        return bisect_right(newlines, obj.start) + 1 if isinstance(obj, _Pos) else None

    def add(obj: Any, path: str, message: str, severity: str = "error",
            ident: str | None = None) -> None:
        out.append(Problem(source, line(obj), path, CKLB_KIND, message, severity,
                           element_id=ident))

    def fields(obj: Any, path: str, spec: dict, what: str, ident: str | None = None) -> bool:
        if not isinstance(obj, dict):
            add(obj, path, f"{what} is not a JSON object", ident=ident)
            return False
        for key, (kind, required) in spec.items():
            if key not in obj:
                if required:
                    add(obj, path, f"{what} has no {key!r}", ident=ident)
            elif not _type_ok(obj[key], kind):
                add(obj, f"{path}.{key}", f"{what}: {key!r} is {json.dumps(obj[key])[:60]}, not "
                    f"a {kind}", ident=ident)
        for key in obj:
            if key not in spec and key not in _TOOL_KEYS:
                add(obj, f"{path}.{key}", f"{what}: key {key!r} is not one STIG Viewer 3 writes",
                    "warning", ident=ident)
        return True

    if not fields(doc, "$", _TOP, "the checklist"):
        return out
    td = doc.get("target_data")
    if fields(td, "$.target_data", _TARGET, "target_data"):
        if isinstance(td.get("target_type"), str) and td["target_type"] not in (
                "Computing", "Non-Computing"):
            add(td, "$.target_data.target_type", f"target_type {td['target_type']!r} is not "
                "'Computing' or 'Non-Computing'")
        if isinstance(td.get("role"), str) and td["role"] not in ROLES:
            add(td, "$.target_data.role", f"role {td['role']!r} is not one of "
                + ", ".join(sorted(ROLES)))
    stigs = doc.get("stigs")
    if isinstance(stigs, list):
        if not stigs:
            add(doc, "$.stigs", "the checklist holds no STIG")
        rule_uuids: dict[str, str] = {}
        for n, st in enumerate(stigs):
            path = f"$.stigs[{n}]"
            sid = st.get("stig_id") if isinstance(st, dict) else None
            if not fields(st, path, _STIG, f"STIG {sid or n}", sid):
                continue
            rules = st.get("rules")
            if not isinstance(rules, list):
                continue
            for m, rule in enumerate(rules):
                rpath = f"{path}.rules[{m}]"
                rid = rule.get("rule_id_src") if isinstance(rule, dict) else None
                what = f"rule {rid or m}"
                if not fields(rule, rpath, _RULE, what, rid):
                    continue
                _rule_values(rule, rpath, what, st, rid, add, rule_uuids)
    return out


def _rule_values(rule: dict, path: str, what: str, stig: dict, rid: str | None, add,
                 uuids: dict[str, str]) -> None:
    status, severity = rule.get("status"), rule.get("severity")
    if isinstance(status, str) and status not in STATUSES:
        add(rule, f"{path}.status", f"{what}: status {status!r} is not one of "
            + ", ".join(sorted(STATUSES)), ident=rid)
    if isinstance(severity, str) and severity not in SEVERITIES:
        add(rule, f"{path}.severity", f"{what}: severity {severity!r} is not high, medium, low "
            "or unknown", ident=rid)
    if isinstance(rule.get("stig_uuid"), str) and isinstance(stig.get("uuid"), str) and \
            rule["stig_uuid"] != stig["uuid"]:
        add(rule, f"{path}.stig_uuid", f"{what}: stig_uuid {rule['stig_uuid']!r} is not the "
            f"uuid of its STIG ({stig['uuid']!r})", ident=rid)
    uuid = rule.get("uuid")
    if isinstance(uuid, str):
        if uuid in uuids:   # STIG Viewer keys rules by uuid; test files copy rules, though
            add(rule, f"{path}.uuid", f"{what}: uuid {uuid!r} is also the uuid of rule "
                f"{uuids[uuid]}", "warning", ident=rid)
        uuids.setdefault(uuid, str(rid))
    for key in ("ccis", "legacy_ids"):
        if isinstance(rule.get(key), list) and not all(isinstance(x, str) for x in rule[key]):
            add(rule, f"{path}.{key}", f"{what}: {key} holds a value that is not a string",
                ident=rid)
    ov = rule.get("overrides")
    if isinstance(ov, dict) and "severity" in ov:
        sev = ov["severity"]
        if not isinstance(sev, dict) or sev.get("severity") not in ("high", "medium", "low") \
                or not isinstance(sev.get("reason", ""), str):
            add(rule, f"{path}.overrides.severity", f"{what}: a severity override is "
                "{\"severity\": high|medium|low, \"reason\": text}", ident=rid)
    ref = rule.get("check_content_ref")
    if isinstance(ref, dict) and not all(isinstance(ref.get(k), str) for k in ("href", "name")):
        add(rule, f"{path}.check_content_ref", f"{what}: check_content_ref needs string "
            "'href' and 'name'", ident=rid)
