# The two commands: `make run` and `make test` (see README.md).
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
CCACHE := $(shell command -v ccache 2>/dev/null)
ifneq ($(CCACHE),)
CMAKE_FLAGS += -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache
endif

.PHONY: all build run test demo deps test-deps bench-deps asan fuzz bench format clean image-test

all: build

deps:
	@scripts/install-deps.sh run

test-deps:
	@scripts/install-deps.sh test

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@mkdir -p vidgate-data
	@echo "vidgate: drop VIDEO + VIDEO-stem.json into $(CURDIR)/vidgate-data/uploads/ (Ctrl-C to stop)"
	@$(BUILD_DIR)/vidgate run

demo: build
	@$(BUILD_DIR)/vidgate demo

# The whole suite on the optimised build, then the unit tests again under
# AddressSanitizer and UndefinedBehaviorSanitizer in their own build folder.
test: test-deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DVIDGATE_TESTS=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600
	@$(MAKE) --no-print-directory asan ASAN_CTEST_ARGS="-E ^e2e" ASAN_E2E=OFF
	@scripts/fuzz.sh $(FUZZ_TEST_SECONDS) 1

# The container image: built from the Dockerfile with podman (a debian:12
# base made by debootstrap, RUN steps in a chroot) and checked from inside
# (scripts/image-test.sh: the seed's scenarios as the image's user). CI runs
# it after `make test`. Needs root (mount, chroot).
image-test:
	@scripts/install-deps.sh image
	@scripts/image-test.sh

# The suite under AddressSanitizer and UndefinedBehaviorSanitizer (`make
# test` runs the unit tests only, and skips building the end-to-end ones).
ASAN_CTEST_ARGS ?=
ASAN_E2E ?= ON
asan: test-deps
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVIDGATE_TESTS=ON -DVIDGATE_SANITIZE=ON -DVIDGATE_E2E=$(ASAN_E2E) $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest --output-on-failure -j $(JOBS) --timeout 900 $(ASAN_CTEST_ARGS)

# The libFuzzer targets (clang, in build-fuzz/), each for FUZZ_SECONDS; `make
# test` runs each for FUZZ_TEST_SECONDS with a fixed seed (a replay of inputs
# known to pass; a new crash is for `make fuzz` to find, not for CI).
FUZZ_SECONDS ?= 300
FUZZ_TEST_SECONDS ?= 15
fuzz: test-deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

# Benchmarks on the optimised build; figures and commands in docs/benchmarks.md.
bench-deps:
	@scripts/install-deps.sh bench

bench: bench-deps build
	@bench/pipeline.sh 300 sqlite 1 2 4 8
	@bench/pipeline.sh 300 postgres 1 2 4 8
	@bench/claim.sh
	@bench/media.sh 20 3
	@bench/s3.sh 300 5 100
	@bench/api.sh 10000 2000 8 1000
	@bench/trust.sh 20 5 100000 200
	@bench/fidelity.sh 10 5

format:
	@find src tests -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) build-asan build-fuzz
