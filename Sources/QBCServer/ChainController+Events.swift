import Foundation
import Hummingbird
import QBCCore
import QBCCrypto
import QBCNode
import QBCStorage

extension ChainController {
    /// `GET /events`, `GET /chains/{chain}/events`: the chain's changes as Server-Sent Events
    /// (documentation/events.md). Resumes after `Last-Event-ID` or `?from=`; `from=0` replays the
    /// whole history; without either it starts now.
    func events(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try chain(context)
        let access = try await gate.admit(request, to: chain, now: clock.now(), source: context.source)
        var filter = EventFilter()
        if let sender = request.uri.queryParameters.get("sender") {
            guard let key = try? PublicKey(hex: sender) else { throw APIError(.badRequest, "malformed", "sender must be a public key (64 hex digits)") }
            filter.sender = key
        }
        if let type = request.uri.queryParameters.get("contentType") {
            guard !type.isEmpty, type.utf8.count <= TransactionLimits.maxContentTypeBytes else {
                throw APIError(.badRequest, "malformed", "contentType must be 1 to \(TransactionLimits.maxContentTypeBytes) bytes")
            }
            filter.contentType = type
        }
        let depth: UInt64 = chain.engine.commitsAreFinal ? 0 : UInt64(runtime.settings.finalDepth)
        let store = runtime.store
        let start: EventCursor
        let lastEventID: String? = request.headers.first { $0.name.canonicalName == "last-event-id" }?.value
        let from: String? = request.uri.queryParameters.get("from").map { String($0) }
        if let text = lastEventID ?? from, text != "now" {
            guard let cursor = EventCursor(text[...]) else {
                throw APIError(.badRequest, "malformed", "the cursor \"\(text.prefix(40))\" is not an event id (N or N:H), 0, or now")
            }
            let last = try await read { try await store.lastEvent(chain: chain.id) }
            guard cursor.sequence <= last else {
                throw APIError(.badRequest, "unknown_cursor", "event \(cursor.sequence) does not exist yet on this node (its last is \(last)); was the cursor from another node?")
            }
            start = cursor
        } else {
            start = try await read { try await EventStream.now(chain: chain.id, store: store, finalDepth: depth) }
        }
        guard subscribers.current < SubscriberCount.maximum else {
            throw APIError(.serviceUnavailable, "too_many_subscribers", "this node serves \(SubscriberCount.maximum) event streams at most; retry later")
        }
        let stream = EventStream(
            chain: chain, store: store, recent: recentEvents.of(chain, store: store), finalDepth: depth, filter: filter, access: access)
        let subscribers = self.subscribers
        return Response(
            status: .ok, headers: [.contentType: EventStreamFormat.contentType, .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                // Counted while the stream runs, not from the handler on: when the connection is
                // gone before the answer's head is written (a reset right after the request), this
                // never runs, and a place taken in the handler was never given back (D76). Past
                // the cap by a race with other streams starting, the stream ends at once, empty.
                guard subscribers.enter() else {
                    try await writer.finish(nil)
                    return
                }
                defer { subscribers.leave() }
                // A consumer that goes away ends its stream at once, not at the next write (a
                // heartbeat up to 15 s later, and a write to a closed socket may still succeed):
                // otherwise a stranger opening and dropping streams kept all 4,096 taken.
                try await request.body.consumeWithCancellationOnInboundClose { _ in
                    try await stream.run(from: start, writer: &writer)
                }
                try await writer.finish(nil)
            })
    }
}
