import Foundation
public import Logging
public import QBCCore

/// Where a node's services read the time and wait. The node never reads a clock or sleeps any
/// other way, so the simulator can run many nodes on one virtual clock and replay them exactly.
public protocol NodeClock: Sendable {
    func now() -> Timestamp
    /// Suspends for `duration`; throws when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The machine's clock.
public struct SystemClock: NodeClock {
    public init() {}

    public func now() -> Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Timestamp(milliseconds: UInt64(max(0, time.tv_sec)) * 1000 + UInt64(max(0, time.tv_nsec)) / 1_000_000)
    }

    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

/// What a node's services take from outside besides the network and the disk.
public struct NodeEnvironment: Sendable {
    public var clock: any NodeClock
    /// Proof-of-work searches: on this many Dispatch threads (the node), or inline on the caller's
    /// thread with 0 (the simulator, where one thread runs everything in order).
    public var sealingThreads: Int
    /// Signature checks of large batches run on this many Dispatch threads, off the Swift
    /// concurrency pool so request handlers keep answering; inline with 0 (the simulator).
    public var verifierThreads: Int
    public var logger: Logger
    /// Told what each chain commits, drops and detects (the simulator's invariants; nil on a node).
    public var observer: (any ChainObserver)?
    /// How often every chain asks its peers for their tips (`network.syncIntervalMilliseconds`). A
    /// peer met for the first time is asked at once, whatever this is.
    public var syncInterval: Duration = .seconds(1)
    /// The bytes every chain's mempool on this node may hold together (`node.mempoolBytes`).
    public var mempoolBudget = MempoolBudget()

    public init(
        clock: any NodeClock = SystemClock(), sealingThreads: Int, verifierThreads: Int, logger: Logger,
        observer: (any ChainObserver)? = nil
    ) {
        self.clock = clock
        self.sealingThreads = sealingThreads
        self.verifierThreads = max(0, verifierThreads)
        self.logger = logger
        self.observer = observer
    }
}

/// Why a waiting transaction left the mempool without being committed.
public enum DropReason: String, Sendable {
    /// Its sender no longer holds the role it needs (governance removed it).
    case removedRole = "removed_role"
    /// A membership change that no longer holds at the tip (applied already, or overtaken).
    case staleChange = "stale_change"
    /// Larger than any Quant of its chain may be (admitted by a version that did not check).
    case tooLarge = "too_large"
}

/// Hears what a chain does, synchronously on the chain's commit path. For the simulator's
/// invariants; a node runs without one.
public protocol ChainObserver: Sendable {
    func committed(_ quant: Quant, on chain: ChainID)
    func switched(chain: ChainID, ancestor: UInt64, to branch: [Quant], orphaned: [TransactionID])
    func dropped(_ ids: [TransactionID], on chain: ChainID, reason: DropReason)
    func detected(_ evidence: Equivocation)
}
