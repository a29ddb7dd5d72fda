"""CLI: `stigscap sign` and `stigscap verify` (XML-DSig for SCAP 1.3 SDS and ARF)."""

from __future__ import annotations

import click

from stigscap.schemas.clock import resolve_time
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write, parse_xml_file, serialize

from ..signing.keys import PASSWORD_ENV, load_certificates, load_key_files
from ..signing.signer import document_kind, sign_document
from ..signing.verifier import verify_document
from .options import Command, key_password_prompter

@click.command("sign", cls=Command, renamed={"--key": "--sign-key", "--cert": "--sign-cert"})
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--sign-key", "key_path", required=True, type=click.Path(dir_okay=False),
              help="private key: PEM (optionally encrypted) or PKCS#12 (.p12/.pfx)")
@click.option("--sign-cert", "cert_path", type=click.Path(dir_okay=False),
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
    sk = load_key_files(key_path, cert_path, password_env=password_env,
                        prompter=key_password_prompter())
    tree = parse_xml_file(file, huge_tree=True)
    root = tree.getroot()
    kind = document_kind(root)
    sign_document(root, sk.key, sk.chain, timestamp=resolve_time(timestamp),
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
    when = resolve_time(at_time, what="--at") if at_time else None
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

