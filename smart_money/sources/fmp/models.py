"""Pydantic models of FMP rows, stable and legacy spellings alike.

Lenient on purpose where FMP is inconsistent: every missing-value spelling becomes None, both
`filingDate` formats parse, numbers may arrive as strings with thousands separators, booleans as
"True"/"False". A row that still does not fit (not an object, no symbol, a date that is no date)
fails validation and is quarantined with pydantic's reason by the caller. Semantic rules
(positive shares, known codes, known_at after event_date) belong to the pandera schemas.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from smart_money.data.normalize import MISSING_SPELLINGS, string_bool


def _blank_to_none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        return None if stripped in MISSING_SPELLINGS else stripped
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _number(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, str):
        return float(value.replace(",", "").replace("$", ""))
    return value


def _timestamp(value: Any) -> Any:
    """'2015-07-28 18:31:06' (legacy), '2025-08-11' (stable), ISO with 'T'."""
    value = _blank_to_none(value)
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "").replace("T", " "))
    return value


def _boolean(value: Any) -> Any:
    value = _blank_to_none(value)
    return None if value is None else string_bool(value)


Text = Annotated[str | None, BeforeValidator(_blank_to_none)]
Number = Annotated[float | None, BeforeValidator(_number)]
Stamp = Annotated[datetime | None, BeforeValidator(_timestamp)]
Day = Annotated[
    date | None,
    BeforeValidator(lambda v: _timestamp(v).date() if isinstance(_timestamp(v), datetime) else _timestamp(v)),
]
Flag = Annotated[bool | None, BeforeValidator(_boolean)]
Ticker = Annotated[
    str, BeforeValidator(lambda v: _blank_to_none(v).upper() if isinstance(_blank_to_none(v), str) else v)
]


class FmpRow(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class InsiderTradeRow(FmpRow):
    """`/stable/insider-trading/search` and `/api/v4/insider-trading`."""

    symbol: Ticker
    filing_date: Stamp = Field(validation_alias="filingDate")
    filing_has_time: bool = False
    transaction_date: Day = Field(default=None, validation_alias="transactionDate")
    reporting_cik: Text = Field(default=None, validation_alias="reportingCik")
    company_cik: Text = Field(default=None, validation_alias="companyCik")
    transaction_type: Text = Field(default=None, validation_alias="transactionType")
    securities_owned: Number = Field(default=None, validation_alias="securitiesOwned")
    securities_transacted: Number = Field(default=None, validation_alias="securitiesTransacted")
    price: Number = None
    reporting_name: Text = Field(default=None, validation_alias="reportingName")
    type_of_owner: Text = Field(default=None, validation_alias="typeOfOwner")
    acquisition_or_disposition: Text = Field(
        default=None, validation_alias=AliasChoices("acquisitionOrDisposition", "acquistionOrDisposition")
    )
    direct_or_indirect: Text = Field(default=None, validation_alias="directOrIndirect")
    form_type: Text = Field(default=None, validation_alias="formType")
    security_name: Text = Field(default=None, validation_alias="securityName")
    url: Text = Field(default=None, validation_alias=AliasChoices("url", "link"))

    @classmethod
    def parse(cls, row: dict) -> InsiderTradeRow:
        """Legacy filingDate carries the filing time; stable is a date (kept as 'no time')."""
        raw = row.get("filingDate") if isinstance(row, dict) else None
        has_time = isinstance(raw, str) and len(raw.strip()) > 10
        return cls.model_validate({**row, "filing_has_time": has_time})


class HolderPositionRow(FmpRow):
    """`/stable/institutional-ownership/extract-analytics/holder`: one filer's position."""

    symbol: Ticker
    date: Day  # quarter end
    filer_cik: str = Field(validation_alias="cik")
    filing_date: Day = Field(validation_alias="filingDate")
    investor_name: Text = Field(default=None, validation_alias="investorName")
    security_cusip: Text = Field(default=None, validation_alias="securityCusip")
    shares_number: Number = Field(default=None, validation_alias="sharesNumber")
    market_value: Number = Field(default=None, validation_alias="marketValue")
    put_call_share: Text = Field(default=None, validation_alias="putCallShare")
    is_new: Flag = Field(default=None, validation_alias="isNew")
    is_sold_out: Flag = Field(default=None, validation_alias="isSoldOut")


class PositionsSummaryRow(FmpRow):
    """`/stable/institutional-ownership/symbol-positions-summary`: one symbol-quarter."""

    symbol: Ticker
    issuer_cik: Text = Field(default=None, validation_alias="cik")
    date: Day
    investors_holding: Number = Field(default=None, validation_alias="investorsHolding")
    shares_13f: Number = Field(default=None, validation_alias="numberOf13Fshares")
    total_invested: Number = Field(default=None, validation_alias="totalInvested")
    ownership_percent: Number = Field(default=None, validation_alias="ownershipPercent")
    new_positions: Number = Field(default=None, validation_alias="newPositions")
    increased_positions: Number = Field(default=None, validation_alias="increasedPositions")
    reduced_positions: Number = Field(default=None, validation_alias="reducedPositions")
    closed_positions: Number = Field(default=None, validation_alias="closedPositions")
    put_call_ratio: Number = Field(default=None, validation_alias="putCallRatio")


class CongressTradeRow(FmpRow):
    """Stable `senate-trades`/`house-trades` (`disclosureDate`, `senateID`) and legacy
    `senate-trading` (`dateRecieved` [sic]) / House (`ticker`, `representative`)."""

    symbol: Ticker = Field(validation_alias=AliasChoices("symbol", "ticker"))
    member_id: Text = Field(default=None, validation_alias=AliasChoices("senateID", "bioguideId"))
    disclosure_date: Day = Field(validation_alias=AliasChoices("disclosureDate", "dateRecieved", "dateReceived"))
    transaction_date: Day = Field(default=None, validation_alias="transactionDate")
    first_name: Text = Field(default=None, validation_alias="firstName")
    last_name: Text = Field(default=None, validation_alias="lastName")
    office: Text = Field(default=None, validation_alias=AliasChoices("office", "representative"))
    district: Text = None
    owner: Text = None
    asset_description: Text = Field(default=None, validation_alias="assetDescription")
    asset_type: Text = Field(default=None, validation_alias="assetType")
    type: Text = None
    amount: Text = None
    comment: Text = None
    link: Text = None
    capital_gains_over_200: Flag = Field(default=None, validation_alias="capitalGainsOver200USD")


class EtfPositionRow(FmpRow):
    """`/stable/etf/holdings` (one ETF's holdings) and `/stable/etf/asset-exposure` (the ETFs
    holding one stock; no `updatedAt`)."""

    etf_symbol: Ticker = Field(validation_alias="symbol")
    asset: Text = None
    name: Text = None
    isin: Text = None
    security_cusip: Text = Field(default=None, validation_alias="securityCusip")
    shares_number: Number = Field(default=None, validation_alias="sharesNumber")
    weight_percentage: Number = Field(default=None, validation_alias="weightPercentage")
    market_value: Number = Field(default=None, validation_alias="marketValue")
    updated_at: Stamp = Field(default=None, validation_alias="updatedAt")


class PriceBarRow(FmpRow):
    """EOD bars: stable `full` (split-adjusted OHLC, no adjClose), stable `dividend-adjusted`
    (`adjOpen`...`adjClose`), and v3 `historical` rows (OHLC plus `adjClose`)."""

    date: Day
    open: Number = None
    high: Number = None
    low: Number = None
    close: Number = None
    adj_open: Number = Field(default=None, validation_alias="adjOpen")
    adj_high: Number = Field(default=None, validation_alias="adjHigh")
    adj_low: Number = Field(default=None, validation_alias="adjLow")
    adj_close: Number = Field(default=None, validation_alias="adjClose")
    volume: Number = None


class ConstituentRow(FmpRow):
    """`/stable/sp500-constituent`."""

    symbol: Ticker
    name: Text = None
    sector: Text = None
    cik: Text = None
    date_first_added: Day = Field(default=None, validation_alias="dateFirstAdded")


class ConstituentChangeRow(FmpRow):
    """`/stable/historical-sp500-constituent`. On pure removals FMP repeats the removed ticker
    in `symbol` and leaves `addedSecurity` empty."""

    date: Day
    symbol: Text = None
    added_security: Text = Field(default=None, validation_alias="addedSecurity")
    removed_ticker: Text = Field(default=None, validation_alias="removedTicker")
    removed_security: Text = Field(default=None, validation_alias="removedSecurity")
    reason: Text = None

    @property
    def added(self) -> str | None:
        return self.symbol.upper() if self.symbol and self.added_security else None

    @property
    def removed(self) -> str | None:
        return self.removed_ticker.upper() if self.removed_ticker else None


class ProfileRow(FmpRow):
    """`/stable/profile` (legacy `/api/v3/profile/{symbol}` says `mktCap`)."""

    symbol: Ticker
    company_name: Text = Field(default=None, validation_alias="companyName")
    price: Number = None
    market_cap: Number = Field(default=None, validation_alias=AliasChoices("marketCap", "mktCap"))
    sector: Text = None
    industry: Text = None
    cik: Text = None
    is_etf: Flag = Field(default=None, validation_alias="isEtf")
    is_fund: Flag = Field(default=None, validation_alias="isFund")
    ipo_date: Day = Field(default=None, validation_alias="ipoDate")

    @property
    def shares_outstanding(self) -> float | None:
        """Latest shares outstanding as FMP derives it (market cap / price)."""
        if self.market_cap and self.price and self.price > 0:
            return self.market_cap / self.price
        return None
