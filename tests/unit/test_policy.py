"""The [clock] policy: defaults, the embedded default TOML, errors that name the key."""
from __future__ import annotations

import tomllib

import pytest

from responders.exceptions import PolicyError
from responders.policy import DEFAULT_CLOCK_TOML, ClockPolicy, policy_from_mapping, policy_from_toml_text


def test_defaults_follow_the_rules():
    p = ClockPolicy()
    assert p.hours_for("特别重大") == 5 and p.hours_for("重大") == 5
    assert p.hours_for("较大") == 24 and p.hours_for("一般") == 24
    assert p.hours_for("ordinary") == 48
    assert p.start == "first_published"
    assert p.warnings_hours == (12.0, 4.0, 1.0)


def test_default_toml_is_valid_and_matches_defaults():
    data = tomllib.loads(DEFAULT_CLOCK_TOML)
    assert policy_from_mapping(data["clock"]) == ClockPolicy()
    assert policy_from_toml_text(DEFAULT_CLOCK_TOML) == ClockPolicy()
    assert policy_from_toml_text("[other]\nx = 1\n") == ClockPolicy()


def test_custom_values_and_extra_tier():
    p = policy_from_mapping({"start": "detected", "warnings_hours": [1, 20, 4],
                             "release_due_hours": {"一般": 12, "专项": 72}, "followup_every_hours": 0})
    assert p.start == "detected"
    assert p.warnings_hours == (20.0, 4.0, 1.0)
    assert p.hours_for("一般") == 12 and p.hours_for("专项") == 72 and p.hours_for("重大") == 5
    assert p.followup_every_hours == 0


@pytest.mark.parametrize("mapping, key", [
    ({"release_due_hours": {"重大": "five"}}, "release_due_hours.重大"),
    ({"release_due_hours": {"重大": -1}}, "release_due_hours.重大"),
    ({"release_due_hours": {"重大": 0}}, "release_due_hours.重大"),
    ({"release_due_hours": 24}, "release_due_hours"),
    ({"start": "noticed"}, "start"),
    ({"warnings_hours": "12,4"}, "warnings_hours"),
    ({"warnings_hours": [12, "x"]}, "warnings_hours[1]"),
    ({"warnings_hours": [4, 4]}, "warnings_hours"),
    ({"overdue_repeat_hours": True}, "overdue_repeat_hours"),
    ({"followup_every_hours": -2}, "followup_every_hours"),
    ({"urgent_below_hours": 13}, "urgent_below_hours"),
    ({"warning_hours": [1]}, "warning_hours"),
])
def test_errors_name_the_key(mapping, key):
    with pytest.raises(PolicyError) as err:
        policy_from_mapping(mapping)
    assert f"[clock] {key}" in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_tier_and_bad_toml():
    with pytest.raises(PolicyError, match="no tier named"):
        ClockPolicy().hours_for("nope")
    with pytest.raises(PolicyError, match="desk.toml"):
        policy_from_toml_text("[clock\nstart=")
