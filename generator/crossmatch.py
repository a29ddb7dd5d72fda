"""Cross-version drafting: match a new STIG's rules to requirements stigscap already automates.

Exchange STIGs restate the same requirements release after release and product after product
(EX13-EG-000340, EX16-ED-000680 and EX19-ED-000235 are one requirement), under new ids that are
often not linked by legacy ids. `match_rules` finds, for each rule of a new STIG, the closest
authored rule with a small, explainable score, and `cross_draft` decides per rule:

* **reused** - the authored rule's machine check (cmdlet objects, states, XCCDF Values) is taken
  over, because the new check text says the same thing: it runs the same cmdlets and states
  the same finding conditions (every sentence that decides "finding" / "not a finding" / "not
  applicable" is equal after normalisation: case, quotes, dashes, product names, blanks);
* **drafted** - no reusable match: the check is drafted from the text (`import_stig.draft_rule`);
* **manual** - neither: the rule stays manual (OCIL), with the reason.

The score is a weighted sum of four signals, each in [0, 1]:

    score = 1.0                                   when the rules share a STIG ID or a V-/SV-
                                                  number (current or legacy), else
    score = 0.50 * check + 0.30 * title + 0.10 * srg + 0.10 * cci

`check` and `title` are difflib ratios over normalised word tokens, `srg` is 1 when the SRG
(group title) is the same, `cci` the Jaccard index of the CCI sets. A match needs a score of at
least `MATCH_THRESHOLD` (or a check-text ratio of at least `CHECK_TEXT_THRESHOLD`: DISA
restates one check under several titles); reuse needs the match, an automated authored rule and the same finding
conditions and cmdlets. The differences of the check texts (changed phrases and a unified diff)
are reported for every match, so a reviewer sees exactly what the new release says differently.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Iterable, Literal

from stigscap.content.model import Rule

from .import_stig import _parse_commands, draft_rule

MATCH_THRESHOLD = 0.6
CHECK_TEXT_THRESHOLD = 0.9   # a nearly identical check text matches whatever the title says
WEIGHTS = {"check": 0.5, "title": 0.3, "srg": 0.1, "cci": 0.1}

Outcome = Literal["reused", "drafted", "manual"]

_QUOTES = str.maketrans({"\u201c": " ", "\u201d": " ", "\u2018": " ", "\u2019": " ", '"': " ",
                         "\u2013": "-", "\u2014": "-", "\u00a0": " "})
_PRODUCT = re.compile(r"\b(?:exchange\s+(?:server\s+)?)?(?:2010|2013|2016|2019)\b|\bex1[369]\b")
_TOKEN = re.compile(r"[a-z0-9$<>][a-z0-9_:$<>'-]*(?:\.[a-z0-9]+)*")
_FINDING = re.compile(r"\bfinding\b", re.I)
_APPLICABILITY = re.compile(r"not applicable|\bn/?a\b", re.I)
_MODAL = re.compile(r"\b(?:must|may|should|shall|only|as long as|unless|except|allowed|"
                    r"required)\b", re.I)
_NA = re.compile(r"\bn/?a\b")
# Wordings later releases use for the same statement (each rewrite is a paraphrase, never a
# change of property, value or scope):
_REWRITES = (
    (re.compile(r"\bthe (\w+) value\b(?! of)"), r"the value of \1"),       # the X value
    (re.compile(r"\bif (?!the |any |no |this |not )(\w+) is set to\b"),
     r"if the value of \1 is set to"),                                       # if X is set to
    (re.compile(r"\bset to (?:another|a) value other than\b"), "set to other than"),
    (re.compile(r"\bsignoff and risk acceptance(?! in the edsp)"),
     "signoff and risk acceptance in the edsp"),
    (re.compile(r"^\s*for each (?:receive|send) connector,?\s*"), ""),       # per connector
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def tokens(text: str) -> list[str]:
    """Word tokens of a STIG text for comparison: lower case, quotes and product names gone,
    dashes unified, trailing punctuation dropped."""
    low = text.translate(_QUOTES).lower()
    low = _PRODUCT.sub(" exchange ", low)
    low = " ".join(_NA.sub("not applicable", low).split())
    for pattern, repl in _REWRITES:
        low = pattern.sub(repl, low)
    out = []
    for t in _TOKEN.findall(low):
        t = t.strip("'")
        if not t.startswith(("get-", "set-")):
            t = t.replace("-", "")   # anti-spam / antispam, non-Internet / nonInternet
        if t:
            out.append(t)
    return out


def _ratio(a: list[str], b: list[str]) -> float:
    if not a and not b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _sentences(text: str, pattern: re.Pattern, unless: re.Pattern | None = None,
               words: frozenset[str] = frozenset()) -> tuple[str, ...]:
    out = []
    for sentence in _SENTENCE.split(text):
        toks = tokens(sentence)
        if not toks or any(t.startswith("get-") for t in toks):
            continue
        if (pattern.search(sentence) or (words & set(toks) and _MODAL.search(sentence))) and \
                not (unless and unless.search(sentence)):
            out.append(" ".join(toks))
    return tuple(out)


def conditions(text: str) -> tuple[str, ...]:
    """The sentences that decide the result, normalised, in order: every sentence that says
    '... this is a finding' / '... this is not a finding', and every other sentence (a note)
    that names a property the check text's commands select and says what it must or may be
    ('Note: AuthMechanism may include other mechanisms as long as Tls is identified'; not
    'Note: the default value for TarpitInterval is 00:00:05')."""
    props = frozenset(p.lower() for _c, _params, select in _parse_commands(text)
                      for p in select if p.lower() not in ("name", "identity"))
    return _sentences(text, _FINDING, words=props)


def applicability(text: str) -> tuple[str, ...]:
    """The sentences that make the rule not applicable (site facts such as SIPR enclaves or a
    third-party product), normalised, in order."""
    return _sentences(text, _APPLICABILITY, _FINDING)


def cmdlets(text: str) -> tuple[str, ...]:
    """The Get-* cmdlets a check text runs, lower case, sorted, once each."""
    return tuple(sorted({c.lower() for c, _p, _s in _parse_commands(text)}))


def _short_ids(rule: Rule) -> set[str]:
    ids = {rule.group_id, re.sub(r"r\d+_rule$", "", rule.rule_id)}
    ids |= {re.sub(r"r\d+_rule$", "", i) for i in rule.legacy_ids}
    return ids


@dataclass(frozen=True)
class Score:
    total: float
    ids: bool
    check: float
    title: float
    srg: float
    cci: float

    def explain(self) -> str:
        if self.ids:
            return "same STIG ID or V-/SV- number"
        return (f"check {self.check:.2f}, title {self.title:.2f}, srg {self.srg:.0f}, "
                f"cci {self.cci:.2f}")


def score(new: Rule, old: Rule) -> Score:
    ids = new.version == old.version or bool(_short_ids(new) & _short_ids(old))
    check = _ratio(tokens(new.check_content), tokens(old.check_content))
    title = _ratio(tokens(new.title), tokens(old.title))
    srg = 1.0 if new.group_title and new.group_title == old.group_title else 0.0
    a, b = set(new.ccis), set(old.ccis)
    cci = len(a & b) / len(a | b) if a | b else 0.0
    total = 1.0 if ids else (WEIGHTS["check"] * check + WEIGHTS["title"] * title
                             + WEIGHTS["srg"] * srg + WEIGHTS["cci"] * cci)
    return Score(round(total, 3), ids, round(check, 3), round(title, 3), srg, round(cci, 3))


def changed_phrases(old: str, new: str) -> list[tuple[str, str]]:
    """(old phrase, new phrase) for every place the normalised word sequences differ."""
    a, b = tokens(old), tokens(new)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op != "equal":
            out.append((" ".join(a[i1:i2]), " ".join(b[j1:j2])))
    return out


def unified_diff(old: Rule, new: Rule) -> str:
    return "".join(difflib.unified_diff(
        [line + "\n" for line in old.check_content.splitlines()],
        [line + "\n" for line in new.check_content.splitlines()],
        fromfile=f"{old.version} check text", tofile=f"{new.version} check text", n=1))


@dataclass(frozen=True)
class CrossDraft:
    rule: Rule                  # the new STIG's rule (DISA facts)
    draft: Rule                 # what import-stig writes: reused or drafted check, or manual
    outcome: Outcome
    match: Rule | None          # the closest authored rule (score >= MATCH_THRESHOLD)
    score: Score | None
    reason: str
    phrases: tuple[tuple[str, str], ...] = ()
    diff: str = ""
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        return {
            "stig_id": self.rule.version, "rule_id": self.rule.rule_id,
            "group_id": self.rule.group_id, "title": self.rule.title,
            "outcome": self.outcome,
            "match": self.match.version if self.match else None,
            "match_rule_id": self.match.rule_id if self.match else None,
            "score": self.score.total if self.score else None,
            "score_parts": ({"ids": self.score.ids, "check": self.score.check,
                             "title": self.score.title, "srg": self.score.srg,
                             "cci": self.score.cci} if self.score else None),
            "reason": self.reason,
            "changed_phrases": [{"old": o, "new": n} for o, n in self.phrases],
            "check_text_diff": self.diff,
            "notes": list(self.notes),
        }


def says_the_same(new: Rule, old: Rule) -> bool:
    """Both check texts run the same cmdlets and state the same finding conditions."""
    return (cmdlets(old.check_content) == cmdlets(new.check_content)
            and conditions(old.check_content) == conditions(new.check_content))


def best_match(rule: Rule, authored: Iterable[Rule]) -> tuple[Rule, Score] | None:
    """The authored rule closest to `rule` among those scoring at least MATCH_THRESHOLD:
    the highest-scoring automated rule whose check text says the same thing, else the
    highest-scoring rule (automated first on a tie)."""
    scored = [(a, score(rule, a)) for a in authored]
    scored = [(a, s) for a, s in scored
              if s.total >= MATCH_THRESHOLD or s.check >= CHECK_TEXT_THRESHOLD]
    if not scored:
        return None
    reusable = [(a, s) for a, s in scored if a.check is not None and says_the_same(rule, a)]
    pool = reusable or scored
    return max(pool, key=lambda p: (p[1].total, p[0].automated))


_OLD_PRODUCT = re.compile(r"\b(?:Exchange(?: Server)? )?(2010|2013|2016|2019)\b|\b15\.[012]\b|"
                          r"\bEX1[369]-")


def _product_notes(match: Rule, new: Rule) -> list[str]:
    """Review notes for parts of a reused check that name another product or release."""
    notes: list[str] = []
    if match.check is None:
        return notes
    mine = set(_OLD_PRODUCT.findall(new.title + " " + new.check_content))
    for v in match.values:
        text = " ".join([v.title, v.description] + [o.value + " " + o.title for o in v.options])
        named = set(_OLD_PRODUCT.findall(text)) - mine - {""}
        if named:
            notes.append(f"Value {v.id} names {', '.join(sorted(named))}: set this STIG's "
                         "product default")
    named = set(_OLD_PRODUCT.findall(match.check.meaning)) - mine - {""}
    if named:
        notes.append(f"the check's meaning names {', '.join(sorted(named))}: restate it")
    return notes


def cross_draft(rule: Rule, authored: "list[Rule] | tuple[Rule, ...]") -> CrossDraft:
    """Reuse the closest authored rule's check when the check text says the same thing, else
    draft from the text, else manual (see the module docstring)."""
    best = best_match(rule, authored)
    match, sc = best if best else (None, None)
    phrases: tuple[tuple[str, str], ...] = ()
    diff = ""
    if match is not None and sc is not None:
        phrases = tuple(changed_phrases(match.check_content, rule.check_content))
        diff = unified_diff(match, rule)
        same_cmd = cmdlets(match.check_content) == cmdlets(rule.check_content)
        if match.check is not None and says_the_same(rule, match):
            notes = _product_notes(match, rule)
            old_na, new_na = applicability(match.check_content), applicability(rule.check_content)
            if old_na != new_na:
                notes.append("not-applicable conditions differ: "
                             + "; ".join([f"- {a}" for a in old_na if a not in new_na]
                                         + [f"+ {a}" for a in new_na if a not in old_na]))
            review = (f"reused: the check of {match.version} ({match.rule_id}); score "
                      f"{sc.total:.2f} ({sc.explain()}); same cmdlets and finding conditions"
                      + (f", {len(phrases)} other phrase(s) differ" if phrases else "")
                      + "".join(f"; {n}" for n in notes))
            data = rule.model_dump()
            if match.family:
                # written as a reference to the family (with the matched rule's overrides),
                # not as a copy of its check
                data["family"] = match.family
                data["overrides"] = match.overrides.model_dump() if match.overrides else None
                review = review.replace("reused: the check of", f"reused: family {match.family}, as")
            data.update({"check": match.check.model_dump(),
                         "values": [v.model_dump() for v in match.values],
                         "applicability": (match.applicability.model_dump()
                                           if match.applicability else None),
                         "nist": ([n.model_dump() for n in match.nist]
                                  if set(match.ccis) & set(rule.ccis) else []),
                         "review": review})
            return CrossDraft(rule, Rule.model_validate(data), "reused", match, sc,
                              "same cmdlets and finding conditions", phrases, diff, tuple(notes))
        if match.check is None:
            why = f"{match.version} is manual"
        elif not same_cmd:
            why = (f"cmdlets differ ({', '.join(cmdlets(match.check_content)) or 'none'} -> "
                   f"{', '.join(cmdlets(rule.check_content)) or 'none'})")
        else:
            why = "finding conditions differ"
    else:
        why = (f"no authored rule scores {MATCH_THRESHOLD} or more (or has a check text "
               f"{CHECK_TEXT_THRESHOLD} alike)")
    draft = draft_rule(rule)
    outcome: Outcome = "drafted" if draft.check is not None else "manual"
    if match is not None and sc is not None:
        hint = (f"closest authored rule {match.version} (score {sc.total:.2f}, {sc.explain()}): "
                f"not reused, {why}")
        draft = draft.model_copy(update={"review": f"{draft.review}; {hint}"})
    return CrossDraft(rule, draft, outcome, match, sc, why, phrases, diff)


def cross_draft_all(rules: Iterable[Rule], authored: "list[Rule] | tuple[Rule, ...]"
                    ) -> list[CrossDraft]:
    return [cross_draft(r, authored) for r in rules]


def summary(results: list[CrossDraft]) -> dict[str, int]:
    """Counts per outcome, and how many rules' check text runs a Get-* cmdlet."""
    out = {"rules": len(results),
           "get_rules": sum(1 for r in results if _parse_commands(r.rule.check_content)),
           "reused": 0, "drafted": 0, "manual": 0}
    for r in results:
        out[r.outcome] += 1
    return out


# ---- report -------------------------------------------------------------------------------

def _phrase_text(phrases: tuple[tuple[str, str], ...], limit: int = 90) -> str:
    parts = []
    for old, new in phrases:
        if old and new:
            parts.append(f"'{old}' -> '{new}'")
        elif new:
            parts.append(f"+'{new}'")
        else:
            parts.append(f"-'{old}'")
    text = "; ".join(parts)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def report_table(results: list[CrossDraft]) -> list[str]:
    """The per-rule report as text lines: STIG ID, outcome, score, matched rule, and the
    phrases of the check text that differ from the matched rule's (or why it was not reused)."""
    lines = [f"{'STIG ID':16} {'outcome':8} {'score':>5}  {'match':16} check text vs match"]
    for r in results:
        sc = f"{r.score.total:.2f}" if r.score else "-"
        match = r.match.version if r.match else "-"
        if r.match is None:
            detail = r.reason
        elif r.outcome == "reused":
            detail = ("same text" if not r.phrases else
                      f"{len(r.phrases)} phrase(s): {_phrase_text(r.phrases)}")
        else:
            detail = f"not reused, {r.reason}: {_phrase_text(r.phrases, 60)}"
        lines.append(f"{r.rule.version:16} {r.outcome:8} {sc:>5}  {match:16} {detail}")
    s = summary(results)
    lines.append(f"cross-version drafting: {s['reused']} reused, {s['drafted']} drafted from "
                 f"text, {s['manual']} manual ({s['get_rules']} of {s['rules']} rules run a "
                 "Get-* cmdlet)")
    return lines
