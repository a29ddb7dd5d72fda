"""Draft content rules from a DISA manual STIG, and report what changed between releases.

`draft_rule(rule)` reads the check text of one DISA rule and, where it recognises the common
forms, adds a draft machine check (cmdlet, select list, per-property expected value with
operation and datatype) and XCCDF Values for site-defined values. Anything the drafter is not
sure of is written to `review:` for a human; a rule it cannot parse stays manual (no `check`).
Drafts are a starting point: authored YAML always wins (see evaluator/cli/import_stig.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from stigscap.content.model import (FAMILY_FIELDS, CmdletObject, FieldCheck, MachineCheck, Rule,
                                    StateSpec, TestSpec, ValueOption, XccdfValue)

from .disa_xccdf import DisaBenchmark, check_text_hash

EXCHANGE_SNAPIN = "Microsoft.Exchange.Management.PowerShell.SnapIn"
# Get-* cmdlets that come with Windows PowerShell itself, not the Exchange snap-in.
CORE_CMDLETS = {"Get-Service", "Get-ExecutionPolicy", "Get-Process", "Get-ChildItem", "Get-Acl",
                "Get-ItemProperty", "Get-Item", "Get-WmiObject", "Get-CimInstance"}
FORMATTERS = ("select-object", "select", "format-list", "fl", "format-table", "ft")

_CMD = re.compile(r"(?<![\w-])(Get-[A-Za-z][A-Za-z0-9]*)([^|\n;]*)(?:\|\s*([A-Za-z-]+)([^\n;|]*))?")
_PROP = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_TIMESPAN = re.compile(r"^\d{2}:\d{2}:\d{2}$")
_SIZE = re.compile(r"^(\d+)\s*(KB|MB|GB)$", re.I)
_UNITS = {"KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}

# "... if the value of X is not set to Y, this is a finding."
_NOT_SET = re.compile(
    r"if (?:the |any )?(?:value (?:of|for) )?(?:the )?(?P<prop>[A-Za-z][A-Za-z0-9]*)"
    r"(?: values?(?: returned)?)? (?:value )?(?:is|are) not set to (?P<val>.+?),? this is a finding",
    re.I | re.S)
# "... if the value of X is set to Y, this is a finding." (Y is forbidden)
_IS_SET = re.compile(
    r"if (?:the )?(?:value (?:of|for) )?(?P<prop>[A-Za-z][A-Za-z0-9]*) (?:is|are) set to "
    r"(?P<val>.+?),? this is a finding", re.I | re.S)
_SITE = re.compile(r"organization[- ]defined|<'[^>]*'>|documented in the EDSP|"
                   r"value of the internal|as defined by the site", re.I)
_RISK_ACCEPT = re.compile(r"signoff and risk acceptance", re.I)


@dataclass
class _Expect:
    prop: str
    value: str
    operation: str
    datatype: str
    note: str = ""


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _size_pattern(number: int, unit: str) -> str:
    total = number * _UNITS[unit.upper()]
    return f"^{number} {unit.upper()} \\({total:,} bytes\\)$"


def _two_digit(lo: int, hi: int) -> str:
    return "(" + "|".join(f"{v:02d}" for v in range(lo, hi + 1)) + ")"


def timespan_pattern(threshold: str, at_least: bool) -> str:
    """Regular expression matching the .NET TimeSpan text ("c" format, `[-][d.]hh:mm:ss[.f]`)
    of exactly the durations >= (at_least) or <= `threshold` ("hh:mm:ss", under one day)."""
    h, m, s = (int(x) for x in threshold.split(":"))
    hh, mm, ss, frac = f"{h:02d}", f"{m:02d}", f"{s:02d}", r"(\.\d{1,7})?"
    d2 = r"\d{2}"
    if at_least:
        parts = [rf"\d+\.{d2}:{d2}:{d2}{frac}"]
        if h < 23:
            parts.append(f"{_two_digit(h + 1, 23)}:{d2}:{d2}{frac}")
        if m < 59:
            parts.append(f"{hh}:{_two_digit(m + 1, 59)}:{d2}{frac}")
        parts.append(f"{hh}:{mm}:{_two_digit(s, 59)}{frac}")
    else:
        parts = [rf"-(\d+\.)?{d2}:{d2}:{d2}{frac}"]
        if h > 0:
            parts.append(f"{_two_digit(0, h - 1)}:{d2}:{d2}{frac}")
        if m > 0:
            parts.append(f"{hh}:{_two_digit(0, m - 1)}:{d2}{frac}")
        if s > 0:
            parts.append(f"{hh}:{mm}:{_two_digit(0, s - 1)}{frac}")
        parts.append(f"{hh}:{mm}:{ss}")
    return "^(" + "|".join(parts) + ")$"


def _expectation(prop: str, raw: str) -> _Expect | None:
    """Turn the text after 'not set to' into an expected value (None: not understood)."""
    text = raw.strip().rstrip(".").strip()
    text = re.sub(r"^(the )?(value )?", "", text, flags=re.I)
    op = "equals"
    m = re.match(r"^(.+?)\s+or (less|lower|fewer|greater|more|higher)$", text, re.I)
    if m:
        text = m.group(1).strip()
        op = ("less than or equal" if m.group(2).lower() in ("less", "lower", "fewer")
              else "greater than or equal")
    low = text.lower()
    if low in ("true", "$true"):
        return _Expect(prop, "true", "equals", "boolean") if op == "equals" else None
    if low in ("false", "$false"):
        return _Expect(prop, "false", "equals", "boolean") if op == "equals" else None
    if low == "unlimited":
        return _Expect(prop, "Unlimited", "equals", "string") if op == "equals" else None
    if re.fullmatch(r"\d+", text):
        if op == "equals":
            # string equality also works for Unlimited<int> properties ("Unlimited" never equals)
            return _Expect(prop, text, "equals", "string")
        return _Expect(prop, text, op, "int",
                       "int comparison assumes a plain integer property (not Unlimited<int>)")
    if _TIMESPAN.match(text):
        if op == "equals":
            return _Expect(prop, text, "equals", "string", "TimeSpan compared as its text")
        if int(text.split(":")[0]) > 23 or int(text.split(":")[1]) > 59 or \
                int(text.split(":")[2]) > 59:
            return None
        return _Expect(prop, timespan_pattern(text, op == "greater than or equal"),
                       "pattern match", "string",
                       f"TimeSpan {op} {text} matched by a pattern on its text")
    m = _SIZE.match(text)
    if m:
        if op == "equals":
            return _Expect(prop, _size_pattern(int(m.group(1)), m.group(2)), "pattern match",
                           "string", "ByteQuantifiedSize matched by its ToString() text")
        return None
    if op != "equals":
        return None
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(, [A-Za-z][A-Za-z0-9]*)*", text):
        return _Expect(prop, text, "equals", "string")
    if len(text) <= 60 and "<" not in text and "'" not in text:
        return _Expect(prop, text, "equals", "string", f"literal text {text!r}")
    return None


def _parse_commands(check_text: str) -> list[tuple[str, dict, list[str]]]:
    out = []
    for m in _CMD.finditer(check_text):
        cmdlet, args, fmt, fields = m.group(1), m.group(2), m.group(3), m.group(4)
        params: dict = {}
        for sw in re.findall(r"[-–]([A-Za-z]+)\b(?!\s*['\"<\w])", args):
            params[sw] = True
        quoted = re.search(r"[\"']([^\"']+)[\"']", args)
        if quoted:
            params["Identity"] = quoted.group(1)
        select: list[str] = []
        if fmt and fmt.lower() in FORMATTERS:
            fields = re.sub(r"^\s*-Property\s+", "", fields, flags=re.I)
            for f in fields.split(","):
                f = f.strip()
                if _PROP.match(f) and f.lower() not in ("fl", "ft") and \
                        f.lower() not in {s.lower() for s in select}:
                    select.append(f)
        out.append((cmdlet, params, select))
    return out


_DQUOTED = re.compile('["\u201c\u201d]([^"\u201c\u201d\n]{1,80}?)["\u201c\u201d]')


def unquoted(text: str) -> str:
    """The check text with the double quotes later STIG releases put around property names
    and values removed (`if the value of "Default" is not set to "True"`), outside command
    lines (where a quoted argument is a parameter: `Get-TransportAgent "Malware Agent"`)."""
    return "\n".join(line if _CMD.search(line) else _DQUOTED.sub(r"\1", line)
                     for line in text.split("\n"))


def draft_rule(rule: Rule) -> Rule:
    """The rule with a draft machine check (or unchanged but with a review note)."""
    commands = _parse_commands(rule.check_content)
    text = unquoted(rule.check_content)
    notes: list[str] = []
    if not commands:
        return rule.model_copy(update={
            "check": None, "review": "manual: the check text runs no Get-* cmdlet"})
    expects = [m for m in _NOT_SET.finditer(text)]
    forbids = [m for m in _IS_SET.finditer(text) if not _NOT_SET.search(m.group(0))]
    tests: list[TestSpec] = []
    values: list[XccdfValue] = []
    site = bool(_SITE.search(text))
    risk = bool(_RISK_ACCEPT.search(text))
    for cmdlet, params, select in commands:
        props = {s.lower(): s for s in select}
        fields: list[FieldCheck] = []
        for m in expects:
            prop = m.group("prop")
            if prop.lower() not in props:
                if select:
                    continue
                props[prop.lower()] = prop  # bare "Get-X": select the property named
            raw = m.group("val")
            if _SITE.search(raw) or re.search(r"\bEDSP\b|site[- ]defined", raw, re.I):
                vid = f"{snake(cmdlet.split('-', 1)[1])}_{prop.lower()}"
                values.append(XccdfValue(
                    id=vid, title=f"{prop} required by {rule.version}",
                    description=(f"Organization-defined: {' '.join(raw.split())}. The site must "
                                 "set it; the placeholder default matches nothing."),
                    operator="equals", default="site",
                    options=[ValueOption(selector="site", value=f"<site-defined {prop}>",
                                         title="Placeholder: the site must set it")],
                    site_must_set=True))
                fields.append(FieldCheck(property=props[prop.lower()], value_ref=vid))
                notes.append(f"{prop}: organization-defined value, the site must set {vid}")
                continue
            exp = _expectation(props[prop.lower()], raw)
            if exp is None:
                notes.append(f"expected value of {prop} not understood: {m.group('val').strip()!r}")
                continue
            if exp.note:
                notes.append(f"{prop}: {exp.note}")
            if site or risk:
                vid = f"{snake(cmdlet.split('-', 1)[1])}_{prop.lower()}"
                typ = {"int": "number", "boolean": "boolean"}.get(exp.datatype, "string")
                values.append(XccdfValue(
                    id=vid, title=f"{prop} required by {rule.version}",
                    description=(f"Expected {prop} ({exp.operation}). "
                                 + ("Organization-defined: the site must set it."
                                    if site else "STIG value; another value needs signoff and "
                                    "risk acceptance in the EDSP (tailor it here).")),
                    # str → the model's Literal fields: pydantic checks them on construction
                    type=typ, operator=exp.operation,  # type: ignore[arg-type]
                    default="stig",
                    options=[ValueOption(selector="stig", value=exp.value, title="STIG value")],
                    site_must_set=site))
                fields.append(FieldCheck(property=exp.prop,
                                         datatype=exp.datatype,  # type: ignore[arg-type]
                                         operation=exp.operation, value_ref=vid))
            else:
                fields.append(FieldCheck(property=exp.prop,
                                         datatype=exp.datatype,  # type: ignore[arg-type]
                                         operation=exp.operation, value=exp.value))
        for m in forbids:
            prop = m.group("prop")
            if prop.lower() not in props and select:
                continue
            props.setdefault(prop.lower(), prop)
            val = m.group("val").strip().rstrip(".").lower()
            if val in ("true", "$true", "false", "$false"):
                flipped = "false" if val.endswith("true") else "true"
                fields.append(FieldCheck(property=props[prop.lower()], datatype="boolean",
                                         value=flipped))
            elif val == "unlimited":
                fields.append(FieldCheck(property=props[prop.lower()], operation="not equal",
                                         value="Unlimited"))
            else:
                notes.append(f"forbidden value of {prop} not understood: {val!r}")
        select_list = list(props.values())
        if not select_list:
            notes.append(f"{cmdlet}: no properties selected")
            continue
        module = None if cmdlet in CORE_CMDLETS else EXCHANGE_SNAPIN
        try:
            obj = CmdletObject(module=module, cmdlet=cmdlet, parameters=params, select=select_list)
        except ValueError as exc:
            notes.append(f"{cmdlet}: {exc}")
            continue
        if fields:
            tests.append(TestSpec(comment=f"{cmdlet}: {', '.join(f.property for f in fields)}",
                                  object=obj, state=StateSpec(fields=fields)))
    if site:
        notes.append("site-defined value: check the Value default")
    if risk:
        notes.append("EDSP risk acceptance allows other values: the Value is tailorable")
    if len(commands) > 1:
        notes.append(f"{len(commands)} commands in the check text: check how they combine")
    if not tests:
        notes.append("no recognised 'is not set to' form: author the check by hand")
        return rule.model_copy(update={"check": None, "values": [],
                                       "review": "manual: " + "; ".join(dict.fromkeys(notes))})
    check = MachineCheck(operator="AND", tests=tests,
                         meaning=f"Draft from the STIG check text of {rule.version}.")
    seen: dict[str, XccdfValue] = {}
    for v in values:
        seen.setdefault(v.id, v)
    return Rule.model_validate({**rule.model_dump(), "check": check.model_dump(),
                                "values": [v.model_dump() for v in seen.values()],
                                "review": "draft: " + ("; ".join(dict.fromkeys(notes))
                                                       or "verify the drafted check")})


# ---- YAML writing -------------------------------------------------------------------------

class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, data: str):
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str)


def rule_yaml(rule: Rule, *, header: str = "") -> str:
    """A rule as readable YAML (block text for multi-line strings; empty fields left out)."""
    data = rule.model_dump(mode="json", exclude_none=True)
    if rule.family:
        # the check, Values and applicability come from the family: name it only (a
        # rule's own reading stays)
        for key in FAMILY_FIELDS:
            if key != "reading":
                data.pop(key, None)
    for key in ("legacy_ids", "nist", "values", "revisions"):
        if not data.get(key):
            data.pop(key, None)
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return (f"# {header}\n" if header else "") + body


# ---- change report ------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleChange:
    stig_id: str
    kind: str  # "added" | "removed" | "changed" | "same"
    details: tuple[str, ...] = ()


def _match(old: list[Rule], new: Rule) -> Rule | None:
    for o in old:
        if o.version == new.version:
            return o
    keys = set(new.legacy_ids) | {new.rule_id, new.group_id}
    short = {k.split("r")[0] if k.startswith("SV-") else k for k in keys}
    for o in old:
        if o.group_id in short or o.rule_id.split("r")[0] in short:
            return o
    return None


def compare_rules(old: list[Rule], new: list[Rule]) -> list[RuleChange]:
    """Per-rule differences between two releases (matched by STIG ID, then legacy ids)."""
    changes: list[RuleChange] = []
    matched: set[str] = set()
    for n in new:
        o = _match(old, n)
        if o is None:
            changes.append(RuleChange(n.version, "added", (f"{n.group_id} {n.rule_id}",)))
            continue
        matched.add(o.rule_id)
        d = []
        if o.group_id != n.group_id:
            d.append(f"group id {o.group_id} -> {n.group_id}")
        if o.rule_id != n.rule_id:
            d.append(f"rule id {o.rule_id} -> {n.rule_id}")
        if check_text_hash(o) != check_text_hash(n):
            d.append(f"check text {check_text_hash(o)} -> {check_text_hash(n)}")
        if " ".join(o.fix_text.split()) != " ".join(n.fix_text.split()):
            d.append("fix text")
        if o.severity != n.severity:
            d.append(f"severity {o.severity} -> {n.severity}")
        if o.title != n.title:
            d.append("title")
        if o.ccis != n.ccis:
            d.append(f"CCIs {','.join(o.ccis)} -> {','.join(n.ccis)}")
        changes.append(RuleChange(n.version, "changed" if d else "same", tuple(d)))
    for o in old:
        if o.rule_id not in matched:
            changes.append(RuleChange(o.version, "removed", (f"{o.group_id} {o.rule_id}",)))
    return changes


def check_content_changed(changes: list[RuleChange]) -> list[RuleChange]:
    return [c for c in changes if any(d.startswith("check text") for d in c.details)]


def benchmark_rules(b: DisaBenchmark) -> list[Rule]:
    return list(b.rules)
