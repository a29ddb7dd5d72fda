"""Throw-away test PKI: keys and certificates made in a temporary directory, never committed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOW = dt.datetime.now(dt.timezone.utc)


@dataclass
class Identity:
    key: object
    cert: x509.Certificate
    key_pem: Path
    cert_pem: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_identity(tmp: Path, name: str, *, kind: str = "rsa", not_before=None, not_after=None,
                  issuer: Identity | None = None, ca: bool = False,
                  password: str | None = None) -> Identity:
    """A key and certificate written as PEM files in `tmp` (the key encrypted with `password`)."""
    key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else \
        ec.generate_private_key(ec.SECP256R1())
    nb = not_before or NOW - dt.timedelta(days=1)
    na = not_after or NOW + dt.timedelta(days=30)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(f"stigscap test {name}"))
               .issuer_name(issuer.cert.subject if issuer else _name(f"stigscap test {name}"))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(nb).not_valid_after(na)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=not ca, content_commitment=False, key_encipherment=False,
                   data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                   crl_sign=ca, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False))
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False)
    else:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
    cert = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    key_pem = tmp / f"{name}.key"
    cert_pem = tmp / f"{name}.pem"
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.BestAvailableEncryption(password.encode())
                                          if password else serialization.NoEncryption()))
    key_pem.chmod(0o600)
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Identity(key, cert, key_pem, cert_pem)
