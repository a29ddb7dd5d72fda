"""CLI: `stigscap sign` and `stigscap verify` (XML-DSig for SCAP 1.3 SDS and ARF)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from cryptography import x509

from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write, parse_xml_file, serialize

from ..signing import core
from ..signing.signer import document_kind, sign_document
from ..signing.verifier import verify_document

PASSWORD_ENV = "STIGSCAP_KEY_PASSWORD"


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise StigscapError(f"cannot read {what}: {exc.strerror}", file=path) from None


def load_key_files(key_path: str, cert_path: str | None, *, password_env: str = PASSWORD_ENV,
                   prompt: bool = True) -> core.SigningKey:
    """Key material for signing. The password comes from the environment variable, else an
    interactive prompt; it is never taken from the command line and never stored."""
    key_data = _read(key_path, "private key")
    cert_data = _read(cert_path, "certificate") if cert_path else None
    encrypted = b"ENCRYPTED" in key_data or b"-----BEGIN" not in key_data
    password = None
    if encrypted:
        env = os.environ.get(password_env)
        if env:
            password = env.encode()
        elif b"-----BEGIN" not in key_data:
            try:  # PKCS#12 without a password
                return core.load_signing_key(key_data, cert_data, password=None, source=key_path)
            except StigscapError:
                pass
        if password is None:
            if not (prompt and sys.stdin.isatty()):
                raise StigscapError(f"the key needs a password: set {password_env}",
                                    file=key_path)
            password = click.prompt("Key password", hide_input=True, err=True).encode()
    return core.load_signing_key(key_data, cert_data, password=password, source=key_path)


def load_certificates(path: str) -> list[x509.Certificate]:
    data = _read(path, "certificate")
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        try:
            certs = [x509.load_der_x509_certificate(data)]
        except ValueError:
            raise StigscapError("not a PEM or DER certificate", file=path) from None
    return certs


@click.command("sign")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False),
              help="private key: PEM (optionally encrypted) or PKCS#12 (.p12/.pfx)")
@click.option("--cert", "cert_path", type=click.Path(dir_okay=False),
              help="PEM certificate (chain, signing certificate first); optional with PKCS#12")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="signed output file")
@click.option("--timestamp", help="signature date (ISO 8601); default SOURCE_DATE_EPOCH or now")
@click.option("--creator", "creators", multiple=True,
              help="dc:creator of the signature (repeatable; default 'stigscap')")
@click.option("--replace", is_flag=True, help="drop existing signatures instead of refusing")
@click.option("--password-env", default=PASSWORD_ENV, show_default=True,
              help="environment variable holding the key password (else a prompt)")
@click.option("--nonce", hidden=True, help="fixed nonce (reproducible output in tests)")
def sign_cmd(file, key_path, cert_path, output, timestamp, creators, replace, password_env,
             nonce):
    """Sign a SCAP 1.3 source data stream or an ARF report (XML-DSig, SP 800-126r3 / TMSAD).

    A source data stream gets one signature per data stream (with a Manifest over its
    components), canonicalized with Exclusive C14N so it still verifies once the stream is
    embedded in an ARF report; an ARF report gets one signature over the whole report in
    arf:extended-info (Canonical XML 1.1). RSA-SHA256 or ECDSA-SHA256, SHA-256 digests."""
    sk = load_key_files(key_path, cert_path, password_env=password_env)
    tree = parse_xml_file(file, huge_tree=True)
    root = tree.getroot()
    kind = document_kind(root)
    sign_document(root, sk.key, sk.chain, timestamp=timestamp,
                  creators=creators or ("stigscap",), nonce=nonce, replace_existing=replace)
    atomic_write(output, serialize(tree, pretty=False))
    what = "source data stream" if kind == "sds" else "ARF report"
    click.echo(f"signed {what}: {output} (signer {sk.chain[0].subject.rfc4514_string()})")


@click.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--trusted-cert", "trusted", multiple=True, type=click.Path(dir_okay=False),
              help="PEM/DER certificate the signer must use (repeatable)")
@click.option("--ca-bundle", type=click.Path(dir_okay=False),
              help="PEM CA bundle the signature's certificate chain must lead to")
@click.option("--at", "at_time", help="check certificate validity at this ISO 8601 time")
@click.option("-q", "--quiet", is_flag=True, help="print only the verdict")
def verify_cmd(file, trusted, ca_bundle, at_time, quiet):
    """Verify the signatures of a SCAP 1.3 source data stream or ARF report.

    Checks every signature, every reference and Manifest reference, the certificate against the
    trust given (and its validity dates), and that the signed elements are the ones a consumer
    reads. In an ARF report, the signatures of the embedded source data stream are checked
    too, in place and with the same trust. Exit 0 valid, 1 invalid (with the reason)."""
    if not trusted and not ca_bundle:
        raise StigscapError("give --trusted-cert or --ca-bundle")
    certs = [c for path in trusted for c in load_certificates(path)]
    if ca_bundle:
        load_certificates(ca_bundle)  # readable, one line error otherwise
    when = core.signing_time(at_time) if at_time else None
    tree = parse_xml_file(file, huge_tree=True)
    report = verify_document(tree.getroot(), certs, ca_file=ca_bundle, at_time=when)
    if not quiet:
        for line in report.lines():
            click.echo(line)
    if report.valid:
        click.echo(f"{file}: signature valid")
        return
    raise StigscapError(f"signature INVALID: {report.reason}", file=file)


COMMANDS = [sign_cmd, verify_cmd]


# ---------------------------------------------------------------- used by `stigscap eval`

def check_datastream_signature(ds_root, source: str, trusted: tuple[str, ...],
                               ca_bundle: str | None, enforce: bool) -> str | None:
    """Signature policy for a source data stream about to be evaluated (TOOL-291).

    Signed and trust given: the signature must verify, else StigscapError (the stream is not
    evaluated). `enforce`: an unsigned stream, or a signed one without trust, is refused too.
    Otherwise returns a note for stderr (signed but not checked; unsigned although trust was
    given) or None."""
    from ..signing.core import dsig
    signed = any(True for _ in ds_root.iterchildren(dsig("Signature")))
    if not signed:
        if enforce:
            raise StigscapError("the source data stream is not signed (--enforce-signature)",
                                file=source)
        if trusted or ca_bundle:
            given = " and ".join(o for o, v in (("--trusted-cert", trusted),
                                                ("--ca-bundle", ca_bundle)) if v)
            return (f"stigscap: {source}: the source data stream is not signed; {given} had "
                    "nothing to check (evaluated anyway; --enforce-signature refuses it)")
        return None
    if not trusted and not ca_bundle:
        if enforce:
            raise StigscapError("--enforce-signature needs --trusted-cert or --ca-bundle",
                                file=source)
        return (f"stigscap: {source}: the source data stream is signed, but its signature was "
                "not checked (give --trusted-cert or --ca-bundle)")
    certs = [c for path in trusted for c in load_certificates(path)]
    report = verify_document(ds_root, certs, ca_file=ca_bundle)
    if not report.valid:
        raise StigscapError(f"source data stream signature INVALID, not evaluated: "
                            f"{report.reason}", file=source)
    return None


def sign_arf_bytes(data: bytes, sk: core.SigningKey, timestamp: str | None) -> bytes:
    """Sign a rendered ARF document (bytes in, signed bytes out)."""
    from stigscap.schemas.xmlio import parse_xml_bytes
    tree = parse_xml_bytes(data, "ARF", huge_tree=True)
    sign_document(tree.getroot(), sk.key, sk.chain, timestamp=timestamp)
    return serialize(tree, pretty=False)
