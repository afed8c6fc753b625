public import QBCCrypto

/// A node's signed statement "I am this key, reachable at this address, serving these chains"
/// (`qbc/register/v1`). Relayed unchanged in peer lists, so anyone can verify who said it.
public struct Registration: Sendable, Hashable {
    public let node: PublicKey
    /// The node's base URL, e.g. `http://10.0.0.5:5001`.
    public let address: String
    public let chains: [ChainID]
    public let timestamp: Timestamp
    public let signature: Signature

    public static let maxAddressBytes = 255
    public static let maxChains = 64
    /// How old (or how far ahead) a registration may be when a node admits it directly.
    public static let freshnessMilliseconds: Int64 = 5 * 60_000

    public init(node: PublicKey, address: String, chains: [ChainID], timestamp: Timestamp, signature: Signature) {
        self.node = node
        self.address = address
        self.chains = chains
        self.timestamp = timestamp
        self.signature = signature
    }

    /// Signs a registration with the node's own key.
    public init(key: SigningKey, address: String, chains: [ChainID], timestamp: Timestamp) {
        let bytes = Self.signingBytes(node: key.publicKey, address: address, chains: chains, timestamp: timestamp)
        self.init(node: key.publicKey, address: address, chains: chains, timestamp: timestamp, signature: key.sign(bytes))
    }

    /// Layout: documentation/protocol.md, "Node registration".
    public static func signingBytes(node: PublicKey, address: String, chains: [ChainID], timestamp: Timestamp) -> [UInt8] {
        var w = CanonicalWriter(capacity: 64 + address.utf8.count + 32 * chains.count)
        w.tag(.register)
        w.fixed(node.bytes)
        w.string8(address)
        w.u8(UInt8(truncatingIfNeeded: chains.count))
        for chain in chains { w.fixed(chain.bytes) }
        w.u64(timestamp.milliseconds)
        return w.bytes
    }

    public var signingBytes: [UInt8] {
        Self.signingBytes(node: node, address: address, chains: chains, timestamp: timestamp)
    }

    /// Shape and signature: what a relayed registration must satisfy.
    public func checkSignature() throws(RuleError) {
        guard address.utf8.count <= Self.maxAddressBytes, Self.isPeerAddress(address) else {
            throw RuleError(
                .invalidRegistration,
                "the address must be http:// or https://, a host (a DNS name, a dotted IPv4 address or [IPv6]), an optional port 1 to 65535 and nothing else, in at most 255 bytes")
        }
        guard !chains.isEmpty, chains.count <= Self.maxChains, Set(chains).count == chains.count else {
            throw RuleError(.invalidRegistration, "a registration names 1 to \(Self.maxChains) distinct chains")
        }
        guard node.verify(signature, over: signingBytes) else {
            throw RuleError(.badSignature, "the registration's signature does not verify for node \(node.hex) (qbc/register/v1)")
        }
    }

    /// `http(s)://host[:port]`, optionally with a trailing `/`: no user, path, query, spaces or
    /// control characters, which peers would otherwise relay and nodes call.
    public static func isPeerAddress(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        let schemes = [Array("http://".utf8), Array("https://".utf8)]
        guard let scheme = schemes.first(where: { bytes.starts(with: $0) }) else { return false }
        var rest = bytes.dropFirst(scheme.count)
        if rest.last == UInt8(ascii: "/") { rest = rest.dropLast() }
        var host = rest
        var port: ArraySlice<UInt8> = []
        if rest.first == UInt8(ascii: "[") {
            guard let close = rest.firstIndex(of: UInt8(ascii: "]")) else { return false }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            guard host.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }) else { return false }
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { return false }
                port = after.dropFirst()
                guard !port.isEmpty else { return false }
            }
        } else {
            if let colon = rest.firstIndex(of: UInt8(ascii: ":")) {
                host = rest[..<colon]
                port = rest[rest.index(after: colon)...]
                guard !port.isEmpty else { return false }
            }
            guard isHostName(host) else { return false }
        }
        guard !host.isEmpty, port.count <= 5, port.allSatisfy({ (0x30...0x39).contains($0) }), port.first != 0x30 else { return false }
        if !port.isEmpty {
            let value = port.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard (1...65535).contains(value) else { return false }
        }
        return true
    }

    /// A dotted IPv4 address (four numbers 0 to 255, no leading zeros, which some resolvers read
    /// as octal), or a DNS name: labels of 1 to 63 letters, digits and inner hyphens, at most 253
    /// bytes, the last label not all digits.
    private static func isHostName(_ host: ArraySlice<UInt8>) -> Bool {
        let labels = host.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        let isNumber = { (label: ArraySlice<UInt8>) in !label.isEmpty && label.allSatisfy { (0x30...0x39).contains($0) } }
        if labels.allSatisfy(isNumber) {
            return labels.count == 4 && labels.allSatisfy { label in
                label.count <= 3 && (label.count == 1 || label.first != 0x30) && label.reduce(0) { $0 * 10 + Int($1 - 0x30) } <= 255
            }
        }
        guard host.count <= 253, let last = labels.last, !isNumber(last) else { return false }
        return labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
    }

    /// Everything a node checks before admitting a peer directly: shape, signature, freshness,
    /// and the `node` role in at least one named chain that the checker serves (`membership`
    /// gives it). Each chain's routes check the role in that chain again, per request.
    public func checkAdmission(now: Timestamp, membership: (ChainID) -> Membership?) throws(RuleError) {
        try checkSignature()
        guard now.milliseconds(since: timestamp).magnitude <= UInt64(Self.freshnessMilliseconds) else {
            throw RuleError(.timestampTooOld, "the registration is more than 5 minutes from this node's clock: sign a new one")
        }
        let shared = chains.compactMap(membership)
        guard !shared.isEmpty else { throw RuleError(.notAuthorized, "the registration names no chain this node serves") }
        guard shared.contains(where: { $0.holds(node, .node) }) else {
            throw RuleError(.notAuthorized, "key \(node.hex) does not hold the node role on any chain this node serves")
        }
    }
}

/// The signed envelope of every node-to-node HTTP request (`qbc/peer-request/v1`).
///
/// The signature covers the sender's key, the time, the method, the path with its query and a
/// BLAKE2b-256 hash of the body, so a request cannot be replayed elsewhere or altered.
public enum PeerRequest {
    /// A request older or newer than this is refused; replays inside it are idempotent by design.
    public static let windowMilliseconds: Int64 = 30_000

    /// Layout: documentation/protocol.md, "Peer requests".
    public static func signingBytes(
        node: PublicKey, timestamp: Timestamp, method: String, path: String, body: [UInt8]
    ) -> [UInt8] {
        var w = CanonicalWriter(capacity: 128 + path.utf8.count)
        w.tag(.peerRequest)
        w.fixed(node.bytes)
        w.u64(timestamp.milliseconds)
        w.string8(method)
        w.string16(path)
        w.fixed(Hash.blake2b(body).bytes)
        return w.bytes
    }

    public static func sign(
        key: SigningKey, timestamp: Timestamp, method: String, path: String, body: [UInt8]
    ) -> Signature {
        key.sign(signingBytes(node: key.publicKey, timestamp: timestamp, method: method, path: path, body: body))
    }

    /// Checks freshness and signature; the caller checks that `node` is an admitted peer.
    public static func check(
        node: PublicKey, timestamp: Timestamp, signature: Signature, method: String, path: String, body: [UInt8],
        now: Timestamp
    ) throws(RuleError) {
        guard now.milliseconds(since: timestamp).magnitude <= UInt64(windowMilliseconds) else {
            throw RuleError(.timestampTooOld, "the peer request is more than 30 s from this node's clock")
        }
        guard path.utf8.count <= Int(UInt16.max), method.utf8.count <= 16 else {
            throw RuleError(.invalidRegistration, "the peer request's method or path is too long")
        }
        let bytes = signingBytes(node: node, timestamp: timestamp, method: method, path: path, body: body)
        guard node.verify(signature, over: bytes) else {
            throw RuleError(.badSignature, "the peer request's signature does not verify (qbc/peer-request/v1)")
        }
    }
}
