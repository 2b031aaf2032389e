"""The normalized raw tables every source produces, as pandera models.

Each event row carries `event_date` (when it happened: trade date, quarter end, holdings date)
and `known_at` (when it became public: Form 4 / 13F filing, congressional disclosure, ETF
report), as a tz-naive America/New_York timestamp. Sources whose public date has no time of
day store the end of that day (23:59:59): the row is usable from the next session on.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.api.base.checks import CheckResult
from pandera.backends.pandas.checks import PandasCheckBackend
from pandera.engines import pandas_engine

SYMBOL_PATTERN = r"^[A-Z][A-Z0-9.\-]{0,9}$"


class Text(pandas_engine.NpString):
    """pandera's `str` column type (same name, same coercion, same verdicts) with the per-value
    type test vectorised: a column whose values are all strings (or null) is recognised in one
    pass instead of calling isinstance on each value. Anything else falls back to pandera's own
    element-wise test, so mixed columns fail exactly as before."""

    def coerce(self, data_container):
        if (
            isinstance(data_container, pd.Series)
            and data_container.dtype == object
            and pd.api.types.infer_dtype(data_container, skipna=False) == "string"
        ):
            return data_container.astype(str)  # no nulls: what pandera's coercion reduces to
        return super().coerce(data_container)

    def check(self, pandera_dtype, data_container=None):
        if isinstance(data_container, pd.Series) and pd.api.types.infer_dtype(data_container, skipna=True) in (
            "string",
            "empty",
        ):
            return pd.Series(True, index=data_container.index)  # every value a string or null
        return super().check(pandera_dtype, data_container)


def builtin_str_matches(pattern: str) -> dict[str, object]:
    """The name, message and statistics of pandera's built-in `str_matches` check, for a
    `@pa.check` that evaluates it with `matches_per_value` (same failure reports)."""
    return {"name": "str_matches", "error": f"str_matches('{pattern}')", "statistics": {"pattern": pattern}}


def matches_per_value(data: pd.Series, pattern: str) -> pd.Series:
    """pandera's `str_matches` verdicts (`data.str.match(pattern, na=False)`), with the regex run
    once per distinct value: tickers repeat across hundreds of thousands of rows."""
    codes, uniques = pd.factorize(data)
    if (codes < 0).any():  # nulls (the check normally never sees them): the plain way
        return data.str.match(pattern, na=False)
    verdicts = pd.Series(uniques, dtype=data.dtype).str.match(pattern, na=False).to_numpy(dtype=bool)
    return pd.Series(verdicts[codes], index=data.index)


def or_all_null(ok: pd.Series, frame: pd.DataFrame) -> pd.Series:
    """`ok | frame.isna().all(axis="columns")`, testing only the failing rows (few), column by
    column, instead of every cell of the frame."""
    if ok.dtype != bool or frame.shape[1] == 0:
        return ok | frame.isna().all(axis="columns")
    rows = np.flatnonzero(~ok.to_numpy())
    for name in range(frame.shape[1]):
        if not len(rows):
            return ok
        rows = rows[frame.iloc[rows, name].isna().to_numpy()]
    all_null = np.zeros(len(frame), dtype=bool)
    all_null[rows] = True
    return ok | pd.Series(all_null, index=frame.index)


class RowCheck(pa.Check):
    """A frame-wide pandera check (one verdict per row) whose rows null in every column pass
    (pandera's `ignore_na`), found without testing every cell of the frame (`or_all_null`): same
    verdicts, same failure cases."""

    @classmethod
    def of(cls, check: pa.Check) -> RowCheck:
        row_check = copy.copy(check)
        row_check.__class__ = cls
        return row_check


class _RowCheckBackend(PandasCheckBackend):
    def postprocess_table_with_field_output(self, check_obj, check_output) -> CheckResult:
        if check_output.empty and check_output.dtype != bool:
            check_output = check_output.astype(bool)
        if check_obj.index.equals(check_output.index) and self.check.ignore_na:
            check_output = or_all_null(check_output, check_obj)
        return CheckResult(
            check_output,
            check_output.all(),
            check_obj,
            self._get_series_failure_cases(check_obj, check_output),
        )


RowCheck.register_backend(pd.DataFrame, _RowCheckBackend)


class _Model(pa.DataFrameModel):
    """A model whose frame-wide checks run as RowChecks."""

    @classmethod
    def to_schema(cls) -> pa.DataFrameSchema:
        schema = super().to_schema()
        if any(type(check) is pa.Check for check in schema.checks):  # once: pandera caches the schema
            schema.checks = [RowCheck.of(c) if type(c) is pa.Check else c for c in schema.checks]
        return schema


# SEC Form 4 transaction codes (General Instructions, item 8), plus OTHER for anything else.
FORM4_CODES = (
    "P",
    "S",
    "V",
    "A",
    "D",
    "F",
    "I",
    "M",
    "C",
    "E",
    "H",
    "O",
    "X",
    "G",
    "L",
    "W",
    "Z",
    "J",
    "K",
    "U",
    "OTHER",
)
INSIDER_ROLES = (
    "CEO",
    "CFO",
    "COO",
    "PRESIDENT",
    "CHAIR",
    "OFFICER",
    "DIRECTOR",
    "TEN_PERCENT_OWNER",
    "OTHER",
)
C_SUITE_ROLES = ("CEO", "CFO", "COO", "PRESIDENT")
CONGRESS_TRANSACTIONS = ("purchase", "sale", "sale_partial", "sale_full", "exchange")
CHAMBERS = ("house", "senate")
ASSET_TYPES = ("stock", "etf")


class _EventTable(_Model):
    """Columns and rules shared by every event table."""

    symbol: Text = pa.Field(description="Ticker of the stock")
    event_date: pd.Timestamp = pa.Field(description="When it happened")
    known_at: pd.Timestamp = pa.Field(description="When it became public (New York time)")

    class Config:
        coerce = True
        strict = "filter"

    @pa.dataframe_check(error="known_at is before event_date (public before it happened)")
    def known_after_event(cls, df: pd.DataFrame) -> pd.Series:
        return df["known_at"].dt.normalize() >= df["event_date"].dt.normalize()

    @pa.check("symbol", **builtin_str_matches(SYMBOL_PATTERN))
    def str_matches(cls, series: pd.Series) -> pd.Series:
        return matches_per_value(series, SYMBOL_PATTERN)


class InsiderTradesSchema(_EventTable):
    """SEC Form 4 transactions, one row per reported line."""

    record_id: Text = pa.Field(unique=True, description="Filing accession + line number")
    reporting_cik: Text = pa.Field(str_length={"min_value": 1}, description="Insider's CIK")
    reporting_name: Text = pa.Field(nullable=True)
    type_of_owner: Text = pa.Field(nullable=True, description="Relationship as filed (free text)")
    role: Text = pa.Field(isin=INSIDER_ROLES, description="Normalized relationship")
    transaction_code: Text = pa.Field(isin=FORM4_CODES, description="Form 4 code; unknown -> OTHER")
    acquisition_or_disposition: Text = pa.Field(isin=("A", "D"))
    shares: float = pa.Field(gt=0, description="Shares transacted (can be fractional)")
    price: float = pa.Field(ge=0, nullable=True, description="Price per share, unadjusted, USD")
    shares_owned_after: float = pa.Field(ge=0, nullable=True)
    form_type: Text = pa.Field(isin=("4", "4/A", "5", "5/A"))
    amends_record_id: Text = pa.Field(nullable=True, description="Record a 4/A restates")
    # Optional columns: only the SEC's own data sets state them; other sources may leave them out.
    issuer_cik: Text | None = pa.Field(nullable=True, description="Issuer's CIK")
    co_reporting_ciks: Text | None = pa.Field(
        nullable=True,
        description="Other reporting owners of a joint filing (comma-joined CIKs); the line counts once, under "
        "reporting_cik",
    )
    plan_10b5_1: pd.BooleanDtype | None = pa.Field(
        nullable=True,
        description="Rule 10b5-1 checkbox of the filing (on the forms from 2023-04-01); null when not stated",
    )
    filed_late: pd.BooleanDtype | None = pa.Field(
        nullable=True,
        description="The filer marked the line as reported late (TRANS_TIMELINESS L); null when the source does not "
        "say",
    )


class InstitutionalHoldingsSchema(_EventTable):
    """13F-HR positions: one row per filer, quarter and security; event_date = quarter end."""

    record_id: Text = pa.Field(unique=True, description="Accession + symbol")
    accession: Text
    filer_cik: Text = pa.Field(str_length={"min_value": 1})
    filer_name: Text = pa.Field(nullable=True)
    cusip: Text = pa.Field(nullable=True)
    form_type: Text = pa.Field(isin=("13F-HR", "13F-HR/A"))
    shares: float = pa.Field(ge=0)
    value_usd: float = pa.Field(ge=0, nullable=True)

    @pa.dataframe_check(error="event_date is not a calendar quarter end")
    def quarter_end(cls, df: pd.DataFrame) -> pd.Series:
        return df["event_date"].dt.is_quarter_end


class CongressTradesSchema(_EventTable):
    """STOCK Act periodic transaction reports; known_at = disclosure date."""

    record_id: Text = pa.Field(unique=True)
    member_id: Text = pa.Field(str_length={"min_value": 1}, description="Bioguide ID")
    member_name: Text = pa.Field(nullable=True)
    chamber: Text = pa.Field(isin=CHAMBERS)
    transaction_type: Text = pa.Field(isin=CONGRESS_TRANSACTIONS)
    amount_low: float = pa.Field(ge=0, description="Lower end of the disclosed amount band, USD")
    amount_high: float = pa.Field(ge=0, nullable=True, description="Upper end (null: open band)")
    owner: Text = pa.Field(nullable=True)

    @pa.dataframe_check(error="amount_high is below amount_low")
    def band_order(cls, df: pd.DataFrame) -> pd.Series:
        return df["amount_high"].isna() | (df["amount_high"] >= df["amount_low"])


class EtfHoldingsSchema(_EventTable):
    """ETF holdings snapshots; event_date = holdings date, symbol = the held stock."""

    etf_symbol: Text = pa.Field()
    shares: float = pa.Field(ge=0)
    market_value: float = pa.Field(ge=0, nullable=True)
    weight_pct: float = pa.Field(ge=0, le=100, nullable=True)

    class Config:
        unique = ["etf_symbol", "symbol", "event_date"]

    @pa.check("etf_symbol", **builtin_str_matches(SYMBOL_PATTERN))
    def etf_symbol_str_matches(cls, series: pd.Series) -> pd.Series:
        return matches_per_value(series, SYMBOL_PATTERN)


class PricesSchema(_Model):
    """Daily bars. `close` is as traded; `adj_close` is split/dividend adjusted (use it for returns)."""

    symbol: Text = pa.Field()
    date: pd.Timestamp
    open: float = pa.Field(gt=0, nullable=True)
    high: float = pa.Field(gt=0, nullable=True)
    low: float = pa.Field(gt=0, nullable=True)
    close: float = pa.Field(gt=0)
    adj_close: float = pa.Field(gt=0)
    volume: float = pa.Field(ge=0, nullable=True)
    shares_outstanding: float = pa.Field(gt=0, nullable=True)

    class Config:
        coerce = True
        strict = "filter"
        unique = ["symbol", "date"]

    @pa.dataframe_check(error="high below low")
    def high_above_low(cls, df: pd.DataFrame) -> pd.Series:
        return df["high"].isna() | df["low"].isna() | (df["high"] >= df["low"])

    @pa.check("symbol", **builtin_str_matches(SYMBOL_PATTERN))
    def str_matches(cls, series: pd.Series) -> pd.Series:
        return matches_per_value(series, SYMBOL_PATTERN)


class UniverseSchema(_Model):
    """Symbols a source covers, with membership intervals (point-in-time universe)."""

    symbol: Text = pa.Field()
    name: Text = pa.Field(nullable=True)
    asset_type: Text = pa.Field(isin=ASSET_TYPES)
    sector: Text = pa.Field(nullable=True)
    cik: Text = pa.Field(nullable=True)
    shares_outstanding: float = pa.Field(gt=0, nullable=True, description="Latest known")
    member_from: pd.Timestamp = pa.Field(description="First day in the universe")
    member_to: pd.Timestamp = pa.Field(nullable=True, description="Last day (null: still a member)")

    class Config:
        coerce = True
        strict = "filter"
        unique = ["symbol", "member_from"]

    @pa.check("symbol", **builtin_str_matches(SYMBOL_PATTERN))
    def str_matches(cls, series: pd.Series) -> pd.Series:
        return matches_per_value(series, SYMBOL_PATTERN)


@dataclass(frozen=True)
class TableSpec:
    """How a raw table is keyed and partitioned."""

    name: str
    schema: type[pa.DataFrameModel]
    partition_column: str  # the date that decides which month a row belongs to
    key: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        """Every column, in the schema's order."""
        return list(self.schema.to_schema().columns)

    @property
    def required_columns(self) -> list[str]:
        """The columns every source must give (the optional ones may be left out)."""
        return [name for name, column in self.schema.to_schema().columns.items() if column.required]


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("insider_trades", InsiderTradesSchema, "known_at", ("record_id",)),
        TableSpec("institutional_holdings", InstitutionalHoldingsSchema, "known_at", ("record_id",)),
        TableSpec("congress_trades", CongressTradesSchema, "known_at", ("record_id",)),
        TableSpec("etf_holdings", EtfHoldingsSchema, "known_at", ("etf_symbol", "symbol", "event_date")),
        TableSpec("prices", PricesSchema, "date", ("symbol", "date")),
    )
}
EVENT_TABLES = ("insider_trades", "institutional_holdings", "congress_trades", "etf_holdings")
UNIVERSE = TableSpec("universe", UniverseSchema, "member_from", ("symbol", "member_from"))


def empty_frame(spec: TableSpec) -> pd.DataFrame:
    """A zero-row frame with the table's columns and dtypes."""
    schema = spec.schema.to_schema()
    return pd.DataFrame({name: pd.Series(dtype=str(col.dtype)) for name, col in schema.columns.items()})
