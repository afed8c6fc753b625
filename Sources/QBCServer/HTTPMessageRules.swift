import NIOCore
import NIOHTTP1

/// What HTTP/1.x asks of a server that Hummingbird's handlers cannot see: they get requests after
/// a conversion to HTTP types that drops the version and folds the `Host` header away, so this
/// sits between the HTTP parser and that conversion (placed by the connection guard).
///
/// - An answer to HEAD does not claim `Content-Length: 0` for a body GET would stream.
/// - Answers to HTTP/1.0 requests say HTTP/1.0 (D80). A client of that version cannot read a
///   chunked body (RFC 9112 6.1 forbids sending it one), and the encoder chunks every answer of
///   unknown length (streamed pages, event streams) that says HTTP/1.1, as Hummingbird's all do.
///   Such an answer's body ends when the connection does, and every answer to an HTTP/1.0 request
///   closes it (`Connection: close`: the old keep-alive extension is not offered).
/// - A request the node cannot read as meant is refused at its head, with the JSON error every
///   refusal gets, and the connection ended once the answers owed before it are written (D82):
///   a request with two `Host` headers or a list in one, or an HTTP/1.1 request without one
///   (400, RFC 9112 3.2), a body whose last transfer coding is not chunked or that names none
///   (400, 6.3), in another
///   transfer coding besides (501, 6.1), or in a content coding (415, RFC 9110 15.5.16): such a
///   body was read as if it were plain.
final class HTTPMessageRules: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// What is known of the requests passed on and not yet answered, in order; no more than a
    /// connection may have waiting (`ConnectionGuard.pipelineLimit`): later ones are dropped.
    private var asked = CircularBuffer<(version: HTTPVersion, method: HTTPMethod, eventStream: Bool)>()
    /// Requests passed on whose answers have not ended.
    private var owed = 0
    private var closeAtEnd = false
    /// An HTTP/1.0 request was passed on whole: the connection ends with its answer, so nothing
    /// after it is read or parsed (bytes behind it made the parser's error answer land inside
    /// that answer's close-delimited body).
    private var lastRequestRead = false
    /// The connection's last answer is written: anything written after it is dropped.
    private var finished = false
    /// A refused request's answer, written once the answers owed before it are; nothing after the
    /// refused request is read or passed on.
    private var refusal: (version: HTTPVersion, status: HTTPResponseStatus, error: String, message: String)?
    /// How long an ended connection waits for the client to read its answers (`GracefulEnd`).
    private let endTimeout: TimeAmount

    init(endTimeout: TimeAmount) { self.endTimeout = endTimeout }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard refusal == nil, !lastRequestRead else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if let (status, error, message) = Self.problem(with: head) {
                refusal = (head.version, status, error, message)
                // Behind an event stream, whose answer never ends, the refusal could never be
                // written: the connection is closed instead, as for any request there (D76).
                if asked.contains(where: \.eventStream) {
                    context.close(promise: nil)
                } else if owed == 0 {
                    refuse(context: context)
                }
                return
            }
            if owed == 0, Self.invitesBody(head) {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
            }
            let eventStream = head.method == .GET && EventStreamFormat.isStream(head.uri)
            if asked.count <= ConnectionGuard.pipelineLimit { asked.append((head.version, head.method, eventStream)) }
            owed += 1
            closeAtEnd = closeAtEnd || head.version == .http1_0
        case .end:
            if closeAtEnd { lastRequestRead = true }
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if refusal == nil, !lastRequestRead { context.read() }
    }

    /// Parser errors in bytes the connection will not read are nobody's concern.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard refusal == nil, !lastRequestRead else { return }
        context.fireErrorCaught(error)
    }

    /// Whether the request waits for `100 Continue` before a body the node may take (RFC 9110
    /// 10.1.1: curl waits a second for it before every body over 1 MB). Sent only when no answer
    /// is owed before the request (the caller's part), so it cannot land inside one; never to
    /// HTTP/1.0, which has no interim answers; and not for a declared length no route takes
    /// (the 413 comes at once instead) or a request without a body.
    static func invitesBody(_ head: HTTPRequestHead) -> Bool {
        guard head.version == .http1_1, head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) else {
            return false
        }
        if !head.headers[canonicalForm: "transfer-encoding"].isEmpty { return true }
        guard let declared = head.headers[canonicalForm: "content-length"].first.flatMap({ Int($0) }) else { return false }
        return declared > 0 && declared <= APILimits.maxRequestBytes
    }

    /// Why the node cannot take a request as its head stands, or nil. RFC 9112 3.2: an HTTP/1.1
    /// request carries a Host header, and no request carries two or one holding a list.
    static func problem(with head: HTTPRequestHead) -> (HTTPResponseStatus, String, String)? {
        let hosts = head.headers["host"]
        if hosts.count > 1 || hosts.contains(where: { $0.contains(",") }) || (hosts.isEmpty && (head.version.major, head.version.minor) >= (1, 1)) {
            return (.badRequest, "malformed", "a request carries at most one Host header, of one host, and an HTTP/1.1 request exactly one")
        }
        let transfer = head.headers[canonicalForm: "transfer-encoding"].map { $0.lowercased() }
        if transfer.isEmpty, head.headers.contains(name: "transfer-encoding") {
            // Read by its Content-Length, it may be read otherwise by a proxy in front (smuggling).
            return (.badRequest, "malformed", "a Transfer-Encoding header must name the body's transfer codings")
        }
        if let last = transfer.last, last != "chunked" {
            // RFC 9112 6.3: the body's length cannot be known.
            return (.badRequest, "malformed", "a request's last transfer coding must be chunked")
        }
        if transfer.count > 1 {
            return (.notImplemented, "not_implemented", "the only transfer coding this node reads is chunked")
        }
        if head.headers[canonicalForm: "content-encoding"].contains(where: { $0.lowercased() != "identity" }) {
            return (.unsupportedMediaType, "unsupported_media_type", "this node reads request bodies only without a content coding (no Content-Encoding)")
        }
        return nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !finished else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status.code >= 200:
            guard let request = asked.popFirst() else { break }
            // Hummingbird answers HEAD by running GET and dropping the body, and says
            // `Content-Length: 0` for a body it would have streamed (no answer here is empty):
            // left out, as RFC 9110 9.3.2 allows for a length known only while writing.
            if request.method == .HEAD, head.status == .ok, head.headers[canonicalForm: "content-length"] == ["0"] {
                head.headers.remove(name: "content-length")
            }
            if request.version == .http1_0 {
                head.version = .http1_0
                head.headers.replaceOrAdd(name: "connection", value: "close")
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
            return
        case .end:
            owed = max(0, owed - 1)
            if lastRequestRead, owed == 0 {
                writeLast(data, promise: promise, context: context)
                return
            }
            context.write(data, promise: promise)
            if refusal != nil, owed == 0 { refuse(context: context) }
            return
        default:
            break
        }
        context.write(data, promise: promise)
    }

    /// Writes the refusal, then closes the connection.
    private func refuse(context: ChannelHandlerContext) {
        guard let refusal else { return }
        let body = ByteBuffer(string: #"{"error":"\#(refusal.error)","message":"\#(refusal.message)"}"#)
        var headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", "\(body.readableBytes)"), ("Connection", "close")])
        headers.add(name: "Server", value: "qbc")
        let version: HTTPVersion = refusal.version == .http1_0 ? .http1_0 : .http1_1
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: refusal.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        writeLast(wrapOutboundOut(.end(nil)), promise: nil, context: context)
    }

    /// Writes the connection's last answer's end, then ends the connection (`GracefulEnd`).
    private func writeLast(_ end: NIOAny, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        finished = true
        GracefulEnd.after(end, promise: promise, timeout: endTimeout, context: context)
    }
}
