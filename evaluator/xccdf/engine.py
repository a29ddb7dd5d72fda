"""XCCDF 1.2 evaluation (pure): Benchmark + profile + OVAL results → rule results and scores.

Two stages, so a fleet scan pays the XCCDF work once:

* `compile_plan(sds, profile_id, ...)` reads the Benchmark of a `SourceDataStream`: profile
  selection (`select`, `refine-value`, `set-value`, `refine-rule`, `@extends`, tailoring),
  Value resolution, `check-export` → OVAL external variables, and which OVAL components and
  CPE inventory definitions the selected rules need. Nothing here depends on a host.
* `Plan.evaluate(syschar_root)` evaluates those OVAL components against one host's system
  characteristics with the pure OVAL engine and maps definition results to XCCDF results per
  SP 800-126r3 Table 23 (true→pass, false→fail, error→error, unknown→unknown,
  not applicable→notapplicable, not evaluated→notchecked; `@negate` swaps pass and fail),
  then computes the default and flat scores (XCCDF 1.2 §7.3).

Choices where the standards leave room (documented for users):
* A rule whose platform's inventory definition is `false` is `notapplicable`; when the
  inventory definition is `error` or `unknown` the platform could not be decided and the rule
  gets `error` / `unknown` with a message (never a silent notapplicable).
* A rule without a check in a supported system (OVAL) is `notchecked` (manual review).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from lxml import etree

from stigscap.schemas.errors import StigscapError
from stigscap.schemas.namespaces import CPE_LANG, OVAL_DEF, OVAL_SC, XCCDF12
from stigscap.schemas.xmlio import element_text, find_text

from ..oval.engine import (CompiledDefinitions, EntityFailure, OvalEvaluation, TestEvidence,
                           compile_definitions)
from ..oval.logic import culprits, negate
from ..oval.values import Flag, ItemStatus, Operator, OvalResult
from .datastream import Component, SourceDataStream
from .values import XccdfResultType

X = f"{{{XCCDF12}}}"
OVAL_SYSTEM = OVAL_DEF

# SP 800-126r3 Table 23
OVAL_TO_XCCDF: dict[str, XccdfResultType] = {
    OvalResult.TRUE: XccdfResultType.PASS, OvalResult.FALSE: XccdfResultType.FAIL,
    OvalResult.ERROR: XccdfResultType.ERROR, OvalResult.UNKNOWN: XccdfResultType.UNKNOWN,
    OvalResult.NOT_APPLICABLE: XccdfResultType.NOTAPPLICABLE,
    OvalResult.NOT_EVALUATED: XccdfResultType.NOTCHECKED,
}
_NEGATE = {XccdfResultType.PASS: XccdfResultType.FAIL, XccdfResultType.FAIL: XccdfResultType.PASS}
_UNSCORED_RESULTS = {XccdfResultType.NOTAPPLICABLE, XccdfResultType.NOTCHECKED,
                     XccdfResultType.INFORMATIONAL, XccdfResultType.NOTSELECTED}
_PASSING = (XccdfResultType.PASS, XccdfResultType.FIXED)

_ID_NS = re.compile(r"^xccdf_([^_]+)_")


def _bool(text: str | None, default: bool) -> bool:
    if text is None:
        return default
    return text.strip() in ("true", "1")


# --------------------------------------------------------------------------------------------
# compiled Benchmark
@dataclass(frozen=True)
class CheckRef:
    href: str
    name: str | None


@dataclass(frozen=True)
class CheckInfo:
    system: str
    negate: bool
    multi_check: bool
    exports: tuple[tuple[str, str], ...]     # (value id, export-name)
    refs: tuple[CheckRef, ...]
    check_id: str | None = None


@dataclass
class RuleInfo:
    id: str
    version: str | None
    selected: bool
    role: str
    severity: str
    weight: str
    idents: list[tuple[str | None, str]]      # (system, ident)
    checks: list[CheckInfo]
    complex_check: etree._Element | None
    platforms: list[list[str]]               # per level (benchmark, groups…, rule): OR within
    groups: list[str]                        # ancestor group ids, outermost first
    cluster_id: str | None = None


@dataclass
class ValueInfo:
    id: str
    type: str
    default: str
    selectors: dict[str, str]
    interactive: bool = False   # XCCDF @interactive: the site must supply the value


@dataclass(frozen=True)
class Profile:
    id: str
    extends: str | None
    items: tuple[etree._Element, ...]
    title: str = ""


def _parse_check(el: etree._Element) -> CheckInfo:
    return CheckInfo(
        system=el.get("system", ""),
        negate=_bool(el.get("negate"), False),
        multi_check=_bool(el.get("multi-check"), False),
        exports=tuple((e.get("value-id", ""), e.get("export-name", ""))
                      for e in el.iterfind(f"{X}check-export")),
        refs=tuple(CheckRef(r.get("href", ""), r.get("name"))
                   for r in el.iterfind(f"{X}check-content-ref")),
        check_id=el.get("id"),
    )


class GroupInfo(TypedDict):
    selected: bool
    cluster: str | None


class CompiledBenchmark:
    """The host-independent facts of a Benchmark: rules, groups, values, profiles."""

    def __init__(self, benchmark: etree._Element) -> None:
        self.element = benchmark
        self.id = benchmark.get("id")
        m = _ID_NS.match(self.id or "")
        self.id_namespace = m.group(1) if m else "stigscap"
        self.rules: list[RuleInfo] = []
        self.groups: dict[str, GroupInfo] = {}
        self.values: dict[str, ValueInfo] = {}
        self.profiles: dict[str, Profile] = {}
        self.platform_specs: dict[str, etree._Element] = {}
        for spec in benchmark.iter(f"{{{CPE_LANG}}}platform"):
            if spec_id := spec.get("id"):
                self.platform_specs[spec_id] = spec
        for prof in benchmark.iterfind(f"{X}Profile"):
            self.profiles[prof.get("id", "")] = Profile(
                prof.get("id", ""), prof.get("extends"),
                tuple(c for c in prof if isinstance(c.tag, str)),
                (find_text(prof, f"{X}title") or "").strip())
        bench_platforms = [p.get("idref", "") for p in benchmark.iterfind(f"{X}platform")]
        self._walk(benchmark, [bench_platforms] if bench_platforms else [], [])

    def _walk(self, parent: etree._Element, platforms: list[list[str]], groups: list[str]) -> None:
        for child in parent:
            if child.tag == f"{X}Value":
                self._add_value(child)
            elif child.tag == f"{X}Group":
                gid = child.get("id", "")
                self.groups[gid] = {"selected": _bool(child.get("selected"), True),
                                    "cluster": child.get("cluster-id")}
                plats = [p.get("idref", "") for p in child.iterfind(f"{X}platform")]
                self._walk(child, platforms + ([plats] if plats else []), groups + [gid])
            elif child.tag == f"{X}Rule":
                plats = [p.get("idref", "") for p in child.iterfind(f"{X}platform")]
                checks = [_parse_check(c) for c in child.iterfind(f"{X}check")]
                self.rules.append(RuleInfo(
                    id=child.get("id", ""),
                    version=find_text(child, f"{X}version"),
                    selected=_bool(child.get("selected"), True),
                    role=child.get("role", "full"),
                    severity=child.get("severity", "unknown"),
                    weight=child.get("weight", "1.0"),
                    idents=[(i.get("system"), (element_text(i) or "").strip())
                            for i in child.iterfind(f"{X}ident")],
                    checks=checks,
                    complex_check=child.find(f"{X}complex-check"),
                    platforms=platforms + ([plats] if plats else []),
                    groups=list(groups),
                    cluster_id=child.get("cluster-id"),
                ))

    def _add_value(self, el: etree._Element) -> None:
        default = None
        selectors: dict[str, str] = {}
        for v in el.iterfind(f"{X}value"):
            sel = v.get("selector")
            if sel:
                selectors[sel] = element_text(v) or ""
            elif default is None:
                default = element_text(v) or ""
        if default is None:
            first = el.find(f"{X}value")
            default = (element_text(first) or "") if first is not None else ""
        vid = el.get("id", "")
        self.values[vid] = ValueInfo(vid, el.get("type", "string"), default, selectors,
                                     _bool(el.get("interactive"), False))

    # --- id helpers -------------------------------------------------------------------------
    def full_id(self, kind: str, short: str) -> str:
        """`receive_connector_authmechanism` → `xccdf_<ns>_value_receive_connector_authmechanism`."""
        if short.startswith("xccdf_"):
            return short
        return f"xccdf_{self.id_namespace}_{kind}_{short}"

    def rule_id(self, text: str) -> str:
        """A rule by full id, short id (SV-84553r1_rule) or STIG id (EX13-EG-000340)."""
        ids = {r.id for r in self.rules}
        for candidate in (text, self.full_id("rule", text)):
            if candidate in ids:
                return candidate
        by_version = [r.id for r in self.rules if r.version == text]
        if len(by_version) == 1:
            return by_version[0]
        raise StigscapError(f"no rule {text!r} in benchmark {self.id} (give a rule id, its short "
                            "form SV-…_rule, or the STIG id)")

    def profile_id(self, short: str) -> str:
        if short in self.profiles:
            return short
        full = self.full_id("profile", short)
        if full in self.profiles:
            return full
        # a benchmark of a multi-benchmark collection tags its profile ids (`….<platform id>`,
        # unique in the collection): the untagged id names the one tagged profile
        tagged = [p for p in self.profiles if p.startswith(full + ".") and "." not in
                  p[len(full) + 1:] and "." not in short]
        if len(tagged) == 1:
            return tagged[0]
        available = ", ".join(self.profiles) or "(none)"
        raise StigscapError(f"no profile {short!r} in benchmark {self.id}; available profiles: "
                            f"{available}")


@dataclass
class Resolution:
    """Selection and values after profile, tailoring and command-line overrides."""

    profile: Profile | None
    rule_selected: dict[str, bool]
    group_selected: dict[str, bool]
    values: dict[str, str]
    rule_refine: dict[str, dict[str, str]] = field(default_factory=dict)
    explicit: set[str] = field(default_factory=set)  # Values set by profile, tailoring or CLI


def parse_tailoring(root: etree._Element) -> dict[str, Profile]:
    """Profiles of an XCCDF 1.2 Tailoring document (keyed by id)."""
    if root.tag != f"{X}Tailoring":
        raise StigscapError("tailoring file is not an XCCDF 1.2 Tailoring document")
    return {p.get("id", ""): Profile(p.get("id", ""), p.get("extends"),
                                 tuple(c for c in p if isinstance(c.tag, str)),
                                 (find_text(p, f"{X}title") or "").strip())
            for p in root.iterfind(f"{X}Profile")}


def resolve(bench: CompiledBenchmark, profile_id: str | None, *,
            tailoring: Mapping[str, Profile] | None = None,
            set_values: Mapping[str, str] | None = None,
            refine_values: Mapping[str, str] | None = None,
            rules: Sequence[str] = (), skip_rules: Sequence[str] = ()) -> Resolution:
    """Selection and values: the benchmark's defaults, then the profile (a tailoring profile
    by its id), then the command line's values; `rules` (oscap's --rule) leaves only those of
    the selected rules selected and `skip_rules` (--skip-rule) unselects rules."""
    profiles = dict(bench.profiles)
    profiles.update(tailoring or {})
    rule_sel = {r.id: r.selected for r in bench.rules}
    group_sel = {g: info["selected"] for g, info in bench.groups.items()}
    values = {vid: v.default for vid, v in bench.values.items()}
    refine: dict[str, dict[str, str]] = {}
    explicit: set[str] = set()
    profile = None

    def set_value(vid: str, text: str) -> None:
        values[vid] = text
        explicit.add(vid)

    def refine_value(vid: str, selector: str, where: str) -> None:
        info = bench.values.get(vid)
        if info is None:
            raise StigscapError(f"{where}: refine-value of unknown Value {vid!r}")
        if selector not in info.selectors:
            raise StigscapError(f"{where}: Value {vid} has no selector {selector!r}; selectors: "
                                f"{', '.join(info.selectors) or '(none)'}")
        values[vid] = info.selectors[selector]
        explicit.add(vid)

    def apply(p: Profile, seen: tuple[str, ...]) -> None:
        if p.extends:
            if p.extends in seen:
                raise StigscapError(f"profile {p.id} extends itself (cycle)")
            parent = profiles.get(p.extends)
            if parent is None:
                raise StigscapError(f"profile {p.id} extends unknown profile {p.extends!r}")
            apply(parent, seen + (p.id,))
        for item in p.items:
            tag = etree.QName(item).localname
            idref = item.get("idref", "")
            if tag == "select":
                sel = _bool(item.get("selected"), True)
                hit = False
                if idref in rule_sel:
                    rule_sel[idref] = sel
                    hit = True
                if idref in group_sel:
                    group_sel[idref] = sel
                    hit = True
                if not hit:  # cluster-id
                    for r in bench.rules:
                        if r.cluster_id == idref:
                            rule_sel[r.id] = sel
                    for g, info in bench.groups.items():
                        if info["cluster"] == idref:
                            group_sel[g] = sel
            elif tag == "refine-value":
                if (selector := item.get("selector")) is not None:
                    refine_value(idref, selector, f"profile {p.id}")
            elif tag == "set-value":
                if idref not in bench.values:
                    raise StigscapError(f"profile {p.id}: set-value of unknown Value {idref!r}")
                set_value(idref, element_text(item) or "")
            elif tag == "refine-rule":
                refined = refine.setdefault(idref, {})
                for attr in ("weight", "severity", "role"):
                    if (given := item.get(attr)) is not None:
                        refined[attr] = given

    if profile_id is not None:
        if profile_id not in profiles:
            try:
                profile_id = bench.profile_id(profile_id)
            except StigscapError:
                full = bench.full_id("profile", profile_id)
                if full in profiles:
                    profile_id = full
                else:
                    raise
        profile = profiles[profile_id]
        apply(profile, ())
    for vid, selector in (refine_values or {}).items():
        refine_value(bench.full_id("value", vid), selector, "--refine-value")
    for vid, text in (set_values or {}).items():
        full = bench.full_id("value", vid)
        if full not in bench.values:
            raise StigscapError(f"--set-value: unknown Value {vid!r}; values: "
                                f"{', '.join(bench.values) or '(none)'}")
        set_value(full, text)
    if rules:
        keep = {bench.rule_id(r) for r in rules}
        for rid in rule_sel:
            if rid not in keep:
                rule_sel[rid] = False
    for r in skip_rules:
        rule_sel[bench.rule_id(r)] = False
    return Resolution(profile, rule_sel, group_sel, values, refine, explicit)


# --------------------------------------------------------------------------------------------
# results
@dataclass
class RuleResult:
    idref: str
    result: XccdfResultType
    role: str
    severity: str
    weight: str
    version: str | None
    idents: list[tuple[str | None, str]]
    check: CheckInfo | None = None
    check_ref: CheckRef | None = None       # the reference actually evaluated
    check_component: str | None = None      # ds:component id of the OVAL document used
    messages: list[tuple[str, str]] = field(default_factory=list)  # (severity, text)
    instances: list[str] = field(default_factory=list)   # the objects that cause the result
    # the same per OVAL object id (not written to the ARF; the run table uses it)
    object_instances: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Score:
    system: str
    value: str
    maximum: str


@dataclass
class OvalRun:
    """One OVAL component evaluated for one host."""

    component: Component
    evaluation: OvalEvaluation
    variables: dict[str, list[str]]


@dataclass
class XccdfResult:
    rule_results: list[RuleResult]
    scores: list[Score]
    set_values: list[tuple[str, str]]       # exported Values (id, value)
    oval_runs: list[OvalRun]                # compliance components first, then inventory


OvalEvaluate = Callable[[etree._Element, etree._Element, Mapping[str, Sequence[str]]],
                        OvalEvaluation]


@dataclass
class _ComponentPlan:
    component: Component
    variables: dict[str, list[str]] = field(default_factory=dict)
    compiled: CompiledDefinitions | None = None     # built on first use


class Plan:
    """Benchmark + profile resolved once; `evaluate()` judges one host."""

    def __init__(self, sds: SourceDataStream, bench: CompiledBenchmark, res: Resolution,
                 oval_evaluate: OvalEvaluate | None = None) -> None:
        self.sds = sds
        self.bench = bench
        self.resolution = res
        self._custom_oval = oval_evaluate
        self.compliance: dict[str, _ComponentPlan] = {}   # component id → plan
        self.inventory: dict[str, _ComponentPlan] = {}
        self.platform_defs: dict[str, tuple[str, str] | None] = {}  # cpe → (comp id, def id)
        self.platform_problems: dict[str, str] = {}   # platform → why it cannot be evaluated
        self.exported: dict[str, str] = {}                # value id → value
        self.rule_checks: dict[str, tuple[CheckInfo, CheckRef, Component] | None] = {}
        self._labels: dict[str, dict[str, tuple[str, dict[str, str]]]] = {}
        self._needed_objects: set[str] | None = None

        for rule in bench.rules:
            if not self.is_selected(rule):
                continue
            for level in rule.platforms:
                for name in level:
                    self._plan_platform(name)
            chosen = None
            for check in rule.checks:
                if check.system != OVAL_SYSTEM:
                    continue
                for ref in check.refs:
                    comp = sds.check_component(ref.href)
                    chosen = (check, ref, comp)
                    break
                if chosen:
                    break
            self.rule_checks[rule.id] = chosen
            if chosen:
                check, _, comp = chosen
                cplan = self.compliance.setdefault(comp.id, _ComponentPlan(comp))
                for value_id, export_name in check.exports:
                    if value_id not in res.values:
                        raise StigscapError(f"rule {rule.id} exports unknown Value {value_id!r}")
                    text = res.values[value_id]
                    cplan.variables[export_name] = [text]
                    self.exported[value_id] = text
            elif rule.complex_check is not None:
                for cel in rule.complex_check.iter(f"{X}check"):
                    ci = _parse_check(cel)
                    if ci.system == OVAL_SYSTEM and ci.refs:
                        comp = sds.check_component(ci.refs[0].href)
                        cplan = self.compliance.setdefault(comp.id, _ComponentPlan(comp))
                        for value_id, export_name in ci.exports:
                            cplan.variables[export_name] = [res.values.get(value_id, "")]
                            self.exported[value_id] = res.values.get(value_id, "")

        # A definition that only notchecked rules (an organization-defined Value nobody set)
        # refer to is not analysed: the OVAL results report it 'not evaluated', the result
        # SP 800-126r3 Table 23 maps to notchecked (RES-126), not a verdict on a made-up value.
        self.not_evaluated: dict[str, dict[str, str]] = {}   # component id → {def id: why}
        used: set[tuple[str, str | None]] = set()
        for rule in bench.rules:
            if not self.is_selected(rule):
                continue
            chosen = self.rule_checks.get(rule.id)
            if chosen:
                _check, ref, comp = chosen
                unset = self.unset_values(rule)
                if unset and ref.name:
                    self.not_evaluated.setdefault(comp.id, {})[ref.name] = (
                        f"not evaluated: rule {rule.id} is notchecked, its organization-defined "
                        f"Value {', '.join(unset)} is not set")
                else:
                    used.add((comp.id, ref.name))
            elif rule.complex_check is not None:
                for cel in rule.complex_check.iter(f"{X}check"):
                    ci = _parse_check(cel)
                    if ci.system == OVAL_SYSTEM and ci.refs:
                        comp = sds.check_component(ci.refs[0].href)
                        used.add((comp.id, ci.refs[0].name))
        for cid, defs in self.not_evaluated.items():
            for def_id in [d for d in defs if (cid, d) in used or (cid, None) in used]:
                del defs[def_id]

    def unset_values(self, rule: RuleInfo) -> list[str]:
        """Organization-defined (XCCDF @interactive) Values the rule's check exports that no
        profile, tailoring or command line set."""
        chosen = self.rule_checks.get(rule.id)
        return list(dict.fromkeys(
            vid for vid, _ in (chosen[0].exports if chosen else ())
            if vid in self.bench.values and self.bench.values[vid].interactive
            and vid not in self.resolution.explicit))

    def _plan_platform(self, name: str) -> None:
        names = [name]
        if name.startswith("#"):
            spec = self.bench.platform_specs.get(name[1:])
            if spec is None:
                self.platform_problems[name] = (f"no cpe-lang:platform with id {name[1:]!r} "
                                                f"in benchmark {self.bench.id}")
                return
            names = [f.get("name", "") for f in spec.iter(f"{{{CPE_LANG}}}fact-ref")]
            for other in spec.iter():
                if isinstance(other.tag, str) and etree.QName(other).localname not in (
                        "platform", "logical-test", "fact-ref", "title", "remark"):
                    self.platform_problems[name] = (
                        f"platform {name[1:]} uses cpe-lang:{etree.QName(other).localname}, "
                        "which stigscap does not evaluate")
        for n in names:
            if n in self.platform_defs:
                continue
            try:
                comp, def_id = self.sds.platform_check(n)
            except StigscapError as exc:
                self.platform_defs[n] = None
                self.platform_problems[n] = exc.message
                continue
            self.inventory.setdefault(comp.id, _ComponentPlan(comp))
            self.platform_defs[n] = (comp.id, def_id)

    def is_selected(self, rule: RuleInfo) -> bool:
        res = self.resolution
        if not res.rule_selected.get(rule.id, rule.selected):
            return False
        return all(res.group_selected.get(g, True) for g in rule.groups)

    # --- per host ---------------------------------------------------------------------------
    def _object_ids(self) -> set[str]:
        if self._needed_objects is None:
            ids: set[str] = set()
            for cplan in list(self.compliance.values()) + list(self.inventory.values()):
                objs = cplan.component.root.find(f"{{{OVAL_DEF}}}objects")
                if objs is not None:
                    ids.update(o.get("id", "") for o in objs if isinstance(o.tag, str))
            self._needed_objects = ids
        return self._needed_objects

    def check_syschar(self, syschar_root: etree._Element) -> None:
        """Refuse system characteristics that collected none of the objects the checks need."""
        needed = self._object_ids()
        if not needed:
            return
        collected = syschar_root.find(f"{{{OVAL_SC}}}collected_objects")
        have = {o.get("id", "") for o in collected} if collected is not None else set()
        if not needed & have:
            sample = ", ".join(sorted(needed)[:3])
            raise StigscapError("the system characteristics do not match the data stream: none "
                                f"of its OVAL objects ({sample}...) was collected")

    def evaluate(self, syschar_root: etree._Element) -> XccdfResult:
        self.check_syschar(syschar_root)
        runs: dict[str, OvalRun] = {}
        for cid, cplan in self._component_plans():
            if cid in runs:
                continue
            if self._custom_oval is not None:
                ev = self._custom_oval(cplan.component.root, syschar_root, cplan.variables)
            else:
                ev = self._compiled(cplan).evaluate(syschar_root, cplan.variables,
                                                    not_evaluated=self.not_evaluated.get(cid))
            runs[cid] = OvalRun(cplan.component, ev, cplan.variables)
        return self.results(runs, syschar_root)

    def _component_plans(self) -> list[tuple[str, _ComponentPlan]]:
        return list(self.compliance.items()) + list(self.inventory.items())

    def _compiled(self, cplan: _ComponentPlan) -> CompiledDefinitions:
        if cplan.compiled is None:
            cplan.compiled = compile_definitions(cplan.component.root)
        return cplan.compiled

    def compiled_components(self) -> list[CompiledDefinitions]:
        """The compiled OVAL documents `evaluate` runs (each once)."""
        out: dict[str, CompiledDefinitions] = {}
        for cid, cplan in self._component_plans():
            out.setdefault(cid, self._compiled(cplan))
        return list(out.values())

    def stream_problem(self) -> str | None:
        """Why the OVAL runs cannot take the system characteristics item by item (None: they
        can; see `start_stream`)."""
        if self._custom_oval is not None:
            return "a custom OVAL evaluator is used"
        for c in self.compiled_components():
            problem = c.stream_problem()
            if problem:
                return problem
        return None

    def start_stream(self, syschar_head: etree._Element, *, explain: bool = True
                     ) -> dict[str, OvalRun]:
        """The OVAL runs of `evaluate`, fed item by item (`OvalEvaluation.feed_item`):
        `syschar_head` holds the document's collected_objects. Finish the evaluations
        (`finish_stream`), then call `results`."""
        self.check_syschar(syschar_head)
        runs: dict[str, OvalRun] = {}
        for cid, cplan in self._component_plans():
            if cid not in runs:
                ev = self._compiled(cplan).start_stream(
                    syschar_head, cplan.variables, not_evaluated=self.not_evaluated.get(cid),
                    explain=explain)
                runs[cid] = OvalRun(cplan.component, ev, cplan.variables)
        return runs

    def results(self, runs: Mapping[str, OvalRun], syschar_root: etree._Element,
                items: Mapping[str, etree._Element] | None = None) -> XccdfResult:
        """Rule results and scores from the OVAL runs. `items`: the items of system_data by
        id when `syschar_root` does not hold them (a streamed document)."""
        platform_result: dict[str, OvalResult] = {}
        for name, where in self.platform_defs.items():
            if where is None:
                # a CPE name nobody can check: undecidable
                platform_result[name] = OvalResult.ERROR
            else:
                cid, def_id = where
                platform_result[name] = runs[cid].evaluation.definition_results.get(
                    def_id, OvalResult.UNKNOWN)

        ctx = _HostContext(syschar_root, items)
        results = [self._rule_result(rule, runs, platform_result, ctx)
                   for rule in self.bench.rules]
        scores = compute_scores(self.bench, results)
        set_values = [(vid, v) for vid, v in self.exported.items()]
        ordered = [runs[c] for c in self.compliance] + [runs[c] for c in self.inventory
                                                        if c not in self.compliance]
        return XccdfResult(results, scores, set_values, ordered)

    def _platform_state(self, rule: RuleInfo, platform_result: Mapping[str, OvalResult]
                        ) -> tuple[OvalResult, Sequence[str]]:
        """'true' applicable, 'false' not applicable (with the platforms that missed), or
        'error'/'unknown' undecidable."""
        overall = OvalResult.TRUE
        undecided: list[str] = []
        for level in rule.platforms:
            level_results: list[OvalResult] = []
            for name in level:
                if name in self.platform_problems:
                    level_results.append(OvalResult.ERROR)
                elif name.startswith("#"):
                    level_results.append(self._cpe_lang(self.bench.platform_specs[name[1:]],
                                                        platform_result))
                else:
                    level_results.append(platform_result.get(name, OvalResult.ERROR))
            if OvalResult.TRUE in level_results:
                continue
            if OvalResult.ERROR in level_results:
                overall = OvalResult.ERROR
                undecided.extend(n for n, r in zip(level, level_results) if r == OvalResult.ERROR)
            elif OvalResult.UNKNOWN in level_results:
                if overall != OvalResult.ERROR:
                    overall = OvalResult.UNKNOWN
                undecided.extend(n for n, r in zip(level, level_results)
                                 if r == OvalResult.UNKNOWN)
            else:
                return OvalResult.FALSE, level
        return overall, undecided

    def _undecided_text(self, state: OvalResult, names: Sequence[str]) -> list[str]:
        """Why applicability could not be decided, one line per platform."""
        out: list[str] = []
        for name in names:
            problems = [self.platform_problems[n] for n in self._platform_names(name)
                        if n in self.platform_problems]
            if problems:
                out.extend(f"platform {name} cannot be evaluated: {p}" for p in problems)
                continue
            defs = [where[1] for n in self._platform_names(name)
                    if (where := self.platform_defs.get(n))]
            out.append(f"platform {name}: the inventory check "
                       + (f"({', '.join(defs)}) " if defs else "") + f"gave '{state}'")
        return out or [f"the platform inventory check gave '{state}'"]

    def _platform_names(self, name: str) -> list[str]:
        if name in self.platform_problems or not name.startswith("#"):
            return [name]
        spec = self.bench.platform_specs.get(name[1:])
        return [name] + ([f.get("name", "") for f in spec.iter(f"{{{CPE_LANG}}}fact-ref")]
                         if spec is not None else [])

    def _not_applicable_text(self, names: Sequence[str]) -> str:
        parts = []
        for name in names:
            where = self.platform_defs.get(name)
            if where is not None:
                parts.append(f"{name} (inventory definition {where[1]} is not true)")
            else:
                parts.append(name)
        return "the target is not the platform of this rule: " + ", ".join(parts)

    def _cpe_lang(self, el: etree._Element, platform_result: Mapping[str, OvalResult]
                  ) -> OvalResult:
        tests = [c for c in el if etree.QName(c).localname in ("logical-test", "fact-ref")]
        vals: list[OvalResult] = []
        for t in tests:
            if etree.QName(t).localname == "fact-ref":
                vals.append(platform_result.get(t.get("name", ""), OvalResult.ERROR))
            else:
                op = t.get("operator", "AND").upper()
                sub = [self._cpe_lang(c, platform_result)
                       if etree.QName(c).localname == "logical-test"
                       else platform_result.get(c.get("name", ""), OvalResult.ERROR) for c in t
                       if isinstance(c.tag, str)]
                v = _combine(op, sub)
                if _bool(t.get("negate"), False):
                    v = negate(v)
                vals.append(v)
        return _combine(Operator.AND, vals) if vals else OvalResult.ERROR

    def _rule_result(self, rule: RuleInfo, runs: Mapping[str, OvalRun],
                     platform_result: Mapping[str, OvalResult], ctx: _HostContext
                     ) -> RuleResult:
        refine = self.resolution.rule_refine.get(rule.id, {})
        rr = RuleResult(idref=rule.id, result=XccdfResultType.NOTSELECTED,
                        role=refine.get("role", rule.role),
                        severity=refine.get("severity", rule.severity),
                        weight=refine.get("weight", rule.weight),
                        version=rule.version, idents=rule.idents)
        chosen = self.rule_checks.get(rule.id)
        if chosen:
            rr.check, rr.check_ref, comp = chosen
            rr.check_component = comp.id
        if not self.is_selected(rule):
            return rr
        state, missed = self._platform_state(rule, platform_result)
        if state == OvalResult.FALSE:
            rr.result = XccdfResultType.NOTAPPLICABLE
            rr.messages.append(("info", self._not_applicable_text(missed)))
            return rr
        if state in (OvalResult.ERROR, OvalResult.UNKNOWN):
            rr.result = XccdfResultType(state)    # error or unknown, the same word in both
            for line in self._undecided_text(state, missed):
                rr.messages.append(("error" if state == OvalResult.ERROR else "warning",
                                    f"{line}: applicability of this rule could not be decided"))
            return rr
        if rr.role == "unchecked":
            rr.result = XccdfResultType.NOTCHECKED
            return rr
        unset = self.unset_values(rule)
        if unset:
            # an organization-defined value nobody supplied: the check cannot decide honestly
            rr.result = XccdfResultType.NOTCHECKED
            for vid in unset:
                rr.messages.append(("warning", f"Value {vid} is organization-defined and was not "
                                               "set: give it in a tailoring file, a profile or "
                                               "--set-value/--refine-value; manual review required"))
        elif chosen:
            check, ref, comp = chosen
            run = runs[comp.id]
            rr.result = self._check_result(check, ref, run, rr, ctx)
        elif rule.complex_check is not None:
            rr.result = self._complex(rule.complex_check, runs, rr, ctx)
        else:
            rr.result = XccdfResultType.NOTCHECKED
            rr.messages.append(("info", "no automated check: manual review required"))
        return rr

    def _check_result(self, check: CheckInfo, ref: CheckRef, run: OvalRun, rr: RuleResult,
                      ctx: _HostContext) -> XccdfResultType:
        results = run.evaluation.definition_results
        if ref.name:
            oval = results.get(ref.name)
            if oval is None:
                rr.messages.append(("error", f"OVAL definition {ref.name} not found in {ref.href}"))
                return XccdfResultType.ERROR
            names = [ref.name]
        else:
            names = sorted(results)
            oval = _combine_oval([results[n] for n in names])
            # evidence from the definitions that decide the combined result
            names = [names[i] for i in culprits(Operator.AND, [results[n] for n in names], oval)]
        result = OVAL_TO_XCCDF.get(oval, XccdfResultType.ERROR)
        if check.negate:
            result = _NEGATE.get(result, result)
        if result in (XccdfResultType.FAIL, XccdfResultType.ERROR, XccdfResultType.UNKNOWN):
            labels = self._labels.get(run.component.id)
            if labels is None:
                labels = self._labels[run.component.id] = object_labels(run.component.root)
            for n in names:
                for test in add_evidence(rr, run.evaluation, n, labels):
                    for msg in ctx.collection_messages(test.object_id):
                        if ("info", msg) not in rr.messages:
                            rr.messages.append(("info", msg))
        return result

    def _complex(self, el: etree._Element, runs: Mapping[str, OvalRun], rr: RuleResult,
                 ctx: _HostContext) -> XccdfResultType:
        op = el.get("operator", "AND").upper()
        sub: list[XccdfResultType] = []
        for child in el:
            if child.tag == f"{X}check":
                ci = _parse_check(child)
                if ci.system != OVAL_SYSTEM or not ci.refs:
                    sub.append(XccdfResultType.NOTCHECKED)
                    continue
                comp = self.sds.check_component(ci.refs[0].href)
                sub.append(self._check_result(ci, ci.refs[0], runs[comp.id], rr, ctx))
            elif child.tag == f"{X}complex-check":
                sub.append(self._complex(child, runs, rr, ctx))
        result = _xccdf_combine(op, sub)
        if _bool(el.get("negate"), False):
            result = _NEGATE.get(result, result)
        return result


class _HostContext:
    """Per-host lookups for evidence: collector messages of a collected object and its items."""

    def __init__(self, syschar_root: etree._Element,
                 items: Mapping[str, etree._Element] | None = None) -> None:
        self.root = syschar_root
        self._items = items
        self._objects: dict[str, list[str]] | None = None

    def collection_messages(self, object_id: str | None) -> list[str]:
        if not object_id:
            return []
        if self._objects is None:
            items: Mapping[str, etree._Element] | dict[str, etree._Element]
            if self._items is not None:
                items = self._items
            else:
                items = {}
                data = self.root.find(f"{{{OVAL_SC}}}system_data")
                if data is not None:
                    for el in data:
                        if isinstance(el.tag, str):
                            items[el.get("id", "")] = el
            self._objects = {}
            coll = self.root.find(f"{{{OVAL_SC}}}collected_objects")
            for obj in coll if coll is not None else []:
                msgs: list[str] = []
                if obj.get("flag", Flag.COMPLETE) != Flag.COMPLETE:
                    msgs = [f"collector (object flag {obj.get('flag')}): {text.strip()}"
                            for m in obj.iterfind(f"{{{OVAL_SC}}}message")
                            if (text := element_text(m))]
                for ref in obj.iterfind(f"{{{OVAL_SC}}}reference"):
                    item = items.get(ref.get("item_ref", ""))
                    if item is None or item.get("status", ItemStatus.EXISTS) == ItemStatus.EXISTS:
                        continue
                    for m in item.iterfind(f"{{{OVAL_SC}}}message"):
                        text = element_text(m)
                        if text:
                            msgs.append(f"collector (item {ref.get('item_ref')}, status "
                                        f"{item.get('status')}): {text.strip()}")
                self._objects[obj.get("id", "")] = msgs
        return self._objects.get(object_id, [])


def _combine(op: str, vals: Sequence[OvalResult]) -> OvalResult:
    if op == Operator.OR:
        if OvalResult.TRUE in vals:
            return OvalResult.TRUE
        for bad in (OvalResult.ERROR, OvalResult.UNKNOWN):
            if bad in vals:
                return bad
        return OvalResult.FALSE
    if OvalResult.FALSE in vals:
        return OvalResult.FALSE
    for bad in (OvalResult.ERROR, OvalResult.UNKNOWN):
        if bad in vals:
            return bad
    return OvalResult.TRUE


def _combine_oval(vals: Sequence[OvalResult]) -> OvalResult:
    core = [v for v in vals if v not in (OvalResult.NOT_APPLICABLE, OvalResult.NOT_EVALUATED)]
    if not core:
        return vals[0] if vals else OvalResult.UNKNOWN
    return _combine(Operator.AND, core)


# XCCDF 1.2 Table 26/27 (complex-check AND / OR)
_R = XccdfResultType
_ORDER_AND = [_R.FAIL, _R.UNKNOWN, _R.ERROR, _R.NOTCHECKED, _R.PASS]   # first present wins
_ORDER_OR = [_R.PASS, _R.UNKNOWN, _R.ERROR, _R.NOTCHECKED, _R.FAIL]


def _xccdf_combine(op: str, vals: Sequence[XccdfResultType]) -> XccdfResultType:
    vals = [v for v in vals if v not in (_R.NOTAPPLICABLE, _R.NOTSELECTED, _R.INFORMATIONAL)]
    if not vals:
        return _R.NOTAPPLICABLE
    vals = [_R.PASS if v == _R.FIXED else v for v in vals]
    order = _ORDER_OR if op == Operator.OR else _ORDER_AND
    if op == Operator.OR:
        # unknown beats error in the OR table only when no pass; error beats unknown otherwise
        if _R.PASS in vals:
            return _R.PASS
        if _R.ERROR in vals:
            return _R.ERROR
    else:
        if _R.FAIL in vals:
            return _R.FAIL
        if _R.ERROR in vals:
            return _R.ERROR
    return next((o for o in order if o in vals), _R.UNKNOWN)


# --------------------------------------------------------------------------------------------
# evidence
_OPERATION_PHRASE = {
    "pattern match": "match", "equals": "equal", "not equal": "differ from",
    "case insensitive equals": "equal (ignoring case)",
    "case insensitive not equal": "differ (ignoring case) from",
    "greater than": "be greater than", "less than": "be less than",
    "greater than or equal": "be at least", "less than or equal": "be at most",
    "bitwise and": "have the bits of", "bitwise or": "have some bits of",
}


def object_labels(defs_root: etree._Element) -> dict[str, tuple[str, dict[str, str]]]:
    """obj id → (human noun, {lowercase field name: property as written}) for evidence text."""
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for obj in defs_root.iter():
        obj_id = obj.get("id", "")
        if not isinstance(obj.tag, str) or not obj_id.count(":obj:"):
            continue
        noun = None
        fields: dict[str, str] = {}
        if etree.QName(obj).localname == "registry_object":
            # evidence names the value itself: hive\key\name (the "@instance" pseudo-field)
            parts = {etree.QName(c).localname: element_text(c) or "" for c in obj
                     if isinstance(c.tag, str)}
            path = "\\".join(p for p in (parts.get("hive"), parts.get("key"), parts.get("name"))
                              if p)
            out[obj_id] = ("Registry value", {"@instance": path})
            continue
        if etree.QName(obj).localname == "fileeffectiverights53_object":
            # evidence names the trustee (its SID, the "@instance_entity" the items carry)
            parts = {etree.QName(c).localname: element_text(c) or "" for c in obj
                     if isinstance(c.tag, str)}
            where = parts.get("filepath") or "\\".join(
                p for p in (parts.get("path"), parts.get("filename")) if p)
            out[obj_id] = (f"Trustee of {where}", {"@instance_entity": "trustee_sid"})
            continue
        for child in obj:
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            if local == "noun" and (noun_text := element_text(child)):
                noun = re.sub(r"(?<=[a-z0-9])([A-Z])", r" \1", noun_text.strip())
                noun = noun[:1] + noun[1:].lower()
            elif local == "select":
                for f in child:
                    if isinstance(f.tag, str) and (name := f.get("name")) and \
                            (prop := element_text(f)):
                        fields[name] = prop.strip()
        out[obj_id] = (noun or "Item", fields)
    return out


def add_evidence(rr: RuleResult, evaluation: OvalEvaluation, def_id: str,
                 labels: Mapping[str, tuple[str, dict[str, str]]] | None = None
                 ) -> list[TestEvidence]:
    """Human lines (message) and the identities (instance) of exactly the objects that cause
    the definition's result, from the OVAL engine."""
    try:
        evidence = list(evaluation.evidence(def_id))
    except Exception as exc:  # noqa: BLE001 - evidence is best effort, the verdict stands
        rr.messages.append(("warning", f"no evidence available for {def_id}: {exc}"))
        return []
    # membership in sets, not in the growing lists: a test over 100,000 connectors gives as
    # many lines, and `x not in list` per line made this quadratic
    seen_messages = set(rr.messages)
    seen_instances = set(rr.instances)
    for test in evidence:
        per_object = rr.object_instances.setdefault(test.object_id or "", [])
        seen_per_object = set(per_object)
        for line, instance in evidence_lines([test], labels or {}):
            if line and ("info", line) not in seen_messages:
                seen_messages.add(("info", line))
                rr.messages.append(("info", line))
            if instance and instance not in seen_instances:
                seen_instances.add(instance)
                rr.instances.append(instance)
            if instance and instance not in seen_per_object:
                seen_per_object.add(instance)
                per_object.append(instance)
    return evidence


_SATISFIED_PHRASE = {
    "pattern match": "matches", "equals": "equals", "not equal": "differs from",
    "case insensitive equals": "equals (ignoring case)",
    "case insensitive not equal": "differs (ignoring case) from",
    "greater than": "is greater than", "less than": "is less than",
    "greater than or equal": "is at least", "less than or equal": "is at most",
    "bitwise and": "has the bits of", "bitwise or": "has some bits of",
}


def _expected_text(failure: EntityFailure) -> str:
    expected = list(failure.expected or [])
    phrase = _OPERATION_PHRASE.get(failure.operation, failure.operation)
    if not expected:
        return f"expected to {phrase} a value that was not provided"
    return f"expected to {phrase} " + " or ".join(expected)


def _reason(f: EntityFailure, props: Mapping[str, str]) -> str:
    """One decisive comparison: what was collected and how it stands to the state."""
    prop = props.get(f.field or "", f.field or f.entity)
    actual = ", ".join(f"'{a}'" for a in f.actual) if f.actual else "missing"
    if f.result == OvalResult.TRUE:
        phrase = _SATISFIED_PHRASE.get(f.operation, f"satisfies {f.operation}")
        return f"{prop} is {actual} ({phrase} {' or '.join(f.expected)})"
    reason = f"{prop} is {actual}; {_expected_text(f)}"
    if f.result != OvalResult.FALSE:
        reason += f" (result {f.result}{': ' + f.message if f.message else ''})"
    return reason


def evidence_lines(evidence: Sequence[TestEvidence] | None,
                   labels: Mapping[str, tuple[str, dict[str, str]]]
                   ) -> list[tuple[str, str | None]]:
    """Turn OVAL TestEvidence into (message line, instance) pairs a human can act on: one
    line per object (record or item) that decides the result, and why."""
    out: list[tuple[str, str | None]] = []
    for test in evidence or []:
        noun, props = labels.get(test.object_id or "", ("Item", {}))
        emitted = False
        for item in test.items:
            for rec in item.records:
                name = rec.fields.get("name")
                ident = rec.fields.get("identity")
                who = f"{noun} '{name}'" if name is not None else noun
                if ident is not None and ident != name:
                    who += f" ({ident})"
                if item.reason:
                    text = item.reason
                elif rec.result == OvalResult.TRUE:
                    text = ("satisfies the state, which it must not here: "
                            + "; ".join(_reason(f, props) for f in rec.failures))
                else:
                    text = "; ".join(_reason(f, props) for f in rec.failures) or \
                        f"result {rec.result}"
                out.append((f"{who}: {text}", ident or name or f"item {item.item_id}"))
                emitted = True
            instance = props.get("@instance")
            if "@instance_entity" in props:   # the item's own value of that entity (a SID)
                instance = next((a for f in item.failures
                                 if f.entity == props["@instance_entity"] for a in f.actual),
                                None)
            for f in item.failures:
                if f.result == OvalResult.TRUE:
                    text = "satisfies the state, which it must not here: " + _reason(f, props)
                else:
                    text = _reason(f, props)
                if instance:   # an item that is one named thing (a registry value)
                    out.append((f"{noun} {instance}: {text}", instance))
                else:
                    out.append((f"{noun} item {item.item_id}: {text}", f"item {item.item_id}"))
                emitted = True
            if not item.records and not item.failures:
                detail = "; ".join(m for m in item.messages if m)
                if item.reason:
                    line = f"{noun} item {item.item_id}: {item.reason}"
                else:
                    line = (f"{noun} item {item.item_id}: status {item.status}, result "
                            f"{item.result}" + (f": {detail}" if detail else ""))
                out.append((line, f"item {item.item_id}"))
                emitted = True
        if not emitted:
            detail = "; ".join(m for m in test.messages if m)
            flag = f", collected object flag '{test.object_flag}'" if test.object_flag else \
                ", object not collected"
            out.append((f"test '{test.comment or test.test_id}' is {test.result}{flag} "
                        f"(check_existence {test.check_existence}, check {test.check})"
                        + (f": {detail}" if detail else ""), None))
    return out


# --------------------------------------------------------------------------------------------
# scoring (XCCDF 1.2 §7.3.1 default model, §7.3.2 flat model)
def compute_scores(bench: CompiledBenchmark, results: Sequence[RuleResult]) -> list[Score]:
    by_id = {r.idref: r for r in results}

    def rule_score(rr: RuleResult) -> tuple[float, int]:
        if rr.result in _UNSCORED_RESULTS or rr.role == "unscored":
            return 0.0, 0
        return (100.0 if rr.result in _PASSING else 0.0), 1

    def walk(parent: etree._Element) -> tuple[float, int]:
        score, acc, count = 0.0, 0.0, 0
        for child in parent:
            if child.tag == f"{X}Rule":
                rr = by_id[child.get("id", "")]
                s, c = rule_score(rr)
                w = float(rr.weight)
            elif child.tag == f"{X}Group":
                s, c = walk(child)
                w = float(child.get("weight", "1.0"))
            else:
                continue
            if c == 0:
                continue
            score += s * w
            acc += w
            count += 1
        if count == 0:
            return 0.0, 0
        return (0.0 if acc == 0 else score / acc), count

    default, _ = walk(bench.element)
    flat, flat_max = 0.0, 0.0
    for rr in results:
        if rr.result in _UNSCORED_RESULTS or rr.role == "unscored":
            continue
        w = float(rr.weight)
        flat_max += w
        if rr.result in _PASSING:
            flat += w
    return [Score("urn:xccdf:scoring:default", _num(default), "100"),
            Score("urn:xccdf:scoring:flat", _num(flat), _num(flat_max))]


def _num(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def compile_plan(sds: SourceDataStream, profile_id: str | None, *,
                 tailoring: Mapping[str, Profile] | None = None,
                 set_values: Mapping[str, str] | None = None,
                 refine_values: Mapping[str, str] | None = None,
                 oval_evaluate: OvalEvaluate | None = None,
                 rules: Sequence[str] = (), skip_rules: Sequence[str] = ()) -> Plan:
    bench = CompiledBenchmark(sds.benchmark)
    res = resolve(bench, profile_id, tailoring=tailoring, set_values=set_values,
                  refine_values=refine_values, rules=rules, skip_rules=skip_rules)
    return Plan(sds, bench, res, oval_evaluate)
