# The two set-up commands of the README:
#   make demo   creates .venv, installs cosea, runs the main job on the bundled demo data
#   make test   creates .venv, installs cosea with its test tools and the Debian packages
#               the tests use (PostgreSQL, Chromium, ffmpeg), then lint + the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.cosea-installed
EXTRAS ?= dev,postgres,dask,heif
BENCH_ARGS ?=

.PHONY: install demo test lint format system-deps bench anchor-plans clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/cosea demo --out demo-output

system-deps:
	bash scripts/install-system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

test: $(STAMP) system-deps lint
	$(BIN)/python -m pytest

# make bench                      every benchmark at its full size (long)
# make bench BENCH_ARGS=--quick    small sizes, a few minutes in all
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

# after editing the pattern YAML: the shipped anchor plans that keep start-up fast
anchor-plans: $(STAMP)
	$(BIN)/python -c "from cosea.chats.recognizers._plan_cache import write_cache; print(write_cache())"

clean:
	rm -rf $(VENV) demo-output test-artifacts .pytest_cache .ruff_cache
