"""A reviewed remediation script (PowerShell) for the objects an ARF found failing.

Only `Set-` commands from the rules' fixes (the rule-result's fix, the Rule's fix script, or
the cmdlet lines of the fix text with the failing objects filled in) are written, each guarded
so it runs only while the object still differs (`Get-… | if (…) { Set-… }`: idempotent), and
each with `-WhatIf` unless the script is run with `-Apply`. stigscap never runs it.

Two rules whose fixes set the same property of the same kind of object to different values
contradict each other (EX13-EG-000090 wants AuthMechanism 'Tls, BasicAuth,
BasicAuthRequireTLS', EX13-EG-000340 'Tls'): the script says so and leaves both out, instead of
emitting commands that undo each other. Other commands a fix text names (not `Set-`) are listed
as comments for manual review.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from stigscap.schemas.clock import product_version

from .model import Checklist, ChecklistRule
from .report_html import fix_commands

_QUOTED = r"'(?:[^']|'')*'"
_VALUE = rf"(?:{_QUOTED}|\$\w+|[^\s'$-][^\s]*)"
_COMMAND = re.compile(rf"^(?P<verb>[A-Z][a-z]+)-(?P<noun>[A-Za-z]+)(?P<args>(?:\s+-\w+(?:\s+{_VALUE})?)*)\s*$")
_ARG = re.compile(rf"-(?P<name>\w+)(?:\s+(?P<value>{_VALUE}))?")


@dataclass
class Action:
    rule: ChecklistRule
    noun: str
    identity: str | None          # the -Identity argument as written (quoted), or None
    props: dict[str, str]         # parameter → value as written
    command: str


@dataclass
class Remediation:
    host: str
    actions: list[Action] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)     # one comment line each
    manual: list[tuple[ChecklistRule, str]] = field(default_factory=list)


def _parse(command: str) -> tuple[str, str, str | None, dict[str, str]] | None:
    m = _COMMAND.match(" ".join(command.split()))
    if not m:
        return None
    identity, props = None, {}
    for a in _ARG.finditer(m.group("args")):
        name, value = a.group("name"), a.group("value") or "$true"
        if name.lower() == "identity":
            identity = value
        else:
            props[name] = value
    return m.group("verb"), m.group("noun"), identity, props


def plan(checklist: Checklist) -> Remediation:
    """What to run for one host's failing rules, contradictions taken out."""
    out = Remediation(checklist.target.fqdn or checklist.target.host_name)
    candidates: list[Action] = []
    for stig in checklist.stigs:
        for row in stig.rules:
            if row.status != "Open":
                continue
            for cmd in fix_commands(row):
                parsed = _parse(cmd)
                if parsed is None or parsed[0] != "Set" or not parsed[3]:
                    out.manual.append((row, cmd))
                    continue
                _verb, noun, identity, props = parsed
                candidates.append(Action(row, noun, identity, props, " ".join(cmd.split())))
    # (noun, property) → {value: {rule versions}}: different values from different rules clash
    wanted: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    spelled: dict[tuple[str, str], tuple[str, str]] = {}
    for a in candidates:
        for prop, value in a.props.items():
            wanted[(a.noun.lower(), prop.lower())][value].add(a.rule.rule.version)
            spelled.setdefault((a.noun.lower(), prop.lower()), (a.noun, prop))
    clash: set[tuple[str, str]] = set()
    for (noun, prop), values in sorted(wanted.items()):
        rules = set().union(*values.values())
        if len(values) > 1 and len(rules) > 1:
            clash.add((noun, prop))
            noun_name, prop_name = spelled[(noun, prop)]
            detail = "; ".join(f"{', '.join(sorted(v))} wants {val}"
                               for val, v in sorted(values.items()))
            out.conflicts.append(
                f"CONFLICT: the fixes of {' and '.join(sorted(rules))} set {prop_name} of "
                f"{noun_name} objects to different values ({detail}); both cannot pass as written. Choose "
                "one with a Value selector (e.g. --refine-value …=includes) and evaluate again; "
                "these commands are left out.")
    out.actions = [a for a in candidates
                   if not any((a.noun.lower(), p.lower()) in clash for p in a.props)]
    return out


def _ps_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def render_script(checklist: Checklist, *, source: str, generated: str) -> bytes:
    """The PowerShell script for one host (UTF-8 with BOM, as Windows PowerShell 5.1 reads
    non-ASCII scripts correctly only with one)."""
    rem = plan(checklist)
    lines = [
        f"# stigscap {product_version()} remediation for {rem.host}, from {source}",
        f"# generated {generated}. REVIEW EVERY LINE BEFORE RUNNING IT; stigscap never runs it.",
        "# Run in the Exchange Management Shell on the server. Without -Apply every change is",
        "# only shown (-WhatIf). Each change runs only while the object still differs.",
        "[CmdletBinding()]",
        "param([switch]$Apply)",
        "$ErrorActionPreference = 'Stop'",
        "",
    ]
    for c in rem.conflicts:
        lines.append(f"# {c}")
    if rem.conflicts:
        lines.append("")
    current = None
    for a in rem.actions:
        rule = a.rule.rule
        if current is not rule:
            current = rule
            lines.append(f"# {rule.version} ({rule.group_id}, {rule.severity}): {rule.title}")
        get = f"Get-{a.noun}" + (f" -Identity {a.identity}" if a.identity else "")
        differs = " -or ".join(f"([string]$o.{p} -ne [string]{v})" for p, v in a.props.items())
        lines += [f"$o = {get}",
                  f"if ({differs}) {{",
                  f"    {a.command} -WhatIf:(-not $Apply)",
                  "}"]
    if not rem.actions:
        lines.append("# nothing to change automatically")
    if rem.manual:
        lines.append("")
        lines.append("# Not scripted (review manually):")
        for row, cmd in rem.manual:
            lines.append(f"#   {row.rule.version}: {cmd}")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")
