"""An exclusive-C14N InclusiveNamespaces PrefixList naming the default namespace ("#default",
as the Exclusive XML Canonicalization spec spells it) is passed to libxml2 as written, the way
xmlsec1 passes it; it once became None, which lxml refuses (TypeError: the verifier failed)."""

from __future__ import annotations

from lxml import etree

from stigscap.evaluator.signing.core import EXC_C14N, EXC_C14N_NS, _c14n, inclusive_prefixes

TRANSFORM = (f'<ds:Transform xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="{EXC_C14N}">'
             f'<ec:InclusiveNamespaces xmlns:ec="{EXC_C14N_NS}" PrefixList="#default p"/>'
             '</ds:Transform>')
DOC = '<a xmlns="urn:x" xmlns:p="urn:p" xmlns:q="urn:q"><q:b>text</q:b></a>'


def test_default_prefix_is_canonicalized_as_libxml2_does():
    prefixes = inclusive_prefixes(etree.fromstring(TRANSFORM))
    assert prefixes == ["#default", "p"]
    target = etree.fromstring(DOC)[0]
    got = _c14n(target, EXC_C14N, prefixes)
    assert got == etree.tostring(target, method="c14n", exclusive=True,
                                 inclusive_ns_prefixes=["#default", "p"])
    assert b'xmlns:p="urn:p"' in got          # the listed prefix is kept
    assert got != _c14n(target, EXC_C14N, None)
