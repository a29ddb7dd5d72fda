"""Pipeline objects of one cmdlet → one CollectedObject: the record rules both collectors
follow (offline exports in offline.py, live PSRP output in winrm.py).

The .NET type of each object is checked against the cmdlet asked for (a wrong export file is
an `error`, never compared), properties are normalised (normalize.py), contradictory or
unmappable values make the object `error` with file, object and property named, and the
outcome is `does not exist` / `error` / `complete` by the same rules on both paths.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from .model import CmdletQuery, CollectedObject, FieldValue, cmdlet_name
from .normalize import (FieldMemo, _type_names, base_type_name, object_label, properties,
                        record_from_object)

MAX_DISTINCT_MESSAGES = 40

# .NET type (last segment, Deserialized./Selected. stripped) each known cmdlet noun returns
KNOWN_TYPES: dict[str, tuple[str, ...]] = {
    "receiveconnector": ("ReceiveConnector",),
    "sendconnector": ("SmtpSendConnectorConfig",),
    "exchangeserver": ("ExchangeServer",),
    "transportconfig": ("TransportConfig", "TransportConfigContainer"),
    "transportservice": ("TransportServer", "TransportService"),
    "transportserver": ("TransportServer",),
    "edgesubscription": ("EdgeSubscription",),
    "senderfilterconfig": ("SenderFilterConfig",),
    "recipientfilterconfig": ("RecipientFilterConfig",),
    "contentfilterconfig": ("ContentFilterConfig",),
    "senderidconfig": ("SenderIdConfig",),
    "senderreputationconfig": ("SenderReputationConfig",),
    "transportagent": ("TransportAgent",),
}
_GENERIC_TYPES = {"System.Management.Automation.PSCustomObject", "System.Object",
                  "System.Collections.Hashtable", ""}


class ExportError(Exception):
    """A problem with one export file (becomes an `error` flag, never a crash)."""


def _type_problem(type_names: Sequence[str], query: CmdletQuery) -> str | None:
    base = base_type_name(type_names)
    if base in _GENERIC_TYPES or base.startswith("System.Collections."):
        return None
    last = base.rsplit(".", 1)[-1]
    expected = KNOWN_TYPES.get(query.noun.lower())
    if expected is not None:
        if last in expected:
            return None
        if base.startswith("Microsoft.Exchange.") or any(last in v for v in
                                                         KNOWN_TYPES.values()):
            return (f"the export holds {base} objects, but {cmdlet_name(query)} returns "
                    f"{' or '.join(expected)} objects: wrong export file?")
        return None
    for noun, types in KNOWN_TYPES.items():
        if last in types and noun != query.noun.lower():
            return (f"the export holds {base} objects (what Get-{types[0]} style cmdlets "
                    f"return), not the output of {cmdlet_name(query)}: wrong export file?")
    return None


def collected_error(query: CmdletQuery, message: str) -> CollectedObject:
    return CollectedObject(query, flag="error", status="error", messages=[message])


class Unattributed(Exception):
    """A pipeline object that names no key, path or file (the message says why, after
    "object #n"): in an export it is skipped, since other objects are the ones asked for; in a
    call's own output it is an error."""


def attributed(query: CmdletQuery, objects: Iterable[Any], source: str, *, offline: bool,
               wanted: str, shown: str, identify: Callable[[Any], tuple[str, Any]],
               noun: str = "") -> tuple[list[Any], str] | CollectedObject:
    """The payloads of the pipeline objects that name `wanted` (case-insensitively, a
    trailing backslash ignored) and the "read N object(s)" line; or the error CollectedObject.

    The rule every non-cmdlet collector follows: `identify(properties)` gives the object's
    name and payload, raises Unattributed for an object that names nothing, and ValueError
    (message after "object #n") for one that must never be compared. An object naming another
    key or path is skipped in an export (it holds every object asked for) and an error in a
    call's own output."""
    found: list[Any] = []
    count = 0
    for obj in objects:
        count += 1
        try:
            name, payload = identify(properties(obj))
        except Unattributed as exc:
            if offline:
                continue
            return collected_error(query, f"{source}: object #{count}{exc}")
        except ValueError as exc:
            return collected_error(query, f"{source}: object #{count}{exc}")
        if name.rstrip("\\").lower() != wanted.lower():
            if offline:
                continue
            return collected_error(query, f"{source}: the output names {noun}{name}, not "
                                          f"{shown}")
        found.append(payload)
    return found, f"read {count} object(s) from {source}"


class _Messages:
    """Distinct messages, counted, capped."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, message: str) -> None:
        if message in self.counts or len(self.counts) < MAX_DISTINCT_MESSAGES:
            self.counts[message] = self.counts.get(message, 0) + 1

    def render(self, total: int) -> list[str]:
        out = []
        for m, n in self.counts.items():
            out.append(m if n == 1 or total <= 1 else f"{m} ({n} of {total} objects)")
        return out


class RecordCollector:
    """Pipeline objects of one cmdlet → one CollectedObject (shared by offline and live paths).

    ``add()`` raises `ExportError` when an object is of the wrong .NET type; ``result()``
    applies the rules every path follows: no objects → ``does not exist``; none of the
    selected properties anywhere → ``error``; a property missing from some objects → the
    field is absent from those records and a message says how many.
    """

    def __init__(self, query: CmdletQuery, source: str, *, offline: bool = True,
                 memo: FieldMemo | None = None):
        self.query = query
        self.memo = memo   # shared by the collectors reading the same objects
        self.source = source
        self.offline = offline
        self.records: list[list] = []
        self.missing: dict[str, int] = {}
        self.messages = _Messages()
        self.errors = _Messages()
        self.error_objects = 0
        self.count = 0
        self._selected = {s.lower() for s in query.select} if query.select else None
        self._type_problems: dict[tuple[str, ...], str | None] = {}
        self._last_types: tuple[Sequence[str], str | None] = ((), None)   # the reader reuses lists

    @staticmethod
    def twin_key(query: CmdletQuery) -> tuple[str, str, tuple[str, ...]]:
        """Queries with the same key make the same records from the same objects (the verb
        and noun decide the type check and enum tables, the select the fields), so one
        collector serves them all (`result(query=...)`)."""
        return query.verb, query.noun, query.select

    def add(self, value: Any, type_names: Sequence[str] = (),
            problems: Sequence[tuple[str, str]] = ()) -> None:
        """One pipeline object. `problems`: (property, problem) the reader found in the export
        itself (a property written twice); with the values that must not be compared (an
        unmapped enum number, a ToString that contradicts its number) they make the whole
        object `error`, with messages naming the file, the object and the property."""
        last, problem = self._last_types
        if type_names is not last:
            key = tuple(type_names)
            try:
                problem = self._type_problems[key]
            except KeyError:
                problem = self._type_problems[key] = _type_problem(type_names, self.query)
            self._last_types = (type_names, problem)
        if problem:
            raise ExportError(problem)
        errors: list[tuple[str, str]] = [
            (prop, msg) for prop, msg in problems
            if self._selected is None or prop.lower() in self._selected] if problems else []
        fields, messages, lacks = record_from_object(value, self.query.select,
                                                     noun=self.query.noun, errors=errors,
                                                     memo=self.memo)
        if self.query.noun.lower() == "exchangeserver":
            errors.extend(server_role_problems(fields))
        if errors:
            label = object_label(value, self.count)
            self.error_objects += 1
            spelled = {s.lower(): s for s in self.query.select}
            for prop, msg in errors:
                self.errors.add(f"{self.source}: object {label}: property "
                                f"{spelled.get(prop.lower(), prop)}: {msg}")
        self.count += 1
        self.records.append(fields)
        for m in messages:
            self.messages.add(m)
        for name in lacks:
            self.missing[name] = self.missing.get(name, 0) + 1

    def result(self, extra_messages: Sequence[str] = (), *,
               query: CmdletQuery | None = None) -> CollectedObject:
        """The CollectedObject; `query`: another query with this one's `twin_key`, whose
        result these objects also are."""
        q = query or self.query
        head = [f"read {self.count} object(s) from {self.source}"]
        if q.parameters and self.offline:
            params = " ".join(f"-{n} {v}" for n, v in q.parameters)
            head.append(f"the export is taken as the output of {cmdlet_name(q)} {params}; "
                        "parameters of an offline export cannot be checked")
        if self.count == 0 and q.noun.lower() == "exchangeserver" and not q.parameters:
            # every Exchange server lists at least itself: nothing means the data is missing,
            # and the product and role it decides (the platform) cannot be told
            return collected_error(q, f"{self.source} holds no objects: {cmdlet_name(q)} "
                                      "lists at least the server itself on any Exchange "
                                      "server, so its output is missing")
        if self.count == 0:
            return CollectedObject(q, flag="does not exist", status="does not exist",
                                   messages=head + list(extra_messages) +
                                   [f"{self.source} holds no objects: {cmdlet_name(q)} "
                                    "returned nothing"])
        if self.errors.counts:
            return CollectedObject(q, flag="error", status="error", messages=[
                f"{self.source}: {self.error_objects} of {self.count} object(s) hold "
                "contradictory or unmappable values; none of this output is compared",
                *self.errors.render(1)])
        if q.select and all(self.missing.get(s, 0) == self.count for s in q.select):
            return collected_error(q, f"{self.source}: none of the selected properties "
                             f"({', '.join(q.select)}) is in the output: wrong export file?")
        notes = head + list(extra_messages) + self.messages.render(self.count)
        for name, n in self.missing.items():
            notes.append(f"property {name} is missing from {n} of {self.count} "
                         f"object(s); the field is absent from those records")
        return CollectedObject(q, flag="complete", status="exists", messages=notes,
                               records=self.records if query is None else list(self.records))


# Get-ExchangeServer's role flags and the ServerRole enumeration they restate
_ROLE_FLAGS = {"isedgeserver": ("Edge", "IsEdgeServer"),
               "ismailboxserver": ("Mailbox", "IsMailboxServer")}


def server_role_problems(fields: Sequence[FieldValue]) -> list[tuple[str, str]]:
    """(property, problem) where a Get-ExchangeServer record's IsEdgeServer / IsMailboxServer
    (when collected) contradicts its ServerRole: the role decides which benchmark applies, so
    such a record is never compared."""
    values = {f.name: f.value for f in fields}
    role = values.get("serverrole")
    if role is None:
        return []
    roles = {r.strip().lower() for r in role.split(",")}
    out = []
    for name, (role_name, prop) in _ROLE_FLAGS.items():
        flag = values.get(name)
        if flag is None or flag.lower() not in ("true", "false"):
            continue
        if (flag.lower() == "true") != (role_name.lower() in roles):
            out.append((prop, f"{prop} is {flag.capitalize()} but ServerRole is {role!r}: "
                              "contradictory role data"))
    return out


def collected_from_values(query: CmdletQuery, values: Iterable[Any], *,
                          source: str) -> CollectedObject:
    """Live-path helper: deserialized pipeline output (psrpcore or pypsrp objects) → object.

    Never raises for data: a wrong object type becomes an ``error`` flag with the message.
    """
    acc = RecordCollector(query, source, offline=False)
    try:
        for value in values:
            acc.add(value, _type_names(value))
    except ExportError as exc:
        return collected_error(query, f"{source}: {exc}")
    return acc.result()


__all__ = ["KNOWN_TYPES", "ExportError", "RecordCollector", "Unattributed", "attributed",
           "collected_error", "collected_from_values", "server_role_problems"]
