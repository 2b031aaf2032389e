"""The SEC downloader against a fake sec.gov on loopback: the declared User-Agent on every
request, never more than 10 requests in any second (measured by the server), 429 and broken
downloads retried, truncated ZIPs never kept, the newer folder tried, sha256 recorded, a second
run downloads nothing; settings and the `smart-money sec download` command."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections import Counter
from types import SimpleNamespace

import pytest
from rich.console import Console
from typer.testing import CliRunner

from smart_money.cli import app
from smart_money.data.throttle import BackoffAtLeastRetryAfter
from smart_money.settings import SettingsError
from smart_money.settings.sec import SecSettings
from smart_money.sources.public_records.sec.datasets import URL_FOLDERS, Quarter, form13f_files, insider_files
from smart_money.sources.public_records.sec.download import (
    MANIFEST,
    DownloadConfig,
    _Transient,
    complete_zip,
    download_datasets,
)
from smart_money_tests.support.fake_sec import FakeSecServer

AGENT = "Smart Money Tests tests@example.com"
FIRST, LAST = "2019q1", "2020q2"


def zip_payload(name: str) -> bytes:
    """A small ZIP whose content cannot be guessed from half of it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("SUBMISSION.tsv", os.urandom(20_000))
        archive.writestr("README.txt", name)
    return buffer.getvalue()


def path_of(dataset: str, name: str, newer: bool = False) -> str:
    return f"/{URL_FOLDERS[dataset][1 if newer else 0]}/{name}"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """One run over 2019q1..2020q2 (6 insider files, 6 13F files) with a 429, a truncated ZIP, a
    dropped connection, a file only in the newer folder and one the SEC has not published; then a
    second run into the same folder."""
    quarters = (Quarter.parse(FIRST), Quarter.parse(LAST))
    insider = [f.name for f in insider_files(*quarters)]
    thirteenf = [f.name for f in form13f_files(*quarters)]
    files = {path_of("insider", n): zip_payload(n) for n in insider}
    files.update(
        {
            path_of("13f", n, newer=(n == "2019q1_form13f.zip")): zip_payload(n)
            for n in thirteenf
            if n != "2020q2_form13f.zip"
        }
    )
    faults = {
        path_of("insider", "2019q2_form345.zip"): ["429"],
        path_of("insider", "2019q3_form345.zip"): ["truncate"],
        path_of("insider", "2019q4_form345.zip"): ["drop"],
        path_of("insider", "2020q1_form345.zip"): ["503"],
    }
    dest = tmp_path_factory.mktemp("download") / "sec"
    with FakeSecServer(files, faults) as sec:
        first = download_datasets(FIRST, LAST, dest, AGENT, base_url=sec.url, backoff_initial_s=0.01, quiet=True)
        first_log = list(sec.log.arrivals)
        second = download_datasets(FIRST, LAST, dest, AGENT, base_url=sec.url, backoff_initial_s=0.01, quiet=True)
        second_log = sec.log.arrivals[len(first_log) :]
    return SimpleNamespace(
        dest=dest, files=files, first=first, second=second, first_log=first_log, second_log=second_log, log=sec.log
    )


def test_every_request_declares_the_user_agent(scenario):
    assert scenario.log.arrivals and {a.user_agent for a in scenario.log.arrivals} == {AGENT}
    assert 403 not in scenario.log.statuses


def test_never_more_than_ten_requests_in_any_second(scenario):
    assert len(scenario.first_log) >= 16  # enough requests that an unlimited client would burst past 10/s
    assert scenario.log.most_in_one_second() <= 10


def test_files_arrive_whole_with_their_sha256_recorded(scenario):
    report = scenario.first
    assert len(report.downloaded) == 11 and report.missing == ["13f/2020q2_form13f.zip"] and not report.failed
    assert not report.ok  # something asked for is not published
    recorded = dict(line.split("  ")[::-1] for line in (scenario.dest / MANIFEST).read_text().splitlines())
    assert sorted(recorded) == sorted(report.downloaded)
    for name in report.downloaded:
        dataset, file = name.split("/")
        served = scenario.files.get(path_of(dataset, file)) or scenario.files[path_of(dataset, file, newer=True)]
        assert (scenario.dest / name).read_bytes() == served
        assert recorded[name] == hashlib.sha256(served).hexdigest()
    assert not list(scenario.dest.rglob("*.part"))  # no partial file left behind


def test_429_and_5xx_are_retried(scenario):
    paths = scenario.log.paths()
    assert scenario.log.statuses[429] == 1 and scenario.log.statuses[503] == 1
    assert paths[path_of("insider", "2019q2_form345.zip")] == 2 and paths[path_of("insider", "2020q1_form345.zip")] == 2
    assert scenario.first.retries >= 4


def test_a_truncated_zip_is_retried_and_never_kept(scenario):
    assert scenario.log.paths()[path_of("insider", "2019q3_form345.zip")] == 2
    assert complete_zip(scenario.dest / "insider" / "2019q3_form345.zip")


def test_a_broken_connection_resumes_where_it_stopped(scenario):
    asks = [a for a in scenario.first_log if a.path == path_of("insider", "2019q4_form345.zip")]
    assert (
        len(asks) == 2 and asks[0].range is None and asks[1].range.startswith("bytes=") and asks[1].range != "bytes=0-"
    )


def test_the_newer_folder_is_tried_when_the_usual_one_has_no_file(scenario):
    paths = Counter(a.path for a in scenario.first_log)
    assert (
        paths[path_of("13f", "2019q1_form13f.zip")] == 1
        and paths[path_of("13f", "2019q1_form13f.zip", newer=True)] == 1
    )
    assert (
        paths[path_of("13f", "2020q2_form13f.zip")] == 1
        and paths[path_of("13f", "2020q2_form13f.zip", newer=True)] == 1
    )


def test_a_second_run_downloads_nothing(scenario):
    assert scenario.second.downloaded == [] and len(scenario.second.skipped) == 11
    assert {a.path for a in scenario.second_log} == {
        path_of("13f", "2020q2_form13f.zip"),
        path_of("13f", "2020q2_form13f.zip", newer=True),
    }  # only the unpublished one is asked again


def test_a_failed_download_never_replaces_the_file_there(tmp_path):
    """A present file that no longer matches its recorded hash is fetched again; when every
    attempt comes back truncated, the present file stays as it was and nothing partial is left."""
    name = "2021q1_form345.zip"
    old, new = zip_payload("old"), zip_payload("new")
    dest = tmp_path / "sec"
    (dest / "insider").mkdir(parents=True)
    (dest / "insider" / name).write_bytes(old)
    (dest / MANIFEST).write_text(f"{'0' * 64}  insider/{name}\n")
    with FakeSecServer({path_of("insider", name): new}, {path_of("insider", name): ["truncate"] * 5}) as sec:
        report = download_datasets(
            "2021q1",
            "2021q1",
            dest,
            AGENT,
            datasets=("insider",),
            base_url=sec.url,
            backoff_initial_s=0.01,
            max_retries=2,
            quiet=True,
        )
    assert list(report.failed) == [f"insider/{name}"] and "gave up after 3 attempts" in report.failed[f"insider/{name}"]
    assert (dest / "insider" / name).read_bytes() == old
    assert not list(dest.rglob("*.part"))


def test_progress_is_plain_lines_when_stderr_is_not_a_terminal(tmp_path):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False)
    with FakeSecServer({path_of("insider", "2021q2_form345.zip"): zip_payload("q2")}) as sec:
        download_datasets("2021q2", "2021q2", tmp_path, AGENT, datasets=("insider",), base_url=sec.url, console=console)
    text = buffer.getvalue()
    assert "insider/2021q2_form345.zip: downloaded" in text and "\x1b[" not in text


def test_the_wait_honours_retry_after_and_keeps_growing():
    config = DownloadConfig(user_agent=AGENT, backoff_initial_s=1.0)
    wait = BackoffAtLeastRetryAfter(config.backoff_initial_s, config.backoff_max_s, config.retry_after_max_s)

    def state(attempt: int, retry_after: float | None) -> SimpleNamespace:
        error = _Transient("429", retry_after)
        return SimpleNamespace(attempt_number=attempt, outcome=SimpleNamespace(exception=lambda: error))

    assert wait(state(1, 30.0)) >= 30.0  # the server's minimum
    assert 1.0 <= wait(state(1, None)) <= 1.1
    assert wait(state(4, 2.0)) >= 8.0  # backoff grows past a small Retry-After


def test_settings_require_a_declared_user_agent():
    assert (
        SecSettings.from_env({"SMART_MONEY_SEC_USER_AGENT": " Jane Doe jane@example.com "}).user_agent
        == "Jane Doe jane@example.com"
    )
    with pytest.raises(
        SettingsError, match='SMART_MONEY_SEC_USER_AGENT is not set: set it to "Your Name your.email@example.com"'
    ):
        SecSettings.from_env({})
    for bad in ("jane@example.com", "Jane Doe", "python-httpx/0.28"):
        with pytest.raises(SettingsError, match="is not a name followed by an e-mail address"):
            SecSettings.from_env({"SMART_MONEY_SEC_USER_AGENT": bad})
    with pytest.raises(SettingsError, match="SMART_MONEY_SEC_BASE_URL"):
        SecSettings.from_env({"SMART_MONEY_SEC_USER_AGENT": AGENT, "SMART_MONEY_SEC_BASE_URL": "ftp://x"})


def test_the_command(tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.delenv("SMART_MONEY_SEC_USER_AGENT", raising=False)
    missing = runner.invoke(app, ["sec", "download", "--from", "2021q1", "--to", "2021q1", "--dir", str(tmp_path)])
    assert missing.exit_code == 2 and "SMART_MONEY_SEC_USER_AGENT is not set" in missing.output
    monkeypatch.setenv("SMART_MONEY_SEC_USER_AGENT", AGENT)
    for first, last, why in (
        ("2021q5", "2021q1", "'2021q5' is not a quarter"),
        ("2021q2", "2021q1", "--to 2021q1 is before --from 2021q2"),
    ):
        bad = runner.invoke(app, ["sec", "download", "--from", first, "--to", last, "--dir", str(tmp_path)])
        assert bad.exit_code == 2 and why in bad.output and len(bad.output.strip().splitlines()) == 1
    with FakeSecServer({path_of("insider", "2021q1_form345.zip"): zip_payload("cli")}) as sec:
        monkeypatch.setenv("SMART_MONEY_SEC_BASE_URL", sec.url)
        done = runner.invoke(
            app,
            [
                "sec",
                "download",
                "--from",
                "2021q1",
                "--to",
                "2021q1",
                "--dir",
                str(tmp_path),
                "--only",
                "insider",
                "--quiet",
            ],
        )
    assert done.exit_code == 0, done.output
    assert "1 downloaded" in done.output and (tmp_path / "insider" / "2021q1_form345.zip").exists()
