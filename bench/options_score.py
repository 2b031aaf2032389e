"""`options-score` as a user runs it: process start to events file written, on a synthetic day
written in the README's scoring-file format (prints CSV, quotes / underlying Parquet, calendar
CSV), at about 3,000 and 250,000 prints.

Runs `python -m smart_money.options.score_files` (what the CLI command body calls) in a fresh
process per size, best of `--repeats`, and reports the process wall time, the import time of
the module alone, and the command's own read+check / score / write split. `--baseline-tree
PATH` (a checkout of an older commit, e.g. `git worktree add /tmp/base <rev>`) also times that
tree's file-scoring path (`smart_money.options.runs.score_files`) on the same files, alternating
with the current code.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
SIZES = {"3k": (500, 1), "250k": (2000, 20)}  # (scenarios, copies) of the synthetic day
BASELINE_SCRIPT = (
    "import sys; from pathlib import Path; from smart_money.options.runs import score_files; "
    "a = [Path(x) for x in sys.argv[1:]]; score_files(a[0], a[1], a[4], a[2], a[3])"
)


def write_day(folder: Path, scenarios: int, copies: int, seed: int) -> dict:
    from smart_money.options.market.synthetic import generate_market, replicate

    tape, _ = generate_market(scenarios, seed)
    if copies > 1:
        tape = replicate(tape, copies)
    prints = tape.prints.copy()
    prints["ts"] = prints["ts"].map(lambda t: t.isoformat())
    prints["expiry"] = prints["expiry"].dt.date.astype(str)
    prints.to_csv(folder / "prints.csv", index=False)
    tape.quotes.to_parquet(folder / "quotes.parquet")
    tape.underlying.to_parquet(folder / "underlying.parquet")
    tape.calendar.to_csv(folder / "calendar.csv", index=False)
    return {"prints": len(prints), "option_quotes": len(tape.quotes), "underlying_quotes": len(tape.underlying)}


def timed(argv: list[str], env: dict, cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--baseline-tree", help="a checkout of the commit to compare with")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as installed: cached bytecode
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-options-score-") as tmp:
        for label, (scenarios, copies) in SIZES.items():
            folder = Path(tmp) / label
            folder.mkdir()
            sizes = write_day(folder, scenarios, copies, args.seed)
            inputs = [folder / n for n in ("prints.csv", "quotes.parquet", "underlying.parquet", "calendar.csv")]
            out = folder / "events.jsonl"
            current = [sys.executable, "-m", "smart_money.options.score_files", "--prints", str(inputs[0]),
                       "--quotes", str(inputs[1]), "--underlying", str(inputs[2]), "--calendar", str(inputs[3]),
                       "--out", str(out)]  # fmt: skip
            runs, base_runs, summary = [], [], {}
            for _ in range(args.repeats):
                seconds, stdout = timed(current, env, ROOT)
                runs.append(seconds)
                summary = json.loads(stdout.strip().splitlines()[-1])
                if args.baseline_tree:
                    base_env = {**env, "PYTHONPATH": str(Path(args.baseline_tree).resolve())}
                    argv = [sys.executable, "-c", BASELINE_SCRIPT, *map(str, inputs), str(folder / "base.jsonl")]
                    base_runs.append(timed(argv, base_env, Path(args.baseline_tree))[0])
            entry = {
                **sizes,
                "events": summary["events"],
                "process_s": round(min(runs), 3),
                "read_and_check_s": summary["seconds"]["read_and_check"],
                "score_s": summary["seconds"]["score"],
                "write_s": summary["seconds"]["write"],
            }
            if base_runs:
                entry["baseline_process_s"] = round(min(base_runs), 3)
                entry["speedup_vs_baseline"] = round(min(base_runs) / min(runs), 2)
            result[label] = entry
    imports = [timed([sys.executable, "-c", "import smart_money.options.score_files"], env, ROOT)[0] for _ in range(3)]
    result["import_s"] = round(min(imports), 3)
    if args.baseline_tree:
        base_env = {**env, "PYTHONPATH": str(Path(args.baseline_tree).resolve())}
        base = [
            timed([sys.executable, "-c", "import smart_money.options.runs"], base_env, Path(args.baseline_tree))[0]
            for _ in range(3)
        ]
        result["baseline_import_s"] = round(min(base), 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
