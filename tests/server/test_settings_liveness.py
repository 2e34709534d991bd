"""server/settings.py: the liveness settings (pure: flags and a config file's tables, no server)."""

from __future__ import annotations

import pytest

from server import settings
from server.cli import parse_args


def config_of(argv, tables=None):
    values = settings.resolve(vars(parse_args(argv)), tables or {}, None, {})
    return settings.server_config(values), values


def test_liveness_is_on_by_default_with_unpredictable_challenges():
    config, _ = config_of([])
    assert (config.liveness, config.liveness_seed, config.liveness_deadline) == (True, None, 5.0)


def test_the_flags_turn_it_off_seed_it_and_change_the_deadline():
    config, values = config_of(["--no-liveness", "--liveness-seed", "7", "--liveness-deadline", "8"])
    assert (config.liveness, config.liveness_seed, config.liveness_deadline) == (False, 7, 8.0)
    assert values["liveness"].source == "--no-liveness"


def test_the_config_file_table_liveness():
    config, values = config_of([], {"liveness": {"enabled": False, "deadline": 6.5}})
    assert (config.liveness, config.liveness_deadline) == (False, 6.5)
    assert "[liveness]" in settings.to_toml(values) and "enabled = false" in settings.to_toml(values)


def test_a_deadline_out_of_range_is_refused_naming_the_flag():
    with pytest.raises(settings.SettingsError, match="--liveness-deadline: must be 1-60"):
        config_of(["--liveness-deadline", "0.5"])
