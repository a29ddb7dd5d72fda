"""Fixtures for the checklist/report tests: ARF results and DISA-style STIGs built in Python.

The ARF follows the agreed layout (oscap's): report-request `collection1` holding a source data
stream with our XCCDF 1.2 Benchmark, assets `asset0…`, reports `xccdf1…` (TestResult) and
`oval0…` (oval_results with system characteristics). Rules: the seed rule V-69931 (automated,
OVAL cmdlet_test), a second automated rule, and a manual rule stigscap does not automate.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

NS = "mil.disa.stig"
BENCH = "MS_Exchange_2013_Edge_STIG"
STEM = "U_MS_Exchange_2013_Edge_STIG_V1R5_stigscap"
REPO = Path(__file__).resolve().parents[2]
INTEROP = REPO / "tests" / "interop"

SEED_CHECK = ("Open the Exchange Management Shell and enter the following command:\n\n"
              "Get-ReceiveConnector | Select Name, Identity, AuthMechanism\n\n"
              "For each Receive connector, if the value of AuthMechanism is not set to Tls, "
              "this is a finding.")
SEED_FIX = ("Open the Exchange Management Shell and enter the following command:\n\n"
            "Set-ReceiveConnector -Identity <'IdentityName'> -AuthMechanism 'Tls'\n\n"
            "Note: The <IdentityName> value must be in quotes.\n\n"
            "Repeat the process for each Receive connector.")
TIMEOUT_CHECK = ("Open the Exchange Management Shell and enter the following command:\n\n"
                 "Get-ReceiveConnector | Select Name, Identity, ConnectionTimeout\n\n"
                 "For each Receive connector, if the value of ConnectionTimeout is not set to "
                 "00:05:00, this is a finding.")
MANUAL_CHECK = ("Review the Email Domain Security Plan (EDSP).\n\nIf the EDSP does not "
                "document the audit log review frequency, this is a finding.")


@dataclass
class Rule:
    group: str
    srg: str
    rule: str
    version: str
    title: str
    severity: str
    check: str
    fix: str
    cci: str
    oval: str | None = None           # definition id when automated
    legacy: list[str] = field(default_factory=list)


RULES = [
    Rule("V-69931", "SRG-APP-000439", "SV-84553r1_rule", "EX13-EG-000340",
         "Exchange internal Receive connectors must require encryption.", "high", SEED_CHECK,
         SEED_FIX, "CCI-002418", "oval:mil.disa.stig:def:69931"),
    Rule("V-69783", "SRG-APP-000001", "SV-84405r1_rule", "EX13-EG-000005",
         "Exchange must limit the Receive connector timeout.", "medium", TIMEOUT_CHECK,
         "Set-ReceiveConnector -Identity <'IdentityName'> -ConnectionTimeout 00:05:00",
         "CCI-000054", "oval:mil.disa.stig:def:69783"),
    Rule("V-69785", "SRG-APP-000516", "SV-84407r1_rule", "EX13-EG-000010",
         "Exchange audit logs must be reviewed per the EDSP.", "low", MANUAL_CHECK,
         "Document the audit log review frequency in the EDSP.", "CCI-000366"),
]


@dataclass
class Host:
    name: str
    ip: str
    mac: str
    # rule id -> XCCDF result; connectors: (name, identity, authmechanism)
    results: dict[str, str]
    connectors: list[tuple[str, str, str]] = field(default_factory=list)


def _rid(r: str) -> str:
    return f"xccdf_{NS}_rule_{r}"


def benchmark_xml(rules=RULES, release="Release: 5 Benchmark Date: 26 Apr 2019") -> str:
    groups = []
    for r in rules:
        checks = ""
        if r.oval:
            export = ""
            if r.rule == "SV-84553r1_rule":
                export = (f'<check-export value-id="xccdf_{NS}_value_receive_connector_'
                          f'authmechanism" export-name="oval:mil.disa.stig:var:6993101"/>')
            checks += (f'<check system="http://oval.mitre.org/XMLSchema/oval-definitions-5">'
                       f'{export}<check-content-ref href="{STEM}-oval.xml" name="{r.oval}"/>'
                       f"</check>")
        checks += (f'<check system="C-{r.group[2:]}r1_chk"><check-content-ref name="M" '
                   f'href="DPMS_XCCDF_Benchmark_{BENCH}.xml"/>'
                   f"<check-content>{escape(r.check)}</check-content></check>")
        legacy = "".join(f'<ident system="http://cyber.mil/legacy">{x}</ident>' for x in r.legacy)
        desc = escape(f"<VulnDiscussion>Discussion of {r.title}</VulnDiscussion>"
                      "<FalsePositives></FalsePositives><Documentable>false</Documentable>")
        groups.append(
            f'<Group id="xccdf_{NS}_group_{r.group}"><title>{r.srg}</title>'
            f'<description>&lt;GroupDescription&gt;&lt;/GroupDescription&gt;</description>'
            f'<Rule id="{_rid(r.rule)}" severity="{r.severity}" weight="10.0" selected="true">'
            f"<version>{r.version}</version><title>{escape(r.title)}</title>"
            f"<description>{desc}</description>"
            f'<reference><dc:identifier>3099</dc:identifier></reference>'
            f'{legacy}<ident system="http://cyber.mil/cci">{r.cci}</ident>'
            f'<fixtext fixref="F-{r.group[2:]}r1_fix">{escape(r.fix)}</fixtext>'
            f'<fix id="F-{r.group[2:]}r1_fix"/>{checks}</Rule></Group>')
    return (
        f'<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/" id="xccdf_{NS}_benchmark_{BENCH}" '
        f'resolved="1" xml:lang="en"><status date="2019-03-11">accepted</status>'
        f"<title>MS Exchange 2013 Edge Transport Server Security Technical Implementation "
        f"Guide</title><description>This Security Technical Implementation Guide is published "
        f"as a tool to improve the security of DoD information systems.</description>"
        f'<notice id="terms-of-use" xml:lang="en"/>'
        f'<plain-text id="release-info">{release}</plain-text>'
        f"<version>1</version>"
        f'<Value id="xccdf_{NS}_value_receive_connector_authmechanism" type="string">'
        f"<title>Receive connector AuthMechanism</title>"
        f'<value>^Tls$</value><value selector="includes">(^|, )Tls(, |$)</value></Value>'
        + "".join(groups) + "</Benchmark>")


def _oval_report(host: Host, rules=RULES) -> str:
    defs, tests, items = [], [], []
    item_id = 1
    for r in rules:
        if not r.oval:
            continue
        res = host.results.get(r.rule, "notchecked")
        dres = {"pass": "true", "fail": "false", "notapplicable": "not applicable",
                "error": "error"}.get(res, "not evaluated")
        num = r.oval.rsplit(":", 1)[1]
        tid = f"oval:mil.disa.stig:tst:{num}01"
        defs.append(f'<definition definition_id="{r.oval}" result="{dres}" version="1">'
                    f'<criteria operator="AND" result="{dres}"><criterion test_ref="{tid}" '
                    f'version="1" result="{dres}"/></criteria></definition>')
        tested = []
        if r.rule == "SV-84553r1_rule" and host.connectors:
            # one cmdlet_item per cmdlet_object, one record value per pipeline object
            tested.append(f'<tested_item item_id="{item_id}" result="{dres}"/>')
            values = "".join(
                f'<win-sc:value datatype="record">'
                f'<oval-sc:field name="name" datatype="string">{escape(name)}</oval-sc:field>'
                f'<oval-sc:field name="identity" datatype="string">{escape(ident)}'
                f"</oval-sc:field>"
                f'<oval-sc:field name="authmechanism" datatype="string">{escape(mech)}'
                f"</oval-sc:field></win-sc:value>" for name, ident, mech in host.connectors)
            items.append(
                f'<win-sc:cmdlet_item id="{item_id}" status="exists">'
                f"<win-sc:module_name>Microsoft.Exchange.Management.PowerShell.SnapIn"
                f"</win-sc:module_name><win-sc:verb>Get</win-sc:verb>"
                f"<win-sc:noun>ReceiveConnector</win-sc:noun>"
                f'<win-sc:select datatype="record">'
                f'<oval-sc:field name="name" datatype="string">Name</oval-sc:field>'
                f'<oval-sc:field name="identity" datatype="string">Identity</oval-sc:field>'
                f'<oval-sc:field name="authmechanism" datatype="string">AuthMechanism'
                f"</oval-sc:field></win-sc:select>{values}</win-sc:cmdlet_item>")
            item_id += 1
        tests.append(f'<test test_id="{tid}" version="1" check="all" result="{dres}">'
                     + "".join(tested) + "</test>")
    return (
        '<oval_results xmlns="http://oval.mitre.org/XMLSchema/oval-results-5" '
        'xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5" '
        'xmlns:oval-sc="http://oval.mitre.org/XMLSchema/oval-system-characteristics-5" '
        'xmlns:win-sc="http://oval.mitre.org/XMLSchema/oval-system-characteristics-5#windows">'
        "<generator><oval:product_name>stigscap</oval:product_name>"
        "<oval:schema_version>5.11.2</oval:schema_version>"
        "<oval:timestamp>2026-11-28T03:00:00</oval:timestamp></generator>"
        '<directives><definition_true reported="true" content="full"/></directives>'
        "<results><system><definitions>" + "".join(defs) + "</definitions><tests>"
        + "".join(tests) + "</tests>"
        "<oval-sc:oval_system_characteristics><oval-sc:generator>"
        "<oval:schema_version>5.11.2</oval:schema_version>"
        "<oval:timestamp>2026-11-28T03:00:00</oval:timestamp></oval-sc:generator>"
        f"<oval-sc:system_info><oval-sc:os_name>Windows</oval-sc:os_name>"
        f"<oval-sc:primary_host_name>{host.name}</oval-sc:primary_host_name>"
        "</oval-sc:system_info><oval-sc:system_data>" + "".join(items)
        + "</oval-sc:system_data></oval-sc:oval_system_characteristics>"
        "</system></results></oval_results>")


def _test_result(host: Host, idx: int, rules=RULES) -> str:
    rrs = []
    for r in rules:
        res = host.results.get(r.rule, "notchecked")
        msgs, insts = "", ""
        if r.rule == "SV-84553r1_rule" and res == "fail":
            for name, ident, mech in host.connectors:
                if mech != "Tls":
                    text = (f"Receive connector '{name}' ({ident}): AuthMechanism is "
                            f"'{mech}'; expected to match ^Tls$")
                    msgs += f'<message severity="info">{escape(text)}</message>'
                    insts += f"<instance>{escape(ident)}</instance>"
        check = ""
        if r.oval:
            check = (f'<check system="http://oval.mitre.org/XMLSchema/oval-definitions-5">'
                     f'<check-content-ref href="#oval{idx}" name="{r.oval}"/></check>')
        rrs.append(f'<rule-result idref="{_rid(r.rule)}" role="full" severity="{r.severity}" '
                   f'weight="10.0" time="2026-11-28T03:00:0{idx}Z"><result>{res}</result>'
                   f'<ident system="http://cyber.mil/cci">{r.cci}</ident>{msgs}{insts}{check}'
                   f"</rule-result>")
    return (
        f'<TestResult xmlns="http://checklists.nist.gov/xccdf/1.2" '
        f'id="xccdf_{NS}_testresult_{host.name}" start-time="2026-11-28T02:59:5{idx}Z" '
        f'end-time="2026-11-28T03:00:0{idx}Z" test-system="cpe:/a:stigscap:stigscap:0.1.0">'
        f'<benchmark href="#scap_{NS}_comp_{STEM}-xccdf.xml" id="xccdf_{NS}_benchmark_{BENCH}"/>'
        f'<identity authenticated="true" privileged="false">svc_scan</identity>'
        f'<profile idref="xccdf_{NS}_profile_MAC-1_Classified"/>'
        f"<target>{host.name}</target><target-address>{host.ip}</target-address>"
        f'<target-facts><fact name="urn:xccdf:fact:asset:identifier:host_name" type="string">'
        f"{host.name}</fact></target-facts>"
        f'<target-id-ref system="http://scap.nist.gov/schema/asset-identification/1.1" '
        f'href="" name="asset{idx}"/>'
        f'<set-value idref="xccdf_{NS}_value_receive_connector_authmechanism">^Tls$</set-value>'
        + "".join(rrs) + '<score system="urn:xccdf:scoring:default" maximum="100">50</score>'
        "</TestResult>")


def make_arf(hosts: list[Host], rules=RULES, with_benchmark: bool = True) -> bytes:
    rels, assets, reports = [], [], []
    for i, h in enumerate(hosts):
        rels.append(f'<core:relationship type="arfvocab:createdFor" subject="xccdf{i + 1}">'
                    f"<core:ref>collection1</core:ref></core:relationship>"
                    f'<core:relationship type="arfvocab:isAbout" subject="xccdf{i + 1}">'
                    f"<core:ref>asset{i}</core:ref></core:relationship>")
        assets.append(f'<arf:asset id="asset{i}"><ai:computing-device><ai:connections>'
                      f"<ai:connection><ai:ip-address><ai:ip-v4>{h.ip}</ai:ip-v4></ai:ip-address>"
                      f"<ai:mac-address>{h.mac}</ai:mac-address></ai:connection></ai:connections>"
                      f"<ai:fqdn>{h.name.lower()}.example.mil</ai:fqdn>"
                      f"<ai:hostname>{h.name}</ai:hostname></ai:computing-device></arf:asset>")
        reports.append(f'<arf:report id="xccdf{i + 1}"><arf:content>{_test_result(h, i, rules)}'
                       f"</arf:content></arf:report>")
    for i, h in enumerate(hosts):
        reports.append(f'<arf:report id="oval{i}"><arf:content>{_oval_report(h, rules)}'
                       f"</arf:content></arf:report>")
    request = ""
    if with_benchmark:
        request = (
            '<arf:report-requests><arf:report-request id="collection1"><arf:content>'
            f'<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2" '
            f'id="scap_{NS}_collection_{BENCH}" schematron-version="1.3">'
            f'<ds:data-stream id="scap_{NS}_datastream_{BENCH}" scap-version="1.3" '
            f'use-case="CONFIGURATION"/>'
            f'<ds:component id="scap_{NS}_comp_{STEM}-xccdf.xml" timestamp="2026-11-28T00:00:00">'
            f"{benchmark_xml(rules)}</ds:component></ds:data-stream-collection>"
            "</arf:content></arf:report-request></arf:report-requests>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<arf:asset-report-collection '
        'xmlns:arf="http://scap.nist.gov/schema/asset-reporting-format/1.1" '
        'xmlns:core="http://scap.nist.gov/schema/reporting-core/1.1" '
        'xmlns:ai="http://scap.nist.gov/schema/asset-identification/1.1">'
        '<core:relationships xmlns:arfvocab='
        '"http://scap.nist.gov/specifications/arf/vocabulary/relationships/1.0#">'
        + "".join(rels) + "</core:relationships>" + request
        + "<arf:assets>" + "".join(assets) + "</arf:assets><arf:reports>" + "".join(reports)
        + "</arf:reports></arf:asset-report-collection>").encode()


def disa_stig_xml(rules: list[Rule], release: str, extra_manual: bool = True) -> bytes:
    """A DISA-style manual STIG (XCCDF 1.1, escaped pseudo-XML descriptions, BOM)."""
    all_rules = list(rules)
    if extra_manual:
        all_rules.append(Rule("V-69787", "SRG-APP-000125", "SV-84409r1_rule", "EX13-EG-000015",
                              "Exchange must have audit data backed up.", "medium",
                              "Review the backup plan.\n\nIf audit data is not backed up, this "
                              "is a finding.", "Back up audit data weekly.", "CCI-001348"))
    groups = []
    for r in all_rules:
        desc = escape(f"<VulnDiscussion>Discussion of {r.title}</VulnDiscussion>"
                      "<FalsePositives></FalsePositives><FalseNegatives></FalseNegatives>"
                      "<Documentable>false</Documentable><Mitigations></Mitigations>"
                      "<IAControls></IAControls>")
        legacy = "".join(f'<ident system="http://cyber.mil/legacy">{x}</ident>' for x in r.legacy)
        groups.append(
            f'<Group id="{r.group}"><title>{r.srg}</title><description>&lt;GroupDescription&gt;'
            f'&lt;/GroupDescription&gt;</description><Rule id="{r.rule}" weight="10.0" '
            f'severity="{r.severity}"><version>{r.version}</version><title>{escape(r.title)}'
            f"</title><description>{desc}</description><reference><dc:identifier>3099"
            f"</dc:identifier></reference>{legacy}"
            f'<ident system="http://cyber.mil/cci">{r.cci}</ident><fixtext fixref="F-1_fix">'
            f'{escape(r.fix)}</fixtext><fix id="F-1_fix"/><check system="C-1_chk">'
            f'<check-content-ref href="DPMS_XCCDF_Benchmark_{BENCH}.xml" name="M"/>'
            f"<check-content>{escape(r.check)}</check-content></check></Rule></Group>")
    text = (
        '<?xml version="1.0" encoding="utf-8"?><?xml-stylesheet type=\'text/xsl\' '
        "href='STIG_unclass.xsl'?><Benchmark xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
        'xmlns="http://checklists.nist.gov/xccdf/1.1" id="' + BENCH + '" xml:lang="en">'
        '<status date="2024-06-10">accepted</status><title>Microsoft Exchange 2013 Edge '
        "Transport Server Security Technical Implementation Guide</title><description>DISA "
        'STIG fixture.</description><notice id="terms-of-use" xml:lang="en"></notice>'
        '<reference href="https://cyber.mil"><dc:publisher>DISA</dc:publisher>'
        "<dc:source>STIG.DOD.MIL</dc:source></reference>"
        f'<plain-text id="release-info">{release}</plain-text><version>1</version>'
        + "".join(groups) + "</Benchmark>")
    return b"\xef\xbb\xbf" + text.encode()


EDGE01 = Host("EDGE01", "192.0.2.11", "00:15:5D:00:00:11",
              {"SV-84553r1_rule": "fail", "SV-84405r1_rule": "pass"},
              [("Default internal receive connector EDGE01", "EDGE01\\Default internal receive "
                "connector EDGE01", "None"),
               ("Default EDGE01", "EDGE01\\Default EDGE01", "Tls, ExchangeServer"),
               ("Secure EDGE01", "EDGE01\\Secure EDGE01", "Tls")])
EDGE02 = Host("EDGE02", "192.0.2.12", "00:15:5D:00:00:12",
              {"SV-84553r1_rule": "pass", "SV-84405r1_rule": "notapplicable"},
              [("Default EDGE02", "EDGE02\\Default EDGE02", "Tls")])


@pytest.fixture
def arf_one(tmp_path) -> Path:
    p = tmp_path / "edge01-arf.xml"
    p.write_bytes(make_arf([EDGE01]))
    return p


@pytest.fixture
def arf_two(tmp_path) -> Path:
    p = tmp_path / "edge02-arf.xml"
    p.write_bytes(make_arf([EDGE02]))
    return p


@pytest.fixture
def arf_fleet(tmp_path) -> Path:
    p = tmp_path / "fleet-arf.xml"
    p.write_bytes(make_arf([EDGE01, EDGE02]))
    return p


def node_tools() -> Path:
    """tests/interop/node_modules; skipped outside CI when absent, a failure in CI."""
    nm = INTEROP / "node_modules"
    if shutil.which("node") and (nm / "@nuwcdivnpt").is_dir() and (nm / "@mitre").is_dir():
        return nm
    if os.environ.get("CI"):
        pytest.fail("npm tools are required in CI: run `npm ci --prefix tests/interop`")
    pytest.skip("npm tools not installed (npm ci --prefix tests/interop)")


def run_node(script: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    node_tools()
    return subprocess.run(["node", str(INTEROP / script), *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


@pytest.fixture
def kit():
    """This module (builders, hosts, rules) for tests; conftest modules are not importable."""
    import sys
    return sys.modules[__name__]
