import Foundation

/// Raw TCP connections to a node on this machine, for clients that misbehave on purpose (floods,
/// slow bodies, pipelining without reading), which no HTTP client library can be made to do.
public enum LoopbackConnection {
    /// A connection to 127.0.0.1:`port` from the loopback address `source` (127.0.0.0/8 is all
    /// this machine's, so one process can be several clients), with its receive buffer set to
    /// `receiveBuffer` bytes when given; nil when it cannot be made.
    public static func open(to port: Int, from source: String = "127.0.0.1", receiveBuffer: Int32? = nil) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        if var size = receiveBuffer { _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        guard connect(fd, from: source, to: port) else {
            close(fd)
            return nil
        }
        return fd
    }

    private static func connect(_ fd: Int32, from source: String, to port: Int) -> Bool {
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { return false }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return connected == 0
    }
}
