import Hummingbird
import Logging
import NIOCore
import QBCCore
import QBCCrypto
import QBCNode
import QBCStorage
import QBCWire

/// Writes Quants as JSON piece by piece, transactions a bounded chunk at a time from the store,
/// so an answer of any size never sits whole in the node's memory. The JSON is the same as
/// `ChainPageJSON` and `QuantJSON` (keys in another order, which JSON does not care about).
struct QuantStream {
    let chain: ChainService
    let logger: Logger
    /// The chain's height when the answer began, for each Quant's confirmations.
    let tipHeight: UInt64

    /// Transactions (binary forms) read from the store at a time.
    static let chunkBytes = 1 << 20
    /// A page stops after the Quant that brings its transactions to this many bytes.
    static let maxPageBytes = 8 << 20

    /// A streamed 200 answer. A storage failure after the first bytes can only cut the answer
    /// short (the connection closes); it is logged.
    static func response(_ body: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody { writer in
            try await body(&writer)
            try await writer.finish(nil)
        })
    }

    /// `GET /chain`: the Quants of `headers` in order, stopping at 20,000 transactions or
    /// `maxPageBytes` past the first Quant; `next` names the first height left out.
    func page(_ headers: [StoredHeader], from: UInt64, height: UInt64) -> Response {
        Self.response { writer in
            try await writer.write(Self.text(#"{"chain":"\#(chain.id.hex)","from":\#(from),"height":\#(height),"quants":["#))
            var (written, transactions, bytes) = (0, 0, 0)
            var next: UInt64? = nil
            for stored in headers {
                let count = Int(stored.header.transactionCount)
                if written > 0, transactions + count > APILimits.maxPageTransactions || bytes >= Self.maxPageBytes {
                    next = stored.header.height
                    break
                }
                if written > 0 { try await writer.write(Self.text(",")) }
                bytes += try await write(stored, to: &writer)
                transactions += count
                written += 1
            }
            if next == nil, let last = headers.last?.header.height, written == headers.count, last < height { next = last + 1 }
            try await writer.write(Self.text("],\"next\":\(next.map(String.init) ?? "null")}"))
        }
    }

    /// `GET /quants/{ref}`: one Quant.
    func quant(_ stored: StoredHeader) -> Response {
        Self.response { writer in _ = try await write(stored, to: &writer) }
    }

    /// Writes one Quant object; returns the bytes of its transactions' binary forms.
    private func write(_ stored: StoredHeader, to writer: inout any ResponseBodyWriter) async throws -> Int {
        let header = QuantHeaderJSON(stored, tipHeight: tipHeight, finalCommits: chain.engine.commitsAreFinal)
        try await writer.write(Self.text(#"{"header":"#))
        try await writer.write(ByteBuffer(bytes: WireJSON.encode(header)))
        try await writer.write(Self.text(#","transactions":["#))
        var (position, bytes) = (0, 0)
        while position < Int(stored.header.transactionCount) {
            let chunk: [Transaction]
            do {
                chunk = try await chain.reader.transactions(
                    chain: chain.id, height: stored.header.height, from: position, limit: .max, maxBytes: Self.chunkBytes,
                    limits: chain.rules.transactionLimits)
            } catch {
                logger.error("storage read failed while streaming", metadata: ["error": "\(error)"])
                throw error
            }
            guard !chunk.isEmpty else { break }
            var buffer = ByteBuffer()
            for tx in chunk {
                if position > 0 { buffer.writeString(",") }
                buffer.writeBytes(WireJSON.encode(TransactionJSON(tx)))
                position += 1
                bytes += tx.encodedSize
            }
            try await writer.write(buffer)
        }
        try await writer.write(Self.text("]}"))
        return bytes
    }

    private static func text(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }
}

extension StoredHeader: StoredHeaderView {}
