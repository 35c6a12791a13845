# Quick start: `make demo` runs the product on a demo vault; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-vault

.PHONY: demo test lint typecheck pytest wheelhouse wheelhouse-check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(BIN)/vault demo $(DEMO_DIR)
	@if [ -t 0 ] && [ -t 1 ]; then \
		echo "opening the terminal app as alice (passphrase: alice-demo-passphrase)"; \
		$(BIN)/vault --vault $(DEMO_DIR) --as alice tui; \
	else \
		printf 'alice-demo-passphrase' > $(DEMO_DIR).alice-passphrase; \
		$(BIN)/vault --vault $(DEMO_DIR) --as alice --passphrase-file $(DEMO_DIR).alice-passphrase ls; \
		$(BIN)/vault --vault $(DEMO_DIR) --as alice --passphrase-file $(DEMO_DIR).alice-passphrase release list; \
		rm -f $(DEMO_DIR).alice-passphrase; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict vault tui tests

pytest: $(STAMP)
	$(BIN)/pytest -q -n 2 $(PYTEST_ARGS)

test: lint typecheck pytest

# Check-in and the rest against restic, borg and age on the same data (see benchmarks/README.md).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# Hash-pinned wheels of the project and every runtime dependency, for the air-gapped machine.
wheelhouse: $(STAMP)
	rm -rf wheelhouse
	$(BIN)/pip wheel --quiet --wheel-dir wheelhouse .
	$(BIN)/python .ci/wheelhouse.py wheelhouse

# Prove the wheelhouse installs with no index at all.
wheelhouse-check: wheelhouse
	rm -rf .wheelhouse-venv
	$(PYTHON) -m venv .wheelhouse-venv
	.wheelhouse-venv/bin/pip install --quiet --no-index --find-links wheelhouse \
		--require-hashes -r wheelhouse/requirements.txt
	.wheelhouse-venv/bin/vault --help >/dev/null
	rm -rf .wheelhouse-venv

clean:
	rm -rf $(VENV) $(DEMO_DIR) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
