# ringkv: every entry point a person or CI needs. See README.md.
BUILD ?= build
BENCH_BUILD ?= build-release
MESON ?= meson
NODES ?= 3
SEED ?= 1
SCENARIO ?=

.PHONY: all setup build run test soak sim bench clean

all: build

setup:
	@tools/setup.sh

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD)

build: setup $(BUILD)/build.ninja
	ninja -C $(BUILD)

# A local 3-node cluster in the foreground; Ctrl-C stops it.
run: build
	$(BUILD)/tools/ringkv-cluster start --nodes $(NODES) --foreground

# Unit, property, simulation and real-process tests. Ends with "N passed, N failed, N skipped".
test: build
	python3 tools/run_tests.py --build $(BUILD)

soak: build
	python3 tools/run_tests.py --build $(BUILD) --suite soak

sim: build
	$(BUILD)/tests/sim/ringkv-sim --seed $(SEED) $(if $(SCENARIO),--scenario $(SCENARIO))

bench:
	@tools/setup.sh --bench
	@[ -f $(BENCH_BUILD)/build.ninja ] || $(MESON) setup $(BENCH_BUILD) --buildtype=release
	ninja -C $(BENCH_BUILD)
	bench/run.sh $(BENCH_BUILD)

clean:
	rm -rf $(BUILD) $(BENCH_BUILD)
