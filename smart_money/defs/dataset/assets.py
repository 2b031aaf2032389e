"""Dataset layer: point-in-time features and labels per month, the validated training dataset
and its leak-free splits. Each asset reads its inputs, calls one core function, attaches
metadata and returns."""

import dagster as dg
import pandas as pd

from smart_money.orchestration.metadata import frame_preview, plain_metadata
from smart_money.dataset.catalogue import FEATURES, PLAN_FEATURES, render_markdown
from smart_money.dataset.training_set import (
    CRITICAL,
    WARNING,
    build_training_dataset,
    features_schema,
    labels_schema,
    report_markdown,
    validate_training_dataset,
)
from smart_money.dataset.features import FeatureInputs, UniverseRules, compute_features, sample_dates_for
from smart_money.data.raw_pull import combine_partitions
from smart_money.dataset.labels import compute_labels
from smart_money.data.quality import describe_failures
from smart_money.settings import Settings
from smart_money.dataset.splits import HOLDOUT, SplitSpec, build_splits, split_summary
from smart_money.orchestration.io_manager import ALLOW_MISSING
from smart_money.orchestration.resources import DataSourceResource

OWNERS = ["team:smart-money"]
DATASET_GROUP = "dataset"
EVENT_LOOKBACK_MONTHS = 12  # insider 90d, 13F two quarters, universe rule 365d
PRICE_LOOKBACK_MONTHS = 13  # 12-1 momentum, 250-session beta


def _lookback(months: int) -> dg.TimeWindowPartitionMapping:
    return dg.TimeWindowPartitionMapping(start_offset=-months, end_offset=0, allow_nonexistent_upstream_partitions=True)


def by_month(frame: pd.DataFrame, keys: list[str]) -> dict[str, pd.DataFrame]:
    month = frame["sample_date"].dt.to_period("M").dt.to_timestamp().dt.strftime("%Y-%m-%d")
    return {key: frame[month == key].reset_index(drop=True) for key in keys}


def build_features_asset(settings: Settings, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    rules = UniverseRules(settings.min_inst_ownership_pct, settings.require_insider_activity)

    @dg.asset(
        name="features",
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=DATASET_GROUP,
        owners=OWNERS,
        kinds={"python", "pandas"},
        tags={"layer": "dataset"},
        description="One row per (member symbol, sample date = the 15th or the last session "
        "before it): the plan's 27 smart-money features, price context and missingness "
        "indicators, computed only from rows known by the sample date's close. "
        "Universe rules mark (not drop) ineligible samples in `excluded_reason`.\n\n" + render_markdown(),
        ins={
            "universe": dg.AssetIn(),
            "raw_insider_trades": dg.AssetIn(partition_mapping=_lookback(EVENT_LOOKBACK_MONTHS)),
            "raw_institutional_holdings": dg.AssetIn(partition_mapping=_lookback(EVENT_LOOKBACK_MONTHS)),
            "raw_congress_trades": dg.AssetIn(partition_mapping=_lookback(EVENT_LOOKBACK_MONTHS)),
            "raw_etf_holdings": dg.AssetIn(partition_mapping=_lookback(EVENT_LOOKBACK_MONTHS)),
            "raw_prices": dg.AssetIn(partition_mapping=_lookback(PRICE_LOOKBACK_MONTHS)),
        },
        metadata={"features": dg.MetadataValue.json(list(FEATURES)), "universe_rules": dg.MetadataValue.json(rules.__dict__)},
    )
    def features(
        context: dg.AssetExecutionContext,
        data_source: DataSourceResource,
        universe: pd.DataFrame,
        raw_insider_trades: pd.DataFrame,
        raw_institutional_holdings: pd.DataFrame,
        raw_congress_trades: pd.DataFrame,
        raw_etf_holdings: pd.DataFrame,
        raw_prices: pd.DataFrame,
    ) -> dict[str, pd.DataFrame]:
        source = data_source.get()
        hedge_funds = settings.hedge_funds or tuple(source.default_hedge_funds())
        inputs = FeatureInputs(
            universe=universe,
            insider_trades=combine_partitions(raw_insider_trades, "insider_trades"),
            institutional_holdings=combine_partitions(raw_institutional_holdings, "institutional_holdings"),
            congress_trades=combine_partitions(raw_congress_trades, "congress_trades"),
            etf_holdings=combine_partitions(raw_etf_holdings, "etf_holdings"),
            prices=combine_partitions(raw_prices, "prices"),
            hedge_funds=frozenset(hedge_funds),
            market_index=source.market_index(),
        )
        keys = list(context.partition_keys)
        frame = compute_features(inputs, sample_dates_for([pd.Timestamp(k) for k in keys]), rules)
        excluded = frame["excluded_reason"].fillna("")
        context.add_output_metadata(
            {
                "dagster/row_count": len(frame),
                "sample_dates": dg.MetadataValue.json(sorted(frame["sample_date"].dt.strftime("%Y-%m-%d").unique().tolist())),
                "symbols": int(frame["symbol"].nunique()),
                "eligible_samples": int((excluded == "").sum()),
                "excluded_by_rule": dg.MetadataValue.json(excluded[excluded != ""].value_counts().to_dict()),
                "hedge_funds_configured": len(hedge_funds),
                "missing_share_of_plan_features": dg.MetadataValue.json(frame[list(PLAN_FEATURES)].isna().mean().round(3).to_dict()),
                "preview": frame_preview(frame[["symbol", "sample_date", *PLAN_FEATURES[:6], "volatility_60d", "excluded_reason"]]),
            }
        )
        return by_month(frame, keys)

    return features


def build_labels_asset(settings: Settings, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="labels",
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=DATASET_GROUP,
        owners=OWNERS,
        kinds={"python", "pandas"},
        tags={"layer": "dataset"},
        description="14-day labels per (symbol, sample date): return_14d on adjusted closes to the "
        "first session at or after sample + 14 days, label = return_14d > 5 % (plan option A), "
        "the mirror label (< -5 %), and the return in excess of the market index. Samples whose "
        "end price is not known yet are `pending` and stay out of training.",
    )
    def labels(context: dg.AssetExecutionContext, data_source: DataSourceResource, universe: pd.DataFrame, raw_prices: pd.DataFrame) -> dict[str, pd.DataFrame]:
        keys = list(context.partition_keys)
        frame = compute_labels(
            combine_partitions(raw_prices, "prices"), universe, sample_dates_for([pd.Timestamp(k) for k in keys]), data_source.get().market_index()
        )
        resolved = frame[frame["status"] == "resolved"]
        context.add_output_metadata(
            {
                "dagster/row_count": len(frame),
                "status": dg.MetadataValue.json(frame["status"].value_counts().to_dict()),
                "base_rate": float(resolved["label"].astype(float).mean()) if len(resolved) else float("nan"),
                "mirror_base_rate": float(resolved["label_mirror"].astype(float).mean()) if len(resolved) else float("nan"),
                "base_rate_by_date": dg.MetadataValue.json(resolved.groupby(resolved["sample_date"].dt.strftime("%Y-%m-%d"))["label"].apply(lambda s: round(float(s.astype(float).mean()), 4)).to_dict()),
                "preview": frame_preview(frame),
            }
        )
        return by_month(frame, keys)

    return labels


def _frame_check(asset: dg.AssetsDefinition, name: str, schema_fn, partitions: dg.PartitionsDefinition, description: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name=name, blocking=True, partitions_def=partitions, description=description)
    def check(frame: pd.DataFrame) -> dg.AssetCheckResult:
        failing, table_md = describe_failures(frame, schema_fn())
        return dg.AssetCheckResult(
            passed=failing == 0,
            metadata={"failing_rows": failing, "rows_checked": len(frame), "failures": dg.MetadataValue.md(table_md or "none")},
        )

    return check


def build_training_dataset_asset() -> dg.AssetsDefinition:
    @dg.asset(
        name="training_dataset",
        group_name=DATASET_GROUP,
        owners=OWNERS,
        kinds={"python", "pandas"},
        tags={"layer": "dataset"},
        description="All months of features joined with resolved labels, eligible samples only, "
        "validated (completeness, label balance, outliers, temporal integrity, coverage). "
        "CRITICAL findings block everything downstream.",
        ins={
            "features": dg.AssetIn(metadata={ALLOW_MISSING: True}),
            "labels": dg.AssetIn(metadata={ALLOW_MISSING: True}),
        },
    )
    def training_dataset(context: dg.AssetExecutionContext, features: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
        dataset, counts = build_training_dataset(features, labels)
        findings = validate_training_dataset(dataset)
        context.add_output_metadata(
            {
                "dagster/row_count": len(dataset),
                **counts,
                "sample_dates": int(dataset["sample_date"].nunique()),
                "symbols": int(dataset["symbol"].nunique()),
                "base_rate": float(dataset["label"].astype(float).mean()) if len(dataset) else float("nan"),
                "critical_findings": sum(f.severity == CRITICAL for f in findings),
                "warnings": sum(f.severity == WARNING for f in findings),
                "validation_report": dg.MetadataValue.md(report_markdown(findings, counts)),
            }
        )
        return dataset

    return training_dataset


def build_training_dataset_checks(asset: dg.AssetsDefinition) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(asset=asset, name="critical", blocking=True, description="No CRITICAL finding: schema, temporal integrity (no input newer than its sample's cutoff, labels after the sample), no constant features.")
    def critical(frame: pd.DataFrame) -> dg.AssetCheckResult:
        findings = [f for f in validate_training_dataset(frame) if f.severity == CRITICAL]
        return dg.AssetCheckResult(passed=not findings, metadata={"findings": dg.MetadataValue.md(report_markdown(findings) if findings else "none")})

    @dg.asset_check(asset=asset, name="warnings", description="WARNING findings (completeness, label balance, coverage): shown, not blocking.")
    def warnings(frame: pd.DataFrame) -> dg.AssetCheckResult:
        findings = [f for f in validate_training_dataset(frame) if f.severity == WARNING]
        return dg.AssetCheckResult(passed=not findings, severity=dg.AssetCheckSeverity.WARN, metadata={"findings": dg.MetadataValue.md(report_markdown(findings) if findings else "none")})

    return [critical, warnings]


DEFAULT_SPLIT = SplitSpec()


class SplitConfig(dg.Config):
    """How to split (the launchpad's view of core.splits.SplitSpec, whose defaults, the
    leak-free ones, it takes)."""

    method: str = DEFAULT_SPLIT.method  # or "stratified_random" (flagged LEAKY)
    train_fraction: float = DEFAULT_SPLIT.train_fraction
    val_fraction: float = DEFAULT_SPLIT.val_fraction
    purge: bool = DEFAULT_SPLIT.purge
    embargo_days: int = DEFAULT_SPLIT.embargo_days
    walk_forward_min_train_dates: int = DEFAULT_SPLIT.walk_forward_min_train_dates
    walk_forward_step_dates: int = DEFAULT_SPLIT.walk_forward_step_dates
    walk_forward_through_test: bool = DEFAULT_SPLIT.walk_forward_through_test  # True: folds over the whole window (real-data study)
    seed: int = DEFAULT_SPLIT.seed


def build_splits_asset() -> dg.AssetsDefinition:
    @dg.asset(
        name="dataset_splits",
        group_name=DATASET_GROUP,
        owners=OWNERS,
        kinds={"python", "pandas"},
        tags={"layer": "dataset"},
        description="Chronological train/val/test (70/15/15 by sample date) with purge and "
        "embargo, plus expanding walk-forward folds before the test block (or over the whole window "
        "with walk_forward_through_test). One long table: "
        "(symbol, sample_date, scheme, fold, role). The plan's stratified random split is an "
        "option and is flagged LEAKY.",
    )
    def dataset_splits(context: dg.AssetExecutionContext, config: SplitConfig, training_dataset: pd.DataFrame) -> pd.DataFrame:
        spec = SplitSpec(**config.model_dump())
        splits = build_splits(training_dataset, spec)
        summary = split_summary(splits, training_dataset)
        context.add_output_metadata(
            {
                "dagster/row_count": len(splits),
                "method": spec.method,
                "leaky": spec.leaky,
                "warning": "LEAKY: a random split on a panel puts rows of one date on both sides" if spec.leaky else "none",
                **plain_metadata({"summary": summary}),
                "holdout_roles": dg.MetadataValue.json(splits[splits["scheme"] == HOLDOUT]["role"].value_counts().to_dict()),
            }
        )
        return splits

    return dataset_splits


def build_dataset(settings: Settings, partitions: dg.PartitionsDefinition) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    features = build_features_asset(settings, partitions)
    labels = build_labels_asset(settings, partitions)
    training = build_training_dataset_asset()
    splits = build_splits_asset()
    checks = [
        _frame_check(features, "schema", features_schema, partitions, "Features schema: every catalogue column, indicators 0/1, unique (symbol, sample date), and no family input newer than the sample's cutoff."),
        _frame_check(labels, "schema", labels_schema, partitions, "Labels schema: label iff resolved, label end after the sample date."),
        *build_training_dataset_checks(training),
    ]
    return [features, labels, training, splits], checks

