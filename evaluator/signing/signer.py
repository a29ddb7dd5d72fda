"""Sign SCAP 1.3 source data streams and ARF 1.1 result data streams (SP 800-126r3 §3.11/§4.8,
NIST IR 7802 TMSAD) with XML-DSig: RSA-SHA256 or ECDSA-SHA256, SHA-256 digests; Exclusive C14N
for source data streams (so the signature survives embedding in an ARF), C14N 1.1 for ARF.

Pure: a parsed document and key material in, the same (modified) tree out. Layouts:

Source data stream (SRC-281..290, SRC-360): per `ds:data-stream`, one `dsig:Signature` appended
as a last child of `ds:data-stream-collection`:
  Reference 1  URI="#<data-stream id>"
  Reference 2  URI="#<...-signature-properties>"  Type=...#SignatureProperties
  Reference 3  URI="#<...-manifest>"              Type=...#Manifest
  KeyInfo/X509Data (certificate chain)
  Object/SignatureProperties/SignatureProperty/tmsad:signature-info (dc:creator, dc:date, nonce)
  Object/Manifest: one Reference per local component, in component-ref order.
  Every canonicalization (SignedInfo, each Reference and Manifest Reference) is Exclusive XML
  Canonicalization 1.0 (xml-exc-c14n#). SP 800-126r3 prescribes no algorithm; TMSAD's schematron
  only warns that C14N 1.1 SHOULD be used. Inclusive C14N (1.0 or 1.1) copies every namespace
  declaration in scope into a subtree's octets, so once the collection sits inside an ARF
  report-request (RES-300/RES-323) the digests pick up xmlns:arf/core/ai and no verifier
  (xmlsec1, oscap, stigscap) can verify the embedded signature in place any more. Exclusive
  C14N only emits the namespaces an element visibly uses, which are the same in both places.

ARF (RES-307..315, RES-323): the signature inside arf:extended-infos/arf:extended-info:
  Reference 1  URI="" with the two RES-313 XPath Filter 2.0 subtract transforms, then C14N 1.1
  Reference 2  URI="#<...-signature-properties>"  Type=...#SignatureProperties
  KeyInfo, Object/SignatureProperties.

Every digest comes from lxml's canonicaliser streamed into hashlib (core.c14n_digest): Exclusive
C14N in place, inclusive C14N on a copy of the (small) element; no copy of the document is made
(but the throw-away filtered copy an ARF's URI="" reference needs), and each component is
canonicalised once. SignedInfo is canonicalised in its in-document namespace context and signed
with `cryptography`.

The nonce is 128 random bits unless given (pass `nonce=` for byte-identical output: with RSA,
a fixed timestamp and a fixed nonce the output is deterministic; ECDSA signatures are not).
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from stigscap.schemas import namespaces as ns
from stigscap.schemas.errors import StigscapError

from . import core
from .core import dsig

DEFAULT_CREATOR = "stigscap"
SDS_ROOT = f"{{{ns.DS}}}data-stream-collection"
ARF_ROOT = f"{{{ns.ARF}}}asset-report-collection"
SDS_C14N = core.EXC_C14N   # context-free: verifies inside an ARF report-request too
ARF_C14N = core.C14N11     # the whole document: nothing around it


def document_kind(root: etree._Element) -> str:
    """'sds' for a source data stream collection, 'arf' for an ARF report collection."""
    if root.tag == SDS_ROOT:
        return "sds"
    if root.tag == ARF_ROOT:
        return "arf"
    raise StigscapError(f"not a SCAP source data stream or ARF report: root element "
                        f"{etree.QName(root).localname!r} in namespace "
                        f"{etree.QName(root).namespace or '(none)'}")


def sign_document(root: etree._Element, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
                  cert_chain: Sequence[x509.Certificate], *,
                  timestamp: datetime | str,
                  creators: Sequence[str] = (DEFAULT_CREATOR,),
                  nonce: str | None = None,
                  fill_defaults: bool = True,
                  replace_existing: bool = False) -> etree._Element:
    """Sign an SDS or ARF document in place and return its root.

    `cert_chain` starts with the signing certificate. `timestamp` is dc:date (the caller
    resolves it: an option, SOURCE_DATE_EPOCH or the clock). Default attributes are written
    out first (A-26) unless `fill_defaults` is False.
    A document that is already signed is refused unless `replace_existing`.
    """
    kind = document_kind(root)
    sk = core.SigningKey(key, list(cert_chain))
    if not sk.chain:
        raise StigscapError("a certificate is needed to sign")
    when = core.signing_time(timestamp)
    if kind == "sds":
        _drop_or_refuse(root, root.findall(dsig("Signature")), replace_existing, kind)
    else:
        existing = root.xpath("arf:extended-infos/arf:extended-info[dsig:Signature]",
                              namespaces={"arf": ns.ARF, "dsig": ns.DSIG})
        _drop_or_refuse(root, existing, replace_existing, kind)
        infos = root.find(f"{{{ns.ARF}}}extended-infos")
        if infos is not None and len(infos) == 0:
            root.remove(infos)
    if fill_defaults:
        from .defaults import fill_default_attributes
        # a signed source data stream embedded in an ARF report-request is left exactly as it
        # is: defaults written into it would break its own signature
        fill_default_attributes(root, skip=_signed_collection if kind == "arf" else None)
    if kind == "sds":
        _sign_sds(root, sk, when, creators, nonce)
    else:
        _sign_arf(root, sk, when, creators, nonce)
    return root


def _signed_collection(el: etree._Element) -> bool:
    return el.tag == SDS_ROOT and el.find(dsig("Signature")) is not None


def _drop_or_refuse(root, elements, replace_existing, kind):
    if not elements:
        return
    if not replace_existing:
        raise StigscapError(f"the {'source data stream' if kind == 'sds' else 'ARF report'} is "
                            f"already signed ({len(elements)} signature(s)); use --replace to "
                            "drop the old signatures")
    for el in elements:
        core.remove_keep_tail(el)


# ---------------------------------------------------------------- building blocks

def _reference(parent: etree._Element, uri: str, c14n: str, digest: str,
               type_uri: str | None = None) -> etree._Element:
    """A dsig:Reference with one canonicalization transform and a SHA-256 digest (the layout
    signxml wrote, and every verifier reads)."""
    ref = etree.SubElement(parent, dsig("Reference"), URI=uri)
    if type_uri:
        ref.set("Type", type_uri)
    transforms = etree.SubElement(ref, dsig("Transforms"))
    etree.SubElement(transforms, dsig("Transform"), Algorithm=c14n)
    etree.SubElement(ref, dsig("DigestMethod"), Algorithm=core.SHA256)
    etree.SubElement(ref, dsig("DigestValue")).text = digest
    return ref


def _certificate_text(cert: x509.Certificate) -> str:
    """X509Certificate content: the PEM body (base64 in 64-character lines)."""
    pem = cert.public_bytes(Encoding.PEM).decode("ascii").replace("\r", "")
    body = pem.split("-----BEGIN CERTIFICATE-----\n", 1)[1]
    return body.split("-----END CERTIFICATE-----", 1)[0]


def _signature_value(sk: core.SigningKey, signed_info: bytes) -> bytes:
    """RSA PKCS#1 v1.5 or ECDSA (r || s, each as long as the curve's order) with SHA-256."""
    if isinstance(sk.key, rsa.RSAPrivateKey):
        return sk.key.sign(signed_info, padding.PKCS1v15(), hashes.SHA256())
    der = sk.key.sign(signed_info, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    size = (sk.key.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _signature(placeholder: etree._Element, sk: core.SigningKey, sig_id: str, c14n: str,
               references: Sequence[tuple[str, etree._Element, str | None]],
               first_reference: etree._Element | None = None) -> etree._Element:
    """Fill the dsig:Signature `placeholder` (already in its place in the document, holding its
    dsig:Objects): SignedInfo with `first_reference` and one Reference per (uri, target, @Type),
    each digested (core.c14n_digest), then the signature value over SignedInfo canonicalised in
    its place (so its in-document namespace context is what gets signed, as every verifier will
    see it), then KeyInfo."""
    sig = placeholder
    sig.set("Id", sig_id)
    objects = list(sig)
    # made inside the signature (SubElement), so they use its dsig prefix, then put in order
    signed_info = etree.SubElement(sig, dsig("SignedInfo"))
    sig.insert(0, signed_info)
    etree.SubElement(signed_info, dsig("CanonicalizationMethod"), Algorithm=c14n)
    etree.SubElement(signed_info, dsig("SignatureMethod"), Algorithm=sk.signature_method)
    if first_reference is not None:
        signed_info.append(first_reference)
    inclusive = c14n in core.INCLUSIVE_C14N
    for uri, target, type_uri in references:
        if inclusive:
            core.check_no_xml_attr_ancestors(target)
        _reference(signed_info, uri, c14n, core.c14n_digest(target, c14n, core.SHA256), type_uri)
    if inclusive:
        core.check_no_xml_attr_ancestors(signed_info)
    value = etree.SubElement(sig, dsig("SignatureValue"))
    signed_info.addnext(value)
    value.text = base64.b64encode(_signature_value(sk, core.c14n_bytes(signed_info, c14n))
                                  ).decode()
    key_info = etree.SubElement(sig, dsig("KeyInfo"))
    value.addnext(key_info)
    x509_data = etree.SubElement(key_info, dsig("X509Data"))
    for cert in sk.chain:
        etree.SubElement(x509_data, dsig("X509Certificate")).text = _certificate_text(cert)
    assert list(sig)[3:] == objects   # SignedInfo, SignatureValue, KeyInfo, then the Objects
    return sig


def _unique_id(index, wanted: str) -> str:
    candidate, n = wanted, 1
    while candidate in index:
        n += 1
        candidate = f"{wanted}-{n}"
    index[candidate] = []
    return candidate


def _signature_properties_object(sig_id: str, props_id: str, when: datetime,
                                 creators: Sequence[str], nonce: str | None) -> etree._Element:
    obj = etree.Element(dsig("Object"), nsmap={"dsig": ns.DSIG})
    props = etree.SubElement(obj, dsig("SignatureProperties"), Id=props_id)
    prop = etree.SubElement(props, dsig("SignatureProperty"), Target=f"#{sig_id}")
    info = etree.SubElement(prop, f"{{{ns.TMSAD}}}signature-info",
                            nsmap={"tmsad": ns.TMSAD, "dc": ns.DC})
    for creator in creators:
        etree.SubElement(info, f"{{{ns.DC}}}creator").text = creator
    etree.SubElement(info, f"{{{ns.DC}}}date").text = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    etree.SubElement(info, f"{{{ns.TMSAD}}}nonce").text = nonce or secrets.token_hex(16)
    return obj


# ---------------------------------------------------------------- source data stream

def local_component_uris(root: etree._Element, data_stream: etree._Element,
                         index=None) -> list[str]:
    """'#<component id>' for every local component-ref of a data stream, in component-ref
    order, each resolved uniquely to a ds:component / ds:extended-component of the collection."""
    if index is None:
        index = core.id_index(root)
    uris: list[str] = []
    for ref in data_stream.iter(f"{{{ns.DS}}}component-ref"):
        href = ref.get(f"{{{ns.XLINK}}}href", "")
        if not href.startswith("#") or href in uris:
            continue
        try:
            target = core.resolve_unique(index, href)
        except ValueError as exc:
            raise StigscapError(f"cannot sign: component-ref {ref.get('id')}: {exc}") from None
        if target.getparent() is not root or target.tag not in (
                f"{{{ns.DS}}}component", f"{{{ns.DS}}}extended-component"):
            raise StigscapError(f"cannot sign: component-ref {ref.get('id')} points to "
                                f"{core.where(target)}, not a component of the collection")
        uris.append(href)
    return uris


def _sign_sds(root, sk, when, creators, nonce):
    streams = root.findall(f"{{{ns.DS}}}data-stream")
    if not streams:
        raise StigscapError("cannot sign: the collection has no ds:data-stream")
    index = core.id_index(root)
    component_digests: dict[str, str] = {}   # a component shared by data streams: digested once
    for stream in streams:
        ds_id = stream.get("id")
        if not ds_id:
            raise StigscapError(f"cannot sign: {core.where(stream)} has no id")
        try:
            core.resolve_unique(index, f"#{ds_id}")
        except ValueError as exc:
            raise StigscapError(f"cannot sign: {exc}") from None
        sig_id = _unique_id(index, f"{ds_id}-signature")
        props_id = _unique_id(index, f"{ds_id}-signature-properties")
        manifest_id = _unique_id(index, f"{ds_id}-manifest")
        components = local_component_uris(root, stream, index)

        if not components:
            raise StigscapError(f"cannot sign: data stream {ds_id} references no local component")
        # Manifest references: each component canonicalised in place and digested
        manifest_obj = etree.Element(dsig("Object"), nsmap={"dsig": ns.DSIG})
        manifest = etree.SubElement(manifest_obj, dsig("Manifest"), Id=manifest_id)
        for uri in components:
            if uri not in component_digests:
                component_digests[uri] = core.c14n_digest(index[uri[1:]][0], SDS_C14N,
                                                          core.SHA256)
            _reference(manifest, uri, SDS_C14N, component_digests[uri])

        placeholder = etree.SubElement(root, dsig("Signature"), nsmap={"dsig": ns.DSIG})
        _indent_tail(root, placeholder)
        placeholder.append(_signature_properties_object(sig_id, props_id, when, creators, nonce))
        placeholder.append(manifest_obj)
        _signature(placeholder, sk, sig_id, SDS_C14N,
                   [(f"#{ds_id}", stream, None),
                    (f"#{props_id}", placeholder[0][0], core.TYPE_SIGPROPS),
                    (f"#{manifest_id}", manifest, core.TYPE_MANIFEST)])


def _indent_tail(parent, child):
    """Keep pretty layout: the new last child takes over the previous last child's tail."""
    prev = child.getprevious()
    if prev is not None and prev.tail is not None and not prev.tail.strip():
        child.tail = prev.tail
        prev.tail = prev.tail + "  "


# ---------------------------------------------------------------- ARF

def arf_first_reference(root: etree._Element) -> etree._Element:
    """Reference 1 of an ARF signature (RES-312/313), digested over the current document."""
    ref = etree.Element(dsig("Reference"), URI="", nsmap={"dsig": ns.DSIG})
    transforms = etree.SubElement(ref, dsig("Transforms"))
    for expr in core.ARF_FILTER_XPATHS:
        t = etree.SubElement(transforms, dsig("Transform"), Algorithm=core.FILTER2)
        xp = etree.SubElement(t, f"{{{core.FILTER2}}}XPath", Filter="subtract",
                              nsmap={"dsig-xpath": core.FILTER2, "arf": ns.ARF})
        xp.text = expr
    etree.SubElement(transforms, dsig("Transform"), Algorithm=ARF_C14N)
    etree.SubElement(ref, dsig("DigestMethod"), Algorithm=core.SHA256)
    digest = etree.SubElement(ref, dsig("DigestValue"))
    # lxml's canonicaliser over the filtered copy of the document
    digest.text = core.filtered_document_digest(root, transforms.findall(dsig("Transform")),
                                                core.SHA256)
    return ref


def _sign_arf(root, sk, when, creators, nonce):
    if root.find(f"{{{ns.ARF}}}reports") is None:
        raise StigscapError("cannot sign: the ARF report collection has no arf:reports")
    index = core.id_index(root)
    infos = root.find(f"{{{ns.ARF}}}extended-infos")
    if infos is None:
        infos = etree.SubElement(root, f"{{{ns.ARF}}}extended-infos")
        _indent_tail(root, infos)
        infos.text = "\n    "
        infos.tail = "\n"
    info_id = _unique_id(index, "stigscap-signature")
    info = etree.SubElement(infos, f"{{{ns.ARF}}}extended-info", id=info_id)
    info.tail = "\n  "
    sig_id = _unique_id(index, "stigscap-signature-value")
    props_id = _unique_id(index, "stigscap-signature-properties")
    placeholder = etree.SubElement(info, dsig("Signature"), nsmap={"dsig": ns.DSIG})
    placeholder.append(_signature_properties_object(sig_id, props_id, when, creators, nonce))
    first = arf_first_reference(root)
    _signature(placeholder, sk, sig_id, ARF_C14N,
               [(f"#{props_id}", placeholder[0][0], core.TYPE_SIGPROPS)], first_reference=first)


def sign_bytes(data: bytes, sk: core.SigningKey, timestamp: datetime | str, *,
               source: str = "<document>") -> bytes:
    """Sign a rendered source data stream or ARF report (the kind is read from the root):
    bytes in, signed bytes out."""
    from stigscap.schemas.xmlio import parse_xml_bytes, serialize
    tree = parse_xml_bytes(data, source, huge_tree=True)
    sign_document(tree.getroot(), sk.key, sk.chain, timestamp=timestamp)
    return serialize(tree, pretty=False)
