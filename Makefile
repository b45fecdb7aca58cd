# The project's commands. `make run` and `make test` install what they need first.
.PHONY: run test test-app test-contracts bench soak lint bootstrap engine clean

PYTEST_ARGS ?=
# The venv's tools (uv among them, when bootstrap installed it there) come first.
export PATH := $(CURDIR)/.venv/bin:$(PATH)

run:
	bash scripts/bootstrap.sh
	.venv/bin/python scripts/build_engine.py
	.venv/bin/python scripts/stack.py run

test:
	bash scripts/bootstrap.sh --browser
	.venv/bin/python scripts/build_engine.py
	EXCHANGE_OS_ENGINE=native .venv/bin/python scripts/stack.py test $(PYTEST_ARGS)
	# the engine's own suite again on the interpreted source, which the build is compiled from
	EXCHANGE_OS_ENGINE=interpreted .venv/bin/python scripts/stack.py test tests/markets/engine
	[ ! -f contracts/test.sh ] || bash contracts/test.sh

bench:
	bash scripts/bootstrap.sh
	.venv/bin/python scripts/build_engine.py
	uv pip install -q --python .venv/bin/python -r requirements/bench.txt
	.venv/bin/python -m benchmarks.run

soak:
	bash scripts/bootstrap.sh
	.venv/bin/python scripts/build_engine.py
	# a soak runs for many minutes by design (the perp one took 742 s); the suite's 900 s
	# per-test limit is for the quick tests, and on a loaded host cut a passing soak short
	.venv/bin/python scripts/stack.py test -m soak --timeout=3600
	HYPOTHESIS_PROFILE=soak bash contracts/test.sh

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	DATABASE_URL=postgres://lint@localhost/lint REDIS_URL=redis://localhost:1/0 CHAIN_RPC_URL=http://localhost:1 \
	  .venv/bin/mypy accounts exchange_os_web chain markets governance

bootstrap:
	bash scripts/bootstrap.sh --browser

# the engine's compiled build (build/native; docs/engine.md "Running the engine"): a no-op when current
engine:
	bash scripts/bootstrap.sh
	.venv/bin/python scripts/build_engine.py

clean:
	rm -rf var/test
