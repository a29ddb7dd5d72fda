"""Tamper corpus: every case must fail `verify_document` / `stigscap verify` (exit 1).
Where xmlsec1 is fooled (Manifest-only change, empty-digest filter) the test shows it."""

from __future__ import annotations

import datetime as dt
from copy import deepcopy

import pytest
from lxml import etree

from stigscap.evaluator.signing.signer import sign_document
from stigscap.evaluator.signing.verifier import verify_document
from stigscap.schemas.xmlio import parse_xml_file, serialize
from tests.cli_helpers import stigscap
from tests.conftest import require_tool
from tests.signing.conftest import make_identity
from tests.signing.sig_helpers import NS, make_template, parse, write, xmlsec_sign, xmlsec_verify

X = NS["xccdf"]


def _api_sign(src, key, chain, out):
    """In-process signing (the CLI path is covered elsewhere; this reuses the cached schemas)."""
    tree = parse_xml_file(src)
    sign_document(tree.getroot(), key, chain, timestamp="2026-01-01T00:00:00Z")
    out.write_bytes(serialize(tree, pretty=False))
    return out


def _tampered(src, tmp_path, fn, name="tampered.xml"):
    tree = parse(src)
    fn(tree.getroot())
    return write(tree, tmp_path / name)


def _reason(path, certs):
    report = verify_document(parse_xml_file(path).getroot(), certs)
    assert not report.valid, report.lines()
    return "\n".join(report.lines())


# ---------------------------------------------------------------- ARF edits

def _rule_result(root):
    return root.find(".//xccdf:TestResult/xccdf:rule-result", NS)


def _edit_result_text(root):
    res = _rule_result(root).find("xccdf:result", NS)
    res.text = "pass" if res.text != "pass" else "fail"


def _edit_attribute(root):
    rr = _rule_result(root)
    rr.set("severity", "low" if rr.get("severity") != "low" else "high")


def _reorder(root):
    reports = root.find("arf:reports", NS)
    first = reports[0]
    reports.remove(first)
    reports.append(first)


def _remove(root):
    rr = _rule_result(root)
    rr.getparent().remove(rr)


def _duplicate(root):
    rr = _rule_result(root)
    rr.addnext(deepcopy(rr))


def _unsigned_content_next_to_signature(root):
    info = root.find("arf:extended-infos/arf:extended-info", NS)
    fake = etree.SubElement(info, f"{{{X}}}TestResult", id="xccdf_fake_testresult_1")
    fake.text = "forged"


def _strip_signature(root):
    infos = root.find("arf:extended-infos", NS)
    root.remove(infos)


@pytest.mark.parametrize("fn, needle", [
    (_edit_result_text, "digest mismatch"),
    (_edit_attribute, "digest mismatch"),
    (_reorder, "digest mismatch"),
    (_remove, "digest mismatch"),
    (_duplicate, "digest mismatch"),
    (_unsigned_content_next_to_signature, "must hold only the dsig:Signature"),
    (_strip_signature, "not signed"),
], ids=["text-edit", "attribute-edit", "reorder", "removed", "duplicated",
        "unsigned-content-in-signature-info", "stripped"])
def test_arf_tamper_fails(signed_arf, pki, tmp_path, fn, needle):
    path = _tampered(signed_arf, tmp_path, fn)
    assert needle in _reason(path, [pki["ec"].cert])
    run = stigscap("verify", path, "--trusted-cert", pki["ec"].cert_pem)
    assert run.rc == 1 and "signature INVALID" in run.err and "Traceback" not in run.err


def test_arf_text_edit_also_fails_xmlsec1(signed_arf, pki, tmp_path):
    require_tool("xmlsec1")
    path = _tampered(signed_arf, tmp_path, _edit_result_text)
    assert not xmlsec_verify(path, pki["ec"].cert_pem).ok


# ---------------------------------------------------------------- SDS edits

def _component(root, suffix):
    return [c for c in root.findall("ds:component", NS) if c.get("id").endswith(suffix)][0]


def _edit_oval_component(root):
    comp = _component(root, "-oval.xml")
    definition = comp.find(".//{http://oval.mitre.org/XMLSchema/oval-definitions-5}definition")
    definition.set("version", str(int(definition.get("version")) + 1))


def test_manifest_only_change_fails_though_xmlsec1_says_ok(signed_sds, pki, tmp_path):
    path = _tampered(signed_sds, tmp_path, _edit_oval_component)
    reason = _reason(path, [pki["rsa"].cert])
    assert "Manifest reference" in reason and "-oval.xml" in reason
    if require_tool("xmlsec1"):
        res = xmlsec_verify(path, pki["rsa"].cert_pem)
        # the quirk this guards against: OK and rc 0, only the Manifest counter tells
        assert res.ok and res.rc == 0 and res.manifests == (4, 5)
        assert not res.really_ok


def _wrap_moved_original(root):
    """Move the signed data stream into an unsigned dsig:Object of the signature and put a
    modified copy where consumers read it, with the same id."""
    sig = root.find("dsig:Signature", NS)
    stream = root.find("ds:data-stream", NS)
    forged = deepcopy(stream)
    forged.set("use-case", "OTHER")
    obj = etree.SubElement(sig, f"{{{NS['dsig']}}}Object")
    stream.addprevious(forged)
    obj.append(stream)


def _wrap_moved_only(root):
    """Signed data stream moved out of consumers' sight, a forged one with another id."""
    sig = root.find("dsig:Signature", NS)
    stream = root.find("ds:data-stream", NS)
    forged = deepcopy(stream)
    forged.set("id", stream.get("id") + "2")
    stream.addprevious(forged)
    etree.SubElement(sig, f"{{{NS['dsig']}}}Object").append(stream)


def _inject_component_copy(root):
    """An unsigned copy of a signed component, same id, placed first (ID lookups that take the
    first match would read it)."""
    comp = _component(root, "-xccdf.xml")
    forged = deepcopy(comp)
    forged.find(f".//{{{X}}}title").text = "forged"
    root.find("ds:data-stream", NS).addnext(forged)


def _inject_data_stream(root):
    stream = root.find("ds:data-stream", NS)
    extra = deepcopy(stream)
    extra.set("id", stream.get("id") + "_unsigned")
    for ref in extra.iter(f"{{{NS['ds']}}}component-ref"):
        ref.set("id", ref.get("id") + "_unsigned")
    stream.addnext(extra)


def _strip_sds_signature(root):
    root.remove(root.find("dsig:Signature", NS))


def _duplicate_signature_props_id(root):
    props = root.find("dsig:Signature/dsig:Object/dsig:SignatureProperties", NS)
    copy = deepcopy(props)
    root.find("ds:data-stream", NS).append(etree.Comment("x"))
    root.find("dsig:Signature", NS).append(etree.Element(f"{{{NS['dsig']}}}Object"))
    root.find("dsig:Signature", NS)[-1].append(copy)


def _edit_data_stream(root):
    stream = root.find("ds:data-stream", NS)
    stream.set("use-case", "OTHER")


def _edit_signature_date(root):
    date = root.find(".//tmsad:signature-info/dc:date", NS)
    date.text = "2020-01-01T00:00:00Z"


@pytest.mark.parametrize("fn, needle", [
    (_edit_data_stream, "SignedInfo reference 1 (URI=#scap_mil.disa.stig_datastream_"),
    (_edit_signature_date, "SignedInfo reference 2"),
    (_wrap_moved_original, "ambiguous"),
    (_wrap_moved_only, "not a ds:data-stream of the collection"),
    (_inject_component_copy, "ambiguous"),
    (_inject_data_stream, "is not signed"),
    (_strip_sds_signature, "not signed"),
    (_duplicate_signature_props_id, "ambiguous"),
], ids=["data-stream-attribute", "signature-date", "wrapping-moved-original", "wrapping-moved-away", "injected-component-copy",
        "injected-data-stream", "stripped", "duplicate-properties-id"])
def test_sds_tamper_fails(signed_sds, pki, tmp_path, fn, needle):
    path = _tampered(signed_sds, tmp_path, fn)
    assert needle in _reason(path, [pki["rsa"].cert])
    assert stigscap("verify", path, "--trusted-cert", pki["rsa"].cert_pem).rc == 1


# ---------------------------------------------------------------- transforms made by xmlsec1

def _empty_filter(tree):
    ref = tree.getroot().find(".//dsig:SignedInfo/dsig:Reference", NS)
    transforms = ref.find("dsig:Transforms", NS)
    for t in list(transforms)[:2]:
        transforms.remove(t)
    t = etree.Element(f"{{{NS['dsig']}}}Transform",
                      Algorithm="http://www.w3.org/2002/06/xmldsig-filter2")
    xp = etree.SubElement(t, f"{{{NS['dsig-xpath']}}}XPath", Filter="intersect")
    xp.text = "/"
    transforms.insert(0, t)


def test_filter_that_digests_nothing_is_rejected(signed_arf, pki, tmp_path):
    """xmlsec1 1.2.37 signs an empty node-set for intersect '/', so its signature 'covers'
    nothing: after any edit xmlsec1 still says OK. stigscap refuses the empty digest."""
    require_tool("xmlsec1")
    tmpl = make_template(signed_arf, tmp_path / "tmpl.xml", _empty_filter)
    out = tmp_path / "empty.xml"
    p = xmlsec_sign(tmpl, pki["ec"].key_pem, pki["ec"].cert_pem, out)
    assert p.returncode == 0, p.stderr
    edited = _tampered(out, tmp_path, _edit_result_text, "empty-edited.xml")
    assert xmlsec_verify(edited, pki["ec"].cert_pem).really_ok  # fooled
    for path in (out, edited):
        assert "digest of empty input" in _reason(path, [pki["ec"].cert])


def _filter_out_reports(tree):
    xp = tree.getroot().findall(".//dsig:SignedInfo/dsig:Reference/dsig:Transforms/"
                                "dsig:Transform/dsig-xpath:XPath", NS)[1]
    xp.text = "/arf:asset-report-collection/arf:reports"


def test_signature_that_excludes_the_reports_is_rejected(signed_arf, pki, tmp_path):
    require_tool("xmlsec1")
    tmpl = make_template(signed_arf, tmp_path / "tmpl.xml", _filter_out_reports)
    out = tmp_path / "noreports.xml"
    assert xmlsec_sign(tmpl, pki["ec"].key_pem, pki["ec"].cert_pem, out).returncode == 0
    edited = _tampered(out, tmp_path, _edit_result_text, "noreports-edited.xml")
    assert xmlsec_verify(edited, pki["ec"].cert_pem).really_ok  # the math is fine
    assert "RES-313" in _reason(edited, [pki["ec"].cert])


def test_sha1_digest_is_rejected(signed_sds, pki, tmp_path):
    require_tool("xmlsec1")

    def sha1(tree):
        for dm in tree.getroot().iter(f"{{{NS['dsig']}}}DigestMethod"):
            dm.set("Algorithm", "http://www.w3.org/2000/09/xmldsig#sha1")
    tmpl = make_template(signed_sds, tmp_path / "tmpl.xml", sha1)
    out = tmp_path / "sha1.xml"
    assert xmlsec_sign(tmpl, pki["rsa"].key_pem, pki["rsa"].cert_pem, out).returncode == 0
    assert xmlsec_verify(out, pki["rsa"].cert_pem).really_ok
    assert "not allowed" in _reason(out, [pki["rsa"].cert])


# ---------------------------------------------------------------- certificates

def test_wrong_certificate(signed_sds, signed_arf, pki):
    assert "not one of the trusted" in _reason(signed_sds, [pki["wrong"].cert])
    assert "not one of the trusted" in _reason(signed_arf, [pki["rsa"].cert])


def test_swapped_keyinfo_certificate(signed_sds, pki, tmp_path):
    """Embed the trusted (wrong) certificate: the signature value then fails."""
    import base64

    from cryptography.hazmat.primitives.serialization import Encoding

    def swap(root):
        el = root.find("dsig:Signature/dsig:KeyInfo/dsig:X509Data/dsig:X509Certificate", NS)
        el.text = base64.b64encode(pki["wrong"].cert.public_bytes(Encoding.DER)).decode()
    path = _tampered(signed_sds, tmp_path, swap)
    assert "signature value does not verify" in _reason(path, [pki["wrong"].cert])


def test_expired_certificate(our_sds, pki, tmp_path):
    out = _api_sign(our_sds, pki["expired"].key, [pki["expired"].cert], tmp_path / "expired.xml")
    assert "expired" in _reason(out, [pki["expired"].cert])
    run = stigscap("verify", out, "--trusted-cert", pki["expired"].cert_pem)
    assert run.rc == 1 and "expired" in run.err
    # the same signature at a time inside the validity period is fine: it is the date
    at = (pki["expired"].cert.not_valid_after_utc - dt.timedelta(days=2)).isoformat()
    assert stigscap("verify", out, "--trusted-cert", pki["expired"].cert_pem, "--at", at).rc == 0


def test_ca_bundle_trust(our_sds, pki, tmp_path):
    out = tmp_path / "leaf.xml"
    _api_sign(our_sds, pki["leaf"].key, [pki["leaf"].cert, pki["ca"].cert], out)
    ok = stigscap("verify", out, "--ca-bundle", pki["ca"].cert_pem)
    assert ok.rc == 0, ok.err
    other_ca = make_identity(tmp_path, "otherca", ca=True)
    bad = stigscap("verify", out, "--ca-bundle", other_ca.cert_pem)
    assert bad.rc == 1 and "certificate not trusted" in bad.err
