"""NIST SCAPVal's SCAP 1.3 result-data-stream Schematron as a test oracle.

SCAPVal itself is Java; its rules are an XSLT-2 Schematron (``queryBinding="xslt2"``,
``current()``, ``every … satisfies``, ``xsl:function``s) that lxml's XSLT 1 cannot run. This
compiles the schema into an XSLT 3 stylesheet (one template per rule, first matching rule per
node as Schematron's one-pattern semantics ask; the schema's own ``xsl:function`` elements are
copied) and runs it with SaxonC-HE (PyPI ``saxonche``). A failed assert counts as an *error*
when its derived requirement in SCAPVal's requirements file is a MUST (as SCAPVal counts them),
else as a warning.

Nothing is copied from ../shared: both files are read where they are. Tests calling
``scapval_results`` are skipped when ../shared or saxonche is absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import shared_file

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
OUT = "urn:stigscap:test:scapval"


@dataclass(frozen=True)
class Failure:
    requirement: str  # e.g. RES-136-1
    level: str  # MUST (error) or SHOULD/MAY (warning)
    assert_id: str
    location: str
    text: str


def _requirement_levels(path: Path) -> dict[str, str]:
    root = etree.parse(str(path)).getroot()
    return {el.get("id"): el.get("type") for el in root.iter("{*}derived-requirement")}


def _compile(sch_path: Path) -> str:
    """Schematron (one pattern, asserts/reports, sch:value, sch:name) → XSLT 3 text."""
    sch = etree.parse(str(sch_path)).getroot()
    nsmap = {"xsl": XSL, "svrl": OUT}
    for ns in sch.iterfind(f"{{{SCH}}}ns"):
        nsmap[ns.get("prefix")] = ns.get("uri")
    E = lambda tag, **kw: etree.Element(f"{{{XSL}}}{tag}", {k.rstrip("_"): v for k, v in kw.items()})  # noqa: E731
    xslt = etree.Element(f"{{{XSL}}}stylesheet", nsmap=nsmap)
    xslt.set("version", "3.0")
    xslt.set("exclude-result-prefixes", "#all")
    for fn in sch.iterfind(f"{{{XSL}}}function"):
        xslt.append(fn.__copy__())
    for let in sch.iterfind(f"{{{SCH}}}let"):
        xslt.append(E("variable", name=let.get("name"), select=let.get("value")))
    root_t = etree.SubElement(xslt, f"{{{XSL}}}template", match="/")
    out = etree.SubElement(root_t, f"{{{OUT}}}failures")
    patterns = list(sch.iterfind(f"{{{SCH}}}pattern"))
    for n, _ in enumerate(patterns):
        etree.SubElement(out, f"{{{XSL}}}apply-templates", select="//*", mode=f"p{n}")
    for n, pattern in enumerate(patterns):
        rules = list(pattern.iterfind(f"{{{SCH}}}rule"))
        for k, rule in enumerate(rules):
            t = etree.SubElement(
                xslt, f"{{{XSL}}}template", match=rule.get("context"), mode=f"p{n}",
                priority=str(1000 - k),
            )
            for let in rule.iterfind(f"{{{SCH}}}let"):
                t.append(E("variable", name=let.get("name"), select=let.get("value")))
            for a in rule:
                if not isinstance(a.tag, str) or etree.QName(a).localname not in ("assert", "report"):
                    continue
                test = a.get("test")
                cond = f"not({test})" if etree.QName(a).localname == "assert" else test
                iff = etree.SubElement(t, f"{{{XSL}}}if", test=cond)
                f = etree.SubElement(iff, f"{{{OUT}}}failed", id=a.get("id") or "")
                etree.SubElement(f, f"{{{XSL}}}attribute", name="location", select="path()")
                text = etree.SubElement(f, f"{{{OUT}}}text")
                if a.text:
                    etree.SubElement(text, f"{{{XSL}}}text").text = a.text
                for child in a:
                    if isinstance(child.tag, str) and etree.QName(child).localname == "value":
                        etree.SubElement(text, f"{{{XSL}}}value-of", select=child.get("select"))
                    elif isinstance(child.tag, str) and etree.QName(child).localname == "name":
                        etree.SubElement(text, f"{{{XSL}}}value-of", select=f"name({child.get('path') or '.'})")
                    if child.tail:
                        etree.SubElement(text, f"{{{XSL}}}text").text = child.tail
        etree.SubElement(xslt, f"{{{XSL}}}template", match="node()|@*", mode=f"p{n}", priority="-10")
    return etree.tostring(xslt, encoding="unicode")


@lru_cache(maxsize=None)
def _compiled(kind: str):
    saxonche = pytest.importorskip("saxonche")
    sch = shared_file("scapval", "rules", "scap", f"{kind}-data-stream-1.3.sch")
    req = shared_file("scapval", "rules", "requirements", "scapval-scap-1.3-requirements.xml")
    proc = saxonche.PySaxonProcessor(license=False)
    xslt = proc.new_xslt30_processor()
    executable = xslt.compile_stylesheet(stylesheet_text=_compile(sch))
    return proc, executable, _requirement_levels(req)


def scapval_results(path: Path, kind: str = "result") -> list[Failure]:
    """Every failed SCAPVal assert of the ``kind`` (result/source) data-stream Schematron."""
    proc, executable, levels = _compiled(kind)
    doc = proc.parse_xml(xml_file_name=str(path))
    out = executable.transform_to_string(xdm_node=doc)
    failures = []
    for f in etree.fromstring(out.encode()).iter(f"{{{OUT}}}failed"):
        text = "".join(f.itertext()).strip()
        req = text.split("|", 1)[0].strip()
        failures.append(Failure(req, levels.get(req, "MUST"), f.get("id"), f.get("location"), text))
    return failures


def scapval_errors(path: Path, kind: str = "result") -> list[Failure]:
    return [f for f in scapval_results(path, kind) if f.level == "MUST"]
