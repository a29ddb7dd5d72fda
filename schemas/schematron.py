"""The official SCAP 1.3 source data stream schematron, as shipped by openscap-common.

`sds/1.3/source-data-stream-1.3.xsl` is NIST's SDS 1.3 schematron compiled to XSLT 1 (what
`oscap xccdf validate` runs as its "global" step); lxml runs it directly. Its output is one
text line per failed assertion, `Error: SRC-10-1|xccdf:Rule <id>` or `Warning: ...`; each is
turned into a `Problem` located at the element that carries that id, with the requirement's
text from stigscap's coverage table (`scap13_requirements.json`), so the line says what the
rule asks, not only its number. The file is pinned in the catalog like the XSDs.

This is an optional cross-check (`validate --schematron`): the SCAP 1.3 requirements NIST
SCAPVal checks (its XSLT-2 Schematron, which lxml cannot run) are implemented natively in
`scap_source`, `scap_result` and `scap_components` and run by every `validate`.
"""

from __future__ import annotations

import os
import re
import threading

from lxml import etree

from .catalog import load_catalog, schema_dir, verify_file
from .errors import StigscapError
from .scap_requirements import describe, requirements
from .semantic import Problem, element_path

SCHEMATRON = {"sds@1.3": "sds/1.3/source-data-stream-1.3.xsl"}
_LINE = re.compile(r"^(Error|Warning): ([A-Za-z]+-\d+(?:-\d+)?)\|(\S+)(?: (.*))?$")
_compiled: dict[tuple[str, str], etree.XSLT] = {}
_lock = threading.Lock()


def available(kind: str) -> bool:
    return kind in SCHEMATRON


def _xslt(kind: str, directory) -> etree.XSLT:
    d = schema_dir(directory)
    key = (str(d), kind)
    if key not in _compiled:
        rel = SCHEMATRON[kind]
        verify_file(rel, d, purpose=f"the {kind} schematron")
        # an official, SHA-256-pinned XSLT (checked just above), not user input
        parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
        ac = etree.XSLTAccessControl.DENY_ALL
        try:
            xslt = etree.XSLT(etree.parse(str(d / rel), parser), access_control=ac)
        except (etree.XMLSyntaxError, etree.XSLTParseError) as exc:
            raise StigscapError(f"schematron {rel} could not be compiled: {exc}") from None
        with _lock:
            _compiled[key] = xslt
    return _compiled[key]


def run(root: etree._Element, kind: str, source: str,
        directory: str | os.PathLike | None = None) -> list[Problem]:
    """Problems reported by the official schematron for this document kind (none if absent)."""
    if kind not in SCHEMATRON:
        return []
    xslt = _xslt(kind, directory)
    try:
        out = str(xslt(root.getroottree() if root.getparent() is None else root))
    except etree.XSLTApplyError as exc:
        raise StigscapError(f"schematron failed: {exc}", file=source) from None
    by_id: dict[str, etree._Element] | None = None
    problems = []
    table = requirements()
    for line in out.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        severity, rule, what, ident = m.groups()
        if by_id is None:
            by_id = {}
            for node in root.iter():
                i = node.get("id") if isinstance(node.tag, str) else None
                if i is not None:
                    by_id.setdefault(i, node)
        el = by_id.get(ident or "")
        req = table.get(rule)
        named = describe(el)[0] if el is not None else f"{what} {ident or ''}".strip()
        message = (f"{named}: fails this rule of the official SDS 1.3 schematron "
                   "(openscap-common's XSLT)")
        problems.append(Problem(source, el.sourceline if el is not None else None,
                                element_path(el) if el is not None else "", rule, message,
                                "error" if severity == "Error" else "warning",
                                element_id=ident or None,
                                requirement=req.text if req is not None else None))
    return problems


def pinned() -> dict[str, str]:
    """Relative path → SHA-256 of the schematron files (also listed in catalog.json)."""
    cat = load_catalog()
    return {rel: cat.digests[rel] for rel in SCHEMATRON.values() if rel in cat.digests}
