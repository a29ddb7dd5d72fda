"""OVAL 5.11.2 result algebra: operator, check and existence tables, negation.

Everything here is a pure function of counts. Results are the ResultEnumeration strings of the
OVAL results schema. The tables follow the OVAL Language Specification 5.11.2 (OperatorEnumeration,
CheckEnumeration and ExistenceEnumeration evaluation tables) and the oval-common-schema
documentation.
"""

from __future__ import annotations

from collections.abc import Iterable

TRUE = "true"
FALSE = "false"
UNKNOWN = "unknown"
ERROR = "error"
NOT_EVALUATED = "not evaluated"
NOT_APPLICABLE = "not applicable"

RESULTS = (TRUE, FALSE, UNKNOWN, ERROR, NOT_EVALUATED, NOT_APPLICABLE)

OPERATORS = ("AND", "ONE", "OR", "XOR")
CHECKS = ("all", "at least one", "none exist", "none satisfy", "only one")
EXISTENCES = ("all_exist", "any_exist", "at_least_one_exists", "none_exist", "only_one_exists")

# item / entity status values (StatusEnumeration)
EXISTS = "exists"
DOES_NOT_EXIST = "does not exist"
NOT_COLLECTED = "not collected"
STATUS_ERROR = "error"


class Counts:
    """How many of each result were seen (the columns of the specification's tables)."""

    __slots__ = ("true", "false", "error", "unknown", "not_evaluated", "not_applicable")

    def __init__(self) -> None:
        self.true = self.false = self.error = self.unknown = 0
        self.not_evaluated = self.not_applicable = 0

    @property
    def decided(self) -> int:
        """Arguments with a result of their own: true, false, error or unknown."""
        return self.true + self.false + self.error + self.unknown

    @property
    def total(self) -> int:
        return self.decided + self.not_evaluated + self.not_applicable

    def add(self, result: str) -> None:
        if result == TRUE:
            self.true += 1
        elif result == FALSE:
            self.false += 1
        elif result == ERROR:
            self.error += 1
        elif result == UNKNOWN:
            self.unknown += 1
        elif result == NOT_EVALUATED:
            self.not_evaluated += 1
        elif result == NOT_APPLICABLE:
            self.not_applicable += 1
        else:  # pragma: no cover - programming error
            raise ValueError(f"not an OVAL result: {result!r}")

    @classmethod
    def of(cls, results: Iterable[str]) -> "Counts":
        c = cls()
        for r in results:
            c.add(r)
        return c


def negate(result: str) -> str:
    """negate="true": true and false swap, every other result stays."""
    if result == TRUE:
        return FALSE
    if result == FALSE:
        return TRUE
    return result


def _all_na(c: Counts) -> bool:
    return c.decided == 0 and c.not_evaluated == 0


def operator_counts(operator: str, c: Counts) -> str:
    """OperatorEnumeration table. 'not applicable' arguments are ignored; all of them
    not applicable (or no argument) gives not applicable."""
    if _all_na(c):
        return NOT_APPLICABLE
    if operator == "AND":
        if c.false:
            return FALSE
        if c.error:
            return ERROR
        if c.unknown:
            return UNKNOWN
        if c.not_evaluated:
            return NOT_EVALUATED
        return TRUE
    if operator == "OR":
        if c.true:
            return TRUE
        if c.error:
            return ERROR
        if c.unknown:
            return UNKNOWN
        if c.not_evaluated:
            return NOT_EVALUATED
        return FALSE
    if operator == "ONE":
        if c.true >= 2:
            return FALSE
        if c.error:
            return ERROR
        if c.unknown:
            return UNKNOWN
        if c.not_evaluated:
            return NOT_EVALUATED
        return TRUE if c.true == 1 else FALSE
    if operator == "XOR":
        if c.error:
            return ERROR
        if c.unknown:
            return UNKNOWN
        if c.not_evaluated:
            return NOT_EVALUATED
        return TRUE if c.true % 2 == 1 else FALSE
    raise ValueError(f"unknown operator {operator!r}")


def check_counts(check: str, c: Counts) -> str:
    """CheckEnumeration table (used for test check, entity_check and var_check).

    'all' behaves like AND, 'at least one' like OR, 'only one' like ONE and 'none satisfy'
    like a negated OR. 'none exist' (deprecated) is treated like 'none satisfy' here; for a
    test's check the caller turns it into check_existence="none_exist" first.
    """
    if check == "all":
        return operator_counts("AND", c)
    if check == "at least one":
        return operator_counts("OR", c)
    if check == "only one":
        return operator_counts("ONE", c)
    if check in ("none satisfy", "none exist"):
        return negate(operator_counts("OR", c))
    raise ValueError(f"unknown check {check!r}")


def operator_result(operator: str, results: Iterable[str]) -> str:
    return operator_counts(operator, Counts.of(results))


def check_result(check: str, results: Iterable[str]) -> str:
    return check_counts(check, Counts.of(results))


def existence_result(check_existence: str, exists: int, does_not_exist: int, error: int,
                     not_collected: int) -> str:
    """ExistenceEnumeration table over item (or item entity) status counts."""
    ex, dne, er, nc = exists, does_not_exist, error, not_collected
    if check_existence == "all_exist":
        if dne:
            return FALSE
        if er:
            return ERROR
        if nc:
            return UNKNOWN
        return TRUE if ex else FALSE
    if check_existence == "any_exist":
        if er and not ex:
            return ERROR
        return TRUE
    if check_existence == "at_least_one_exists":
        if ex:
            return TRUE
        if er:
            return ERROR
        if nc:
            return UNKNOWN
        return FALSE
    if check_existence == "none_exist":
        if ex:
            return FALSE
        if er:
            return ERROR
        if nc:
            return UNKNOWN
        return TRUE
    if check_existence == "only_one_exists":
        if ex >= 2:
            return FALSE
        if er:
            return ERROR
        if nc:
            return UNKNOWN
        return TRUE if ex == 1 else FALSE
    raise ValueError(f"unknown check_existence {check_existence!r}")


_CHECK_OPERATOR = {"all": "AND", "at least one": "OR", "only one": "ONE"}


def culprits(kind: str, results: list[str], outcome: str) -> list[int]:
    """Which arguments of an operator (AND, OR, ONE, XOR) or check (all, at least one, only
    one, none satisfy) caused its `outcome`: the evidence to show for it.

    An argument is blamed when it belongs to some smallest set of arguments whose flip (true
    ↔ false) would turn the outcome over:
    - error, unknown, not evaluated: the arguments with that result;
    - AND/all false: the false ones; true: every (true) one;
    - OR/at least one false: every (false) one; true: the true ones;
    - none satisfy: OR with the outcome negated (false: the ones that DO satisfy);
    - ONE/only one false: the true ones when two or more are true, else every false one;
      true: every true and false one (flipping any breaks "exactly one");
    - XOR: every true and false one (each flips the parity).
    'not applicable' arguments are never blamed.
    """
    if kind in ("none satisfy", "none exist"):
        kind, outcome = "OR", negate(outcome)
    op = _CHECK_OPERATOR.get(kind, kind)
    if outcome not in (TRUE, FALSE):
        return [i for i, r in enumerate(results) if r == outcome]
    t = [i for i, r in enumerate(results) if r == TRUE]
    f = [i for i, r in enumerate(results) if r == FALSE]
    if op in ("AND", "OR"):
        return f if outcome == FALSE else t
    if op == "ONE":
        if outcome == FALSE:
            return t if len(t) >= 2 else f
        return sorted(t + f)
    if op == "XOR":
        return sorted(t + f)
    raise ValueError(f"unknown operator or check {kind!r}")
