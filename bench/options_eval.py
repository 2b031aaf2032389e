"""`options-eval` before and after, side by side: the current engine and the engine at a git
revision (`--baseline REV`, loaded as in bench/options_flow.py) score the same synthetic market
(today's generator, every family and variant), and the same metrics are computed for both.

Prints one JSON line: per profile precision/recall, noise abstention, abstention on every
family that must abstain, and recall per variant, for "current" and "baseline".
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from pathlib import Path

from bench.options_flow import baseline_modules, engine_modules

warnings.filterwarnings("ignore")


def summary(engine, tape, labels, seed: int) -> dict:
    from smart_money.options.evaluation import label_events, metrics

    rules = engine.load_rules()
    calibration = engine.load_calibration(rules)
    normalized = engine.NormalizedTape.of(tape)
    batch = engine.score_frames(
        normalized.prints, normalized.quotes, normalized.underlying, normalized.calendar, rules, calibration
    )
    labelled = label_events(batch.with_membership(), labels)
    result = metrics(labelled, seed)
    clear = labelled[~labelled["ambiguous"].fillna(False).astype(bool)]
    hit = clear["primary_profile_id"].fillna("") == clear["true_profile"].fillna("")
    by_variant = hit.groupby([clear["family"], clear["variant"]]).mean()
    return {
        "rules": rules.version,
        "calibration": calibration.version,
        "events": result["events"],
        "per_profile": {
            p: {k: (None if v[k] is None else round(v[k], 4)) for k in ("precision", "recall", "support")}
            for p, v in result["per_profile"].items()
        },
        "abstention_rate_noise": result["abstention_rate_noise"],
        "abstention_by_family": {k: round(v, 4) for k, v in result["abstention_by_family"].items()},
        "hit_rate_by_variant": {f"{f}/{v}": round(float(x), 4) for (f, v), x in by_variant.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", type=int, default=2400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline", help="git revision of the engine to compare with")
    args = parser.parse_args()

    from smart_money.options.market.synthetic import generate_market

    tape, labels = generate_market(args.scenarios, args.seed)
    out = {
        "scenarios": args.scenarios,
        "seed": args.seed,
        "current": summary(engine_modules(), tape, labels, args.seed),
    }
    if args.baseline:
        with tempfile.TemporaryDirectory(prefix="bench-baseline-") as into:
            old = baseline_modules(args.baseline, Path(into))
            out["baseline_revision"] = args.baseline
            out["baseline"] = summary(old, tape, labels, args.seed)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
