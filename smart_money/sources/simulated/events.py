"""Insider (Form 4) and congressional (PTR) records of the simulated market.

Information enters through *events*: for sample k, trades dated in the month before it (the
sessions of period k-1, window W_k) arrive as Poisson processes whose intensity depends on the
news z[i, k] only through the informed components. Everything else (routine sales, awards,
exercises, gifts, noise purchases, filing lags, amendments, duplicates) is independent of the
news. `events` keeps one row per event for the oracle; `rows` are the published records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri
from scipy.stats import norm

from smart_money.sources.simulated.world import CHUNK, World, rng_for

STREAM_INSIDER, STREAM_CONGRESS, STREAM_DIRT = 11, 12, 13

# event kinds (ints in the events frame)
BUY, SALE, AWARD, EXERCISE, GIFT, OTHER_KIND = 0, 1, 2, 3, 4, 5
CONGRESS_BUY, CONGRESS_SALE, CONGRESS_EXCHANGE = 0, 1, 2

FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony "
    "Betty Mark Sandra Steven Ashley Paul Emily Andrew Donna Kevin Michelle Brian Carol George "
    "Amanda Edward Melissa Ronald Deborah Timothy Stephanie Jason Rebecca Jeffrey Laura Ryan"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts"
).split()

ROLE_TEXTS: dict[str, tuple[str, ...]] = {
    "CEO": ("director, officer: Chief Executive Officer", "officer: CEO", "CEO & Director"),
    "CFO": ("officer: Chief Financial Officer", "CFO", "officer: EVP & CFO"),
    "COO": ("officer: Chief Operating Officer", "COO"),
    "PRESIDENT": ("officer: President", "President"),
    "CHAIR": ("director, Chairman of the Board", "Chairman"),
    "OFFICER": ("officer: SVP General Counsel", "officer: EVP Sales", "officer: VP, Controller"),
    "DIRECTOR": ("director", "Director", "board member"),
    "TEN_PERCENT_OWNER": ("10 percent owner", "10% Owner"),
}
ROLE_HOLDING = {  # initial holding as a share of shares outstanding: (low, high)
    "CEO": (0.003, 0.03),
    "CFO": (0.0005, 0.005),
    "COO": (0.0005, 0.005),
    "PRESIDENT": (0.0005, 0.005),
    "CHAIR": (0.002, 0.02),
    "OFFICER": (0.0001, 0.001),
    "DIRECTOR": (0.0001, 0.002),
    "TEN_PERCENT_OWNER": (0.10, 0.15),
}
AMOUNT_BANDS = (
    (1_001.0, 15_000.0),
    (15_001.0, 50_000.0),
    (50_001.0, 100_000.0),
    (100_001.0, 250_000.0),
    (250_001.0, 500_000.0),
    (500_001.0, 1_000_000.0),
    (1_000_001.0, 5_000_000.0),
    (5_000_001.0, 25_000_000.0),
    (25_000_001.0, 50_000_000.0),
    (50_000_001.0, np.nan),
)


def person_name(key: int) -> str:
    return f"{FIRST_NAMES[key % len(FIRST_NAMES)]} {LAST_NAMES[(key // 7) % len(LAST_NAMES)]}"


def roster_role(j: int, roster_size: int, key: int) -> str:
    fixed = ("CEO", "CFO", "COO" if roster_size > 9 else "PRESIDENT", "CHAIR")
    if j < len(fixed):
        return fixed[j]
    if j == roster_size - 1 and key % 5 == 0:
        return "TEN_PERCENT_OWNER"
    return "OFFICER" if (key // 3) % 3 == 0 else "DIRECTOR"


def insider_cik(symbol_index: int, j: int) -> str:
    return str(1_100_000 + symbol_index * 20 + j).zfill(10)


@dataclass
class Roster:
    symbol: np.ndarray  # symbol index per insider
    slot: np.ndarray  # position in the company's roster
    role: np.ndarray
    cik: np.ndarray
    name: np.ndarray
    role_text: np.ndarray
    offset: np.ndarray  # offset[i] = first insider of symbol i


def make_roster(world: World) -> Roster:
    sizes = world.universe.roster_size
    symbol = np.repeat(np.arange(world.n), sizes)
    offset = np.r_[0, np.cumsum(sizes)[:-1]]
    slot = np.arange(len(symbol)) - offset[symbol]
    keys = symbol * 31 + slot * 17 + world.seed
    role = np.array([roster_role(j, sizes[i], k) for i, j, k in zip(symbol, slot, keys)])
    texts = np.array([ROLE_TEXTS[r][k % len(ROLE_TEXTS[r])] for r, k in zip(role, keys)])
    return Roster(
        symbol=symbol,
        slot=slot,
        role=role,
        cik=np.array([insider_cik(i, j) for i, j in zip(symbol, slot)]),
        name=np.array([person_name(k) for k in keys]),
        role_text=texts,
        offset=offset,
    )


def _lags_form4(rng: np.random.Generator, size: int, world: World) -> np.ndarray:
    p = world.params
    kind = rng.choice(4, size=size, p=np.asarray(p.form4_lag_probabilities))
    late = rng.integers(3, p.form4_late_max_days + 1, size=size)
    return np.where(kind < 3, kind, late)


def form4_lag_pmf(world: World) -> np.ndarray:
    """P(lag = L business days), L = 0..form4_late_max_days."""
    p = world.params
    probs = np.zeros(p.form4_late_max_days + 1)
    probs[:3] = p.form4_lag_probabilities[:3]
    probs[3:] = p.form4_lag_probabilities[3] / (p.form4_late_max_days - 2)
    return probs


FILING_HOURS = (6.0, 22.0)  # EDGAR accepts Form 4 filings between 06:00 and 22:00 ET


def congress_lag_pmf(world: World) -> np.ndarray:
    """P(lag = L calendar days), L = 0..congress_lag_max_days (lag >= 1)."""
    p = world.params
    edges = np.arange(p.congress_lag_max_days + 2) - 0.5
    cdf = norm.cdf((np.log(np.clip(edges, 1e-9, None)) - np.log(p.congress_lag_median_days)) / p.congress_lag_sigma)
    cdf[0] = 0.0
    probs = np.diff(cdf)
    probs[1] += probs[0]  # lag 0 rounds up to 1 day
    probs[0] = 0.0
    probs[-1] += 1.0 - cdf[-1]  # the tail is capped at the maximum
    return probs


def _sample_congress_lags(rng: np.random.Generator, size: int, world: World) -> np.ndarray:
    pmf = congress_lag_pmf(world)
    return rng.choice(len(pmf), size=size, p=pmf)


INSIDER_RATE_COLUMNS = ("buys", "sales", "awards", "exercises", "gifts", "other")
ROUTINE_RATES = {"awards": 0.30, "exercises": 0.20, "gifts": 0.04, "other": 0.02}


def insider_rates(params, z: np.ndarray, files_form4: np.ndarray) -> np.ndarray:
    """Event intensities per symbol for one window, columns as INSIDER_RATE_COLUMNS (zero for
    issuers that file no Form 4)."""
    s = params.strength
    n = len(z)
    rates = np.stack(
        [
            params.insider_noise_buys + s * params.insider_informed_buys * (z == 1),
            params.insider_routine_sales + s * params.insider_informed_sales * (z == -1),
            *(np.full(n, ROUTINE_RATES[c]) for c in INSIDER_RATE_COLUMNS[2:]),
        ],
        axis=1,
    )
    return rates * files_form4[:, None]


def congress_rates(params, z: np.ndarray) -> np.ndarray:
    """Congressional trade intensities per symbol for one window: buys, sales, exchanges."""
    s = params.strength
    n = len(z)
    return np.stack(
        [
            params.congress_noise_buys + s * params.congress_informed_trades * (z == 1),
            params.congress_noise_sales + s * params.congress_informed_trades * (z == -1),
            np.full(n, 0.004),
        ],
        axis=1,
    )


def _draw_counts(rng: np.random.Generator, rates: np.ndarray) -> np.ndarray:
    padded = np.zeros((CHUNK, rates.shape[1]))
    padded[: len(rates)] = rates
    return rng.poisson(padded)[: len(rates)]


def minutes_to_timestamp(sessions: pd.DatetimeIndex, session_index: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    return (sessions[session_index] + pd.to_timedelta(minutes, unit="min")).to_numpy()


def _event_draws(
    w: World, stream: int, rates: Callable[[int, slice], np.ndarray]
) -> Iterator[tuple[int, slice, np.random.Generator, np.ndarray, np.ndarray]]:
    """Per window k and chunk of symbols with at least one event: (k, the trade sessions of the
    window, the chunk's generator, each event's symbol index and kind), the counts drawn from
    `rates(k, chunk slice)` (symbols x kinds). The generator goes on to draw the events' fields."""
    for k in range(1, w.n_periods):
        trade = w.period_sessions(k - 1)
        for chunk in w._chunks():
            cs = w._chunk_slice(chunk)
            syms = np.arange(cs.start, cs.stop)
            rng = rng_for(w.seed, stream, k, chunk)
            counts = _draw_counts(rng, rates(k, cs))
            sym_of = np.repeat(np.repeat(syms, counts.shape[1]), counts.ravel())
            kind = np.repeat(np.tile(np.arange(counts.shape[1]), len(syms)), counts.ravel())
            if len(sym_of):
                yield k, trade, rng, sym_of, kind


def _in_order(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The drawn events by session (draw order breaks ties), numbered per symbol and window."""
    events = pd.concat(parts, ignore_index=True)
    events = events.sort_values(["session", "symbol_index", "window", "draw"], ignore_index=True)
    events["seq"] = events.groupby(["symbol_index", "window"]).cumcount()
    return events


class InsiderBook:
    """Every Form 4 event and line of the world (built once per world and cached)."""

    def __init__(self, world: World):
        self.world = world
        self.roster = make_roster(world)
        self.events = self._events()
        self.records = self._records()

    def _events(self) -> pd.DataFrame:
        w, p = self.world, self.world.params
        parts = []
        for k, trade, rng, sym_of, kind in _event_draws(
            w, STREAM_INSIDER, lambda k, cs: insider_rates(p, w.news[cs, k], w.universe.files_form4[cs])
        ):
            m = len(sym_of)
            session = rng.integers(trade.start, trade.stop, m)
            lag = _lags_form4(rng, m, w)
            parts.append(
                pd.DataFrame(
                    dict(
                        symbol_index=sym_of,
                        window=k,
                        kind=kind,
                        slot=(rng.random(m) * w.universe.roster_size[sym_of]).astype(int),
                        session=session,
                        filing_session=np.minimum(session + lag, len(w.sessions) - 1),
                        filing_minute=rng.integers(int(FILING_HOURS[0] * 60), int(FILING_HOURS[1] * 60), m),
                        n_lines=np.where(kind <= SALE, rng.integers(1, 4, m), np.where(kind == EXERCISE, 2, 1)),
                        size_u=rng.random(m),
                        amend=(kind <= SALE) & (rng.random(m) < p.amendment_rate),
                        amend_lag=rng.integers(5, 31, m),
                        amend_scale=rng.uniform(0.8, 1.2, m),
                        dirt_u=rng.random(m),
                        draw=np.arange(m),
                    )
                )
            )
        events = _in_order(parts)
        events["insider"] = self.roster.offset[events["symbol_index"]] + events["slot"]
        events["known_at"] = minutes_to_timestamp(
            w.sessions, events["filing_session"].to_numpy(), events["filing_minute"].to_numpy()
        )
        return events.drop(columns=["draw"])

    def _records(self) -> pd.DataFrame:
        w, p, ros, ev = self.world, self.world.params, self.roster, self.events
        n_lines = ev["n_lines"].to_numpy()
        line_event = np.repeat(np.arange(len(ev)), n_lines)
        line_no = np.arange(len(line_event)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines)
        kind = ev["kind"].to_numpy()[line_event]
        sym = ev["symbol_index"].to_numpy()[line_event]
        ins = ev["insider"].to_numpy()[line_event]
        session = ev["session"].to_numpy()[line_event]
        u = ev["size_u"].to_numpy()[line_event]
        lines_of_event = n_lines[line_event]
        price_now = w.close[sym, session]
        factor = w.split_factor[sym, session]
        shares0 = w.universe.shares0[sym]
        dollars = np.exp(np.log(150_000.0) + ndtri(np.clip(u, 1e-6, 1 - 1e-6))) * np.where(
            ros.role[ins] == "CEO", 2.0, 1.0
        )
        other_code = np.array(["J", "C", "X", "W"])[(u * 4).astype(int) % 4]
        code = np.select(
            [
                kind == BUY,
                kind == SALE,
                kind == AWARD,
                (kind == EXERCISE) & (line_no == 0),
                kind == EXERCISE,
                kind == GIFT,
            ],
            ["P", "S", "A", "M", "F", "G"],
            other_code,
        )
        disposes = np.isin(code, ["S", "F", "G"]) | ((kind == OTHER_KIND) & (u >= 0.5))
        # Share amounts in origin units: absolute, or a fraction of the current holding.
        absolute = np.select(
            [kind == BUY, kind == AWARD, kind == EXERCISE],
            [
                dollars / price_now * factor / lines_of_event,
                shares0 * (0.0002 + 0.002 * u),
                shares0 * (0.0001 + 0.001 * u) * np.where(line_no == 0, 1.0, 0.38),
            ],
            0.0,
        )
        fraction = np.select(
            [kind == SALE, kind == GIFT, kind == OTHER_KIND],
            [(0.05 + 0.20 * u) / lines_of_event, 0.01 + 0.04 * u, 0.01],
            0.0,
        )
        price = np.select(
            [code == "M", np.isin(code, ["A", "G"])], [price_now * 0.6, 0.0], price_now * (1.0 + 0.002 * (line_no - 1))
        )

        rng0 = rng_for(w.seed, STREAM_INSIDER, 0)
        lo = np.array([ROLE_HOLDING[r][0] for r in ros.role])
        hi = np.array([ROLE_HOLDING[r][1] for r in ros.role])
        holding = w.universe.shares0[ros.symbol] * np.exp(rng0.uniform(np.log(lo), np.log(hi)))
        shares = np.empty(len(code))
        owned = np.empty(len(code))
        for j in range(len(code)):  # holdings depend on the order of trades
            h = holding[ins[j]]
            amount = h * fraction[j] if fraction[j] > 0 else absolute[j]
            if disposes[j]:
                amount = min(amount, h)
                h -= amount
            else:
                h += amount
            holding[ins[j]] = h
            shares[j], owned[j] = amount * factor[j], h * factor[j]

        ev_cols = ev.iloc[line_event]
        accession = (
            "0001"
            + pd.Series(sym).map("{:06d}".format).to_numpy()
            + "-"
            + ev_cols["window"].map("{:04d}".format).to_numpy()
            + "-"
            + ev_cols["seq"].map("{:03d}".format).to_numpy()
        )
        record_id = accession + "#" + line_no.astype(str)
        dirt = ev_cols["dirt_u"].to_numpy()
        missing_price = np.isin(code, ["P", "S"]) & (((dirt * 7.0 + line_no * 0.37) % 1.0) < p.missing_price_rate)
        names = np.where(((dirt * 13.0) % 1.0) < 0.01, None, ros.name[ins])
        frame = pd.DataFrame(
            dict(
                record_id=record_id,
                symbol=w.universe.tickers[sym],
                event_date=w.sessions[session],
                known_at=ev_cols["known_at"].to_numpy(),
                reporting_cik=ros.cik[ins],
                reporting_name=names,
                type_of_owner=ros.role_text[ins],
                role=ros.role[ins],
                transaction_code=code,
                acquisition_or_disposition=np.where(disposes, "D", "A"),
                shares=shares,
                price=np.where(missing_price, np.nan, price),
                shares_owned_after=owned,
                form_type="4",
                amends_record_id=None,
            )
        )
        # 4/A amendments restate the lines of some purchases/sales with corrected share counts.
        amended = ev_cols["amend"].to_numpy()
        amendments = frame[amended].copy()
        if len(amendments):
            amend_session = np.minimum(
                ev_cols["filing_session"].to_numpy()[amended] + ev_cols["amend_lag"].to_numpy()[amended],
                len(w.sessions) - 1,
            )
            amendments["amends_record_id"] = amendments["record_id"]
            amendments["record_id"] = amendments["record_id"].str.replace("#", "A#", regex=False)
            amendments["form_type"] = "4/A"
            amendments["shares"] = amendments["shares"] * ev_cols["amend_scale"].to_numpy()[amended]
            amendments["known_at"] = minutes_to_timestamp(
                w.sessions, amend_session, ev_cols["filing_minute"].to_numpy()[amended]
            )
        # Exact duplicates (re-sent filings) and rows with an impossible transaction date.
        duplicate = ((dirt * 17.0 + line_no * 0.61) % 1.0) < p.duplicate_rate
        invalid = np.isin(code, ["A", "G"]) & (((dirt * 23.0) % 1.0) < p.invalid_row_rate * 10)
        frame.loc[invalid, "event_date"] = frame.loc[invalid, "known_at"].dt.normalize() + pd.Timedelta(days=366)
        records = pd.concat([frame, amendments, frame[duplicate]], ignore_index=True)
        return records.sort_values(["known_at", "record_id"], ignore_index=True)


class CongressBook:
    """Every congressional trade of the world: events for the oracle and the published rows."""

    def __init__(self, world: World):
        self.world = world
        self.events = self._events()
        self.records = self._records()

    def _events(self) -> pd.DataFrame:
        w, p = self.world, self.world.params
        parts = []
        for k, trade, rng, sym_of, kind in _event_draws(
            w, STREAM_CONGRESS, lambda k, cs: congress_rates(p, w.news[cs, k])
        ):
            m = len(sym_of)
            session = rng.integers(trade.start, trade.stop, m)
            parts.append(
                pd.DataFrame(
                    dict(
                        symbol_index=sym_of,
                        window=k,
                        kind=kind,
                        member=rng.integers(0, p.congress_members, m),
                        session=session,
                        lag_days=_sample_congress_lags(rng, m, w),
                        size_u=rng.random(m),
                        dirt_u=rng.random(m),
                        draw=np.arange(m),
                    )
                )
            )
        events = _in_order(parts)
        trade_day = w.sessions[events["session"].to_numpy()]
        events["known_at"] = (
            trade_day + pd.to_timedelta(events["lag_days"], unit="D") + pd.Timedelta(hours=23, minutes=59, seconds=59)
        ).to_numpy()
        return events.drop(columns=["draw"])

    def _records(self) -> pd.DataFrame:
        w, p, ev = self.world, self.world.params, self.events
        members = np.arange(p.congress_members)
        chamber = np.where(members < 20, "senate", "house")
        member_name = np.array([person_name(5_000 + m * 13) for m in members])
        member_id = np.array([f"{member_name[m].split()[-1][0]}{100_000 + m * 37:06d}" for m in members])
        u = ev["size_u"].to_numpy()
        dirt = ev["dirt_u"].to_numpy()
        band = np.minimum((u * 7.5).astype(int), len(AMOUNT_BANDS) - 1)
        low = np.array([b[0] for b in AMOUNT_BANDS])[band]
        high = np.array([b[1] for b in AMOUNT_BANDS])[band]
        kind = ev["kind"].to_numpy()
        sale_type = np.array(["sale_full", "sale_partial", "sale"])[(dirt * 3).astype(int) % 3]
        ttype = np.select([kind == CONGRESS_BUY, kind == CONGRESS_SALE], ["purchase", sale_type], "exchange")
        owner = np.array(["self", "spouse", "joint", "dependent", None], dtype=object)[
            ((dirt * 11.0) % 1.0 * 5).astype(int)
        ]
        record_id = (
            "PTR-"
            + ev["symbol_index"].map("{:06d}".format).to_numpy()
            + "-"
            + ev["window"].map("{:04d}".format).to_numpy()
            + "-"
            + ev["seq"].map("{:03d}".format).to_numpy()
        )
        m = ev["member"].to_numpy()
        frame = pd.DataFrame(
            dict(
                record_id=record_id,
                member_id=member_id[m],
                member_name=member_name[m],
                chamber=chamber[m],
                symbol=w.universe.tickers[ev["symbol_index"].to_numpy()],
                event_date=w.sessions[ev["session"].to_numpy()],
                known_at=ev["known_at"].to_numpy(),
                transaction_type=ttype,
                amount_low=low,
                amount_high=high,
                owner=owner,
            )
        )
        # Garbled rows (amount band reversed) are extra exchange records the oracle never uses.
        garbled = frame[(kind == CONGRESS_EXCHANGE) & (((dirt * 29.0) % 1.0) < 0.3)].copy()
        garbled["record_id"] = garbled["record_id"] + "X"
        garbled["amount_low"], garbled["amount_high"] = 15_001.0, 1_001.0
        duplicate = ((dirt * 17.0) % 1.0) < p.duplicate_rate
        records = pd.concat([frame, garbled, frame[duplicate]], ignore_index=True)
        return records.sort_values(["known_at", "record_id"], ignore_index=True)
