"""Raw layer: the universe and one monthly asset per source table.

Each raw asset reads the universe, asks the configured source for its table over the run's
months (one call for the whole range), validates and quarantines rows (data.raw_pull), writes
the quarantine beside the data and returns one frame per partition.
"""

# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at runtime
import dagster as dg
import pandas as pd

from smart_money.data import storage
from smart_money.data.raw_pull import pull_raw, pull_universe, quarantined_files_metadata
from smart_money.data.schemas import TABLES, UNIVERSE
from smart_money.orchestration.checks import column_schema
from smart_money.orchestration.metadata import frame_preview, plain_metadata
from smart_money.orchestration.names import INGEST_GROUP, SOURCE_POOL
from smart_money.orchestration.resources import DataSourceResource
from smart_money.settings import Settings

RAW_DESCRIPTIONS = {
    "insider_trades": "SEC Form 4 lines (open-market purchases P, sales S, awards, exercises, "
    "gifts ...), by filing time `known_at`.",
    "institutional_holdings": "13F-HR positions per filer and quarter end, by filing time.",
    "congress_trades": "STOCK Act periodic transaction reports of members of Congress, by disclosure date.",
    "etf_holdings": "ETF holdings snapshots, by publication time.",
    "prices": "Daily bars (close as traded, adj_close for returns), by session date; each month "
    "also carries the first days of the next so its 14-day labels resolve.",
}


def symbols_for(table: str, universe: pd.DataFrame) -> list[str]:
    """Stocks for event tables; stocks and ETFs for prices (ETFs give the market index)."""
    rows = universe if table == "prices" else universe[universe["asset_type"] == "stock"]
    return rows["symbol"].drop_duplicates().tolist()


def quarantine_path(settings: Settings, table: str, partition_key: str) -> str:
    return storage.join(settings.data_location, "quarantine", table, f"{partition_key}.parquet")


def build_universe_asset(settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(
        name="universe",
        group_name=INGEST_GROUP,
        kinds={"python", "parquet"},
        tags={"layer": "raw"},
        description="Symbols the pipeline covers (configured subset of the source's universe, "
        "with membership intervals), plus the ETFs whose prices serve as market indexes.",
        metadata={"dagster/column_schema": column_schema(UNIVERSE.schema)},
        pool=SOURCE_POOL,
    )
    def universe(context: dg.AssetExecutionContext, data_source: DataSourceResource) -> pd.DataFrame:
        frame, outcome = pull_universe(data_source.get(), settings.symbols)
        stocks = frame[frame["asset_type"] == "stock"]
        context.add_output_metadata(
            {
                "dagster/row_count": len(frame),
                "stocks": len(stocks),
                "etfs": int((frame["asset_type"] == "etf").sum()),
                "sectors": dg.MetadataValue.json(stocks["sector"].value_counts().to_dict()),
                "rows_quarantined": outcome.n_quarantined,
                **plain_metadata(quarantined_files_metadata(data_source.get().quarantined_files())),
                "preview": frame_preview(frame),
                **{k: v for k, v in data_source.get().describe().items()},
            }
        )
        return frame

    return universe


def build_raw_asset(table: str, settings: Settings, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    spec = TABLES[table]
    first_month = pd.Timestamp(settings.start)

    @dg.asset(
        name=f"raw_{table}",
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=INGEST_GROUP,
        kinds={"python", "parquet"},
        tags={"layer": "raw", "table": table},
        description=RAW_DESCRIPTIONS[table],
        metadata={
            "dagster/column_schema": column_schema(spec.schema),
            "partition_column": spec.partition_column,
        },
        pool=SOURCE_POOL,
    )
    def raw_asset(
        context: dg.AssetExecutionContext, data_source: DataSourceResource, universe: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        months = [pd.Timestamp(k) for k in context.partition_keys]
        pull = pull_raw(data_source.get(), table, symbols_for(table, universe), months, first_month)
        written = []
        for key, rows in pull.quarantine_by_partition().items():
            path = quarantine_path(settings, table, key)
            storage.write_parquet(path, rows)
            written.append(path)
        context.add_output_metadata(
            {
                "dagster/row_count": len(pull.outcome.valid),
                **plain_metadata(pull.metadata()),
                "gap_examples": dg.MetadataValue.json([g.__dict__ for g in pull.gaps[:20]]),
                "quarantine_files": dg.MetadataValue.json(written),
                "preview": frame_preview(pull.outcome.valid),
                **{f"source_{k}": v for k, v in data_source.get().describe().items() if k != "source"},
                "source": data_source.get().name,
            }
        )
        return pull.partitions

    return raw_asset
