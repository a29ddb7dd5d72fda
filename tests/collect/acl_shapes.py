"""`Get-Acl <path>, <path> | Export-Clixml` as Windows PowerShell 5.1 writes it: UTF-16LE with
BOM, CRLF, two-space indent, `Objs Version="1.1.0.1"`, RefIds document-wide (the second object's
type list is a <TNRef>, its PSDrive and PSProvider <Ref>s to the first object's, as the
serializer writes an object it has written before).

The element layout follows a real export of a DirectorySecurity (Windows PowerShell 5.1, default
depth 2): the RuntimeType properties as strings, <MS> with the provider's note properties
(PSDrive with its Credential and Used/Free, PSProvider with its Drives collection referring back
to the PSDrive), CentralAccessPolicyId/Name as <Nil>, `Access` an AuthorizationRuleCollection
whose rules are at depth 0, so only their type name survives (hence the Sddl is what a reader
must use), AccessToString lines joined with LF (written `_x000A_`).

The ACLs are those of an Exchange 2016/2019 install directory (inherited from Program Files:
TrustedInstaller, SYSTEM, Administrators full control, Users and the app-package SIDs read &
execute 0x1200a9, CREATOR OWNER and the generic grants inherit-only) and of a transport log
directory with explicit ACEs before the inherited ones: a deny of Write (0x116) to Users and
Modify (0x1301bf) for NETWORK SERVICE, which the transport service runs as.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from xml.sax.saxutils import escape

NS = "http://schemas.microsoft.com/powershell/2004/04"
PROVIDER = "Microsoft.PowerShell.Core\\FileSystem::"
TI = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
EXCHANGE_DIR = "C:\\Program Files\\Microsoft\\Exchange Server\\V15"
LOG_DIR = EXCHANGE_DIR + "\\TransportRoles\\Logs"

# (SDDL ACE, identity as Get-Acl names it, AccessControlType, FileSystemRights as .NET prints it)
Ace = tuple[str, str, str, str]

_INHERITED_FROM_PROGRAM_FILES: list[Ace] = [
    (f"(A;ID;FA;;;{TI})", "NT SERVICE\\TrustedInstaller", "Allow", "FullControl"),
    (f"(A;CIIOID;GA;;;{TI})", "NT SERVICE\\TrustedInstaller", "Allow", "268435456"),
    ("(A;ID;FA;;;SY)", "NT AUTHORITY\\SYSTEM", "Allow", "FullControl"),
    ("(A;OICIIOID;GA;;;SY)", "NT AUTHORITY\\SYSTEM", "Allow", "268435456"),
    ("(A;ID;FA;;;BA)", "BUILTIN\\Administrators", "Allow", "FullControl"),
    ("(A;OICIIOID;GA;;;BA)", "BUILTIN\\Administrators", "Allow", "268435456"),
    ("(A;ID;0x1200a9;;;BU)", "BUILTIN\\Users", "Allow", "ReadAndExecute, Synchronize"),
    ("(A;OICIIOID;GXGR;;;BU)", "BUILTIN\\Users", "Allow", "-1610612736"),
    ("(A;OICIIOID;GA;;;CO)", "CREATOR OWNER", "Allow", "268435456"),
    ("(A;ID;0x1200a9;;;AC)", "APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES", "Allow",
     "ReadAndExecute, Synchronize"),
    ("(A;OICIIOID;GXGR;;;AC)", "APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES",
     "Allow", "-1610612736"),
    ("(A;ID;0x1200a9;;;S-1-15-2-2)",
     "APPLICATION PACKAGE AUTHORITY\\ALL RESTRICTED APPLICATION PACKAGES", "Allow",
     "ReadAndExecute, Synchronize"),
    ("(A;OICIIOID;GXGR;;;S-1-15-2-2)",
     "APPLICATION PACKAGE AUTHORITY\\ALL RESTRICTED APPLICATION PACKAGES", "Allow",
     "-1610612736"),
]
_LOG_EXPLICIT: list[Ace] = [
    ("(D;OICI;0x116;;;BU)", "BUILTIN\\Users", "Deny", "Write"),
    ("(A;OICI;0x1301bf;;;NS)", "NT AUTHORITY\\NETWORK SERVICE", "Allow", "Modify, Synchronize"),
]


@dataclass(frozen=True)
class AclObject:
    path: str                  # C:\…
    owner: str                 # SDDL owner ("BA") and the name Get-Acl shows
    owner_name: str
    group: str
    group_name: str
    dacl_flags: str
    aces: tuple[Ace, ...]
    directory: bool = True

    @property
    def sddl(self) -> str:
        return (f"O:{self.owner}G:{self.group}D:{self.dacl_flags}"
                + "".join(a[0] for a in self.aces))

    @property
    def access_to_string(self) -> str:
        return "\n".join(f"{who} {kind}  {rights}" for _, who, kind, rights in self.aces)


EXCHANGE_INSTALL = AclObject(EXCHANGE_DIR, "BA", "BUILTIN\\Administrators", "SY",
                             "NT AUTHORITY\\SYSTEM", "AI", tuple(_INHERITED_FROM_PROGRAM_FILES))
TRANSPORT_LOGS = AclObject(LOG_DIR, "SY", "NT AUTHORITY\\SYSTEM", "SY", "NT AUTHORITY\\SYSTEM",
                           "AI", tuple(_LOG_EXPLICIT + [a for a in _INHERITED_FROM_PROGRAM_FILES
                                                        if "TrustedInstaller" not in a[1]]))

_TYPES = {True: "System.Security.AccessControl.DirectorySecurity",
          False: "System.Security.AccessControl.FileSecurity"}


def _text(value: str) -> str:
    """Element text as the serializer writes it (control characters as _xHHHH_)."""
    return escape("".join(f"_x{ord(c):04X}_" if ord(c) < 0x20 else c for c in value))


def _drive_and_provider(lines: list[str], ref: int, tn: int) -> None:
    """PSDrive (RefId ref) and PSProvider (ref + 2), as in the real export; their type lists
    are tn … tn + 3."""
    lines += [
        f'      <Obj N="PSDrive" RefId="{ref}">',
        f'        <TN RefId="{tn}">',
        "          <T>System.Management.Automation.PSDriveInfo</T>",
        "          <T>System.Object</T>",
        "        </TN>",
        "        <ToString>C</ToString>",
        "        <Props>",
        '          <S N="CurrentLocation">Users\\Administrator</S>',
        '          <S N="Name">C</S>',
        '          <S N="Provider">Microsoft.PowerShell.Core\\FileSystem</S>',
        '          <S N="Root">C:\\</S>',
        '          <S N="Description"></S>',
        '          <Nil N="MaximumSize" />',
        f'          <Obj N="Credential" RefId="{ref + 1}">',
        f'            <TN RefId="{tn + 1}">',
        "              <T>System.Management.Automation.PSCredential</T>",
        "              <T>System.Object</T>",
        "            </TN>",
        "            <ToString>System.Management.Automation.PSCredential</ToString>",
        "            <Props>",
        '              <Nil N="UserName" />',
        '              <Nil N="Password" />',
        "            </Props>",
        "          </Obj>",
        '          <Nil N="DisplayRoot" />',
        "        </Props>",
        "        <MS>",
        '          <U64 N="Used">61827567616</U64>',
        '          <U64 N="Free">74408226816</U64>',
        "        </MS>",
        "      </Obj>",
        f'      <Obj N="PSProvider" RefId="{ref + 2}">',
        f'        <TN RefId="{tn + 2}">',
        "          <T>System.Management.Automation.ProviderInfo</T>",
        "          <T>System.Object</T>",
        "        </TN>",
        "        <ToString>Microsoft.PowerShell.Core\\FileSystem</ToString>",
        "        <Props>",
        '          <S N="ImplementingType">Microsoft.PowerShell.Commands.FileSystemProvider</S>',
        '          <S N="HelpFile">System.Management.Automation.dll-Help.xml</S>',
        '          <S N="Name">FileSystem</S>',
        '          <S N="PSSnapIn">Microsoft.PowerShell.Core</S>',
        '          <S N="ModuleName">Microsoft.PowerShell.Core</S>',
        '          <Nil N="Module" />',
        '          <S N="Description"></S>',
        '          <S N="Capabilities">Filter, ShouldProcess, Credentials</S>',
        '          <S N="Home">C:\\Users\\Administrator</S>',
        f'          <Obj N="Drives" RefId="{ref + 3}">',
        f'            <TN RefId="{tn + 3}">',
        "              <T>System.Collections.ObjectModel.Collection`1[[System.Management."
        "Automation.PSDriveInfo, System.Management.Automation, Version=3.0.0.0, "
        "Culture=neutral, PublicKeyToken=31bf3856ad364e35]]</T>",
        "              <T>System.Object</T>",
        "            </TN>",
        "            <LST>",
        f'              <Ref RefId="{ref}" />',
        "            </LST>",
        "          </Obj>",
        "        </Props>",
        "      </Obj>",
    ]


def get_acl_text(objects: tuple[AclObject, ...] = (EXCHANGE_INSTALL, TRANSPORT_LOGS)) -> str:
    lines = [f'<Objs Version="1.1.0.1" xmlns="{NS}">']
    ref = tn_next = 0   # Obj and TN RefIds are counted apart
    tn_refs: dict[str, int] = {}
    drive_ref: int | None = None
    for obj in objects:
        parent, _, child = obj.path.rpartition("\\")
        type_name = _TYPES[obj.directory]
        lines.append(f'  <Obj RefId="{ref}">')
        if type_name in tn_refs:
            lines.append(f'    <TNRef RefId="{tn_refs[type_name]}" />')
        else:
            tn_refs[type_name] = tn_next
            lines.append(f'    <TN RefId="{tn_next}">')
            tn_next += 1
            lines += [f"      <T>{t}</T>" for t in (
                type_name, "System.Security.AccessControl.FileSystemSecurity",
                "System.Security.AccessControl.NativeObjectSecurity",
                "System.Security.AccessControl.CommonObjectSecurity",
                "System.Security.AccessControl.ObjectSecurity", "System.Object")]
            lines.append("    </TN>")
        ref += 1
        protected = "P" in obj.dacl_flags
        lines += [
            f"    <ToString>{type_name}</ToString>",
            "    <Props>",
            '      <S N="AccessRightType">System.Security.AccessControl.FileSystemRights</S>',
            '      <S N="AccessRuleType">System.Security.AccessControl.FileSystemAccessRule</S>',
            '      <S N="AuditRuleType">System.Security.AccessControl.FileSystemAuditRule</S>',
            f'      <B N="AreAccessRulesProtected">{str(protected).lower()}</B>',
            '      <B N="AreAuditRulesProtected">false</B>',
            '      <B N="AreAccessRulesCanonical">true</B>',
            '      <B N="AreAuditRulesCanonical">true</B>',
            "    </Props>",
            "    <MS>",
            f'      <S N="PSPath">{_text(PROVIDER + obj.path)}</S>',
            f'      <S N="PSParentPath">{_text(PROVIDER + parent)}</S>',
            f'      <S N="PSChildName">{_text(child)}</S>',
        ]
        if drive_ref is None:
            drive_ref = ref
            _drive_and_provider(lines, ref, tn_next)
            ref += 4
            tn_next += 4
        else:
            lines += [f'      <Ref N="PSDrive" RefId="{drive_ref}" />',
                      f'      <Ref N="PSProvider" RefId="{drive_ref + 2}" />']
        lines += [
            '      <Nil N="CentralAccessPolicyId" />',
            '      <Nil N="CentralAccessPolicyName" />',
            f'      <S N="Path">{_text(PROVIDER + obj.path)}</S>',
            f'      <S N="Owner">{_text(obj.owner_name)}</S>',
            f'      <S N="Group">{_text(obj.group_name)}</S>',
            f'      <Obj N="Access" RefId="{ref}">',
        ]
        key = "AuthorizationRuleCollection"
        if key in tn_refs:
            lines.append(f'        <TNRef RefId="{tn_refs[key]}" />')
        else:
            tn_refs[key] = tn_next
            tn_next += 1
            lines += [f'        <TN RefId="{tn_refs[key]}">',
                      "          <T>System.Security.AccessControl.AuthorizationRuleCollection</T>",
                      "          <T>System.Collections.ReadOnlyCollectionBase</T>",
                      "          <T>System.Object</T>",
                      "        </TN>"]
        ref += 1
        lines.append("        <IE>")
        lines += ["          <S>System.Security.AccessControl.FileSystemAccessRule</S>"] * len(obj.aces)
        lines += [
            "        </IE>",
            "      </Obj>",
            f'      <S N="Sddl">{_text(obj.sddl)}</S>',
            f'      <S N="AccessToString">{_text(obj.access_to_string)}</S>',
            '      <S N="AuditToString"></S>',
            "    </MS>",
            "  </Obj>",
        ]
    lines.append("</Objs>")
    return "\r\n".join(lines)


def get_acl_clixml(objects: tuple[AclObject, ...] = (EXCHANGE_INSTALL, TRANSPORT_LOGS)) -> bytes:
    """The Export-Clixml file (Windows PowerShell 5.1: UTF-16LE with BOM)."""
    return codecs.BOM_UTF16_LE + get_acl_text(objects).encode("utf-16-le")
