"""Live collection of OVAL cmdlet_objects over WinRM/PSRP (pypsrp client).

For one host: open a runspace pool (the host's default `/wsman` endpoint with the Exchange
snap-in added, or the Exchange management endpoint `/PowerShell` with configuration
`Microsoft.Exchange`), then per `CmdletQuery` run `<Verb>-<Noun> -Param value | Select-Object
-Property …` through the PSRP command API (never a script string, so no content value can
become PowerShell code) and turn the deserialized objects into `CollectedObject` records.

Safety: only `Get` cmdlets (content.model.SAFE_VERBS; OVAL's verb list is not a safety list:
Import-Module loads code, Approve-*/Import-* change state) are ever sent, and only the Exchange
snap-in (content.model.ALLOWED_MODULES) is ever loaded, with Add-PSSnapin. The CLI refuses a data
stream that names anything else before any connection is opened (`refuse_unsafe`); here, as a
second line, such a query, or a noun/parameter/property name that is not a plain identifier,
becomes an error result and is never sent. Failures never raise: they become per-host errors
with a reason (`HostError.kind`) and every affected object gets flag `error` and the message; a
session that failed as a whole (nothing collected) sets `HostCollection.failed`.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

from stigscap.content.model import ALLOWED_MODULES, unsafe_cmdlet_reason
from stigscap.evaluator.collect.model import CmdletQuery, CollectedObject, SystemInfo, cmdlet_name
from stigscap.evaluator.collect.credentials import Credentials, redact
from stigscap.evaluator.collect.pypsrp_compat import (no_env_proxies, packing, password_for, pipeline_key,
                                                     powershell_class, unsupported_pypsrp,
                                                     use_typed_serializer)
from stigscap.evaluator.collect.records import collected_from_values
from stigscap.evaluator.collect.items import items_result
from stigscap.schemas.errors import StigscapError

log = logging.getLogger(__name__)

# 2013+ register ...SnapIn; 2010 (and what exshell.psc1 lists on some Edge builds) ...E2010.
# The only names ever sent to Add-PSSnapin (content.model.ALLOWED_MODULES).
EXCHANGE_SNAPINS = ALLOWED_MODULES
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

ErrorKind = Literal["auth_failed", "access_denied", "snapin_missing", "module_missing", "cmdlet_not_found",
                    "command_failed", "timeout", "tls_verify_failed", "tls_error", "connection_refused",
                    "connection_dropped", "connection_failed", "server_error", "wsman_fault",
                    "unsafe_command", "protocol_error", "config_error"]

REASONS: dict[str, str] = {
    "auth_failed": "authentication failed",
    "access_denied": "access denied",
    "snapin_missing": "Exchange snap-in missing",
    "module_missing": "module or snap-in missing",
    "cmdlet_not_found": "cmdlet not found",
    "command_failed": "command failed",
    "timeout": "timeout",
    "tls_verify_failed": "TLS certificate verification failed",
    "tls_error": "TLS error",
    "connection_refused": "connection refused",
    "connection_dropped": "connection dropped",
    "connection_failed": "connection failed",
    "server_error": "server error",
    "wsman_fault": "WSMan fault",
    "unsafe_command": "refused: not an allowed read-only cmdlet",
    "protocol_error": "protocol error",
    "config_error": "configuration error",
}
TRANSIENT = {"connection_dropped", "server_error", "connection_failed"}


@dataclass(frozen=True)
class WinRMOptions:
    """How to reach a host. Defaults are the safe ones (HTTPS, certificate validation on)."""

    transport: Literal["http", "https"] = "https"
    port: int | None = None
    auth: Literal["negotiate", "ntlm", "kerberos", "basic", "credssp", "certificate"] = "negotiate"
    ca_bundle: str | None = None
    insecure_skip_verify: bool = False       # explicit and loud; never the default
    endpoint: Literal["wsman", "exchange"] = "wsman"
    connection_timeout: float = 30.0
    read_timeout: float | None = None        # default: operation_timeout + 10
    operation_timeout: int = 20              # WSMan OperationTimeout (long-poll) in seconds
    command_timeout: float = 300.0           # overall deadline per pipeline
    retries: int = 2                         # whole-session retries on transient faults
    backoff: float = 1.0                     # seconds; doubles per retry
    certificate_pem: str | None = None
    certificate_key_pem: str | None = None
    snapin: str | None = None                # force a snap-in name instead of probing

    def validated(self) -> "WinRMOptions":
        if self.transport not in ("http", "https"):
            raise StigscapError(f"unknown WinRM transport {self.transport!r} (http or https)")
        if self.auth not in ("negotiate", "ntlm", "kerberos", "basic", "credssp", "certificate"):
            raise StigscapError(f"unknown WinRM authentication {self.auth!r}")
        if self.auth == "basic" and self.transport != "https":
            raise StigscapError("Basic authentication over HTTP would send the password in clear text; "
                                "use HTTPS, or NTLM/Kerberos/Negotiate with message encryption")
        if self.auth == "certificate":
            if self.transport != "https":
                raise StigscapError("certificate authentication needs HTTPS")
            if not (self.certificate_pem and self.certificate_key_pem):
                raise StigscapError("certificate authentication needs a client certificate and key")
        if self.endpoint not in ("wsman", "exchange"):
            raise StigscapError(f"unknown endpoint {self.endpoint!r} (wsman or exchange)")
        if self.retries < 0 or self.retries > 10:
            raise StigscapError("retries must be between 0 and 10")
        if self.snapin is not None and self.snapin.lower() not in {m.lower() for m in EXCHANGE_SNAPINS}:
            raise StigscapError(f"snap-in {self.snapin!r} is not allowed: only "
                                f"{' or '.join(EXCHANGE_SNAPINS)} is ever loaded on a host")
        return self

    @property
    def effective_port(self) -> int:
        if self.port:
            return self.port
        if self.endpoint == "exchange":
            return 443 if self.transport == "https" else 80
        return 5986 if self.transport == "https" else 5985


@dataclass
class HostError:
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{REASONS.get(self.kind, self.kind)}: {self.message}"


@dataclass
class HostCollection:
    """Everything collected from one host (or why not)."""

    host: str
    system_info: SystemInfo
    objects: list[CollectedObject]
    errors: list[HostError] = field(default_factory=list)
    seconds: float = 0.0
    attempts: int = 1
    failed: bool = False   # the session failed as a whole: nothing was collected from the host

    @property
    def ok(self) -> bool:
        return not self.errors


class _Fail(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


# --------------------------------------------------------------------------- safety checks
def check_query(q: CmdletQuery) -> str | None:
    """Why `q` must not be sent (None when it is a plain `Get` cmdlet call)."""
    why = unsafe_cmdlet_reason(q.verb or "", q.module_name)
    if why:
        return f"{why}; '{q.verb}-{q.noun}' was not sent"
    if not _NAME.match(q.noun or ""):
        return f"noun {q.noun!r} is not a plain cmdlet noun; nothing was sent"
    for name, _ in q.parameters:
        if not _NAME.match(name or ""):
            return f"parameter name {name!r} is not a plain name; nothing was sent"
    for name in q.select:
        if not _NAME.match(name or ""):
            return f"select property {name!r} is not a plain property name; nothing was sent"
    return None


def refuse_unsafe(queries: Sequence[CmdletQuery], source: str | None = None) -> None:
    """Raise a one-line StigscapError for the first query that must never be sent.

    Called by `collect --host` and `scan` before credentials are asked for or any host is
    contacted: content naming a verb other than Get, or a module other than the Exchange
    snap-in, is refused as a whole, never partly collected.
    """
    for q in queries:
        why = check_query(q)
        if why:
            shown = f"{q.verb}-{q.noun}"
            if q.parameters:
                shown += " " + " ".join(f"-{n} {v}" for n, v in q.parameters)
            if q.module_name:
                shown += f" (module {q.module_name})"
            raise StigscapError(f"{q.object_id}: refused to run '{shown}': {why}; "
                                "no host was contacted", file=source)


def live_queries(definitions_root: Any, source: str | None = None
                 ) -> tuple[list[CmdletQuery], list[tuple[CmdletQuery, str]]]:
    """The cmdlet_objects of a data stream or OVAL definitions document to collect live:
    (queries, unsupported with the reason). Refuses (StigscapError, nothing contacted) content
    without any, or naming a verb other than Get or a module other than the Exchange snap-in."""
    from stigscap.evaluator.oval.objects import read_cmdlet_objects

    objs = read_cmdlet_objects(definitions_root)
    if not objs.queries and not objs.unsupported:
        raise StigscapError("the content has no win-def:cmdlet_object to collect", file=source)
    refuse_unsafe([*objs.queries, *(q for q, _ in objs.unsupported)], source=source)
    return objs.queries, objs.unsupported


def parameter_value(text: str, datatype: str) -> Any:
    """An OVAL parameter field as the .NET value to bind: a boolean as a Boolean (a switch
    such as Get-ExchangeServer -Status rejects the string "true"), an int as an Int32/Int64;
    everything else as its text."""
    t = (text or "").strip()
    if datatype == "boolean" and t.lower() in ("true", "1", "false", "0"):
        return t.lower() in ("true", "1")
    if datatype == "int" and re.fullmatch(r"[+-]?\d+", t):
        return int(t)
    return text


# --------------------------------------------------------------------------- value → OVAL text
def _prop(obj: Any, name: str) -> Any:
    """A property of a deserialized object, case-insensitively (extended before adapted)."""
    for bag in (getattr(obj, "extended_properties", None) or {}, getattr(obj, "adapted_properties", None) or {}):
        for k, v in bag.items():
            if k.lower() == name.lower():
                return v
    return None


def _has_prop(obj: Any, name: str) -> bool:
    for bag in (getattr(obj, "extended_properties", None) or {}, getattr(obj, "adapted_properties", None) or {}):
        if any(k.lower() == name.lower() for k in bag):
            return True
    return False


def field_text(value: Any) -> tuple[str | None, str]:
    """(text, OVAL datatype) of one deserialized PowerShell value: its ToString as OVAL sees it.

    Accepts every shape a property can arrive in (string, enum object with ToString and int,
    bare int, bool, list) so the result does not depend on serialization depth.
    """
    if value is None:
        return None, "string"
    if isinstance(value, bool):
        return ("true" if value else "false"), "boolean"
    if isinstance(value, int):
        return str(value), "int"
    if isinstance(value, float):
        return repr(value), "float"
    if isinstance(value, str):
        return value, "string"
    if isinstance(value, (list, tuple)):
        return ", ".join(t for t in (field_text(v)[0] for v in value) if t is not None), "string"
    to_string = getattr(value, "to_string", None)
    if to_string is not None:
        return str(to_string), "string"
    items = getattr(value, "list", None) or getattr(value, "stack", None) or getattr(value, "queue", None)
    if items:
        return field_text(list(items))
    return str(value), "string"


# --------------------------------------------------------------------------- the session
# what a session imports on first use; `preload` imports it before the fleet's workers fork
_SESSION_MODULES = ("cryptography.hazmat.backends.openssl.backend", "encodings.utf_16_be", "encodings.utf_16_le",
                    "pypsrp.complex_objects", "pypsrp.encryption", "pypsrp.exceptions", "pypsrp.negotiate",
                    "pypsrp.powershell", "pypsrp.serializer", "pypsrp.wsman", "requests", "spnego",
                    "spnego._negotiate", "spnego._ntlm", "stigscap.evaluator.collect.psrpcore_compat")


def preload() -> None:
    """Import now what contacting a host imports on first use: pypsrp, requests, urllib3,
    pyspnego's NTLM and SPNEGO, cryptography, psrpcore's deserializer. `run_fleet` calls this
    before it forks its workers, so they inherit the modules instead of each importing them
    while its first hosts are in flight (about 0.15 s of CPU per process, on the cores those
    hosts' sessions need). A missing optional package (requests-credssp) is left to the
    session that needs it, which reports it as a configuration error."""
    for name in _SESSION_MODULES:
        importlib.import_module(name)
    with contextlib.suppress(ImportError):
        importlib.import_module("requests_credssp")
    powershell_class()


def collect_host(host: str, queries: Sequence[CmdletQuery], options: WinRMOptions,
                 credentials: Credentials, *, sleep=time.sleep) -> HostCollection:
    """Collect every query from `host`; never raises for host or network trouble."""
    options = options.validated()
    started = time.monotonic()
    results: dict[int, CollectedObject] = {}
    sendable: list[tuple[int, CmdletQuery]] = []
    errors: list[HostError] = []
    for i, q in enumerate(queries):
        why = check_query(q)
        if why:
            results[i] = _error_object(q, f"{REASONS['unsafe_command']}: {why}")
            errors.append(HostError("unsafe_command", why))
        else:
            sendable.append((i, q))

    sysinfo = SystemInfo(host_name=host)
    attempt = 0
    failed = False
    while sendable:
        attempt += 1
        try:
            got, sysinfo, obj_errors = _session(host, sendable, options, credentials)
            results.update(got)
            errors.extend(obj_errors)
            break
        except _Fail as f:
            msg = redact(f.message)
            if f.kind in TRANSIENT and attempt <= options.retries:
                log.info("%s: %s (attempt %d), retrying", host, msg, attempt)
                sleep(options.backoff * (2 ** (attempt - 1)))
                continue
            errors.append(HostError(f.kind, msg))
            for i, q in sendable:
                results[i] = _error_object(q, f"{REASONS.get(f.kind, f.kind)}: {msg}")
            failed = True
            break
    objects = [results[i] for i in range(len(queries))]
    return HostCollection(host, sysinfo, objects, errors, time.monotonic() - started, attempt,
                          failed=failed)


def _error_object(q: CmdletQuery, message: str) -> CollectedObject:
    return CollectedObject(q, flag="error", status="error", messages=[redact(message)])


def _session(host: str, sendable: list[tuple[int, CmdletQuery]], options: WinRMOptions,
             credentials: Credentials):
    from pypsrp.powershell import RunspacePool

    results: dict[int, CollectedObject] = {}
    errors: list[HostError] = []
    unsupported = unsupported_pypsrp()
    if unsupported:   # before any connection: a changed internal must not alter values
        raise _Fail("config_error", unsupported)
    wsman = _wsman(host, options, credentials)
    pool = None
    try:
        config = "Microsoft.Exchange" if options.endpoint == "exchange" else "Microsoft.PowerShell"
        pool = RunspacePool(wsman, configuration_name=config)
        use_typed_serializer(pool)
        with packing(("open", pool.shell.resource_uri, pool.min_runspaces, pool.max_runspaces)):
            _guard(pool.open)
        modules = {q.module_name for _, q in sendable if q.module_name}
        registered: list[str] = []
        sysinfo = SystemInfo(host_name=host)
        if options.endpoint == "wsman":
            registered, sysinfo = _probe(pool, host, options, need_snapins=bool(modules) and not options.snapin)
        # load each module once per runspace; objects of a module that failed to load get its error
        module_error: dict[str, tuple[str, str]] = {}
        if options.endpoint == "wsman":
            for module in sorted(modules, key=str.lower):
                failure = _load_module(pool, module, registered, options)
                if failure:
                    module_error[module] = failure
        for i, q in sendable:
            if q.module_name in module_error:
                kind, msg = module_error[q.module_name]
                results[i] = _error_object(q, f"{REASONS[kind]}: {msg}")
                errors.append(HostError(kind, f"{cmdlet_name(q)}: {msg}"))
                continue
            obj, err = _run_query(pool, q, options)
            results[i] = obj
            if err:
                errors.append(err)
        return results, sysinfo, errors
    finally:
        if pool is not None:
            try:
                pool.close()
            except Exception:  # noqa: BLE001 - closing a broken session must not hide the result
                pass
        try:
            wsman.close()
        except Exception:  # noqa: BLE001
            pass


def _wsman(host: str, options: WinRMOptions, credentials: Credentials):
    from pypsrp.wsman import WSMan

    ssl = options.transport == "https"
    if options.insecure_skip_verify:
        verify: bool | str = False
    elif options.ca_bundle:
        verify = options.ca_bundle
    else:
        verify = True
    kwargs: dict[str, Any] = {}
    if options.auth == "certificate":
        kwargs["certificate_pem"] = options.certificate_pem
        kwargs["certificate_key_pem"] = options.certificate_key_pem
    if options.auth in ("basic", "credssp") and not credentials.complete:
        raise _Fail("config_error", f"{options.auth} authentication needs a username and password")
    read_timeout = options.read_timeout or (options.operation_timeout + 10)
    try:
        wsman = WSMan(
            host, port=options.effective_port, ssl=ssl,
            path="PowerShell" if options.endpoint == "exchange" else "wsman",
            auth=options.auth,
            encryption="auto",       # HTTP: message encryption (wrap); HTTPS: TLS
            username=credentials.username,
            password=password_for(options.auth, credentials),
            # pypsrp declares bool and int; it takes a CA bundle path and float seconds too
            cert_validation=verify,  # type: ignore[arg-type]
            connection_timeout=options.connection_timeout,  # type: ignore[arg-type]
            read_timeout=read_timeout,  # type: ignore[arg-type]
            operation_timeout=options.operation_timeout,
            no_proxy=True,
            **kwargs,
        )
    except (ValueError, ImportError) as exc:
        raise _Fail("config_error", str(exc)) from None
    try:
        no_env_proxies(wsman)
    except (ValueError, ImportError) as exc:  # e.g. CredSSP without requests-credssp installed
        raise _Fail("config_error", str(exc)) from None
    return wsman


def _guard(fn, *args, **kwargs):
    """Run one pypsrp call; translate every failure into a _Fail with a clear kind."""
    try:
        return fn(*args, **kwargs)
    except _Fail:
        raise
    except Exception as exc:  # noqa: BLE001 - classified below
        raise _classify(exc) from None


def _classify(exc: BaseException) -> _Fail:
    import requests
    from pypsrp.exceptions import AuthenticationError, WinRMTransportError, WSManFaultError

    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, AuthenticationError):
        return _Fail("auth_failed", "the host rejected the credentials (HTTP 401)")
    if isinstance(exc, WSManFaultError):
        if exc.code == 5:
            return _Fail("access_denied", "WSMan fault 5: Access is denied (the account may not be "
                                          "allowed to use remote PowerShell on this host)")
        if exc.code == 2150858793:
            return _Fail("timeout", "WSMan operation timed out")
        return _Fail("wsman_fault", f"code {exc.code}: {exc.reason or ''}".strip())
    credssp = _credssp_failure(exc)
    if credssp is not None:
        return credssp
    if isinstance(exc, WinRMTransportError):
        if exc.code == 401:
            return _Fail("auth_failed", "the host rejected the credentials (HTTP 401)")
        if exc.code == 403:
            return _Fail("access_denied", "HTTP 403 Forbidden")
        kind = "server_error" if int(exc.code) >= 500 else "protocol_error"
        return _Fail(kind, f"HTTP {exc.code} from the WinRM service")
    if isinstance(exc, requests.exceptions.SSLError):
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return _Fail("tls_verify_failed", "the server certificate could not be verified (use --tls-ca-bundle"
                                              " with the issuing CA)")
        return _Fail("tls_error", _short(text))
    if isinstance(exc, (requests.exceptions.ConnectTimeout,)):
        return _Fail("timeout", "connecting timed out")
    if isinstance(exc, (requests.exceptions.ReadTimeout, TimeoutError)):
        return _Fail("timeout", "no reply within the read timeout")
    if isinstance(exc, requests.exceptions.ConnectionError):
        chain = _chain(exc)
        if any(isinstance(e, ConnectionRefusedError) for e in chain) or "Connection refused" in text:
            return _Fail("connection_refused", "nothing listens on the WinRM port (connection refused)")
        if "RemoteDisconnected" in text or "Connection aborted" in text or "reset by peer" in text:
            return _Fail("connection_dropped", "the host closed the connection without replying")
        if "Name or service not known" in text or "NameResolutionError" in text or "getaddrinfo" in text:
            return _Fail("connection_failed", "host name does not resolve")
        return _Fail("connection_failed", _short(text))
    return _Fail("protocol_error", f"{type(exc).__name__}: {_short(text)}")


# NTSTATUS / SECURITY_STATUS values a CredSSP server reports for bad or unusable credentials
_LOGON_STATUS = {0x8009030C: "logon denied", 0xC000006D: "logon failure", 0xC000006A: "wrong password",
                 0xC0000064: "no such user", 0xC0000234: "account locked out",
                 0xC0000072: "account disabled", 0xC0000193: "account expired",
                 0xC0000071: "password expired", 0xC0000224: "password must change",
                 0xC000006F: "outside logon hours", 0xC0000070: "workstation not allowed"}


def _credssp_failure(exc: BaseException) -> _Fail | None:
    try:
        from requests_credssp.exceptions import AuthenticationException, NTStatusException
    except ImportError:
        return None
    if isinstance(exc, NTStatusException):
        status = int(getattr(exc, "status", 0) or 0)
        if status in _LOGON_STATUS:
            return _Fail("auth_failed", f"the host rejected the credentials (CredSSP: {_LOGON_STATUS[status]}, "
                                        f"0x{status:08X})")
        return _Fail("protocol_error", f"CredSSP error status 0x{status:08X}")
    if isinstance(exc, AuthenticationException):
        return _Fail("auth_failed", "CredSSP authentication failed")
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    out, seen = [], set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        out.append(e)
        stack.extend([e.__cause__, e.__context__, *(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))])
        reason = getattr(e, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return out


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _invoke(pool, build, options: WinRMOptions):
    """Run one pipeline with an overall deadline; returns the pypsrp PowerShell object."""
    from pypsrp.complex_objects import PSInvocationState

    ps = powershell_class()(pool)
    build(ps)
    deadline = time.monotonic() + options.command_timeout
    with packing(pipeline_key(pool, ps.commands)):
        _guard(ps.begin_invoke)
    while ps.state == PSInvocationState.RUNNING:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            try:
                ps.stop()
            except Exception:  # noqa: BLE001
                pass
            raise _Fail("timeout", f"the command did not finish within {options.command_timeout:g} s")
        _guard(ps.poll_invoke, timeout=max(1, min(options.operation_timeout, int(remaining) or 1)))
    return ps


def _error_text(err: Any) -> str:
    msg = " ".join(str(err).split())
    return _short(msg or getattr(err, "message", "") or "error")


def _failed(ps) -> bool:
    from pypsrp.complex_objects import PSInvocationState
    return ps.state == PSInvocationState.FAILED or bool(ps.had_errors)


def _probe(pool, host: str, options: WinRMOptions, *, need_snapins: bool) -> tuple[list[str], SystemInfo]:
    """One pipeline: registered snap-ins (when needed) and the host's OS facts for SystemInfo."""
    def build(ps):
        if need_snapins:
            ps.add_cmdlet("Get-PSSnapin").add_parameter("Registered").add_statement()
        ps.add_cmdlet("Get-CimInstance").add_parameter("ClassName", "Win32_OperatingSystem")
        ps.add_cmdlet("Select-Object").add_parameter("Property", ["Caption", "Version", "OSArchitecture", "CSName"])
        ps.add_statement()
        ps.add_cmdlet("Get-CimInstance").add_parameter("ClassName", "Win32_ComputerSystem")
        ps.add_cmdlet("Select-Object").add_parameter("Property", ["DNSHostName", "Domain"])
        ps.add_statement()
        ps.add_cmdlet("Get-CimInstance").add_parameter("ClassName", "Win32_NetworkAdapterConfiguration")
        ps.add_parameter("Filter", "IPEnabled = True")
        ps.add_cmdlet("Select-Object").add_parameter("Property", ["Description", "IPAddress", "MACAddress"])

    ps = _invoke(pool, build, options)
    registered: list[str] = []
    os_name = os_version = arch = None
    fqdn = None
    interfaces = []
    for o in ps.output:
        types = [t.lower() for t in (getattr(o, "types", None) or [])]
        if any("pssnapininfo" in t for t in types):
            name = _prop(o, "Name") or getattr(o, "to_string", None)
            if name:
                registered.append(str(name))
        elif _has_prop(o, "Caption"):
            os_name, os_version = field_text(_prop(o, "Caption"))[0], field_text(_prop(o, "Version"))[0]
            arch = field_text(_prop(o, "OSArchitecture"))[0]
        elif _has_prop(o, "DNSHostName"):
            dns, dom = field_text(_prop(o, "DNSHostName"))[0], field_text(_prop(o, "Domain"))[0]
            if dns:
                fqdn = f"{dns}.{dom}" if dom and dom.lower() != "workgroup" else dns
        elif _has_prop(o, "MACAddress"):
            ips = _prop(o, "IPAddress")
            ip_list = ips if isinstance(ips, list) else list(getattr(ips, "list", None) or ([ips] if ips else []))
            for ip in ip_list:
                interfaces.append((field_text(_prop(o, "Description"))[0] or "",
                                   str(ip), field_text(_prop(o, "MACAddress"))[0] or ""))
    if ps.streams.error:
        log.debug("%s: system facts incomplete: %s", host, _error_text(ps.streams.error[0]))
    arch_map = {"64-bit": "x86_64", "32-bit": "x86"}
    info = SystemInfo(
        host_name=host,
        os_name=os_name or SystemInfo.os_name,
        os_version=os_version or "",
        architecture=arch_map.get(arch or "", arch or SystemInfo.architecture),
        fqdn=fqdn,
        interfaces=tuple(interfaces),
    )
    return registered, info


def choose_snapin(module: str, registered: Sequence[str], forced: str | None = None) -> str | None:
    """The snap-in to add for `module` (one of EXCHANGE_SNAPINS): the exact name if the host
    registers it, else the other Exchange name it registers (2010 and 2013+ use different names,
    …E2010 vs …SnapIn). Only EXCHANGE_SNAPINS are ever returned; a host-registered name that is
    not one of them is never loaded."""
    allowed = {n.lower(): n for n in EXCHANGE_SNAPINS}
    if forced:
        return allowed.get(forced.lower())
    if module.lower() not in allowed:
        return None
    by_lower = {r.lower(): r for r in registered}
    if module.lower() in by_lower:
        return allowed[module.lower()]
    for name in EXCHANGE_SNAPINS:
        if name.lower() in by_lower:
            return name
    return None


def _load_module(pool, module: str, registered: list[str], options: WinRMOptions) -> tuple[str, str] | None:
    snapin = choose_snapin(module, registered, options.snapin)
    if snapin is None:
        found = ", ".join(registered) or "none"
        return ("snapin_missing", f"no Exchange management snap-in is registered on the host "
                                  f"(wanted {module}; registered snap-ins: {found})")
    ps = _invoke(pool, lambda p: p.add_cmdlet("Add-PSSnapin").add_parameter("Name", snapin), options)
    if _failed(ps) or ps.streams.error:
        msg = _error_text(ps.streams.error[0]) if ps.streams.error else "loading failed"
        return "snapin_missing", f"{snapin}: {msg}"
    return None


def _run_query(pool, q: CmdletQuery, options: WinRMOptions) -> tuple[CollectedObject, HostError | None]:
    name = cmdlet_name(q)

    def build(ps):
        ps.add_cmdlet(name)
        for i, (pname, pvalue) in enumerate(q.parameters):
            datatype = q.parameter_datatypes[i] if i < len(q.parameter_datatypes) else "string"
            # a literal value, never parsed as PowerShell
            ps.add_parameter(pname, parameter_value(pvalue, datatype))
        if q.select:
            ps.add_cmdlet("Select-Object").add_parameter("Property", list(q.select))

    ps = _invoke(pool, build, options)
    errs = list(ps.streams.error)
    if q.kind != "cmdlet" and errs and not ps.output and all(
            "PathNotFound" in (getattr(e, "fq_error", "") or "") for e in errs):
        # Get-ItemProperty of a key, Get-Acl of a path that is not there: no item
        return items_result(q, [], name, offline=False), None
    if _failed(ps) or errs:
        first = errs[0] if errs else None
        fq = (getattr(first, "fq_error", "") or "") if first is not None else ""
        kind = "cmdlet_not_found" if "CommandNotFound" in fq else "command_failed"
        if first is not None and "is not recognized as the name of a cmdlet" in str(first):
            kind = "cmdlet_not_found"
        msg = _error_text(first) if first is not None else "the pipeline failed"
        if q.kind != "cmdlet" and options.endpoint == "exchange":
            msg += ("; the Exchange endpoint (/PowerShell) runs Exchange cmdlets only: collect "
                    "this host's registry values and file permissions over WinRM (--endpoint "
                    "wsman) or from an export")
        obj = CollectedObject(q, flag="error", status="error",
                              messages=[redact(f"{name}: {REASONS[kind]}: {msg}")])
        return obj, HostError(kind, redact(f"{name}: {msg}"))
    # the same record rules as the offline import (collect.records.RecordCollector)
    if q.kind != "cmdlet":
        obj = items_result(q, ps.output, name, offline=False)
    else:
        obj = collected_from_values(q, ps.output, source=name)
    obj.messages[:] = [redact(m) for m in obj.messages]
    return obj, None
