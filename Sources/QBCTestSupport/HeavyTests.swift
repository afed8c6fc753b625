import Synchronization

/// Tests that each load the whole machine (a browser, a thousand streams, a quarter GiB of
/// request bodies) take turns: on two cores, two of them at once, beside the rest of the parallel
/// suite, starved a node or the test process for tens of seconds (CI runs of 2026-11-27). Each
/// still runs beside the lighter tests, so the suite stays as parallel as before otherwise.
public enum HeavyTests {
    private static let state = Mutex<(busy: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    /// Runs `body` when no other heavy test runs.
    public static func oneAtATime<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.busy {
                    s.waiting.append(continuation)
                    return false
                }
                s.busy = true
                return true
            }
            if now { continuation.resume() }
        }
        defer {
            let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
                if s.waiting.isEmpty {
                    s.busy = false
                    return nil
                }
                return s.waiting.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}
