import QBCTestSupport
import QBCNode
import Testing

@Suite struct CheckQueueTests {
    /// One slot; one address floods. Another address's request gets the turn after the one
    /// running, not after the flood; the flood's extra requests are turned away at once.
    @Test func turnsGoInOrderOfArrivalWithOneWaiterPerAddress() async throws {
        // Patience far beyond the test: giving up is `aWaiterGivesUpAfterItsPatience`'s subject.
        let queue = CheckQueue(slots: 1, maxWaiting: 8, patience: .seconds(120))
        #expect(await queue.enter(source: "flood"), "the free slot")
        let order = Locked<[String]>([])
        let flooder = Task { () -> Bool in
            let turn = await queue.enter(source: "flood")
            order.withValue { $0.append("flood") }
            return turn
        }
        try await Self.until { queue.waitingCount == 1 }
        #expect(await queue.enter(source: "flood") == false, "one waiter per address")
        let honest = Task { () -> Bool in
            let turn = await queue.enter(source: "reader")
            order.withValue { $0.append("reader") }
            return turn
        }
        try await Self.until { queue.waitingCount == 2 }
        queue.leave()
        #expect(await flooder.value, "the flood's waiter, first in line")
        queue.leave()
        #expect(await honest.value, "the reader next, not after more of the flood")
        #expect(order.value == ["flood", "reader"])
        queue.leave()
        #expect(await queue.enter(source: "anyone"), "the slot is free again")
    }

    /// Waits until the tasks started have queued (on a loaded machine a fixed pause may not do).
    static func until(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        try #require(condition(), "the waiters queued")
    }

    @Test func aWaiterGivesUpAfterItsPatience() async {
        let queue = CheckQueue(slots: 1, maxWaiting: 8, patience: .milliseconds(100))
        #expect(await queue.enter(source: "a"))
        #expect(await queue.enter(source: "b") == false, "no turn within 100 ms")
        queue.leave()
        #expect(await queue.enter(source: "b"), "the slot was not lost to the waiter that left")
    }
}
