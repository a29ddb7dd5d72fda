"""Interop in the other direction (xmlsec1 signs, stigscap verifies), TMSAD / SCAP signature
rules as assertions, and the CLI's key handling (PKCS#12, passwords from the environment)."""

from __future__ import annotations

import os
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.cli_helpers import assert_one_line_error, stigscap
from tests.conftest import require_tool
from tests.signing.sig_helpers import NS, make_template, parse, xmlsec_sign

SECRET = "correct horse battery staple"


@pytest.mark.parametrize("which, ident", [("sds", "rsa"), ("arf", "ec")])
def test_xmlsec1_signature_verifies_with_stigscap(request, tmp_path, pki, which, ident):
    require_tool("xmlsec1")
    signed = request.getfixturevalue("signed_sds" if which == "sds" else "signed_arf")
    tmpl = make_template(signed, tmp_path / "tmpl.xml")
    out = tmp_path / "xmlsec-signed.xml"
    p = xmlsec_sign(tmpl, pki[ident].key_pem, pki[ident].cert_pem, out)
    assert p.returncode == 0, p.stderr
    assert out.read_bytes() != signed.read_bytes()
    run = stigscap("verify", out, "--trusted-cert", pki[ident].cert_pem)
    assert run.rc == 0, run.out + run.err
    assert "signature valid" in run.out


# ---------------------------------------------------------------- TMSAD / SRC / RES rules

def tmsad_violations(root) -> list[str]:
    """The ERROR- and WARNING-level assertions of NIST's tmsad-1.0.sch and the SCAP 1.3
    signature rules (SRC-282..290, RES-311..315), restated in XPath 1.0 / Python because the
    XSLT 2 schematron cannot run here."""
    bad = []
    ok_sig = {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
              "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"}
    ok_dig = {"http://www.w3.org/2001/04/xmlenc#sha256",
              "http://www.w3.org/2001/04/xmldsig-more#sha384",
              "http://www.w3.org/2001/04/xmlenc#sha512"}
    for sig in root.iter(f"{{{NS['dsig']}}}Signature"):
        ids = {e.get("Id"): e for e in sig.iter() if isinstance(e.tag, str) and e.get("Id")}
        for sm in sig.iterfind(".//dsig:SignatureMethod", NS):
            if sm.get("Algorithm") not in ok_sig:
                bad.append("TMSAD SignatureMethod")
        for dm in sig.iterfind(".//dsig:DigestMethod", NS):
            if dm.get("Algorithm") not in ok_dig:
                bad.append("TMSAD DigestMethod")
            dv = dm.getnext()
            if dm.get("Algorithm").endswith("sha256") and len("".join(dv.text.split())) != 44:
                bad.append("TMSAD 256-bit DigestValue")
        refs = sig.findall("dsig:SignedInfo/dsig:Reference", NS)
        if len(refs) < 2 or not any(
                ids.get(r.get("URI", "")[1:]) is not None and
                ids[r.get("URI")[1:]].tag == f"{{{NS['dsig']}}}SignatureProperties" for r in refs):
            bad.append("TMSAD >=2 references, one to SignatureProperties")
        for m in sig.iterfind(".//dsig:Manifest", NS):
            if not any(r.get("URI") == "#" + m.get("Id") for r in refs):
                bad.append("TMSAD Manifest referenced from SignedInfo")
        if sig.find("dsig:Object/dsig:SignatureProperties/dsig:SignatureProperty/"
                    "tmsad:signature-info", NS) is None:
            bad.append("SRC-285/RES-311 signature-info")
        for r in sig.iterfind(".//dsig:Reference", NS):
            target = ids.get(r.get("URI", "")[1:]) if r.get("URI", "").startswith("#") else None
            if target is not None:
                local = target.tag.split("}")[1]
                if local in ("Object", "Manifest", "SignatureProperties") and \
                        r.get("Type") != NS["dsig"] + local:
                    bad.append(f"TMSAD @Type on reference to {local}")
        for t in sig.iterfind(".//dsig:Transform", NS):
            if t.get("Algorithm") in ("http://www.w3.org/TR/1999/REC-xpath-19991116",
                                      "http://www.w3.org/TR/1999/REC-xslt-19991116"):
                bad.append("TMSAD XPath 1 / XSLT transform")
        if sig.find("dsig:KeyInfo", NS) is None:
            bad.append("SRC-290/RES-315 KeyInfo")
        if root.tag == f"{{{NS['ds']}}}data-stream-collection":
            streams = {"#" + s.get("id"): s for s in root.findall("ds:data-stream", NS)}
            hits = [r for r in refs if r.get("URI") in streams]
            if len(hits) != 1 or refs[0] is not hits[0]:
                bad.append("SRC-282/286 one data stream, first reference")
            else:
                manifest_uris = {r.get("URI") for r in
                                 sig.findall("dsig:Object/dsig:Manifest/dsig:Reference", NS)}
                for cref in streams[hits[0].get("URI")].iter(f"{{{NS['ds']}}}component-ref"):
                    href = cref.get(f"{{{NS['xlink']}}}href")
                    if href.startswith("#") and href not in manifest_uris:
                        bad.append("SRC-284-2 component in Manifest")
            if sig.find("dsig:Object/dsig:Manifest", NS) is None:
                bad.append("SRC-284-1 Manifest")
            if ids.get(refs[1].get("URI", "")[1:]) is None or len(refs) < 3 or \
                    ids.get(refs[2].get("URI", "")[1:]) is None or \
                    ids[refs[2].get("URI")[1:]].tag != f"{{{NS['dsig']}}}Manifest":
                bad.append("SRC-287/288 reference order")
        else:
            if refs[0].get("URI") != "":
                bad.append("RES-312-1")
            if len(refs[0].findall("dsig:Transforms/dsig:Transform[@Algorithm="
                                   "'http://www.w3.org/2002/06/xmldsig-filter2']", NS)) != 2:
                bad.append("RES-313-1")
            if ids.get(refs[1].get("URI", "")[1:]) is None:
                bad.append("RES-314-1")
            if root.find(".//arf:report-request", NS) is None:
                bad.append("RES-323-1")
    return bad


def test_tmsad_and_scap_signature_rules_hold(signed_sds, signed_arf):
    assert tmsad_violations(parse(signed_sds).getroot()) == []
    assert tmsad_violations(parse(signed_arf).getroot()) == []


def test_rule_checker_catches_a_broken_signature(signed_sds):
    root = parse(signed_sds).getroot()
    ref = root.find("dsig:Signature/dsig:SignedInfo/dsig:Reference[3]", NS)
    del ref.attrib["Type"]
    root.find("dsig:Signature/dsig:KeyInfo", NS).getparent().remove(
        root.find("dsig:Signature/dsig:KeyInfo", NS))
    bad = tmsad_violations(root)
    assert "TMSAD @Type on reference to Manifest" in bad and "SRC-290/RES-315 KeyInfo" in bad


# ---------------------------------------------------------------- CLI key handling

def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "STIGSCAP_KEY_PASSWORD"}
    env.update(extra)
    return env


def test_pkcs12_with_password_from_environment(our_sds, pki, tmp_path):
    p12 = tmp_path / "signer.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"signer", pki["rsa"].key, pki["rsa"].cert, None,
        serialization.BestAvailableEncryption(SECRET.encode())))
    out = tmp_path / "p12.xml"
    run = stigscap("sign", our_sds, "--sign-key", p12, "-o", out, env=_env())
    assert_one_line_error(run, "STIGSCAP_KEY_PASSWORD")
    assert not out.exists()
    run = stigscap("sign", our_sds, "--sign-key", p12, "-o", out,
                   env=_env(STIGSCAP_KEY_PASSWORD="wrong"))
    assert_one_line_error(run, "PKCS#12")
    assert not out.exists()
    run = stigscap("sign", our_sds, "--sign-key", p12, "-o", out,
                   env=_env(STIGSCAP_KEY_PASSWORD=SECRET))
    assert run.rc == 0, run.err
    assert SECRET.encode() not in out.read_bytes()
    assert SECRET not in run.out + run.err
    assert stigscap("verify", out, "--trusted-cert", pki["rsa"].cert_pem).rc == 0


def test_encrypted_pem_key_and_no_password_option(our_sds, pki, tmp_path):
    key = tmp_path / "enc.key"
    key.write_bytes(pki["ec"].key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(SECRET.encode())))
    out = tmp_path / "enc.xml"
    run = stigscap("sign", our_sds, "--sign-key", key, "--sign-cert", pki["ec"].cert_pem, "-o", out,
                   "--password-env", "MY_PW", env=_env(MY_PW=SECRET))
    assert run.rc == 0, run.err
    help_text = stigscap("sign", "--help").out
    assert "--password " not in help_text and "--password=" not in help_text


def test_key_and_certificate_must_match(our_sds, pki, tmp_path):
    out = tmp_path / "x.xml"
    run = stigscap("sign", our_sds, "--sign-key", pki["rsa"].key_pem, "--sign-cert",
                   pki["wrong"].cert_pem, "-o", out)
    assert_one_line_error(run, "does not belong to the private key")
    assert not out.exists()


def test_not_scap_input_is_one_line_error(pki, tmp_path):
    f = tmp_path / "other.xml"
    f.write_text("<root/>")
    assert_one_line_error(stigscap("sign", f, "--sign-key", pki["rsa"].key_pem, "--sign-cert",
                                   pki["rsa"].cert_pem, "-o", tmp_path / "o.xml"),
                          "not a SCAP source data stream or ARF")
    run = stigscap("verify", f, "--trusted-cert", pki["rsa"].cert_pem)
    assert run.rc == 1 and "Traceback" not in run.err
    assert_one_line_error(stigscap("verify", f), "--trusted-cert")


def test_verify_output_names_covered_elements(signed_sds, pki):
    run = stigscap("verify", signed_sds, "--trusted-cert", pki["rsa"].cert_pem)
    assert run.rc == 0
    assert run.out.count("covers: ds:component") == 5
    assert "covers: ds:data-stream" in run.out


def test_xmllint_free_wellformed_and_oscap_info_reads_signed_sds(signed_sds):
    require_tool("oscap")
    p = subprocess.run(["oscap", "info", str(signed_sds)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
