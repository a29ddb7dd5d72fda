"""`stigscap oval-analyse`: OVAL definitions + system characteristics → OVAL results.

The file-handling edge around the pure engine (evaluator/oval/engine.py), shaped like
`oscap oval analyse --results OUT [--variables VARS] DEFS SYSCHAR`.
"""

from __future__ import annotations

import click

from stigscap.schemas.clock import naive_utc, resolve_time
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.namespaces import OVAL_DEF, OVAL_SC
from stigscap.schemas.xmlio import atomic_write, parse_xml_file, serialize

from ..oval.variables import variables_from_document


def _root(path: str, ns: str, local: str):
    root = parse_xml_file(path).getroot()
    if root.tag != f"{{{ns}}}{local}":
        raise StigscapError(f"expected an OVAL {local} document, found <{root.tag!s}>", file=path)
    return root


@click.command("oval-analyse")
@click.argument("definitions", type=click.Path(dir_okay=False))
@click.argument("syschar", type=click.Path(dir_okay=False))
@click.option("--results", "-o", "--output", "results_path", required=True, type=click.Path(dir_okay=False),
              help="write the OVAL results document here (oscap's --results; -o/--output as "
                   "in the other commands)")
@click.option("--variables", "variables_path", type=click.Path(dir_okay=False),
              help="oval_variables document with external variable values")
@click.option("--var", "var_values", multiple=True, metavar="ID=VALUE",
              help="an external variable value (repeatable; adds to --variables)")
@click.option("--directives", type=click.Choice(["full", "thin"]), default="full",
              show_default=True, help="SCAP 1.3 results format (RES-181 full, RES-182 thin)")
@click.option("--include-definitions", is_flag=True,
              help="copy the source definitions into the results (not SCAP 1.3)")
@click.option("--timestamp", help="generator timestamp (default: SOURCE_DATE_EPOCH or now, UTC)")
def oval_analyse(definitions, syschar, results_path, variables_path, var_values, directives,
                 include_definitions, timestamp):
    """Analyse OVAL DEFINITIONS against the system characteristics SYSCHAR (OVAL 5.11.2)."""
    from stigscap.evaluator.oval.engine import compile_definitions
    from stigscap.evaluator.oval.results import build_results_document
    from stigscap.evaluator.results.syschar_stream import FORM_COPIED, analyse_file

    defs = _root(definitions, OVAL_DEF, "oval_definitions")
    variables = (variables_from_document(parse_xml_file(variables_path).getroot(),
                                         variables_path) if variables_path else {})
    for item in var_values:
        vid, sep, value = item.partition("=")
        if not sep or not vid:
            raise StigscapError(f"--var expects ID=VALUE, got {item!r}")
        variables.setdefault(vid, []).append(value)
    ts = naive_utc(resolve_time(timestamp))
    # the system characteristics are read item by item and copied into the results as they
    # are written (results/syschar_stream.py), unless they need the whole tree
    ev, streamed = analyse_file(
        compile_definitions(defs), syschar, variables,
        whole=lambda: _root(syschar, OVAL_SC, "oval_system_characteristics"),
        forms=[FORM_COPIED] if directives == "full" else [])
    try:
        doc = build_results_document(ev, directives=directives, timestamp=ts,
                                     include_source_definitions=include_definitions)
        data = serialize(doc)
        del doc
        atomic_write(results_path, streamed.expand(data, FORM_COPIED) if streamed else data)
    finally:
        if streamed is not None:
            streamed.close()
    for def_id, result in ev.definition_results.items():
        click.echo(f"{def_id}: {result}")


COMMANDS = [oval_analyse]
