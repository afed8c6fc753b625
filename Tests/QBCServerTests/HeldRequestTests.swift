import Foundation
import QBCClient
import QBCHarness
import QBCTestSupport
import QBCWire
import Synchronization
import Testing

/// Requests pipelined behind an answer the client has not read wait in the connection guard
/// until that answer has reached the kernel (D85), and what waits is bounded per connection and
/// counted in the node's answer budget.
extension ConnectionFloodTests {
    static let listing = "GET /mempool?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n"

    /// Hummingbird built the answer to a request pipelined behind an unread one at once, and held
    /// it outside the answer budget, one per connection (the review: 60 connections, the gauge at
    /// 183 MB, RSS at 886 MB). Seen here by what the answers say: built late, they show a Leap
    /// made after they were asked for.
    @Test func aRequestPipelinedBehindAnUnreadAnswerIsBuiltOnceThatIsRead() async throws {
        let (t, _, client) = try await HTTPEdgeTests.nodeHolding9MB()
        let before = try await client.stats().height
        let fd = try #require(LoopbackConnection.open(to: t.node.port, receiveBuffer: 4096), "a connection to the node")
        defer { close(fd) }
        // The 11 MB listing, then two requests for the height, all at once; nothing read yet.
        let stats = "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n"
        let requests = Self.listing + stats + stats
        _ = send(fd, requests, requests.utf8.count, Int32(MSG_NOSIGNAL))
        try await Task.sleep(for: .seconds(1))
        #expect(try await client.leap().sealed)
        let text = await onOwnThread { Self.answers(3, on: fd) }
        let answers = Self.statusAnswers(in: text)
        #expect(answers.count == 3 && answers.allSatisfy { $0.hasPrefix("200") }, "three answers, in order: \(text.prefix(300).debugDescription)")
        #expect((answers.first?.count ?? 0) > 11_000_000, "the listing came whole")
        let heights = answers.dropFirst().map { answer in
            answer.components(separatedBy: "\r\n\r\n").last
                .flatMap { try? JSONDecoder().decode(StatsJSON.self, from: Data($0.utf8)).height }
        }
        #expect(heights == [before + 1, before + 1], "both built after the Leap, from height \(before): \(heights)")
    }

    /// What waits behind the unread listing is bounded by what the node keeps, not by what was
    /// sent. Past 256 KiB per connection it stops reading, so the rest waits in the client's
    /// buffers: a long body, or 255 heads of 78 KB (the review: 20 MB held per connection). A body
    /// of 1-byte chunks with long extensions is read on while it waits, but only its bytes are
    /// kept: each part was a slice that kept its whole read alive (the review: 2 GB on one
    /// connection). Every answer then comes, in order.
    @Test(arguments: HeldKind.allCases) func whatWaitsBehindAnUnreadAnswerIsBounded(_ kind: HeldKind) async throws {
        let (t, _, _) = try await HTTPEdgeTests.nodeHolding9MB()
        let port = t.node.port
        let fd = try #require(LoopbackConnection.open(to: port, receiveBuffer: 4096), "a connection to the node")
        let (head, piece, tail) = kind.requests
        let total = kind.repeats * piece.count
        let start = Self.listing + head
        _ = send(fd, start, start.utf8.count, Int32(MSG_NOSIGNAL))
        try await Task.sleep(for: .seconds(1))
        let before = t.node.residentBytes ?? 0
        let sent = Atomic<Int>(0)
        async let sending: Void = onOwnThread {
            // Whole pieces, so a send that takes part of a block goes on where it stopped.
            let block = [UInt8](Array(repeating: piece, count: max(1, 65_536 / piece.count)).joined())
            var position = 0
            while position < total {
                let offset = position % block.count
                let wrote = block.withUnsafeBytes { raw in
                    send(fd, raw.baseAddress.map { $0 + offset }, min(raw.count - offset, total - position), Int32(MSG_NOSIGNAL))
                }
                guard wrote > 0 else { return }
                position += wrote
                sent.store(position, ordering: .relaxed)
            }
            _ = send(fd, tail, tail.utf8.count, Int32(MSG_NOSIGNAL))
        }
        // Two seconds, or until all is sent if the node reads it all.
        var peak = before
        for _ in 0..<(kind.pausesReading ? 20 : 300) where sent.load(ordering: .relaxed) < total {
            try await Task.sleep(for: .milliseconds(100))
            peak = max(peak, t.node.residentBytes ?? 0)
        }
        let sentWhileUnread = sent.load(ordering: .relaxed)
        let held = await onOwnThread { gauge("qbc_answer_queued_bytes", port: port) ?? -1 }
        let text = await onOwnThread { Self.answers(kind.answers, on: fd) }
        shutdown(fd, Int32(SHUT_RDWR))
        await sending
        close(fd)
        if kind.pausesReading {
            // The kernel's buffers on both sides hold a few MB at most; the node read no more.
            #expect(sentWhileUnread < total / 2, "the node paused reading: \(sentWhileUnread) of \(total) bytes sent while the listing was unread")
        } else {
            #expect(sentWhileUnread == total, "the node read on: \(sentWhileUnread) of \(total) bytes sent while the listing was unread")
            #expect(peak - before < 40 << 20, "and kept little of it: RSS from \(before) to \(peak) bytes")
        }
        // The budget counts the listing's bytes not yet in the kernel and what waits behind it.
        #expect(held > 0 && held < 11_188_279 + (1 << 20), "held for the connection: \(held) bytes")
        let answers = Self.statusAnswers(in: text)
        #expect(answers.count == kind.answers, "every answer, in order: \(text.prefix(300).debugDescription)")
        #expect((answers.first?.count ?? 0) > 11_000_000, "the listing came whole")
        #expect(answers.last?.hasPrefix(kind.lastStatus) == true, "then the rest: \(answers.last?.prefix(200) ?? "")")
        // Everything held was given back to the budget.
        try await eventually("the budget is empty again", within: 10) { await onOwnThread { gauge("qbc_answer_queued_bytes", port: port) } == 0 }
    }

    enum HeldKind: CaseIterable, Sendable {
        case longBody, largeHeads, chunksWithLongExtensions

        /// The head sent at once behind the listing, the piece sent over and over, and the end.
        var requests: (String, [UInt8], String) {
            let inject = "POST /inject HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            switch self {
            case .longBody: return (inject + "Content-Length: 20000000\r\n\r\n", Array(" ".utf8), "")
            case .largeHeads:
                return ("", Array("GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: \(String(repeating: "a", count: 78_000))\r\n\r\n".utf8), "")
            case .chunksWithLongExtensions:
                return (inject + "Transfer-Encoding: chunked\r\n\r\n", Array("1;e=\(String(repeating: "e", count: 1_000))\r\nX\r\n".utf8), "0\r\n\r\n")
            }
        }

        /// How many pieces are sent: about 20 MB (100 MB of chunks), or as many heads as may wait
        /// behind the listing (D79).
        var repeats: Int {
            switch self {
            case .longBody: 20_000_000
            case .largeHeads: 255
            case .chunksWithLongExtensions: 100_000
            }
        }

        var pausesReading: Bool { self != .chunksWithLongExtensions }
        /// The listing's answer and the rest's.
        var answers: Int { self == .largeHeads ? 256 : 2 }
        /// The last answer: a body that is not JSON is refused.
        var lastStatus: String { self == .largeHeads ? "200" : "400" }
    }

    /// A client that asks for the listing and ends its side at once gets the whole listing: the
    /// end of its input reached Hummingbird while the answer waited in NIO's buffer, and
    /// Hummingbird closed the connection, cutting the answer off where the kernel's buffers ended
    /// (2,990,207 of 11,188,406 bytes in the review).
    @Test func aClientThatEndsItsSideAfterAskingGetsTheWholeAnswer() async throws {
        let (t, _, _) = try await HTTPEdgeTests.nodeHolding9MB()
        let fd = try #require(LoopbackConnection.open(to: t.node.port, receiveBuffer: 4096), "a connection to the node")
        defer { close(fd) }
        _ = send(fd, Self.listing, Self.listing.utf8.count, Int32(MSG_NOSIGNAL))
        shutdown(fd, Int32(SHUT_WR))
        try await Task.sleep(for: .seconds(1))
        let (bytes, ended) = await onOwnThread { () -> ([UInt8], Bool) in
            var received = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 10_000) > 0 else { return (received, false) }
                let read = recv(fd, &buffer, buffer.count, 0)
                guard read > 0 else { return (received, read == 0) }
                received += buffer.prefix(read)
            }
        }
        #expect(HTTPEdgeTests.isComplete(bytes) && bytes.count > 11_000_000, "the whole listing: \(bytes.count) bytes")
        #expect(ended, "then end of file")
    }

    /// A parser error while an answer is still being written waits for it: passed on at once,
    /// Hummingbird closed the connection and cut the answer off (2,990,207 of 11,188,406 bytes in
    /// the review). Part of a next request and then the client's end of input; or a request, bytes
    /// that are not HTTP, and more bytes a moment later (reported as another error). The whole
    /// listing comes, then what was asked before the error, then the node's JSON error.
    @Test(arguments: [false, true]) func aParserErrorBehindAnAnswerBeingWrittenWaitsForIt(_ garbageThenMore: Bool) async throws {
        let (t, _, _) = try await HTTPEdgeTests.nodeHolding9MB()
        let fd = try #require(LoopbackConnection.open(to: t.node.port, receiveBuffer: 4096), "a connection to the node")
        defer { close(fd) }
        let behind = garbageThenMore ? "GET /health HTTP/1.1\r\nHost: x\r\n\r\nnot http\r\n\r\n" : "GET /health HTTP/1.1\r\nHo"
        let requests = Self.listing + behind
        _ = send(fd, requests, requests.utf8.count, Int32(MSG_NOSIGNAL))
        if garbageThenMore {
            try await Task.sleep(for: .milliseconds(500))
            _ = send(fd, "more\r\n", 6, Int32(MSG_NOSIGNAL))
        } else {
            shutdown(fd, Int32(SHUT_WR))
        }
        let text = await onOwnThread { Self.answers(garbageThenMore ? 3 : 2, on: fd) }
        let answers = Self.statusAnswers(in: text)
        #expect(answers.count == (garbageThenMore ? 3 : 2), "\(text.prefix(200).debugDescription) … \(text.suffix(300).debugDescription)")
        #expect((answers.first?.count ?? 0) > 11_000_000, "the listing came whole")
        if garbageThenMore { #expect(answers.dropFirst().first?.hasPrefix("200") == true, "then the request before the error") }
        #expect(answers.last?.hasPrefix("400") == true && answers.last?.contains(#"{"error":"malformed""#) == true, "then the error: \(answers.last?.suffix(200) ?? "")")
    }

    /// The answers in `text`, each from its status code on: split where "HTTP/1.1 " is followed by
    /// a status code (an error's message may say "HTTP/1.1" too).
    static func statusAnswers(in text: String) -> [Substring] {
        let parts = text.components(separatedBy: "HTTP/1.1 ")
        var answers = [Substring]()
        for part in parts.dropFirst() {
            if let first = part.first, ("1"..."5").contains(first) || answers.isEmpty {
                answers.append(Substring(part))
            } else if let last = answers.popLast() {
                answers.append(last + "HTTP/1.1 " + part)
            }
        }
        return answers
    }

    /// Reads `fd` until `count` answers have begun and the last one's JSON has ended (or 30 s pass
    /// without a byte: a debug build under the suite's load takes long to read a 20 MB body),
    /// counting status lines as they come.
    static func answers(_ count: Int, on fd: Int32) -> String {
        let marker = Array("HTTP/1.1 ".utf8)
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var seen = 0
        while seen < count || received.last != UInt8(ascii: "}") {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 30_000) > 0 else { break }
            let read = recv(fd, &buffer, buffer.count, 0)
            guard read > 0 else { break }
            // Only the new bytes and the few before them can hold a status line not counted yet.
            let from = max(0, received.count - marker.count + 1)
            received += buffer.prefix(read)
            var index = from
            while index + marker.count < received.count {
                if received[index] == marker[0], received[index..<index + marker.count].elementsEqual(marker),
                    (UInt8(ascii: "1")...UInt8(ascii: "5")).contains(received[index + marker.count])
                { seen += 1 }
                index += 1
            }
        }
        return String(decoding: received, as: UTF8.self)
    }
}
