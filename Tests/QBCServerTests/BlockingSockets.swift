import Foundation

/// What the node sent on `fd`: nil if nothing arrived within `milliseconds`, else everything
/// until it closed or paused for 200 ms ("" when it closed without a word).
func answer(on fd: Int32, within milliseconds: Int32, limit: Int = 1 << 16) -> String? {
    var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&descriptor, 1, milliseconds) > 0 else { return nil }
    var bytes = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while bytes.count < limit {
        let read = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        if read > 0 {
            bytes += buffer.prefix(read)
            continue
        }
        guard read < 0, errno == EAGAIN || errno == EWOULDBLOCK else { break }
        descriptor.revents = 0
        guard poll(&descriptor, 1, 200) > 0 else { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// The first bytes the node sent on `fd` within `milliseconds`, nil if none came (for answers that
/// never pause long enough to end `answer`'s read, such as an event stream).
func firstBytes(on fd: Int32, within milliseconds: Int32) -> String? {
    var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&descriptor, 1, milliseconds) > 0 else { return nil }
    var buffer = [UInt8](repeating: 0, count: 4096)
    let read = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
    return read > 0 ? String(decoding: buffer.prefix(read), as: UTF8.self) : nil
}

/// Sends `request` on a new loopback connection to `port`, blocking: what the node answered (as
/// `answer(on:within:)`, waiting up to 10 s) and, unless `watchClose` is false, whether it then
/// closed the connection within 5 s.
func exchange(_ request: String, port: Int, watchClose: Bool = true) -> (answer: String?, closed: Bool) {
    guard let fd = ConnectionFloodTests.idleConnections(to: port, count: 1).first else { return (nil, false) }
    defer { close(fd) }
    _ = send(fd, request, request.utf8.count, Int32(MSG_NOSIGNAL))
    let text = answer(on: fd, within: 10_000)
    return (text, watchClose && ConnectionFloodTests.isGone(fd, within: 5_000))
}

/// `GET path` on a new loopback connection, blocking; the whole answer, "" if there was none.
func blockingGet(port: Int, path: String) -> String {
    guard let fd = ConnectionFloodTests.idleConnections(to: port, count: 1).first else { return "" }
    defer { close(fd) }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
    _ = send(fd, request, request.count, Int32(MSG_NOSIGNAL))
    return answer(on: fd, within: 5_000) ?? ""
}

/// The node's `qbc_request_body_bytes` gauge: bytes of request bodies it holds now.
func bodyBytesHeld(port: Int) -> Int? { gauge("qbc_request_body_bytes", port: port) }

/// A gauge of the node's `/metrics` without labels, read on a new connection.
func gauge(_ name: String, port: Int) -> Int? {
    blockingGet(port: port, path: "/metrics").split(separator: "\n")
        .first { $0.hasPrefix(name + " ") }
        .flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        .map { Int($0) }
}

/// Whether the node closes `fd` within `milliseconds`, reading and dropping whatever it sends
/// before (an open event stream sends nothing between its heartbeats).
func closes(_ fd: Int32, within milliseconds: Int) -> Bool {
    let deadline = Date().addingTimeInterval(Double(milliseconds) / 1000)
    var buffer = [UInt8](repeating: 0, count: 4096)
    while Date() < deadline {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { return false }
        let read = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        if read == 0 || (read < 0 && errno == ECONNRESET) { return true }
    }
    return false
}
