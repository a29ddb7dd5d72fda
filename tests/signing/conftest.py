"""Fixtures for the signing tests: throw-away PKI (made here, never committed) and signed
documents built once per session from our own generated source data stream."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.cli_helpers import stigscap

NOW = dt.datetime.now(dt.timezone.utc)
SIGN_TIME = "2026-11-28T00:00:00Z"


@dataclass
class Identity:
    key: object
    cert: x509.Certificate
    key_pem: Path
    cert_pem: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_identity(tmp: Path, name: str, *, kind: str = "rsa", not_before=None, not_after=None,
                  issuer: Identity | None = None, ca: bool = False) -> Identity:
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
                                          serialization.NoEncryption()))
    key_pem.chmod(0o600)
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Identity(key, cert, key_pem, cert_pem)


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pki")
    ids = {
        "rsa": make_identity(tmp, "rsa"),
        "ec": make_identity(tmp, "ec", kind="ec"),
        "wrong": make_identity(tmp, "wrong"),
        "expired": make_identity(tmp, "expired", not_before=NOW - dt.timedelta(days=400),
                                 not_after=NOW - dt.timedelta(days=35)),
        "ca": make_identity(tmp, "ca", ca=True),
    }
    ids["leaf"] = make_identity(tmp, "leaf", issuer=ids["ca"])
    return ids


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("signing")


@pytest.fixture(scope="session")
def our_sds(work) -> Path:
    """Our own generated SCAP 1.3 source data stream (the seed rule)."""
    out = work / "exchange-ds.xml"
    run = stigscap("generate", "-o", out, "--timestamp", "2026-11-01T00:00:00Z")
    assert run.rc == 0, run.err
    return out


@pytest.fixture(scope="session")
def our_arf(work, our_sds) -> Path:
    """Our own ARF 1.1 result data stream: `stigscap collect --example` + `stigscap eval`
    (the seed rule fails on the example Edge server; the SDS is embedded as report-request)."""
    sc = work / "example-sc.xml"
    run = stigscap("collect", "-d", our_sds, "--example", "-o", sc,
                   "--timestamp", "2026-11-28T00:00:00Z")
    assert run.rc == 0, run.err
    out = work / "exchange-arf.xml"
    run = stigscap("eval", our_sds, "--profile", "MAC-1_Classified", "--system-characteristics",
                   sc, "--results-arf", out, "--timestamp", "2026-11-28T00:00:00Z", "-q")
    assert run.rc == 2 and out.exists(), run.err
    return out


@pytest.fixture(scope="session")
def signed_sds(work, our_sds, pki) -> Path:
    out = work / "exchange-ds-signed.xml"
    run = stigscap("sign", our_sds, "--key", pki["rsa"].key_pem, "--cert", pki["rsa"].cert_pem,
                   "-o", out, "--timestamp", SIGN_TIME)
    assert run.rc == 0, run.err
    return out


@pytest.fixture(scope="session")
def signed_arf(work, our_arf, pki) -> Path:
    out = work / "exchange-arf-signed.xml"
    run = stigscap("sign", our_arf, "--key", pki["ec"].key_pem, "--cert", pki["ec"].cert_pem,
                   "-o", out, "--timestamp", SIGN_TIME)
    assert run.rc == 0, run.err
    return out
