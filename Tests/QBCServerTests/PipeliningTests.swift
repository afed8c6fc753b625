import Foundation
import QBCClient
import QBCHarness
import QBCWire
import QBCTestSupport
import Synchronization
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
        #expect(answers == 256, "the first 256 requests were answered, the rest dropped")
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

    /// A request pipelined behind an answer the client has not read waits until that answer has
    /// reached the kernel (D85): Hummingbird built the next answer at once and held it outside the
    /// answer budget, one per connection (the review: 60 connections, the gauge at 183 MB, RSS at
    /// 886 MB). Seen here by what the answers say: built late, they show a Leap made after they
    /// were asked for.
    @Test func aRequestPipelinedBehindAnUnreadAnswerIsBuiltOnceThatIsRead() async throws {
        let (t, _, client) = try await HTTPEdgeTests.nodeHolding9MB()
        let before = try await client.stats().height
        guard let fd = LoopbackConnection.open(to: t.node.port, receiveBuffer: 4096) else {
            Issue.record("no connection to the node")
            return
        }
        defer { close(fd) }
        // The 11 MB listing, then two requests for the height, all at once; nothing read yet.
        let stats = "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n"
        let requests = "GET /mempool?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n" + stats + stats
        _ = send(fd, requests, requests.utf8.count, Int32(MSG_NOSIGNAL))
        try await Task.sleep(for: .seconds(1))
        #expect(try await client.leap().sealed)
        let text = await onOwnThread { answer(on: fd, within: 10_000, limit: 64 << 20) ?? "" }
        let answers = text.components(separatedBy: "HTTP/1.1 200").dropFirst()
        #expect(answers.count == 3, "three answers, in order: \(text.prefix(300).debugDescription)")
        #expect((answers.first?.count ?? 0) > 11_000_000, "the listing came whole")
        let heights = answers.dropFirst().map { answer in
            answer.components(separatedBy: "\r\n\r\n").last
                .flatMap { try? JSONDecoder().decode(StatsJSON.self, from: Data($0.utf8)).height }
        }
        #expect(heights == [before + 1, before + 1], "both built after the Leap, from height \(before): \(heights)")
    }

    /// What comes behind a held request is held too, but a body only up to 64 KiB: then the node
    /// stops reading that connection until the answer before it has been read, so a client that
    /// pipelines a long body behind an unread answer holds its bytes in its own buffers.
    @Test func aBodyPipelinedBehindAnUnreadAnswerWaitsInTheClientsBuffers() async throws {
        let (t, _, _) = try await HTTPEdgeTests.nodeHolding9MB()
        guard let fd = LoopbackConnection.open(to: t.node.port, receiveBuffer: 4096) else {
            Issue.record("no connection to the node")
            return
        }
        defer { close(fd) }
        let length = 20_000_000
        let requests = "GET /mempool?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n"
            + "POST /inject HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(length)\r\n\r\n"
        _ = send(fd, requests, requests.utf8.count, Int32(MSG_NOSIGNAL))
        let sent = Atomic<Int>(0)
        async let sending: Void = onOwnThread {
            let chunk = [UInt8](repeating: UInt8(ascii: " "), count: 65_536)
            while sent.load(ordering: .relaxed) < length {
                let wrote = send(fd, chunk, min(chunk.count, length - sent.load(ordering: .relaxed)), Int32(MSG_NOSIGNAL))
                guard wrote > 0 else { return }
                sent.add(wrote, ordering: .relaxed)
            }
        }
        try await Task.sleep(for: .seconds(2))
        let sentWhileUnread = sent.load(ordering: .relaxed)
        // Read until the second answer has come whole (its JSON error ends the bytes), after the
        // node has read the whole body.
        let text = await onOwnThread { () -> String in
            var received = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while received.last != UInt8(ascii: "}") || Self.count("HTTP/1.1 ", in: received) < 2 {
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 10_000) > 0 else { break }
                let read = recv(fd, &buffer, buffer.count, 0)
                guard read > 0 else { break }
                received += buffer.prefix(read)
            }
            return String(decoding: received, as: UTF8.self)
        }
        shutdown(fd, Int32(SHUT_RDWR))
        await sending
        // The kernel's buffers on both sides hold a few MB at most; the node read no more.
        #expect(sentWhileUnread < length / 2, "the node paused reading: \(sentWhileUnread) bytes sent while the listing was unread")
        let answers = text.components(separatedBy: "HTTP/1.1 ").dropFirst()
        #expect(answers.count == 2, "both answered, in order: \(text.prefix(300).debugDescription)")
        #expect((answers.first?.count ?? 0) > 11_000_000, "the listing came whole")
        #expect(answers.dropFirst().first?.hasPrefix("400") == true, "then the refusal of the body (not JSON): \(answers.dropFirst().first?.prefix(200) ?? "")")
    }

    static func count(_ text: String, in bytes: [UInt8]) -> Int {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: text).count - 1
    }
}
