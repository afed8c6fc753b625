import Synchronization

/// Tells every waiting subscriber that a chain's committed history changed (a commit, a fork
/// switch, a rollback); they then read what changed from the store. Each subscriber holds one
/// pending wake-up at most, so a burst of commits costs it one.
public final class ChainSignal: Sendable {
    private let subscribers = Mutex<(next: Int, all: [Int: AsyncStream<Void>.Continuation])>((0, [:]))

    public init() {}

    /// A subscriber's wake-ups: after each change (coalesced), every `heartbeat` so a reader can
    /// send keep-alives, and whenever `wake` is called (a shutdown). The stream ends when the
    /// reader stops iterating.
    public struct Subscription: Sendable {
        public let wakeups: AsyncStream<Void>
        public let wake: @Sendable () -> Void
    }

    public func subscribe(heartbeat: Duration) -> Subscription {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = subscribers.withLock { state -> Int in
            state.next += 1
            state.all[state.next] = continuation
            return state.next
        }
        let beat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                continuation.yield()
            }
        }
        continuation.onTermination = { [weak self] _ in
            beat.cancel()
            _ = self?.subscribers.withLock { $0.all.removeValue(forKey: id) }
        }
        return Subscription(wakeups: stream, wake: { continuation.yield() })
    }

    public var subscriberCount: Int { subscribers.withLock { $0.all.count } }

    func notify() {
        for continuation in subscribers.withLock({ Array($0.all.values) }) { continuation.yield() }
    }
}
