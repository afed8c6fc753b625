import HTTPTypes
import Hummingbird
import QBCWire

/// CORS, off unless origins are configured (`api.corsOrigins`): a browser page on an allowed
/// origin may read the node and submit to it. The API uses no cookies, so credentials are never
/// allowed; requests from other origins are answered as before, without CORS headers, and the
/// browser withholds the answer from the page.
struct CrossOriginMiddleware: RouterMiddleware {
    typealias Context = QBCRequestContext
    /// Allowed origins exactly as browsers send them (`https://app.example.com`), or `*` for any.
    let origins: Set<String>

    static let methods = "GET, HEAD, POST"
    static let headers = [
        "Content-Type", QBCHeader.reader, QBCHeader.nonce, QBCHeader.proof, QBCHeader.keySet, QBCHeader.anonymousProof, "Last-Event-ID",
    ].joined(separator: ", ")

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], let allowed = allowed(origin) else {
            // The answer depends on the origin whenever specific origins are allowed: caches must
            // not give one origin's answer to another.
            var response = try await next(request, context)
            if !origins.contains("*") { response.headers[.vary] = "Origin" }
            return response
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            // A preflight: answered here, before routing (no route serves OPTIONS).
            var response = Response(status: .noContent)
            response.headers[.accessControlAllowOrigin] = allowed
            response.headers[.accessControlAllowMethods] = Self.methods
            response.headers[.accessControlAllowHeaders] = Self.headers
            response.headers[.accessControlMaxAge] = "600"
            response.headers[.vary] = "Origin"
            return response
        }
        // Refusals are responses by now (RouteErrorMiddleware): they reach the page too, so it can
        // tell a refusal from a network failure.
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = allowed
        response.headers[.vary] = "Origin"
        return response
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, nil when it is not allowed.
    private func allowed(_ origin: String) -> String? {
        if origins.contains("*") { return "*" }
        return origins.contains(origin) ? origin : nil
    }
}
