"""An X.509 certificate given only as its DER bytes (``RawData``) → the properties Exchange's
``Get-ExchangeCertificate`` shows, with the values .NET's X509Certificate2 prints.

``Get-ExchangeCertificate | Export-Clixml`` (and the same over remoting without Select-Object)
writes an ExchangeCertificate as its ``RawData`` alone (plus PSComputerName / RunspaceId from
a remote session): the Subject, Issuer, Thumbprint, CertificateDomains, … the rules compare
are parsed from the certificate here.

- Subject / Issuer: ``X500DistinguishedName.Name`` as Windows prints it: the relative
  distinguished names last-to-first ("CN=…, OU=…, O=…, C=US"), joined by ", "; multi-valued
  ones joined by " + "; Windows' short names (CN, OU, O, L, S, C, E, STREET, DC, T, G, I, SN,
  SERIALNUMBER), ``OID.<dotted>`` for the rest; a value with a special character in quotes.
- Thumbprint: the SHA-1 of the DER bytes, upper-case hex. SerialNumber: the serial's
  big-endian two's-complement bytes, upper-case hex (as ``X509Certificate.SerialNumber``).
- CertificateDomains: the DNS names of the Subject Alternative Name extension, in order; a
  certificate without any has its Subject's common name (as Exchange lists it).
- NotBefore / NotAfter: the validity as UTC datetimes; IsSelfSigned: Subject equals Issuer;
  PublicKeySize: the key's size in bits.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

X509_TYPES = ("System.Security.Cryptography.X509Certificates.X509Certificate2",
              "System.Security.Cryptography.X509Certificates.X509Certificate")

# what the certificate decides: the properties derived from RawData (lowercase → spelling)
DERIVED = {n.lower(): n for n in ("Subject", "Issuer", "Thumbprint", "SerialNumber",
                                  "CertificateDomains", "NotBefore", "NotAfter", "IsSelfSigned",
                                  "PublicKeySize")}

_SHORT = {
    NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.ORGANIZATION_NAME: "O", NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "S", NameOID.COUNTRY_NAME: "C",
    NameOID.EMAIL_ADDRESS: "E", NameOID.STREET_ADDRESS: "STREET",
    NameOID.DOMAIN_COMPONENT: "DC", NameOID.TITLE: "T", NameOID.GIVEN_NAME: "G",
    NameOID.INITIALS: "I", NameOID.SURNAME: "SN", NameOID.SERIAL_NUMBER: "SERIALNUMBER",
}
_SPECIAL = set(',+="\n<>#;')


class CertificateError(ValueError):
    """RawData that is not a DER X.509 certificate."""


def _value_text(value: str | bytes) -> str:
    text = value if isinstance(value, str) else value.hex().upper()
    if text and (any(c in _SPECIAL for c in text) or text != text.strip()):
        return '"' + text.replace('"', '""') + '"'
    return text


def dotnet_name(name: x509.Name) -> str:
    """`X500DistinguishedName.Name` as Windows prints it."""
    parts = []
    for rdn in reversed(list(name.rdns)):
        atoms = [f"{_SHORT.get(a.oid, 'OID.' + a.oid.dotted_string)}={_value_text(a.value)}"
                 for a in rdn]
        parts.append(" + ".join(atoms))
    return ", ".join(parts)


def raw_bytes(value: Any) -> bytes | None:
    """RawData as CLIXML (<BA>: bytes) or ConvertTo-Json (a list of byte numbers) gives it."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, list) and value and all(
            isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in value):
        return bytes(value)
    return None


def certificate_properties(der: bytes) -> dict[str, Any]:
    """The properties `DERIVED` names, parsed from the DER certificate."""
    try:
        cert = x509.load_der_x509_certificate(der)
        subject, issuer = dotnet_name(cert.subject), dotnet_name(cert.issuer)
        serial = cert.serial_number
    except ValueError as exc:
        raise CertificateError(f"RawData is not a DER X.509 certificate ({exc})") from None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        domains = list(san.value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        domains = []
    except ValueError as exc:
        raise CertificateError(f"RawData has an unreadable extension ({exc})") from None
    if not domains:
        domains = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    key = cert.public_key()
    size = getattr(key, "key_size", None)
    return {
        "Subject": subject,
        "Issuer": issuer,
        "Thumbprint": hashlib.sha1(der).hexdigest().upper(),
        "SerialNumber": serial.to_bytes((serial.bit_length() + 8) // 8, "big").hex().upper()
        if serial >= 0 else format(serial, "X"),
        "CertificateDomains": domains,
        "NotBefore": cert.not_valid_before_utc,
        "NotAfter": cert.not_valid_after_utc,
        "IsSelfSigned": cert.subject == cert.issuer,
        "PublicKeySize": size,
    }


def _comparable(value: Any) -> Any:
    """A property value in a form two spellings of the same fact compare equal in."""
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (list, tuple)) or type(value).__name__ in ("PSList", "PSIEnumerable"):
        return sorted(str(_comparable(v)) for v in value)
    meta = getattr(value, "PSObject", None)
    text = meta.to_string if meta is not None and getattr(meta, "to_string", None) else value
    return " ".join(str(text).split()).lower()


def disagreement(name: str, derived: Any, given: Any) -> str | None:
    """The problem text when the export's own `name` contradicts the certificate, else None."""
    if isinstance(given, _dt.datetime) and given.tzinfo is None:
        return None   # a time without its offset (DateTimeKind.Unspecified): no instant to compare
    a = _comparable(derived)
    b = _comparable(given)
    if isinstance(a, list) and not isinstance(b, list):
        b = [b] if b is not None else []
    if isinstance(b, list) and isinstance(a, list):
        a = sorted(str(v).lower() for v in a)
        b = sorted(str(v).lower() for v in b)
    if a == b:
        return None
    return (f"the certificate in RawData says {_show(derived)}, the property says "
            f"{_show(given)}; contradictory data is not compared")


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return repr(str(value))


__all__ = ["DERIVED", "X509_TYPES", "CertificateError", "certificate_properties",
           "disagreement", "dotnet_name", "raw_bytes"]
