# The two commands: `make demo` runs queuelens, `make test` runs every test. Each installs what a
# fresh Debian 12 machine is missing first.
.PHONY: all deps deps-build build fuzz-build fuzz test check bench demo format clean

BUILD_DIR := build
FUZZ_DIR := build-fuzz
FUZZ_SECONDS ?= 60
E2E_DIR := tests/e2e
DEPLOY_DIR := tests/deploy

all: build

deps-build:
	@scripts/install-deps.sh build

deps:
	@scripts/install-deps.sh all

$(BUILD_DIR)/build.ninja: CMakeLists.txt CMakePresets.json
	cmake --preset release

build: deps-build $(BUILD_DIR)/build.ninja
	cmake --build --preset release

# The libFuzzer targets: a separate clang build of the libraries (tests/fuzz).
$(FUZZ_DIR)/build.ninja: CMakeLists.txt CMakePresets.json
	cmake --preset fuzz

fuzz-build: deps-build $(FUZZ_DIR)/build.ninja
	cmake --build --preset fuzz

# Fuzzes every target for FUZZ_SECONDS; one line per target, non-zero exit on a crash.
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

# npm packages for the end-to-end tests (real OpenTelemetry JS clients), pinned by the lock file.
$(E2E_DIR)/node_modules/.package-lock.json: $(E2E_DIR)/package.json $(E2E_DIR)/package-lock.json
	cd $(E2E_DIR) && npm ci --no-audit --no-fund --loglevel=error

# npm packages for the deploy/ validation (Kubernetes, KEDA, prometheus-operator schemas).
$(DEPLOY_DIR)/node_modules/.package-lock.json: $(DEPLOY_DIR)/package.json $(DEPLOY_DIR)/package-lock.json
	cd $(DEPLOY_DIR) && npm ci --no-audit --no-fund --loglevel=error

# clang-format and clang-tidy (scripts/check.sh); `make test` runs it first.
check: deps-build $(BUILD_DIR)/build.ninja
	scripts/check.sh

# ---- sanitizer builds (make test) ----
# build-asan/: everything but the benchmarks under ASan+UBSan; build-tsan/: the tests labelled
# `threaded` and the binaries they start, under TSan (CMakePresets.json asan and tsan). `make test`
# runs the release suite, then `ctest --preset asan` (unit and end-to-end tests) and
# `ctest --preset tsan` (the threaded ones).
.PHONY: build-asan build-tsan

build-asan/build.ninja: CMakeLists.txt CMakePresets.json
	cmake --preset asan

build-asan: deps-build build-asan/build.ninja
	cmake --build --preset asan

build-tsan/build.ninja: CMakeLists.txt CMakePresets.json
	cmake --preset tsan

build-tsan: deps-build build-tsan/build.ninja
	cmake --build --preset tsan
# ---- end of sanitizer builds ----

test: check
test: deps build build-asan build-tsan fuzz-build $(E2E_DIR)/node_modules/.package-lock.json $(DEPLOY_DIR)/node_modules/.package-lock.json
	ctest --preset release -j2
	ctest --preset fuzz -j2
	ctest --preset asan -j2
	ctest --preset tsan -j2

bench: build $(E2E_DIR)/node_modules/.package-lock.json
	scripts/bench.sh

demo: build
	python3 scripts/demo.py

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR) build-asan build-tsan
