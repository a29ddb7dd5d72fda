"""XCCDF TestResult and ARF 1.1 (SCAP 1.3 result data stream) writer; the many-hosts API.

Usage (a fleet scan compiles once, then evaluates host after host)::

    from stigscap.evaluator.results.arf import Evaluator, TargetInfo
    ev = Evaluator(ds_tree, "MAC-1_Classified")              # parse/compile once
    for syschar_root in hosts:                               # one parsed syschar per host
        result = ev.evaluate(syschar_root, timestamp="2026-01-01T00:00:00Z")
        atomic_write(path, result.to_bytes())                # ARF; result.exit_code is 0/2/1

`TargetInfo` (name, addresses, MACs, FQDN, identity) defaults to the syschar `system_info`.
The layout follows oscap's (report-request `collection1`, asset `asset0`, reports `xccdf1`,
`oval0`, `oval1`…; relationships createdFor / isAbout) and SP 800-126r3 §4 (RES-*). The source
data stream is serialized once and spliced into every ARF as bytes: the embedded copy is the
same document as the input (C14N-equal) and every output is deterministic for the same input
and timestamp.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import ipaddress
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import jinja2
from lxml import etree
from markupsafe import Markup, escape

from stigscap.schemas.clock import as_utc, naive_utc, product_version
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.namespaces import OVAL_SC, XCCDF12
from stigscap.schemas.templating import environment
from stigscap.schemas.xmlio import element_text, find_text, parse_xml_file

from ..oval.results import build_results_document, results_text
from ..xccdf.datastream import SourceDataStream, open_datastream
from ..oval.engine import OvalEvaluation
from ..xccdf.engine import OvalRun, Plan, Profile, XccdfResult, compile_plan
from .syschar_stream import (FORM_COPIED, FORM_INPLACE, NotStreamable, StreamedSyschar,
                             item_tags, release_memory, stream_syschar)

REQUEST_ID, TAILORING_REQUEST_ID, ASSET_ID, XCCDF_REPORT_ID = (
    "collection1", "tailoring1", "asset0", "xccdf1")


def _xbool(value) -> str:
    return "true" if value else "false"


_ENV = environment("stigscap.evaluator", autoescape=True, trim_blocks=True, lstrip_blocks=True,
                   filters={"xbool": _xbool})
_TESTRESULT = _ENV.get_template("testresult.xml.j2")
_RULE_RESULT = _ENV.get_template("rule-result.xml.j2")
_TIME_MARK = "\x00time\x00"   # cannot occur in XML text: replaced by the rule-result time
_ARF = _ENV.get_template("arf.xml.j2")


def stigscap_version() -> str:
    return product_version()


@functools.lru_cache(maxsize=1)
def test_system_cpe() -> str:
    return f"cpe:2.3:a:stigscap:stigscap:{stigscap_version()}:*:*:*:*:*:*:*"


def normalize_timestamp(value: str | dt.datetime) -> str:
    """An evaluation time as the naive-UTC xsd:dateTime XCCDF and OVAL carry."""
    return naive_utc(as_utc(value, "time"))


# --------------------------------------------------------------------------------------------
@dataclass
class TargetInfo:
    """Who was judged. Built from the syschar system_info unless the caller knows better."""

    name: str
    host_name: str | None = None
    fqdn: str | None = None
    interfaces: list[tuple[str | None, str | None]] = field(default_factory=list)  # (ip, mac)
    identity: str = "unknown"
    authenticated: bool = False
    privileged: bool = False
    os_name: str | None = None
    os_version: str | None = None

    @property
    def addresses(self) -> list[str]:
        return [_clean_ip(ip) or ip for ip, _ in self.interfaces if ip]

    @property
    def connections(self) -> list[tuple[str | None, int, str | None]]:
        out: list[tuple[str | None, int, str | None]] = []
        for ip, mac in self.interfaces:
            version = ipaddress.ip_address(ip).version if ip else 4
            out.append((_clean_ip(ip) or ip if ip else None, version, mac))
        return out

    def facts(self) -> list[tuple[str, str, str]]:
        f: list[tuple[str, str, str]] = [
            ("urn:xccdf:fact:scanner:name", "string", "stigscap"),
            ("urn:xccdf:fact:scanner:version", "string", stigscap_version()),
        ]
        if self.fqdn:
            f.append(("urn:xccdf:fact:asset:identifier:fqdn", "string", self.fqdn))
        if self.host_name:
            f.append(("urn:xccdf:fact:asset:identifier:host_name", "string", self.host_name))
        for ip, mac in self.interfaces:
            if mac:
                f.append(("urn:xccdf:fact:asset:identifier:mac", "string", mac))
            if ip:
                kind = "ipv6" if ipaddress.ip_address(ip).version == 6 else "ipv4"
                f.append((f"urn:xccdf:fact:asset:identifier:{kind}", "string",
                          _clean_ip(ip) or ip))
        if self.os_name:
            f.append(("urn:xccdf:fact:asset:identifier:os_name", "string", self.os_name))
        if self.os_version:
            f.append(("urn:xccdf:fact:asset:identifier:os_version", "string", self.os_version))
        return f


_MAC = re.compile(r"^([0-9A-Fa-f]{2})[:-]?([0-9A-Fa-f]{2})[:-]?([0-9A-Fa-f]{2})[:-]?"
                  r"([0-9A-Fa-f]{2})[:-]?([0-9A-Fa-f]{2})[:-]?([0-9A-Fa-f]{2})$")


def _clean_ip(text: str | None) -> str | None:
    if not text:
        return None
    try:
        # IPv6 fully written out: ai:ip-v6 (asset identification XSD) and SCAPVal's RES-136-2
        # accept only eight groups of hex digits, no '::'
        return ipaddress.ip_address(text.strip().split("%")[0]).exploded
    except ValueError:
        return None


def _clean_mac(text: str | None) -> str | None:
    m = _MAC.match((text or "").strip())
    return ":".join(m.groups()).upper() if m else None


def target_addresses(values: Sequence[str], option: str = "--target-address") -> list[str]:
    """IP addresses given for a target (normalized); anything else is a one-line error."""
    out = []
    for v in values:
        for part in str(v).split(","):
            if not part.strip():
                continue
            ip = _clean_ip(part)
            if ip is None:
                raise StigscapError(f"{option} {part.strip()!r} is not an IPv4 or IPv6 address")
            if ip not in out:
                out.append(ip)
    return out


def target_macs(values: Sequence[str], option: str = "--target-mac") -> list[str]:
    """MAC addresses given for a target (AA:BB:CC:DD:EE:FF); anything else is a one-line error."""
    out = []
    for v in values:
        for part in str(v).split(","):
            if not part.strip():
                continue
            mac = _clean_mac(part)
            if mac is None:
                raise StigscapError(f"{option} {part.strip()!r} is not a MAC address")
            if mac not in out:
                out.append(mac)
    return out


def with_macs(target: TargetInfo, macs: Sequence[str]) -> TargetInfo:
    """The target with these MAC addresses added (as interfaces without an IP), for offline
    collections, which carry none."""
    known = {mac for _ip, mac in target.interfaces if mac}
    target.interfaces.extend((None, mac) for mac in macs if mac not in known)
    return target


NO_ADDRESS_WARNING = ("warning: no IP address is known for {name}: the TestResult has no "
                      "xccdf:target-address, which SCAP 1.3 requires (RES-136); give "
                      "--target-address")


def target_from_syschar(syschar_root: etree._Element, *, addresses: Sequence[str] = (),
                        **overrides) -> TargetInfo:
    """The target of a syschar's system_info; `addresses` (IPs the caller knows, e.g.
    --target-address) come first, then the interfaces' addresses (SCAP 1.3 RES-136: every IP
    address of the target is a target-address)."""
    if syschar_root.tag != f"{{{OVAL_SC}}}oval_system_characteristics":
        raise StigscapError("not an OVAL system characteristics document (root element is "
                            f"{etree.QName(syschar_root).localname})")
    info = syschar_root.find(f"{{{OVAL_SC}}}system_info")
    if info is None:
        raise StigscapError("system characteristics have no system_info")
    host = (find_text(info, f"{{{OVAL_SC}}}primary_host_name") or "").strip()
    interfaces = []
    for itf in info.iterfind(f"{{{OVAL_SC}}}interfaces/{{{OVAL_SC}}}interface"):
        ip = _clean_ip(find_text(itf, f"{{{OVAL_SC}}}ip_address"))
        mac = _clean_mac(find_text(itf, f"{{{OVAL_SC}}}mac_address"))
        if (ip or mac) and (ip, mac) not in interfaces:
            interfaces.append((ip, mac))
    known = {ip for ip, _mac in interfaces}
    interfaces = [(ip, None) for ip in target_addresses(addresses) if ip not in known] \
        + interfaces
    short = host.split(".")[0] if host else None
    target = TargetInfo(
        name=host or "unknown", host_name=short or None,
        fqdn=host if "." in host else None, interfaces=interfaces,
        os_name=(find_text(info, f"{{{OVAL_SC}}}os_name") or "").strip() or None,
        os_version=(find_text(info, f"{{{OVAL_SC}}}os_version") or "").strip() or None)
    for key, value in overrides.items():
        if value is not None:
            setattr(target, key, value)
    return target


# --------------------------------------------------------------------------------------------
def _fragment(el: etree._Element) -> str:
    return etree.tostring(el, encoding="unicode")


_MARK = "\x00"   # cannot occur in XML: neither the templates nor an escaped value hold it


class _Marks:
    """Per-call values for a skeleton: each call returns a marker and keeps the value."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: list[str] = []

    def __call__(self, value) -> Markup:
        """A text value (escaped when filled in)."""
        self.values.append(str(escape(value)))
        return _marker(len(self.values) - 1)

    def markup(self, value: str) -> Markup:
        """Already serialized XML (filled in as is)."""
        self.values.append(str(value))
        return _marker(len(self.values) - 1)


_MARKERS: list[Markup] = []


def _marker(i: int) -> Markup:
    while len(_MARKERS) <= i:
        _MARKERS.append(Markup(f"{_MARK}{len(_MARKERS)}{_MARK}"))
    return _MARKERS[i]


class _Skeletons:
    """A template rendered once per *shape* with markers in place of the per-host values, then
    filled per host by splitting on the markers: the template keeps the XML shape, and many
    hosts with the same shape (a fleet) cost one render. The shape key must hold everything
    that changes the output other than through a marked value: conditionals, loop lengths and
    unmarked values. Markers are taken in the same order for the same shape."""

    def __init__(self, template: jinja2.Template, size: int = 256):
        self.template = template
        self.size = size
        self.cache: dict[tuple, list[str]] = {}

    def render(self, key: tuple, marks: _Marks, **context) -> str:
        return "".join(self.render_parts(key, marks, **context))

    def render_parts(self, key: tuple, marks: _Marks, **context) -> list[str]:
        """`render` before the join (a large document is written piece by piece)."""
        parts = self.cache.get(key)
        if parts is None:
            parts = self.template.render(**context).split(_MARK)
            if len(self.cache) >= self.size:
                self.cache.clear()
            self.cache[key] = parts
        out = parts[:]
        values = marks.values
        out[1::2] = [values[int(i)] for i in parts[1::2]]
        return out


@dataclass
class ArfResult:
    """The outcome for one host; serialize with `to_bytes()` (ARF) or the other writers."""

    evaluator: "Evaluator"
    xccdf: XccdfResult
    target: TargetInfo
    start_time: str
    end_time: str
    oval_reports: list[tuple]                    # (OvalEvaluation, directives) per OVAL run
    report_ids: list[str]                        # oval0, oval1… parallel to oval_reports
    # the system characteristics read item by item (`Evaluator.evaluate_file`): the documents
    # are rendered from its skeleton and the items spliced in as they are written
    streamed: StreamedSyschar | None = None

    @functools.cached_property
    def oval_documents(self) -> list[etree._Element]:
        """The OVAL results documents as trees (built on first use)."""
        with_defs = self.evaluator.oval_with_definitions
        return [build_results_document(evaluation, directives=directives,
                                       timestamp=self.end_time,
                                       include_source_definitions=with_defs,
                                       viewer_shapes=with_defs)
                for evaluation, directives in self.oval_reports]

    def oval_texts(self) -> list[str]:
        """The OVAL results documents serialized (what the ARF embeds)."""
        if "oval_documents" in self.__dict__:
            return [_fragment(doc) for doc in self.oval_documents]
        with_defs = self.evaluator.oval_with_definitions
        return [results_text(evaluation, directives=directives, timestamp=self.end_time,
                             include_source_definitions=with_defs,
                             viewer_shapes=with_defs)
                for evaluation, directives in self.oval_reports]

    @property
    def rule_results(self):
        return self.xccdf.rule_results

    @property
    def counts(self) -> dict[str, int]:
        c: dict[str, int] = {}
        for rr in self.xccdf.rule_results:
            c[rr.result] = c.get(rr.result, 0) + 1
        return c

    @property
    def exit_code(self) -> int:
        """1 if any rule errored, else 2 if any failed or is unknown (like oscap), else 0."""
        results = {rr.result for rr in self.xccdf.rule_results}
        if "error" in results:
            return 1
        if results & {"fail", "unknown"}:
            return 2
        return 0

    def testresult_text(self, *, in_arf: bool) -> str:
        ev = self.evaluator
        hrefs = {}
        if in_arf:
            hrefs = {run.component.id: "#" + rid
                     for run, rid in zip(self.xccdf.oval_runs, self.report_ids)}
        t, xr, m = self.target, self.xccdf, _Marks()
        facts, addresses = t.facts(), t.addresses
        # everything unmarked below is in the key; the rest is marked (see _Skeletons)
        key = (in_arf, bool(t.authenticated), bool(t.privileged), len(addresses),
               tuple((name, typ) for name, typ, _v in facts), tuple(xr.set_values),
               len(xr.rule_results), tuple((sc.system, sc.maximum) for sc in xr.scores))
        tr = {
            "id": ev.testresult_id, "start_time": m(self.start_time), "end_time": m(self.end_time),
            "benchmark_version": ev.benchmark_version, "test_system": test_system_cpe(),
            "benchmark_href": "#" + ev.sds.benchmark_component.id,
            "benchmark_id": ev.plan.bench.id, "tailoring": ev.tailoring_ref,
            "title": m(f"stigscap evaluation of {t.name}"),
            "target": {"name": m(t.name), "identity": m(t.identity),
                       "authenticated": t.authenticated, "privileged": t.privileged,
                       "addresses": [m(a) for a in addresses]},
            "profile_id": ev.profile_id, "facts": [(n, typ, m(v)) for n, typ, v in facts],
            "asset_id": ASSET_ID if in_arf else None, "set_values": xr.set_values,
            "scores": [{"system": sc.system, "maximum": sc.maximum, "value": m(sc.value)}
                       for sc in xr.scores],
        }
        rule_results = [m.markup(ev.render_rule_result(rr, hrefs).replace(_TIME_MARK, self.end_time))
                        for rr in xr.rule_results]
        return ev.testresult_skeletons.render(key, m, tr=tr, rule_results=rule_results)

    def to_bytes(self) -> bytes:
        """The ARF 1.1 asset-report-collection."""
        return b"".join(self.arf_chunks())

    def arf_chunks(self) -> Iterator[bytes]:
        """The ARF as pieces to write one after the other (never joined in memory: a large
        host's TestResult and, when streamed, its items). Rendered now; encoded, and the
        spooled items read, as it is iterated."""
        return self._encoded(self._arf_parts())

    def _encoded(self, parts: list[str]) -> Iterator[bytes]:
        for part in parts:
            data = part.encode("utf-8")
            if self.streamed is None:
                yield data
            else:
                yield from self.streamed.expand(data, FORM_INPLACE)
        yield b"\n"

    def _expand(self, data: bytes, form: str) -> Iterator[bytes]:
        if self.streamed is None:
            return iter((data,))
        return self.streamed.expand(data, form)

    def _arf_parts(self) -> list[str]:
        ev = self.evaluator
        relationships = []
        if ev.tailoring_text is not None:
            relationships.append(("createdFor", XCCDF_REPORT_ID, TAILORING_REQUEST_ID))
        # the data stream request last: `oscap info` shows the last createdFor of a report
        relationships.append(("createdFor", XCCDF_REPORT_ID, REQUEST_ID))
        relationships.append(("isAbout", XCCDF_REPORT_ID, ASSET_ID))
        m = _Marks()
        reports = [(XCCDF_REPORT_ID, m.markup(self.testresult_text(in_arf=True)))]
        # OVAL reports get no relationship (as oscap writes them): oscap 1.3.7 `info`
        # crashes on an isAbout whose subject is not an XCCDF report, so RES-306's optional
        # asset-identification (which needs that isAbout) is left out as well.
        for rid, text in zip(self.report_ids, self.oval_texts()):
            reports.append((rid, m.markup(text)))
        requests = [(REQUEST_ID, ev.ds_markup)]
        if ev.tailoring_text is not None:
            requests.append((TAILORING_REQUEST_ID, ev.tailoring_text))
        t = self.target
        connections = t.connections
        # unmarked (so in the key): the relationships, requests and report ids, which are the
        # same for every host of this Evaluator, and the asset's shape
        key = (tuple(relationships), tuple(self.report_ids),
               tuple((bool(ip), version, bool(mac)) for ip, version, mac in connections),
               bool(t.fqdn), bool(t.host_name))
        target = {"connections": [(m(ip) if ip else None, version, m(mac) if mac else None)
                                  for ip, version, mac in connections],
                  "fqdn": m(t.fqdn) if t.fqdn else None,
                  "host_name": m(t.host_name) if t.host_name else None}
        return ev.arf_skeletons.render_parts(key, m, relationships=relationships,
                                             requests=requests, asset_id=ASSET_ID,
                                             target=target, reports=reports)

    def xccdf_results_bytes(self) -> bytes:
        """A copy of the Benchmark with the TestResult merged (like `oscap --results`)."""
        bench = copy.deepcopy(self.evaluator.plan.bench.element)
        tr = etree.fromstring(self.testresult_text(in_arf=False))
        sig = bench.find(f"{{{XCCDF12}}}signature")
        if sig is not None:
            sig.addprevious(tr)
        else:
            bench.append(tr)
        etree.indent(tr, level=1)
        return etree.tostring(bench, xml_declaration=True, encoding="UTF-8") + b"\n"

    def oval_results_bytes(self, index: int = 0) -> bytes:
        return b"".join(self.oval_results_chunks(index))

    def oval_results_chunks(self, index: int = 0) -> Iterator[bytes]:
        """`oval_results_bytes` in pieces (rendered now, as `arf_chunks`)."""
        return self._expand(etree.tostring(self.oval_documents[index], xml_declaration=True,
                                           encoding="UTF-8", pretty_print=True), FORM_COPIED)

    def close(self) -> None:
        """Let go of a streamed host's spooled items (the writers cannot run after this)."""
        if self.streamed is not None:
            self.streamed.close()


class Evaluator:
    """A data stream and profile compiled once; `evaluate()` judges one host after another."""

    def __init__(self, ds: etree._ElementTree | etree._Element, profile: str | None = None, *,
                 tailoring: etree._ElementTree | etree._Element | None = None,
                 tailoring_href: str = "tailoring.xml",
                 set_values: Mapping[str, str] | None = None,
                 refine_values: Mapping[str, str] | None = None,
                 datastream_id: str | None = None, source: str = "<data stream>",
                 oval_directives: str = "full", oval_evaluate=None,
                 rules: Sequence[str] = (), skip_rules: Sequence[str] = (),
                 oval_with_definitions: bool = False):
        self.sds: SourceDataStream = open_datastream(ds, datastream_id=datastream_id,
                                                     source=source)
        tailoring_profiles: dict[str, Profile] | None = None
        self.tailoring_text = None
        self.tailoring_ref = None
        if tailoring is not None:
            from ..xccdf.engine import parse_tailoring
            troot = tailoring.getroot() if isinstance(tailoring, etree._ElementTree) else tailoring
            tailoring_profiles = parse_tailoring(troot)
            self.tailoring_text = Markup(_fragment(troot))
            version = troot.find(f"{{{XCCDF12}}}version")
            self.tailoring_ref = {
                "href": tailoring_href, "id": troot.get("id"),
                "version": (element_text(version) or "1").strip() if version is not None else "1",
                "time": (version.get("time") if version is not None and version.get("time")
                         else "1970-01-01T00:00:00"),
            }
        self.plan: Plan = compile_plan(self.sds, profile, tailoring=tailoring_profiles,
                                       set_values=set_values, refine_values=refine_values,
                                       oval_evaluate=oval_evaluate, rules=rules,
                                       skip_rules=skip_rules)
        res = self.plan.resolution
        self.profile_id = res.profile.id if res.profile else None
        bench = self.plan.bench
        suffix = self.profile_id.split("_profile_", 1)[-1] if self.profile_id else "default"
        self.testresult_id = f"xccdf_{bench.id_namespace}_testresult_{suffix}"
        self.benchmark_version = (find_text(bench.element, f"{{{XCCDF12}}}version") or "1").strip()
        self.oval_directives = oval_directives
        # copy the OVAL definitions into each OVAL results document (for viewers such as
        # openscap-report and oval-graph); outside SCAP 1.3, whose RES-181/182 forbid it
        self.oval_with_definitions = oval_with_definitions
        self._rule_result_cache: dict[tuple, str] = {}
        self.testresult_skeletons = _Skeletons(_TESTRESULT)
        self.arf_skeletons = _Skeletons(_ARF)
        # serialized once, spliced into every ARF
        self.ds_markup = Markup(_fragment(self.sds.collection))

    def render_rule_result(self, rr, hrefs: Mapping[str, str]) -> str:
        """One rule-result element; identical results (most passes) are rendered once."""
        href = hrefs.get(rr.check_component) if rr.check_component else None
        key = (rr.idref, rr.result, rr.role, rr.severity, rr.weight, tuple(rr.messages),
               tuple(rr.instances), href)
        text = self._rule_result_cache.get(key)
        if text is None:
            text = _RULE_RESULT.render(rr=rr, hrefs=hrefs, time=_TIME_MARK)
            if len(self._rule_result_cache) >= 4096:
                self._rule_result_cache.clear()
            self._rule_result_cache[key] = text
        return text

    def evaluate_file(self, path: str, *, timestamp: str | dt.datetime,
                      start_time: str | dt.datetime | None = None,
                      target: Callable[[etree._Element], TargetInfo] | None = None,
                      forms: Collection[str] = (FORM_INPLACE,)) -> ArfResult:
        """Judge the host whose system characteristics are in the file at `path`, read item
        by item when it can be (`results.syschar_stream`; else parsed whole): the same
        ArfResult as `evaluate`, whose writers splice the items back in. `target(root)` makes
        the TargetInfo from the document (its items are not there; default
        `target_from_syschar`). `forms`: the item serializations the writers will need
        (FORM_INPLACE: the ARF with full OVAL results; FORM_COPIED: `oval_results_bytes`).
        Call `close()` when done writing."""
        make_target = target or target_from_syschar
        end = normalize_timestamp(timestamp)
        start = normalize_timestamp(start_time) if start_time else end
        if self.plan.stream_problem() is None:
            begun = _Begun(self.plan, make_target)
            try:
                streamed, _evaluations = stream_syschar(
                    path, begun, tags=item_tags(self.plan.compiled_components()), forms=forms)
            except NotStreamable:
                pass
            else:
                assert begun.target is not None   # stream_syschar started the evaluations
                xres = self.plan.results(begun.runs, streamed.root, streamed.ghosts)
                for run in begun.runs.values():   # the rule results hold what was needed
                    run.evaluation.forget_explanations()
                release_memory()
                return self._result(xres, begun.target, start, end, streamed)
        root = parse_xml_file(path, huge_tree=True).getroot()
        return self.evaluate(root, target=make_target(root), timestamp=end, start_time=start)

    def evaluate(self, syschar_root: etree._Element | etree._ElementTree, *,
                 target: TargetInfo | None = None, timestamp: str | dt.datetime,
                 start_time: str | dt.datetime | None = None) -> ArfResult:
        """Judge one host. `timestamp` is the evaluation's end time (the caller resolves
        it; the engine never reads the clock); `start_time` defaults to it."""
        if isinstance(syschar_root, etree._ElementTree):
            syschar_root = syschar_root.getroot()
        if syschar_root.tag != f"{{{OVAL_SC}}}oval_system_characteristics":
            raise StigscapError("not an OVAL system characteristics document (root element is "
                                f"{etree.QName(syschar_root).localname})")
        end = normalize_timestamp(timestamp)
        start = normalize_timestamp(start_time) if start_time else end
        if target is None:
            target = target_from_syschar(syschar_root)
        xres = self.plan.evaluate(syschar_root)
        return self._result(xres, target, start, end, None)

    def _result(self, xres: XccdfResult, target: TargetInfo, start: str, end: str,
                streamed: StreamedSyschar | None) -> ArfResult:
        # The first report (compliance checks) carries the host's system characteristics per
        # the chosen directives; further reports (the CPE inventory checks, evaluated against
        # the same syschar) are thin so the item data is not repeated.
        # (for viewers, --oval-results-with-definitions, every report is as the first)
        reports = [(run.evaluation, self.oval_directives
                    if i == 0 or self.oval_with_definitions else "thin")
                   for i, run in enumerate(xres.oval_runs)]
        ids = [f"oval{i}" for i in range(len(reports))]
        return ArfResult(self, xres, target, start, end, reports, ids, streamed)


class _Begun:
    """`stream_syschar`'s start: the target and the OVAL runs, from the document's head."""

    def __init__(self, plan: Plan, make_target: Callable[[etree._Element], TargetInfo]):
        self.plan = plan
        self.make_target = make_target
        self.target: TargetInfo | None = None
        self.runs: dict[str, OvalRun] = {}

    def __call__(self, root: etree._Element) -> list[OvalEvaluation]:
        if root.find(f"{{{OVAL_SC}}}system_info") is None:
            raise NotStreamable("no system_info before collected_objects")
        self.target = self.make_target(root)
        self.runs = self.plan.start_stream(root)
        return [run.evaluation for run in self.runs.values()]


def evaluate_many(evaluator: Evaluator, syschars: Sequence[etree._Element], **kw):
    """Convenience generator: one ArfResult per syschar, in order (streaming)."""
    for sc in syschars:
        yield evaluator.evaluate(sc, **kw)
