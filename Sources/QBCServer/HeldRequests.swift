import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// What a connection's client sent behind a request whose answer has not reached the kernel yet,
/// in order, until it may go on to Hummingbird (`ConnectionGuard`, D85), with an estimate of the
/// memory it takes. A client that does not read its answers decides how much arrives meanwhile,
/// so the estimate counts what is kept, not what was sent: a body's parts are copied into one
/// buffer per request (a part is a slice of the read that brought it, and one byte held that way
/// kept the whole 64 KiB read alive: the review held 2 GB with 1-byte chunks), and each head by
/// its fields.
struct HeldRequests {
    enum Item {
        case part(HTTPRequestPart)
        /// An HTTP parser error in what came after the parts before it.
        case error(any Error)
        /// The client's end of input.
        case inputClosed
    }

    private var items = CircularBuffer<Item>()
    /// The estimated bytes kept for `items`.
    private(set) var bytes = 0

    var isEmpty: Bool { items.isEmpty }
    var first: Item? { items.first }

    /// Keeps `item` after the others; returns the bytes it adds to the estimate.
    mutating func append(_ item: Item) -> Int {
        let before = bytes
        if case .part(.body(let body)) = item {
            // Into the request's one buffer, which is the last item while its body arrives.
            var buffer = takeLastBody() ?? ByteBuffer()
            buffer.writeImmutableBuffer(body)
            items.append(.part(.body(buffer)))
            bytes += Self.size(of: .part(.body(buffer)))
        } else {
            items.append(item)
            bytes += Self.size(of: item)
        }
        return bytes - before
    }

    /// The last item's body buffer, taken out (so that it is the buffer's only owner, and grows
    /// in place), if the last item is a body.
    private mutating func takeLastBody() -> ByteBuffer? {
        guard case .part(.body)? = items.last, case .part(.body(let last)) = items.removeLast() else { return nil }
        bytes -= Self.size(of: .part(.body(last)))
        return last
    }

    /// Takes the first item; `bytes` goes down by its estimate.
    mutating func removeFirst() -> Item {
        let item = items.removeFirst()
        bytes -= Self.size(of: item)
        return item
    }

    /// Drops everything; returns the estimate it held.
    mutating func removeAll() -> Int {
        defer {
            items.removeAll()
            bytes = 0
        }
        return bytes
    }

    /// What keeping `item` costs, roughly: its bytes, and a fixed share for the structures around
    /// them (so many small parts are not free). Calibrated on the review's measurements: a head's
    /// field keeps its name twice (as sent and canonical), and a string of 16 bytes or more is an
    /// allocation of its own; about 250 bytes for a field of 16-byte name and value, which the
    /// first estimate (name + value + 32) put at a quarter of that.
    private static func size(of item: Item) -> Int {
        let overhead = 384
        switch item {
        case .part(.head(let head)):
            return overhead + (head.path?.utf8.count ?? 0) + (head.authority?.utf8.count ?? 0) + size(of: head.headerFields)
        case .part(.body(let body)):
            return overhead + body.capacity
        case .part(.end(let trailers)):
            return overhead + (trailers.map(size(of:)) ?? 0)
        case .error, .inputClosed:
            return overhead
        }
    }

    private static func size(of fields: HTTPFields) -> Int {
        fields.reduce(0) { $0 + 2 * $1.name.rawName.utf8.count + $1.value.utf8.count + 192 }
    }
}
