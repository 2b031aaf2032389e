"""Loading a registered model without risking the process that loads it.

LightGBM's text parser trusts its input: a model.txt with a bad split feature, a wrong leaf count
or a truncated tree makes the C++ library call `abort()` (or read out of bounds), which kills the
whole Python process; no exception reaches the caller. The registry's sha256 check does not help
when the index was written for that very file. So before the server (or `smart-money predict`)
parses a version's LightGBM texts, a short-lived child process parses them and scores one row; only
when that child exits cleanly does the caller parse them itself. The check costs one interpreter
start with LightGBM (about a second) per model load, i.e. at start-up and when the champion changes.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from smart_money.model.flow_model import FlowModel
from smart_money.model.registry import Registry

BOOSTER_FILES = ("model.txt", "volatility_model.txt")
CHECK_TIMEOUT_S = 120.0
# the child: read {name: model text} on stdin; for each, say its name on stdout, parse it and score
# a row of zeros (a crash here is the answer the parent wants). Plain code, so the child imports
# LightGBM and NumPy only.
CHILD = """
import json, sys, lightgbm, numpy
for name, text in json.load(sys.stdin).items():
    print("checking:" + name, flush=True)
    booster = lightgbm.Booster(model_str=text)
    booster.predict(numpy.zeros((1, booster.num_feature())))
"""


class UnloadableModel(RuntimeError):
    """A registered LightGBM text that LightGBM cannot parse; the message names the file."""


def _describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


def check_boosters(texts: dict[str, str], where: str) -> None:
    """Parse each LightGBM model text (name -> text) in one child process and score a row of
    zeros with it; UnloadableModel naming `where/<name>` if the child fails or dies."""
    if not texts:
        return
    try:
        result = subprocess.run(
            [sys.executable, "-c", CHILD],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise UnloadableModel(
            f"{where}: LightGBM did not finish parsing the model within {CHECK_TIMEOUT_S:.0f} s"
        ) from None
    if result.returncode != 0:
        reached = [
            line.removeprefix("checking:") for line in result.stdout.splitlines() if line.startswith("checking:")
        ]
        name = reached[-1] if reached else next(iter(texts))
        last = (result.stderr.strip().splitlines() or [""])[-1].strip()
        raise UnloadableModel(
            f"{where}/{name} is not a model LightGBM can load (the check process {_describe(result.returncode)}"
            + (f": {last[:200]}" if last else "")
            + ")"
        )


def load_checked(registry: Registry, version: str) -> tuple[FlowModel, dict]:
    """`registry.load_model(version)`, after its files' hashes were verified and its LightGBM
    texts parsed in a child process (UnloadableModel when they cannot be)."""
    folder = registry.verify(version)
    texts = {name: (folder / name).read_text() for name in BOOSTER_FILES if (folder / name).exists()}
    check_boosters(texts, str(folder))
    return registry.load_model(version)
