import Foundation
import QBCClient
import QBCCrypto
import QBCWire

/// The node a benchmark runs against: one it starts on a fresh chain of its own, or an external one.
struct BenchSetup {
    let url: String
    let writers: [SigningKey]
    let local: LocalNode?
    let directory: String?
    let executable: String
    let arguments: [String]

    init(external: String?, keyPath: String?, difficulty: UInt8, capacity: Int) throws {
        executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        if let external, let keyPath {
            let bytes = try Files.read(keyPath, limit: 64 * 1024)
            do { writers = [try KeyFile.open(bytes, passphrase: nil)] } catch { throw CLIError("\(keyPath): \(error)") }
            url = external
            local = nil
            directory = nil
            arguments = []
            return
        }
        // A chain of its own: fresh keys, four writers, written to a temporary folder.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qbc-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let admin = SigningKey()
        writers = (0..<4).map { _ in SigningKey() }
        try Files.writeSecret(KeyFile.plaintext(admin), to: dir + "/admin.key", replace: false)
        var members: [[String: Any]] = [["key": admin.publicKey.hex, "roles": ["admin", "node", "authority"]]]
        members += writers.map { ["key": $0.publicKey.hex, "roles": ["writer"]] }
        let config: [String: Any] = [
            "node": ["key": dir + "/admin.key", "mempoolCapacity": max(capacity, 1000)],
            "leap": ["intervalMilliseconds": 0],
            "chain": ["name": "bench", "consensus": ["engine": "pow", "difficultyBits": Int(difficulty)],
                      "bangCreatorKey": dir + "/admin.key", "members": members,
                      "limits": ["maxTransactionsPerQuant": 10_000]],
        ]
        try Files.write(Array(try JSONSerialization.data(withJSONObject: config)), to: dir + "/bench.json")
        arguments = ["--config", dir + "/bench.json", "--log-level", "warning"]
        local = try LocalNode(executable: executable, dataDirectory: dir + "/data", arguments: arguments)
        url = local?.url ?? ""
        directory = dir
    }

    /// Stops the node and starts it again on the same data; prints the time until `/health` answers.
    func timeRestart() async throws {
        guard let local, let directory else { return }
        local.stop()
        let start = DispatchTime.now().uptimeNanoseconds
        let again = try LocalNode(executable: executable, dataDirectory: directory + "/data", arguments: arguments)
        let client = NodeClient(baseURL: again.url)
        while !(await client.isHealthy()) { try await Task.sleep(for: .milliseconds(5)) }
        let seconds = BenchNode.seconds(since: start)
        let stats = try await client.stats()
        print("restart to serving: \(String(format: "%.3f", seconds)) s with \(stats.transactions) transactions stored; RSS after restart \((again.residentBytes ?? 0) / (1024 * 1024)) MiB")
        again.stop()
    }
}
