"""The SEC data set files of a records folder, as the public-records source reads them.

Files: `<records>/sec/insider/*.zip` (Insider Transactions Data Sets) and `<records>/sec/13f/*.zip`
(Form 13F Data Sets), under the SEC's own file names, which say which filing dates each file
holds (datasets.py). A file with another name is an error naming the file: its coverage would
be a guess.

Which files a fetch reads: those whose filing dates meet [start - AMENDMENT_LOOKBACK, end): the
window's own filings plus a year before it, where the originals of the window's amendments (4/A,
5/A, 13F NEW HOLDINGS) are looked for. Parsed files are kept in a small cache (most recently used
first), so consecutive fetches (chunked runs, the service's sample dates) read a file once.
Quarantined lines are returned only for the files that meet the window itself. A file that
cannot be read (a damaged ZIP, a table or column missing) is set aside (`Parsed.bad_files`):
its rows are not used and its filing dates no longer count as covered, so the third-party rows
of those dates stay.

Overlap with the third-party files of the folder (OpenInsider screens and the Form 4 JSON for
insider_trades; the per-manager 13F JSON for institutional_holdings): the SEC's data sets are
complete for the filing dates they cover, so for those dates they win. A third-party row whose
known_at falls on a date an SEC file of the same data set covers is dropped and counted
(`third_party_rows_replaced_by_sec`); outside those dates the third-party rows are kept. The
comparison is by filing date because the files share no key (OpenInsider has no accession, the
13F JSON names managers, not CIKs). Rows of the normalized layout (your own tables) are kept as
they are.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from smart_money.data.source import QuarantinedFile
from smart_money.sources.public_records.common import FILE_ERRORS, Parsed, file_problem
from smart_money.sources.public_records.sec import form13f, form345
from smart_money.sources.public_records.sec.datasets import DataSetFile, describe
from smart_money.sources.public_records.sec.tsv import SecDataError

AMENDMENT_LOOKBACK = pd.Timedelta(days=366)
CACHED_FILES = 8  # per data set; a parsed quarter of Form 4 lines is ~20-40 MB, of 13F positions more
PREFIXES = {"insider": "sec_form345_", "13f": "sec_13f_"}
DATASETS = {"insider_trades": "insider", "institutional_holdings": "13f"}
TABLE_OF = {"insider": "insider_trades", "13f": "institutional_holdings"}
EXPECTED_NAMES = {"insider": "YYYYqN_form345.zip", "13f": "YYYYqN_form13f.zip or DDmonYYYY-DDmonYYYY_form13f.zip"}


class _ParsedFiles:
    """A small least-recently-used cache of parsed files (thread-safe)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Path, object] = OrderedDict()
        self._lock = threading.Lock()
        self.reads = 0

    def get(self, path: Path, read: Callable[[Path], object]) -> object:
        with self._lock:
            if path in self._items:
                self._items.move_to_end(path)
                return self._items[path]
        value = read(path)
        with self._lock:
            self.reads += 1
            self._items[path] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


class SecDataSets:
    """The folder's SEC files: which dates they cover, and their rows for a window."""

    def __init__(
        self,
        insider: Iterable[Path],
        form13f_files: Iterable[Path],
        cusip_maps: Callable[[], dict[str, str]],
        cache_size: int = CACHED_FILES,
    ):
        self.files = {"insider": self._describe(insider, "insider"), "13f": self._describe(form13f_files, "13f")}
        self.superseded = self._drop_superseded()
        self._cusip_maps = cusip_maps
        self._cusip_to_ticker: dict[str, str] | None = None
        self._cache = {"insider": _ParsedFiles(cache_size), "13f": _ParsedFiles(cache_size)}

    @staticmethod
    def _describe(paths: Iterable[Path], dataset: str) -> list[tuple[DataSetFile, Path]]:
        out = []
        for path in paths:
            described = describe(path, dataset)
            if described is None:
                raise SecDataError(
                    f"{path}: not an SEC {dataset} data set file name (expected {EXPECTED_NAMES[dataset]}, as the "
                    "SEC names them); rename it or move it out of the folder"
                )
            out.append((described, Path(path)))
        return sorted(out, key=lambda item: (item[0].first_day, item[0].revision))

    def _drop_superseded(self) -> int:
        """A window the SEC re-published (`_1`) is read from the newest publication only."""
        kept = {}
        for described, path in self.files["13f"]:
            kept[(described.first_day, described.last_day)] = (described, path)
        dropped = len(self.files["13f"]) - len(kept)
        self.files["13f"] = sorted(kept.values(), key=lambda item: item[0].first_day)
        return dropped

    def files_parsed(self, dataset: str) -> int:
        """How many files of `dataset` were read from disk so far (the cache's misses)."""
        return self._cache[dataset].reads

    def __bool__(self) -> bool:
        return bool(self.files["insider"] or self.files["13f"])

    # -- coverage --------------------------------------------------------------------------------
    def covered(self, dataset: str, stamps: pd.Series) -> pd.Series:
        """Which timestamps fall on a filing date an SEC file of `dataset` holds."""
        days = pd.to_datetime(stamps).dt.normalize()
        mask = pd.Series(False, index=stamps.index)
        for described, _ in self.files[dataset]:
            mask |= (days >= pd.Timestamp(described.first_day)) & (days <= pd.Timestamp(described.last_day))
        return mask

    def replace_covered(self, dataset: str, parsed: Parsed) -> Parsed:
        """Third-party rows without those whose known_at an SEC file covers (SEC data wins)."""
        if parsed.frame.empty or not self.files[dataset]:
            return parsed
        covered = self.covered(dataset, parsed.frame["known_at"])
        parsed.counts["third_party_rows_replaced_by_sec"] += int(covered.sum())
        parsed.frame = parsed.frame[~covered].reset_index(drop=True)
        return parsed

    def _parsed_files(
        self,
        dataset: str,
        start: pd.Timestamp,
        end: pd.Timestamp,
        read: Callable[[Path], Any],
        counts: Counter,
        rejected: list[pd.DataFrame],
        bad: list[QuarantinedFile],
    ) -> Iterator[Any]:
        """What `read` makes of each file a window needs (cached), its counts added to `counts`
        and, for the files that meet the window itself, its quarantined lines to `rejected`. A
        file that cannot be read is added to `bad` and covers nothing from now on."""
        for _, path, in_window in self._files_for(dataset, start, end):
            try:
                value = self._cache[dataset].get(path, read)
            except FILE_ERRORS as error:
                self.files[dataset] = [(d, p) for d, p in self.files[dataset] if p != path]
                bad.append(file_problem(path, TABLE_OF[dataset], error))
                continue
            parsed: Parsed = value if isinstance(value, Parsed) else value[-1]
            counts.update(parsed.counts)
            if in_window and len(parsed.rejected):
                rejected.append(parsed.rejected)
            yield value

    def _files_for(self, dataset: str, start: pd.Timestamp, end: pd.Timestamp) -> list[tuple[DataSetFile, Path, bool]]:
        """(file, path, meets the window itself) for the files a window needs."""
        first, last = (start - AMENDMENT_LOOKBACK).date(), (end - pd.Timedelta(microseconds=1)).date()
        return [(d, p, d.meets(start.date(), last)) for d, p in self.files[dataset] if d.meets(first, last)]

    # -- tables ----------------------------------------------------------------------------------
    def insider_trades(self, start: pd.Timestamp, end: pd.Timestamp, symbols: set[str] | None = None) -> Parsed:
        """`insider_trades` rows of the files a window needs, amendments matched to originals."""
        counts: Counter = Counter(files_read=len(self._files_for("insider", start, end)))
        frames: list[pd.DataFrame] = []
        rejected: list[pd.DataFrame] = []
        bad: list[QuarantinedFile] = []
        for parsed in self._parsed_files("insider", start, end, form345.read_quarter, counts, rejected, bad):
            frames.append(parsed.frame if symbols is None else parsed.frame[parsed.frame["symbol"].isin(symbols)])
        lines = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=form345.LINE_COLUMNS)
        before = len(lines)
        lines = lines.drop_duplicates("record_id", keep="last")
        counts["lines_in_two_files"] += before - len(lines)
        lines, amendment_counts = form345.apply_amendments(lines)
        counts.update(amendment_counts)
        return self._prefixed("insider", Parsed(form345.insider_trades(lines), _concat(rejected), counts, bad))

    def institutional_holdings(self, start: pd.Timestamp, end: pd.Timestamp, symbols: set[str] | None = None) -> Parsed:
        """`institutional_holdings` rows of the files a window needs, each filing carrying the
        filer's quarter as it stood after it."""
        counts: Counter = Counter(
            files_read=len(self._files_for("13f", start, end)), files_superseded_by_a_republication=self.superseded
        )
        filings: list[pd.DataFrame] = []
        positions: list[pd.DataFrame] = []
        rejected: list[pd.DataFrame] = []
        bad: list[QuarantinedFile] = []
        mapping = self.cusip_to_ticker()

        def read(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, Parsed]:
            return form13f.read_file(path, mapping)

        for filed, held, _ in self._parsed_files("13f", start, end, read, counts, rejected, bad):
            filings.append(filed)
            positions.append(held if symbols is None else held[held["symbol"].isin(symbols)])
        all_filings = pd.concat(filings, ignore_index=True) if filings else pd.DataFrame(columns=form13f.FILING_COLUMNS)
        before = len(all_filings)
        all_filings = all_filings.drop_duplicates("accession", keep="last")
        counts["filings_in_two_files"] += before - len(all_filings)
        all_positions = (
            pd.concat(positions, ignore_index=True) if positions else pd.DataFrame(columns=form13f.POSITION_COLUMNS)
        )
        all_positions = all_positions.astype({"accession": str, "cusip": str, "symbol": str}).drop_duplicates(
            ["accession", "cusip"], keep="last"
        )
        result = form13f.holdings(all_filings, all_positions)
        counts.update(result.counts)
        result.counts = counts
        result.rejected = _concat([*rejected, result.rejected])
        result.bad_files = bad
        return self._prefixed("13f", result)

    def cusip_to_ticker(self) -> dict[str, str]:
        if self._cusip_to_ticker is None:
            self._cusip_to_ticker = self._cusip_maps()
        return self._cusip_to_ticker

    @staticmethod
    def _prefixed(dataset: str, parsed: Parsed) -> Parsed:
        parsed.counts = Counter({PREFIXES[dataset] + key: value for key, value in parsed.counts.items() if value})
        return parsed

    def summary(
        self,
        table: str,
        rows: pd.DataFrame,
        quarantined: pd.DataFrame,
        stats: Mapping[str, float] | None = None,
    ) -> dict[str, float]:
        """The raw assets' headline numbers of what the SEC files gave `rows` (valid rows of a pull
        or of one partition) and `quarantined` (its set-aside rows), under readable names; with
        the fetch's `stats`, also the 13F CUSIPs no map lists (counted over the files read, all
        filers: such lines have no ticker, so no partition). Nothing when the folder has no SEC
        file for the table."""
        dataset = DATASETS.get(table)
        if dataset is None or not self.files[dataset]:
            return {}
        prefix = {"insider": form345.RECORD_PREFIX, "13f": form13f.RECORD_PREFIX}[dataset]
        ids = rows["record_id"].astype(str) if len(rows) else pd.Series(dtype=str)
        sec = rows[ids.str.startswith(prefix).to_numpy(dtype=bool)] if len(rows) else rows
        out: dict[str, float] = {
            f"{PREFIXES[dataset]}rows": len(sec),
            "rows_from_other_files": len(rows) - len(sec),
            "sec_quarantined_rows": _sec_rows(quarantined, prefix),
        }
        if dataset == "insider":
            plan = sec["plan_10b5_1"].astype("boolean") if len(sec) else pd.Series(dtype="boolean")
            stated = int(plan.notna().sum())
            out.update(
                sec_amendments_applied=int(sec["amends_record_id"].notna().sum()) if len(sec) else 0,
                sec_late_filings=int(sec["filed_late"].astype("boolean").fillna(False).sum()) if len(sec) else 0,
                sec_10b5_1_stated_rows=stated,
                sec_joint_filing_rows=int(sec["co_reporting_ciks"].notna().sum()) if len(sec) else 0,
            )
            if stated:
                out["sec_10b5_1_share"] = float(plan.fillna(False).sum()) / stated
        else:
            out.update(
                sec_amendments_applied=int((sec["form_type"] == "13F-HR/A").sum()) if len(sec) else 0,
                sec_13f_filers=int(sec["filer_cik"].nunique()) if len(sec) else 0,
            )
            if stats is not None:
                out["sec_unmapped_cusips"] = stats.get("sec_13f_unmapped_cusips", 0.0)
                out["sec_unmapped_cusip_lines"] = stats.get("sec_13f_lines_unmapped_cusip", 0.0)
        return {k: float(v) for k, v in out.items()}

    def window_stats(self, table: str, frame: pd.DataFrame) -> dict[str, float]:
        """What the returned rows of a fetch hold from the SEC's files (for the asset metadata);
        nothing when the folder has no SEC file for the table."""
        dataset = DATASETS.get(table)
        if dataset is None or not self.files[dataset] or frame.empty:
            return {}
        ids = frame["record_id"].astype(str)
        if table == "insider_trades":
            sec = frame[ids.str.startswith(form345.RECORD_PREFIX)]
            if sec.empty:
                return {"rows_from_sec_form345": 0.0, "rows_from_other_files": float(len(frame))}
            plan = sec["plan_10b5_1"].astype("boolean")
            stated = int(plan.notna().sum())
            stats = {
                "rows_from_sec_form345": len(sec),
                "rows_from_other_files": len(frame) - len(sec),
                "sec_form345_amendment_rows": int(sec["amends_record_id"].notna().sum()),
                "sec_form345_late_filing_rows": int(sec["filed_late"].astype("boolean").fillna(False).sum()),
                "sec_form345_rows_with_10b5_1_flag": stated,
                "sec_form345_joint_filing_rows": int(sec["co_reporting_ciks"].notna().sum()),
            }
            if stated:
                stats["sec_form345_10b5_1_share"] = float(plan.fillna(False).sum()) / stated
            return {k: float(v) for k, v in stats.items()}
        sec = frame[ids.str.startswith(form13f.RECORD_PREFIX)]
        return {
            "rows_from_sec_13f": float(len(sec)),
            "rows_from_other_files": float(len(frame) - len(sec)),
            "sec_13f_amendment_rows": float((sec["form_type"] == "13F-HR/A").sum()),
            "sec_13f_filers": float(sec["filer_cik"].nunique()),
        }


def _sec_rows(quarantined: pd.DataFrame, prefix: str) -> int:
    """Quarantined rows from the SEC's files: lines the reader set aside (they name their
    `sec_file`) and SEC rows the schema rejected (their record id)."""
    mask = pd.Series(False, index=quarantined.index)
    if "sec_file" in quarantined:
        mask |= quarantined["sec_file"].notna()
    if "record_id" in quarantined:
        mask |= quarantined["record_id"].astype("string").str.startswith(prefix).fillna(False).astype(bool)
    return int(mask.sum())


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["symbol", "quarantine_reason"])
