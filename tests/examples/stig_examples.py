"""One example server per built-in benchmark, as Export-Clixml files (content/examples/<stig>/)
plus the verdict each rule is expected to get on it and why (expected.yaml).

- edge2013: EDGE01, Exchange 2013 CU23 Edge (example_server.py's data as it always was);
- edge2016: EDGE16, Exchange 2016 CU23 Edge; edge2019: EDGE19, Exchange 2019 CU14 Edge (the
  same Edge configuration, their own names, certificates and deliberate findings);
- mailbox2016: MBX01, Exchange 2016 CU23 Mailbox, exported in the Exchange Management Shell,
  which reaches even the local server through remote PowerShell: "Deserialized." type names and
  PSComputerName / RunspaceId / PSShowComputerName on every object.

Every export is what `<cmdlet> | Export-Clixml` writes with no Select-Object: Exchange
TimeSpans as EnhancedTimeSpan objects, SerializationData blobs on configuration objects, the
certificate as its RawData alone. Some files were exported with `-Encoding UTF8` (UTF-8 with
BOM), the rest in Windows PowerShell 5.1's default UTF-16LE with BOM (UTF8 below).

The findings and the organization-defined rules are facts of this data, written by hand per
STIG (FINDINGS, ORG_DEFINED); every other automated rule is configured as the STIG wants (pass)
and every manual rule is notchecked. tests/examples/test_stig_examples.py compares what
`stigscap run --example <stig>` computes with them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

import yaml

from tests.collect import acl_shapes as acl

from . import example_server as ex
from .clixml_writer import (NIL, Collection, Enum, I32, Obj, PipelineObject, TimeSpan, Uri,
                            Value, clixml_bytes, enum, mvp, unlimited_bytes, unlimited_int)

GB = 1 << 30


@dataclass(frozen=True)
class Stig:
    key: str
    benchmark: str
    host: str
    fqdn: str
    version: str                      # AdminDisplayVersion
    role: str                         # ServerRole
    # STIG id -> (cmdlet, why it fails, the objects that fail it: their Identity or Name)
    findings: dict[str, tuple[str, str, tuple[str, ...]]]
    org_defined: dict[str, str]       # STIG id -> the organization-defined Value it waits for
    utf8: frozenset[str] = frozenset()     # cmdlets exported with -Encoding UTF8
    # the site's values for the organization-defined Values (regular expressions, as
    # `--set-value` takes them), and the rules that still fail under them, with why
    site_values: dict[str, str] = field(default_factory=dict)
    site_findings: dict[str, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)
    remote: bool = False
    self_signed: bool = False
    changes: dict[str, list[Callable[[list[PipelineObject]], list[PipelineObject]]]] = field(
        default_factory=dict)
    # registry keys (below HKEY_LOCAL_MACHINE) -> their values, exported with
    # Get-ItemProperty -LiteralPath 'HKLM:\<key>', … | Export-Clixml Get-ItemProperty.xml
    registry: dict[str, list[tuple[str, Value]]] = field(default_factory=dict)
    # ACEs added to the Exchange install directory's ACL (Get-Acl.xml), as SDDL ACE, identity,
    # AccessControlType, FileSystemRights (see tests/collect/acl_shapes.py)
    extra_aces: tuple[tuple[str, str, str, str], ...] = ()


def set_prop(prop: str, value: Value, where: Callable[[PipelineObject], bool] | None = None):
    def apply(objs: list[PipelineObject]) -> list[PipelineObject]:
        out = []
        for o in objs:
            if where is None or where(o):
                names = [n for n, _ in o.props]
                if prop in names:
                    props = [(n, value if n == prop else v) for n, v in o.props]
                else:
                    props = list(o.props) + [(prop, value)]
                o = dataclasses.replace(o, props=props)
            out.append(o)
        return out
    return apply


def named(name: str) -> Callable[[PipelineObject], bool]:
    return lambda o: dict(o.props).get("Name") == name


def _retarget(value, pairs: tuple[tuple[str, str], ...]):
    """Every string in a value with the names replaced, in order (the FQDN, the domain, the
    host name in both cases: EDGE01 → EDGE16, edge01 → edge16)."""
    if isinstance(value, str):
        for old, new in pairs:
            value = value.replace(old, new)
        return value
    if isinstance(value, (Obj, PipelineObject)):
        props = [(n, _retarget(v, pairs)) for n, v in value.props]
        return dataclasses.replace(value, to_string=_retarget(value.to_string, pairs)
                                   if value.to_string is not None else None,
                                   props=tuple(props) if isinstance(value, Obj) else props)
    if isinstance(value, Collection):
        return dataclasses.replace(value, items=tuple(_retarget(v, pairs) for v in value.items))
    return value


def _version(text: str) -> Obj:
    major, minor, build, rev = (int(p) for p in
                                text.split(" ", 1)[1].replace("(Build ", "").rstrip(")")
                                .replace(" ", ".").split("."))
    return Obj(("Microsoft.Exchange.Data.ServerVersion", "System.Object"), text, (
        ("Major", I32(major)), ("Minor", I32(minor)), ("Build", I32(build)),
        ("Revision", I32(rev)), ("FilePatchLevelDescription", "")))


# --- cmdlets only some STIGs use ---------------------------------------------------------------

def execution_policy_list(local_machine: str = "RemoteSigned") -> list[PipelineObject]:
    """Get-ExecutionPolicy -List: one PSCustomObject per scope (note properties, no ToString)."""
    scopes = {"MachinePolicy": 0, "UserPolicy": 1, "Process": 2, "CurrentUser": 3,
              "LocalMachine": 4}
    policies = {"Unrestricted": 0, "RemoteSigned": 1, "AllSigned": 2, "Restricted": 3,
                "Bypass": 4, "Undefined": 5}
    return [PipelineObject(("System.Management.Automation.PSCustomObject", "System.Object"), None, [
        ("Scope", Enum("Microsoft.PowerShell.ExecutionPolicyScope", scope, number)),
        ("ExecutionPolicy", Enum("Microsoft.PowerShell.ExecutionPolicy", policy,
                                 policies[policy])),
    ], member_set=True) for scope, number in scopes.items()
        for policy in [local_machine if scope == "LocalMachine" else "Undefined"]]


def _config(type_name: str, dn: str, display: str, object_class: str,
            props: list[tuple[str, Value]], bases=ex.AD_BASES) -> PipelineObject:
    return PipelineObject((type_name,) + bases, display,
                          props + ex.ad_tail(dn, display, [object_class], ex.INSTALLED,
                                             ex.HARDENED))


SC = "Microsoft.Exchange.Data.Directory.SystemConfiguration"
AUTH_METHODS = {"Basic": 0, "Digest": 1, "Ntlm": 2, "Fba": 3, "WindowsIntegrated": 4,
                "LiveIdFba": 5, "LiveIdBasic": 6, "WSSecurity": 7, "Certificate": 8,
                "NegoEx": 9, "OAuth": 10, "Adfs": 11, "Kerberos": 12, "Negotiate": 13}


def mailbox_only(host: str, fqdn: str) -> dict[str, list[PipelineObject]]:
    server_dn = ex.SERVER_DN.replace("CN=EDGE01", f"CN={host}")
    audit = _config(f"{SC}.AdminAuditLogConfig",
                    f"CN=Admin Audit Log Settings,CN=Global Settings,{ex.ORG_DN}",
                    "Admin Audit Log Settings", "msExchAdminAuditLogConfig", [
        ("AdminAuditLogEnabled", True),
        ("TestCmdletLoggingEnabled", False),
        ("AdminAuditLogCmdlets", ex.strings(["*"])),
        ("AdminAuditLogParameters", ex.strings(["*"])),
        ("AdminAuditLogExcludedCmdlets", ex.strings([])),
        ("AdminAuditLogAgeLimit", TimeSpan(90 * 86400)),
    ])
    dag = _config(f"{SC}.DatabaseAvailabilityGroup",
                  f"CN=DAG01,CN=Database Availability Groups,{ex.ADMIN_GROUP_DN}", "DAG01",
                  "msExchMDBAvailabilityGroup", [
        ("Servers", mvp("Microsoft.Exchange.Data.Directory.ADObjectId, "
                        "Microsoft.Exchange.Data.Directory, Version=15.0.0.0, Culture=neutral, "
                        "PublicKeyToken=31bf3856ad364e35", [host])),
        ("WitnessServer", ex.fqdn("fs01.example.mil")),
        ("WitnessDirectory", "C:\\DAGFileShareWitnesses\\DAG01.example.mil"),
        ("DatacenterActivationMode", enum(f"{SC}.DatacenterActivationModeOption",
                                          {"Off": 0, "DagOnly": 1}, "DagOnly")),
    ])

    def database(name: str, circular: bool) -> PipelineObject:
        return _config(f"{SC}.MailboxDatabase",
                       f"CN={name},CN=Databases,{ex.ADMIN_GROUP_DN}", name, "msExchPrivateMDB", [
            ("Server", ex.ad_id(server_dn)),
            ("EdbFilePath", f"D:\\Databases\\{name}\\{name}.edb"),
            ("CircularLoggingEnabled", circular),
            ("MountAtStartup", True),
            ("RetainDeletedItemsUntilBackup", True),
            ("ProhibitSendQuota", unlimited_bytes(2 * GB)),
            ("ProhibitSendReceiveQuota", unlimited_bytes(None)),
            ("IssueWarningQuota", unlimited_bytes(GB)),
            ("DeletedItemRetention", TimeSpan(14 * 86400)),
        ], bases=(f"{SC}.Database",) + ex.AD_BASES)

    def vdir(kind: str, name: str, props: list[tuple[str, Value]]) -> PipelineObject:
        dn = f"CN={name},CN=HTTP,CN=Protocols,{server_dn}"
        return _config(f"{SC}.{kind}", dn, f"{host}\\{name}", "msExchVirtualDirectory",
                       props + [("Server", ex.ad_id(server_dn)), ("ServerName", host)],
                       bases=(f"{SC}.ExchangeVirtualDirectory",) + ex.AD_BASES)

    def remote_domain(name: str, domain: str, auto_forward: bool) -> PipelineObject:
        return _config("Microsoft.Exchange.Data.Directory.Management.RemoteDomain",
                       f"CN={name},CN=Internet Message Formats,CN=Global Settings,{ex.ORG_DN}",
                       name, "msExchDomainContentConfig", [
            ("DomainName", ex.smtp_domain(domain)),
            ("IsInternal", False),
            ("AllowedOOFType", enum(f"{SC}.AllowedOOFType",
                                    {"External": 0, "InternalLegacy": 1, "ExternalLegacy": 2,
                                     "None": 3}, "InternalLegacy")),
            ("AutoReplyEnabled", False),
            ("AutoForwardEnabled", auto_forward),
            ("DeliveryReportEnabled", False),
            ("NDREnabled", False),
        ], bases=("Microsoft.Exchange.Data.Directory.Management.ADPresentationObject",)
           + ex.AD_BASES[1:])

    ntlm = enum(f"{SC}.AuthenticationMethod", AUTH_METHODS, "Ntlm")
    return {
        "Get-AdminAuditLogConfig": [audit],
        "Get-DatabaseAvailabilityGroup": [dag],
        "Get-MailboxDatabase": [database("DB01", False), database("DB02", True)],
        "Get-OutlookAnywhere": [vdir("ADRpcHttpVirtualDirectory", "Rpc (Default Web Site)", [
            ("InternalHostname", ex.fqdn(fqdn)),
            ("ExternalHostname", ex.fqdn("mail.example.mil")),
            ("InternalClientAuthenticationMethod", ntlm),
            ("ExternalClientAuthenticationMethod", ntlm),
        ])],
        "Get-OwaVirtualDirectory": [vdir("ADOwaVirtualDirectory", "owa (Default Web Site)", [
            ("InternalUrl", Uri(f"https://{fqdn}/owa")),
            ("ExternalUrl", Uri("https://mail.example.mil/owa")),
            ("FormsAuthentication", True),   # finding EX16-MB-002920 (the Exchange default)
            ("WindowsAuthentication", True),
            ("BasicAuthentication", False),
        ])],
        "Get-RemoteDomain": [remote_domain("Default", "*", False),
                             remote_domain("Army enterprise mail", "army.mil", True)],
        "Get-RpcClientAccess": [PipelineObject(
            (f"{SC}.ExchangeRpcClientAccess",) + ex.AD_BASES, host, [
                ("Server", ex.ad_id(server_dn)),
                ("Name", host),
                ("EncryptionRequired", True),
                ("MaximumConnections", I32(65536)),
                ("BlockedClientVersions", ""),
            ] + ex.ad_tail(f"CN=RpcClientAccess,CN=Protocols,{server_dn}", host,
                           ["msExchRpcClientAccess"], ex.INSTALLED, ex.HARDENED,
                           name=False))],
    }


# --- the four servers ---------------------------------------------------------------------------

EDGE_UTF8 = frozenset({"Get-AcceptedDomain", "Get-EventLogLevel", "Get-ReceiveConnector",
                       "Get-SenderIdConfig", "Get-TransportService"})



ALL4 = ("Default internal receive connector", "Default Frontend", "Legacy relay",
        "Anonymous test")
NOT_TLS_ONLY = ("Default internal receive connector", "Legacy relay", "Anonymous test")


REG_PROVIDER = "Microsoft.PowerShell.Core\\Registry"


def registry_key(key: str, values: list[tuple[str, Value]]) -> PipelineObject:
    """What Get-ItemProperty -LiteralPath 'HKLM:\\<key>' returns: a PSCustomObject with each
    value of the key as a note property (REG_DWORD as Int32, REG_MULTI_SZ as String[], REG_SZ
    and REG_EXPAND_SZ (expanded) as String), then the provider's PSPath, PSParentPath,
    PSChildName, PSDrive and PSProvider."""
    parent, _, child = key.rpartition("\\")
    hklm = f"{REG_PROVIDER}::HKEY_LOCAL_MACHINE"
    drive = Obj(("System.Management.Automation.PSDriveInfo", "System.Object"), "HKLM", (
        ("CurrentLocation", ""), ("Name", "HKLM"), ("Provider", REG_PROVIDER),
        ("Root", "HKEY_LOCAL_MACHINE"), ("Description", "The configuration settings for the "
                                                        "local computer"),
        ("MaximumSize", NIL), ("Credential", "System.Management.Automation.PSCredential"),
        ("DisplayRoot", NIL)))
    provider = Obj(("System.Management.Automation.ProviderInfo", "System.Object"), REG_PROVIDER, (
        ("ImplementingType", "Microsoft.PowerShell.Commands.RegistryProvider"),
        ("HelpFile", "System.Management.Automation.dll-Help.xml"), ("Name", "Registry"),
        ("PSSnapIn", "Microsoft.PowerShell.Core"), ("ModuleName", "Microsoft.PowerShell.Core"),
        ("Module", NIL), ("Description", ""), ("Capabilities", "ShouldProcess, Transactions"),
        ("Home", ""), ("Drives", "{HKLM, HKCU}")))
    return PipelineObject(("System.Management.Automation.PSCustomObject", "System.Object"), None,
                          [*values, ("PSPath", f"{hklm}\\{key}"),
                           ("PSParentPath", f"{hklm}\\{parent}"), ("PSChildName", child),
                           ("PSDrive", drive), ("PSProvider", provider)], member_set=True)


def _strings(*items: str) -> Collection:
    return Collection(("System.String[]", "System.Array", "System.Object"), items)


NETFX = "SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319"
SERVICES = "SYSTEM\\CurrentControlSet\\Services"
V15 = "C:\\Program Files\\Microsoft\\Exchange Server\\V15"


def exchange_service(name: str, display: str, exe: str, start: int) -> list[tuple[str, Value]]:
    """An Exchange service's key (Start 2 automatic, 3 manual (setup's default for IMAP4 and
    POP3), 4 disabled)."""
    return [("Type", I32(16)), ("Start", I32(start)), ("ErrorControl", I32(1)),
            ("ImagePath", f'"{V15}\\FrontEnd\\PopImap\\{exe}"'), ("DisplayName", display),
            ("DependOnService", _strings("MSExchangeADTopology")),
            ("ObjectName", "LocalSystem"), ("Description", f"Provides {display} service.")]


# the EDSP of the examples: the Windows defaults of Program Files (the Values' options)
DIR_FULL = ("^(S-1-5-18|S-1-5-32-544|S-1-5-80-956008885-3418522649-1831038044-1853292631-"
            "2271478464|S-1-3-0)$")
DIR_READ = "^(S-1-5-32-545|S-1-15-2-1|S-1-15-2-2)$"
DIR_VALUES = "exchange_directory_full_trustees, exchange_directory_read_trustees"
DIR_SITE = {"exchange_directory_full_trustees": DIR_FULL,
            "exchange_directory_read_trustees": DIR_READ}


def _conn(host: str, names: tuple[str, ...]) -> tuple[str, ...]:
    # "Default Frontend EDGE01 partner TLS": the host sits inside this one's name
    return tuple(f"{host}\\Default Frontend {host} partner TLS" if n == "Default Frontend"
                 else f"{host}\\{n} {host}" for n in names)


EDGE2013_OBJECTS = {
    "EX13-EG-000340": _conn("EDGE01", NOT_TLS_ONLY),
    "EX13-EG-000090": _conn("EDGE01", ALL4),
    "EX13-EG-000055": ("EDGE01",),
    "EX13-EG-000195": ("SenderReputationConfig",),
}
NOHYPER = ("Get-TransportAgent", "no hyperlink-scanning transport agent (Hyperlink Protection "
           "Agent) is installed: only the Edge's built-in agents are", ())
TLS_ONLY_WHY = ("three of the four Receive connectors have an AuthMechanism other than exactly "
                "Tls ('Tls, ExchangeServer', 'BasicAuth, BasicAuthRequireTLS', 'None')")
TLS_BASIC_WHY = ("follows from the same four connectors: this rule wants AuthMechanism 'Tls, "
                 "BasicAuth, BasicAuthRequireTLS' on every connector, which none has (it and "
                 "the Tls-only rule cannot both pass)")

STIGS: dict[str, Stig] = {
    "edge2013": Stig(
        "edge2013", "exchange2013_edge", ex.HOST, ex.FQDN, "Version 15.0 (Build 1497.2)",
        "Edge",
        {v: (c, why, EDGE2013_OBJECTS[v]) for v, c, why in ex.FINDINGS.values()},
        {v: value for v, value in ex.ORG_DEFINED.values()},
        utf8=frozenset({"Get-ReceiveConnector", "Get-TransportConfig"}),
        site_values={"transport_config_internalsmtpservers": r"^192\.0\.2\.1[01]$",
                     "send_connector_tlsdomain": r"^(\*\.mil|example\.mil)$",
                     "receive_connector_internal_names": "^(Legacy relay|Anonymous test) "}),
    "edge2016": Stig(
        "edge2016", "exchange2016_edge", "EDGE16", "edge16.perimeter.example.mil",
        "Version 15.1 (Build 2507.6)", "Edge",
        {
            "EX16-ED-000010": ("Get-ReceiveConnector", "the Receive connector 'Legacy relay "
                               "EDGE16' has ConnectionTimeout 00:10:00; the STIG wants 00:05:00",
                               _conn("EDGE16", ("Legacy relay",))),
            "EX16-ED-000020": ("Get-ExchangeCertificate", "the SMTP certificate is the "
                               "self-signed one setup makes (Issuer CN=EDGE16), not DoD-issued",
                               ()),
            "EX16-ED-000180": ("Get-ReceiveConnector", TLS_BASIC_WHY, _conn("EDGE16", ALL4)),
            "EX16-ED-000680": ("Get-ReceiveConnector", TLS_ONLY_WHY,
                               _conn("EDGE16", NOT_TLS_ONLY)),
        },
        {"EX16-ED-000580": DIR_VALUES,
         "EX16-ED-000490": "receive_connector_internal_names",
         "EX16-ED-000570": "transport_agent_hyperlink_name",
         "EX16-ED-000690": "send_connector_tlsdomain"},
        utf8=EDGE_UTF8, self_signed=True,
        site_values={"receive_connector_internal_names": "^(Legacy relay|Anonymous test) ",
                     "transport_agent_hyperlink_name": "^Hyperlink Protection Agent$",
                     "send_connector_tlsdomain": r"^(\*\.mil|example\.mil)$",
                     **DIR_SITE},
        site_findings={"EX16-ED-000570": NOHYPER},
        changes={"Get-ReceiveConnector": [set_prop("ConnectionTimeout", TimeSpan(600),
                                                   named("Legacy relay EDGE16"))]}),
    "edge2019": Stig(
        "edge2019", "exchange2019_edge", "EDGE19", "edge19.perimeter.example.mil",
        "Version 15.2 (Build 1748.10)", "Edge",
        {
            "EX19-ED-000129": ("Get-SenderReputationConfig", "SrlBlockThreshold is 7, the "
                               "Exchange default; the STIG wants 6", ("SenderReputationConfig",)),
            "EX19-ED-000099": ("Get-ReceiveConnector", TLS_BASIC_WHY, _conn("EDGE19", ALL4)),
            "EX19-ED-000235": ("Get-ReceiveConnector", TLS_ONLY_WHY,
                               _conn("EDGE19", NOT_TLS_ONLY)),
        },
        {"EX19-ED-000195": DIR_VALUES,
         "EX19-ED-000122": "transport_agent_hyperlink_name",
         "EX19-ED-000136": "receive_connector_internal_names",
         "EX19-ED-000236": "send_connector_internal_smtp_domain",
         "EX19-ED-000238": "transport_agent_hyperlink_name"},
        utf8=EDGE_UTF8 | {"Get-ExchangeCertificate"},
        site_values={"receive_connector_internal_names": "^(Legacy relay|Anonymous test) ",
                     "transport_agent_hyperlink_name": "^Hyperlink Protection Agent$",
                     "send_connector_internal_smtp_domain": "example.mil",
                     **DIR_SITE},
        site_findings={"EX19-ED-000122": NOHYPER, "EX19-ED-000238": NOHYPER,
                       "EX19-ED-000195": ("Get-Acl", "NT AUTHORITY\\Authenticated Users has "
                                          "Modify on the Exchange install directory (an ACE "
                                          "added by hand), which the EDSP does not grant",
                                          ("S-1-5-11",))},
        extra_aces=(("(A;OICI;0x1301bf;;;AU)", "NT AUTHORITY\\Authenticated Users", "Allow",
                     "Modify, Synchronize"),),
        registry={NETFX: [("SchUseStrongCrypto", I32(1)), ("SystemDefaultTlsVersions", I32(1))]}),
    "mailbox2016": Stig(
        "mailbox2016", "exchange2016_mailbox", "MBX01", "mbx01.example.mil",
        "Version 15.1 (Build 2507.6)", "Mailbox",
        {
            "EX16-MB-000070": ("Get-MailboxDatabase", "DB02 has CircularLoggingEnabled True",
                               ("DB02",)),
            "EX16-MB-000220": ("Get-ReceiveConnector", "two of the four Receive connectors have "
                               "an AuthMechanism without Tls ('BasicAuth, BasicAuthRequireTLS', "
                               "'None'; the Mailbox STIG wants Tls among the mechanisms)",
                               _conn("MBX01", ("Legacy relay", "Anonymous test"))),
            "EX16-MB-002920": ("Get-OwaVirtualDirectory", "'MBX01\\owa (Default Web Site)' has "
                               "FormsAuthentication True (the Exchange default)",
                               ("MBX01\\owa (Default Web Site)",)),
            "EX16-MB-000180": ("Get-ItemProperty", "the MSExchangeIMAP4 service's Start is 3 "
                               "(manual, as Exchange setup leaves it); the STIG wants 4 "
                               "(disabled)",
                               (f"HKEY_LOCAL_MACHINE\\{SERVICES}\\MSExchangeIMAP4\\Start",)),
        },
        {"EX16-MB-000570": DIR_VALUES,
         "EX16-MB-000210": "send_connector_smarthosts",
         "EX16-MB-000320": "mailbox_database_prohibitsendquota",
         "EX16-MB-000510": "transport_config_internalsmtpservers"},
        utf8=frozenset({"Get-MailboxDatabase", "Get-RemoteDomain", "Get-ExchangeCertificate",
                        "Get-TransportConfig"}),
        site_values={"send_connector_smarthosts": r"^192\.0\.2\.25$",
                     "mailbox_database_prohibitsendquota": r"^2 GB \(2,147,483,648 bytes\)$",
                     "transport_config_internalsmtpservers": r"^192\.0\.2\.1[01]$",
                     **DIR_SITE},
        remote=True,
        registry={
            f"{SERVICES}\\MSExchangeIMAP4": exchange_service(
                "MSExchangeIMAP4", "Microsoft Exchange IMAP4",
                "Microsoft.Exchange.Imap4Service.exe", 3),
            f"{SERVICES}\\MSExchangePOP3": exchange_service(
                "MSExchangePOP3", "Microsoft Exchange POP3",
                "Microsoft.Exchange.Pop3Service.exe", 4)}),
}


def _cmdlets(benchmark: str) -> set[str]:
    from stigscap.content.loader import builtin_benchmark_dir, load_content
    content = load_content(builtin_benchmark_dir(benchmark))
    tests = [t for r in content.rules if r.check for t in r.check.tests]
    tests += list(content.benchmark.platform.check.tests)
    from stigscap.evaluator.collect.items import KINDS
    kinds = {"RegistryObject": KINDS["registry"], "FileRightsObject": KINDS["fileeffectiverights"]}
    return {getattr(t.object, "cmdlet", None) or kinds[type(t.object).__name__] for t in tests}


def stig_exports(key: str) -> dict[str, list[PipelineObject]]:
    """Cmdlet name -> the objects it returns on the STIG's example server."""
    stig = STIGS[key]
    base = ex.exports()
    if key == "edge2013":
        return base
    pairs = ((ex.FQDN, stig.fqdn), (ex.FQDN.split(".", 1)[1], stig.fqdn.split(".", 1)[1]),
             (ex.HOST, stig.host), (ex.HOST.lower(), stig.host.lower()))
    data: dict[str, list[PipelineObject]] = {
        cmdlet: [_retarget(o, pairs) for o in objs] for cmdlet, objs in base.items()}
    data["Get-ExchangeCertificate"] = [ex.exchange_certificate(
        stig.fqdn, stig.host, self_signed=stig.self_signed,
        not_before=dt.datetime(2025, 3, 4, 0, 0, tzinfo=dt.timezone.utc),
        not_after=dt.datetime(2028, 3, 4, 23, 59, 59, tzinfo=dt.timezone.utc),
        serial=0x1D00A3 if key == "edge2019" else 0x2B0071)]
    data["Get-ExecutionPolicy"] = execution_policy_list()
    roles = {"Edge": "Edge", "Mailbox": "Mailbox"}
    data["Get-ExchangeServer"] = [set_prop("AdminDisplayVersion", _version(stig.version))(
        set_prop("ServerRole", enum(f"{SC}.ServerRole", ex.SERVER_ROLES, roles[stig.role]))(
            set_prop("IsEdgeServer", stig.role == "Edge")(
                set_prop("IsMailboxServer", stig.role == "Mailbox")(
                    data["Get-ExchangeServer"]))))[0]]
    if stig.benchmark == "exchange2019_edge":
        data["Get-SenderReputationConfig"] = base["Get-SenderReputationConfig"]  # SRL 7
    else:
        data["Get-SenderReputationConfig"] = set_prop("SrlBlockThreshold", I32(6))(
            data["Get-SenderReputationConfig"])
    data["Get-ExchangeServer"] = set_prop("ErrorReportingEnabled", False)(
        data["Get-ExchangeServer"])
    # the Edge examples route through a smart host, as the 2016/2019 STIGs want
    data["Get-SendConnector"] = set_prop("DNSRoutingEnabled", False)(data["Get-SendConnector"])
    if stig.role == "Mailbox":
        data.update(mailbox_only(stig.host, stig.fqdn))
        data["Get-TransportService"] = set_prop("MessageTrackingLogSubjectLoggingEnabled", False)(
            data["Get-TransportService"])
        data["Get-TransportConfig"] = set_prop("MaxRecipientEnvelopeLimit", unlimited_int(5000))(
            data["Get-TransportConfig"])
        # the Mailbox's Send connectors go through the site's smart host
        data["Get-SendConnector"] = set_prop("SmartHostsString", "192.0.2.25")(set_prop(
            "SmartHosts", mvp(f"Microsoft.Exchange.Data.SmartHost, {ex.EXCHANGE_ASM}",
                              ["192.0.2.25"]))(data["Get-SendConnector"]))
        # the Mailbox STIG wants 10 minutes (the Edge STIGs 5)
        data["Get-ReceiveConnector"] = set_prop("ConnectionTimeout", TimeSpan(600))(
            data["Get-ReceiveConnector"])
    if stig.registry:   # read in a local PowerShell: no remote-session notes
        data["Get-ItemProperty"] = [registry_key(k, v) for k, v in stig.registry.items()]
    for cmdlet, changes in stig.changes.items():
        for change in changes:
            data[cmdlet] = change(data[cmdlet])
    wanted = _cmdlets(stig.benchmark)
    return {c: objs for c, objs in sorted(data.items()) if c in wanted}


def expectations(key: str) -> dict:
    """Every rule's expected verdict on the example, and why (from FINDINGS / ORG_DEFINED)."""
    from stigscap.content.loader import builtin_benchmark_dir, load_content
    stig = STIGS[key]
    content = load_content(builtin_benchmark_dir(stig.benchmark))
    rules = {}
    counts = {"pass": 0, "fail": 0, "notchecked": 0}
    known = {r.version for r in content.rules}
    unknown = (set(stig.findings) | set(stig.org_defined)) - known
    if unknown:
        raise KeyError(f"{key}: no such STIG ids {sorted(unknown)}")
    for rule in sorted(content.rules, key=lambda r: r.version):
        objects: tuple[str, ...] = ()
        if rule.check is None:
            verdict, why = "notchecked", "manual rule (OCIL question)"
        elif rule.version in stig.findings:
            cmdlet, reason, objects = stig.findings[rule.version]
            verdict, why = "fail", f"{cmdlet}: {reason}"
        elif rule.version in stig.org_defined:
            value = stig.org_defined[rule.version]
            verdict, why = "notchecked", (f"organization-defined value {value} is not set"
                                          if ", " not in value else
                                          f"organization-defined values {value} are not set")
            if rule.version in stig.site_findings:
                cmdlet, reason, _ = stig.site_findings[rule.version]
                site = {"verdict": "fail", "why": f"{cmdlet}: {reason}"}
            else:
                site = {"verdict": "pass", "why": "configured as the STIG requires, with " +
                        ", ".join(f"{v} = {stig.site_values[v]!r}" for v in value.split(", "))}
        else:
            verdict, why = "pass", "configured as the STIG requires"
        counts[verdict] += 1
        rules[rule.rule_id] = {"stig_id": rule.version, "verdict": verdict, "why": why}
        if verdict == "fail" and objects:
            rules[rule.rule_id]["objects"] = list(objects)
        if verdict == "notchecked" and rule.check is not None:
            rules[rule.rule_id]["with_site_values"] = site
    unknown = set(stig.site_findings) - set(stig.org_defined)
    if unknown or set(stig.site_values) != {v for vs in stig.org_defined.values()
                                            for v in vs.split(", ")}:
        raise KeyError(f"{key}: site values/findings do not match the organization-defined "
                       "rules")
    return {"stig": key, "benchmark": stig.benchmark, "host": stig.fqdn,
            "exit_code": 2 if counts["fail"] else 0, "counts": counts,
            "site_values": dict(stig.site_values), "rules": rules}


def rendered(key: str) -> dict[str, bytes]:
    """File name -> bytes: the exports (as Export-Clixml wrote them) and expected.yaml."""
    stig = STIGS[key]
    remote = (stig.fqdn, "6f0f3c1e-8e1a-4c55-9a57-1b2a4d0c9e31") if stig.remote else None
    # Get-ItemProperty runs in the local shell even in the Exchange Management Shell (only
    # the Exchange cmdlets come through its remote session)
    out = {f"{cmdlet}.xml": clixml_bytes(objs, encoding="utf-8" if cmdlet in stig.utf8
                                         else "utf-16",
                                         remote=None if cmdlet == "Get-ItemProperty" else remote)
           for cmdlet, objs in stig_exports(key).items()}
    if "Get-Acl" in _cmdlets(stig.benchmark):   # `Get-Acl -LiteralPath <dir> | Export-Clixml`
        install = dataclasses.replace(acl.EXCHANGE_INSTALL,
                                      aces=acl.EXCHANGE_INSTALL.aces + stig.extra_aces)
        out["Get-Acl.xml"] = acl.get_acl_clixml((install,))
    head = (f"# {key}: the expected verdict of every rule of {stig.benchmark} on this example\n"
            "# and why (written by tests/examples/stig_examples.py from its FINDINGS; do not\n"
            "# edit by hand). tests/examples/test_stig_examples.py checks `stigscap run\n"
            f"# --example {key}` against it.\n")
    out["expected.yaml"] = (head + yaml.safe_dump(expectations(key), sort_keys=False,
                                                  allow_unicode=True, width=100)).encode()
    return out
