"""The SEC's own bulk data sets as a public record: Insider Transactions Data Sets (Forms 3/4/5)
and Form 13F Data Sets, read from the quarterly ZIPs the SEC publishes (pure Python + pandas).

- datasets.py: quarters, the SEC's file names and the filing dates each file covers, URLs;
- tsv.py: reading the tab-separated tables inside a ZIP, in chunks, with clear errors;
- form345.py: Forms 4/5 (and amendments) -> `insider_trades`;
- form13f.py: 13F holdings reports (and amendments) -> `institutional_holdings`;
- records.py: the files of a records folder behind the public-records source (coverage, the
  files a window needs, a cache, overlap with the third-party files);
- settings.py, download.py: fetching the files from sec.gov (`smart-money sec download`).
"""
