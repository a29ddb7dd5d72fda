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

from dataclasses import dataclass, field

from stigscap.schemas.clock import product_version
from stigscap.schemas.fixtext import Command, contradictions, describe_contradiction, parse_command

from .model import Checklist, ChecklistRule
from .report_html import fix_commands


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


def plan(checklist: Checklist) -> Remediation:
    """What to run for one host's failing rules, contradictions taken out."""
    out = Remediation(checklist.target.fqdn or checklist.target.host_name)
    candidates: list[Action] = []
    parsed_for: list[tuple[str, Command]] = []
    for stig in checklist.stigs:
        for row in stig.rules:
            if row.status != "Open":
                continue
            for cmd in fix_commands(row):
                parsed = parse_command(cmd)
                if parsed is None or parsed.verb != "Set" or not parsed.props:
                    out.manual.append((row, cmd))
                    continue
                candidates.append(Action(row, parsed.noun, parsed.identity, dict(parsed.props),
                                         parsed.line))
                parsed_for.append((row.rule.version, parsed))
    # different values for one property of one kind of object from different rules clash
    clash = contradictions(parsed_for)
    spelled = {(c.noun.lower(), p.lower()): (c.noun, p) for _r, c in parsed_for for p, _v in c.props}
    for key, values in sorted(clash.items()):
        noun_name, prop_name = spelled[key]
        out.conflicts.append(
            f"CONFLICT: {describe_contradiction(noun_name, prop_name, values)}. Choose "
            "one with a Value selector (e.g. --refine-value …=includes) and evaluate again; "
            "these commands are left out.")
    out.actions = [a for a in candidates
                   if not any((a.noun.lower(), p.lower()) in clash for p in a.props)]
    return out


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
