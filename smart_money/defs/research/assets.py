"""Research layer: disclosure events per month (by public time) and the signal study over the
whole window (event time and calendar time). Each asset reads its inputs, calls one core
function, attaches metadata and returns."""

# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at runtime
import json
from functools import partial

import dagster as dg
import pandas as pd

from smart_money.data import calendar as cal
from smart_money.data import storage
from smart_money.data.raw_pull import combine_partitions
from smart_money.dataset.splits import TEST
from smart_money.defs.model.config import EvaluationConfig, RegistryConfig, TrainModelConfig
from smart_money.defs.research.config import EventStudyConfig
from smart_money.evaluation.excess_target import (
    EXCESS_LABEL,
    EXCESS_MODEL_ID,
    EXCESS_REGISTRY_FOLDER,
    excess_holdout,
    excess_registry_metadata,
    excess_train_config,
    train_excess_model,
)
from smart_money.evaluation.flow_evaluation import EvalConfig
from smart_money.evaluation.gates import GateConfig, evaluate_gates
from smart_money.evaluation.registration import register_candidate
from smart_money.model.flow_model import INPUT_FEATURES, FlowModel, TrainConfig
from smart_money.model.registry import Registry
from smart_money.orchestration.checks import column_schema
from smart_money.orchestration.io_manager import ALLOW_MISSING
from smart_money.orchestration.metadata import frame_preview
from smart_money.orchestration.names import RESEARCH_GROUP
from smart_money.orchestration.resources import DataSourceResource
from smart_money.reporting.research_report import targets_html, write_research_report
from smart_money.research.events import DisclosureEventsSchema, build_events
from smart_money.research.families import render_markdown
from smart_money.research.study import StudyConfig, run_signal_study
from smart_money.research.target_comparison import evaluate_targets
from smart_money.settings import Settings

research_asset = partial(dg.asset, group_name=RESEARCH_GROUP, tags={"layer": "research"})
EVENT_LOOKBACK_MONTHS = 12  # a cluster's first filing (30 days), a 13F's quarter before, an ETF's last snapshot
EVENT_TABLES = ("insider_trades", "institutional_holdings", "congress_trades", "etf_holdings")


def _lookback(months: int) -> dg.TimeWindowPartitionMapping:
    return dg.TimeWindowPartitionMapping(start_offset=-months, end_offset=0, allow_nonexistent_upstream_partitions=True)


def research_folder(settings: Settings) -> str:
    """Where the study's human-readable report lives (beside the stored assets)."""
    return storage.join(settings.data_location, "research")


def build_disclosure_events_asset(settings: Settings, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @research_asset(
        name="disclosure_events",
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"python", "pandas"},
        description="One row per disclosure event, in the month of its public time (known_at): family, symbol, "
        "known_at, event_date, size_usd, actor ids and what the family needs. Built from the raw tables with "
        f"{EVENT_LOOKBACK_MONTHS} months of history, point in time.\n\n" + render_markdown(),
        ins={f"raw_{table}": dg.AssetIn(partition_mapping=_lookback(EVENT_LOOKBACK_MONTHS)) for table in EVENT_TABLES},
        metadata={"dagster/column_schema": column_schema(DisclosureEventsSchema)},
    )
    def disclosure_events(
        context: dg.AssetExecutionContext,
        data_source: DataSourceResource,
        raw_insider_trades: pd.DataFrame,
        raw_institutional_holdings: pd.DataFrame,
        raw_congress_trades: pd.DataFrame,
        raw_etf_holdings: pd.DataFrame,
    ) -> dict[str, pd.DataFrame]:
        raw = {
            "insider_trades": raw_insider_trades,
            "institutional_holdings": raw_institutional_holdings,
            "congress_trades": raw_congress_trades,
            "etf_holdings": raw_etf_holdings,
        }
        tables = {t: combine_partitions(frame, t) if len(frame) else frame for t, frame in raw.items()}
        funds = settings.hedge_funds if settings.hedge_funds is not None else data_source.get().default_hedge_funds()
        keys = list(context.partition_keys)
        first, stop = pd.Timestamp(keys[0]), cal.add_months(pd.Timestamp(keys[-1]), 1)
        events = build_events(tables, funds, first, stop)
        month = events["known_at"].dt.to_period("M").dt.to_timestamp().dt.strftime("%Y-%m-%d")
        context.add_output_metadata(
            {
                "dagster/row_count": len(events),
                "by_family": dg.MetadataValue.json(events["family"].value_counts().to_dict()),
                "hedge_funds": len(funds),
                "preview": frame_preview(events.drop(columns=["event_id"])),
            }
        )
        return {key: events[month == key].reset_index(drop=True) for key in keys}

    return disclosure_events


def build_event_study_asset(settings: Settings) -> dg.AssetsDefinition:
    @research_asset(
        name="event_study",
        kinds={"python", "json", "html"},
        description="Every family measured in event time (buy-and-hold abnormal returns from the first close after "
        "the public time over 1..63 sessions, against the equal-weight universe, matched size x prior-return "
        "buckets and the market index; clustered and two-way t, date-bootstrap intervals, placebo, coverage) "
        "and in calendar time (monthly portfolios, Newey-West alphas). Stored as JSON; writes an HTML report "
        "under data/research/.",
        ins={
            "disclosure_events": dg.AssetIn(metadata={ALLOW_MISSING: True}),
            "raw_prices": dg.AssetIn(metadata={ALLOW_MISSING: True}),
            "universe": dg.AssetIn(),
        },
    )
    def event_study(
        context: dg.AssetExecutionContext,
        config: EventStudyConfig,
        data_source: DataSourceResource,
        disclosure_events: pd.DataFrame,
        raw_prices: pd.DataFrame,
        universe: pd.DataFrame,
    ) -> dict:
        source = data_source.get()
        stocks = universe.loc[universe["asset_type"] == "stock", "symbol"].drop_duplicates().tolist()
        study = run_signal_study(
            disclosure_events,
            combine_partitions(raw_prices, "prices"),
            stocks,
            source.market_index(),
            StudyConfig(**config.model_dump()),
            progress=context.log.info,
        )
        study.info["source"] = source.name
        report = write_research_report(study, research_folder(settings))
        result = study.to_json()
        headline = [
            r
            for r in result["event_study"]
            if r["benchmark"] == "matched" and r["horizon_sessions"] == 21 and r["window"] == "post_entry"
        ]
        context.add_output_metadata(
            {
                "events": study.info["events"],
                "events_with_prices": study.info["events_with_prices"],
                "matched_21_sessions": dg.MetadataValue.md(
                    pd.DataFrame(headline)[
                        ["family", "n_events", "mean_car_bp", "t_date", "ci_low_bp", "ci_high_bp"]
                    ].to_markdown(index=False, floatfmt=".2f")
                    if headline
                    else "_no events_"
                ),
                "report": dg.MetadataValue.path(report),
            }
        )
        return result

    return event_study


def excess_candidate_dir(settings: Settings, run_id: str):
    return storage.as_path(settings.models_location) / EXCESS_REGISTRY_FOLDER / "candidates" / run_id


def build_excess_model_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """trained_model_excess -> evaluation_report_excess -> registered_model_excess: the flow model on
    the excess-return sign target, with the plan's pipeline, gates and (its own) registry."""

    @research_asset(
        name="trained_model_excess",
        kinds={"python", "lightgbm"},
        description="The flow model (same normalizer, LightGBM parameters, early stopping and calibration as "
        "trained_model) trained on label_excess_sign_14d: did the stock beat its matched size x prior-return "
        "bucket over the 14-day window? No volatility prior (volatility does not predict that sign). Saved under "
        f"models/{EXCESS_REGISTRY_FOLDER}/candidates/<run id>/.",
        ins={"training_dataset": dg.AssetIn(), "dataset_splits": dg.AssetIn()},
    )
    def trained_model_excess(
        context: dg.AssetExecutionContext,
        config: TrainModelConfig,
        training_dataset: pd.DataFrame,
        dataset_splits: pd.DataFrame,
    ) -> dict:
        train_config = excess_train_config(config.train_config())
        trained = train_excess_model(training_dataset, dataset_splits, train_config)
        folder = excess_candidate_dir(settings, context.run.run_id)
        trained.model.save(folder)
        context.add_output_metadata(
            {
                "best_iteration": trained.best_iteration,
                "train_rows": trained.train_rows,
                "val_rows": trained.val_rows,
                "label": EXCESS_LABEL,
                "artifacts": dg.MetadataValue.path(str(folder)),
            }
        )
        return {
            "candidate_dir": str(folder),
            "run_id": context.run.run_id,
            "best_iteration": trained.best_iteration,
            "train_config": {k: v for k, v in train_config.__dict__.items() if k != "features"},
            "classifier_features": list(train_config.features),
            "features": list(INPUT_FEATURES),
        }

    @research_asset(
        name="evaluation_report_excess",
        kinds={"python", "html"},
        description="The excess-target model's validation/test metrics, baselines retrained on the same target "
        "and leakage warnings (the plan's gates read them), and both targets side by side on the same test "
        "samples: per-date AUC on each label, rank IC against the 14-day and the excess return (all samples and "
        "those with a fresh disclosure event), top-minus-bottom decile excess return. Writes targets.html.",
        ins={
            "trained_model_excess": dg.AssetIn(),
            "trained_model": dg.AssetIn(),
            "training_dataset": dg.AssetIn(),
            "dataset_splits": dg.AssetIn(),
            "disclosure_events": dg.AssetIn(metadata={ALLOW_MISSING: True}),
        },
    )
    def evaluation_report_excess(
        context: dg.AssetExecutionContext,
        config: EvaluationConfig,
        data_source: DataSourceResource,
        trained_model_excess: dict,
        trained_model: dict,
        training_dataset: pd.DataFrame,
        dataset_splits: pd.DataFrame,
        disclosure_events: pd.DataFrame,
    ) -> dict:
        folder = storage.as_path(trained_model_excess["candidate_dir"])
        result = evaluate_targets(
            FlowModel.load(trained_model["candidate_dir"]),
            FlowModel.load(folder),
            training_dataset,
            dataset_splits,
            disclosure_events,
            TrainConfig(**trained_model_excess["train_config"]),
            EvalConfig(**{**config.model_dump(), "walk_forward": False}),
        )
        storage.write_text(folder / "targets.html", targets_html(result))
        storage.write_text(folder / "evaluation.json", json.dumps(result, indent=2, default=str))
        test = result["summary"]["metrics"]["test"]
        context.add_output_metadata(
            {
                "test_roc_auc": test["roc_auc"],
                "test_per_date_auc": test["per_date_auc"],
                "test_rank_ic_excess": test["rank_ic_mean"],
                "targets": dg.MetadataValue.md(
                    pd.DataFrame(result["comparison"]).set_index("model").T.to_markdown(floatfmt=".4f")
                ),
                "report": dg.MetadataValue.path(str(folder / "targets.html")),
            }
        )
        window = f"{training_dataset['sample_date'].min():%Y-%m} .. {training_dataset['sample_date'].max():%Y-%m}"
        return {**result, "candidate_dir": str(folder), "source": data_source.get().name, "window": window}

    @research_asset(
        name="registered_model_excess",
        kinds={"python", "json"},
        description=f"A versioned entry of the excess-target model in its own registry, models/"
        f"{EXCESS_REGISTRY_FOLDER}/ (model id {EXCESS_MODEL_ID}), gated by the plan's gates; the plan's registry "
        "and champion are never touched.",
    )
    def registered_model_excess(
        context: dg.AssetExecutionContext,
        config: RegistryConfig,
        trained_model_excess: dict,
        evaluation_report_excess: dict,
        training_dataset: pd.DataFrame,
        dataset_splits: pd.DataFrame,
    ) -> dict:
        summary = evaluation_report_excess["summary"]
        gates = evaluate_gates(summary, GateConfig(**config.model_dump()))
        parts = excess_holdout(training_dataset, dataset_splits)
        metadata = excess_registry_metadata(
            trained_model_excess,
            summary,
            parts,
            training_dataset,
            context.run.run_id,
            evaluation_report_excess["source"],
        )
        registry = Registry(settings.models_location, EXCESS_REGISTRY_FOLDER, EXCESS_MODEL_ID)
        folder = storage.as_path(trained_model_excess["candidate_dir"])
        extra = {name: folder / name for name in ("targets.html", "evaluation.json")}
        entry = register_candidate(registry, folder, metadata, gates, parts[TEST], extra, label=EXCESS_LABEL)
        context.add_output_metadata(
            {
                "version": entry["version"],
                "status": entry["status"],
                "reasons": dg.MetadataValue.json(entry["reasons"]),
                "registry": dg.MetadataValue.path(str(registry.index_path)),
            }
        )
        return {**entry, "folder": str(registry.folder(entry["version"]))}

    return [trained_model_excess, evaluation_report_excess, registered_model_excess]
