"""Public records from local files (Stock Watcher exports, OpenInsider, SEC Form 4 JSON, 13F
filings, the SEC's own Form 3/4/5 and 13F data sets, ETF holdings, Yahoo-style prices, or the
normalized layout) behind the source interface."""

from smart_money.sources.public_records.source import (
    PublicRecordsSource,
    RecordFiles,
    RecordsFolderError,
)

__all__ = ["PublicRecordsSource", "RecordFiles", "RecordsFolderError"]
