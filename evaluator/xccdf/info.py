"""What a SCAP document holds, for `stigscap info` (like `oscap info`): its kind, data streams,
benchmarks with their profiles, rule counts (automated by OVAL, manual by OCIL or without a
check, per severity), Values with their selectors, TestResults of an ARF, and the XML-DSig
signatures present. Pure: a parsed document in, a summary out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from stigscap.schemas import namespaces as ns
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import element_text

_OCIL_SYSTEMS = {ns.OCIL, ns.OCIL_2}


@dataclass
class ProfileInfo:
    id: str
    title: str
    selected_rules: int


@dataclass
class ValueInfo:
    id: str
    type: str
    default: str
    selectors: dict[str, str]


@dataclass
class BenchmarkInfo:
    id: str
    title: str
    version: str
    status: str
    xccdf_version: str
    rules: int
    automated: int
    manual: int
    severities: dict[str, int]
    profiles: list[ProfileInfo] = field(default_factory=list)
    values: list[ValueInfo] = field(default_factory=list)


@dataclass
class TestResultInfo:
    id: str
    benchmark: str
    profile: str
    target: str
    end_time: str
    results: dict[str, int]


@dataclass
class DocumentInfo:
    kind: str
    scap_version: str = ""
    datastreams: list[str] = field(default_factory=list)
    benchmarks: list[BenchmarkInfo] = field(default_factory=list)
    test_results: list[TestResultInfo] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)   # where each dsig:Signature sits

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict
        return asdict(self)

    def lines(self) -> list[str]:
        out = [f"Document type: {self.kind}"]
        if self.scap_version:
            out.append(f"SCAP version: {self.scap_version}")
        for ds in self.datastreams:
            out.append(f"Data stream: {ds}")
        for b in self.benchmarks:
            out.append(f"Benchmark: {b.id} (XCCDF {b.xccdf_version})")
            out.append(f"  Title: {b.title}")
            out.append(f"  Version: {b.version}   Status: {b.status or '-'}")
            sev = ", ".join(f"{k} {v}" for k, v in sorted(b.severities.items()))
            out.append(f"  Rules: {b.rules} ({b.automated} automated, {b.manual} manual; {sev})")
            out.append(f"  Profiles: {len(b.profiles)}")
            for p in b.profiles:
                out.append(f"    {p.id}: {p.title} ({p.selected_rules} rules selected)")
            out.append(f"  Values: {len(b.values)}")
            for v in b.values:
                sel = ", ".join(f"{k or '(default)'}={t!r}" for k, t in v.selectors.items())
                out.append(f"    {v.id} ({v.type}) = {v.default!r}" + (f"; selectors: {sel}"
                                                                       if sel else ""))
        for t in self.test_results:
            res = ", ".join(f"{k} {v}" for k, v in sorted(t.results.items()))
            out.append(f"TestResult: {t.id} target {t.target or '?'} at {t.end_time or '?'}")
            out.append(f"  Benchmark: {t.benchmark}   Profile: {t.profile or '(none)'}")
            out.append(f"  Results: {res or 'none'}")
        out.append(f"Signatures: {len(self.signatures)}"
                   + (" (" + "; ".join(self.signatures) + ")" if self.signatures else ""))
        return out


def _text(el: etree._Element | None) -> str:
    """The whole text of an element (comments do not split it); '' when absent."""
    return (element_text(el) or "") if el is not None else ""


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _title(el: etree._Element, xns: str) -> str:
    return " ".join(_text(el.find(f"{{{xns}}}title")).split())


def _benchmark(bench: etree._Element) -> BenchmarkInfo:
    xns = etree.QName(bench).namespace or ""
    rules = list(bench.iter(f"{{{xns}}}Rule"))
    automated = 0
    severities: Counter[str] = Counter()
    for rule in rules:
        severities[rule.get("severity", "unknown")] += 1
        systems = {c.get("system", "") for c in rule.iter(f"{{{xns}}}check")}
        if systems - _OCIL_SYSTEMS:
            automated += 1
    selected_default = {r.get("id", "") for r in rules if r.get("selected", "true") != "false"}
    profiles = []
    for prof in bench.iter(f"{{{xns}}}Profile"):
        chosen = set(selected_default)
        for sel in prof.iter(f"{{{xns}}}select"):
            idref = sel.get("idref", "")
            if sel.get("selected") in ("true", "1"):
                chosen.add(idref)
            else:
                chosen.discard(idref)
        profiles.append(ProfileInfo(prof.get("id", ""), _title(prof, xns),
                                    len(chosen & {r.get("id", "") for r in rules})))
    values = []
    for val in bench.iter(f"{{{xns}}}Value"):
        selectors = {v.get("selector", ""): _text(v)
                     for v in val.iterfind(f"{{{xns}}}value")}
        default = selectors.pop("", "")
        values.append(ValueInfo(val.get("id", ""), val.get("type", "string"), default,
                                selectors))
    status = bench.find(f"{{{xns}}}status")
    version = bench.find(f"{{{xns}}}version")
    return BenchmarkInfo(
        id=bench.get("id", ""), title=_title(bench, xns),
        version=_text(version), status=_text(status),
        xccdf_version="1.2" if xns == ns.XCCDF12 else "1.1", rules=len(rules),
        automated=automated, manual=len(rules) - automated, severities=dict(severities),
        profiles=profiles, values=values)


def _test_result(tr: etree._Element) -> TestResultInfo:
    xns = etree.QName(tr).namespace or ""
    bench = tr.find(f"{{{xns}}}benchmark")
    prof = tr.find(f"{{{xns}}}profile")
    target = tr.find(f"{{{xns}}}target")
    results: Counter[str] = Counter(
        _text(r) for rr in tr.iterfind(f"{{{xns}}}rule-result")
        for r in rr.iterfind(f"{{{xns}}}result"))
    return TestResultInfo(
        id=tr.get("id", ""), benchmark=bench.get("id", "") if bench is not None else "",
        profile=prof.get("idref", "") if prof is not None else "",
        target=_text(target),
        end_time=tr.get("end-time", ""), results=dict(results))


def _signature_places(root: etree._Element) -> list[str]:
    out = []
    for sig in root.iter(f"{{{ns.DSIG}}}Signature"):
        parent = sig.getparent()
        where = _local(parent) if parent is not None else "document"
        out.append(f"{sig.get('Id') or 'Signature'} in {where}")
    return out


def document_info(root: etree._Element, source: str = "<input>") -> DocumentInfo:
    """A summary of a source data stream, XCCDF Benchmark, XCCDF TestResult, Tailoring or
    ARF report; anything else is a one-line StigscapError naming the root element."""
    tag = root.tag
    if tag == f"{{{ns.DS}}}data-stream-collection":
        streams = root.findall(f"{{{ns.DS}}}data-stream")
        info = DocumentInfo("Source Data Stream",
                            scap_version=streams[0].get("scap-version", "") if streams else "")
        info.datastreams = [d.get("id", "") for d in streams]
        info.benchmarks = [_benchmark(b) for xns in (ns.XCCDF12, ns.XCCDF11)
                           for b in root.iter(f"{{{xns}}}Benchmark")]
    elif tag in (f"{{{ns.XCCDF12}}}Benchmark", f"{{{ns.XCCDF11}}}Benchmark"):
        info = DocumentInfo("XCCDF Benchmark")
        info.benchmarks = [_benchmark(root)]
        info.test_results = [_test_result(t) for t in root.iter(f"{{{etree.QName(root).namespace}}}"
                                                                "TestResult")]
    elif tag in (f"{{{ns.XCCDF12}}}TestResult", f"{{{ns.XCCDF11}}}TestResult"):
        info = DocumentInfo("XCCDF TestResult", test_results=[_test_result(root)])
    elif tag in (f"{{{ns.XCCDF12}}}Tailoring",):
        info = DocumentInfo("XCCDF Tailoring")
        info.benchmarks = [BenchmarkInfo(
            id=root.get("id", ""), title="", version="", status="", xccdf_version="1.2",
            rules=0, automated=0, manual=0, severities={},
            profiles=[ProfileInfo(p.get("id", ""), _title(p, ns.XCCDF12),
                                  sum(1 for s in p.iter(f"{{{ns.XCCDF12}}}select")
                                      if s.get("selected") in ("true", "1")))
                      for p in root.iter(f"{{{ns.XCCDF12}}}Profile")])]
    elif tag == f"{{{ns.ARF}}}asset-report-collection":
        info = DocumentInfo("ARF 1.1 report")
        info.datastreams = [d.get("id", "") for d in root.iter(f"{{{ns.DS}}}data-stream")]
        info.benchmarks = [_benchmark(b) for b in root.iter(f"{{{ns.XCCDF12}}}Benchmark")]
        info.test_results = [_test_result(t) for t in root.iter(f"{{{ns.XCCDF12}}}TestResult")]
    else:
        raise StigscapError(f"not a SCAP document stigscap can describe (root element "
                            f"{_local(root)} in namespace {etree.QName(root).namespace or '(none)'})",
                            file=source)
    info.signatures = _signature_places(root)
    return info
