"""`stigscap eval` with signatures: a signed source data stream is verified before it is
evaluated (refused when the signature fails, like oscap --enforce-signature), and the ARF
can be signed on the way out."""

from __future__ import annotations

from tests.cli_helpers import assert_one_line_error, stigscap
from tests.signing.sig_helpers import NS, parse
from tests.signing.test_sign_tamper import _edit_oval_component, _tampered


def _eval(ds, sc, out, *extra):
    return stigscap("eval", ds, "--profile", "MAC-1_Classified", "--system-characteristics", sc,
                    "--results-arf", out, "-q", *extra)


def test_signed_datastream_checked_and_arf_signed(work, signed_sds, our_arf, pki, tmp_path):
    sc = work / "example-sc.xml"   # written by the our_arf fixture
    out = tmp_path / "arf.xml"
    run = _eval(signed_sds, sc, out, "--trusted-cert", pki["rsa"].cert_pem,
                "--sign-key", pki["ec"].key_pem, "--sign-cert", pki["ec"].cert_pem)
    assert run.rc == 2, run.err           # the example server fails the seed rule
    assert parse(out).find(".//arf:extended-info/dsig:Signature", NS) is not None
    # the embedded (signed) source data stream is covered by the ARF signature, and its own
    # signature (another signer) is verified in place too: both signers must be trusted
    ok = stigscap("verify", out, "--trusted-cert", pki["ec"].cert_pem,
                  "--trusted-cert", pki["rsa"].cert_pem)
    assert ok.rc == 0, ok.err
    assert "embedded signature 1 in report-request 'collection1'" in ok.out


def test_invalid_datastream_signature_is_not_evaluated(work, signed_sds, our_arf, pki,
                                                       tmp_path):
    sc = work / "example-sc.xml"
    out = tmp_path / "arf.xml"
    run = _eval(signed_sds, sc, out, "--trusted-cert", pki["wrong"].cert_pem)
    assert_one_line_error(run, "signature INVALID, not evaluated")
    assert not out.exists()
    tampered = _tampered(signed_sds, tmp_path, _edit_oval_component)
    run = _eval(tampered, sc, out, "--trusted-cert", pki["rsa"].cert_pem)
    assert_one_line_error(run, "Manifest reference")
    assert not out.exists()


def test_enforce_signature_refuses_unsigned(work, our_sds, our_arf, tmp_path):
    out = tmp_path / "arf.xml"
    run = _eval(our_sds, work / "example-sc.xml", out, "--enforce-signature")
    assert_one_line_error(run, "not signed")
    assert not out.exists()


def test_trust_options_on_unsigned_datastream_say_so(work, our_sds, our_arf, pki, tmp_path):
    """--trusted-cert / --ca-bundle on an unsigned stream: evaluated, but one line on stderr
    names the file and says there was nothing to check; --enforce-signature refuses it."""
    sc = work / "example-sc.xml"
    out = tmp_path / "arf.xml"
    run = _eval(our_sds, sc, out, "--trusted-cert", pki["rsa"].cert_pem)
    assert run.rc == 2 and out.exists(), run.err
    note = [line for line in run.err.splitlines() if line.strip()]
    assert note == [f"stigscap: {our_sds}: the source data stream is not signed; --trusted-cert "
                    "had nothing to check (evaluated anyway; --enforce-signature refuses it)"]
    run = _eval(our_sds, sc, tmp_path / "arf2.xml", "--ca-bundle", pki["ca"].cert_pem)
    assert run.rc == 2 and "not signed; --ca-bundle had nothing to check" in run.err
    out3 = tmp_path / "arf3.xml"
    run = _eval(our_sds, sc, out3, "--trusted-cert", pki["rsa"].cert_pem, "--enforce-signature")
    assert_one_line_error(run, str(our_sds), "not signed")
    assert not out3.exists()
    run = _eval(our_sds, sc, tmp_path / "arf4.xml")   # no trust option: nothing to say
    assert run.rc == 2 and run.err.strip() == ""


def test_signed_datastream_without_trust_is_evaluated_with_a_note(work, signed_sds, our_arf,
                                                                  tmp_path):
    out = tmp_path / "arf.xml"
    run = _eval(signed_sds, work / "example-sc.xml", out)
    assert run.rc == 2 and out.exists()
    assert "signature was not checked" in run.err
