# Two commands do all the set-up: `make run` and `make test`. Each installs only what changed:
# a stamp file per requirements file records the last successful install.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# Each browser tab runs in its own thread; glibc gives threads their own memory pools, which grew
# the server by ~15 MB per tab that ran a model. Two pools keep memory flat (docs/RELIABILITY.md).
# FORWARDED_ALLOW_IPS empty: no client's X-Forwarded-For is believed, so the host is the socket's
# peer (app.py refuses to start without it; README.md says what to set behind a proxy).
SERVE_ENV := MALLOC_ARENA_MAX=2 FORWARDED_ALLOW_IPS=

.PHONY: run serve models test bench clean-venv

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime-installed
	$(SERVE_ENV) $(PY) -m streamlit run app.py --server.port $(PORT)

# A phone opens its camera only over HTTPS: a self-signed certificate, made once, for this address.
certs/cert.pem: | $(VENV)/.runtime-installed
	$(PY) -m core.lan --cert certs

serve: $(VENV)/.runtime-installed certs/cert.pem
	@$(PY) -m core.lan $(PORT)
	$(SERVE_ENV) $(PY) -m streamlit run app.py --server.port $(PORT) --server.address 0.0.0.0 \
		--server.sslCertFile certs/cert.pem --server.sslKeyFile certs/key.pem

# Every page's model, fetched or trained once; a second run does only what is missing.
# PARTS picks some of dream, flowers, bikes, stars; SETUP_ARGS passes options (--device cuda).
models: $(VENV)/.runtime-installed
	$(PY) -m core.setup $(PARTS) $(SETUP_ARGS)

# The browser tests drive any Chromium on the machine; with none, Playwright's own is installed once.
test: $(VENV)/.dev-installed
	$(PY) -m tests.browser.chromium --install
	$(PY) -m pytest

bench: $(VENV)/.runtime-installed
	$(PY) -m bench

clean-venv:
	rm -rf $(VENV)
