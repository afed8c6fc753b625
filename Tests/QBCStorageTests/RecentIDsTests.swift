@testable import QBCSQLiteStore
import Testing

/// The held ids' bookkeeping on its own (storage.md, "Recent ids").
@Suite struct RecentIDsTests {
    /// A flush of their own that failed is tried again a quarter of a run later, not after every
    /// write; one that succeeds starts the count over.
    @Test func aFailedFlushIsTriedAgainAQuarterOfARunLater() {
        let recent = RecentIDs(flushAt: 8)
        var next: UInt8 = 0
        func add(_ count: Int) {
            for _ in 0..<count {
                next += 1
                recent.stage([UInt8](repeating: next, count: 32), recent.newNumber())
            }
            recent.commitStaged()
        }
        add(8)
        #expect(recent.flushDue)
        recent.flushFailed()
        #expect(!recent.flushDue, "not again at once")
        add(1)
        #expect(!recent.flushDue)
        add(1)
        #expect(recent.flushDue, "a quarter of a run (2) later")
        _ = recent.takeForFlush()
        recent.commitStaged()
        #expect(!recent.flushDue)
        add(8)
        #expect(recent.flushDue, "after a flush that took effect, at the run's size again")
        #expect(!recent.flushOverdue)
        add(8)
        #expect(recent.flushOverdue, "at twice the run a write flushes itself")
    }
}
