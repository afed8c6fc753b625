import Foundation
import QBCTestSupport
import Synchronization

/// Nodes in network namespaces of their own, each joined by a veth link to a bridge in one more
/// namespace: taking a node's link off the bridge is a real partition (its packets go nowhere,
/// calls to and from it time out), and no packet leaves the namespaces the test made. Needs root
/// and `ip` (iproute2); `unavailable` says why not when they are missing.
final class NetworkSandbox: @unchecked Sendable {
    let prefix: String
    let count: Int
    private var removed = false

    var hub: String { "\(prefix)h" }
    func namespace(_ index: Int) -> String { "\(prefix)n\(index)" }
    func address(_ index: Int) -> String { "10.77.0.\(index)" }

    private static let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }
    private static let made = Mutex(0)

    /// Why this machine cannot make a sandbox, or nil when it can.
    static let unavailable: String? = {
        guard geteuid() == 0 else { return "network namespaces need root" }
        guard ip != nil else { return "`ip` (iproute2) is not installed" }
        let probe = "qbc\(getpid())probe"
        guard (try? run(["netns", "add", probe])) != nil else { return "`ip netns add` is refused here (no CAP_SYS_ADMIN?)" }
        _ = try? run(["netns", "del", probe])
        return nil
    }()

    init(nodes: Int) throws {
        let serial = Self.made.withLock { made in
            made += 1
            return made
        }
        prefix = "qbc\(getpid())s\(serial)"
        count = nodes
        do {
            try Self.run(["netns", "add", hub])
            try Self.run(["-n", hub, "link", "add", "br0", "type", "bridge"])
            try Self.run(["-n", hub, "link", "set", "br0", "up"])
            for index in 1...nodes {
                let own = namespace(index)
                try Self.run(["netns", "add", own])
                try Self.run(["-n", own, "link", "set", "lo", "up"])
                try Self.run(["-n", hub, "link", "add", "v\(index)", "type", "veth", "peer", "name", "eth0", "netns", own])
                try Self.run(["-n", hub, "link", "set", "v\(index)", "master", "br0"])
                try Self.run(["-n", hub, "link", "set", "v\(index)", "up"])
                try Self.run(["-n", own, "addr", "add", "\(address(index))/24", "dev", "eth0"])
                try Self.run(["-n", own, "link", "set", "eth0", "up"])
            }
        } catch {
            remove()
            throw error
        }
    }

    /// Takes node `index`'s link off the bridge: its interface stays up, its packets are lost.
    func cut(_ index: Int) throws { try Self.run(["-n", hub, "link", "set", "v\(index)", "nomaster"]) }

    func heal(_ index: Int) throws { try Self.run(["-n", hub, "link", "set", "v\(index)", "master", "br0"]) }

    /// A script that runs the `qbc` under test inside node `index`'s namespace (for `LocalNode`).
    func qbcScript(_ index: Int, in directory: TemporaryDirectory) throws -> String {
        let path = directory.file("qbc-in-\(index)")
        let script = "#!/bin/sh\nexec \(Self.ip ?? "ip") netns exec \(namespace(index)) \(CommandRunner.qbcPath) \"$@\"\n"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        guard chmod(path, 0o755) == 0 else { throw SandboxError("cannot make \(path) executable") }
        return path
    }

    /// Deletes the namespaces (their links go with them). Stop the nodes in them first.
    func remove() {
        guard !removed else { return }
        removed = true
        for index in 1...count { _ = try? Self.run(["netns", "del", namespace(index)]) }
        _ = try? Self.run(["netns", "del", hub])
    }

    deinit { remove() }

    @discardableResult
    private static func run(_ arguments: [String]) throws -> String {
        guard let ip else { throw SandboxError("`ip` is not installed") }
        let result = try CommandRunner.run(ip, arguments)
        guard result.status == 0 else { throw SandboxError("ip \(arguments.joined(separator: " ")): \(result.stderr)") }
        return result.stdout
    }
}

struct SandboxError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Moves the calling thread into a named network namespace (`/var/run/netns/NAME`). Glibc's
/// `setns` is not imported into Swift; it is looked up by name.
func enterNamespace(_ name: String) -> Bool {
    typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { return false }
    let fd = open("/var/run/netns/\(name)", O_RDONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let cloneNewNet: Int32 = 0x4000_0000
    return unsafeBitCast(symbol, to: SetNamespace.self)(fd, cloneNewNet) == 0
}

/// One HTTP/1.1 request to 127.0.0.1:`port` from inside namespace `name`, on a thread of its own
/// (the namespace stays with the thread, which ends with the call): the status and body, or nil
/// when there was no answer within `seconds`.
func request(in name: String, port: Int, _ method: String, _ path: String, body: [UInt8] = [], seconds: Double = 5) async
    -> (status: Int, body: [UInt8])?
{
    await onOwnThread { () -> (status: Int, body: [UInt8])? in
        guard enterNamespace(name), let fd = ConnectionFloodTests.idleConnections(to: port, count: 1).first else { return nil }
        defer { close(fd) }
        let head = "\(method) \(path) HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + body
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return nil }
            sent += n
        }
        var answer = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 200) >= 0 else { return nil }
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n > 0 { answer += buffer.prefix(n) } else if n == 0 { return parse(answer) }
        }
        return nil
    }
}

/// The status and body of a whole HTTP/1.1 answer (chunked or not).
private func parse(_ answer: [UInt8]) -> (status: Int, body: [UInt8])? {
    let separator = Array("\r\n\r\n".utf8)
    guard let end = (0...max(0, answer.count - 4)).first(where: { answer[$0..<min($0 + 4, answer.count)].elementsEqual(separator) })
    else { return nil }
    let head = String(decoding: answer[..<end], as: UTF8.self)
    guard let status = head.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
    var body = Array(answer[(end + 4)...])
    if head.lowercased().contains("transfer-encoding: chunked") {
        var plain = [UInt8]()
        var at = 0
        while let lineEnd = (at..<max(at, body.count - 1)).first(where: { body[$0] == 13 && body[$0 + 1] == 10 }),
            let size = Int(String(decoding: body[at..<lineEnd], as: UTF8.self), radix: 16), size > 0, lineEnd + 2 + size <= body.count
        {
            plain += body[(lineEnd + 2)..<(lineEnd + 2 + size)]
            at = lineEnd + 4 + size
        }
        body = plain
    }
    return (status, body)
}
