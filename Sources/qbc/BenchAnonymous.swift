import ArgumentParser
import Dispatch
import Foundation
import QBCCore
import QBCCrypto
import QBCHarness

struct BenchAnonymous: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anonymous",
        abstract: "Prove and verify anonymous read proofs over n read keys, next to 2n raw libsodium ristretto255 scalar multiplications.",
        discussion: "Build with -c release. The target (issue 17): verify within 1.2× of 2n raw scalar multiplications.")

    @Option(name: .long, help: "Key set sizes (comma-separated).") var sizes: String = "8,64,256"
    @Option(name: .long, help: "Seconds per measurement (at least).") var seconds: Double = 1

    func run() async throws {
        let sizes = sizes.split(separator: ",").compactMap { Int($0) }
        guard !sizes.isEmpty, sizes.allSatisfy({ (1...AnonymousRead.maxKeys).contains($0) }), seconds > 0 else {
            throw ValidationError("--sizes: 1...\(AnonymousRead.maxKeys) each; --seconds > 0")
        }
        print("qbc bench anonymous: one thread; times per proof")
        print(BenchTable.row("n", "prove ms", "verify ms", "2n raw mults ms") + BenchTable.pad("verify / 2n raw"))
        let chain = Hash.blake2b([1])
        let nonce = SecureRandom.bytes(32)
        for n in sizes {
            let secrets = (0..<n).map { _ in ReadSecret(of: SigningKey()) }
            let set = ReadKeySet(secrets.map(\.publicKey))
            let prover = secrets[n / 2]
            let path = "/chains/\(chain.hex)/tx/\(chain.hex)"
            var proof: RingProof?
            let prove = Self.perCall(seconds) {
                proof = AnonymousRead.prove(prover, set: set, chain: chain, nonce: nonce, method: "GET", path: path)
            }
            guard let encoded = proof?.encoded else { throw CLIError("the prover's key is not in its own set") }
            var accepted = true
            let verify = Self.perCall(seconds) {
                do throws(AnonymousRead.Refusal) {
                    try AnonymousRead.check(encoded, claimed: set.hash, set: set, chain: chain, nonce: nonce, method: "GET", path: path)
                } catch { accepted = false }
            }
            guard accepted else { throw CLIError("a proof the bench made does not verify") }
            let rawPerMult = 1 / RawSodiumBaseline.ristrettoScalarMultPerSecond(count: max(2000, 2 * n * 20))
            let raw = 2 * Double(n) * rawPerMult
            print(BenchTable.row("\(n)", String(format: "%.3f", prove * 1000), String(format: "%.3f", verify * 1000), String(format: "%.3f", raw * 1000))
                + BenchTable.pad(String(format: "%.3f", verify / raw)))
        }
    }

    /// Seconds per call of `body`, repeated for at least `seconds`.
    static func perCall(_ seconds: Double, _ body: () -> Void) -> Double {
        var calls = 0
        let start = DispatchTime.now().uptimeNanoseconds
        while true {
            body()
            calls += 1
            let elapsed = BenchNode.seconds(since: start)
            if elapsed >= seconds { return elapsed / Double(calls) }
        }
    }
}
