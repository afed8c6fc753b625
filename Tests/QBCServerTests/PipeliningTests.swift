import Foundation
import QBCHarness
import QBCTestSupport
import Testing

/// A client that pipelines requests and never reads the answers used to make the node read on
/// and hold every request it sent: about 6 MB per connection. A connection now holds at most
/// 256 unanswered requests; past them the rest are dropped, the answers owed are written, and the
/// connection ends. (What such clients cost the node's memory is measured by `qbc bench flood`:
/// in a debug build the growth is too slow to tell one from the other within a test.)
extension ConnectionFloodTests {
    static let health = Array("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".utf8)

    @Test func aPipelinedBurstGetsTheFirst256AnswersThenTheConnectionEnds() async throws {
        let t = try await TestNode()
        let port = t.node.port
        // A client that pipelines within the limit gets every answer, and keeps its connection.
        let (within, open) = await onOwnThread { () -> (Int, Bool) in
            guard let fd = Self.idleConnections(to: port, count: 1).first else { return (0, false) }
            defer { close(fd) }
            var answers = 0
            for _ in 0..<3 {
                let requests = [UInt8]((0..<200).map { _ in Self.health }.joined())
                _ = send(fd, requests, requests.count, Int32(MSG_NOSIGNAL))
                var received = [UInt8]()
                var buffer = [UInt8](repeating: 0, count: 65536)
                while Self.count("HTTP/1.1 200", in: received) < 200 {
                    var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&descriptor, 1, 10_000) > 0 else { break }
                    let read = recv(fd, &buffer, buffer.count, 0)
                    guard read > 0 else { break }
                    received += buffer.prefix(read)
                }
                answers += Self.count("HTTP/1.1 200", in: received)
            }
            return (answers, !Self.isGone(fd, within: 500))
        }
        #expect(within == 600, "three bursts of 200 pipelined requests were all answered")
        #expect(open, "and the connection stayed open")
        let (answers, ended) = await onOwnThread { () -> (Int, Bool) in
            guard let fd = LoopbackConnection.open(to: port, receiveBuffer: 8192) else { return (0, false) }
            defer { close(fd) }
            // 20,000 requests arrive far faster than a node answers them; all are sent before
            // any answer is read, as a client that does not read would. Then the client reads
            // slowly (about 4 KB an answer, 8 KB every 30 ms): ending the connection while the
            // requests it dropped were still unread used to reset it, and the reset cut off answers
            // the client had not read yet.
            let metrics = Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            let burst = [UInt8]((0..<20_000).map { _ in metrics }.joined())
            var sent = 0
            while sent < burst.count {
                let wrote = burst[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard wrote > 0 else { break }
                sent += wrote
            }
            var received = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 8192)
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 1_000) > 0 else { continue }
                let read = recv(fd, &buffer, buffer.count, 0)
                // End of file is a clean end; an error (a reset) is not.
                guard read > 0 else { return (Self.count("HTTP/1.1 200", in: received), read == 0) }
                received += buffer.prefix(read)
                usleep(30_000)
            }
            return (Self.count("HTTP/1.1 200", in: received), false)
        }
        // The node reads one buffer per connection per turn of its event loop, so it may answer
        // a few of the first requests between its first (small) reads, before 256 are waiting.
        #expect((256...288).contains(answers), "the first 256 requests waiting were answered, the rest dropped: \(answers)")
        #expect(ended, "the connection ended cleanly after the answers owed, not with a reset")
        #expect(await t.client.answersHealth(), "the node answers a new connection")
    }

    /// A connection in its graceful end has written all it owes: a full table closes it before a
    /// client's idle keep-alive connection (it ranked as the youngest idle one, so went last).
    @Test func aFullTableClosesConnectionsThatAreEndingFirst() async throws {
        let t = try await TestNode(environment: ["QBC_MAX_CONNECTIONS": "16"])
        let port = t.node.port
        let (idleLeft, newcomersOpen) = await onOwnThread { () -> (Int, Int) in
            let idle = Self.idleConnections(to: port, count: 10)
            defer { for fd in idle { close(fd) } }
            // Six clients pipeline past the limit and read nothing: each ends, holding its answers.
            let ending = Self.idleConnections(to: port, count: 6)
            defer { for fd in ending { close(fd) } }
            let burst = [UInt8]((0..<300).map { _ in Self.health }.joined())
            for fd in ending { _ = send(fd, burst, burst.count, Int32(MSG_NOSIGNAL)) }
            usleep(1_000_000)
            let newcomers = Self.idleConnections(to: port, count: 5)
            defer { for fd in newcomers { close(fd) } }
            usleep(500_000)
            return (idle.filter { !Self.isGone($0) }.count, newcomers.filter { !Self.isGone($0) }.count)
        }
        // (The ending connections end by themselves too, so whether they went says nothing.)
        #expect(idleLeft == 10, "the idle clients kept their connections: \(idleLeft) of 10")
        #expect(newcomersOpen == 5, "and the newcomers got theirs")
    }

    static func count(_ text: String, in bytes: [UInt8]) -> Int {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: text).count - 1
    }
}
