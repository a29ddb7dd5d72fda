"""The checks' tag index answers exactly what `el.iter(*tags)` answers, and the checks give
the same findings with it as without it."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from lxml import etree

from stigscap.schemas import scap_checks, semantic, tag_index
from stigscap.schemas.xmlio import parse_xml_bytes

FIXTURES = Path(__file__).with_name("fixtures")
D = "http://scap.nist.gov/schema/scap/source/1.2"
X = "http://checklists.nist.gov/xccdf/1.2"
OCIL = "http://scap.nist.gov/schema/ocil/2.0"

# A collection whose parts have every shape the index distinguishes: a component with one
# document, one with two element children (no "document" shortcut), comments and text
# between elements, a checklists element in a foreign namespace, nested matches.
SHAPES = f"""<ds:data-stream-collection xmlns:ds="{D}" xmlns:x="{X}" xmlns:o="{OCIL}"
    xmlns:f="urn:foreign">
  <!-- a comment -->
  <ds:data-stream id="s1"><ds:checklists><ds:component-ref id="r1"/></ds:checklists>
    <f:checklists/></ds:data-stream>
  <ds:component id="c1"><x:Benchmark id="b1"><x:title>t</x:title>
      <x:Rule id="r1"><x:title>t<!-- split -->u</x:title><x:check system="s">
        <x:check-content-ref href="#c2"/></x:check></x:Rule>
      <x:Group id="g1"><x:Rule id="r2"/><x:Value id="v1"/></x:Group></x:Benchmark>
  </ds:component>
  <ds:component id="c2"><o:ocil><o:questionnaire id="q1"/></o:ocil><x:Rule id="stray"/>
  </ds:component>
  <ds:component id="c3"/>
  <x:Rule id="top-level"/>
</ds:data-stream-collection>"""

QUERIES = [
    (f"{{{X}}}Rule",), (f"{{{X}}}title",), (f"{{{D}}}component",), (f"{{{X}}}Benchmark",),
    (f"{{{X}}}Rule", f"{{{X}}}Group", f"{{{X}}}Value"), ("{*}checklists",),
    (f"{{{D}}}checklists", f"{{{X}}}check-content-ref"), (f"{{{OCIL}}}questionnaire",),
    (f"{{{D}}}data-stream-collection", f"{{{X}}}Rule"), (f"{{{X}}}Benchmark", f"{{{D}}}component"),
    ("{urn:not-indexed}x",), (f"{{{X}}}Rule", "{urn:not-indexed}x"),
]


def _tags_of(found):
    return [(el.tag, el.get("id")) for el in found]


def test_every_element_and_query_as_lxml_answers_it():
    root = etree.fromstring(SHAPES)
    elements = list(root.iter(etree.Element))
    with tag_index.indexed(root):
        for el, tags in itertools.product(elements, QUERIES):
            got = list(tag_index.iter_tags(el, *tags))
            assert _tags_of(got) == _tags_of(el.iter(*tags)), (el.tag, el.get("id"), tags)
            assert all(a is b for a, b in zip(got, el.iter(*tags)))
            assert list(tag_index.iter_tags(el, *tags)) == got   # the cached answer
    # outside the block (and for another document inside it) it is lxml's own walk
    walk = etree.ElementDepthFirstIterator
    other = etree.fromstring(SHAPES)
    with tag_index.indexed(root):
        assert not isinstance(tag_index.iter_tags(root, f"{{{X}}}Rule"), walk)
        assert isinstance(tag_index.iter_tags(other, f"{{{X}}}Rule"), walk)
        assert _tags_of(tag_index.iter_tags(other, f"{{{X}}}Rule")) == \
            _tags_of(other.iter(f"{{{X}}}Rule"))
    assert isinstance(tag_index.iter_tags(root, f"{{{X}}}Rule"), walk)


def test_the_index_is_used_and_dropped():
    root = etree.fromstring(SHAPES)
    with tag_index.indexed(root):
        first = tag_index.iter_tags(root, f"{{{X}}}Rule")
        index = tag_index._local.index
        assert index._parts is not None and root in index._parts
        assert [e.get("id") for e in first] == ["r1", "r2", "stray", "top-level"]
    assert getattr(tag_index._local, "index", None) is None


def _findings(root, source):
    return [(p.line, p.path, p.rule, p.message, p.severity)
            for p in semantic.run(root, "sds", source) + scap_checks.run(root, "sds", source)]


@pytest.mark.parametrize("path", [
    FIXTURES / "mini-ds.xml", FIXTURES / "family-ds.xml",
    Path("/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml"),
    Path("/usr/share/xml/scap/ssg/content/ssg-firefox-ds.xml"),
], ids=lambda p: p.name)
def test_checks_find_the_same_with_the_index(path):
    if not path.exists():
        pytest.skip(f"{path} not installed")
    root = parse_xml_bytes(path.read_bytes(), str(path), huge_tree=True).getroot()
    plain = _findings(root, str(path))
    with tag_index.indexed(root):
        indexed = _findings(root, str(path))
    assert indexed == plain
    assert path.name.startswith(("mini", "family")) or len(plain) > 50
