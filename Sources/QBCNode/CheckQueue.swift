import Synchronization

/// Anonymous proof checks, a few at a time and fairly among callers. A check costs 2n scalar
/// multiplications and anyone with a free challenge can ask for one, so checks are capped; a
/// caller waits briefly for a turn, turns go to callers in the order they came, and one address
/// waits with at most one request, so a flood from one address delays another's read by about
/// one check (locks.md, "Costs and bounds").
public final class CheckQueue: Sendable {
    private struct Waiter {
        let id: UInt64
        let source: String
        let resume: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var free: Int
        var waiting: [Waiter] = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>
    public let maxWaiting: Int
    public let patience: Duration

    public init(slots: Int, maxWaiting: Int = 64, patience: Duration = .seconds(2)) {
        state = Mutex(State(free: max(1, slots)))
        self.maxWaiting = maxWaiting
        self.patience = patience
    }

    /// Callers waiting for a turn now.
    public var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// True with a turn held (call `leave()` after the check); false when `source` already
    /// waits, too many wait, or no turn came within `patience`.
    public func enter(source: String) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let queued: UInt64? = state.withLock { s in
                if s.free > 0 {
                    s.free -= 1
                    continuation.resume(returning: true)
                    return nil
                }
                guard s.waiting.count < maxWaiting, !s.waiting.contains(where: { $0.source == source }) else {
                    continuation.resume(returning: false)
                    return nil
                }
                s.nextID &+= 1
                s.waiting.append(Waiter(id: s.nextID, source: source, resume: continuation))
                return s.nextID
            }
            guard let queued else { return }
            Task {
                try? await Task.sleep(for: patience)
                self.giveUp(queued)
            }
        }
    }

    /// Hands the turn to the longest waiter, or frees it.
    public func leave() {
        let next: Waiter? = state.withLock { s in
            guard !s.waiting.isEmpty else {
                s.free += 1
                return nil
            }
            return s.waiting.removeFirst()
        }
        next?.resume.resume(returning: true)
    }

    private func giveUp(_ id: UInt64) {
        let waiter: Waiter? = state.withLock { s in
            guard let index = s.waiting.firstIndex(where: { $0.id == id }) else { return nil }
            return s.waiting.remove(at: index)
        }
        waiter?.resume.resume(returning: false)
    }
}
