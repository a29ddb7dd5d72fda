"""CLI: `stigscap man -o DIR` writes roff man pages (stigscap.1 and stigscap-<command>.1) from
the click commands themselves, so the pages say what `--help` says."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from stigscap.schemas.clock import product_version, resolve_time
from stigscap.schemas.xmlio import atomic_write


def _roff(text: str) -> str:
    """Text for a roff body: backslashes and leading dots/quotes escaped, non-ASCII characters
    as groff's \\[uXXXX] (troff reads its input as Latin-1)."""
    text = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]"
                   for c in text.replace("\\", "\\e"))
    out = []
    for line in text.splitlines():
        out.append("\\&" + line if line.startswith((".", "'")) else line)
    return "\n".join(out)


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def render_page(cmd: click.Command, prog: str, date: str, version: str,
                see_also: list[str]) -> str:
    """One man page (section 1) for a click command."""
    ctx = click.Context(cmd, info_name=prog)
    usage = " ".join(cmd.collect_usage_pieces(ctx))
    paras = _paragraphs(cmd.help or "")
    page = prog.replace(" ", "-")
    lines = [f'.TH "{page.upper()}" 1 "{date}" "stigscap {version}" "stigscap manual"',
             ".SH NAME", f"{_roff(page)} \\- {_roff(paras[0] if paras else '')}",
             ".SH SYNOPSIS", f".B {prog}", _roff(usage)]
    if len(paras) > 1:
        lines.append(".SH DESCRIPTION")
        for p in paras[1:]:
            lines += [".PP", _roff(p)]
    opts = [p for p in cmd.get_params(ctx) if isinstance(p, click.Option) and not p.hidden]
    if opts:
        lines.append(".SH OPTIONS")
        for opt in opts:
            record = opt.get_help_record(ctx)
            if record:
                lines += [".TP", f".B {_roff(record[0])}", _roff(record[1])]
    if isinstance(cmd, click.Group):
        lines.append(".SH COMMANDS")
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                lines += [".TP", f".B {name}", _roff(sub.get_short_help_str(200)),
                          f"See \\fB{prog}-{name}\\fR(1)."]
    lines += [".SH EXIT STATUS",
              "0 all pass (or success), 2 findings (validate: invalid), 1 error.",
              ".SH SEE ALSO", ", ".join(f"\\fB{s}\\fR(1)" for s in see_also)]
    return "\n".join(lines) + "\n"


@click.command("man")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="directory for stigscap.1 and stigscap-<command>.1")
@click.option("--timestamp", metavar="ISO8601",
              help="the pages' date (default: SOURCE_DATE_EPOCH, else today)")
def man_cmd(out_dir: str, timestamp: str | None) -> None:
    """Write man pages for stigscap and each of its commands.

    The pages are made from the commands' own help, so they never disagree with --help.
    Install them with e.g. `cp DIR/*.1 /usr/local/share/man/man1/`."""
    root = importlib.import_module("stigscap.evaluator.cli.main").main
    ctx = click.Context(root, info_name="stigscap")
    date = resolve_time(timestamp).strftime("%Y-%m-%d")
    version = product_version()
    names = [n for n in root.list_commands(ctx)]
    commands = {n: root.get_command(ctx, n) for n in names}
    pages = {"stigscap.1": render_page(root, "stigscap", date, version,
                                       [f"stigscap-{n}" for n in names])}
    for name, cmd in commands.items():
        if cmd is not None and not cmd.hidden:
            pages[f"stigscap-{name}.1"] = render_page(cmd, f"stigscap {name}", date, version,
                                                      ["stigscap", "oscap"])
    for file, text in pages.items():
        atomic_write(Path(out_dir) / file, text.encode("utf-8"))
    click.echo(f"wrote {len(pages)} man pages to {out_dir}")


COMMANDS = [man_cmd]
