import Synchronization

/// The one way onto a chain's write side: Leaps, received Quants and fork switches each hold the
/// gate for the whole of their check-and-commit, and wait their turn in arrival order. Leaving is
/// tied to a scope (`defer`), so no path can forget it.
///
/// A holder that may take long (a proof-of-work search) registers an interrupt; a waiter that
/// must not wait for it (a peer's Quant) calls it on arrival, and again when the holder takes over
/// while such waiters are queued.
final class CommitGate: Sendable {
    private struct Waiter {
        let resume: CheckedContinuation<Void, Never>
        let onInterrupt: (@Sendable () -> Void)?
        let interrupting: Bool
        let purpose: String
    }

    private struct State {
        var held = false
        var onInterrupt: (@Sendable () -> Void)?
        var waiters: [Waiter] = []
        /// What holds the gate now (for diagnostics).
        var purpose = ""
    }

    private let state = Mutex(State())

    /// Waits for the gate. `onInterrupt` is how the caller is asked to finish early while it holds
    /// it; `interrupting` asks the current holder to do so.
    func enter(_ purpose: String, onInterrupt: (@Sendable () -> Void)? = nil, interrupting: Bool = false) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let interrupt: (@Sendable () -> Void)? = state.withLock { s in
                guard s.held else {
                    s.held = true
                    s.onInterrupt = onInterrupt
                    s.purpose = purpose
                    continuation.resume()
                    return nil
                }
                s.waiters.append(Waiter(resume: continuation, onInterrupt: onInterrupt, interrupting: interrupting, purpose: purpose))
                return interrupting ? s.onInterrupt : nil
            }
            interrupt?()
        }
    }

    /// What holds the gate and how many wait, for diagnostics.
    var occupancy: (holder: String?, waiting: Int) { state.withLock { s in (s.held ? s.purpose : nil, s.waiters.count) } }

    /// Hands the gate to the longest waiter, or opens it.
    func leave() {
        let (next, interrupt): (Waiter?, (@Sendable () -> Void)?) = state.withLock { s in
            guard !s.waiters.isEmpty else {
                s.held = false
                s.onInterrupt = nil
                s.purpose = ""
                return (nil, nil)
            }
            let next = s.waiters.removeFirst()
            s.onInterrupt = next.onInterrupt
            s.purpose = next.purpose
            return (next, s.waiters.contains(where: \.interrupting) ? next.onInterrupt : nil)
        }
        next?.resume.resume()
        interrupt?()
    }
}

/// At most one Leap per chain at a time; a second one is told the chain is busy.
final class LeapSlot: Sendable {
    private let taken = Atomic<Bool>(false)

    func take() -> Bool { taken.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged }
    func release() { taken.store(false, ordering: .releasing) }
}
