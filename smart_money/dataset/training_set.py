"""The training dataset: features joined with resolved labels, and its validation report.

Findings have a severity: CRITICAL blocks everything downstream (temporal integrity, schema,
constant features), WARNING is shown and kept (completeness, balance, coverage), INFO is
context (outliers, pending and excluded samples).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd
import pandera.pandas as pa

from smart_money.dataset.catalogue import (
    ANALYSIS_FEATURES,
    BY_NAME,
    DATE_LEVEL_FEATURES,
    FEATURES,
    INDICATORS,
    MISSING_INDICATORS,
    MODEL_FEATURES,
    PROVENANCE_COLUMNS,
)

CRITICAL, WARNING, INFO = "CRITICAL", "WARNING", "INFO"
KEY = ["symbol", "sample_date"]


@dataclass(frozen=True)
class Finding:
    severity: str
    check: str
    message: str
    value: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


class TrainingDatasetSchema(pa.DataFrameModel):
    symbol: str
    sample_date: pd.Timestamp
    cutoff: pd.Timestamp
    label_end_date: pd.Timestamp
    return_14d: float = pa.Field(gt=-1.0)
    label: int = pa.Field(isin=[0, 1])
    label_mirror: int = pa.Field(isin=[0, 1])

    class Config:
        coerce = True
        unique = ["symbol", "sample_date"]

    @pa.dataframe_check(error="label end is not after the sample date")
    def label_after_sample(cls, df: pd.DataFrame) -> pd.Series:
        return df["label_end_date"] > df["sample_date"]


def features_schema() -> pa.DataFrameSchema:
    """The features table: every catalogue column, indicators 0/1, one row per key, and every
    family's newest input no later than the sample's cutoff (the point-in-time guard)."""
    columns = {
        "symbol": pa.Column(str),
        "sample_date": pa.Column("datetime64[ns]"),
        "cutoff": pa.Column("datetime64[ns]"),
        **{name: pa.Column(float, nullable=True) for name in FEATURES if name not in INDICATORS},
        **{name: pa.Column(float, pa.Check.isin([0.0, 1.0])) for name in INDICATORS},
        **{name: pa.Column("datetime64[ns]", nullable=True) for name in PROVENANCE_COLUMNS},
        "excluded_reason": pa.Column(str, nullable=True),
    }

    def inputs_not_after_cutoff(df: pd.DataFrame) -> pd.Series:
        ok = pd.Series(True, index=df.index)
        for column in [c for c in df.columns if c.startswith("asof_")]:  # declared provenance of any feature
            ok &= df[column].isna() | (df[column] <= df["cutoff"])
        return ok

    checks = [
        pa.Check(
            inputs_not_after_cutoff,
            name="inputs_not_after_cutoff",
            error="an input is newer than the sample's cutoff (lookahead)",
        )
    ]
    return pa.DataFrameSchema(columns, checks=checks, unique=KEY, coerce=True, strict=False)


def labels_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "symbol": pa.Column(str),
            "sample_date": pa.Column("datetime64[ns]"),
            "label_end_date": pa.Column("datetime64[ns]"),
            "status": pa.Column(str, pa.Check.isin(["resolved", "pending", "no_price"])),
            "return_14d": pa.Column(float, pa.Check.gt(-1.0), nullable=True),
            "label": pa.Column("Int8", pa.Check.isin([0, 1]), nullable=True),
            "label_mirror": pa.Column("Int8", pa.Check.isin([0, 1]), nullable=True),
        },
        checks=[
            pa.Check(
                lambda df: df["label_end_date"] > df["sample_date"],
                name="label_after_sample",
                error="label end is not after the sample date",
            ),
            pa.Check(
                lambda df: (df["status"] == "resolved") == df["label"].notna(),
                name="label_iff_resolved",
                error="a label is set on an unresolved sample (or missing on a resolved one)",
            ),
        ],
        unique=KEY,
        coerce=True,
        strict=False,
    )


def build_training_dataset(features: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Eligible samples with resolved labels; counts of what was left out and why."""
    joined = features.merge(labels, on=KEY, how="left", validate="one_to_one")
    eligible = joined["excluded_reason"].fillna("") == ""
    resolved = joined["status"] == "resolved"
    counts = {
        "samples": int(len(joined)),
        "excluded_by_universe_rules": int((~eligible).sum()),
        "pending_labels": int((eligible & (joined["status"] == "pending")).sum()),
        "no_price_labels": int(
            (eligible & joined["status"].isin(["no_price"])).sum() + (eligible & joined["status"].isna()).sum()
        ),
    }
    dataset = joined[eligible & resolved].copy()
    for column in ("label", "label_mirror", "label_market_relative"):
        dataset[column] = dataset[column].astype("Int8")
    dataset = dataset.sort_values(KEY).reset_index(drop=True)
    counts["rows"] = int(len(dataset))
    return dataset, counts


def validate_training_dataset(dataset: pd.DataFrame, outlier_quantile: float = 0.99) -> list[Finding]:
    findings: list[Finding] = []
    missing_columns = [f for f in FEATURES if f not in dataset.columns]
    if missing_columns:
        findings.append(Finding(CRITICAL, "catalogue", f"features missing from the dataset: {missing_columns}"))
        return findings
    if dataset.empty:
        return [Finding(CRITICAL, "rows", "the training dataset is empty")]

    try:
        TrainingDatasetSchema.validate(dataset, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        findings.append(
            Finding(
                CRITICAL,
                "schema",
                f"{len(cases)} schema failures, e.g. {cases[['column', 'check']].head(3).to_dict('records')}",
                float(len(cases)),
            )
        )

    # temporal integrity: every input known by the cutoff (each family, and any added feature,
    # declares its newest input in an asof_* column); every label price after the sample
    for column in [c for c in dataset.columns if c.startswith("asof_")]:
        late = dataset[column] > dataset["cutoff"]
        if late.any():
            example = dataset.loc[late, ["symbol", "sample_date", column]].head(3).astype(str).to_dict("records")
            findings.append(
                Finding(
                    CRITICAL,
                    "temporal_integrity",
                    f"{int(late.sum())} rows use {column.removeprefix('asof_')} data newer than their cutoff, e.g. "
                    f"{example}",
                    float(late.sum()),
                )
            )

    features = dataset[list(FEATURES)]
    # quality rules for model inputs; analysis columns are only reported (their data is often
    # missing by nature: short histories, forms without the 10b5-1 box)
    model_features = [f for f in MODEL_FEATURES if f not in MISSING_INDICATORS]
    for name in model_features:
        values = features[name].dropna()
        if values.empty:
            findings.append(
                Finding(
                    WARNING,
                    "all_missing",
                    f"{name} is missing everywhere (no input for it in this window: {BY_NAME[name].source_table} has "
                    "no rows, or a value it needs, such as shares outstanding, is unknown)",
                )
            )
        elif values.nunique() == 1:
            findings.append(
                Finding(
                    CRITICAL,
                    "constant_feature",
                    f"{name} is constant ({values.iloc[0]!r}) across the dataset: a placeholder, not data",
                )
            )
        elif name not in DATE_LEVEL_FEATURES:
            per_date = dataset.groupby("sample_date")[name].nunique(dropna=True)
            share_constant = float((per_date <= 1).mean())
            if share_constant > 0.5 and values.nunique() > 1 and dataset.groupby("sample_date").size().median() >= 50:
                findings.append(
                    Finding(
                        WARNING,
                        "constant_within_dates",
                        f"{name} is constant within {share_constant:.0%} of dates",
                        share_constant,
                    )
                )

    completeness = float(features[model_features].notna().to_numpy().mean())
    findings.append(
        Finding(
            INFO if completeness > 0.85 else WARNING,
            "completeness",
            f"{completeness:.1%} of feature values populated (plan: > 85 %)",
            completeness,
        )
    )
    missing_share = features[model_features].isna().mean()
    for name, share in missing_share[missing_share > 0.10].items():
        findings.append(
            Finding(WARNING, "feature_missing", f"{name} missing in {share:.1%} of rows (plan: < 10 %)", float(share))
        )

    populated = features[list(ANALYSIS_FEATURES)].notna().mean()
    findings.append(
        Finding(
            INFO,
            "analysis_columns",
            "analysis columns (not model inputs) populated in "
            + ", ".join(f"{share:.0%} ({name})" for name, share in populated.items())
            + " of rows",
            float(populated.mean()),
        )
    )

    base_rate = float(dataset["label"].astype(float).mean())
    balanced = 0.30 <= base_rate <= 0.70
    findings.append(
        Finding(
            INFO if balanced else WARNING,
            "label_balance",
            f"base rate {base_rate:.1%} of samples rose more than 5 % in 14 days"
            + (
                ""
                if balanced
                else " (outside 30-70 %: use ranking metrics and calibrated probabilities, never accuracy)"
            ),
            base_rate,
        )
    )

    numeric = features[model_features]
    upper = numeric.quantile(outlier_quantile)
    lower = numeric.quantile(1 - outlier_quantile)
    outliers = ((numeric > upper) | (numeric < lower)).sum()
    findings.append(
        Finding(
            INFO,
            "outliers",
            f"{int(outliers.sum())} values outside the {1 - outlier_quantile:.0%}-{outlier_quantile:.0%} quantiles "
            "(kept; winsorizing is a training option fitted on train only)",
            float(outliers.sum()),
        )
    )

    per_date = dataset.groupby("sample_date")["symbol"].nunique()
    thin = per_date[per_date < 0.5 * per_date.median()]
    findings.append(
        Finding(
            WARNING if len(thin) else INFO,
            "symbol_coverage",
            f"{int(per_date.min())}-{int(per_date.max())} symbols per date (median {per_date.median():.0f}); "
            f"{len(thin)} dates below half the median",
            float(per_date.median()),
        )
    )
    return findings


def report_markdown(findings: list[Finding], counts: dict[str, int] | None = None) -> str:
    lines = ["| severity | check | finding |", "|---|---|---|"]
    order = {CRITICAL: 0, WARNING: 1, INFO: 2}
    for f in sorted(findings, key=lambda f: order[f.severity]):
        lines.append(f"| {f.severity} | {f.check} | {f.message} |")
    if counts:
        lines += ["", "| count | value |", "|---|---|", *(f"| {k} | {v:,} |" for k, v in counts.items())]
    return "\n".join(lines)


def has_critical(findings: list[Finding]) -> bool:
    return any(f.severity == CRITICAL for f in findings)
