"""The config file (db/config_file.py) and the server's settings (server/settings.py): pure code,
no file or database. Kinds, unknown tables and keys, relative paths, merging order (flag > file >
$ATTENDANCE_DB_URL > default), value checks naming their source, masking, --print-config's TOML."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from db.config_file import (
    DATABASE_KEYS,
    ConfigFileError,
    mask_password,
    parse_config,
    pick_database_url,
    toml_value,
)
from db.connection import DEFAULT_DB_URL
from server import settings
from server.app import ServerConfig
from server.presence import PresenceSettings

SOURCE = Path("/etc/attendance/server.toml")


def parse(text: str):
    return parse_config(text, SOURCE, settings.FILE_KINDS)


def resolve(flags=None, text="", environ=None):
    return settings.resolve(flags or {}, parse(text), SOURCE, environ or {})


# -- the loader ---------------------------------------------------------------------------------


def test_values_are_converted_to_their_kinds_and_paths_are_relative_to_the_file():
    tables = parse(
        '[server]\nport = 9100\nthreshold = 1\nknowns = "photos"\n'
        '[tls]\ncert = "/srv/tls/server.pem"\nkey = "~/server.key"\n'
        '[legacy]\nfrom = ["10.0.0.0/8"]\nenabled = false\n'
    )
    assert tables["server"] == {"port": 9100, "threshold": 1.0, "knowns": Path("/etc/attendance/photos")}
    assert isinstance(tables["server"]["threshold"], float)
    assert tables["tls"]["cert"] == Path("/srv/tls/server.pem")  # absolute: as it is
    assert tables["tls"]["key"] == Path("~/server.key").expanduser()
    assert tables["legacy"] == {"from": ("10.0.0.0/8",), "enabled": False}


@pytest.mark.parametrize(
    "text, message",
    [
        ("[server]\nport = '9009'\n", 'server.toml: server.port: must be a whole number, not "9009"'),
        ("[server]\nport = 9009.5\n", "server.port: must be a whole number, not 9009.5"),
        ("[server]\nport = true\n", "server.port: must be a whole number, not true"),
        ("[server]\nthreshold = 'low'\n", "server.threshold: must be a number"),
        ("[server]\nthreshold = inf\n", "server.threshold: must be a finite number"),
        ("[legacy]\nenabled = 'no'\n", 'legacy.enabled: must be true or false, not "no"'),
        ("[legacy]\nfrom = '10.0.0.0/8'\n", "legacy.from: must be a list of strings"),
        ("[legacy]\nfrom = [10]\n", "legacy.from: must be a list of strings"),
        ("[server]\nknowns = ''\n", "server.knowns: must be a path, not an empty string"),
        ("[database]\nurl = 3306\n", "database.url: must be a string, not 3306"),
        ("[server]\nhost = {a = 1}\n", "server.host: must be a string, not a table"),
        ("[server]\nprot = 9009\n", "unknown key server.prot (known in [server]: host, port,"),
        ("[sever]\nport = 9009\n", "unknown table [sever] (known: server, database,"),
        ("port = 9009\n", "port is outside any table; keys go under [server]"),
        ("[server]\nport = 1\n[server.tls]\ncert = 'a'\n", "unknown key server.tls"),
        ("[server]\nport = \n", "not valid TOML"),
    ],
)
def test_bad_files_are_one_error_naming_the_file_and_the_key(text, message):
    with pytest.raises(ConfigFileError) as caught:
        parse(text)
    assert str(caught.value).startswith(str(SOURCE))
    assert message in str(caught.value)


def test_a_command_reading_only_the_database_url_ignores_the_servers_tables():
    text = '[server]\nport = 9009\n[database]\nurl = "mysql://a@b/c"\n'
    assert parse_config(text, SOURCE, DATABASE_KEYS, other_tables=True) == {"database": {"url": "mysql://a@b/c"}}
    with pytest.raises(ConfigFileError, match="unknown key database.uri"):
        parse_config('[database]\nuri = "x"\n', SOURCE, DATABASE_KEYS, other_tables=True)


def test_database_url_order_is_flag_then_file_then_environment():
    file_tables = {"database": {"url": "mysql://file@h/d"}}
    assert pick_database_url("mysql://flag@h/d", file_tables, "mysql://env@h/d") == "mysql://flag@h/d"
    assert pick_database_url(None, file_tables, "mysql://env@h/d") == "mysql://file@h/d"
    assert pick_database_url(None, {}, "mysql://env@h/d") == "mysql://env@h/d"


def test_passwords_are_masked_and_nothing_else():
    assert (
        mask_password("mysql://root:root@db.example:3306/attendance") == "mysql://root:***@db.example:3306/attendance"
    )
    assert mask_password("mysql://u:p%40ss@h/d?unix_socket=/run/m.sock") == "mysql://u:***@h/d?unix_socket=/run/m.sock"
    assert mask_password("mysql://root@h:3306/d") == "mysql://root@h:3306/d"


def test_toml_values_read_back_as_written():
    values = {"s": 'a "quoted" \\ path\twith\x7f한글', "i": 3, "f": 0.5, "b": False, "l": ("x", "y"), "p": Path("/a/b")}
    text = "\n".join(f"{key} = {toml_value(value)}" for key, value in values.items())
    assert tomllib.loads(text) == {**values, "l": ["x", "y"], "p": "/a/b"}


# -- the server's settings ----------------------------------------------------------------------


def test_defaults_come_from_server_config_and_presence_settings():
    values = resolve()
    config = settings.server_config(values)
    assert config == ServerConfig(db_url=config.db_url, knowns_dir=Path("knowns"))
    assert config.presence == PresenceSettings()
    assert values["db_url"].value == DEFAULT_DB_URL and values["db_url"].source == "default"
    assert all(value.source == "default" for value in values.values())


def test_flags_override_the_file_which_overrides_the_environment_and_the_defaults():
    text = '[server]\nport = 9100\nworkers = 3\n[database]\nurl = "mysql://file@h/d"\n[camera]\nlate-after = 5\n'
    values = resolve({"port": 9200, "legacy_from": ["10.0.0.0/8"]}, text, {"ATTENDANCE_DB_URL": "mysql://env@h/d"})
    assert values["port"] == settings.Value(9200, "--port")
    assert values["workers"] == settings.Value(3, f"{SOURCE}: server.workers")
    assert values["db_url"].value == "mysql://file@h/d"
    assert values["legacy_from"].value == ("10.0.0.0/8",)
    config = settings.server_config(values)
    assert (config.port, config.workers, config.presence.late_after_minutes) == (9200, 3, 5.0)
    assert resolve(environ={"ATTENDANCE_DB_URL": "mysql://env@h/d"})["db_url"].source == "$ATTENDANCE_DB_URL"


def test_no_legacy_and_the_file_say_the_same_thing():
    assert settings.server_config(resolve({"legacy": False})).legacy is False
    assert settings.server_config(resolve(text="[legacy]\nenabled = false\n")).legacy is False
    assert settings.server_config(resolve(text="[server]\ndetect-max-side = 0\n")).detect_max_side is None


@pytest.mark.parametrize(
    "flags, text, message",
    [
        ({}, "[server]\nthreshold = 3\n", f"{SOURCE}: server.threshold: must be in (0, 2], not 3"),
        ({"threshold": 0.0}, "", "--threshold: must be in (0, 2], not 0"),
        ({}, "[limits]\nrate = -1\n", f"{SOURCE}: limits.rate: must be at least 0, not -1"),
        ({"burst": 0}, "", "--burst: must be at least 1, not 0"),
        ({}, "[server]\nport = 70000\n", "server.port: must be 0-65535, not 70000"),
        ({}, "[server]\nworkers = 0\n", "server.workers: must be at least 1, not 0"),
        ({}, "[privacy]\nevidence-days = 0\n", "privacy.evidence-days: must be more than 0, not 0"),
        ({}, "[camera]\nclose-margin = 2000\n", "camera.close-margin: must be 0-1440, not 2000"),
        ({}, "[legacy]\nfrom = ['10.0.0.300/8']\n", "legacy.from: '10.0.0.300/8' does not appear to be"),
        ({}, "[server]\nlog-level = 'LOUD'\n", "server.log-level: must be one of DEBUG, INFO, WARNING, ERROR"),
        ({}, "[database]\nurl = 'postgres://u:hunter2@h/d'\n", "database.url: database URL must start with mysql://"),
    ],
)
def test_bad_values_name_their_flag_or_file_and_key(flags, text, message):
    with pytest.raises(settings.SettingsError) as caught:
        resolve(flags, text)
    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_printed_settings_are_a_config_file_giving_the_same_settings_with_the_password_masked():
    text = (
        '[server]\nknowns = "photos"\nworkers = 2\n[database]\nurl = "mysql://srv:s3cret@db:3306/att"\n'
        '[legacy]\nfrom = ["10.1.0.0/16"]\n[privacy]\nkeep-evidence = "evidence"\n'
    )
    values = resolve({"port": 9100}, text)
    printed = settings.to_toml(values)
    assert "s3cret" not in printed and 'url = "mysql://srv:***@db:3306/att"' in printed
    assert "port = 9100  # from --port" in printed
    assert f"workers = 2  # from {SOURCE}: server.workers" in printed
    assert "# cert is not set: no TLS" in printed
    again = settings.resolve(
        {}, parse_config(printed, Path("/elsewhere/copy.toml"), settings.FILE_KINDS), Path("/elsewhere/copy.toml"), {}
    )
    for name, value in values.items():
        expected = "mysql://srv:***@db:3306/att" if name == "db_url" else value.value
        assert again[name].value == expected, name
    assert again["knowns_dir"].value == Path("/etc/attendance/photos")  # absolute: the same folder


def test_every_flag_has_a_setting_and_a_file_key():
    keys = [(setting.table, setting.key) for setting in settings.SETTINGS]
    assert len(keys) == len(set(keys))
    assert set(settings.FILE_KINDS) == set(settings.TABLES)
    assert {setting.table for setting in settings.SETTINGS} == set(settings.TABLES)
