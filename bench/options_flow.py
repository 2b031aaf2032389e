"""Options-flow engine throughput on one core.

Builds a synthetic tape (a random scenario mix, replicated onto disjoint underlyings to reach
the requested number of prints), then times, in one process:
- input validation/normalization of the raw frames (pandera),
- reconstruction + features + scoring (best of `--repeats`), the engine's hot path,
- building the `smart_money_events` rows (JSON features and scores, ID lists) and inserting
  them into embedded chDB, reported separately as storage.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", type=int, default=2000)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=101)
    args = parser.parse_args()

    from smart_money.options.calibration import load_calibration
    from smart_money.options.engine import score_frames, storage_rows
    from smart_money.options.features import compute_features
    from smart_money.options.reconstruction import reconstruct
    from smart_money.options.scoring import load_rules, score_events
    from smart_money.options.frames import NormalizedTape
    from smart_money.options.store import EventStore
    from smart_money.options.synthetic import generate_market, replicate

    rules = load_rules()
    calibration = load_calibration(rules)
    t0 = time.perf_counter()
    base, _ = generate_market(args.scenarios, args.seed)
    tape = replicate(base, args.copies)
    generate_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    normalized = NormalizedTape.of(tape)
    normalize_s = time.perf_counter() - t0
    n_prints = len(normalized.prints)

    stages = {"reconstruction": [], "features": [], "scoring": [], "total": []}
    batch = None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        rec = reconstruct(normalized.prints, rules.reconstruction())
        t1 = time.perf_counter()
        features = compute_features(rec, normalized.quotes, normalized.underlying, normalized.calendar, rules.features())
        t2 = time.perf_counter()
        score_events(features, rules, calibration)
        t3 = time.perf_counter()
        stages["reconstruction"].append(t1 - t0)
        stages["features"].append(t2 - t1)
        stages["scoring"].append(t3 - t2)
        stages["total"].append(t3 - t0)
    best = {k: min(v) for k, v in stages.items()}
    batch = score_frames(normalized.prints, normalized.quotes, normalized.underlying, normalized.calendar, rules, calibration)
    n_events = len(batch.events)

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
                "engine_prints_per_s": round(n_prints / best["total"]),
                "engine_events_per_s": round(n_events / best["total"]),
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
