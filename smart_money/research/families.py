"""The disclosure-event families: every family's definition in one place (rendered into
docs/signal-families.md and the Dagster UI, like the feature catalogue).

An event is (family, symbol, public time `known_at`): the moment the disclosure could be read,
never the trade date. Sources whose public date has no time of day store its end (23:59:59), so
such an event is public after that day's close. Definitions use only records known at or
before the event's own `known_at` (point in time), and the version of a record public at that
time: a 4/A amendment or 13F-HR/A restates a filing that was already public, so it never makes
an event of its own and never changes an earlier event.
"""

from __future__ import annotations

from dataclasses import dataclass

CLUSTER_WINDOW_DAYS = 30  # trade dates of the clustered purchases lie within this many days
CLUSTER_COOLDOWN_DAYS = 30  # a symbol's next cluster event needs this many days since its last
ETF_MAX_SNAPSHOT_GAP_DAYS = 14  # an ETF add/remove needs the fund's previous snapshot this recent
OPEN_MARKET_RULE = (
    "Form 4 (or 5) lines with code P (open-market purchase) or S (open-market sale); awards, exercises, "
    "tax withholding, gifts and unknown codes never count"
)
FILING_RULE = (
    "one event per (insider CIK, symbol, public time): the lines one insider filed at once are one filing; "
    "size_usd = sum of shares x price of its lines (NaN when a line has no price)"
)
AMENDMENT_RULE = "4/A lines (amends_record_id set) restate a filing already public: never an event"
THIRTEEN_F_RULE = (
    "per filer and quarter, the first filing made public (a 13F-HR/A restates it and never makes events) is "
    "compared with the filer's filing for the quarter before, as known at that moment (its latest version); "
    "a filer without a filing for the quarter before makes no events (no baseline)"
)


@dataclass(frozen=True)
class FamilySpec:
    name: str
    table: str  # the raw table it comes from
    side: int  # +1 buying, -1 selling
    actor: str  # what actor_ids hold
    definition: str

    @property
    def opposite(self) -> str | None:
        return OPPOSITES.get(self.name) or next((a for a, b in OPPOSITES.items() if b == self.name), None)


_F = FamilySpec
FAMILIES: tuple[FamilySpec, ...] = (
    _F(
        "insider_purchase",
        "insider_trades",
        +1,
        "insider CIK",
        f"an open-market purchase filing: {OPEN_MARKET_RULE}; code P; {FILING_RULE}; {AMENDMENT_RULE}",
    ),
    _F(
        "insider_sale",
        "insider_trades",
        -1,
        "insider CIK",
        f"an open-market sale filing: code S, otherwise as insider_purchase ({FILING_RULE})",
    ),
    _F(
        "insider_cluster_buy",
        "insider_trades",
        +1,
        "the clustered insiders' CIKs",
        f"at least 2 distinct insiders with insider_purchase filings whose trade dates lie within "
        f"{CLUSTER_WINDOW_DAYS} days of each other, dated by the public time of the filing that completes the "
        f"cluster (the later one to become public, never the first trade); all purchases known then whose trade "
        f"dates lie within {CLUSTER_WINDOW_DAYS} days of the completing filing's count in n_actors and size_usd; a "
        f"symbol's next cluster event needs {CLUSTER_COOLDOWN_DAYS} days since its last",
    ),
    _F(
        "insider_ceo_buy",
        "insider_trades",
        +1,
        "insider CIK",
        "an insider_purchase filing by an insider whose normalized role is CEO",
    ),
    _F(
        "insider_cfo_buy",
        "insider_trades",
        +1,
        "insider CIK",
        "an insider_purchase filing by an insider whose normalized role is CFO",
    ),
    _F(
        "congress_purchase",
        "congress_trades",
        +1,
        "member id",
        "a STOCK Act periodic transaction report line of type purchase, public at its disclosure date (end of "
        "day); one event per (member, symbol, public time); size_usd = sum of the amount bands' lower ends, "
        "size_usd_high of their upper ends (NaN for an open band)",
    ),
    _F(
        "congress_sale",
        "congress_trades",
        -1,
        "member id",
        "as congress_purchase for lines of type sale, sale_partial or sale_full (exchanges never count)",
    ),
    _F(
        "inst_new_position",
        "institutional_holdings",
        +1,
        "filer CIK",
        f"any 13F filer: a symbol held (shares > 0) in a filing and absent from the filer's filing for the "
        f"quarter before; public at the filing time; {THIRTEEN_F_RULE}; size_usd = the position's value",
    ),
    _F(
        "inst_exit",
        "institutional_holdings",
        -1,
        "filer CIK",
        "any 13F filer: a symbol held in the filer's filing for the quarter before and absent from its new "
        "filing; public at the new filing's time; same rules; size_usd = the exited position's last value",
    ),
    _F(
        "inst_hf_new_position",
        "institutional_holdings",
        +1,
        "filer CIK",
        "inst_new_position by a filer on the hedge-fund / superinvestor list (SMART_MONEY_HEDGE_FUNDS, else "
        "the source's default list); none when the list is empty",
    ),
    _F(
        "inst_hf_exit",
        "institutional_holdings",
        -1,
        "filer CIK",
        "inst_exit by a filer on the hedge-fund / superinvestor list",
    ),
    _F(
        "etf_add",
        "etf_holdings",
        +1,
        "ETF symbol",
        f"a symbol held in an ETF's holdings snapshot and absent from the fund's previous snapshot, which must "
        f"be dated at most {ETF_MAX_SNAPSHOT_GAP_DAYS} days earlier and known by then; public when the new "
        f"snapshot is",
    ),
    _F(
        "etf_remove",
        "etf_holdings",
        -1,
        "ETF symbol",
        "a symbol held in an ETF's previous snapshot and absent from its new one (same rules as etf_add)",
    ),
)
BY_NAME = {spec.name: spec for spec in FAMILIES}
FAMILY_NAMES = tuple(spec.name for spec in FAMILIES)
# Long-short portfolios: the buying family minus its opposite.
OPPOSITES = {
    "insider_purchase": "insider_sale",
    "congress_purchase": "congress_sale",
    "inst_new_position": "inst_exit",
    "inst_hf_new_position": "inst_hf_exit",
    "etf_add": "etf_remove",
}
PLACEBO = "placebo"


def long_short_name(long: str, short: str) -> str:
    """'insider_purchase', 'insider_sale' -> 'insider_purchase_minus_sale'."""
    return f"{long}_minus_{short.rsplit('_', 1)[1]}"


LONG_SHORT = {long_short_name(long, short): (long, short) for long, short in OPPOSITES.items()}


def render_markdown() -> str:
    """The catalogue as a Markdown table (docs/signal-families.md and the UI)."""
    rows = [
        f"| `{s.name}` | {'buy' if s.side > 0 else 'sell'} | `{s.table}` | {s.actor} | {s.definition} |"
        for s in FAMILIES
    ]
    pairs = ", ".join(f"`{name}` = `{a}` - `{b}`" for name, (a, b) in LONG_SHORT.items())
    return (
        "| family | side | table | actor_ids | definition |\n|---|---|---|---|---|\n"
        + "\n".join(rows)
        + f"\n\nLong-short portfolios: {pairs}.\n"
    )
