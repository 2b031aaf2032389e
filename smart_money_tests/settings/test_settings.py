from datetime import date
from pathlib import Path

import pytest

from smart_money.settings import Settings, SettingsError, last_complete_month, parse_symbols


def test_defaults_when_environment_is_empty():
    settings = Settings.from_env({})
    assert settings.source == "simulated"
    assert settings.start == date(2022, 1, 1)
    assert settings.end is None  # rolling: the last complete month
    assert settings.symbols == 500


def test_rolling_end_is_the_last_complete_month():
    assert last_complete_month(date(2026, 11, 22)) == date(2026, 10, 1)
    assert last_complete_month(date(2026, 1, 5)) == date(2025, 12, 1)


def test_environment_values_are_parsed(tmp_path: Path):
    settings = Settings.from_env(
        {
            "SMART_MONEY_SOURCE": "simulated",
            "SMART_MONEY_START": "2023-03",
            "SMART_MONEY_END": "2023-08",
            "SMART_MONEY_SYMBOLS": "aapl, MSFT,AAPL",
            "SMART_MONEY_SEED": "11",
            "SMART_MONEY_HOME": str(tmp_path),
        }
    )
    assert (settings.start, settings.end) == (date(2023, 3, 1), date(2023, 8, 1))
    assert settings.symbols == ("AAPL", "MSFT")
    assert settings.seed == 11
    assert settings.data_dir == tmp_path / "data"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMART_MONEY_SOURCE": "yahoo"}, "SMART_MONEY_SOURCE"),
        ({"SMART_MONEY_START": "2023/03"}, "YYYY-MM"),
        ({"SMART_MONEY_START": "2023-09", "SMART_MONEY_END": "2023-01"}, "after the last month"),
        ({"SMART_MONEY_SEED": "abc"}, "SMART_MONEY_SEED"),
        ({"SMART_MONEY_SYMBOLS": "AAPL,$$$"}, "invalid: $$$"),
    ],
)
def test_bad_values_name_the_variable(env, message):
    with pytest.raises(SettingsError, match=message.replace("$", r"\$")):
        Settings.from_env(env)


def test_symbol_count_or_list():
    assert parse_symbols("50") == 50
    assert parse_symbols("brk.b,goog") == ("BRK.B", "GOOG")


def test_overrides_are_read_as_if_they_were_set_in_the_environment(tmp_path: Path):
    env = {"SMART_MONEY_START": "2099-01", "SMART_MONEY_SYMBOLS": "20", "SMART_MONEY_HOME": str(tmp_path)}
    settings = Settings.from_env(
        env,
        overrides={
            "SMART_MONEY_START": "2023-01",  # replaces the environment's (invalid) start before it is checked
            "SMART_MONEY_END": "2023-06",
            "SMART_MONEY_SOURCE": "public_records",  # with its own defaults: no universe rules
            "SMART_MONEY_SYMBOLS": None,  # not given: the environment's
            "SMART_MONEY_SEED": "",
        },
    )
    assert (settings.start, settings.end, settings.symbols) == (date(2023, 1, 1), date(2023, 6, 1), 20)
    assert settings.source == "public_records" and settings.min_inst_ownership_pct is None
    assert env["SMART_MONEY_START"] == "2099-01"  # the environment itself is left alone
    with pytest.raises(SettingsError, match="SMART_MONEY_END"):
        Settings.from_env({}, overrides={"SMART_MONEY_END": "June"})
