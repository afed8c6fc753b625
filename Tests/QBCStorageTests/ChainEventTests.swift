import QBCCore
import QBCStorage
import QBCTestSupport
import Testing

@Suite struct ChainEventTests {
    /// A commit writes a connected event's entries straight from the Quant's transactions: the
    /// bytes must be those of the entries, which fork switches and readers decode.
    @Test func entriesWrittenFromTransactionsAreTheEntriesBytes() throws {
        var chain = ChainBuilder()
        let txs = (0..<40).map { index in
            chain.transaction("\(index)", by: index % 3 == 0 ? chain.node : nil, contentType: index % 2 == 0 ? "text/plain" : "application/x.long-content-type+json")
        }
        let entries = txs.map(ChainEvent.Entry.init)
        #expect(ChainEvent.encode(txs) == ChainEvent.encode(entries))
        #expect(try ChainEvent.decode(ChainEvent.encode(txs)) == entries)
        #expect(ChainEvent.encode([Transaction]()).isEmpty)
    }
}
