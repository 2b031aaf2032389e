"""A corrupt registry.json through the real CLI: one `error:` line naming the file and a `fix:`
line, exit 1, no traceback (the server's side is in serve/test_reliability.py)."""

from __future__ import annotations

import pytest

from smart_money.model.registry import Registry
from smart_money_tests.support.cli import assert_one_error, clean_env, smart_money
from smart_money_tests.support.serving import copy_models


@pytest.mark.parametrize("command", [["models", "list"], ["models", "promote", "1.0.0"], ["models", "rollback"]])
def test_a_corrupt_registry_index_is_one_line_naming_the_file(served_settings, tmp_path, command):
    settings = copy_models(served_settings, tmp_path / "home")
    index = Registry(settings.models_dir).index_path
    index.write_text('{"champion": "1.0.0", "versions": [{"vers')
    proc = smart_money(*command, env=clean_env(settings.home))
    assert proc.returncode == 1, proc.stderr
    line = assert_one_error(proc.stderr, str(index), "is corrupt (not valid JSON")
    assert line and "restore registry.json from a backup" in proc.stderr
