import QBCCore
@testable import QBCNode
import QBCTestSupport
import Testing

@Suite struct ParallelVerifierTests {
    /// Pieces are claimed by whichever verifier thread is free: every flag must still land at
    /// its own transaction, at piece edges too, for any number of threads.
    @Test func flagsStayInOrderWhateverThreadChecksWhichPiece() async throws {
        var chain = ChainBuilder()
        let good = (0..<1_000).map { chain.transaction("\($0)") }
        // Piece edges for 1,000 over 2 threads (62 a piece), the ends, and a run.
        let bad: Set<Int> = [0, 61, 62, 63, 123, 124, 500, 501, 502, 998, 999]
        let txs = try good.enumerated().map { index, tx in
            guard bad.contains(index) else { return tx }
            var bytes = tx.encoded
            bytes[bytes.count - 1] ^= 0x01
            return try Transaction(decoding: bytes, limits: .standard)
        }
        let expected = txs.indices.map { !bad.contains($0) }
        for threads in [0, 1, 2, 3, 8] {
            #expect(await ParallelVerifier.verify(txs, threads: threads) == expected, "\(threads) threads")
        }
        #expect(await ParallelVerifier.verify(Array(txs.prefix(63)), threads: 2) == Array(expected.prefix(63)), "inline below 64")
    }

    /// Sync verifies signatures ahead only for the leading Quants whose root holds, and `receive`
    /// takes those roots as checked (D73): a Quant whose transactions do not match its root (all
    /// signatures valid) ends the prefix, so it is checked in full and refused.
    @Test func onlyQuantsWhoseRootHoldsAreVerifiedAhead() {
        var chain = ChainBuilder()
        let first = chain.quant((0..<3).map { chain.transaction("a\($0)") }, parent: nil)
        let txs = (0..<3).map { chain.transaction("b\($0)") }
        let honest = chain.quant(txs, parent: nil)
        let reordered = Quant(header: honest.header, transactions: txs.reversed())
        let last = chain.quant([chain.transaction("c")], parent: nil)
        #expect(NetworkService.plausible([first, honest, last], maxTransactions: 10).count == 3)
        #expect(NetworkService.plausible([first, reordered, last], maxTransactions: 10).count == 1)
        #expect(NetworkService.plausible([reordered, first], maxTransactions: 10).isEmpty)
        let short = Quant(header: honest.header, transactions: Array(txs.prefix(2)))
        #expect(NetworkService.plausible([short], maxTransactions: 10).isEmpty, "the count must match")
        #expect(NetworkService.plausible([honest], maxTransactions: 2).isEmpty, "the size limit holds")
    }

    /// Sync asks for about 10,000 transactions a page, judged by the page before.
    @Test func syncPagesHoldAboutTenThousandTransactions() {
        var chain = ChainBuilder()
        func quants(_ count: Int, of size: Int) -> [Quant] {
            (0..<count).map { _ in chain.quant((0..<size).map { chain.transaction("\($0)") }, parent: nil) }
        }
        #expect(NetworkService.pageLimit(after: quants(1, of: 10_000 / 4)) == 4)
        #expect(NetworkService.pageLimit(after: quants(2, of: 3)) == NetworkService.pageQuants)
        #expect(NetworkService.pageLimit(after: quants(1, of: 12_000)) == 1)
    }
}
