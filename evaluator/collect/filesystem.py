"""Windows file security: SDDL → security descriptor → a trustee's effective rights on a file
or directory, as the entities of an OVAL 5.11.2 `win-sc:fileeffectiverights_item` (the item a
`fileeffectiverights53_test` collects); and the reader for what `Get-Acl` returns. Pure: no I/O.

Readings (where Windows or OVAL leave a choice):

- **Which ACEs count for a trustee.** OVAL: "the trustee's effective access rights are the
  access rights that the DACL grants to the trustee or to any groups of which the trustee is a
  member". Group membership cannot be known from an ACL, so it is not expanded: the ACEs that
  count are the trustee's own, those of `groups` (SIDs the caller knows it belongs to), and
  those of Everyone (S-1-1-0) for every trustee but ANONYMOUS LOGON (S-1-5-7). Everyone is in
  every logon token Windows builds, so its ACEs are known to apply without a lookup, and
  leaving them out would report a world-writable file as not writable; an anonymous token holds
  Everyone only when "Let Everyone permissions apply to anonymous users" is on, which Windows
  has kept off by default since Server 2003 (and the STIGs require off). Authenticated Users,
  OWNER RIGHTS and the owner's implicit READ_CONTROL | WRITE_DAC are not added (the first
  needs to know the trustee is an authenticated account, the others are not what the DACL
  grants; GetEffectiveRightsFromAcl, which OVAL names, does not add them either).
- **Object ACEs (OA, OD)** are read, but name directory-service object types and play no part
  in a file's access check as a DACL right; one that would apply to the trustee makes
  `effective_rights` raise rather than guess. **Callback / conditional ACEs (XA, XD, XU, ZA)**
  depend on claims of the token at access time: `parse_sddl` refuses them. Audit, alarm,
  label, scoped-policy and resource-attribute ACE types are not valid in a DACL (refused); a
  SACL (`S:`) is kept as its text, never interpreted.
- **Domain-relative aliases** (DA, DU, EA, LA, …) stand for SIDs under the domain, forest or
  machine SID, which the SDDL does not carry: they stay unresolved as `"<DA>"` (see
  `unresolved_alias`). Such an ACE never matches a trustee that cannot be it; for a trustee
  that could be it (S-1-5-21-…-<its RID>) `effective_rights` raises.
- **generic_read / generic_write / generic_execute / generic_all.** The schema documents them
  as "Read access.", "Write access.", "Execute access." and "Read, write, and execute
  access.". Generic bits in ACEs are mapped with the file generic mapping first, so each is
  true when the effective mask holds every bit of FILE_GENERIC_READ (0x120089),
  FILE_GENERIC_WRITE (0x120116), FILE_GENERIC_EXECUTE (0x1200A0) or FILE_ALL_ACCESS
  (0x1F01FF) respectively.
- **NULL DACL** (`D:NO_ACCESS_CONTROL`): the access check grants GENERIC_ALL, mapped:
  FILE_ALL_ACCESS (access_system_security stays false: a DACL never grants the SACL right by
  itself). **Empty DACL**: nothing. **No `D:` part**: `effective_rights` raises (Get-Acl always
  writes one, so its absence means the descriptor was not read whole).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stigscap.evaluator.collect.normalize import lookup_property

# --- access masks -----------------------------------------------------------------------------

GENERIC_READ = 0x80000000
GENERIC_WRITE = 0x40000000
GENERIC_EXECUTE = 0x20000000
GENERIC_ALL = 0x10000000
ACCESS_SYSTEM_SECURITY = 0x01000000
FILE_GENERIC_READ = 0x120089
FILE_GENERIC_WRITE = 0x120116
FILE_GENERIC_EXECUTE = 0x1200A0
FILE_ALL_ACCESS = 0x1F01FF
_FILE_GENERIC_MAPPING = ((GENERIC_READ, FILE_GENERIC_READ), (GENERIC_WRITE, FILE_GENERIC_WRITE),
                         (GENERIC_EXECUTE, FILE_GENERIC_EXECUTE), (GENERIC_ALL, FILE_ALL_ACCESS))

# SDDL rights strings ([MS-DTYP] 2.5.1.1); the directory-service ones are bits 0x1..0x100
RIGHTS = {
    "GA": GENERIC_ALL, "GR": GENERIC_READ, "GW": GENERIC_WRITE, "GX": GENERIC_EXECUTE,
    "RC": 0x20000, "SD": 0x10000, "WD": 0x40000, "WO": 0x80000,
    "CC": 0x1, "DC": 0x2, "LC": 0x4, "SW": 0x8, "RP": 0x10, "WP": 0x20, "DT": 0x40, "LO": 0x80,
    "CR": 0x100,
    "FA": FILE_ALL_ACCESS, "FR": FILE_GENERIC_READ, "FW": FILE_GENERIC_WRITE,
    "FX": FILE_GENERIC_EXECUTE,
    "KA": 0xF003F, "KR": 0x20019, "KW": 0x20006, "KX": 0x20019,
}
ACE_FLAGS = {"OI": 0x1, "CI": 0x2, "NP": 0x4, "IO": 0x8, "ID": 0x10, "SA": 0x40, "FA": 0x80}

# the fileeffectiverights_item entities, in the schema's order, with the bits each needs
RIGHT_ENTITIES: tuple[tuple[str, int], ...] = (
    ("standard_delete", 0x10000), ("standard_read_control", 0x20000),
    ("standard_write_dac", 0x40000), ("standard_write_owner", 0x80000),
    ("standard_synchronize", 0x100000), ("access_system_security", ACCESS_SYSTEM_SECURITY),
    ("generic_read", FILE_GENERIC_READ), ("generic_write", FILE_GENERIC_WRITE),
    ("generic_execute", FILE_GENERIC_EXECUTE), ("generic_all", FILE_ALL_ACCESS),
    ("file_read_data", 0x1), ("file_write_data", 0x2), ("file_append_data", 0x4),
    ("file_read_ea", 0x8), ("file_write_ea", 0x10), ("file_execute", 0x20),
    ("file_delete_child", 0x40), ("file_read_attributes", 0x80),
    ("file_write_attributes", 0x100),
)

# --- SIDs -------------------------------------------------------------------------------------

EVERYONE = "S-1-1-0"
ANONYMOUS = "S-1-5-7"

SID_ALIASES = {
    "WD": EVERYONE, "CO": "S-1-3-0", "CG": "S-1-3-1", "OW": "S-1-3-4",
    "NU": "S-1-5-2", "IU": "S-1-5-4", "SU": "S-1-5-6", "AN": ANONYMOUS, "ED": "S-1-5-9",
    "PS": "S-1-5-10", "AU": "S-1-5-11", "RC": "S-1-5-12", "SY": "S-1-5-18", "LS": "S-1-5-19",
    "NS": "S-1-5-20", "WR": "S-1-5-33",
    "BA": "S-1-5-32-544", "BU": "S-1-5-32-545", "BG": "S-1-5-32-546", "PU": "S-1-5-32-547",
    "AO": "S-1-5-32-548", "SO": "S-1-5-32-549", "PO": "S-1-5-32-550", "BO": "S-1-5-32-551",
    "RE": "S-1-5-32-552", "RU": "S-1-5-32-554", "RD": "S-1-5-32-555", "NO": "S-1-5-32-556",
    "MU": "S-1-5-32-558", "LU": "S-1-5-32-559", "IS": "S-1-5-32-568", "CY": "S-1-5-32-569",
    "ER": "S-1-5-32-573", "CD": "S-1-5-32-574", "RA": "S-1-5-32-575", "ES": "S-1-5-32-576",
    "MS": "S-1-5-32-577", "HA": "S-1-5-32-578", "AA": "S-1-5-32-579", "RM": "S-1-5-32-580",
    "UD": "S-1-5-84-0-0-0-0-0", "AC": "S-1-15-2-1",
    "LW": "S-1-16-4096", "ME": "S-1-16-8192", "MP": "S-1-16-8448", "HI": "S-1-16-12288",
    "SI": "S-1-16-16384", "AS": "S-1-18-1", "SS": "S-1-18-2",
}
# aliases for a RID under the machine (LA, LG), domain or forest root domain SID
RELATIVE_ALIASES = {
    "LA": 500, "LG": 501, "RO": 498, "DA": 512, "DU": 513, "DG": 514, "DC": 515, "DD": 516,
    "CA": 517, "SA": 518, "EA": 519, "PA": 520, "CN": 522, "AP": 525, "KA": 526, "EK": 527,
    "RS": 553,
}

# English account names, as Get-Acl's Owner / Group and IdentityReference show them
ACCOUNT_NAMES = {
    "S-1-0-0": "NULL SID", EVERYONE: "Everyone", "S-1-2-0": "LOCAL", "S-1-2-1": "CONSOLE LOGON",
    "S-1-3-0": "CREATOR OWNER", "S-1-3-1": "CREATOR GROUP", "S-1-3-4": "OWNER RIGHTS",
    "S-1-5-1": "NT AUTHORITY\\DIALUP", "S-1-5-2": "NT AUTHORITY\\NETWORK",
    "S-1-5-3": "NT AUTHORITY\\BATCH", "S-1-5-4": "NT AUTHORITY\\INTERACTIVE",
    "S-1-5-6": "NT AUTHORITY\\SERVICE", ANONYMOUS: "NT AUTHORITY\\ANONYMOUS LOGON",
    "S-1-5-9": "NT AUTHORITY\\ENTERPRISE DOMAIN CONTROLLERS", "S-1-5-10": "NT AUTHORITY\\SELF",
    "S-1-5-11": "NT AUTHORITY\\Authenticated Users", "S-1-5-12": "NT AUTHORITY\\RESTRICTED",
    "S-1-5-13": "NT AUTHORITY\\TERMINAL SERVER USER",
    "S-1-5-14": "NT AUTHORITY\\REMOTE INTERACTIVE LOGON",
    "S-1-5-15": "NT AUTHORITY\\This Organization", "S-1-5-18": "NT AUTHORITY\\SYSTEM",
    "S-1-5-19": "NT AUTHORITY\\LOCAL SERVICE", "S-1-5-20": "NT AUTHORITY\\NETWORK SERVICE",
    "S-1-5-33": "NT AUTHORITY\\WRITE RESTRICTED", "S-1-5-113": "NT AUTHORITY\\Local account",
    "S-1-5-114": "NT AUTHORITY\\Local account and member of Administrators group",
    "S-1-5-32-544": "BUILTIN\\Administrators", "S-1-5-32-545": "BUILTIN\\Users",
    "S-1-5-32-546": "BUILTIN\\Guests", "S-1-5-32-547": "BUILTIN\\Power Users",
    "S-1-5-32-548": "BUILTIN\\Account Operators", "S-1-5-32-549": "BUILTIN\\Server Operators",
    "S-1-5-32-550": "BUILTIN\\Print Operators", "S-1-5-32-551": "BUILTIN\\Backup Operators",
    "S-1-5-32-552": "BUILTIN\\Replicator",
    "S-1-5-32-554": "BUILTIN\\Pre-Windows 2000 Compatible Access",
    "S-1-5-32-555": "BUILTIN\\Remote Desktop Users",
    "S-1-5-32-556": "BUILTIN\\Network Configuration Operators",
    "S-1-5-32-558": "BUILTIN\\Performance Monitor Users",
    "S-1-5-32-559": "BUILTIN\\Performance Log Users",
    "S-1-5-32-562": "BUILTIN\\Distributed COM Users", "S-1-5-32-568": "BUILTIN\\IIS_IUSRS",
    "S-1-5-32-569": "BUILTIN\\Cryptographic Operators",
    "S-1-5-32-573": "BUILTIN\\Event Log Readers",
    "S-1-5-32-574": "BUILTIN\\Certificate Service DCOM Access",
    "S-1-5-32-578": "BUILTIN\\Hyper-V Administrators",
    "S-1-5-32-579": "BUILTIN\\Access Control Assistance Operators",
    "S-1-5-32-580": "BUILTIN\\Remote Management Users",
    "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464":
        "NT SERVICE\\TrustedInstaller",
    "S-1-15-2-1": "APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES",
    "S-1-15-2-2": "APPLICATION PACKAGE AUTHORITY\\ALL RESTRICTED APPLICATION PACKAGES",
    "S-1-16-4096": "Mandatory Label\\Low Mandatory Level",
    "S-1-16-8192": "Mandatory Label\\Medium Mandatory Level",
    "S-1-16-12288": "Mandatory Label\\High Mandatory Level",
    "S-1-16-16384": "Mandatory Label\\System Mandatory Level",
}
_SID_BY_NAME = {name.lower(): sid for sid, name in ACCOUNT_NAMES.items()}


def account_name(sid: str) -> str | None:
    """The account name of a well-known SID (NT AUTHORITY\\SYSTEM, BUILTIN\\Administrators,
    Everyone, CREATOR OWNER …), None for any other SID."""
    return ACCOUNT_NAMES.get(sid)


def unresolved_alias(sid: str) -> str | None:
    """"DA" for the marker "<DA>" a domain-relative alias leaves in place of its SID."""
    if sid.startswith("<") and sid.endswith(">") and sid[1:-1] in RELATIVE_ALIASES:
        return sid[1:-1]
    return None


# --- errors -----------------------------------------------------------------------------------

class AclError(ValueError):
    """A security descriptor or Get-Acl object that cannot be read or evaluated (one line)."""


class SddlError(AclError):
    """Malformed or unsupported SDDL: the problem and where (1-based character position)."""

    def __init__(self, problem: str, text: str, position: int):
        self.problem = problem
        self.position = position + 1
        near = text[position:position + 24]
        where = f"near {near!r}" if near else "at the end"
        super().__init__(f"SDDL character {position + 1}: {problem} ({where})")


# --- the parsed descriptor --------------------------------------------------------------------

@dataclass(frozen=True)
class Ace:
    type: str                       # "A" allow, "D" deny, "OA" / "OD" object ACEs
    flags: frozenset[str]           # OI CI NP IO ID SA FA
    mask: int                       # as written (generic bits not mapped)
    sid: str                        # S-1-…, or "<DA>" for an unresolved domain-relative alias
    object_type: str | None = None          # OA / OD only
    inherited_object_type: str | None = None
    position: int = 0               # 1-based character position of its "(" in the SDDL

    @property
    def inherit_only(self) -> bool:
        return "IO" in self.flags

    @property
    def inherited(self) -> bool:
        return "ID" in self.flags


@dataclass(frozen=True)
class SecurityDescriptor:
    owner: str | None
    group: str | None
    dacl_flags: frozenset[str]      # P (protected), AI, AR
    dacl: tuple[Ace, ...] | None    # None: NULL DACL ("NO_ACCESS_CONTROL") or no D: part
    dacl_present: bool = True
    sacl: str | None = None         # the S: part's text, not interpreted

    @property
    def protected(self) -> bool:
        return "P" in self.dacl_flags


# --- the SDDL parser --------------------------------------------------------------------------

_LITERAL_SID = re.compile(r"[Ss]-1-(0[xX][0-9A-Fa-f]+|\d+)((?:-\d+)*)", re.ASCII)
_SECTION = re.compile(r"[OGDS]:")
_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_SACL_ONLY_TYPES = {"AU": "an audit", "AL": "an alarm", "OU": "an object audit",
                    "OL": "an object alarm", "ML": "a mandatory label", "SP": "a scoped policy",
                    "RA": "a resource attribute"}
_CALLBACK_TYPES = {"XA", "XD", "XU", "ZA"}


class _Parser:
    def __init__(self, text: str):
        self.sddl = text
        self.pos = 0

    def fail(self, problem: str, position: int | None = None) -> SddlError:
        return SddlError(problem, self.sddl, self.pos if position is None else position)

    def at_section(self) -> bool:
        return _SECTION.match(self.sddl, self.pos) is not None

    def sid(self, *, in_ace: bool) -> str:
        """A SID (literal or alias) at pos, which must end the ACE (")") or the section."""
        text, start = self.sddl, self.pos
        m = _LITERAL_SID.match(text, start)
        if m:
            sid = _canonical_sid(m, self)
            self.pos = m.end()
        else:
            alias = text[start:start + 2]
            if alias in SID_ALIASES:
                sid = SID_ALIASES[alias]
            elif alias in RELATIVE_ALIASES:
                sid = f"<{alias}>"
            else:
                raise self.fail("not a SID or a known SID alias" if alias else "a SID is missing")
            self.pos = start + 2
        nxt = text[self.pos:self.pos + 1]
        if not (nxt == ")" if in_ace else nxt == "" or self.at_section()):
            raise self.fail("unexpected text after the SID")
        return sid

    def acl_flags(self) -> tuple[frozenset[str], bool]:
        flags: set[str] = set()
        null = False
        text = self.sddl
        while self.pos < len(text) and text[self.pos] != "(" and not self.at_section():
            if text.startswith("NO_ACCESS_CONTROL", self.pos):
                null, self.pos = True, self.pos + len("NO_ACCESS_CONTROL")
            elif text[self.pos:self.pos + 2] in ("AI", "AR"):
                flags.add(text[self.pos:self.pos + 2])
                self.pos += 2
            elif text[self.pos] == "P":
                flags.add("P")
                self.pos += 1
            else:
                raise self.fail("not an ACL flag (P, AI, AR, NO_ACCESS_CONTROL) or an ACE")
        return frozenset(flags), null

    def ace(self) -> Ace:
        text, start = self.sddl, self.pos
        end = text.find(")", start)
        kind = text[start + 1:].split(";", 1)[0].split(")", 1)[0]
        if kind in _CALLBACK_TYPES:
            raise self.fail(f"{kind} is a callback (conditional) ACE, whose grant depends on "
                            "claims at access time: refused")
        if kind in _SACL_ONLY_TYPES:
            raise self.fail(f"{kind} is {_SACL_ONLY_TYPES[kind]} ACE, which belongs in a SACL "
                            "(S:), not in the DACL")
        if kind not in ("A", "D", "OA", "OD"):
            raise self.fail(f"unknown ACE type {kind!r}", start + 1)
        if end == -1:
            raise self.fail("the ACE has no closing ')'")
        fields = text[start + 1:end].split(";")
        if len(fields) != 6:
            raise self.fail(f"an ACE has 6 fields separated by ';', this one {len(fields)}")
        offsets = [start + 1]
        for f in fields[:-1]:
            offsets.append(offsets[-1] + len(f) + 1)
        flags = set()
        for i in range(0, len(fields[1]), 2):
            token = fields[1][i:i + 2]
            if token not in ACE_FLAGS:
                raise self.fail(f"unknown ACE flag {token!r}", offsets[1] + i)
            flags.add(token)
        mask = _mask(fields[2], offsets[2], self)
        guids: list[str | None] = []
        for i in (3, 4):
            if not fields[i]:
                guids.append(None)
            elif kind in ("A", "D"):
                raise self.fail(f"an {kind} ACE has no object type GUID", offsets[i])
            elif not _GUID.fullmatch(fields[i]):
                raise self.fail("not a GUID", offsets[i])
            else:
                guids.append(fields[i].lower())
        self.pos = offsets[5]
        sid = self.sid(in_ace=True)
        self.pos = end + 1
        return Ace(kind, frozenset(flags), mask, sid, guids[0], guids[1], start + 1)

    def raw_acl(self) -> None:
        """Skip a SACL's ACEs (parentheses and quoted strings balanced)."""
        text = self.sddl
        while self.pos < len(text) and text[self.pos] == "(":
            depth, quoted, i = 0, False, self.pos
            while True:
                if i >= len(text):
                    raise self.fail("an ACE has no closing ')'")
                ch = text[i]
                if ch == '"':
                    quoted = not quoted
                elif not quoted and ch == "(":
                    depth += 1
                elif not quoted and ch == ")":
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
            self.pos = i + 1


def _canonical_sid(m: re.Match[str], parser: _Parser) -> str:
    if any(len(part) > 20 for part in m[0].split("-")):   # before int() meets 5,000 digits
        raise parser.fail("a SID part is larger than 64 bits")
    authority = int(m.group(1), 0) if m.group(1)[:2].lower() == "0x" else int(m.group(1))
    subs = [int(s) for s in m.group(2).split("-")[1:]]
    if authority >= 1 << 48:
        raise parser.fail("the SID's identifier authority is larger than 48 bits")
    if len(subs) > 15:
        raise parser.fail("a SID has at most 15 sub-authorities")
    if any(s > 0xFFFFFFFF for s in subs):
        raise parser.fail("a SID sub-authority is larger than 32 bits")
    auth = str(authority) if authority < 1 << 32 else f"0x{authority:012X}"
    return "-".join(["S-1", auth] + [str(s) for s in subs])


def canonical_sid(text: str) -> str:
    """A SID string in Windows' form ("s-1-5-032-544" → "S-1-5-32-544"); a two-letter SDDL
    alias ("BA") gives its SID. Raises AclError for anything else."""
    m = _LITERAL_SID.fullmatch(text)
    if m is not None:
        return _canonical_sid(m, _Parser(text))
    if text in SID_ALIASES:
        return SID_ALIASES[text]
    raise AclError(f"{text!r} is not a SID")


def _mask(text: str, offset: int, parser: _Parser) -> int:
    """Rights: "0x1200a9", decimal, octal with a leading 0 (as Windows reads it: C's strtoul
    base 0), or two-letter rights strings ("FA", "GRGX", …); "" is 0."""
    if text[:2] in ("0x", "0X"):
        if not re.fullmatch(r"[0-9A-Fa-f]{1,8}", text[2:]):
            raise parser.fail("not a hexadecimal access mask of at most 32 bits", offset)
        return int(text[2:], 16)
    if text.isascii() and text.isdigit():
        if len(text) > 12:   # 037777777777 is the longest 32-bit form
            raise parser.fail("an access mask larger than 32 bits", offset)
        octal = len(text) > 1 and text[0] == "0"
        if octal and not set(text) <= set("01234567"):
            raise parser.fail("not an octal access mask (it starts with 0)", offset)
        value = int(text, 8 if octal else 10)
        if value > 0xFFFFFFFF:
            raise parser.fail("an access mask larger than 32 bits", offset)
        return value
    mask = 0
    for i in range(0, len(text), 2):
        token = text[i:i + 2]
        if token not in RIGHTS:
            raise parser.fail(f"unknown access right {token!r}", offset + i)
        mask |= RIGHTS[token]
    return mask


def parse_sddl(text: str) -> SecurityDescriptor:
    """Parse a security descriptor string (as Get-Acl's Sddl and
    ConvertSecurityDescriptorToStringSecurityDescriptor write it). Raises SddlError."""
    if not isinstance(text, str):
        raise AclError(f"SDDL must be a string, not {type(text).__name__}")
    p = _Parser(text)
    if not text.strip():
        raise p.fail("empty security descriptor")
    if text != text.strip():
        raise p.fail("white space around the security descriptor",
                     0 if text[0].isspace() else len(text.rstrip()))
    parts: dict[str, Any] = {}
    dacl: tuple[Ace, ...] | None = None
    dacl_flags: frozenset[str] = frozenset()
    while p.pos < len(text):
        if not p.at_section():
            raise p.fail("expected a section O:, G:, D: or S:")
        kind, start = text[p.pos], p.pos
        if kind in parts:
            raise p.fail(f"the {kind}: section appears twice")
        p.pos += 2
        if kind in "OG":
            parts[kind] = p.sid(in_ace=False)
        elif kind == "D":
            dacl_flags, null = p.acl_flags()
            aces = []
            while p.pos < len(text) and text[p.pos] == "(":
                aces.append(p.ace())
            if null and aces:
                raise p.fail("NO_ACCESS_CONTROL (a NULL DACL) cannot have ACEs", start)
            dacl = None if null else tuple(aces)
            parts[kind] = True
        else:
            p.acl_flags()
            p.raw_acl()
            parts[kind] = text[start + 2:p.pos]
        if p.pos < len(text) and not p.at_section():
            raise p.fail("expected '(' or a section O:, G:, D: or S:")
    return SecurityDescriptor(parts.get("O"), parts.get("G"), dacl_flags, dacl,
                              "D" in parts, parts.get("S"))


# --- effective rights -------------------------------------------------------------------------

@dataclass(frozen=True)
class Rights:
    """The rights a DACL gives one trustee on the object itself, generic bits mapped."""

    mask: int
    directory: bool

    def entities(self) -> dict[str, bool]:
        """The fileeffectiverights_item boolean entities, in the schema's order."""
        return {name: self.mask & bits == bits for name, bits in RIGHT_ENTITIES}


def map_generic(mask: int) -> int:
    """A mask with its generic bits replaced by the file generic mapping."""
    for generic, specific in _FILE_GENERIC_MAPPING:
        if mask & generic:
            mask = (mask & ~generic) | specific
    return mask


def _could_be(alias: str, sid: str) -> bool:
    """Whether `sid` could be the SID the domain-relative alias stands for."""
    parts = sid.split("-")
    return sid == f"<{alias}>" or (sid.startswith("S-1-5-21-") and len(parts) > 4
                                   and parts[-1] == str(RELATIVE_ALIASES[alias]))


def effective_rights(sd: SecurityDescriptor, trustee_sid: str, *, directory: bool,
                     groups: Iterable[str] = ()) -> Rights:
    """The rights the DACL grants `trustee_sid` on the object itself (module docstring: which
    ACEs count). The ACEs that apply to the object (not inherit-only) are walked in order, as
    Windows' access check does: a deny ACE denies the bits not yet granted, an allow ACE grants
    the bits not yet denied. `directory` does not change the computation (files and
    directories share the generic mapping and the bits: FILE_LIST_DIRECTORY is
    FILE_READ_DATA, FILE_ADD_FILE FILE_WRITE_DATA, FILE_TRAVERSE FILE_EXECUTE …); it is kept
    on the result for the item. Raises AclError when the answer cannot be known."""
    if not sd.dacl_present:
        raise AclError("the security descriptor has no DACL (no D: part): its rights are unknown")
    if sd.dacl is None:
        return Rights(FILE_ALL_ACCESS, directory)
    if unresolved_alias(trustee_sid):
        raise AclError(f"trustee {trustee_sid} is a domain-relative alias whose SID is unknown")
    trustee_sid = canonical_sid(trustee_sid)
    counted = {trustee_sid, *(canonical_sid(g) for g in groups)}
    if trustee_sid != ANONYMOUS:
        counted.add(EVERYONE)
    granted = denied = 0
    for n, ace in enumerate(sd.dacl, 1):
        if ace.inherit_only:
            continue
        alias = unresolved_alias(ace.sid)
        if alias is not None:
            if any(_could_be(alias, sid) for sid in counted):
                raise AclError(f"ACE #{n} (character {ace.position}) names {alias}, a SID under "
                               f"the domain or machine SID, which the SDDL does not give: "
                               f"cannot tell whether it is {trustee_sid}")
            continue
        if ace.sid not in counted:
            continue
        if ace.type in ("OA", "OD"):
            raise AclError(f"ACE #{n} (character {ace.position}) is an object ACE ({ace.type}) "
                           f"for {ace.sid}: object ACEs are not file rights, cannot evaluate")
        mask = map_generic(ace.mask)
        if ace.type == "D":
            denied |= mask & ~granted
        else:
            granted |= mask & ~denied
    return Rights(granted, directory)


def trustees(sd: SecurityDescriptor) -> list[str]:
    """The SIDs the DACL names, in order, each once (inherit-only ACEs included; unresolved
    aliases as "<DA>"): the trustees of the items for an object whose trustee_sid is not an
    `equals` match ("limited to only the trustees referenced in the file's Security
    Descriptor"). A NULL DACL names none."""
    return list(dict.fromkeys(ace.sid for ace in sd.dacl or ()))


# --- Get-Acl ----------------------------------------------------------------------------------

_FS_PATH = re.compile(r"(?:Microsoft\.PowerShell\.Core\\)?FileSystem::(.*)", re.IGNORECASE | re.DOTALL)
_ABSOLUTE = re.compile(r"[A-Za-z]:\\|\\\\[^\\]")


def _sid_of(account: str) -> str | None:
    """The SID an Owner / Group value names: a SID string, or a well-known English name."""
    if _LITERAL_SID.fullmatch(account.strip()):
        try:
            return canonical_sid(account.strip())
        except AclError:
            return None
    return _SID_BY_NAME.get(account.strip().lower())


def read_get_acl(props: Mapping[str, Any]) -> tuple[str, SecurityDescriptor]:
    """(filepath, descriptor) from the properties of a Get-Acl object (a FileSecurity or
    DirectorySecurity, live or deserialized from Export-Clixml): `Sddl` and `Path` are needed;
    `Owner` / `Group`, when they name a SID or a well-known account, must agree with the SDDL.
    Raises AclError naming the property."""
    found, sddl = lookup_property(props, "Sddl")
    if not found or sddl is None:
        raise AclError("property Sddl: missing (Get-Acl gives the security descriptor there)")
    if not isinstance(sddl, str):
        raise AclError(f"property Sddl: not a string but {type(sddl).__name__}")
    try:
        sd = parse_sddl(str(sddl))
    except AclError as exc:
        raise AclError(f"property Sddl: {exc}") from None
    found, path = lookup_property(props, "Path")
    if not found or not isinstance(path, str) or not path:
        raise AclError("property Path: missing or not a string")
    m = _FS_PATH.fullmatch(str(path))
    if m is None or not _ABSOLUTE.match(m.group(1)):
        raise AclError(f"property Path: {str(path)!r} is not a FileSystem provider path "
                       "(Microsoft.PowerShell.Core\\FileSystem::C:\\…)")
    for name, sid in (("Owner", sd.owner), ("Group", sd.group)):
        found, value = lookup_property(props, name)
        if not found or value is None or not isinstance(value, str):
            continue
        named = _sid_of(str(value))
        if named is None or (sid is not None and unresolved_alias(sid)):
            continue
        if named != sid:
            raise AclError(f"property {name}: {str(value)!r} ({named}) contradicts the Sddl, "
                           f"whose {name.lower()} is {sid or 'missing'}")
    return m.group(1), sd
