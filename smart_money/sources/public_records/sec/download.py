"""Downloading the SEC's bulk data sets into a records folder (`smart-money sec download`).

`download_datasets(first, last, dest_dir, user_agent)` fetches the Insider Transactions Data
Sets and the Form 13F Data Sets whose filing dates meet quarters first..last into
`dest_dir/insider/` and `dest_dir/13f/` under the SEC's own names (datasets.py), where the
public-records source finds them (`dest_dir` = `<records>/sec`).

Fair access (sec.gov): every request carries the declared User-Agent; requests pass one
limiter (pyrate-limiter) that lets at most 8 through in any 1.25 s (the SEC allows 10 per second;
clients running near 9.9/s still drew 429s, and a request can reach the server a little after it
took its permit); redirects take permits too; 429, 5xx, timeouts, broken connections and
incomplete files are retried with exponential backoff (tenacity), waiting at least what the
server's Retry-After asks and growing from there.

Safe and resumable: a file is written to `.<name>.part` beside its target, resumed with an HTTP
Range request after a broken connection, checked to be a complete ZIP (every member's CRC), and
only then renamed onto its target (atomic on one file system), so a partial or damaged download
never replaces a good file; a damaged one is deleted and fetched again. The sha256 of every file
is recorded in `dest_dir/SHA256SUMS` (`sha256sum -c` reads it from `dest_dir`); a file already
present whose hash matches (or, unrecorded, which is a complete ZIP) is skipped, so a second run
downloads nothing. A file the SEC has not published (404 in both folders) is reported missing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pyrate_limiter import Duration, Limiter, Rate
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from smart_money.data.throttle import BackoffAtLeastRetryAfter, retry_after_seconds, take_permit
from smart_money.settings.sec import DEFAULT_BASE_URL, check_user_agent
from smart_money.sources.public_records.sec.datasets import DATASETS, DataSetFile, Quarter, form13f_files, insider_files

MAX_REQUESTS_PER_SECOND = 8
RATE_WINDOW_S = 1.25  # the limiter's window: a margin over the SEC's one second for late-sent requests
MANIFEST = "SHA256SUMS"
MAX_REDIRECTS = 5
logger = logging.getLogger("smart_money.sec.download")


class SecDownloadError(RuntimeError):
    """A request failed for good (403, an unexpected status), or retries ran out."""


class _Transient(Exception):
    """A failure worth retrying (429, 5xx, timeout, broken connection, incomplete ZIP)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class DownloadConfig:
    user_agent: str
    base_url: str = DEFAULT_BASE_URL
    max_per_second: int = MAX_REQUESTS_PER_SECOND
    timeout_s: float = 60.0
    max_retries: int = 6
    backoff_initial_s: float = 2.0
    backoff_max_s: float = 300.0
    retry_after_max_s: float = 900.0  # the SEC blocks an abusive client for about 10 minutes


@dataclass
class DownloadReport:
    downloaded: list[str] = field(default_factory=list)  # paths relative to dest_dir
    skipped: list[str] = field(default_factory=list)  # already present and valid
    missing: list[str] = field(default_factory=list)  # not published (404)
    failed: dict[str, str] = field(default_factory=dict)  # path -> why
    bytes_downloaded: int = 0
    requests: int = 0
    retries: int = 0

    @property
    def ok(self) -> bool:
        return not self.missing and not self.failed


def parse_quarter_range(first: str | Quarter, last: str | Quarter) -> tuple[Quarter, Quarter]:
    """(first, last) quarters, or ValueError saying what is wrong."""
    lo = first if isinstance(first, Quarter) else Quarter.parse(first)
    hi = last if isinstance(last, Quarter) else Quarter.parse(last)
    if hi < lo:
        raise ValueError(f"--to {hi} is before --from {lo}")
    return lo, hi


def planned_files(first: Quarter, last: Quarter, datasets: Sequence[str] = DATASETS) -> list[DataSetFile]:
    unknown = sorted(set(datasets) - set(DATASETS))
    if unknown:
        raise ValueError(f"unknown data set(s) {', '.join(unknown)}: choose from {', '.join(DATASETS)}")
    out: list[DataSetFile] = []
    if "insider" in datasets:
        out += insider_files(first, last)
    if "13f" in datasets:
        out += form13f_files(first, last)
    return out


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def complete_zip(path: Path) -> bool:
    """A ZIP whose central directory opens and whose every member passes its CRC check."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None and bool(archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return False


class Manifest:
    """`SHA256SUMS` of a download folder (`<sha256>  <relative path>` per line), rewritten
    atomically."""

    def __init__(self, folder: Path):
        self.path = folder / MANIFEST
        self.hashes: dict[str, str] = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                digest, _, name = line.partition("  ")
                if digest and name:
                    self.hashes[name.strip()] = digest.strip()

    def record(self, name: str, digest: str) -> None:
        self.hashes[name] = digest
        temporary = self.path.with_name(f".{MANIFEST}.tmp")
        temporary.write_text("".join(f"{d}  {n}\n" for n, d in sorted(self.hashes.items())))
        os.replace(temporary, self.path)


class _Progress:
    """A rich progress bar on a terminal; otherwise (and unless quiet) one plain line per file,
    without cursor movement, on stderr."""

    def __init__(self, quiet: bool, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.quiet = quiet
        self.bar: Progress | None = None
        if not quiet and self.console.is_terminal:
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )

    def __enter__(self) -> _Progress:
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.stop()

    def task(self, name: str) -> Callable[..., None]:
        """A callback for one file: update(completed=..., total=...) when a response starts,
        update(advance=bytes) for each block written."""
        if not self.bar:
            return lambda **_: None
        bar, task = self.bar, self.bar.add_task(name, total=None)

        def update(completed: int | None = None, advance: int = 0, total: int | None = None) -> None:
            if completed is not None:
                bar.update(task, completed=completed, total=total)
            if advance:
                bar.advance(task, advance)

        return update

    def line(self, text: str) -> None:
        if self.quiet:
            return
        if self.bar:
            self.bar.console.print(text, highlight=False, markup=False)
        else:
            print(text, file=self.console.file if self.console.file is not None else sys.stderr, flush=True)


class SecDownloader:
    """Fetches SEC data set files with one limiter, retries, temp files and the manifest."""

    def __init__(self, config: DownloadConfig, transport: httpx.BaseTransport | None = None):
        self.config = config
        self.limiter = Limiter(Rate(config.max_per_second, int(Duration.SECOND * RATE_WINDOW_S)))
        self.http = httpx.Client(
            headers={
                "User-Agent": check_user_agent(config.user_agent, "the SEC User-Agent"),
                "Accept-Encoding": "gzip, deflate",
            },
            timeout=httpx.Timeout(config.timeout_s),
            follow_redirects=False,
            transport=transport,
        )
        self.requests = 0
        self.retries = 0

    def close(self) -> None:
        self.http.close()

    def _permit(self) -> None:
        """A slot in the rate window, stamped when granted (data.throttle.take_permit)."""
        take_permit(self.limiter, "sec", 0.01)

    def fetch(self, file: DataSetFile, target: Path, on_bytes: Callable[..., None]) -> bool:
        """Download `file` onto `target`: True when done, False when the SEC has not published it
        (404 in every folder). Raises SecDownloadError when it cannot be had."""
        for url in file.urls(self.config.base_url):
            retrying = Retrying(
                retry=retry_if_exception_type(_Transient),
                stop=stop_after_attempt(self.config.max_retries + 1),
                wait=BackoffAtLeastRetryAfter(
                    self.config.backoff_initial_s, self.config.backoff_max_s, self.config.retry_after_max_s
                ),
                before_sleep=self._log_retry,
                reraise=True,
            )
            try:
                found = retrying(self._attempt, url, target, on_bytes)
            except _Transient as exc:
                raise SecDownloadError(f"{url}: gave up after {self.config.max_retries + 1} attempts ({exc})") from exc
            if found:
                return True
        return False

    def _log_retry(self, state: RetryCallState) -> None:
        self.retries += 1
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.warning("SEC download: %s (attempt %d); retrying in %.1fs", error, state.attempt_number, wait)

    def _get(self, url: str, headers: dict[str, str]) -> httpx.Response:
        """A streamed GET that follows redirects itself, each hop taking a permit."""
        for _ in range(MAX_REDIRECTS + 1):
            self._permit()
            self.requests += 1
            request = self.http.build_request("GET", url, headers=headers)
            response = self.http.send(request, stream=True)
            if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                url = str(response.url.join(response.headers["location"]))
                response.close()
                continue
            return response
        raise SecDownloadError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _attempt(self, url: str, target: Path, on_bytes: Callable[..., None]) -> bool:
        part = target.with_name(f".{target.name}.part")
        offset = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            response = self._get(url, headers)
            try:
                status = response.status_code
                if status == 404:
                    return False
                if status == 429 or status >= 500:
                    raise _Transient(f"{status} from {url}", retry_after_seconds(response.headers.get("Retry-After")))
                if status == 403:
                    raise SecDownloadError(
                        f"sec.gov refused {url} (403): it refuses requests without a declared User-Agent ('Name "
                        "email'), or the client is blocked for going over 10 requests/s"
                    )
                if status == 416:  # the part already holds the whole file
                    pass
                elif status not in (200, 206):
                    raise SecDownloadError(f"{url}: unexpected HTTP {status}")
                else:
                    resumed = status == 206 and response.headers.get("Content-Range", "").startswith(f"bytes {offset}-")
                    length = response.headers.get("Content-Length")
                    total = (int(length) + (offset if resumed else 0)) if length and length.isdigit() else None
                    on_bytes(completed=offset if resumed else 0, total=total)
                    with part.open("ab" if resumed else "wb") as out:
                        for block in response.iter_bytes():  # as received: a broken transfer keeps what came
                            out.write(block)
                            on_bytes(advance=len(block))
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise _Transient(f"timeout after {self.config.timeout_s:g}s on {url}") from exc
        except httpx.TransportError as exc:  # the connection broke: keep the part, resume it
            raise _Transient(f"connection problem on {url}: {type(exc).__name__}: {exc}") from exc
        if not complete_zip(part):
            part.unlink(missing_ok=True)
            raise _Transient(f"{url}: the download is not a complete ZIP (truncated or damaged); fetching it again")
        os.replace(part, target)
        return True


def download_datasets(
    first_quarter: str | Quarter,
    last_quarter: str | Quarter,
    dest_dir: Path | str,
    user_agent: str,
    *,
    datasets: Sequence[str] = DATASETS,
    base_url: str = DEFAULT_BASE_URL,
    quiet: bool = False,
    max_per_second: int = MAX_REQUESTS_PER_SECOND,
    max_retries: int = 6,
    backoff_initial_s: float = 2.0,
    timeout_s: float = 60.0,
    transport: httpx.BaseTransport | None = None,
    console: Console | None = None,
) -> DownloadReport:
    """Fetch the data set files of quarters first..last (filing dates) into dest_dir/insider and
    dest_dir/13f (see the module docstring). Returns what was downloaded, skipped, missing or
    failed; raises ValueError for bad quarters or a User-Agent that is not 'Name email'."""
    first, last = parse_quarter_range(first_quarter, last_quarter)
    files = planned_files(first, last, datasets)
    config = DownloadConfig(
        user_agent=check_user_agent(user_agent, "the SEC User-Agent"),
        base_url=base_url,
        max_per_second=max_per_second,
        timeout_s=timeout_s,
        max_retries=max_retries,
        backoff_initial_s=backoff_initial_s,
    )
    folder = Path(dest_dir)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(folder)
    report = DownloadReport()
    downloader = SecDownloader(config, transport)
    try:
        with _Progress(quiet, console) as progress:
            for file in files:
                _one(file, folder, manifest, downloader, progress, report)
    finally:
        downloader.close()
        report.requests, report.retries = downloader.requests, downloader.retries
    return report


def _one(
    file: DataSetFile,
    folder: Path,
    manifest: Manifest,
    downloader: SecDownloader,
    progress: _Progress,
    report: DownloadReport,
) -> None:
    name = f"{file.dataset}/{file.name}"
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        recorded = manifest.hashes.get(name)
        if recorded is not None and sha256_of(target) == recorded:
            report.skipped.append(name)
            return
        if recorded is None and complete_zip(target):
            manifest.record(name, sha256_of(target))
            report.skipped.append(name)
            return
        progress.line(f"{name}: present but damaged or changed since it was recorded; downloading it again")
    try:
        found = downloader.fetch(file, target, progress.task(name))
    except SecDownloadError as exc:
        report.failed[name] = str(exc)
        progress.line(f"{name}: failed: {exc}")
        return
    if not found:
        report.missing.append(name)
        progress.line(f"{name}: not published by the SEC (404)")
        return
    manifest.record(name, sha256_of(target))
    size = target.stat().st_size
    report.downloaded.append(name)
    report.bytes_downloaded += size
    progress.line(f"{name}: downloaded ({size / 1e6:.1f} MB)")


def describe_report(report: DownloadReport, folder: Path) -> Iterable[str]:
    """The lines the command prints at the end."""
    yield (
        f"{len(report.downloaded)} downloaded ({report.bytes_downloaded / 1e6:.1f} MB), {len(report.skipped)} "
        f"already present, {len(report.missing)} not published, {len(report.failed)} failed; {report.requests} "
        f"requests, {report.retries} retries -> {folder}"
    )
    for name in report.missing:
        yield f"  not published: {name}"
    for name, why in report.failed.items():
        yield f"  failed: {name}: {why}"
