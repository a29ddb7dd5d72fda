"""The OVAL 5.11.2 result algebra against the specification's tables, written here as rows of
count ranges (the form the OVAL Language Specification uses), independently of the if-chains
in evaluator/oval/logic.py. For every combination of counts exactly one row must match, and
its result must be ours."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stigscap.evaluator.oval.logic import (Counts, check_counts, existence_result, negate,
                                           operator_counts)

# a row cell: "0", "1", "1+", "0+", "2+", "0|1", "odd", "even"


def _ok(cell: str, n: int) -> bool:
    return {"0": n == 0, "1": n == 1, "1+": n >= 1, "0+": True, "2+": n >= 2,
            "0|1": n <= 1, "odd": n % 2 == 1, "even": n % 2 == 0}[cell]


# (T, F, E, U, NE, NA) rows
AND = [("true", "1+ 0 0 0 0 0+"), ("false", "0+ 1+ 0+ 0+ 0+ 0+"), ("error", "0+ 0 1+ 0+ 0+ 0+"),
       ("unknown", "0+ 0 0 1+ 0+ 0+"), ("not evaluated", "0+ 0 0 0 1+ 0+"),
       ("not applicable", "0 0 0 0 0 1+")]
OR = [("true", "1+ 0+ 0+ 0+ 0+ 0+"), ("false", "0 1+ 0 0 0 0+"), ("error", "0 0+ 1+ 0+ 0+ 0+"),
      ("unknown", "0 0+ 0 1+ 0+ 0+"), ("not evaluated", "0 0+ 0 0 1+ 0+"),
      ("not applicable", "0 0 0 0 0 1+")]
ONE = [("true", "1 0+ 0 0 0 0+"), ("false", "2+ 0+ 0+ 0+ 0+ 0+"), ("false", "0 1+ 0 0 0 0+"),
       ("error", "0|1 0+ 1+ 0+ 0+ 0+"), ("unknown", "0|1 0+ 0 1+ 0+ 0+"),
       ("not evaluated", "0|1 0+ 0 0 1+ 0+"), ("not applicable", "0 0 0 0 0 1+")]
XOR = [("true", "odd 0+ 0 0 0 0+"), ("false", "even 0+ 0 0 0 0+ T+F>0"),
       ("error", "0+ 0+ 1+ 0+ 0+ 0+"), ("unknown", "0+ 0+ 0 1+ 0+ 0+"),
       ("not evaluated", "0+ 0+ 0 0 1+ 0+"), ("not applicable", "0 0 0 0 0 1+")]
NONE_SATISFY = [("true", "0 1+ 0 0 0 0+"), ("false", "1+ 0+ 0+ 0+ 0+ 0+"),
                ("error", "0 0+ 1+ 0+ 0+ 0+"), ("unknown", "0 0+ 0 1+ 0+ 0+"),
                ("not evaluated", "0 0+ 0 0 1+ 0+"), ("not applicable", "0 0 0 0 0 1+")]
OPERATOR_TABLES = {"AND": AND, "OR": OR, "ONE": ONE, "XOR": XOR}
CHECK_TABLES = {"all": AND, "at least one": OR, "only one": ONE, "none satisfy": NONE_SATISFY}

# (EX, DNE, ER, NC) rows
EXISTENCE_TABLES = {
    "all_exist": [("true", "1+ 0 0 0"), ("false", "0+ 1+ 0+ 0+"), ("false", "0 0 0 0"),
                  ("error", "0+ 0 1+ 0+"), ("unknown", "0+ 0 0 1+")],
    "any_exist": [("true", "0+ 0+ 0 0+"), ("true", "1+ 0+ 1+ 0+"), ("error", "0 0+ 1+ 0+")],
    "at_least_one_exists": [("true", "1+ 0+ 0+ 0+"), ("false", "0 1+ 0 0"),
                            ("false", "0 0 0 0"), ("error", "0 0+ 1+ 0+"),
                            ("unknown", "0 0+ 0 1+")],
    "none_exist": [("true", "0 0+ 0 0"), ("false", "1+ 0+ 0+ 0+"), ("error", "0 0+ 1+ 0+"),
                   ("unknown", "0 0+ 0 1+")],
    "only_one_exists": [("true", "1 0+ 0 0"), ("false", "2+ 0+ 0+ 0+"), ("false", "0 0+ 0 0"),
                        ("error", "0|1 0+ 1+ 0+"), ("unknown", "0|1 0+ 0 1+")],
}


def _rows_matching(table, counts):
    out = []
    for result, spec in table:
        cells = spec.split()
        extra = [c for c in cells if not c[0].isdigit() and c not in ("odd", "even")]
        cells = [c for c in cells if c not in extra]
        if all(_ok(c, n) for c, n in zip(cells, counts)):
            if "T+F>0" in extra and counts[0] + counts[1] == 0:
                continue
            out.append(result)
    return out


def _counts(t, f, e, u, ne, na):
    c = Counts()
    for r, n in zip(("true", "false", "error", "unknown", "not evaluated", "not applicable"),
                    (t, f, e, u, ne, na)):
        for _ in range(n):
            c.add(r)
    return c


SIX = list(itertools.product(range(3), repeat=6))


@pytest.mark.parametrize("op", list(OPERATOR_TABLES))
def test_operator_table_exhaustive(op):
    for counts in SIX:
        if sum(counts) == 0:
            continue
        rows = set(_rows_matching(OPERATOR_TABLES[op], counts))
        assert len(rows) == 1, (op, counts, rows)
        assert operator_counts(op, _counts(*counts)) == rows.pop(), (op, counts)


@pytest.mark.parametrize("check", list(CHECK_TABLES))
def test_check_table_exhaustive(check):
    for counts in SIX:
        if sum(counts) == 0:
            continue
        rows = set(_rows_matching(CHECK_TABLES[check], counts))
        assert len(rows) == 1, (check, counts, rows)
        assert check_counts(check, _counts(*counts)) == rows.pop(), (check, counts)


@pytest.mark.parametrize("existence", list(EXISTENCE_TABLES))
def test_existence_table_exhaustive(existence):
    for counts in itertools.product(range(4), repeat=4):
        rows = set(_rows_matching(EXISTENCE_TABLES[existence], counts))
        assert len(rows) == 1, (existence, counts, rows)
        assert existence_result(existence, *counts) == rows.pop(), (existence, counts)


@given(st.lists(st.sampled_from(["true", "false", "error", "unknown", "not evaluated",
                                 "not applicable"]), min_size=1, max_size=12))
def test_negation_laws(results):
    c = Counts.of(results)
    # none satisfy is the negation of at least one; negation is an involution
    assert check_counts("none satisfy", c) == negate(check_counts("at least one", c))
    for r in set(results):
        assert negate(negate(r)) == r
    # AND over negated arguments is the negation of OR (De Morgan holds in the OVAL algebra)
    assert operator_counts("AND", Counts.of(negate(r) for r in results)) == \
        negate(operator_counts("OR", c))


def test_counts_have_readable_names():
    """Counts reads as the tables' columns (no one-letter fields): one field per result."""
    c = Counts.of(["true", "true", "false", "error", "unknown", "unknown", "unknown",
                   "not evaluated", "not applicable", "not applicable"])
    assert (c.true, c.false, c.error, c.unknown, c.not_evaluated, c.not_applicable) == \
        (2, 1, 1, 3, 1, 2)
    assert (c.decided, c.total) == (7, 10)
    assert all(len(name) > 2 for name in Counts.__slots__)
