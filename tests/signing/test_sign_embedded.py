"""A signed source data stream embedded in a signed ARF (issue 11 item 9): the data stream's
own signature must verify IN PLACE inside the ARF's report-request, with xmlsec1 (SignedInfo
and Manifest counters, never its exit code alone) and with `stigscap verify`, which checks it as
an "embedded signature" with the same trust and fails when the embedded stream was changed.

Also: signing and verifying documents with text nodes over 10 MB (item 10), which reading
accepts (huge_tree), and signatures made with inclusive C14N by earlier stigscap versions."""

from __future__ import annotations

import subprocess
from copy import deepcopy

import pytest

from stigscap.evaluator.signing import signer as signing_mod
from stigscap.evaluator.signing import core
from stigscap.evaluator.signing.signer import sign_document
from stigscap.evaluator.signing.verifier import verify_document
from stigscap.schemas.xmlio import parse_xml_file, serialize
from tests.cli_helpers import assert_one_line_error, stigscap
from tests.conftest import require_tool
from tests.signing.conftest import SIGN_TIME
from tests.signing.sig_helpers import NS, parse, write, xmlsec_verify
from tests.signing.test_sign_tamper import (_edit_data_stream, _edit_oval_component,
                                            _inject_component_copy, _wrap_moved_original)

EMBEDDED = "arf:report-requests/arf:report-request/arf:content/ds:data-stream-collection"
LABEL = "embedded signature 1 in report-request 'collection1'"


@pytest.fixture(scope="module")
def signed_run(tmp_path_factory, pki):
    """`stigscap run --example --sign-key/--sign-cert`: signed data stream + signed ARF."""
    out = tmp_path_factory.mktemp("signed-run")
    run = stigscap("run", "--example", "--output", out, "--sign-key", pki["rsa"].key_pem,
                   "--sign-cert", pki["rsa"].cert_pem, "--timestamp", SIGN_TIME)
    assert run.rc == 2, run.err           # the example server fails the seed rule
    (arf,) = out.glob("*-arf.xml")
    (ds,) = out.glob("*-ds.xml")
    return ds, arf


def _embedded_signature_is_first(arf):
    root = parse(arf).getroot()
    sigs = list(root.iter(f"{{{NS['dsig']}}}Signature"))
    assert len(sigs) == 2 and sigs[0].getparent() is root.find(EMBEDDED, NS)


def test_run_signed_arf_both_signatures_verify_in_place_with_xmlsec1(signed_run, pki):
    require_tool("xmlsec1")
    ds, arf = signed_run
    _embedded_signature_is_first(arf)
    embedded = xmlsec_verify(arf, pki["rsa"].cert_pem, index=1)
    # before exclusive C14N: "SignedInfo References (ok/all): 0/1", Manifest 0/5
    assert embedded.signed_info == (3, 3) and embedded.manifests == (5, 5), \
        embedded.output[-2000:]
    assert embedded.really_ok
    own = xmlsec_verify(arf, pki["rsa"].cert_pem, index=2)
    assert own.signed_info == (2, 2) and own.really_ok, own.output[-2000:]
    # and the data stream written next to it, on its own
    alone = xmlsec_verify(ds, pki["rsa"].cert_pem)
    assert alone.signed_info == (3, 3) and alone.manifests == (5, 5) and alone.really_ok


def test_data_stream_signature_is_exclusive_c14n(signed_run):
    """Every canonicalization of the data stream signature is exclusive (context-free); the
    ARF signature keeps C14N 1.1 (its reference is the whole document)."""
    ds, arf = signed_run
    sig = parse(ds).getroot().find("dsig:Signature", NS)
    algs = [el.get("Algorithm") for el in sig.iter(f"{{{NS['dsig']}}}CanonicalizationMethod",
                                                   f"{{{NS['dsig']}}}Transform")]
    assert len(algs) == 1 + 3 + 5 and set(algs) == {core.EXC_C14N}
    arf_sig = parse(arf).getroot().find("arf:extended-infos/arf:extended-info/dsig:Signature", NS)
    assert arf_sig.find("dsig:SignedInfo/dsig:CanonicalizationMethod", NS).get("Algorithm") \
        == core.C14N11


def test_oscap_still_verifies_the_standalone_data_stream(signed_run, pki):
    require_tool("oscap")
    ds, _ = signed_run
    p = subprocess.run(["oscap", "xccdf", "eval", "--skip-validation", "--enforce-signature",
                        "--profile", "no_such_profile", str(ds)], capture_output=True, text=True,
                       env={"SSL_CERT_FILE": str(pki["rsa"].cert_pem), "PATH": "/usr/bin:/bin"})
    assert "XML signature is valid." in p.stdout + p.stderr, p.stdout + p.stderr


def test_stigscap_verify_checks_the_embedded_signature(signed_run, pki):
    _, arf = signed_run
    run = stigscap("verify", arf, "--trusted-cert", pki["rsa"].cert_pem)
    assert run.rc == 0, run.out + run.err
    lines = run.out.splitlines()
    head = [n for n, line in enumerate(lines) if line.startswith(LABEL)]
    assert len(head) == 1 and lines[head[0]].endswith(": valid"), run.out
    block = "\n".join(lines[head[0]:])
    assert "covers: ds:data-stream 'scap_mil.disa.stig_datastream_" in block
    assert block.count("via Manifest") == 5
    assert "not checked" not in run.out


def _resigned_arf_with(arf, tmp_path, fn, pki):
    """Change the embedded data stream, then sign the ARF again (valid ARF signature), so only
    the embedded data stream's own signature can notice."""
    tree = parse_xml_file(arf, huge_tree=True)
    fn(tree.getroot().find(EMBEDDED, NS))
    sign_document(tree.getroot(), pki["rsa"].key, [pki["rsa"].cert], timestamp=SIGN_TIME,
                  replace_existing=True)
    out = tmp_path / "tampered-arf.xml"
    out.write_bytes(serialize(tree, pretty=False))
    return out


@pytest.mark.parametrize("fn, needle", [
    (_edit_data_stream, "SignedInfo reference 1 (URI=#scap_mil.disa.stig_datastream_"),
    (_edit_oval_component, "Manifest reference #scap_mil.disa.stig_comp_"),
    (_wrap_moved_original, "ambiguous"),
    (_inject_component_copy, "ambiguous"),
], ids=["data-stream-edit", "component-edit", "wrapping", "injected-component-copy"])
def test_tampered_embedded_data_stream_fails_verify(signed_run, pki, tmp_path, fn, needle):
    _, arf = signed_run
    path = _resigned_arf_with(arf, tmp_path, fn, pki)
    report = verify_document(parse_xml_file(path).getroot(), [pki["rsa"].cert])
    assert not report.valid
    assert report.signatures[0].valid and report.signatures[0].scope is None  # the ARF's own
    assert needle in report.reason and report.reason.startswith(LABEL), report.lines()
    run = stigscap("verify", path, "--trusted-cert", pki["rsa"].cert_pem)
    assert_one_line_error(run, "signature INVALID", LABEL)


def test_tampered_component_also_fails_xmlsec1_in_place(signed_run, pki, tmp_path):
    require_tool("xmlsec1")
    _, arf = signed_run
    path = _resigned_arf_with(arf, tmp_path, _edit_oval_component, pki)
    res = xmlsec_verify(path, pki["rsa"].cert_pem, index=1)
    assert res.signed_info == (3, 3) and res.manifests == (4, 5) and not res.really_ok
    assert xmlsec_verify(path, pki["rsa"].cert_pem, index=2).really_ok


def test_embedded_signer_needs_the_same_trust(work, signed_sds, our_arf, pki, tmp_path):
    """Data stream signed with one key, ARF with another: trusting only the ARF's signer is not
    enough; trusting both verifies both."""
    out = tmp_path / "arf.xml"
    run = stigscap("eval", signed_sds, "--profile", "MAC-1_Classified",
                   "--system-characteristics", work / "example-sc.xml", "--results-arf", out,
                   "-q", "--trusted-cert", pki["rsa"].cert_pem,
                   "--sign-key", pki["ec"].key_pem, "--sign-cert", pki["ec"].cert_pem)
    assert run.rc == 2, run.err
    only_arf = stigscap("verify", out, "--trusted-cert", pki["ec"].cert_pem)
    assert_one_line_error(only_arf, LABEL, "not one of the trusted certificates")
    both = stigscap("verify", out, "--trusted-cert", pki["ec"].cert_pem,
                    "--trusted-cert", pki["rsa"].cert_pem)
    assert both.rc == 0 and f"{LABEL} (" in both.out, both.out + both.err


def test_embedded_stream_signed_without_written_defaults_stays_intact(work, our_sds, our_arf,
                                                                      pki, tmp_path):
    """A data stream signed without its schema defaults written out (as other tools sign):
    signing the ARF writes defaults everywhere else, but never into the signed embedded stream,
    which would break its signature."""
    tree = parse_xml_file(our_sds)
    sign_document(tree.getroot(), pki["rsa"].key, [pki["rsa"].cert], timestamp=SIGN_TIME,
                  fill_defaults=False)
    ds = tmp_path / "ds-no-defaults.xml"
    ds.write_bytes(serialize(tree, pretty=False))
    out = tmp_path / "arf.xml"
    run = stigscap("eval", ds, "--profile", "MAC-1_Classified", "--system-characteristics",
                   work / "example-sc.xml", "--results-arf", out, "-q",
                   "--trusted-cert", pki["rsa"].cert_pem,
                   "--sign-key", pki["rsa"].key_pem, "--sign-cert", pki["rsa"].cert_pem)
    assert run.rc == 2, run.err
    report = verify_document(parse_xml_file(out).getroot(), [pki["rsa"].cert])
    assert report.valid and [s.scope for s in report.signatures] == [None, "report-request "
                                                                     "'collection1'"], \
        report.lines()


# ---------------------------------------------------------------- earlier (inclusive) signatures

@pytest.fixture(scope="module")
def legacy(tmp_path_factory, our_sds, work, pki, our_arf):
    """A data stream signed the way stigscap did before (C14N 1.1 everywhere), evaluated into
    an ARF signed with today's code."""
    tmp = tmp_path_factory.mktemp("legacy")
    mp = pytest.MonkeyPatch()
    mp.setattr(signing_mod, "SDS_C14N", core.C14N11)
    try:
        tree = parse_xml_file(our_sds)
        sign_document(tree.getroot(), pki["rsa"].key, [pki["rsa"].cert], timestamp=SIGN_TIME)
    finally:
        mp.undo()
    ds = tmp / "legacy-ds.xml"
    ds.write_bytes(serialize(tree, pretty=False))
    assert parse(ds).find("dsig:Signature/dsig:SignedInfo/dsig:CanonicalizationMethod",
                          NS).get("Algorithm") == core.C14N11
    arf = tmp / "legacy-arf.xml"
    run = stigscap("eval", ds, "--profile", "MAC-1_Classified", "--system-characteristics",
                   work / "example-sc.xml", "--results-arf", arf, "-q",
                   "--sign-key", pki["rsa"].key_pem, "--sign-cert", pki["rsa"].cert_pem)
    assert run.rc == 2, run.err
    return ds, arf


def test_legacy_c14n11_signature_still_verifies_on_its_own(legacy, pki):
    ds, _ = legacy
    report = verify_document(parse_xml_file(ds).getroot(), [pki["rsa"].cert])
    assert report.valid, report.lines()
    assert any("inclusive canonicalization" in w for w in report.signatures[0].warnings)
    assert stigscap("verify", ds, "--trusted-cert", pki["rsa"].cert_pem).rc == 0


def test_legacy_embedded_signature_is_checked_outside_the_arf(legacy, pki, tmp_path):
    """In place it cannot verify (xmlsec1 agrees: the old bug); stigscap checks it on the data
    stream taken out of the ARF and says so; a change to it is still caught."""
    _, arf = legacy
    report = verify_document(parse_xml_file(arf).getroot(), [pki["rsa"].cert])
    assert report.valid, report.lines()
    embedded = report.signatures[1]
    assert embedded.scope == "report-request 'collection1'"
    assert any("taken out of the ARF, not in place" in w for w in embedded.warnings)
    tampered = _resigned_arf_with(arf, tmp_path, _edit_oval_component, pki)
    report = verify_document(parse_xml_file(tampered).getroot(), [pki["rsa"].cert])
    assert not report.valid and report.reason.startswith(LABEL), report.lines()
    if require_tool("xmlsec1"):
        res = xmlsec_verify(arf, pki["rsa"].cert_pem, index=1)
        assert res.signed_info[0] < 3 and not res.really_ok


def _forged_component_copy_beside_the_collection(coll):
    """A changed copy of a signed component (same id) in the ARF, outside the collection: the
    data stream taken out of the ARF would not show it."""
    comp = [c for c in coll.findall("ds:component", NS) if c.get("id").endswith("-xccdf.xml")][0]
    forged = deepcopy(comp)
    forged.find(".//xccdf:title", NS).text = "forged"
    coll.addprevious(forged)


def test_legacy_embedded_check_does_not_hide_wrapping_in_the_arf(legacy, pki, tmp_path):
    _, arf = legacy
    path = _resigned_arf_with(arf, tmp_path, _forged_component_copy_beside_the_collection, pki)
    report = verify_document(parse_xml_file(path).getroot(), [pki["rsa"].cert])
    assert not report.valid and report.reason.startswith(LABEL), report.lines()


# ---------------------------------------------------------------- text nodes over 10 MB

def test_sign_and_verify_text_node_over_10_mb(our_sds, work, our_arf, pki, tmp_path):
    """Reading accepts text nodes over 10 MB (huge_tree); signing used to stop with lxml's
    "Text node too long" from signxml's own parser. Sign, verify (stigscap and xmlsec1), then
    evaluate it into a signed ARF and verify that too."""
    tree = parse(our_sds)
    desc = tree.getroot().find(".//xccdf:Rule/xccdf:description", NS)
    desc.text = (desc.text or "") + "\n" + "Long discussion of the requirement. " * 300_000
    assert len(desc.text) > 10 * 1024 * 1024
    big = write(tree, tmp_path / "big-ds.xml")
    signed = tmp_path / "big-ds-signed.xml"
    run = stigscap("sign", big, "--sign-key", pki["rsa"].key_pem, "--sign-cert", pki["rsa"].cert_pem,
                   "-o", signed, "--timestamp", SIGN_TIME)
    assert run.rc == 0, run.err
    ok = stigscap("verify", signed, "--trusted-cert", pki["rsa"].cert_pem, "-q")
    assert ok.rc == 0, ok.err
    arf = tmp_path / "big-arf.xml"
    run = stigscap("eval", signed, "--profile", "MAC-1_Classified", "--system-characteristics",
                   work / "example-sc.xml", "--results-arf", arf, "-q",
                   "--trusted-cert", pki["rsa"].cert_pem,
                   "--sign-key", pki["rsa"].key_pem, "--sign-cert", pki["rsa"].cert_pem)
    assert run.rc == 2, run.err
    ok = stigscap("verify", arf, "--trusted-cert", pki["rsa"].cert_pem)
    assert ok.rc == 0 and f"{LABEL} (" in ok.out, ok.out + ok.err
    if require_tool("xmlsec1"):
        res = xmlsec_verify(signed, pki["rsa"].cert_pem)
        assert res.signed_info == (3, 3) and res.manifests == (5, 5) and res.really_ok
        res = xmlsec_verify(arf, pki["rsa"].cert_pem, index=1)
        assert res.signed_info == (3, 3) and res.manifests == (5, 5) and res.really_ok
