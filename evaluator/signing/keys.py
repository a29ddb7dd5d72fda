"""Key material from files: the signing key (PEM, optionally encrypted, or PKCS#12) with its
certificate chain, and trusted certificates (PEM or DER).

The key password comes from an environment variable, else from a `prompter` the caller
supplies (the CLI passes a hidden terminal prompt); it is never taken from the command line and
never stored.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from cryptography import x509

from stigscap.schemas.errors import StigscapError

from . import core

PASSWORD_ENV = "STIGSCAP_KEY_PASSWORD"


def _read(path: str | os.PathLike[str], what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise StigscapError(f"cannot read {what}: {exc.strerror}", file=str(path)) from None


def load_key_files(key_path: str | os.PathLike[str], cert_path: str | os.PathLike[str] | None, *,
                   password_env: str = PASSWORD_ENV,
                   prompter: Callable[[str], str] | None = None) -> core.SigningKey:
    """The signing key and its chain. An encrypted key's password: `password_env`, else
    `prompter("Key password")` when given, else a one-line error naming the variable."""
    key_data = _read(key_path, "private key")
    cert_data = _read(cert_path, "certificate") if cert_path else None
    source = str(key_path)
    encrypted = b"ENCRYPTED" in key_data or b"-----BEGIN" not in key_data
    password = None
    if encrypted:
        env = os.environ.get(password_env)
        if env:
            password = env.encode()
        elif b"-----BEGIN" not in key_data:
            try:  # PKCS#12 without a password
                return core.load_signing_key(key_data, cert_data, password=None, source=source)
            except StigscapError:
                pass
        if password is None:
            if prompter is None:
                raise StigscapError(f"the key needs a password: set {password_env}", file=source)
            password = prompter("Key password").encode()
    return core.load_signing_key(key_data, cert_data, password=password, source=source)


def load_certificates(path: str | os.PathLike[str]) -> list[x509.Certificate]:
    """Every certificate of a PEM file, or the one of a DER file."""
    data = _read(path, "certificate")
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        try:
            return [x509.load_der_x509_certificate(data)]
        except ValueError:
            raise StigscapError("not a PEM or DER certificate", file=str(path)) from None
