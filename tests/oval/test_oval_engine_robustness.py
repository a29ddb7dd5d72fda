"""Engine behaviour the differential suite cannot reach through oscap: reuse of compiled
definitions, dangling references, extend_definition cycles, variable instances, bad variable
values. None of these may raise."""

from __future__ import annotations

from lxml import etree

from tests.oval.ovalcases_builder import (F, P, State, Test, cmdlet_item, cmdlet_object, collected,
                               connector, criteria, criterion, definition, definitions_doc,
                               extend, external_variable, syschar_doc)
from stigscap.evaluator.oval.engine import compile_definitions, evaluate

VAR = f"{P}:var:1"
OBJ = f"{P}:obj:1"


def _defs(extra_defs=(), datatype="string", op="pattern match"):
    return etree.fromstring(definitions_doc(
        [definition(f"{P}:def:1", criteria("AND", criterion(f"{P}:tst:1"))), *extra_defs],
        [Test(f"{P}:tst:1", OBJ, [f"{P}:ste:1"]).xml()], [cmdlet_object(OBJ)],
        [State(f"{P}:ste:1", [F("authmechanism", None, datatype, op, VAR)]).xml()],
        [external_variable(VAR, datatype)]))


def _sc(auths):
    return etree.fromstring(syschar_doc(
        [collected(OBJ, "complete", [1])],
        [cmdlet_item(1, [connector(f"C{i}", a) for i, a in enumerate(auths)])]))


def test_compiled_definitions_reused_across_hosts_equal_fresh_evaluation():
    compiled = compile_definitions(_defs())
    hosts = [["Tls"], ["Tls", "None"], [], ["Tls, ExchangeServer"]]
    for tailoring in (["^Tls$"], ["(^|, )Tls(, |$)"]):
        for auths in hosts:
            a = compiled.evaluate(_sc(auths), {VAR: tailoring}).definition_results
            b = evaluate(_defs(), _sc(auths), {VAR: tailoring}).definition_results
            assert a == b
    assert [compiled.evaluate(_sc(h), {VAR: ["^Tls$"]}).definition_results[f"{P}:def:1"]
            for h in hosts] == ["true", "false", "false", "false"]


def test_dangling_references_and_cycles_are_errors():
    cyc = [definition(f"{P}:def:2", criteria("OR", extend(f"{P}:def:3"))),
           definition(f"{P}:def:3", criteria("AND", extend(f"{P}:def:2"),
                                             criterion(f"{P}:tst:1"))),
           definition(f"{P}:def:4", criteria("AND", criterion(f"{P}:tst:404"))),
           definition(f"{P}:def:5", criteria("AND", extend(f"{P}:def:404")))]
    ev = evaluate(_defs(cyc), _sc(["Tls"]), {VAR: ["^Tls$"]})
    r = ev.definition_results
    assert r[f"{P}:def:1"] == "true"
    assert r[f"{P}:def:2"] == "error" and r[f"{P}:def:3"] == "error"
    assert r[f"{P}:def:4"] == "error" and r[f"{P}:def:5"] == "error"
    assert "not defined" in ev.test_results[f"{P}:tst:404"].messages[0]


def test_variable_values_must_fit_the_datatype():
    d = _defs(datatype="int", op="bitwise and")
    assert evaluate(d, _sc(["1"]), {VAR: ["1"]}).definition_results[f"{P}:def:1"] == "true"
    ev = evaluate(d, _sc(["1"]), {VAR: ["Tls"]})
    assert ev.definition_results[f"{P}:def:1"] == "error"
    assert "'Tls' is not an int" in ev.variable_values(VAR)[1]
    # a plain string is accepted for a one-value external variable
    assert evaluate(_defs(), _sc(["Tls"]), {VAR: "^Tls$"}).definition_results == \
        {f"{P}:def:1": "true"}


def test_variable_instance_selected_by_variable_values():
    """Two collected instances of one object (different variable values): the one whose
    variable_value matches this evaluation's value is used."""
    d = etree.fromstring(etree.tostring(_defs()).replace(
        b"<win-def:noun>ReceiveConnector</win-def:noun>",
        b'<win-def:noun var_ref="' + VAR.encode() + b'"/>'))
    sc = etree.fromstring(syschar_doc(
        [f'<object id="{OBJ}" version="1" flag="complete" variable_instance="1">'
         f'<variable_value variable_id="{VAR}">^Tls$</variable_value>'
         '<reference item_ref="1"/></object>',
         f'<object id="{OBJ}" version="1" flag="complete" variable_instance="2">'
         f'<variable_value variable_id="{VAR}">^None$</variable_value>'
         '<reference item_ref="2"/></object>'],
        [cmdlet_item(1, [connector("A", "Tls")]), cmdlet_item(2, [connector("B", "None")])]))
    for value in ("^Tls$", "^None$"):
        ev = evaluate(d, sc, {VAR: [value]})
        assert ev.definition_results[f"{P}:def:1"] == "true"
        assert ev.test_results[f"{P}:tst:1"].tested_items == \
            [("1" if value == "^Tls$" else "2", "true")]
