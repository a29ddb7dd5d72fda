"""`stigscap eval`: judge one host's system characteristics against a source data stream.

    stigscap eval DS.xml --profile MAC-1_Classified --system-characteristics SC.xml \\
        --results-arf ARF.xml [--results XCCDF-RESULTS.xml] [--oval-results OVAL-RESULTS.xml]

Exit codes (like oscap xccdf eval): 0 every selected rule passed (or is notapplicable /
notchecked), 2 at least one rule is fail or unknown, 1 an error (bad input, or a rule whose
evaluation gave `error`; the result files are still written in that last case).
"""

from __future__ import annotations

import click

from stigscap.schemas.clock import resolve_time
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write, parse_xml_file

from ..results.arf import (NO_ADDRESS_WARNING, Evaluator, target_addresses, target_from_syschar,
                           target_macs, with_macs)
from ..results.syschar_stream import FORM_COPIED, FORM_INPLACE
from .options import key_password_prompter, parse_pairs
from .terminal import working


@click.command("eval")
@click.argument("datastream", type=click.Path(dir_okay=False))
@click.option("--profile", metavar="ID",
              help="XCCDF profile id (full id or the part after _profile_); default: the "
                   "Benchmark's own selection")
@click.option("--system-characteristics", "syschar", required=True,
              type=click.Path(dir_okay=False), metavar="FILE",
              help="OVAL system characteristics of the host (from `stigscap collect`)")
@click.option("--results-arf", type=click.Path(dir_okay=False), metavar="FILE",
              help="write the ARF 1.1 result data stream")
@click.option("--results", "results_xccdf", type=click.Path(dir_okay=False), metavar="FILE",
              help="write the XCCDF Benchmark with the TestResult merged (like oscap --results)")
@click.option("--oval-results", type=click.Path(dir_okay=False), metavar="FILE",
              help="write the OVAL results of the compliance checks")
@click.option("--tailoring", "--tailoring-file", "tailoring_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="XCCDF 1.2 Tailoring document; --profile may name one of its profiles")
@click.option("--set-value", multiple=True, metavar="ID=VALUE",
              help="set an XCCDF Value literally (repeatable)")
@click.option("--refine-value", multiple=True, metavar="ID=SELECTOR",
              help="choose a selector of an XCCDF Value, e.g. "
                   "receive_connector_authmechanism=includes (repeatable)")
@click.option("--rule", "rules", multiple=True, metavar="RULE",
              help="evaluate only this rule of the selected ones (rule id, SV-…_rule or STIG id; "
                   "repeatable, as oscap --rule); the others are notselected")
@click.option("--skip-rule", "skip_rules", multiple=True, metavar="RULE",
              help="do not evaluate this rule (repeatable, as oscap --skip-rule)")
@click.option("--datastream-id", metavar="ID", help="data stream to use (default: the first; "
              "in a collection of several benchmarks: the one whose platform the host matches)")
@click.option("--benchmark-id", metavar="ID",
              help="in a collection of several benchmarks: evaluate this XCCDF Benchmark (full "
                   "id or the part after _benchmark_), whatever the host's platform")
@click.option("--timestamp", metavar="ISO8601",
              help="evaluation time (default: SOURCE_DATE_EPOCH, else now)")
@click.option("--target", "target_name", metavar="NAME", help="target name (default: syschar host)")
@click.option("--target-address", "target_address", multiple=True, metavar="IP",
              help="an IP address of the target (repeatable; added to the syschar's "
                   "interfaces): the TestResult's target-address (SCAP 1.3 RES-136)")
@click.option("--target-mac", "target_mac", multiple=True, metavar="MAC",
              help="a MAC address of the target (repeatable; offline exports carry none): the "
                   "ARF's asset and the checklists' HOST_MAC")
@click.option("--identity", metavar="ACCOUNT", help="account the data was collected with")
@click.option("--authenticated/--not-authenticated", default=None,
              help="whether the collection account was authenticated")
@click.option("--privileged/--not-privileged", default=None,
              help="whether the collection account was privileged")
@click.option("--oval-directives", type=click.Choice(["full", "thin"]), default="full",
              show_default=True, help="OVAL results detail (full: with system characteristics)")
@click.option("--oval-results-with-definitions", "oval_with_definitions", is_flag=True,
              help="copy the OVAL definitions into the OVAL results (ARF and --oval-results), "
                   "for viewers that need them (openscap-report, oval-graph); outside SCAP 1.3, "
                   "whose RES-181/182 leave them out")
@click.option("--quiet", "-q", is_flag=True, help="print only the summary line")
@click.option("--ckl", "ckl_out", type=click.Path(dir_okay=False), metavar="FILE",
              help="also write a STIG Viewer 2 checklist (CKL)")
@click.option("--cklb", "cklb_out", type=click.Path(dir_okay=False), metavar="FILE",
              help="also write a STIG Viewer 3 checklist (CKLB)")
@click.option("--hdf", "hdf_out", type=click.Path(dir_okay=False), metavar="FILE",
              help="also write Heimdall Data Format (HDF JSON)")
@click.option("--report", "report_out", type=click.Path(dir_okay=False), metavar="FILE",
              help="also write the HTML report")
@click.option("--stig", "stig_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="with --ckl/--cklb/--hdf/--report: DISA manual STIG, so every rule of it is listed")
@click.option("--sign-key", type=click.Path(dir_okay=False), metavar="KEY",
              help="sign the ARF with this key (PEM or PKCS#12; password from "
                   "STIGSCAP_KEY_PASSWORD or a prompt)")
@click.option("--sign-cert", type=click.Path(dir_okay=False), metavar="CERT",
              help="PEM certificate (chain) of --sign-key")
@click.option("--trusted-cert", "trusted", multiple=True, type=click.Path(dir_okay=False),
              metavar="CERT", help="verify a signed source data stream against this "
                                   "certificate (repeatable); an invalid signature is refused, "
                                   "an unsigned stream gets a note on stderr")
@click.option("--ca-bundle", type=click.Path(dir_okay=False), metavar="BUNDLE",
              help="verify a signed source data stream against this PEM CA bundle")
@click.option("--enforce-signature", is_flag=True,
              help="refuse a source data stream without a valid signature")
@click.pass_context
def eval_command(ctx, datastream, profile, syschar, results_arf, results_xccdf, oval_results,
                 tailoring_file, set_value, refine_value, rules, skip_rules, datastream_id,
                 benchmark_id, timestamp, target_name, target_address, target_mac, identity,
                 authenticated, privileged, oval_directives, oval_with_definitions, quiet,
                 ckl_out, cklb_out, hdf_out, report_out, stig_file, sign_key, sign_cert, trusted,
                 ca_bundle, enforce_signature):
    """Evaluate a host (its system characteristics) against a SCAP 1.3 source data stream.

    Without any output option the verdicts are only printed (like oscap xccdf eval).
    """
    if sign_key and not results_arf:
        raise StigscapError("--sign-key signs the ARF: give --results-arf")
    from ..signing.keys import load_key_files
    from ..signing.policy import check_datastream_signature
    now = resolve_time(timestamp)
    signing_key = load_key_files(sign_key, sign_cert, prompter=key_password_prompter()) \
        if sign_key else None
    ds_tree = parse_xml_file(datastream, huge_tree=True)
    note = check_datastream_signature(ds_tree.getroot(), datastream, trusted, ca_bundle,
                                      enforce_signature)
    if note:
        click.echo(note, err=True)
    tailoring = parse_xml_file(tailoring_file) if tailoring_file else None
    datastream_id = _chosen_datastream(ds_tree.getroot(), datastream, datastream_id,
                                       benchmark_id, syschar, target_name)
    evaluator = Evaluator(ds_tree, profile, tailoring=tailoring,
                          tailoring_href=tailoring_file or "tailoring.xml",
                          set_values=parse_pairs(set_value, "--set-value"),
                          refine_values=parse_pairs(refine_value, "--refine-value"),
                          datastream_id=datastream_id, source=datastream,
                          oval_directives=oval_directives, rules=rules, skip_rules=skip_rules,
                          oval_with_definitions=oval_with_definitions)
    addresses = target_addresses(target_address)

    macs = target_macs(target_mac)

    def make_target(sc_root):
        try:
            return with_macs(target_from_syschar(sc_root, name=target_name, identity=identity,
                                                 authenticated=authenticated,
                                                 privileged=privileged, addresses=addresses),
                             macs)
        except StigscapError as exc:
            raise StigscapError(exc.message, file=syschar) from None

    # the host's items are read one by one and spliced into what is written (see
    # results/syschar_stream.py): say which serializations of them the outputs need
    forms = []
    if oval_directives == "full":
        if results_arf or ckl_out or cklb_out or hdf_out or report_out:
            forms.append(FORM_INPLACE)
        if oval_results:
            forms.append(FORM_COPIED)
    try:
        with working("evaluating…", quiet=quiet):
            result = evaluator.evaluate_file(syschar, target=make_target, timestamp=now,
                                             forms=forms)
    except StigscapError as exc:
        if exc.file:
            raise
        raise StigscapError(exc.message, file=syschar) from None
    if not result.target.addresses and (results_arf or results_xccdf):
        click.echo(NO_ADDRESS_WARNING.format(name=result.target.name), err=True)
    try:
        _write_outputs(result, now, signing_key, results_arf, results_xccdf, oval_results,
                       ckl_out, cklb_out, hdf_out, report_out, stig_file)
    finally:
        result.close()

    if not quiet:
        for rr in result.rule_results:
            if rr.result == "notselected":
                continue
            label = f" ({rr.version})" if rr.version else ""
            click.echo(f"{rr.result:<13} {rr.idref}{label}")
            for _severity, text in rr.messages:
                if rr.result != "pass":
                    click.echo(f"    {text}")
    counts = result.counts
    summary = ", ".join(f"{k} {counts[k]}" for k in
                        ("pass", "fail", "error", "unknown", "notapplicable", "notchecked",
                         "notselected") if counts.get(k))
    click.echo(f"{result.target.name}: {summary or 'no rules'}")
    code = result.exit_code
    if code == 1:
        click.echo(f"stigscap: {counts.get('error', 0)} rule(s) evaluated to error", err=True)
    ctx.exit(code)


def _chosen_datastream(collection, source, datastream_id, benchmark_id, syschar,
                       target_name=None):
    """--datastream-id, else the data stream of --benchmark-id, else (a collection of several
    benchmarks) the one whose platform the host matches, said on stderr with the others'
    results; none or several matching is an error naming each."""
    from ..xccdf.selection import choose_benchmark, datastream_for_benchmark, is_multi_benchmark
    if datastream_id and benchmark_id:
        raise StigscapError("give --datastream-id or --benchmark-id, not both")
    if benchmark_id:
        return datastream_for_benchmark(collection, benchmark_id, source)
    if datastream_id or not is_multi_benchmark(collection):
        return datastream_id
    from ..xccdf.selection import benchmark_platforms
    sc_root = parse_xml_file(syschar, huge_tree=True).getroot()
    names = (target_name,) if target_name else ()
    chosen = choose_benchmark(collection, sc_root, source, host=f"{syschar}: the host",
                              host_names=names)
    others = [b for b in benchmark_platforms(collection, sc_root, source, names)
              if b.datastream_id != chosen.datastream_id]
    click.echo(f"benchmark {chosen.benchmark_id}: its platform matches the host; not "
               "applicable (platform false): " + ", ".join(b.benchmark_id for b in others),
               err=True)
    return chosen.datastream_id


def _write_outputs(result, now, signing_key, results_arf, results_xccdf, oval_results, ckl_out,
                   cklb_out, hdf_out, report_out, stig_file):
    """Everything is rendered before anything is written (no partial output on errors); a
    streamed host's items are copied into the ARF and OVAL results as they are written."""
    from ..signing.signer import sign_bytes
    outputs = []
    if results_arf or ckl_out or cklb_out or hdf_out or report_out:
        if signing_key is not None or ckl_out or cklb_out or hdf_out or report_out:
            arf_bytes = result.to_bytes()
            if signing_key is not None:
                arf_bytes = sign_bytes(arf_bytes, signing_key, now, source="ARF")
            arf_data = [arf_bytes]
        else:
            arf_bytes = None
            arf_data = result.arf_chunks()
        if results_arf:
            outputs.append((results_arf, arf_data))
        for path, fmt in ((ckl_out, "ckl"), (cklb_out, "cklb"), (hdf_out, "hdf")):
            if path:
                from ..checklists.export import checklist_from_arf
                outputs.append((path, checklist_from_arf(arf_bytes, fmt, stig=stig_file)))
        if report_out:
            from ..checklists.report_html import html_report
            outputs.append((report_out, html_report([arf_bytes], stig=stig_file,
                                                       timestamp=now).encode("utf-8")))
    if results_xccdf:
        outputs.append((results_xccdf, result.xccdf_results_bytes()))
    if oval_results:
        if not result.oval_reports:
            raise StigscapError("no OVAL checks were evaluated, so there are no OVAL results")
        outputs.append((oval_results, result.oval_results_chunks(0)))
    for path, data in outputs:
        atomic_write(path, data)


COMMANDS = [eval_command]
