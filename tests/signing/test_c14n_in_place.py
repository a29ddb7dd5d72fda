"""Canonicalisation in place: signing and verifying digest each element where it stands in the
document (Exclusive C14N), streamed, instead of canonicalising a standalone copy of it (what
signxml did, for every reference, after copying the whole document). The two must give the same
octets, and no whole-document copy may be left on the SDS paths. Inclusive C14N goes through a
copy of the element (libxml2's in-place inclusive C14N of an inner element is wrong)."""

from __future__ import annotations

import hashlib
import random

import pytest
from lxml import etree

from stigscap.evaluator.signing import core
from stigscap.evaluator.signing.signer import sign_document
from stigscap.evaluator.signing.verifier import verify_document
from stigscap.schemas.xmlio import parse_xml_file, serialize
from tests.signing.conftest import SIGN_TIME


def _standalone(el: etree._Element) -> etree._Element:
    """The element on its own, as signxml made it: serialised (lxml writes every namespace
    declaration in scope on it) and parsed again."""
    return etree.fromstring(etree.tostring(el), core.huge_parser())


def _elements(root: etree._Element):
    """Every element a reference can name (id, Id, ID) plus every SignedInfo."""
    for el in root.iter(etree.Element):
        if el.get("id") or el.get("Id") or el.get("ID") or el.tag == core.dsig("SignedInfo"):
            yield el


def _has_xml_attr_ancestor(el: etree._Element) -> bool:
    return any(name.startswith(f"{{{core.XML_NS}}}") for a in el.iterancestors() for name in a.attrib)


@pytest.mark.parametrize("which", ["our_sds", "signed_sds", "signed_arf"])
def test_in_place_c14n_equals_the_standalone_copy(request, which):
    root = parse_xml_file(request.getfixturevalue(which)).getroot()
    checked = 0
    for el in _elements(root):
        copy = _standalone(el)
        for alg in (core.EXC_C14N, core.C14N11):
            if alg in core.INCLUSIVE_C14N and _has_xml_attr_ancestor(el):
                continue   # refused for inclusive C14N (core.check_no_xml_attr_ancestors)
            octets = etree.tostring(copy, method="c14n", exclusive=alg == core.EXC_C14N,
                                    with_comments=False)
            assert core.c14n_bytes(el, alg) == octets, core.where(el)
            expected = core.digest_b64(octets, core.SHA256)
            assert core.c14n_digest(el, alg, core.SHA256) == expected, core.where(el)
            checked += 1
    # the data stream, its components, signature parts, ARF reports, assets, requests...
    assert checked > 20


def _random_document(rng: random.Random) -> str:
    """Nested elements with default namespaces, undeclarations, prefixes rebound at any level,
    prefixed and unprefixed attributes."""
    uris = ["urn:a", "urn:b", "urn:c"]

    def element(depth: int) -> str:
        decls = []
        if rng.random() < 0.35:
            decls.append(f'xmlns="{rng.choice([*uris, ""])}"')
        for p in ("a", "b", "p"):
            if rng.random() < 0.2:
                decls.append(f'xmlns:{p}="{rng.choice(uris)}"')
        name = rng.choice(["", "", "a:", "b:", "p:"]) + rng.choice(["x", "y"])
        attr = f' {rng.choice(["a:", "b:", ""])}at="1"' if rng.random() < 0.3 else ""
        kids = "".join(element(depth + 1) for _ in range(rng.randint(0, 3))) if depth < 4 else "t"
        return f"<{name} {' '.join(decls)}{attr}>{kids}</{name}>"
    return f'<root xmlns:a="urn:a" xmlns:b="urn:b" xmlns:p="urn:c">{element(0)}</root>'


def test_exclusive_c14n_in_place_equals_the_copy_on_random_namespace_layouts():
    checked = 0
    for seed in range(120):
        root = etree.fromstring(_random_document(random.Random(seed)))
        for el in root.iter():
            for prefixes in (None, ["a"], ["#default", "b"]):
                copy = etree.tostring(_standalone(el), method="c14n", exclusive=True,
                                      inclusive_ns_prefixes=prefixes)
                assert core.c14n_bytes(el, core.EXC_C14N, prefixes) == copy
                assert core.c14n_digest(el, core.EXC_C14N, core.SHA256, prefixes) == \
                    core.digest_b64(copy, core.SHA256)
                checked += 1
    assert checked > 3000


def test_inclusive_c14n_of_an_inner_element_has_no_spurious_undeclaration():
    """Canonical XML: dc:p inherits the default namespace urn:u, as its parent x does, so no
    xmlns="" is rendered on it (libxml2 in place writes one; the copy is right)."""
    root = etree.fromstring('<r xmlns="urn:u" xmlns:dc="urn:d"><B><x><dc:p/></x></B></r>')
    expected = b'<B xmlns="urn:u" xmlns:dc="urn:d"><x><dc:p></dc:p></x></B>'
    assert core.c14n_bytes(root[0], core.C14N11) == expected
    assert core.c14n_digest(root[0], core.C14N11, core.SHA256) == \
        core.digest_b64(expected, core.SHA256)


def test_inclusive_c14n_of_an_element_carries_the_namespaces_in_scope(signed_arf):
    """What makes the in-place and the copied octets equal for inclusive C14N: the element's
    canonical form declares the namespaces of its ancestors (here the ARF's), as the copy's
    root does."""
    root = parse_xml_file(signed_arf).getroot()
    request = root.find("{*}report-requests/{*}report-request")
    octets = core.c14n_bytes(request, core.C14N11)
    head = octets.split(b">", 1)[0]
    for prefix, uri in root.nsmap.items():
        decl = b"xmlns" + (b":" + prefix.encode() if prefix else b"") + b'="' + uri.encode()
        assert decl in head
    assert core.c14n_bytes(request, core.EXC_C14N).split(b">", 1)[0].count(b"xmlns") < \
        head.count(b"xmlns")


class _CopySpy:
    """Records the size of every serialisation and parse lxml does (the real functions run)."""

    def __init__(self, monkeypatch):
        self.sizes: list[int] = []
        real_tostring, real_fromstring = etree.tostring, etree.fromstring

        def tostring(node, *args, **kwargs):
            out = real_tostring(node, *args, **kwargs)
            self.sizes.append(len(out))
            return out

        def fromstring(text, *args, **kwargs):
            self.sizes.append(len(text))
            return real_fromstring(text, *args, **kwargs)

        monkeypatch.setattr(etree, "tostring", tostring)
        monkeypatch.setattr(etree, "fromstring", fromstring)


def test_signing_and_verifying_a_data_stream_copy_no_document(our_sds, pki, monkeypatch):
    """Before, signxml serialised and re-parsed the whole collection for every reference
    (ten times for one signature), and the verifier did the same."""
    tree = parse_xml_file(our_sds)
    size = len(serialize(tree, pretty=False))
    spy = _CopySpy(monkeypatch)
    sign_document(tree.getroot(), pki["rsa"].key, [pki["rsa"].cert], timestamp=SIGN_TIME)
    signing = list(spy.sizes)
    spy.sizes.clear()
    report = verify_document(tree.getroot(), [pki["rsa"].cert])
    monkeypatch.undo()
    assert report.valid, report.lines()
    # only small pieces (the canonical SignedInfo; signxml's copy of the signature element)
    assert max(signing, default=0) < size / 10, (signing, size)
    assert max(spy.sizes, default=0) < size / 10, (spy.sizes, size)


def test_streamed_digest_of_a_document_equals_the_digest_of_its_octets(signed_arf):
    tree = parse_xml_file(signed_arf)
    octets = etree.tostring(tree, method="c14n", exclusive=False, with_comments=False)
    assert core.c14n_digest(tree, core.C14N11, core.SHA256) == \
        core.digest_b64(octets, core.SHA256)
    assert hashlib.sha256(octets).digest() != hashlib.sha256(b"").digest()
