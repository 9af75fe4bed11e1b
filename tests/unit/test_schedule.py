"""monitor.schedule at fixed instants, plus the fetcher's pure helpers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, strategies as st

from monitor.fetch import FetchPolicy, parse_retry_after, redact_url
from monitor.schedule import backoff_delay, jitter_fraction, next_check_at

NOW = datetime(2026, 11, 27, 8, 0, 0, tzinfo=timezone.utc)
H6 = 6 * 3600


# -- backoff_delay -------------------------------------------------------------------

def test_backoff_doubles_per_error_and_caps():
    assert backoff_delay(300, 0) == 300
    assert backoff_delay(300, 1) == 600
    assert backoff_delay(300, 3) == 2400
    assert backoff_delay(300, 6) == 19200
    assert backoff_delay(300, 7) == H6  # 38400 capped at 6 h
    assert backoff_delay(300, 10_000) == H6  # no overflow
    assert backoff_delay(60, 2, max_backoff=100) == 100


def test_backoff_never_shortens_a_long_interval():
    assert backoff_delay(86400, 0) == 86400
    assert backoff_delay(86400, 3) == 86400


@pytest.mark.parametrize("args", [(0, 0), (-5, 0), (float("nan"), 0), (float("inf"), 0), (60, -1)])
def test_backoff_rejects_bad_input(args):
    with pytest.raises(ValueError):
        backoff_delay(*args)


# -- next_check_at ------------------------------------------------------------------

def test_success_waits_one_interval():
    assert next_check_at(NOW, 300) == NOW + timedelta(seconds=300)


def test_errors_back_off():
    assert next_check_at(NOW, 300, error_streak=1) == NOW + timedelta(seconds=600)
    assert next_check_at(NOW, 300, error_streak=2) == NOW + timedelta(seconds=1200)
    assert next_check_at(NOW, 300, error_streak=50) == NOW + timedelta(hours=6)


def test_retry_after_pushes_later_but_is_capped():
    assert next_check_at(NOW, 300, retry_after=120) == NOW + timedelta(seconds=300)  # sooner: ignored
    assert next_check_at(NOW, 300, retry_after=1800) == NOW + timedelta(seconds=1800)
    assert next_check_at(NOW, 300, error_streak=1, retry_after=900) == NOW + timedelta(seconds=900)
    assert next_check_at(NOW, 300, retry_after=10 * 86400) == NOW + timedelta(hours=6)
    assert next_check_at(NOW, 300, retry_after=float("inf")) == NOW + timedelta(hours=6)
    assert next_check_at(NOW, 300, retry_after=-5) == NOW + timedelta(seconds=300)
    assert next_check_at(NOW, 300, retry_after=float("nan")) == NOW + timedelta(seconds=300)


def test_jitter_is_deterministic_per_seed():
    f = jitter_fraction("hantai-news")
    assert 0 <= f < 1 and f == jitter_fraction("hantai-news")
    assert f != jitter_fraction("hanzhong-gov")
    a = next_check_at(NOW, 300, jitter=0.1, seed="hantai-news")
    assert a == NOW + timedelta(seconds=300 * (1 + 0.1 * f))
    assert a == next_check_at(NOW, 300, jitter=0.1, seed="hantai-news")
    assert NOW + timedelta(seconds=300) <= a < NOW + timedelta(seconds=330)


def test_jitter_spreads_sources():
    times = {next_check_at(NOW, 300, jitter=0.2, seed=f"src-{i}") for i in range(100)}
    assert len(times) == 100
    assert all(NOW + timedelta(seconds=300) <= t < NOW + timedelta(seconds=360) for t in times)


def test_jitter_without_seed_stays_in_range():
    for _ in range(50):
        t = next_check_at(NOW, 100, jitter=0.5)
        assert NOW + timedelta(seconds=100) <= t < NOW + timedelta(seconds=150)


def test_keeps_the_timezone_of_now():
    local = NOW.astimezone(ZoneInfo("Asia/Shanghai"))
    result = next_check_at(local, 60)
    assert result.tzinfo is local.tzinfo and result == NOW + timedelta(seconds=60)


def test_rejects_naive_now_and_bad_jitter():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_check_at(datetime(2026, 11, 27, 8, 0), 300)
    with pytest.raises(ValueError, match="jitter"):
        next_check_at(NOW, 300, jitter=2)


@given(
    interval=st.floats(min_value=1, max_value=7 * 86400),
    streak=st.integers(min_value=0, max_value=1000),
    retry_after=st.one_of(st.none(), st.floats(min_value=0, max_value=1e9)),
    jitter=st.floats(min_value=0, max_value=1),
)
def test_bounds_hold(interval, streak, retry_after, jitter):
    t = next_check_at(NOW, interval, error_streak=streak, retry_after=retry_after, jitter=jitter, seed="x")
    delay = (t - NOW).total_seconds()
    cap = max(H6, interval)
    assert interval - 1e-6 <= delay <= cap * (1 + jitter) + 1e-6


# -- fetcher helpers (pure) ---------------------------------------------------------

def test_parse_retry_after():
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after(" 0 ", NOW) == 0
    assert parse_retry_after("Fri, 27 Nov 2026 08:05:00 GMT", NOW) == 300
    assert parse_retry_after("Fri, 27 Nov 2026 07:00:00 GMT", NOW) == 0  # in the past
    for bad in (None, "", "soon", "-5", "nan", "inf"):
        assert parse_retry_after(bad, NOW) is None


def test_redact_url():
    assert redact_url("https://u:p@api.example.org:8443/x?access_token=abc&page=2&Sign=zz#f") == \
        "https://api.example.org:8443/x?access_token=***&page=2&Sign=***"
    assert redact_url("http://example.org/feed?appkey=1&myToken=2&q=汉台") == \
        "http://example.org/feed?appkey=***&myToken=***&q=汉台"
    assert redact_url("http://example.org/a\nb") == "http://example.org/ab"
    assert redact_url("http://[::1") == "<invalid URL>"
    assert redact_url(None) == "<no URL>"
    assert len(redact_url("http://example.org/" + "a" * 1000)) == 200


@pytest.mark.parametrize("kw", [
    {"max_bytes": 0}, {"read_timeout": -1}, {"per_host_spacing": -0.1}, {"total_concurrency": 1.5},
    {"connect_timeout": float("nan")}, {"max_redirects": True}, {"user_agent": ""},
])
def test_fetch_policy_rejects_bad_values(kw):
    with pytest.raises(ValueError, match="FetchPolicy"):
        FetchPolicy(**kw)


def test_fetch_policy_allows_zero_spacing_and_redirects():
    policy = FetchPolicy(per_host_spacing=0, max_redirects=0)
    assert policy.per_host_spacing == 0 and policy.max_redirects == 0
