"""Validation of raw tables with their pandera schema: exact duplicates removed and counted,
invalid rows quarantined with the reasons, the rest returned typed and ready to store."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from smart_money.data.schemas import RowCheck, TableSpec

QUARANTINE_REASON = "quarantine_reason"


class SchemaViolation(ValueError):
    """The frame is unusable as a whole (missing columns, wrong types), not just some rows."""


@dataclass
class ValidationOutcome:
    valid: pd.DataFrame
    quarantined: pd.DataFrame  # the rejected rows as received, plus `quarantine_reason`
    duplicates_removed: int
    reason_counts: Counter = field(default_factory=Counter)

    @property
    def n_quarantined(self) -> int:
        return len(self.quarantined)

    def add_rejected(self, rows: pd.DataFrame) -> None:
        """Rows a source rejected before validation (they carry their `quarantine_reason`)."""
        self.quarantined = (
            pd.concat([self.quarantined, rows], ignore_index=True)
            if len(self.quarantined)
            else rows.reset_index(drop=True)
        )
        self.reason_counts.update(rows[QUARANTINE_REASON].str.split(":").str[0] + ": unreadable row")

    def summary(self) -> dict[str, object]:
        return {
            "rows_valid": len(self.valid),
            "rows_quarantined": self.n_quarantined,
            "duplicates_removed": self.duplicates_removed,
            "quarantine_reasons": dict(self.reason_counts.most_common()),
        }


def window_schema(spec: TableSpec, lower: pd.Timestamp | None, upper: pd.Timestamp) -> pa.DataFrameSchema:
    """The table's schema plus 'every row's partition date lies in [lower, upper)'."""
    schema = copy.deepcopy(spec.schema.to_schema())
    column = spec.partition_column
    description = f"{column} in [{'start of history' if lower is None else f'{lower:%Y-%m-%d}'}, {upper:%Y-%m-%d})"

    def within(df: pd.DataFrame) -> pd.Series:
        stamps = df[column]
        ok = stamps < upper
        if lower is not None:
            ok &= stamps >= lower
        return ok

    schema.checks = [
        *schema.checks,
        RowCheck(within, name="within_partition", error=f"outside the partition: {description}"),
    ]
    return schema


def with_optional_columns(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """`frame` plus the schema's optional columns it lacks, as nulls (sources that do not know a
    column, e.g. the 10b5-1 flag outside the SEC data sets, leave it out)."""
    absent = [name for name, column in schema.columns.items() if not column.required and name not in frame.columns]
    if not absent:
        return frame

    def nulls(name: str) -> pd.Series:
        dtype = "boolean" if str(schema.columns[name].dtype) == "boolean" else object
        return pd.Series(pd.NA if dtype == "boolean" else None, index=frame.index, dtype=dtype)

    return frame.assign(**{name: nulls(name) for name in absent})


def failure_reasons(failure_cases: pd.DataFrame) -> dict[int, list[str]]:
    """Row index -> list of 'column: check' reasons from pandera's failure cases."""
    reasons: dict[int, list[str]] = {}
    rows = failure_cases.dropna(subset=["index"])
    for row in rows.itertuples(index=False):
        check = str(row.check)
        where = "row" if row.schema_context == "DataFrameSchema" else str(row.column)
        reason = f"{where}: {check}"
        bucket = reasons.setdefault(int(row.index), [])
        if reason not in bucket:
            bucket.append(reason)
    return reasons


def drop_exact_duplicates(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame.drop_duplicates(ignore_index=True)`, comparing whole rows only among the rows that
    repeat on a few typed columns (dates first, then numbers): two identical rows agree there too,
    and those columns are cheap to compare where text columns are not."""
    typed = sorted(
        (c for c in frame.columns if frame[c].dtype != object),
        key=lambda c: not pd.api.types.is_datetime64_any_dtype(frame[c].dtype),
    )[:3]
    if not typed:
        return frame.drop_duplicates(ignore_index=True)
    candidates = np.flatnonzero(frame.duplicated(subset=typed, keep=False).to_numpy())
    repeated = frame.iloc[candidates].duplicated().to_numpy()
    if not repeated.any():
        return frame if frame.index.equals(pd.RangeIndex(len(frame))) else frame.reset_index(drop=True)
    keep = np.ones(len(frame), dtype=bool)
    keep[candidates[repeated]] = False
    return frame[keep].reset_index(drop=True)


def row_level_only(failure_cases: pd.DataFrame) -> bool:
    """Every failure names its row and none is a type failure (a coercion or dtype check that
    left a column untyped)."""
    checks = failure_cases["check"].astype(str)
    return bool(failure_cases["index"].notna().all() and not checks.str.startswith(("coerce_dtype", "dtype(")).any())


def validate_and_quarantine(
    frame: pd.DataFrame,
    spec: TableSpec,
    lower: pd.Timestamp | None = None,
    upper: pd.Timestamp | None = None,
) -> ValidationOutcome:
    """Validate `frame` against the table schema (and the partition window when given).

    Exact duplicate rows are dropped and counted (they carry no information). Rows failing a
    check are returned in `quarantined` with a `quarantine_reason`; a frame-level problem
    (a required column missing, an uncoercible column) raises SchemaViolation.
    """
    schema = window_schema(spec, lower, upper) if upper is not None else spec.schema.to_schema()
    missing = [c for c, col in schema.columns.items() if c not in frame.columns and col.required]
    if missing:
        raise SchemaViolation(f"{spec.name}: missing required columns {missing}")
    work = with_optional_columns(frame, schema).reset_index(drop=True)
    before = len(work)
    work = drop_exact_duplicates(work)
    duplicates_removed = before - len(work)
    # the rows left after a quarantine need no second pass when no check was left unrun and every
    # column already had its type (no parse of dates whose format pandas infers from the first row)
    typed_input = all(
        name in work.columns and str(work[name].dtype) == str(column.dtype)
        for name, column in schema.columns.items()
        if str(column.dtype) != "str"
    )

    quarantined_parts: list[pd.DataFrame] = []
    reason_counts: Counter = Counter()
    # Two passes: checks that could not run on a bad row (TypeError, index None) rerun cleanly
    # once the row-level failures are set aside.
    for _ in range(3):
        try:
            valid = schema.validate(work, lazy=True)
            break
        except SchemaErrors as exc:
            reasons = failure_reasons(exc.failure_cases)
            if not reasons:
                summary = exc.failure_cases[["column", "check", "failure_case"]].head(10)
                raise SchemaViolation(
                    f"{spec.name}: frame-level schema failure\n{summary.to_string(index=False)}"
                ) from exc
            bad_index = sorted(reasons)
            bad = work.loc[bad_index].copy()
            bad[QUARANTINE_REASON] = ["; ".join(reasons[i]) for i in bad_index]
            for i in bad_index:
                reason_counts.update(reasons[i])
            quarantined_parts.append(bad)
            if typed_input and row_level_only(exc.failure_cases) and exc.data is not None:
                valid = exc.data.drop(index=bad_index)
                break
            work = work.drop(index=bad_index).reset_index(drop=True)
        except SchemaError as exc:  # pragma: no cover - lazy=True reports SchemaErrors
            raise SchemaViolation(f"{spec.name}: {exc}") from exc
    else:
        raise SchemaViolation(f"{spec.name}: rows kept failing validation after quarantine")

    columns = list(schema.columns)
    quarantined = (
        pd.concat(quarantined_parts, ignore_index=True)
        if quarantined_parts
        else pd.DataFrame(columns=[*frame.columns, QUARANTINE_REASON])
    )
    return ValidationOutcome(
        valid=valid[columns].reset_index(drop=True),
        quarantined=quarantined,
        duplicates_removed=duplicates_removed,
        reason_counts=reason_counts,
    )


def describe_failures(frame: pd.DataFrame, schema: pa.DataFrameSchema, limit: int = 20) -> tuple[int, str]:
    """For asset checks: (number of failing rows, markdown table naming rows and reasons)."""
    try:
        schema.validate(frame, lazy=True)
        return 0, ""
    except SchemaErrors as exc:
        reasons = failure_reasons(exc.failure_cases)
        frame_level = exc.failure_cases[exc.failure_cases["index"].isna()]
        lines = ["| row | symbol | reasons |", "|---|---|---|"]
        for i, why in list(reasons.items())[:limit]:
            symbol = frame.iloc[i]["symbol"] if "symbol" in frame.columns and i < len(frame) else ""
            lines.append(f"| {i} | {symbol} | {'; '.join(why)} |")
        for row in frame_level.head(5).itertuples(index=False):
            lines.append(f"| (frame) | | {row.column}: {row.check} |")
        count = len(reasons) + (1 if reasons == {} and len(frame_level) else 0)
        return count, "\n".join(lines)
