public import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import Synchronization

/// HTTP clients that trust a given CA file for `https://` nodes (a consortium's own CA), one per
/// file for the life of the process, like `NodeClient.sharedHTTPClient`.
public enum TrustedClients {
    private static let clients = Mutex<[String: HTTPClient]>([:])

    /// The shared client when `caFile` is nil; otherwise one that trusts only the certificates in
    /// `caFile` (PEM). Throws, naming the file, when it holds no certificate.
    public static func client(caFile: String?) throws(CAFileError) -> HTTPClient {
        guard let caFile else { return NodeClient.sharedHTTPClient }
        if let known = clients.withLock({ $0[caFile] }) { return known }
        let certificates: [NIOSSLCertificate]
        do { certificates = try NIOSSLCertificate.fromPEMFile(caFile) } catch {
            throw CAFileError(description: "CA file \(caFile): \(FileManager.default.fileExists(atPath: caFile) ? "holds no PEM certificate" : "no such file")")
        }
        guard !certificates.isEmpty else { throw CAFileError(description: "CA file \(caFile) holds no PEM certificate") }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(certificates)
        var configuration = NodeClient.sharedConfiguration
        configuration.tlsConfiguration = tls
        configuration.httpVersion = .http1Only
        let made = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        return clients.withLock { table in
            if let raced = table[caFile] {
                try? made.syncShutdown()
                return raced
            }
            table[caFile] = made
            return made
        }
    }
}

public struct CAFileError: Error, CustomStringConvertible {
    public let description: String
}
