# The two commands of the README: `make run` starts a node, `make test` runs the tests.
# Each installs what is missing on a fresh Debian/Ubuntu machine with Swift.

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps test-deps run test bench bench-litecoin release sim

deps:
	@if ! pkg-config --exists libsodium 2>/dev/null || [ ! -e /usr/include/sqlite3.h ]; then \
		echo "installing libsodium-dev, libsqlite3-dev, pkg-config"; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q libsodium-dev libsqlite3-dev pkg-config; \
	fi

# The tests also run the PyNaCl client of documentation/examples against a live node, make a
# test CA with the openssl command for the HTTPS network test, and drive the explorer in
# Debian's Chromium with Playwright for Python (its own browser downloads are not used). The
# partition test puts nodes in network namespaces of its own with iproute2's `ip`.
test-deps: deps
	@python3 -c "import nacl" 2>/dev/null || python3 -m pip install -q pynacl || \
		{ $(SUDO) apt-get install -y -q python3-nacl; }
	@command -v openssl >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q openssl; }
	@command -v ip >/dev/null || [ -x /usr/sbin/ip ] || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q iproute2; }
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }
	@python3 -c "import playwright" 2>/dev/null || python3 -m pip install -q playwright || \
		python3 -m pip install -q --break-system-packages playwright

run: deps
	swift run -c release qbc node

# The suite, then the Swift SDK example package built whole, as another package depending on
# this one would build it (its own build folder; the suite already compiled its source).
test: test-deps
	swift test
	swift build --package-path documentation/examples/swift-sdk --scratch-path .build-sdk-example

release: deps
	swift build -c release

# The figures issue 18 sets targets for, each next to its target (qbc bench compare), then every
# benchmark in full. Litecoin Core, the outside reference, is `make bench-litecoin` (performance.md).
bench: release
	.build/release/qbc bench compare
	.build/release/qbc bench crypto
	.build/release/qbc bench node
	.build/release/qbc bench sync
	.build/release/qbc bench broadcast
	.build/release/qbc bench poa
	.build/release/qbc bench bft
	.build/release/qbc bench chains
	.build/release/qbc bench locks
	.build/release/qbc bench flood
	.build/release/qbc bench events

# A long soak of the deterministic simulation (documentation/simulation.md): 10,000 seeds.
sim: release
	SWIFT_DETERMINISTIC_HASHING=1 .build/release/qbc sim --seed 1 --seeds 10000 --active 60 --quiet 90

# libFuzzer (documentation/fuzzing.md). `make fuzz` runs every target for FUZZ_SECONDS each;
# `make fuzz FUZZ_TARGET=tx-json` runs one. New inputs go to .build-fuzz/corpus/<target> (the
# committed seeds in Fuzz/Corpus are read, never written); crashes go to Fuzz/Regressions/<target>/.
FUZZ_SECONDS ?= 60
FUZZ_TARGET ?=
# target:max_len (bytes): large enough for each target's valid seeds, small enough to stay fast.
FUZZ_TARGETS := tx-binary:4096 tx-batch:8192 tx-json:4096 quant-json:12288 quant-header:1024 bang:4096 \
	registration:2048 membership-change:2048 lock-envelope:4096 key-file:2048 payload-schema:2048 \
	read-proof:1024 spec-file:8192

.PHONY: fuzz-build fuzz

fuzz-build: deps
	swift build -c release --sanitize=fuzzer -Xswiftc -DQBC_FUZZING --product qbc-fuzz --scratch-path .build-fuzz

# Swift's backtracer would catch a crash's signal first and libFuzzer would save no input: it is off.
fuzz: fuzz-build
	@set -e; for pair in $(FUZZ_TARGETS); do \
		t=$${pair%%:*}; len=$${pair##*:}; \
		if [ -n "$(FUZZ_TARGET)" ] && [ "$(FUZZ_TARGET)" != "$$t" ]; then continue; fi; \
		mkdir -p .build-fuzz/corpus/$$t Fuzz/Regressions/$$t; \
		cp Fuzz/Corpus/$$t/* .build-fuzz/corpus/$$t/; \
		echo "== fuzz $$t: $(FUZZ_SECONDS) s, max_len $$len"; \
		SWIFT_BACKTRACE=enable=no QBC_FUZZ_TARGET=$$t .build-fuzz/release/qbc-fuzz .build-fuzz/corpus/$$t Fuzz/Corpus/$$t \
			-max_total_time=$(FUZZ_SECONDS) -max_len=$$len -timeout=10 \
			-artifact_prefix=Fuzz/Regressions/$$t/ -print_final_stats=1; \
	done

# Litecoin Core side by side with `qbc bench sync` (issue 18): installs litecoind if missing.
bench-litecoin: release
	command -v litecoind >/dev/null || ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q litecoind)
	python3 tools/litecoin-sync.py --transactions 100000
