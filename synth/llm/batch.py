"""What a batch of LLM episodes yields, whatever the kind: rows, failures, request results.

Shared by the one-shot reasoning teacher (:mod:`synth.llm.reasoning`) and the multi-turn
agent runner (:mod:`synth.llm.agent`), so the pipeline reads one shape and one summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from stores.schema import Trajectory
from synth.llm.cache import ChatResult


@dataclass(slots=True)
class LLMBatch:
    """Trajectories from one batch, and every task that produced none, with why.

    ``failures`` rows have ``kind`` ``request_failed`` (``error``, ``attempts``) or
    ``serg_rejected`` (the verifier's ``reason``). ``no_answer`` counts replies without an
    answer line (solve: kept as failed trajectories; serg: also rejected). ``results`` are the
    client's, in task order, for :func:`summarize`. ``blobs`` are the images the episodes'
    envs drew (``sha256 -> (media_type, bytes)``), as for scripted episodes.
    """

    trajectories: list[Trajectory] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    no_answer: int = 0
    results: list[ChatResult] = field(default_factory=list)
    blobs: dict[str, tuple[str, bytes]] = field(default_factory=dict)


def summarize(results: list[ChatResult]) -> dict[str, Any]:
    """What a batch cost this run: requests, served from cache, sent, failed, the tokens of the
    replies received this run and the latency percentiles of the requests sent (ms)."""
    sent = [r for r in results if not r.cached]
    latencies = sorted(r.latency_ms for r in sent if r.latency_ms is not None)
    return {
        "requests": len(results),
        "cached": len(results) - len(sent),
        "sent": len(sent),
        "failed": sum(not r.ok for r in results),
        "prompt_tokens": sum(r.prompt_tokens or 0 for r in sent),
        "completion_tokens": sum(r.completion_tokens or 0 for r in sent),
        "latency_ms_p50": _percentile(latencies, 0.50),
        "latency_ms_p95": _percentile(latencies, 0.95),
    }


def _percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not sorted_values:
        return None
    return sorted_values[max(1, math.ceil(len(sorted_values) * q)) - 1]
