"""Features: equal to the plain reference loop, point-in-time, never constant placeholders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smart_money.data import calendar as cal
from smart_money.data.quality import describe_failures
from smart_money.dataset.catalogue import (
    BY_NAME,
    CATALOGUE,
    DATE_LEVEL_FEATURES,
    FEATURES,
    INDICATORS,
    MISSING_INDICATORS,
    PLAN_FEATURES,
    PROVENANCE_COLUMNS,
    render_markdown,
)
from smart_money.dataset.features import FeatureInputs, UniverseRules, compute_features
from smart_money.dataset.pipeline import feature_inputs
from smart_money.dataset.training_set import features_schema
from smart_money_tests.support.reference_features import reference_features

MONTHS = cal.months_between(pd.Timestamp("2023-01-01"), pd.Timestamp("2023-04-01"))
SAMPLES = [cal.sample_date(m) for m in MONTHS]


def load_inputs(source, n_symbols: int | None = None) -> FeatureInputs:
    return feature_inputs(source, n_symbols or source.n_symbols, MONTHS)


@pytest.fixture(scope="module")
def inputs(small_source) -> FeatureInputs:
    return load_inputs(small_source)


@pytest.fixture(scope="module")
def features(inputs) -> pd.DataFrame:
    return compute_features(inputs, SAMPLES, UniverseRules())


def plant_insider_split(inputs: FeatureInputs, symbols: list[str]) -> FeatureInputs:
    """The inputs plus what the simulated market lacks (routine insiders, 10b5-1 boxes): on
    symbols[0] a routine insider (sales each February 2020-22, a purchase in February 2023) and an
    opportunistic one; on symbols[1] an insider routine in March whose 2022 trade is filed only on
    2023-03-01 (between the two compared samples); on symbols[2] sales with the box checked and
    unchecked (and every simulated sale unchecked); on symbols[3] one planned sale among unstated
    ones."""
    ins = inputs.insider_trades
    template = ins[ins["transaction_code"] == "P"].iloc[[0]]
    rows = []

    def line(symbol: str, cik: str, traded: str, filed: str, code: str, plan: bool | None = None) -> None:
        rows.append(
            template.assign(
                record_id=f"SPLIT-{len(rows)}#0", symbol=symbol, reporting_cik=cik, event_date=pd.Timestamp(traded),
                known_at=pd.Timestamp(filed) + pd.Timedelta(hours=18), transaction_code=code,
                acquisition_or_disposition="A" if code == "P" else "D", shares=1_000.0 * (len(rows) + 1),
                price=20.0 + len(rows), amends_record_id=None, form_type="4",
                plan_10b5_1=pd.array([plan], dtype="boolean"),
            )
        )  # fmt: skip

    for traded in ("2020-02-10", "2021-02-08", "2022-02-07"):
        line(symbols[0], "9000000001", traded, traded, "S")
    line(symbols[0], "9000000001", "2023-02-01", "2023-02-03", "P")
    for traded in ("2020-05-11", "2021-08-09", "2022-11-07"):
        line(symbols[0], "9000000002", traded, traded, "S")
    line(symbols[0], "9000000002", "2023-02-06", "2023-02-08", "P")
    line(symbols[0], "9000000002", "2023-03-01", "2023-03-03", "S")
    for traded in ("2020-03-09", "2021-03-08"):
        line(symbols[1], "9000000003", traded, traded, "S")
    line(symbols[1], "9000000003", "2022-03-07", "2023-03-01", "S")  # filed late
    line(symbols[1], "9000000003", "2023-02-10", "2023-02-13", "P")
    line(symbols[2], "9000000004", "2023-01-10", "2023-01-12", "S", plan=True)
    line(symbols[2], "9000000005", "2023-02-01", "2023-02-03", "S", plan=False)
    line(symbols[3], "9000000006", "2023-01-20", "2023-01-24", "S", plan=True)
    plan = ins["plan_10b5_1"].astype("boolean").copy()
    plan[(ins["symbol"] == symbols[2]) & (ins["transaction_code"] == "S")] = False
    planted = pd.concat([ins.assign(plan_10b5_1=plan), *rows], ignore_index=True)
    return FeatureInputs(**{**inputs.__dict__, "insider_trades": planted})


@pytest.mark.parametrize("planted", [False, True], ids=["simulated", "with_routine_insiders_and_10b5_1_boxes"])
def test_vectorised_features_equal_the_reference_loop(inputs, features, planted):
    symbols = sorted(features["symbol"].unique())[:20]
    if planted:
        inputs = plant_insider_split(inputs, symbols)
        features = compute_features(inputs, SAMPLES[1:3], UniverseRules())
    expected = reference_features(inputs, symbols, SAMPLES[1:3]).set_index(["symbol", "sample_date"])
    actual = features.set_index(["symbol", "sample_date"]).loc[expected.index]
    compared = 0
    for column in [*FEATURES, *PROVENANCE_COLUMNS]:
        if column not in expected:
            assert actual[column].isna().all() or column in MISSING_INDICATORS, column
            continue
        if column.startswith("asof_"):
            pd.testing.assert_series_equal(
                actual[column], pd.to_datetime(expected[column]), check_names=False, check_dtype=False
            )
        else:
            np.testing.assert_allclose(
                actual[column].to_numpy(float),
                expected[column].to_numpy(float),
                rtol=1e-9,
                atol=1e-12,
                equal_nan=True,
                err_msg=column,
            )
        compared += 1
    assert compared == len(FEATURES) + len(PROVENANCE_COLUMNS)
    # the comparison is not vacuous: every smart-money family has non-trivial values here
    assert (expected["insider_cluster_score"] > 0).any() and (expected["inst_new_positions_count"] > 0).any()
    assert expected["etf_ownership_pct"].gt(0).all() and expected["volatility_60d"].notna().all()
    assert expected["insider_history_missing"].eq(0).all() and expected["asof_insider_split"].notna().any()
    assert (expected["insider_opportunistic_buy_count_90d"] > 0).any()
    if planted:  # and the split's every branch is exercised
        assert (expected["insider_routine_share_90d"] > 0).any() and (expected["insider_routine_share_90d"] < 1).any()
        assert expected["insider_planned_sale_share_90d"].between(0, 1, inclusive="neither").any()
        assert (expected["insider_discretionary_sale_value_90d"] > 0).any()
        assert expected["insider_discretionary_sale_value_90d"].isna().any()
        assert expected["insider_plan_missing"].eq(0).all()
    else:
        assert expected["insider_plan_missing"].eq(1).all()  # no 10b5-1 box in the simulated market


def test_rows_published_after_the_cutoff_change_nothing(inputs, features):
    """The point-in-time guard: filings that became public after the sample date's close, or
    changes to them, must leave that sample's features unchanged."""
    t = SAMPLES[2]
    cutoff = cal.sample_cutoff(t)
    late = pd.Timedelta(minutes=1)
    ins = inputs.insider_trades
    template = ins[ins["transaction_code"] == "P"].iloc[[0]]
    flood = pd.concat(
        [
            template.assign(
                record_id=f"LATE-{i}#0",
                symbol=s,
                event_date=t - pd.Timedelta(days=3),
                known_at=cutoff + late,
                shares=1e7,
                price=template["price"].iloc[0],
            )
            for i, s in enumerate(features["symbol"].unique()[:25])
        ]
    )
    h = inputs.institutional_holdings
    leaked_13f = h[h["known_at"] > cutoff].copy()
    leaked_13f["shares"] = leaked_13f["shares"] * 50
    congress_row = inputs.congress_trades.iloc[[0]].assign(
        record_id="LATE-C",
        symbol=features["symbol"].iloc[0],
        event_date=t - pd.Timedelta(days=2),
        known_at=cutoff + late,
        transaction_type="purchase",
    )
    etf_late = (
        inputs.etf_holdings[inputs.etf_holdings["event_date"] <= t]
        .tail(200)
        .assign(known_at=cutoff + late, event_date=t, shares=1e12)
    )
    future_prices = inputs.prices[inputs.prices["date"] > t].assign(adj_close=lambda f: f["adj_close"] * 3)
    tampered = FeatureInputs(
        universe=inputs.universe,
        insider_trades=pd.concat([ins, flood], ignore_index=True),
        institutional_holdings=pd.concat([h[h["known_at"] <= cutoff], leaked_13f], ignore_index=True),
        congress_trades=pd.concat([inputs.congress_trades, congress_row], ignore_index=True),
        etf_holdings=pd.concat([inputs.etf_holdings, etf_late], ignore_index=True).drop_duplicates(
            ["etf_symbol", "symbol", "event_date"], keep="first"
        ),
        prices=pd.concat([inputs.prices[inputs.prices["date"] <= t], future_prices], ignore_index=True),
        hedge_funds=inputs.hedge_funds,
        market_index=inputs.market_index,
    )
    before = features[features["sample_date"] == t].reset_index(drop=True)
    after = compute_features(tampered, [t], UniverseRules())
    pd.testing.assert_frame_equal(after, before, check_dtype=False)
    # and the same late rows do change the next sample, so the test is not vacuous
    next_t = SAMPLES[3]
    moved = compute_features(tampered, [next_t], UniverseRules())
    unchanged = features.loc[features["sample_date"] == next_t].reset_index(drop=True)
    assert (moved["insider_ownership_change_90d"] - unchanged["insider_ownership_change_90d"]).abs().max() > 1.0


def test_a_canary_built_from_future_returns_fails_the_temporal_integrity_check(inputs, features):
    frame = features.copy()
    prices = inputs.prices.set_index(["symbol", "date"])["adj_close"]
    end = frame["sample_date"].map(cal.label_end_date)
    future = prices.reindex(list(zip(frame["symbol"], end))).to_numpy()
    now = prices.reindex(list(zip(frame["symbol"], frame["sample_date"]))).to_numpy()
    frame["canary_future_return"] = future / now - 1.0
    frame["asof_canary"] = end + pd.Timedelta(hours=16)  # its true known_at
    failing, report = describe_failures(frame, features_schema())
    assert failing == len(frame) and "newer than the sample's cutoff" in report
    assert describe_failures(features, features_schema())[0] == 0


def test_no_feature_is_a_constant_placeholder_on_a_month_of_the_simulated_market():
    from smart_money.sources.simulated import SimulatedSource

    source = SimulatedSource(n_symbols=120, seed=9, horizon=pd.Timestamp("2024-01-01"))
    frame = compute_features(load_inputs(source), [SAMPLES[1]], UniverseRules())
    assert len(frame) >= 50
    for name in FEATURES:
        if name in INDICATORS or name in DATE_LEVEL_FEATURES or name in NOT_SIMULATED:
            continue  # indicators may be all 0; market features are one value per date by design
        assert frame[name].dropna().nunique() > 1, name
    assert frame[list(MISSING_INDICATORS)].eq(0).all().all()  # every source is present in the simulator
    # the simulated insiders trade at random dates and never tick a 10b5-1 box: few are routine,
    # and only by chance; the plan features are undefined, with their indicator
    assert frame["insider_routine_share_90d"].notna().any() and frame["insider_routine_share_90d"].mean() < 0.25
    assert frame["insider_history_missing"].eq(0).all() and frame["insider_plan_missing"].eq(1).all()
    assert frame[["insider_planned_sale_share_90d", "insider_discretionary_sale_value_90d"]].isna().all().all()


NOT_SIMULATED = ("insider_routine_share_90d", "insider_planned_sale_share_90d", "insider_discretionary_sale_value_90d")


def test_every_feature_has_a_complete_catalogue_entry():
    assert len(PLAN_FEATURES) == 27
    names = [spec.name for spec in CATALOGUE]
    assert len(names) == len(set(names))
    for spec in CATALOGUE:
        assert spec.formula and spec.source_table and spec.date_field and spec.window and spec.unit, spec.name
    table = render_markdown()
    assert all(f"`{name}`" in table for name in names)
    assert BY_NAME["insider_cluster_score"].family == "insider"


def test_only_open_market_trades_count_as_buying_and_selling(inputs, features):
    """Awards, exercises, tax withholding and gifts must never count as sales or purchases."""
    t = SAMPLES[2]
    ins = inputs.insider_trades
    symbol = features["symbol"].iloc[0]
    noise = pd.concat(
        [
            ins[ins["transaction_code"] == code]
            .iloc[[0]]
            .assign(
                record_id=f"NOISE-{code}#0",
                symbol=symbol,
                event_date=t - pd.Timedelta(days=5),
                known_at=t - pd.Timedelta(days=4),
                shares=1e6 * (i + 1),
                price=10.0,
            )
            for i, code in enumerate(("A", "M", "F", "G", "OTHER"))
            if (ins["transaction_code"] == code).any()
        ]
    )
    assert len(noise) >= 4
    tampered = FeatureInputs(**{**inputs.__dict__, "insider_trades": pd.concat([ins, noise], ignore_index=True)})
    after = compute_features(tampered, [t], UniverseRules()).set_index("symbol").loc[symbol]
    before = features[features["sample_date"] == t].set_index("symbol").loc[symbol]
    for name in (
        "insider_buy_ratio_30d",
        "insider_buy_volume_30d",
        "insider_sell_volume_30d",
        "insider_cluster_score",
        "c_suite_activity_ratio",
    ):
        assert after[name] == pytest.approx(before[name], nan_ok=True), name
    assert after["insider_ownership_change_90d"] != pytest.approx(
        before["insider_ownership_change_90d"]
    )  # ownership does move


def test_missing_sources_give_nan_and_an_indicator_never_a_dropped_sample(inputs, features):
    t = SAMPLES[2]
    empty = FeatureInputs(
        **{
            **inputs.__dict__,
            "institutional_holdings": inputs.institutional_holdings.iloc[0:0],
            "etf_holdings": inputs.etf_holdings.iloc[0:0],
        }
    )
    frame = compute_features(empty, [t], UniverseRules())
    assert len(frame) == (features["sample_date"] == t).sum()
    assert frame["institutional_missing"].eq(1).all() and frame["etf_missing"].eq(1).all()
    for name in [s.name for s in CATALOGUE if s.family in ("institutional", "hedge_fund", "etf")]:
        assert frame[name].isna().all(), name
    assert frame["excluded_reason"].str.contains("inst_ownership").sum() == 0  # unknown ownership never excludes


def test_the_committed_feature_docs_match_the_catalogue():
    from smart_money.reporting.generated_docs import FEATURES_DOC, features_doc
    from smart_money.settings.paths import project_root

    assert (project_root() / FEATURES_DOC).read_text() == features_doc(), (
        "run `smart-money docs` and commit docs/features.md"
    )


def test_without_a_hedge_fund_list_the_hedge_fund_features_are_undefined_not_zero(inputs):
    frame = compute_features(
        FeatureInputs(**{**inputs.__dict__, "hedge_funds": frozenset()}), [SAMPLES[2]], UniverseRules()
    )
    hedge = [s.name for s in CATALOGUE if s.family == "hedge_fund"]
    assert frame[hedge].isna().all().all()
    assert frame["inst_ownership_pct"].notna().all()


def plant_amendment_ties(inputs: FeatureInputs) -> FeatureInputs:
    """The inputs plus two 4/A of one line filed at the same moment (the later row wins) and a
    third filed after the sample of 2023-03-15, so the latest amendment changes between samples."""
    ins = inputs.insider_trades
    known_in_january = ins["known_at"].between(pd.Timestamp("2023-01-01"), pd.Timestamp("2023-02-01"))
    original = ins[(ins["transaction_code"] == "P") & ins["amends_record_id"].isna() & known_in_january].iloc[-1]
    filed = pd.Timestamp("2023-03-01 18:00")

    def amendment(n: int, known_at: pd.Timestamp) -> pd.DataFrame:
        return ins.loc[[original.name]].assign(
            record_id=f"TIE-{n}#0",
            amends_record_id=original["record_id"],
            known_at=known_at,
            shares=original["shares"] + 100.0 * n,
            form_type="4/A",
        )

    extra = [amendment(1, filed), amendment(2, filed), amendment(3, pd.Timestamp("2023-03-16 09:00"))]
    return FeatureInputs(**{**inputs.__dict__, "insider_trades": pd.concat([ins, *extra], ignore_index=True)})


def test_the_fast_selections_and_groupings_equal_the_plain_pandas_ones(inputs, features):
    """Issue 18: the per-date work on integer codes and numpy masks must give the frames the plain
    boolean masks and name groupings gave, bit for bit, at cutoffs around amendments (4/A, 13F
    restatements), late 13F filings and the routine/10b5-1 insider lines."""
    from smart_money.dataset import features as fast
    from smart_money_tests.support import reference_selection as plain

    symbols = sorted(features["symbol"].unique())[:20]
    planted = plant_amendment_ties(plant_insider_split(inputs, symbols))
    prepared, px = fast.prepare(planted)
    ins = fast.prepare_insider(planted.insider_trades, px)  # all columns, as the plain blocks read them
    lines = fast.split_lines(ins)
    h = fast.prepare_13f(planted.institutional_holdings, px, planted.universe)
    hedge_funds = planted.hedge_funds
    assert ins["amends_record_id"].notna().sum() > 3 and (h["form_type"] == "13F-HR/A").any()
    days = pd.date_range("2022-12-01", "2023-04-30", freq="4D").append(pd.DatetimeIndex(SAMPLES))
    for t in days:
        cutoff = cal.sample_cutoff(t)
        exact = {"check_exact": True}
        pd.testing.assert_frame_equal(fast.known_insider_lines(ins, cutoff), plain.known_insider_lines(ins, cutoff))
        for mine, theirs in zip(fast.latest_filings(h, cutoff), plain.latest_filings(h, cutoff), strict=True):
            pd.testing.assert_frame_equal(mine, theirs, **exact)
        pd.testing.assert_frame_equal(
            fast.institutional_block(prepared["institutional"], cutoff, hedge_funds),
            plain.institutional_block(h, cutoff, hedge_funds),
            **exact,
        )
        pd.testing.assert_frame_equal(
            fast.insider_block(prepared["insider"], t, cutoff, px), plain.insider_block(ins, t, cutoff, px), **exact
        )
        for no_history in (False, True):
            mine = fast.insider_split_block(prepared["insider_split"], t, cutoff, no_history)
            theirs = plain.insider_split_block(lines, t, cutoff, no_history)
            pd.testing.assert_frame_equal(mine, theirs, **exact)
            assert mine.attrs == theirs.attrs
        mine, theirs = fast.etf_block(prepared["etf"], t, cutoff), plain.etf_block(prepared["etf"], t, cutoff)
        pd.testing.assert_frame_equal(mine, theirs, **exact)
        assert mine.attrs == theirs.attrs


def test_the_price_matrix_equals_the_pivot_it_replaced(inputs):
    """Same arrays bit for bit and the same (column-major) layout: the window statistics'
    floating-point sums depend on it."""
    from smart_money.dataset.features import PriceMatrix
    from smart_money_tests.support.reference_selection import price_arrays

    restated = inputs.prices.sample(50, random_state=0).assign(close=lambda f: f["close"] * 1.01)
    prices = pd.concat([inputs.prices, restated], ignore_index=True)  # the last row of a (symbol, date) wins
    px, expected = PriceMatrix(prices), price_arrays(prices)
    assert not np.array_equal(expected["close"], price_arrays(inputs.prices)["close"], equal_nan=True)
    pd.testing.assert_index_equal(px.dates, expected["dates"], exact=True)
    pd.testing.assert_index_equal(px.symbols, expected["symbols"], exact=True)
    for name in ("adj", "close", "volume", "shares", "log_returns"):
        np.testing.assert_array_equal(getattr(px, name), expected[name], strict=True, err_msg=name)
        assert getattr(px, name).flags["F_CONTIGUOUS"] == expected[name].flags["F_CONTIGUOUS"], name
