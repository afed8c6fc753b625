import Synchronization

/// Bytes of the transactions waiting in all of a node's mempools, held to one limit
/// (`node.mempoolBytes`). A mempool's count cap alone let a writer fill a node's memory with
/// large transactions: 200,000 of 64 KiB is 13 GB. New transactions are refused once the limit
/// is reached (503 `mempool_full`); transactions admitted once (reloaded at start, or handed
/// back by a fork switch) are always taken back, past it if need be, so nothing admitted is lost.
/// Chains admit concurrently, so the total may pass the limit by a transaction per chain.
public final class MempoolBudget: Sendable {
    public let limit: Int
    private let held = Atomic<Int>(0)

    public init(limit: Int = .max) { self.limit = max(0, limit) }

    /// Bytes waiting now, over every chain.
    public var bytes: Int { held.load(ordering: .relaxed) }

    /// Whether a transaction of `size` bytes may be admitted now.
    func hasRoom(for size: Int) -> Bool { size <= limit && bytes <= limit - size }

    func add(_ delta: Int) { held.wrappingAdd(delta, ordering: .relaxed) }
}
