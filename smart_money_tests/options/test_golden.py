"""The engine's output on fixed synthetic tapes, pinned: optimisations must not change results.

`fixtures/options_golden.parquet` holds every scored column (features, per-profile scores,
decisions), the member print IDs, the packet IDs and the dropped-print counts of each event, as
computed by the engine when the file was written. The same tapes are scored here in three input
forms (dictionary-encoded as `NormalizedTape` makes them, plain string columns as the live
engine's concatenations give, and rows in shuffled order) and must reproduce the file: discrete
columns exactly, floats to 1e-9 relative.

After an intended change of results (rules, calibration, features, the synthetic generator)
run `UPDATE_GOLDEN=1 pytest smart_money_tests/test_options_golden.py` and commit the new file.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from smart_money.options.engine.batch import score_frames
from smart_money.options.engine.calibration import load_calibration
from smart_money.options.engine.frames import NormalizedTape
from smart_money.options.engine.rules import load_rules
from smart_money.options.market.synthetic import catalogue, generate_market, replicate
from smart_money_tests.support.paths import FIXTURES

GOLDEN = FIXTURES / "options_golden.parquet"
RTOL, ATOL = 1e-9, 1e-12


def golden_tapes() -> dict[str, NormalizedTape]:
    """The fixed catalogue (every family and variant) and a random market on two copies of
    each underlying (many contracts, cancels, background flow)."""
    market, _ = generate_market(300, seed=29)
    return {
        "catalogue": NormalizedTape.of(catalogue(per_variant=3, seed=11)[0]),
        "market": NormalizedTape.of(replicate(market, 2)),
    }


def scored(tape: NormalizedTape) -> pd.DataFrame:
    """Every output column of the engine plus membership, in a storable form (floats stay
    float64, everything else becomes text)."""
    rules = load_rules()
    batch = score_frames(tape.prints, tape.quotes, tape.underlying, tape.calendar, rules, load_calibration(rules))
    events = batch.with_membership()
    events["member_print_ids"] = events["member_print_ids"].map(" ".join)
    events["packet_ids"] = events["packet_ids"].map(" ".join)
    events["dropped"] = str(sorted(batch.reconstruction.dropped.items()))
    out = {}
    for column in events.columns:
        values = events[column]
        out[column] = values.astype(float) if pd.api.types.is_float_dtype(values) else values.map(repr).astype(str)
    return pd.DataFrame(out)


def plain(tape: NormalizedTape) -> NormalizedTape:
    """The same tape with ordinary string columns instead of dictionary-encoded ones."""

    def decoded(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None:
            return None
        out = frame.copy()
        for column in out.columns:
            if isinstance(out[column].dtype, pd.CategoricalDtype):
                out[column] = out[column].astype(object)
        return out

    return NormalizedTape(decoded(tape.prints), decoded(tape.quotes), decoded(tape.underlying), decoded(tape.calendar))


def shuffled(tape: NormalizedTape, seed: int = 5) -> NormalizedTape:
    """The same records in a random row order (feeds need not arrive sorted)."""
    rng = np.random.default_rng(seed)

    def permuted(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        return None if frame is None else frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)

    return NormalizedTape(
        permuted(tape.prints), permuted(tape.quotes), permuted(tape.underlying), permuted(tape.calendar)
    )


def assert_same_results(actual: pd.DataFrame, expected: pd.DataFrame, label: str) -> None:
    assert list(actual.columns) == list(expected.columns), f"{label}: columns differ"
    assert len(actual) == len(expected), f"{label}: {len(actual)} events, expected {len(expected)}"
    for column in expected.columns:
        got, want = actual[column].to_numpy(), expected[column].to_numpy()
        if pd.api.types.is_float_dtype(expected[column]):
            close = np.isclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True)
        else:
            close = got == want
        bad = np.flatnonzero(~close)
        assert not len(bad), (
            f"{label}: {column} differs in {len(bad)} events, first {actual['event_id'].iloc[bad[0]]}: "
            f"{got[bad[0]]!r} != {want[bad[0]]!r}"
        )


@pytest.fixture(scope="module")
def tapes() -> dict[str, NormalizedTape]:
    return golden_tapes()


@pytest.fixture(scope="module")
def golden(tapes) -> pd.DataFrame:
    if os.environ.get("UPDATE_GOLDEN"):
        frame = pd.concat([scored(t).assign(tape=name) for name, t in tapes.items()], ignore_index=True)
        frame.to_parquet(GOLDEN, index=False, compression="zstd")
    return pd.read_parquet(GOLDEN)


@pytest.mark.parametrize("form", ["dictionary", "plain", "shuffled"])
@pytest.mark.parametrize("name", ["catalogue", "market"])
def test_engine_reproduces_the_pinned_results(tapes, golden, name, form):
    tape = {"dictionary": lambda t: t, "plain": plain, "shuffled": lambda t: shuffled(plain(t))}[form](tapes[name])
    expected = golden[golden["tape"] == name].drop(columns="tape").reset_index(drop=True)
    assert len(expected) > 50 and expected["abstained"].eq("False").any() and expected["abstained"].eq("True").any()
    assert_same_results(scored(tape), expected, f"{name}/{form}")
