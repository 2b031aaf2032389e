"""Screenshots of the Dagster UI for docs/ui/: a small run whose partitioned checks pass and whose
model is rejected (the gate thresholds are set out of reach on purpose), then the UI's pages of
the checks and the asset graph, captured with headless Chromium (playwright).

    .venv/bin/python scripts/ui_screenshots.py [--out docs/ui] [--home /tmp/ui-shots]

Needs Chromium (`chromium` on PATH) and takes a few minutes (the run is 30 stocks x 12 months).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx

LOCATION = "smart_money.definitions"
# out of reach on purpose: the model is registered as rejected, so its `gates` check fails
UNREACHABLE_GATES = {"registered_model": {"min_auc_margin": 0.5}}
FAST_EVALUATION = {"evaluation_report": {"bootstrap": 20, "independent_worlds": 1, "independent_symbols": 40}}
BROWSER_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
ENV = {
    "SMART_MONEY_START": "2022-10",
    "SMART_MONEY_END": "2023-09",
    "SMART_MONEY_SYMBOLS": "30",
    "SMART_MONEY_SEED": "3",
}


def run_pipeline(home: Path) -> str:
    """The small run, into the instance under `home` (what the webserver then shows)."""
    import dagster as dg

    from smart_money.definitions import CODE_LOCATION
    from smart_money.orchestration.instance import ensure_dagster_home
    from smart_money.orchestration.runner import run_monthly_graph
    from smart_money.settings import Settings

    settings = Settings(
        source="simulated", start=date(2022, 10, 1), end=date(2023, 9, 1), symbols=30, seed=3, home=home
    )
    ensure_dagster_home(settings)
    summary = run_monthly_graph(
        CODE_LOCATION, settings, instance=dg.DagsterInstance.get(), op_config=FAST_EVALUATION | UNREACHABLE_GATES
    )
    if not summary.success:
        raise SystemExit(f"the run failed: {summary.error}")
    return summary.run_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def capture(url: str, out: Path) -> list[Path]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    pages = {
        "raw_checks.png": f"{url}/assets/raw_congress_trades?view=checks",
        "registered_model_checks.png": f"{url}/assets/registered_model?view=checks",
        "graph_ingest.png": f"{url}/locations/{LOCATION}/asset-groups/ingest",
        "graph_model.png": f"{url}/locations/{LOCATION}/asset-groups/model",
    }
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=BROWSER_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            for name, address in pages.items():
                page.goto(address)
                page.wait_for_load_state("networkidle", timeout=120_000)
                try:  # the first visit's newsletter dialog
                    page.get_by_role("button", name="Skip").click(timeout=10_000)
                except PlaywrightTimeout:
                    pass
                time.sleep(3)  # the graph lays itself out after the data arrives
                page.screenshot(path=str(out / name))
                written.append(out / name)
                if name == "raw_checks.png":  # the check's partitions: every month passed
                    page.get_by_text("Partitions", exact=True).last.click()
                    page.wait_for_load_state("networkidle", timeout=120_000)
                    time.sleep(2)
                    page.screenshot(path=str(out / "raw_check_partitions.png"))
                    written.append(out / "raw_check_partitions.png")
        finally:
            browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/ui"))
    parser.add_argument("--home", type=Path, default=None, help="SMART_MONEY_HOME of the run (default: a temp folder)")
    parser.add_argument("--no-run", action="store_true", help="Show the runs already in --home (no new run).")
    args = parser.parse_args()
    if not shutil.which("chromium"):
        raise SystemExit("no `chromium` on PATH: install Chromium (Debian: apt-get install chromium)")
    home = (args.home or Path(tempfile.mkdtemp(prefix="ui-shots-"))).resolve()
    os.environ.update(ENV | {"SMART_MONEY_HOME": str(home)})
    if not args.no_run:
        print(f"running the pipeline in {home} (30 stocks x 12 months, a few minutes) ...", file=sys.stderr, flush=True)
        print(f"run {run_pipeline(home)} in {home}", file=sys.stderr)
    print("starting dagster-webserver on loopback and taking the screenshots ...", file=sys.stderr, flush=True)
    port = free_port()
    webserver = Path(sys.executable).with_name("dagster-webserver")
    server = subprocess.Popen(
        [str(webserver), "-m", LOCATION, "-h", "127.0.0.1", "-p", str(port)],
        env=os.environ | {"DAGSTER_HOME": str(home / ".dagster_home")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            raise SystemExit("dagster-webserver did not answer within 4 minutes")
        args.out.mkdir(parents=True, exist_ok=True)
        for path in capture(url, args.out):
            print(f"wrote {path}", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
