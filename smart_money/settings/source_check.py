"""Whether the configured source can be opened: what would otherwise fail when the source is first
used (a missing FMP key, folder or invalid FMP_*), checked from the settings alone."""

from __future__ import annotations

from collections.abc import Mapping

from smart_money.settings.fmp import FmpSettings, require_api_key
from smart_money.settings.run import Settings, SettingsError


def check_source_settings(settings: Settings, environ: Mapping[str, str] | None = None) -> None:
    """Raise SettingsError now (when definitions are built or a command starts) for what would
    otherwise fail when the source is first used: a missing key, folder or invalid FMP_*."""
    if settings.source == "fmp":
        require_api_key(environ)
        FmpSettings.from_env(environ)
    elif settings.source == "public_records":
        folder = settings.public_records_dir
        if folder is None:
            raise SettingsError(
                "SMART_MONEY_SOURCE=public_records needs SMART_MONEY_PUBLIC_RECORDS_DIR: "
                "the folder of public records (see docs/real-data.md)"
            )
        if not folder.is_dir():
            raise SettingsError(f"SMART_MONEY_PUBLIC_RECORDS_DIR={folder}: no such folder")
