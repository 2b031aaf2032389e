"""OPRA last-sale condition letters and how the scorer treats each one.

Letters follow the OPRA binary spec (Polygon IDs: A-J 201-210, S 219, a-v 227-248). An empty
condition means a regular electronic print (treated like `I`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Condition:
    letter: str
    code: str
    meaning: str
    group: str  # cancel | late | regular | iso | auction | cross | multi_leg | stock_tied | excluded


CONDITIONS: dict[str, Condition] = {
    c.letter: c
    for c in (
        Condition("A", "CANC", "cancel of an earlier print", "cancel"),
        Condition("C", "CNCL", "cancel of the last print", "cancel"),
        Condition("E", "CNCO", "cancel of the opening print", "cancel"),
        Condition("G", "CNOL", "cancel of the only print", "cancel"),
        Condition("B", "OSEQ", "late report, out of sequence", "late"),
        Condition("D", "LATE", "late report, in sequence", "late"),
        Condition("F", "OPEN", "late opening report", "late"),
        Condition("H", "OPNL", "late opening report, only print", "late"),
        Condition("I", "AUTO", "electronic", "regular"),
        Condition("J", "REOP", "reopening", "regular"),
        Condition("S", "ISOI", "intermarket sweep", "iso"),
        Condition("a", "SLAN", "single-leg auction, non-ISO", "auction"),
        Condition("b", "SLAI", "single-leg auction, ISO", "auction"),
        Condition("c", "SLCN", "single-leg cross, non-ISO", "cross"),
        Condition("d", "SLCI", "single-leg cross, ISO", "cross"),
        Condition("e", "SLFT", "single-leg floor trade", "cross"),
        Condition("f", "MLET", "multi-leg electronic", "multi_leg"),
        Condition("g", "MLAT", "multi-leg auction", "multi_leg"),
        Condition("h", "MLCT", "multi-leg cross", "multi_leg"),
        Condition("i", "MLFT", "multi-leg floor trade", "multi_leg"),
        Condition("j", "MESL", "multi-leg electronic vs single legs", "multi_leg"),
        Condition("l", "MASL", "multi-leg auction vs single legs", "multi_leg"),
        Condition("m", "MFSL", "multi-leg floor vs single legs", "multi_leg"),
        Condition("t", "CBMO", "multi-leg proprietary product", "multi_leg"),
        Condition("k", "TLAT", "stock-option tied, auction", "stock_tied"),
        Condition("n", "TLET", "stock-option tied, electronic", "stock_tied"),
        Condition("o", "TLCT", "stock-option tied, cross", "stock_tied"),
        Condition("p", "TLFT", "stock-option tied, floor", "stock_tied"),
        Condition("q", "TESL", "stock-option tied electronic vs single legs", "stock_tied"),
        Condition("r", "TASL", "stock-option tied auction vs single legs", "stock_tied"),
        Condition("s", "TFSL", "stock-option tied floor vs single legs", "stock_tied"),
        Condition("u", "MCTP", "compression, off-market prices", "excluded"),
        Condition("v", "EXHT", "extended hours", "excluded"),
    )
}
REGULAR = "I"
GROUPS = ("regular", "iso", "auction", "cross", "multi_leg", "stock_tied", "late", "cancel", "excluded")
# Complex or special prints: structure first, no single-leg direction (codes c..u).
SPECIAL_GROUPS = frozenset({"cross", "multi_leg", "stock_tied"})
# How far an aggressor read from placement can be trusted, by group (auctions trade inside
# price-improvement windows, so their side is less certain).
AGGRESSOR_CONFIDENCE = {"regular": 1.0, "iso": 1.0, "auction": 0.6}


def normalize(condition: object) -> str:
    """Empty or missing -> 'I'; otherwise the letter itself (case matters in OPRA)."""
    if condition is None or (isinstance(condition, float) and np.isnan(condition)):
        return REGULAR
    text = str(condition).strip()
    return text or REGULAR


def letter_table(mapping: dict[str, int], conditions) -> np.ndarray:
    """Look each condition letter up in `mapping`; a categorical Series is looked up once per
    category. Unknown letters raise (no invented codes)."""
    if hasattr(conditions, "cat"):
        uniques, inverse = np.asarray(conditions.cat.categories, dtype=str), conditions.cat.codes.to_numpy()
    else:
        uniques, inverse = np.unique(np.asarray(conditions).astype(str), return_inverse=True)
    unknown = [u for u in uniques if u not in mapping]
    if unknown:
        raise ValueError(f"unknown OPRA condition letters {unknown}; expected one of {sorted(CONDITIONS)}")
    return np.array([mapping[u] for u in uniques], dtype=np.int64)[inverse]


def group_codes(conditions) -> np.ndarray:
    """Index into GROUPS for each condition letter (array or Series)."""
    return letter_table({letter: GROUPS.index(c.group) for letter, c in CONDITIONS.items()}, conditions).astype(np.int8)


def group_index(name: str) -> int:
    return GROUPS.index(name)
