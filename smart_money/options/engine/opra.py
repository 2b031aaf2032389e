"""Vendor option feeds into the engine's tables: OCC/OSI option symbols and numeric OPRA
condition IDs (the form a data vendor such as Polygon delivers trades and NBBO quotes in).

- Symbols: the 21-character OSI symbol (root padded to six, `YYMMDD`, `C`/`P`, strike x 1000 in
  eight digits: `AAPL  240621C00190000`) or the same without padding and with a vendor prefix
  (`O:AAPL240621C00190000`). A symbol that does not parse leaves the contract fields empty, so
  the row is quarantined by the input checks (with the row named), not guessed.
- Conditions: a trade's numeric condition IDs map to OPRA letters (A-J 201-210, S 219, a-v
  227-248); a trade with several takes the first one the engine knows. An unknown ID becomes
  `#<id>` and the input checks quarantine the row ("unknown OPRA condition letter").

Nothing is re-ordered, de-duplicated or dropped here: the checks and the engine decide.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smart_money.options.engine.conditions import CONDITIONS

OSI_PATTERN = r"^(?:O:)?(?P<root>[A-Z0-9.]{1,6}?)\s*(?P<date>\d{6})(?P<right>[CP])(?P<strike>\d{8})$"
CONDITION_IDS: dict[int, str] = {
    **{201 + i: letter for i, letter in enumerate("ABCDEFGHIJ")},
    219: "S",
    **{227 + i: letter for i, letter in enumerate("abcdefghijklmnopqrstuv")},
}


def parse_osi(symbols: pd.Series) -> pd.DataFrame:
    """`underlying`, `expiry` (ISO date text), `right` and `strike` of each symbol; empty
    fields where a symbol does not parse."""
    text = symbols.astype(object).where(symbols.notna(), "").astype(str).str.strip().str.upper()
    parts = text.str.extract(OSI_PATTERN)
    dates = pd.to_datetime(parts["date"], format="%y%m%d", errors="coerce")
    return pd.DataFrame(
        {
            "underlying": parts["root"].fillna(""),
            "expiry": dates.dt.strftime("%Y-%m-%d").fillna(""),
            "right": parts["right"].fillna(""),
            "strike": pd.to_numeric(parts["strike"], errors="coerce") / 1000.0,
        },
        index=symbols.index,
    )


def condition_letter(ids: object) -> str:
    """The OPRA letter of a trade's condition IDs (an int, a list of ints or text such as
    `"227"` or `"[201, 209]"`): the first ID with a letter, else `#<first id>`; none -> ''."""
    if ids is None or (isinstance(ids, float) and np.isnan(ids)):
        return ""
    if isinstance(ids, str):
        values = [v for v in ids.strip("[] ").replace(",", " ").split() if v]
    elif isinstance(ids, (list, tuple, np.ndarray)):
        values = list(ids)
    else:
        values = [ids]
    codes = []
    for value in values:
        try:
            codes.append(int(float(value)))
        except (TypeError, ValueError):
            return f"#{value}"
    for code in codes:
        if code in CONDITION_IDS and CONDITION_IDS[code] in CONDITIONS:
            return CONDITION_IDS[code]
    return f"#{codes[0]}" if codes else ""


def prints_from_trades(trades: pd.DataFrame) -> pd.DataFrame:
    """Engine prints from vendor trades with columns `id`, `ticker`, `sip_timestamp` (epoch ns),
    `price`, `size`, `exchange`, `conditions`, and optionally `correction_of` (the trade ID a
    cancel or correction refers to)."""
    contract = parse_osi(trades["ticker"])
    return pd.DataFrame(
        {
            "print_id": trades["id"].astype(str),
            "ts": trades["sip_timestamp"],
            **{column: contract[column] for column in contract.columns},
            "price": trades["price"],
            "size": trades["size"],
            "venue": trades["exchange"].astype(str),
            "condition": trades["conditions"].map(condition_letter),
            "ref_print_id": trades["correction_of"] if "correction_of" in trades else None,
            "symbol": trades["ticker"],  # not read by the engine; names the contract in rejected rows
        }
    )


def quotes_from_nbbo(quotes: pd.DataFrame) -> pd.DataFrame:
    """Engine option quotes from vendor NBBO rows with columns `ticker`, `sip_timestamp`,
    `bid_price`, `ask_price` (sizes and exchanges are not read)."""
    contract = parse_osi(quotes["ticker"])
    return pd.DataFrame(
        {
            "ts": quotes["sip_timestamp"],
            **{column: contract[column] for column in contract.columns},
            "bid": quotes["bid_price"],
            "ask": quotes["ask_price"],
            "symbol": quotes["ticker"],
        }
    )
