public import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import QBCCrypto
import QBCWire

/// One Server-Sent Event from a node's event stream (documentation/events.md).
public struct ServerEvent: Sendable, Equatable {
    /// The cursor to resume after this event; nil for `cutoff`.
    public let id: String?
    /// `quant`, `disconnected`, `final` or `cutoff`.
    public let event: String
    /// The event's JSON.
    public let data: String
}

extension NodeClient {
    /// The chain's event stream from `cursor` (`0` for the whole history, nil for from now on),
    /// optionally only transactions of one sender or content type. Ends when the node ends it (a
    /// `cutoff` event says where to resume) or the connection closes.
    public func events(from cursor: String? = nil, sender: String? = nil, contentType: String? = nil, reader: SigningKey? = nil,
                       anonymous: Bool = false)
        -> AsyncThrowingStream<ServerEvent, any Error>
    {
        var query = [String]()
        if let cursor { query.append("from=\(cursor)") }
        if let sender { query.append("sender=\(sender)") }
        if let contentType { query.append("contentType=\(contentType.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? contentType)") }
        let path = chained("/events") + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var headers = [(String, String)]()
                    if let reader { headers = try await proofHeaders(path: path, reader: reader, anonymous: anonymous) }
                    var request = try self.request(path)
                    for (name, value) in headers { request.headers.add(name: name, value: value) }
                    let response: HTTPClientResponse
                    do { response = try await http.execute(request, timeout: .hours(24 * 365)) } catch {
                        throw NodeClientError(status: nil, code: "unreachable", message: "cannot reach \(baseURL): \(explain(error))")
                    }
                    guard response.status == .ok else {
                        let bytes = try await Self.collect(response, upTo: 1 << 20, by: .now() + timeout, from: baseURL)
                        let failure = try? WireJSON.decode(ErrorJSON.self, from: bytes, what: "error")
                        throw NodeClientError(status: Int(response.status.code), code: failure?.error ?? "http_error", message: failure?.message ?? "")
                    }
                    var parser = EventParser()
                    do {
                        for try await chunk in response.body {
                            for event in try parser.feed(Array(chunk.readableBytesView)) { continuation.yield(event) }
                        }
                    } catch let error as NodeClientError { throw error } catch let error as CancellationError { throw error } catch {
                        throw NodeClientError(status: nil, code: "unreachable", message: "\(baseURL) broke off its event stream: \(error)")
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// Splits the SSE byte stream into events: blank-line separated frames of `field: value` lines,
/// comments (`:`) skipped. A frame is bounded so a broken stream cannot fill the client's memory.
struct EventParser {
    static let maxFrameBytes = 64 << 20
    private var buffer = [UInt8]()
    /// Where the search for the next blank line resumes: bytes before it hold none.
    private var scanned = 0

    mutating func feed(_ bytes: [UInt8]) throws -> [ServerEvent] {
        buffer += bytes
        var events = [ServerEvent]()
        var start = 0
        while let end = Self.frameEnd(in: buffer, from: max(start, scanned)) {
            let frame = String(decoding: buffer[start..<end], as: UTF8.self)
            start = end + 2
            scanned = start
            if let event = Self.event(frame) { events.append(event) }
        }
        buffer.removeSubrange(..<start)
        scanned = max(0, buffer.count - 1)
        guard buffer.count <= Self.maxFrameBytes else {
            throw NodeClientError(status: nil, code: "bad_response", message: "an event of more than \(Self.maxFrameBytes) bytes")
        }
        return events
    }

    private static func event(_ frame: String) -> ServerEvent? {
        var (id, event, data): (String?, String?, [String]) = (nil, nil, [])
        for line in frame.split(separator: "\n", omittingEmptySubsequences: false) where !line.hasPrefix(":") {
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count == 2 ? String(parts[1].hasPrefix(" ") ? parts[1].dropFirst() : parts[1]) : ""
            switch parts[0] {
            case "id": id = value
            case "event": event = value
            case "data": data.append(value)
            default: continue
            }
        }
        return event.map { ServerEvent(id: id, event: $0, data: data.joined(separator: "\n")) }
    }

    private static func frameEnd(in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= 2, start < bytes.count - 1 else { return nil }
        for index in start..<(bytes.count - 1) where bytes[index] == 0x0a && bytes[index + 1] == 0x0a { return index }
        return nil
    }
}
