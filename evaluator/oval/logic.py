"""OVAL 5.11.2 result algebra: operator, check and existence tables, negation.

Everything here is a pure function of counts. Results are `OvalResult` members (the
ResultEnumeration strings of the OVAL results schema). The tables follow the OVAL Language
Specification 5.11.2 (OperatorEnumeration, CheckEnumeration and ExistenceEnumeration
evaluation tables) and the oval-common-schema documentation. Operator, check and existence
arguments are the attribute strings of a document (`Operator`, `Check`, `Existence` members or
plain strings equal to them); one the schema does not allow raises ValueError.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import overload

from .values import Check, Existence, OvalResult, Operator

# Members read once for Counts.add (called per item, entity and record): on Python 3.11 each
# read of a member off its Enum class goes through EnumType.__getattr__ (~70 ns).
_TRUE, _FALSE, _ERROR, _UNKNOWN = (OvalResult.TRUE, OvalResult.FALSE, OvalResult.ERROR,
                                   OvalResult.UNKNOWN)
_NOT_EVALUATED, _NOT_APPLICABLE = OvalResult.NOT_EVALUATED, OvalResult.NOT_APPLICABLE


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
        if result == _TRUE:
            self.true += 1
        elif result == _FALSE:
            self.false += 1
        elif result == _ERROR:
            self.error += 1
        elif result == _UNKNOWN:
            self.unknown += 1
        elif result == _NOT_EVALUATED:
            self.not_evaluated += 1
        elif result == _NOT_APPLICABLE:
            self.not_applicable += 1
        else:  # pragma: no cover - programming error
            raise ValueError(f"not an OVAL result: {result!r}")

    @classmethod
    def of(cls, results: Iterable[str]) -> Counts:
        c = cls()
        for r in results:
            c.add(r)
        return c


@overload
def negate(result: OvalResult) -> OvalResult: ...
@overload
def negate(result: str) -> str: ...


def negate(result: str) -> str:
    """negate="true": true and false swap, every other result stays."""
    if result == OvalResult.TRUE:
        return OvalResult.FALSE
    if result == OvalResult.FALSE:
        return OvalResult.TRUE
    return result


def _all_na(c: Counts) -> bool:
    return c.decided == 0 and c.not_evaluated == 0


def operator_counts(operator: str, c: Counts) -> OvalResult:
    """OperatorEnumeration table. 'not applicable' arguments are ignored; all of them
    not applicable (or no argument) gives not applicable."""
    if _all_na(c):
        return OvalResult.NOT_APPLICABLE
    if operator == Operator.AND:
        if c.false:
            return OvalResult.FALSE
        if c.error:
            return OvalResult.ERROR
        if c.unknown:
            return OvalResult.UNKNOWN
        if c.not_evaluated:
            return OvalResult.NOT_EVALUATED
        return OvalResult.TRUE
    if operator == Operator.OR:
        if c.true:
            return OvalResult.TRUE
        if c.error:
            return OvalResult.ERROR
        if c.unknown:
            return OvalResult.UNKNOWN
        if c.not_evaluated:
            return OvalResult.NOT_EVALUATED
        return OvalResult.FALSE
    if operator == Operator.ONE:
        if c.true >= 2:
            return OvalResult.FALSE
        if c.error:
            return OvalResult.ERROR
        if c.unknown:
            return OvalResult.UNKNOWN
        if c.not_evaluated:
            return OvalResult.NOT_EVALUATED
        return OvalResult.TRUE if c.true == 1 else OvalResult.FALSE
    if operator == Operator.XOR:
        if c.error:
            return OvalResult.ERROR
        if c.unknown:
            return OvalResult.UNKNOWN
        if c.not_evaluated:
            return OvalResult.NOT_EVALUATED
        return OvalResult.TRUE if c.true % 2 == 1 else OvalResult.FALSE
    raise ValueError(f"unknown operator {operator!r}")


def check_counts(check: str, c: Counts) -> OvalResult:
    """CheckEnumeration table (used for test check, entity_check and var_check).

    'all' behaves like AND, 'at least one' like OR, 'only one' like ONE and 'none satisfy'
    like a negated OR. 'none exist' (deprecated) is treated like 'none satisfy' here; for a
    test's check the caller turns it into check_existence="none_exist" first.
    """
    if check == Check.ALL:
        return operator_counts(Operator.AND, c)
    if check == Check.AT_LEAST_ONE:
        return operator_counts(Operator.OR, c)
    if check == Check.ONLY_ONE:
        return operator_counts(Operator.ONE, c)
    if check in (Check.NONE_SATISFY, Check.NONE_EXIST):
        return negate(operator_counts(Operator.OR, c))
    raise ValueError(f"unknown check {check!r}")


def operator_result(operator: str, results: Iterable[str]) -> OvalResult:
    return operator_counts(operator, Counts.of(results))


def check_result(check: str, results: Iterable[str]) -> OvalResult:
    return check_counts(check, Counts.of(results))


def existence_result(check_existence: str, exists: int, does_not_exist: int, error: int,
                     not_collected: int) -> OvalResult:
    """ExistenceEnumeration table over item (or item entity) status counts."""
    ex, dne, er, nc = exists, does_not_exist, error, not_collected
    if check_existence == Existence.ALL_EXIST:
        if dne:
            return OvalResult.FALSE
        if er:
            return OvalResult.ERROR
        if nc:
            return OvalResult.UNKNOWN
        return OvalResult.TRUE if ex else OvalResult.FALSE
    if check_existence == Existence.ANY_EXIST:
        if er and not ex:
            return OvalResult.ERROR
        return OvalResult.TRUE
    if check_existence == Existence.AT_LEAST_ONE_EXISTS:
        if ex:
            return OvalResult.TRUE
        if er:
            return OvalResult.ERROR
        if nc:
            return OvalResult.UNKNOWN
        return OvalResult.FALSE
    if check_existence == Existence.NONE_EXIST:
        if ex:
            return OvalResult.FALSE
        if er:
            return OvalResult.ERROR
        if nc:
            return OvalResult.UNKNOWN
        return OvalResult.TRUE
    if check_existence == Existence.ONLY_ONE_EXISTS:
        if ex >= 2:
            return OvalResult.FALSE
        if er:
            return OvalResult.ERROR
        if nc:
            return OvalResult.UNKNOWN
        return OvalResult.TRUE if ex == 1 else OvalResult.FALSE
    raise ValueError(f"unknown check_existence {check_existence!r}")


_CHECK_OPERATOR: dict[str, str] = {Check.ALL: Operator.AND, Check.AT_LEAST_ONE: Operator.OR,
                                    Check.ONLY_ONE: Operator.ONE}


def culprits(kind: str, results: Sequence[str], outcome: str) -> list[int]:
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
    if kind in (Check.NONE_SATISFY, Check.NONE_EXIST):
        kind, outcome = Operator.OR, negate(outcome)
    op = _CHECK_OPERATOR.get(kind, kind)
    if outcome not in (OvalResult.TRUE, OvalResult.FALSE):
        return [i for i, r in enumerate(results) if r == outcome]
    t = [i for i, r in enumerate(results) if r == OvalResult.TRUE]
    f = [i for i, r in enumerate(results) if r == OvalResult.FALSE]
    if op in (Operator.AND, Operator.OR):
        return f if outcome == OvalResult.FALSE else t
    if op == Operator.ONE:
        if outcome == OvalResult.FALSE:
            return t if len(t) >= 2 else f
        return sorted(t + f)
    if op == Operator.XOR:
        return sorted(t + f)
    raise ValueError(f"unknown operator or check {kind!r}")
