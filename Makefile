# The two commands of the README: `make run` starts a node, `make test` runs the tests.
# Each installs what is missing on a fresh Debian/Ubuntu machine with Swift.

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps test-deps run test bench release

deps:
	@if ! pkg-config --exists libsodium 2>/dev/null || [ ! -e /usr/include/sqlite3.h ]; then \
		echo "installing libsodium-dev, libsqlite3-dev, pkg-config"; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q libsodium-dev libsqlite3-dev pkg-config; \
	fi

# The tests also run the PyNaCl client of documentation/examples against a live node.
test-deps: deps
	@python3 -c "import nacl" 2>/dev/null || python3 -m pip install -q pynacl || \
		{ $(SUDO) apt-get install -y -q python3-nacl; }

run: deps
	swift run -c release qbc node

test: test-deps
	swift test

release: deps
	swift build -c release

bench: release
	.build/release/qbc bench crypto
	.build/release/qbc bench node
	.build/release/qbc bench sync
	.build/release/qbc bench broadcast
	.build/release/qbc bench poa
	.build/release/qbc bench chains
	.build/release/qbc bench locks
