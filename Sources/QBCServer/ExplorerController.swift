import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QBCExplorer

/// `/ui`: the explorer, a page that reads this node's public API and nothing else
/// (documentation/explorer.md). Off with `api.explorer: false`.
struct ExplorerController {
    /// Scripts, styles and requests only from this node; no inline code, no frames, no forms
    /// sent elsewhere. Payloads are data written by strangers: the page puts them in as text.
    static let policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    func addRoutes(to router: Router<QBCRequestContext>) {
        router.get("/ui") { request, _ in try Self.serve("", request) }
        router.get("/ui/:file") { request, context in try Self.serve(context.parameters.get("file") ?? "", request) }
    }

    /// `If-None-Match`: a list of tags, weak (`W/`) or strong, or `*` (RFC 9110, weak comparison).
    static func matches(_ header: String, _ tag: String) -> Bool {
        header.split(separator: ",").contains { item in
            let candidate = item.trimmingCharacters(in: .whitespaces)
            return candidate == "*" || candidate == tag || candidate == "W/" + tag
        }
    }

    static func serve(_ name: String, _ request: Request) throws -> Response {
        guard let asset = ExplorerAssets.named(name) else {
            throw APIError(.notFound, "not_found", "the explorer has no file \(name); open /ui")
        }
        let tag = asset.tag
        var headers: HTTPFields = [
            .contentType: asset.contentType, .eTag: tag, .cacheControl: "no-cache",
            .contentSecurityPolicy: policy, .xContentTypeOptions: "nosniff",
        ]
        if let referrer = HTTPField.Name("Referrer-Policy") { headers[referrer] = "no-referrer" }
        if let wanted = request.headers[.ifNoneMatch], matches(wanted, tag) { return Response(status: .notModified, headers: headers) }
        headers[.contentLength] = String(asset.bytes.count)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}
