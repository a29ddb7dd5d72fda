"""Each rule's PowerShell fix script: `<fix system="urn:xccdf:fix:script:powershell">`, made from
the `Set-` commands of its DISA fix text, for `oscap xccdf generate fix --template
urn:xccdf:fix:script:powershell` and any other XCCDF consumer.

A script changes only what differs, so it can run any number of times:
- a command for each object (`-Identity <'IdentityName'>`) runs for the objects whose
  properties differ from the values it sets (`Get-Noun | Where-Object {…} | ForEach-Object`);
- an organization-wide command runs only while the setting differs;
- every change is shown, not made (`-WhatIf`), until the operator sets `$Apply = $true`.

A value is the rule's XCCDF Value (`<sub idref=… use="value"/>`, so a profile or tailoring
changes the script too) where the rule's check compares that property with an `equals` Value
whose choices are plain tokens; otherwise the STIG's literal. A rule whose fix text has no
command this reads exactly (prose, placeholders in values, pipelines) gets no script: its
fix text stays the instructions. Where two rules set one property of one kind of object to
different values (EX13-EG-000090 wants AuthMechanism 'Tls, BasicAuth, BasicAuthRequireTLS',
EX13-EG-000340 'Tls'), neither script changes it: both warn and name the other rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stigscap.content.model import Rule, XccdfValue
from stigscap.schemas.fixtext import (Command, contradictions, describe_contradiction,
                                      fix_text_lines, parse_command, ps_string)

SYSTEM = "urn:xccdf:fix:script:powershell"
_TOKEN = re.compile(r"^[A-Za-z0-9_.:]+$")


@dataclass(frozen=True)
class Part:
    """A piece of a fix script: literal characters, or the value of an XCCDF Value (`sub` is
    its id)."""
    literal: str = ""
    sub: str | None = None


@dataclass
class FixScript:
    id: str
    parts: list[Part]


def _commands(rule: Rule) -> list[Command] | None:
    lines = fix_text_lines(rule.fix_text)
    cmds = [parse_command(line) for line in lines]
    if not cmds or any(c is None or c.verb != "Set" or not c.props
                       or (c.identity is not None and not c.each_object) for c in cmds):
        return None
    return [c for c in cmds if c is not None]


def _value_for(rule: Rule, noun: str, prop: str) -> XccdfValue | None:
    """The rule's `equals` Value its check compares `prop` of Get-`noun` objects with."""
    if rule.check is None:
        return None
    by_id = {v.id: v for v in rule.values}
    for test in rule.check.tests:
        cmdlet = getattr(test.object, "cmdlet", "")   # a registry object has none
        if cmdlet.lower() != f"get-{noun.lower()}" or test.state is None:
            continue
        for f in test.state.fields:
            if f.property.lower() == prop.lower() and f.value_ref in by_id:
                v = by_id[f.value_ref]
                if v.operator == "equals" and all(_TOKEN.match(o.value) for o in v.options):
                    return v
    return None


def _guard_value(parts: list[Part]) -> list[Part]:
    """A value as the guard compares it: quoted unless it is a literal PowerShell reads as one."""
    if len(parts) == 1 and parts[0].sub is None:
        text = parts[0].literal
        if text.startswith(("'", "$")) or re.fullmatch(r"\d+", text):
            return parts
        return [Part("'" + text.replace("'", "''") + "'")]
    return [Part("'"), *parts, Part("'")]


def _script(rule: Rule, cmds: Sequence[Command], value_id: Callable[[str], str],
            clashes: dict[tuple[str, str], str]) -> list[Part]:
    out: list[Part] = [Part(f"# {rule.version} ({rule.group_id}): {rule.title}\n"
                            "# Changes only what differs; shows each change (-WhatIf) unless "
                            "$Apply = $true is set first.\n")]
    for c in cmds:
        out.append(Part(f"# fix text: {c.line}\n"))
        sets: list[tuple[str, list[Part]]] = []
        for prop, literal in c.props:
            why = clashes.get((c.noun.lower(), prop.lower()))
            if why is not None:
                out.append(Part(f"Write-Warning {ps_string(f'{rule.version}: not changed: {why}')}\n"))
                continue
            v = _value_for(rule, c.noun, prop)
            sets.append((prop, [Part(sub=value_id(v.id))] if v else [Part(literal)]))
        if not sets:
            continue
        subject = "$_" if c.each_object else "$o"
        guard: list[Part] = []
        for n, (prop, value) in enumerate(sets):
            guard += [Part(" -or " if n else ""), Part(f"([string]{subject}.{prop} -ne [string]"),
                      *_guard_value(value), Part(")")]
        args: list[Part] = []
        for prop, value in sets:
            args += [Part(f" -{prop} "), *value]
        if c.each_object:
            out += [Part(f"Get-{c.noun} | Where-Object {{ "), *guard, Part(" } | ForEach-Object {\n"),
                    Part(f"    Set-{c.noun} -Identity $_.Identity"), *args,
                    Part(" -WhatIf:(-not $Apply)\n}\n")]
        else:
            out += [Part(f"$o = Get-{c.noun}\nif ("), *guard, Part(") {\n"),
                    Part(f"    Set-{c.noun}"), *args, Part(" -WhatIf:(-not $Apply)\n}\n")]
    return _merged(out)


def _merged(parts: list[Part]) -> list[Part]:
    out: list[Part] = []
    for p in parts:
        if p.sub is None and out and out[-1].sub is None:
            out[-1] = Part(out[-1].literal + p.literal)
        elif p.sub is not None or p.literal:
            out.append(p)
    return out


def fix_scripts(rules: Sequence[Rule], value_id: Callable[[str], str]) -> dict[str, FixScript]:
    """rule id (SV-…_rule) → its PowerShell fix script, for the rules whose fix text reads as
    commands. `value_id` gives an XCCDF Value's full id."""
    commands = {r.rule_id: cmds for r in rules if (cmds := _commands(r)) is not None}
    by_rule = {r.rule_id: r for r in rules}
    clash = contradictions((by_rule[rid].version, c) for rid, cmds in commands.items()
                           for c in cmds)
    spelled = {(c.noun.lower(), p.lower()): (c.noun, p)
               for cmds in commands.values() for c in cmds for p, _ in c.props}
    reasons = {key: describe_contradiction(*spelled[key], values) + "; choose one and set it by hand"
               for key, values in clash.items()}
    out = {}
    for rid, cmds in commands.items():
        rule = by_rule[rid]
        fix_id = f"{rule.fix_id or rule.rule_id}_powershell"
        out[rid] = FixScript(fix_id, _script(rule, cmds, value_id, reasons))
    return out
