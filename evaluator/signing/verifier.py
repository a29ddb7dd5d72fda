"""Verify XML-DSig signatures of SCAP 1.3 source data streams and ARF 1.1 reports.

Pure: a parsed document and trust anchors in, a `VerifyReport` out. For each signature:
  * profile (SP 800-126r3 §3.11 / §4.8, TMSAD): placement, reference order and targets, @Type,
    SignatureProperties with tmsad:signature-info, the Manifest covering every local component
    of the signed data stream (SDS), the exact RES-313 XPath Filter 2.0 transforms (ARF);
    allowed algorithms only (no SHA-1), no digest of empty input (../shared/reference/tool-quirks.md §7 trap 2);
  * no signature wrapping: every `#id` must name exactly one element across every id-like
    attribute of the document, and must land where a consumer reads it (the data stream and
    components as children of the collection; properties and manifest inside this signature);
  * cryptography (signxml): SignatureValue, SignedInfo reference digests, certificate trust
    (pinned certificates or a CA bundle) and validity dates; Manifest references recomputed here
    (signxml, like xmlsec1, does not check them).
  * ARF reports: the signatures of a source data stream embedded as a report request are
    checked as well, in place and with the same trust, and reported as "embedded signature".
The report lists exactly which elements each signature covers.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidDigest, InvalidInput, SignXMLException
from signxml.verifier import VerifyResult

from stigscap.schemas import namespaces as ns
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import element_text, find_text

from . import core
from .signer import ARF_ROOT, SDS_ROOT, document_kind, local_component_uris
from .core import dsig

NSMAP = {"dsig": ns.DSIG, "arf": ns.ARF, "ds": ns.DS, "tmsad": ns.TMSAD}


@dataclass
class SignatureCheck:
    index: int
    signature_id: str | None
    line: int | None
    signer: str | None = None
    covered: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    scope: str | None = None     # embedded: "report-request '<id>'" of an ARF report

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def label(self) -> str:
        where = f"embedded signature {self.index} in {self.scope}" if self.scope \
            else f"signature {self.index}"
        return f"{where} ({self.signature_id or 'no Id'})"


@dataclass
class VerifyReport:
    kind: str | None
    signatures: list[SignatureCheck] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return (not self.errors and bool(self.signatures)
                and all(s.valid for s in self.signatures))

    @property
    def reason(self) -> str | None:
        """The first reason the document is not valid (None when valid)."""
        if self.errors:
            return self.errors[0]
        for s in self.signatures:
            if s.errors:
                return f"{s.label}: {s.errors[0]}"
        return None if self.signatures else "no signature"

    def lines(self) -> list[str]:
        out = [f"document: {'source data stream' if self.kind == 'sds' else 'ARF report'}"
               if self.kind else "document: unknown"]
        out += [f"error: {e}" for e in self.errors]
        out += [f"warning: {w}" for w in self.warnings]
        for s in self.signatures:
            where = f"embedded signature {s.index} in {s.scope}" if s.scope \
                else f"signature {s.index}"
            head = f"{where} ({s.signature_id or 'no Id'}, line {s.line}): "
            out.append(head + ("valid" if s.valid else "INVALID"))
            if s.signer:
                out.append(f"  signer: {s.signer}")
            out += [f"  covers: {c}" for c in s.covered]
            out += [f"  error: {e}" for e in s.errors]
            out += [f"  warning: {w}" for w in s.warnings]
        return out


# ---------------------------------------------------------------- signxml, references in place

class _Verifier(XMLVerifier):
    """signxml's verifier for what it is good at: the signature value over the canonical
    SignedInfo and the certificate (pinned, or a chain to a CA bundle, validity dates).

    The references SignedInfo lists (read from the canonical SignedInfo signxml verified) are
    digested by signing.core, in place on the parsed document: signxml would copy the whole
    document for each reference, find each `#id` with a whole-document XPath, and skip the XPath
    Filter 2.0 transforms of an ARF signature (which it does not know)."""

    index: dict[str, list[etree._Element]] | None = None   # core.id_index of the document
    digest_cache: dict | None = None                       # shared with the Manifest checks
    signature_path: list[int] | None = None  # child positions of the signature to verify

    def get_root(self, data):
        # the document as parsed: nothing below modifies it, so no copy is needed
        if isinstance(data, etree._Element):
            return data
        return super().get_root(data)   # pragma: no cover - verify_document passes an element

    def _get_signature(self, root):
        if self.signature_path is None:  # pragma: no cover - _crypto always sets it
            return super()._get_signature(root)
        el = root
        for i in self.signature_path:
            el = el[i]
        if el.tag != dsig("Signature"):  # pragma: no cover - same document, same positions
            raise SignXMLException("signature not found in the document")
        return el

    def _verify_reference(self, reference, index, root, uri_resolver, c14n_algorithm, signature,
                          signature_key_used):
        method = reference.find(dsig("DigestMethod"))
        digest_uri = (method.get("Algorithm") or "") if method is not None else ""
        try:
            self.check_digest_alg_expected(DigestAlgorithm(digest_uri))
        except ValueError:
            raise InvalidInput(f"digest algorithm {digest_uri} not allowed") from None
        try:
            if reference.get("URI") == "":
                transforms = reference.findall(f"{dsig('Transforms')}/{dsig('Transform')}")
                if not any(t.get("Algorithm") == core.FILTER2 for t in transforms):
                    raise ValueError('a URI="" reference without XPath Filter 2.0 signs the '
                                     "signature itself")
                # URI="" is the whole document, top-level processing instructions included
                digest = core.filtered_document_digest(root, transforms, digest_uri)
            else:
                assert self.index is not None
                digest, _target = core.reference_digest(self.index, reference, self.digest_cache)
        except ValueError as exc:
            raise SignXMLException(str(exc)) from None
        value = reference.find(dsig("DigestValue"))
        try:   # as signxml reads it: characters outside base64 are ignored
            expected = base64.b64decode((element_text(value) or "") if value is not None else "")
        except ValueError:
            expected = b""
        if expected != base64.b64decode(digest):
            raise InvalidDigest(f"Digest mismatch for reference {index} ({reference.get('URI')})")
        key = signature_key_used if isinstance(signature_key_used, bytes) else \
            signature_key_used.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        return VerifyResult(b"", None, signature, signature_key=key)


def _spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _embedded_certs(sig: etree._Element) -> list[x509.Certificate]:
    certs = []
    for el in sig.findall(f"{dsig('KeyInfo')}/{dsig('X509Data')}/{dsig('X509Certificate')}"):
        pem = ("-----BEGIN CERTIFICATE-----\n" + "".join((element_text(el) or "").split())
               + "\n-----END CERTIFICATE-----\n")
        certs.append(x509.load_pem_x509_certificate(pem.encode()))
    return certs


# ---------------------------------------------------------------- entry point

def verify_document(root: etree._Element, trusted_certs: Sequence[x509.Certificate] = (), *,
                    ca_file: str | None = None, at_time: datetime | None = None
                    ) -> VerifyReport:
    """Verify every signature of an SDS or ARF document.

    Trust: `trusted_certs` are pinned signing certificates (the signature's certificate must be
    one of them, by public key); `ca_file` is a PEM CA bundle the signature's X509Data chain must
    lead to. One of the two is required. `at_time` is the moment certificate validity is
    checked at (default: now).

    In an ARF report, the signatures of a source data stream embedded as a report request are
    verified too, in place (same trust), and reported separately ("embedded")."""
    try:
        kind = document_kind(root)
    except StigscapError as exc:
        return VerifyReport(None, errors=[str(exc)])
    report = VerifyReport(kind)
    if not trusted_certs and not ca_file:
        report.errors.append("no trust anchor given (trusted certificate or CA bundle)")
        return report
    all_sigs = list(root.iter(dsig("Signature")))
    embedded: list[tuple[etree._Element, list[etree._Element]]] = []
    if kind == "sds":
        expected = [s for s in all_sigs if s.getparent() is root]
        stray = [s for s in all_sigs if s.getparent() is not root]
    else:
        expected = root.xpath("arf:extended-infos/arf:extended-info/dsig:Signature",
                              namespaces=NSMAP)
        for coll in root.xpath("arf:report-requests/arf:report-request/arf:content/"
                               "ds:data-stream-collection", namespaces=NSMAP):
            sigs = coll.findall(dsig("Signature"))
            if sigs:
                embedded.append((coll, sigs))
        checked = {s for _, sigs in embedded for s in sigs}
        # inside a signed embedded collection the SDS placement rule holds (SRC-360)
        nested = {s for coll, _ in embedded for s in coll.iter(dsig("Signature"))} - checked
        request_sigs = set(root.xpath("arf:report-requests//dsig:Signature",
                                      namespaces=NSMAP)) - checked - nested
        stray = [s for s in all_sigs if s not in expected and s not in request_sigs
                 and s not in checked]
        if request_sigs:
            report.warnings.append(f"{len(request_sigs)} other signature(s) inside the report "
                                   "requests are covered by the ARF signature but not checked")
        if len(expected) > 1:
            report.errors.append(f"{len(expected)} signatures in arf:extended-info; an ARF "
                                 "report carries one (RES-307; countersigning is unsupported)")
    for s in stray:
        parent = s.getparent()
        report.errors.append(f"dsig:Signature at an unexpected place: {core.where(s)} under "
                             f"{core.where(parent) if parent is not None else 'no element'}")
    if not expected:
        report.errors.append("the document is not signed (no dsig:Signature where SCAP 1.3 "
                             "places it)")
        return report
    index = core.id_index(root)
    digests: dict = {}   # element digests, each element canonicalised once (core.reference_digest)
    trust = (trusted_certs, ca_file, at_time)
    for i, sig in enumerate(expected, 1):
        check = SignatureCheck(i, sig.get("Id"), sig.sourceline)
        report.signatures.append(check)
        _check_one(root, root if kind == "sds" else None, sig, index, trust, check, digests)
    if kind == "sds":
        report.errors += _sds_coverage(root, expected)
    for coll, sigs in embedded:
        _check_embedded(root, coll, sigs, index, trust, report, digests)
    return report


def _check_one(root, collection, sig, index, trust, check, digests) -> None:
    """Profile and cryptography of one signature: an SDS signature of `collection` (the
    document itself, or a collection embedded in an ARF), or the ARF's (collection None)."""
    try:
        if collection is not None:
            _profile_sds(collection, sig, index, check, digests)
        else:
            _profile_arf(root, sig, index, check)
    except ValueError as exc:
        check.errors.append(str(exc))
    if not check.errors:
        trusted_certs, ca_file, at_time = trust
        _crypto(root, sig, collection is not None, trusted_certs, ca_file, at_time, check, index,
                digests)


def _check_embedded(root, coll, sigs, index, trust, report, digests) -> None:
    """The signatures of a source data stream embedded in an ARF report-request, verified where
    they are (what xmlsec1 or oscap would check in the ARF)."""
    request = coll.getparent().getparent()
    scope = f"report-request '{request.get('id')}'"
    checks = []
    for i, sig in enumerate(sigs, 1):
        check = SignatureCheck(i, sig.get("Id"), sig.sourceline, scope=scope)
        report.signatures.append(check)
        checks.append(check)
        _check_one(root, coll, sig, index, trust, check, digests)
    for err in _sds_coverage(coll, sigs):
        report.errors.append(f"{scope}: {err}")
    # Signatures made with inclusive canonicalization (stigscap before exclusive C14N, other
    # tools) carry the ARF's namespace declarations into their digests once embedded and can
    # never verify in place; verify those on the data stream taken out of the ARF, and say so.
    # Only when every reference is unambiguous in the whole ARF and lands inside this
    # collection: the copy taken out must not hide a wrapping attack made in the ARF around it.
    retry = [(sig, c) for sig, c in zip(sigs, checks)
             if c.errors and _inclusive(sig) and _references_stay_inside(sig, coll, index)]
    if not retry:
        return
    try:
        alone = verify_document(_standalone_collection(coll), trust[0], ca_file=trust[1],
                                at_time=trust[2])
    except StigscapError:
        return
    by_id = {c.signature_id: c for c in alone.signatures}
    for _sig, check in retry:
        other = by_id.get(check.signature_id)
        if other is not None and other.valid and not alone.errors:
            check.errors.clear()
            check.warnings.append(
                "verifies only on the source data stream taken out of the ARF, not in place: "
                "it uses inclusive canonicalization, whose digests include the ARF's namespace "
                "declarations (xmlsec1 and oscap report it invalid inside the ARF; sign the "
                "data stream again with exclusive C14N)")


def _references_stay_inside(sig, coll, index) -> bool:
    for ref in sig.iter(dsig("Reference")):
        try:
            target = core.resolve_unique(index, ref.get("URI", ""))
        except ValueError:
            return False
        if target is not coll and coll not in target.iterancestors():
            return False
    return True


def _inclusive(sig: etree._Element) -> bool:
    algs = [el.get("Algorithm") for el in sig.iter(dsig("CanonicalizationMethod"),
                                                   dsig("Transform"))]
    return any(a in core.INCLUSIVE_C14N for a in algs)


def _standalone_collection(coll: etree._Element) -> etree._Element:
    """The embedded collection as the document it was before embedding: its serialization
    without the namespace declarations it only inherits from the ARF."""
    text = etree.tostring(coll)
    holder = coll.getparent()
    assert holder is not None   # embedded in an ARF report-request
    parent = holder.nsmap
    inherited = [p for p, uri in coll.nsmap.items() if parent.get(p) == uri]
    head, sep, rest = text.partition(b">")
    for prefix in inherited:
        attr = b"xmlns" if prefix is None else b"xmlns:" + prefix.encode()
        head = re.sub(rb"\s" + re.escape(attr) + rb'="[^"]*"', b"", head)
    try:
        return etree.fromstring(head + sep + rest, core.huge_parser())
    except etree.XMLSyntaxError as exc:
        raise StigscapError(f"embedded data stream cannot stand alone: {exc}") from None


# ---------------------------------------------------------------- profile checks

def _common(sig: etree._Element, check: SignatureCheck) -> list[etree._Element]:
    si = sig.find(dsig("SignedInfo"))
    if si is None:
        raise ValueError("no dsig:SignedInfo")
    cm = si.find(dsig("CanonicalizationMethod"))
    if cm is None or cm.get("Algorithm") not in core.C14N_ALGORITHMS:
        raise ValueError(f"canonicalization {cm.get('Algorithm') if cm is not None else None} "
                         "not allowed")
    sm = si.find(dsig("SignatureMethod"))
    alg = sm.get("Algorithm") if sm is not None else None
    if alg not in core.SIGNATURE_METHODS:
        raise ValueError(f"signature method {alg} not allowed (RSA/ECDSA with SHA-256/384/512)")
    for dm in sig.iter(dsig("DigestMethod")):
        if dm.get("Algorithm") not in core.DIGEST_METHODS:
            raise ValueError(f"digest method {dm.get('Algorithm')} not allowed (SHA-256/384/512)")
    for dv in sig.iter(dsig("DigestValue")):
        if "".join((element_text(dv) or "").split()) in core.EMPTY_DIGESTS:
            ref = dv.getparent()
            uri = ref.get("URI") if ref is not None else None
            raise ValueError(f"reference {uri!r} is the digest of empty input: its "
                             "transforms select nothing, so it signs nothing")
    if sig.find(f"{dsig('KeyInfo')}/{dsig('X509Data')}/{dsig('X509Certificate')}") is None:
        raise ValueError("no dsig:KeyInfo/X509Data/X509Certificate")
    return si.findall(dsig("Reference"))


def _own_object(sig, index, uri, local, type_uri, what) -> etree._Element:
    target = core.resolve_unique(index, uri)
    parent = target.getparent()
    if target.tag != dsig(local) or parent is None or \
            parent.tag != dsig("Object") or parent.getparent() is not sig:
        raise ValueError(f"{what} reference {uri} resolves to {core.where(target)}, not a "
                         f"dsig:{local} in a dsig:Object of this signature")
    return target


def _check_props(sig, index, ref, check):
    uri = ref.get("URI", "")
    props = _own_object(sig, index, uri, "SignatureProperties", core.TYPE_SIGPROPS,
                        "second")
    if ref.get("Type") != core.TYPE_SIGPROPS:
        raise ValueError(f"reference {uri} lacks Type=\"{core.TYPE_SIGPROPS}\" (TMSAD)")
    info = props.find(f"{dsig('SignatureProperty')}/{{{ns.TMSAD}}}signature-info")
    if info is None:
        raise ValueError("SignatureProperties has no tmsad:signature-info (SRC-285/RES-311)")
    date = find_text(info, f"{{{ns.DC}}}date")
    creators = [element_text(c) for c in info.findall(f"{{{ns.DC}}}creator")]
    check.covered.append(f"dsig:SignatureProperties '{props.get('Id')}' (creator "
                         f"{', '.join(filter(None, creators)) or '-'}, date {date or '-'})")


def _profile_sds(root, sig, index, check, digests=None):
    refs = _common(sig, check)
    if _inclusive(sig) and check.scope is None:
        check.warnings.append("inclusive canonicalization (C14N 1.0/1.1): this signature will "
                              "not verify in place once the data stream is embedded in an ARF "
                              "report (stigscap signs with exclusive C14N)")
    if len(refs) != 3:
        raise ValueError(f"{len(refs)} SignedInfo references; SCAP 1.3 wants exactly 3 (data "
                         "stream, SignatureProperties, Manifest; SRC-286..288)")
    if any(s.tag != dsig("Signature") for s in sig.itersiblings()):
        raise ValueError("signatures must be the last elements of the collection (SRC-360)")
    for ref in refs:
        if ref.find(dsig("Transforms")) is not None:
            for t in ref.findall(f"{dsig('Transforms')}/{dsig('Transform')}"):
                if t.get("Algorithm") not in core.C14N_ALGORITHMS:
                    raise ValueError(f"reference {ref.get('URI')}: transform "
                                     f"{t.get('Algorithm')} not allowed here")
    stream = core.resolve_unique(index, refs[0].get("URI", ""))
    if stream.tag != f"{{{ns.DS}}}data-stream" or stream.getparent() is not root:
        raise ValueError(f"first reference resolves to {core.where(stream)}, not a "
                         "ds:data-stream of the collection (SRC-286)")
    check.covered.append(f"ds:data-stream '{stream.get('id')}' (line {stream.sourceline})")
    _check_props(sig, index, refs[1], check)
    uri3 = refs[2].get("URI", "")
    manifest = _own_object(sig, index, uri3, "Manifest", core.TYPE_MANIFEST, "third")
    if refs[2].get("Type") != core.TYPE_MANIFEST:
        raise ValueError(f"reference {uri3} lacks Type=\"{core.TYPE_MANIFEST}\" (TMSAD)")
    manifest_uris = []
    for mref in manifest.findall(dsig("Reference")):
        uri = mref.get("URI", "")
        digest, target = core.manifest_reference_digest(root, index, mref, digests)
        if target.getparent() is not root or target.tag not in (
                f"{{{ns.DS}}}component", f"{{{ns.DS}}}extended-component"):
            raise ValueError(f"Manifest reference {uri} resolves to {core.where(target)}, not a "
                             "component of the collection")
        if digest != "".join((find_text(mref, dsig("DigestValue")) or "").split()):
            raise ValueError(f"Manifest reference {uri}: digest mismatch, "
                             f"{core.where(target)} was changed after signing")
        manifest_uris.append(uri)
        check.covered.append(f"{target.prefix or 'ds'}:{etree.QName(target).localname} "
                             f"'{target.get('id')}' (line {target.sourceline}, via Manifest)")
    try:
        needed = local_component_uris(root, stream, index)
    except StigscapError as exc:
        raise ValueError(str(exc).removeprefix("cannot sign: ")) from None
    missing = [u for u in needed if u not in manifest_uris]
    if missing:
        raise ValueError(f"Manifest does not cover local component(s) {', '.join(missing)} "
                         "of the signed data stream (SRC-284)")
    if manifest_uris != needed:
        check.warnings.append("Manifest references are not in component-ref order (SRC-289)")


def _profile_arf(root, sig, index, check):
    refs = _common(sig, check)
    cm = sig.find(f"{dsig('SignedInfo')}/{dsig('CanonicalizationMethod')}")
    if cm.get("Algorithm") != core.C14N11:
        check.warnings.append("SignedInfo is not canonicalized with C14N 1.1 (TMSAD SHOULD)")
    if len(refs) != 2:
        raise ValueError(f"{len(refs)} SignedInfo references; an ARF signature has exactly 2 "
                         "(the report collection, SignatureProperties; RES-312/314)")
    first = refs[0]
    if first.get("URI") != "":
        raise ValueError("first reference must have URI=\"\" (RES-312)")
    transforms = first.findall(f"{dsig('Transforms')}/{dsig('Transform')}")
    filters = [t for t in transforms if t.get("Algorithm") == core.FILTER2]
    rest = [t for t in transforms if t.get("Algorithm") != core.FILTER2]
    if len(filters) != 2 or transforms[:2] != filters:
        raise ValueError("first reference must start with the two XPath Filter 2.0 transforms "
                         "of RES-313")
    for t, expected in zip(filters, core.ARF_FILTER_XPATHS):
        xps = t.findall(f"{{{core.FILTER2}}}XPath")
        if len(xps) != 1 or xps[0].get("Filter") != "subtract" or \
                " ".join((element_text(xps[0]) or "").split()) != expected or \
                xps[0].nsmap.get("arf") != ns.ARF or xps[0].nsmap.get("dsig") != ns.DSIG:
            raise ValueError(f"XPath Filter 2.0 transform is not the RES-313 'subtract' of "
                             f"{expected}")
    if len(rest) > 1 or (rest and rest[0].get("Algorithm") not in core.C14N_ALGORITHMS):
        raise ValueError("first reference: only one canonicalization may follow the filters")
    if sig.getparent().getparent().getparent() is not root:
        raise ValueError("signature is not in /arf:asset-report-collection/arf:extended-infos")
    check.covered.append("arf:asset-report-collection: the whole document except "
                         "arf:extended-info elements holding a dsig:Signature")
    for el in root.xpath("arf:report-requests/arf:report-request | arf:assets/arf:asset | "
                         "arf:reports/arf:report | core:relationships", namespaces={
                             **NSMAP, "core": ns.CORE}):
        check.covered.append(f"  {core.where(el)}")
    # the filters exclude each whole extended-info holding a signature: anything else placed
    # in one would be read by a careless consumer yet signed by nobody
    for info in root.xpath("arf:extended-infos/arf:extended-info[dsig:Signature]",
                           namespaces=NSMAP):
        others = [c for c in info if isinstance(c.tag, str)]
        if len(others) != 1:
            raise ValueError(f"{core.where(info)} holds {len(others)} elements; the signature's "
                             "extended-info is excluded from the digest and must hold only the "
                             "dsig:Signature")
    _check_props(sig, index, refs[1], check)
    if not root.xpath("arf:report-requests/arf:report-request/arf:content/"
                      "ds:data-stream-collection", namespaces=NSMAP):
        check.warnings.append("the source data stream is not included as a report request "
                              "(RES-323)")


def _sds_coverage(collection, sigs) -> list[str]:
    signed = set()
    for sig in sigs:
        uri = sig.find(f"{dsig('SignedInfo')}/{dsig('Reference')}")
        if uri is not None:
            signed.add(uri.get("URI", "")[1:])
    return [f"data stream '{stream.get('id')}' is not signed"
            for stream in collection.findall(f"{{{ns.DS}}}data-stream")
            if stream.get("id") not in signed]


# ---------------------------------------------------------------- cryptography

def _position(el: etree._Element) -> list[int]:
    """Child positions from the document element down to `el`."""
    path = []
    while (parent := el.getparent()) is not None:
        path.append(parent.index(el))
        el = parent
    return path[::-1]


def _crypto(root, sig, is_sds, trusted_certs, ca_file, at_time, check, index, digest_cache):
    try:
        embedded = _embedded_certs(sig)
    except ValueError as exc:
        check.errors.append(f"unreadable X509Certificate: {exc}")
        return
    if embedded:
        check.signer = (f"{embedded[0].subject.rfc4514_string()} (serial "
                        f"{embedded[0].serial_number:x}, valid "
                        f"{embedded[0].not_valid_before_utc:%Y-%m-%d} to "
                        f"{embedded[0].not_valid_after_utc:%Y-%m-%d})")
    pinned = None
    if trusted_certs:
        keys = {_spki(c) for c in embedded}
        matches = [c for c in trusted_certs if _spki(c) in keys]
        if not matches:
            check.errors.append("the signing certificate is not one of the trusted certificates")
            return
        pinned = matches[0]
    # signxml works on the document itself (see _Verifier); the signature is found by its
    # position, not by signxml's "first signature at location"
    config = SignatureConfiguration(
        location="./", expect_references=True,
        signature_methods=frozenset(SignatureMethod(m) for m in core.SIGNATURE_METHODS),
        digest_algorithms=frozenset(DigestAlgorithm(d) for d in core.DIGEST_METHODS),
        verification_time=at_time)
    try:
        verifier = _Verifier()
        verifier.index = index
        verifier.digest_cache = digest_cache
        verifier.signature_path = _position(sig)
        results = verifier.verify(root, x509_cert=pinned, ca_pem_file=None if pinned else
                                  ca_file, expect_config=config, parser=core.huge_parser())
    except SignXMLException as exc:
        check.errors.append(_signxml_message(exc))
        return
    except ValueError as exc:  # e.g. unreadable CA bundle
        check.errors.append(f"cannot check the certificate: {exc}")
        return
    expected = 3 if is_sds else 2
    if len(results) != expected:
        check.errors.append(f"{len(results)} references verified, {expected} expected")


def _signxml_message(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    if name == "InvalidDigest":
        m = re.match(r"Digest mismatch for reference (\d+) \((.*)\)$", text)
        if m:
            uri = m.group(2) or '""'
            text = f"SignedInfo reference {int(m.group(1)) + 1} (URI={uri})"
        return f"digest mismatch, content changed after signing: {text}"
    if name == "InvalidSignature":
        return f"signature value does not verify: {text}"
    if name == "InvalidCertificate":
        return f"certificate not trusted or not valid: {text}"
    return f"{name}: {text}"


# re-exported for callers that only import this module
__all__ = ["VerifyReport", "SignatureCheck", "verify_document", "SDS_ROOT", "ARF_ROOT"]
