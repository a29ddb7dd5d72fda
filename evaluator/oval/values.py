"""The OVAL 5.11.2 enumerations the engine reads and writes, as `enum.StrEnum`s.

Each member is the schema's string itself (`str(OvalResult.NOT_EVALUATED) == "not evaluated"`,
`OvalResult.TRUE == "true"`), so f-strings, templates, XML attributes, JSON and comparisons
with plain strings give the same text as before. Attribute values read from a document stay
plain strings until compared: a value the schema does not allow is reported by the engine
(an error result or message), never turned into an exception here.
"""

from __future__ import annotations

from enum import StrEnum


class OvalResult(StrEnum):
    """oval-res ResultEnumeration: the result of a definition, criteria, test or item."""

    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"
    ERROR = "error"
    NOT_EVALUATED = "not evaluated"
    NOT_APPLICABLE = "not applicable"


class Operator(StrEnum):
    """oval OperatorEnumeration (criteria, state and test state_operator)."""

    AND = "AND"
    ONE = "ONE"
    OR = "OR"
    XOR = "XOR"


class Check(StrEnum):
    """oval CheckEnumeration (test check, entity_check, var_check); NONE_EXIST is deprecated."""

    ALL = "all"
    AT_LEAST_ONE = "at least one"
    NONE_EXIST = "none exist"
    NONE_SATISFY = "none satisfy"
    ONLY_ONE = "only one"


class Existence(StrEnum):
    """oval ExistenceEnumeration (test and state entity check_existence)."""

    ALL_EXIST = "all_exist"
    ANY_EXIST = "any_exist"
    AT_LEAST_ONE_EXISTS = "at_least_one_exists"
    NONE_EXIST = "none_exist"
    ONLY_ONE_EXISTS = "only_one_exists"


class ItemStatus(StrEnum):
    """oval-sc StatusEnumeration: the status of a collected item or item entity."""

    EXISTS = "exists"
    DOES_NOT_EXIST = "does not exist"
    NOT_COLLECTED = "not collected"
    ERROR = "error"


class Flag(StrEnum):
    """oval-sc FlagEnumeration: how completely a collected object was collected."""

    ERROR = "error"
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    DOES_NOT_EXIST = "does not exist"
    NOT_COLLECTED = "not collected"
    NOT_APPLICABLE = "not applicable"
