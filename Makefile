# ringkv: every entry point a person or CI needs. See README.md.
BUILD ?= build
BENCH_BUILD ?= build-release
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
MESON ?= meson
NODES ?= 3
SEED ?= 1
SCENARIO ?=
CHAOS_ARGS ?=

.PHONY: all setup build run test soak sim chaos bench bench-build bench-siblings bench-tls bench-join \
	bench-sync fuzz fuzz-seeds \
	image clean

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

# Faults on real processes, then checkers (docs/chaos.md): one seeded
# schedule, e.g. make chaos SEED=7 CHAOS_ARGS='--schedules 5 --faults 12'.
# Partitions need root; without it they are skipped and the summary says so.
chaos: build
	$(BUILD)/tests/chaos/ringkv-chaos --seed $(SEED) $(CHAOS_ARGS)

# The standard scenarios, then issue 13's YCSB sibling case, issue 12's TLS
# cost and issue 15's join under load (docs/performance.md); each of the
# last three also on its own.
bench: bench-build
	bench/run.sh $(BENCH_BUILD)
	bench/siblings.sh $(BENCH_BUILD)
	bench/tls.sh $(BENCH_BUILD)
	bench/join.sh $(BENCH_BUILD)

bench-siblings: bench-build
	bench/siblings.sh $(BENCH_BUILD)

bench-tls: bench-build
	bench/tls.sh $(BENCH_BUILD)

bench-join: bench-build
	bench/join.sh $(BENCH_BUILD)

# Throughput with every write fsync'd, on the disk of bench/results/
# (BENCH_SYNC_DIR to choose another; docs/performance.md "Synced writes").
bench-sync: bench-build
	bench/sync.sh $(BENCH_BUILD)

bench-build:
	@tools/setup.sh --bench
	@[ -f $(BENCH_BUILD)/build.ninja ] || $(MESON) setup $(BENCH_BUILD) --buildtype=release
	ninja -C $(BENCH_BUILD)

# The OCI image (docs/kubernetes.md): Debian's archive only, release build,
# written to build-image/ringkv.oci.tar (podman load -i ...). Needs root.
image:
	@tools/setup.sh
	@[ -f $(BENCH_BUILD)/build.ninja ] || $(MESON) setup $(BENCH_BUILD) --buildtype=release
	ninja -C $(BENCH_BUILD)
	deploy/image/build.sh $(BENCH_BUILD)

# libFuzzer targets (docs/fuzzing.md) built with clang, ASan and UBSan in
# their own build directory, FUZZ_SECONDS each, e.g.
# make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS='message record'.
fuzz:
	@tools/setup.sh --fuzz
	@[ -f $(FUZZ_BUILD)/build.ninja ] || CC=clang CXX=clang++ $(MESON) setup $(FUZZ_BUILD) \
		-Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C $(FUZZ_BUILD) $(addprefix tests/fuzz/fuzz_,$(or $(FUZZ_TARGETS),frame message record context cluster_file))
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run_fuzz.sh $(FUZZ_BUILD) $(FUZZ_TARGETS)

# Rewrites the seed inputs of tests/fuzz/corpus from today's encoders.
fuzz-seeds: build
	$(BUILD)/tests/fuzz/fuzz_seed_corpus tests/fuzz/corpus

clean:
	rm -rf $(BUILD) $(BENCH_BUILD) $(FUZZ_BUILD) build-image
