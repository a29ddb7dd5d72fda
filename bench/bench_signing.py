"""Benchmark: sign and verify a source data stream (or ARF) in-process.

    python bench/bench_signing.py [FILE] [--runs N]

Default FILE: the largest SSG stream (ssg-rhel8-ds.xml, 23 MiB). Generates a throw-away RSA key
in memory. Prints wall time per phase (parse, A-26 default filling, signing, verifying) and the
peak RSS. Not a test: speed targets are checked here, never by timed tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from stigscap.evaluator.signing.signer import sign_document
from stigscap.evaluator.signing.defaults import fill_default_attributes
from stigscap.evaluator.signing.verifier import verify_document
from stigscap.schemas.xmlio import parse_xml_file, serialize, parse_xml_bytes


def _identity():
    key = rsa.generate_private_key(65537, 2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                         False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", default="/usr/share/xml/scap/ssg/content/ssg-rhel8-ds.xml")
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    key, cert = _identity()
    for run in range(args.runs):
        t0 = time.perf_counter()
        tree = parse_xml_file(args.file, huge_tree=True)
        t1 = time.perf_counter()
        added = fill_default_attributes(tree.getroot())
        t2 = time.perf_counter()
        sign_document(tree.getroot(), key, [cert], fill_defaults=False,
                      timestamp="2026-01-01T00:00:00Z")
        data = serialize(tree, pretty=False)
        t3 = time.perf_counter()
        report = verify_document(parse_xml_bytes(data, huge_tree=True).getroot(), [cert])
        t4 = time.perf_counter()
        assert report.valid, report.reason
        print(f"run {run + 1}: parse {t1 - t0:.2f} s, defaults {t2 - t1:.2f} s ({added} "
              f"attributes), sign {t3 - t2:.2f} s, verify {t4 - t3:.2f} s; "
              f"{len(data) / 2**20:.1f} MiB signed")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
