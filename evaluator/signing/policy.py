"""What `eval` does with a source data stream's signature before evaluating it (TOOL-291)."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from stigscap.schemas.errors import StigscapError

from .core import dsig
from .keys import load_certificates
from .verifier import verify_document


def check_datastream_signature(ds_root: etree._Element, source: str, trusted: Sequence[str],
                               ca_bundle: str | None, enforce: bool) -> str | None:
    """Signature policy for a source data stream about to be evaluated.

    Signed and trust given (`trusted` certificate files, `ca_bundle`): the signature must
    verify, else StigscapError (the stream is not evaluated). `enforce`: an unsigned stream, or
    a signed one without trust, is refused too. Otherwise returns a note for the user (signed
    but not checked; unsigned although trust was given) or None."""
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
