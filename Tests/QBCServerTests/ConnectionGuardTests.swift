import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
@testable import QBCServer
import Testing

/// The connection guard on its own, driven part by part.
@Suite struct ConnectionGuardTests {
    static func connection() throws -> EmbeddedChannel {
        let table = ConnectionTable(limits: ConnectionLimits(maximum: 10, headTimeout: .seconds(15), bodyPause: .seconds(10)))
        let channel = EmbeddedChannel(handler: ConnectionGuard(table: table))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    static func request(_ path: String) -> [HTTPRequestPart] {
        [.head(HTTPRequest(method: .get, scheme: nil, authority: "x", path: path)), .end(nil)]
    }

    /// A client may send its next request once an answer's bytes are in, before the answer's
    /// end (which has no bytes of its own for an answer of known length) is written: after a
    /// refused event stream that request closed the connection, as one pipelined behind a stream
    /// would (EventTests failed on it about once in eleven runs). It is now answered in turn.
    @Test func aRequestRightAfterARefusedStreamIsTaken() throws {
        let channel = try Self.connection()
        for part in Self.request("/events?from=-1") { try channel.writeInbound(part) }
        let refusal = HTTPResponse(status: .badRequest, headerFields: [.contentType: "application/json"])
        try channel.writeOutbound(HTTPResponsePart.head(refusal))
        try channel.writeOutbound(HTTPResponsePart.body(ByteBuffer(string: #"{"error":"malformed"}"#)))
        for part in Self.request("/health") { try channel.writeInbound(part) }
        #expect(channel.isActive, "the connection stays open")
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        channel.embeddedEventLoop.run()
        let paths = try Self.paths(readFrom: channel)
        #expect(paths == ["/events?from=-1", "/health"], "both requests went on, in order: \(paths)")
    }

    /// A request pipelined behind an event stream that is one still closes the connection (D76).
    @Test func aRequestBehindAStreamClosesTheConnection() throws {
        let channel = try Self.connection()
        for part in Self.request("/events") { try channel.writeInbound(part) }
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok, headerFields: [.contentType: EventStreamFormat.contentType])))
        for part in Self.request("/health") { try channel.writeInbound(part) }
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    /// A stream the node ends (a `cutoff`, events.md) is over: the next request on the
    /// connection is taken.
    @Test func aRequestAfterAStreamTheNodeEndedIsTaken() throws {
        let channel = try Self.connection()
        for part in Self.request("/events") { try channel.writeInbound(part) }
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok, headerFields: [.contentType: EventStreamFormat.contentType])))
        try channel.writeOutbound(HTTPResponsePart.body(ByteBuffer(string: "event: cutoff\ndata: {}\n\n")))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        channel.embeddedEventLoop.run()
        for part in Self.request("/health") { try channel.writeInbound(part) }
        channel.embeddedEventLoop.run()
        #expect(channel.isActive, "the connection stays open")
        #expect(try Self.paths(readFrom: channel) == ["/events", "/health"])
    }

    static func paths(readFrom channel: EmbeddedChannel) throws -> [String] {
        var paths = [String]()
        while let part = try channel.readInbound(as: HTTPRequestPart.self) {
            if case .head(let head) = part { paths.append(head.path ?? "") }
        }
        return paths
    }
}
