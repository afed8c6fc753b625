import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCWire
import QBCHarness
import Synchronization

/// Nodes a benchmark runs against: nodes of a fresh chain of its own, or an external node.
struct BenchSetup {
    let writers: [SigningKey]
    let directory: String
    let executable: String
    let nodeKeys: [String]
    let config: String
    private(set) var nodes: [LocalNode] = []
    let external: String?

    /// A fresh chain in a temporary folder: one admin, four writers, `nodes` node keys.
    init(
        difficulty: UInt8, capacity: Int, nodes count: Int = 1, consensus: [String: Any]? = nil, leapIntervalMilliseconds: Int = 0,
        maxConnections: Int = 1024
    ) throws {
        executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        external = nil
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("qbc-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        BenchFolders.removeAtExit(directory)
        let admin = SigningKey()
        writers = (0..<4).map { _ in SigningKey() }
        let nodeSigners = (0..<count).map { _ in SigningKey() }
        try Files.writeSecret(KeyFile.plaintext(admin), to: directory + "/admin.key", replace: false)
        var keys = [String]()
        for (index, key) in nodeSigners.enumerated() {
            let path = directory + "/node\(index + 1).key"
            try Files.writeSecret(KeyFile.plaintext(key), to: path, replace: false)
            keys.append(path)
        }
        nodeKeys = keys
        var members: [[String: Any]] = [["key": admin.publicKey.hex, "roles": ["admin"]]]
        members += nodeSigners.map { ["key": $0.publicKey.hex, "roles": ["node", "authority"]] }
        members += writers.map { ["key": $0.publicKey.hex, "roles": ["writer"]] }
        let settings: [String: Any] = [
            "node": ["mempoolCapacity": max(capacity, 1000), "maxConnections": maxConnections],
            "leap": ["intervalMilliseconds": leapIntervalMilliseconds],
            "chain": ["name": "bench", "consensus": consensus ?? ["engine": "pow", "difficultyBits": Int(difficulty)],
                      "bangCreatorKey": directory + "/admin.key", "bangTimestamp": Timestamp.now().milliseconds,
                      "members": members, "limits": ["maxTransactionsPerQuant": 10_000]],
        ]
        config = directory + "/bench.json"
        try Files.write(Array(try JSONSerialization.data(withJSONObject: settings)), to: config)
    }

    /// An already running node, with a writer key of its default chain.
    init(external url: String, keyPath: String) throws {
        let bytes = try Files.read(keyPath, limit: 64 * 1024)
        do { writers = [try KeyFile.open(bytes, passphrase: nil)] } catch { throw CLIError("\(keyPath): \(error)") }
        external = url
        directory = ""
        executable = ""
        nodeKeys = []
        config = ""
    }

    var url: String { external ?? nodes.first?.url ?? "" }

    /// Starts node `index` (0-based) of the benchmark chain, registering with `peers`.
    @discardableResult
    mutating func start(_ index: Int, peers: [String] = []) throws -> LocalNode {
        let node = try LocalNode(
            executable: executable, dataDirectory: directory + "/data\(index + 1)", arguments: arguments(index, peers: peers))
        if index < nodes.count { nodes[index] = node } else { nodes.append(node) }
        return node
    }

    func arguments(_ index: Int, peers: [String]) -> [String] {
        ["--config", config, "--key", nodeKeys[index], "--log-level", "warning"] + peers.flatMap { ["--peer", $0] }
    }

    /// Waits until the nodes this setup started have together used at most 1 ms of CPU in 100 ms
    /// (work they do after answering, such as writing held ids to the index), at most 3 s: the
    /// raw figure measured after a run must not share the cores with it.
    func waitUntilIdle() async {
        func used() -> Int { nodes.reduce(0) { $0 + ($1.cpuNanoseconds ?? 0) } }
        var before = used()
        for _ in 0..<30 {
            try? await Task.sleep(for: .milliseconds(100))
            let now = used()
            if now - before <= 1_000_000 { return }
            before = now
        }
    }

    /// Stops node 0 and starts it again on the same data; prints the time until `/health` answers.
    mutating func timeRestart() async throws {
        guard external == nil, let first = nodes.first else { return }
        first.stop()
        let start = DispatchTime.now().uptimeNanoseconds
        let again = try self.start(0)
        let client = NodeClient(baseURL: again.url)
        while !(await client.isHealthy()) { try await Task.sleep(for: .milliseconds(5)) }
        let seconds = BenchNode.seconds(since: start)
        let stats = try await client.stats()
        print("restart to serving: \(String(format: "%.3f", seconds)) s with \(stats.transactions) transactions stored; RSS after restart \((again.residentBytes ?? 0) / (1024 * 1024)) MiB")
    }
}

/// Benchmark folders, removed when the process exits: a chain of 100,000 transactions takes
/// about 400 MB on disk. Not sooner, because a node started on one may outlive its setup's last
/// use; by exit every node is gone (a `LocalNode` kills its process when released).
/// `QBC_BENCH_KEEP=1` keeps them, and says where, for reading the nodes' logs.
enum BenchFolders {
    private static let made = Mutex<[String]>([])

    static func removeAtExit(_ path: String) {
        let first = made.withLock { folders in
            folders.append(path)
            return folders.count == 1
        }
        if first { atexit { BenchFolders.removeAll() } }
    }

    private static func removeAll() {
        let folders = made.withLock { $0 }
        let keep = ProcessInfo.processInfo.environment["QBC_BENCH_KEEP"] == "1"
        for folder in folders {
            if keep {
                FileHandle.standardError.write(Data("benchmark folder kept: \(folder)\n".utf8))
            } else {
                try? FileManager.default.removeItem(atPath: folder)
            }
        }
    }
}
