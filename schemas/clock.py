"""The one place stigscap decides what time and which tool version it writes.

Every stage follows the same order, so output is reproducible: an explicit option (ISO 8601;
a time without a zone is UTC), else SOURCE_DATE_EPOCH (Unix seconds), else a caller-given
fallback (the generator uses the content's own date), else the wall clock. Times are UTC,
to the second.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from importlib import metadata

from .errors import StigscapError

UTC = dt.timezone.utc


def parse_time(text: str, what: str = "timestamp") -> dt.datetime:
    """An ISO 8601 date-time as an aware UTC datetime (no zone given: UTC)."""
    try:
        t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise StigscapError(f"{what} {text!r} is not an ISO 8601 date-time "
                            "(e.g. 2026-11-28T03:31:34Z)") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).replace(microsecond=0)


def as_utc(value: str | dt.datetime, what: str = "timestamp") -> dt.datetime:
    """A given time (ISO 8601 text or datetime; no zone: UTC) as aware UTC, whole seconds.
    Pure: this is what engines and writers use; they never read the clock themselves."""
    if isinstance(value, dt.datetime):
        t = value if value.tzinfo else value.replace(tzinfo=UTC)
        return t.astimezone(UTC).replace(microsecond=0)
    return parse_time(value, what)


def resolve_time(option: str | dt.datetime | None = None, *,
                 fallback: dt.datetime | None = None, what: str = "--timestamp") -> dt.datetime:
    """Option, else SOURCE_DATE_EPOCH, else `fallback`, else now: aware UTC, whole seconds.

    The only reader of the environment and the wall clock: called where a run starts (the
    CLI commands, the public API's entry points), and the result passed down."""
    if option:
        return as_utc(option, what)
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError, OSError):
            raise StigscapError(f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix time in "
                                "seconds") from None
    if fallback is not None:
        return resolve_time(fallback)
    return dt.datetime.now(UTC).replace(microsecond=0)


def wall_clock() -> dt.datetime:
    """The wall clock (aware UTC, whole seconds), for records of when work ran (a scan's
    start and end in its summary), never for the time a document states."""
    return dt.datetime.now(UTC).replace(microsecond=0)


def naive_utc(t: dt.datetime) -> str:
    """xsd:dateTime without zone, the form OVAL and XCCDF documents carry: 2026-11-28T03:31:34."""
    return t.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()


def zulu(t: dt.datetime) -> str:
    """xsd:dateTime in UTC with its zone: 2026-11-28T03:31:34Z (OVAL generator timestamps)."""
    return naive_utc(t) + "Z"


@functools.lru_cache(maxsize=1)
def product_version() -> str:
    """The installed stigscap version ("0" when running from a bare checkout)."""
    try:
        return metadata.version("stigscap")
    except metadata.PackageNotFoundError:  # pragma: no cover - source checkout without install
        return "0"
