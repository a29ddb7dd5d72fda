"""Numeric tables of the Exchange enums the content reads (data only).

Windows PowerShell 5.1 `ConvertTo-Json` writes an enum as its number, and CLIXML carries both
an enum's `<ToString>` and its number; to compare what the STIG names (`Tls`, `Reject`,
`DomainValidation`, ...) the collector needs each enum's members with their values. A number
no table covers, or a ToString that disagrees with its number, is an error, never a compared
value (see normalize.py).

Sources. Member names: the Exchange Server API reference on learn.microsoft.com
(ReceiveConnector.AuthMechanisms ff327839(v=exchg.140), AuthMechanisms dn754178(v=exchg.150),
ExEventLog.EventLevel ff329669(v=exchg.150)), which lists members but not their numbers. The
numbers: the enum definitions of the Exchange 15 assemblies (Microsoft.Exchange.Data.dll,
Microsoft.Exchange.Data.Directory.dll, Microsoft.Exchange.Diagnostics.dll) as decompiled in
the public repositories evilashz/exchange-server-27065 and PiratesRE/exchange_diff (the two agree
on every table below); file per enum in the comments. Only values read there are listed: a
member the sources do not give a number for is left out, so its number is an error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EnumTable:
    """One .NET enum: full type name, [Flags] or not, and (member, value) pairs."""

    type_name: str
    flags: bool
    members: tuple[tuple[str, int], ...]

    @property
    def name(self) -> str:
        return self.type_name.rsplit(".", 1)[-1].rsplit("+", 1)[-1]


# Microsoft.Exchange.Data.Directory/Data/Directory/SystemConfiguration/AuthMechanisms.cs ([Flags])
AUTH_MECHANISMS = EnumTable(
    "Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthMechanisms", True, (
        ("None", 0), ("Tls", 1), ("Integrated", 2), ("BasicAuth", 4), ("BasicAuthRequireTLS", 8),
        ("ExchangeServer", 16), ("ExternalAuthoritative", 32)))

# Microsoft.Exchange.Data/PermissionGroups.cs ([Flags]), the type of ReceiveConnector.PermissionGroups
PERMISSION_GROUPS = EnumTable(
    "Microsoft.Exchange.Data.PermissionGroups", True, (
        ("None", 0), ("AnonymousUsers", 1), ("ExchangeUsers", 2), ("ExchangeServers", 4),
        ("ExchangeLegacyServers", 8), ("Partners", 16), ("Custom", 32)))

# Microsoft.Exchange.Data.Directory/Data/Directory/SystemConfiguration/ServerRole.cs ([Flags]);
# `All` (16503) is a member, so .NET prints that value as "All"
SERVER_ROLE = EnumTable(
    "Microsoft.Exchange.Data.Directory.SystemConfiguration.ServerRole", True, (
        ("None", 0), ("Cafe", 1), ("Mailbox", 2), ("ClientAccess", 4), ("UnifiedMessaging", 16),
        ("HubTransport", 32), ("Edge", 64), ("All", 16503), ("Monitoring", 128),
        ("CentralAdmin", 256), ("CentralAdminDatabase", 512), ("DomainController", 1024),
        ("WindowsDeploymentServer", 2048), ("ProvisionedServer", 4096), ("LanguagePacks", 8192),
        ("FrontendTransport", 16384), ("CafeArray", 32768), ("FfoWebService", 65536),
        ("OSP", 131072), ("ARR", 262144), ("ManagementFrontEnd", 524288),
        ("ManagementBackEnd", 1048576), ("SCOM", 2097152), ("CentralAdminFrontEnd", 4194304),
        ("NAT", 8388608), ("DHCP", 16777216)))

# Microsoft.Exchange.Data/TlsAuthLevel.cs (not [Flags]; EncryptionOnly = 1, CertificateValidation
# implicit 2, DomainValidation = 4); SmtpSendConnectorConfig.TlsAuthLevel is a TlsAuthLevel?
TLS_AUTH_LEVEL = EnumTable(
    "Microsoft.Exchange.Data.TlsAuthLevel", False, (
        ("EncryptionOnly", 1), ("CertificateValidation", 2), ("DomainValidation", 4)))

# Microsoft.Exchange.Data.Directory/Data/Directory/SystemConfiguration/BlockedSenderAction.cs:
# the type of SenderFilterConfig.Action (StampStatus, Reject: implicit 0, 1)
BLOCKED_SENDER_ACTION = EnumTable(
    "Microsoft.Exchange.Data.Directory.SystemConfiguration.BlockedSenderAction", False, (
        ("StampStatus", 0), ("Reject", 1)))

# Microsoft.Exchange.Data.Directory/Data/Directory/SystemConfiguration/SenderIdAction.cs:
# the type of SenderIdConfig.SpoofedDomainAction (StampStatus, Reject, Delete: implicit 0, 1, 2)
SENDER_ID_ACTION = EnumTable(
    "Microsoft.Exchange.Data.Directory.SystemConfiguration.SenderIdAction", False, (
        ("StampStatus", 0), ("Reject", 1), ("Delete", 2)))

# Microsoft.Exchange.Diagnostics/Microsoft/Exchange/Diagnostics/ExEventLog.cs, nested enum
# ExEventLog.EventLevel (Lowest, Low implicit 0, 1; Medium = 3, High = 5, Expert = 7): the type of
# EventCategoryObject.EventLevel (Get-EventLogLevel)
EVENT_LEVEL = EnumTable(
    "Microsoft.Exchange.Diagnostics.ExEventLog+EventLevel", False, (
        ("Lowest", 0), ("Low", 1), ("Medium", 3), ("High", 5), ("Expert", 7)))

# (cmdlet noun, property), lowercase → the enum of that property, for every enum property the
# content (content/rules/*.yaml, content/benchmark.yaml) selects
ENUM_PROPERTIES: dict[tuple[str, str], EnumTable] = {
    ("receiveconnector", "authmechanism"): AUTH_MECHANISMS,
    ("receiveconnector", "permissiongroups"): PERMISSION_GROUPS,
    ("exchangeserver", "serverrole"): SERVER_ROLE,
    ("sendconnector", "tlsauthlevel"): TLS_AUTH_LEVEL,
    ("senderfilterconfig", "action"): BLOCKED_SENDER_ACTION,
    ("senderidconfig", "spoofeddomainaction"): SENDER_ID_ACTION,
    ("eventloglevel", "eventlevel"): EVENT_LEVEL,
}

_BY_PROPERTY: dict[str, list[EnumTable]] = {}
for (_noun, _prop), _table in ENUM_PROPERTIES.items():
    _BY_PROPERTY.setdefault(_prop, []).append(_table)


def enum_for(noun: str | None, property_name: str | None) -> EnumTable | None:
    """The enum table of `property_name` as returned by `Get-<noun>`.

    Without a noun (a value normalized out of context), the property name alone decides, and
    only when every cmdlet that has it uses the same enum.
    """
    prop = (property_name or "").lower()
    if noun is not None:
        return ENUM_PROPERTIES.get((noun.lower(), prop))
    tables = _BY_PROPERTY.get(prop, [])
    return tables[0] if tables and all(t is tables[0] for t in tables) else None


__all__ = ["EnumTable", "ENUM_PROPERTIES", "enum_for", "AUTH_MECHANISMS", "PERMISSION_GROUPS",
           "SERVER_ROLE", "TLS_AUTH_LEVEL", "BLOCKED_SENDER_ACTION", "SENDER_ID_ACTION",
           "EVENT_LEVEL"]
