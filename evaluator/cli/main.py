"""The `stigscap` command line: one root group; each stage contributes its own commands.

Exit codes follow oscap: 0 all pass (or success), 2 findings, 1 error. Every StigscapError is
printed as one line `stigscap: file:line: problem`; an unexpected exception is reported in one
line as an internal error (`--debug` shows the traceback).
"""

from __future__ import annotations

import importlib

import click

from stigscap.schemas.errors import StigscapError

EXIT_OK, EXIT_ERROR, EXIT_FINDINGS = 0, 1, 2

# Every command: the module under stigscap.evaluator.cli that defines it (in its `COMMANDS`
# list) and its one-line help for `stigscap --help`. A module is imported only when its
# command runs, so `stigscap --help` imports no stage at all
# (tests/cli/test_cli_startup.py checks this table against the commands themselves).
COMMANDS: dict[str, tuple[str, str]] = {
    "collect": ("collect", "Read PowerShell exports of an (air-gapped) Exchange server into OVAL "
                           "system characteristics for the cmdlet_objects of DEFINITIONS."),
    "eval": ("eval", "Evaluate a host (its system characteristics) against a SCAP 1.3 source "
                     "data stream."),
    "export": ("export", "Write STIG Viewer checklists (CKL or CKLB) or Heimdall HDF JSON, one "
                         "per asset, from ARF results."),
    "fix": ("fix", "Write a PowerShell remediation script for the objects an ARF found failing."),
    "generate": ("generate", "Write the SCAP 1.3 source data stream for the content."),
    "info": ("info", "Describe a SCAP document: benchmarks, profiles, rule counts, values, "
                     "signatures."),
    "import-stig": ("import_stig", "Draft one YAML rule file per rule of a DISA manual STIG "
                                   "(XCCDF 1.1)."),
    "man": ("manpage", "Write man pages for stigscap and each of its commands."),
    "oval-analyse": ("oval", "Analyse OVAL DEFINITIONS against the system characteristics "
                             "SYSCHAR (OVAL 5.11.2)."),
    "report": ("export", "Write one self-contained HTML compliance report for a host or a "
                         "fleet."),
    "run": ("run", "Generate the data stream, import the exports, evaluate, and write the ARF."),
    "scan": ("scan", "Collect and evaluate many hosts over WinRM: one ARF per host and a "
                     "summary."),
    "sign": ("sign", "Sign a SCAP 1.3 source data stream or an ARF report (XML-DSig, SP "
                     "800-126r3 / TMSAD)."),
    "tailor": ("tailor", "Write an XCCDF 1.2 tailoring file for a profile of a source data "
                         "stream."),
    "validate": ("validate", "Validate SCAP documents against the official XSDs plus "
                             "reference/SCAP 1.3 checks."),
    "verify": ("sign", "Verify the signatures of a SCAP 1.3 source data stream or ARF report."),
}


class _Root(click.Group):
    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module = importlib.import_module(f"stigscap.evaluator.cli.{COMMANDS[cmd_name][0]}")
            for cmd in module.COMMANDS:
                self.add_command(cmd)
        return self.commands.get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table above, laid out as click lays it out."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = [(n, click.Command(n, help=COMMANDS[n][1]).get_short_help_str(limit))
                for n in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except StigscapError as exc:
            click.echo(f"stigscap: {exc}", err=True)
            ctx.exit(EXIT_ERROR)
        except click.BadParameter as exc:
            # A path click refused (a directory given as a file, a file as a directory, a
            # missing file) is bad input, not bad usage: one line and exit 1, never click's
            # usage block and exit 2 (2 means findings).
            if not isinstance(getattr(exc.param, "type", None), click.Path):
                raise
            click.echo(f"stigscap: {' '.join(exc.format_message().split())}", err=True)
            ctx.exit(EXIT_ERROR)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # the reader went away (`stigscap … | head`): click ends quietly (exit 1), as
            # for any closed output; it is not an internal error
            raise
        except KeyboardInterrupt:
            from .terminal import INTERRUPTED
            click.echo(INTERRUPTED, err=True)
            ctx.exit(130)
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            from .terminal import internal_error
            click.echo(internal_error(exc), err=True)
            ctx.exit(EXIT_ERROR)


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, hidden=True, help="show tracebacks of internal errors")
@click.version_option(package_name="stigscap")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """stigscap: DISA STIG items as SCAP 1.3 content, and Exchange servers judged against it."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    from .terminal import escape_unprintable
    escape_unprintable()


if __name__ == "__main__":  # `python -m stigscap.evaluator.cli.main` (used by the tests)
    main()
