import NIOCore
import NIOEmbedded
@testable import QBCServer
import Testing

/// The answer budget's choice of connections to close (D85), on the table itself.
@Suite struct AnswerBudgetTests {
    /// A connection closed for the budget gives its bytes back only as its writes fail; until
    /// then they count as gone. They counted as held, so every write in between closed one more
    /// connection (the review: 2 of 24 closed where 1 was enough).
    @Test func bytesOfAConnectionClosedAlreadyCountAsGone() throws {
        let table = ConnectionTable(limits: ConnectionLimits(
            maximum: 10, headTimeout: .seconds(15), bodyPause: .seconds(10), queuedAnswerBytes: 100))
        let channels = try (0..<3).map { _ in
            let channel = EmbeddedChannel()
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            table.opened(channel)
            return channel
        }
        table.queued(channels[0], bytes: 60)
        table.queued(channels[1], bytes: 30)
        table.queued(channels[2], bytes: 20)
        #expect(channels.map(\.isActive) == [false, true, true], "past the budget, the connection holding the most is closed")
        table.queued(channels[2], bytes: 1)
        table.queued(channels[1], bytes: 0)
        #expect(channels.map(\.isActive) == [false, true, true], "and no other while its bytes are on their way back")
        table.taken(channels[0], bytes: 60)
        table.closed(channels[0])
        #expect(table.queuedBytes == 51)
        table.queued(channels[1], bytes: 50)
        #expect(channels.map(\.isActive) == [false, false, true], "the next time the budget is passed, the next is closed")
    }
}
