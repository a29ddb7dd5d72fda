"""CLI commands of the generator stage: `stigscap generate`."""

from __future__ import annotations

from pathlib import Path

import click

from stigscap.content.loader import builtin_benchmark_dir, load_content
from stigscap.schemas.errors import StigscapError
from stigscap.generator.build import content_from_stig, content_time, generate, id_scheme
from stigscap.generator.disa_xccdf import read_disa_benchmark
from stigscap.generator.ids import DEFAULT_NAMESPACE
from stigscap.schemas.clock import resolve_time
from stigscap.schemas.xmlio import atomic_write



@click.command("generate")
@click.option("--content", "content_dir", type=click.Path(file_okay=False, path_type=Path),
              help="content directory (benchmark.yaml + rules/); default: the built-in content")
@click.option("--benchmark", "benchmarks", metavar="NAME", multiple=True,
              help="a built-in benchmark: exchange2013_edge (default), exchange2016_edge, ...; "
                   "repeated, or `all`: one data stream collection holding a data stream per "
                   "benchmark (eval and scan pick per host the one whose platform matches)")
@click.option("--stig", "stig_file", type=click.Path(dir_okay=False, path_type=Path),
              help="DISA manual XCCDF (U_..._Manual-xccdf.xml): take the benchmark's and rules' "
                   "facts from it; machine checks come from the content (matched by STIG ID "
                   "or legacy ids)")
@click.option("--keep-changed-checks", is_flag=True,
              help="with --stig: keep an authored check even where the STIG's check text "
                   "changed (default: such a rule becomes manual, marked for review)")
@click.option("--rule", "rules", multiple=True, metavar="ID",
              help="only these rules (rule id, V- number or STIG id); repeatable")
@click.option("--id-namespace", default=DEFAULT_NAMESPACE, show_default=True,
              help="reverse-DNS namespace of XCCDF/OVAL/data stream ids")
@click.option("--timestamp", metavar="ISO8601",
              help="timestamp written into the content (default: SOURCE_DATE_EPOCH, else the "
                   "benchmark status date)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="source data stream file (default: <benchmark>-ds.xml)")
@click.option("--components", "components_dir", type=click.Path(file_okay=False, path_type=Path),
              help="also write the separate component files (XCCDF, OVAL, OCIL, CPE) here")
def generate_command(content_dir, benchmarks, stig_file, keep_changed_checks, rules, id_namespace,
                     timestamp, output, components_dir):
    """Write the SCAP 1.3 source data stream for the content."""
    if benchmarks and content_dir:
        raise StigscapError("give --content or --benchmark, not both")
    names = _benchmark_names(benchmarks)
    if len(names) > 1:
        _generate_collection(names, stig_file, rules, id_namespace, timestamp, output,
                             components_dir)
        return
    benchmark = names[0] if names else None
    content = load_content(builtin_benchmark_dir(benchmark) if benchmark else content_dir)
    if stig_file:
        content = content_from_stig(content, read_disa_benchmark(stig_file), list(rules),
                                    keep_changed_checks=keep_changed_checks)
    else:
        content = content.select(list(rules))
    ids = id_scheme(content, id_namespace)
    result = generate(content, ids, resolve_time(timestamp, fallback=content_time(content)))
    output = output or Path(ids.file("ds"))
    # everything is built (and validated) before the first byte is written
    if components_dir:
        for name, data in result.components.items():
            atomic_write(components_dir / name, data)
    atomic_write(output, result.datastream)
    click.echo(f"wrote {output} ({len(content.rules)} rules, "
               f"{sum(1 for r in content.rules if r.automated)} automated)")


def _benchmark_names(given) -> list[str]:
    from stigscap.content.loader import builtin_benchmarks
    names: list[str] = []
    for name in given:
        for n in (list(builtin_benchmarks()) if name == "all" else [name]):
            builtin_benchmark_dir(n)   # an unknown name fails here, naming the built-in ones
            if n in names:
                raise StigscapError(f"--benchmark {n} is given twice")
            names.append(n)
    return names


def _generate_collection(names, stig_file, rules, id_namespace, timestamp, output,
                         components_dir):
    from stigscap.generator.build import generate_collection
    if stig_file or rules:
        raise StigscapError("--stig and --rule work on one benchmark; give one --benchmark")
    contents = [load_content(builtin_benchmark_dir(n)) for n in names]
    ids = [id_scheme(c, id_namespace) for c in contents]
    fallback = max(content_time(c) for c in contents)
    result = generate_collection(contents, "_".join(names), ids,
                                 resolve_time(timestamp, fallback=fallback))
    output = output or Path("stigscap-collection-ds.xml")
    if components_dir:
        for name, data in result.components.items():
            atomic_write(components_dir / name, data)
    atomic_write(output, result.datastream)
    click.echo(f"wrote {output} ({len(contents)} benchmarks in one data stream collection: "
               + "; ".join(f"{c.benchmark.id} {len(c.rules)} rules, "
                           f"{sum(1 for r in c.rules if r.automated)} automated"
                           for c in contents) + ")")


COMMANDS = [generate_command]
