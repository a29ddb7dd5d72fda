"""Signed SCAP 1.3 source data stream: layout (SRC-281..290, SRC-360, TMSAD), A-26 defaults,
and independent verifiers (xmlsec1 with Manifest counters, oscap --enforce-signature)."""

from __future__ import annotations

import base64
import subprocess

from lxml import etree

from stigscap.schemas.clock import resolve_time
from stigscap.evaluator.signing import core
from stigscap.evaluator.signing.signer import sign_document
from stigscap.evaluator.signing.verifier import verify_document
from stigscap.schemas.xmlio import parse_xml_file
from tests.cli_helpers import stigscap
from tests.conftest import require_tool
from tests.signing.conftest import SIGN_TIME
from tests.signing.sig_helpers import NS, parse, xmlsec_verify

T_PROPS = "http://www.w3.org/2000/09/xmldsig#SignatureProperties"
T_MANIFEST = "http://www.w3.org/2000/09/xmldsig#Manifest"


def test_layout_follows_sp800_126r3(signed_sds):
    root = parse(signed_sds).getroot()
    sigs = root.findall("dsig:Signature", NS)
    streams = root.findall("ds:data-stream", NS)
    assert len(sigs) == len(streams) == 1
    # SRC-360: signatures are the last children of the collection
    assert root[-1] is sigs[-1]
    sig, stream = sigs[0], streams[0]
    si = sig.find("dsig:SignedInfo", NS)
    # exclusive C14N (not TMSAD's preferred C14N 1.1): inclusive canonicalization would pull
    # the ARF's namespace declarations into every digest once the stream is embedded in an ARF
    # report-request, and the signature could not verify there (test_sign_embedded.py)
    assert si.find("dsig:CanonicalizationMethod", NS).get("Algorithm") == core.EXC_C14N
    assert si.find("dsig:SignatureMethod", NS).get("Algorithm") == core.RSA_SHA256
    refs = si.findall("dsig:Reference", NS)
    assert [r.get("URI") for r in refs][:1] == ["#" + stream.get("id")]          # SRC-286
    props = sig.find("dsig:Object/dsig:SignatureProperties", NS)
    manifest = sig.find("dsig:Object/dsig:Manifest", NS)
    assert refs[1].get("URI") == "#" + props.get("Id") and refs[1].get("Type") == T_PROPS
    assert refs[2].get("URI") == "#" + manifest.get("Id") and refs[2].get("Type") == T_MANIFEST
    info = props.find("dsig:SignatureProperty/tmsad:signature-info", NS)          # SRC-285
    assert info.findtext("dc:creator", namespaces=NS) == "stigscap"
    assert info.findtext("dc:date", namespaces=NS) == SIGN_TIME
    assert len(info.findtext("tmsad:nonce", namespaces=NS)) == 32
    # SRC-284/289: one manifest reference per local component, in component-ref order
    hrefs = [c.get(f"{{{NS['xlink']}}}href") for c in stream.iter(f"{{{NS['ds']}}}component-ref")]
    assert [r.get("URI") for r in manifest.findall("dsig:Reference", NS)] == hrefs
    assert len(hrefs) == 5
    assert sig.find("dsig:KeyInfo/dsig:X509Data/dsig:X509Certificate", NS) is not None  # SRC-290
    # SHA-256 everywhere, never SHA-1; 256-bit digests
    for dm in sig.iter(f"{{{NS['dsig']}}}DigestMethod"):
        assert dm.get("Algorithm") == core.SHA256
    for dv in sig.iter(f"{{{NS['dsig']}}}DigestValue"):
        assert len(base64.b64decode(dv.text)) == 32
    assert b"sha1" not in etree.tostring(sig)


def test_default_attributes_written_before_signing(our_sds, signed_sds):
    """A-26: every XCCDF Rule carries selected/weight/role/severity (A-26-1), OVAL tests their
    check_existence, etc., although the generated stream left some defaults implicit."""
    before = parse(our_sds).getroot()
    after = parse(signed_sds).getroot()
    rules = after.findall(".//xccdf:Rule", NS)
    assert rules and all(r.get(a) is not None for r in rules
                         for a in ("selected", "weight", "role", "severity"))
    n_before = sum(len(e.attrib) for e in before.iter(etree.Element))
    n_after = sum(len(e.attrib) for e in after.iter(etree.Element)
                  if e.tag != f"{{{NS['dsig']}}}Signature" and
                  not any(a.tag == f"{{{NS['dsig']}}}Signature" for a in e.iterancestors()))
    assert n_after > n_before


def test_our_verifier_accepts_and_lists_coverage(signed_sds, pki):
    report = verify_document(parse_xml_file(signed_sds).getroot(), [pki["rsa"].cert])
    assert report.valid, report.lines()
    covered = "\n".join(report.signatures[0].covered)
    assert "ds:data-stream 'scap_mil.disa.stig_datastream_MS_Exchange_2013_Edge_STIG'" in covered
    assert covered.count("via Manifest") == 5
    assert "CN=stigscap test rsa" in report.signatures[0].signer


def test_xmlsec1_verifies_signedinfo_and_manifest(signed_sds, pki):
    require_tool("xmlsec1")
    res = xmlsec_verify(signed_sds, pki["rsa"].cert_pem)
    assert res.really_ok, res.output[-2000:]
    assert res.signed_info == (3, 3) and res.manifests == (5, 5)
    assert not xmlsec_verify(signed_sds, pki["wrong"].cert_pem).ok


def test_oscap_enforce_signature_accepts(signed_sds, pki):
    require_tool("oscap")
    p = subprocess.run(["oscap", "xccdf", "eval", "--skip-validation", "--enforce-signature",
                        "--profile", "no_such_profile", str(signed_sds)], capture_output=True,
                       text=True, env={"SSL_CERT_FILE": str(pki["rsa"].cert_pem),
                                       "PATH": "/usr/bin:/bin"})
    assert "XML signature is valid." in p.stdout + p.stderr, p.stdout + p.stderr


def test_oscap_rejects_with_other_trust(signed_sds, pki):
    require_tool("oscap")
    p = subprocess.run(["oscap", "xccdf", "eval", "--skip-validation", "--enforce-signature",
                        "--profile", "no_such_profile", str(signed_sds)], capture_output=True,
                       text=True, env={"SSL_CERT_FILE": str(pki["wrong"].cert_pem),
                                       "PATH": "/usr/bin:/bin"})
    assert "XML signature is valid." not in p.stdout + p.stderr


def test_signed_sds_passes_xsd_and_full_schematron(signed_sds):
    require_tool("oscap")
    p = subprocess.run(["oscap", "ds", "sds-validate", str(signed_sds)], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run(["oscap", "xccdf", "validate", str(signed_sds)], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]
    assert "Complete result of schematron validation" in p.stdout and "FAIL" not in p.stdout


def test_ecdsa_signature_verifies_everywhere(work, our_sds, pki):
    require_tool("xmlsec1")
    out = work / "ds-ec.xml"
    run = stigscap("sign", our_sds, "--sign-key", pki["ec"].key_pem, "--sign-cert", pki["ec"].cert_pem,
                   "-o", out)
    assert run.rc == 0, run.err
    sm = parse(out).find(".//dsig:SignatureMethod", NS)
    assert sm.get("Algorithm") == core.ECDSA_SHA256
    assert xmlsec_verify(out, pki["ec"].cert_pem).really_ok
    assert verify_document(parse_xml_file(out).getroot(), [pki["ec"].cert]).valid


def test_deterministic_with_rsa_fixed_time_and_nonce(our_sds, pki, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    outs = []
    for _ in range(2):
        root = parse_xml_file(our_sds).getroot()
        sign_document(root, pki["rsa"].key, [pki["rsa"].cert], nonce="fixed-nonce",
                      fill_defaults=False, timestamp=resolve_time())
        outs.append(etree.tostring(root))
    assert outs[0] == outs[1]
    assert b"<dc:date>2026-09-21T14:13:20Z</dc:date>" in outs[0]


def test_already_signed_is_refused_unless_replace(work, signed_sds, pki):
    out = work / "resigned.xml"
    run = stigscap("sign", signed_sds, "--sign-key", pki["ec"].key_pem, "--sign-cert", pki["ec"].cert_pem,
                   "-o", out)
    assert run.rc == 1 and "already signed" in run.err and not out.exists()
    run = stigscap("sign", signed_sds, "--sign-key", pki["ec"].key_pem, "--sign-cert", pki["ec"].cert_pem,
                   "-o", out, "--replace")
    assert run.rc == 0, run.err
    root = parse(out).getroot()
    assert len(root.findall("dsig:Signature", NS)) == 1
    assert verify_document(parse_xml_file(out).getroot(), [pki["ec"].cert]).valid
    assert not verify_document(parse_xml_file(out).getroot(), [pki["rsa"].cert]).valid


def test_two_data_streams_get_one_signature_each(work, our_sds, pki):
    """SRC-282: one signature per data stream; each verifies on its own (xmlsec1 per node)."""
    require_tool("xmlsec1")
    tree = parse(our_sds)
    root = tree.getroot()
    stream = root.find("ds:data-stream", NS)
    twin = etree.fromstring(etree.tostring(stream))
    twin.set("id", stream.get("id") + "_copy")
    for ref in twin.iter(f"{{{NS['ds']}}}component-ref"):
        ref.set("id", ref.get("id") + "_copy")
    for uri in twin.iter("{urn:oasis:names:tc:entity:xmlns:xml:catalog}uri"):
        uri.set("uri", uri.get("uri") + "_copy")
    stream.addnext(twin)
    sign_document(root, pki["rsa"].key, [pki["rsa"].cert], fill_defaults=False,
                  timestamp="2026-01-01T00:00:00Z")
    out = work / "two-streams.xml"
    out.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    sigs = root.findall("dsig:Signature", NS)
    assert [s.find("dsig:SignedInfo/dsig:Reference", NS).get("URI") for s in sigs] == \
        ["#" + stream.get("id"), "#" + twin.get("id")]
    for i in (1, 2):
        assert xmlsec_verify(out, pki["rsa"].cert_pem, index=i).really_ok
    report = verify_document(parse_xml_file(out).getroot(), [pki["rsa"].cert])
    assert report.valid and len(report.signatures) == 2
