import Hummingbird
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// Who is asking, as far as a fair share goes (`ClientAddress.share`).
    var source: String { ClientAddress.share(of: remoteAddress) }

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

/// Who a connection or request comes from, for the bounds one client may hold: its body share
/// (D77), its place among the connections (D78), its read challenges.
public enum ClientAddress {
    /// An IPv4 address whole; an IPv6 address by its /64, since a host is usually given a whole
    /// /64 and counting its addresses one by one would let it pass any per-address bound; an
    /// IPv4 address mapped into IPv6 (a dual-stack listener) as the IPv4 address it is.
    public static func share(of address: SocketAddress?) -> String {
        guard let address else { return "unknown" }
        guard let text = address.ipAddress else { return "unknown" }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard case .v6 = address, inet_pton(AF_INET6, text, &bytes) == 1 else { return text }
        let mapped = bytes.prefix(10).allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
        if mapped { return bytes.suffix(4).map(String.init).joined(separator: ".") }
        // The loopback ::1 is the node's own machine, not a /64 of strangers.
        if bytes.prefix(15).allSatisfy({ $0 == 0 }) { return text }
        return stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":") + "::/64"
    }
}

