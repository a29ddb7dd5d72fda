"""SRC-208/210/213/215: the definitions a definition extends, directly or not, looked up as
SCAPVal looks them up (//*[@id = definition_ref] in the same oval_definitions)."""

from __future__ import annotations

from lxml import etree

from stigscap.schemas import scap_source
from stigscap.schemas.scap_requirements import Findings

OVAL = "http://oval.mitre.org/XMLSchema/oval-definitions-5"

DOC = f"""<oval_definitions xmlns="{OVAL}">
 <definitions>
  <definition id="oval:x:def:1" class="compliance"><criteria>
   <extend_definition definition_ref="oval:x:def:2"/></criteria></definition>
  <definition id="oval:x:def:2" class="inventory"><criteria>
   <extend_definition definition_ref="oval:x:def:3"/></criteria></definition>
  <definition id="oval:x:def:3" class="vulnerability"/>
  <definition id="oval:x:def:4" class="compliance"><criteria>
   <extend_definition definition_ref="oval:x:def:5"/></criteria></definition>
  <definition id="oval:x:def:6" class="compliance"><criteria>
   <extend_definition definition_ref="oval:x:def:1"/></criteria></definition>
 </definitions>
 <tests><other id="oval:x:def:5" class="patch"/><other id="oval:x:def:1" class="patch"/></tests>
</oval_definitions>"""


def _failures() -> list[tuple[str, str, str]]:
    """(requirement, the @id of the definition judged, message) of each failure."""
    root = etree.fromstring(DOC)
    findings = Findings("t.xml")
    ids = scap_source._OvalIds()
    for d in root.iter(f"{{{OVAL}}}definition"):
        scap_source.oval_extends(d, ids, findings)
    return [(p.rule, p.context.get("id"), p.message) for p in findings.problems]


def test_extended_definitions_are_followed_and_judged_by_class():
    got = _failures()
    # def:1 reaches def:3 (vulnerability) through def:2: a compliance definition may extend
    # compliance and inventory definitions only; an inventory one, inventory only
    assert ("SRC-208-1", "oval:x:def:1") in {(r, d) for r, d, m in got if "'oval:x:def:3'" in m}
    assert ("SRC-210-1", "oval:x:def:2") in {(r, d) for r, d, m in got if "'oval:x:def:3'" in m}
    assert not any("extends (directly or not) 'oval:x:def:2'" in m for _, _, m in got)


def test_an_id_other_elements_carry_too_is_looked_up_among_all_elements():
    """Only a document the XSD refuses has a definition_ref that some element other than a
    definition carries; the lookup still finds every element with that @id, in document
    order, as //*[@id = ref] does."""
    got = _failures()
    # def:5 is carried by a non-definition element of class 'patch' only
    assert ("SRC-208-1", "oval:x:def:4") in {(r, d) for r, d, m in got
                                             if "'oval:x:def:5' of class 'patch'" in m}
    # def:1 is a compliance definition and also the @id of a 'patch' element: def:6 extends both
    assert ("SRC-208-1", "oval:x:def:6") in {(r, d) for r, d, m in got
                                             if "'oval:x:def:1' of class 'patch'" in m}
    root = etree.fromstring(DOC)
    doc_order = root.xpath("//*[@id = 'oval:x:def:1']")
    assert scap_source._OvalIds().lookup(root, "oval:x:def:1") == doc_order
    assert len(doc_order) == 2
