"""Class 6: a usage error prints the usage line and one sentence and exits 2, through the
installed console script, never a traceback."""

from __future__ import annotations

import pytest

from tests.security.helpers import cli


@pytest.mark.parametrize(("args", "usage", "sentence"), [
    (["nosuch"], "Usage: trajforge [OPTIONS] COMMAND", "error: No such command 'nosuch'."),
    (["datasets", "lst"], "Usage: trajforge datasets [OPTIONS] COMMAND", "Did you mean 'list'?"),
    (["run", "--bogus"], "Usage: trajforge run [OPTIONS]", "error: No such option: --bogus."),
    (["--bogus", "datasets", "list"], "Usage: trajforge [OPTIONS] COMMAND", "No such option: --bogus"),
    (["datasets", "show"], "Usage: trajforge datasets show [OPTIONS]", "error: Missing argument 'ref'."),
    (["export", "viewz", "demo@v1", "sft", "out"], "Usage: trajforge export [OPTIONS] COMMAND",
     "No such command 'viewz'"),
    (["catalog", "query", "--limt", "3", "SELECT 1"], "Usage: trajforge catalog query",
     "(Possible options: --limit"),
    (["catalog", "query", "-f", "xml", "SELECT 1"], "Usage: trajforge catalog query", "'xml' is not one of"),
])
def test_usage_errors_are_two_lines_and_exit_2(args, usage, sentence):
    run = cli(*args)
    assert run.returncode == 2, run
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 2, run.stderr
    assert lines[0].startswith(usage)
    assert sentence in lines[1] and lines[1].startswith("error: ")
    assert "Traceback" not in run.stderr and run.stdout == ""


def test_help_still_works():
    run = cli("datasets", "--help")
    assert run.returncode == 0 and "list" in run.stdout
