import Foundation

/// A loopback TCP listener that accepts connections and never answers: a peer that hangs.
/// Used to show that a slow peer delays no other (network.md, "Relaying").
public final class SilentListener: @unchecked Sendable {
    public let port: Int
    private let fd: Int32
    private var held: [Int32] = []
    private var stopped = false
    private let lock = NSLock()

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LocalNodeError("cannot open a socket") }
        guard Self.bindLoopback(fd), listen(fd, 128) == 0 else {
            close(fd)
            throw LocalNodeError("cannot open a listening socket on 127.0.0.1")
        }
        self.fd = fd
        port = Self.port(of: fd)
        Thread { [self] in acceptForever() }.start()
    }

    /// Closes the listener and every connection it holds.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        // shutdown wakes the accepting thread; it then returns.
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        for client in held { close(client) }
        held = []
    }

    private func acceptForever() {
        while true {
            let client = accept(fd, nil, nil)
            lock.lock()
            defer { lock.unlock() }
            guard client >= 0, !stopped else {
                if client >= 0 { close(client) }
                return
            }
            held.append(client)
        }
    }

    /// A port nothing listens on: a socket bound, then closed.
    public static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LocalNodeError("cannot open a socket") }
        defer { close(fd) }
        guard bindLoopback(fd) else { throw LocalNodeError("cannot find a free port on 127.0.0.1") }
        return port(of: fd)
    }

    /// Binds `fd` to 127.0.0.1 on a port the kernel picks.
    private static func bindLoopback(_ fd: Int32) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return bound == 0
    }

    private static func port(of fd: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
