# Two commands do all the set-up: `make run` and `make test`. Each installs only what changed:
# a stamp file per requirements file records the last successful install.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test bench clean-venv

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime-installed
	$(PY) -m streamlit run Home.py --server.port $(PORT)

test: $(VENV)/.dev-installed
	$(PY) -m pytest

bench: $(VENV)/.runtime-installed
	$(PY) -m bench

clean-venv:
	rm -rf $(VENV)
