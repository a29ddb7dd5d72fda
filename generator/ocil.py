"""Each rule's manual check text → an OCIL 2.0 questionnaire.

SCAP 1.3 forbids check text inside XCCDF (SRC-25) and check systems other than OVAL and OCIL
(SRC-118), so the DISA check procedure travels as an OCIL boolean question: the assessor's
answer "yes, no finding" is PASS. Automated rules list their OVAL check first; manual rules
have only this one and evaluate to notchecked until someone answers it.
"""

from __future__ import annotations

from stigscap.content.model import Rule

from .ids import IdScheme
from .render import render

QUESTION_SUFFIX = "Is it the case that this is not a finding (the requirement is met)?"


def questionnaire_id(ids: IdScheme, rule: Rule) -> str:
    return f"ocil:{ids.namespace}:questionnaire:{rule.vuln_number}"


def ocil_document(rules: list[Rule], ids: IdScheme, timestamp: str, version: str) -> bytes:
    items = []
    for r in rules:
        n = r.vuln_number
        items.append({
            "questionnaire": questionnaire_id(ids, r),
            "action": f"ocil:{ids.namespace}:testaction:{n}",
            "question": f"ocil:{ids.namespace}:question:{n}",
            "title": f"{r.version}: {r.title}",
            "text": f"{r.check_content}\n\n{QUESTION_SUFFIX}",
        })
    return render("ocil.xml.j2", product_name="stigscap", product_version=version,
                  timestamp=timestamp, items=items)
