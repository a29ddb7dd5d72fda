"""A loopback WSMan + PSRP server that looks like an Exchange Edge Transport host.

Test support only (never shipped): SOAP over HTTP/HTTPS on 127.0.0.1, Basic and NTLM/Negotiate
(pyspnego acceptor) with WinRM message encryption, PSRP from psrpcore's server classes, and an
emulation of the few cmdlets the collector runs (Get-PSSnapin, Add-PSSnapin, Get-ReceiveConnector,
Get-ExchangeServer, Get-CimInstance, Get-ItemProperty / Get-Acl / Get-Item -LiteralPath,
Select-Object -Property). Objects are Exchange-shaped (AuthMechanisms as a flags enum, Identity
as ADObjectId) and serialized at remoting depth 1.
Every command with its parameters is recorded; faults are switchable per server.

One server can listen on many ports; each port is one simulated host (the bench uses that).
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import fnmatch
import http.server
import ipaddress
import os
import re
import selectors
import socket
import ssl
import struct
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import psrpcore
import spnego
from lxml import etree
from psrpcore.types import (
    ErrorCategory,
    ErrorCategoryInfo,
    NETException,
    PSFlagBase,
    PSInvocationState,
    PSNoteProperty,
    PSObject,
    PSType,
    add_note_property,
)

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "wsman": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "pwsh": "http://schemas.microsoft.com/powershell",
}
ACTION_BASE = {
    "create": "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create",
    "delete": "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete",
    "get": "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
    "command": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command",
    "receive": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive",
    "send": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send",
    "signal": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal",
}
ACTION_NAME = {v: k for k, v in ACTION_BASE.items()}
OPERATION_TIMEOUT_CODE = 2150858793
SHELL_NOT_FOUND_CODE = 2150858843

SNAPIN_2013 = "Microsoft.Exchange.Management.PowerShell.SnapIn"
SNAPIN_2010 = "Microsoft.Exchange.Management.PowerShell.E2010"
EXCHANGE_CMDLETS = {"get-receiveconnector", "get-exchangeserver", "get-sendconnector",
                    "get-transportconfig"}


# --------------------------------------------------------------------------- Exchange types
@PSType(["Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthMechanisms"], rehydrate=False)
class AuthMechanisms(PSFlagBase):
    none = 0
    Tls = 1
    Integrated = 2
    BasicAuth = 4
    BasicAuthRequireTLS = 8
    ExchangeServer = 16
    ExternalAuthoritative = 32


@PSType(["Microsoft.Exchange.Data.PermissionGroups"], rehydrate=False)
class PermissionGroups(PSFlagBase):
    none = 0
    AnonymousUsers = 1
    ExchangeUsers = 2
    ExchangeServers = 4
    ExchangeLegacyServers = 8
    Partners = 16
    Custom = 32


@PSType(["Microsoft.Exchange.Data.Directory.SystemConfiguration.ServerRole"], rehydrate=False)
class ServerRole(PSFlagBase):
    none = 0
    Mailbox = 2
    ClientAccess = 4
    UnifiedMessaging = 16
    HubTransport = 32
    Edge = 64


RC_TYPES = ["Microsoft.Exchange.Data.Directory.SystemConfiguration.ReceiveConnector",
            "Microsoft.Exchange.Data.Directory.ADConfigurationObject",
            "Microsoft.Exchange.Data.Directory.ADObject",
            "Microsoft.Exchange.Data.Directory.ADRawEntry",
            "Microsoft.Exchange.Data.ConfigurableObject", "System.Object"]
SRV_TYPES = ["Microsoft.Exchange.Data.Directory.Management.ExchangeServer",
             "Microsoft.Exchange.Data.Directory.ADPresentationObject",
             "Microsoft.Exchange.Data.ConfigurableObject", "System.Object"]


@dataclass
class Connector:
    name: str
    auth_mechanism: int
    enabled: bool = True
    permission_groups: int = 4
    max_message_size: int = 36700160
    bindings: tuple[str, ...] = ("0.0.0.0:25",)


@dataclass
class ExchangeHost:
    """What one simulated Exchange server holds."""

    name: str = "EDGE01"
    domain: str = "perimeter.example"
    registered_snapins: tuple[str, ...] = (SNAPIN_2013,)
    role: int = 64
    version: str = "Version 15.0 (Build 1497.2)"
    connectors: list[Connector] = field(default_factory=lambda: [
        Connector("Default internal receive connector EDGE01", 1 | 16),
        Connector("Inbound from Internet", 1),
    ])
    os_caption: str = "Microsoft Windows Server 2012 R2 Standard"
    os_version: str = "6.3.9600"
    ip: str = "192.0.2.10"
    mac: str = "00:15:5D:01:02:03"
    # "exchange": a Mailbox server reached only through the Exchange management endpoint
    # (/PowerShell, configuration Microsoft.Exchange; /wsman answers 404); "wsman": an Edge
    # server, /wsman only (no /PowerShell virtual directory); None: the server's setting
    endpoint: str | None = None
    # registry keys ("HKEY_LOCAL_MACHINE\\SOFTWARE\\...") -> their values as .NET reads them
    # (PSInt: REG_DWORD, PSInt64: REG_QWORD, str: REG_SZ/REG_EXPAND_SZ, bytes: REG_BINARY,
    # list of str: REG_MULTI_SZ), served by Get-ItemProperty -LiteralPath Registry::<key>
    registry: dict[str, dict[str, Any]] = field(default_factory=dict)
    # files and directories -> their security (tests/collect/acl_shapes.AclObject), served by
    # Get-Acl -LiteralPath <path>
    acls: dict[str, Any] = field(default_factory=dict)
    # files and directories -> the PSObject Get-Item -LiteralPath <path> returns for it
    items: dict[str, Any] = field(default_factory=dict)

    def identity(self, connector: Connector) -> str:
        return f"{self.name}\\{connector.name}"


def _obj(type_names, to_string=None, adapted=None, extended=None) -> PSObject:
    o = PSObject()
    o.PSObject.type_names = list(type_names)
    if to_string is not None:
        o.PSObject.to_string = to_string
    for k, v in (adapted or {}).items():
        o.PSObject.adapted_properties.append(PSNoteProperty(k, v))
    for k, v in (extended or {}).items():
        add_note_property(o, k, v)
    return o


def _ad_object_id(host: ExchangeHost, name: str) -> PSObject:
    text = f"{host.name}\\{name}"
    dn = (f"CN={name},CN=SMTP Receive Connectors,CN=Protocols,CN={host.name},CN=Servers,"
          "CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,"
          "CN=First Organization,CN=Microsoft Exchange,CN=Services,CN=Configuration,"
          "CN={00000000-0000-0000-0000-000000000000}")
    guid = str(uuid.uuid5(uuid.NAMESPACE_DNS, text))
    # depth 0 inside a selected object: every property is already its string
    return _obj(["Microsoft.Exchange.Data.Directory.ADObjectId", "System.Object"], text,
                adapted={"Name": name, "DistinguishedName": dn, "ObjectGuid": guid,
                         "IsDeleted": "False", "Rdn": f"CN={name}", "DomainId": "",
                         "PartitionGuid": "59ce2f71-eaa2-4ddf-a4fa-f25069d0b324"})


def receive_connector_props(host: ExchangeHost, c: Connector) -> dict[str, Any]:
    """Full (depth-1) property values of one ReceiveConnector."""
    return {
        "Name": c.name,
        "Identity": _ad_object_id(host, c.name),
        "AuthMechanism": AuthMechanisms(c.auth_mechanism),
        "PermissionGroups": PermissionGroups(c.permission_groups),
        "Enabled": c.enabled,
        "Server": host.name,
        "MaxMessageSize": f"{c.max_message_size // 1048576} MB ({c.max_message_size:,} bytes)",
        "Bindings": ", ".join(c.bindings),
        "Fqdn": f"{host.name}.{host.domain}",
        "MaxRecipientsPerMessage": 200,
    }


def exchange_server_props(host: ExchangeHost) -> dict[str, Any]:
    return {
        "Name": host.name,
        "Fqdn": f"{host.name}.{host.domain}",
        "ServerRole": ServerRole(host.role),
        "AdminDisplayVersion": _obj(["Microsoft.Exchange.Data.ServerVersion", "System.Object"],
                                    host.version, adapted={"Major": 15, "Minor": 0,
                                                            "Build": 1497, "Revision": 2}),
        "Edition": "Standard",
        "IsEdgeServer": bool(host.role & 64),
        "IsMailboxServer": bool(host.role & 2),
        "Identity": _ad_object_id(host, host.name),
    }


def _depth0(value: Any) -> Any:
    """What a complex value becomes when serialized at depth 0 (its ToString)."""
    if isinstance(value, PSFlagBase):
        from psrpcore.types._serializer import _serialize_enum_to_string
        return _serialize_enum_to_string(value)
    if isinstance(value, PSObject) and not isinstance(value, (str, int, bool)):
        return value.PSObject.to_string
    return value


# --------------------------------------------------------------------------- faults / records
@dataclass
class Faults:
    http_401: bool = False           # every request answered 401
    access_denied: bool = False      # WSManFault code 5 on shell Create
    snapin_missing: bool = False     # no Exchange snap-in registered
    cmdlet_not_found: tuple[str, ...] = ()   # cmdlets (lower-case) that do not exist
    slow_reply: float = 0.0          # extra seconds before every reply (HTTP read timeout)
    drop_on: str | None = None       # action ("create", "command", ...) whose connection is dropped
    server_500_on: str | None = None  # action answered with a bare HTTP 500
    pipeline_hangs: bool = False     # pipelines never finish (OperationTimeout on every Receive)


@dataclass
class ReceivedCommand:
    port: int
    user: str | None
    commands: list[dict]             # [{"name", "is_script", "parameters": [(name, value)]}]


# --------------------------------------------------------------------------- PSRP shell
# Optional memo of incoming PSRP messages (WinRMTestServer(memo_messages=True), for benchmarks
# with hundreds of hosts on one machine): a client sends byte-identical CreatePipeline,
# InitRunspacePool and SessionCapability messages to every host, and psrpcore's deserializer
# (about 2.5 ms per pipeline) would otherwise decode each again. The decoded object is only read
# (psrpcore builds the pipeline's PowerShell object from it), so one copy serves every host.
CERT_AUTH = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"  # Authorization value
_MEMO_TYPES = ("CreatePipeline", "InitRunspacePool", "SessionCapability")
_MEMO: dict[tuple[str, bytes], Any] = {}
_MEMO_IDS: set[int] = set()
_MEMO_KEY = threading.local()
_MEMO_LOCK = threading.Lock()
_MEMO_INSTALL_LOCK = threading.Lock()
_MEMO_INSTALLED = False


def _install_message_memo() -> None:
    """Wrap psrpcore's message deserializer once per process; it memoizes only while a
    _MemoPool is processing a message (the key is set per thread), else it is a pass-through."""
    global _MEMO_INSTALLED
    import psrpcore._base as base

    with _MEMO_INSTALL_LOCK:
        if _MEMO_INSTALLED:
            return
        original = base.deserialize

        def deserialize(value, cipher, **kwargs):
            key = getattr(_MEMO_KEY, "key", None)
            _MEMO_KEY.key = None          # only the message's top-level object
            if key is None:
                return original(value, cipher, **kwargs)
            got = _MEMO.get(key)
            if got is None:
                got = original(value, cipher, **kwargs)
                with _MEMO_LOCK:
                    got = _MEMO.setdefault(key, got)
                    _MEMO_IDS.add(id(got))      # _MEMO keeps it alive, so its id stays its own
            return got

        base.deserialize = deserialize

        # and the PowerShell object psrpcore builds from a memoized CreatePipeline (it only
        # stores it as the pipeline's metadata, which the shell here only reads)
        import psrpcore._events as events

        build = events.CreatePipelineEvent.pipeline.fget
        built: dict[int, tuple[Any, Any]] = {}

        def pipeline(event):
            ps_object = event._ps_object
            got = built.get(id(ps_object))
            if got is not None and got[0] is ps_object:
                return got[1]
            value = build(event)
            if id(ps_object) in _MEMO_IDS:
                built[id(ps_object)] = (ps_object, value)
            return value

        events.CreatePipelineEvent.pipeline = property(pipeline)
        _MEMO_INSTALLED = True


class _MemoPool(psrpcore.ServerRunspacePool):
    def _process_message(self, message):
        if message.message_type.name in _MEMO_TYPES:
            _MEMO_KEY.key = (message.message_type.name, bytes(message.data))
        try:
            return super()._process_message(message)
        finally:
            _MEMO_KEY.key = None


class _Shell:
    def __init__(self, server: "WinRMTestServer", host: ExchangeHost, port: int, user: str | None):
        self.server = server
        self.host = host
        self.port = port
        self.user = user
        self.pool = _MemoPool() if server.memo_messages else psrpcore.ServerRunspacePool()
        self.lock = threading.Lock()
        self.queues: dict[Any, deque[bytes]] = {}
        self.done: set[uuid.UUID] = set()
        self.loaded_snapins: list[str] = []
        # the Exchange management endpoint: the Exchange cmdlets without any snap-in
        self.exchange = server.exchange_endpoint or host.endpoint == "exchange"

    def feed(self, data: bytes, pipeline_id: uuid.UUID | None) -> None:
        self.pool.receive_data(psrpcore.PSRPPayload(data, psrpcore.StreamType.default, pipeline_id))
        while True:
            event = self.pool.next_event()
            if event is None:
                break
            if isinstance(event, psrpcore.CreatePipelineEvent):
                self._run(event)
        self._drain()

    def _drain(self) -> None:
        while True:
            payload = self.pool.data_to_send(self.server.max_fragment)
            if payload is None:
                return
            self.queues.setdefault(payload.pipeline_id, deque()).append(payload.data)

    # ---------------------------------------------------------------- command emulation
    def _run(self, event: psrpcore.CreatePipelineEvent) -> None:
        pipe = self.pool.pipeline_table[event.pipeline_id]
        ps = pipe.metadata   # the PowerShell psrpcore built from this event (event.pipeline anew)
        record = []
        for cmd in ps.commands:
            record.append({"name": cmd.command_text, "is_script": cmd.is_script,
                           "parameters": [(n, _plain(v)) for n, v in cmd.parameters]})
        self.server.received.append(ReceivedCommand(self.port, self.user, record))
        pipe.start()
        if self.server.faults.pipeline_hangs:
            return  # never completes: the client's deadline must fire
        statements: list[list] = [[]]
        for cmd in ps.commands:
            statements[-1].append(cmd)
            if cmd.end_of_statement:
                statements.append([])
        try:
            for statement in statements:
                if statement:
                    self._statement(pipe, statement)
        except _Terminating as exc:
            pipe._change_state(PSInvocationState.Failed, exc.record)  # private API, pinned psrpcore
            self.done.add(event.pipeline_id)
            return
        pipe.complete()
        self.done.add(event.pipeline_id)

    def _statement(self, pipe, statement) -> None:
        first, rest = statement[0], statement[1:]
        objects = self._source(pipe, first)
        for cmd in rest:
            name = cmd.command_text.lower()
            if cmd.is_script or name != "select-object":
                raise _Terminating(_error_record(
                    f"The term '{cmd.command_text}' is not supported by this test server.",
                    "CommandNotFoundException", ErrorCategory.ObjectNotFound,
                    "System.Management.Automation.CommandNotFoundException", cmd.command_text))
            props = _params(cmd).get("property")
            if props is None:
                raise _Terminating(_error_record("Select-Object needs -Property here",
                                                 "ParameterBindingFailed", ErrorCategory.InvalidArgument,
                                                 "System.Management.Automation.ParameterBindingException"))
            if isinstance(props, str):
                props = [props]
            objects = [_select(o, [str(p) for p in props]) for o in objects]
        for o in objects:
            pipe.write_output(o)

    def _source(self, pipe, cmd) -> list:
        name = cmd.command_text
        lname = name.lower()
        params = _params(cmd)
        faults = self.server.faults
        registered = () if faults.snapin_missing else self.host.registered_snapins
        if cmd.is_script:
            raise _Terminating(_error_record("Scripts are not run by this test server.",
                                             "ScriptsNotSupported", ErrorCategory.PermissionDenied,
                                             "System.Management.Automation.RuntimeException"))
        if lname in faults.cmdlet_not_found or (lname in EXCHANGE_CMDLETS and not self.loaded_snapins
                                                and not self.exchange):
            raise _Terminating(_error_record(
                f"The term '{name}' is not recognized as the name of a cmdlet, function, script "
                "file, or operable program. Check the spelling of the name, or if a path was "
                "included, verify that the path is correct and try again.",
                "CommandNotFoundException", ErrorCategory.ObjectNotFound,
                "System.Management.Automation.CommandNotFoundException", name))
        if lname in ("get-itemproperty", "get-acl", "get-item"):
            if self.exchange:   # the Exchange endpoint is restricted to Exchange cmdlets
                raise _Terminating(_error_record(
                    f"The term '{name}' is not recognized as the name of a cmdlet, function, "
                    "script file, or operable program.", "CommandNotFoundException",
                    ErrorCategory.ObjectNotFound,
                    "System.Management.Automation.CommandNotFoundException", name))
            _only(params, {"literalpath"}, name)
            if lname == "get-acl":
                return self._acl(pipe, str(params.get("literalpath", "")))
            if lname == "get-item":
                path = str(params.get("literalpath", ""))
                item = next((o for k, o in self.host.items.items()
                             if k.lower() == path.lower()), None)
                if item is None:
                    _path_not_found(pipe, path,
                                    "PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand")
                    return []
                return [item]
            return self._registry_key(pipe, str(params.get("literalpath", "")))
        serve = getattr(self.host, "serve", None)  # hosts that serve more cmdlets (fleet_psobjects)
        if serve is not None and lname not in ("get-pssnapin", "add-pssnapin", "get-ciminstance"):
            objs = serve(name, params)
            if objs is not None:
                if not self.loaded_snapins and not self.exchange:
                    raise _Terminating(_error_record(
                        f"The term '{name}' is not recognized as the name of a cmdlet, function, "
                        "script file, or operable program.", "CommandNotFoundException",
                        ErrorCategory.ObjectNotFound,
                        "System.Management.Automation.CommandNotFoundException", name))
                return objs
        if lname == "get-pssnapin":
            names = list(registered) if params.get("registered") else \
                ["Microsoft.PowerShell.Core", *self.loaded_snapins]
            pattern = params.get("name")
            if pattern:
                names = [n for n in names if fnmatch.fnmatch(n.lower(), str(pattern).lower())]
            return [_obj(["System.Management.Automation.PSSnapInInfo", "System.Object"], n,
                         adapted={"Name": n, "PSVersion": "1.0", "Description": f"{n} snap-in"})
                    for n in names]
        if lname == "add-pssnapin":
            for n in _as_list(params.get("name")):
                match = [r for r in registered if r.lower() == str(n).lower()]
                if not match:
                    pipe.write_error(
                        NETException(Message=f"The Windows PowerShell snap-in '{n}' is not installed on "
                                             "this computer."),
                        ErrorCategoryInfo(Category=ErrorCategory.InvalidArgument,
                                          Reason="PSArgumentException", TargetName=str(n)),
                        target_object=str(n),
                        fully_qualified_error_id="AddPSSnapInRead,Microsoft.PowerShell.Commands."
                                                 "AddPSSnapinCommand")
                else:
                    self.loaded_snapins.append(match[0])
            return []
        if lname == "get-receiveconnector":
            _only(params, {"identity", "server"}, name)
            conns = self.host.connectors
            ident = params.get("identity")
            if ident is not None:
                conns = [c for c in conns if str(ident).lower() in
                         (c.name.lower(), self.host.identity(c).lower())]
                if not conns:
                    pipe.write_error(
                        NETException(Message=f"The operation couldn't be performed because object "
                                             f"'{ident}' couldn't be found on '{self.host.name}'."),
                        ErrorCategoryInfo(Category=ErrorCategory.NotSpecified,
                                          Reason="ManagementObjectNotFoundException"),
                        target_object=str(ident),
                        fully_qualified_error_id="ManagementObjectNotFound")
            server = params.get("server")
            if server is not None and str(server).lower() != self.host.name.lower():
                conns = []
            return [full_object(RC_TYPES, receive_connector_props(self.host, c), self.host.identity(c))
                    for c in conns]
        if lname == "get-exchangeserver":
            _only(params, {"identity"}, name)
            return [full_object(SRV_TYPES, exchange_server_props(self.host), self.host.name)]
        if lname == "get-ciminstance":
            cls = str(params.get("classname", ""))
            return self._cim(cls)
        raise _Terminating(_error_record(
            f"The term '{name}' is not recognized as the name of a cmdlet, function, script file, "
            "or operable program.", "CommandNotFoundException", ErrorCategory.ObjectNotFound,
            "System.Management.Automation.CommandNotFoundException", name))

    def _registry_key(self, pipe, path: str) -> list:
        """Get-ItemProperty -LiteralPath Registry::<key>: one PSCustomObject with the key's
        values as note properties and the provider's PSPath, PSParentPath, PSChildName,
        PSDrive (none for a provider-qualified path) and PSProvider; a missing key is the
        non-terminating PathNotFound error PowerShell writes."""
        head, sep, key = path.partition("::")
        found = next((k for k in self.host.registry if k.lower() == key.strip("\\").lower()),
                     None) if sep and head.lower() == "registry" else None
        if found is None:
            _path_not_found(pipe, key if sep else path,
                            "PathNotFound,Microsoft.PowerShell.Commands.GetItemPropertyCommand")
            return []
        provider = "Microsoft.PowerShell.Core\\Registry"
        parent, _, child = found.rpartition("\\")
        notes = dict(self.host.registry[found])
        notes.update({
            "PSPath": f"{provider}::{found}", "PSParentPath": f"{provider}::{parent}",
            "PSChildName": child, "PSDrive": None,
            "PSProvider": _obj(["System.Management.Automation.ProviderInfo", "System.Object"],
                               provider, adapted={"Name": "Registry",
                                                  "PSSnapIn": "Microsoft.PowerShell.Core"})})
        return [_obj(["System.Management.Automation.PSCustomObject", "System.Object"],
                     extended=notes)]

    def _acl(self, pipe, path: str) -> list:
        """Get-Acl -LiteralPath <path>: a DirectorySecurity / FileSecurity whose extended
        properties (Path, Owner, Group, Sddl, AccessToString; Access at depth 0) come over
        remoting as its note and code properties do; a missing path is PathNotFound."""
        acl = next((a for p, a in self.host.acls.items() if p.lower() == path.lower()), None)
        if acl is None:
            _path_not_found(pipe, path, "GetAcl_PathNotFound_Exception,Microsoft.PowerShell."
                                        "Commands.GetAclCommand")
            return []
        kind = "Directory" if acl.directory else "File"
        base = "System.Security.AccessControl."
        return [_obj([f"{base}{kind}Security", f"{base}FileSystemSecurity",
                      f"{base}NativeObjectSecurity", f"{base}CommonObjectSecurity",
                      f"{base}ObjectSecurity", "System.Object"], f"{base}{kind}Security",
                     extended={"Path": f"Microsoft.PowerShell.Core\\FileSystem::{acl.path}",
                               "Owner": acl.owner_name, "Group": acl.group_name,
                               "Access": [f"{base}FileSystemAccessRule" for _ in acl.aces],
                               "Sddl": acl.sddl, "AccessToString": acl.access_to_string})]

    def _cim(self, cls: str) -> list:
        h = self.host
        base = "Microsoft.Management.Infrastructure.CimInstance"
        if cls.lower() == "win32_operatingsystem":
            return [_obj([f"{base}#root/cimv2/Win32_OperatingSystem", base, "System.Object"], None,
                         adapted={"Caption": h.os_caption, "Version": h.os_version,
                                  "OSArchitecture": "64-bit", "CSName": h.name})]
        if cls.lower() == "win32_computersystem":
            return [_obj([f"{base}#root/cimv2/Win32_ComputerSystem", base, "System.Object"], None,
                         adapted={"DNSHostName": h.name, "Domain": h.domain, "Name": h.name})]
        if cls.lower() == "win32_networkadapterconfiguration":
            return [_obj([f"{base}#root/cimv2/Win32_NetworkAdapterConfiguration", base, "System.Object"],
                         None, adapted={"Description": "Microsoft Hyper-V Network Adapter",
                                        "IPAddress": [h.ip], "MACAddress": h.mac, "IPEnabled": True})]
        return []


def _path_not_found(pipe, path: str, fqid: str) -> None:
    """The non-terminating error PowerShell writes for a path that does not exist."""
    pipe.write_error(
        NETException(Message=f"Cannot find path '{path}' because it does not exist."),
        ErrorCategoryInfo(Category=ErrorCategory.ObjectNotFound, Reason="ItemNotFoundException",
                          TargetName=path),
        target_object=path, fully_qualified_error_id=fqid)


class _Terminating(Exception):
    def __init__(self, record):
        super().__init__(str(record))
        self.record = record


def _error_record(message, fqid, category, exc_type, target=None):
    exc = NETException(Message=message)
    exc.PSObject.type_names = [exc_type, "System.SystemException", "System.Exception", "System.Object"]
    return psrpcore.types.ErrorRecord(
        Exception=exc,
        CategoryInfo=ErrorCategoryInfo(Category=category, Reason=exc_type.rsplit(".", 1)[-1],
                                       TargetName=target or ""),
        TargetObject=target,
        FullyQualifiedErrorId=fqid,
    )


def _plain(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, str):
        return str(v)
    if v is None:
        return None
    return repr(v)


def _params(cmd) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, v in cmd.parameters:
        out[(n or "").lower()] = True if v is None else _plain(v)
    return out


def _only(params: dict, allowed: set[str], cmdlet: str) -> None:
    extra = set(params) - allowed
    if extra:
        raise _Terminating(_error_record(
            f"A parameter cannot be found that matches parameter name '{sorted(extra)[0]}'.",
            f"NamedParameterNotFound,{cmdlet}", ErrorCategory.InvalidArgument,
            "System.Management.Automation.ParameterBindingException"))


def _as_list(v) -> list:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _select(obj: PSObject, names: list[str]) -> PSObject:
    """Select-Object -Property: a property bag whose values keep depth 1."""
    full = getattr(obj, "_full_props", None)
    props = {p.name: p.get_value(obj) for p in obj.PSObject.adapted_properties}
    if full:
        props = full
    type_names = obj.PSObject.type_names
    out = _obj([f"Selected.{type_names[0]}", "System.Management.Automation.PSCustomObject", "System.Object"])
    for n in names:
        actual = next((k for k in props if k.lower() == n.lower()), n)
        add_note_property(out, actual, props.get(actual))
    return out


def full_object(type_names, props, to_string) -> PSObject:
    """An un-selected object: adapted properties at depth 0; full values kept for Select-Object."""
    o = _obj(type_names, to_string, adapted={k: _depth0(v) for k, v in props.items()})
    object.__setattr__(o, "_full_props", props)
    return o


# --------------------------------------------------------------------------- HTTP / WSMan
class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""

    def log_message(self, format, *args):
        pass

    def setup(self):
        super().setup()
        self.auth_ctx = None
        self.user = None

    # http.server calls do_POST once per request on the same instance (keep-alive)
    def do_POST(self):
        srv: WinRMTestServer = self.server.owner  # type: ignore[attr-defined]
        started = time.monotonic()
        self.slept = 0.0
        try:
            self._post(srv)
        finally:
            srv.account(time.monotonic() - started, self.slept)

    def _delay(self, seconds: float) -> None:
        """The network's round trip, spent here; `slept` holds how long it really took (a
        thread that sleeps 0.2 s wakes up later when the process is busy or the core taken)."""
        t = time.monotonic()
        time.sleep(seconds)
        self.slept += time.monotonic() - t

    def _post(self, srv: "WinRMTestServer"):
        port = self.connection.getsockname()[1]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if srv.capture:
            srv.wire.append((str(self.headers), body))
        srv.exchanges += 1
        if srv.latency and srv.latency_on_auth:
            self._delay(srv.latency)  # the network: every request/response pays the round trip
        if srv.faults.http_401:
            return self._reply(401, b"", extra=[("WWW-Authenticate", "Negotiate"),
                                                ("WWW-Authenticate", 'Basic realm="WSMAN"')])
        # ---- authentication
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "basic" and "basic" in srv.auth:
            try:
                user, _, pw = base64.b64decode(token).decode().partition(":")
            except Exception:  # noqa: BLE001
                user, pw = "", ""
            if srv.users.get(user) != pw:
                return self._reply(401, b"", extra=[("WWW-Authenticate", 'Basic realm="WSMAN"')])
            self.user = user
        elif scheme.lower() in ("negotiate", "ntlm") and "ntlm" in srv.auth:
            if self.auth_ctx is None or self.auth_ctx.complete:
                self.auth_ctx = spnego.server(protocol="negotiate",
                                              options=spnego.NegotiateOptions.wrapping_winrm)
            try:
                out = self.auth_ctx.step(base64.b64decode(token))
            except Exception:  # noqa: BLE001 - bad credentials
                self.auth_ctx = None
                return self._reply(401, b"", extra=[("WWW-Authenticate", "Negotiate")])
            if not self.auth_ctx.complete:
                return self._reply(401, b"", extra=[
                    ("WWW-Authenticate", f"{scheme} {base64.b64encode(out).decode()}")])
            self.user = self.auth_ctx.client_principal
            extra = [("WWW-Authenticate", f"{scheme} {base64.b64encode(out).decode()}")] if out else []
            if not body:
                return self._reply(200, b"", extra=extra)
        elif header == CERT_AUTH and "certificate" in srv.auth:
            # WinRM certificate authentication: the TLS client certificate, mapped to a user
            peer = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
            subject = dict(rdn[0] for rdn in (peer or {}).get("subject", ()))
            user = srv.cert_users.get(subject.get("commonName", ""))
            if user is None:
                return self._reply(401, b"")
            self.user = user
        elif scheme.lower() == "credssp" and "credssp" in srv.auth:
            # CredSSP (MS-CSSP): TLS inside HTTP, NTLM inside TLS, then the client delegates its
            # password, which a real server would use for the session; here it must match
            if self.auth_ctx is None or self.auth_ctx.complete:
                self.auth_ctx = spnego.server(protocol="credssp")
            try:
                out = self.auth_ctx.step(base64.b64decode(token))
            except Exception:  # noqa: BLE001 - bad credentials or a broken handshake
                self.auth_ctx = None
                return self._reply(401, b"", extra=[("WWW-Authenticate", "CredSSP")])
            if not self.auth_ctx.complete:
                return self._reply(401, b"", extra=[
                    ("WWW-Authenticate", f"CredSSP {base64.b64encode(out).decode()}")])
            creds = self.auth_ctx.get_extra_info("client_credential")  # TSPasswordCreds
            user = getattr(creds, "username", None)
            if user is None or srv.users.get(user) != getattr(creds, "password", None):
                self.auth_ctx = None
                return self._reply(401, b"", extra=[("WWW-Authenticate", "CredSSP")])
            self.user = user
            srv.delegated.append(user)
            extra = [("WWW-Authenticate", f"CredSSP {base64.b64encode(out).decode()}")] if out else []
            if not body:
                return self._reply(200, b"", extra=extra)
        elif self.user is None:
            challenges = []
            if "ntlm" in srv.auth:
                challenges.append(("WWW-Authenticate", "Negotiate"))
            if "credssp" in srv.auth:
                challenges.append(("WWW-Authenticate", "CredSSP"))
            if "basic" in srv.auth:
                challenges.append(("WWW-Authenticate", 'Basic realm="WSMAN"'))
            return self._reply(401, b"", extra=challenges)
        # ---- message encryption
        ctype = self.headers.get("Content-Type", "")
        encrypted = ctype.startswith(("multipart/encrypted", "multipart/x-multi-encrypted"))
        credssp = "HTTP-CredSSP-session-encrypted" in ctype
        if body:
            srv.sealed_bodies += int(encrypted)
            srv.plain_bodies += int(not encrypted)
        if encrypted:
            if self.auth_ctx is None:
                return self._reply(400, b"")
            try:
                body = _unwrap(self.auth_ctx, body)
            except Exception:  # noqa: BLE001 - e.g. a sealed message from a stale context
                self.close_connection = True
                return self._reply(400, b"")
        elif self.auth_ctx is not None and body and not srv.allow_unencrypted:
            return self._reply(400, b"")  # a real WinRM listener refuses plaintext here
        if not body:
            return self._reply(200, b"")
        # ---- WSMan
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
        action = root.findtext("s:Header/wsa:Action", namespaces=NS) or ""
        name = ACTION_NAME.get(action, action)
        srv.round_trips += 1
        if srv.latency and not srv.latency_on_auth:
            self._delay(srv.latency)
        if srv.faults.slow_reply:
            time.sleep(srv.faults.slow_reply)
        if srv.faults.drop_on in (name, "any"):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        if srv.faults.server_500_on in (name, "any"):
            return self._reply(500, b"Internal Server Error", ctype="text/plain")
        host = srv._port_host.get(port)
        wanted = getattr(host, "endpoint", None)
        if wanted is not None and self.path.split("?")[0].strip("/").lower() != (
                "powershell" if wanted == "exchange" else "wsman"):
            return self._reply(404, b"Not Found", ctype="text/plain")
        if name == "create":
            srv.shell_opens.append((self.path, root.findtext("s:Header/wsman:ResourceURI", namespaces=NS)))
        status, xml = srv.dispatch(name, root, port, self.user)
        data = xml.encode("utf-8")
        if encrypted:
            protocol = "application/HTTP-CredSSP-session-encrypted" if credssp else \
                "application/HTTP-SPNEGO-session-encrypted"
            # CredSSP seals with TLS records: at most 16 KiB each, so larger bodies go in chunks
            chunks = [data[i:i + 16384] for i in range(0, len(data), 16384)] if credssp else [data]
            payload = b"".join(_wrap(self.auth_ctx, c, protocol) for c in chunks) + \
                b"--Encrypted Boundary--\r\n"
            kind = "multipart/x-multi-encrypted" if len(chunks) > 1 else "multipart/encrypted"
            srv.multi_part_replies += len(chunks) > 1
            return self._reply(status, payload, ctype=f'{kind};protocol="{protocol}";boundary='
                                                       '"Encrypted Boundary"')
        return self._reply(status, data)

    def _reply(self, status, body: bytes, *, ctype="application/soap+xml;charset=UTF-8", extra=()):
        self.send_response_only(status)
        for k, v in extra:
            self.send_header(k, v)
        if body:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


def _unwrap(ctx, data: bytes) -> bytes:
    parts = re.split(rb"--Encrypted Boundary(?:--)?\r\n", data)
    out = b""
    i = 0
    parts = [p for p in parts if p]
    while i + 1 < len(parts):
        payload = parts[i + 1].replace(b"\tContent-Type: application/octet-stream\r\n", b"")
        hlen = struct.unpack("<i", payload[:4])[0]
        out += ctx.unwrap_winrm(payload[4:4 + hlen], payload[4 + hlen:])
        i += 2
    return out


def _wrap(ctx, data: bytes, protocol: str) -> bytes:
    """One sealed part (the closing boundary is added by the caller, after the last part)."""
    header, enc, padding = ctx.wrap_winrm(data)
    blob = struct.pack("<i", len(header)) + header + enc
    head = (f"--Encrypted Boundary\r\n\tContent-Type: {protocol}\r\n"
            f"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={len(data) + padding}\r\n"
            "--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n").encode()
    return head + blob


def _envelope(action: str, relates_to: str, body: str) -> str:
    return (f'<s:Envelope xml:lang="en-US" xmlns:s="{NS["s"]}" xmlns:a="{NS["wsa"]}" '
            f'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="{NS["wsman"]}" '
            f'xmlns:rsp="{NS["rsp"]}" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
            f"<s:Header><a:Action>{action}</a:Action>"
            f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
            "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
            f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>")


def _fault(relates_to: str, code: int, message: str, subcode="w:InternalError") -> str:
    body = (f'<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>{subcode}</s:Value>'
            f'</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">{escape(message)}</s:Text>'
            f'</s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/'
            f'wsmanfault" Code="{code}" Machine="127.0.0.1"><f:Message>{escape(message)}</f:Message>'
            "</f:WSManFault></s:Detail></s:Fault>")
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)


_NTLM_USERS: dict[str, str] = {}
_NTLM_FILE: str | None = None
_NTLM_LOCK = threading.Lock()


class _HTTPServer(http.server.HTTPServer):
    daemon_threads = True


class WinRMTestServer:
    """Loopback WSMan/PSRP server; `hosts` maps port index → ExchangeHost (one port per host)."""

    def __init__(self, hosts: list[ExchangeHost] | None = None, *, users: dict[str, str] | None = None,
                 auth: tuple[str, ...] = ("basic", "ntlm"), tls: bool = False,
                 latency: float = 0.0, latency_on_auth: bool = True, exchange_endpoint: bool = False,
                 allow_unencrypted: bool = True, max_fragment: int = 32768,
                 memo_messages: bool = False, client_ca: str | None = None,
                 cert_users: dict[str, str] | None = None):
        self.hosts = hosts or [ExchangeHost()]
        self.users = users or {"stigadmin": "Corr3ct-Horse!"}
        self.auth = auth
        self.tls = tls
        self.client_ca = client_ca              # HTTPS: CA that issues accepted client certificates
        self.cert_users = cert_users or {}      # client certificate subject CN → user (WinRM mapping)
        self.latency = latency                  # seconds added per HTTP exchange
        self.latency_on_auth = latency_on_auth  # False: only WSMan operations (not 401 legs) pay it
        self.exchange_endpoint = exchange_endpoint
        self.allow_unencrypted = allow_unencrypted
        self.max_fragment = max_fragment
        self.memo_messages = memo_messages
        if memo_messages:
            _install_message_memo()
        self.faults = Faults()
        self.received: list[ReceivedCommand] = []
        self.round_trips = 0                    # WSMan operations (authenticated requests with a body)
        self.delegated: list[str] = []          # users whose password CredSSP delegated
        self.multi_part_replies = 0             # sealed replies sent in 16 KiB parts (CredSSP)
        self.exchanges = 0                      # HTTP requests, authentication legs included
        self.handling = 0.0                     # seconds in request handlers, latency sleeps excluded
        self.latency_slept = 0.0                # seconds the latency sleeps really took
        self.connections = 0                    # TCP connections accepted (any port)
        self.shell_opens: list[tuple[str, str | None]] = []
        self.capture = False                    # keep raw requests in .wire (headers, body)
        self.wire: list[tuple[str, bytes]] = []
        self.sealed_bodies = 0
        self.plain_bodies = 0
        self.shells: dict[str, _Shell] = {}
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._port_host: dict[int, ExchangeHost] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="winrm-testserver-")
        self.ca_file: str | None = None
        self._ssl_ctx: ssl.SSLContext | None = None
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler, bind_and_activate=False)
        self._httpd.owner = self  # type: ignore[attr-defined]

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> "WinRMTestServer":
        if "ntlm" in self.auth or "credssp" in self.auth:   # CredSSP authenticates with NTLM inside
            self._write_ntlm_users()
        if self.tls:
            self._make_cert()
        for host in self.hosts:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 0))
            s.listen(128)
            s.setblocking(False)
            self._sockets.append(s)
            self._port_host[s.getsockname()[1]] = host
        self._thread = threading.Thread(target=self._accept_loop, name="winrm-testserver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        for s in self._sockets:
            s.close()
        self._tmp.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def account(self, seconds: float, slept: float) -> None:
        """One request handled in `seconds`, `slept` of them in the latency sleep."""
        with self._lock:
            self.handling += seconds - slept
            self.latency_slept += slept

    @property
    def ports(self) -> list[int]:
        return list(self._port_host)

    @property
    def port(self) -> int:
        return self.ports[0]

    def _accept_loop(self) -> None:
        sel = selectors.DefaultSelector()
        for s in self._sockets:
            sel.register(s, selectors.EVENT_READ)
        while not self._stop.is_set():
            for key, _ in sel.select(timeout=0.05):
                try:
                    conn, addr = key.fileobj.accept()  # type: ignore[union-attr]
                except OSError:
                    continue
                with self._lock:
                    self.connections += 1
                conn.setblocking(True)
                threading.Thread(target=self._serve_conn, args=(conn, addr), daemon=True).start()
        sel.close()

    def _serve_conn(self, conn: socket.socket, addr) -> None:
        try:
            if self._ssl_ctx is not None:
                conn.settimeout(10)
                conn = self._ssl_ctx.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
            _Handler(conn, addr, self._httpd)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _write_ntlm_users(self) -> None:
        """pyspnego's acceptor reads NTLM_USER_FILE (process-global): one file holding the users
        of every server started in this process, so several servers can run side by side."""
        global _NTLM_FILE
        with _NTLM_LOCK:
            for u, p in self.users.items():
                _NTLM_USERS[u] = p
            if _NTLM_FILE is None:
                fd, _NTLM_FILE = tempfile.mkstemp(prefix="winrm-testserver-ntlm-")
                os.close(fd)
                atexit.register(lambda f=_NTLM_FILE: os.path.exists(f) and os.unlink(f))
            # smbpasswd lines with the LM and NT hashes computed here once: pyspnego would
            # otherwise derive them from the password on every connection (pure-Python DES/MD4)
            from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1

            lines = []
            for u, p in _NTLM_USERS.items():
                lm, nt = lmowfv1(p).hex().upper(), ntowfv1(p).hex().upper()
                lines += [f"{name}:1000:{lm}:{nt}:[U          ]:LCT-00000000"
                          for name in (u, f"EDGE01\\{u}")]
            Path(_NTLM_FILE).write_text("\n".join(lines) + "\n")
            os.environ["NTLM_USER_FILE"] = _NTLM_FILE

    def _make_cert(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([
                    x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                    critical=False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        d = Path(self._tmp.name)
        (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (d / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                      serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
        self.ca_file = str(d / "cert.pem")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
        if self.client_ca:  # certificate authentication: a client may present one, from this CA
            ctx.load_verify_locations(cafile=self.client_ca)
            ctx.verify_mode = ssl.CERT_OPTIONAL
        self._ssl_ctx = ctx

    # ---------------------------------------------------------------- WSMan dispatch
    def dispatch(self, name: str, root, port: int, user: str | None) -> tuple[int, str]:
        mid = root.findtext("s:Header/wsa:MessageID", namespaces=NS) or ""
        body = root.find("s:Body", NS)
        shell_id = root.findtext("s:Header/wsman:SelectorSet/wsman:Selector[@Name='ShellId']",
                                 namespaces=NS)
        if name == "create":
            if self.faults.access_denied:
                return 500, _fault(mid, 5, "Access is denied.", "w:AccessDenied")
            shell_el = body.find("rsp:Shell", NS)
            sid = shell_el.get("ShellId") or str(uuid.uuid4()).upper()
            creation = shell_el.findtext("pwsh:creationXml", namespaces=NS) or ""
            shell = _Shell(self, self._port_host[port], port, user)
            with self._lock:
                self.shells[sid.upper()] = shell
            with shell.lock:
                shell.feed(base64.b64decode(creation), None)
            uri = root.findtext("s:Header/wsman:ResourceURI", namespaces=NS)
            return 200, _envelope(
                ACTION_BASE["create"] + "Response", mid,
                f"<x:ResourceCreated><a:Address>http://127.0.0.1:{port}/wsman</a:Address>"
                f"<a:ReferenceParameters><w:ResourceURI>{escape(uri or '')}</w:ResourceURI><w:SelectorSet>"
                f'<w:Selector Name="ShellId">{sid}</w:Selector></w:SelectorSet></a:ReferenceParameters>'
                f"</x:ResourceCreated><rsp:Shell><rsp:ShellId>{sid}</rsp:ShellId>"
                f"<rsp:ResourceUri>{escape(uri or '')}</rsp:ResourceUri><rsp:Owner>{escape(user or '')}"
                "</rsp:Owner><rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout"
                "</rsp:OutputStreams><rsp:State>Connected</rsp:State></rsp:Shell>")
        shell = self.shells.get((shell_id or "").upper())
        if shell is None:
            return 500, _fault(mid, SHELL_NOT_FOUND_CODE, "The request for the Windows Remote Shell "
                               "with ShellId failed because the shell was not found on the server.")
        if name == "delete":
            with self._lock:
                self.shells.pop(shell_id.upper(), None)
            return 200, _envelope(ACTION_BASE["delete"] + "Response", mid, "")
        if name == "command":
            cl = body.find("rsp:CommandLine", NS)
            cid = (cl.get("CommandId") or str(uuid.uuid4())).upper()
            args = cl.findtext("rsp:Arguments", namespaces=NS) or ""
            with shell.lock:
                psrpcore.ServerPipeline(shell.pool, uuid.UUID(cid))  # before its data (psrpcore pitfall)
                shell.feed(base64.b64decode(args), uuid.UUID(cid))
            return 200, _envelope(ACTION_BASE["command"] + "Response", mid,
                                  f"<rsp:CommandResponse><rsp:CommandId>{cid}</rsp:CommandId>"
                                  "</rsp:CommandResponse>")
        if name == "send":
            for st in body.findall("rsp:Send/rsp:Stream", NS):
                cid = st.get("CommandId")
                with shell.lock:
                    shell.feed(base64.b64decode(st.text or ""), uuid.UUID(cid) if cid else None)
            return 200, _envelope(ACTION_BASE["send"] + "Response", mid, "<rsp:SendResponse/>")
        if name == "signal":
            cid = body.find("rsp:Signal", NS).get("CommandId")
            with shell.lock:
                if cid:
                    pid = uuid.UUID(cid)
                    pipe = shell.pool.pipeline_table.get(pid)
                    if pipe is not None and pipe.state == PSInvocationState.Running:
                        pipe.stop()
                        shell._drain()
                    shell.done.add(pid)
            return 200, _envelope(ACTION_BASE["signal"] + "Response", mid, "<rsp:SignalResponse/>")
        if name == "receive":
            ds = body.find("rsp:Receive/rsp:DesiredStream", NS)
            cid = ds.get("CommandId") if ds is not None else None
            key = uuid.UUID(cid) if cid else None
            timeout = _duration(root.findtext("s:Header/wsman:OperationTimeout", namespaces=NS))
            deadline = time.monotonic() + min(timeout, 1.0)
            while True:
                with shell.lock:
                    q = shell.queues.get(key)
                    chunks = list(q) if q else []
                    if q:
                        q.clear()
                    finished = key is not None and key in shell.done
                if chunks or finished or time.monotonic() >= deadline:
                    break
                time.sleep(0.01)
            if not chunks and not finished:
                return 500, _fault(mid, OPERATION_TIMEOUT_CODE,
                                   "The WS-Management service cannot complete the operation within "
                                   "the time specified in OperationTimeout.", "w:TimedOut")
            attr = f' CommandId="{cid.upper()}"' if cid else ""
            streams = "".join(f'<rsp:Stream Name="stdout"{attr}>{base64.b64encode(c).decode()}</rsp:Stream>'
                              for c in chunks)
            state = ""
            if finished:
                state = (f'<rsp:CommandState CommandId="{cid.upper()}" State="http://schemas.microsoft.com/'
                         'wbem/wsman/1/windows/shell/CommandState/Done"><rsp:ExitCode>0</rsp:ExitCode>'
                         "</rsp:CommandState>")
            return 200, _envelope(ACTION_BASE["receive"] + "Response", mid,
                                  f"<rsp:ReceiveResponse>{streams}{state}</rsp:ReceiveResponse>")
        if name == "get":
            return 200, _envelope(ACTION_BASE["get"] + "Response", mid, "<rsp:Shell><rsp:State>"
                                  "Connected</rsp:State></rsp:Shell>")
        return 500, _fault(mid, 2150858817, f"The action {name} is not supported.",
                           "a:ActionNotSupported")


def _duration(text: str | None) -> float:
    m = re.match(r"PT([\d.]+)S", text or "")
    return float(m.group(1)) if m else 20.0
