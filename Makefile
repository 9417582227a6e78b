# Two entry points for a fresh machine (see README.md): `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
PORT ?= 8501
# this machine only: open mode (no users file) grants every right; see README「部署」
ADDRESS ?= 127.0.0.1

.PHONY: run test demo browser

$(STAMP): requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m etl demo --if-missing
	$(BIN)/streamlit run serve.py --server.address $(ADDRESS) --server.port $(PORT) --server.headless true \
	  --browser.gatherUsageStats false

demo: $(STAMP)
	$(BIN)/python -m etl demo

# Debian's chromium and CJK fonts for the real-browser tests and screenshots, and nginx for the
# deployment test (root only; nothing downloads a browser at run time). Without them those tests are skipped.
browser:
	@if [ "$$(id -u)" = 0 ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/sbin/nginx ]; }; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk nginx-light >/dev/null; fi

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=25
