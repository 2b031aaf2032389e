"""Renamed tickers: one symbol per company across every table.

Trade files use the ticker of their time (FB, ANTM), price files the ticker of their download
(META, ELV) or the old one for names that left before it. A list of changes (old, new, date,
event) maps both to the one symbol whose price file is there: the new ticker when it has a
price file, else the old one. The package ships the changes of the S&P 500 names archived under
their old symbols (`data/ticker_changes.csv`); a `ticker_changes.csv` in the records folder
adds to it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from smart_money.sources.public_records.common import normalize_tickers, read_or_set_aside, require_columns

PACKAGED = "data/ticker_changes.csv"


def _changes(path: Path) -> pd.DataFrame:
    return require_columns(pd.read_csv(path, dtype=str, keep_default_na=False), ("old", "new"), "a ticker-change list")


def read_changes(extra: list[Path], bad: list | None = None) -> pd.DataFrame:
    """The packaged changes plus any given files (columns old, new[, date, event]); with `bad`,
    a file that cannot be read is left out and added to it."""
    with resources.files("smart_money.sources.public_records").joinpath(PACKAGED).open() as handle:
        frames = [pd.read_csv(handle, dtype=str, keep_default_na=False)]
    for path in extra:
        table = _changes(path) if bad is None else read_or_set_aside(path, "universe", _changes, bad)
        if table is not None:
            frames.append(table)
    changes = pd.concat(frames, ignore_index=True)
    changes["old"], changes["new"] = normalize_tickers(changes["old"]), normalize_tickers(changes["new"])
    return changes.dropna(subset=["old", "new"]).drop_duplicates(["old", "new"]).reset_index(drop=True)


def aliases(changes: pd.DataFrame, priced: set[str]) -> dict[str, str]:
    """symbol -> the symbol it is stored under (only symbols that change appear)."""
    mapping: dict[str, str] = {}
    for old, new in zip(changes["old"], changes["new"]):
        if new in priced or old not in priced:
            mapping[old] = new
        else:
            mapping[new] = old
    for symbol in list(mapping):  # follow chains (A -> B -> C)
        seen = {symbol}
        while mapping[symbol] in mapping and mapping[symbol] not in seen:
            seen.add(mapping[symbol])
            mapping[symbol] = mapping[mapping[symbol]]
    return {k: v for k, v in mapping.items() if k != v}


def canonical(symbols: pd.Series, mapping: dict[str, str]) -> pd.Series:
    return symbols.map(lambda s: mapping.get(s, s) if isinstance(s, str) else s)
