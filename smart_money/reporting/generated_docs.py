"""Generated documentation (kept in docs/ and checked by the tests so it never drifts)."""

from __future__ import annotations

from pathlib import Path

from smart_money.data.schemas import TABLES, UNIVERSE
from smart_money.dataset.catalogue import render_markdown
from smart_money.research import families
from smart_money.settings.paths import project_root
from smart_money.sources.public_records import normalized

FEATURES_DOC = Path("docs") / "features.md"  # relative to the project root
LAYOUT_DOC = Path("docs") / "normalized-layout.md"
FAMILIES_DOC = Path("docs") / "signal-families.md"


def features_doc() -> str:
    return (
        "# Feature catalogue\n\n"
        "Generated from `smart_money/dataset/catalogue.py` by `smart-money docs`; do not edit by hand.\n\n"
        "t is the sample date (the 15th of the month, or the last NYSE session before it) and c is "
        "t 16:00 New York time: a row may be used only if its `known_at` is on or before c. Windows "
        "are calendar days ending at t on the named date field. Open-market means Form 4 codes P "
        "(purchase) and S (sale); awards, exercises, tax withholding, gifts and unknown codes never "
        "count as buying or selling. A feature is NaN when it is undefined (a ratio without any "
        "trade) or its source is missing (then its `*_missing` indicator is 1); no filing in the "
        "window is a real zero. Family `insider_split` holds analysis columns: stored with the features, not "
        "model inputs (docs/sec-data.md, What the features use).\n\n" + render_markdown() + "\n"
    )


def families_doc() -> str:
    """docs/signal-families.md from the family catalogue (research/families.py)."""
    return (
        "# Disclosure-event families\n\n"
        "Generated from `smart_money/research/families.py` by `smart-money docs`; do not edit by hand.\n\n"
        + " ".join(families.__doc__.split())
        + "\n\n"
        + families.render_markdown()
        + "\nEach family is measured by `smart-money signals study` and the `event_study` asset: buy-and-hold "
        "abnormal returns from the first close strictly after the public time (the day-0 move from the last close "
        "at or before it is reported apart), against the equal-weight universe, the matched size x prior-return "
        "bucket and the market index, and monthly calendar-time portfolios (see docs/signal-study.md).\n"
    )


def _check_text(check) -> str:
    stats = check.statistics
    texts = {
        "str_matches": lambda: f"matches `{stats.get('pattern')}`",
        "isin": lambda: "one of " + ", ".join(f"`{v}`" for v in stats.get("allowed_values", ())),
        "greater_than": lambda: f"> {stats.get('min_value')}",
        "greater_than_or_equal_to": lambda: f">= {stats.get('min_value')}",
        "less_than_or_equal_to": lambda: f"<= {stats.get('max_value')}",
        "str_length": lambda: f"at least {stats.get('min_value')} character",
    }
    return texts[check.name]() if check.name in texts else str(check.name)


def _column_rule(column) -> str:
    rules = [_check_text(check) for check in column.checks] + (["unique"] if column.unique else [])
    return "; ".join(filter(None, [column.description, *rules]))


def normalized_layout_doc() -> str:
    """The columns a user's own export must have for the public_records source, from the
    pandera schemas every source is validated against."""
    parts = [
        "# Normalized layout (bring your own records)\n\n"
        "Generated from `smart_money/data/schemas.py` by `smart-money docs`; do not edit by hand.\n\n"
        "`SMART_MONEY_SOURCE=public_records SMART_MONEY_PUBLIC_RECORDS_DIR=<folder>` reads, besides the "
        "public formats it knows (docs/real-data.md), tables already in the project's schema that you export "
        "from any vendor. "
        + " ".join(normalized.__doc__.split("\n\n", 1)[1].split())
        + " Rows are validated like every "
        "source's: a row that breaks a rule is quarantined with its reason (see `data/quarantine/`), the rest "
        "are used. Optional columns (nullable) may be left empty.\n"
    ]
    for spec in (*TABLES.values(), UNIVERSE):
        schema = spec.schema.to_schema()
        rows = [
            f"| `{name}` | {column.dtype} | {'yes' if column.nullable else 'no'} | {_column_rule(column)} |"
            for name, column in schema.columns.items()
        ]
        table_checks = [str(getattr(check, "error", None) or check) for check in schema.checks]
        unique = f" Unique: ({', '.join(schema.unique)})." if schema.unique else ""
        parts.append(
            f"\n## `normalized/{spec.name}`\n\n{' '.join(spec.schema.__doc__.split())}{unique}"
            + (f" A row is quarantined when: {'; '.join(table_checks)}." if table_checks else "")
            + "\n\n| column | type | optional | meaning and rules |\n|---|---|---|---|\n"
            + "\n".join(rows)
            + "\n"
        )
    return "".join(parts)


def write_docs(root: Path | None = None) -> list[Path]:
    root = root or project_root()
    written = []
    for relative, text in (
        (FEATURES_DOC, features_doc()),
        (LAYOUT_DOC, normalized_layout_doc()),
        (FAMILIES_DOC, families_doc()),
    ):
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        written.append(target)
    return written
