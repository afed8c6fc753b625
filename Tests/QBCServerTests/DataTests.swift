import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// Backups, restores, exports and imports through the real `qbc` commands (operations.md).
@Suite(.serialized) struct DataTests {
    /// Every header hash from 1 to `height`, read from a node.
    func hashes(_ client: NodeClient, upTo height: UInt64) async throws -> [String] {
        var hashes = [String]()
        var next: UInt64? = 1
        while let from = next, from <= height {
            let page = try await client.page(from: from, limit: 500)
            hashes += page.quants.map(\.header.hash)
            next = page.next
        }
        return Array(hashes.prefix(Int(height)))
    }

    @Test func backupUnderLoadRestoresToANodeServingTheSameChain() async throws {
        let t = try await TestNode(arguments: ["--leap-interval-ms", "100"])
        let writer = try Keys.load("writer1")
        let chain = t.chain
        let client = t.client
        let load = Task {
            var round = 0
            while !Task.isCancelled {
                let batch = (0..<50).map { signed(#"{"round":\#(round),"i":\#($0)}"#, chain: chain, by: writer) }
                _ = try? await client.submit(batch: batch)
                round += 1
            }
            return round
        }
        try await eventually("the load is committing") { try await client.stats().height >= 3 }
        let out = t.dir.file("backup.sqlite")
        let data = t.dir.file("data")
        let backup = await onOwnThread { try? CommandRunner.qbc(["backup", "--data", data, "--out", out]) }
        try await eventually("more commits after the backup") { try await client.stats().height >= 6 }
        load.cancel()
        let rounds = await load.value
        #expect(backup?.status == 0, "\(backup?.stderr ?? "")")
        #expect(rounds > 3, "admission went on during the backup")

        let restoredDir = try TemporaryDirectory()
        let restore = try await CommandRunner.qbc(["restore", "--from", out, "--data", restoredDir.file("data")])
        #expect(restore.status == 0, "\(restore.stderr)")
        // A copy missing a table is refused, and leaves no folder behind.
        let damaged = t.dir.file("damaged.sqlite")
        try FileManager.default.copyItem(atPath: out, toPath: damaged)
        _ = try await CommandRunner.run("/usr/bin/env", ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DROP TABLE quant'); c.commit()", damaged])
        let refused = try await CommandRunner.qbc(["restore", "--from", damaged, "--data", restoredDir.file("broken")])
        #expect(refused.status != 0 && refused.stderr.contains("quant"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: restoredDir.file("broken")))
        let again = try await CommandRunner.qbc(["restore", "--from", out, "--data", restoredDir.file("data")])
        #expect(again.status != 0 && again.stderr.contains("holds a node database already"), "\(again.stderr)")
        let restored = try await TestNode(arguments: ["--leap-interval-ms", "0"], dir: restoredDir)
        let copy = try await restored.client.stats()
        #expect(copy.chain == t.chain.hex)
        #expect(copy.height >= 3)
        // The copy is the original's chain up to its tip, Quant for Quant.
        #expect(try await hashes(restored.client, upTo: copy.height) == (try await hashes(client, upTo: copy.height)))
        #expect(try await verifyWholeChain(restored.client, chain: chain) == Int(copy.transactions))
    }

    @Test func exportImportChecksEveryQuantAndStopsAtATamperedOne() async throws {
        let t = try await TestNode(arguments: ["--leap-interval-ms", "0"])
        let writer = try Keys.load("writer1")
        for height in 1...3 {
            _ = try await t.client.submit(batch: (0..<10).map { signed(#"{"height":\#(height),"i":\#($0)}"#, chain: t.chain, by: writer) })
            #expect(try await t.client.leap().quant?.transactionCount == 10)
        }
        let archive = t.dir.file("chain.qbc")
        let export = try await onOwnThread { Result { try CommandRunner.qbc(["export", "--node", t.node.url, "--out", archive]) } }.get()
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("3 Quants, 30 transactions"), "\(export.stdout)")

        let target = try TemporaryDirectory()
        let imported = try await CommandRunner.qbc(["import", "--in", archive, "--data", target.file("data")])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("height 3, 3 Quants new"), "\(imported.stdout)")
        let node = try await TestNode(arguments: ["--leap-interval-ms", "0"], dir: target)
        #expect(try await node.client.stats().tipHash == (try await t.client.stats().tipHash))

        // One payload byte changed in height 2: the import stops there, with height 1 imported.
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: archive)))
        var bytes = original
        let marker = Array(#"{"height":2,"i":4}"#.utf8)
        let at = try #require((0...(bytes.count - marker.count)).first { bytes[$0..<($0 + marker.count)].elementsEqual(marker) })
        bytes[at + 10] = UInt8(ascii: "7")
        let tampered = t.dir.file("tampered.qbc")
        try Data(bytes).write(to: URL(fileURLWithPath: tampered))
        let other = try TemporaryDirectory()
        let refused = try await CommandRunner.qbc(["import", "--in", tampered, "--data", other.file("data")])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("height 2") && refused.stderr.contains("the 1 before it are imported"), "\(refused.stderr)")
        let truncated = t.dir.file("truncated.qbc")
        try Data(original.prefix(original.count - 7)).write(to: URL(fileURLWithPath: truncated))
        let cut = try await CommandRunner.qbc(["import", "--in", truncated, "--data", try TemporaryDirectory().file("data")])
        #expect(cut.status != 0 && cut.stderr.contains("record 3 is cut short"), "\(cut.stderr)")
        // The folder of a running node is refused (its lock); so is a folder whose own chain has
        // the same name: chain names are unique on a node.
        let running = try await CommandRunner.qbc(["import", "--in", archive, "--data", t.dir.file("data")])
        #expect(running.status != 0 && running.stderr.contains("in use"), "\(running.stderr)")
        let named = try await TestNode(arguments: ["--leap-interval-ms", "0"])
        await named.node.stop()
        let sameName = try await CommandRunner.qbc(["import", "--in", archive, "--data", named.dir.file("data")])
        #expect(sameName.status != 0 && sameName.stderr.contains("another chain named dev"), "\(sameName.stderr)")
        let notAnArchive = try await CommandRunner.qbc(["import", "--in", tampered + "x", "--data", other.file("data2")])
        #expect(notAnArchive.status != 0 && notAnArchive.stderr.contains("cannot read"), "\(notAnArchive.stderr)")
    }
}
