"""The FMP client and source against a real HTTP server on 127.0.0.1 that misbehaves on purpose
(smart_money_tests/fake_fmp.py): the error catalogue, retries, rate limit, pages, legacy paths."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pandas as pd
import pytest
from tenacity import RetryCallState

from smart_money.settings.fmp import FmpSettings
from smart_money.sources.fmp import FmpAuthError, FmpQueryError, FmpRateLimited
from smart_money.sources.fmp import fetchers as fx
from smart_money.sources.fmp.client import backoff
from smart_money_tests.support.fake_fmp import FakeFmpServer, Faults, fmp_source_for

KEY = "fmp-test-key-7f3a9c"
START, END = pd.Timestamp("2023-01-01"), pd.Timestamp("2023-03-01")


@pytest.fixture(scope="module")
def healthy(small_source):
    with FakeFmpServer(small_source, api_key=KEY) as fake:
        yield fake


def symbols_of(source, n=5):
    return source.universe().query("asset_type == 'stock'")["symbol"].head(n).tolist()


def test_a_wrong_key_fails_fast_and_the_message_never_shows_a_key(healthy, tmp_path, caplog):
    source = fmp_source_for(healthy, tmp_path, api_key="wrong-key-123456")
    before = healthy.stats.requests
    with caplog.at_level(logging.DEBUG), pytest.raises(FmpAuthError) as error:
        source.fetch("insider_trades", ["AAA"], START, END)
    assert "API key" in str(error.value) and "FMP_API_KEY" in str(error.value)
    assert healthy.stats.requests - before == 1  # no retries on 401
    assert "wrong-key-123456" not in str(error.value) + caplog.text + repr(source.client)


def test_plan_gaps_per_symbol_and_per_endpoint_are_recorded_and_the_pull_continues(small_source, tmp_path):
    with FakeFmpServer(small_source, api_key=KEY) as probe:
        names = symbols_of(fmp_source_for(probe, tmp_path / "probe"), 4)
    gated = frozenset({names[0]})
    with FakeFmpServer(small_source, api_key=KEY, faults=Faults(gated_symbols=gated)) as fake:
        result = fmp_source_for(fake, tmp_path / "a").fetch("institutional_holdings", names, START, END)
    assert {g.symbol for g in result.gaps} == {names[0]} and all("402" in g.reason for g in result.gaps)
    assert set(result.frame["symbol"]) == set(names[1:])

    holder_path = "/stable/institutional-ownership/extract-analytics/holder"
    with FakeFmpServer(small_source, api_key=KEY, faults=Faults(gated_paths=frozenset({holder_path}))) as fake:
        source = fmp_source_for(fake, tmp_path / "b", max_concurrency=2)
        result = source.fetch("institutional_holdings", names, START, END)
        calls = fake.stats.paths[holder_path]
    assert result.frame.empty and {g.symbol for g in result.gaps} == set(names)
    assert calls <= 2  # once FMP says the plan lacks the endpoint, no more calls to it
    assert result.stats["units"] > 4 * 2


def test_legacy_paths_are_used_when_allowed_and_abandoned_on_403(small_source, tmp_path, caplog):
    with FakeFmpServer(small_source, api_key=KEY, faults=Faults(legacy_blocked=False)) as fake:
        names = symbols_of(fmp_source_for(fake, tmp_path / "u"), 3)
        stable = fmp_source_for(fake, tmp_path / "s").fetch("insider_trades", names, START, END).frame
        legacy = fmp_source_for(fake, tmp_path / "l", api="legacy").fetch("insider_trades", names, START, END).frame
        assert fake.stats.paths["/api/v4/insider-trading"] > 0
    assert sorted(legacy["record_id"]) == sorted(stable["record_id"])  # same lines, legacy spellings
    assert (legacy["known_at"].dt.second != 59).any()  # legacy filing dates carry the time

    with FakeFmpServer(small_source, api_key=KEY) as fake, caplog.at_level(logging.WARNING):
        source = fmp_source_for(fake, tmp_path / "r", api="legacy")
        refused = source.fetch("insider_trades", names, START, END).frame
        assert fake.stats.statuses[403] >= 1 and fake.stats.paths["/stable/insider-trading/search"] > 0
    assert not source.client.use_legacy and "Legacy Endpoint" in caplog.text
    assert sorted(refused["record_id"]) == sorted(stable["record_id"])


def test_a_bad_query_names_the_parameter_and_an_unknown_symbol_is_just_empty(healthy, tmp_path):
    source = fmp_source_for(healthy, tmp_path)
    with pytest.raises(FmpQueryError, match="parameter 'symbol'"):
        source.client.get_json("/stable/profile", {})
    result = source.fetch("insider_trades", ["NOSUCH"], START, END)
    assert result.frame.empty and not result.gaps and result.stats["http_calls"] == 1


def test_transient_faults_are_retried_to_exactly_the_same_rows(small_source, tmp_path):
    faults = Faults(
        server_error_rate=0.08, truncated_rate=0.05, error_body_rate=0.05, timeout_rate=0.03, slow_answer_s=1.5, seed=11
    )
    with FakeFmpServer(small_source, api_key=KEY) as fake:
        names = symbols_of(fmp_source_for(fake, tmp_path / "u"), 8)
        clean = fmp_source_for(fake, tmp_path / "clean").fetch("congress_trades", names, START, END)
    with FakeFmpServer(small_source, api_key=KEY, faults=faults) as fake:
        noisy = fmp_source_for(fake, tmp_path / "noisy").fetch("congress_trades", names, START, END)
        injected = sum(fake.stats.injected.values())
    assert injected > 0 and noisy.stats["retries"] >= injected
    key = ["record_id", "known_at"]
    pd.testing.assert_frame_equal(
        clean.frame.sort_values(key, ignore_index=True), noisy.frame.sort_values(key, ignore_index=True)
    )


def test_waits_grow_with_the_attempt_and_never_undercut_retry_after():
    wait = backoff(FmpSettings(backoff_initial_s=1.0, backoff_max_s=60.0, retry_after_max_s=120.0))

    def state_after(error: Exception, attempt: int) -> RetryCallState:
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = attempt
        state.set_exception((type(error), error, None))
        return state

    # FMP keeps answering `Retry-After: 1` while its window is full: the waits still double
    waits = [wait(state_after(FmpRateLimited("429", retry_after=1.0), n)) for n in range(1, 9)]
    assert all(w >= 1.0 for w in waits) and all(later > earlier for earlier, later in zip(waits[:6], waits[1:7]))
    assert sum(waits[:6]) > 60.0  # six retries reach past a whole one-minute window
    assert 60.0 <= waits[7] <= 66.0  # capped (plus jitter)
    assert 30.0 <= wait(state_after(FmpRateLimited("429", retry_after=30.0), 1)) <= 33.0  # at least Retry-After
    assert wait(state_after(FmpRateLimited("429", retry_after=600.0), 1)) <= 132.0  # a bounded Retry-After
    assert wait(state_after(FmpRateLimited("429", retry_after=None), 1)) <= 1.1  # backoff, first attempt


def test_a_429_storm_is_ridden_out_with_growing_waits(small_source, tmp_path, caplog):
    """The server allows 2/5 of the client's rate and answers every 429 with `Retry-After: 1`
    (FMP's 120/min against a client set to 300/min, time compressed): the pull completes, rate
    limits are retried past FMP_MAX_RETRIES (they are bounded by the time budget instead), and
    the waits grow beyond the one second the server asks for."""
    storm = Faults(retry_after_s=1)
    with FakeFmpServer(small_source, api_key=KEY, rate_limit=6, rate_period_s=3.0, faults=storm) as fake:
        names = symbols_of(fmp_source_for(fake, tmp_path / "u"), 8)
        fake.reset_stats()
        source = fmp_source_for(
            fake,
            tmp_path / "c",
            rate_limit=15,
            rate_period_s=3.0,
            max_retries=2,
            backoff_initial_s=0.25,
            backoff_max_s=4.0,
            retry_budget_s=120.0,
        )
        caplog.clear()  # (the probe above met the limit too, with other settings)
        with caplog.at_level(logging.WARNING, logger="smart_money.fmp"):
            result = source.fetch("prices", names, START, END)
        rate_limited = fake.stats.statuses[429]
    assert set(result.frame["symbol"]) == set(names) and not result.gaps
    assert rate_limited > 0 and result.stats["rate_limited"] == rate_limited
    retries = [(r.args[1], r.args[2]) for r in caplog.records if "retrying in" in r.msg]  # (attempt, wait)
    assert retries and max(attempt for attempt, _ in retries) > 3  # beyond max_retries=2: a 429 is not a failure
    for attempt, waited in retries:
        assert waited >= min(4.0, max(1.0, 0.25 * 2 ** (attempt - 1))) - 0.05  # at least Retry-After, growing
    assert max(waited for _, waited in retries) >= 2.0


def test_a_rate_limit_that_never_lifts_fails_once_the_time_budget_is_spent(small_source, tmp_path):
    with FakeFmpServer(
        small_source, api_key=KEY, rate_limit=1, rate_period_s=60.0, faults=Faults(retry_after_s=1)
    ) as fake:
        source = fmp_source_for(fake, tmp_path, backoff_initial_s=0.1, retry_budget_s=1.5)
        source.client.get_json("/stable/profile", {"symbol": "NOSUCH"})
        with pytest.raises(FmpRateLimited, match="rate limit"):
            source.client.get_json("/stable/profile", {"symbol": "NOSUCH"})
        assert 1 <= fake.stats.statuses[429] <= 3  # 1 s waits within a 1.5 s budget


CHILD = """
import json, sys
from pathlib import Path
from smart_money.settings.fmp import FmpSettings
from smart_money.sources.fmp.client import FmpClient

url, key, limiter_file, n = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
config = FmpSettings(base_url=url, rate_limit=6, rate_period_s=4.0, max_retries=0, retry_budget_s=0.0)
client = FmpClient(config, key, rate_limit_file=limiter_file)
print("ready", flush=True)
sys.stdin.readline()
held = client.limiter.held("fmp")
for _ in range(n):
    client.get_json("/stable/profile", {"symbol": "NOSUCH"})  # any 429 raises: no retries
print(json.dumps({"held_at_start": held, "calls": client.stats.snapshot()}), flush=True)
client.close()
"""


def test_back_to_back_processes_share_the_rate_window(small_source, tmp_path):
    """Two processes, the second starting its requests the moment the first has finished, both
    at the server's limit (6 per 4 s): the second waits for the first one's permits to leave the
    window (they share `<cache>/.rate-limit.sqlite`), so the server answers no 429."""
    limiter_file = FmpSettings().rate_limit_file(tmp_path / "data")
    with FakeFmpServer(small_source, api_key=KEY, rate_limit=6, rate_period_s=4.0) as fake:
        children = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, fake.url, KEY, str(limiter_file), "6"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for child in children:  # both started (imports done) before the first request
            assert child.stdout.readline().strip() == "ready"
        reports = []
        for child in children:  # one after the other: the second goes once the first reported
            child.stdin.write("go\n")
            child.stdin.flush()
            reports.append(json.loads(child.stdout.readline()))
        assert [child.wait(timeout=120) for child in children] == [0, 0]
        statuses = dict(fake.stats.statuses)
    assert statuses == {200: 12}  # twice the window's budget, no 429
    assert reports[0]["held_at_start"] == 0 and reports[1]["held_at_start"] == 6  # the first one's permits
    assert all(r["calls"]["http_requests"] == 6 for r in reports)


def test_a_limiter_at_the_servers_limit_gets_no_429_and_runs_requests_concurrently(small_source, tmp_path):
    with FakeFmpServer(small_source, api_key=KEY, rate_limit=25, rate_period_s=1.0) as fake:
        source = fmp_source_for(fake, tmp_path, rate_limit=25, rate_period_s=1.0, max_concurrency=6)
        names = symbols_of(source, 15)
        result = source.fetch("prices", names, START, END)
        assert fake.stats.requests > 25  # the limit was binding
        assert fake.stats.statuses[429] == 0 and result.stats["rate_limited"] == 0
        assert fake.stats.max_in_flight > 1


def test_a_limiter_above_the_servers_limit_meets_429s_and_still_completes(small_source, tmp_path):
    with FakeFmpServer(small_source, api_key=KEY, rate_limit=15, rate_period_s=1.0) as fake:
        source = fmp_source_for(fake, tmp_path, rate_limit=1000, max_concurrency=6, max_retries=10)
        names = symbols_of(source, 8)
        result = source.fetch("prices", names, START, END)
        assert fake.stats.statuses[429] > 0 and source.client.stats.counts["rate_limited"] == fake.stats.statuses[429]
        assert result.stats["rate_limited"] > 0
    assert set(result.frame["symbol"]) == set(names)


def test_listings_are_read_page_by_page_to_the_end(small_source, tmp_path):
    with FakeFmpServer(small_source, api_key=KEY) as fake:
        source = fmp_source_for(fake, tmp_path)
        counts = {k: len(v) for k, v in fake.data._table("holders").items() if k.endswith("2022-12-31")}
        symbol_key = max(counts, key=counts.get)
        symbol, n = symbol_key.split(":")[0], counts[symbol_key]
        small_pages = fx.Family("13f-holders", fx.Route(fx.HOLDERS.stable.path, page_size=7))
        rows, calls = fx.all_pages(source.client, small_pages, {"symbol": symbol, "year": 2022, "quarter": 4}, symbol)
    assert n > 14 and len(rows) == n and calls == n // 7 + 1  # full pages, then the short (or empty) one
    assert len({(r["cik"], r["putCallShare"]) for r in rows}) == n  # no page read twice


def test_the_universe_follows_index_changes(small_source, tmp_path):
    with FakeFmpServer(small_source, api_key=KEY) as fake:
        universe = fmp_source_for(fake, tmp_path, selection=tuple(fake.data.removed + fake.data.added)).universe()
        change = fake.data.change_date
    by_symbol = universe.set_index("symbol")
    for symbol in fake.data.removed:
        assert by_symbol.loc[symbol, "member_to"] == change - pd.Timedelta(days=1)
    for symbol in fake.data.added:
        assert by_symbol.loc[symbol, "member_from"] == change and pd.isna(by_symbol.loc[symbol, "member_to"])
    stocks = universe[universe["asset_type"] == "stock"]
    assert stocks["shares_outstanding"].gt(0).all() and stocks["sector"].notna().all()
    assert universe.loc[universe["asset_type"] == "etf", "symbol"].tolist() == ["SPY"]


def test_positions_summaries_and_etf_holdings_snapshots(small_source, tmp_path):
    with FakeFmpServer(small_source, api_key=KEY) as fake:
        source = fmp_source_for(fake, tmp_path)
        names = symbols_of(source, 3)
        quarter = pd.Period("2022Q4")
        summary = source.positions_summary(names + ["NOSUCH"], quarter)
        holders = source.fetch(
            "institutional_holdings", names, pd.Timestamp("2023-01-01"), pd.Timestamp("2023-07-01")
        ).frame
        spy = source.etf_holdings("SPY")
        again = source.etf_holdings("SPY")
    assert sorted(summary.frame["symbol"]) == sorted(names) and not summary.gaps
    row = summary.frame.set_index("symbol").loc[names[0]]
    q4 = holders[(holders["symbol"] == names[0]) & (holders["event_date"] == quarter.end_time.normalize())]
    assert row["investors_holding"] == len(q4) and row["shares_13f"] == q4["shares"].sum()
    assert row["available_from"] == pd.Timestamp("2023-02-14 23:59:59")
    assert len(spy.frame) >= len(names) and spy.stats["rows_without_ticker_set_aside"] == 1  # the cash line
    assert spy.frame["updated_at"].notna().all() and again.stats["units"] == 1 and len(again.frame) == len(spy.frame)
