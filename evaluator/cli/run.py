"""`stigscap run`: the whole pipeline in one step (generate → collect → eval → results).

    stigscap run --example [STIG] [-o DIR]   a built-in benchmark and its example exports
                                             (edge2013, the default; edge2016, mailbox2016,
                                             edge2019)
    stigscap run --from EXPORTS_DIR [-o DIR] the built-in content and your offline exports

It writes into DIR the source data stream, the host's system characteristics, its ARF, the STIG
Viewer checklists (CKL and CKLB) and an HTML report, and prints a per-rule, per-object table
(for the seed rule: one row per Receive connector with its AuthMechanism). With --sign-key and
--sign-cert the data stream and the ARF are signed (the ARF embeds the signed data stream).
Exit codes as `eval`: 0 all pass, 2 findings, 1 error.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from stigscap.content.loader import Content, builtin_benchmark_dir, load_content
from stigscap.generator.build import generate, id_scheme
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write, parse_xml_bytes, parse_xml_file

from stigscap.generator.build import content_time
from stigscap.schemas.clock import resolve_time, zulu

from ..checklists.export import checklist_from_arf
from ..checklists.report_html import html_report
from ..collect.model import CollectedObject
from ..collect.offline import (EXAMPLES, DEFAULT_EXAMPLE, ExportMap, collect_with_system,
                               example_benchmark, example_exports_dir)
from ..collect.syschar import syschar_bytes
from ..oval.objects import read_cmdlet_objects
from ..results.arf import (NO_ADDRESS_WARNING, Evaluator, target_addresses, target_from_syschar,
                           target_macs, with_macs)
from ..signing.keys import load_key_files
from ..signing.signer import sign_bytes
from .options import Command, key_password_prompter, parse_pairs

_VERDICT_STYLE = {"pass": "green", "fail": "bold red", "error": "magenta", "unknown": "yellow",
                  "notapplicable": "dim", "notchecked": "cyan"}


def _safe_name(text: str) -> str:
    """File-name characters, at most 120 (as `scan` names its host files)."""
    return (re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "host")[:120]


def _rule_rows(content: Content, result, collected: list[CollectedObject], ids) -> list[tuple]:
    """(STIG id, severity, object, property values, verdict) rows, one per collected record."""
    by_object = {c.query.object_id: c for c in collected}
    rows = []
    for rr in result.rule_results:
        if rr.result == "notselected":
            continue
        rule = next((r for r in content.rules if ids.rule(r.rule_id) == rr.idref), None)
        if rule is None:
            continue
        emitted = False
        for n, test in enumerate(rule.check.tests if rule.check else [], start=1):
            obj_id = ids.oval("obj", rule.vuln_number * 100 + n)
            obj = by_object.get(obj_id)
            # the objects this test blames (evidence per OVAL object), else the rule's
            failing = set(rr.object_instances.get(obj_id, ()) if rr.object_instances
                          else rr.instances)
            props = [f.property for f in (test.state.fields if test.state else [])]
            for item in (obj.items if obj else []):   # a registry value, a file's trustee
                ents = {e.name: e.value for e in item.entities}
                shown_props = props
                if item.kind == "registry":
                    what, verdict = f"registry {ents.get('name')}", rr.result
                else:   # one row per trustee; only the trustees the evidence names fail
                    sid = ents.get("trustee_sid") or ""
                    what = f"trustee {ents.get('trustee_name') or sid}"
                    verdict = rr.result if rr.result != "fail" or sid in failing else "pass"
                    shown_props = ["file_read_data", "file_write_data", "standard_write_dac"]
                shown = ", ".join(f"{p}={ents.get(p) or '(not collected)'}" for p in shown_props)
                rows.append((rule.version, rule.severity, what, shown, verdict))
                emitted = True
            for record in (obj.records if obj else []):
                fields = {f.name: f.value for f in record}
                who = (fields.get("name") or fields.get("identity")
                       or next((fields[s.lower()] for s in getattr(test.object, "select", ())
                                if fields.get(s.lower())), getattr(test.object, "noun", "")))
                ident = fields.get("identity") or who
                shown = ", ".join(f"{p}={fields.get(p.lower(), '(missing)')}" for p in props)
                verdict = rr.result
                if rr.result == "fail" and ident not in failing and who not in failing:
                    verdict = "pass"
                rows.append((rule.version, rule.severity, f"{getattr(test.object, 'noun', '')} {who}", shown,
                             verdict))
                emitted = True
        if not emitted:
            rows.append((rule.version, rule.severity, "", "", rr.result))
    return rows


@click.command("run", cls=Command, renamed={"--out": "--output"})
@click.option("--example", is_flag=False, flag_value=DEFAULT_EXAMPLE, default=None,
              type=click.Choice(list(EXAMPLES)), metavar="[STIG]",
              help="use a built-in example server's exports and its benchmark: "
                   f"{', '.join(EXAMPLES)} (default {DEFAULT_EXAMPLE})")
@click.option("--from", "sources", multiple=True, metavar="DIR|CMDLET=FILE",
              help="offline exports (as for `stigscap collect --from`); repeatable")
@click.option("--content", "content_dir", type=click.Path(file_okay=False, path_type=Path),
              help="content directory (default: the built-in content)")
@click.option("--benchmark", metavar="NAME",
              help="a built-in benchmark: exchange2013_edge (default), exchange2016_edge, "
                   "exchange2019_edge, exchange2016_mailbox (default with --example STIG: its "
                   "benchmark)")
@click.option("--profile", default="MAC-1_Classified", show_default=True, metavar="ID",
              help="XCCDF profile")
@click.option("--refine-value", multiple=True, metavar="ID=SELECTOR",
              help="choose a selector of an XCCDF Value, e.g. "
                   "receive_connector_authmechanism=includes (repeatable)")
@click.option("--set-value", multiple=True, metavar="ID=VALUE",
              help="set an XCCDF Value literally, e.g. an organization-defined one (repeatable)")
@click.option("--tailoring", "--tailoring-file", "tailoring_file", type=click.Path(dir_okay=False),
              metavar="FILE", help="XCCDF 1.2 tailoring file (`stigscap tailor`); --profile may name "
                                   "one of its profiles")
@click.option("-o", "--output", "out_dir", default="out", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="output directory")
@click.option("--timestamp", metavar="ISO8601",
              help="evaluation time (default: SOURCE_DATE_EPOCH, else now)")
@click.option("--target-address", "target_address", multiple=True, metavar="IP",
              help="an IP address of the host (repeatable; default: the addresses its "
                   "Receive connectors bind): the TestResult's target-address")
@click.option("--target-mac", "target_mac", multiple=True, metavar="MAC",
              help="a MAC address of the target (repeatable; offline exports carry none): the "
                   "ARF's asset and the checklists' HOST_MAC")
@click.option("--sign-key", type=click.Path(dir_okay=False), metavar="KEY",
              help="sign the data stream and the ARF with this key (PEM or PKCS#12; password "
                   "from STIGSCAP_KEY_PASSWORD or a prompt)")
@click.option("--sign-cert", type=click.Path(dir_okay=False), metavar="CERT",
              help="PEM certificate (chain) of --sign-key")
@click.pass_context
def run_command(ctx, example, sources, content_dir, benchmark, profile, refine_value, set_value,
                tailoring_file, out_dir, timestamp, target_address, target_mac, sign_key, sign_cert):
    """Generate the data stream, import the exports, evaluate, and write the ARF."""
    if not example and not sources:
        raise StigscapError("give --example or --from EXPORTS")
    if benchmark and content_dir:
        raise StigscapError("give --content or --benchmark, not both")
    specs = list(sources) + ([str(example_exports_dir(example))] if example else [])
    if example and not benchmark and not content_dir:
        benchmark = example_benchmark(example)
    if benchmark:
        content_dir = builtin_benchmark_dir(benchmark)
    refine = parse_pairs(refine_value, "--refine-value")
    values = parse_pairs(set_value, "--set-value")
    tailoring = parse_xml_file(tailoring_file) if tailoring_file else None
    addresses = target_addresses(target_address)
    macs = target_macs(target_mac)

    if sign_cert and not sign_key:
        raise StigscapError("--sign-cert goes with --sign-key")
    signing_key = load_key_files(sign_key, sign_cert, prompter=key_password_prompter()) \
        if sign_key else None

    content = load_content(content_dir)
    ids = id_scheme(content)
    # the content keeps its own date (as `generate`); the evaluation is stamped with the
    # run's time: --timestamp, else SOURCE_DATE_EPOCH, else now
    generated = generate(content, ids, resolve_time(None, fallback=content_time(content)))
    now = resolve_time(timestamp)
    ds_bytes = generated.datastream
    if signing_key is not None:
        ds_bytes = sign_bytes(ds_bytes, signing_key, now, source="<generated data stream>")
    ds_tree = parse_xml_bytes(ds_bytes, "<generated data stream>", huge_tree=True)

    exports = ExportMap.from_specs(specs)
    objects = read_cmdlet_objects(ds_tree.getroot())
    collected, system, _notes = collect_with_system(objects, exports)
    sc_bytes = syschar_bytes(collected, system, timestamp=zulu(now))
    sc_root = parse_xml_bytes(sc_bytes, "<system characteristics>").getroot()

    evaluator = Evaluator(ds_tree, profile, refine_values=refine, set_values=values,
                          tailoring=tailoring, tailoring_href=tailoring_file or "tailoring.xml",
                          source=ids.file("ds"))
    target = with_macs(target_from_syschar(sc_root, addresses=addresses), macs)
    if not target.addresses:
        Console(stderr=True, highlight=False).print(NO_ADDRESS_WARNING.format(name=target.name))
    result = evaluator.evaluate(sc_root, target=target, timestamp=now)
    arf_bytes = result.to_bytes()
    if signing_key is not None:
        arf_bytes = sign_bytes(arf_bytes, signing_key, now, source="ARF")
    # every output is rendered before the first one is written
    ckl = checklist_from_arf(arf_bytes, "ckl")
    cklb = checklist_from_arf(arf_bytes, "cklb")
    hdf = checklist_from_arf(arf_bytes, "hdf")
    html = html_report([arf_bytes], timestamp=now).encode("utf-8")

    host = _safe_name(result.target.name)
    outputs = {
        "data stream": (out_dir / ids.file("ds"), ds_bytes),
        "system characteristics": (out_dir / f"{host}-sc.xml", sc_bytes),
        "ARF": (out_dir / f"{host}-arf.xml", arf_bytes),
        "CKL": (out_dir / f"{host}.ckl", ckl),
        "CKLB": (out_dir / f"{host}.cklb", cklb),
        "HDF": (out_dir / f"{host}.hdf.json", hdf),
        "HTML report": (out_dir / f"{host}-report.html", html),
    }
    for path, data in outputs.values():
        atomic_write(path, data)

    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:  # files and pipes: wide enough to keep one row per object
        console = Console(highlight=False, soft_wrap=True, width=160)
    table = Table(title=f"{content.benchmark.title} — {result.target.name}", show_lines=False)
    for col in ("STIG ID", "CAT", "object", "collected value", "verdict"):
        table.add_column(col)
    cat = {"high": "I", "medium": "II", "low": "III"}
    for version, severity, obj, shown, verdict in _rule_rows(content, result, collected, ids):
        table.add_row(version, cat.get(severity, severity), obj, shown,
                      f"[{_VERDICT_STYLE.get(verdict, '')}]{verdict}[/]")
    console.print(table)
    counts = result.counts
    summary = ", ".join(f"{k} {counts[k]}" for k in
                        ("pass", "fail", "error", "unknown", "notapplicable", "notchecked")
                        if counts.get(k))
    console.print(f"rules: {summary or 'none'}")
    for label, (path, _) in outputs.items():
        console.print(f"wrote {label}: {path}" + (" (signed)" if signing_key is not None and
                                                   label in ("data stream", "ARF") else ""))
    ctx.exit(result.exit_code)


COMMANDS = [run_command]
