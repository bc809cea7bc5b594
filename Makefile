# Two commands after cloning: `make run` and `make test`. Each sets up its own virtualenv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed
NPM ?= npm
# npm packages, never copied into the repo: GraphiQL's bundles (ide/) and the JavaScript
# clients the tests drive (tests/js/); each installed from its package-lock.json
IDE := ide/node_modules/.installed
JS := tests/js/node_modules/.installed

.PHONY: run test test-mock test-standard test-wire lint format schema bench bench-browser bench-reads \
	bench-mutations bench-documents clean ide

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -c constraints.txt
	touch $(STAMP)

%/node_modules/.installed: %/package.json %/package-lock.json
	@if command -v $(NPM) >/dev/null 2>&1; then \
		cd $* && $(NPM) ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "npm is not installed: skipping $*/ (GraphiQL needs it; the JavaScript client tests skip)"; \
	fi

ide: $(IDE)  ## install GraphiQL's files (npm) for the page at /graphql

run: $(STAMP) $(IDE)  ## start the API with demo data on the embedded default (HOST/PORT override)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/ownership serve --demo

test: $(STAMP) $(IDE) $(JS)  ## run the whole suite
	$(BIN)/pytest $(PYTEST_ARGS)

test-mock: $(STAMP) $(IDE) $(JS)  ## the store and GraphQL tests on mongomock only (fast)
	$(BIN)/pytest --tier mock $(PYTEST_ARGS)

test-standard: $(STAMP) $(IDE) $(JS)  ## the mock tier with the fast read path off (stock strawberry execution)
	OWNERSHIP_FAST_READS=0 $(BIN)/pytest --tier mock -m "not fast_path" $(PYTEST_ARGS)

test-wire: $(STAMP) $(IDE) $(JS)  ## over the wire protocol only (MONGODB_URI, or a started test server)
	$(BIN)/pytest --tier wire $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: $(STAMP)  ## rewrite schema.graphql from the code
	$(BIN)/ownership schema --output schema.graphql

bench-reads: $(STAMP)  ## fast nested reads vs the hand-written limit (BENCH_ARGS="--sizes 100")
	$(BIN)/python -m bench.reads $(BENCH_ARGS)

bench-mutations: $(STAMP)  ## mutation latency and rate over HTTP, embedded journal on vs off (BENCH_ARGS="--seconds 5")
	$(BIN)/python -m bench.mutations $(BENCH_ARGS)

bench-documents: $(STAMP)  ## first-request latency: registered vs unregistered nested 100-app read
	$(BIN)/python -m bench.documents $(BENCH_ARGS)

bench: $(STAMP)  ## issue 15's targets: reports at 1k/10k/100k apps on the embedded default and the wire tier (MONGODB_URI, or the tests' wire server), then sign-in in Chromium (BENCH_ARGS="--sizes 1000,10000")
	$(BIN)/python -m bench.reports $(BENCH_ARGS)

bench-browser: $(STAMP)  ## sign-in to a drawn dashboard in Chromium alone (BENCH_ARGS="--apps 10000 --runs 3")
	$(BIN)/python -m bench.browser $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache ide/node_modules tests/js/node_modules
