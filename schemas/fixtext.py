"""The PowerShell commands of a DISA fix text, read one way by everything that scripts them:
the generator (each rule's `urn:xccdf:fix:script:powershell` fix) and `stigscap fix` (the
remediation script for the objects an ARF found failing).

A fix text names commands like `Set-ReceiveConnector -Identity <'IdentityName'> -AuthMechanism
'Tls'`: a verb-noun, an optional identity (a placeholder for "each object"), and parameters
with values as PowerShell writes them. Only such simple lines are commands; prose, pipelines
and placeholders in values are not (they stay for a human to review).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

CMDLET_LINE = re.compile(r"^\s*([A-Z][a-z]+-[A-Za-z]+\b.*)$")
IDENTITY_PLACEHOLDER = re.compile(r"<\s*'?IdentityName'?\s*>")

_QUOTED = r"'(?:[^']|'')*'"
_VALUE = rf"(?:{_QUOTED}|\$\w+|[^\s'$<-][^\s]*)"
_COMMAND = re.compile(rf"^(?P<verb>[A-Z][a-z]+)-(?P<noun>[A-Za-z]+)"
                      rf"(?P<args>(?:\s+(?:-\w+(?:\s+{_VALUE})?|<'IdentityName'>))*)\s*$")
_ARG = re.compile(rf"-(?P<name>\w+)(?:\s+(?P<value>{_VALUE}))?|(?P<positional><'IdentityName'>)")


@dataclass(frozen=True)
class Command:
    verb: str
    noun: str
    identity: str | None               # the -Identity argument as written, or None
    props: tuple[tuple[str, str], ...]  # (parameter, value as written), in order
    line: str                          # the command, whitespace collapsed

    @property
    def each_object(self) -> bool:
        """The identity is the fix text's placeholder: the command is meant for each object."""
        return self.identity is not None and bool(IDENTITY_PLACEHOLDER.fullmatch(self.identity))


def fix_text_lines(fix_text: str) -> list[str]:
    """The lines of a fix text that start with a verb-noun cmdlet name."""
    return [m.group(1).strip() for m in map(CMDLET_LINE.match, fix_text.splitlines()) if m]


def parse_command(text: str) -> Command | None:
    """A simple cmdlet line as a Command; None for anything else (prose after the command, a
    placeholder as a value, a pipeline)."""
    line = " ".join(text.split())
    m = _COMMAND.match(line)
    if not m:
        return None
    identity, props = None, []
    for a in _ARG.finditer(m.group("args")):
        if a.group("positional"):
            identity = a.group("positional")
            continue
        name, value = a.group("name"), a.group("value") or "$true"
        if name.lower() == "identity":
            identity = value
        else:
            props.append((name, value))
    return Command(m.group("verb"), m.group("noun"), identity, tuple(props), line)


def contradictions(wanted: Iterable[tuple[str, Command]]) -> dict[tuple[str, str], dict[str, set[str]]]:
    """(noun, parameter) (lower case) → {value: {rule}} where rules' Set- commands give one
    property of one kind of object different values: applied one after the other they undo
    each other, so neither can be scripted as written."""
    by_prop: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for rule, cmd in wanted:
        if cmd.verb != "Set":
            continue
        for prop, value in cmd.props:
            by_prop[(cmd.noun.lower(), prop.lower())][value].add(rule)
    return {k: {v: set(r) for v, r in values.items()} for k, values in by_prop.items()
            if len(values) > 1 and len(set().union(*values.values())) > 1}


def describe_contradiction(noun: str, prop: str, values: dict[str, set[str]]) -> str:
    """One line naming the rules and the values they want."""
    names = sorted(set().union(*values.values()))
    detail = "; ".join(f"{', '.join(sorted(v))} wants {val}" for val, v in sorted(values.items()))
    return (f"the fixes of {' and '.join(names)} set {prop} of {noun} objects to different "
            f"values ({detail}); both cannot pass as written")


def ps_string(text: str) -> str:
    """`text` as a PowerShell single-quoted string."""
    return "'" + text.replace("'", "''") + "'"
