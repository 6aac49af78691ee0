"""The tool-call protocol of ``llm``-tier research episodes (run by the shared LLM agent runner).

Protocol. The system prompt describes the tools and the rules; the first user message is the
task's instruction and the browser's initial screen. Every assistant turn is free-text
reasoning followed by exactly one tool call, a JSON object at the end of the reply::

    The founder is named on L14; next, where she was born.
    {"tool": "search", "arguments": {"query": "Maren Holloway"}}

``tool`` is ``search``, ``open``, ``find`` or ``answer`` (and ``context.summarize`` when the
task's params turn context management on); ``arguments`` is an object (a JSON string holding an
object is accepted too; ``name`` is accepted for ``tool``). The tool's output comes back as the
next user message. :meth:`ToolProtocol.parse` takes the *last* JSON object of the reply (inside
a ```json fence or bare) and raises ``ValueError`` naming what is wrong otherwise; the text
before it is the step's thought.

Stop rules: the episode ends when the model calls ``answer``, when the env's tool budget
(``task.env.max_tool_calls``, counting malformed calls and unreadable replies) is used up, or
when the runner's round limit (the config's ``llm.max_rounds``) makes it ``finish`` unanswered.
Malformed calls are not fatal: the env answers ``Error: ...`` and the model can correct itself;
an unreadable reply is stored as it was written (the runner's ``invalid_reply`` step) and the
next turn shows the parser's message.
"""

from __future__ import annotations

import json
import re
from typing import Any

from stores.schema import Action, Step, Task, canonical_json
from synth.llm.agent import INVALID_REPLY
from synth.research.browser import DEFAULT_TOPN, MAX_LINES, MAX_TOPN
from synth.research.env import ANSWER, SUMMARIZE, initial_text
from synth.research.questions import question_mark

SYSTEM = """You are a research agent. Answer the user's question by browsing an offline encyclopedia with tools, \
reading the evidence yourself, and citing it.

Tools (arguments as JSON):
- search {{"query": str, "topn": int 1-{max_topn}, default {topn}}}: ranked results with title, docid, url and a snippet.
- open {{"id": docid | url | result rank from the last search, "loc": first line (default 0), \
"num_lines": 1-{max_lines} (default {screen})}}: the page with numbered lines (L0, L1, ...). Open the same page \
again with a larger "loc" to scroll.
- find {{"pattern": str}}: the lines of the open page containing the text (case-insensitive).
- answer {{"answer": str}}: your final answer, {answer_as} only. This ends the episode.{summarize}

Each turn: think briefly in plain text (say what you learned, citing lines as docid Lnn, and what you do next), \
then end your reply with exactly one tool call as a JSON object, for example
{{"tool": "search", "arguments": {{"query": "Veltrix Dynamics founder"}}}}
Rules: one tool call per turn; pages about similarly named entities exist, so check you are on the right page; \
an entity's own page is more reliable than passing mentions elsewhere; at most {budget} tool calls."""

_SUMMARIZE = ("\n- context.summarize {{}}: condense what you know; the reply is a memory of the facts found so far "
              "with their sources. Use it about every {every} tool calls.")
_TOOLS = ("search", "open", "find", ANSWER)
_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


class ToolProtocol:
    """Chat messages for the next turn and parsing of the model's reply."""

    def __init__(self, task: Task, params: dict[str, Any]):
        self.every = ((params or {}).get("context") or {}).get("every")
        self.tools = (*_TOOLS, SUMMARIZE) if self.every else _TOOLS
        budget = task.env["max_tool_calls"]
        answer_as = question_mark(task.reference["answer_kind"])
        self.system = SYSTEM.format(
            max_topn=MAX_TOPN, topn=DEFAULT_TOPN, max_lines=MAX_LINES, screen=task.env["screen_lines"],
            answer_as=answer_as, budget=budget, summarize=_SUMMARIZE.format(every=self.every) if self.every else "")

    def messages(self, task: Task, history: list[Step], observation: str) -> list[dict[str, str]]:
        """System prompt, the question with the initial screen, then every turn so far."""
        first = observation if not history and observation else initial_text(task)
        out = [{"role": "system", "content": self.system},
               {"role": "user", "content": f"{task.instruction}\n\n{first}"}]
        for step in history:
            if step.action.name == INVALID_REPLY:  # the reply as the model wrote it
                out.append({"role": "assistant", "content": step.thought})
            else:
                call = canonical_json({"tool": step.action.name, "arguments": step.action.arguments})
                out.append({"role": "assistant", "content": f"{step.thought}\n{call}" if step.thought else call})
            out.append({"role": "user", "content": step.observation.text})
        return out

    def parse(self, reply: str) -> tuple[str, Action]:
        """(thought, action) of a reply: the last JSON object is the tool call."""
        if not isinstance(reply, str) or not reply.strip():
            raise ValueError("empty reply: end the reply with a tool call such as "
                             '{"tool": "search", "arguments": {"query": "..."}}')
        found = _last_object(reply)
        if found is None:
            raise ValueError("no tool call found: end the reply with one JSON object "
                             '{"tool": <search|open|find|answer>, "arguments": {...}}')
        start, obj = found
        name = obj.get("tool", obj.get("name"))
        if name not in self.tools:
            raise ValueError(f"unknown tool {name!r} in the tool call; tools are {list(self.tools)}")
        arguments = obj.get("arguments", {})
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except json.JSONDecodeError as e:
                raise ValueError(f"'arguments' is a string that is not JSON ({e.msg}); give an object") from None
        if not isinstance(arguments, dict):
            raise ValueError(f"'arguments' must be a JSON object, got {type(arguments).__name__}")
        if name == ANSWER and not isinstance(arguments.get("answer"), str | int | float):
            raise ValueError('answer needs {"answer": "<your answer>"}')
        if name == ANSWER:
            arguments = {"answer": str(arguments["answer"])}
        thought = _FENCE.sub("", reply[:start]).strip().removesuffix("```json").removesuffix("```").strip()
        return thought, Action(name, arguments)


def _last_object(text: str) -> tuple[int, dict[str, Any]] | None:
    """(start, object) of the last top-level JSON object in ``text`` that parses."""
    decoder = json.JSONDecoder()
    best = None
    i = text.find("{")
    while i != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            i = text.find("{", i + 1)
            continue
        if isinstance(obj, dict):
            best = (i, obj)
        i = text.find("{", end)
    return best
