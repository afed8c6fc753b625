import ArgumentParser
import Foundation
import QBCSimulation

/// `qbc sim`: runs seeds of the deterministic simulation and says which, if any, break an invariant.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run the deterministic network simulation (documentation/simulation.md).",
        discussion: """
            Each seed runs whole nodes in one process over a simulated network and clock, with clients, \
            crashes, partitions and a byzantine peer drawn from the seed, then checks that every node agrees \
            and nothing admitted was lost. A failing seed prints the invariant and the end of its trace, and \
            replays exactly: run it again with --seed.
            """)

    @Option(name: .long, help: "The first seed.") var seed: UInt64 = 1
    @Option(name: .long, help: "How many seeds, from --seed upward.") var seeds: Int = 1
    @Option(name: .long, help: "Honest nodes.") var nodes: Int = 4
    @Option(name: .long, help: "pow, poa, bft, or both (pow and poa alternating by seed).") var engine: String = "both"
    @Option(name: .long, help: "all, none, or some of loss,dup,reorder,partition,crash,byzantine,skew.") var faults: String = "all"
    @Option(name: .long, help: "Simulated seconds of load and faults.") var active: UInt64 = 120
    @Option(name: .long, help: "Simulated seconds of quiet before the checks.") var quiet: UInt64 = 120
    @Option(name: .long, help: "memory, or sqlite (real files in a temporary folder).") var store: String = "memory"
    @Option(name: .long, help: "Client transactions per simulated second.") var rate: Double = 4
    @Flag(name: .long, help: "Print every seed's line, not only failures.") var verbose = false
    @Option(name: .long, help: "Trace lines to print for a failing seed.") var trace: Int = 60

    func validate() throws {
        guard seeds >= 1, (1...64).contains(nodes) else { throw ValidationError("--seeds must be at least 1 and --nodes 1 to 64") }
        guard ["pow", "poa", "bft", "both"].contains(engine) else { throw ValidationError("--engine must be pow, poa, bft or both") }
        guard Faults(parsing: faults) != nil else { throw ValidationError("--faults: unknown fault in \"\(faults)\"") }
        guard ["memory", "sqlite"].contains(store) else { throw ValidationError("--store must be memory or sqlite") }
        guard rate > 0, active >= 1 else { throw ValidationError("--rate and --active must be positive") }
    }

    func run() throws {
        Self.ensureDeterministicHashing()
        var failed = 0
        let started = Date()
        var simulated: UInt64 = 0
        for offset in 0..<seeds {
            let seed = self.seed &+ UInt64(offset)
            var config = SimulationConfig()
            config.nodes = nodes
            config.engine = engine == "both" ? (seed % 2 == 0 ? "pow" : "poa") : engine
            config.faults = Faults(parsing: faults) ?? .all
            config.activeMilliseconds = active * 1000
            config.quietMilliseconds = quiet * 1000
            config.transactionsPerSecond = rate
            config.traceLines = max(1, trace)
            var folder: String?
            if store == "sqlite" {
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("qbc-sim-\(getpid())-\(seed)").path
                folder = path
                config.store = .sqlite(directory: path)
            }
            let report = Simulation.run(seed: seed, config: config)
            if let folder { try? FileManager.default.removeItem(atPath: folder) }
            simulated += report.simulatedMilliseconds
            if report.passed {
                if verbose { print("seed \(seed) \(config.engine): ok \(report.stats.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) trace \(report.traceDigest.prefix(16))") }
            } else {
                failed += 1
                print("seed \(seed) \(config.engine) faults \(config.faults): FAILED \(report.violation ?? "")")
                print("replay: qbc sim --seed \(seed) --nodes \(nodes) --engine \(config.engine) --faults \(config.faults) --active \(active) --quiet \(quiet) --rate \(rate)")
                for line in report.traceTail { print("  \(line)") }
            }
        }
        let seconds = Date().timeIntervalSince(started)
        let nodeSeconds = Double(simulated) / 1000 * Double(nodes)
        print(String(format: "%d of %d seeds passed in %.1f s: %.2f seeds/s, %.0f simulated node-seconds per second", seeds - failed, seeds,
                     seconds, Double(seeds) / seconds, nodeSeconds / seconds))
        if failed > 0 { throw ExitCode.failure }
    }

    /// Swift seeds its hash functions per process; a replay in another process needs them fixed,
    /// so the command runs itself again with SWIFT_DETERMINISTIC_HASHING set.
    static func ensureDeterministicHashing() {
        guard ProcessInfo.processInfo.environment["SWIFT_DETERMINISTIC_HASHING"] == nil else { return }
        setenv("SWIFT_DETERMINISTIC_HASHING", "1", 1)
        let arguments = CommandLine.arguments
        var argv = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &argv)
        // exec failed: go on; this process's hashes still replay within it.
    }
}
