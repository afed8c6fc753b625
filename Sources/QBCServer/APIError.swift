import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QBCCore
import QBCNode
import QBCStorage
import QBCWire

/// The one place where errors become HTTP responses: `{ "error": code, "message": text }`.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var id: String? = nil
    /// Headers the answer carries besides the JSON content type (`Allow` on a 405).
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, id: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.id = id
    }

    init(_ rule: RuleError, id: String? = nil) {
        self.init(Self.status(for: rule.code), rule.code.rawValue, rule.message, id: id)
    }

    init(_ wire: WireError) {
        switch wire {
        case .malformed(let message): self.init(.badRequest, "malformed", message)
        case .tooLarge(let message): self.init(.contentTooLarge, "too_large", message)
        case .unsigned(let message): self.init(.unauthorized, "missing_signature", message)
        }
    }

    /// A Bang not adopted: the broken rule, or a storage failure.
    init(_ adoption: AdoptionError) {
        switch adoption {
        case .rule(let rule): self.init(rule)
        case .storage(let storage): self = .storage(storage)
        }
    }

    /// Storage failures are logged in full by the caller; the client gets no internals.
    static func storage(_ error: StorageError) -> APIError {
        APIError(.internalServerError, "storage_error", "the node could not read or write its data; see the node's log")
    }

    static func status(for code: RuleError.Code) -> HTTPResponse.Status {
        switch code {
        case .badSignature: .unauthorized
        case .notAuthorized: .forbidden
        case .duplicate: .conflict
        case .payloadTooLarge, .quantTooLarge: .contentTooLarge
        case .mempoolFull: .serviceUnavailable
        case .notYourTurn, .staleVote: .conflict
        default: .unprocessableContent
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.make(ErrorJSON(error: code, message: message, id: id), status: status)
        response.headers.append(contentsOf: headers)
        return response
    }
}

/// JSON responses with sorted keys (stable for humans and diffs).
enum JSONResponse {
    static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let bytes = WireJSON.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The answer to every admitted batch, written without Foundation's encoder (same bytes).
    static func make(_ value: InjectBatchJSON, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.encoded)))
    }
}
