import QBCCore
import QBCCrypto
import QBCNode
import Testing

@Suite struct PeerBookTests {
    /// `GET /peers` reads these: reachable until a call fails, backing off until the retry time,
    /// banned past the ban score; when each last answered.
    @Test func statusesFollowAnswersFailuresAndBans() {
        let start = Timestamp(milliseconds: 1_800_000_000_000)
        let (a, b, c) = (SigningKey(), SigningKey(), SigningKey())
        var book = PeerBook()
        for key in [a, b, c] {
            book.admit(Registration(key: key, address: "http://127.0.0.1:1", chains: [Hash.blake2b([1])], timestamp: start))
        }
        book.succeeded(a.publicKey, now: start)
        book.failed(b.publicKey, now: start)
        _ = book.penalize(c.publicKey, points: PeerBook.banScore, now: start)
        let statuses = Dictionary(uniqueKeysWithValues: book.statuses(now: start).map { ($0.peer.registration.node, $0) })
        #expect(statuses[a.publicKey]?.state == "reachable")
        #expect(statuses[a.publicKey]?.peer.lastAnswered == start)
        #expect(statuses[b.publicKey]?.state == "backing_off")
        #expect(statuses[b.publicKey]?.peer.lastAnswered == nil)
        #expect(statuses[c.publicKey]?.state == "banned")
        let later = Timestamp(milliseconds: start.milliseconds + 2_000)
        #expect(book.statuses(now: later).first { $0.peer.registration.node == b.publicKey }?.state == "reachable", "its back-off ended")
    }
}
