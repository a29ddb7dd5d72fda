"""An item that collected_objects names for an object, but whose own identifying entities say
it is something else (another cmdlet's output, another module, a narrower select, parameters
the object does not pass, another kind of item), is an error for every test of that object,
with the object, the item and the entity named. It is never compared with a state: that is
how a system-characteristics file could turn a finding into a pass. Both evaluation paths
(the whole tree and item by item) give the same verdicts, messages and evidence."""

from __future__ import annotations

import pytest

from stigscap.evaluator.oval.values import OvalResult
from tests.oval.ovalcases_builder import (State, Test, F, cmdlet_item, cmdlet_object, collected,
                                          connector, criteria, criterion, definition, definitions_doc,
                                          syschar_doc)
from tests.oval.test_oval_streaming import _indented, _same_evaluation, _stream, _tree

OBJ, TST, STE, DEF = ("oval:x:obj:1", "oval:x:tst:1", "oval:x:ste:1", "oval:x:def:1")
SNAPIN = "Microsoft.Exchange.Management.PowerShell.SnapIn"

# every connector requires TLS: the test is true when the item is taken at its word
DEFS = definitions_doc([definition(DEF, criteria("AND", criterion(TST)))],
                       [Test(TST, OBJ, [STE]).xml()], [cmdlet_object(OBJ)],
                       [State(STE, [F("authmechanism", "Tls")]).xml()])
GOOD = cmdlet_item(1, [connector("Default internal", "Tls"), connector("Partner", "Tls")])


def _sc(item: str) -> bytes:
    return _indented(syschar_doc([collected(OBJ, "complete", [1])], [item]))


def _replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


CONTRADICTIONS = {
    # Get-SendConnector's output filed under Get-ReceiveConnector
    "noun": (_replace("<win-sc:noun>ReceiveConnector<", "<win-sc:noun>SendConnector<"),
             "its noun is 'SendConnector', the object's is 'ReceiveConnector'"),
    "module": (_replace(f">{SNAPIN}<", ">Contoso.Tools<"),
               f"its module_name is 'Contoso.Tools', the object's is '{SNAPIN}'"),
    "verb": (_replace("<win-sc:verb>Get<", "<win-sc:verb>Set<"),
             "its verb is 'Set', the object's is 'Get'"),
    # collected without the property the state judges
    "select narrower": (
        _replace('<field name="authmechanism" datatype="string">AuthMechanism</field></win-sc:select>',
                 "</win-sc:select>"),
        "its select is {name=Name, identity=Identity}, the object's is "
        "{name=Name, identity=Identity, authmechanism=AuthMechanism}"),
    # Get-ReceiveConnector -Identity <one compliant connector>: the object asks for all of them
    "parameters": (
        _replace('<win-sc:parameters datatype="record" xsi:nil="true"/>',
                 '<win-sc:parameters datatype="record"><field name="identity" datatype="string">'
                 "EDGE01\\Partner</field></win-sc:parameters>"),
        "its parameters holds identity, the object's parameters is nil (none)"),
    "kind": (GOOD.replace("win-sc:cmdlet_item", "win-sc:wmi57_item"),
             "it is a wmi57_item, not a cmdlet_item"),
}


def _evidence_text(ev) -> str:
    return repr(ev.evidence(DEF))


@pytest.mark.parametrize("case", sorted(CONTRADICTIONS))
def test_a_contradicting_item_is_an_error_never_a_compared_value(tmp_path, case):
    item, why = CONTRADICTIONS[case]
    expected = f"item 1 is not an item of object {OBJ}: {why}"
    tree, _doc, _text = _tree(DEFS, _sc(item), {})
    streamed, _doc2, _text2, _ = _stream(tmp_path, DEFS, _sc(item), {})
    for ev in (tree, streamed):
        assert ev.definition_results[DEF] == OvalResult.ERROR
        tr = ev.test_results[TST]
        assert tr.result == OvalResult.ERROR
        assert tr.tested_items == [("1", OvalResult.ERROR)]
        assert expected in tr.messages
        assert expected in _evidence_text(ev)
    _same_evaluation(tree, streamed)


def test_the_same_item_as_the_object_asks_for_is_judged(tmp_path):
    """The control: the unchanged item passes, and a connector without TLS fails, with no
    contradiction reported."""
    bad = cmdlet_item(1, [connector("Default internal", "Tls"), connector("Relay", "None")])
    for item, want in ((GOOD, OvalResult.TRUE), (bad, OvalResult.FALSE)):
        tree, _doc, _text = _tree(DEFS, _sc(item), {})
        streamed, _doc2, _text2, _ = _stream(tmp_path, DEFS, _sc(item), {})
        for ev in (tree, streamed):
            assert ev.definition_results[DEF] == want
            assert not any("is not an item of object" in m for m in ev.test_results[TST].messages)
        _same_evaluation(tree, streamed)


@pytest.mark.parametrize("item", [
    # an item that leaves an identifying entity out states nothing against the object
    _replace('<win-sc:parameters datatype="record" xsi:nil="true"/><win-sc:select datatype="record">'
             '<field name="name" datatype="string">Name</field><field name="identity" '
             'datatype="string">Identity</field><field name="authmechanism" datatype="string">'
             "AuthMechanism</field></win-sc:select>", ""),
    # nor does one that states it as nil
    _replace(f"<win-sc:module_name>{SNAPIN}</win-sc:module_name>",
             '<win-sc:module_name xsi:nil="true"/>'),
    # a select that names more than the object's still answers the object
    _replace("</win-sc:select>", '<field name="enabled" datatype="string">Enabled</field>'
                                 "</win-sc:select>"),
], ids=["select and parameters left out", "module nil", "select wider"])
def test_what_the_item_does_not_state_against_the_object_is_not_a_contradiction(tmp_path, item):
    tree, _doc, _text = _tree(DEFS, _sc(item), {})
    streamed, _doc2, _text2, _ = _stream(tmp_path, DEFS, _sc(item), {})
    for ev in (tree, streamed):
        assert ev.definition_results[DEF] == OvalResult.TRUE
    _same_evaluation(tree, streamed)


def test_one_contradicting_item_among_good_ones_keeps_the_test_from_passing(tmp_path):
    """Two items for the object: the consistent one has only compliant connectors; the other is
    Get-SendConnector's output. The test is error (at least one error among true items), not
    true, and only the contradicting item is blamed."""
    other = cmdlet_item(2, [connector("Outbound", "None")], noun="SendConnector",
                        select=("Name", "Identity", "AuthMechanism"))
    sc = _indented(syschar_doc([collected(OBJ, "complete", [1, 2])], [GOOD, other]))
    tree, _doc, _text = _tree(DEFS, sc, {})
    streamed, _doc2, _text2, _ = _stream(tmp_path, DEFS, sc, {})
    for ev in (tree, streamed):
        tr = ev.test_results[TST]
        assert tr.result == OvalResult.ERROR
        assert tr.tested_items == [("1", OvalResult.TRUE), ("2", OvalResult.ERROR)]
        blamed = [i.item_id for t in ev.evidence(DEF) for i in t.items]
        assert blamed == ["2"]
    _same_evaluation(tree, streamed)


def test_without_collected_objects_the_search_passes_over_an_item_of_another_query():
    """No collected_objects: the engine searches system_data for the object's items. An item
    collected with parameters the object does not pass (here Get-ReceiveConnector -Identity
    Relay) is not one of them; the parameterless item alone decides."""
    relay = cmdlet_item(2, [connector("Relay", "None")]).replace(
        '<win-sc:parameters datatype="record" xsi:nil="true"/>',
        '<win-sc:parameters datatype="record"><field name="identity" datatype="string">'
        "EDGE01\\Relay</field></win-sc:parameters>")
    tree, _doc, _text = _tree(DEFS, syschar_doc([], [GOOD, relay]), {})
    assert tree.test_results[TST].tested_items == [("1", OvalResult.TRUE)]
    assert tree.definition_results[DEF] == OvalResult.TRUE


def test_a_variable_read_from_a_contradicting_item_is_an_error(tmp_path):
    """A local_variable's object_component reads object 2's items: when object 2's item is
    Get-SendConnector's output, the variable has no values but an error naming it, and the
    test that compares with it is error, whole tree or item by item."""
    obj2, var = "oval:x:obj:2", "oval:x:var:1"
    comp = f'<object_component object_ref="{obj2}" item_field="value" record_field="authmechanism"/>'
    defs = definitions_doc(
        [definition(DEF, criteria("AND", criterion(TST)))],
        [Test(TST, OBJ, [STE]).xml()], [cmdlet_object(OBJ), cmdlet_object(obj2)],
        [State(STE, [F("authmechanism", None, var_ref=var, var_check="at least one")]).xml()],
        [f'<local_variable id="{var}" version="1" datatype="string" comment="v">{comp}'
         "</local_variable>"])
    for noun, want in (("ReceiveConnector", OvalResult.TRUE), ("SendConnector", OvalResult.ERROR)):
        source = cmdlet_item(2, [connector("Template", "Tls")]).replace(
            "<win-sc:noun>ReceiveConnector<", f"<win-sc:noun>{noun}<")
        sc = _indented(syschar_doc([collected(OBJ, "complete", [1]), collected(obj2, "complete", [2])],
                                   [GOOD, source]))
        tree, _doc, _text = _tree(defs, sc, {})
        streamed, _doc2, _text2, _ = _stream(tmp_path, defs, sc, {})
        for ev in (tree, streamed):
            assert ev.definition_results[DEF] == want, noun
            values, error = ev.variable_values(var)
            if want == OvalResult.ERROR:
                assert values == []
                assert error == (f"object_component: item 2 is not an item of object {obj2}: its "
                                 "noun is 'SendConnector', the object's is 'ReceiveConnector'")
            else:
                assert (values, error) == (["Tls"], None)
        _same_evaluation(tree, streamed)
