"""`cache stats` and `cache clear` on the FMP disk cache."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from smart_money.cli import app
from smart_money.sources.fmp import DiskCache


def test_cache_commands_show_and_clear_entries(tmp_path, monkeypatch):
    monkeypatch.setenv("SMART_MONEY_HOME", str(tmp_path))
    cache = DiskCache(tmp_path / "data" / "cache" / "fmp")
    for symbol in ("AAA", "BBB"):
        cache.put(f"{symbol}_2023-01-01_2023-02-01_insider-trades", [], calls=2)
        cache.put(f"{symbol}_latest_latest_profile", [], calls=1)
    runner = CliRunner()
    shown = runner.invoke(app, ["cache", "stats"])
    assert shown.exit_code == 0 and "insider-trades" in shown.output and "4" in shown.output
    cleared = runner.invoke(app, ["cache", "clear", "--symbol", "aaa"])
    assert cleared.exit_code == 0 and "removed 2 cache entries for AAA" in cleared.output
    assert sorted(p.name for p in cache.entries()) == [
        "BBB_2023-01-01_2023-02-01_insider-trades.json",
        "BBB_latest_latest_profile.json",
    ]
    assert runner.invoke(app, ["cache", "clear"]).exit_code == 0 and cache.entries() == []
    assert json.loads(json.dumps(cache.summary()))["entries"] == 0


def test_cache_stats_counts_odd_and_tampered_files_as_corrupt(tmp_path, monkeypatch):
    monkeypatch.setenv("SMART_MONEY_HOME", str(tmp_path))
    root = tmp_path / "data" / "cache" / "fmp"
    cache = DiskCache(root)
    cache.put("AAA_2023-01-01_2023-02-01_eod-full", [{"close": 23.8}], calls=1)
    cache.put("BBB_2023-01-01_2023-02-01_eod-full", [{"close": 23.8}], calls=1)
    tampered = root / "BBB_2023-01-01_2023-02-01_eod-full.json"
    tampered.write_text(tampered.read_text().replace("23.8", "238.0"))
    (root / "notes.json").write_text("{}")  # no underscore at all
    (root / "a_b.json").write_text(json.dumps({"key": "a_b", "rows": []}))
    result = CliRunner().invoke(app, ["cache", "stats"])
    assert result.exit_code == 0, result.output
    rows = dict(line.split("│")[1:3] for line in result.output.splitlines() if line.count("│") == 3)
    counts = {k.strip(): v.strip() for k, v in rows.items()}
    assert counts["entries"] == "4" and counts["fresh"] == "1" and counts["corrupt"] == "3"
