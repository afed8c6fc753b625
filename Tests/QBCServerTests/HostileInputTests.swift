import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// Requests a stranger can send without any key: each is refused with a clear error and the node
/// stays up and unchanged.
@Suite struct HostileInputTests {
    /// Regression: a 172-byte binary batch whose one transaction is dated 2^64 - 1 (random sender,
    /// zero signature) trapped the node on arithmetic overflow and killed the process.
    @Test func aBinaryBatchDatedAtTheEndOfTimeIsRefusedAndTheNodeStaysUp() async throws {
        let t = try await TestNode()
        let body = Transaction.Body(
            chain: t.chain, sender: SigningKey().publicKey, nonce: .random(), timestamp: Timestamp(milliseconds: .max),
            contentType: "a", payload: [])
        let batch = Transaction.encodeBatch([Transaction(body: body, signature: Signature(unchecked: [UInt8](repeating: 0, count: 64)))])
        #expect(batch.count == 172)
        let answer = try await raw(
            "POST", t.node.url + "/inject", body: batch, headers: [("Content-Type", Transaction.batchContentType)])
        #expect(answer.status == 200)
        let verdicts = try JSONDecoder().decode(InjectBatchJSON.self, from: Data(answer.bytes))
        #expect(verdicts.results.map(\.error) == ["timestamp_in_future"])
        #expect(t.node.process.isRunning)
        #expect(try await t.client.stats().mempool == 0)
    }
}

/// Floods that need no key take nothing a member needs.
@Suite struct FloodTests {
    /// 10,000 challenges used to fill the node's table and lock every reader out for a minute.
    @Test func aFloodOfChallengesLocksNoReaderOut() async throws {
        let t = try await TestNode()
        let (vault, _, tx) = try await LockNodeTests.vault(on: t)
        let reader = try Keys.load("reader")
        let issued = Locked(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    for _ in 0..<660 where (try? await vault.call("GET", "/chains/vault/challenge", as: ChallengeJSON.self)) != nil {
                        issued.withValue { $0 += 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(issued.value == 10_560, "every challenge was answered")
        let read = try await vault.provenRead("/tx/\(tx.id.hex)", reader: reader, as: TransactionLookupJSON.self)
        #expect(read.status == "committed", "a reader still reads")
    }

    /// Any fresh key could Bang chains onto a node by naming it, and take its allowance and names.
    @Test func onlyChainCreatorsTheOperatorAllowsMayCreateChains() async throws {
        let stranger = SigningKey()
        let t = try await TestNode(environment: ["QBC_CHAIN_CREATORS": ""])
        let node = try ChainsNodeTests.nodeKey(t)
        let squat = try testBang("orders", nodes: [node], writers: [], admins: [stranger])
        await expectRefusal(403, "not_authorized") { try await t.client.create(squat) }
        // Refused by its creator before its signature is checked: a stranger's Bangs cost a lookup.
        var forged = squat.encoded
        forged[forged.count - 1] ^= 0x01
        await expectRefusal(403, "not_authorized") { try await t.client.create(try Bang(decoding: forged)) }
        #expect(try await t.client.chains().count == 1, "nothing was created")
        // An admin of a chain the node serves may create one.
        #expect(try await t.client.create(try testBang("orders", nodes: [node], writers: [])).status == "created")

        let allowed = SigningKey()
        let u = try await TestNode(environment: ["QBC_CHAIN_CREATORS": allowed.publicKey.hex])
        let theirs = try testBang("sensors", nodes: [try ChainsNodeTests.nodeKey(u)], writers: [], admins: [allowed])
        #expect(try await u.client.create(theirs).status == "created", "a key the operator listed may")
    }
}

/// What an admitted peer sends can be captured; it must not be served twice.
@Suite struct PeerReplayTests {
    @Test func anExactReplayOfASignedPeerRequestIsRefused() async throws {
        let net = try await TestNetwork(count: 2)
        try await eventually("node 2 is admitted at node 1") { try await net.client(0).stats().peers == 1 }
        let key = try Keys.load("node2")
        let path = "/peer/chains/\(net.chain.hex)/tip"
        let stamp = now()
        let signature = PeerRequest.sign(key: key, timestamp: stamp, method: "GET", path: path, body: [])
        let headers = [
            (QBCHeader.node, key.publicKey.hex), (QBCHeader.timestamp, String(stamp.milliseconds)), (QBCHeader.signature, signature.hex),
        ]
        let first = try await raw("GET", net.nodes[0].url + path, headers: headers)
        #expect(first.status == 200)
        let again = try await raw("GET", net.nodes[0].url + path, headers: headers)
        #expect(again.status == 401)
        #expect(again.error?.error == "replayed_request")
        // A push replayed is refused too, and admits nothing a second time.
        let tx = signed(#"{"replay":1}"#, chain: net.chain, by: try Keys.load("writer1"))
        let body = NodeClient.encodeBatch([tx])
        let pushPath = "/peer/chains/\(net.chain.hex)/transactions"
        let pushStamp = now()
        let pushSignature = PeerRequest.sign(key: key, timestamp: pushStamp, method: "POST", path: pushPath, body: body)
        let pushHeaders = [
            (QBCHeader.node, key.publicKey.hex), (QBCHeader.timestamp, String(pushStamp.milliseconds)),
            (QBCHeader.signature, pushSignature.hex), ("Content-Type", "application/json"),
        ]
        #expect(try await raw("POST", net.nodes[0].url + pushPath, body: body, headers: pushHeaders).status == 200)
        #expect(try await raw("POST", net.nodes[0].url + pushPath, body: body, headers: pushHeaders).error?.error == "replayed_request")
        // Signed anew, the same question is answered.
        let fresh = NodeClient(baseURL: net.nodes[0].url, peerKey: key, clock: { now() })
        #expect(try await fresh.peerTip(chain: net.chain).height == 0)
    }

    /// A stranger's push is refused by the node it names, before its body is read: it used to be
    /// read whole (up to the route's cap) and its signature checked first.
    @Test func aStrangersPeerRequestIsRefusedBeforeItsBodyArrives() async throws {
        let t = try await TestNode()
        let port = t.node.port
        let path = "/peer/chains/\(t.chain.hex)/transactions"
        let head = "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n"
            + "\(QBCHeader.node): \(SigningKey().publicKey.hex)\r\n\(QBCHeader.timestamp): \(now().milliseconds)\r\n"
            + "\(QBCHeader.signature): \(String(repeating: "ab", count: 64))\r\n\r\n["
        let answer = await onOwnThread { () -> String? in
            guard let fd = ConnectionFloodTests.idleConnections(to: port, count: 1).first else { return nil }
            defer { close(fd) }
            let bytes = Array(head.utf8)
            _ = send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL))
            return QBCServerTests.answer(on: fd, within: 5_000)
        }
        #expect(answer?.hasPrefix("HTTP/1.1 403") == true, "refused at once, with 50 MB still to come: \(answer ?? "no answer")")
        #expect(answer?.contains("not_authorized") == true)
    }
}

/// A ban outlives a restart: the banned peer cannot register again or push a Quant.
@Suite struct BanPersistenceTests {
    @Test func aBanSurvivesARestart() async throws {
        var net = try await TestNetwork(count: 2)
        try await eventually("node 2 is admitted at node 1") { try await net.client(0).stats().peers == 1 }
        let key = try Keys.load("node2")
        let asNode2 = NodeClient(baseURL: net.nodes[0].url, peerKey: key, clock: { now() })
        let writer = try Keys.load("writer1")
        func quant(_ transactions: [Transaction], mutate: (inout QuantHeader) -> Void = { _ in }) -> QuantJSON {
            var header = QuantHeader(
                chain: net.chain, height: 1, previous: net.chain, timestamp: now(), merkleRoot: Merkle.root(transactions.map(\.id)),
                transactionCount: UInt32(transactions.count), proposer: key.publicKey, difficultyBits: 8, nonce: 0)
            mutate(&header)
            header = ProofOfWork.mine(header) ?? header
            return QuantJSON(header: QuantHeaderJSON(header: header, cumulativeWork: 0, cumulativeTransactions: 0),
                             transactions: transactions.map(TransactionJSON.init))
        }
        for round in 0..<3 {
            let bad = quant([signed(#"{"bad":\#(round)}"#, chain: net.chain, by: writer)]) { $0.merkleRoot = .zero }
            await expectRefusal(422, "bad_merkle_root") { try await asNode2.peerPush(quant: bad) }
        }
        let valid = quant([signed(#"{"good":1}"#, chain: net.chain, by: writer)])
        await expectRefusal(403, "not_authorized") { try await asNode2.peerPush(quant: valid) }

        await net.nodes[0].stop()
        net.nodes[0] = try await TestNetwork.start(1, dir: net.dir, peer: nil)
        let restarted = NodeClient(baseURL: net.nodes[0].url, peerKey: key, clock: { now() })
        let registration = Registration(key: key, address: net.nodes[1].url, chains: [net.chain], timestamp: now())
        do {
            _ = try await net.client(0).register(registration)
            Issue.record("a banned peer registered again after a restart")
        } catch let error as NodeClientError {
            #expect(error.status == 403)
            #expect(error.message.contains("banned"), "\(error)")
        }
        do {
            _ = try await restarted.peerPush(quant: valid)
            Issue.record("a banned peer's Quant was taken after a restart")
        } catch let error as NodeClientError {
            #expect(error.status == 403)
            #expect(error.message.contains("banned"), "the refusal says why: \(error)")
        }
        #expect(try await net.client(0).stats().height == 0, "nothing of the banned peer was committed")
    }
}

/// Idle connections used to take every slot the node had: now the oldest idle ones are closed
/// first, and one that never sends a request head is closed after its timeout.
/// One at a time: each floods the node's sockets or memory, and four at once on two cores (idle
/// connections, a capped body pool, held bodies, a paused body) starved a node for over 20 s.
@Suite(.serialized) struct ConnectionFloodTests {
    /// Opens `count` TCP connections to 127.0.0.1:`port` that never send anything.
    /// `from`: the loopback address to connect from (127.0.0.0/8 is all this machine's), so one
    /// test can be several clients to the node.
    static func idleConnections(to port: Int, count: Int, from source: String = "127.0.0.1") -> [Int32] {
        var sockets = [Int32]()
        for _ in 0..<count {
            guard let fd = LoopbackConnection.open(to: port, from: source) else { break }
            sockets.append(fd)
        }
        return sockets
    }

    /// True when the node has closed the connection (a read returns end of file at once).
    static func isClosedByPeer(_ fd: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, 0) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_DONTWAIT)) == 0
    }

    /// With the head timeout far longer than the probe's 20 s, only closing the oldest idle
    /// connections can make room for a client: without it the node would answer nobody for 120 s.
    @Test func aFloodOfIdleConnectionsDoesNotStopTheNode() async throws {
        let t = try await TestNode(environment: ["QBC_MAX_CONNECTIONS": "200", "QBC_HEAD_TIMEOUT_MS": "120000"])
        let port = t.node.port
        let sockets = await onOwnThread { Self.idleConnections(to: port, count: 1500) }
        defer { for fd in sockets { close(fd) } }
        #expect(sockets.count == 1500)
        #expect(await t.client.answersHealth(), "/health answers under the flood")
        let tx = signed(#"{"under":"flood"}"#, chain: t.chain, by: try Keys.load("writer1"))
        #expect(try await t.client.submit(tx).status == "admitted", "a signed client still gets in")
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(t.node.process.pid)/fd").count
        #expect(open < 300, "the node holds at most its maximum of connections: \(open) descriptors")
        #expect(sockets.prefix(1000).allSatisfy { Self.isGone($0, within: 2_000) }, "the oldest idle connections were closed")
    }

    /// Connections that never send a request head are closed after the head timeout, and not
    /// before it; under the maximum, so nothing but the timeout closes them.
    @Test func connectionsThatNeverSendAHeadAreClosedAfterTheTimeout() async throws {
        let t = try await TestNode(environment: ["QBC_HEAD_TIMEOUT_MS": "3000"])
        let port = t.node.port
        // Before connecting: the node's timer starts when it accepts, later.
        let opened = Date()
        let sockets = await onOwnThread { Self.idleConnections(to: port, count: 100) }
        defer { for fd in sockets { close(fd) } }
        #expect(sockets.count == 100)
        let early = sockets.filter(Self.isClosedByPeer).count
        let checkedAt = Date().timeIntervalSince(opened)
        if checkedAt < 3 { #expect(early == 0, "\(early) connections closed \(checkedAt) s after opening, before the 3 s timeout") }
        var open = sockets
        while !open.isEmpty, Date().timeIntervalSince(opened) < 30 {
            try await Task.sleep(for: .milliseconds(100))
            open.removeAll { Self.isClosedByPeer($0) }
        }
        let seconds = Date().timeIntervalSince(opened)
        #expect(open.isEmpty, "\(open.count) of 100 idle connections still open after \(seconds) s")
        #expect(seconds >= 3, "closed after \(seconds) s, not before the 3 s timeout")
    }

    /// True when the node closed the connection, cleanly or with a reset (unread data was waiting),
    /// now or within `milliseconds`.
    static func isGone(_ fd: Int32, within milliseconds: Int32 = 0) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, milliseconds) > 0 else { return false }
        var byte: UInt8 = 0
        let read = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
        return read == 0 || (read < 0 && errno == ECONNRESET)
    }

    /// Sends a request head promising a 1 MB body, and a first byte of it, on every socket.
    static func startSlowBodies(_ sockets: [Int32]) {
        let head = Array("POST /inject HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n[".utf8)
        for fd in sockets { _ = send(fd, head, head.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Issue 12 (second round): with the cap full of requests whose bodies trickle in, a new
    /// connection used to be closed at once, so 1,025 slow senders locked every client out.
    @Test func slowBodiesFillingTheCapLockNoClientOut() async throws {
        // A paused body is closed after 120 s here and every body after 60 s: before that, only
        // closing the oldest busy connection can let a client in, however loaded the machine.
        let t = try await TestNode(environment: ["QBC_MAX_CONNECTIONS": "64", "QBC_BODY_PAUSE_MS": "120000"])
        let port = t.node.port
        let sockets = await onOwnThread { Self.idleConnections(to: port, count: 64) }
        defer { for fd in sockets { close(fd) } }
        #expect(sockets.count == 64)
        let started = Date()
        Self.startSlowBodies(sockets)
        try await Task.sleep(for: .milliseconds(500))
        for attempt in 0..<5 {
            let left = 45 - Date().timeIntervalSince(started)
            #expect(await t.client.answersHealth(within: max(1, left)), "/health answers with every slot held by a slow body (attempt \(attempt))")
        }
        let gone = sockets.filter { Self.isGone($0) }.count
        let seconds = Date().timeIntervalSince(started)
        #expect(seconds < 55, "the check ran before the 60 s body timeout: \(seconds) s")
        #expect(gone >= 1, "a slow body made room")
    }

    /// D78: with every connection busy, a new one used to close the one whose request started
    /// first, whoever held it: a stranger's flood from one address closed other clients' longest
    /// event streams first. It now closes the flooding address's own.
    @Test func aFloodFromOneAddressClosesItsOwnConnectionsNotAnotherClientsStream() async throws {
        let t = try await TestNode(environment: ["QBC_MAX_CONNECTIONS": "16"])
        let port = t.node.port
        let consumer = try #require(Self.idleConnections(to: port, count: 1).first)
        defer { close(consumer) }
        Self.askForEvents([consumer])
        let head = await onOwnThread { firstBytes(on: consumer, within: 20_000) }
        #expect(head?.hasPrefix("HTTP/1.1 200") == true, "the stream opened: \(head ?? "nothing")")
        // The stranger fills every other place with event streams of its own from 127.0.0.2 (busy
        // for as long as they last, unlike slow bodies, which a slow machine may cut first), and
        // keeps opening more: every new one is busy too, so only a busy connection can make room
        // (no connection from another address is opened meanwhile: it would be the idle one).
        let streams = await onOwnThread { Self.idleConnections(to: port, count: 15, from: "127.0.0.2") }
        defer { for fd in streams { close(fd) } }
        #expect(streams.count == 15)
        Self.askForEvents(streams)
        try await Task.sleep(for: .milliseconds(500))
        var more = [Int32]()
        defer { for fd in more { close(fd) } }
        for _ in 0..<8 {
            more += await onOwnThread { Self.idleConnections(to: port, count: 1, from: "127.0.0.2") }
            Self.askForEvents(Array(more.suffix(1)))
            try await Task.sleep(for: .milliseconds(200))
        }
        // The consumer's stream, the oldest request in flight, stays open.
        #expect(await onOwnThread { !closes(consumer, within: 2_000) }, "the other client's event stream stayed open")
        let gone = await onOwnThread { streams.filter { closes($0, within: 100) }.count }
        #expect(gone >= 1, "the stranger's own streams made room")
    }

    /// Sends `GET /events` on every socket (each answer is a stream that lasts).
    static func askForEvents(_ sockets: [Int32]) {
        let request = Array("GET /events HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        for fd in sockets { _ = send(fd, request, request.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Issue 12 (third round): 511 bodies trickling in at a byte every 2 s held the whole body
    /// budget, so every large batch got 503. A body must now keep up 32 KiB/s after 5 s.
    @Test func aTricklingBodyIsCutOff() async throws {
        let t = try await TestNode()
        let fd = try #require(Self.idleConnections(to: t.node.port, count: 1).first)
        defer { close(fd) }
        let (text, seconds) = await onOwnThread { () -> (String?, Double) in
            // Before the head is sent: the node's 5 s of grace start when it reads the head, later.
            let started = Date()
            Self.startSlowBodies([fd])
            // A byte a second: never a pause the node would cut, far below the rate it asks for.
            while Date().timeIntervalSince(started) < 45 {
                _ = send(fd, [0x20], 1, Int32(MSG_NOSIGNAL))
                if let text = answer(on: fd, within: 1_000) { return (text, Date().timeIntervalSince(started)) }
            }
            return (nil, Date().timeIntervalSince(started))
        }
        let said = "after \(String(format: "%.1f", seconds)) s: \((text ?? "nothing").debugDescription)"
        #expect(text?.hasPrefix("HTTP/1.1 408") == true, "the node stopped waiting for the trickle \(said)")
        #expect(text?.contains("too_slow") == true, "\(said)")
        // Not before the grace, and long before the 60 s a whole body may take (under 9 s alone;
        // the parallel suite on two cores can delay the node by seconds).
        #expect(seconds >= 5 && seconds < 30, "the node stopped waiting soon after the 5 s grace: \(said)")
    }

    /// The same body sending nothing more is closed after a 10 s pause, not after the whole
    /// 60 s a body may take.
    @Test func aPausedBodyIsCutOff() async throws {
        let t = try await TestNode()
        let sockets = Self.idleConnections(to: t.node.port, count: 1)
        defer { for fd in sockets { close(fd) } }
        let fd = try #require(sockets.first)
        Self.startSlowBodies([fd])
        // Within 40 s of the last byte: a loaded machine may delay the 10 s cut by seconds, but
        // only the pause can close it before the 60 s a whole body may take.
        let lastByte = Date()
        var closed = false
        while !closed, Date().timeIntervalSince(lastByte) < 40 {
            try await Task.sleep(for: .seconds(1))
            closed = Self.isGone(fd)
        }
        let seconds = Date().timeIntervalSince(lastByte)
        #expect(closed, "the node closed a body paused for 10 s (\(seconds) s)")
        #expect(seconds >= 10, "not before the 10 s pause: \(seconds) s")
    }

    /// Issue 12 (second round): each body was bounded, all of them together were not: sixty
    /// 63 MiB bodies at once took 4 GB. A body past the node's budget for all of them gets 503.
    /// And one address may hold half of the budget (D77): five slow bodies from a stranger held
    /// all of it, and members' submissions got 503 as long as it went on.
    @Test func bodiesTogetherAreBoundedToo() async throws {
        try await HeavyTests.oneAtATime {
            let t = try await TestNode()
            let port = t.node.port
            // Three clients: 127.0.0.1, .2 and .3 are all this machine.
            let first = Self.idleConnections(to: port, count: 3, from: "127.0.0.1")
            let second = Self.idleConnections(to: port, count: 2, from: "127.0.0.2")
            let third = Self.idleConnections(to: port, count: 1, from: "127.0.0.3")
            defer { for fd in first + second + third { close(fd) } }
            try #require(first.count == 3 && second.count == 2 && third.count == 1)
            let held = 4 * 62 << 20
            let (ownShare, heldSeen, text) = await onOwnThread { () -> (String?, Int?, String?) in
                let head = Array("POST /inject HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(63 << 20)\r\n\r\n".utf8)
                let chunk = [UInt8](repeating: 0x20, count: 1 << 20)
                // A body of `mebibytes` so far (whitespace, never finished).
                func sendBody(_ mebibytes: Int, on fd: Int32) {
                    _ = send(fd, head, head.count, Int32(MSG_NOSIGNAL))
                    for _ in 0..<mebibytes { _ = send(fd, chunk, chunk.count, Int32(MSG_NOSIGNAL)) }
                }
                // A busy node leaves tens of MiB in kernel buffers for a while: wait until it read them.
                func held(atLeast bytes: Int) -> Int? {
                    var seen = bodyBytesHeld(port: port)
                    let deadline = Date().addingTimeInterval(30)
                    while (seen ?? 0) < bytes, Date() < deadline {
                        usleep(20_000)
                        seen = bodyBytesHeld(port: port)
                    }
                    return seen
                }
                // The first address holds two bodies of 62 MiB, almost its half; a third body from
                // it is refused though the node holds less than half of its budget.
                for fd in first.prefix(2) { sendBody(62, on: fd) }
                _ = held(atLeast: 124 << 20)
                sendBody(16, on: first[2])
                let ownShare = answer(on: first[2], within: 30_000)
                // The second address holds its own two: 248 MiB of the 256. A body from a third
                // address is past the node's budget.
                for fd in second { sendBody(62, on: fd) }
                let seen = held(atLeast: 4 * 62 << 20)
                sendBody(16, on: third[0])
                return (ownShare, seen, answer(on: third[0], within: 30_000))
            }
            #expect(ownShare?.hasPrefix("HTTP/1.1 503") == true, "an address past half the budget is refused: \((ownShare ?? "nothing").debugDescription)")
            #expect(ownShare?.contains("from this address") == true)
            #expect(heldSeen == held, "the node holds the four bodies it read")
            #expect(text?.hasPrefix("HTTP/1.1 503") == true, "the node refuses a body past its budget: \((text ?? "nothing").debugDescription)")
            #expect(text?.contains("busy") == true)
            // Liveness, not latency: at the start of the suite dozens of nodes start on two cores
            // while this one holds 248 MiB of bodies. One probe can fail on the client's 3 s connect
            // timeout alone (seen once in CI, at 43 s into the test), so it asks again until 20 s.
            var alive = false
            let deadline = Date().addingTimeInterval(20)
            while !alive, Date() < deadline {
                alive = await t.client.isHealthy(timeoutSeconds: 5)
                if !alive { try await Task.sleep(for: .milliseconds(500)) }
            }
            #expect(alive, "the node answers /health while it holds the bodies; its /proc stat: \(((try? String(contentsOfFile: "/proc/\(t.node.process.pid)/stat", encoding: .utf8)) ?? "gone").prefix(160))")
            let rss = try #require(t.node.residentBytes)
            #expect(rss < 600 << 20, "the node holds \(rss >> 20) MiB")
        }
    }
}

/// `GET /chain?limit=1000` over Quants of big transactions used to build a 351 MB answer in memory.
/// Pages are now bounded by bytes too, and streamed.
@Suite struct BigReadTests {
    @Test func pagesAreBoundedByBytesAndTheCursorWalksEverything() async throws {
        let t = try await TestNode()
        let writer = try Keys.load("writer1")
        let payload = [UInt8](repeating: UInt8(ascii: "b"), count: 60 * 1024)
        var ids = Set<String>()
        for quant in 0..<6 {
            let txs = (0..<50).map { signed(bytes: Array("\(quant)-\($0)".utf8) + payload, chain: t.chain, by: writer, contentType: "text/plain") }
            _ = try await t.client.submit(binaryBatch: Transaction.encodeBatch(txs))
            #expect(try await t.client.leap().sealed)
            ids.formUnion(txs.map(\.id.hex))
        }
        // 6 Quants of about 3 MiB each: a page stops after the Quant that reaches 8 MiB.
        let first = try await t.client.page(from: 1, limit: 1000)
        #expect(first.quants.count == 3)
        #expect(first.next == 4)
        var seen = Set<String>()
        var from: UInt64? = 1
        var pages = 0
        while let next = from {
            let page = try await t.client.page(from: next, limit: 1000)
            for quant in page.quants { seen.formUnion(quant.transactions.compactMap(\.id)) }
            from = page.next
            pages += 1
        }
        #expect(pages == 2)
        #expect(seen == ids, "the cursor walks every transaction once")
        let single = try await t.client.quant("2")
        #expect(single.transactions.count == 50, "a Quant streams whole")
        #expect(try await verifyWholeChain(t.client, chain: t.chain) == 300)
    }
}
