"""Every `dagster asset materialize` command the docs show resolves as Dagster's CLI resolves it
(dagster/_cli/asset.py: the comma-split selection, one implicit job for all selected assets, a
single-run backfill policy for a --partition-range, partition keys that exist), so a documented
command cannot select nothing or mix what one run cannot hold."""

from __future__ import annotations

import re
import shlex
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.backfill_policy import BackfillPolicyType
from dagster._core.definitions.partitions.context import partition_loading_context

from smart_money.definitions import build_definitions
from smart_money.settings import Settings
from smart_money.settings.paths import project_root

DOCS = [project_root() / "README.md", *sorted((project_root() / "docs").glob("*.md"))]


def documented_commands() -> list[tuple[str, list[str]]]:
    """(file:line, argv) of each `dagster asset materialize` command with options in the docs (a
    command continued over lines with a backslash counts from its first line)."""
    found = []
    for path in DOCS:
        lines = path.read_text().splitlines()
        number = 0
        while number < len(lines):
            first, line = number + 1, lines[number]
            while line.endswith("\\") and number + 1 < len(lines):
                number += 1
                line = line[:-1] + " " + lines[number]
            number += 1
            for match in re.finditer(r"dagster asset materialize[^`]*", line):
                argv = shlex.split(match.group(0))
                if len(argv) > 3:  # not the bare name in prose
                    found.append((f"{path.name}:{first}", argv))
    return found


def option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


COMMANDS = documented_commands()


def test_the_docs_show_the_range_backfill_command():
    assert any(option(argv, "--partition-range") for _, argv in COMMANDS), [where for where, _ in COMMANDS]


@pytest.mark.parametrize(("where", "argv"), COMMANDS, ids=[where for where, _ in COMMANDS])
def test_a_documented_materialize_command_resolves_as_dagster_would_run_it(where, argv):
    settings = Settings(source="simulated", start=date(2022, 1, 1), end=date(2024, 12, 1), symbols=10, home=Path("."))
    repo = build_definitions(settings).get_repository_def()
    select = option(argv, "--select")
    assert select, f"{where}: no --select"
    keys = dg.AssetSelection.from_coercible(select.split(",")).resolve(repo.asset_graph)
    assert keys, f"{where}: {select!r} selects nothing"
    job = repo.get_implicit_job_def_for_assets(keys)
    assert job is not None, f"{where}: {select!r} mixes partitioned and unpartitioned assets"
    partition, partition_range = option(argv, "--partition"), option(argv, "--partition-range")
    asset_layer = job.asset_layer
    with partition_loading_context() as context:
        if partition_range:
            for key in keys:
                policy = asset_layer.get(key).backfill_policy
                assert policy is not None and policy.policy_type == BackfillPolicyType.SINGLE_RUN, (
                    f"{where}: {key.to_user_string()} cannot run a range in one run"
                )
            for bound in partition_range.split("..."):
                job.validate_partition_key(bound, selected_asset_keys=keys, context=context)
        elif partition:
            job.validate_partition_key(partition, selected_asset_keys=keys, context=context)
        else:
            unpartitioned = [k.to_user_string() for k in keys if asset_layer.get(k).partitions_def is None]
            assert unpartitioned == [k.to_user_string() for k in keys], f"{where}: partitioned assets need a partition"
