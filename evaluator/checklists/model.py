"""The format-neutral checklist (one per asset) that CKL, CKLB and the HTML report are drawn from.

`build_checklists(arfs, stig=…)` fills it from ARF results: one checklist per asset, one STIG
entry per benchmark, one rule entry per STIG rule (rules stigscap does not automate are listed
as Not_Reviewed with their check text). `merge_previous(new, old)` carries manual reviews over
from an earlier checklist. Pure: readers and writers live in arf_reader, ckl, cklb.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from stigscap.evaluator.results.arf_reader import (
    ArfReport, Benchmark, OvalTestEvidence, RuleResult, StigRule, TestResult, ckl_status,
    rule_base,
)
from stigscap.schemas.errors import StigscapError

# uuid5 namespace for every id stigscap puts in a checklist (stable across runs)
_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://stigscap/checklist")

ROLES = ("None", "Workstation", "Member Server", "Domain Controller")
SEVERITIES = ("low", "medium", "high")


@dataclass
class ChecklistOptions:
    role: str = "None"
    tech_area: str = "Exchange Server"
    marking: str = "CUI"
    classification: str = "UNCLASSIFIED"
    target_type: str = "Computing"
    timestamp: str | None = None          # ISO-8601; default: the TestResult end-time


@dataclass
class TargetData:
    host_name: str
    ip: str = ""
    mac: str = ""
    fqdn: str = ""
    role: str = "None"
    target_type: str = "Computing"
    tech_area: str = "Exchange Server"
    marking: str = "CUI"
    comment: str = ""
    target_key: str = ""
    web_or_database: bool = False
    web_db_site: str = ""
    web_db_instance: str = ""


@dataclass
class StigInfo:
    stig_id: str
    title: str
    description: str
    version: str
    release_info: str
    filename: str
    uuid: str
    classification: str = "UNCLASSIFIED"
    notice: str = "terms-of-use"
    source: str = "STIG.DOD.MIL"
    customname: str = ""
    display_name: str = ""

    @property
    def stig_ref(self) -> str:
        """`<title> :: Version 1, Release: 5 Benchmark Date: 26 Apr 2019` (STIGRef)."""
        return f"{self.title} :: Version {self.version}, {self.release_info}".strip()

    @property
    def revision(self) -> str:
        m = re.search(r"Release:\s*(\d+)", self.release_info or "")
        v = re.match(r"\d+", self.version or "")
        return f"V{v.group(0)}R{m.group(1)}" if v and m else ""


@dataclass
class ChecklistRule:
    rule: StigRule
    status: str = "Not_Reviewed"                  # CKL vocabulary (arf_reader.CKL_STATUSES)
    finding_details: str = ""
    comments: str = ""
    severity_override: str = ""
    severity_justification: str = ""
    xccdf_result: str | None = None               # what the ARF said (None: not evaluated)
    evaluated_rule_id: str = ""                   # stigscap rule that produced the result
    evidence: list[OvalTestEvidence] = field(default_factory=list)
    rule_result: RuleResult | None = None
    uuid: str = ""


@dataclass
class ChecklistStig:
    info: StigInfo
    rules: list[ChecklistRule]
    test_result: TestResult | None = None
    source: str = ""


@dataclass
class Checklist:
    target: TargetData
    stigs: list[ChecklistStig]
    created: str

    @property
    def id(self) -> str:
        key = "|".join([self.target.host_name.lower(), *(s.info.uuid for s in self.stigs)])
        return str(uuid.uuid5(_NS, "checklist:" + key))

    @property
    def title(self) -> str:
        names = "_".join(s.info.stig_id for s in self.stigs)
        return f"{self.target.host_name}_{names}" if names else self.target.host_name

    def file_stem(self) -> str:
        """The title in file-name characters, at most FILE_STEM_MAX of them (ASCII, so as many
        bytes; room is left for the extension, a `_2` and atomic_write's temporary name)."""
        def safe(text: str) -> str:
            return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
        stem = safe(self.title) or "checklist"
        if len(stem) <= FILE_STEM_MAX:
            return stem
        names = safe("_".join(s.info.stig_id for s in self.stigs))
        if names and len(names) <= FILE_STEM_MAX // 2:  # a long host name: cut that, keep the STIG
            host = _clip(safe(self.target.host_name), FILE_STEM_MAX - len(names) - 1, len, "_")
            return f"{host}_{names}" if host.strip("_") else names
        return _clip(stem, FILE_STEM_MAX, len, "_")


# STIG Manager refuses a checklist whose host name is longer than 255 characters (JavaScript
# string length: UTF-16 code units); file names are cut like `scan`'s host files (120).
HOST_NAME_MAX = 255
FILE_STEM_MAX = 120


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _clip(text: str, limit: int, length, sep: str) -> str:
    """`text` if it fits in `limit`, else its start plus `sep` and 8 hex digits of its SHA-256:
    stable, and two long names that share their start stay apart."""
    if length(text) <= limit:
        return text
    tag = sep + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    head = text[:limit - len(tag)]
    while length(head) + len(tag) > limit:
        head = head[:-1]
    return head.rstrip("._ ") + tag


def clip_host_name(name: str) -> str:
    """A host name STIG Manager accepts (at most HOST_NAME_MAX UTF-16 units); a longer one is
    cut and tagged with `~` and a hash of the whole name."""
    return _clip(name, HOST_NAME_MAX, _utf16_len, "~")


def stig_uuid(stig_id: str, version: str, release_info: str) -> str:
    """Stable STIG uuid: uuid5 of the benchmark id, version and release (so V1R5 ≠ V1R6)."""
    return str(uuid.uuid5(_NS, f"stig:{stig_id}:{version}:{release_info}"))


def rule_uuid(stig_uuid_: str, rule_id: str) -> str:
    return str(uuid.uuid5(_NS, f"rule:{stig_uuid_}:{rule_id}"))


def stig_info(bench: Benchmark, classification: str = "UNCLASSIFIED") -> StigInfo:
    release = bench.release_info or ""
    title = bench.title or bench.stig_id
    display = re.sub(r"\s*Security Technical Implementation Guide\s*$", "", title) or title
    return StigInfo(
        stig_id=bench.stig_id, title=title, description=bench.description,
        version=bench.version, release_info=release,
        filename=bench.filename or f"{bench.stig_id}.xml",
        uuid=stig_uuid(bench.stig_id, bench.version, release),
        classification=classification, notice=bench.notice or "terms-of-use",
        source=bench.source or "STIG.DOD.MIL", display_name=display)


def iso_utc(text: str) -> str:
    """ISO-8601 → `YYYY-MM-DDTHH:MM:SS.000Z` (STIG Viewer 3's form); a time without zone is
    taken as UTC. A bad value is a one-line error."""
    try:
        t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise StigscapError(f"not an ISO-8601 time: '{text}'") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    t = t.astimezone(dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def created_time(*candidates: str | None) -> str:
    """The first time given, in STIG Viewer 3's form; none at all is a one-line error (the
    writers never read the clock: the caller gives --timestamp or the ARF its end-time)."""
    for text in candidates:
        if text:
            return iso_utc(text)
    raise StigscapError("no time to stamp the checklist with: the ARF's TestResult has no "
                        "end-time; give --timestamp")


# ---------------------------------------------------------------------------------------------
# finding details


def _fmt_record(rec: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in rec.items())


def record_mark(record: dict[str, str], instances: list[str]) -> str:
    """`[FAIL]` for a collected record named by a failing rule-result instance, `[ok]` for the
    others when the rule-result lists instances, else nothing (OVAL judges whole items)."""
    if not instances:
        return ""
    names = set(record.values())
    if {"hive", "key", "name"} <= record.keys():   # a registry value is named by its path
        names.add("\\".join((record["hive"], record["key"], record["name"])))
    return "[FAIL]" if names & set(instances) else "[ok]"


def finding_details(rr: RuleResult, tr: TestResult, arf: ArfReport, bench: Benchmark | None,
                    evidence: list[OvalTestEvidence], evaluated_as: str) -> str:
    """Human evidence for FINDING_DETAILS: result, each connector/item with its values, what
    was expected (tailored Values), the tool and the time."""
    status = ckl_status(rr.result)
    lines = [f"Automated check by stigscap: {rr.result} ({status})."]
    tool = tr.test_system or "stigscap"
    when = rr.time or tr.end_time
    lines.append(f"Tool: {tool}; checked {when} on target {', '.join(tr.targets) or tr.asset.name}"
                 f" (TestResult {tr.id}{', profile ' + tr.profile if tr.profile else ''}).")
    if evaluated_as:
        lines.append(f"Evaluated with rule {evaluated_as} of the stigscap benchmark.")
    rule = bench.rule(rr.rule_id) if bench else None
    if rule is not None and rule.automated_check:
        lines.append(f"How stigscap checks: {rule.automated_check}")
    for vid in (rule.exported_values if rule else []):
        value = tr.set_values.get(vid, bench.values.get(vid, "") if bench else "")
        lines.append(f"Expected: {vid} = {value}")
    for href, def_id in rr.oval_refs:
        oval = arf.oval_for(href)
        if oval is not None and def_id in oval.definitions:
            lines.append(f"OVAL definition {def_id}: {oval.definitions[def_id]}")
    if rr.messages:
        lines.append("")
        lines.extend(f"- {text}" for _sev, text in rr.messages)
    if rr.instances:
        lines.append("")
        lines.append("Failing instances: " + ", ".join(rr.instances))
    for ev in evidence:
        lines.append("")
        lines.append(f"Collected for {ev.test_id} (test result {ev.result}):")
        if not ev.items:
            lines.append("- no items collected")
        # the rule-result's instances are the objects that cause its result; a test that
        # does not decide the result marks none of its records
        instances = rr.instances if ev.decisive else []
        for item in ev.items:
            for rec in item.records or [{}]:
                mark = record_mark(rec, instances) or ("[ok]" if rr.instances else "")
                lines.append(f"- {mark + ' ' if mark else ''}{_fmt_record(rec) or item.item_id}")
    return "\n".join(lines).strip()


def _evidence(rr: RuleResult, arf: ArfReport) -> list[OvalTestEvidence]:
    out: list[OvalTestEvidence] = []
    for href, def_id in rr.oval_refs:
        oval = arf.oval_for(href)
        if oval is not None:
            out.extend(oval.evidence(def_id))
    return out


# ---------------------------------------------------------------------------------------------
# building


def _asset_key(tr: TestResult) -> str:
    a = tr.asset
    # the FQDN tells apart same-named hosts of different domains; the same host scanned twice
    # (several ARFs) lands in one checklist
    return (a.fqdn or a.hostname or (a.ips[0] if a.ips else "") or a.id).lower()


def build_checklists(arfs: list[ArfReport], *, stig: Benchmark | None = None,
                     options: ChecklistOptions | None = None) -> list[Checklist]:
    """One checklist per asset across all ARFs; with `stig` (a DISA manual XCCDF) every rule of
    that STIG is listed, the ARF results mapped onto it."""
    opts = options or ChecklistOptions()
    if opts.role not in ROLES:
        raise StigscapError(f"role must be one of {', '.join(ROLES)}")
    per_asset: dict[str, dict[str, tuple[ArfReport, TestResult]]] = {}
    order: list[str] = []
    for arf in arfs:
        if arf.benchmark is None and stig is None:
            raise StigscapError("the ARF holds no XCCDF Benchmark (no source data stream in "
                                "its report-request); give the STIG with --stig", file=arf.source)
        for tr in arf.test_results:
            key = _asset_key(tr)
            if key not in per_asset:
                per_asset[key] = {}
                order.append(key)
            bench = stig or arf.benchmark
            assert bench is not None   # refused above
            prev = per_asset[key].get(bench.stig_id)
            if prev is None or prev[1].end_time <= tr.end_time:
                per_asset[key][bench.stig_id] = (arf, tr)
    checklists = []
    for key in order:
        stigs = []
        first_tr: TestResult | None = None
        for _sid, (arf, tr) in per_asset[key].items():
            first_tr = first_tr or tr
            stigs.append(_build_stig(arf, tr, stig, opts))
        assert first_tr is not None   # every asset key has a test result
        a = first_tr.asset
        target = TargetData(
            host_name=clip_host_name(
                a.hostname or (first_tr.targets[0] if first_tr.targets else a.name)),
            ip=", ".join(a.ips), mac=", ".join(a.macs), fqdn=a.fqdn, role=opts.role,
            target_type=opts.target_type, tech_area=opts.tech_area, marking=opts.marking,
            target_key=next((r.rule.target_key for s in stigs for r in s.rules
                             if r.rule.target_key), ""))
        created = created_time(opts.timestamp, first_tr.end_time)
        checklists.append(Checklist(target=target, stigs=stigs, created=created))
    return checklists


def _build_stig(arf: ArfReport, tr: TestResult, stig: Benchmark | None,
                opts: ChecklistOptions) -> ChecklistStig:
    ours = arf.benchmark
    meta = stig or ours
    assert meta is not None   # an ARF without a Benchmark needs --stig (checked by the caller)
    info = stig_info(meta, opts.classification)
    rows: list[ChecklistRule] = []
    used: set[str] = set()
    for rule in meta.rules:
        our_rule = ours.find(rule) if (ours is not None and stig is not None) else rule
        rr = tr.rule_results.get(our_rule.rule_id) if our_rule is not None else None
        rows.append(_row(rule, rr, our_rule, arf, tr, ours, info))
        if rr is not None:
            used.add(rr.rule_id)
    # results for rules the given STIG does not list are kept, never dropped silently
    if ours is not None and stig is not None:
        for rule in ours.rules:
            rr = tr.rule_results.get(rule.rule_id)
            if rr is not None and rr.rule_id not in used:
                rows.append(_row(rule, rr, rule, arf, tr, ours, info))
    return ChecklistStig(info=info, rules=rows, test_result=tr, source=arf.source)


def _row(rule: StigRule, rr: RuleResult | None, our_rule: StigRule | None, arf: ArfReport,
         tr: TestResult, ours: Benchmark | None, info: StigInfo) -> ChecklistRule:
    row = ChecklistRule(rule=rule, uuid=rule_uuid(info.uuid, rule.rule_id))
    if rr is None:
        if our_rule is not None and our_rule.automated:
            row.comments = ("Not evaluated: the ARF holds no result for this rule (not "
                            "selected in the profile?); review it manually with the check text.")
        else:
            row.comments = ("Not evaluated by stigscap: no automated check for this rule; "
                            "review it manually with the check text.")
        return row
    if our_rule is not None and our_rule.rule_id != rule.rule_id and _check_changed(our_rule, rule):
        # a newer STIG than the evaluated content: its check for this rule is not the one that
        # was evaluated, so the old result is not carried over (it stays in the comment)
        row.comments = (f"Not carried over: the STIG's check text for {rule.rule_id} differs "
                        f"from the evaluated rule {our_rule.rule_id} (XCCDF result "
                        f"{rr.result}); re-evaluate with content for this STIG release, or "
                        "review it manually.")
        row.finding_details = row.comments
        return row
    row.xccdf_result = rr.result
    row.status = ckl_status(rr.result)
    row.rule_result = rr
    if rr.result in ("notchecked", "notselected") and not rr.messages and not rr.oval_refs:
        row.comments = (f"Not evaluated by stigscap (XCCDF result {rr.result}): no automated "
                        "check for this rule; review it manually with the check text.")
        return row
    row.evaluated_rule_id = rr.rule_id
    row.evidence = _evidence(rr, arf)
    evaluated_as = rr.rule_id if rr.rule_id != rule.rule_id else ""
    row.finding_details = finding_details(rr, tr, arf, ours, row.evidence, evaluated_as)
    source = Path(arf.source).name if arf.source and not arf.source.startswith("<") else "ARF"
    row.comments = f"stigscap: XCCDF result {rr.result} from {source}."
    return row


def _check_changed(evaluated: StigRule, listed: StigRule) -> bool:
    """True when a STIG lists, under a new rule id or revision, a rule whose check text is not
    the one evaluated (a later release of the STIG than the content); whitespace does not
    count. The same rule id is the same rule: DISA revises the id when it changes a rule."""
    a, b = _norm(evaluated.check_content), _norm(listed.check_content)
    return bool(a and b and a != b)


# ---------------------------------------------------------------------------------------------
# merging a previous checklist


def _norm(text: str) -> str:
    return " ".join((text or "").split())


def _reviewed(old: ChecklistRule) -> bool:
    return bool(old.status != "Not_Reviewed" or old.finding_details.strip()
                or old.comments.strip() or old.severity_override)


def _find_old(rule: StigRule, olds: list[ChecklistRule]) -> ChecklistRule | None:
    for o in olds:
        if o.rule.rule_id == rule.rule_id:
            return o
    keys = {rule_base(rule.rule_id), rule.group_id, *rule.legacy_ids} - {""}
    for o in olds:
        okeys = {rule_base(o.rule.rule_id), o.rule.group_id, *o.rule.legacy_ids} - {""}
        if keys & okeys:
            return o
    return None


def merge_previous(new: Checklist, old: Checklist, old_source: str = "the previous checklist"
                   ) -> Checklist:
    """Carry manual reviews from `old` into `new`.

    * rules stigscap evaluated keep our status and details; an old severity override and the
      old comments are kept (comments appended under "Previous comments");
    * rules we did not evaluate (Not_Reviewed from us) take the old status, details, comments
      and severity override, when the check text is unchanged;
    * when the check text changed between STIG revisions the rule stays Not_Reviewed; COMMENTS
      say so and quote the old status, and the old details are kept below a marker.
    """
    olds = [r for s in old.stigs for r in s.rules]
    name = Path(old_source).name
    for s in new.stigs:
        for row in s.rules:
            prev = _find_old(row.rule, olds)
            if prev is None or not _reviewed(prev):
                continue
            if row.xccdf_result is not None and row.status != "Not_Reviewed":
                if prev.severity_override and not row.severity_override:
                    row.severity_override = prev.severity_override
                    row.severity_justification = prev.severity_justification
                if prev.comments.strip() and prev.comments.strip() not in row.comments:
                    row.comments += f"\n\nPrevious comments ({name}):\n{prev.comments.strip()}"
                continue
            same_text = _norm(prev.rule.check_content) == _norm(row.rule.check_content)
            if same_text or not prev.rule.check_content.strip():
                note = ""
                if row.xccdf_result in ("error", "unknown"):
                    note = (f"\n\nstigscap: the automated check ended in {row.xccdf_result} "
                            f"this run; the manual review from {name} is kept.")
                row.status = prev.status
                row.finding_details = prev.finding_details
                row.comments = prev.comments + note
                row.severity_override = prev.severity_override
                row.severity_justification = prev.severity_justification
                continue
            was = f"{prev.status}"
            if prev.severity_override:
                was += f", severity override {prev.severity_override}"
            row.status = "Not_Reviewed"
            row.comments = (
                f"REVIEW AGAIN: the check text changed since the previous review "
                f"({prev.rule.rule_id} -> {row.rule.rule_id}); the previous status was "
                f"{was} in {name}; not carried over."
                + (f"\n\nPrevious comments:\n{prev.comments.strip()}" if prev.comments.strip()
                   else ""))
            if prev.finding_details.strip():
                row.finding_details = (f"Previous finding details ({prev.rule.rule_id}, "
                                       f"{prev.status}):\n{prev.finding_details.strip()}")
    t, o = new.target, old.target
    new.target = replace(
        t, role=o.role if o.role and o.role != "None" else t.role,
        marking=o.marking or t.marking, comment=o.comment or t.comment,
        web_or_database=o.web_or_database or t.web_or_database,
        web_db_site=o.web_db_site or t.web_db_site,
        web_db_instance=o.web_db_instance or t.web_db_instance,
        tech_area=o.tech_area or t.tech_area)
    return new


def apply_merge(checklists: list[Checklist], old: Checklist | None, old_source: str
                ) -> list[Checklist]:
    """Merge `old` into the checklist for the same host (or the only checklist)."""
    if old is None:
        return checklists
    if len(checklists) == 1:
        return [merge_previous(checklists[0], old, old_source)]
    host = old.target.host_name.lower()
    return [merge_previous(c, old, old_source) if c.target.host_name.lower() == host else c
            for c in checklists]
