"""Input checks of the engine's tables, vectorised (no pandera on the scoring path).

Two kinds of problems:

- a table whose *structure* is wrong (unreadable, a required column missing, a column none of
  whose values can be read) raises `OptionsInputError(file, column, rows, reason)`: one line
  naming the file, the column and the first offending rows;
- *rows* that cannot be used are quarantined: `check_rows` gives each row its first problem
  (or none); the caller scores the rest and reports / writes the rejected rows with a reason.

Plausibility ranges (rows outside them are quarantined):

| value | accepted |
|---|---|
| option price (prints), bid / ask (quotes) | 0 < price <= 100,000; bid >= 0; ask <= 100,000 (crossed or |
| | locked NBBOs are kept: prints against them are not placed) |
| size | a whole number of contracts, 1 .. 10,000,000 |
| strike | > 0 and <= 1,000,000 |
| multiplier | 1 .. 10,000 (default 100) |
| expiry (prints) | not before the trade's New York date, at most 5 years after it |
| expiry (quotes) | 2000-01-01 .. 2089-12-31 (the engine's contract keys) |
| timestamps | 1990-01-01 .. 2100-01-01 |
| underlying bid / ask | 0 < bid <= ask <= 10,000,000 |
| calendar | announced_ts <= event_ts |
| print_id | non-empty, unique (a repeated ID: the earliest row, by time then file order, is kept) |

Row numbers count data rows from 1 in file order (a CSV's line number is row + 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smart_money.options.engine.conditions import CONDITIONS

MAX_PRICE = 100_000.0
MAX_SIZE = 10_000_000
MAX_STRIKE = 1_000_000.0
MAX_MULTIPLIER = 10_000
MAX_EXPIRY_YEARS = 5  # listed LEAPS reach about 3 years; further out is a bad date, not a contract
MAX_SPOT = 10_000_000.0
MIN_TS = pd.Timestamp("1990-01-01", tz="UTC")
MAX_TS = pd.Timestamp("2100-01-01", tz="UTC")
MIN_EXPIRY, MAX_EXPIRY = pd.Timestamp("2000-01-01"), pd.Timestamp("2089-12-31")
SHOWN_ROWS = 5

REQUIRED = {
    "prints": ("print_id", "ts", "underlying", "expiry", "strike", "right", "price", "size", "venue"),
    "quotes": ("ts", "underlying", "expiry", "strike", "right", "bid", "ask"),
    "underlying": ("ts", "underlying", "bid", "ask"),
    "calendar": ("underlying", "event_type", "announced_ts", "event_ts"),
}


class OptionsInputError(ValueError):
    """An input table the engine cannot use at all: one clear line for the user."""

    def __init__(self, file: str, column: str | None, rows: list[int] | None, reason: str):
        self.file, self.column, self.rows, self.reason = str(file), column, list(rows or []), reason
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"column {self.column!r}: " if self.column else ""
        shown = ", ".join(str(r) for r in self.rows[:SHOWN_ROWS])
        more = f" and {len(self.rows) - SHOWN_ROWS} more" if len(self.rows) > SHOWN_ROWS else ""
        rows = f" (rows {shown}{more})" if self.rows else ""
        return f"{self.file}: {where}{self.reason}{rows}"


@dataclass
class RowProblems:
    """Per row: the first problem's column and reason ('' = the row is usable)."""

    column: np.ndarray
    reason: np.ndarray
    _bad: np.ndarray | None = None  # reason != '', kept up to date by `flag` (text compares are slow)

    @property
    def bad(self) -> np.ndarray:
        if self._bad is None:
            self._bad = self.reason != ""
        return self._bad

    @classmethod
    def none(cls, n: int) -> RowProblems:
        return cls(np.full(n, "", dtype=object), np.full(n, "", dtype=object), np.zeros(n, dtype=bool))

    def flag(self, mask: np.ndarray, column: str, reason: str) -> None:
        """Record `reason` for rows in `mask` that have no problem yet."""
        new = np.asarray(mask, dtype=bool) & ~self.bad
        self.column[new] = column
        self.reason[new] = reason
        self._bad = self.bad | new


def require_columns(frame: pd.DataFrame, kind: str, file: str) -> None:
    missing = [c for c in REQUIRED[kind] if c not in frame.columns]
    if missing:
        raise OptionsInputError(
            file, missing[0], None, f"required column missing (the file has: {', '.join(map(str, frame.columns))})"
        )


def row_numbers(mask: np.ndarray) -> list[int]:
    return (np.flatnonzero(mask) + 1).tolist()


def structural(problems: RowProblems, file: str, n: int) -> None:
    """A column none of whose values can be read is the file's structure, not its rows."""
    if n == 0 or not problems.bad.all():
        return
    columns, counts = np.unique(problems.column.astype(str), return_counts=True)
    if len(columns) == 1 and counts[0] == n:
        column = str(columns[0])
        raise OptionsInputError(file, column, row_numbers(problems.bad), f"no row is usable: {problems.reason[0]}")


def parse_timestamps(values: pd.Series) -> pd.Series:
    """ISO-8601 text (an offset or `Z`; naive = UTC) or integer epoch nanoseconds -> UTC ns;
    NaT where a value cannot be read."""
    if pd.api.types.is_integer_dtype(values):
        return pd.to_datetime(values, unit="ns", utc=True).dt.as_unit("ns")
    if pd.api.types.is_datetime64_any_dtype(values):
        out = pd.to_datetime(values, utc=True)
        return out.dt.as_unit("ns")
    if values.dtype == object:
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.notna().all() and len(values) and (numeric == numeric.round()).all():
            return pd.to_datetime(numeric.astype(np.int64), unit="ns", utc=True).dt.as_unit("ns")
        return pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce").dt.as_unit("ns")
    return pd.to_datetime(values, utc=True, errors="coerce").dt.as_unit("ns")


def parse_dates(values: pd.Series) -> pd.Series:
    """Expiry dates as naive midnight timestamps (a zoned value is read in New York time);
    NaT where a value cannot be read."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values
    else:
        stamps = pd.to_datetime(values.astype(object).where(values.notna(), None), errors="coerce", format="mixed")
        if not pd.api.types.is_datetime64_any_dtype(stamps):  # mixed offsets: read each as UTC
            stamps = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("America/New_York").dt.tz_localize(None)
    return stamps.dt.normalize().dt.as_unit("ns")


def numbers(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def texts(values: pd.Series) -> pd.Series:
    """Text values with missing ones as '' (not the string 'nan'), stripped; the work is done
    once per distinct value (names repeat: underlyings, venues, rights, conditions)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    cleaned = pd.Index(uniques).astype(str).str.strip().to_numpy(dtype=object)
    return pd.Series(np.append(cleaned, "")[codes], index=values.index, dtype=object)


def check_rights(frame: pd.DataFrame, problems: RowProblems) -> pd.Series:
    codes, uniques = pd.factorize(texts(frame["right"]))
    right = pd.Series(
        pd.Index(uniques, dtype=object).str.upper().str[:1].to_numpy(dtype=object)[codes], index=frame.index
    )
    problems.flag(~right.isin(["C", "P"]).to_numpy(), "right", "right is not C or P")
    return right


def check_strikes(frame: pd.DataFrame, problems: RowProblems) -> np.ndarray:
    strike = numbers(frame["strike"])
    problems.flag(np.isnan(strike), "strike", "strike missing or not a number")
    problems.flag(~((strike > 0) & (strike <= MAX_STRIKE)), "strike", f"strike outside (0, {MAX_STRIKE:,.0f}]")
    return strike


def check_ts(values: pd.Series, column: str, problems: RowProblems) -> pd.Series:
    ts = parse_timestamps(values)
    problems.flag(ts.isna().to_numpy(), column, f"{column} missing or not a timestamp")
    problems.flag(((ts < MIN_TS) | (ts > MAX_TS)).to_numpy(), column, f"{column} outside {MIN_TS.year}..{MAX_TS.year}")
    return ts


def check_expiry_range(expiry: pd.Series, problems: RowProblems) -> None:
    problems.flag(expiry.isna().to_numpy(), "expiry", "expiry missing or not a date")
    problems.flag(
        ((expiry < MIN_EXPIRY) | (expiry > MAX_EXPIRY)).to_numpy(),
        "expiry",
        f"expiry outside {MIN_EXPIRY.date()}..{MAX_EXPIRY.date()}",
    )


def check_prints(frame: pd.DataFrame) -> tuple[dict[str, pd.Series | np.ndarray], RowProblems]:
    """Parsed columns of a prints table and each row's first problem."""
    n = len(frame)
    problems = RowProblems.none(n)
    print_id = texts(frame["print_id"])
    problems.flag((print_id == "").to_numpy(), "print_id", "print_id missing")
    ts = check_ts(frame["ts"], "ts", problems)
    underlying = texts(frame["underlying"])
    problems.flag((underlying == "").to_numpy(), "underlying", "underlying missing")
    expiry = parse_dates(frame["expiry"])
    check_expiry_range(expiry, problems)
    trade_day = ts.dt.tz_convert("America/New_York").dt.tz_localize(None).dt.normalize()
    problems.flag((expiry < trade_day).to_numpy(), "expiry", "expiry before the trade date (expired contract)")
    problems.flag(
        (expiry > trade_day + pd.DateOffset(years=MAX_EXPIRY_YEARS)).to_numpy(),
        "expiry",
        f"expiry more than {MAX_EXPIRY_YEARS} years after the trade",
    )
    strike = check_strikes(frame, problems)
    right = check_rights(frame, problems)
    price = numbers(frame["price"])
    problems.flag(np.isnan(price), "price", "price missing or not a number")
    problems.flag(~((price > 0) & (price <= MAX_PRICE)), "price", f"price outside (0, {MAX_PRICE:,.0f}]")
    size = numbers(frame["size"])
    problems.flag(np.isnan(size), "size", "size missing or not a number")
    problems.flag(
        ~((size >= 1) & (size <= MAX_SIZE) & (size == np.round(size))),
        "size",
        f"size not a whole number of contracts in 1..{MAX_SIZE:,}",
    )
    venue = texts(frame["venue"])
    problems.flag((venue == "").to_numpy(), "venue", "venue missing")
    condition = texts(frame["condition"]) if "condition" in frame else pd.Series("I", index=frame.index)
    condition = condition.where(condition != "", "I")
    problems.flag(~condition.isin(list(CONDITIONS)).to_numpy(), "condition", "unknown OPRA condition letter")
    if "multiplier" in frame:
        multiplier = numbers(frame["multiplier"])
        multiplier = np.where(np.isnan(multiplier), 100.0, multiplier)
        problems.flag(
            ~((multiplier >= 1) & (multiplier <= MAX_MULTIPLIER) & (multiplier == np.round(multiplier))),
            "multiplier",
            f"multiplier not a whole number in 1..{MAX_MULTIPLIER:,}",
        )
    else:
        multiplier = np.full(n, 100.0)
    ref = frame["ref_print_id"] if "ref_print_id" in frame else pd.Series(None, index=frame.index, dtype=object)
    ref = ref.astype(object).where(ref.notna(), None)
    ref = ref.map(lambda r: None if r is None or str(r).strip() == "" else str(r).strip())
    # a repeated print ID: the earliest row with it (by time, then file order) is kept, so the
    # choice does not depend on the order the feed delivered the rows in
    stamps = ts.to_numpy(dtype="datetime64[ns]").view(np.int64).copy()
    stamps[ts.isna().to_numpy()] = np.iinfo(np.int64).max
    by_time = np.argsort(stamps, kind="stable")
    repeated = np.empty(n, dtype=bool)
    repeated[by_time] = print_id.iloc[by_time].duplicated(keep="first").to_numpy()
    problems.flag(repeated & (print_id != "").to_numpy(), "print_id", "duplicate print_id")
    parsed = {
        "print_id": print_id,
        "ts": ts,
        "underlying": underlying,
        "expiry": expiry,
        "strike": strike,
        "right": right,
        "price": price,
        "size": size,
        "venue": venue,
        "condition": condition,
        "multiplier": multiplier,
        "ref_print_id": ref,
    }
    return parsed, problems


def check_quotes(frame: pd.DataFrame) -> tuple[dict, RowProblems]:
    problems = RowProblems.none(len(frame))
    ts = check_ts(frame["ts"], "ts", problems)
    underlying = texts(frame["underlying"])
    problems.flag((underlying == "").to_numpy(), "underlying", "underlying missing")
    expiry = parse_dates(frame["expiry"])
    check_expiry_range(expiry, problems)
    strike = check_strikes(frame, problems)
    right = check_rights(frame, problems)
    bid, ask = numbers(frame["bid"]), numbers(frame["ask"])
    problems.flag(np.isnan(bid), "bid", "bid missing or not a number")
    problems.flag(np.isnan(ask), "ask", "ask missing or not a number")
    problems.flag(bid < 0, "bid", "negative bid")
    problems.flag(ask > MAX_PRICE, "ask", f"ask above {MAX_PRICE:,.0f}")
    # a crossed (bid > ask) or locked (bid = ask) NBBO is a state of the market, not a bad row:
    # it stays, so a print right after it is not placed (the engine places prints only against
    # ask > bid) instead of being read against the older quote it replaced
    parsed = {"ts": ts, "underlying": underlying, "expiry": expiry, "strike": strike, "right": right}
    return {**parsed, "bid": bid, "ask": ask}, problems


def check_underlying(frame: pd.DataFrame) -> tuple[dict, RowProblems]:
    problems = RowProblems.none(len(frame))
    ts = check_ts(frame["ts"], "ts", problems)
    underlying = texts(frame["underlying"])
    problems.flag((underlying == "").to_numpy(), "underlying", "underlying missing")
    bid, ask = numbers(frame["bid"]), numbers(frame["ask"])
    problems.flag(np.isnan(bid), "bid", "bid missing or not a number")
    problems.flag(np.isnan(ask), "ask", "ask missing or not a number")
    problems.flag(~(bid > 0), "bid", "bid not positive")
    problems.flag(ask > MAX_SPOT, "ask", f"ask above {MAX_SPOT:,.0f}")
    problems.flag(bid > ask, "bid", "bid above ask (crossed quote)")
    return {"ts": ts, "underlying": underlying, "bid": bid, "ask": ask}, problems


def check_calendar(frame: pd.DataFrame) -> tuple[dict, RowProblems]:
    problems = RowProblems.none(len(frame))
    underlying = texts(frame["underlying"])
    problems.flag((underlying == "").to_numpy(), "underlying", "underlying missing")
    event_type = texts(frame["event_type"])
    problems.flag((event_type == "").to_numpy(), "event_type", "event_type missing")
    announced = check_ts(frame["announced_ts"], "announced_ts", problems)
    event_ts = check_ts(frame["event_ts"], "event_ts", problems)
    problems.flag((announced > event_ts).to_numpy(), "announced_ts", "announced_ts after event_ts")
    return {
        "underlying": underlying,
        "event_type": event_type,
        "announced_ts": announced,
        "event_ts": event_ts,
    }, problems


CHECKS = {"prints": check_prints, "quotes": check_quotes, "underlying": check_underlying, "calendar": check_calendar}


def check_table(frame: pd.DataFrame, kind: str, file: str) -> tuple[pd.DataFrame, RowProblems]:
    """The table's usable rows with parsed columns (file order), and every row's problem.
    Raises OptionsInputError for a structural problem."""
    require_columns(frame, kind, file)
    parsed, problems = CHECKS[kind](frame)
    structural(problems, file, len(frame))
    keep = ~problems.bad
    everything = bool(keep.all())
    columns = {}
    for name, values in parsed.items():
        if isinstance(values, pd.Series):
            values = values.reset_index(drop=True) if everything else values[keep].reset_index(drop=True)
        else:
            values = values if everything else values[keep]
        columns[name] = values
    return pd.DataFrame(columns), problems
