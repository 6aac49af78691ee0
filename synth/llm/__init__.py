"""Model-backed teachers: an OpenAI-compatible chat client with a request cache, and the
reasoning families' LLM teacher built on it."""

from synth.llm.cache import ChatResult, RequestCache, request_key
from synth.llm.client import ChatClient, LLMSettings, MissingAPIKeyError

__all__ = ["ChatClient", "ChatResult", "LLMSettings", "MissingAPIKeyError", "RequestCache", "request_key"]
