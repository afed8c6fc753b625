#!/usr/bin/env python3
"""Drives the node's explorer (/ui) in Debian's Chromium, headless, with Playwright for Python.

    python3 explorer_check.py --node URL --chain ID --seed HEX --locked-tx ID --secret TEXT \
        --readers-only NAME [--screenshot FILE]

Run by the Swift test ExplorerBrowserTests against a node it started. Checks, in one browser:
the pages load without console errors; a transaction submitted meanwhile appears on the chain
page live, without a reload; a locked payload is shown as locked and never in clear; search
finds a transaction, a Quant by hash and by height; a readers-only chain shows nothing of its
content. Prints one line per check; exits 1 at the first that fails.
"""
import argparse
import json
import os
import shutil
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "documentation", "examples"))
from qbc_client import sign_transaction  # noqa: E402  (the PyNaCl client written from protocol.md)

from playwright.sync_api import sync_playwright  # noqa: E402


def fail(message):
    print(f"FAIL {message}")
    sys.exit(1)


def ok(message):
    print(f"ok   {message}")


def get(node, path):
    with urllib.request.urlopen(node + path, timeout=10) as response:
        return json.load(response)


def submit(node, tx):
    body = json.dumps({k: v for k, v in tx.items() if not k.startswith("_")}).encode()
    request = urllib.request.Request(node + "/inject", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 202:
            fail(f"the node refused the live transaction: {response.status}")


def committed(node, chain, tx_id, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            found = get(node, f"/chains/{chain}/tx/{tx_id}")
            if found["status"] == "committed":
                return found
        except urllib.error.HTTPError:
            pass
        time.sleep(0.2)
    fail(f"transaction {tx_id} was not committed within {seconds} s")


def main():
    parser = argparse.ArgumentParser()
    for name in ("--node", "--chain", "--seed", "--locked-tx", "--secret", "--readers-only"):
        parser.add_argument(name, required=True)
    parser.add_argument("--screenshot")
    args = parser.parse_args()
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser_path:
        fail("no chromium on PATH: make test-deps installs Debian's chromium")
    node, chain = args.node.rstrip("/"), args.chain
    errors = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.set_default_timeout(15000)

        page.goto(f"{node}/ui")
        page.wait_for_selector("#chains tbody tr")
        names = page.inner_text("#chains")
        if args.readers_only not in names:
            fail(f"the chains page does not list {args.readers_only}: {names}")
        ok("the chains page lists every chain")

        page.goto(f"{node}/ui#/chain/{chain}")
        page.wait_for_selector(".live:text('live')")
        page.evaluate("window.explorerCheck = 'same document'")
        tx = sign_transaction(bytes.fromhex(args.seed), bytes.fromhex(chain),
                              json.dumps({"check": "live", "at": time.time()}).encode())
        submit(node, tx)
        found = committed(node, chain, tx["id"])
        page.wait_for_selector(f"#quants tr[data-height='{found['height']}']")
        if page.evaluate("window.explorerCheck") != "same document":
            fail("the chain page reloaded to show the new Quant")
        ok(f"Quant {found['height']} with the live transaction appeared without a reload")

        page.goto(f"{node}/ui#/chain/{chain}/tx/{tx['id']}")
        page.wait_for_selector("#payload")
        if '"check": "live"' not in page.inner_text("#payload"):
            fail(f"the JSON payload is not shown pretty-printed: {page.inner_text('#payload')}")
        ok("a JSON payload is shown pretty-printed")

        # A writer's deeply nested JSON must not blow up a reader's page (indented, 1 KB became 0.5 MB).
        deep = sign_transaction(bytes.fromhex(args.seed), bytes.fromhex(chain), b"[" * 500 + b"0" + b"]" * 500)
        submit(node, deep)
        committed(node, chain, deep["id"])
        page.goto(f"{node}/ui#/chain/{chain}/tx/{deep['id']}")
        page.wait_for_selector("#payload")
        shown = len(page.inner_text("#payload"))
        if shown > 300_000:
            fail(f"a 1 KB payload nested 500 deep is shown as {shown} characters")
        ok(f"deeply nested JSON is shown flat ({shown} characters)")

        page.goto(f"{node}/ui#/chain/{chain}/tx/{args.locked_tx}")
        page.wait_for_selector("#payload")
        if "Locked payload" not in page.inner_text("#payload"):
            fail(f"the locked payload is not shown as locked: {page.inner_text('#payload')}")
        if args.secret in page.content() or args.secret in page.inner_text("body"):
            fail("the locked payload's plaintext is in the page")
        ok("a locked payload is shown as locked, with its recipients, and never in clear")

        for query, expected in ((tx["id"], "/tx/"), (found["quant"], "/quant/"), (str(found["height"]), "/quant/")):
            page.goto(f"{node}/ui#/")
            page.wait_for_selector("#chains tbody tr")
            page.fill("#search-input", query)
            page.press("#search-input", "Enter")
            page.wait_for_function("expected => location.hash.includes(expected)", arg=expected)
            page.wait_for_selector("dl.facts")
            if query not in page.inner_text("main") and query not in page.url:
                fail(f"search for {query} did not land on its page ({page.url})")
        ok("search finds a transaction id, a Quant hash and a height")

        page.goto(f"{node}/ui#/chain/{args.readers_only}")
        page.wait_for_selector(".notice.locked")
        if page.query_selector("#quants") is not None:
            fail("a readers-only chain shows its Quants")
        ok("a readers-only chain says a proof is required and shows nothing of its content")

        page.goto(f"{node}/ui#/peers")
        page.wait_for_selector("#peers tr")
        ok("the peers page loads")

        if args.screenshot:
            page.goto(f"{node}/ui#/chain/{chain}")
            page.wait_for_selector("#quants tr")
            page.wait_for_selector(".live:text('live')")
            page.screenshot(path=args.screenshot)
            ok(f"screenshot written to {args.screenshot}")
        browser.close()
    if errors:
        fail("console errors: " + " | ".join(errors))
    ok("no console errors")


if __name__ == "__main__":
    main()
