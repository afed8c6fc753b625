import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// Reads events from a stream until `enough` holds on what was read (`seconds` at most).
func collect(
    _ stream: AsyncThrowingStream<ServerEvent, any Error>, seconds: Int = 15, until enough: @escaping @Sendable ([ServerEvent]) -> Bool
) async throws -> [ServerEvent] {
    try await withThrowingTaskGroup(of: [ServerEvent]?.self) { group in
        group.addTask {
            var events = [ServerEvent]()
            for try await event in stream {
                events.append(event)
                if enough(events) { return events }
            }
            return events
        }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return try #require(first, "the stream did not deliver enough events in \(seconds) s")
    }
}

func decoded(_ event: ServerEvent) throws -> EventQuantJSON { try JSONDecoder().decode(EventQuantJSON.self, from: Data(event.data.utf8)) }

/// The event stream (events.md) on real node processes.
/// The node's count of open event streams (its `qbc_event_streams` gauge).
func openStreams(at url: String) async throws -> Double {
    let text = String(decoding: try await raw("GET", url + "/metrics").bytes, as: UTF8.self)
    let line = text.split(separator: "\n").first { $0.hasPrefix("qbc_event_streams ") }
    return try #require(line.flatMap { Double($0.dropFirst("qbc_event_streams ".count)) })
}

@Suite(.serialized) struct EventTests {
    /// A stream holds one page of events while its consumer does not read: pages were bounded
    /// only in events (256), so on a chain of big Quants each such stream held hundreds of MB
    /// (a stranger's dozen took a node to 2.8 GB). Pages now name 4,096 transactions at most.
    @Test func streamsThatDoNotReadHoldLittleEachOnAChainOfBigQuants() async throws {
        try await HeavyTests.oneAtATime {
            let t = try await TestNode()
            let writers = try ["writer1", "writer2"].map(Keys.load)
            for quant in 0..<40 {
                let batch = (0..<1500).map { signed(#"{"q":\#(quant),"i":\#($0)}"#, chain: t.chain, by: writers[$0 % 2]) }
                #expect(try await t.client.submit(batch: batch).results.allSatisfy { $0.status == "admitted" })
                #expect(try await t.client.leap().quant != nil)
            }
            // A consumer near the tip puts the shared window there: streams from the start read
            // pages of their own.
            #expect(try await collect(t.client.events(from: "38")) { $0.count >= 2 }.count == 2)
            let before = try #require(t.node.residentBytes)
            let port = t.node.port
            // 24 consumers from the start of the chain that never read: each stream stops at a
            // full socket with its page in hand.
            let sockets = await onOwnThread { () -> [Int32] in
                let sockets = ConnectionFloodTests.idleConnections(to: port, count: 24)
                let request = Array("GET /events?from=0 HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
                for fd in sockets {
                    var small: Int32 = 4096
                    _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
                    _ = send(fd, request, request.count, Int32(MSG_NOSIGNAL))
                }
                return sockets
            }
            defer { for fd in sockets { close(fd) } }
            try await eventually("the 24 streams are open") { try await openStreams(at: t.node.url) == 24 }
            try await Task.sleep(for: .seconds(3))
            let held = try #require(t.node.residentBytes) - before
            // Pages of all 40 Quants (60,000 transactions) held 370 MiB here; pages of 4,096
            // transactions, with the frames the streams share (32 MiB at most), 53 MiB.
            #expect(held < 150 << 20, "24 streams that do not read hold \(held >> 20) MiB")
        }
    }

    /// A stream whose consumer went away used to be counted until the node next wrote to it (a
    /// heartbeat 15 s later, or the one after): a stranger opening and dropping streams at a few
    /// hundred a second kept all 4,096 taken, and every real consumer got 503.
    @Test func aConsumerThatGoesAwayIsForgottenAtOnce() async throws {
        let t = try await TestNode()
        let port = t.node.port
        let heads = await onOwnThread { () -> [String?] in
            let sockets = ConnectionFloodTests.idleConnections(to: port, count: 100)
            defer { for fd in sockets { close(fd) } }
            let request = Array("GET /events HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            for fd in sockets { _ = send(fd, request, request.count, Int32(MSG_NOSIGNAL)) }
            return sockets.map { firstBytes(on: $0, within: 10_000) }
        }
        #expect(heads.count == 100 && heads.allSatisfy { $0?.hasPrefix("HTTP/1.1 200") == true }, "every stream opened: \(heads.prefix(3))")
        let dropped = Date()
        try await eventually("the node forgot the 100 dropped streams", within: 10) { try await openStreams(at: t.node.url) == 0 }
        #expect(Date().timeIntervalSince(dropped) < 10, "well before the 15 s heartbeat")
        // A request pipelined behind a stream used to hide the consumer's leaving from it.
        let closedByNode = await onOwnThread { () -> Int in
            let sockets = ConnectionFloodTests.idleConnections(to: port, count: 50)
            defer { for fd in sockets { close(fd) } }
            let request = Array("GET /events HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            for fd in sockets { _ = send(fd, request, request.count, Int32(MSG_NOSIGNAL)) }
            return sockets.filter { fd in
                // Whatever the node wrote first, it ends with the connection closed.
                let deadline = Date().addingTimeInterval(10)
                while Date() < deadline {
                    var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&descriptor, 1, 1_000) > 0 else { continue }
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    let read = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                    if read == 0 || (read < 0 && errno == ECONNRESET) { return true }
                }
                return false
            }.count
        }
        #expect(closedByNode == 50, "the node closed every connection with a request pipelined behind a stream")
        try await eventually("and holds none of their streams", within: 10) { try await openStreams(at: t.node.url) == 0 }
        // A request and a reset at once: the place taken for the stream used to be kept for ever.
        await onOwnThread {
            for fd in ConnectionFloodTests.idleConnections(to: port, count: 200) {
                let request = Array("GET /events HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
                _ = send(fd, request, request.count, Int32(MSG_NOSIGNAL))
                var reset = linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
                close(fd)
            }
        }
        try await eventually("the node holds none of 200 streams reset at once", within: 10) { try await openStreams(at: t.node.url) == 0 }
    }

    /// Proof of authority: node 1 sealed height 1 out of turn, node 2 in turn; when they meet node
    /// 1 switches. Its consumer sees its Quant connected, disconnected, the winner's connected, and
    /// its transaction connected again at height 2: each once, in order.
    @Test func aConsumerSeesConnectedDisconnectedAndConnectedAgainAcrossAForkSwitch() async throws {
        let dir = try TemporaryDirectory()
        let (nodes, clients, transactions, works) = try await ConvergenceTests.sealApartThenMeet(
            engine: ["engine": "poa", "outOfTurnDelayMilliseconds": 500], dir: dir)
        let loser = try #require(works.firstIndex(of: 1))
        let winner = 1 - loser
        let events = try await collect(clients[loser].events(from: "0")) { events in
            events.contains { $0.event == "quant" && (try? decoded($0).transactions?.contains(transactions[loser].id.hex)) == true && (try? decoded($0).height) == 2 }
        }
        let told = try events.map { "\($0.event) \(try decoded($0).height)" }
        #expect(Array(told.prefix(4)) == ["quant 1", "disconnected 1", "quant 1", "quant 2"], "\(told)")
        #expect(events.map(\.id).prefix(4) == ["1", "2", "3", "4"])
        // Its own Quant 1 (gone from its chain by now), then the winner's.
        #expect(try decoded(events[0]).hash == (try decoded(events[1]).hash))
        #expect(try decoded(events[0]).hash != (try decoded(events[2]).hash))
        #expect(try decoded(events[0]).transactions == [transactions[loser].id.hex])
        #expect(try decoded(events[1]).transactions == [transactions[loser].id.hex], "the disconnected Quant names its transactions")
        let winnerQuant = try await clients[winner].quant("1").header.hash
        #expect(try decoded(events[2]).hash == winnerQuant)
        #expect(try decoded(events[2]).transactions == [transactions[winner].id.hex])
        // Resuming after the disconnection repeats nothing before it.
        let resumed = try await collect(clients[loser].events(from: "2")) { $0.count >= 2 }
        #expect(resumed.map(\.id) == ["3", "4"])
        withExtendedLifetime(nodes) {}
    }

    /// A consumer that stops, sees the node restart, and resumes from its last id gets exactly the
    /// events it had not seen, the final events included (depth 2 here).
    @Test func resumingAcrossANodeRestartLosesAndRepeatsNothing() async throws {
        let environment = ["QBC_FINAL_DEPTH": "2"]
        let t = try await TestNode(environment: environment)
        let writer = try Keys.load("writer1")
        func seal(_ n: Int, on client: NodeClient) async throws {
            _ = try await client.submit(signed(#"{"seal":\#(n)}"#, chain: t.chain, by: writer))
            #expect(try await client.leap().quant != nil)
        }
        for n in 1...3 { try await seal(n, on: t.client) }
        let start = try await collect(t.client.events(from: "0")) { $0.count >= 4 }
        #expect(start.map(\.id) == ["1", "2", "3", "3:1"])
        #expect(start.map(\.event) == ["quant", "quant", "quant", "final"])
        #expect(try decoded(start[3]).hash == (try await t.client.quant("1").header.hash))
        // The consumer had read through event 2 when the node went down.
        await t.node.stop()
        let again = try await TestNode(environment: environment, dir: t.dir)
        for n in 4...5 { try await seal(n, on: again.client) }
        let resumed = try await collect(again.client.events(from: "2")) { $0.count >= 6 }
        #expect(resumed.map(\.id) == ["3", "3:1", "4", "4:2", "5", "5:3"])
        let whole = try await collect(again.client.events(from: "0")) { $0.count >= 8 }
        #expect(whole.map(\.id) == Array(start.map(\.id).prefix(2)) + resumed.map(\.id))
        // From the middle of one event's finals, and from now on.
        #expect(try await collect(again.client.events(from: "4:2")) { $0.count >= 2 }.map(\.id) == ["5", "5:3"])
        // The stream must be open at the node before the next commit (a fixed pause was not
        // enough on a loaded machine): the earlier streams are gone, then this one counts.
        try await eventually("the earlier streams ended at the node") { try await openStreams(at: again.node.url) == 0 }
        let fromNow = again.client.events()
        try await eventually("the new stream is open at the node") { try await openStreams(at: again.node.url) == 1 }
        try await seal(6, on: again.client)
        #expect(try await collect(fromNow) { $0.count >= 2 }.map(\.id) == ["6", "6:4"])
    }

    @Test func filtersCursorsAndReadersOnlyChains() async throws {
        let t = try await TestNode()
        let (one, two) = (try Keys.load("writer1"), try Keys.load("writer2"))
        let firstBatch = [signed(#"{"a":1}"#, chain: t.chain, by: one), signed("plain", chain: t.chain, by: two, contentType: "text/plain")]
        _ = try await t.client.submit(batch: firstBatch)
        _ = try await t.client.leap()
        _ = try await t.client.submit(signed(#"{"b":2}"#, chain: t.chain, by: two))
        _ = try await t.client.leap()
        let bySender = try await collect(t.client.events(from: "0", sender: one.publicKey.hex)) { !$0.isEmpty }
        #expect(bySender.map(\.id) == ["1"], "height 2 holds nothing of writer 1")
        #expect(try decoded(bySender[0]).transactions == [firstBatch[0].id.hex], "only writer 1's transaction of the two")
        let byType = try await collect(t.client.events(from: "0", contentType: "text/plain")) { !$0.isEmpty }
        #expect(try decoded(byType[0]).transactions == [firstBatch[1].id.hex])
        for (cursor, code) in [("x", "malformed"), ("1:", "malformed"), ("99", "unknown_cursor"), ("-1", "malformed")] {
            let answer = try await raw("GET", t.node.url + "/events?from=\(cursor)")
            #expect(answer.status == 400 && answer.error?.error == code, "\(cursor): \(answer.status) \(answer.error?.error ?? "")")
        }
        #expect(try await raw("GET", t.node.url + "/events?sender=zz").status == 400)
        let lastID = try await rawWithHeaders("GET", t.node.url + "/events", headers: [("Last-Event-ID", "nonsense")])
        #expect(lastID.status == 400)
        #expect(try await raw("GET", t.node.url + "/chains/nope/events").status == 404)

        // A readers-only chain asks the same proof as its other reads.
        let (vault, _, tx) = try await LockNodeTests.vault(on: t)
        await expectRefusal(401, "proof_required") { try await collect(vault.events(from: "0")) { !$0.isEmpty } }
        let proven = try await collect(vault.events(from: "0", reader: try Keys.load("reader"))) { !$0.isEmpty }
        #expect(try decoded(proven[0]).transactions?.contains(tx.id.hex) == true)
    }

    /// 1,000 consumers on one node while it admits and commits: each sees every Quant
    /// (`qbc bench events` measures their delay and what they cost admission).
    @Test func aThousandSubscribersUnderLoadEachSeeEveryQuant() async throws {
        try await HeavyTests.oneAtATime {
            let t = try await TestNode(environment: ["QBC_MAX_CONNECTIONS": "2048"])
            // Their own event loop, so the thousand streams do not slow the other tests' clients.
            let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(60)))
            configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1100)
            let http = HTTPClient(eventLoopGroup: loops, configuration: configuration)
            let client = NodeClient(baseURL: t.node.url, http: http)
            let subscribers = 1000
            let quants = 3
            let outcome: Result<[Int], any Error>
            do {
                outcome = .success(try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<subscribers {
                        let stream = client.events(from: "0")
                        // A thousand connections on two cores shared with the rest of the suite: time enough.
                        group.addTask { try await collect(stream, seconds: 90) { $0.filter { $0.event == "quant" }.count >= quants }.count }
                    }
                    let writer = try Keys.load("writer1")
                    for round in 0..<quants {
                        _ = try await t.client.submit(batch: (0..<50).map { signed(#"{"round":\#(round),"i":\#($0)}"#, chain: t.chain, by: writer) })
                        _ = try await t.client.leap()
                    }
                    var counts = [Int]()
                    for try await count in group { counts.append(count) }
                    return counts
                })
            } catch {
                outcome = .failure(error)
            }
            try await http.shutdown()
            try await loops.shutdownGracefully()
            let counts = try outcome.get()
            #expect(counts.count == subscribers)
            #expect(counts.allSatisfy { $0 >= quants })
        }
    }
}
