"""Dataset layer: point-in-time features and labels per month, the validated training dataset
and its leak-free splits. Each asset reads its inputs, calls one core function, attaches
metadata and returns."""

# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at runtime
from functools import partial

import dagster as dg
import pandas as pd

from smart_money.data.raw_pull import combine_partitions
from smart_money.dataset.catalogue import ANALYSIS_FEATURES, FEATURES, PLAN_FEATURES, render_markdown
from smart_money.dataset.features import (
    FEATURE_LOOKBACK_MONTHS,
    UniverseRules,
    build_feature_inputs,
    compute_features,
    sample_dates_for,
)
from smart_money.dataset.labels import compute_labels
from smart_money.dataset.splits import HOLDOUT, SplitSpec, build_splits, split_summary
from smart_money.dataset.training_set import (
    CRITICAL,
    WARNING,
    build_training_dataset,
    report_markdown,
    validate_training_dataset,
)
from smart_money.defs.dataset.config import SplitConfig
from smart_money.orchestration.io_manager import ALLOW_MISSING
from smart_money.orchestration.metadata import frame_preview, plain_metadata
from smart_money.orchestration.names import DATASET_GROUP
from smart_money.orchestration.resources import DataSourceResource
from smart_money.settings import Settings

dataset_asset = partial(dg.asset, group_name=DATASET_GROUP, kinds={"python", "pandas"}, tags={"layer": "dataset"})
monthly_dataset_asset = partial(dataset_asset, backfill_policy=dg.BackfillPolicy.single_run())
LABEL_PRICE_LOOKBACK_MONTHS = 7  # the matched benchmark's 126-session prior return, 60-session volatility


def _lookback(months: int) -> dg.TimeWindowPartitionMapping:
    return dg.TimeWindowPartitionMapping(start_offset=-months, end_offset=0, allow_nonexistent_upstream_partitions=True)


def by_month(frame: pd.DataFrame, keys: list[str]) -> dict[str, pd.DataFrame]:
    month = frame["sample_date"].dt.to_period("M").dt.to_timestamp().dt.strftime("%Y-%m-%d")
    return {key: frame[month == key].reset_index(drop=True) for key in keys}


def build_features_asset(settings: Settings, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    rules = UniverseRules(settings.min_inst_ownership_pct, settings.require_insider_activity)

    @monthly_dataset_asset(
        name="features",
        partitions_def=partitions,
        description="One row per (member symbol, sample date = the 15th or the last session "
        "before it): the plan's 27 smart-money features, price context, missingness "
        "indicators and analysis columns (insider trades split routine/opportunistic and "
        "planned/discretionary; not model inputs), computed only from rows known by the sample "
        "date's close. "
        "Universe rules mark (not drop) ineligible samples in `excluded_reason`.\n\n" + render_markdown(),
        ins={
            "universe": dg.AssetIn(),
            **{
                f"raw_{table}": dg.AssetIn(partition_mapping=_lookback(months))
                for table, months in FEATURE_LOOKBACK_MONTHS.items()
            },
        },
        metadata={
            "features": dg.MetadataValue.json(list(FEATURES)),
            "universe_rules": dg.MetadataValue.json(rules.__dict__),
        },
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
        raw = {
            "insider_trades": raw_insider_trades,
            "institutional_holdings": raw_institutional_holdings,
            "congress_trades": raw_congress_trades,
            "etf_holdings": raw_etf_holdings,
            "prices": raw_prices,
        }
        inputs = build_feature_inputs(universe, raw, source, settings.hedge_funds)
        keys = list(context.partition_keys)
        frame = compute_features(inputs, sample_dates_for([pd.Timestamp(k) for k in keys]), rules)
        excluded = frame["excluded_reason"].fillna("")
        context.add_output_metadata(
            {
                "dagster/row_count": len(frame),
                "sample_dates": dg.MetadataValue.json(
                    sorted(frame["sample_date"].dt.strftime("%Y-%m-%d").unique().tolist())
                ),
                "symbols": int(frame["symbol"].nunique()),
                "eligible_samples": int((excluded == "").sum()),
                "excluded_by_rule": dg.MetadataValue.json(excluded[excluded != ""].value_counts().to_dict()),
                "hedge_funds_configured": len(inputs.hedge_funds),
                "missing_share_of_plan_features": dg.MetadataValue.json(
                    frame[list(PLAN_FEATURES)].isna().mean().round(3).to_dict()
                ),
                "populated_share_of_analysis_columns": dg.MetadataValue.json(
                    frame[list(ANALYSIS_FEATURES)].notna().mean().round(3).to_dict()
                ),
                "preview": frame_preview(
                    frame[["symbol", "sample_date", *PLAN_FEATURES[:6], "volatility_60d", "excluded_reason"]]
                ),
            }
        )
        return by_month(frame, keys)

    return features


def build_labels_asset(settings: Settings, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @monthly_dataset_asset(
        name="labels",
        partitions_def=partitions,
        description="14-day labels per (symbol, sample date): return_14d on adjusted closes to the "
        "first session at or after sample + 14 days, label = return_14d > 5 % (plan option A), "
        "the mirror label (< -5 %), and the return in excess of the market index. Samples whose "
        "end price is not known yet are `pending` and stay out of training. Volatility-neutral targets beside "
        "them: the 14-day and 21-session returns in excess of the matched size x prior-return bucket, their "
        "signs (label_excess_sign_*) and their values over trailing volatility (excess_return_scaled_*).",
        ins={
            "universe": dg.AssetIn(),
            "raw_prices": dg.AssetIn(partition_mapping=_lookback(LABEL_PRICE_LOOKBACK_MONTHS)),
        },
    )
    def labels(
        context: dg.AssetExecutionContext,
        data_source: DataSourceResource,
        universe: pd.DataFrame,
        raw_prices: pd.DataFrame,
    ) -> dict[str, pd.DataFrame]:
        keys = list(context.partition_keys)
        frame = compute_labels(
            combine_partitions(raw_prices, "prices"),
            universe,
            sample_dates_for([pd.Timestamp(k) for k in keys]),
            data_source.get().market_index(),
        )
        resolved = frame[frame["status"] == "resolved"]
        context.add_output_metadata(
            {
                "dagster/row_count": len(frame),
                "status": dg.MetadataValue.json(frame["status"].value_counts().to_dict()),
                "base_rate": float(resolved["label"].astype(float).mean()) if len(resolved) else float("nan"),
                "mirror_base_rate": float(resolved["label_mirror"].astype(float).mean())
                if len(resolved)
                else float("nan"),
                "base_rate_by_date": dg.MetadataValue.json(
                    resolved.groupby(resolved["sample_date"].dt.strftime("%Y-%m-%d"))["label"]
                    .apply(lambda s: round(float(s.astype(float).mean()), 4))
                    .to_dict()
                ),
                "preview": frame_preview(frame),
            }
        )
        return by_month(frame, keys)

    return labels


def build_training_dataset_asset() -> dg.AssetsDefinition:
    @dataset_asset(
        name="training_dataset",
        description="All months of features joined with resolved labels, eligible samples only, "
        "validated (completeness, label balance, outliers, temporal integrity, coverage). "
        "CRITICAL findings block everything downstream.",
        ins={
            "features": dg.AssetIn(metadata={ALLOW_MISSING: True}),
            "labels": dg.AssetIn(metadata={ALLOW_MISSING: True}),
        },
    )
    def training_dataset(
        context: dg.AssetExecutionContext, features: pd.DataFrame, labels: pd.DataFrame
    ) -> pd.DataFrame:
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


def build_splits_asset() -> dg.AssetsDefinition:
    @dataset_asset(
        name="dataset_splits",
        description="Chronological train/val/test (70/15/15 by sample date) with purge and "
        "embargo, plus expanding walk-forward folds before the test block (or over the whole window "
        "with walk_forward_through_test). One long table: "
        "(symbol, sample_date, scheme, fold, role). The plan's stratified random split is an "
        "option and is flagged LEAKY.",
    )
    def dataset_splits(
        context: dg.AssetExecutionContext, config: SplitConfig, training_dataset: pd.DataFrame
    ) -> pd.DataFrame:
        spec = SplitSpec(**config.model_dump())
        splits = build_splits(training_dataset, spec)
        summary = split_summary(splits, training_dataset)
        context.add_output_metadata(
            {
                "dagster/row_count": len(splits),
                "method": spec.method,
                "leaky": spec.leaky,
                "warning": "LEAKY: a random split on a panel puts rows of one date on both sides"
                if spec.leaky
                else "none",
                **plain_metadata({"summary": summary}),
                "holdout_roles": dg.MetadataValue.json(
                    splits[splits["scheme"] == HOLDOUT]["role"].value_counts().to_dict()
                ),
            }
        )
        return splits

    return dataset_splits
