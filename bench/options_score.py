"""`smart-money options-score` as a user runs it: the installed command, from process start to
events file written, on a synthetic day written in the scoring-file format (prints CSV, quotes /
underlying Parquet, calendar CSV), at about 3,000 and 250,000 prints.

Per size, best of `--repeats` fresh processes of the `smart-money` console script (the one next
to this Python, importing whatever `PYTHONPATH` points at, as installed otherwise), checked to
have written one event per line. Also reported: the command's floor (`smart-money options-score
--help`, start-up and imports) and, from one in-process call of the scoring function the command
runs (`smart_money.options.score_files.score_files`), its read+check / score / write split.
`--baseline-tree PATH` (a checkout of an older commit, e.g. `git worktree add /tmp/base <rev>`)
also times that tree's command (`python -m smart_money.cli options-score`, its tree first on
the path) on the same files, alternating with the current one.
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
FILES = ("prints.csv", "quotes.parquet", "underlying.parquet", "calendar.csv")
SPLIT_SCRIPT = (
    "import json, sys; from smart_money.options.score_files import score_files; "
    "a = sys.argv[1:]; print(json.dumps(score_files(a[0], a[1], a[4], a[2], a[3])['seconds']))"
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


def command() -> list[str]:
    """The installed `smart-money` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "smart-money"
    if not script.exists():
        raise SystemExit(f"{script} not found: install the project (make install) before this benchmark")
    return [str(script)]


def score_args(inputs: list[Path], out: Path) -> list[str]:
    prints, quotes, underlying, calendar = map(str, inputs)
    return ["options-score", "--prints", prints, "--quotes", quotes, "--underlying", underlying,
            "--calendar", calendar, "--out", str(out)]  # fmt: skip


def timed(argv: list[str], env: dict, cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start


def event_lines(path: Path) -> int:
    with path.open() as handle:
        return sum(1 for _ in handle)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--baseline-tree", help="a checkout of the commit to compare with")
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as installed: cached bytecode
    env["COLUMNS"] = "120"  # the command's table, not the terminal, decides nothing here
    cli = command()
    base_env = None
    if args.baseline_tree:
        tree = Path(args.baseline_tree).resolve()
        base_env = {**env, "PYTHONPATH": str(tree)}
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-options-score-") as tmp:
        for label in args.sizes:
            scenarios, copies = SIZES[label]
            folder = Path(tmp) / label
            folder.mkdir()
            sizes = write_day(folder, scenarios, copies, args.seed)
            inputs = [folder / name for name in FILES]
            out = folder / "events.jsonl"
            runs, base_runs = [], []
            for _ in range(args.repeats):
                out.unlink(missing_ok=True)
                runs.append(timed(cli + score_args(inputs, out), env, ROOT))
                if base_env is not None:
                    argv = [sys.executable, "-m", "smart_money.cli", *score_args(inputs, folder / "base.jsonl")]
                    base_runs.append(timed(argv, base_env, Path(args.baseline_tree)))
            events = event_lines(out)
            split = subprocess.run(
                [sys.executable, "-c", SPLIT_SCRIPT, *map(str, inputs), str(folder / "split.jsonl")],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            seconds = json.loads(split.stdout.strip().splitlines()[-1])
            entry = {
                **sizes,
                "events": events,
                "process_s": round(min(runs), 3),
                "prints_per_s": round(sizes["prints"] / min(runs)),
                "read_and_check_s": seconds["read_and_check"],
                "score_s": seconds["score"],
                "write_s": seconds["write"],
            }
            if base_runs:
                entry["baseline_process_s"] = round(min(base_runs), 3)
                entry["speedup_vs_baseline"] = round(min(base_runs) / min(runs), 2)
            result[label] = entry
    result["help_s"] = round(min(timed(cli + ["options-score", "--help"], env, ROOT) for _ in range(3)), 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
