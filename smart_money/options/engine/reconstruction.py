"""Parent-event reconstruction: prints -> per-contract bursts (packets) -> parent events.

A packet holds the prints of one contract within `burst_window_ms` of its first print
(anchored, in event time). Packets of one underlying whose first prints fall within
`leg_window_ms` of an anchor packet, on other contracts, with sizes within `max_leg_ratio` of
the anchor's, join it as legs of one multi-leg event. Every step is a pure function of the
prints' event-time content, so a streaming engine that flushes finished events and a batch
replay produce the same events and the same IDs.

Event IDs are 128-bit hashes of the member print IDs (order-free), never of ingest time,
counters or rule versions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from smart_money.options.engine import conditions as cond
from smart_money.options.engine.frames import contract_keys
from smart_money.options.engine.kernels import fold_words, leg_anchors

MS = 1_000_000  # nanoseconds per millisecond
_HASH_SEEDS = (np.uint64(0x736D2D6576656E74), np.uint64(0x6F7074696F6E7321))
_LOW_MULTIPLIER = np.uint64(0xFF51AFD7ED558CCD)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
EVENT_ID_PREFIX = "sm"


@dataclass(frozen=True)
class ReconstructionConfig:
    burst_window_ms: int = 500
    leg_window_ms: int = 500
    max_leg_ratio: float = 3.0

    @property
    def close_delay_ns(self) -> int:
        """How long after its anchor print an event can still change (live flushing)."""
        return (self.burst_window_ms + self.leg_window_ms) * MS


@dataclass
class Reconstruction:
    """Prints ordered by (event, ts), with their packet and event indexes, plus packet and
    event tables. Arrays are aligned with `prints` (a frame in that same order)."""

    prints: pd.DataFrame  # kept prints, ordered by event then time
    packet_of_print: np.ndarray
    event_of_print: np.ndarray
    packets: pd.DataFrame  # one row per packet (one contract), ordered by event then start
    events: pd.DataFrame  # one row per event: event_id, underlying, first/last ts, offsets
    dropped: dict[str, int]


def print_hashes(print_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of each print ID (stable across processes, machines and
    versions: the ID's UTF-8 bytes, read as little-endian words, folded with splitmix64;
    trailing NUL bytes are not significant)."""
    ids = np.asarray(print_ids, dtype=object)
    if len(ids) == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint64)
    try:
        utf8 = pa.array(ids, type=pa.large_string())  # one pass from Python strings to UTF-8 bytes
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # not all str (e.g. integers): their text
        utf8 = pa.array([None if i is None else str(i) for i in ids], type=pa.large_string())
    if utf8.null_count:
        raise ValueError("print IDs must not be missing")
    _, offset_buffer, data_buffer = utf8.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=np.int64)[utf8.offset : utf8.offset + len(utf8) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, dtype=np.uint8)
    return fold_words(data, offsets, _HASH_SEEDS[0], _HASH_SEEDS[1], _LOW_MULTIPLIER)


def hex_ids(high: np.ndarray, low: np.ndarray, prefix: str = EVENT_ID_PREFIX) -> np.ndarray:
    """`prefix` + 32 hex digits for each (high, low) pair, without a Python loop."""
    n = len(high)
    raw = np.empty((n, 16), dtype=np.uint8)
    raw[:, :8] = high.astype(">u8").view(np.uint8).reshape(n, 8)
    raw[:, 8:] = low.astype(">u8").view(np.uint8).reshape(n, 8)
    width = len(prefix) + 32
    out = np.empty((n, width), dtype=np.uint8)
    out[:, : len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    out[:, len(prefix) :: 2] = _HEX[raw >> 4]
    out[:, len(prefix) + 1 :: 2] = _HEX[raw & 15]
    return out.view(f"S{width}").ravel().astype(f"U{width}").astype(object)


def event_id_for(print_ids: list[str]) -> str:
    """The ID of the event made of exactly these prints (what `reconstruct` assigns)."""
    high, low = print_hashes(np.array(print_ids, dtype=object))
    return str(hex_ids(np.array([high.sum(dtype=np.uint64)]), np.array([low.sum(dtype=np.uint64)]))[0])


def code_order(codes: np.ndarray) -> np.ndarray:
    """Stable argsort of non-negative integer codes by 16-bit radix passes (linear time; the
    generic stable sort is several times slower on large inputs)."""
    codes = np.asarray(codes)
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    if codes.min() < 0 or codes.max() >= 1 << 48:
        return np.argsort(codes, kind="stable")
    order = np.argsort((codes & 0xFFFF).astype(np.uint16), kind="stable")
    shift = 16
    while codes.max() >> shift:
        order = order[np.argsort(((codes[order] >> shift) & 0xFFFF).astype(np.uint16), kind="stable")]
        shift += 16
    return order


def drop_unscorable(prints: pd.DataFrame, print_hash: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Rows to keep: cancels remove themselves and the print they name (matched by the
    print-ID hash), late reports (volume only), compression and extended-hours prints are
    left out."""
    groups = cond.group_codes(prints["condition"])
    is_cancel = groups == cond.group_index("cancel")
    refs = prints.loc[is_cancel, "ref_print_id"].dropna().astype(str).to_numpy()
    was_cancelled = (
        pd.Series(print_hash).isin(print_hashes(refs)[0]).to_numpy() if len(refs) else np.zeros(len(prints), dtype=bool)
    )
    late = groups == cond.group_index("late")
    excluded = groups == cond.group_index("excluded")
    keep = ~(is_cancel | was_cancelled | late | excluded)
    dropped = {
        "cancel_records": int(is_cancel.sum()),
        "cancelled_prints": int((was_cancelled & ~is_cancel).sum()),
        "late_reports": int(late.sum()),
        "excluded_prints": int(excluded.sum()),
    }
    return keep, dropped


def _anchored_starts(ts: np.ndarray, keys: np.ndarray, window_ns: int) -> np.ndarray:
    """Boolean 'starts a new window' for rows sorted by (key, ts): a window opens at its
    first row and takes every row of the same key with ts < first + window."""
    n = len(ts)
    new = np.ones(n, dtype=bool)
    if n == 0:
        return new
    new[1:] = (keys[1:] != keys[:-1]) | (ts[1:] - ts[:-1] >= window_ns)
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n)
    long = np.flatnonzero(ts[ends - 1] - ts[starts] >= window_ns)
    for seg in long:  # only bursts longer than one window need the anchored split
        lo, hi = starts[seg], ends[seg]
        i = lo
        while True:
            j = lo + int(np.searchsorted(ts[lo:hi], ts[i] + window_ns, side="left"))
            if j >= hi:
                break
            new[j] = True
            i = j
    return new


def _group_legs(
    und: np.ndarray, start: np.ndarray, contract: np.ndarray, size: np.ndarray, cfg: ReconstructionConfig
) -> np.ndarray:
    """Event index per packet, for packets sorted by (underlying, start, contract).

    The earliest unassigned packet of an underlying anchors an event; later packets join it
    when they start within the leg window of the anchor, trade another contract and have a
    size within the leg ratio (kernels.leg_anchors). Packets farther apart than one window
    never interact.
    """
    n = len(start)
    anchor_of = leg_anchors(
        und,
        start,
        contract,
        size.astype(float),
        cfg.leg_window_ms * MS,
        1.0 / cfg.max_leg_ratio,
        float(cfg.max_leg_ratio),
    )
    is_anchor = anchor_of == np.arange(n)
    return (np.cumsum(is_anchor) - 1)[anchor_of].astype(np.int64)


def reconstruct(prints: pd.DataFrame, cfg: ReconstructionConfig = ReconstructionConfig()) -> Reconstruction:
    """Group normalized prints (frames.normalize_prints) into packets and parent events."""
    all_hi, all_lo = print_hashes(prints["print_id"].to_numpy())
    keep, dropped = drop_unscorable(prints, all_hi)
    rows = np.flatnonzero(keep)  # the kept prints' positions; the frame is copied once, at the end
    h_hi, h_lo = all_hi[rows], all_lo[rows]
    n = len(rows)
    ts = prints["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)[rows]
    all_und = pd.factorize(prints["underlying"], sort=True)[0]  # codes in name order
    und_code = all_und[rows]
    contract_code = pd.factorize(contract_keys(prints, all_und)[rows], sort=True)[0]

    # Prints sharing a timestamp may come in any order: nothing below depends on their
    # relative order (windows, IDs and features treat equal times alike).
    by_time = np.argsort(ts, kind="stable")
    order = by_time[code_order(contract_code[by_time])]
    ts_c, contract_c = ts[order], contract_code[order]
    packet_new = _anchored_starts(ts_c, contract_c, cfg.burst_window_ms * MS)
    packet_sorted = np.cumsum(packet_new) - 1
    packet_first = np.flatnonzero(packet_new)
    n_packets = len(packet_first)
    packet_start = ts_c[packet_first]
    packet_contract = contract_c[packet_first]
    packet_und = und_code[order][packet_first]
    packet_size = np.bincount(packet_sorted, weights=prints["size"].to_numpy()[rows[order]], minlength=n_packets)

    p_order = np.lexsort((packet_contract, packet_start, packet_und))
    event_sorted = (
        _group_legs(packet_und[p_order], packet_start[p_order], packet_contract[p_order], packet_size[p_order], cfg)
        if n_packets
        else np.zeros(0, np.int64)
    )
    event_of_packet = np.empty(n_packets, dtype=np.int64)
    event_of_packet[p_order] = event_sorted

    packet_of_print = np.empty(n, dtype=np.int64)
    packet_of_print[order] = packet_sorted
    event_of_print = event_of_packet[packet_of_print]

    # Events numbered by (first ts, underlying, hash) so numbering is independent of input order.
    n_events = int(event_of_packet.max()) + 1 if n_packets else 0
    ev_first = np.full(n_events, np.iinfo(np.int64).max)
    np.minimum.at(ev_first, event_of_print, ts)
    ev_hi = np.zeros(n_events, dtype=np.uint64)
    ev_lo = np.zeros(n_events, dtype=np.uint64)
    np.add.at(ev_hi, event_of_print, h_hi)
    np.add.at(ev_lo, event_of_print, h_lo)
    ev_und = np.zeros(n_events, dtype=np.int64)
    ev_und[event_of_print] = und_code
    renumber = np.empty(n_events, dtype=np.int64)
    renumber[np.lexsort((ev_lo, ev_hi, ev_und, ev_first))] = np.arange(n_events)
    event_of_print = renumber[event_of_print]
    event_of_packet = renumber[event_of_packet]

    final = by_time[code_order(event_of_print[by_time])]
    ordered = prints.take(rows[final]).reset_index(drop=True)
    event_of_print = event_of_print[final]
    # packets renumbered by (event, start, contract)
    pk_order = np.lexsort((packet_contract, packet_start, event_of_packet))
    pk_new = np.empty(n_packets, dtype=np.int64)
    pk_new[pk_order] = np.arange(n_packets)
    packet_of_print = pk_new[packet_of_print[final]]

    ev_order = np.argsort(renumber)  # old index of each new event
    events = pd.DataFrame(
        {
            "event_id": hex_ids(ev_hi[ev_order], ev_lo[ev_order]),
            "underlying_id": ordered["underlying"].to_numpy()[np.searchsorted(event_of_print, np.arange(n_events))]
            if n
            else np.array([], dtype=object),
        }
    )
    offsets = np.searchsorted(event_of_print, np.arange(n_events + 1))
    events["print_start"] = offsets[:-1]
    events["print_end"] = offsets[1:]
    ts_ordered = ordered["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    events["first_ts_ns"] = ts_ordered[events["print_start"].to_numpy()] if n else np.array([], dtype=np.int64)
    events["last_ts_ns"] = ts_ordered[events["print_end"].to_numpy() - 1] if n else np.array([], dtype=np.int64)
    events["n_legs"] = np.bincount(event_of_packet, minlength=n_events)
    events["event_kind"] = np.where(events["n_legs"].to_numpy() > 1, "multi_leg_event", "single_leg_event")

    packets = pd.DataFrame(
        {
            "event": event_of_packet[pk_order],
            "start_ts_ns": packet_start[pk_order],
            "contract_code": packet_contract[pk_order],
        }
    )
    return Reconstruction(ordered, packet_of_print, event_of_print, packets, events, dropped)
