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

/// Every refusal carries the JSON error body; methods a route does not take get 405 with Allow.
@Suite struct HTTPEdgeTests {
    @Test func unknownPathsAndMethodsGetJSONErrors() async throws {
        let t = try await TestNode()
        let unknown = try await raw("GET", t.node.url + "/no/such/route")
        #expect(unknown.status == 404)
        #expect(unknown.error?.error == "not_found")
        for (method, path, allowed) in [
            ("PUT", "/inject", "POST"), ("DELETE", "/stats", "GET, HEAD"), ("PATCH", "/chain", "GET, HEAD"),
            ("OPTIONS", "/tx/\(String(repeating: "0", count: 64))", "GET, HEAD"), ("TRACE", "/leap", "GET, POST, HEAD"),
            ("DELETE", "/chains/\(t.chain.hex)/inject", "POST"),
        ] {
            var request = HTTPClientRequest(url: t.node.url + path)
            request.method = .init(rawValue: method)
            let response = try await NodeClient.sharedHTTPClient.execute(request, timeout: .seconds(10))
            let bytes = Array(try await response.body.collect(upTo: 1 << 20).readableBytesView)
            #expect(response.status.code == 405, "\(method) \(path)")
            #expect(response.headers["Allow"].first == allowed, "\(method) \(path): \(response.headers["Allow"])")
            #expect((try? JSONDecoder().decode(ErrorJSON.self, from: Data(bytes)))?.error == "method_not_allowed", "\(method) \(path)")
        }
        var head = HTTPClientRequest(url: t.node.url + "/stats")
        head.method = .HEAD
        let response = try await NodeClient.sharedHTTPClient.execute(head, timeout: .seconds(10))
        #expect(response.status == .ok)
        #expect(try await response.body.collect(upTo: 1 << 20).readableBytes == 0)
    }

    @Test func bodiesMustBeOfATypeTheRouteTakes() async throws {
        let t = try await TestNode()
        let tx = signed(#"{"typed":1}"#, chain: t.chain, by: try Keys.load("writer1"))
        let batch = Transaction.encodeBatch([tx])
        let lookalike = try await raw("POST", t.node.url + "/inject", body: batch, headers: [("Content-Type", Transaction.batchContentType + "XYZ")])
        #expect(lookalike.status == 415)
        #expect(lookalike.error?.error == "unsupported_media_type")
        let text = try await raw("POST", t.node.url + "/inject", body: WireJSON.encode(TransactionJSON(tx)), headers: [("Content-Type", "text/plain")])
        #expect(text.status == 415)
        #expect(try await t.client.stats().mempool == 0, "nothing was admitted")
        let withParameter = try await raw(
            "POST", t.node.url + "/inject", body: batch, headers: [("Content-Type", Transaction.batchContentType + "; version=1")])
        #expect(withParameter.status == 200)
        #expect(try await t.client.stats().mempool == 1)
    }

    /// openapi.yaml: an array gets a verdict per element; one broken element refuses only itself.
    @Test func aJSONArrayWithOneMalformedElementGetsAVerdictPerElement() async throws {
        let t = try await TestNode()
        let writer = try Keys.load("writer1")
        let good = (0..<2).map { signed(#"{"n":\#($0)}"#, chain: t.chain, by: writer) }
        var elements = good.map { String(decoding: WireJSON.encode(TransactionJSON($0)), as: UTF8.self) }
        elements.insert(#"{"chain":"zz","nonsense":true}"#, at: 1)
        let answer = try await raw("POST", t.node.url + "/inject", body: Array("[\(elements.joined(separator: ","))]".utf8))
        #expect(answer.status == 200)
        let verdicts = try JSONDecoder().decode(InjectBatchJSON.self, from: Data(answer.bytes))
        #expect(verdicts.results.map(\.status) == ["admitted", "rejected", "admitted"])
        #expect(verdicts.results[1].error == "malformed")
        let notJSON = try await raw("POST", t.node.url + "/inject", body: Array("[{".utf8))
        #expect(notJSON.status == 400, "a body that is not JSON is refused whole")
    }

    /// D75: Foundation spent about 135 bytes per element of a JSON array on /inject and judged
    /// every element before counting them: one 63 MiB array of zeros took 8.5 GB. The array is now
    /// counted first and each element parsed alone, with a bound on its values.
    @Test func jsonArraysAndObjectsOfManyValuesAreRefusedBeforeTheyAreParsed() async throws {
        try await HeavyTests.oneAtATime {
            let t = try await TestNode()
            let url = t.node.url + "/inject"
            // 8 MiB: before D75 such an array took 1.1 GB (the limit below), 63 MiB took 8.5 GB.
            let zeros = Array(("[" + String(repeating: "0,", count: 4 << 20) + "0]").utf8)
            let many = try await raw("POST", url, body: zeros)
            #expect(many.status == 413, "\(many.status) \(String(decoding: many.bytes.prefix(200), as: UTF8.self))")
            #expect(String(decoding: many.bytes, as: UTF8.self).contains("at most 10000 transactions per request"))
            // Small elements of many values are parsed one at a time; a large one is refused uncounted.
            let nested = "{\"x\":[" + Array(repeating: "0", count: 100).joined(separator: ",") + "]}"
            let large = "{\"x\":[" + Array(repeating: "0", count: 40_000).joined(separator: ",") + "]}"
            let elements = Array(repeating: nested, count: 9_999) + [large]
            let heavy = try await raw("POST", url, body: Array(("[" + elements.joined(separator: ",") + "]").utf8))
            #expect(heavy.status == 200)
            let verdicts = try JSONDecoder().decode(InjectBatchJSON.self, from: Data(heavy.bytes))
            #expect(verdicts.results.count == 10_000)
            #expect(verdicts.results.allSatisfy { $0.status == "rejected" && $0.error == "malformed" })
            #expect(verdicts.results.first?.message == "unknown field \"x\" in transaction")
            #expect(verdicts.results.last?.message == "transaction [9999] holds 40003 JSON values; a transaction holds at most 64")
            let object = Array(("{\"x\":[" + String(repeating: "0,", count: 1 << 20) + "0]}").utf8)
            let one = try await raw("POST", url, body: object)
            #expect(one.status == 400)
            #expect(String(decoding: one.bytes, as: UTF8.self).contains("holds 1048580 JSON values"))
            let cutOff = try await raw("POST", url, body: Array(zeros.dropLast()))
            #expect(cutOff.status == 413, "counted before the end is read")
            let broken = Array(("{\"x\":[" + String(repeating: "0,", count: 1 << 20)).utf8)
            #expect(try await raw("POST", url, body: broken).status == 400)
            #expect(try await t.client.stats().mempool == 0)
            let peak = try #require(t.node.peakResidentBytes)
            #expect(peak < 600 << 20, "the node's peak memory was \(peak >> 20) MiB")
        }
    }

    /// A Content-Length of 2^63 or more (the HTTP parser takes up to 2^64 − 1) skipped the early
    /// 413: the node read the bytes sent and waited for the rest until its pause closed the
    /// connection, answering nothing.
    @Test func aContentLengthPastAnyIntegerIsRefusedAtOnce() async throws {
        let t = try await TestNode()
        let port = t.node.port
        let text = await onOwnThread { () -> String? in
            guard let fd = ConnectionFloodTests.idleConnections(to: port, count: 1).first else { return nil }
            defer { close(fd) }
            let head = "POST /inject HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9223372036854775808\r\n\r\n[]"
            _ = send(fd, head, head.utf8.count, Int32(MSG_NOSIGNAL))
            return answer(on: fd, within: 30_000)
        }
        #expect(text?.hasPrefix("HTTP/1.1 413") == true, "\((text ?? "nothing").prefix(200).debugDescription)")
        #expect(text?.contains("too_large") == true)
    }

    /// Request heads the HTTP parser refuses used to get 400 with an empty body; they get the
    /// JSON error too, and the connection is closed.
    @Test func requestsThatAreNotHTTPGetAJSONError() async throws {
        let t = try await TestNode()
        let port = t.node.port
        let heads = [
            "GARBAGE\r\n\r\n", "GET /health HTTP/1.1\nHost: x\n\n", "GET /health\r\n\r\n",
            "GET /\(String(repeating: "a", count: 200_000)) HTTP/1.1\r\nHost: x\r\n\r\n",
            // Bodies whose framing is broken: the head was fine, so a handler is already waiting.
            "POST /inject HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}",
            "POST /inject HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
        ]
        for head in heads {
            let text = await onOwnThread { exchange(head, port: port).answer }
            let said = "\(head.prefix(24).debugDescription): \((text ?? "nothing").prefix(200).debugDescription)"
            #expect(text?.hasPrefix("HTTP/1.1 400") == true, "\(said)")
            #expect(text?.contains(#"{"error":"malformed","#) == true, "\(said)")
            #expect(text?.lowercased().contains("connection: close") == true, "\(said)")
        }
        // CONNECT: the parser reads nothing after it and the answer can carry no body, so the
        // node answers and closes instead of leaving the client waiting for a body.
        // Closed within 5 s: before the 15 s head timeout would close it anyway.
        let closed = await onOwnThread { exchange("CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n", port: port) }
        #expect(closed.answer?.hasPrefix("HTTP/1.1 4") == true, "CONNECT is refused: \((closed.answer ?? "nothing").debugDescription)")
        #expect(closed.closed, "and the connection is closed")
        #expect(await t.client.answersHealth())
    }

    /// Requests the node would misread are refused at their heads (D82): they used to be answered
    /// 200, and a gzip body was parsed as if it were plain.
    @Test func requestsWithoutOneHostOrWithCodedBodiesAreRefused() async throws {
        let t = try await TestNode()
        let port = t.node.port
        let inject = "POST /inject HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        let cases: [(String, String)] = [
            ("GET /health HTTP/1.1\r\n\r\n", "HTTP/1.1 400"),
            ("GET /health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "HTTP/1.1 400"),
            ("GET /health HTTP/1.1\r\nHost: a,b\r\n\r\n", "HTTP/1.1 400"),
            ("GET /health HTTP/1.0\r\nHost: x\r\nHost: y\r\n\r\n", "HTTP/1.0 400"),
            (inject + "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n", "HTTP/1.1 501"),
            // A Transfer-Encoding that names no coding: the length was taken from Content-Length,
            // which a proxy in front may not do.
            (inject + "Transfer-Encoding: \r\nContent-Length: 2\r\n\r\n[]", "HTTP/1.1 400"),
            (inject + "Content-Encoding: gzip\r\nContent-Length: 2\r\n\r\n[]", "HTTP/1.1 415"),
            // A large body the node will not read: the refusal used to reach the client as a reset.
            (inject + "Content-Encoding: gzip\r\nContent-Length: 3000000\r\n\r\n" + String(repeating: "0", count: 3_000_000), "HTTP/1.1 415"),
            // Behind a request it must answer first: that answer, then the refusal.
            ("GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\n\r\n", "HTTP/1.1 200"),
        ]
        for (request, status) in cases {
            let (text, gone) = await onOwnThread { exchange(request, port: port) }
            let said = "\(request.prefix(60).debugDescription): \((text ?? "nothing").prefix(300).debugDescription)"
            #expect(text?.hasPrefix(status) == true, "\(said)")
            #expect(text?.contains(#"{"error":""#) == true && text?.lowercased().contains("connection: close") == true, "\(said)")
            #expect(gone, "and the connection is closed: \(said)")
        }
        #expect(try await t.client.stats().mempool == 0, "nothing was admitted")
        // An empty Host is a Host (RFC 9112 3.2).
        #expect(await onOwnThread { exchange("GET /health HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n", port: port, watchClose: false).answer }?.hasPrefix("HTTP/1.1 200") == true)
        // Behind an event stream a refusal could never be written: the connection is closed.
        let behindStream = await onOwnThread { () -> Bool in
            guard let fd = ConnectionFloodTests.idleConnections(to: port, count: 1).first else { return false }
            defer { close(fd) }
            let requests = "GET /events HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\n\r\n"
            _ = send(fd, requests, requests.utf8.count, Int32(MSG_NOSIGNAL))
            return closes(fd, within: 5_000)
        }
        #expect(behindStream, "a refused request behind an event stream closes the connection")
        #expect(await t.client.answersHealth())
    }

    /// HEAD on a streamed route said `Content-Length: 0`, which is not what GET sends.
    @Test func headOfAStreamedRouteClaimsNoEmptyBody() async throws {
        let t = try await TestNode()
        let port = t.node.port
        let requests = "HEAD /chain HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        let text = await onOwnThread { exchange(requests, port: port, watchClose: false).answer }
        let answers = (text ?? "").components(separatedBy: "HTTP/1.1 200 OK")
        #expect(answers.count == 3, "two answers: \((text ?? "nothing").debugDescription)")
        #expect(answers.count == 3 && !answers[1].lowercased().contains("content-length: 0"), "\((text ?? "").debugDescription)")
        #expect(answers.last?.hasSuffix(#"{"status":"ok"}"#) == true, "the answer after it is framed right: \((text ?? "").debugDescription)")
    }

    /// A client that asks `Expect: 100-continue` gets the interim answer before it sends its body
    /// (curl waited a second for it on every body over 1 MB), then the answer to the request;
    /// an HTTP/1.0 client never gets one.
    @Test func aClientExpecting100ContinueGetsItBeforeItsBody() async throws {
        let t = try await TestNode()
        let port = t.node.port
        let (interim, final, old) = await onOwnThread { () -> (String?, String?, String?) in
            guard let fd = ConnectionFloodTests.idleConnections(to: port, count: 1).first else { return (nil, nil, nil) }
            defer { close(fd) }
            let head = "POST /inject HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
            _ = send(fd, head, head.utf8.count, Int32(MSG_NOSIGNAL))
            // Under the suite's load an event loop may be seconds late; the client's own wait
            // (curl's) is a second, and a node that sends none fails here after five.
            let interim = answer(on: fd, within: 5_000)
            _ = send(fd, "[]", 2, Int32(MSG_NOSIGNAL))
            let final = answer(on: fd, within: 10_000)
            let (old, _) = exchange("POST /inject HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n[]", port: port, watchClose: false)
            return (interim, final, old)
        }
        #expect(interim == "HTTP/1.1 100 Continue\r\n\r\n", "the interim answer, before the body: \((interim ?? "nothing").debugDescription)")
        #expect(final?.hasPrefix("HTTP/1.1 ") == true && final?.contains("100 Continue") == false, "then the answer: \((final ?? "nothing").prefix(200).debugDescription)")
        #expect(old?.hasPrefix("HTTP/1.0 ") == true && old?.contains("100 Continue") == false, "\((old ?? "nothing").prefix(200).debugDescription)")
        // A body no route takes is refused at once, without inviting it.
        let (tooLarge, _) = await onOwnThread {
            exchange("POST /inject HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\nExpect: 100-continue\r\n\r\n", port: port, watchClose: false)
        }
        #expect(tooLarge?.hasPrefix("HTTP/1.1 413") == true, "\((tooLarge ?? "nothing").prefix(200).debugDescription)")
    }

    /// An HTTP/1.0 client cannot read a chunked body, and answers of unknown length (streamed
    /// pages) were chunked: they now say HTTP/1.0 and end with the connection.
    @Test func http10ClientsGetAnswersTheyCanRead() async throws {
        let t = try await TestNode()
        let port = t.node.port
        // Anything sent behind an HTTP/1.0 request is not read: a request, or a stray byte, there
        // made the parser's error answer land inside the close-delimited body.
        let behind = ["", "x", "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"]
        for (path, after) in [("/chain?limit=10", behind[0]), ("/chain?limit=10", behind[1]), ("/chain?limit=10", behind[2]), ("/health", behind[2])] {
            let (text, gone) = await onOwnThread { exchange("GET \(path) HTTP/1.0\r\n\r\n" + after, port: port) }
            let parts = (text ?? "").components(separatedBy: "\r\n\r\n")
            let said = "\(path) + \(after.debugDescription): \((text ?? "nothing").prefix(300).debugDescription)"
            #expect(parts[0].hasPrefix("HTTP/1.0 200"), "\(said)")
            #expect(!parts[0].lowercased().contains("transfer-encoding"), "\(said)")
            #expect(parts[0].lowercased().contains("connection: close"), "\(said)")
            #expect(parts.count == 2 && (try? JSONSerialization.jsonObject(with: Data(parts[1].utf8))) != nil, "the body is the JSON itself: \(said)")
            #expect(gone, "and the connection ends: \(path)")
        }
        #expect(await t.client.answersHealth(), "HTTP/1.1 clients are answered as before")
    }

    /// A byte sent behind an HTTP/1.0 request for a long streamed page made the parser's error
    /// answer land inside the page's close-delimited body (the review's reader: 8 KB at a time).
    @Test func nothingSentBehindAnHTTP10RequestEndsUpInItsAnswer() async throws {
        // A head timeout of 1 s: the graceful end used to be cut short by it (at 15 s by default).
        // One Quant of 9 MB: more than the sockets' buffers hold, so the page is still being
        // written when the parser's error answer is.
        let (t, writer, client) = try await Self.nodeHolding9MB()
        let port = t.node.port
        #expect(try await client.leap().sealed)
        // And one of about 40 KB, which the node hands to the kernel at once.
        let small = [signed(bytes: [UInt8](repeating: UInt8(ascii: "s"), count: 30_000), chain: t.chain, by: writer, contentType: "application/octet-stream")]
        #expect(try await client.submit(batch: small).admitted == 1)
        #expect(try await client.leap().sealed)
        // At once behind the request for the long page; and after 2.5 s (past the head timeout)
        // behind the short one, from a reader that had not started reading: the guard's timeout
        // closed the connection whole meanwhile, and the byte drew a reset that cut the page off.
        for pause: UInt32 in [0, 2_500_000] {
            let (body, clean) = await onOwnThread { () -> (String, Bool) in
                guard let fd = LoopbackConnection.open(to: port, receiveBuffer: 4096) else { return ("", false) }
                defer { close(fd) }
                let request = pause == 0 ? "GET /chain?from=1&limit=1 HTTP/1.0\r\n\r\nx" : "GET /chain?from=2&limit=1 HTTP/1.0\r\n\r\n"
                _ = send(fd, request, request.utf8.count, Int32(MSG_NOSIGNAL))
                if pause > 0 {
                    usleep(pause)
                    _ = send(fd, "x", 1, Int32(MSG_NOSIGNAL))
                }
                var received = [UInt8]()
                var buffer = [UInt8](repeating: 0, count: 8192)
                var clean = false
                while true {
                    var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&descriptor, 1, 10_000) > 0 else { break }
                    let read = recv(fd, &buffer, buffer.count, 0)
                    guard read > 0 else {
                        clean = read == 0
                        break
                    }
                    received += buffer.prefix(read)
                    usleep(1_000)
                }
                let text = String(decoding: received, as: UTF8.self)
                return (text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n"), clean)
            }
            #expect(body.count > (pause == 0 ? 9_000_000 : 40_000), "the page holds the Quant: \(body.count) bytes (pause \(pause) µs)")
            #expect(!body.contains("HTTP/1.1"), "no other answer inside the body: \(body.suffix(200).debugDescription)")
            #expect((try? JSONSerialization.jsonObject(with: Data(body.utf8))) != nil, "the body is the page's JSON and nothing else (pause \(pause) µs)")
            #expect(clean, "and it ends with end of file, not a reset (pause \(pause) µs)")
        }
        // A refused request, and a client that sends a byte more after the head timeout: the
        // guard's timeout used to close the connection whole, so the byte drew a reset.
        let (refusal, clean) = await onOwnThread { () -> (String, Bool) in
            guard let fd = LoopbackConnection.open(to: port) else { return ("", false) }
            defer { close(fd) }
            let request = "GET /health HTTP/1.1\r\n\r\n"
            _ = send(fd, request, request.utf8.count, Int32(MSG_NOSIGNAL))
            usleep(2_500_000)
            _ = send(fd, "x", 1, Int32(MSG_NOSIGNAL))
            usleep(200_000)
            var received = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 8192)
            while true {
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 5_000) > 0 else { return (String(decoding: received, as: UTF8.self), false) }
                let read = recv(fd, &buffer, buffer.count, 0)
                guard read > 0 else { return (String(decoding: received, as: UTF8.self), read == 0) }
                received += buffer.prefix(read)
            }
        }
        #expect(refusal.hasPrefix("HTTP/1.1 400"), "\(refusal.prefix(200).debugDescription)")
        #expect(clean, "the refused connection ends with end of file after its answer, not a reset")
    }

    /// The wait for the next request head starts when the last answer has reached the kernel,
    /// not when its end was queued: a client still reading a long answer (a 16 MiB sync page on a
    /// slow link) was cut off by the head timeout (15 s by default; 1 s here).
    @Test func aSlowReaderGetsTheWholeAnswerPastTheHeadTimeout() async throws {
        // 9 MB waiting: the mempool's listing (8 MiB of them, about 11 MB of JSON) is written
        // whole, more than the sockets' buffers hold.
        let t = try await Self.nodeHolding9MB().node
        let port = t.node.port
        let (complete, received, answeredAgain, closedWhenIdle) = await onOwnThread { () -> (Bool, Int, Bool, Bool) in
            guard let fd = LoopbackConnection.open(to: port, receiveBuffer: 4096) else { return (false, 0, false, false) }
            defer { close(fd) }
            let request = "GET /mempool?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n"
            _ = send(fd, request, request.utf8.count, Int32(MSG_NOSIGNAL))
            usleep(2_500_000)  // the reader starts late, and then reads slowly
            var received = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65_536)
            var complete = false
            while !complete {
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 10_000) > 0 else { break }
                let read = recv(fd, &buffer, buffer.count, 0)
                guard read > 0 else { break }
                received += buffer.prefix(read)
                complete = Self.isComplete(received)
                if received.count < 1_000_000 { usleep(1_000) }
            }
            // Kept alive: the next request is answered, and an idle connection still closes.
            let health = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
            _ = send(fd, health, health.utf8.count, Int32(MSG_NOSIGNAL))
            let again = answer(on: fd, within: 5_000)
            return (complete, received.count, again?.hasPrefix("HTTP/1.1 200") == true, closes(fd, within: 5_000))
        }
        #expect(complete, "the whole listing, as long as announced: \(received) bytes")
        #expect(received > 8_000_000)
        #expect(answeredAgain, "the connection stays open for the next request")
        #expect(closedWhenIdle, "and closes once idle for the head timeout")
    }

    /// Answers written and not yet read are bounded over all connections (D85): a stranger's
    /// connections that each asked for the 11 MB mempool listing and read nothing held 3.6 GB
    /// over 300 of them. Past 256 MiB the connections holding the most are closed, and a client
    /// from another address that reads still gets the whole listing (one from the same address
    /// may be the one closed: its fresh answer is the largest there, D85).
    @Test func answersNobodyReadsHoldAtMostTheAnswerBudget() async throws {
        let t = try await Self.nodeHolding9MB().node
        let port = t.node.port
        let (peak, closed, complete) = await onOwnThread { () -> (Int, Int, Int) in
            let request = "GET /mempool?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n"
            var idle = [Int32]()
            defer { idle.forEach { close($0) } }
            var peak = 0
            for _ in 0..<40 {
                guard let fd = LoopbackConnection.open(to: port, from: "127.0.0.2", receiveBuffer: 4096) else { continue }
                _ = send(fd, request, request.utf8.count, Int32(MSG_NOSIGNAL))
                idle.append(fd)
                usleep(100_000)
                peak = max(peak, gauge("qbc_answer_queued_bytes", port: port) ?? -1)
            }
            for _ in 0..<30 {
                usleep(100_000)
                peak = max(peak, gauge("qbc_answer_queued_bytes", port: port) ?? -1)
            }
            // While the others (127.0.0.2) hold the budget, a client that reads gets its answer whole.
            let complete = Self.wholeAnswer(request, port: port)
            // A closed one ends (after what the kernel held of its answer); the others hold on.
            let closed = idle.filter { fd in
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&descriptor, 1, 300) > 0 else { return false }
                    let read = recv(fd, &buffer, buffer.count, 0)
                    if read <= 0 { return true }
                }
            }.count
            return (peak, closed, complete)
        }
        // One answer may come in before the connection holding the most is closed.
        #expect(peak > 0 && peak <= (256 << 20) + 12_000_000, "answers queued at most: \(peak) bytes")
        #expect(closed >= 40 - (256 << 20) / 11_000_000, "the connections holding the most were closed: \(closed) of 40")
        #expect(complete > 11_000_000, "a client that reads gets the whole listing: \(complete) bytes")
    }

    /// The answer budget closes connections of the address holding the most first: a stranger's
    /// many middling unread answers kept the budget just under full, and every honest request for
    /// a large answer was the one closed (the review: curl failed at once, all 83 stayed open).
    @Test func theAnswerBudgetClosesTheAddressHoldingTheMostFirst() async throws {
        let t = try await Self.nodeHolding9MB().node
        let port = t.node.port
        let (held, honest) = await onOwnThread { () -> (Int, Int) in
            var idle = [Int32]()
            defer { idle.forEach { close($0) } }
            // From 127.0.0.2: answers of about 3.2 MB each, never read, to just under the budget.
            let request = "GET /mempool?limit=40 HTTP/1.1\r\nHost: x\r\n\r\n"
            for _ in 0..<83 {
                guard let fd = LoopbackConnection.open(to: port, from: "127.0.0.2", receiveBuffer: 4096) else { continue }
                _ = send(fd, request, request.utf8.count, Int32(MSG_NOSIGNAL))
                idle.append(fd)
            }
            var held = 0
            for _ in 0..<100 where held < 250_000_000 {
                usleep(100_000)
                held = gauge("qbc_answer_queued_bytes", port: port) ?? -1
            }
            // From 127.0.0.1: the whole listing, read at once.
            return (held, Self.wholeAnswer("GET /mempool?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n", port: port))
        }
        #expect(held > 200_000_000, "the stranger's unread answers filled the budget: \(held) bytes")
        #expect(honest > 11_000_000, "the other address's reader got the whole listing: \(honest) bytes")
    }

    /// `request` on a new connection from 127.0.0.1, read at once: the answer's length when it
    /// came whole, else minus what came.
    static func wholeAnswer(_ request: String, port: Int) -> Int {
        guard let fd = LoopbackConnection.open(to: port) else { return 0 }
        defer { close(fd) }
        _ = send(fd, request, request.utf8.count, Int32(MSG_NOSIGNAL))
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !isComplete(received) {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 10_000) > 0 else { break }
            let read = recv(fd, &buffer, buffer.count, 0)
            guard read > 0 else { break }
            received += buffer.prefix(read)
        }
        return isComplete(received) ? received.count : -received.count
    }

    /// Whether `bytes` hold a whole answer: as long as announced, or chunked to its last chunk.
    static func isComplete(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes.prefix(4096), as: UTF8.self)
        guard let head = text.range(of: "\r\n\r\n") else { return false }
        if let line = text[..<head.lowerBound].split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
            let length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces))
        {
            return bytes.count - text.utf8.distance(from: text.startIndex, to: head.upperBound) == length
        }
        let terminator = Array("\r\n0\r\n\r\n".utf8)
        return bytes.count > terminator.count && Array(bytes.suffix(terminator.count)) == terminator
    }

    /// A node with a head timeout of 1 s and 150 transactions of 60 KB waiting, from `writer`,
    /// and a client of it that keeps no connection idle for long: the node closes idle ones
    /// after 1 s, and a pooled connection reused as it closes fails the call (under load, a
    /// second between two calls happens).
    static func nodeHolding9MB() async throws -> (node: TestNode, writer: SigningKey, client: NodeClient) {
        let t = try await TestNode(environment: ["QBC_HEAD_TIMEOUT_MS": "1000"])
        let client = NodeClient(baseURL: t.node.url, http: briefKeepAlive)
        let writer = try Keys.load("writer1")
        let payload = [UInt8](repeating: UInt8(ascii: "p"), count: 60_000)
        let batch = (0..<150).map { _ in signed(bytes: payload, chain: t.chain, by: writer, contentType: "application/octet-stream") }
        #expect(try await client.submit(batch: batch).admitted == 150)
        return (t, writer, client)
    }

    private static let briefKeepAlive: HTTPClient = {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(3), read: .seconds(120)))
        configuration.connectionPool = .init(idleTimeout: .milliseconds(100))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}
