"""Evidence names exactly the objects that cause a result (issue: for "no object may satisfy X"
checks the compliant objects were blamed and the offender was not).

For every check_existence × check × state_operator shape, under plain, negated-criterion and
negated-criteria definitions, and for every scenario of up to three items (each one existing
and satisfying / not satisfying the test's states, or not existing), the items that the
engine's evidence names are compared with an expectation computed here from first principles:

    an item is to blame for a finding (definition 'false') when it belongs to some smallest
    set of items whose change would turn over the stage of the test that decided it: when
    existence decides (check_existence), removing existing items so that the existence
    result changes; when the check decides, flipping items' verdicts so that the definition
    becomes 'true'.

The same rule, one level down, gives the states to blame inside an item (state_operator),
the records inside an item (entity_check over a cmdlet's records, as the STIG content uses)
and the tests inside a criteria tree (operators and negate). The results the rule is applied
to come from the OVAL result algebra (oval.logic, itself checked against the specification's
tables in test_oval_algebra_tables); the engine's own results are checked against the same
model first, so the expectation describes the documents the engine evaluated.
"""

from __future__ import annotations

import itertools

import pytest
from lxml import etree

from tests.oval.ovalcases_builder import (F, P, State, Test, cmdlet_item, cmdlet_object, collected,
                               criteria, criterion, definition, definitions_doc, syschar_doc)
from stigscap.evaluator.oval.engine import evaluate
from stigscap.evaluator.oval.logic import check_result, existence_result, negate, operator_result
from stigscap.evaluator.oval.values import Check, Existence, Operator

SELECT = ("Name", "A", "B")
STATE_A, STATE_B = f"{P}:ste:1", f"{P}:ste:2"
TF = {True: "true", False: "false"}
OPERATORS, EXISTENCES = tuple(Operator), tuple(Existence)
EXTRA_CHECKS = tuple(Check)  # includes the deprecated "none exist"


def minimal_fix_union(candidates: list, fixes) -> set:
    """Union of the inclusion-minimal subsets S of `candidates` with fixes(S) true."""
    fixing: list[frozenset] = []
    for size in range(1, len(candidates) + 1):
        for combo in itertools.combinations(candidates, size):
            s = frozenset(combo)
            if any(f <= s for f in fixing):
                continue        # a smaller fixing set is inside: not minimal
            if fixes(s):
                fixing.append(s)
    return set().union(*fixing) if fixing else set()


# ------------------------------------------------------------------------------ the model
def item_verdict(state_op: str, vec: tuple[bool, bool]) -> str:
    return operator_result(state_op, [TF[v] for v in vec])


def model_test_result(ce: str, check: str, state_op: str, items: list) -> tuple[str, bool]:
    """(test result, decided by the existence stage) for items = None (does not exist) or a
    (satisfies A, satisfies B) vector."""
    if check == "none exist":
        ce, check = "none_exist", "none satisfy"
    ce = "at_least_one_exists" if ce == "all_exist" else ce
    existing = [v for v in items if v is not None]
    e = existence_result(ce, len(existing), len(items) - len(existing), 0, 0)
    if e != "true" or not existing:
        return e, True
    return check_result(check, [item_verdict(state_op, v) for v in existing]), False


def definition_value(test_result: str, negation: str) -> str:
    return negate(test_result) if negation != "plain" else test_result


VECTORS = {  # (satisfies A, satisfies B) vectors giving each item verdict, cycled for variety
    ("AND", True): [(True, True)], ("AND", False): [(True, False), (False, True), (False, False)],
    ("OR", True): [(True, False), (False, True), (True, True)], ("OR", False): [(False, False)],
    ("ONE", True): [(True, False), (False, True)], ("ONE", False): [(False, False), (True, True)],
    ("XOR", True): [(True, False), (False, True)], ("XOR", False): [(False, False), (True, True)],
}


def expected_items(ce, check, state_op, negation, items) -> set[int]:
    result, by_existence = model_test_result(ce, check, state_op, items)
    existing = [k for k, v in enumerate(items) if v is not None]

    def cleared(new_items) -> bool:
        return definition_value(model_test_result(ce, check, state_op, new_items)[0], negation) == "true"

    if by_existence:
        # existence decided the test: the items to blame are those whose removal would turn
        # the existence stage over (what a check over them would give is another question)
        def existence(new_items):
            return model_test_result(ce, check, state_op, new_items)
        return minimal_fix_union(existing, lambda s: existence(
            [None if k in s else v for k, v in enumerate(items)]) != (result, True))

    def flipped(vec):  # the same item with the opposite verdict
        want = item_verdict(state_op, vec) != "true"
        return VECTORS[(state_op, want)][0]
    return minimal_fix_union(existing, lambda s: cleared(
        [flipped(v) if k in s else v for k, v in enumerate(items)]))


def expected_states(state_op: str, vec: tuple[bool, bool]) -> set[int]:
    before = item_verdict(state_op, vec)
    return minimal_fix_union([0, 1], lambda s: item_verdict(
        state_op, tuple((not x) if k in s else x for k, x in enumerate(vec))) != before)


# ------------------------------------------------------------------------------ documents
NEGATIONS = ("plain", "criterion", "criteria")


def _scenarios():
    options = [None, True, False]   # does not exist / satisfies the states / does not
    for n in range(0, 4):
        yield from itertools.product(options, repeat=n)


def _shape_docs():
    """One definitions + syschar document pair holding every shape × scenario."""
    defs, tests, objects, items_xml, coll = [], [], [], [], []
    cases = []
    item_no = 0
    shapes = list(itertools.product(EXISTENCES, EXTRA_CHECKS, OPERATORS))
    n = 0
    for ce, check, state_op in shapes:
        for scen in _scenarios():
            n += 1
            obj, tst = f"{P}:obj:{n}", f"{P}:tst:{n}"
            objects.append(cmdlet_object(obj, select=SELECT))
            tests.append(Test(tst, obj, [STATE_A, STATE_B], check=check, check_existence=ce,
                              state_operator=state_op).xml())
            ids, items = [], []
            for k, verdict in enumerate(scen):
                item_no += 1
                ids.append(item_no)
                if verdict is None:
                    items.append(None)
                    items_xml.append(cmdlet_item(item_no, [], status="does not exist",
                                                 select=SELECT))
                    continue
                options = VECTORS[(state_op, verdict)]
                vec = options[(n + k) % len(options)]
                items.append(vec)
                rec = [("name", f"I{item_no}"), ("a", "yes" if vec[0] else "no"),
                       ("b", "yes" if vec[1] else "no")]
                items_xml.append(cmdlet_item(item_no, [rec], select=SELECT))
            coll.append(collected(obj, "complete", ids))
            for negation in NEGATIONS:
                def_id = f"{P}:def:{n * 10 + NEGATIONS.index(negation)}"
                crit = {"plain": criteria("AND", criterion(tst)),
                        "criterion": criteria("AND", criterion(tst, negate=True)),
                        "criteria": criteria("AND", criterion(tst), negate=True)}[negation]
                defs.append(definition(def_id, crit))
                cases.append((def_id, tst, ce, check, state_op, negation, items, ids))
    states = [State(STATE_A, [F("a", "yes")]).xml(), State(STATE_B, [F("b", "yes")]).xml()]
    d = etree.fromstring(definitions_doc(defs, tests, objects, states))
    s = etree.fromstring(syschar_doc(coll, items_xml))
    return evaluate(d, s), cases


@pytest.fixture(scope="module")
def shapes():
    return _shape_docs()


def test_every_shape_blames_exactly_the_causing_items(shapes):
    ev, cases = shapes
    covered = set()
    findings = 0
    for def_id, tst, ce, check, state_op, negation, items, ids in cases:
        expected_result = definition_value(model_test_result(ce, check, state_op, items)[0], negation)
        got = ev.definition_results[def_id]
        assert got == expected_result, (def_id, ce, check, state_op, negation, items)
        if got != "false":
            continue
        findings += 1
        covered.add((ce, check, state_op, negation))
        evidence = ev.evidence(def_id)
        assert [t.test_id for t in evidence] == [tst]
        blamed = {ids.index(int(i.item_id)) for i in evidence[0].items}
        want = expected_items(ce, check, state_op, negation, items)
        where = (ce, check, state_op, negation, items)
        assert blamed == want, where
        for item in evidence[0].items:
            vec = items[ids.index(int(item.item_id))]
            if item.reason:    # blamed for existing (check_existence)
                assert item.records and not any(r.failures for r in item.records), where
                continue
            states = {f.state_id for r in item.records for f in r.failures}
            assert states == {(STATE_A, STATE_B)[k] for k in expected_states(state_op, vec)}, \
                (where, vec)
            # each decisive comparison's result is the one the model gives
            for r in item.records:
                for f in r.failures:
                    sat = vec[0] if f.field == "a" else vec[1]
                    assert f.result == TF[sat] and f.actual == ["yes" if sat else "no"]
    # every shape produced findings under some negation (the table is not vacuous)
    assert {(c[0], c[1], c[2]) for c in covered} == set(itertools.product(
        EXISTENCES, EXTRA_CHECKS, OPERATORS))
    assert findings > 3000


# ------------------------------------------------------------------------------ records
RECORD_CHECKS = ("all", "at least one", "only one", "none satisfy")


def test_records_inside_one_item_are_blamed_by_entity_check():
    """A cmdlet returns one item with a record per object (connector): entity_check on the
    state's record entity decides, and the blamed records are what the user sees."""
    defs, tests, objects, states, items_xml, coll, cases = [], [], [], [], [], [], []
    n = 0
    for ec in RECORD_CHECKS:
        for recs in itertools.chain.from_iterable(
                itertools.product([(True, True), (True, False), (False, True), (False, False)],
                                  repeat=k) for k in range(1, 4)):
            n += 1
            obj, tst, ste, def_id = f"{P}:obj:{n}", f"{P}:tst:{n}", f"{P}:ste:{n}", f"{P}:def:{n}"
            objects.append(cmdlet_object(obj, select=SELECT))
            states.append(State(ste, [F("a", "yes"), F("b", "yes")], entity_check=ec).xml())
            tests.append(Test(tst, obj, [ste]).xml())
            defs.append(definition(def_id, criteria("AND", criterion(tst))))
            items_xml.append(cmdlet_item(n, [[("name", f"R{k}"), ("a", "yes" if a else "no"),
                                              ("b", "yes" if b else "no")]
                                             for k, (a, b) in enumerate(recs)], select=SELECT))
            coll.append(collected(obj, "complete", [n]))
            cases.append((def_id, ec, recs))
    ev = evaluate(etree.fromstring(definitions_doc(defs, tests, objects, states)),
                  etree.fromstring(syschar_doc(coll, items_xml)))

    def value(ec, recs):
        return check_result(ec, [TF[a and b] for a, b in recs])

    findings = 0
    for def_id, ec, recs in cases:
        assert ev.definition_results[def_id] == value(ec, recs)
        if value(ec, recs) != "false":
            continue
        findings += 1
        (test,) = ev.evidence(def_id)
        (item,) = test.items
        blamed = {int(r.fields["name"][1:]) for r in item.records}

        def flip(rec):
            return (False, False) if rec[0] and rec[1] else (True, True)
        want = minimal_fix_union(list(range(len(recs))), lambda s: value(
            ec, [flip(r) if k in s else r for k, r in enumerate(recs)]) == "true")
        assert blamed == want, (ec, recs)
        for r in item.records:
            a, b = recs[int(r.fields["name"][1:])]
            # inside a record (fields are ANDed): the fields that decide its verdict
            fields = {f.field for f in r.failures}
            want_fields = {"a", "b"} if a and b else {x for x, v in (("a", a), ("b", b)) if not v}
            assert fields == want_fields, (ec, recs, r.fields)
    assert findings > 50


# ------------------------------------------------------------------------------ criteria
def test_tests_blamed_through_criteria_operators_and_negate():
    """Definitions over criteria trees (AND/OR/ONE/XOR, negate on criteria and criterion):
    the tests named are those in some smallest set whose flip clears the finding."""
    objects = [cmdlet_object(f"{P}:obj:1", select=SELECT), cmdlet_object(f"{P}:obj:2",
                                                                          select=SELECT)]
    items = [cmdlet_item(1, [[("name", "T"), ("a", "yes"), ("b", "yes")]], select=SELECT),
             cmdlet_item(2, [[("name", "F"), ("a", "no"), ("b", "no")]], select=SELECT)]
    coll = [collected(f"{P}:obj:1", "complete", [1]), collected(f"{P}:obj:2", "complete", [2])]
    states = [State(STATE_A, [F("a", "yes")]).xml()]
    tests = [Test(f"{P}:tst:{k}", f"{P}:obj:{2 - (k % 2)}", [STATE_A]).xml()
             for k in range(1, 7)]          # odd tests true, even tests false
    defs, cases = [], []
    n = 0
    for op in OPERATORS:
        for k in range(1, 4):
            for values in itertools.product([True, False], repeat=k):
                for negs in itertools.product([False, True], repeat=k):
                    for outer in (False, True):
                        n += 1
                        refs = [f"{P}:tst:{2 * j + (1 if v else 2)}" for j, v in enumerate(values)]
                        crit = criteria(op, *(criterion(r, negate=g) for r, g in zip(refs, negs)),
                                        negate=outer)
                        defs.append(definition(f"{P}:def:{n}", crit))
                        cases.append((f"{P}:def:{n}", op, values, negs, outer, refs))
    ev = evaluate(etree.fromstring(definitions_doc(defs, tests, objects, states)),
                  etree.fromstring(syschar_doc(coll, items)))

    def value(op, values, negs, outer):
        r = operator_result(op, [TF[v != g] for v, g in zip(values, negs)])
        return negate(r) if outer else r

    findings = 0
    for def_id, op, values, negs, outer, refs in cases:
        assert ev.definition_results[def_id] == value(op, values, negs, outer)
        if value(op, values, negs, outer) != "false":
            continue
        findings += 1
        blamed = {t.test_id for t in ev.evidence(def_id)}
        want = minimal_fix_union(list(range(len(values))), lambda s: value(
            op, [(not v) if j in s else v for j, v in enumerate(values)], negs, outer) == "true")
        assert blamed == {refs[j] for j in want}, (op, values, negs, outer)
    assert findings > 100


def test_error_and_unknown_items_are_blamed_for_error_and_unknown():
    objects = [cmdlet_object(f"{P}:obj:1", select=SELECT)]
    items = [cmdlet_item(1, [[("name", "ok"), ("a", "yes"), ("b", "yes")]], select=SELECT),
             cmdlet_item(2, [], status="error", message="access denied", select=SELECT),
             cmdlet_item(3, [[("name", "bad"), ("a", "no"), ("b", "no")]], select=SELECT)]
    states = [State(STATE_A, [F("a", "yes")]).xml()]
    for check, result, blamed in (("all", "false", {"3"}), ("at least one", "true", set()),
                                  ("only one", "error", {"2"}), ("none satisfy", "false", {"1"})):
        d = definitions_doc([definition(f"{P}:def:1", criteria("AND", criterion(f"{P}:tst:1")))],
                            [Test(f"{P}:tst:1", f"{P}:obj:1", [STATE_A], check=check).xml()],
                            objects, states)
        ev = evaluate(etree.fromstring(d), etree.fromstring(syschar_doc(
            [collected(f"{P}:obj:1", "complete", [1, 2, 3])], items)))
        assert ev.definition_results[f"{P}:def:1"] == result, check
        if result == "true":
            continue
        (test,) = ev.evidence(f"{P}:def:1")
        assert {i.item_id for i in test.items} == blamed, check
        if result == "error":
            assert test.items[0].messages == ["access denied"]
