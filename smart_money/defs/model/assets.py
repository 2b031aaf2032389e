"""Model layer: the trained flow model, its evaluation report and the gated registry entry."""

# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at runtime
import json
from functools import partial

import dagster as dg
import pandas as pd
from upath import UPath

from smart_money.data import storage
from smart_money.data.raw_pull import combine_partitions
from smart_money.data.source import OracleSource
from smart_money.dataset.splits import TEST, TRAIN, VAL
from smart_money.defs.model.config import EvaluationConfig, RegistryConfig, TrainModelConfig
from smart_money.evaluation.flow_evaluation import EvalConfig, evaluate, holdout
from smart_money.evaluation.gates import GateConfig, evaluate_gates
from smart_money.evaluation.independent_universes import cache_location, independent_universes
from smart_money.evaluation.parameter_search import search_parameters
from smart_money.evaluation.registration import register_candidate, registry_metadata
from smart_money.model.flow_model import (
    CLASSIFIER_FEATURES,
    INPUT_FEATURES,
    FlowModel,
    TrainConfig,
    feature_importance,
    train_flow_model,
    volatility_samples,
)
from smart_money.model.registry import REGISTRY_FOLDER, Registry
from smart_money.orchestration.io_manager import ALLOW_MISSING
from smart_money.orchestration.metadata import plain_metadata
from smart_money.orchestration.names import MODEL_GROUP
from smart_money.orchestration.resources import DataSourceResource
from smart_money.reporting.html_report import (
    make_plots,
    markdown_summary,
    plots_markdown,
    render_html,
)
from smart_money.settings import Settings

GATES_CHECK = "gates"
model_asset = partial(dg.asset, group_name=MODEL_GROUP, tags={"layer": "model"})


def candidate_dir(settings: Settings, run_id: str) -> UPath:
    return storage.as_path(settings.models_location) / REGISTRY_FOLDER / "candidates" / run_id


def build_model_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """trained_model -> evaluation_report -> registered_model (unpartitioned: all months)."""

    @model_asset(
        name="trained_model",
        kinds={"python", "lightgbm"},
        description="LightGBM binary classifier (the plan's parameters, unweighted, early stopping "
        "on validation) boosted from a volatility prior, plus the plan's z-score normalizer and a "
        "calibrator fitted on the later validation window. Saved as text/JSON under "
        "models/smart-money-flow/candidates/<run id>/ (see docs/model.md for why this shape).",
        ins={
            "training_dataset": dg.AssetIn(),
            "dataset_splits": dg.AssetIn(),
            "raw_prices": dg.AssetIn(metadata={ALLOW_MISSING: True}),
        },
    )
    def trained_model(
        context: dg.AssetExecutionContext,
        config: TrainModelConfig,
        data_source: DataSourceResource,
        training_dataset: pd.DataFrame,
        dataset_splits: pd.DataFrame,
        raw_prices: pd.DataFrame,
    ) -> dict:
        parts = holdout(training_dataset, dataset_splits)
        train_config = config.train_config()
        prices = combine_partitions(raw_prices, "prices")
        samples = volatility_samples(
            prices,
            data_source.get().market_index(),
            parts[TRAIN]["sample_date"].min(),
            parts[VAL]["sample_date"].min(),
            train_config.volatility_step,
        )
        search_table = None
        if config.search:
            result = search_parameters(parts[TRAIN], train_config, samples)
            train_config = TrainConfig(**{**train_config.__dict__, "params": result.best_params})
            search_table = result.table
            context.log.info(f"parameter search: best {result.best_params} of {len(result.table)} configurations")
        trained = train_flow_model(parts[TRAIN], parts[VAL], train_config, samples)
        folder = candidate_dir(settings, context.run.run_id)
        trained.model.save(folder)
        storage.write_parquet(folder / "volatility_samples.parquet", samples)
        importance = feature_importance(trained.model)
        context.add_output_metadata(
            {
                "best_iteration": trained.best_iteration,
                "volatility_best_iteration": trained.volatility_best_iteration,
                "train_rows": trained.train_rows,
                "val_rows": trained.val_rows,
                "volatility_samples": len(samples),
                "calibrator": dg.MetadataValue.json(
                    trained.model.calibrator.to_json()
                    if trained.model.calibrator.method != "isotonic"
                    else {"method": "isotonic"}
                ),
                "prior": dg.MetadataValue.json(trained.model.prior.__dict__ if trained.model.prior else {}),
                "top_importance": dg.MetadataValue.json(dict(list(importance.items())[:15])),
                "artifacts": dg.MetadataValue.path(str(folder)),
                "parameter_search": dg.MetadataValue.md(search_table.to_markdown(index=False, floatfmt=".4f"))
                if search_table is not None
                else "off (TrainModelConfig.search)",
            }
        )
        return {
            "candidate_dir": str(folder),
            "run_id": context.run.run_id,
            "best_iteration": trained.best_iteration,
            "volatility_best_iteration": trained.volatility_best_iteration,
            "train_config": {k: v for k, v in train_config.__dict__.items() if k != "features"},
            "classifier_features": list(CLASSIFIER_FEATURES),
            "features": list(INPUT_FEATURES),
            "n_train": trained.train_rows,
            "n_val": trained.val_rows,
        }

    @model_asset(
        name="evaluation_report",
        kinds={"python", "html"},
        description="Validation/test metrics with date-bootstrap intervals, baselines trained the same "
        "way, the mirror label, walk-forward folds, feature analysis and leakage warnings; on the "
        "simulated source also both oracles and independent simulated universes. Writes a "
        "self-contained report.html next to the model.",
    )
    def evaluation_report(
        context: dg.AssetExecutionContext,
        config: EvaluationConfig,
        data_source: DataSourceResource,
        trained_model: dict,
        training_dataset: pd.DataFrame,
        dataset_splits: pd.DataFrame,
    ) -> dict:
        folder = storage.as_path(trained_model["candidate_dir"])
        model = FlowModel.load(folder)
        samples = storage.read_parquet(folder / "volatility_samples.parquet")
        source = data_source.get()
        oracle = independent = None
        if isinstance(source, OracleSource):
            keys = training_dataset[["symbol", "sample_date"]]
            values = source.oracle(keys)
            oracle = keys.assign(
                oracle_public=values["oracle_public"].to_numpy(), oracle_truth=values["oracle_truth"].to_numpy()
            )
            if config.independent_worlds > 0:
                first = training_dataset["sample_date"].min().to_period("M").to_timestamp()
                last = training_dataset["sample_date"].max().to_period("M").to_timestamp()
                independent = independent_universes(
                    source,
                    config.independent_worlds,
                    config.independent_symbols,
                    first,
                    last,
                    cache_dir=cache_location(settings.data_location),
                )
        train_config = TrainConfig(**{**trained_model["train_config"]})
        result = evaluate(
            model,
            training_dataset,
            dataset_splits,
            train_config,
            EvalConfig(**config.model_dump()),
            oracle,
            independent,
            samples,
            volatility_rounds=trained_model["volatility_best_iteration"],
        )
        plots = make_plots(result)
        window = f"{training_dataset['sample_date'].min():%Y-%m} .. {training_dataset['sample_date'].max():%Y-%m}"
        html = render_html(
            result,
            plots,
            {"version": "candidate " + trained_model["run_id"][:8], "source": source.name, "window": window},
        )
        storage.write_text(folder / "report.html", html)
        storage.write_text(folder / "evaluation.json", json.dumps(result.summary, indent=2, default=str))
        test_rows = holdout(training_dataset, dataset_splits)[TEST]
        predictions = result.predictions.merge(
            test_rows[["symbol", "sample_date", *INPUT_FEATURES]], on=["symbol", "sample_date"]
        )
        storage.write_parquet(folder / "test_predictions.parquet", predictions)
        test = result.summary["metrics"]["test"]
        context.add_output_metadata(
            {
                "test_roc_auc": test["roc_auc"],
                "test_per_date_auc": test["per_date_auc"],
                "test_ece": test["ece"],
                "test_brier_skill": test["brier_skill"],
                "warnings": dg.MetadataValue.json(result.warnings),
                "summary": dg.MetadataValue.md(markdown_summary(result)),
                "plots": dg.MetadataValue.md(plots_markdown(plots)),
                "report": dg.MetadataValue.path(str(folder / "report.html")),
                "independent_universes": dg.MetadataValue.text(
                    "none (not the simulated source, or independent_worlds: 0)"
                    if independent is None
                    else f"{config.independent_worlds} universes of {config.independent_symbols} symbols: "
                    f"{independent.attrs.get('built', 0)} built by this step, the rest read from the cache"
                ),
            }
        )
        return {"candidate_dir": str(folder), "summary": result.summary, "source": source.name, "window": window}

    @model_asset(
        name="registered_model",
        kinds={"python", "json"},
        description="A versioned registry entry under models/smart-money-flow/ (registry.json plus a "
        "vX.Y.Z folder with sha256-verified artifacts). Champion only if every gate passes and it "
        "beats the current champion on the same test rows; otherwise kept as a rejected or "
        "runner-up candidate with its reasons.",
        check_specs=[
            dg.AssetCheckSpec(
                GATES_CHECK,
                asset="registered_model",
                description="Every publication gate passed (docs/deployment.md#gates): failed, with WARN "
                "severity, when the version was registered as rejected.",
            )
        ],
    )
    def registered_model(
        context: dg.AssetExecutionContext,
        config: RegistryConfig,
        trained_model: dict,
        evaluation_report: dict,
        training_dataset: pd.DataFrame,
        dataset_splits: pd.DataFrame,
    ):  # yields the registry entry (a dict) and then the `gates` check's result
        summary = evaluation_report["summary"]
        gates = evaluate_gates(summary, GateConfig(**config.model_dump()))
        folder = storage.as_path(trained_model["candidate_dir"])
        parts = holdout(training_dataset, dataset_splits)
        metadata = registry_metadata(trained_model, evaluation_report, parts, training_dataset, context.run.run_id)
        registry = Registry(settings.models_location)
        extra = {name: folder / name for name in ("report.html", "test_predictions.parquet", "evaluation.json")}
        entry = register_candidate(registry, folder, metadata, gates, parts[TEST], extra)
        yield dg.Output(
            {**entry, "folder": str(registry.folder(entry["version"]))},
            metadata={
                "version": entry["version"],
                "status": entry["status"],
                "reasons": dg.MetadataValue.json(entry["reasons"]),
                "gates": dg.MetadataValue.md(
                    "| gate | passed | value | threshold |\n|---|---|---|---|\n"
                    + "\n".join(
                        f"| {n} | {g['passed']} | {g['value']:.4f} | {g['threshold']} |" for n, g in gates.items()
                    )
                ),
                "registry": dg.MetadataValue.path(str(registry.index_path)),
                "report": dg.MetadataValue.path(str(registry.folder(entry["version"]) / "report.html")),
                **plain_metadata({"metrics": entry["metrics"]}),
            },
        )
        yield gates_check_result(entry, gates)

    return [trained_model, evaluation_report, registered_model]


def gates_check_result(entry: dict, gates: dict[str, dict]) -> dg.AssetCheckResult:
    """The `gates` check of a registered version: passed unless the version was rejected (WARN:
    the run succeeds and the version stays inspectable), each gate's value and threshold."""
    failed = [name for name, gate in gates.items() if not gate["passed"]]
    return dg.AssetCheckResult(
        check_name=GATES_CHECK,
        passed=not failed,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"v{entry['version']} rejected: failed {', '.join(failed)}" if failed else None,
        metadata={
            "version": entry["version"],
            "status": entry["status"],
            "failed_gates": dg.MetadataValue.json(failed),
            **{f"{name}_value": float(gate["value"]) for name, gate in gates.items()},
            **{f"{name}_threshold": float(gate["threshold"]) for name, gate in gates.items()},
        },
    )
