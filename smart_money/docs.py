"""Generated documentation (kept in docs/ and checked by the tests so it never drifts)."""

from __future__ import annotations

from pathlib import Path

from smart_money.core.catalogue import render_markdown
from smart_money.core.settings import PROJECT_ROOT

FEATURES_DOC = PROJECT_ROOT / "docs" / "features.md"


def features_doc() -> str:
    return (
        "# Feature catalogue\n\n"
        "Generated from `smart_money/core/catalogue.py` by `smart-money docs`; do not edit by hand.\n\n"
        "t is the sample date (the 15th of the month, or the last NYSE session before it) and c is "
        "t 16:00 New York time: a row may be used only if its `known_at` is on or before c. Windows "
        "are calendar days ending at t on the named date field. Open-market means Form 4 codes P "
        "(purchase) and S (sale); awards, exercises, tax withholding, gifts and unknown codes never "
        "count as buying or selling. A feature is NaN when it is undefined (a ratio without any "
        "trade) or its source is missing (then its `*_missing` indicator is 1); no filing in the "
        "window is a real zero.\n\n" + render_markdown() + "\n"
    )


def write_docs(root: Path = PROJECT_ROOT) -> list[Path]:
    target = root / "docs" / "features.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(features_doc())
    return [target]
