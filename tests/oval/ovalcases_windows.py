"""Build OVAL documents for win-def:registry_test, fileeffectiverights53_test and file_test.

One `Suite` per test type collects scenarios (a collected object with its flag and items),
states and cases (one definition → one criterion → one test), so one definitions document and
one system-characteristics document hold every case of a type and are analysed once.
Entities are written in the order the official 5.11.2 schemas require (the documents are
validated against them). A fileeffectiverights53_object's items are `fileeffectiverights_item`s
(windows-system-characteristics-schema 5.11.2 has no fileeffectiverights53_item).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from tests.oval.ovalcases_builder import (P, a, collected, criteria, criterion, definition,
                                          definitions_doc, external_variable, indented,
                                          syschar_doc)

_RIGHTS = ("standard_delete", "standard_read_control", "standard_write_dac",
           "standard_write_owner", "standard_synchronize", "access_system_security",
           "generic_read", "generic_write", "generic_execute", "generic_all", "file_read_data",
           "file_write_data", "file_append_data", "file_read_ea", "file_write_ea",
           "file_execute", "file_delete_child", "file_read_attributes", "file_write_attributes")
_FILE = ("filepath", "path", "filename", "owner", "size", "a_time", "c_time", "m_time",
         "ms_checksum", "version", "type", "attribute", "development_class", "company",
         "internal_name", "language", "original_filename", "product_name", "product_version",
         "windows_view")

# test type → (item element, schema order of object / state / item entities)
KINDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "registry": ("registry_item", ("hive", "key", "name"),
                 ("hive", "key", "name", "last_write_time", "type", "value", "expanded_value",
                  "windows_view"),
                 ("hive", "key", "name", "last_write_time", "type", "value", "expanded_value",
                  "windows_view")),
    "fileeffectiverights53": ("fileeffectiverights_item",
                              ("filepath", "trustee_sid"),
                              ("filepath", "path", "filename", "trustee_sid") + _RIGHTS
                              + ("windows_view",),
                              ("filepath", "path", "filename", "trustee_sid", "trustee_name")
                              + _RIGHTS + ("windows_view",)),
    "file": ("file_item", ("filepath",), _FILE, _FILE),
}


@dataclass
class E:
    """An entity of an object, state or item (attributes left out when None)."""
    name: str
    value: str | None = None
    datatype: str | None = None
    operation: str | None = None
    var_ref: str | None = None
    var_check: str | None = None
    entity_check: str | None = None
    check_existence: str | None = None
    status: str | None = None
    nil: bool = False

    def xml(self, prefix: str) -> str:
        attrs = (a("datatype", self.datatype) + a("operation", self.operation)
                 + a("var_ref", self.var_ref) + a("var_check", self.var_check)
                 + a("entity_check", self.entity_check)
                 + a("check_existence", self.check_existence) + a("status", self.status)
                 + a("xsi:nil", "true" if self.nil else None))
        body = "" if self.value is None else escape(self.value)
        return f"<{prefix}:{self.name}{attrs}>{body}</{prefix}:{self.name}>"


def _ordered(entities: list[E], order: tuple[str, ...], prefix: str) -> str:
    unknown = [e.name for e in entities if e.name not in order]
    assert not unknown, f"not an entity of this type: {unknown}"
    return "".join(e.xml(prefix) for e in sorted(entities, key=lambda e: order.index(e.name)))


@dataclass
class Case:
    def_id: str
    test_id: str
    label: str       # "scenario|check|check_existence|state"


@dataclass
class Suite:
    kind: str
    defs: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)
    collected: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    cases: dict[str, Case] = field(default_factory=dict)
    scenario_ids: dict[str, str] = field(default_factory=dict)
    state_ids: dict[str, str] = field(default_factory=dict)
    _n: int = 0
    _item: int = 0

    def _next(self, what: str) -> str:
        self._n += 1
        return f"{P}:{what}:{self._n}"

    def scenario(self, name: str, flag: str, items: list[tuple[str | None, list[E]]],
                 obj: list[E]) -> None:
        """A collected object: its flag and items ((status, entities) each)."""
        item_tag, obj_order, _state_order, item_order = KINDS[self.kind]
        oid = self._next("obj")
        self.objects.append(f'<win-def:{self.kind}_object id="{oid}" version="1" '
                            f'comment="{name}">{_ordered(obj, obj_order, "win-def")}'
                            f'</win-def:{self.kind}_object>')
        refs = []
        for status, ents in items:
            self._item += 1
            refs.append(self._item)
            msg = ('<message level="error">could not read it</message>'
                   if status == "error" else "")
            self.items.append(f'<win-sc:{item_tag} id="{self._item}"{a("status", status)}>{msg}'
                              f'{_ordered(ents, item_order, "win-sc")}</win-sc:{item_tag}>')
        self.collected.append(collected(oid, flag, refs))
        self.scenario_ids[name] = oid

    def state(self, name: str, entities: list[E], operator: str | None = None) -> str:
        sid = self._next("ste")
        order = KINDS[self.kind][2]
        self.states.append(f'<win-def:{self.kind}_state id="{sid}" version="1" '
                           f'comment="{escape(name)}"{a("operator", operator)}>'
                           f'{_ordered(entities, order, "win-def")}</win-def:{self.kind}_state>')
        self.state_ids[name] = sid
        return sid

    def external(self, var_id: str, datatype: str) -> None:
        self.variables.append(external_variable(var_id, datatype))

    def case(self, scenario: str, states: tuple[str, ...] = (), check: str = "all",
             check_existence: str = "at_least_one_exists",
             state_operator: str | None = None) -> Case:
        tid, did = self._next("tst"), self._next("def")
        refs = "".join(f'<win-def:state state_ref="{self.state_ids[s]}"/>' for s in states)
        label = f"{scenario}|{check}|{check_existence}|" + (
            f" {state_operator} ".join(states) if state_operator else "+".join(states))
        self.tests.append(
            f'<win-def:{self.kind}_test id="{tid}" version="1" check="{check}" '
            f'check_existence="{check_existence}"{a("state_operator", state_operator)} '
            f'comment="{escape(label)}"><win-def:object object_ref="{self.scenario_ids[scenario]}"/>'
            f'{refs}</win-def:{self.kind}_test>')
        self.defs.append(definition(did, criteria("AND", criterion(tid))))
        assert label not in {c.label for c in self.cases.values()}, label
        case = self.cases[did] = Case(did, tid, label)
        return case

    def definitions(self) -> bytes:
        return indented(definitions_doc(self.defs, self.tests, self.objects, self.states,
                                        self.variables))

    def syschar(self) -> bytes:
        return indented(syschar_doc(self.collected, self.items))



# ====================================================================== the three suites

CHECKS = ("all", "at least one", "none satisfy", "only one")
EXISTENCES = ("all_exist", "any_exist", "at_least_one_exists", "none_exist", "only_one_exists")
OPERATORS = ("AND", "OR", "ONE", "XOR")
VAR_INT, VAR_INTS = f"{P}:var:1", f"{P}:var:2"          # registry: [1], [0, 1]
VAR_SIDS, VAR_SID = f"{P}:var:3", f"{P}:var:4"          # rights: allowed SIDs, one SID
VAR_VERSIONS, VAR_VERSION = f"{P}:var:5", f"{P}:var:6"  # file: two versions, one
SIDS = ["S-1-5-32-544", "S-1-5-18"]
EXTERNAL = {VAR_INT: ("int", ["1"]), VAR_INTS: ("int", ["0", "1"]),
            VAR_SIDS: ("string", SIDS), VAR_SID: ("string", ["S-1-5-32-544"]),
            VAR_VERSIONS: ("version", ["15.1.2507.6", "15.2.1118.7"]),
            VAR_VERSION: ("version", ["15.1.2507.6"])}


def _matrix(s: Suite, scenarios: tuple[str, ...], main: str) -> None:
    """Every check × check_existence with the main state, and every check_existence
    without a state, for each scenario."""
    for scen in scenarios:
        for check in CHECKS:
            for ce in EXISTENCES:
                s.case(scen, (main,), check, ce)
        for ce in EXISTENCES:
            s.case(scen, (), "all", ce)


def _between_states(s: Suite, scenarios: tuple[str, ...], first: str, second: str) -> None:
    """Two states under every state_operator."""
    for scen in scenarios:
        for op in OPERATORS:
            s.case(scen, (first, second), "all", state_operator=op)


def _var_states(s: Suite, prefix: str, entity: str, datatype: str, variables: dict[str, str],
                operation: str | None = None) -> tuple[str, ...]:
    """The external variables (id → name) and a state per variable and var_check comparing
    `entity` with it; the states' names."""
    names = []
    for var, vname in variables.items():
        s.external(var, datatype)
        for vc in CHECKS:
            names.append(f"{prefix} var {vname} var_check {vc}")
            s.state(names[-1], [E(entity, None, None if datatype == "string" else datatype,
                                  operation, var_ref=var, var_check=vc)])
    return tuple(names)


def _special(s: Suite, scenarios: tuple[str, ...], states: tuple[str, ...],
             checks: tuple[str, ...] = ("all",)) -> None:
    for scen in scenarios:
        for st in states:
            for check in checks:
                s.case(scen, (st,), check)


# ---------------------------------------------------------------------- registry

_KEY = r"SOFTWARE\Microsoft\ExchangeServer\v15\Transport"


def reg(name: str, rtype: str | None, values: list[str], datatype: str = "string", *,
        view: str = "64_bit", value_status: str | None = None,
        expanded: str | None = None) -> list[E]:
    ents = [E("hive", "HKEY_LOCAL_MACHINE"), E("key", _KEY), E("name", name),
            E("last_write_time", "133500000000000000", "int"), E("windows_view", view)]
    if rtype is not None:
        ents.append(E("type", rtype))
    ents += [E("value", v, datatype, status=value_status) for v in values]
    if expanded is not None:
        ents.append(E("expanded_value", expanded))
    return ents


def _reg_obj(name: str, op: str | None = None) -> list[E]:
    return [E("hive", "HKEY_LOCAL_MACHINE"), E("key", _KEY), E("name", name, operation=op)]


def registry_suite() -> Suite:
    s = Suite("registry")
    sc = s.scenario
    sc("dword1", "complete", [(None, reg("Enabled", "reg_dword", ["1"], "int"))],
       _reg_obj("Enabled"))
    sc("dword0", "complete", [(None, reg("Enabled", "reg_dword", ["0"], "int"))],
       _reg_obj("Enabled"))
    sc("qword_big", "complete", [(None, reg("Limit", "reg_qword", ["4294967296"], "int"))],
       _reg_obj("Limit"))
    sc("sz", "complete", [(None, reg("Protocols", "reg_sz", ["Tls12"]))], _reg_obj("Protocols"))
    sc("expand_sz", "complete", [(None, reg("LogPath", "reg_expand_sz", [r"%ExchangeInstallPath%Logs"],
                                            expanded=r"C:\Program Files\Microsoft\Exchange Server\V15\Logs"))],
       _reg_obj("LogPath"))
    sc("binary", "complete", [(None, reg("Blob", "reg_binary", ["0A0B"], "binary"))],
       _reg_obj("Blob"))
    sc("multi_sz", "complete", [(None, reg("List", "reg_multi_sz", ["Tls", "Tls12"]))],
       _reg_obj("List"))
    sc("two_good", "complete", [(None, reg("Enabled1", "reg_dword", ["1"], "int")),
                                (None, reg("Enabled2", "reg_dword", ["1"], "int"))],
       _reg_obj("^Enabled[0-9]$", "pattern match"))
    sc("good_bad", "complete", [(None, reg("Enabled1", "reg_dword", ["1"], "int")),
                                (None, reg("Enabled2", "reg_dword", ["0"], "int"))],
       _reg_obj("^Enabled[0-9]$", "pattern match"))
    sc("two_views", "complete", [(None, reg("Enabled", "reg_dword", ["0"], "int", view="32_bit")),
                                 (None, reg("Enabled", "reg_dword", ["1"], "int"))],
       _reg_obj("^Enabled$", "pattern match"))
    sc("flag_dne", "does not exist", [], _reg_obj("Missing"))
    sc("item_dne", "does not exist",
       [("does not exist", [E("hive", "HKEY_LOCAL_MACHINE"), E("key", _KEY),
                            E("name", "Missing", status="does not exist")])], _reg_obj("Missing"))
    sc("dne_and_good", "complete",
       [("does not exist", [E("hive", "HKEY_LOCAL_MACHINE"), E("key", _KEY),
                            E("name", "Enabled2", status="does not exist")]),
        (None, reg("Enabled1", "reg_dword", ["1"], "int"))],
       _reg_obj("^Enabled[0-9]$", "pattern match"))
    sc("item_error", "error", [("error", [E("hive", "HKEY_LOCAL_MACHINE"), E("key", _KEY)])],
       _reg_obj("Enabled"))
    sc("error_and_good", "complete",
       [("error", [E("hive", "HKEY_LOCAL_MACHINE"), E("key", _KEY)]),
        (None, reg("Enabled1", "reg_dword", ["1"], "int"))],
       _reg_obj("^Enabled[0-9]$", "pattern match"))
    # (an entity with a status other than exists carries a value: oscap 1.3.7 crashes, signal
    # 11, on an empty simple entity with status error or not collected)
    sc("value_nc", "complete", [(None, reg("Enabled", "reg_dword", ["1"], "int",
                                           value_status="not collected"))], _reg_obj("Enabled"))
    sc("value_error", "complete", [(None, reg("Enabled", "reg_dword", ["1"], "int",
                                              value_status="error"))], _reg_obj("Enabled"))
    sc("no_value", "complete", [(None, reg("Enabled", None, []))], _reg_obj("Enabled"))
    sc("flag_error", "error", [], _reg_obj("Enabled"))
    sc("flag_not_collected", "not collected", [], _reg_obj("Enabled"))

    st = s.state
    st("dword=1", [E("type", "reg_dword"), E("value", "1", "int")])
    _matrix(s, ("dword1", "dword0", "two_good", "good_bad", "two_views", "flag_dne", "item_dne",
                "dne_and_good", "item_error", "error_and_good", "value_nc", "value_error",
                "no_value", "flag_error", "flag_not_collected"), "dword=1")

    # value: int operations (the reg_dword / reg_qword value is an int)
    for op in ("equals", "not equal", "greater than", "less than", "greater than or equal",
               "less than or equal", "bitwise and", "bitwise or"):
        st(f"value int {op} 1", [E("value", "1", "int", op)])
    st("value int greater than 4294967295", [E("value", "4294967295", "int", "greater than")])
    st("value string equals 1", [E("value", "1")])
    st("value int equals 01", [E("value", "01", "int")])
    _special(s, ("dword1", "dword0", "qword_big"),
             tuple(n for n in s.state_ids if n.startswith("value ")))
    # value: reg_sz / reg_expand_sz strings
    for name, ent in (("sz equals Tls12", E("value", "Tls12")),
                      ("sz equals tls12", E("value", "tls12")),
                      ("sz case insensitive equals tls12", E("value", "tls12", None,
                                                              "case insensitive equals")),
                      ("sz not equal Tls12", E("value", "Tls12", None, "not equal")),
                      ("sz pattern match ^Tls1[0-3]$", E("value", "^Tls1[0-3]$", None,
                                                         "pattern match")),
                      ("sz pattern match ^SSL", E("value", "^SSL", None, "pattern match")),
                      ("sz int equals 12", E("value", "12", "int")),
                      ("expanded pattern match Logs$", E("expanded_value", r"\\Logs$", None,
                                                         "pattern match")),
                      ("expanded absent, none_exist", E("expanded_value", "x",
                                                        check_existence="none_exist")),
                      ("expanded absent", E("expanded_value", "x"))):
        st(name, [ent])
    _special(s, ("sz", "expand_sz", "dword1"),
             ("sz equals Tls12", "sz equals tls12", "sz case insensitive equals tls12",
              "sz not equal Tls12", "sz pattern match ^Tls1[0-3]$", "sz pattern match ^SSL",
              "sz int equals 12", "expanded pattern match Logs$", "expanded absent, none_exist",
              "expanded absent"))
    # value: reg_binary
    for name, ent in (("binary equals 0A0B", E("value", "0A0B", "binary")),
                      ("binary equals 0a0b", E("value", "0a0b", "binary")),
                      ("binary not equal 0A0C", E("value", "0A0C", "binary", "not equal")),
                      ("binary equals 0A", E("value", "0A", "binary"))):
        st(name, [ent])
    _special(s, ("binary",), ("binary equals 0A0B", "binary equals 0a0b",
                              "binary not equal 0A0C", "binary equals 0A"))
    # reg_multi_sz: one value entity per string, entity_check over them
    for ec in CHECKS:
        st(f"multi equals Tls12 entity_check {ec}", [E("value", "Tls12", entity_check=ec)])
    st("multi none_exist", [E("value", "Tls12", check_existence="none_exist")])
    st("multi only_one_exists", [E("value", "Tls12", check_existence="only_one_exists")])
    _special(s, ("multi_sz",), tuple(n for n in s.state_ids if n.startswith("multi ")))
    # type enumeration (EntityStateRegistryTypeType)
    for name, ent in (("type equals reg_dword", E("type", "reg_dword")),
                      ("type equals reg_sz", E("type", "reg_sz")),
                      ("type not equal reg_sz", E("type", "reg_sz", None, "not equal")),
                      ("type pattern match reg_dword", E("type", "reg_dword", None,
                                                         "pattern match")),
                      ("type equals empty", E("type", "")),
                      ("type case insensitive not equal reg_sz",
                       E("type", "reg_sz", None, "case insensitive not equal"))):
        st(name, [ent])
    _special(s, ("dword1", "sz", "multi_sz", "no_value"),
             tuple(n for n in s.state_ids if n.startswith("type ")))
    # windows_view, hive, key, last_write_time
    for name, ent in (("view 64_bit", E("windows_view", "64_bit")),
                      ("view 32_bit", E("windows_view", "32_bit")),
                      ("view not equal 32_bit", E("windows_view", "32_bit", None, "not equal")),
                      ("hive HKLM", E("hive", "HKEY_LOCAL_MACHINE")),
                      ("key ci equals", E("key", _KEY.upper(), None, "case insensitive equals")),
                      ("last_write_time greater than", E("last_write_time", "133000000000000000",
                                                         "int", "greater than"))):
        st(name, [ent])
    _special(s, ("two_views",), ("view 64_bit", "view 32_bit", "view not equal 32_bit"), CHECKS)
    _special(s, ("dword1",), ("hive HKLM", "key ci equals", "last_write_time greater than"))
    # state operator (inside a state) and state_operator (between states)
    for op in OPERATORS:
        st(f"dword {op} value 0", [E("type", "reg_dword"), E("value", "0", "int")], op)
    _special(s, ("dword1", "dword0", "sz"), tuple(f"dword {op} value 0"
                                                 for op in OPERATORS))
    st("type reg_dword", [E("type", "reg_dword")])
    st("value 0", [E("value", "0", "int")])
    _between_states(s, ("dword1", "dword0", "sz", "good_bad"), "type reg_dword", "value 0")
    # external variables (int), var_check
    _special(s, ("dword1", "dword0", "good_bad"),
             _var_states(s, "value", "value", "int", {VAR_INT: "[1]", VAR_INTS: "[0,1]"}))
    return s


# ---------------------------------------------------------------------- fileeffectiverights53

_EXSETUP = r"C:\Program Files\Microsoft\Exchange Server\V15\Bin\ExSetup.exe"
FULL = dict.fromkeys(_RIGHTS, "true")
READ = {r: ("true" if r in ("standard_read_control", "standard_synchronize", "generic_read",
                            "generic_execute", "file_read_data", "file_read_ea",
                            "file_execute", "file_read_attributes") else "false")
        for r in _RIGHTS}
WRITE = dict(READ, generic_write="true", file_write_data="true", file_append_data="true")
NAMES = {"S-1-5-32-544": r"BUILTIN\Administrators", "S-1-5-18": r"NT AUTHORITY\SYSTEM",
         "S-1-5-32-545": r"BUILTIN\Users", "S-1-1-0": "Everyone"}


def rights(sid: str, granted: dict[str, str], *, status: dict[str, str] | None = None,
           drop: tuple[str, ...] = (), view: str = "64_bit") -> list[E]:
    """One fileeffectiverights_item's entities: the file, the trustee and each right."""
    ents = [E("filepath", _EXSETUP), E("path", _EXSETUP.rpartition("\\")[0]),
            E("filename", "ExSetup.exe"), E("trustee_sid", sid), E("windows_view", view)]
    for r in _RIGHTS:
        if r not in drop:
            ents.append(E(r, granted[r], "boolean", status=(status or {}).get(r)))
    return ents


def _rights_obj(sid: str = ".*", op: str | None = "pattern match") -> list[E]:
    return [E("filepath", _EXSETUP), E("trustee_sid", sid, operation=op)]


def rights_suite() -> Suite:
    s = Suite("fileeffectiverights53")
    sc = s.scenario
    sc("admins_full", "complete", [(None, rights("S-1-5-32-544", FULL))],
       _rights_obj("S-1-5-32-544", None))
    sc("admins_system", "complete", [(None, rights("S-1-5-32-544", FULL)),
                                     (None, rights("S-1-5-18", FULL))], _rights_obj())
    sc("admins_users_read", "complete", [(None, rights("S-1-5-32-544", FULL)),
                                         (None, rights("S-1-5-18", FULL)),
                                         (None, rights("S-1-5-32-545", READ))], _rights_obj())
    sc("users_write", "complete", [(None, rights("S-1-5-32-544", FULL)),
                                   (None, rights("S-1-5-32-545", WRITE))], _rights_obj())
    sc("numeric_booleans", "complete",
       [(None, rights("S-1-5-32-545", {r: "1" if v == "true" else "0"
                                       for r, v in READ.items()}))], _rights_obj())
    sc("flag_dne", "does not exist", [], _rights_obj())
    sc("file_dne", "does not exist",
       [("does not exist", [E("filepath", _EXSETUP, status="does not exist")])], _rights_obj())
    sc("dne_and_good", "complete",
       [("does not exist", [E("filepath", _EXSETUP), E("trustee_sid", "S-1-5-32-546",
                                                       status="does not exist")]),
        (None, rights("S-1-5-32-544", FULL))], _rights_obj())
    sc("item_error", "error", [("error", [E("filepath", _EXSETUP)])], _rights_obj())
    sc("error_and_good", "complete", [("error", [E("filepath", _EXSETUP)]),
                                      (None, rights("S-1-5-32-545", READ))], _rights_obj())
    sc("right_nc", "complete", [(None, rights("S-1-5-32-545", READ,
                                              status={"generic_write": "not collected",
                                                      "file_write_data": "not collected"}))],
       _rights_obj())
    sc("right_error", "complete", [(None, rights("S-1-5-32-545", READ,
                                                 status={"file_write_data": "error"}))],
       _rights_obj())
    sc("right_missing", "complete", [(None, rights("S-1-5-32-545", READ,
                                                   drop=("generic_write", "file_write_data")))],
       _rights_obj())
    sc("flag_error", "error", [], _rights_obj())

    st = s.state
    st("no write", [E("generic_write", "false", "boolean"),
                    E("file_write_data", "false", "boolean")])
    _matrix(s, ("admins_full", "admins_system", "admins_users_read", "users_write",
                "flag_dne", "file_dne", "dne_and_good", "item_error", "error_and_good",
                "right_nc", "right_error", "right_missing", "flag_error"), "no write")
    # boolean forms and operations
    for name, ent in (("generic_all true", E("generic_all", "true", "boolean")),
                      ("generic_all 1", E("generic_all", "1", "boolean")),
                      ("generic_all not equal false", E("generic_all", "false", "boolean",
                                                        "not equal")),
                      ("file_read_data equals 0", E("file_read_data", "0", "boolean"))):
        st(name, [ent])
    _special(s, ("admins_full", "admins_users_read", "numeric_booleans"),
             ("generic_all true", "generic_all 1", "generic_all not equal false",
              "file_read_data equals 0"), CHECKS)
    # the trustee: equals / not equal / pattern match, the file, the view
    for name, ent in (("sid equals Administrators", E("trustee_sid", "S-1-5-32-544")),
                      ("sid not equal Users", E("trustee_sid", "S-1-5-32-545", None,
                                                "not equal")),
                      ("sid pattern match builtin", E("trustee_sid", "^S-1-5-32-", None,
                                                      "pattern match")),
                      ("filepath ci equals", E("filepath", _EXSETUP.lower(), None,
                                               "case insensitive equals")),
                      ("filename pattern match", E("filename", r"^ExSetup\.exe$", None,
                                                   "pattern match")),
                      ("view 64_bit", E("windows_view", "64_bit")),
                      ("view 32_bit", E("windows_view", "32_bit"))):
        st(name, [ent])
    _special(s, ("admins_system", "admins_users_read", "users_write"),
             ("sid equals Administrators", "sid not equal Users", "sid pattern match builtin",
              "filepath ci equals", "filename pattern match", "view 64_bit", "view 32_bit"),
             CHECKS)
    # state operators: an item that may write must be an administrator (OR across entities)
    for op in OPERATORS:
        st(f"admin {op} no write", [E("trustee_sid", "S-1-5-32-544"),
                                    E("file_write_data", "false", "boolean")], op)
    _special(s, ("admins_users_read", "users_write", "admins_full"),
             tuple(f"admin {op} no write" for op in OPERATORS))
    st("is admin", [E("trustee_sid", "S-1-5-32-544")])
    st("read only", [E("generic_write", "false", "boolean"),
                     E("file_write_data", "false", "boolean"),
                     E("file_append_data", "false", "boolean")])
    _between_states(s, ("admins_users_read", "users_write", "admins_system"), "is admin",
                    "read only")
    # external variables: the trustees allowed full control (multi-valued) and one SID
    _special(s, ("admins_system", "admins_users_read", "users_write"),
             _var_states(s, "sid", "trustee_sid", "string",
                         {VAR_SIDS: "allowed sids", VAR_SID: "one sid"}),
             ("all", "at least one"))
    return s


# ---------------------------------------------------------------------- file

_FILE_ATTRS = ("FILE_ATTRIBUTE_ARCHIVE", "FILE_ATTRIBUTE_READONLY")


def file_item(path: str, version: str | None, size: str = "28672", *,
              version_status: str | None = None, product_version: str | None = None,
              attributes: tuple[str, ...] = _FILE_ATTRS, extra: tuple[E, ...] = ()) -> list[E]:
    ents = [E("filepath", path), E("path", path.rpartition("\\")[0]),
            E("filename", path.rpartition("\\")[2]), E("owner", r"NT SERVICE\TrustedInstaller"),
            E("size", size, "int"), E("a_time", "133500000000000000", "int"),
            E("c_time", "133400000000000000", "int"), E("m_time", "133450000000000000", "int"),
            E("type", "FILE_TYPE_DISK"), E("company", "Microsoft Corporation"),
            E("windows_view", "64_bit")]
    ents += [E("attribute", x) for x in attributes]
    if version is not None:
        ents.append(E("version", version, "version", status=version_status))
    if product_version is not None:
        ents.append(E("product_version", product_version, "string"))
    return ents + list(extra)


_BIN = r"C:\Program Files\Microsoft\Exchange Server\V15\Bin"


def _file_obj(path: str = _EXSETUP, op: str | None = None) -> list[E]:
    return [E("filepath", path, operation=op)]


def file_suite() -> Suite:
    s = Suite("file")
    sc = s.scenario
    cu = file_item(_EXSETUP, "15.1.2507.6", product_version="15.01.2507.006")
    old = file_item(_EXSETUP, "15.1.2375.7", "28160", product_version="15.01.2375.007")
    sc("current", "complete", [(None, cu)], _file_obj())
    sc("old", "complete", [(None, old)], _file_obj())
    sc("ex2019", "complete", [(None, file_item(_EXSETUP, "15.2.1118.7"))], _file_obj())
    sc("two_current", "complete",
       [(None, cu), (None, file_item(_BIN + r"\Microsoft.Exchange.Store.Worker.exe",
                                     "15.1.2507.6", "40960"))],
       _file_obj(r"^C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Bin\\.*\.exe$",
                 "pattern match"))
    sc("current_old", "complete",
       [(None, cu), (None, file_item(_BIN + r"\Microsoft.Exchange.Store.Worker.exe",
                                     "15.1.2375.7", "40960"))],
       _file_obj(r"^C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Bin\\.*\.exe$",
                 "pattern match"))
    sc("flag_dne", "does not exist", [], _file_obj())
    sc("file_dne", "does not exist",
       [("does not exist", [E("filepath", _EXSETUP, status="does not exist")])], _file_obj())
    sc("dne_and_good", "complete",
       [("does not exist", [E("filepath", _BIN + r"\Missing.exe", status="does not exist")]),
        (None, cu)], _file_obj(re.escape(_BIN) + r"\\(ExSetup|Missing)\.exe$", "pattern match"))
    sc("item_error", "error", [("error", [E("filepath", _EXSETUP)])], _file_obj())
    sc("error_and_good", "complete", [("error", [E("filepath", _BIN + r"\Locked.exe")]),
                                      (None, cu)],
       _file_obj(re.escape(_BIN) + r"\\(ExSetup|Locked)\.exe$", "pattern match"))
    sc("version_nc", "complete", [(None, file_item(_EXSETUP, "15.1.2507.6",
                                                   version_status="not collected"))],
       _file_obj())
    sc("version_error", "complete", [(None, file_item(_EXSETUP, "15.1.2507.6",
                                                      version_status="error"))], _file_obj())
    sc("no_version", "complete", [(None, file_item(_BIN + r"\readme.txt", None, "1024",
                                                   attributes=("FILE_ATTRIBUTE_ARCHIVE",)))],
       _file_obj(_BIN + r"\readme.txt"))
    sc("flag_error", "error", [], _file_obj())

    st = s.state
    st("version >= 15.1.2507.6", [E("version", "15.1.2507.6", "version",
                                    "greater than or equal")])
    _matrix(s, ("current", "old", "two_current", "current_old", "flag_dne", "file_dne",
                "dne_and_good", "item_error", "error_and_good", "version_nc", "version_error",
                "no_version", "flag_error"), "version >= 15.1.2507.6")
    # version comparisons (datatype version: component-wise, numeric)
    for name, ent in (("version equals 15.1.2507.6", E("version", "15.1.2507.6", "version")),
                      ("version equals 15.01.2507.06", E("version", "15.01.2507.06",
                                                         "version")),
                      ("version not equal 15.1.2507.6", E("version", "15.1.2507.6", "version",
                                                          "not equal")),
                      ("version less than 15.1.2507.10", E("version", "15.1.2507.10",
                                                           "version", "less than")),
                      ("version greater than 15.1", E("version", "15.1", "version",
                                                      "greater than")),
                      ("version less than or equal 15.1.2375.7",
                       E("version", "15.1.2375.7", "version", "less than or equal")),
                      ("version greater than 15.2", E("version", "15.2", "version",
                                                      "greater than")),
                      ("product_version equals", E("product_version", "15.01.2507.006"))):
        st(name, [ent])
    _special(s, ("current", "old", "ex2019"),
             tuple(n for n in s.state_ids if n.startswith(("version ", "product_version"))
                   and not n.startswith("version >=")))
    # int (size, times), strings, enumerations, the view
    for name, ent in (("size equals 28672", E("size", "28672", "int")),
                      ("size greater than 28500", E("size", "28500", "int", "greater than")),
                      ("size less than 28500", E("size", "28500", "int", "less than")),
                      ("size not equal 28672", E("size", "28672", "int", "not equal")),
                      ("m_time less than", E("m_time", "133460000000000000", "int",
                                             "less than")),
                      ("company ci equals", E("company", "MICROSOFT CORPORATION", None,
                                              "case insensitive equals")),
                      ("owner pattern match", E("owner", r"TrustedInstaller$", None,
                                                "pattern match")),
                      ("type FILE_TYPE_DISK", E("type", "FILE_TYPE_DISK")),
                      ("type not equal FILE_TYPE_DISK", E("type", "FILE_TYPE_DISK", None,
                                                          "not equal")),
                      ("view 64_bit", E("windows_view", "64_bit")),
                      ("development_class absent", E("development_class", "x")),
                      ("development_class absent, none_exist",
                       E("development_class", "x", check_existence="none_exist"))):
        st(name, [ent])
    _special(s, ("current", "old", "two_current", "current_old"),
             tuple(n for n in s.state_ids if n.startswith(
                 ("size ", "m_time ", "company ", "owner ", "type ", "view ",
                  "development_class "))), ("all", "at least one"))
    # several attribute entities per item: entity_check over them
    for ec in CHECKS:
        st(f"attribute READONLY entity_check {ec}",
           [E("attribute", "FILE_ATTRIBUTE_READONLY", entity_check=ec)])
    _special(s, ("current", "no_version"),
             tuple(n for n in s.state_ids if n.startswith("attribute ")))
    # state operator and state_operator
    for op in OPERATORS:
        st(f"version {op} size", [E("version", "15.1.2507.6", "version",
                                    "greater than or equal"),
                                  E("size", "28500", "int", "less than")], op)
    _special(s, ("current", "old", "current_old"),
             tuple(f"version {op} size" for op in OPERATORS))
    st("is 15.1", [E("version", "15.2", "version", "less than")])
    st("is 15.2", [E("version", "15.2", "version", "greater than or equal")])
    _between_states(s, ("current", "ex2019", "current_old"), "is 15.1", "is 15.2")
    # external variables (version): the minimum per product line, multi-valued
    _special(s, ("current", "old", "ex2019", "current_old"),
             _var_states(s, "version", "version", "version",
                         {VAR_VERSIONS: "two minimums", VAR_VERSION: "one minimum"},
                         "greater than or equal"))
    return s


SUITES = {"registry": registry_suite, "fileeffectiverights53": rights_suite, "file": file_suite}
