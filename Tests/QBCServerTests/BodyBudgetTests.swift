@testable import QBCServer
import Testing

/// The request-body budget on its own (D77).
@Suite struct BodyBudgetTests {
    /// A body refused for want of room gives back what it held in the same step: another body
    /// from the same address, growing at the same time, takes the room at once (three 60 MiB
    /// bodies from one address refused two where one was enough).
    @Test func aRefusedBodyGivesItsShareBackAtOnce() {
        let budget = BodyBudget(limit: 400)  // 200 per address
        let first = BodyLease(budget: budget, source: "a")
        let second = BodyLease(budget: budget, source: "a")
        #expect(first.take(100) && second.take(90))
        #expect(!first.take(20), "past the address's share")
        #expect(budget.inUse == 90, "the refused body's 100 are back: \(budget.inUse)")
        #expect(second.take(100), "the other body grows into them")
        first.settle()
        #expect(budget.inUse == 190, "settling the refused lease gives nothing twice")
        second.settle()
        #expect(budget.inUse == 0)
        #expect(BodyLease(budget: budget, source: "a").take(200), "the whole share is free again")
    }
}
