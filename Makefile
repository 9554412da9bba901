# hotpath — build, run and test. Every target installs what it needs into a virtual
# environment of its own (one per interpreter), so a fresh machine needs only CPython,
# a C compiler and access to PyPI.
#
#   make run        build, install and profile the bundled example
#   make test       build, install and run the whole test suite (PYTHON=... to choose)
#   make test-all   the suite on every CPython >= 3.11 found (pyenv and PATH)
#   make asan       the suite under AddressSanitizer
#   make bench      the overhead benchmarks against the peers
#   make lint       the linters (ruff for Python)

# PYTHON names the interpreter: a path, a name on PATH (python3.12) or a version (3.12);
# pyenv's installed versions are found too (tools/find-python.sh).
PYTHON ?= python3
PYEXE  := $(shell ./tools/find-python.sh '$(PYTHON)')
PYVER  := $(if $(PYEXE),$(shell '$(PYEXE)' -c 'import sys; print("%d.%d" % sys.version_info[:2])'),none)
VENV   ?= .venv-$(PYVER)
VPY    := $(VENV)/bin/python
PIP    := $(VPY) -m pip --disable-pip-version-check -q

.PHONY: run test test-all asan bench install install-test browser valgrind clean lint lint-py lint-c

$(VPY):
	@[ -n "$(PYEXE)" ] || { echo "make: no working interpreter '$(PYTHON)' on PATH or in pyenv;" \
	  "name one with PYTHON=/path/to/python3.X (or PYTHON=3.X); 3.14 and 3.15 run in a Debian" \
	  "root: tools/debian-pythons.sh run 3.14 make test"; exit 2; }
	'$(PYEXE)' -m venv $(VENV)
	$(PIP) install -U pip setuptools wheel

# The project's own builds treat warnings as errors (setup.py reads HOTPATH_STRICT).
install: $(VPY)
	HOTPATH_STRICT=1 $(PIP) install --force-reinstall --no-deps --no-build-isolation .
	@$(VPY) -c 'import hotpath._core, hotpath._timing' || { echo "hotpath: the C core did not build"; exit 1; }

install-test: $(VPY) browser valgrind
	$(PIP) install -r requirements-dev.txt
	$(MAKE) --no-print-directory install PYTHON='$(PYTHON)'

# Headless Chromium for the HTML report's browser tests (Debian's package); the tests
# skip, saying so, where it cannot be installed. (Debian unstable's release file, in the
# root that provides 3.14/3.15, may be called expired; the flag lets apt through.)
browser:
	@{ command -v chromium && command -v chromedriver || [ -x /usr/lib/chromium/chromedriver ]; } >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get -o Acquire::Check-Valid-Until=false update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) ; } || \
	  echo "make: chromium not available; browser tests will be skipped"

# valgrind (Debian's package) counts instructions where the CPU gives no hardware
# counters (hotpath bench --measure instructions); its tests skip, saying so, without it.
valgrind:
	@command -v valgrind >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get -o Acquire::Check-Valid-Until=false update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null) ; } || \
	  echo "make: valgrind not available; instruction-count tests will be skipped"

# Lint. lint-py: ruff; lint-c: clang-format (the style in .clang-format) over the C sources, checked, not
# rewritten (`clang-format -i` them to fix); Debian's package is installed when missing and
# the check is skipped, saying so, where it cannot be.
lint: lint-py lint-c

# lint-py: ruff (configured in pyproject.toml), the version requirements-dev.txt names.
lint-py: $(VPY)
	$(PIP) install "$$(grep -E '^ruff' requirements-dev.txt)"
	$(VPY) -m ruff check src tests benchmarks tools

C_SOURCES = $(shell git ls-files 'src/hotpath/_core/*.[ch]' 'src/hotpath/_timing/*.[ch]' 'src/hotpath/_preload/*.[ch]' 2>/dev/null)
lint-c:
	@command -v clang-format >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get -o Acquire::Check-Valid-Until=false update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-format >/dev/null) ; } || true
	@if command -v clang-format >/dev/null 2>&1; then clang-format --dry-run --Werror $(C_SOURCES) && \
	  echo "lint-c: $(words $(C_SOURCES)) C files formatted as .clang-format says"; \
	else echo "make: clang-format not available; lint-c skipped"; fi

run: install
	$(VENV)/bin/hotpath run examples/particles.py

# The suite runs in parallel (pytest-xdist, JOBS workers); each test has a time limit
# (pytest-timeout, pyproject.toml) and the whole run one more, so a hang fails instead of
# stalling CI.
JOBS ?= 2
SUITE_LIMIT ?= 1500
test: install-test
	timeout -k 30 $(SUITE_LIMIT) $(VPY) -m pytest -q -n $(JOBS) tests

test-all:
	@./tools/each-python.sh $(MAKE) --no-print-directory test

# The sanitizer build lives in a venv of its own (.venv-X.Y-asan) and build/asan.
asan:
	$(MAKE) --no-print-directory install-test PYTHON=$(PYTHON) VENV=$(VENV)-asan
	@# matplotlib's C++ font code trips ASan's own checks (__cxa_throw); the PNG tests skip
	@# without it, and what ASan is for here is hotpath's C.
	$(VENV)-asan/bin/python -m pip --disable-pip-version-check -q uninstall -y matplotlib
	HOTPATH_STRICT=1 HOTPATH_ASAN=1 $(VENV)-asan/bin/python -m pip --disable-pip-version-check -q install --force-reinstall --no-deps --no-build-isolation .
	ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 LD_PRELOAD=$$(gcc -print-file-name=libasan.so) \
	  $(VENV)-asan/bin/python -m pytest -q -n $(JOBS) tests

bench: install-test
	$(VPY) benchmarks/run_all.py

clean:
	rm -rf build dist src/*.egg-info .venv-*
