# The two commands of the README: `make run` starts a node, `make test` runs the tests.
# Each installs what is missing on a fresh Debian/Ubuntu machine with Swift.

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps run test bench release

deps:
	@if ! pkg-config --exists libsodium 2>/dev/null || [ ! -e /usr/include/sqlite3.h ]; then \
		echo "installing libsodium-dev, libsqlite3-dev, pkg-config"; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q libsodium-dev libsqlite3-dev pkg-config; \
	fi

run: deps
	swift build -c release
	.build/release/qbc key show keys-example/writer1.key
	.build/release/qbc tx sign --key keys-example/writer1.key --chain $$(printf '0%.0s' $$(seq 64)) \
		--data '{"hello":"qbc"}' --out /tmp/qbc-demo-tx.json
	.build/release/qbc tx verify /tmp/qbc-demo-tx.json

test: deps
	swift test

release: deps
	swift build -c release

bench: release
	.build/release/qbc bench crypto
