"""Fleet scans: an inventory of hosts → per-host system characteristics, ARF and a summary.

Each host is collected over WinRM (collect.winrm), written as OVAL system characteristics,
evaluated against the data stream (arf.Evaluator, compiled once per worker) and written as an
ARF. Hosts run concurrently: `processes` worker processes × threads (pypsrp is CPU-bound
under the GIL, the rest is waiting on the network). Every file is written atomically and the
per-host `result.json` last, so an interrupted scan leaves only complete files and `--resume`
skips every host whose result is already there.

A host whose collection failed as a whole (unreachable, credentials refused, ...) still gets
its ARF (every rule `error`) and result.json, but its system characteristics go to
`<host>.failed.syschar.xml`: a previous good `<host>.syschar.xml` is never replaced by one that
holds no data (a later good collection removes the `.failed` file).
"""

from __future__ import annotations

import contextlib
import csv
import gc
import importlib
import ipaddress
import json
import math
import multiprocessing as mp
import os
import queue
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import yaml

from stigscap.evaluator.collect.winrm import (HostCollection, WinRMOptions, collect_host, preload,
                                             refuse_unsafe)
from stigscap.evaluator.collect.model import CmdletQuery, CollectedObject
from stigscap.evaluator.collect.credentials import Credentials, load_credentials_file, redact
from stigscap.schemas.clock import zulu
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write

# inventory keys → WinRMOptions fields (per host or in `defaults`)
_OPTION_KEYS = {"port": int, "transport": str, "auth": str, "endpoint": str, "ca_bundle": str,
                "snapin": str, "connection_timeout": float, "operation_timeout": int,
                "command_timeout": float, "retries": int}
_HOST_KEYS = {"host", "name", "credentials_file", "target_address", *_OPTION_KEYS}


@dataclass(frozen=True)
class InventoryHost:
    name: str                 # label: file names, summary, ARF target
    address: str              # what to connect to
    options: WinRMOptions
    credentials_file: str | None = None
    target_addresses: tuple[str, ...] = ()   # IPs for the ARF's target-address (RES-136)

    @property
    def slug(self) -> str:
        return safe_name(self.name)


def safe_name(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip(".") or "host"
    return slug[:120]


def _coerce(key: str, value: Any, where: tuple[str, int | None]):
    typ = _OPTION_KEYS.get(key, str)
    try:
        return typ(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        raise StigscapError(f"{key}: {value!r} is not a valid {typ.__name__}", file=where[0],
                            line=where[1]) from None


def _host_from_mapping(entry: dict, defaults: WinRMOptions, where: tuple[str, int | None]) -> InventoryHost:
    unknown = set(entry) - _HOST_KEYS
    if unknown:
        raise StigscapError(f"unknown inventory key(s): {', '.join(sorted(unknown))} "
                            f"(allowed: {', '.join(sorted(_HOST_KEYS))})", file=where[0], line=where[1])
    address = str(entry.get("host") or "").strip()
    if not address:
        raise StigscapError("inventory entry without 'host'", file=where[0], line=where[1])
    changes = {k: _coerce(k, entry[k], where) for k in _OPTION_KEYS if k in entry and entry[k] not in (None, "")}
    try:
        opts = replace(defaults, **changes).validated()
    except StigscapError as exc:
        raise StigscapError(f"{address}: {exc.message}", file=where[0], line=where[1]) from None
    given = entry.get("target_address") or ()
    from stigscap.evaluator.results.arf import target_addresses
    try:
        addresses = target_addresses([given] if isinstance(given, str) else list(given),
                                     "target_address")
        # a host given by IP address is one of the target's addresses
        addresses += [a for a in target_addresses([address.strip("[]")]) if a not in addresses] \
            if _is_ip(address) else []
    except StigscapError as exc:
        raise StigscapError(f"{address}: {exc.message}", file=where[0], line=where[1]) from None
    return InventoryHost(str(entry.get("name") or address).strip(), address, opts,
                         str(entry["credentials_file"]) if entry.get("credentials_file") else None,
                         tuple(addresses))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
        return True
    except ValueError:
        return False


def read_inventory(path: str | os.PathLike, defaults: WinRMOptions) -> list[InventoryHost]:
    """Hosts from YAML (a list, or `{defaults: {...}, hosts: [...]}`) or CSV (header row)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise StigscapError(f"cannot read inventory: {exc.strerror}", file=str(p)) from None
    hosts: list[InventoryHost] = []
    if p.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "host" not in [f.strip() for f in reader.fieldnames]:
            raise StigscapError("CSV inventory needs a header row with a 'host' column", file=str(p), line=1)
        for row in reader:
            entry = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            if not any(entry.values()):
                continue
            hosts.append(_host_from_mapping(entry, defaults, (str(p), reader.line_num)))
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise StigscapError(f"inventory is not valid YAML: {getattr(exc, 'problem', exc)}", file=str(p),
                                line=mark.line + 1 if mark else None) from None
        if isinstance(data, dict):
            unknown = set(data) - {"defaults", "hosts"}
            if unknown:
                raise StigscapError(f"unknown top-level key(s): {', '.join(sorted(unknown))}", file=str(p))
            dflt = data.get("defaults") or {}
            if not isinstance(dflt, dict) or set(dflt) - set(_OPTION_KEYS):
                raise StigscapError(f"'defaults' may hold only: {', '.join(sorted(_OPTION_KEYS))}", file=str(p))
            defaults = replace(defaults, **{k: _coerce(k, v, (str(p), None)) for k, v in dflt.items()})
            entries = data.get("hosts")
        else:
            entries = data
        if not isinstance(entries, list):
            raise StigscapError("inventory must be a list of hosts (or a mapping with 'hosts')", file=str(p))
        for i, entry in enumerate(entries):
            if isinstance(entry, str):
                entry = {"host": entry}
            if not isinstance(entry, dict):
                raise StigscapError(f"host entry {i + 1} is neither a name nor a mapping", file=str(p))
            hosts.append(_host_from_mapping(entry, defaults, (str(p), None)))
    if not hosts:
        raise StigscapError("inventory lists no hosts", file=str(p))
    seen: dict[str, str] = {}
    for h in hosts:
        if h.slug.lower() in seen:
            raise StigscapError(f"two inventory entries map to the same name {h.slug!r} "
                                f"({seen[h.slug.lower()]} and {h.name}); give each a distinct 'name'",
                                file=str(p))
        seen[h.slug.lower()] = h.name
    return hosts


# --------------------------------------------------------------------------- one host
@dataclass
class HostOutcome:
    name: str
    address: str
    status: str                      # pass | fail | error | collected
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    files: dict[str, str] = field(default_factory=dict)
    resumed: bool = False
    benchmark: str | None = None     # a collection of several benchmarks: the one chosen

    @classmethod
    def from_json(cls, data: dict) -> "HostOutcome":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class ScanJob:
    """Everything a worker needs. Secrets (credentials, the signing key) stay in memory: they
    reach the forked workers as objects and are never written or logged."""

    out_dir: str
    queries: list[CmdletQuery]
    unsupported: list[tuple[CmdletQuery, str]]
    clock: Callable[[], datetime]     # the time each host's results carry, asked when it is done
    datastream: str | None = None     # None: collect only (system characteristics)
    profile: str | None = None
    evaluator_kwargs: dict = field(default_factory=dict)
    write_syschar: bool = True
    checklists: tuple[str, ...] = ()   # "ckl", "cklb", "hdf": per-host checklists / HDF
    signer: Any = field(default=None, repr=False, compare=False)  # signing.core.SigningKey
    # a data stream collection of several benchmarks: per host, the platform objects are
    # collected first, the benchmark whose platform matches is chosen, then only its objects
    # are collected (queries/unsupported above are then unused)
    platform_queries: list[CmdletQuery] = field(default_factory=list)
    datastream_queries: dict[str, tuple[list[CmdletQuery], list[tuple[CmdletQuery, str]]]] = \
        field(default_factory=dict)

    @property
    def multi_benchmark(self) -> bool:
        return bool(self.datastream_queries)


_EVALUATORS: dict[tuple[int, str | None], Any] = {}
_EVAL_LOCK = threading.Lock()


def compile_job(job: ScanJob, datastream_id: str | None = None):
    """The job's Evaluator (for one data stream of a collection of several benchmarks),
    compiled once per process (the data stream parsed once); a bad data stream or profile
    raises StigscapError before any host is contacted."""
    key = (id(job), datastream_id)
    with _EVAL_LOCK:
        ev = _EVALUATORS.get(key)
        if ev is None:
            from stigscap.evaluator.results.arf import Evaluator
            assert job.datastream is not None   # evaluated only for a job with a data stream
            ev = Evaluator(_collection(job), job.profile, source=job.datastream,
                           datastream_id=datastream_id, **job.evaluator_kwargs)
            _EVALUATORS[key] = ev
        return ev


_COLLECTIONS: dict[int, Any] = {}


def _collection(job: ScanJob):
    """The job's parsed data stream collection, once per process (callers hold _EVAL_LOCK
    or run before the workers start)."""
    tree = _COLLECTIONS.get(id(job))
    if tree is None:
        from stigscap.schemas.xmlio import parse_xml_file
        assert job.datastream is not None
        tree = _COLLECTIONS[id(job)] = parse_xml_file(job.datastream, huge_tree=True)
    return tree


def multi_benchmark_queries(collection_root, source: str | None = None
                            ) -> tuple[list[CmdletQuery], dict[str, tuple[list[CmdletQuery],
                                                                          list[tuple[CmdletQuery, str]]]]]:
    """For a collection of several benchmarks: (the platform checks' objects, per data stream
    id its objects to collect and the unsupported ones with the reason); every one is checked
    safe (Get verbs, the Exchange snap-in) before any host is contacted. ({} when the file
    holds one data stream.)"""
    from stigscap.evaluator.oval.objects import read_cmdlet_objects
    from stigscap.evaluator.xccdf.selection import (datastream_oval_roots, datastreams,
                                                    is_multi_benchmark, platform_queries)
    if not is_multi_benchmark(collection_root):
        return [], {}
    src = source or "<data stream>"
    per_ds = {}
    for sds in datastreams(collection_root, src):
        ds_id = sds.datastream.get("id", "")
        queries: dict[str, CmdletQuery] = {}
        unsupported: dict[str, tuple[CmdletQuery, str]] = {}
        for root in datastream_oval_roots(collection_root, ds_id, src):
            objs = read_cmdlet_objects(root)
            for q in objs.queries:
                queries.setdefault(q.object_id, q)
            for q, why in objs.unsupported:
                unsupported.setdefault(q.object_id, (q, why))
        refuse_unsafe([*queries.values(), *(q for q, _ in unsupported.values())], source=source)
        per_ds[ds_id] = (list(queries.values()), list(unsupported.values()))
    plat = platform_queries(collection_root, src)
    refuse_unsafe(plat, source=source)
    return plat, per_ds


def _same_cmdlet(q: CmdletQuery) -> tuple:
    # kind and target too: two registry values of one key are one Get-ItemProperty call
    # but two items (each object's own value name)
    return (q.module_name, q.verb.lower(), q.noun.lower(), q.parameters, q.select,
            q.parameter_datatypes, q.kind, q.target)


def _collect_deduplicated(collector, address, queries: list[CmdletQuery], options, creds
                          ) -> HostCollection:
    """Collect `queries`, running each distinct cmdlet call once (the benchmarks of a
    collection read the same Get-ExchangeServer under different OVAL object ids)."""
    distinct: dict[tuple, CmdletQuery] = {}
    for q in queries:
        distinct.setdefault(_same_cmdlet(q), q)
    collection = collector(address, list(distinct.values()), options, creds)
    by_key = {_same_cmdlet(o.query): o for o in collection.objects}
    objects = []
    for q in queries:
        got = by_key.get(_same_cmdlet(q))
        objects.append(replace(got, query=q, messages=list(got.messages),
                               records=list(got.records)) if got is not None else
                       CollectedObject(q, flag="error", status="error",
                                       messages=["not collected"]))
    collection.objects = objects
    return collection


def _choose(job: ScanJob, host: InventoryHost, creds: Credentials,
            collector: Callable[..., HostCollection]):
    """Collect the platform objects, pick the benchmark whose platform the host matches:
    (data stream id, benchmark id), or StigscapError naming every benchmark's result."""
    from stigscap.evaluator.collect.syschar import syschar_bytes
    from stigscap.evaluator.xccdf.selection import choose_benchmark
    from stigscap.schemas.xmlio import parse_xml_bytes
    probe = _collect_deduplicated(collector, host.address, job.platform_queries, host.options,
                                  creds)
    if probe.failed:
        raise StigscapError("; ".join(redact(str(e)) for e in probe.errors)
                            or "the platform objects could not be collected")
    sc = syschar_bytes(probe.objects, probe.system_info, timestamp=zulu(job.clock()))
    root = parse_xml_bytes(sc, "<platform system characteristics>").getroot()
    with _EVAL_LOCK:
        chosen = choose_benchmark(_collection(job).getroot(), root,
                                  job.datastream or "<data stream>", host=host.name,
                                  host_names=(host.name, host.address))
    return chosen.datastream_id, chosen.benchmark_id


def host_files(out_dir: str | os.PathLike, host: InventoryHost) -> dict[str, Path]:
    d = Path(out_dir)
    return {"syschar": d / f"{host.slug}.syschar.xml", "failed_syschar": d / f"{host.slug}.failed.syschar.xml",
            "arf": d / f"{host.slug}.arf.xml",
            "ckl": d / f"{host.slug}.ckl", "cklb": d / f"{host.slug}.cklb",
            "hdf": d / f"{host.slug}.hdf.json",
            "result": d / f"{host.slug}.result.json"}


def scan_one(job: ScanJob, host: InventoryHost, credentials: Credentials,
             collector: Callable[..., HostCollection] = collect_host) -> HostOutcome:
    """Collect, write syschar, evaluate, write ARF, then result.json (the 'done' marker)."""
    from stigscap.evaluator.collect.syschar import syschar_bytes
    from stigscap.schemas.xmlio import parse_xml_bytes

    started = time.monotonic()
    files = host_files(job.out_dir, host)
    creds = credentials
    queries, unsupported = job.queries, job.unsupported
    datastream_id = benchmark_id = None
    try:
        creds = load_credentials_file(host.credentials_file) if host.credentials_file else credentials
        if job.multi_benchmark:
            try:
                datastream_id, benchmark_id = _choose(job, host, creds, collector)
            except StigscapError as exc:
                # no benchmark for this host: nothing is judged, nothing but the reason written
                outcome = HostOutcome(host.name, host.address, "error",
                                      errors=[redact(exc.message)],
                                      seconds=round(time.monotonic() - started, 3))
                atomic_write(files["result"],
                             json.dumps(asdict(outcome), indent=2, sort_keys=True) + "\n")
                return outcome
            queries, unsupported = job.datastream_queries[datastream_id]
        collection = collector(host.address, queries, host.options, creds)
    except StigscapError as exc:
        collection = HostCollection(host.address, _sysinfo(host), [
            CollectedObject(q, flag="error", status="error", messages=[redact(str(exc))]) for q in queries],
            failed=True)
        from stigscap.evaluator.collect.winrm import HostError
        collection.errors.append(HostError("config_error", redact(str(exc))))
    objects = list(collection.objects) + [
        CollectedObject(q, flag="error", status="error", messages=[f"not collected: {why}"])
        for q, why in unsupported]
    sysinfo = replace(collection.system_info, host_name=host.name) \
        if collection.system_info.host_name == host.address else collection.system_info
    when = job.clock()
    sc = syschar_bytes(objects, sysinfo, timestamp=zulu(when))
    errors = [redact(str(e)) for e in collection.errors]
    written: dict[str, str] = {}
    if job.write_syschar:
        # a failed collection never replaces the system characteristics of an earlier good one
        target = files["failed_syschar"] if collection.failed else files["syschar"]
        atomic_write(target, sc)
        written["syschar"] = target.name
        if not collection.failed:
            files["failed_syschar"].unlink(missing_ok=True)
    counts: dict[str, int] = {}
    if job.datastream:
        from stigscap.evaluator.results.arf import target_from_syschar
        ev = compile_job(job, datastream_id)
        sc_root = parse_xml_bytes(sc, "<system characteristics>", huge_tree=True).getroot()
        target_info = target_from_syschar(sc_root, name=host.name, identity=creds.username,
                                          authenticated=True, addresses=host.target_addresses)
        result = ev.evaluate(sc_root, target=target_info, timestamp=when)
        arf_bytes = result.to_bytes()
        if job.signer is not None:
            from stigscap.evaluator.signing.signer import sign_bytes
            arf_bytes = sign_bytes(arf_bytes, job.signer, when, source=f"{host.name} ARF")
        checklists = {}
        if job.checklists:
            from stigscap.evaluator.checklists.export import checklist_from_arf
            checklists = {fmt: checklist_from_arf(arf_bytes, fmt) for fmt in job.checklists}
        atomic_write(files["arf"], arf_bytes)
        written["arf"] = files["arf"].name
        for fmt, data in checklists.items():
            atomic_write(files[fmt], data)
            written[fmt] = files[fmt].name
        counts = {k: v for k, v in result.counts.items() if v}
        code = result.exit_code
        status = "error" if (code == 1 or collection.errors) else ("fail" if code == 2 else "pass")
    else:
        status = "error" if collection.errors else "collected"
    outcome = HostOutcome(host.name, host.address, status, counts, errors,
                          round(time.monotonic() - started, 3), written, benchmark=benchmark_id)
    atomic_write(files["result"], json.dumps(asdict(outcome), indent=2, sort_keys=True) + "\n")
    return outcome


def _sysinfo(host: InventoryHost):
    from stigscap.evaluator.collect.model import SystemInfo
    return SystemInfo(host_name=host.name)


def load_done(job: ScanJob, host: InventoryHost) -> HostOutcome | None:
    """The finished outcome of `host` from an earlier run (pass/fail with its files), or None."""
    files = host_files(job.out_dir, host)
    try:
        data = json.loads(files["result"].read_text(encoding="utf-8"))
        outcome = HostOutcome.from_json(data)
    except (OSError, ValueError, TypeError):
        return None
    if outcome.status not in ("pass", "fail", "collected"):
        return None  # errors are retried
    if not all((Path(job.out_dir) / f).exists() for f in outcome.files.values()):
        return None
    outcome.resumed = True
    return outcome


# --------------------------------------------------------------------------- the fleet
def _safe_scan_one(job, host, credentials, collector) -> HostOutcome:
    try:
        return scan_one(job, host, credentials, collector)
    except StigscapError as exc:
        return HostOutcome(host.name, host.address, "error", errors=[redact(str(exc))])
    except Exception as exc:  # noqa: BLE001 - one host's bug must not end the fleet
        return HostOutcome(host.name, host.address, "error",
                           errors=[redact(f"internal error: {type(exc).__name__}: {exc}")])


@contextlib.contextmanager
def sigint_interrupts():
    """Ctrl-C (SIGINT) raises KeyboardInterrupt in the scanning process, whatever it inherited:
    a shell starts `cmd &` (and CI runners their steps) with SIGINT ignored, and Python keeps
    an inherited SIG_IGN, so `kill -INT` would go unnoticed and the scan would run to the end.
    The previous disposition is restored afterwards. Only the main thread can set handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _tune_gc() -> None:
    """A scan worker's long-lived objects (the compiled data stream, imported modules) are
    inherited from the parent: freeze them out of the cyclic collector's scans, and let the
    youngest generation grow larger, since dozens of hosts in flight allocate many short-lived
    objects that reference counting frees anyway. Measured: about a tenth less CPU per host."""
    gc.freeze()
    gc.set_threshold(20000, 50, 50)


def _worker(job, hosts, credentials, threads, tasks, results, stop, collector) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _tune_gc()

    def loop():
        while not stop.is_set():
            try:
                i = tasks.get(timeout=0.2)
            except queue.Empty:
                continue
            if i is None:
                return
            results.put(("start", i, None))
            results.put(("done", i, asdict(_safe_scan_one(job, hosts[i], credentials, collector))))

    with ThreadPoolExecutor(max_workers=threads) as ex:
        for _ in range(threads):
            ex.submit(loop)


def run_fleet(job: ScanJob, hosts: Sequence[InventoryHost], credentials: Credentials, *,
              concurrency: int = 16, processes: int | None = None,
              on_start: Callable[[InventoryHost], None] | None = None,
              on_done: Callable[[HostOutcome], None] | None = None,
              collector: Callable[..., HostCollection] = collect_host) -> list[HostOutcome | None]:
    """Scan `hosts`; returns outcomes in inventory order (None where interrupted before the end).

    KeyboardInterrupt propagates after the workers are stopped; files of finished hosts are
    complete (atomic writes), unfinished hosts have none.
    """
    refuse_unsafe([*job.queries, *(q for q, _ in job.unsupported), *job.platform_queries,
                   *(q for qs, un in job.datastream_queries.values()
                     for q in [*qs, *(u for u, _ in un)])], source=job.datastream)
    concurrency = max(1, concurrency)
    if processes is None:
        processes = min(os.cpu_count() or 1, max(1, math.ceil(concurrency / 8)), len(hosts))
    processes = max(1, min(processes, concurrency, len(hosts)))
    outcomes: list[HostOutcome | None] = [None] * len(hosts)
    if collector is collect_host:
        # imported once here, inherited by the forked workers, instead of in each of them
        # while their first hosts wait (bench/scan_bench.py, three runs each: the first 64
        # hosts took 2.68-2.83 s without, 2.44-2.67 s with)
        preload()
        importlib.import_module("stigscap.evaluator.collect.syschar")   # scan_one's too

    def finish(i: int, outcome: HostOutcome) -> None:
        outcomes[i] = outcome
        if on_done:
            on_done(outcome)

    if processes == 1:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(hosts))) as ex:
            def task(i):
                if on_start:
                    on_start(hosts[i])
                return i, _safe_scan_one(job, hosts[i], credentials, collector)
            futures = [ex.submit(task, i) for i in range(len(hosts))]
            try:
                from concurrent.futures import as_completed
                for fut in as_completed(futures):
                    i, outcome = fut.result()
                    finish(i, outcome)
            except KeyboardInterrupt:
                for f in futures:
                    f.cancel()
                raise
        return outcomes

    ctx = mp.get_context("fork")
    tasks, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    threads = math.ceil(concurrency / processes)
    for i in range(len(hosts)):
        tasks.put(i)
    for _ in range(processes * threads):
        tasks.put(None)
    workers = [ctx.Process(target=_worker, args=(job, hosts, credentials, threads, tasks, results, stop,
                                                 collector), daemon=True) for _ in range(processes)]
    for w in workers:
        w.start()
    remaining = len(hosts)
    try:
        while remaining:
            try:
                kind, i, data = results.get(timeout=0.5)
            except queue.Empty:
                if not any(w.is_alive() for w in workers):
                    break
                continue
            if kind == "start":
                if on_start:
                    on_start(hosts[i])
            else:
                remaining -= 1
                finish(i, HostOutcome.from_json(data))
    except KeyboardInterrupt:
        stop.set()
        for w in workers:
            w.terminate()
        raise
    finally:
        for w in workers:
            w.join(timeout=5)
    for i, o in enumerate(outcomes):  # a worker that died leaves its hosts as errors
        if o is None:
            finish(i, HostOutcome(hosts[i].name, hosts[i].address, "error",
                                  errors=["the worker process ended unexpectedly"]))
    return outcomes


def summary_document(job: ScanJob, outcomes: Iterable[HostOutcome | None], hosts: Sequence[InventoryHost], *,
                     started: str, finished: str, interrupted: bool, wall_seconds: float) -> dict:
    rows = []
    totals: dict[str, int] = {}
    for h, o in zip(hosts, outcomes):
        if o is None:
            rows.append({"name": h.name, "address": h.address, "status": "not scanned"})
            totals["not scanned"] = totals.get("not scanned", 0) + 1
            continue
        rows.append(asdict(o))
        totals[o.status] = totals.get(o.status, 0) + 1
    return {"datastream": job.datastream, "profile": job.profile, "started": started, "finished": finished,
            "interrupted": interrupted, "wall_seconds": round(wall_seconds, 3), "totals": totals,
            "exit_code": exit_code([o for o in outcomes if o is not None], interrupted), "hosts": rows}


def exit_code(outcomes: Sequence[HostOutcome], interrupted: bool = False) -> int:
    if interrupted or any(o.status == "error" for o in outcomes):
        return 1
    if any(o.status == "fail" for o in outcomes):
        return 2
    return 0
