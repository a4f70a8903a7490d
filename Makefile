# The habit sheet: every command an organizer or developer types.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp
COHORT := $(BIN)/cohort
DEMO_DIR ?= demo-cohort
CODE := src tests leaderboard_app weeks tools

.PHONY: setup demo test test-fast test-postgres check score app bench lint fmt clean

# The venv is rebuilt whenever pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dl,dev,postgres]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(COHORT) demo $(DEMO_DIR)

# The suite on two xdist workers, a module at a time, the kernels' unit first
# (tests/conftest.py). `make test WORKERS=0` runs it all in one process, as plain `pytest`
# does. (tests/test_browser.py used to run alone afterwards, for a grid "stall" under load
# that was the test waiting on a grid inside a collapsed expander, which never draws.)
WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --dist loadscope --no-loadscope-reorder)
SUITE := $(PYTEST)

test: $(STAMP)
	$(SUITE)

# The edit loop: everything but the slow tests (kernels executed, the demo, servers, Chromium).
test-fast: $(STAMP)
	$(PYTEST) -m "not slow"

# The Postgres lane: the store, scoring, intake, standings and app tests again, each on a
# fresh database of the server at COHORT_TEST_POSTGRES_URL (.ci/run starts one; without a
# server they skip, saying why). test_concurrency/integrity/migrate_store run on both
# stores in every lane already.
PG_TESTS := tests/test_store.py tests/test_scoring.py tests/test_submissions.py tests/test_board_lines.py tests/test_member_lines.py \
	tests/test_standings.py tests/test_cli_scoring.py tests/test_cli_standings.py \
	tests/test_app_leaderboard.py tests/test_app_submit.py tests/test_app_standings.py \
	tests/test_app_member.py tests/test_app_organizer.py tests/test_hosting.py
test-postgres: $(STAMP)
	$(PYTEST) --store=postgres $(PG_TESTS)

# The gate CI runs (.ci/run): formatting, lint, types, then the whole suite.
check: $(STAMP)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/ruff check $(CODE)
	$(BIN)/mypy src leaderboard_app
	$(SUITE)

score: $(STAMP)
	$(COHORT) score

# `make app PORT=8502 HOST=0.0.0.0` serves another port, or a workshop LAN.
PORT ?= 8501
HOST ?= 127.0.0.1
app: $(STAMP)
ifdef DEMO
	test -f $(DEMO_DIR)/cohort.toml || $(COHORT) demo $(DEMO_DIR)
	$(COHORT) --root $(DEMO_DIR) --db sqlite:///$(abspath $(DEMO_DIR))/cohort.db app --port $(PORT) --host $(HOST)
else
	$(COHORT) app --port $(PORT) --host $(HOST)
endif

bench: $(STAMP)
	$(BIN)/python -m cohort.bench

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/mypy src leaderboard_app

fmt: $(STAMP)
	$(BIN)/ruff format $(CODE)
	$(BIN)/ruff check --fix $(CODE)

clean:
	rm -rf $(VENV) $(DEMO_DIR)
