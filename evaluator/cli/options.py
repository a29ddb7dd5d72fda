"""Options and argument parsing shared by several commands: ID=VALUE pairs, the WinRM
connection and credential options (scan, collect --host), the checklist options (export,
eval/run/scan --ckl/--cklb), and the prompts the library asks the CLI to answer."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from stigscap.evaluator.checklists.model import ROLES, ChecklistOptions
from stigscap.evaluator.collect.credentials import ENV_PASSWORD, ENV_USERNAME, Credentials, resolve_credentials
from stigscap.schemas.errors import StigscapError

from .terminal import no_color

if TYPE_CHECKING:   # the live collector (pypsrp, pydantic) only for the commands that connect
    from stigscap.evaluator.collect.winrm import WinRMOptions


def parse_pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    """`--set-value ID=VALUE` (repeatable) as a dict."""
    out: dict[str, str] = {}
    for v in values:
        if "=" not in v:
            raise StigscapError(f"{option} expects ID=VALUE, got {v!r}")
        key, _, text = v.partition("=")
        out[key.strip()] = text
    return out


def terminal_prompt(text: str, secret: bool = True) -> str:
    """Ask on the terminal (stderr), hiding a secret answer: the library's prompter."""
    return click.prompt(text, hide_input=secret, err=True)


def key_password_prompter(interactive: bool = True):
    """The prompter for a signing key's password: a hidden prompt on a terminal, else none
    (the library then names the environment variable to set)."""
    if interactive and sys.stdin is not None and sys.stdin.isatty():
        return lambda text: terminal_prompt(text, True)
    return None


# ---------------------------------------------------------------- renamed options

class Command(click.Command):
    """A command whose renamed options still answer to their old spelling for one release.

    `renamed` maps an old spelling to the tokens that replace it, e.g. {"--out": "--output"} or
    {"--ckl": ("--write", "ckl")} (a switch that became a value). Before parsing, each old
    spelling (also `--old=value`) is rewritten and a one-line note on stderr names the new
    one; the old spellings appear in no help text, man page or completion. Values are never
    rewritten: a token that is the value of an option (`--title --out`) stays as it is."""

    def __init__(self, *args, renamed: dict[str, str | tuple[str, ...]] | None = None, **kw):
        super().__init__(*args, **kw)
        self.renamed = {old: (new,) if isinstance(new, str) else tuple(new)
                        for old, new in (renamed or {}).items()}

    def _takes_value(self) -> dict[str, bool]:
        """Option name → whether its value is optional (`--example [STIG]`: the next token is
        its value only when it does not look like an option)."""
        names: dict[str, bool] = {}
        for p in self.params:
            if isinstance(p, click.Option) and not p.is_flag and not p.count:
                optional = bool(getattr(p, "_flag_needs_value", False))
                names.update(dict.fromkeys(p.opts + p.secondary_opts, optional))
        return names

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if self.renamed:
            args = self.rewrite(args)
        return super().parse_args(ctx, args)

    def rewrite(self, args: list[str]) -> list[str]:
        takes_value = self._takes_value()
        out: list[str] = []
        i = 0
        while i < len(args):
            tok = args[i]
            i += 1
            if tok == "--":
                out.extend(args[i - 1:])
                break
            name, eq, value = tok.partition("=") if tok.startswith("--") else (tok, "", "")
            new = self.renamed.get(name)
            if new is not None:
                click.echo(f"stigscap {self.name}: {name} is now {new[0]}"
                           f"{' ' + ' '.join(new[1:]) if len(new) > 1 else ''}; the old spelling "
                           "goes in the next release", err=True)
                out.extend(new[:-1])
                out.append(new[-1] + eq + value)
                name = new[0]
            else:
                out.append(tok)
            if not eq and name in takes_value and len(new or ()) < 2 and i < len(args) \
                    and not (takes_value[name] and args[i].startswith("-")):
                out.append(args[i])   # this option's value, never rewritten
                i += 1
        return out


# ---------------------------------------------------------------- WinRM (scan, collect --host)

# what the WinRM options were called before (scan, collect)
WINRM_RENAMED = {"--ca-bundle": "--tls-ca-bundle"}


def winrm_options(fn):
    """The connection options shared by `scan` and `collect --host`."""
    opts = [
        click.option("--transport", type=click.Choice(["https", "http"]), default="https", show_default=True,
                     help="HTTPS (TLS), or HTTP with NTLM/Kerberos message encryption"),
        click.option("--port", type=int, help="WinRM port (default 5986 https / 5985 http; 443/80 for "
                                              "--endpoint exchange)"),
        click.option("--auth", type=click.Choice(["negotiate", "ntlm", "kerberos", "basic", "credssp",
                                                  "certificate"]), default="negotiate", show_default=True,
                     help="authentication (basic only over HTTPS)"),
        click.option("--tls-ca-bundle", "ca_bundle", type=click.Path(dir_okay=False, exists=True),
                     metavar="FILE",
                     help="CA certificates (PEM) that issued the hosts' WinRM (TLS) certificates"),
        click.option("--insecure-skip-tls-verify", is_flag=True,
                     help="DANGEROUS: do not verify the hosts' TLS certificates"),
        click.option("--endpoint", type=click.Choice(["wsman", "exchange"]), default="wsman", show_default=True,
                     help="wsman: host WinRM + Exchange snap-in (Edge); exchange: /PowerShell "
                          "Microsoft.Exchange endpoint (Mailbox)"),
        click.option("--snapin", metavar="NAME", help="snap-in to add instead of probing Get-PSSnapin -Registered"),
        click.option("--connection-timeout", type=float, default=30, show_default=True, metavar="S"),
        click.option("--operation-timeout", type=int, default=20, show_default=True, metavar="S",
                     help="WSMan OperationTimeout"),
        click.option("--command-timeout", type=float, default=300, show_default=True, metavar="S",
                     help="deadline for each command"),
        click.option("--retries", type=click.IntRange(0, 10), default=2, show_default=True,
                     help="retries (with backoff) on transient faults"),
        click.option("--client-cert", type=click.Path(dir_okay=False, exists=True),
                     help="client certificate (PEM) for --auth certificate"),
        click.option("--client-key", type=click.Path(dir_okay=False, exists=True),
                     help="client key (PEM) for --auth certificate"),
        click.option("--username", metavar="USER", help=f"account (default: ${ENV_USERNAME})"),
        click.option("--credentials-file", type=click.Path(dir_okay=False),
                     help="YAML with username/password, readable by you only (chmod 600)"),
        click.option("--prompt/--no-prompt", "prompt", default=None,
                     help=f"prompt for the password when ${ENV_PASSWORD} is not set (default: on a terminal)"),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def winrm_options_from(kw: dict) -> tuple[WinRMOptions, Credentials]:
    from stigscap.evaluator.collect.winrm import WinRMOptions

    if kw.pop("insecure_skip_tls_verify"):
        click.secho("stigscap: WARNING: TLS certificate verification is OFF (--insecure-skip-tls-verify): "
                    "a machine in the middle can read the credentials and forge results", fg="red",
                    bold=True, err=True, color=False if no_color() else None)
        insecure = True
    else:
        insecure = False
    prompt = kw.pop("prompt")
    if prompt is None:
        prompt = click.get_text_stream("stdin").isatty()  # type: ignore[operator]  # click 8.5 stubs
    auth = kw["auth"]
    creds = resolve_credentials(username=kw.pop("username"), credentials_file=kw.pop("credentials_file"),
                                prompt=prompt and auth != "certificate",
                                prompter=terminal_prompt)
    if auth not in ("certificate", "kerberos", "negotiate") and not creds.complete:
        raise StigscapError(f"{auth} authentication needs a username and password: set {ENV_USERNAME} and "
                            f"{ENV_PASSWORD}, or use --credentials-file")
    opts = WinRMOptions(
        transport=kw.pop("transport"), port=kw.pop("port"), auth=kw.pop("auth"), ca_bundle=kw.pop("ca_bundle"),
        insecure_skip_verify=insecure, endpoint=kw.pop("endpoint"), snapin=kw.pop("snapin"),
        connection_timeout=kw.pop("connection_timeout"), operation_timeout=kw.pop("operation_timeout"),
        command_timeout=kw.pop("command_timeout"), retries=kw.pop("retries"),
        certificate_pem=kw.pop("client_cert"), certificate_key_pem=kw.pop("client_key"),
    ).validated()
    return opts, creds


def collect_host_options(fn):
    """Options `stigscap collect` adds for its live mode: --host plus connection + credentials."""
    fn = winrm_options(fn)
    return click.option("--host", metavar="HOST",
                        help="collect live from HOST over WinRM/PSRP (instead of --from exports)")(fn)



# ---------------------------------------------------------------- checklists

def checklist_options(f):
    """The checklist options shared by `export` and `eval/scan --ckl/--cklb`."""
    opts = [
        click.option("--stig", "stig", type=click.Path(dir_okay=False),
                     help="DISA manual STIG (U_…_Manual-xccdf.xml): list every rule of it, "
                          "not-automated ones as Not_Reviewed"),
        click.option("--merge", "merge", type=click.Path(dir_okay=False),
                     help="existing .ckl/.cklb whose manual reviews are carried over"),
        click.option("--role", type=click.Choice(ROLES), default="None", show_default=True,
                     help="ASSET role"),
        click.option("--marking", default="CUI", show_default=True, help="CKL MARKING"),
        click.option("--tech-area", default="Exchange Server", show_default=True,
                     help="technology area (CKL TECH_AREA)"),
        click.option("--timestamp", default=None,
                     help="ISO-8601 time for CKLB createdAt/updatedAt (default: the scan end)"),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def checklist_options_from(role: str, marking: str, tech_area: str, timestamp: str | None
                 ) -> ChecklistOptions:
    return ChecklistOptions(role=role, marking=marking, tech_area=tech_area, timestamp=timestamp)
