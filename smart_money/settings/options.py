"""Options-flow settings: where the day's tape comes from and where scored events are stored."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from smart_money.settings.run import SettingsError

DIR_VARIABLE = "SMART_MONEY_OPTIONS_DIR"
SCENARIOS_VARIABLE = "SMART_MONEY_OPTIONS_SCENARIOS"
CLICKHOUSE_URL_VARIABLE = "SMART_MONEY_CLICKHOUSE_URL"
DEFAULT_SCENARIOS_PER_DAY = 300


@dataclass(frozen=True)
class OptionsSettings:
    """`input_dir`: a folder of prints/quotes files per day (None: the synthetic market);
    `clickhouse_url`: a ClickHouse server for `smart_money_events` (None: embedded chDB)."""

    input_dir: Path | None = None
    scenarios_per_day: int = DEFAULT_SCENARIOS_PER_DAY
    clickhouse_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OptionsSettings:
        env = os.environ if environ is None else environ
        folder = env.get(DIR_VARIABLE, "").strip()
        scenarios = env.get(SCENARIOS_VARIABLE, "").strip()
        try:
            count = int(scenarios) if scenarios else DEFAULT_SCENARIOS_PER_DAY
        except ValueError as exc:
            raise SettingsError(f"{SCENARIOS_VARIABLE}={scenarios!r}: expected an integer") from exc
        if count < 1:
            raise SettingsError(f"{SCENARIOS_VARIABLE}={scenarios!r}: expected a positive number of scenarios")
        return cls(
            input_dir=Path(folder).expanduser().resolve() if folder else None,
            scenarios_per_day=count,
            clickhouse_url=env.get(CLICKHOUSE_URL_VARIABLE, "").strip() or None,
        )

    def store_url(self, data_dir: Path) -> str:
        """The ClickHouse server URL, or embedded chDB under `data_dir/clickhouse`."""
        return self.clickhouse_url or f"chdb://{(Path(data_dir) / 'clickhouse').resolve()}"
