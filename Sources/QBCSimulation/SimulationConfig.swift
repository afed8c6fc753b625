/// What a simulation runs: how many nodes, which engine, which faults, for how long.
public struct SimulationConfig: Sendable {
    public enum Store: Sendable, Equatable {
        /// `MemoryBlockStore`: what a committed database transaction keeps, in memory.
        case memory
        /// Real SQLite files in this folder, one subfolder per node, on the calling thread.
        case sqlite(directory: String)
    }

    public var nodes = 4
    /// "pow" or "poa".
    public var engine = "poa"
    public var faults = Faults.all
    /// Simulated milliseconds of load and faults, then of quiet (healed, no load) before the checks.
    public var activeMilliseconds: UInt64 = 120_000
    public var quietMilliseconds: UInt64 = 120_000
    public var store = Store.memory
    /// Client transactions per simulated second, spread over the nodes.
    public var transactionsPerSecond = 4.0
    /// Trace lines kept for the report (the digest covers them all).
    public var traceLines = 60

    public init() {}
}

/// The faults a run suffers. Each is drawn from the seed.
public struct Faults: OptionSet, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Requests and answers lost (the caller times out).
    public static let loss = Faults(rawValue: 1 << 0)
    /// Pushes delivered twice.
    public static let duplication = Faults(rawValue: 1 << 1)
    /// Latency that varies per message, so messages overtake each other.
    public static let reordering = Faults(rawValue: 1 << 2)
    /// The nodes split into groups that cannot reach each other, healing later.
    public static let partitions = Faults(rawValue: 1 << 3)
    /// A node stops at an instant (memory lost, store kept) and starts again later.
    public static let crashes = Faults(rawValue: 1 << 4)
    /// A peer with the node role (and under proof of authority an authority key) that forges,
    /// equivocates, replays, withholds and lies about its tip.
    public static let byzantine = Faults(rawValue: 1 << 5)
    /// Node clocks a few hundred milliseconds apart.
    public static let skew = Faults(rawValue: 1 << 6)

    public static let all: Faults = [.loss, .duplication, .reordering, .partitions, .crashes, .byzantine, .skew]
    public static let names: [(String, Faults)] = [
        ("loss", .loss), ("dup", .duplication), ("reorder", .reordering), ("partition", .partitions), ("crash", .crashes),
        ("byzantine", .byzantine), ("skew", .skew),
    ]

    /// "all", "none", or names joined by commas (loss,dup,reorder,partition,crash,byzantine,skew).
    public init?(parsing text: String) {
        if text == "all" {
            self = .all
            return
        }
        if text == "none" || text.isEmpty {
            self = []
            return
        }
        var faults = Faults()
        for name in text.split(separator: ",") {
            guard let fault = Self.names.first(where: { $0.0 == name })?.1 else { return nil }
            faults.insert(fault)
        }
        self = faults
    }

    public var description: String {
        let names = Self.names.filter { contains($0.1) }.map(\.0)
        return names.isEmpty ? "none" : names.joined(separator: ",")
    }
}

/// What a run did and whether every invariant held.
public struct SimulationReport: Sendable {
    public let seed: UInt64
    public let config: SimulationConfig
    /// The first invariant broken, or nil.
    public let violation: String?
    /// Digest of the whole trace: equal for two runs of one seed.
    public let traceDigest: String
    /// The last lines of the trace.
    public let traceTail: [String]
    public let stats: [String: Int]
    /// Simulated milliseconds covered, and the scheduler's jobs.
    public let simulatedMilliseconds: UInt64
    public let jobs: Int

    public var passed: Bool { violation == nil }
}
