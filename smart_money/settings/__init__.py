"""Settings: the only package that reads the environment. Each settings class is built from
the environment when Definitions, a command or the server start (never at import)."""

from smart_money.settings.run import (
    Settings,
    SettingsError,
    last_complete_month,
    parse_ciks,
    parse_month,
    parse_symbols,
)

__all__ = [
    "Settings",
    "SettingsError",
    "last_complete_month",
    "parse_ciks",
    "parse_month",
    "parse_symbols",
]
