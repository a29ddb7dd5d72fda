"""Run the SCAP 1.3 requirement checks (the coverage table is in `scap_requirements`).

`run` dispatches a document to `scap_source` (SCAP 1.3 source data streams), `scap_result`
(ARF 1.1 result data streams) and `scap_components` (the XCCDF / OCIL / TMSAD Schematron rules
SCAPVal runs on them); `registry` lists which check function claims which requirement id.
"""

from __future__ import annotations

from lxml import etree

from . import scap_components, scap_result, scap_source
from .scap_requirements import Findings, claims
from .semantic import Problem


def registry() -> dict[str, list[str]]:
    """Requirement id → the check functions that claim it."""
    return claims()


def run(root: etree._Element, kind: str, source: str) -> list[Problem]:
    """The SCAP 1.3 requirement findings for a document of catalog kind `kind` (sds, arf),
    in document order."""
    findings = Findings(source)
    if kind == "sds":
        scap_source.check(root, findings)
    elif kind == "arf":
        scap_result.check(root, findings)
    if kind in ("sds", "arf"):
        scap_components.check(root, findings, kind)
    elif kind == "xccdf" and etree.QName(root).localname == "Tailoring":
        scap_components.check_xccdf(root, findings)   # the Tailoring rules of XCCDF 1.2
    return sorted(findings.problems, key=lambda p: p.line or 0)
