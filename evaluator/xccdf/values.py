"""The XCCDF 1.2 rule result values (resultEnumType) as an `enum.StrEnum`.

Each member is the schema's string itself (`str(XccdfResultType.NOTAPPLICABLE) ==
"notapplicable"`, `XccdfResultType.PASS == "pass"`), so templates, checklists, JSON and
comparisons with plain strings give the same text as before.
"""

from __future__ import annotations

from enum import StrEnum


class XccdfResultType(StrEnum):
    """xccdf:resultEnumType: the result of a rule (rule-result/result)."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    UNKNOWN = "unknown"
    NOTAPPLICABLE = "notapplicable"
    NOTCHECKED = "notchecked"
    NOTSELECTED = "notselected"
    INFORMATIONAL = "informational"
    FIXED = "fixed"
