"""TimeSpan thresholds as patterns on the .NET "c" text: exactly the right durations match."""

from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from stigscap.content.loader import load_content
from stigscap.generator.import_stig import timespan_pattern
from tests.stig.test_stig_content import REPO

TICKS_PER_SECOND = 10_000_000
CONTENT = load_content(REPO / "content")


def dotnet_c(ticks: int) -> str:
    """TimeSpan.ToString() ("c" format): [-][d.]hh:mm:ss[.fffffff]."""
    sign = "-" if ticks < 0 else ""
    t = abs(ticks)
    days, rem = divmod(t, 86400 * TICKS_PER_SECOND)
    secs, frac = divmod(rem, TICKS_PER_SECOND)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    text = f"{sign}{f'{days}.' if days else ''}{h:02d}:{m:02d}:{s:02d}"
    return text + (f".{frac:07d}" if frac else "")


def test_dotnet_c_format():
    assert dotnet_c(5 * TICKS_PER_SECOND) == "00:00:05"
    assert dotnet_c(-(93784 * TICKS_PER_SECOND + 5_000_000)) == "-1.02:03:04.5000000"


# durations around the interesting thresholds: seconds to days, with and without fractions
durations = st.one_of(
    st.integers(-3 * 86400, 3 * 86400).map(lambda s: s * TICKS_PER_SECOND),
    st.integers(-700, 700).map(lambda s: s * TICKS_PER_SECOND),
    st.integers(-10**13, 10**13),
)
thresholds = st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))


@settings(max_examples=300, deadline=None)
@given(durations, thresholds)
def test_generated_patterns_match_exactly_the_durations(ticks, hms):
    h, m, s = hms
    limit = (h * 3600 + m * 60 + s) * TICKS_PER_SECOND
    text = dotnet_c(ticks)
    threshold = f"{h:02d}:{m:02d}:{s:02d}"
    assert bool(re.search(timespan_pattern(threshold, True), text)) == (ticks >= limit), text
    assert bool(re.search(timespan_pattern(threshold, False), text)) == (ticks <= limit), text


def _pattern(rule_id: str, value_id: str | None = None, selector: str | None = None) -> str:
    rule = CONTENT.rule(rule_id)
    if value_id is None:
        return rule.check.tests[0].state.fields[0].value
    v = next(v for v in rule.values if v.id == value_id)
    return next(o.value for o in v.options if o.selector == selector)


@settings(max_examples=300, deadline=None)
@given(durations)
def test_content_timespan_patterns(ticks):
    text = dotnet_c(ticks)
    sec = TICKS_PER_SECOND
    # EX13-EG-000240: TarpitInterval 00:00:05 or greater
    assert bool(re.search(_pattern("EX13-EG-000240"), text)) == (ticks >= 5 * sec), text
    # tailoring options "N minutes or less" of EX13-EG-000005 and EX13-EG-000095
    at_most_5 = _pattern("EX13-EG-000005", "receive_connector_connectiontimeout", "at_most_5_minutes")
    at_most_10 = _pattern("EX13-EG-000095", "send_connector_connectioninactivitytimeout",
                          "at_most_10_minutes")
    assert bool(re.search(at_most_5, text)) == (0 <= ticks <= 300 * sec), text
    assert bool(re.search(at_most_10, text)) == (0 <= ticks <= 600 * sec), text
