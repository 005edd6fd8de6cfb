# Two commands a newcomer needs: `make run` and `make test`. Both build .venv from nothing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-alerts bench-archive bench-stories-archive browser screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "tracker needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/tracker demo

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The browser tests drive Debian's chromium with Playwright (no browser download). As root with
# apt, install it; otherwise those tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& echo "make: installing Debian's chromium and fonts-noto-cjk with apt-get for the browser tests (a few minutes, once)" \
		&& (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk) >/dev/null 2>&1 \
		|| echo "note: no chromium (apt-get install chromium): the browser tests will be skipped"; }

lint: $(STAMP)
	$(BIN)/ruff check tracker tests bench
	$(BIN)/lint-imports

# Each benchmark against its floor or baseline measured in the same run; all run, then the
# target fails if any goal was not met.
bench: $(STAMP)
	@status=0; \
	for b in match_bench cli_match_bench ingest_bench stories_bench web_bench hits_bench search_bench epaper_bench; do \
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

# The README's pictures, made by the browser tests.
screenshots: $(STAMP) browser
	$(BIN)/python -m pytest -q tests/test_browser.py tests/test_browser_pages.py
	cp tests/screenshots/subscribe.png tests/screenshots/alert-mail.png tests/screenshots/trends.png \
		tests/screenshots/mailbox-alert.png tests/screenshots/articles-phone.png \
		tests/screenshots/admin-desktop.png docs/screenshots/

clean:
	rm -rf $(VENV)
