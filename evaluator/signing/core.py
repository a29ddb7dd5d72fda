"""XML-DSig machinery shared by the SCAP source data stream and ARF signature layouts.

Who does what. Canonicalisation is lxml's (libxml2's) C14N, streamed into hashlib, applied to
each referenced element where it stands in the document (Exclusive C14N; see "In place" below):
the document is not copied, and a component is canonicalised and digested once. Signing (signer.py) builds
SignedInfo, the references and KeyInfo here and signs the canonical SignedInfo with
`cryptography` (RSA PKCS#1 v1.5 / ECDSA, SHA-256). On verification signxml checks the
signature value over SignedInfo and the certificate (pinned, or a chain to a CA bundle, and the
validity dates); every reference digest (SignedInfo's and the Manifest's) is recomputed here.

What signxml cannot do, and therefore this module does:
  * XPath Filter 2.0 transforms (RES-313): the URI="" reference of an ARF signature is digested
    here (`filtered_document_digest`), on signing and on verification.
  * dsig:Manifest references (SRC-284): XML-DSig core leaves Manifest validation to the
    application, and neither signxml nor xmlsec1 checks them; `manifest_reference_digest`
    recomputes them on verification.
  * Reference @Type attributes (TMSAD) and dsig:Object placement.

In place, for Exclusive C14N. lxml canonicalises an element inside a document as the apex of
its own document subset: the namespaces in scope are available to it and exclusive C14N renders
those the subtree visibly uses, exactly what signxml obtained by serialising the element on its
own (lxml writes every in-scope declaration on it) and parsing it again. Inclusive C14N is not
done in place: libxml2 (2.14, through lxml's temporary document around the element) then writes
a spurious xmlns="" on prefixed elements two or more levels below the element whenever a
default namespace is in scope; a standalone copy canonicalises correctly (as xmlsec1 does in
the document), so inclusive canonicalisation of an element goes through a copy of that element
(SignedInfo, SignatureProperties and, for signatures made with inclusive C14N by others, the
referenced elements). tests/signing/test_c14n_in_place.py holds both, element by element.

Canonicalisation. A source data stream signature uses Exclusive XML Canonicalization 1.0
(SignedInfo and every reference): its digests do not depend on namespace declarations of the
elements around the collection, so the signature still verifies, in place, once the collection
is embedded in an ARF report as a report request (RES-300/RES-323). Inclusive C14N 1.1 (what
TMSAD prefers, and what stigscap used before) pulls the ARF's xmlns:arf/core/ai into every
digest there. The ARF signature, over a whole document that is never embedded, keeps C14N 1.1.

Canonical XML 1.1 vs lxml: lxml exposes C14N 1.0 (and exclusive/2.0), not 1.1; signxml itself
canonicalises "C14N 1.1" with lxml's 1.0 serialiser. The two differ only in how xml:* attributes
of omitted ancestors are inherited (xml:id, xml:base fix-up). `check_no_xml_attr_ancestors` makes
that precondition explicit: a signed element whose ancestors carry xml:* attributes is refused.

Text nodes over 10 MB: documents are read with lxml's huge_tree (schemas/xmlio); every copy made
here (the filtered ARF document, elements for inclusive C14N), and signxml's own re-parsing (see
`huge_parser`), uses it too, so what can be read can be signed and verified.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree

from stigscap.schemas import namespaces as ns
from stigscap.schemas.clock import as_utc
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import element_text

XML_NS = ns.XML
DSIG11 = ns.DSIG11

C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
C14N10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
EXC_C14N = ns.EXC_C14N
C14N_ALGORITHMS = {C14N11, C14N10, EXC_C14N}
INCLUSIVE_C14N = {C14N11, C14N10}
EXC_C14N_NS = EXC_C14N   # namespace of ec:InclusiveNamespaces

FILTER2 = ns.DSIG_FILTER2
ENVELOPED = ns.DSIG + "enveloped-signature"

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SIGNATURE_METHODS = {
    RSA_SHA256, ECDSA_SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
}
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
DIGEST_METHODS = {
    SHA256: "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}

TYPE_OBJECT = ns.DSIG + "Object"
TYPE_MANIFEST = ns.DSIG + "Manifest"
TYPE_SIGPROPS = ns.DSIG + "SignatureProperties"

# RES-313: the two XPath Filter 2.0 "subtract" expressions, prefix arf = ARF 1.1 namespace.
ARF_FILTER_XPATHS = (
    "/arf:asset-report-collection/arf:extended-infos"
    "[count(arf:extended-info[dsig:Signature]) = count(*)]",
    "/arf:asset-report-collection/arf:extended-infos/arf:extended-info[dsig:Signature]",
)

# Digest of empty input, per algorithm: a reference whose transforms select nothing (an
# XPath-Filter2 intersect with "/" in xmlsec1 1.2.37) signs nothing at all (../shared/reference/tool-quirks.md §7).
EMPTY_DIGESTS = {
    base64.b64encode(hashlib.new(name).digest()).decode()
    for name in ("sha1", "sha224", "sha256", "sha384", "sha512")
}


def dsig(tag: str) -> str:
    return f"{{{ns.DSIG}}}{tag}"


def where(el: etree._Element) -> str:
    """Short human label of an element: prefix:name, id and line."""
    q = etree.QName(el)
    prefix = el.prefix + ":" if el.prefix else ""
    ident = el.get("id") or el.get("Id") or el.get("ID")
    text = f"{prefix}{q.localname}"
    if ident:
        text += f" '{ident}'"
    if el.sourceline:
        text += f" (line {el.sourceline})"
    return text


# ---------------------------------------------------------------- ids and references

ID_LOCAL_NAMES = ("id", "Id", "ID")


def id_index(root: etree._Element) -> dict[str, list[etree._Element]]:
    """Every value of an id-like attribute (id, Id, ID in any namespace, xml:id) -> elements.

    This is the widest reading any verifier might use (xmlsec1 with --id-attr, signxml's
    local-name() lookup, libxml2's xml:id): a `#x` URI is only trusted when x is unique here.
    """
    index: dict[str, list[etree._Element]] = {}
    for value in _ID_XPATH(root):
        index.setdefault(str(value), []).append(value.getparent())
    return index


# local-name() is id, Id or ID (one local-name() call per attribute, not three: the whole
# document is scanned; '|' cannot occur in a name, so only those three match)
_ID_XPATH = etree.XPath("//@*[contains('|id|Id|ID|', concat('|', local-name(), '|'))]")


def resolve_unique(index: dict[str, list[etree._Element]], uri: str) -> etree._Element:
    """Resolve a same-document `#id` URI; ambiguous or dangling ids are errors."""
    if not uri.startswith("#") or len(uri) < 2:
        raise ValueError(f"reference URI {uri!r} is not a same-document '#id' reference")
    hits = index.get(uri[1:], [])
    if not hits:
        raise ValueError(f"reference URI {uri} points to no element")
    if len(hits) > 1:
        lines = ", ".join(where(h) for h in hits)
        raise ValueError(f"reference URI {uri} is ambiguous: id used {len(hits)} times ({lines})")
    return hits[0]


def check_no_xml_attr_ancestors(el: etree._Element) -> None:
    """C14N 1.0 (what lxml implements) equals C14N 1.1 for `el` when no ancestor has xml:*."""
    for anc in el.iterancestors():
        for name in anc.attrib:
            if name.startswith(f"{{{XML_NS}}}"):
                raise ValueError(
                    f"{where(anc)} carries {name.split('}')[1]!r} (xml namespace) above signed "
                    f"element {where(el)}; Canonical XML 1.1 inheritance of it is not supported")


# ---------------------------------------------------------------- canonicalisation helpers

def huge_parser() -> etree.XMLParser:
    """The parser for every copy made while signing or verifying: the safe reader's settings
    (schemas/xmlio) with huge_tree, so text nodes over 10 MB that reading accepted are accepted
    here too (lxml's default parser, which signxml uses, refuses them)."""
    from stigscap.schemas.xmlio import safe_parser
    return safe_parser(huge_tree=True)


def reparse(node) -> etree._Element:
    """A standalone copy of an element or tree (serialised and parsed again)."""
    return etree.fromstring(etree.tostring(node), huge_parser())


def inclusive_prefixes(transform: etree._Element | None) -> list[str] | None:
    """The InclusiveNamespaces PrefixList of an exclusive canonicalization, if any, as written:
    libxml2 takes "#default" for the default namespace, as the PrefixList spells it."""
    if transform is None:
        return None
    inc = transform.find(f"{{{EXC_C14N_NS}}}InclusiveNamespaces")
    if inc is None or inc.get("PrefixList") is None:
        return None
    return inc.get("PrefixList", "").split()


def _c14n(el: etree._Element | etree._ElementTree, algorithm: str,
          prefixes: list[str] | None = None) -> bytes:
    if algorithm not in C14N_ALGORITHMS:
        raise ValueError(f"unsupported canonicalization {algorithm}")
    exclusive = algorithm == EXC_C14N
    return etree.tostring(el, method="c14n", exclusive=exclusive, with_comments=False,
                          inclusive_ns_prefixes=prefixes if exclusive and prefixes else None)


class _HashSink:
    """A file-like object lxml's C14N writer streams into: the octets go to a hash, never to
    one big bytes object."""

    def __init__(self, name: str) -> None:
        self.hash = hashlib.new(name)

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return len(data)


def _digest_name(digest_uri: str) -> str:
    try:
        return DIGEST_METHODS[digest_uri]
    except KeyError:
        raise ValueError(f"digest algorithm {digest_uri} not allowed") from None


def c14n_digest(node: etree._Element | etree._ElementTree, algorithm: str, digest_uri: str,
                prefixes: list[str] | None = None) -> str:
    """Base64 digest of the canonical form of an element (in place, where it stands in its
    document) or of a whole document, streamed from lxml's canonicaliser into the hash."""
    if algorithm not in C14N_ALGORITHMS:
        raise ValueError(f"unsupported canonicalization {algorithm}")
    exclusive = algorithm == EXC_C14N
    sink = _HashSink(_digest_name(digest_uri))
    if isinstance(node, etree._ElementTree):
        tree = node
    else:
        tree = etree.ElementTree(node if exclusive else _c14n_input(node))
    tree.write_c14n(sink, exclusive=exclusive, with_comments=False,
                    inclusive_ns_prefixes=prefixes if exclusive and prefixes else None)
    return base64.b64encode(sink.hash.digest()).decode()


def c14n_bytes(node: etree._Element, algorithm: str, prefixes: list[str] | None = None) -> bytes:
    """Canonical octets of an element (SignedInfo, which is signed), as c14n_digest reads it."""
    return _c14n(node if algorithm == EXC_C14N else _c14n_input(node), algorithm, prefixes)


def _c14n_input(el: etree._Element) -> etree._Element:
    """What inclusive canonicalisation of an element reads: the element itself when it is the
    document element, else a standalone copy carrying the namespace declarations in scope (see
    "In place" above: libxml2's in-place inclusive C14N of an inner element is wrong)."""
    return el if el.getparent() is None else reparse(el)


def remove_keep_tail(el: etree._Element) -> None:
    """Remove an element subtree but keep its tail text (the tail belongs to the parent)."""
    parent = el.getparent()
    if parent is None:
        raise ValueError("cannot remove the document element")
    tail = el.tail
    prev = el.getprevious()
    if tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def apply_filter2(doc_root: etree._Element, transform: etree._Element) -> None:
    """Apply one XPath Filter 2.0 transform to a (throw-away copy of a) whole document.

    Only `subtract` is supported: it removes the selected subtrees, which is exactly a tree
    deletion. `intersect` and `union` (and the empty-set trap they allow) are refused.
    """
    xpaths = transform.findall(f"{{{FILTER2}}}XPath")
    if not xpaths:
        raise ValueError("XPath Filter 2.0 transform without dsig-xpath:XPath")
    for xp in xpaths:
        if xp.get("Filter") != "subtract":
            raise ValueError(f"XPath Filter 2.0 filter {xp.get('Filter')!r} is not supported "
                             "(only 'subtract')")
    # all filters of one transform are evaluated on the same input, then applied together
    victims: list[etree._Element] = []
    tree = doc_root.getroottree()
    for xp in xpaths:
        nsmap = {k: v for k, v in xp.nsmap.items() if k}
        expr = (element_text(xp) or "").strip()
        found = tree.xpath(expr, namespaces=nsmap)
        if not isinstance(found, list):
            raise ValueError(f"XPath {expr!r} does not select nodes")
        for node in found:
            if not isinstance(node, etree._Element):
                raise ValueError(f"XPath {expr!r} selects non-element nodes")
            if node is doc_root:
                raise ValueError(f"XPath {expr!r} subtracts the whole document")
            victims.append(node)
    for node in victims:
        if node.getparent() is not None:
            remove_keep_tail(node)


def _filtered_document(doc_root: etree._Element, transforms: Iterable[etree._Element]
                       ) -> tuple[etree._ElementTree, str]:
    """The document after the Filter 2.0 transforms (a throw-away copy) and the one
    canonicalization that follows them (C14N 1.1 when none is given)."""
    work = reparse(doc_root.getroottree())
    algorithm: str | None = None
    for t in transforms:
        alg = t.get("Algorithm")
        if algorithm is not None:
            raise ValueError("transform after canonicalization")
        if alg == FILTER2:
            apply_filter2(work, t)
        elif alg in C14N_ALGORITHMS:
            algorithm = alg
        else:
            raise ValueError(f"unsupported transform {alg}")
    # the document node: top-level processing instructions belong to URI=""
    return work.getroottree(), algorithm or C14N11


def filtered_document_bytes(doc_root: etree._Element, transforms: Iterable[etree._Element]
                            ) -> bytes:
    """Octets of a URI="" reference: the whole document (comments dropped, per XML-DSig),
    then the transforms in order (Filter 2.0 subtract, then one canonicalisation)."""
    tree, algorithm = _filtered_document(doc_root, transforms)
    return _c14n(tree, algorithm)


def filtered_document_digest(doc_root: etree._Element, transforms: Iterable[etree._Element],
                             digest_uri: str) -> str:
    """Digest of a URI="" reference (the octets of filtered_document_bytes, streamed)."""
    tree, algorithm = _filtered_document(doc_root, transforms)
    return c14n_digest(tree, algorithm, digest_uri)


def digest_b64(data: bytes, digest_uri: str) -> str:
    return base64.b64encode(hashlib.new(_digest_name(digest_uri), data).digest()).decode()


def reference_digest(index: dict[str, list[etree._Element]], reference: etree._Element,
                     cache: dict | None = None) -> tuple[str, etree._Element]:
    """Recompute the digest of a same-document `#id` reference (optionally one canonicalization
    transform; none means C14N 1.1, as signxml reads it), in place. `cache` (keyed by element,
    algorithm, prefixes and digest) lets an element referenced twice be canonicalised once."""
    uri = reference.get("URI", "")
    target = resolve_unique(index, uri)
    transforms = reference.findall(f"{dsig('Transforms')}/{dsig('Transform')}")
    algs = [t.get("Algorithm") for t in transforms]
    if len(algs) > 1 or (algs and algs[0] not in C14N_ALGORITHMS):
        raise ValueError(f"reference {uri}: unsupported transforms {algs}")
    c14n_alg = algs[0] if algs and algs[0] else C14N11   # (a missing one was refused)
    if c14n_alg in INCLUSIVE_C14N:   # exclusive c14n inherits nothing from ancestors
        check_no_xml_attr_ancestors(target)
    prefixes = inclusive_prefixes(transforms[0]) if transforms else None
    method = reference.find(dsig("DigestMethod"))
    digest_uri = (method.get("Algorithm") or "") if method is not None else ""
    key = (target, c14n_alg, tuple(prefixes) if prefixes else None, digest_uri)
    if cache is not None and key in cache:
        return cache[key], target
    digest = c14n_digest(target, c14n_alg, digest_uri, prefixes)
    if cache is not None:
        cache[key] = digest
    return digest, target


def manifest_reference_digest(doc_root: etree._Element, index, reference: etree._Element,
                              cache: dict | None = None) -> tuple[str, etree._Element]:
    """Recompute a Manifest reference digest (`#id` + optional one c14n transform)."""
    try:
        return reference_digest(index, reference, cache)
    except ValueError as exc:
        text = str(exc)
        raise ValueError("Manifest " + text if text.startswith("reference ") else text) from None


# ---------------------------------------------------------------- keys, certificates, time

@dataclass
class SigningKey:
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    chain: list[x509.Certificate]

    @property
    def signature_method(self) -> str:
        return RSA_SHA256 if isinstance(self.key, rsa.RSAPrivateKey) else ECDSA_SHA256


def load_signing_key(key_data: bytes, cert_data: bytes | None, *, password: bytes | None,
                     source: str = "key") -> SigningKey:
    """PEM private key (+ PEM certificate chain) or PKCS#12 (key + certificates inside)."""
    key = None
    chain: list[x509.Certificate] = []
    if b"-----BEGIN" in key_data:
        try:
            key = serialization.load_pem_private_key(key_data, password=password)
        except TypeError:
            raise StigscapError("the private key is encrypted: set the password in the "
                                "environment", file=source) from None
        except ValueError as exc:
            raise StigscapError(f"cannot read PEM private key ({_first_line(exc)})",
                                file=source) from None
        if b"CERTIFICATE-----" in key_data:
            chain = x509.load_pem_x509_certificates(key_data)
    else:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(key_data, password)
        except ValueError as exc:
            raise StigscapError(f"cannot read PKCS#12 key ({_first_line(exc)}; wrong password?)",
                                file=source) from None
        chain = ([cert] if cert else []) + list(extra or [])
    if cert_data is not None:
        try:
            chain = x509.load_pem_x509_certificates(cert_data)
        except ValueError as exc:
            raise StigscapError(f"cannot read PEM certificate ({_first_line(exc)})") from None
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise StigscapError("only RSA and ECDSA keys are supported", file=source)
    if not chain:
        raise StigscapError("no certificate given for the key (use --sign-cert)", file=source)
    pub = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    leaf = [c for c in chain if c.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == pub]
    if not leaf:
        raise StigscapError("the certificate does not belong to the private key", file=source)
    chain = leaf[:1] + [c for c in chain if c is not leaf[0]]
    return SigningKey(key, chain)


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def signing_time(timestamp: datetime | str) -> datetime:
    """The dc:date of a signature (UTC, whole seconds), from the time the caller gives."""
    return as_utc(timestamp, what="timestamp")
