"""NIST SCAPVal's SCAP 1.3 result-data-stream Schematron as a test oracle.

SCAPVal itself is Java; its rules are an XSLT-2 Schematron (``queryBinding="xslt2"``,
``current()``, ``every … satisfies``, ``xsl:function``s) that lxml's XSLT 1 cannot run. This
compiles the schema into an XSLT 3 stylesheet (one template per rule, first matching rule per
node as Schematron's one-pattern semantics ask; the schema's own ``xsl:function`` elements are
copied) and runs it with SaxonC-HE (PyPI ``saxonche``). A failed assert counts as an *error*
when its derived requirement in SCAPVal's requirements file is a MUST (as SCAPVal counts them),
else as a warning.

The source-data-stream Schematron needs two things SCAPVal's Java provides: its
``java:isEqualOrSuperset`` CPE-name comparison (here an XPath restatement of NISTIR 7696
name matching, ``_CPE_FUNCTIONS``) and its data feeds directory (``$datafiles_directory``:
here ../shared/scapval/rules/data_feeds; the NVD CCE feed SRC-74-1 reads is not in that
snapshot, so SRC-74-1 is not evaluated: its assert passes when the feed is absent).

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


# SCAPVal's Java extension java:isEqualOrSuperset(source, target): is every attribute of the
# CPE name `source` ANY or equal to that of `target` (NISTIR 7696 SUPERSET or EQUAL)? Both
# bindings: URI (cpe:/part:vendor:product:version:update:edition:language, "~"-packed edition,
# empty or missing = ANY, "-" = NA) and 2.3 formatted strings ("*" = ANY, "-" = NA, "\:" escaped).
_CPE_FUNCTIONS = """
<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xcf="nist:scap:xslt:function">
  <xsl:function name="xcf:cpe-attrs" as="xsd:string*">
    <xsl:param name="name" as="xsd:string?"/>
    <xsl:variable name="n" select="lower-case(string($name))"/>
    <xsl:choose>
      <xsl:when test="starts-with($n, 'cpe:2.3:')">
        <xsl:variable name="parts" select="tokenize(replace(substring($n, 9), '\\\\:', '&#xE000;'), ':')"/>
        <xsl:sequence select="for $i in 1 to 11 return
            (if (count($parts) lt $i or $parts[$i] = ('*', '')) then '#ANY'
             else if ($parts[$i] eq '-') then '#NA'
             else replace(replace($parts[$i], '&#xE000;', ':'), '\\\\', ''))"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:variable name="parts" select="tokenize(substring-after($n, 'cpe:/'), ':')"/>
        <xsl:variable name="ed" select="if (starts-with($parts[6], '~')) then tokenize(substring($parts[6], 2), '~') else ($parts[6])"/>
        <xsl:variable name="v" select="(for $i in 1 to 5 return string($parts[$i]), string($ed[1]), string($parts[7]), for $i in 2 to 5 return string($ed[$i]))"/>
        <xsl:sequence select="for $x in $v return (if ($x eq '') then '#ANY' else if ($x eq '-') then '#NA' else $x)"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:function>
  <xsl:function name="xcf:cpe-equal-or-superset" as="xsd:boolean">
    <xsl:param name="source"/>
    <xsl:param name="target"/>
    <xsl:variable name="s" select="xcf:cpe-attrs(string($source))"/>
    <xsl:variable name="t" select="xcf:cpe-attrs(string($target))"/>
    <xsl:sequence select="every $i in 1 to 11 satisfies ($s[$i] eq '#ANY' or $s[$i] eq $t[$i])"/>
  </xsl:function>
</xsl:stylesheet>
"""


def _fix_test(test: str, datafeeds: str) -> str:
    """The source Schematron's calls into SCAPVal's Java and data feeds, restated (see above)."""
    test = test.replace("function-available('java:isEqualOrSuperset')", "true()")
    test = test.replace("java:isEqualOrSuperset(", "xcf:cpe-equal-or-superset(")
    feed = "document(concat($datafiles_directory,'/nvdcce-0.1-feed.xml'))"
    if feed in test:
        test = (f"not(doc-available(concat($datafiles_directory,'/nvdcce-0.1-feed.xml'))) or "
                f"({test})")
    return test


def _compile(sch_path: Path, datafeeds: Path | None = None,
             rebind: dict[str, str] | None = None) -> str:
    """Schematron (one pattern, asserts/reports, sch:value-of, sch:name) → XSLT 3 text.
    `rebind` maps a prefix to another namespace than the Schematron's own."""
    sch = etree.parse(str(sch_path)).getroot()
    nsmap = {"xsl": XSL, "svrl": OUT}
    for ns in sch.iterfind(f"{{{SCH}}}ns"):
        nsmap[ns.get("prefix")] = (rebind or {}).get(ns.get("prefix"), ns.get("uri"))
    nsmap.setdefault("xcf", "nist:scap:xslt:function")
    nsmap.setdefault("xsd", "http://www.w3.org/2001/XMLSchema")
    E = lambda tag, **kw: etree.Element(f"{{{XSL}}}{tag}", {k.rstrip("_"): v for k, v in kw.items()})  # noqa: E731
    xslt = etree.Element(f"{{{XSL}}}stylesheet", nsmap=nsmap)
    # An XSLT-1 binding Schematron (the component ones) runs with XPath 1.0 semantics:
    # Saxon's backwards-compatible mode for a version="1.0" stylesheet.
    xslt.set("version", "3.0" if sch.get("queryBinding") in ("xslt2", "xslt3") else "1.0")
    xslt.set("exclude-result-prefixes", "#all")
    for fn in sch.iterfind(f"{{{XSL}}}function"):
        xslt.append(fn.__copy__())
    for fn in etree.fromstring(_CPE_FUNCTIONS):
        xslt.append(fn)
    feeds = datafeeds.as_uri() if datafeeds is not None else "datafiles"
    for let in sch.iterfind(f"{{{SCH}}}let"):
        value = let.get("value")
        if let.get("name") == "datafiles_directory":
            value = f"'{feeds}'"
        xslt.append(E("variable", name=let.get("name"), select=value))
    root_t = etree.SubElement(xslt, f"{{{XSL}}}template", match="/")
    out = etree.SubElement(root_t, f"{{{OUT}}}failures")
    patterns = list(sch.iterfind(f"{{{SCH}}}pattern"))
    for n, _ in enumerate(patterns):
        etree.SubElement(out, f"{{{XSL}}}apply-templates", select="//*", mode=f"p{n}")
    counter = 0
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
                test = _fix_test(a.get("test"), feeds)
                cond = f"not({test})" if etree.QName(a).localname == "assert" else test
                iff = etree.SubElement(t, f"{{{XSL}}}if", test=cond)
                counter += 1
                f = etree.SubElement(iff, f"{{{OUT}}}failed", id=a.get("id") or "",
                                     pattern=pattern.get("id") or "", number=str(counter),
                                     flag=a.get("flag") or "")
                etree.SubElement(f, f"{{{XSL}}}attribute", name="location", select="path()")
                text = etree.SubElement(f, f"{{{OUT}}}text")
                if a.text:
                    etree.SubElement(text, f"{{{XSL}}}text").text = a.text
                for child in a:
                    if isinstance(child.tag, str) and etree.QName(child).localname in ("value", "value-of"):
                        etree.SubElement(text, f"{{{XSL}}}value-of", select=child.get("select"))
                    elif isinstance(child.tag, str) and etree.QName(child).localname == "name":
                        etree.SubElement(text, f"{{{XSL}}}value-of", select=f"name({child.get('path') or '.'})")
                    if child.tail:
                        etree.SubElement(text, f"{{{XSL}}}text").text = child.tail
        etree.SubElement(xslt, f"{{{XSL}}}template", match="node()|@*", mode=f"p{n}", priority="-10")
    return etree.tostring(xslt, encoding="unicode")


RULESETS = {"source": "scap/source-data-stream-1.3.sch", "result": "scap/result-data-stream-1.3.sch"}
# SCAPVal's OCIL Schematron binds prefix ocil to .../ocil/2 (the check system URI), so it never
# matches OCIL 2.0 documents; "…@2.0" runs its rules with the OCIL 2.0 namespace instead.
REBIND = {"@2.0": {"ocil": "http://scap.nist.gov/schema/ocil/2.0"}}


@lru_cache(maxsize=None)
def _compiled(ruleset: str):
    saxonche = pytest.importorskip("saxonche")
    name, _, suffix = RULESETS.get(ruleset, ruleset).partition("@")
    sch = shared_file("scapval", "rules", *name.split("/"))
    req = shared_file("scapval", "rules", "requirements", "scapval-scap-1.3-requirements.xml")
    proc = saxonche.PySaxonProcessor(license=False)
    xslt = proc.new_xslt30_processor()
    feeds = sch.parent.parent / "data_feeds"
    text = _compile(sch, feeds, REBIND.get("@" + suffix) if suffix else None)
    executable = xslt.compile_stylesheet(stylesheet_text=text)
    return proc, executable, _requirement_levels(req)


def component_key(ruleset: str, pattern: str, number: str) -> str:
    """The id a component-Schematron assert has in stigscap's coverage table: the pattern id
    for the XCCDF 1.2 Schematron (unique there), else the assert's position in its file."""
    name = Path(ruleset.partition("@")[0]).stem  # xccdf-1.2, ocil-2.0, tmsad-1.0
    if name == "xccdf-1.2" and pattern:
        return f"{name}:{pattern}"
    return f"{name}#{number}"


def scapval_results(path: Path | bytes, kind: str = "result") -> list[Failure]:
    """Every failed SCAPVal assert of a Schematron: ``source`` / ``result`` (the SCAP 1.3
    data-stream rules) or a path under rules/ (``other/xccdf-1.2.sch``, …). For the component
    Schematrons the requirement is ``component_key`` and the level comes from the assert's
    flag / "Warning:" prefix (MUST unless marked a warning)."""
    proc, executable, levels = _compiled(kind)
    if isinstance(path, bytes):
        doc = proc.parse_xml(xml_text=path.decode("utf-8"))
    else:
        doc = proc.parse_xml(xml_file_name=str(path))
    out = executable.transform_to_string(xdm_node=doc)
    component = kind not in RULESETS
    failures = []
    for f in etree.fromstring(out.encode()).iter(f"{{{OUT}}}failed"):
        text = " ".join("".join(f.itertext()).split())
        if component:
            req = component_key(kind, f.get("pattern"), f.get("number"))
            warn = f.get("flag") in ("WARNING", "INFO") or text.startswith("Warning")
            level = "SHOULD" if warn else "MUST"
        else:
            req = text.split("|", 1)[0].strip()
            level = levels.get(req, "MUST")
        failures.append(Failure(req, level, f.get("id"), f.get("location"), text))
    return failures


def scapval_errors(path: Path, kind: str = "result") -> list[Failure]:
    return [f for f in scapval_results(path, kind) if f.level == "MUST"]
