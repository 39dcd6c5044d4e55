# teiten — two commands for a newcomer: `make demo` and `make test`.
# Everything they need (virtualenv, PyPI packages, Debian packages) is installed from here.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.installed-spark
# Debian packages: the report's PDF (chromium; Liberation Sans for Latin text, IPAex for
# Japanese: report.css) for the demo; the tests also drive the dashboard in that chromium
# (Playwright, tests/web), cross-check against tshark/tcpdump, read PDFs (poppler-utils),
# build netns (iproute2) and run Spark in local mode (a JRE).
REPORT_PACKAGES := chromium fonts-liberation2 fonts-ipaexfont-gothic fonts-ipaexfont-mincho
TEST_PACKAGES   := $(REPORT_PACKAGES) tshark tcpdump poppler-utils iproute2 \
                   openjdk-17-jre-headless
BENCH_PACKAGES  := tcpdump tcpreplay iproute2 openjdk-17-jre-headless

.PHONY: setup spark report-deps system-deps demo test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Then the dashboard's chart library (uPlot) and the API docs' Swagger UI, from the npm
# registry, each checked against its pinned sha512 (teiten.web.assets; a mirror:
# TEITEN_NPM_REGISTRY=URL); silent when present.
setup: $(STAMP)
	@$(BIN)/python -m teiten.web.assets --quiet

# The spark extra (PySpark, ~430 MB) for `--engine spark`: the tests compare both engines.
$(SPARK_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $(SPARK_STAMP)

spark: $(SPARK_STAMP)

# Installs the Debian packages named in PACKAGES that are missing (root, or through sudo).
define apt_install
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

report-deps:
	$(call apt_install,$(REPORT_PACKAGES))

system-deps:
	$(call apt_install,$(TEST_PACKAGES))

demo: setup report-deps
	$(BIN)/teiten demo

test: setup spark system-deps lint
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

format: setup
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: setup spark
	$(call apt_install,$(BENCH_PACKAGES))
	$(BIN)/python benchmarks/bench_ingest.py; status=$$?; \
	$(BIN)/python benchmarks/bench_events.py || status=1; \
	$(BIN)/python benchmarks/bench_asn.py || status=1; \
	$(BIN)/python benchmarks/bench_collector.py || status=1; \
	$(BIN)/python benchmarks/bench_simulate.py || status=1; \
	$(BIN)/python benchmarks/bench_scale.py || status=1; \
	$(BIN)/python benchmarks/bench_web.py || status=1; \
	$(BIN)/python benchmarks/bench_capture.py || status=1; exit $$status

clean:
	rm -rf $(VENV) teiten-data demo-output benchmarks/.cache
