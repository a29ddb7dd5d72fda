"""The built-in example: an Exchange 2013 CU23 Edge Transport server, EDGE01
(edge01.perimeter.example.mil), as typed data, and the Export-Clixml files it writes into
content/examples/ (one per cmdlet the content uses, named after the cmdlet, as an admin gets
them from `<cmdlet> | Export-Clixml <folder>\\<cmdlet>.xml` in the Edge's Exchange Management
Shell, Windows PowerShell 5.1: no Select-Object, depth 2, local snap-in objects so the type
names carry no "Deserialized." prefix).

The server is configured to the STIG except for a small, deliberate set of findings
(FINDINGS below, keyed by rule id, each with the reason). Everything else passes.

    python -m tests.examples.example_server            # rewrite content/examples/<stig>/
    python -m tests.examples.example_server --check    # exit 1 if the files differ

tests/examples/test_example_server.py asserts the committed files equal what this writes.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import uuid
from pathlib import Path

from .clixml_writer import (NIL, EXCHANGE_ASM, Collection, DateTime, Guid, I32, Obj,
                            PipelineObject, TimeSpan, Value, byte_size, enum,
                            mvp, unlimited_bytes, unlimited_int)

REPO = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO / "content" / "examples"

HOST = "EDGE01"
FQDN = "edge01.perimeter.example.mil"
MB = 1 << 20

# rule id -> (STIG id, cmdlet, why it fails). The seed rule's four connectors are fixed.
FINDINGS: dict[str, tuple[str, str, str]] = {
    "SV-84553r1_rule": ("EX13-EG-000340", "Get-ReceiveConnector",
                        "three of the four Receive connectors have an AuthMechanism other than "
                        "exactly Tls ('Tls, ExchangeServer', 'BasicAuth, BasicAuthRequireTLS', "
                        "'None')"),
    "SV-84439r1_rule": ("EX13-EG-000090", "Get-ReceiveConnector",
                        "follows from the same four connectors: EX13-EG-000090 wants "
                        "AuthMechanism 'Tls, BasicAuth, BasicAuthRequireTLS' on every connector, "
                        "which none of them has (the STIG's 000090 and 000340 cannot both pass)"),
    "SV-84425r1_rule": ("EX13-EG-000055", "Get-ExchangeServer",
                        "ErrorReportingEnabled is True (error reporting opted in at setup)"),
    "SV-84495r1_rule": ("EX13-EG-000195", "Get-SenderReputationConfig",
                        "SrlBlockThreshold is 7, the Exchange default; the STIG wants 6"),
}

# Automated rules whose organization-defined Value (site_must_set, XCCDF @interactive) has no
# usable default: untailored, they are notchecked (manual review), never a guessed pass or fail.
ORG_DEFINED: dict[str, tuple[str, str]] = {
    "SV-84527r1_rule": ("EX13-EG-000275", "transport_config_internalsmtpservers"),
    "SV-84555r1_rule": ("EX13-EG-000345", "send_connector_tlsdomain"),
    # issue 14: which Receive connectors are internal is a site fact
    "SV-84515r1_rule": ("EX13-EG-000245", "receive_connector_internal_names"),
}

# --- directory identities -------------------------------------------------------------------

CONFIG_GUID = "{3B1A4D6E-2C7F-4F0A-9E1B-5D2C8A7F6E01}"
CONFIG_DN = f"CN=Configuration,CN={CONFIG_GUID}"
ORG_DN = f"CN=First Organization,CN=Microsoft Exchange,CN=Services,{CONFIG_DN}"
ADMIN_GROUP_DN = f"CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,{ORG_DN}"
SERVER_DN = f"CN={HOST},CN=Servers,{ADMIN_GROUP_DN}"
RECEIVE_DN = f"CN=SMTP Receive Connectors,CN=Protocols,{SERVER_DN}"
SEND_DN = f"CN=Connections,CN=Exchange Routing Group (DWBGZMFD01QNBJR),CN=Routing Groups,{ADMIN_GROUP_DN}"
TRANSPORT_DN = f"CN=Transport Settings,{ORG_DN}"
HYGIENE_DN = f"CN=Message Hygiene,{TRANSPORT_DN}"
PARTITION_GUID = "59ce2f71-eaa2-4ddf-a4fa-f25069d0b324"

ADOBJECTID_TN = ("Microsoft.Exchange.Data.Directory.ADObjectId", "System.Object")
AD_BASES = ("Microsoft.Exchange.Data.Directory.ADConfigurationObject",
            "Microsoft.Exchange.Data.Directory.ADObject",
            "Microsoft.Exchange.Data.Directory.ADRawEntry",
            "Microsoft.Exchange.Data.ConfigurableObject", "System.Object")
LEGACY_BASES = ("Microsoft.Exchange.Data.Directory.ADLegacyVersionableObject",) + AD_BASES
PRESENTATION_BASES = ("Microsoft.Exchange.Data.Directory.ADPresentationObject",) + AD_BASES[1:]


def _rdn_value(dn: str) -> str:
    return dn.split(",", 1)[0].split("=", 1)[1]


def object_guid(dn: str) -> str:
    """Stable GUIDs: Receive connectors keep the ones the seed example always had."""
    if dn.endswith(RECEIVE_DN):
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, _rdn_value(dn)))
    return str(uuid.uuid5(uuid.NAMESPACE_URL, dn))


def ad_id(dn: str, display: str | None = None) -> Obj:
    """ADObjectId at depth 1 (its properties at depth 0)."""
    parts = dn.split(",")
    return Obj(ADOBJECTID_TN, display if display is not None else _rdn_value(dn), (
        ("IsDeleted", False),
        ("Rdn", parts[0]),
        ("Parent", _rdn_value(",".join(parts[1:]))),
        ("Depth", len(parts) - 1),
        ("DistinguishedName", dn),
        ("IsRelativeDn", False),
        ("DomainId", ""),
        ("PartitionGuid", Guid(PARTITION_GUID)),
        ("PartitionFQDN", "Configuration"),
        ("ObjectGuid", Guid(object_guid(dn))),
        ("Name", _rdn_value(dn)),
    ))


OBJECT_STATE = enum("Microsoft.Exchange.Data.ObjectState",
                    {"New": 0, "Unchanged": 1, "Changed": 2, "Deleted": 3}, "Unchanged")


def exchange_version(text: str) -> Obj:
    major, minor, build, rev = (int(p) for p in text.split("(")[1].rstrip(")").split("."))
    return Obj(("Microsoft.Exchange.Data.ExchangeObjectVersion", "System.Object"), text, (
        ("ExchangeBuild", f"{major}.{minor} (Build {build}.{rev})"),))


def ad_tail(dn: str, display: str, object_class: list[str], created: str, changed: str,
            version: str = "0.1 (8.0.535.0)", *, name: bool = True) -> list[tuple[str, Value]]:
    """The ADObject properties every Exchange configuration object ends with (`name=False` for
    the presentation objects that list Name first: an object never carries a property twice)."""
    return [
        ("AdminDisplayName", NIL),
        ("ExchangeVersion", exchange_version(version)),
        *([("Name", _rdn_value(dn))] if name else []),
        ("DistinguishedName", dn),
        ("Identity", ad_id(dn, display)),
        ("Guid", Guid(object_guid(dn))),
        ("ObjectCategory", ad_id(f"CN={object_class[-1]},CN=Schema,{CONFIG_DN}",
                                 f"{FQDN}/Configuration/Schema/{object_class[-1]}")),
        ("ObjectClass", mvp("System.String, mscorlib, Version=4.0.0.0, Culture=neutral, "
                            "PublicKeyToken=b77a5c561934e089", ["top"] + object_class)),
        ("WhenChanged", DateTime(changed)),
        ("WhenCreated", DateTime(created)),
        ("WhenChangedUTC", DateTime(_utc(changed))),
        ("WhenCreatedUTC", DateTime(_utc(created))),
        ("OrganizationId", ""),
        ("Id", ad_id(dn, display)),
        ("OriginatingServer", FQDN),
        ("IsValid", True),
        ("ObjectState", OBJECT_STATE),
    ]


def _utc(local: str) -> str:
    """'2025-06-16T10:41:07.883-04:00' → '2025-06-16T14:41:07.883Z' (.NET round-trip form)."""
    when = dt.datetime.fromisoformat(local).astimezone(dt.timezone.utc)
    frac = f"{when.microsecond:06d}".rstrip("0")
    return when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


INSTALLED = "2025-06-16T10:41:07.883-04:00"
HARDENED = "2026-01-12T09:14:03.517-05:00"

# --- typed building blocks ------------------------------------------------------------------

STRING_T = "System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089"
AUTH_MECHANISMS = {"None": 0, "Tls": 1, "Integrated": 2, "BasicAuth": 4,
                   "BasicAuthRequireTLS": 8, "ExchangeServer": 16, "ExternalAuthoritative": 32}
PERMISSION_GROUPS = {"None": 0, "AnonymousUsers": 1, "ExchangeUsers": 2, "ExchangeServers": 4,
                     "ExchangeLegacyServers": 8, "Partners": 16, "Custom": 32}
SERVER_ROLES = {"None": 0, "Cafe": 1, "Mailbox": 2, "ClientAccess": 4, "UnifiedMessaging": 16,
                "HubTransport": 32, "Edge": 64}


def fqdn(name: str) -> Obj:
    return Obj(("Microsoft.Exchange.Data.Fqdn", "Microsoft.Exchange.Data.SmtpDomain",
                "System.Object"), name, (("Domain", name),))


def smtp_domain(name: str) -> Obj:
    star = name.startswith("*.")
    bare = name[2:] if star else name
    return Obj(("Microsoft.Exchange.Data.SmtpDomainWithSubdomains", "System.Object"), name, (
        ("IsStar", name == "*"), ("IncludeSubDomains", star), ("Address", name),
        ("Domain", bare), ("SmtpDomain", bare)))


def smtp_address(address: str) -> Obj:
    local, domain = address.split("@")
    return Obj(("Microsoft.Exchange.Data.SmtpAddress", "System.ValueType", "System.Object"),
               address, (("Local", local), ("Domain", domain), ("Length", len(address)),
                         ("IsValidAddress", True)))


def strings(items: list[str], element: str = STRING_T) -> Collection:
    return mvp(element, items)


def minutes(n: int) -> TimeSpan:
    return TimeSpan(n * 60)


# --- Get-ReceiveConnector ---------------------------------------------------------------------

RECEIVE_TN = ("Microsoft.Exchange.Data.Directory.SystemConfiguration.ReceiveConnector",
              ) + LEGACY_BASES

# name, AuthMechanism (the seed rule's fixed mix), PermissionGroups, bindings, remote IP ranges
RECEIVE_CONNECTORS = [
    ("Default internal receive connector EDGE01", "Tls, ExchangeServer",
     "ExchangeServers, Partners", ["0.0.0.0:25", "[::]:25"],
     ["192.0.2.10", "192.0.2.11"]),
    ("Default Frontend EDGE01 partner TLS", "Tls", "Partners",
     ["203.0.113.25:25"], ["198.51.100.0/24"]),
    ("Legacy relay EDGE01", "BasicAuth, BasicAuthRequireTLS", "ExchangeUsers",
     ["192.0.2.20:587"], ["192.0.2.40-192.0.2.47"]),
    ("Anonymous test EDGE01", "None", "ExchangeServers",
     ["192.0.2.20:2525"], ["192.0.2.99"]),
]


def receive_connector(name: str, auth: str, groups: str, bindings: list[str],
                      remote: list[str]) -> PipelineObject:
    dn = f"CN={name},{RECEIVE_DN}"
    display = f"{HOST}\\{name}"
    props: list[tuple[str, Value]] = [
        ("AuthMechanism", enum("Microsoft.Exchange.Data.Directory.SystemConfiguration."
                               "AuthMechanisms", AUTH_MECHANISMS, auth)),
        ("Banner", "220 SMTP Server Ready"),
        ("BinaryMimeEnabled", True),
        ("Bindings", mvp(f"Microsoft.Exchange.Data.IPBinding, {EXCHANGE_ASM}", bindings)),
        ("ChunkingEnabled", True),
        ("DefaultDomain", NIL),
        ("DeliveryStatusNotificationEnabled", True),
        ("EightBitMimeEnabled", True),
        ("DomainSecureEnabled", True),
        ("EnhancedStatusCodesEnabled", True),
        ("LongAddressesEnabled", False),
        ("OrarEnabled", False),
        ("SuppressXAnonymousTls", False),
        ("ProxyEnabled", False),
        ("AdvertiseClientSettings", False),
        ("Fqdn", fqdn(FQDN)),
        ("ServiceDiscoveryFqdn", NIL),
        ("TlsCertificateName", NIL),
        ("Comment", NIL),
        ("Enabled", True),
        ("ConnectionTimeout", minutes(5)),
        ("ConnectionInactivityTimeout", minutes(1)),
        ("MessageRateLimit", unlimited_int(None)),
        ("MessageRateSource", enum("Microsoft.Exchange.Data.MessageRateSourceFlags",
                                   {"None": 0, "IPAddress": 1, "User": 2, "All": 3},
                                   "IPAddress")),
        ("MaxInboundConnection", unlimited_int(5000)),
        ("MaxInboundConnectionPerSource", unlimited_int(20)),
        ("MaxInboundConnectionPercentagePerSource", I32(2)),
        ("MaxHeaderSize", byte_size(128 * 1024)),
        ("MaxHopCount", I32(60)),
        ("MaxLocalHopCount", I32(8)),
        ("MaxLogonFailures", I32(3)),
        ("MaxMessageSize", byte_size(10 * MB)),
        ("MaxProtocolErrors", unlimited_int(5)),
        ("MaxRecipientsPerMessage", I32(5000)),
        ("PermissionGroups", enum("Microsoft.Exchange.Data.PermissionGroups",
                                  PERMISSION_GROUPS, groups)),
        ("PipeliningEnabled", True),
        ("ProtocolLoggingLevel", enum("Microsoft.Exchange.Data.ProtocolLoggingLevel",
                                      {"None": 0, "Verbose": 1}, "Verbose")),
        ("RemoteIPRanges", mvp(f"Microsoft.Exchange.Data.IPRange, {EXCHANGE_ASM}", remote)),
        ("RequireEHLODomain", False),
        ("RequireTLS", auth != "None"),
        ("EnableAuthGSSAPI", False),
        ("LiveCredentialEnabled", False),
        ("TlsDomainCapabilities", mvp(f"Microsoft.Exchange.Data.SmtpReceiveDomainCapabilities, "
                                      f"{EXCHANGE_ASM}", [])),
        ("Server", ad_id(SERVER_DN)),
        ("TransportRole", enum("Microsoft.Exchange.Data.Directory.SystemConfiguration."
                               "ServerRole", SERVER_ROLES, "HubTransport")),
        ("SizeEnabled", enum("Microsoft.Exchange.Data.SizeMode",
                             {"Disabled": 0, "Enabled": 1, "EnabledWithoutValue": 2},
                             "Enabled")),
        ("TarpitInterval", TimeSpan(5)),
        ("MaxAcknowledgementDelay", TimeSpan(30)),
    ] + ad_tail(dn, display, ["msExchSmtpReceiveConnector"], INSTALLED, HARDENED,
                "0.1 (8.0.535.0)")
    return PipelineObject(RECEIVE_TN, display, props)


# --- Get-SendConnector ------------------------------------------------------------------------

SEND_TN = ("Microsoft.Exchange.Data.Directory.SystemConfiguration.SmtpSendConnectorConfig",
           "Microsoft.Exchange.Data.Directory.SystemConfiguration.MailGateway",
           "Microsoft.Exchange.Data.Directory.SystemConfiguration.SendConnector") + LEGACY_BASES


def send_connector(name: str, address_space: str, dns_routing: bool, smart_hosts: list[str],
                   tls_domain: str) -> PipelineObject:
    dn = f"CN={name},{SEND_DN}"
    props: list[tuple[str, Value]] = [
        ("AddressSpaces", mvp(f"Microsoft.Exchange.Data.AddressSpace, {EXCHANGE_ASM}",
                              [address_space])),
        ("AuthenticationCredential", NIL),
        ("CloudServicesMailEnabled", False),
        ("Comment", NIL),
        ("ConnectedDomains", mvp(f"Microsoft.Exchange.Data.ConnectedDomain, {EXCHANGE_ASM}",
                                 [])),
        ("ConnectionInactivityTimeOut", minutes(10)),
        ("DNSRoutingEnabled", dns_routing),
        ("DomainSecureEnabled", True),
        ("Enabled", True),
        ("ErrorPolicies", enum("Microsoft.Exchange.Data.ErrorPolicies",
                               {"Default": 0, "DowngradeDnsFailures": 1,
                                "DowngradeCustomFailures": 2, "UpgradeCustomFailures": 4},
                               "Default")),
        ("ForceHELO", False),
        ("Fqdn", fqdn(FQDN)),
        ("FrontendProxyEnabled", False),
        ("IgnoreSTARTTLS", False),
        ("IsScopedConnector", False),
        ("IsSmtpConnector", True),
        ("MaxMessageSize", unlimited_bytes(10 * MB)),
        ("Port", I32(25)),
        ("ProtocolLoggingLevel", enum("Microsoft.Exchange.Data.ProtocolLoggingLevel",
                                      {"None": 0, "Verbose": 1}, "Verbose")),
        ("RequireTLS", True),
        ("SmartHostAuthMechanism", enum("Microsoft.Exchange.Data.Directory.SystemConfiguration."
                                        "SmtpSendConnectorConfig+AuthMechanisms",
                                        {"None": 0, "BasicAuth": 2, "BasicAuthRequireTLS": 4,
                                         "ExchangeServer": 8, "ExternalAuthoritative": 16},
                                        "None")),
        ("SmartHosts", mvp(f"Microsoft.Exchange.Data.SmartHost, {EXCHANGE_ASM}", smart_hosts)),
        ("SmartHostsString", ",".join(smart_hosts)),
        ("SourceIPAddress", "0.0.0.0"),
        ("SourceTransportServers", mvp("Microsoft.Exchange.Data.Directory.ADObjectId, "
                                       "Microsoft.Exchange.Data.Directory, Version=15.0.0.0, "
                                       "Culture=neutral, PublicKeyToken=31bf3856ad364e35",
                                       [HOST])),
        ("TlsAuthLevel", enum("Microsoft.Exchange.Data.TlsAuthLevel",
                              {"EncryptionOnly": 1, "CertificateValidation": 2,
                               "DomainValidation": 4}, "DomainValidation")),
        ("TlsDomain", smtp_domain(tls_domain)),
        ("UseExternalDNSServersEnabled", False),
        ("TlsCertificateName", NIL),
    ] + ad_tail(dn, name, ["msExchRoutingSMTPConnector"], INSTALLED, HARDENED)
    return PipelineObject(SEND_TN, name, props)


# --- single configuration objects -------------------------------------------------------------

def exchange_server() -> PipelineObject:
    version = Obj(("Microsoft.Exchange.Data.ServerVersion", "System.Object"),
                  "Version 15.0 (Build 1497.2)", (
                      ("Major", I32(15)), ("Minor", I32(0)), ("Build", I32(1497)),
                      ("Revision", I32(2)), ("FilePatchLevelDescription", "")))
    props: list[tuple[str, Value]] = [
        ("Name", HOST),
        ("DataPath", "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\TransportRoles\\data"),
        ("Domain", "perimeter.example.mil"),
        ("Edition", enum("Microsoft.Exchange.Data.ServerEditionType",
                         {"Unknown": 0, "Standard": 1, "Enterprise": 2}, "Standard")),
        ("ExchangeLegacyDN", f"/o=First Organization/ou=Exchange Administrative Group "
                             f"(FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn={HOST}"),
        ("Fqdn", FQDN),
        ("IsHubTransportServer", False),
        ("IsClientAccessServer", False),
        ("IsEdgeServer", True),
        ("IsMailboxServer", False),
        ("IsUnifiedMessagingServer", False),
        ("IsFrontendTransportServer", False),
        ("IsProvisionedServer", False),
        ("AdminDisplayVersion", version),
        ("Site", NIL),
        ("ServerRole", enum("Microsoft.Exchange.Data.Directory.SystemConfiguration.ServerRole",
                            SERVER_ROLES, "Edge")),
        ("ErrorReportingEnabled", True),  # finding EX13-EG-000055
        ("StaticDomainControllers", strings([])),
        ("StaticGlobalCatalogs", strings([])),
        ("CurrentDomainControllers", strings([])),
        ("CurrentGlobalCatalogs", strings([])),
        ("CurrentConfigDomainController", NIL),
        ("ProductID", "00000-000-0000000-00000"),
        ("IsExchangeTrialEdition", False),
        ("IsExpiredExchangeTrialEdition", False),
        ("RemainingTrialPeriod", TimeSpan(0)),
        ("IsE14OrLater", True),
        ("IsE15OrLater", True),
    ] + ad_tail(SERVER_DN, HOST, ["server", "msExchExchangeServer"], INSTALLED, HARDENED,
                "0.1 (14.0.100.0)", name=False)
    return PipelineObject(("Microsoft.Exchange.Data.Directory.Management.ExchangeServer",)
                          + PRESENTATION_BASES, HOST, props)


def transport_service() -> PipelineObject:
    logs = "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\TransportRoles\\Logs\\Edge"
    props: list[tuple[str, Value]] = [
        ("Name", HOST),
        ("AntispamAgentsEnabled", True),
        ("ConnectivityLogEnabled", True),
        ("ConnectivityLogMaxAge", TimeSpan(30 * 86400)),
        ("ConnectivityLogMaxDirectorySize", unlimited_bytes(1000 * MB)),
        ("ConnectivityLogPath", f"{logs}\\Connectivity"),
        ("DelayNotificationTimeout", TimeSpan(4 * 3600)),
        ("ExternalDNSAdapterEnabled", True),
        ("InternalDNSAdapterEnabled", True),
        ("MaxConnectionRatePerMinute", I32(1200)),
        ("MaxOutboundConnections", unlimited_int(1000)),
        ("MaxPerDomainOutboundConnections", unlimited_int(20)),
        ("MessageExpirationTimeout", TimeSpan(2 * 86400)),
        ("MessageRetryInterval", minutes(15)),
        ("MessageTrackingLogEnabled", True),
        ("MessageTrackingLogMaxAge", TimeSpan(30 * 86400)),
        ("MessageTrackingLogPath", f"{logs}\\MessageTracking"),
        ("OutboundConnectionFailureRetryInterval", minutes(10)),
        ("ReceiveProtocolLogPath", f"{logs}\\ProtocolLog\\SmtpReceive"),
        ("SendProtocolLogPath", f"{logs}\\ProtocolLog\\SmtpSend"),
        ("TransientFailureRetryCount", I32(6)),
        ("TransientFailureRetryInterval", minutes(5)),
    ] + ad_tail(SERVER_DN, HOST, ["server", "msExchExchangeServer"], INSTALLED, HARDENED,
                "0.1 (14.0.100.0)", name=False)
    return PipelineObject(("Microsoft.Exchange.Data.Directory.Management.TransportServer",)
                          + PRESENTATION_BASES, HOST, props)


def transport_config() -> PipelineObject:
    dn = TRANSPORT_DN
    props: list[tuple[str, Value]] = [
        ("ClearCategories", True),
        ("DSNConversionMode", enum("Microsoft.Exchange.Data.Directory.SystemConfiguration."
                                   "DSNConversionOption", {"UseExchangeDSNs": 0,
                                                           "PreserveDSNBody": 1,
                                                           "DoNotConvert": 2},
                                   "UseExchangeDSNs")),
        ("ExternalDelayDsnEnabled", True),
        ("ExternalPostmasterAddress", NIL),
        ("GenerateCopyOfDSNFor", mvp(f"Microsoft.Exchange.Data.EnhancedStatusCode, "
                                     f"{EXCHANGE_ASM}", [])),
        ("InternalDelayDsnEnabled", True),
        ("InternalSMTPServers", mvp(f"Microsoft.Exchange.Data.IPRange, {EXCHANGE_ASM}",
                                    ["192.0.2.10", "192.0.2.11"])),
        ("MaxReceiveSize", unlimited_bytes(10 * MB)),
        ("MaxRecipientEnvelopeLimit", unlimited_int(500)),
        ("MaxSendSize", unlimited_bytes(10 * MB)),
        ("TLSReceiveDomainSecureList", mvp(f"Microsoft.Exchange.Data.SmtpDomain, {EXCHANGE_ASM}",
                                           ["example.mil"])),
        ("TLSSendDomainSecureList", mvp(f"Microsoft.Exchange.Data.SmtpDomain, {EXCHANGE_ASM}",
                                        ["example.mil"])),
        ("VerifySecureSubmitEnabled", False),
        ("Xexch50Enabled", True),
    ] + ad_tail(dn, "Transport Settings", ["msExchTransportSettings"], INSTALLED, HARDENED,
                "0.1 (8.0.535.0)")
    return PipelineObject(("Microsoft.Exchange.Data.Directory.SystemConfiguration."
                           "TransportConfigContainer",) + AD_BASES, "Transport Settings", props)


def hygiene(type_name: str, name: str, object_class: str,
            props: list[tuple[str, Value]]) -> PipelineObject:
    dn = f"CN={name},{HYGIENE_DN}"
    common: list[tuple[str, Value]] = [("ExternalMailEnabled", True),
                                       ("InternalMailEnabled", False)]
    return PipelineObject((f"Microsoft.Exchange.Data.Directory.SystemConfiguration.{type_name}",
                           "Microsoft.Exchange.Data.Directory.SystemConfiguration."
                           "MessageHygieneAgentConfig") + AD_BASES, name,
                          props + common + ad_tail(dn, name, [object_class], INSTALLED,
                                                   HARDENED))


def sender_filter_config() -> PipelineObject:
    return hygiene("SenderFilterConfig", "SenderFilterConfig", "msExchMessageHygieneSenderFilterConfig", [
        ("BlockedSenders", mvp(f"Microsoft.Exchange.Data.SmtpAddress, {EXCHANGE_ASM}", [])),
        ("BlockedDomains", mvp(f"Microsoft.Exchange.Data.SmtpDomain, {EXCHANGE_ASM}", [])),
        ("BlockedDomainsAndSubdomains", mvp(f"Microsoft.Exchange.Data.SmtpDomain, "
                                            f"{EXCHANGE_ASM}", [])),
        ("Action", enum("Microsoft.Exchange.Data.Directory.SystemConfiguration."
                        "BlockedSenderAction", {"StampStatus": 0, "Reject": 1}, "Reject")),
        ("BlankSenderBlockingEnabled", True),
        ("RecipientBlockedSenderAction", enum("Microsoft.Exchange.Data.Directory."
                                              "SystemConfiguration.RecipientBlockedSenderAction",
                                              {"Reject": 1, "Delete": 2}, "Reject")),
        ("Enabled", True),
    ])


def content_filter_config() -> PipelineObject:
    return hygiene("ContentFilterConfig", "ContentFilterConfig", "msExchMessageHygieneContentFilterConfig", [
        ("RejectionResponse", "Message rejected as spam by Content Filtering."),
        ("OutlookEmailPostmarkValidationEnabled", True),
        ("BypassedRecipients", mvp(f"Microsoft.Exchange.Data.SmtpAddress, {EXCHANGE_ASM}", [])),
        ("QuarantineMailbox", smtp_address("spamquarantine@example.mil")),
        ("SCLRejectThreshold", I32(7)),
        ("SCLRejectEnabled", True),
        ("SCLDeleteThreshold", I32(9)),
        ("SCLDeleteEnabled", False),
        ("SCLQuarantineThreshold", I32(9)),
        ("SCLQuarantineEnabled", False),
        ("BypassedSenders", mvp(f"Microsoft.Exchange.Data.SmtpAddress, {EXCHANGE_ASM}", [])),
        ("BypassedSenderDomains", mvp(f"Microsoft.Exchange.Data.SmtpDomainWithSubdomains, "
                                      f"{EXCHANGE_ASM}", [])),
        ("Enabled", True),
    ])


def sender_id_config() -> PipelineObject:
    actions = {"StampStatus": 0, "Reject": 1, "Delete": 2}
    return hygiene("SenderIdConfig", "SenderIdConfig", "msExchMessageHygieneSenderIDConfig", [
        ("SpoofedDomainAction", enum("Microsoft.Exchange.Data.Directory.SystemConfiguration."
                                     "SenderIdAction", actions, "Reject")),
        ("TempErrorAction", enum("Microsoft.Exchange.Data.Directory.SystemConfiguration."
                                 "SenderIdAction", actions, "StampStatus")),
        ("BypassedRecipients", mvp(f"Microsoft.Exchange.Data.SmtpAddress, {EXCHANGE_ASM}", [])),
        ("BypassedSenderDomains", mvp(f"Microsoft.Exchange.Data.SmtpDomain, {EXCHANGE_ASM}",
                                      [])),
        ("Enabled", True),
    ])


def sender_reputation_config() -> PipelineObject:
    return hygiene("SenderReputationConfig", "SenderReputationConfig", "msExchMessageHygieneSenderReputationConfig", [
        ("MinMessagesPerDatabaseTransaction", I32(20)),
        ("SrlBlockThreshold", I32(7)),  # finding EX13-EG-000195 (Exchange default; STIG: 6)
        ("MinMessagesPerTimeSlice", I32(100)),
        ("TimeSliceInterval", I32(48)),
        ("OpenProxyDetectionEnabled", True),
        ("SenderBlockingEnabled", True),
        ("SenderBlockingPeriod", I32(24)),
        ("MinReverseDnsQueryPeriod", I32(1)),
        ("ProxyServerName", NIL),
        ("ProxyServerPort", I32(0)),
        ("ProxyServerType", enum("Microsoft.Exchange.Data.ProxyType",
                                 {"None": 0, "Socks4": 1, "Socks5": 2, "HttpConnect": 3,
                                  "HttpPost": 4, "Telnet": 5, "Cisco": 6, "Wingate": 7},
                                 "None")),
        ("Enabled", True),
    ])


def recipient_filter_config() -> PipelineObject:
    return hygiene("RecipientFilterConfig", "RecipientFilterConfig", "msExchMessageHygieneRecipientFilterConfig", [
        ("BlockedRecipients", mvp(f"Microsoft.Exchange.Data.SmtpAddress, {EXCHANGE_ASM}", [])),
        ("RecipientValidationEnabled", False),
        ("BlockListEnabled", False),
        ("Enabled", True),
    ])


def ip_allow_list_config() -> PipelineObject:
    return hygiene("IPAllowListConfig", "IPAllowListConfig", "msExchMessageHygieneIPAllowListConfig", [
        ("Enabled", True),
    ])


def ip_block_list_provider() -> PipelineObject:
    name = "Spamhaus ZEN"
    dn = f"CN={name},CN=IPBlockListProviderConfig,{HYGIENE_DN}"
    props: list[tuple[str, Value]] = [
        ("LookupDomain", smtp_domain("zen.spamhaus.org")),
        ("Enabled", True),
        ("RejectionResponse", "Recipient not authorized, your IP has been found on a block "
                              "list"),
        ("Priority", I32(1)),
        ("BitmaskMatch", NIL),
        ("IPAddressesMatch", mvp("System.Net.IPAddress, System, Version=4.0.0.0, "
                                 "Culture=neutral, PublicKeyToken=b77a5c561934e089",
                                 ["127.0.0.2", "127.0.0.3", "127.0.0.4"])),
        ("AnyMatch", False),
    ] + ad_tail(dn, name, ["msExchMessageHygieneIPBlockListProvider"], INSTALLED, HARDENED)
    return PipelineObject(("Microsoft.Exchange.Data.Directory.SystemConfiguration."
                           "IPBlockListProvider",) + AD_BASES, name, props)


def accepted_domain(name: str, domain_type: str, default: bool) -> PipelineObject:
    dn = f"CN={name},CN=Accepted Domains,{TRANSPORT_DN}"
    props: list[tuple[str, Value]] = [
        ("DomainName", smtp_domain(name)),
        ("DomainType", enum("Microsoft.Exchange.Data.Directory.SystemConfiguration."
                            "AcceptedDomainType", {"Authoritative": 0, "ExternalRelay": 1,
                                                   "InternalRelay": 2}, domain_type)),
        ("Default", default),
        ("AddressBookEnabled", domain_type == "Authoritative"),
        ("MatchSubDomains", False),
    ] + ad_tail(dn, name, ["msExchAcceptedDomain"], INSTALLED, INSTALLED)
    return PipelineObject(("Microsoft.Exchange.Data.Directory.SystemConfiguration."
                           "AcceptedDomain",) + AD_BASES, name, props)


EVENT_LEVELS = {"Lowest": 0, "Low": 1, "Medium": 3, "High": 5, "Expert": 7}
EVENT_CATEGORIES = [  # (event log source, category, number); every one left at Lowest
    ("MSExchangeTransport", "SmtpReceive", 1), ("MSExchangeTransport", "SmtpSend", 2),
    ("MSExchangeTransport", "DSN", 3), ("MSExchangeTransport", "Routing", 4),
    ("MSExchangeTransport", "Logging", 5), ("MSExchangeTransport", "Components", 6),
    ("MSExchangeTransport", "RemoteDelivery", 7), ("MSExchangeTransport", "Pickup", 8),
    ("MSExchangeTransport", "Categorizer", 9), ("MSExchangeTransport", "PoisonMessage", 10),
    ("MSExchangeTransport", "MessageSecurity", 11),
    ("MSExchangeTransport", "TransportService", 12), ("MSExchangeTransport", "Exch50", 13),
    ("MSExchangeTransport", "Process", 14), ("MSExchangeTransport", "ResourceManager", 15),
    ("MSExchangeTransport", "Configuration", 16), ("MSExchangeTransport", "Storage", 17),
    ("MSExchangeTransport", "Agents", 18), ("MSExchangeTransport", "Transport", 19),
    ("MSExchange ADAccess", "General", 1), ("MSExchange ADAccess", "Cache", 2),
    ("MSExchange ADAccess", "Topology", 3), ("MSExchange ADAccess", "Validation", 4),
]


def event_log_level(source: str, category: str, number: int) -> PipelineObject:
    identity = f"{source}\\{category}"
    return PipelineObject(("Microsoft.Exchange.Management.SystemConfigurationTasks."
                           "EventCategoryObject", "System.Object"), identity, [
        ("Identity", identity),
        ("Number", I32(number)),
        ("EventLevel", enum("Microsoft.Exchange.Diagnostics.ExEventLog+EventLevel",
                            EVENT_LEVELS, "Lowest")),
        ("IsValid", True),
    ])


def organization_config() -> PipelineObject:
    props: list[tuple[str, Value]] = [
        ("CustomerFeedbackEnabled", False),
        ("IsDehydrated", False),
        ("ReadTrackingEnabled", False),
        ("SCLJunkThreshold", I32(4)),
        ("MaxConcurrentMigrations", unlimited_int(100)),
    ] + ad_tail(ORG_DN, "First Organization", ["msExchOrganizationContainer"], INSTALLED,
                HARDENED, "0.1 (8.0.535.0)")
    return PipelineObject(("Microsoft.Exchange.Data.Directory.Management.OrganizationConfig",)
                          + PRESENTATION_BASES, "First Organization", props)


EDGE_AGENTS = ["Connection Filtering Agent", "Address Rewriting Inbound Agent",
               "Edge Rule Agent", "Content Filter Agent", "Sender Id Agent",
               "Sender Filter Agent", "Recipient Filter Agent", "Protocol Analysis Agent",
               "Attachment Filtering Agent", "Address Rewriting Outbound Agent"]


def transport_agent(name: str, priority: int) -> PipelineObject:
    return PipelineObject(("Microsoft.Exchange.Management.AgentTasks.TransportAgent",
                           "Microsoft.Exchange.Data.ConfigurableObject", "System.Object"), name, [
        ("Enabled", True),
        ("Priority", I32(priority)),
        ("Identity", Obj(("Microsoft.Exchange.Management.AgentTasks.TransportAgentObjectId",
                          "System.Object"), name, ())),
        ("IsValid", True),
        ("ObjectState", OBJECT_STATE),
    ])


def exchange_certificate(fqdn: str = FQDN, host: str = HOST, *, domains: tuple[str, ...] = (
        "mail.example.mil",), self_signed: bool = False, serial: int = 0x0F3A9C,
        not_before: dt.datetime = dt.datetime(2025, 11, 21, 0, 0, tzinfo=dt.timezone.utc),
        not_after: dt.datetime = dt.datetime(2028, 11, 21, 23, 59, 59, tzinfo=dt.timezone.utc)
        ) -> PipelineObject:
    """The server's SMTP certificate: a real (generated, deterministic) X.509 certificate whose
    RawData is what Export-Clixml writes; the other properties are what the live object shows
    (Select-Object over WinRM), taken from the same certificate."""
    from cryptography import x509

    from .certificates import DOD_CA, certificate, dod_name
    names = [fqdn, *domains]
    if self_signed:   # what New-ExchangeCertificate makes: CN=<host name>, signed by itself
        subject = issuer = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, host)])
        der = certificate(subject, issuer, serial=serial, dns_names=[host, fqdn],
                          not_before=not_before, not_after=not_after, label=f"{fqdn} self")
        names = [host, fqdn]
        subject_text = issuer_text = f"CN={host}"
    else:
        der = certificate(dod_name(fqdn, "USA"), dod_name(DOD_CA), serial=serial,
                          dns_names=names, not_before=not_before, not_after=not_after,
                          label=fqdn, issuer_label=DOD_CA)
        subject_text = f"CN={fqdn}, OU=USA, OU=PKI, OU=DoD, O=U.S. Government, C=US"
        issuer_text = f"CN={DOD_CA}, OU=PKI, OU=DoD, O=U.S. Government, C=US"
    import hashlib
    thumb = hashlib.sha1(der).hexdigest().upper()
    serial_text = serial.to_bytes((serial.bit_length() + 8) // 8, "big").hex().upper()

    def us(when: dt.datetime) -> str:   # X509Certificate2.ToString(), en-US, UTC host clock
        return when.strftime("%m/%d/%Y %I:%M:%S %p").lstrip("0").replace("/0", "/")
    # X509Certificate2.ToString() (en-US culture for the dates)
    text = "".join(f"[{k}]\r\n  {v}\r\n\r\n" for k, v in (
        ("Subject", subject_text), ("Issuer", issuer_text), ("Serial Number", serial_text),
        ("Not Before", us(not_before)), ("Not After", us(not_after)),
        ("Thumbprint", thumb)))[:-2]
    return PipelineObject(("Microsoft.Exchange.Management.SystemConfigurationTasks."
                           "ExchangeCertificate",
                           "System.Security.Cryptography.X509Certificates.X509Certificate2",
                           "System.Security.Cryptography.X509Certificates.X509Certificate",
                           "System.Object"), text, [
        ("AccessRules", NIL),
        ("CertificateDomains", mvp(f"Microsoft.Exchange.Data.SmtpDomainWithSubdomains, "
                                   f"{EXCHANGE_ASM}", names)),
        ("HasPrivateKey", True),
        ("IsSelfSigned", self_signed),
        ("Issuer", issuer_text),
        ("NotAfter", DateTime(not_after.strftime("%Y-%m-%dT%H:%M:%SZ"))),
        ("NotBefore", DateTime(not_before.strftime("%Y-%m-%dT%H:%M:%SZ"))),
        ("PublicKeySize", I32(256)),
        ("RootCAType", enum("Microsoft.Exchange.Management.SystemConfigurationTasks."
                            "CertificateAuthorityType", {"None": 0, "Registry": 1,
                                                         "ThirdParty": 2, "Enterprise": 3,
                                                         "GroupPolicy": 4, "Unknown": 5},
                            "None" if self_signed else "ThirdParty")),
        ("SerialNumber", serial_text),
        ("Services", enum("Microsoft.Exchange.Data.AllowedServices",
                          {"None": 0, "IMAP": 1, "POP": 2, "UM": 4, "IIS": 8, "SMTP": 16,
                           "Federation": 32, "UMCallRouter": 64}, "SMTP")),
        ("Status", enum("Microsoft.Exchange.Management.SystemConfigurationTasks."
                        "CertificateStatus", {"Unknown": 0, "Valid": 1, "Revoked": 2,
                                              "DateInvalid": 3, "Untrusted": 4},
                        "Valid")),
        ("Subject", subject_text),
        ("Thumbprint", thumb),
        ("FriendlyName", f"{host} SMTP" if self_signed else f"{host} DoD SMTP"),
        ("Version", I32(3)),
        ("Archived", False),
    ], raw_data=der)


# --- the server: one export per cmdlet -------------------------------------------------------

def exports() -> dict[str, list[PipelineObject]]:
    """Cmdlet name -> the objects it returns on EDGE01, in pipeline order."""
    return {
        "Get-AcceptedDomain": [accepted_domain("example.mil", "Authoritative", True),
                               accepted_domain("dmz.example.mil", "InternalRelay", False)],
        "Get-ContentFilterConfig": [content_filter_config()],
        "Get-EventLogLevel": [event_log_level(*c) for c in EVENT_CATEGORIES],
        "Get-ExchangeCertificate": [exchange_certificate()],
        "Get-ExchangeServer": [exchange_server()],
        "Get-IPAllowListConfig": [ip_allow_list_config()],
        "Get-IPAllowListEntry": [],  # no allow-list entries (EX13-EG-000250)
        "Get-IPBlockListProvider": [ip_block_list_provider()],
        "Get-OrganizationConfig": [organization_config()],
        "Get-ReceiveConnector": [receive_connector(*c) for c in RECEIVE_CONNECTORS],
        "Get-RecipientFilterConfig": [recipient_filter_config()],
        "Get-SendConnector": [
            send_connector("EdgeSync - Default-First-Site-Name to Internet", "SMTP:*;100",
                           True, [], "*.mil"),
            send_connector("EdgeSync - Inbound to Default-First-Site-Name", "SMTP:--;100",
                           False, ["--"], "example.mil"),
        ],
        "Get-SenderFilterConfig": [sender_filter_config()],
        "Get-SenderIdConfig": [sender_id_config()],
        "Get-SenderReputationConfig": [sender_reputation_config()],
        "Get-TransportAgent": [transport_agent(n, i) for i, n in enumerate(EDGE_AGENTS, 1)],
        "Get-TransportConfig": [transport_config()],
        "Get-TransportService": [transport_service()],
    }


def rendered(stig: str = "edge2013") -> dict[str, bytes]:
    """File name -> the bytes Export-Clixml would write (and the expectations file)."""
    from .stig_examples import rendered as stig_rendered
    return stig_rendered(stig)


def copy_exports(stig: str, directory: Path) -> Path:
    """A copy of the STIG's example exports (without expected.yaml) to change in a test."""
    shutil.copytree(EXAMPLES_DIR / stig, directory)
    (directory / "expected.yaml").unlink()
    return directory


def write(directory: Path | None = None, stig: str = "edge2013") -> list[Path]:
    directory = directory if directory is not None else EXAMPLES_DIR / stig
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, data in rendered(stig).items():
        path = directory / name
        path.write_bytes(data)
        out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    from .stig_examples import STIGS
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        bad = 0
        for stig in STIGS:
            folder = EXAMPLES_DIR / stig
            files = rendered(stig)
            stale = [n for n, d in files.items()
                     if not (folder / n).is_file() or (folder / n).read_bytes() != d]
            extra = sorted(p.name for p in folder.glob("*.xml") if p.name not in files)
            for n in stale + extra:
                print(f"content/examples/{stig}/{n} differs from tests/examples/"
                      "example_server.py")
            bad += len(stale) + len(extra)
        return 1 if bad else 0
    for stig in STIGS:
        for path in write(stig=stig):
            print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
