import Hummingbird
import NIOCore

/// The request context of every QBC route: Hummingbird's core storage plus the peer address,
/// which decides whether a Leap request comes from the node's own machine.
public struct QBCRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Bulk `POST /inject` bodies may be large; each route collects with its own bound.
    public var maxUploadSize: Int { APILimits.maxRequestBytes }

    /// Who is asking, as far as a fair share goes: the peer's IP address.
    var source: String { remoteAddress?.ipAddress ?? "unknown" }

    /// True for 127.0.0.0/8 and ::1.
    var isLoopback: Bool {
        guard let ip = remoteAddress?.ipAddress else { return false }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }
}

/// Bounds on what a client may send or ask for in one request.
public enum APILimits {
    public static let maxRequestBytes = 64 * 1024 * 1024
    public static let maxTransactionsPerRequest = 10_000
    public static let maxPageQuants = 1000
    public static let maxPageTransactions = 20_000
    public static let maxMempoolListing = 1000
}
