import Foundation
import QBCHarness

/// Part 3 of `qbc bench flood`: clients that pipeline requests and never read the answers.
extension BenchFlood {
    func pipeliners() async throws {
        var setup = try BenchSetup(difficulty: 8, capacity: 1000)
        let node = try setup.start(0)
        let port = node.port
        let before = node.residentBytes ?? 0
        let (peak, ended) = await Task.detached { () -> (Int, Int) in
            let sockets = (0..<pipelining).compactMap { _ in LoopbackConnection.open(to: port, receiveBuffer: 4096) }
            defer { for fd in sockets { close(fd) } }
            let request = Array("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            let chunk = [UInt8]((0..<(65536 / request.count)).map { _ in request }.joined())
            var peak = before
            let deadline = Date().addingTimeInterval(Double(pipeliningSeconds))
            while Date() < deadline {
                for fd in sockets { _ = send(fd, chunk, chunk.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                peak = max(peak, node.residentBytes ?? 0)
                usleep(10_000)
            }
            // Then each reads what it was sent: the answers, and an end of file where the node ended it.
            let ended = sockets.filter { Self.readsToTheEnd($0) }.count
            return (peak, ended)
        }.value
        print(String(format: "%d clients pipelining GET /health for %d s, reading nothing: node RSS %d MiB before, peak %d MiB (%.2f MiB per client); then reading, %d found their connection ended by the node",
                     pipelining, pipeliningSeconds, before >> 20, peak >> 20, Double(peak - before) / Double(1 << 20) / Double(max(1, pipelining)), ended))
        node.stop()
    }

    /// Reads `fd` until end of file (true), an error or 5 s without a byte (false).
    static func readsToTheEnd(_ fd: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 5_000) > 0 else { return false }
            let read = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if read == 0 { return true }
            if read < 0, errno != EAGAIN, errno != EWOULDBLOCK { return false }
        }
    }
}
