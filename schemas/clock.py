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


def resolve_time(option: str | dt.datetime | None = None, *,
                 fallback: dt.datetime | None = None, what: str = "--timestamp") -> dt.datetime:
    """Option, else SOURCE_DATE_EPOCH, else `fallback`, else now: aware UTC, whole seconds."""
    if isinstance(option, dt.datetime):
        t = option if option.tzinfo else option.replace(tzinfo=UTC)
        return t.astimezone(UTC).replace(microsecond=0)
    if option:
        return parse_time(option, what)
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


def naive_utc(t: dt.datetime) -> str:
    """xsd:dateTime without zone, the form OVAL and XCCDF documents carry: 2026-11-28T03:31:34."""
    return t.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()


@functools.lru_cache(maxsize=1)
def product_version() -> str:
    """The installed stigscap version ("0" when running from a bare checkout)."""
    try:
        return metadata.version("stigscap")
    except metadata.PackageNotFoundError:  # pragma: no cover - source checkout without install
        return "0"
