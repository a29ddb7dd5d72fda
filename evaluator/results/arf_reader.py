"""Read an ARF 1.1 result (and a DISA STIG XCCDF) into a small model the exporters use.

What the checklist and report writers need from an ARF, and nothing else:

* `Benchmark` / `StigRule`: the STIG's metadata per rule (group V-…, rule SV-…_rule, STIG ID,
  title, discussion, check text, fix text, CCIs, legacy ids), read from the XCCDF 1.2 Benchmark
  in the ARF's report-request (our source data stream) or from a DISA manual XCCDF 1.1 file.
* `TestResult` / `RuleResult`: one XCCDF TestResult per asset, with each rule-result's result,
  messages, instances and the OVAL definition it was checked with.
* `Asset`: host name, FQDN, IP and MAC addresses (ai:computing-device).
* `OvalResults`: definition results and, per definition, the collected items each test looked
  at (the evidence a reviewer needs: which connector, which value, pass or fail).

Pure functions over parsed documents plus two thin file readers (`read_arf`, `read_stig`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from stigscap.schemas import namespaces as ns
from stigscap.schemas.disa_xccdf import XccdfRule, description_parts, read_benchmark
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import all_text, element_text, parse_xml_bytes, parse_xml_file

from ..oval.logic import culprits, negate
from ..xccdf.values import XccdfResultType

# ---------------------------------------------------------------------------------------------
# ids and status vocabulary

_MANGLED = re.compile(r"^xccdf_[^_]+_(?:rule|group|benchmark|profile|value|testresult)_(.+)$")
_RULE_BASE = re.compile(r"^(SV-\d+)(?:r\d+)?(?:_rule)?$")

XCCDF_RESULTS = tuple(XccdfResultType)   # pass, fail, error, ... as in the XCCDF engine

# STIG Manager's mapping
CKL_STATUSES = ("NotAFinding", "Open", "Not_Applicable", "Not_Reviewed")
CKL_TO_CKLB = {"NotAFinding": "not_a_finding", "Open": "open",
               "Not_Applicable": "not_applicable", "Not_Reviewed": "not_reviewed"}
CKLB_TO_CKL = {v: k for k, v in CKL_TO_CKLB.items()}


def ckl_status(xccdf_result: str | None) -> str:
    """XCCDF rule-result → CKL STATUS (pass/fixed, fail, notapplicable; all else unreviewed)."""
    return {"pass": "NotAFinding", "fixed": "NotAFinding", "fail": "Open",
            "notapplicable": "Not_Applicable"}.get(xccdf_result or "", "Not_Reviewed")


def cklb_status(xccdf_result: str | None) -> str:
    return CKL_TO_CKLB[ckl_status(xccdf_result)]


def unmangle(xccdf_id: str) -> str:
    """`xccdf_mil.disa.stig_rule_SV-84553r1_rule` → `SV-84553r1_rule` (1.1 ids pass through)."""
    m = _MANGLED.match(xccdf_id or "")
    return m.group(1) if m else (xccdf_id or "")


def rule_base(rule_id: str) -> str:
    """`SV-84553r1_rule` → `SV-84553` (the part that survives STIG revisions)."""
    m = _RULE_BASE.match(rule_id or "")
    return m.group(1) if m else rule_id


def _text(el: etree._Element | None) -> str:
    """Stripped text of an element that holds only text (ids, values, results, names)."""
    if el is None:
        return ""
    return (element_text(el) or "").strip()


def _prose(el: etree._Element | None) -> str:
    """Stripped text of prose that may hold markup (descriptions, fix text, check content)."""
    if el is None:
        return ""
    return all_text(el).strip()


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


# ---------------------------------------------------------------------------------------------
# STIG metadata


@dataclass
class StigRule:
    group_id: str                      # V-69931
    group_title: str                   # SRG-APP-000439
    rule_id: str                       # SV-84553r1_rule
    version: str                       # EX13-EG-000340 (STIG ID, Rule_Ver)
    title: str
    severity: str = "medium"
    weight: str = "10.0"
    discussion: str = ""
    false_positives: str = ""
    false_negatives: str = ""
    documentable: str = "false"
    mitigations: str = ""
    severity_override_guidance: str = ""
    potential_impacts: str = ""
    third_party_tools: str = ""
    mitigation_control: str = ""
    responsibility: str = ""
    ia_controls: str = ""
    check_content: str = ""
    check_content_ref_name: str = "M"
    check_content_ref_href: str = ""
    fix_text: str = ""
    fix_commands: list[str] = field(default_factory=list)
    group_description: str = "<GroupDescription></GroupDescription>"
    target_key: str = ""
    ccis: list[str] = field(default_factory=list)
    legacy_ids: list[str] = field(default_factory=list)
    nist: list[str] = field(default_factory=list)      # SP 800-53 controls (XCCDF references)
    oval_refs: list[str] = field(default_factory=list)
    exported_values: list[str] = field(default_factory=list)   # Value ids (unmangled)
    automated_check: str = ""          # what stigscap's automated check tests (generator text)

    @property
    def rule_id_short(self) -> str:
        """`SV-84553r1` (CKLB `rule_id`)."""
        return self.rule_id[:-5] if self.rule_id.endswith("_rule") else self.rule_id

    @property
    def automated(self) -> bool:
        return bool(self.oval_refs)


@dataclass
class Benchmark:
    id: str                  # as written (xccdf_mil.disa.stig_benchmark_X or X)
    stig_id: str             # X
    title: str
    description: str
    version: str
    release_info: str
    filename: str
    notice: str = "terms-of-use"
    source: str = "STIG.DOD.MIL"
    xccdf_version: str = "1.2"
    rules: list[StigRule] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)   # Value id → default value
    value_titles: dict[str, str] = field(default_factory=dict)

    def rule(self, rule_id: str) -> StigRule | None:
        return self._index().get(rule_id)

    def _index(self) -> dict[str, StigRule]:
        idx = getattr(self, "_idx", None)
        if idx is None or len(idx) != len(self.rules):
            idx = {r.rule_id: r for r in self.rules}
            object.__setattr__(self, "_idx", idx)
        return idx

    def find(self, rule: StigRule) -> StigRule | None:
        """This benchmark's rule for `rule` from another revision: same Rule_ID, else the same
        SV base id or Vuln_Num (directly or through LEGACY_ID), else the same STIG ID."""
        hit = self.rule(rule.rule_id)
        if hit:
            return hit
        keys = {rule_base(rule.rule_id), rule.group_id, *rule.legacy_ids} - {""}
        for cand in self.rules:
            ckeys = {rule_base(cand.rule_id), cand.group_id, *cand.legacy_ids} - {""}
            if keys & ckeys:
                return cand
        for cand in self.rules:
            if rule.version and cand.version == rule.version:
                return cand
        return None

    @property
    def revision(self) -> str:
        """`V1R5` from version and release-info (what STIG Manager shows)."""
        m = re.search(r"Release:\s*(\d+)", self.release_info or "")
        v = re.match(r"\d+", self.version or "")
        if v and m:
            return f"V{v.group(0)}R{m.group(1)}"
        return f"V{self.version}" if self.version else ""


_DESC_TAGS = {
    "VulnDiscussion": "discussion", "FalsePositives": "false_positives",
    "FalseNegatives": "false_negatives", "Documentable": "documentable",
    "Mitigations": "mitigations", "SeverityOverrideGuidance": "severity_override_guidance",
    "PotentialImpacts": "potential_impacts", "ThirdPartyTools": "third_party_tools",
    "MitigationControl": "mitigation_control", "Responsibility": "responsibility",
    "IAControls": "ia_controls",
}
_AUTOMATED = "Automated check (stigscap):"
OCIL2 = (ns.OCIL_2, ns.OCIL)
_OCIL_QUESTION = "Is it the case that"

# The scanners below (and `description_parts`) are linear in the text. The regular expressions
# they replace (`<(\w+)>(.*?)</\1>`, `\n\s*Automated check …`) retried from every opening tag
# or newline and scanned to the end each time: 20,000 unclosed `<VulnDiscussion>` took tens of
# seconds.


def _ws_run_start(text: str, pos: int) -> int:
    """Start of the run of whitespace that ends at `pos`."""
    while pos > 0 and text[pos - 1].isspace():
        pos -= 1
    return pos


def _split_automated(text: str) -> tuple[str, str] | None:
    r"""`re.split(r"\n\s*Automated check \(stigscap\):\s*", text, maxsplit=1)` as a pair, or
    None: the first marker whose preceding run of whitespace holds a newline; the split starts
    at the first newline of that run."""
    at = text.find(_AUTOMATED)
    while at >= 0:
        run = _ws_run_start(text, at)
        nl = text.find("\n", run, at)
        if nl >= 0:
            return text[:nl], text[at + len(_AUTOMATED):].lstrip()
        at = text.find(_AUTOMATED, at + 1)
    return None


def _strip_ocil_question(text: str) -> str:
    r"""`re.sub(r"\n\s*Is it the case that[^\n]*\?\s*$", "", text)`: drop a last line that
    asks "Is it the case that …?" together with the whitespace (and newlines) before it."""
    body = text.rstrip()
    if not body.endswith("?"):
        return text
    nl = body.rfind("\n")
    last = body[nl + 1:].lstrip()
    if nl < 0 or not last.startswith(_OCIL_QUESTION):
        return text
    return text[:body.find("\n", _ws_run_start(body, len(body) - len(last)))]


def _split_description(text: str) -> dict[str, Any]:
    """DISA's pseudo-XML rule description (`<VulnDiscussion>…</VulnDiscussion>…`) → fields;
    a plain description is the discussion. stigscap's generator appends "Automated check
    (stigscap): …" to the discussion; that part is kept apart (`automated_check`)."""
    out0: dict[str, str] = {}
    parts = _split_automated(text)
    if parts is not None:
        text, out0["automated_check"] = parts[0], " ".join(parts[1].split())
    if "<VulnDiscussion>" not in text:
        return {"discussion": text.strip(), **out0}
    out: dict[str, str] = dict(out0)
    for tag, body in description_parts(text):
        if tag in _DESC_TAGS:
            out[_DESC_TAGS[tag]] = body.strip()
    return out


def ocil_questions(el: etree._Element) -> dict[str, str]:
    """OCIL questionnaire id → its question text (the manual check text stigscap's generator
    puts in the OCIL component), over every OCIL document under `el`."""
    out: dict[str, str] = {}
    for ns_ in OCIL2:
        for doc in el.iter(f"{{{ns_}}}ocil"):
            q = lambda n, _ns=ns_: f"{{{_ns}}}{n}"  # noqa: E731
            questions = {x.get("id"): _prose(x.find(q("question_text")))
                         for x in doc.iter() if x.find(q("question_text")) is not None}
            actions = {a.get("id"): a.get("question_ref") for a in doc.iter()
                       if isinstance(a.tag, str) and a.get("question_ref")}
            for qn in doc.iter(q("questionnaire")):
                texts = [questions.get(actions.get(_text(ref)), "")
                         for ref in qn.iter(q("test_action_ref"))]
                text = "\n\n".join(_strip_ocil_question(t).strip() for t in texts if t)
                if text:
                    out[qn.get("id", "")] = text
    return out


def benchmark_from_element(root: etree._Element, filename: str = "",
                           ocil: dict[str, str] | None = None) -> Benchmark:
    """An XCCDF 1.1 or 1.2 `Benchmark` element → `Benchmark` (pure; read by the one XCCDF
    reader, `schemas.disa_xccdf`); `ocil` maps OCIL questionnaire ids to manual check text for
    rules whose check text lives there."""
    facts = read_benchmark(root, filename)
    bench = Benchmark(
        id=facts.id, stig_id=unmangle(facts.id), title=facts.title,
        description=facts.description, version=facts.version, release_info=facts.release_info,
        filename=facts.disa_file or filename, notice=facts.notice or "terms-of-use",
        xccdf_version=facts.xccdf_version,
    )
    if facts.source:
        bench.source = facts.source
    for val in facts.values:
        vid = unmangle(val.id)
        bench.values[vid] = val.default
        bench.value_titles[vid] = val.title
    for rule in facts.rules:
        bench.rules.append(_stig_rule(rule, ocil or {}))
    return bench


def _stig_rule(facts: XccdfRule, ocil: dict[str, str]) -> StigRule:
    group = facts.group
    rule = StigRule(
        group_id=unmangle(group.id) if group else "",
        group_title=group.title if group else "",
        rule_id=unmangle(facts.id),
        version=facts.version,
        title=facts.title,
        severity=facts.severity,
        weight=facts.weight,
        ccis=list(facts.ccis),
        legacy_ids=list(facts.legacy_ids),
        nist=list(facts.nist),
        target_key=facts.reference_identifier,
        fix_text=facts.fixtext,
        fix_commands=[text for _, text in facts.fixes if text],
        **_split_description(facts.description),
    )
    if group and group.description:
        rule.group_description = group.description
    if not rule.documentable:
        rule.documentable = "false"
    for check in facts.checks:
        if check.content and not rule.check_content:
            rule.check_content = check.content
        for name, href in check.refs:
            if check.system in OCIL2:
                if not rule.check_content and ocil.get(name):
                    rule.check_content = ocil[name]
            elif check.system == ns.OVAL_CHECK_SYSTEM:
                if name:
                    rule.oval_refs.append(name)
            else:
                rule.check_content_ref_name = name or "M"
                rule.check_content_ref_href = href
        for value_id in check.exports:
            vid = unmangle(value_id)
            if vid and vid not in rule.exported_values:
                rule.exported_values.append(vid)
    return rule


def read_stig(path: str | Path) -> Benchmark:
    """A DISA manual STIG (`U_…_Manual-xccdf.xml`, XCCDF 1.1) or any XCCDF Benchmark file; a
    source data stream is accepted too (its first Benchmark)."""
    p = Path(path)
    root = parse_xml_file(p, huge_tree=True).getroot()
    if etree.QName(root).localname == "data-stream-collection":
        found = _benchmarks_in(root)
        if not found:
            raise StigscapError("no XCCDF Benchmark in this data stream", file=str(p))
        ocil = ocil_questions(root)
        root = found[0]
    else:
        ocil = {}
    bench = benchmark_from_element(root, filename=p.name, ocil=ocil)
    if not bench.rules:
        raise StigscapError("the STIG has no rules", file=str(p))
    return bench


def _benchmarks_in(el: etree._Element) -> list[etree._Element]:
    out = []
    for b in el.iter(f"{{{ns.XCCDF12}}}Benchmark", f"{{{ns.XCCDF11}}}Benchmark"):
        out.append(b)
    return out


# ---------------------------------------------------------------------------------------------
# ARF


@dataclass
class Asset:
    id: str
    hostname: str = ""
    fqdn: str = ""
    ips: list[str] = field(default_factory=list)
    macs: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.hostname or (self.fqdn.split(".")[0] if self.fqdn else "") or self.id


@dataclass
class RuleResult:
    idref: str
    rule_id: str
    result: str
    time: str = ""
    severity: str = ""
    messages: list[tuple[str, str]] = field(default_factory=list)   # (severity, text)
    instances: list[str] = field(default_factory=list)
    oval_refs: list[tuple[str, str]] = field(default_factory=list)   # (href, definition id)
    fixes: list[str] = field(default_factory=list)


@dataclass
class TestResult:
    id: str
    benchmark_ref: str
    start_time: str
    end_time: str
    test_system: str
    identity: str
    targets: list[str]
    addresses: list[str]
    facts: dict[str, str]
    profile: str
    asset: Asset
    set_values: dict[str, str] = field(default_factory=dict)
    rule_results: dict[str, RuleResult] = field(default_factory=dict)  # by SV-…_rule
    score: str = ""


@dataclass
class OvalItem:
    item_id: str
    result: str                                  # the tested_item result
    records: list[dict[str, str]]                # one dict per record value (field → text)


@dataclass
class OvalTestEvidence:
    test_id: str
    result: str
    items: list[OvalItem]
    decisive: bool = True     # the test decides the definition's result (not outvoted by others)


@dataclass
class OvalResults:
    report_id: str
    definitions: dict[str, str] = field(default_factory=dict)
    _def_tests: dict[str, list[str]] = field(default_factory=dict)
    _def_criteria: dict[str, etree._Element] = field(default_factory=dict)
    _tests: dict[str, tuple[str, list[tuple[str, str]]]] = field(default_factory=dict)
    _items: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def evidence(self, definition_id: str) -> list[OvalTestEvidence]:
        decisive = self.decisive_tests(definition_id)
        out = []
        for tid in self._def_tests.get(definition_id, []):
            result, tested = self._tests.get(tid, ("not evaluated", []))
            items = [OvalItem(iid, ires, self._items.get(iid, [])) for iid, ires in tested]
            out.append(OvalTestEvidence(tid, result, items, tid in decisive))
        return out

    def decisive_tests(self, definition_id: str) -> set[str]:
        """Tests that decide the definition's recorded result, read from the criteria tree
        (operators, negate and each node's result) as the engine's evidence does."""
        out: set[str] = set()

        def walk(node, outcome: str, seen: frozenset) -> None:
            if node.get("negate") in ("true", "1"):
                outcome = negate(outcome)
            kind = _local(node)
            if kind == "criterion":
                out.add(node.get("test_ref", ""))
            elif kind == "extend_definition":
                ref = node.get("definition_ref", "")
                crit = self._def_criteria.get(ref)
                if crit is not None and ref not in seen:
                    walk(crit, outcome, seen | {ref})
            else:
                children = [c for c in node if isinstance(c.tag, str)]
                results = [c.get("result", "") for c in children]
                for i in culprits(node.get("operator", "AND"), results, outcome):
                    walk(children[i], results[i], seen)

        crit = self._def_criteria.get(definition_id)
        if crit is not None:
            walk(crit, self.definitions.get(definition_id, ""), frozenset({definition_id}))
        return out


@dataclass
class ArfReport:
    source: str
    benchmark: Benchmark | None
    test_results: list[TestResult]
    oval: dict[str, OvalResults]

    def oval_for(self, href: str) -> OvalResults | None:
        key = href[1:] if href.startswith("#") else href
        if key in self.oval:
            return self.oval[key]
        return next(iter(self.oval.values()), None) if len(self.oval) == 1 else None


def _asset_from_element(asset_el: etree._Element) -> Asset:
    a = Asset(id=asset_el.get("id", ""))
    for el in asset_el.iter():
        name = _local(el)
        if name == "hostname" and not a.hostname:
            a.hostname = _text(el)
        elif name == "fqdn" and not a.fqdn:
            a.fqdn = _text(el)
        elif name in ("ip-v4", "ip-v6") and _text(el):
            a.ips.append(_text(el))
        elif name == "mac-address" and _text(el):
            a.macs.append(_text(el))
    return a


def _oval_from_element(report_id: str, root: etree._Element) -> OvalResults:
    res = OvalResults(report_id)
    R, SC = ns.OVAL_RES, ns.OVAL_SC
    for system in root.iterfind(f"{{{R}}}results/{{{R}}}system"):
        for d in system.iterfind(f"{{{R}}}definitions/{{{R}}}definition"):
            did = d.get("definition_id", "")
            res.definitions[did] = d.get("result", "")
            res._def_tests[did] = [c.get("test_ref", "") for c in d.iter(f"{{{R}}}criterion")
                                   if c.get("test_ref")]
            crit = d.find(f"{{{R}}}criteria")
            if crit is not None:
                res._def_criteria[did] = crit
        for t in system.iterfind(f"{{{R}}}tests/{{{R}}}test"):
            tested = [(ti.get("item_id", ""), ti.get("result", ""))
                      for ti in t.iterfind(f"{{{R}}}tested_item")]
            res._tests[t.get("test_id", "")] = (t.get("result", ""), tested)
        for sd in system.iter(f"{{{SC}}}system_data"):
            for item in sd:
                if not isinstance(item.tag, str):
                    continue
                records: list[dict[str, str]] = []
                simple: dict[str, str] = {}
                children = [c for c in item if isinstance(c.tag, str)]
                # a cmdlet_item's records are its `value` records; any other item (a
                # registry value, a file's trustee) is one record of its simple entities
                values = [c for c in children if _local(c) == "value"
                          and c.find(f"{{{SC}}}field") is not None]
                for child in values or children:
                    if _local(child) in ("select", "parameters"):   # echoes of the object
                        continue
                    fields = child.findall(f"{{{SC}}}field")
                    if fields:
                        records.append({f.get("name", ""): (element_text(f) or "") for f in fields})
                    elif text := (element_text(child) or "").strip():
                        name = _local(child)   # a repeated entity (REG_MULTI_SZ) lists its values
                        simple[name] = f"{simple[name]}, {text}" if name in simple else text
                res._items[item.get("id", "")] = records or ([simple] if simple else [])
    return res


def _test_result_from_element(tr: etree._Element, assets: dict[str, Asset],
                              is_about: dict[str, str], report_id: str) -> TestResult:
    X = ns.XCCDF12
    q = lambda name: f"{{{X}}}{name}"  # noqa: E731
    bench_el = tr.find(q("benchmark"))
    targets = [_text(t) for t in tr.findall(q("target"))]
    addresses = [_text(t) for t in tr.findall(q("target-address"))]
    facts = {f.get("name", ""): _text(f) for f in tr.iterfind(f"{q('target-facts')}/{q('fact')}")}
    asset_id = ""
    tid = tr.find(q("target-id-ref"))
    if tid is not None:
        asset_id = tid.get("name", "")
    asset_id = asset_id or is_about.get(report_id, "")
    asset = assets.get(asset_id)
    if asset is None:   # no ARF asset: build one from the TestResult like oscap does
        asset = Asset(id=asset_id or report_id, hostname=(
            facts.get("urn:xccdf:fact:asset:identifier:host_name") or (targets or [""])[0]),
            fqdn=facts.get("urn:xccdf:fact:asset:identifier:fqdn", ""), ips=list(addresses),
            macs=[v for k, v in facts.items() if k.endswith(":mac")])
    profile = tr.find(q("profile"))
    identity = tr.find(q("identity"))
    result = TestResult(
        id=tr.get("id", ""), benchmark_ref=(bench_el.get("id") or bench_el.get("href") or "")
        if bench_el is not None else "",
        start_time=tr.get("start-time", ""), end_time=tr.get("end-time", ""),
        test_system=tr.get("test-system", ""), identity=_text(identity), targets=targets,
        addresses=addresses, facts=facts,
        profile=unmangle(profile.get("idref", "")) if profile is not None else "", asset=asset)
    for sv in tr.findall(q("set-value")):
        result.set_values[unmangle(sv.get("idref", ""))] = element_text(sv) or ""
    score = tr.find(q("score"))
    result.score = _text(score)
    for rr in tr.findall(q("rule-result")):
        idref = rr.get("idref", "")
        r = RuleResult(idref=idref, rule_id=unmangle(idref),
                       result=_text(rr.find(q("result"))), time=rr.get("time", ""),
                       severity=rr.get("severity", ""))
        if r.result not in XCCDF_RESULTS:
            raise StigscapError(f"rule-result {idref}: unknown result '{r.result}'")
        r.messages = [(m.get("severity", "info"), _text(m)) for m in rr.findall(q("message"))]
        r.instances = [_text(i) for i in rr.findall(q("instance")) if _text(i)]
        r.fixes = [_prose(f) for f in rr.findall(q("fix")) if _prose(f)]
        for ccr in rr.iterfind(f"{q('check')}/{q('check-content-ref')}"):
            if name := ccr.get("name"):
                r.oval_refs.append((ccr.get("href", ""), name))
        result.rule_results[r.rule_id] = r
    return result


def arf_from_tree(tree: etree._ElementTree | etree._Element, source: str = "<arf>") -> ArfReport:
    """A parsed ARF document → `ArfReport` (pure). Refuses what stigscap cannot use."""
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    A, C = ns.ARF, ns.CORE
    if root.tag != f"{{{A}}}asset-report-collection":
        raise StigscapError(
            f"not an ARF result (root element is {etree.QName(root).localname}, expected "
            "arf:asset-report-collection)", file=source)
    is_about: dict[str, str] = {}
    for rel in root.iterfind(f"{{{C}}}relationships/{{{C}}}relationship"):
        if rel.get("type", "").endswith(":isAbout"):
            ref = rel.find(f"{{{C}}}ref")
            if ref is not None:
                is_about[rel.get("subject", "")] = _text(ref)
    assets = {a.get("id", ""): _asset_from_element(a)
              for a in root.iterfind(f"{{{A}}}assets/{{{A}}}asset")}
    benchmarks: list[etree._Element] = []
    for req in root.iterfind(f"{{{A}}}report-requests/{{{A}}}report-request"):
        benchmarks.extend(_benchmarks_in(req))
    reports = root.find(f"{{{A}}}reports")
    if reports is None:
        raise StigscapError("invalid ARF: no arf:reports element", file=source)
    trs, ovals = [], {}
    for rep in reports.iterfind(f"{{{A}}}report"):
        content = rep.find(f"{{{A}}}content")
        if content is None:
            continue
        for child in content:
            if child.tag == f"{{{ns.XCCDF12}}}TestResult":
                trs.append((rep.get("id", ""), child))
            elif child.tag == f"{{{ns.OVAL_RES}}}oval_results":
                ovals[rep.get("id", "")] = _oval_from_element(rep.get("id", ""), child)
    if not trs:
        raise StigscapError("invalid ARF: no XCCDF 1.2 TestResult report", file=source)
    try:
        test_results = [_test_result_from_element(tr, assets, is_about, rid) for rid, tr in trs]
    except StigscapError as exc:
        raise StigscapError(exc.message, file=source) from None
    for t in test_results:
        if not any(rule_base(r).startswith("SV-") for r in t.rule_results):
            raise StigscapError(
                f"not a STIG result: TestResult {t.id} has no rule-result for a DISA STIG rule "
                "(xccdf_<namespace>_rule_SV-…); stigscap exports only STIG evaluations",
                file=source)
    bench = None
    if benchmarks:
        wanted = {t.benchmark_ref for t in test_results}
        chosen = next((b for b in benchmarks if b.get("id") in wanted), benchmarks[0])
        comp = chosen.getparent()
        fname = ""
        if comp is not None and _local(comp) == "component":
            cid = comp.get("id", "")
            fname = re.sub(r"^scap_[^_]+_comp_", "", cid)
        ocil: dict[str, str] = {}
        for req in root.iterfind(f"{{{A}}}report-requests/{{{A}}}report-request"):
            ocil.update(ocil_questions(req))
        bench = benchmark_from_element(chosen, filename=fname, ocil=ocil)
    return ArfReport(source=source, benchmark=bench, test_results=test_results, oval=ovals)


def read_arf(arf: "str | Path | bytes | etree._Element | etree._ElementTree | ArfReport",
             source: str | None = None) -> ArfReport:
    """Path, bytes, parsed tree or an `ArfReport` (returned as is)."""
    if isinstance(arf, ArfReport):
        return arf
    if isinstance(arf, (etree._Element, etree._ElementTree)):
        return arf_from_tree(arf, source or "<arf>")
    if isinstance(arf, bytes):
        return arf_from_tree(parse_xml_bytes(arf, source or "<arf>", huge_tree=True),
                             source or "<arf>")
    p = Path(arf)
    return arf_from_tree(parse_xml_file(p, huge_tree=True), source or str(p))
