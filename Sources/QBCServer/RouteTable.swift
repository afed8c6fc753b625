import Foundation
import HTTPTypes
import Hummingbird
import QBCCore
import Synchronization

/// The routes the node serves, so that a request for a path that exists under other methods gets
/// 405 with `Allow`, and one for no route at all a JSON 404, instead of Hummingbird's empty 404.
final class RouteTable: Sendable {
    private let routes = Mutex<[(method: HTTPRequest.Method, segments: [Substring])]>([])

    /// Records the router's routes once they are all added.
    func record(_ routes: [(method: HTTPRequest.Method, path: String)]) {
        self.routes.withLock { table in
            table = routes.map { ($0.method, $0.path.split(separator: "/", omittingEmptySubsequences: true)) }
        }
    }

    /// The methods some route serves at `path` (a `{name}` capture matches any one segment).
    func methods(at path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let methods = routes.withLock { table in
            table.filter { route in
                route.segments.count == segments.count
                    && zip(route.segments, segments).allSatisfy { pattern, segment in pattern.hasPrefix("{") || pattern == segment }
            }.map(\.method)
        }
        return Array(Set(methods)).sorted { $0.rawValue < $1.rawValue }
    }
}

/// Turns every refusal into its response, and the router's own "no such route" into the API's JSON errors: 405 with `Allow` when the
/// path exists under other methods, else 404.
struct RouteErrorMiddleware: RouterMiddleware {
    typealias Context = QBCRequestContext
    let table: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Refusals become responses here, so the middleware outside (metrics, CORS) sees every
        // answer with its status and time.
        do { return try await routed(request, context: context, next: next) } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context)
        }
    }

    private func routed(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path
            let allowed = table.methods(at: path)
            guard !allowed.isEmpty else {
                throw APIError(.notFound, "not_found", "no route \(request.method.rawValue) \(path) on this node (documentation/openapi.yaml)")
            }
            var names = allowed.map(\.rawValue)
            if allowed.contains(.get), !allowed.contains(.head) { names.append("HEAD") }
            var refusal = APIError(
                .methodNotAllowed, "method_not_allowed",
                "\(path) answers \(names.joined(separator: ", ")), not \(request.method.rawValue)")
            refusal.headers[.allow] = names.joined(separator: ", ")
            throw refusal
        }
    }
}

/// The media types a request body may have.
enum BodyType {
    /// JSON: `application/json` (with parameters), or no Content-Type at all.
    case json
    /// JSON, or a binary transaction batch (`application/vnd.qbc.tx-batch`).
    case jsonOrBatch
    /// JSON, or a binary page of Quants (`application/vnd.qbc.quant-page`): pushed Quants.
    case jsonOrQuantPage

    /// The binary media type the route takes beside JSON.
    var binary: String? {
        switch self {
        case .json: nil
        case .jsonOrBatch: Transaction.batchContentType
        case .jsonOrQuantPage: QuantPage.contentType
        }
    }

    /// The media type of `request`'s body, lowercased without parameters; nil when it has none.
    static func mediaType(of request: Request) -> String? {
        guard let value = request.headers[.contentType] else { return nil }
        let type = value.split(separator: ";", maxSplits: 1).first.map(String.init) ?? value
        return type.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// True when the body is the route's binary type; refuses any type the route does not take.
    func isBinary(_ request: Request) throws -> Bool {
        switch Self.mediaType(of: request) {
        case nil, "application/json": return false
        case let other? where other == binary: return true
        case let other?:
            let accepted = binary.map { "application/json or \($0)" } ?? "application/json"
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "a request body of type \(other) is not taken here; send \(accepted)")
        }
    }
}
