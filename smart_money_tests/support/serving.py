"""Helpers for the serving tests and the serving benchmark: a small registered model trained on a
simulated panel, stored smart-money events, and a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from smart_money.evaluation.registration import register_candidate
from smart_money.settings import Settings

SERVE_DAY = "2024-06-14"  # a Friday session inside the test model's data window
ADMIN_TOKEN = "test-admin-token-7f3a"


def serve_settings(home: Path, symbols: int = 40) -> Settings:
    """Two years of months over a small simulated universe (the model's training window)."""
    return Settings(
        source="simulated", start=date(2022, 7, 1), end=date(2024, 6, 1), symbols=symbols, seed=11, home=home
    )


def register_model(settings: Settings) -> dict:
    """Train the flow model on the settings' panel (their source, universe, months and universe
    rules; chronological 70/15/15), measure it on its test split and register it as champion.
    The registry gate here only records that this is a test fixture; the metrics are real."""
    from sklearn.metrics import accuracy_score

    from smart_money.dataset.features import UniverseRules
    from smart_money.dataset.pipeline import dataset_from_source
    from smart_money.dataset.splits import SplitSpec, build_splits
    from smart_money.evaluation.flow_evaluation import holdout
    from smart_money.evaluation.metrics import safe_auc
    from smart_money.model.flow_model import TrainConfig, train_flow_model, volatility_samples
    from smart_money.model.registry import Registry
    from smart_money.sources import open_source

    source = open_source(settings)
    built = dataset_from_source(
        source,
        settings.symbols,
        pd.Timestamp(settings.start),
        pd.Timestamp(settings.last_month()),
        UniverseRules(settings.min_inst_ownership_pct, settings.require_insider_activity),
        settings.hedge_funds,
    )
    dataset = built.dataset
    splits = build_splits(dataset, SplitSpec())
    parts = holdout(dataset, splits)
    samples = volatility_samples(
        built.inputs.prices, source.market_index(), dataset["sample_date"].min(), parts["val"]["sample_date"].min()
    )
    trained = train_flow_model(parts["train"], parts["val"], TrainConfig(), samples)
    folder = settings.models_dir / "candidate"
    trained.model.save(folder)
    y = parts["test"]["label"].astype(int).to_numpy()
    p = trained.model.predict_proba(parts["test"])
    test = {
        "roc_auc": safe_auc(y, p),
        "accuracy": float(accuracy_score(y, p >= 0.5)),
        "base_rate": float(y.mean()),
        "top_decile_precision": float(np.mean(y[p >= np.quantile(p, 0.9)])),
    }
    metadata = {
        "model_id": "smart_money_flow",
        "features": trained.model.normalizer.features,
        "label": "label",
        "metrics": {"test": test},
    }
    gates = {
        "test_fixture": {
            "passed": True,
            "value": 1.0,
            "threshold": 1.0,
            "detail": f"small {settings.source} panel for serving tests; not an evaluation",
        }
    }
    entry = register_candidate(Registry(settings.models_dir), folder, metadata, gates, parts["test"], {})
    shutil.rmtree(folder)
    return entry


class FailingFilings:
    """A source whose smart-money tables fail (prices and universe still answer)."""

    def __init__(self, source):
        self.source = source
        self.name = source.name

    def __getattr__(self, name):
        return getattr(self.source, name)

    def fetch(self, table, symbols, start, end):
        if table != "prices":
            raise ConnectionError(f"{table} endpoint down (secret-host.internal:443)")
        return self.source.fetch(table, symbols, start, end)


def compute_with_failing_filings(settings: Settings, day: pd.Timestamp):
    """FeatureProvider compute function (module level, so the worker process can import it)."""
    from smart_money.serve.feature_provider import compute_day
    from smart_money.sources import open_source

    return compute_day(settings, day, FailingFilings(open_source(settings)))


def copy_models(source: Settings, target_home: Path) -> Settings:
    """Settings like `source` in another home, with the same registered models."""
    target = source.with_overrides(home=target_home)
    shutil.copytree(source.models_dir, target.models_dir)
    return target


def event_rows() -> pd.DataFrame:
    """Scored smart-money events of the synthetic scenario catalogue, as storage rows."""
    from smart_money.options.engine.batch import score_frames, storage_rows
    from smart_money.options.engine.frames import NormalizedTape
    from smart_money.options.engine.rules import load_rules
    from smart_money.options.market.synthetic import catalogue

    tape, _ = catalogue(per_variant=1)
    normalized = NormalizedTape.of(tape)
    batch = score_frames(normalized.prints, normalized.quotes, normalized.underlying, normalized.calendar)
    return storage_rows(batch.with_membership(), load_rules(), run_mode="synthetic")


def store_events(url: str, rows: pd.DataFrame) -> int:
    from smart_money.options.store import EventStore

    with EventStore(url) as store:
        return store.insert(rows)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackServer:
    """uvicorn serving `app` on 127.0.0.1 in a thread (started and stopped as a context)."""

    def __init__(self, app, port: int | None = None):
        import uvicorn

        self.port = port or free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", ws="websockets-sansio")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


# -- compute functions for the FeatureProvider's worker processes (module level: importable) --------
def _record_call(settings: Settings, day: pd.Timestamp | str) -> None:
    """One line per worker call in <home>/feature-calls.log (tests count the workers started)."""
    Path(settings.home).mkdir(parents=True, exist_ok=True)
    with (Path(settings.home) / "feature-calls.log").open("a") as log:
        log.write(f"{day if isinstance(day, str) else f'{day:%Y-%m-%d}'}\n")


def feature_calls(settings: Settings) -> list[str]:
    path = Path(settings.home) / "feature-calls.log"
    return path.read_text().split() if path.exists() else []


def small_day(settings: Settings, day: pd.Timestamp):
    """A two-symbol cross-section, computed at once."""
    from smart_money.dataset.catalogue import FEATURES
    from smart_money.serve.feature_provider import DayFeatures

    _record_call(settings, day)
    frame = pd.DataFrame(0.0, index=pd.Index(["AAA", "BBB"], name="symbol"), columns=list(FEATURES))
    return DayFeatures(day, frame.assign(excluded_reason=""), "test")


def ahead_day(settings: Settings, day: pd.Timestamp):
    """small_day, with work to do between dates (`prefetch`: three steps, each logged)."""
    return small_day(settings, day)


def _three_steps_ahead(settings: Settings) -> bool:
    steps = sum(call.startswith("ahead") for call in feature_calls(settings))
    if steps >= 3:
        return False
    _record_call(settings, f"ahead{steps + 1}")  # type: ignore[arg-type]
    return True


ahead_day.prefetch = _three_steps_ahead  # type: ignore[attr-defined]


def slow_day(settings: Settings, day: pd.Timestamp):
    """A computation that takes minutes (tests stop it long before)."""
    _record_call(settings, day)
    time.sleep(600)
    return small_day(settings, day)


def failing_day(settings: Settings, day: pd.Timestamp):
    _record_call(settings, day)
    raise ConnectionError(f"no data for {day:%Y-%m-%d}")


def serve_env(settings: Settings) -> dict[str, str]:
    """The environment of a `smart-money` process on `settings` (simulated source)."""
    import os

    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SMART_MONEY_", "FMP_", "DAGSTER_HOME"))}
    return keep | {
        "SMART_MONEY_HOME": str(settings.home),
        "DAGSTER_HOME": str(Path(settings.home) / ".dagster_home"),
        "SMART_MONEY_SOURCE": "simulated",
        "SMART_MONEY_START": f"{settings.start:%Y-%m}",
        "SMART_MONEY_END": f"{settings.end:%Y-%m}",
        "SMART_MONEY_SYMBOLS": str(settings.symbols),
        "SMART_MONEY_SEED": str(settings.seed),
        "SMART_MONEY_ADMIN_TOKEN": ADMIN_TOKEN,
    }


def write_raw_partitions(settings: Settings, last_month: date | None = None) -> None:
    """Write the universe and the raw assets' monthly partitions (from the configured first month
    to `last_month`, default the settings' last) where `smart-money run`'s io manager keeps them,
    computed as the raw assets compute them (one pull per table over the whole range)."""
    import dagster as dg

    from smart_money.data import calendar as cal
    from smart_money.data import storage
    from smart_money.data.raw_pull import pull_raw, pull_universe
    from smart_money.data.schemas import TABLES
    from smart_money.defs.ingest.assets import symbols_for
    from smart_money.orchestration.io_manager import PartitionedParquetIOManager
    from smart_money.sources import open_source

    source = open_source(settings)
    manager = PartitionedParquetIOManager(base_path=storage.join(settings.data_location, "assets"))
    universe, _ = pull_universe(source, settings.symbols)
    storage.write_parquet(manager._path(dg.AssetKey("universe"), None, "parquet"), universe)
    first = pd.Timestamp(settings.start)
    months = cal.months_between(first, pd.Timestamp(last_month or settings.last_month()))
    for table in TABLES:
        pull = pull_raw(source, table, symbols_for(table, universe), months, first)
        for key, rows in pull.partitions.items():
            storage.write_parquet(manager._path(dg.AssetKey(f"raw_{table}"), key, "parquet"), rows)
