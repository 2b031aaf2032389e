"""Options-flow engine throughput on one core.

Builds a synthetic tape (a random scenario mix, replicated onto disjoint underlyings to reach
the requested number of prints), then times, in one process:
- input validation/normalization of the raw frames (pandera),
- reconstruction + features + scoring (best of `--repeats`), the engine's hot path,
- building the `smart_money_events` rows (JSON features and scores, ID lists) and inserting
  them into embedded chDB, reported separately as storage.

`--baseline REV` also loads `smart_money/options` as it was at git revision REV (extracted into
a temporary package) and times it on the same tape in the same process, alternating with the
current code, so the speed-up is a ratio measured side by side (the machine's load affects both
alike). It also checks that both versions give the same events, decisions and probabilities.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

warnings.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parents[1]
BASELINE_PACKAGE = "smart_money_baseline"


def engine_modules(package: str = "smart_money") -> SimpleNamespace:
    """The engine functions of one version of `<package>.options`."""
    module = lambda name: importlib.import_module(f"{package}.options.engine.{name}")  # noqa: E731
    return SimpleNamespace(
        reconstruct=module("reconstruction").reconstruct,
        compute_features=module("event_features").compute_features,
        score_events=module("scoring").score_events,
        load_rules=module("rules").load_rules,
        load_calibration=module("calibration").load_calibration,
        NormalizedTape=module("frames").NormalizedTape,
        score_frames=module("batch").score_frames,
        event_signature=module("batch").event_signature,
    )


def baseline_modules(revision: str, into: Path) -> SimpleNamespace:
    """`smart_money/options` at `revision`, importable as `smart_money_baseline.options`
    (imports of the options package rewritten; the rest of `smart_money` is today's)."""
    archive = subprocess.run(
        ["git", "archive", revision, "smart_money/options"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    package = into / BASELINE_PACKAGE
    (into / "smart_money").rename(package)
    (package / "__init__.py").write_text("")
    for source in package.rglob("*.py"):
        source.write_text(re.sub(r"\bsmart_money\.options\b", f"{BASELINE_PACKAGE}.options", source.read_text()))
    sys.path.insert(0, str(into))
    return engine_modules(BASELINE_PACKAGE)


def time_engine(engine: SimpleNamespace, tape, rules, calibration) -> dict[str, float]:
    """Wall time per stage, and the CPU time of the whole (on a shared machine the CPU time
    is the steadier measure: waiting for a core does not count)."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    rec = engine.reconstruct(tape.prints, rules.reconstruction())
    t1 = time.perf_counter()
    features = engine.compute_features(rec, tape.quotes, tape.underlying, tape.calendar, rules.features())
    t2 = time.perf_counter()
    engine.score_events(features, rules, calibration)
    t3 = time.perf_counter()
    cpu = time.process_time() - c0
    return {"reconstruction": t1 - t0, "features": t2 - t1, "scoring": t3 - t2, "total": t3 - t0, "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", type=int, default=2000)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--baseline", help="git revision to time side by side with the current code")
    args = parser.parse_args()

    from smart_money.options.engine.batch import storage_rows
    from smart_money.options.market.synthetic import generate_market, replicate
    from smart_money.options.store import EventStore

    current = engine_modules()
    rules = current.load_rules()
    calibration = current.load_calibration(rules)
    t0 = time.perf_counter()
    base, _ = generate_market(args.scenarios, args.seed)
    tape = replicate(base, args.copies)
    generate_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    normalized = current.NormalizedTape.of(tape)
    normalize_s = time.perf_counter() - t0
    n_prints = len(normalized.prints)

    versions = {"current": (current, normalized, rules, calibration)}
    baseline_dir = tempfile.TemporaryDirectory(prefix="bench-baseline-")
    result: dict = {}
    if args.baseline:
        old = baseline_modules(args.baseline, Path(baseline_dir.name))
        old_rules = old.load_rules()
        t0 = time.perf_counter()
        old_tape = old.NormalizedTape.of(tape)
        result["baseline_normalize_validate_s"] = round(time.perf_counter() - t0, 3)
        versions["baseline"] = (old, old_tape, old_rules, old.load_calibration(old_rules))

    stages: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
    for _ in range(args.repeats):  # alternate versions so both see the same machine load
        for name, (engine, version_tape, version_rules, version_calibration) in versions.items():
            stages[name].append(time_engine(engine, version_tape, version_rules, version_calibration))
    best = {name: {k: min(s[k] for s in runs) for k in runs[0]} for name, runs in stages.items()}["current"]
    batch = current.score_frames(
        normalized.prints, normalized.quotes, normalized.underlying, normalized.calendar, rules, calibration
    )
    n_events = len(batch.events)
    if args.baseline:
        old, old_tape, old_rules, old_calibration = versions["baseline"]
        old_best = min(s["total"] for s in stages["baseline"])
        old_cpu = min(s["cpu"] for s in stages["baseline"])
        old_events = old.score_frames(
            old_tape.prints, old_tape.quotes, old_tape.underlying, old_tape.calendar, old_rules, old_calibration
        ).events
        result.update(
            {
                "baseline": args.baseline,
                "baseline_engine_s": round(old_best, 3),
                "baseline_engine_prints_per_s": round(n_prints / old_best),
                "speedup_vs_baseline": round(old_best / best["total"], 2),
                "baseline_engine_cpu_s": round(old_cpu, 3),
                "speedup_vs_baseline_cpu": round(old_cpu / best["cpu"], 2),
                "same_results_as_baseline": bool(
                    current.event_signature(batch.events).equals(old.event_signature(old_events))
                ),
            }
        )
    baseline_dir.cleanup()

    t0 = time.perf_counter()
    rows = storage_rows(batch.with_membership(), rules, run_mode="synthetic")
    rows_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="bench-chdb-") as home:
        with EventStore(f"chdb://{os.path.join(home, 'clickhouse')}") as store:
            t0 = time.perf_counter()
            inserted = store.insert(rows)
            insert_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = store.insert(rows)
            reinsert_s = time.perf_counter() - t0

    print(
        json.dumps(
            {
                "prints": n_prints,
                "option_quotes": len(normalized.quotes),
                "underlying_quotes": len(normalized.underlying),
                "events": n_events,
                "generate_s": round(generate_s, 3),
                "normalize_validate_s": round(normalize_s, 3),
                "reconstruction_s": round(best["reconstruction"], 3),
                "features_s": round(best["features"], 3),
                "scoring_s": round(best["scoring"], 3),
                "engine_s": round(best["total"], 3),
                "engine_cpu_s": round(best["cpu"], 3),
                "engine_prints_per_s": round(n_prints / best["total"]),
                "engine_events_per_s": round(n_events / best["total"]),
                **result,
                "normalize_prints_per_s": round(n_prints / normalize_s),
                "storage_rows_s": round(rows_s, 3),
                "storage_insert_s": round(insert_s, 3),
                "storage_events_per_s": round(inserted / (rows_s + insert_s)),
                "storage_reinsert_skipped_s": round(reinsert_s, 3),
                "reinserted": again,
            }
        )
    )


if __name__ == "__main__":
    main()
