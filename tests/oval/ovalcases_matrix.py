"""The generated differential matrix: one definitions document and one system-characteristics
document holding many scenarios, so one `oscap oval analyse` run judges hundreds of definitions.

Scenario axes: collected-object flag and item status (objects), record contents (connectors),
test check × check_existence × state (tests), state entity_check / field operations /
datatypes, and random criteria trees (AND/OR/ONE/XOR, negate, extend_definition) over tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tests.oval.ovalcases_builder import (F, P, State, Test, cmdlet_item, cmdlet_object, collected,
                               connector, constant_variable, criteria, criterion, definition,
                               definitions_doc, extend, external_variable, syschar_doc)

CHECKS = ("all", "at least one", "none satisfy", "only one")
EXISTENCES = ("all_exist", "any_exist", "at_least_one_exists", "none_exist", "only_one_exists")
VAR = f"{P}:var:6993101"
EXACT, INCLUDES = "^Tls$", "(^|, )Tls(, |$)"


@dataclass
class Scenario:
    """One collected object: its flag and items (item = (status, records))."""
    name: str
    flag: str | None                      # None: object absent from collected_objects
    items: list[tuple[str | None, list]] = field(default_factory=list)


def _c(*auths):
    return [connector(f"C{i}", a) for i, a in enumerate(auths)]


SCENARIOS = [
    Scenario("compliant", "complete", [(None, _c("Tls", "Tls"))]),
    Scenario("one_bad", "complete", [(None, _c("Tls", "None"))]),
    Scenario("all_bad", "complete", [(None, _c("None", "BasicAuth", "BasicAuthRequireTLS"))]),
    Scenario("tls_exchangeserver", "complete", [(None, _c("Tls, ExchangeServer", "Tls"))]),
    Scenario("basic_requiretls", "complete", [(None, _c("BasicAuth, BasicAuthRequireTLS"))]),
    Scenario("single_tls", "complete", [(None, _c("Tls"))]),
    Scenario("no_connectors", "complete", [(None, [])]),
    Scenario("flag_dne", "does not exist", []),
    Scenario("flag_error", "error", []),
    Scenario("flag_not_collected", "not collected", []),
    Scenario("flag_not_applicable", "not applicable", []),
    Scenario("missing_object", None, []),
    Scenario("item_error", "complete", [("error", [])]),
    Scenario("item_error_and_good", "complete", [("error", []), (None, _c("Tls"))]),
    Scenario("item_not_collected", "complete", [("not collected", [])]),
    Scenario("item_dne_and_good", "complete", [("does not exist", []), (None, _c("Tls"))]),
    Scenario("item_dne_and_bad", "complete", [("does not exist", []), (None, _c("None"))]),
    Scenario("two_items_good_bad", "complete", [(None, _c("Tls")), (None, _c("None"))]),
    Scenario("two_items_good", "complete", [(None, _c("Tls")), (None, _c("Tls"))]),
    Scenario("incomplete_good", "incomplete", [(None, _c("Tls"))]),
    Scenario("incomplete_bad", "incomplete", [(None, _c("None"))]),
    Scenario("incomplete_two", "incomplete", [(None, _c("Tls")), (None, _c("Tls"))]),
    Scenario("missing_field", "complete", [(None, [[("name", "X"), ("identity", "E\\X")]])]),
    Scenario("field_error", "complete",
             [(None, [[("name", "X"), ("authmechanism", "", "string", "error")]])]),
    Scenario("mixed_case", "complete", [(None, _c("tls", "TLS"))]),
    Scenario("nc_and_bad", "complete", [("not collected", []), (None, _c("None"))]),
    Scenario("only_dne", "complete", [("does not exist", [])]),
    Scenario("error_and_bad", "complete", [("error", []), (None, _c("None"))]),
    Scenario("field_nc_and_bad", "complete",
             [(None, [[("name", "X"), ("authmechanism", "", "string", "not collected")],
                      connector("Y", "None")])]),
]


@dataclass
class Case:
    def_id: str
    scenario: str
    test: Test | None = None
    state: str = ""
    kind: str = "single"

    @property
    def label(self) -> str:
        if self.kind != "single":
            return self.def_id
        return f"{self.scenario}|{self.test.check}|{self.test.check_existence or '-'}|{self.state}"


@dataclass
class Matrix:
    defs: bytes
    syschar: bytes
    cases: dict[str, Case]


def build(seed: int = 69931, n_trees: int = 150, leaf_ok=lambda label: True) -> Matrix:
    objects_xml, collected_xml, items_xml = [], [], []
    obj_of: dict[str, str] = {}
    item_id = 1
    for k, sc in enumerate(SCENARIOS, start=1):
        oid = f"{P}:obj:{k}"
        obj_of[sc.name] = oid
        objects_xml.append(cmdlet_object(oid))
        if sc.flag is None:
            continue
        ids = []
        for status, recs in sc.items:
            items_xml.append(cmdlet_item(item_id, recs, status=status))
            ids.append(item_id)
            item_id += 1
        collected_xml.append(collected(oid, sc.flag, ids))

    states = [
        State(f"{P}:ste:1", [F("authmechanism", None, operation="pattern match", var_ref=VAR)]),
        State(f"{P}:ste:2", [F("authmechanism", "Tls")]),
        State(f"{P}:ste:3", [F("authmechanism", "Tls")], entity_check="at least one"),
        State(f"{P}:ste:4", [F("authmechanism", "None")], entity_check="none satisfy"),
        State(f"{P}:ste:5", [F("authmechanism", "Tls")], entity_check="only one"),
        State(f"{P}:ste:6", [F("authmechanism", "tls", operation="case insensitive equals")]),
        State(f"{P}:ste:7", [F("authmechanism", "None", operation="not equal")]),
        State(f"{P}:ste:8", [F("authmechanism", "Tls")], check_existence="none_exist"),
        State(f"{P}:ste:9", [F("authmechanism", "NONE", operation="case insensitive not equal"),
                             F("name", "^C", operation="pattern match")]),
        State(f"{P}:ste:10", [F("authmechanism", None, operation="pattern match",
                                var_ref=f"{P}:var:2", var_check="at least one")]),
        State(f"{P}:ste:11", [F("authmechanism", None, var_ref=f"{P}:var:2",
                                var_check="none satisfy")]),
        State(f"{P}:ste:12", [F("authmechanism", "Tls")],
              extra="<win-def:verb>Get</win-def:verb>", operator="AND"),
        State(f"{P}:ste:13", [F("authmechanism", "Tls")],
              extra="<win-def:noun>NotThis</win-def:noun>", operator="OR"),
    ]
    # constant before external: oscap 1.3.7 segfaults on an external_variable followed by a
    # constant_variable when --variables is given ("Unhandled variable type: value")
    variables = [constant_variable(f"{P}:var:2", ["^Tls$", "^None$"]),
                 external_variable(VAR)]
    tests_xml, defs_xml = [], []
    cases: dict[str, Case] = {}
    n = 0

    def add_test(t: Test, scenario: str, state: str) -> str:
        nonlocal n
        n += 1
        d = f"{P}:def:{1000 + n}"
        tests_xml.append(t.xml())
        defs_xml.append(definition(d, criteria("AND", criterion(t.id))))
        cases[d] = Case(d, scenario, t, state)
        return d

    tid = 0
    for sc in SCENARIOS:
        oid = obj_of[sc.name]
        # the full check × check_existence matrix with the seed rule's state and with none
        for check in CHECKS:
            for ce in EXISTENCES:
                for st in ("ste:1", None):
                    tid += 1
                    t = Test(f"{P}:tst:{tid}", oid, [f"{P}:{st}"] if st else [], check, ce)
                    add_test(t, sc.name, st or "")
        # every state with the seed rule's check/check_existence
        for s in states[1:]:
            tid += 1
            add_test(Test(f"{P}:tst:{tid}", oid, [s.id], "all", "at_least_one_exists"),
                     sc.name, s.id.rpartition(":")[0].rpartition(":")[2] + ":" +
                     s.id.rpartition(":")[2])
        # several states with each state_operator
        for op in ("AND", "OR", "ONE", "XOR"):
            tid += 1
            add_test(Test(f"{P}:tst:{tid}", oid, [f"{P}:ste:2", f"{P}:ste:7", f"{P}:ste:4"],
                          "all", "at_least_one_exists", state_operator=op), sc.name,
                     f"multi-{op}")
        # deprecated check="none exist"
        tid += 1
        add_test(Test(f"{P}:tst:{tid}", oid, [], "none exist", None), sc.name, "none-exist")

    # datatype scenarios: int / version / boolean / float fields
    dt_records = {
        "dt_a": [[("flags", "5", "int"), ("ver", "15.0.1497.2", "version"),
                  ("enabled", "true", "boolean"), ("ratio", "1.5", "float"),
                  ("limit", "Unlimited", "string")]],
        "dt_b": [[("flags", "2", "int"), ("ver", "15.1", "version"),
                  ("enabled", "false", "boolean"), ("ratio", "-0.25", "float"),
                  ("limit", "10", "string")]],
        "dt_c": [[("flags", "abc", "int"), ("ver", "1.2.3.4.5", "version"),
                  ("enabled", "True", "boolean"), ("ratio", "1e3", "float"),
                  ("limit", "15.0", "string")]],
    }
    dt_states = [
        F("flags", "1", "int", "bitwise and"), F("flags", "4", "int", "bitwise and"),
        F("flags", "7", "int", "bitwise or"), F("flags", "3", "int", "greater than"),
        F("flags", "5", "int", "less than or equal"), F("flags", "5", "int", "equals"),
        F("flags", "2", "int", "not equal"),
        F("ver", "15.0.1497.2", "version", "equals"), F("ver", "15", "version", "greater than"),
        F("ver", "15.0.1497.10", "version", "less than"),
        F("ver", "15.1.0", "version", "equals"), F("ver", "15.0", "version",
                                                  "greater than or equal"),
        F("enabled", "true", "boolean", "equals"), F("enabled", "0", "boolean", "equals"),
        F("enabled", "false", "boolean", "not equal"),
        F("ratio", "1.5", "float", "equals"), F("ratio", "0", "float", "greater than"),
        F("ratio", "1000", "float", "less than"),
        F("limit", "15", "version", "less than"), F("limit", "^\\d+$", "string",
                                                    "pattern match"),
    ]
    sid = 100
    dt_state_ids = []
    for f in dt_states:
        sid += 1
        states.append(State(f"{P}:ste:{sid}", [f]))
        dt_state_ids.append((f"{P}:ste:{sid}", f"{f.name} {f.datatype} {f.operation} {f.value}"))
    k = len(SCENARIOS)
    for name, recs in dt_records.items():
        k += 1
        oid = f"{P}:obj:{k}"
        objects_xml.append(cmdlet_object(oid, noun="TransportConfig",
                                         select=("Flags", "Ver", "Enabled", "Ratio", "Limit")))
        items_xml.append(cmdlet_item(item_id, recs, noun="TransportConfig"))
        collected_xml.append(collected(oid, "complete", [item_id]))
        item_id += 1
        for st_id, label in dt_state_ids:
            tid += 1
            add_test(Test(f"{P}:tst:{tid}", oid, [st_id], "all", "at_least_one_exists"),
                     name, label)

    # platform inventory (Get-ExchangeServer): Edge role AND Exchange 2013 build
    inv_state = State(f"{P}:ste:901", [
        F("serverrole", "(^|, )Edge(, |$)", operation="pattern match"),
        F("admindisplayversion", r"^Version 15\.0 \(Build ", operation="pattern match")])
    states.append(inv_state)
    servers = {
        "inv_edge2013": [[("name", "EDGE01"), ("serverrole", "Edge"),
                          ("admindisplayversion", "Version 15.0 (Build 1497.2)")]],
        "inv_mailbox": [[("name", "MBX01"), ("serverrole", "Mailbox, ClientAccess"),
                         ("admindisplayversion", "Version 15.0 (Build 1497.2)")]],
        "inv_edge2016": [[("name", "EDGE02"), ("serverrole", "Edge"),
                          ("admindisplayversion", "Version 15.1 (Build 2507.6)")]],
    }
    for name, recs in servers.items():
        k += 1
        oid = f"{P}:obj:{k}"
        objects_xml.append(cmdlet_object(oid, noun="ExchangeServer",
                                         select=("Name", "ServerRole", "AdminDisplayVersion")))
        items_xml.append(cmdlet_item(item_id, recs, noun="ExchangeServer"))
        collected_xml.append(collected(oid, "complete", [item_id]))
        item_id += 1
        tid += 1
        t = Test(f"{P}:tst:{tid}", oid, [inv_state.id], "at least one", "at_least_one_exists")
        n += 1
        d = f"{P}:def:{1000 + n}"
        tests_xml.append(t.xml())
        defs_xml.append(definition(d, criteria("AND", criterion(t.id)), cls="inventory"))
        cases[d] = Case(d, name, t, "inventory")

    # criteria trees over the single tests (operators, negate, extend_definition)
    rng = random.Random(seed)
    singles = [d for d, c in cases.items() if leaf_ok(c.label)]
    tree_ids = []
    for i in range(n_trees):
        def node(depth: int) -> str:
            r = rng.random()
            if depth >= 2 or r < 0.45:
                c = rng.choice(singles)
                return criterion(cases[c].test.id, negate=rng.random() < 0.3)
            if r < 0.6 and (tree_ids or singles):
                target = rng.choice(tree_ids or singles)
                return extend(target, negate=rng.random() < 0.3)
            kids = [node(depth + 1) for _ in range(rng.randint(1, 4))]
            return criteria(rng.choice(("AND", "OR", "ONE", "XOR")), *kids,
                            negate=rng.random() < 0.25)
        d = f"{P}:def:{5000 + i}"
        body = criteria(rng.choice(("AND", "OR", "ONE", "XOR")),
                        *[node(1) for _ in range(rng.randint(1, 4))],
                        negate=rng.random() < 0.25)
        defs_xml.append(definition(d, body))
        cases[d] = Case(d, "", None, "", kind="tree")
        tree_ids.append(d)

    return Matrix(
        definitions_doc(defs_xml, tests_xml, objects_xml, [s.xml() for s in states], variables),
        syschar_doc(collected_xml, items_xml), cases)
