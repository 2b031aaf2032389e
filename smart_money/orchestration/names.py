"""Names the Dagster wiring shares: asset groups, the owner, pools, jobs and schedules (part of
the project's interface: the UI, backfills and run history refer to them)."""

from __future__ import annotations

OWNERS = ["team:smart-money"]

INGEST_GROUP = "ingest"
DATASET_GROUP = "dataset"
MODEL_GROUP = "model"
OPTIONS_GROUP = "options_flow"
RESEARCH_GROUP = "research"
FLOW_MODEL_GROUPS = (INGEST_GROUP, DATASET_GROUP, MODEL_GROUP, RESEARCH_GROUP)

# Source pulls run one at a time across runs, so concurrent backfills never exceed an API's rate
# limit together (deploy/<profile>/dagster.yaml sets the pool's limit).
SOURCE_POOL = "smart_money_source"

MONTHLY_JOB = "monthly_refresh_job"
MONTHLY_SCHEDULE = "monthly_refresh_schedule"
OPTIONS_FLOW_JOB = "options_flow_job"
