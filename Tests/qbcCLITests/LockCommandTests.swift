import Foundation
import QBCClient
import QBCCrypto
import QBCHarness
import QBCTestSupport
import Testing

@Suite struct LockCommandTests {
    /// `qbc lock` / `qbc unlock` on files, and `tx submit --lock-to` with `unlock --tx`, as a user runs them.
    @Test func lockAndUnlockFilesAndTransactions() async throws {
        let dir = try TemporaryDirectory()
        let node = try await NodeProcess.start(dataDirectory: dir.file("data"))
        let (writer, reader, writer2) = (NodeProcess.demoKey("writer1"), NodeProcess.demoKey("reader"), NodeProcess.demoKey("writer2"))
        let readerKey = "3033c03ceb018da65410a754f2a2175ffb447dd85db308f5e6cfa6f3c0660f83"
        let writerKey = "a0644396b3294a598c2ae958f5eaeffd1aa45f56c7582e70495665ddba97a8c7"
        let writer2Key = "2abbe9470d77d34e1fd256cfbf3a0fa17278f31e136c42cfd606815d10150d8a"
        try "top secret\n".write(toFile: dir.file("plain.txt"), atomically: true, encoding: .utf8)

        let locked = try await CommandRunner.qbc([
            "lock", "--chain", node.chainID, "--sender", writerKey, "--lock-to", readerKey, "--in", dir.file("plain.txt"),
            "--out", dir.file("plain.lock"),
        ])
        #expect(locked.status == 0, "\(locked.stderr)")
        let opened = try await CommandRunner.qbc(
            ["unlock", "--in", dir.file("plain.lock"), "--chain", node.chainID, "--sender", writerKey, "--key", reader])
        #expect(opened.stdout == "top secret\n", "\(opened.stderr)")
        // The PyNaCl implementation written from locks.md opens what qbc sealed.
        let envelope = Hex.encode(Array(try Data(contentsOf: URL(fileURLWithPath: dir.file("plain.lock")))))
        let seed = try NodeCommandTests.seed(of: "reader")
        let python = try await CommandRunner.run(
            "/usr/bin/env", ["python3", NodeProcess.repositoryRoot + "/documentation/examples/qbc_lock.py", "open", envelope, node.chainID, writerKey, seed])
        #expect(python.stdout == "top secret\n", "\(python.stderr)")
        let noTarget = try await CommandRunner.qbc(["lock", "--chain", node.chainID, "--sender", writerKey, "--in", dir.file("plain.txt")])
        #expect(noTarget.status != 0)
        #expect(noTarget.stderr.contains("name --lock-to keys or --lock-passphrase-file"))
        let garbage = try await CommandRunner.qbc(
            ["unlock", "--in", dir.file("plain.txt"), "--chain", node.chainID, "--sender", writerKey, "--key", reader])
        #expect(garbage.status != 0)
        #expect(garbage.stderr.contains("lock envelope is malformed"))
        let stranger = try await CommandRunner.qbc(
            ["unlock", "--in", dir.file("plain.lock"), "--chain", node.chainID, "--sender", writerKey, "--key", writer2])
        #expect(stranger.status != 0)
        #expect(stranger.stderr.contains("none of the given keys is a recipient"))
        let lifted = try await CommandRunner.qbc(
            ["unlock", "--in", dir.file("plain.lock"), "--chain", node.chainID, "--sender", writer2Key, "--key", reader])
        #expect(lifted.stderr.contains("lifted from another transaction"))

        let submitted = try await CommandRunner.qbc([
            "tx", "submit", "--node", node.url, "--key", writer, "--data", #"{"pin":1234}"#, "--threshold", "2",
            "--lock-to", readerKey, "--lock-to", writerKey, "--lock-to", writer2Key,
        ])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let id = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let one = try await CommandRunner.qbc(["unlock", "--node", node.url, "--tx", id, "--key", reader])
        #expect(one.status != 0)
        #expect(one.stderr.contains("needs 2 of its share holders' keys; 1 given"))
        let two = try await CommandRunner.qbc(["unlock", "--node", node.url, "--tx", id, "--key", reader, "--key", writer2])
        #expect(two.stdout == #"{"pin":1234}"#, "\(two.stderr)")
        // One holder given twice is one share: a shortage, said as such.
        let twice = try await CommandRunner.qbc(["unlock", "--node", node.url, "--tx", id, "--key", reader, "--key", reader])
        #expect(twice.status != 0 && twice.stderr.contains("1 given"), "\(twice.stderr)")

        // Key files name recipients as well as hex keys do.
        let byFile = try await CommandRunner.qbc([
            "tx", "submit", "--node", node.url, "--key", writer, "--data", #"{"f":1}"#, "--lock-to", reader,
        ])
        #expect(byFile.status == 0, "\(byFile.stderr)")
        let fileID = byFile.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let openedByFile = try await CommandRunner.qbc(["unlock", "--node", node.url, "--tx", fileID, "--key", reader])
        #expect(openedByFile.stdout == #"{"f":1}"#, "\(openedByFile.stderr)")
        let notAKey = try await CommandRunner.qbc(["tx", "submit", "--node", node.url, "--key", writer, "--data", "{}", "--lock-to", dir.file("plain.txt")])
        #expect(notAKey.status != 0 && notAKey.stderr.contains("neither a key file nor a public key"), "\(notAKey.stderr)")

        // The envelope counts against the chain's 64 KiB: refused by the CLI, with the real limit.
        let nearLimit = "\"" + String(repeating: "x", count: 65_500) + "\""
        try nearLimit.write(toFile: dir.file("big.json"), atomically: true, encoding: .utf8)
        let tooBig = try await CommandRunner.qbc([
            "tx", "submit", "--node", node.url, "--key", writer, "--data", "@" + dir.file("big.json"), "--lock-to", readerKey,
        ])
        #expect(tooBig.status == 1, "refused before any request: \(tooBig.status)")
        #expect(tooBig.stderr.contains("of lock envelope") && tooBig.stderr.contains("at most 65536"), "\(tooBig.stderr)")

        try "hunter2\n".write(toFile: dir.file("pass"), atomically: true, encoding: .utf8)
        try "hunter3\n".write(toFile: dir.file("wrong"), atomically: true, encoding: .utf8)
        let byPassphrase = try await CommandRunner.qbc([
            "tx", "submit", "--node", node.url, "--key", writer, "--data", #"{"p":1}"#, "--lock-passphrase-file", dir.file("pass"),
        ])
        let passID = byPassphrase.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let right = try await CommandRunner.qbc(["unlock", "--node", node.url, "--tx", passID, "--lock-passphrase-file", dir.file("pass")])
        #expect(right.stdout == #"{"p":1}"#, "\(right.stderr)")
        let wrong = try await CommandRunner.qbc(["unlock", "--node", node.url, "--tx", passID, "--lock-passphrase-file", dir.file("wrong")])
        #expect(wrong.stderr.contains("wrong passphrase"))
    }

    /// A chain whose rules lock a field: `tx submit` locks it to the chain's readers by itself.
    @Test func fieldLocksAreAppliedBySubmitAndOpenedByUnlock() async throws {
        let dir = try TemporaryDirectory()
        let node = try await NodeProcess.start(dataDirectory: dir.file("data"))
        let nodeKey = try KeyFile.open(Array(try Data(contentsOf: URL(fileURLWithPath: dir.file("data/node.key")))), passphrase: nil)
        let spec = """
            {"name": "people", "consensus": {"engine": "pow", "difficultyBits": 2},
             "members": [{"key": "f7fdc2532044421feb0a3205494d3c7b517e9b1a88565dbed8c1b3fe97bcf999", "roles": ["admin"]},
                         {"key": "a0644396b3294a598c2ae958f5eaeffd1aa45f56c7582e70495665ddba97a8c7", "roles": ["writer"]},
                         {"key": "3033c03ceb018da65410a754f2a2175ffb447dd85db308f5e6cfa6f3c0660f83", "roles": ["reader"]},
                         {"key": "\(nodeKey.publicKey.hex)", "roles": ["node"]}],
             "payload": {"lockedFields": ["ssn"]}, "readAccess": "readers"}
            """
        try spec.write(toFile: dir.file("people.json"), atomically: true, encoding: .utf8)
        let bang = try await CommandRunner.qbc(["bang", "--node", node.url, "--key", NodeProcess.demoKey("admin"), "--spec", dir.file("people.json")])
        #expect(bang.status == 0, "\(bang.stderr)")
        let submitted = try await CommandRunner.qbc([
            "tx", "submit", "--node", node.url, "--chain", "people", "--key", NodeProcess.demoKey("writer1"),
            "--data", #"{"name":"Ada","ssn":"078-05-1120"}"#,
        ])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let id = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // The chain is readers-only: unlock proves the reader's key, then opens the field.
        let opened = try await CommandRunner.qbc(["unlock", "--node", node.url, "--chain", "people", "--tx", id, "--key", NodeProcess.demoKey("reader")])
        #expect(opened.stdout == #"{"name":"Ada","ssn":"078-05-1120"}"# + "\n", "\(opened.stderr)")
        let writerRead = try await CommandRunner.qbc(["unlock", "--node", node.url, "--chain-ref", "people", "--tx", id, "--key", NodeProcess.demoKey("writer1")])
        #expect(writerRead.stderr.contains("403 not_authorized"))
    }
}
