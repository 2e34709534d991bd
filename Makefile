# The two commands a newcomer needs (README.md):
#   make demo   set everything up, run the server on sample photos, print today's attendance
#   make test   set everything up, run the test suite against a real MariaDB
# `make help` lists the others; CONTRIBUTING.md says when to use which.
#
# Both build .venv/ from requirements*.txt and find (or start) a database: ATTENDANCE_DB_URL
# when set, else the server on 127.0.0.1:3306, else a private MariaDB under .run/
# (scripts/database.sh).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Test processes (pytest-xdist; each runs whole test files): one more than the cores, because many
# tests wait in real time (a video played at its own pace, a deadline, a database restarting)
# and a third process uses the core they leave idle (2 cores: 3m51s with 2, 3m12s with 3, 3m10s
# with 4). 0 runs them in this one.
TEST_PROCESSES ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
# The tests' bytecode, outside the tree (PYTHONPYCACHEPREFIX), and written even where the
# environment sets PYTHONDONTWRITEBYTECODE: without it every test process and every server a test
# starts compiles every module again, and pytest rewrites every test file's asserts (~4 s a
# process).
TEST_ENV := env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=$(CURDIR)/.run/pycache QT_QPA_PLATFORM=offscreen

.PHONY: help venv dist demo test test-fast lint format bench scale-out fast-dlib default-dlib trust server-account screenshots translations db-start db-stop clean

venv: $(STAMP)  ## build .venv/: the package (editable), its dependencies at the tested pins, dev tools

# The package (editable) with the dependencies setup.cfg declares, at the versions requirements.txt
# pins, and the dev tools; then face_recognition, with --no-deps (requirements-nodeps.txt says why).
$(STAMP): requirements.txt requirements-dev.txt requirements-nodeps.txt setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c requirements.txt -r requirements-dev.txt -e .
	$(PIP) install -q --no-deps -r requirements-nodeps.txt
	if [ -f $(VENV)/.fast-dlib ]; then scripts/fast_dlib.sh $(PY) $(FAST_DLIB_VERSION) $(WHEEL_CACHE); fi
	$(PY) -c "from server.recognition.faces import load_models; load_models()"
	touch $@

# The sdist and wheel into dist/ (docs/install.md).
dist: venv  ## build the sdist and the wheel into dist/
	$(PY) -m build --outdir dist .
	rm -rf build *.egg-info  # left in the tree by setuptools; the egg-info would shadow .venv's metadata

help:  ## list the targets
	@awk -F':.*## ' '/^[a-z][a-z-]*:.*## / {printf "  make %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

demo: venv  ## set everything up, run the server on sample photos, print today's attendance
	@url=$$(scripts/database.sh start) || exit 1; \
	ATTENDANCE_DB_URL="$$url" $(PY) scripts/demo.py; rc=$$?; \
	scripts/database.sh stop; exit $$rc

test: venv  ## run the test suite against a real MariaDB (started under .run/ when none answers)
	@url=$$(DB_NAME=attendance_test scripts/database.sh start) || exit 1; \
	ATTENDANCE_DB_URL="$$url" $(TEST_ENV) $(PY) -m pytest -n $(TEST_PROCESSES) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS); rc=$$?; \
	scripts/database.sh stop; exit $$rc

# The pure-code tests only (no database, photos, Qt or subprocess; conftest.py marks them): ~7 s.
test-fast: venv  ## the pure-code tests only (~7 s, no database needed)
	$(TEST_ENV) $(PY) -m pytest -q -m pure $(PYTEST_ARGS)

# The gate .ci/run passes before the tests: ruff's rules, ruff's formatting, mypy (all configured in
# pyproject.toml). Each runs even when one before it failed, so that one run shows everything.
lint: venv  ## ruff check, ruff format --check and mypy (configured in pyproject.toml)
	@rc=0; \
	echo "== ruff check"; $(VENV)/bin/ruff check . || rc=1; \
	echo "== ruff format --check"; $(VENV)/bin/ruff format --check --output-format concise . || rc=1; \
	echo "== mypy"; $(VENV)/bin/mypy || rc=1; \
	exit $$rc

# ruff's safe fixes (import order, Python 3.11 syntax, unused noqa comments), then its formatter.
format: venv  ## apply ruff's safe fixes and its formatter to the tree
	$(VENV)/bin/ruff check --fix-only -q .
	$(VENV)/bin/ruff format .

# Benchmarks with targets from the issues (~12 minutes); each exits 1 when its target is missed.
# Each saves its figures under .run/bench/; bench/write_report.py then prints the summary table
# and writes docs/benchmarks.md. Each runs as `python -m bench.NAME`; `make bench BENCHES=throughput`
# runs one.
BENCHES ?= recognition checkin throughput rollcall startup gallery dlib_builds encoder whole_room scale_out reports liveness
bench: venv  ## the benchmarks with targets (~12 minutes); writes docs/benchmarks.md
	@url=$$(DB_NAME=attendance_bench scripts/database.sh start) || exit 1; rc=0; \
	for b in $(BENCHES); do echo "== bench.$$b"; ATTENDANCE_DB_URL="$$url" $(PY) -m bench.$$b || rc=1; done; \
	ATTENDANCE_DB_URL="$$url" $(PY) -m bench.write_report || rc=1; \
	scripts/database.sh stop; exit $$rc

# Two servers behind HAProxy sharing one database; 20 clients; one server killed (docs/scaling.md).
scale-out: venv  ## two servers behind HAProxy sharing one database, one killed (docs/scaling.md)
	@url=$$(DB_NAME=attendance_bench scripts/database.sh start) || exit 1; \
	ATTENDANCE_DB_URL="$$url" $(PY) -m bench.scale_out; rc=$$?; \
	scripts/database.sh stop; exit $$rc

# dlib built from source with OpenBLAS: encoding ~5x faster (docs/benchmarks.md). Builds once
# (~11 minutes on 2 cores) into $(WHEEL_CACHE), then installs that wheel into .venv, now and
# whenever `make venv` reinstalls; `make default-dlib` goes back to the dlib-bin wheel.
FAST_DLIB_VERSION := 20.0.1
WHEEL_CACHE ?= $(HOME)/.cache/attendance-wheels
fast-dlib: venv  ## build dlib with OpenBLAS (~11 minutes once) and use it instead of dlib-bin
	scripts/fast_dlib.sh $(PY) $(FAST_DLIB_VERSION) $(WHEEL_CACHE)
	touch $(VENV)/.fast-dlib

default-dlib: venv  ## go back to the dlib-bin wheel
	rm -f $(VENV)/.fast-dlib
	$(PIP) uninstall -q -y dlib
	$(PIP) install -q --force-reinstall --no-deps $$(grep -E '^dlib-bin==' requirements.txt)

# Fuzzing, load (50 clients x 60 s), database restart and SIGKILL checks (issue 6), and one
# hostile machine's denial-of-service attacks while honest clients check in (issue 13); ~10 minutes.
trust: venv  ## fuzzing, load, database restart, SIGKILL and denial-of-service checks (~10 minutes)
	@url=$$(DB_NAME=attendance_bench scripts/database.sh start) || exit 1; rc=0; \
	ATTENDANCE_DB_URL="$$url" $(PY) -m bench.fuzz_server || rc=1; \
	ATTENDANCE_DB_URL="$$url" $(PY) -m bench.attack || rc=1; \
	ATTENDANCE_DB_URL="$$url" $(PY) -m bench.load || rc=1; \
	$(PY) -m bench.load --db-restart || rc=1; \
	ATTENDANCE_DB_URL="$$url" $(PY) -m bench.load --sigkill || rc=1; \
	scripts/database.sh stop; exit $$rc

# A least-privilege MySQL account for the server (docs/deploy.md).
ACCOUNT ?= attendance_server
ACCOUNT_HOST ?= 127.0.0.1
server-account: venv  ## the server's least-privilege MySQL account: make server-account ADMIN_URL=...
	@test -n "$(ADMIN_URL)" || { echo "usage: make server-account ADMIN_URL=mysql://root@HOST:PORT/DATABASE [ACCOUNT=...] [ACCOUNT_HOST=...]" >&2; exit 2; }
	@$(PY) -m admin --db-url "$(ADMIN_URL)" create-server-account "$(ACCOUNT)" --host "$(ACCOUNT_HOST)"

# PNGs of the desktop app's screens into docs/, from a real run against a real server.
screenshots: venv  ## the desktop app's screenshots into docs/
	@url=$$(DB_NAME=attendance_screenshots scripts/database.sh start) || exit 1; \
	ATTENDANCE_DB_URL="$$url" QT_QPA_PLATFORM=offscreen $(PY) scripts/screenshots.py; rc=$$?; \
	scripts/database.sh stop; exit $$rc

# Refresh the Korean translation source from the code, then compile it (needs Debian's
# qttools5-dev-tools for lrelease; the compiled .qm is committed).
translations: venv  ## refresh and compile the Korean translation (needs qttools5-dev-tools)
	$(VENV)/bin/pylupdate5 -noobsolete client/desktop/*.py client/watch/qt_screen.py -ts client/desktop/i18n/attendance_ko.ts
	@command -v lrelease >/dev/null || { echo "lrelease missing: apt-get install qttools5-dev-tools" >&2; exit 1; }
	lrelease client/desktop/i18n/attendance_ko.ts

db-start:  ## start (or find) the database; prints its URL
	@scripts/database.sh start

db-stop:  ## stop the private database started under .run/
	@scripts/database.sh stop

clean:  ## remove .venv/, .run/, dist/, build/ and caches
	rm -rf $(VENV) .run dist build .pytest_cache .hypothesis .mypy_cache .ruff_cache *.egg-info
