import DequeModule
import Foundation
import HeapModule
import QBCCore
import QBCNode
import Synchronization

/// Runs every task of a simulation on one thread, one job at a time, in the order they became
/// runnable, on a virtual clock: when nothing can run, time jumps to the next timer. With every
/// source of nondeterminism behind a seam, one seed replays a run exactly (FoundationDB's and
/// TigerBeetle's simulators work the same way).
///
/// Tasks join it through `Task(executorPreference:)`; their child tasks and every default actor
/// they call run here too. A job enqueued from another thread would make a run irreproducible:
/// such jobs are counted (`foreignJobs`) and a run with any fails.
public final class SimulationScheduler: TaskExecutor, @unchecked Sendable {
    private struct Timer: Comparable {
        let deadline: UInt64
        let sequence: UInt64
        static func < (a: Timer, b: Timer) -> Bool { (a.deadline, a.sequence) < (b.deadline, b.sequence) }
    }

    private struct State {
        var jobs = Deque<UnownedJob>()
        var timers = Heap<Timer>()
        var waiting: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var sequence: UInt64 = 0
        var now: UInt64
    }

    private let state: Mutex<State>
    private let owner = Mutex<pthread_t?>(nil)
    private let foreign = Atomic<Int>(0)
    /// Jobs run so far.
    public private(set) var jobsRun = 0

    /// Starts the virtual clock at `start` (milliseconds since the epoch).
    public init(start: UInt64) { state = Mutex(State(now: start)) }

    /// The virtual time, in milliseconds since the epoch.
    public var now: UInt64 { state.withLock { $0.now } }
    /// Jobs enqueued from a thread other than the one running the simulation.
    public var foreignJobs: Int { foreign.load(ordering: .relaxed) }

    public func enqueue(_ job: consuming ExecutorJob) {
        if let owner = owner.withLock({ $0 }), pthread_equal(owner, pthread_self()) == 0 {
            foreign.add(1, ordering: .relaxed)
            if ProcessInfo.processInfo.environment["QBC_SIM_DEBUG"] != nil { print(Thread.callStackSymbols.joined(separator: "\n")) }
        }
        let unowned = UnownedJob(job)
        state.withLock { $0.jobs.append(unowned) }
    }

    /// Suspends the calling task until the virtual clock reaches `now + milliseconds`. A cancelled
    /// task is resumed at once with `CancellationError`.
    func sleep(milliseconds: UInt64) async throws {
        let id = state.withLock { s in
            s.sequence += 1
            return s.sequence
        }
        try Task.checkCancellation()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                state.withLock { s in
                    s.waiting[id] = continuation
                    s.timers.insert(Timer(deadline: s.now + milliseconds, sequence: id))
                }
            }
        } onCancel: {
            let continuation = state.withLock { $0.waiting.removeValue(forKey: id) }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Runs jobs and fires timers until the clock would pass `deadline` or nothing is left to do.
    public func run(until deadline: UInt64) {
        owner.withLock { $0 = pthread_self() }
        while true {
            while let job = state.withLock({ $0.jobs.popFirst() }) {
                job.runSynchronously(on: asUnownedTaskExecutor())
                jobsRun += 1
            }
            let fired: CheckedContinuation<Void, any Error>?? = state.withLock { s in
                guard let next = s.timers.min, next.deadline <= deadline else {
                    s.now = max(s.now, deadline)
                    return nil
                }
                s.timers.removeMin()
                s.now = max(s.now, next.deadline)
                return .some(s.waiting.removeValue(forKey: next.sequence))
            }
            guard let timer = fired else { return }
            // A timer whose task was cancelled meanwhile has nothing to resume.
            timer?.resume()
        }
    }
}

/// A node's clock in the simulation: the scheduler's virtual time, shifted by the node's skew.
struct SimulatedClock: NodeClock {
    let scheduler: SimulationScheduler
    let skew: Int64

    func now() -> Timestamp { Timestamp(milliseconds: UInt64(Int64(scheduler.now) + skew)) }

    func sleep(for duration: Duration) async throws {
        let (seconds, attoseconds) = duration.components
        try await scheduler.sleep(milliseconds: UInt64(max(0, seconds)) * 1000 + UInt64(max(0, attoseconds)) / 1_000_000_000_000_000)
    }
}
