import NIOCore
import NIOHTTP1

/// Answers to HTTP/1.0 requests in HTTP/1.0. A client of that version cannot read a chunked body
/// (RFC 9112 6.1 forbids sending it one), and the HTTP encoder chunks every answer of unknown
/// length (streamed pages, event streams) when the answer says HTTP/1.1, as Hummingbird's all do.
/// Such an answer now says HTTP/1.0, and its body ends when the connection does; every answer to
/// an HTTP/1.0 request closes the connection (`Connection: close`: the old keep-alive extension
/// is not offered). It sits between the HTTP parser and the conversion to HTTP types, which drops
/// the request's version.
final class HTTP10Answers: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The versions of requests not yet answered, in order; no more than a connection may have
    /// waiting (`ConnectionGuard.pipelineLimit`): later ones are dropped unanswered.
    private var versions = CircularBuffer<HTTPVersion>()
    private var closeAtEnd = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data), versions.count <= ConnectionGuard.pipelineLimit {
            versions.append(head.version)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status.code >= 200:
            guard versions.popFirst() == .http1_0 else { break }
            head.version = .http1_0
            head.headers.replaceOrAdd(name: "connection", value: "close")
            closeAtEnd = true
            context.write(wrapOutboundOut(.head(head)), promise: promise)
            return
        case .end where closeAtEnd:
            let channel = context.channel
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            context.writeAndFlush(data, promise: written)
            return
        default:
            break
        }
        context.write(data, promise: promise)
    }
}
