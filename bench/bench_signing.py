#!/usr/bin/env python3
"""Benchmark: `stigscap sign` / `stigscap verify` beside `xmlsec1 --sign` / `xmlsec1 --verify`.

    .venv/bin/python bench/bench_signing.py [FILE] [--runs 5] [--judge cpu|wall]

Default FILE: the largest SSG stream (ssg-rhel8-ds.xml, 24 MB). A throw-away RSA-2048 key and
self-signed certificate are made in a temporary directory. Each command runs as its own process,
the four interleaved in every round (xmlsec1 sign, stigscap sign, xmlsec1 verify, stigscap
verify) after one warm-up round (file cache; stigscap's cached table of schema defaults).

The anchor does the same XML-DSig work on the same document: xmlsec1 signs a template made from
stigscap's own signed output (same SignedInfo, the same five Manifest references, values
emptied; the default attributes stigscap writes first are already in it), and both verifiers
check the file stigscap signed (xmlsec1 with its SignedInfo and Manifest counters: all must be
ok). `stigscap sign` also writes the schema default attributes (A-26) before signing: that is
part of its time.

Per command: median wall time, median CPU time (user+sys), peak RSS (max over runs), and the
ratios to xmlsec1. Targets: sign ≤ 2.0× xmlsec1's time and ≤ 2.0× its peak memory, verify ≤ 1.2×
xmlsec1's time. The machine may be shared: the time ratio judged is CPU time by default (steadier
under load; `--judge wall` judges wall time), both are printed, and the load average is printed
before and after. Exit status 1 when a target is missed or a signature does not verify.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the fixtures of tests/ are importable as `tests.…`

from tests.signing.sig_helpers import ID_ATTRS  # noqa: E402  (lxml is not loaded here)

DEFAULT_FILE = "/usr/share/xml/scap/ssg/content/ssg-rhel8-ds.xml"
TARGETS = {"sign": (2.0, 2.0), "verify": (1.2, None)}   # (time ratio, memory ratio)


def _identity(work: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(65537, 2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stigscap bench")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                         False), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem, cert_pem = work / "bench.key", work / "bench.pem"
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_pem, cert_pem


def _run(argv: list[str]) -> tuple[float, float, int, int, str]:
    """(wall s, CPU s user+sys, peak RSS KiB, exit status, output) of one process.

    Linux carries the parent's peak RSS into a child's ru_maxrss (the child starts as a copy of
    the parent), so this process never loads a document itself: it stays far smaller than
    what it measures (its own peak is printed)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read() if proc.stdout else b""
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stdout:
        proc.stdout.close()
    return (wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode,
            out.decode(errors="replace"))


def _xmlsec_ok(output: str) -> bool:
    """OK, and every SignedInfo and Manifest reference ok (xmlsec1 says OK when a Manifest
    reference fails: ../shared/reference/tool-quirks.md §7)."""
    import re
    if not any(line.strip() == "OK" for line in output.splitlines()):
        return False
    for label in ("SignedInfo", "Manifests"):
        m = re.search(label + r" References \(ok/all\): (\d+)/(\d+)", output)
        if m and m.group(1) != m.group(2):
            return False
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", default=DEFAULT_FILE)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--judge", choices=["cpu", "wall"], default="cpu",
                    help="which time ratio the targets are judged on (default: CPU time)")
    args = ap.parse_args()
    xmlsec = shutil.which("xmlsec1")
    script = Path(sys.executable).parent / "stigscap"
    if not xmlsec or not script.exists() or not Path(args.file).exists():
        print(f"needs xmlsec1, the stigscap console script and {args.file}", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="sign-bench-"))
    try:
        key, cert = _identity(work)
        signed, by_xmlsec, template = work / "signed.xml", work / "xmlsec.xml", work / "tmpl.xml"
        id_args = [a for attr in ID_ATTRS for a in ("--id-attr:id", attr)]
        commands = {
            "xmlsec1 --sign": [xmlsec, "--sign", "--privkey-pem", f"{key},{cert}", *id_args,
                               "--output", str(by_xmlsec), str(template)],
            "stigscap sign": [str(script), "sign", args.file, "--sign-key", str(key), "--sign-cert",
                              str(cert), "-o", str(signed), "--timestamp", "2026-01-01T00:00:00Z"],
            "xmlsec1 --verify": [xmlsec, "--verify", "--trusted-pem", str(cert), *id_args,
                                 str(signed)],
            "stigscap verify": [str(script), "verify", str(signed), "--trusted-cert", str(cert),
                                "-q"],
        }
        # warm-up round (and the template, made from stigscap's signed output)
        wall, _cpu, _rss, rc, out = _run(commands["stigscap sign"])
        if rc != 0:
            print(f"stigscap sign failed: {out}", file=sys.stderr)
            return 1
        subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                        "from tests.signing.sig_helpers import make_template; "
                        "make_template(Path(sys.argv[1]), Path(sys.argv[2]))",
                        str(signed), str(template)], cwd=REPO, check=True)
        # stigscap's signature is checked once by xmlsec1 with its reference counters (--print-debug
        # keeps every reference's octets in memory, so the timed runs go without it)
        check = _run([xmlsec, "--verify", "--trusted-pem", str(cert), "--print-debug", *id_args,
                      str(signed)])
        if check[3] != 0 or not _xmlsec_ok(check[4]):
            print(f"xmlsec1 does not verify stigscap's signature:\n{check[4][-2000:]}",
                  file=sys.stderr)
            return 1
        samples: dict[str, list[tuple[float, float, int]]] = {k: [] for k in commands}
        load_before = os.getloadavg()
        for _ in range(args.runs + 1):
            for name, argv in commands.items():
                wall, cpu, rss, rc, out = _run(argv)
                ok = rc == 0
                if not ok:
                    print(f"{name} failed (exit {rc}):\n{out[-2000:]}", file=sys.stderr)
                    return 1
                samples[name].append((wall, cpu, rss))
        load_after = os.getloadavg()
        # and the other way round, untimed: stigscap verifies what xmlsec1 signed
        cross = _run([str(script), "verify", str(by_xmlsec), "--trusted-cert", str(cert), "-q"])
        if cross[3] != 0:
            print(f"stigscap does not verify xmlsec1's signature:\n{cross[4]}", file=sys.stderr)
            return 1
        for name in commands:   # the first round was the warm-up
            samples[name] = samples[name][1:]

        size = Path(args.file).stat().st_size
        print(f"# XML-DSig sign/verify of {Path(args.file).name} ({size / 1e6:.1f} MB), "
              f"{args.runs} interleaved runs each, {os.cpu_count()} CPU(s); load average "
              f"{load_before[0]:.2f} before, {load_after[0]:.2f} after")
        print(f"{'command':<18} {'wall s':>7} {'CPU s':>7} {'peak MB':>8}   "
              f"{'x wall':>7} {'x CPU':>7} {'x mem':>7}   target")
        failed = []
        for op in ("sign", "verify"):
            anchor = f"xmlsec1 --{op}"
            ours = f"stigscap {op}"
            med = {n: (statistics.median(s[0] for s in samples[n]),
                       statistics.median(s[1] for s in samples[n]),
                       max(s[2] for s in samples[n]) / 1024) for n in (anchor, ours)}
            t_target, m_target = TARGETS[op]
            for n in (anchor, ours):
                w, c, m = med[n]
                if n == anchor:
                    print(f"{n:<18} {w:7.2f} {c:7.2f} {m:8.0f}")
                    continue
                rw, rc_, rm = w / med[anchor][0], c / med[anchor][1], m / med[anchor][2]
                judged = rc_ if args.judge == "cpu" else rw
                verdict = []
                if judged > t_target:
                    failed.append(f"{op}: {args.judge} time {judged:.2f}x > {t_target}x")
                    verdict.append("MISSES time")
                if m_target is not None and rm > m_target:
                    failed.append(f"{op}: memory {rm:.2f}x > {m_target}x")
                    verdict.append("MISSES memory")
                goal = f"time <= {t_target}x ({args.judge})" + (
                    f", memory <= {m_target}x" if m_target is not None else "")
                print(f"{n:<18} {w:7.2f} {c:7.2f} {m:8.0f}   {rw:7.2f} {rc_:7.2f} {rm:7.2f}   "
                      f"{goal}: {', '.join(verdict) or 'meets'}")
        print(f"(peak RSS of this benchmark process: "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
        for f in failed:
            print(f"MISSED: {f}")
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
