"""Signed ARF 1.1 result data stream: RES-307..315 / RES-323 layout, xmlsec1 (XPath Filter 2.0),
oscap rds-validate, and our verifier."""

from __future__ import annotations

import subprocess

from stigscap.evaluator.signing import core
from stigscap.evaluator.signing.verifier import verify_document
from stigscap.schemas.xmlio import parse_xml_file
from tests.conftest import require_tool
from tests.signing.sig_helpers import NS, parse, xmlsec_verify

FILTER2 = "http://www.w3.org/2002/06/xmldsig-filter2"


def test_layout_follows_res_307_to_315(signed_arf):
    root = parse(signed_arf).getroot()
    sigs = list(root.iter(f"{{{NS['dsig']}}}Signature"))
    assert len(sigs) == 1                                                          # RES-307
    sig = sigs[0]
    info = sig.getparent()
    assert info.tag == f"{{{NS['arf']}}}extended-info" and info.get("id")
    assert info.getparent().getparent() is root and root[-1] is info.getparent()
    refs = sig.findall("dsig:SignedInfo/dsig:Reference", NS)
    assert len(refs) == 2 and refs[0].get("URI") == ""                             # RES-312
    transforms = refs[0].findall("dsig:Transforms/dsig:Transform", NS)
    assert [t.get("Algorithm") for t in transforms] == [FILTER2, FILTER2, core.C14N11]
    xpaths = [t.find("dsig-xpath:XPath", NS) for t in transforms[:2]]              # RES-313
    assert [x.get("Filter") for x in xpaths] == ["subtract", "subtract"]
    assert [x.text for x in xpaths] == [
        "/arf:asset-report-collection/arf:extended-infos"
        "[count(arf:extended-info[dsig:Signature]) = count(*)]",
        "/arf:asset-report-collection/arf:extended-infos/arf:extended-info[dsig:Signature]"]
    assert all(x.nsmap["arf"] == NS["arf"] for x in xpaths)
    props = sig.find("dsig:Object/dsig:SignatureProperties", NS)                   # RES-314
    assert refs[1].get("URI") == "#" + props.get("Id")
    assert refs[1].get("Type") == "http://www.w3.org/2000/09/xmldsig#SignatureProperties"
    assert props.find("dsig:SignatureProperty/tmsad:signature-info", NS) is not None  # RES-311
    assert sig.find("dsig:KeyInfo/dsig:X509Data", NS) is not None                  # RES-315
    assert root.find("arf:report-requests/arf:report-request/arf:content/"
                     "ds:data-stream-collection", NS) is not None                  # RES-323
    assert sig.find("dsig:SignedInfo/dsig:SignatureMethod", NS).get("Algorithm") == \
        core.ECDSA_SHA256


def test_xmlsec1_verifies_the_filter2_reference(signed_arf, pki):
    require_tool("xmlsec1")
    res = xmlsec_verify(signed_arf, pki["ec"].cert_pem)
    assert res.really_ok, res.output[-2000:]
    assert res.signed_info == (2, 2)


def test_our_verifier_accepts_and_lists_coverage(signed_arf, pki):
    report = verify_document(parse_xml_file(signed_arf).getroot(), [pki["ec"].cert])
    assert report.valid, report.lines()
    covered = "\n".join(report.signatures[0].covered)
    for needle in ("arf:report 'xccdf1'", "arf:report-request 'collection1'",
                   "arf:asset 'asset0'", "whole document except"):
        assert needle in covered


def test_signed_arf_passes_rds_validate(signed_arf):
    require_tool("oscap")
    p = subprocess.run(["oscap", "ds", "rds-validate", str(signed_arf)], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_rsa_signed_arf_also_verifies(work, our_arf, pki):
    require_tool("xmlsec1")
    from tests.cli_helpers import stigscap
    out = work / "arf-rsa.xml"
    assert stigscap("sign", our_arf, "--sign-key", pki["rsa"].key_pem, "--sign-cert",
                    pki["rsa"].cert_pem, "-o", out).rc == 0
    assert xmlsec_verify(out, pki["rsa"].cert_pem).really_ok
    assert stigscap("verify", out, "--trusted-cert", pki["rsa"].cert_pem).rc == 0


def test_top_level_processing_instruction_is_signed(our_arf, pki, tmp_path):
    """URI="" is the document node: a stylesheet PI before the root is covered (as xmlsec1
    sees it), comments are not."""
    require_tool("xmlsec1")
    from tests.cli_helpers import stigscap
    data = our_arf.read_bytes()
    end = data.index(b"?>") + 2
    src = tmp_path / "pi.xml"
    src.write_bytes(data[:end] + b'\n<?xml-stylesheet type="text/xsl" href="a.xsl"?>\n'
                    b"<!-- note -->" + data[end:])
    out = tmp_path / "pi-signed.xml"
    assert stigscap("sign", src, "--sign-key", pki["ec"].key_pem, "--sign-cert", pki["ec"].cert_pem,
                    "-o", out).rc == 0
    assert xmlsec_verify(out, pki["ec"].cert_pem).really_ok
    assert stigscap("verify", out, "--trusted-cert", pki["ec"].cert_pem).rc == 0
    tampered = tmp_path / "pi-tampered.xml"
    tampered.write_bytes(out.read_bytes().replace(b"a.xsl", b"evil.xsl"))
    assert not xmlsec_verify(tampered, pki["ec"].cert_pem).ok
    assert stigscap("verify", tampered, "--trusted-cert", pki["ec"].cert_pem).rc == 1


def test_arf_with_a_default_namespace_in_scope_verifies_with_xmlsec1(our_arf, pki, tmp_path):
    """A default namespace declared on the report collection is in scope of the signature:
    SignedInfo and SignatureProperties (C14N 1.1) carry it in their canonical form, and the
    digests and signature value must be the ones xmlsec1 computes in the document."""
    require_tool("xmlsec1")
    from tests.cli_helpers import stigscap
    data = our_arf.read_bytes()
    start = b"<arf:asset-report-collection"
    assert data.count(start) == 1
    src = tmp_path / "default-ns.xml"
    # every element of our ARF is prefixed or declares its own default: nothing changes meaning
    src.write_bytes(data.replace(start, start + b' xmlns="urn:example:default"'))
    assert [e.tag for e in parse(src).iter()] == [e.tag for e in parse(our_arf).iter()]
    out = tmp_path / "default-ns-signed.xml"
    assert stigscap("sign", src, "--sign-key", pki["rsa"].key_pem, "--sign-cert", pki["rsa"].cert_pem,
                    "-o", out).rc == 0
    res = xmlsec_verify(out, pki["rsa"].cert_pem)
    assert res.really_ok and res.signed_info == (2, 2), res.output[-2000:]
    assert stigscap("verify", out, "--trusted-cert", pki["rsa"].cert_pem).rc == 0
