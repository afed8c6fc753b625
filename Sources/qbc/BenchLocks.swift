import ArgumentParser
import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCWire
import QBCHarness

struct BenchLocks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locks",
        abstract: "Lock and unlock of a payload to N recipients (ops/s) next to raw libsodium, and a node's admission of locked vs plain transactions.",
        discussion: "Build with -c release.")

    @Option(name: .long, help: "Recipients per lock.") var recipients: Int = 10
    @Option(name: .long, help: "Payload bytes.") var payloadBytes: Int = 1024
    @Option(name: .long, help: "Locks and unlocks timed (one thread).") var operations: Int = 2000
    @Option(name: .long, help: "Transactions posted per admission run.") var transactions: Int = 20_000

    func validate() throws {
        guard (1...Lock.maxHolders).contains(recipients), (1...60_000).contains(payloadBytes), operations > 0, transactions >= 1000 else {
            throw ValidationError("--recipients 1...64, --payload-bytes 1...60000, --operations > 0, --transactions >= 1000")
        }
    }

    func run() async throws {
        print("qbc bench locks: \(recipients) recipients, \(payloadBytes)-byte payloads, \(operations) operations; \(transactions) transactions per admission run")
        let holders = (0..<recipients).map { _ in SigningKey() }
        let chain = Hash.blake2b([1])
        let sender = SigningKey().publicKey
        let payload = [UInt8](repeating: 0x61, count: payloadBytes)
        let target = LockTarget.recipients(holders.map(\.publicKey))

        let rawLock = RawSodiumBaseline.lockPerSecond(count: operations, recipients: recipients, payloadBytes: payloadBytes)
        var start = DispatchTime.now().uptimeNanoseconds
        var last: Lock?
        for _ in 0..<operations { last = try Lock.seal(payload, contentType: "text/plain", chain: chain, sender: sender, to: target) }
        let lockRate = Double(operations) / BenchNode.seconds(since: start)
        guard let sample = last else { return }
        let rawUnlock = RawSodiumBaseline.unlockPerSecond(count: operations, payloadBytes: payloadBytes)
        start = DispatchTime.now().uptimeNanoseconds
        // The last recipient: the worst case for the lookup.
        for _ in 0..<operations { _ = try sample.open(with: [holders[recipients - 1]], chain: chain, sender: sender) }
        let unlockRate = Double(operations) / BenchNode.seconds(since: start)
        print(BenchTable.row("", "QBC ops/s", "raw libsodium", "ratio"))
        print(BenchTable.row("lock to \(recipients)", BenchTable.format(lockRate), BenchTable.format(rawLock), String(format: "%.3f", lockRate / rawLock)))
        print(BenchTable.row("unlock", BenchTable.format(unlockRate), BenchTable.format(rawUnlock), String(format: "%.3f", unlockRate / rawUnlock)))
        print("envelope: \(sample.encoded.count) bytes for a \(payloadBytes)-byte payload")

        var setup = try BenchSetup(difficulty: 8, capacity: transactions)
        try setup.start(0)
        let client = NodeClient(baseURL: setup.url, timeoutSeconds: 300)
        let stats = try await callNode { try await client.stats() }
        guard let chainID = try? ChainID(hex: stats.chain) else { throw CLIError("the node reported an invalid chain id") }
        // Locked against plain payloads of the envelope's size (the lock's own cost: issue 18's
        // target) and of the payload's size (what locking costs a writer in all).
        let sameBytes = [UInt8](repeating: UInt8(ascii: "p"), count: sample.encoded.count)
        print(BenchTable.row("admission", "plain tx/s", "locked tx/s", "locked / plain"))
        var plainRate = 1.0
        for binary in [false, true] {
            let plain = BenchNode.presign(count: transactions, batch: 1000, chain: chainID, writers: setup.writers, binary: binary) { _, _ in
                ("text/plain", payload)
            }
            let plainSameBytes = BenchNode.presign(count: transactions, batch: 1000, chain: chainID, writers: setup.writers, binary: binary) { _, _ in
                ("text/plain", sameBytes)
            }
            let locked = BenchNode.presign(count: transactions, batch: 1000, chain: chainID, writers: setup.writers, binary: binary) { sender, _ in
                // Locked to the same recipients; the node sees only the envelope.
                let lock = try? Lock.seal(payload, contentType: "text/plain", chain: chainID, sender: sender, to: target)
                return (Lock.contentType, lock?.encoded ?? [])
            }
            var rates = [Double]()
            for bodies in [plain, plainSameBytes, locked] {
                let (admitted, seconds) = try await BenchNode.post(bodies, client: client, connections: 4, binary: binary)
                guard admitted == transactions else { throw CLIError("only \(admitted) of \(transactions) admitted") }
                _ = try await BenchNode.leapUntilEmpty(client)
                rates.append(Double(admitted) / seconds)
            }
            if !binary { plainRate = rates[0] }
            let kind = binary ? "binary" : "JSON"
            print(BenchTable.row("\(kind), same bytes", BenchTable.format(rates[1]), BenchTable.format(rates[2]), String(format: "%.3f", rates[2] / rates[1])))
            print(BenchTable.row("\(kind), \(payloadBytes) B plain", BenchTable.format(rates[0]), BenchTable.format(rates[2]),
                                 String(format: "%.3f", rates[2] / rates[0])))
        }
        let raw = RawSodiumBaseline.verifyPerSecond(countPerThread: 20_000, messageBytes: 110 + payloadBytes, threads: ProcessInfo.processInfo.activeProcessorCount)
        print("raw libsodium Ed25519 verify/s on all cores (same run): \(BenchTable.format(raw)); plain JSON admission / raw: \(String(format: "%.3f", plainRate / raw))")
    }
}
