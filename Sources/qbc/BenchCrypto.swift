import ArgumentParser
import Foundation
import QBCCrypto
import QBCHarness

struct BenchCrypto: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crypto",
        abstract: "Ed25519 sign/s and verify/s through QBCCrypto next to raw libsodium, on one core.")

    @Option(name: .long, help: "Operations per measurement.")
    var count: Int = 20_000

    @Option(name: .long, help: "Message size in bytes (a typical signed transaction is ~200).")
    var messageBytes: Int = 200

    @Option(name: .long, help: "Interleaved rounds; the median of each side is reported.")
    var rounds: Int = 3

    func validate() throws {
        guard count > 0, rounds > 0, messageBytes >= 0 else { throw ValidationError("counts must be positive") }
    }

    func run() async throws {
        var ours = (sign: [Double](), verify: [Double]())
        var raw = (sign: [Double](), verify: [Double]())
        for _ in 0..<rounds {
            raw.sign.append(RawSodiumBaseline.signPerSecond(count: count, messageBytes: messageBytes))
            ours.sign.append(Self.qbcSignPerSecond(count: count, messageBytes: messageBytes))
            raw.verify.append(RawSodiumBaseline.verifyPerSecond(countPerThread: count, messageBytes: messageBytes))
            ours.verify.append(Self.qbcVerifyPerSecond(count: count, messageBytes: messageBytes))
        }
        print("qbc bench crypto: \(count) ops x \(rounds) rounds, \(messageBytes)-byte messages, libsodium \(sodiumVersion)")
        print(BenchTable.row("", "QBCCrypto", "raw libsodium", "ratio"))
        for (name, a, b) in [("sign/s", ours.sign, raw.sign), ("verify/s", ours.verify, raw.verify)] {
            let (x, y) = (BenchTable.median(a), BenchTable.median(b))
            print(BenchTable.row(name, BenchTable.format(x), BenchTable.format(y), String(format: "%.3f", x / y)))
        }
    }

    static func qbcSignPerSecond(count: Int, messageBytes: Int) -> Double {
        let key = SigningKey()
        var message = SecureRandom.bytes(messageBytes)
        var sink = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<count {
            if messageBytes > 0 { message[0] = UInt8(truncatingIfNeeded: i) }
            sink &+= Int(key.sign(message).bytes[0])
        }
        return BenchTable.rate(count, since: start, sink: sink)
    }

    static func qbcVerifyPerSecond(count: Int, messageBytes: Int) -> Double {
        let key = SigningKey()
        let pairs = (0..<64).map { _ in
            let message = SecureRandom.bytes(messageBytes)
            return (message, key.sign(message))
        }
        let publicKey = key.publicKey
        var valid = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<count {
            let (message, signature) = pairs[i % pairs.count]
            if publicKey.verify(signature, over: message) { valid += 1 }
        }
        precondition(valid == count, "QBCCrypto rejected its own signatures")
        return BenchTable.rate(count, since: start, sink: valid)
    }
}

/// Formatting shared by the benchmarks.
enum BenchTable {
    static func row(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
        a.padding(toLength: 22, withPad: " ", startingAt: 0) + pad(b) + pad(c) + pad(d)
    }

    static func pad(_ s: String) -> String {
        String(repeating: " ", count: max(0, 16 - s.count)) + s
    }

    static func format(_ value: Double) -> String { String(format: "%.0f", value) }

    /// The p-th value of already sorted `values` (0 when empty).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// Operations per second since `start`; `sink` keeps the optimiser from removing the loop.
    static func rate(_ count: Int, since start: UInt64, sink: Int) -> Double {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return sink == Int.min ? 0 : Double(count) / max(elapsed, 1e-9)
    }
}
