"""The FMP disk cache: keys, atomic writes, TTLs, stats, resuming a failed backfill (its commands:
cli/test_cache_cli.py)."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from smart_money.data.raw_pull import pull_raw
from smart_money.sources.fmp import DiskCache, FmpTransientError, cache_key
from smart_money_tests.support.fake_fmp import FakeFmpServer, Faults, fmp_source_for

KEY = "fmp-cache-test-key-42"
START, END = pd.Timestamp("2023-01-01"), pd.Timestamp("2023-03-01")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 10, 12, 0)

    def __call__(self) -> datetime:
        return self.now


def test_keys_name_symbol_window_and_data_type():
    assert (
        cache_key("AAPL", date(2023, 1, 1), date(2023, 3, 1), "insider-trades")
        == "AAPL_2023-01-01_2023-03-01_insider-trades"
    )
    with pytest.raises(ValueError):
        cache_key("BRK_B", "latest", "latest", "profile")


def test_entries_expire_after_the_ttl_unless_finalized(tmp_path):
    clock = Clock()
    cache = DiskCache(tmp_path, ttl_days=7, finalized_ttl_days=365, clock=clock)
    cache.put("AAA_2023-01-01_2023-02-01_insider-trades", [{"a": 1}], calls=3)
    cache.put("AAA_2020-01-01_2020-02-01_insider-trades", [{"a": 2}], calls=2, finalized=True)
    clock.now += timedelta(days=6)
    assert cache.get("AAA_2023-01-01_2023-02-01_insider-trades").rows == [{"a": 1}]
    clock.now += timedelta(days=2)
    assert cache.get("AAA_2023-01-01_2023-02-01_insider-trades") is None
    assert cache.get("AAA_2020-01-01_2020-02-01_insider-trades").calls == 2
    assert cache.stats.as_dict() | {} == {
        "cache_hits": 2,
        "cache_misses": 1,
        "cache_hit_rate": round(2 / 3, 4),
        "cache_calls_saved": 5,
        "cache_expired": 1,
        "cache_corrupt": 0,
        "cache_writes": 2,
    }
    assert cache.summary()["expired"] == 1 and cache.summary()["fresh"] == 1


def test_an_entry_fetched_before_its_window_closed_expires_when_it_closes(tmp_path):
    clock = Clock()  # 2026-01-10 12:00
    cache = DiskCache(tmp_path, ttl_days=7, clock=clock)
    cache.put("AAA_2025-12-01_2026-01-12_eod-full", [{"d": 1}], calls=1)  # prices reaching past today
    cache.put("AAA_2026-01-10_2026-01-11_etf-exposure", [{"e": 1}], calls=1, finalized=True)  # today's snapshot
    clock.now += timedelta(hours=30)
    assert cache.get("AAA_2025-12-01_2026-01-12_eod-full") is not None
    clock.now += timedelta(hours=12)  # 2026-01-12 06:00: the window has closed, the entry missed its end
    assert cache.get("AAA_2025-12-01_2026-01-12_eod-full") is None
    assert cache.get("AAA_2026-01-10_2026-01-11_etf-exposure") is not None  # what FMP served that day


def test_a_killed_write_leaves_no_entry_and_a_damaged_file_is_a_miss(tmp_path):
    cache = DiskCache(tmp_path)
    (tmp_path / ".AAA_2023-01-01_2023-02-01_insider-trades.json.1234.tmp").write_text(
        '{"key": "AAA_2023-01-01_2023-02-01_ins'
    )
    assert cache.get("AAA_2023-01-01_2023-02-01_insider-trades") is None and cache.entries() == []
    (tmp_path / "BBB_2023-01-01_2023-02-01_insider-trades.json").write_text('{"key": "BBB_2023')
    assert cache.get("BBB_2023-01-01_2023-02-01_insider-trades") is None and cache.stats.corrupt == 1
    assert cache.clear() == 0 and not list(tmp_path.iterdir())  # damaged entry dropped, temporary file swept


def test_a_failed_backfill_resumes_with_only_the_missing_units(small_source, tmp_path):
    with FakeFmpServer(small_source, api_key=KEY) as probe:
        names = (
            fmp_source_for(probe, tmp_path / "u").universe().query("asset_type == 'stock'")["symbol"].head(6).tolist()
        )
    broken = names[-1]
    with FakeFmpServer(small_source, api_key=KEY, faults=Faults(broken_symbols=frozenset({broken}))) as fake:
        source = fmp_source_for(fake, tmp_path / "cache", max_retries=2)
        with pytest.raises(FmpTransientError, match=broken):
            source.fetch("insider_trades", names, START, END)
    stored = {p.name.split("_")[0] for p in DiskCache(tmp_path / "cache").entries()}
    assert broken not in stored and stored  # finished units were kept
    with FakeFmpServer(small_source, api_key=KEY) as fake:
        result = fmp_source_for(fake, tmp_path / "cache").fetch("insider_trades", names, START, END)
        asked = {line.split("symbol=")[1].split("&")[0] for line in fake.stats.request_lines}
    assert asked == set(names) - stored
    assert result.stats["cache_hits"] == len(stored) and result.stats["http_calls"] == len(asked)
    assert broken in asked and set(result.frame["symbol"]) <= set(names)


def test_a_tampered_entry_is_detected_fetched_again_and_reported(small_source, tmp_path):
    """Valid JSON with wrong content (a close 23.8 -> 238.0, a symbol's rows gone) or another
    key's entry under this file name: each is a miss, fetched again and counted in the fetch stats
    and the raw asset's metadata."""
    cache_dir = tmp_path / "cache"
    with FakeFmpServer(small_source, api_key=KEY) as fake:
        names = fmp_source_for(fake, tmp_path / "u").universe().query("asset_type == 'stock'")["symbol"].head(3)
        names = names.tolist()
        month = pd.Timestamp("2023-02-01")
        first = pull_raw(fmp_source_for(fake, cache_dir), "prices", names, [month], month)
        entries = {p.name: p for p in DiskCache(cache_dir).entries()}
        a, b, c = (next(n for n in entries if n.startswith(f"{s}_") and n.endswith("_eod-full.json")) for s in names)
        edited = json.loads(entries[a].read_text())
        edited["rows"][0]["close"] = edited["rows"][0]["close"] * 10  # 23.8 -> 238.0
        entries[a].write_text(json.dumps(edited))
        emptied = json.loads(entries[b].read_text()) | {"rows": []}  # the symbol's rows removed
        entries[b].write_text(json.dumps(emptied))
        shutil.copyfile(entries[a], entries[c])  # another key's entry (valid, checksum and all)
        fake.reset_stats()
        again = pull_raw(fmp_source_for(fake, cache_dir), "prices", names, [month], month)
        refetched = sorted(line.split("symbol=")[1].split("&")[0] for line in fake.stats.request_lines)
    assert refetched == sorted(names)  # exactly the three damaged units, fetched again
    metadata = again.metadata()
    assert metadata["source_cache_corrupt"] == 3 and metadata["source_http_calls"] == 3
    assert metadata["source_cache_hits"] == 3  # the dividend-adjusted entries were intact
    pd.testing.assert_frame_equal(again.outcome.valid, first.outcome.valid)  # the rows FMP sent, restored
    cache = DiskCache(cache_dir)
    assert all(cache.load(p) for p in cache.entries())  # rewritten and verified
    assert cache.summary()["set_aside_as_corrupt"] == 3  # kept for inspection until `cache clear`


def test_entries_carry_their_key_and_a_checksum(tmp_path):
    cache = DiskCache(tmp_path)
    cache.put("AAA_2023-01-01_2023-02-01_eod-full", [{"date": "2023-01-03", "close": 23.8}], calls=1)
    path = tmp_path / "AAA_2023-01-01_2023-02-01_eod-full.json"
    payload = json.loads(path.read_text())
    assert payload["key"] == path.stem and len(payload["sha256"]) == 64
    path.write_text(path.read_text().replace("23.8", "238.0"))  # still valid JSON
    assert cache.get("AAA_2023-01-01_2023-02-01_eod-full") is None
    assert cache.stats.as_dict()["cache_corrupt"] == 1 and cache.stats.misses == 1
    legacy = {k: v for k, v in payload.items() if k not in ("sha256", "format")}  # before checksums
    (tmp_path / "BBB_2023-01-01_2023-02-01_eod-full.json").write_text(
        json.dumps(legacy | {"key": "BBB" + legacy["key"][3:]})
    )
    assert cache.get("BBB_2023-01-01_2023-02-01_eod-full") is None and cache.stats.corrupt == 2
    assert cache.clear() == 0 and not list(tmp_path.iterdir())  # set-aside files swept too
