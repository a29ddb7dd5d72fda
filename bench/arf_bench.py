"""ARF throughput: N hosts × M Receive connectors, system characteristics → ARF files.

    python bench/arf_bench.py [--hosts 10000] [--connectors 10] [--keep DIR]

Per host the loop does what a fleet scan does: read and parse that host's syschar file,
evaluate (XCCDF + OVAL, compiled once up front), render the ARF and write it atomically.
Reports host-reports per second, the ratio to a floor (lxml merely serializing and writing
the same ARF documents, pre-parsed), and peak RSS. Targets (one core): ≥ 1,000 host-reports/s,
≤ 3× the floor, ≤ 200 MB peak — hosts are streamed, never all held in memory.
Syschar files are generated beforehand (not timed); a quarter of the hosts have one
non-Tls connector, so evidence rendering is exercised too.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner
from lxml import etree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the fixtures of tests/ are importable as `tests.…`

from tests.xccdf.xccdf_syschar import syschar_xml  # noqa: E402

from stigscap.evaluator.results.arf import Evaluator  # noqa: E402
from stigscap.evaluator.cli.main import main  # noqa: E402
from stigscap.schemas.xmlio import atomic_write, parse_xml_bytes, parse_xml_file  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main_bench() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=10000)
    ap.add_argument("--connectors", type=int, default=10)
    ap.add_argument("--floor-sample", type=int, default=500)
    ap.add_argument("--keep", help="keep the ARF files in this directory")
    ap.add_argument("--write", choices=["atomic", "plain", "none"], default="atomic",
                    help="atomic_write (temp + fsync + rename, what stigscap does), a plain "
                         "write, or no file at all (CPU only); the same for both loops")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="arf-bench-"))
    out = Path(args.keep) if args.keep else work / "arf"
    out.mkdir(parents=True, exist_ok=True)
    try:
        ds = work / "ds.xml"
        r = CliRunner().invoke(main, ["generate", "--rule", "EX13-EG-000340", "-o", str(ds),
                                      "--timestamp",
                                      "2026-01-01T00:00:00"])
        assert r.exit_code == 0, r.output
        scdir = work / "sc"
        scdir.mkdir()
        t0 = time.perf_counter()
        for i in range(args.hosts):
            conns = [(f"Connector {j} EDGE{i:05d}", "Tls") for j in range(args.connectors)]
            if i % 4 == 0:
                conns[-1] = (conns[-1][0], "None")
            (scdir / f"h{i:05d}.xml").write_bytes(
                syschar_xml(conns, host=f"EDGE{i:05d}",
                            ip=f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}"))
        gen_s = time.perf_counter() - t0
        write = {"atomic": atomic_write, "plain": lambda p, b: p.write_bytes(b),
                 "none": lambda p, b: None}[args.write]

        t0 = time.perf_counter()
        evaluator = Evaluator(parse_xml_file(ds), "MAC-1_Classified")
        compile_s = time.perf_counter() - t0

        total_bytes = 0
        codes = {0: 0, 1: 0, 2: 0}
        phase = {"read": 0.0, "parse+evaluate": 0.0, "render": 0.0, "write": 0.0}
        pc = time.perf_counter
        floor_every = max(1, args.hosts // args.floor_sample)
        floor_s, floor_n, paused = 0.0, 0, 0.0
        cpu = time.process_time
        floor_cpu, paused_cpu = 0.0, 0.0
        t_start, c_start = pc(), cpu()
        for i in range(args.hosts):
            t0 = pc()
            raw = (scdir / f"h{i:05d}.xml").read_bytes()
            t1 = pc()
            res = evaluator.evaluate(parse_xml_bytes(raw), timestamp="2026-01-01T00:00:00Z")
            t2 = pc()
            data = res.to_bytes()
            t3 = pc()
            write(out / f"h{i:05d}-arf.xml", data)
            t4 = pc()
            phase["read"] += t1 - t0
            phase["parse+evaluate"] += t2 - t1
            phase["render"] += t3 - t2
            phase["write"] += t4 - t3
            total_bytes += len(data)
            codes[res.exit_code] += 1
            if i % floor_every == 0:
                # floor, interleaved so both loops see the same machine and disk state:
                # lxml serializing + writing this very ARF (parsing it is not timed)
                c4 = cpu()
                tree = etree.ElementTree(etree.fromstring(data))
                f0, fc0 = pc(), cpu()
                write(work / "floor.xml", etree.tostring(tree, xml_declaration=True,
                                                         encoding="UTF-8"))
                floor_s += pc() - f0
                floor_cpu += cpu() - fc0
                floor_n += 1
                paused += pc() - t4
                paused_cpu += cpu() - c4
        ours_s = pc() - t_start - paused
        ours_cpu = cpu() - c_start - paused_cpu
        ours_rate = args.hosts / ours_s
        no_read_rate = args.hosts / (ours_s - phase["read"])
        floor_rate = floor_n / floor_s
        n = floor_n

        print(f"hosts {args.hosts} x {args.connectors} connectors; write mode {args.write}; "
              f"exit codes {codes}")
        print(f"syschar generation (untimed part) {gen_s:.1f} s; compile once {compile_s*1000:.1f} ms")
        print(f"ARF: {ours_rate:,.0f} host-reports/s ({ours_s:.1f} s, "
              f"{total_bytes / args.hosts / 1024:.1f} KiB per ARF)")
        print(f"floor (lxml serialize + write, {n} ARFs): {floor_rate:,.0f} reports/s")
        print("per host (ms): " + ", ".join(f"{k} {v / args.hosts * 1000:.3f}"
                                             for k, v in phase.items()))
        print(f"without reading the input file: {no_read_rate:,.0f} host-reports/s")
        print(f"ratio ours/floor: {floor_rate / ours_rate:.2f}x "
              f"({floor_rate / no_read_rate:.2f}x without the input read)")
        print(f"CPU time (process_time, less sensitive to other load): "
              f"{args.hosts / ours_cpu:,.0f} host-reports/s vs floor "
              f"{floor_n / floor_cpu:,.0f}/s, ratio {ours_cpu / args.hosts / (floor_cpu / floor_n):.2f}x")
        print(f"peak RSS: {peak_mb():.0f} MB")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main_bench())
