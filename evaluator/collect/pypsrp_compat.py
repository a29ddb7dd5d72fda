"""Every use of pypsrp's (and pyspnego's) private API, in one place, for one tested version.

The live collector (winrm.py) relies on internals that pypsrp does not promise to keep:
- the RunspacePool's serializer (`pool._serializer`, `pool._fragmenter.serializer`), replaced
  so TimeSpan/DateTime values arrive typed as the offline import reads them, and so messages
  every host gets alike are serialized once per process;
- the transport's `_build_session`, called early to switch off proxy lookups from the
  environment;
- `Serializer._deserialize_string` and Command deep copies (a faster PowerShell class);
- pyspnego's NTLM hash functions (`spnego._ntlm_raw.crypto`), to derive the LM:NT pair once.
pyproject bounds pypsrp to the tested minor version (`PYPSRP_TESTED`), and `unsupported_pypsrp`
refuses another one before any host is contacted, rather than let a changed internal turn a
typed value into a raw string that would then be compared.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from importlib import metadata
from typing import Any

from stigscap.evaluator.collect.credentials import Credentials, Secret

PYPSRP_TESTED = (0, 9)


def unsupported_pypsrp(version: str | None = None) -> str | None:
    """Why the installed pypsrp (or `version`) cannot be used, or None when it is the tested
    minor version."""
    if version is None:
        version = _installed_pypsrp()
        if version is None:
            return "pypsrp is not installed"
    parts = version.split(".")
    try:
        minor = (int(parts[0]), int(parts[1]))
    except (IndexError, ValueError):
        minor = None
    if minor != PYPSRP_TESTED:
        tested = ".".join(map(str, PYPSRP_TESTED))
        return (f"pypsrp {version} is not supported: stigscap uses its internals as of pypsrp "
                f"{tested} (install 'pypsrp>={tested},<{PYPSRP_TESTED[0]}.{PYPSRP_TESTED[1] + 1}')")
    return None


@functools.cache
def _installed_pypsrp() -> str | None:
    """The installed pypsrp's version, read once per process (asked for every host: reading
    the package metadata was about a twentieth of a fleet scan's CPU per host)."""
    try:
        return metadata.version("pypsrp")
    except metadata.PackageNotFoundError:
        return None


_INT_TAGS = frozenset(("By", "SB", "U16", "I16", "U32", "I32", "U64", "I64"))

# Messages a host gets byte for byte like every other host (the pool's opening messages, and a
# pipeline's for the same commands), serialized once per process: pypsrp's pure-Python XML
# serialization was the largest part of the collector's CPU per host. The key names everything
# the message holds; it is set only around the calls that send them (packing).
_PACKED_TYPES = frozenset(("CreatePipeline", "SessionCapability", "InitRunspacePool"))
_PACKED: dict[tuple, bytes] = {}
_PACKING = threading.local()


@contextlib.contextmanager
def packing(key: tuple) -> Iterator[None]:
    _PACKING.key = key
    try:
        yield
    finally:
        _PACKING.key = None


def _frozen(value: Any):
    if isinstance(value, (list, tuple)):
        return ("list", tuple(_frozen(v) for v in value))
    return (type(value).__name__, value if isinstance(value, (str, int, float, bool, type(None)))
            else repr(value))


_MERGES = ("merge_my_result", "merge_to_result", "merge_previous", "merge_error", "merge_warning",
           "merge_verbose", "merge_debug", "merge_information")


def pipeline_key(pool, commands) -> tuple:
    """Everything a CreatePipeline message holds that can differ between our pipelines (the
    pool's settings, the protocol version and each command with its parameters and merges)."""
    return ("pipeline", pool.shell.resource_uri, pool.protocol_version, tuple(
        (c.cmd, c.protocol_version, bool(c.is_script), c.use_local_scope, bool(c.end_of_statement),
         tuple(getattr(getattr(c, m, None), "value", None) for m in _MERGES),
         tuple((a.name, _frozen(a.value)) for a in c.args)) for c in commands))


def use_typed_serializer(pool) -> None:
    """Make the pool deserialize <TS> (TimeSpan) and <DT> (DateTime) as typed values.

    pypsrp 0.9 hands both over as their raw XML text ("PT5M"), so a TimeSpan would reach the
    normaliser as a plain string; psrpcore's deserializer (the one the offline import uses)
    gives PSDuration / PSDateTime, which normalize.py renders as .NET does ("00:05:00").
    Likewise the <LST> of a MultiValuedProperty<T> <Obj> becomes a list of its items.
    """
    from xml.etree import ElementTree

    from .psrpcore_compat import PSCryptoProvider
    from .psrpcore_compat import deserialize as psrpcore_deserialize
    from pypsrp.serializer import Serializer

    class _TypedSerializer(Serializer):
        def serialize(self, value, metadata=None, parent=None, clear=True):
            key = getattr(_PACKING, "key", None)
            if (key is None or parent is not None or metadata is not None or not clear
                    or type(value).__name__ not in _PACKED_TYPES):
                return super().serialize(value, metadata, parent, clear)
            # a whole message: its XML is what Message.pack would make of the element
            # (pypsrp packs bytes as they are), the same for every host, so made once
            k = (key, type(value).__name__)
            data = _PACKED.get(k)
            if data is None:
                data = ElementTree.tostring(super().serialize(value, metadata, parent, clear),
                                            encoding="utf-8", method="xml")
                if len(_PACKED) >= 256:
                    _PACKED.clear()
                _PACKED[k] = data
            return data

        def deserialize(self, element, metadata=None, clear=True):
            tag = getattr(element, "tag", None)
            if not clear:
                # nested strings and integers, the bulk of every object, decoded as pypsrp does
                # but without the XML re-serialization it does first for each element
                if tag == "S":
                    return self._deserialize_string(element.text)
                if tag in _INT_TAGS:
                    if tag in ("I64", "U64"):   # kept typed: a registry QWORD is told by it
                        return psrpcore_deserialize(element, PSCryptoProvider())
                    return int(element.text)
            if tag in ("TS", "DT") and getattr(element, "text", None):
                try:
                    return psrpcore_deserialize(element, PSCryptoProvider())
                except Exception:  # noqa: BLE001 - malformed text: keep pypsrp's raw string
                    pass
            if tag in ("LST", "IE") and metadata is None and not clear:
                # the items of an <Obj> of a collection type pypsrp does not know
                # (MultiValuedProperty<T>); pypsrp would keep the raw XML text
                return [self.deserialize(item, clear=False) for item in element]
            return super().deserialize(element, metadata, clear)

    serializer = _TypedSerializer()
    if hasattr(pool, "_serializer") and hasattr(getattr(pool, "_fragmenter", None), "serializer"):
        # pypsrp 0.9 keeps one Serializer per pool (private; pyproject bounds pypsrp <0.10)
        pool._serializer = serializer
        pool._fragmenter.serializer = serializer


_NTLM_KEYS: dict[str, Secret] = {}


def password_for(auth: str, credentials: Credentials) -> str | None:
    """The password as pypsrp gets it; for NTLM its LM:NT hash pair, which pyspnego accepts in
    place of the password and would otherwise derive again for every host (pure-Python DES and
    MD4). It is as secret as the password: kept only in memory and redacted like it."""
    if credentials.password is None:
        return None
    password = credentials.password.reveal()
    if auth != "ntlm" or not password:
        return password
    key = _NTLM_KEYS.get(password)
    if key is None:
        try:  # pyspnego (pypsrp's NTLM): its own hash functions, so the pair is what it derives
            from spnego._ntlm_raw.crypto import is_ntlm_hash, lmowfv1, ntowfv1
        except ImportError:  # another pyspnego layout: let it derive the hashes itself
            return password
        if is_ntlm_hash(password):
            return password
        key = Secret(f"{lmowfv1(password).hex()}:{ntowfv1(password).hex()}")
        if len(_NTLM_KEYS) >= 64:
            _NTLM_KEYS.clear()
        _NTLM_KEYS[password] = key
    return key.reveal()


def no_env_proxies(wsman) -> None:
    """Build pypsrp's requests session now, without environment proxy/netrc lookups.

    requests re-reads the proxy environment on every request when `trust_env` is on (a few ms of
    CPU per WSMan round trip); WinRM traffic here never goes through a proxy (no_proxy=True)
    and CA settings are explicit (--tls-ca-bundle), so nothing from the environment is wanted.
    """
    transport = getattr(wsman, "transport", None)
    build = getattr(transport, "_build_session", None)
    if transport is None or build is None or getattr(transport, "session", None) is not None:
        return
    session = build()   # ValueError/ImportError (e.g. CredSSP without requests-credssp): the caller's
    session.trust_env = False
    transport.session = session


_POWERSHELL_CLASS = None


def powershell_class():
    """pypsrp's PowerShell whose cmdlets are cheap to copy.

    pypsrp deep-copies every Command each time it serializes a pipeline (it guards against
    shared XML elements, which our commands never hold: names and plain parameter values).
    That copy was about an eighth of the collector's CPU per host; our Commands answer it with a
    shallow copy, which serializes to the same message. Built on first use (pypsrp is imported
    lazily)."""
    global _POWERSHELL_CLASS
    if _POWERSHELL_CLASS is None:
        import copy

        from pypsrp.complex_objects import Command
        from pypsrp.powershell import PowerShell

        class _Command(Command):
            def __deepcopy__(self, memo):
                return copy.copy(self)

        class _PowerShell(PowerShell):
            def add_cmdlet(self, cmdlet: str, use_local_scope=None):
                return self.add_command(_Command(
                    cmdlet, protocol_version=self.runspace_pool.protocol_version or "",
                    is_script=False, use_local_scope=use_local_scope))

        _POWERSHELL_CLASS = _PowerShell
    return _POWERSHELL_CLASS
