"""The ``llm_judge`` scorer against the local fake OpenAI-compatible server: parsed step and
trajectory scores, the request cache, failures recorded per row and the failure share."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from filters.scorers.base import ScorerError, apply_scorers, build_scorer
from filters.scorers.judge import parse_verdict
from tests.generated import family_table
from tests.llm_server import LLMServer, Status

TIERS = (("expert", 0.5), ("noisy", 0.5))


@pytest.fixture(scope="module")
def rows():
    return family_table("arithmetic", 6, 0, TIERS)


def verdict(messages, attempt):
    """A judge that gives step i the score 1/(i+1) and the episode 0.5."""
    n = len(re.findall(r"^Step \d+:", messages[1]["content"], re.M))
    return json.dumps({"steps": [1 / (i + 1) for i in range(n)], "score": 0.5})


def judge(server, tmp_path, **extra):
    return build_scorer({"name": "llm_judge", "as": "judge",
                         "params": {"base_url": server.base_url, "model": "test-model", "cache": str(tmp_path / "c.db"),
                                    "max_retries": 0, "timeout_s": 5, **extra}})


def test_scores_are_parsed_per_step_and_cached(tmp_path, rows):
    with LLMServer(verdict) as server:
        scored, stats = apply_scorers(rows, [judge(server, tmp_path)])
        assert server.requests == rows.num_rows
        system = server.bodies[0]["messages"][0]["content"]
        assert "puzzle or math task" in system and '"steps"' in system  # the reasoning rubric and the format
        again, stats2 = apply_scorers(rows, [judge(server, tmp_path)])
        assert server.requests == rows.num_rows  # every request answered from the cache
    assert stats["judge"]["sent"] == rows.num_rows and stats2["judge"]["cached"] == rows.num_rows
    for row in scored.to_pylist():
        scores = {e["name"]: e["value"] for e in row["scores"]}
        steps = {e["name"]: e["values"] for e in row["step_scores"]}["judge"]
        assert scores["judge"] == 0.5 and scores["judge.failed"] == 0.0
        np.testing.assert_allclose(steps, [1 / (i + 1) for i in range(len(row["steps"]))], rtol=1e-6)
    assert again["scores"].to_pylist() == scored["scores"].to_pylist()


def test_failures_are_recorded_per_row_never_defaulted(tmp_path, rows):
    bad_id = rows["id"][1].as_py()
    first_instruction = rows["task"][1].as_py()["instruction"]

    def reply(messages, attempt):
        if first_instruction in messages[1]["content"]:
            return "I think it is fine."  # no JSON
        return verdict(messages, attempt)

    with LLMServer(reply) as server:
        scorer = judge(server, tmp_path, max_failure_share=0.5)
        scored, stats = apply_scorers(rows, [scorer])
    assert scorer.failures == [{"id": bad_id, "error": "reply holds no JSON object: 'I think it is fine.'"}]
    row = scored.to_pylist()[1]
    scores = {e["name"]: e["value"] for e in row["scores"]}
    assert "judge" not in scores and scores["judge.failed"] == 1.0  # no score, and the failure says so
    assert all(np.isnan({e["name"]: e["values"] for e in row["step_scores"]}["judge"]))
    assert stats["judge"]["parse_or_request_failures"] == 1.0


def test_a_failing_server_fails_the_run(tmp_path, rows):
    with LLMServer(lambda m, a: Status(500, "overloaded")) as server:
        scorer = judge(server, tmp_path)
        with pytest.raises(ScorerError, match=r"6 of 6 judge requests failed, more than max_failure_share=0.1"):
            apply_scorers(rows, [scorer])
    assert len(scorer.failures) == 6 and "500" in scorer.failures[0]["error"]


def test_verdicts_that_do_not_fit_are_named():
    assert parse_verdict('{"steps": [0.5], "score": 1}', 2) == "reply has 1 step scores for 2 steps"
    assert parse_verdict('{"steps": [0.5, 7], "score": 1}', 2) == "a score in the reply is not a number in [0, 1]"
    assert parse_verdict('{"steps": [true], "score": 1}', 1) == "a score in the reply is not a number in [0, 1]"
    assert parse_verdict('{"score": 1}', 1) == "reply JSON lacks `score` or `steps`"
    assert parse_verdict('Sure! {"steps": [0.25], "score": 0.75} done', 1)[0] == 0.75
    with pytest.raises(ScorerError, match=r"rubrics for unknown kind\(s\) \['chess'\]"):
        build_scorer({"name": "llm_judge", "params": {"base_url": "http://127.0.0.1:1/v1", "model": "m",
                                                      "rubrics": {"chess": "x"}}})
