"""Run configuration, read from the environment when Definitions are built (never at import)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from smart_money.settings.paths import project_root

SOURCES = ("simulated", "fmp", "public_records")
PROFILES = ("local", "postgres", "kubernetes")
EXECUTORS = ("in_process", "multiprocess", "k8s")
# The executor each deployment profile runs steps with unless SMART_MONEY_EXECUTOR says otherwise.
# postgres: a run's steps in the run's own process (the instance on PostgreSQL is what lets runs,
# the webserver and the daemon share it); a process per step rebuilt the definitions, the source's
# world and every input in each step, 5x the local profile's time on two cores (issue 18).
PROFILE_EXECUTORS = {"local": "in_process", "postgres": "in_process", "kubernetes": "k8s"}
DEFAULT_START = "2022-01"
DEFAULT_UNIVERSE_SIZE = 500
DEFAULT_SEED = 7
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.\-]{0,9}$")


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the variable and the fix."""


def parse_month(text: str, variable: str) -> date:
    """'2023-03' (or '2023-03-01') -> date(2023, 3, 1)."""
    value = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-01", value):
        value = value[:7]
    match = _MONTH_RE.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise SettingsError(f"{variable}={text!r}: expected a month as YYYY-MM, e.g. 2023-03")
    return date(int(match.group(1)), int(match.group(2)), 1)


def last_complete_month(today: date) -> date:
    first_of_this_month = today.replace(day=1)
    year, month = first_of_this_month.year, first_of_this_month.month - 1
    if month == 0:
        year, month = year - 1, 12
    return date(year, month, 1)


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know about its environment.

    `symbols` is either an int (universe size for the simulated source: the first N of its
    deterministic universe) or an explicit tuple of tickers.
    """

    source: str = "simulated"
    start: date = field(default_factory=lambda: parse_month(DEFAULT_START, "SMART_MONEY_START"))
    end: date | None = None  # None: rolling, the last complete month (re-evaluated over time)
    symbols: int | tuple[str, ...] = DEFAULT_UNIVERSE_SIZE
    seed: int = DEFAULT_SEED
    home: Path = field(default_factory=project_root)
    simulation_strength: float = 1.0
    public_records_dir: Path | None = None
    hedge_funds: tuple[str, ...] | None = None  # 13F filer CIKs; None: the source's default list
    min_inst_ownership_pct: float | None = 5.0  # universe rule; None disables
    require_insider_activity: bool = True  # universe rule: a Form 4 filing in the past year
    profile: str = "local"  # deployment profile: which deploy/<profile>/dagster.yaml and executor
    executor: str | None = None  # None: the profile's (PROFILE_EXECUTORS)
    max_concurrent_steps: int | None = None  # multiprocess/k8s: steps at once (None: CPU count)
    data_url: str | None = None  # fsspec URL (s3://bucket/prefix ...) replacing data_dir for assets
    models_url: str | None = None  # fsspec URL replacing models_dir for candidates and the registry
    dagster_home_override: Path | None = None  # DAGSTER_HOME, when set

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise SettingsError(f"SMART_MONEY_SOURCE={self.source!r}: choose one of {', '.join(SOURCES)}")
        if self.profile not in PROFILES:
            raise SettingsError(f"SMART_MONEY_PROFILE={self.profile!r}: choose one of {', '.join(PROFILES)}")
        if self.executor is not None and self.executor not in EXECUTORS:
            raise SettingsError(f"SMART_MONEY_EXECUTOR={self.executor!r}: choose one of {', '.join(EXECUTORS)}")
        if self.max_concurrent_steps is not None and self.max_concurrent_steps < 1:
            raise SettingsError("SMART_MONEY_MAX_CONCURRENT must be a positive number of steps")
        if self.start > self.last_month():
            raise SettingsError(
                f"SMART_MONEY_START ({self.start:%Y-%m}) is after the last month "
                f"({self.last_month():%Y-%m}); set SMART_MONEY_END or an earlier start"
            )
        if isinstance(self.symbols, int) and self.symbols < 1:
            raise SettingsError("SMART_MONEY_SYMBOLS must be a positive count or a list of tickers")
        if self.simulation_strength < 0:
            raise SettingsError("SMART_MONEY_SIM_STRENGTH must be >= 0")

    def last_month(self, today: date | None = None) -> date:
        """The last partition month: SMART_MONEY_END, or the last complete month."""
        return self.end or last_complete_month(today or date.today())

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def dagster_home(self) -> Path:
        """DAGSTER_HOME when the user set it, else `.dagster_home/` under the home."""
        return self.dagster_home_override or self.home / ".dagster_home"

    @property
    def data_location(self) -> str:
        """Where materialized assets and quarantine live: SMART_MONEY_DATA_URL or data_dir."""
        return self.data_url or str(self.data_dir)

    @property
    def models_location(self) -> str:
        """Where model candidates and the registry live: SMART_MONEY_MODELS_URL or models_dir."""
        return self.models_url or str(self.models_dir)

    @property
    def step_executor(self) -> str:
        """in_process | multiprocess | k8s: SMART_MONEY_EXECUTOR, else the profile's."""
        return self.executor or PROFILE_EXECUTORS[self.profile]

    def to_env(self) -> dict[str, str]:
        """The SMART_MONEY_* variables that rebuild these settings with from_env: what a run
        hands to the step processes of a multiprocess executor, which rebuild the definitions."""
        env = {
            "SMART_MONEY_SOURCE": self.source,
            "SMART_MONEY_START": f"{self.start:%Y-%m}",
            "SMART_MONEY_SYMBOLS": str(self.symbols) if isinstance(self.symbols, int) else ",".join(self.symbols),
            "SMART_MONEY_SEED": str(self.seed),
            "SMART_MONEY_HOME": str(self.home),
            "SMART_MONEY_SIM_STRENGTH": repr(self.simulation_strength),
            "SMART_MONEY_MIN_INST_OWNERSHIP": "off"
            if self.min_inst_ownership_pct is None
            else repr(self.min_inst_ownership_pct),
            "SMART_MONEY_REQUIRE_INSIDER_ACTIVITY": "1" if self.require_insider_activity else "0",
            "SMART_MONEY_PROFILE": self.profile,
            "SMART_MONEY_EXECUTOR": self.step_executor,
        }
        optional = {
            "SMART_MONEY_END": None if self.end is None else f"{self.end:%Y-%m}",
            "SMART_MONEY_PUBLIC_RECORDS_DIR": None if self.public_records_dir is None else str(self.public_records_dir),
            "SMART_MONEY_HEDGE_FUNDS": None if self.hedge_funds is None else ",".join(self.hedge_funds),
            "SMART_MONEY_MAX_CONCURRENT": None if self.max_concurrent_steps is None else str(self.max_concurrent_steps),
            "SMART_MONEY_DATA_URL": self.data_url,
            "SMART_MONEY_MODELS_URL": self.models_url,
            "DAGSTER_HOME": None if self.dagster_home_override is None else str(self.dagster_home_override),
        }
        return env | {k: v for k, v in optional.items() if v is not None}

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, overrides: Mapping[str, str | None] | None = None
    ) -> Settings:
        """Settings from `environ` (default: the process environment). `overrides` are variables
        that take precedence over it, e.g. a command's options ({"SMART_MONEY_SOURCE": "fmp"});
        each is read as if it were set in the environment (so a source brings its own defaults),
        and None or "" leaves the environment's value."""
        env = os.environ if environ is None else environ
        if overrides:
            env = {**env, **{name: value for name, value in overrides.items() if value}}
        kwargs: dict[str, object] = {}
        if value := env.get("SMART_MONEY_SOURCE", "").strip():
            kwargs["source"] = value.lower()
        kwargs["start"] = parse_month(env.get("SMART_MONEY_START", DEFAULT_START), "SMART_MONEY_START")
        if env.get("SMART_MONEY_END", "").strip():
            kwargs["end"] = parse_month(env["SMART_MONEY_END"], "SMART_MONEY_END")
        if value := env.get("SMART_MONEY_SYMBOLS", "").strip():
            kwargs["symbols"] = parse_symbols(value)
        if value := env.get("SMART_MONEY_SEED", "").strip():
            kwargs["seed"] = _int(value, "SMART_MONEY_SEED")
        if value := env.get("SMART_MONEY_HOME", "").strip():
            kwargs["home"] = Path(value).expanduser().resolve()
        if value := env.get("SMART_MONEY_SIM_STRENGTH", "").strip():
            try:
                kwargs["simulation_strength"] = float(value)
            except ValueError as exc:
                raise SettingsError(f"SMART_MONEY_SIM_STRENGTH={value!r}: expected a number") from exc
        if value := env.get("SMART_MONEY_PUBLIC_RECORDS_DIR", "").strip():
            kwargs["public_records_dir"] = Path(value).expanduser().resolve()
        if value := env.get("SMART_MONEY_HEDGE_FUNDS", "").strip():
            kwargs["hedge_funds"] = parse_ciks(value)
        # Public files cover a few dozen 13F managers and mostly insider purchases: the plan's
        # universe rules (>= 5 % institutional ownership, a Form 4 filing in the past year)
        # cannot be judged on them, so with that source they are off unless set.
        rules_apply = kwargs.get("source") != "public_records"
        if value := env.get("SMART_MONEY_MIN_INST_OWNERSHIP", "").strip():
            kwargs["min_inst_ownership_pct"] = (
                None if value.lower() in ("off", "none") else _float(value, "SMART_MONEY_MIN_INST_OWNERSHIP")
            )
        elif not rules_apply:
            kwargs["min_inst_ownership_pct"] = None
        if value := env.get("SMART_MONEY_REQUIRE_INSIDER_ACTIVITY", "").strip():
            kwargs["require_insider_activity"] = value.lower() not in ("0", "false", "off", "no")
        elif not rules_apply:
            kwargs["require_insider_activity"] = False
        if value := env.get("SMART_MONEY_PROFILE", "").strip():
            kwargs["profile"] = value.lower()
        if value := env.get("SMART_MONEY_EXECUTOR", "").strip():
            kwargs["executor"] = value.lower().replace("-", "_")
        if value := env.get("SMART_MONEY_MAX_CONCURRENT", "").strip():
            kwargs["max_concurrent_steps"] = _int(value, "SMART_MONEY_MAX_CONCURRENT")
        if value := env.get("SMART_MONEY_DATA_URL", "").strip():
            kwargs["data_url"] = value.rstrip("/")
        if value := env.get("SMART_MONEY_MODELS_URL", "").strip():
            kwargs["models_url"] = value.rstrip("/")
        if value := env.get("DAGSTER_HOME", "").strip():
            kwargs["dagster_home_override"] = Path(value).expanduser().resolve()
        return cls(**kwargs)  # type: ignore[arg-type]


def _float(value: str, variable: str) -> float:
    try:
        return float(value)
    except ValueError as exc:
        raise SettingsError(f"{variable}={value!r}: expected a number or 'off'") from exc


def _int(value: str, variable: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise SettingsError(f"{variable}={value!r}: expected an integer") from exc


def parse_ciks(text: str) -> tuple[str, ...]:
    """'1067983, 0001336528' or '@file' (one CIK per line, # comments) -> zero-padded CIKs.
    Filers that public files name without a CIK are given as 'manager:<name>' (the 13F folder
    names of the public-records source)."""
    value = text.strip()
    if value.startswith("@"):
        path = Path(value[1:]).expanduser()
        if not path.exists():
            raise SettingsError(f"SMART_MONEY_HEDGE_FUNDS: file {path} does not exist")
        items = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    else:
        items = [item.strip() for item in value.split(",")]
    ciks = [item for item in items if item]
    named = [c for c in ciks if re.fullmatch(r"manager:[A-Za-z0-9_.\-]+", c)]
    bad = [c for c in ciks if c not in named and (not c.isdigit() or len(c) > 10)]
    if not ciks or bad:
        raise SettingsError(
            "SMART_MONEY_HEDGE_FUNDS: expected numeric CIKs or manager:<name>; "
            f"invalid: {', '.join(bad) or 'empty list'}"
        )
    return tuple(dict.fromkeys(c if c in named else c.zfill(10) for c in ciks))


def parse_symbols(text: str) -> int | tuple[str, ...]:
    """'500' -> 500; 'AAPL, msft' -> ('AAPL', 'MSFT'); '@file' -> the file's tickers (commas or
    one per line, # comments)."""
    value = text.strip()
    if value.isdigit():
        return int(value)
    if value.startswith("@"):
        path = Path(value[1:]).expanduser()
        if not path.is_file():
            raise SettingsError(f"SMART_MONEY_SYMBOLS={text!r}: file {path} does not exist")
        value = ",".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
    tickers = tuple(dict.fromkeys(t.strip().upper() for t in value.split(",") if t.strip()))
    bad = [t for t in tickers if not _SYMBOL_RE.match(t)]
    if not tickers or bad:
        raise SettingsError(
            f"SMART_MONEY_SYMBOLS={text!r}: expected a count (e.g. 500) or comma-separated "
            f"tickers (e.g. AAPL,MSFT); invalid: {', '.join(bad) or 'empty list'}"
        )
    return tickers
