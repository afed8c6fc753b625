/// The explorer's files, served by the node under `/ui` (documentation/explorer.md). They are
/// compiled in, so a node binary carries its explorer and the page needs no network but the node.
public enum ExplorerAssets {
    public struct Asset: Sendable {
        public let bytes: [UInt8]
        public let contentType: String
        /// The `ETag`: FNV-1a of the bytes, computed once (it only has to change when they do).
        public let tag: String

        init(bytes: [UInt8], contentType: String) {
            self.bytes = bytes
            self.contentType = contentType
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            tag = "\"\(String(hash, radix: 16))-\(bytes.count)\""
        }
    }

    /// The file at `/ui/<name>`; the page itself for an empty name.
    public static func named(_ name: String) -> Asset? { assets[name.isEmpty ? "index.html" : name] }

    private static let assets: [String: Asset] = [
        "index.html": Asset(bytes: PackageResources.index_html, contentType: "text/html; charset=utf-8"),
        "app.css": Asset(bytes: PackageResources.app_css, contentType: "text/css; charset=utf-8"),
        "app.js": script(PackageResources.app_js),
        "dom.js": script(PackageResources.dom_js),
        "overview.js": script(PackageResources.overview_js),
        "chain.js": script(PackageResources.chain_js),
        "records.js": script(PackageResources.records_js),
    ]

    private static func script(_ bytes: [UInt8]) -> Asset { Asset(bytes: bytes, contentType: "text/javascript; charset=utf-8") }
}
