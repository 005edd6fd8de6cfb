# Two commands a newcomer needs: `make run` and `make test`. Both build .venv from nothing, from
# the lock files (requirements.lock: the service; requirements-test.lock: with the tests' tools)
# with uv, from PyPI. `make lock` updates both after a change to pyproject.toml.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
SERVICE := $(VENV)/.service
STAMP := $(VENV)/.installed

.PHONY: run test soak lint lock bench bench-alerts bench-archive bench-stories-archive browser axe screenshots clean

$(UV):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "tracker needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv

# `make run` installs only what the service needs.
$(SERVICE): requirements.lock pyproject.toml | $(UV)
	$(UV) pip install --quiet --python $(BIN)/python -r requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(SERVICE)

$(STAMP): requirements-test.lock $(SERVICE)
	$(UV) pip install --quiet --python $(BIN)/python -r requirements-test.lock
	touch $(STAMP)

lock: | $(UV)
	$(UV) pip compile --quiet --upgrade pyproject.toml -o requirements.lock
	$(UV) pip compile --quiet --upgrade pyproject.toml --extra test -o requirements-test.lock

run: $(SERVICE)
	$(BIN)/tracker demo

test: $(STAMP) browser axe
	$(BIN)/python -m pytest -n auto --dist loadscope

# The browser tests drive Debian's chromium with Playwright (no browser download). As root with
# apt, install it; otherwise those tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& echo "make: installing Debian's chromium and fonts-noto-cjk with apt-get for the browser tests (a few minutes, once)" \
		&& (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk) >/dev/null 2>&1 \
		|| echo "note: no chromium (apt-get install chromium): the browser tests will be skipped"; }

# The soak test (docs/operations.md): serve and worker as processes for SOAK_SECONDS (default
# 600, ~13 min in all), the worker SIGKILLed every 90-120 s; its figures printed. Not in `make test`.
soak: $(STAMP)
	$(BIN)/python -m pytest -q -s soak

# The accessibility audit of the browser tests runs axe-core in the page: its one file, from the
# npm package (pinned), unpacked into .venv. Without npm the audit skips and says why.
AXE_VERSION := 4.11.0
AXE := $(VENV)/axe-core/axe.min.js

axe: $(AXE)

$(AXE):
	@mkdir -p $(VENV)/axe-core
	@command -v npm >/dev/null 2>&1 && (cd $(VENV)/axe-core && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null \
		&& tar xzf axe-core-$(AXE_VERSION).tgz --strip-components=1 package/axe.min.js package/LICENSE \
		&& rm axe-core-$(AXE_VERSION).tgz) \
		|| echo "note: no axe-core (npm pack axe-core@$(AXE_VERSION)): the accessibility audit will be skipped"

lint: $(STAMP)
	$(BIN)/ruff check tracker tests bench soak
	$(BIN)/lint-imports

# Each benchmark against its floor or baseline measured in the same run; all run, then the
# target fails if any goal was not met.
bench: $(STAMP)
	@status=0; \
	for b in match_bench cli_match_bench ingest_bench stories_bench web_bench hits_bench search_bench epaper_bench hostile_bench headline_bench machinery_bench \
			deadline_bench refusal_bench slow_relay; do \
		echo "== bench/$$b.py"; $(BIN)/python bench/$$b.py || status=1; \
	done; exit $$status

# Search latency on a synthetic archive of 1,000,000 articles (docs/capacity.md; ~30 min).
bench-archive: $(STAMP)
	$(BIN)/python bench/archive_bench.py

# `tracker stories rebuild` on 100,000 and 1,000,000 synthetic articles: flat memory (docs/capacity.md; ~15 min).
bench-stories-archive: $(STAMP)
	$(BIN)/python bench/stories_archive_bench.py

bench-alerts: $(STAMP)
	$(BIN)/python bench/alerts_bench.py

# The pictures in docs/screenshots (the README shows two), made by the browser tests.
screenshots: $(STAMP) browser
	$(BIN)/python -m pytest -q tests/test_browser.py tests/test_browser_pages.py
	cp tests/screenshots/subscribe.png tests/screenshots/alert-mail.png tests/screenshots/trends.png \
		tests/screenshots/mailbox-alert.png tests/screenshots/articles-phone.png \
		tests/screenshots/admin-desktop.png docs/screenshots/

clean:
	rm -rf $(VENV)
