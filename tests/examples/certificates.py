"""Deterministic X.509 certificates for the example servers (ExchangeCertificate RawData).

The keys are derived from fixed labels (P-256, `ec.derive_private_key`) and signed with
deterministic ECDSA (RFC 6979), so the same certificate bytes come out on every run and the
committed examples can be checked against this builder.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DOD_CA = "DOD SW CA-66"


def _key(label: str) -> ec.EllipticCurvePrivateKey:
    secret = int.from_bytes(hashlib.sha256(f"stigscap example {label}".encode()).digest(), "big")
    return ec.derive_private_key(secret % (2 ** 255) + 1, ec.SECP256R1())


def dod_name(cn: str, *ous: str) -> x509.Name:
    """A DoD PKI name; .NET prints it "CN=…, OU=…, OU=PKI, OU=DoD, O=U.S. Government, C=US"."""
    rdns = [x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "U.S. Government"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "DoD"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "PKI"),
            *(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, o) for o in ous),
            x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    return x509.Name(rdns)


def certificate(subject: x509.Name, issuer: x509.Name, *, serial: int, dns_names: list[str],
                not_before: dt.datetime, not_after: dt.datetime, label: str,
                issuer_label: str | None = None) -> bytes:
    """DER bytes; `issuer_label` None: self-signed (the subject's own key signs)."""
    key = _key(label)
    signer = key if issuer_label is None else _key(issuer_label)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(serial)
               .not_valid_before(not_before).not_valid_after(not_after))
    if dns_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False)
    cert = builder.sign(signer, hashes.SHA256(), ecdsa_deterministic=True)
    return cert.public_bytes(serialization.Encoding.DER)
