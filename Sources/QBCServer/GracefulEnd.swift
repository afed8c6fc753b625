import NIOCore

/// Ends a connection the node has finished answering without cutting those answers off. Closing
/// a socket that still holds unread bytes from the client sends a reset, and a reset makes the
/// client's system drop answers it has received but not yet read: a client that pipelined past
/// the limit, or sent a body the node refused or an HTTP/1.0 request with more behind it, lost
/// answers the node had written. So the node ends only its output (the client reads every answer,
/// then end of file), and reads on, dropping the bytes unparsed, until the client closes its side,
/// `timeout` passes from the start (the time any client has to read an answer), or it has dropped
/// `maxDrained` bytes (the largest body a route takes: more cannot be a request being finished).
enum GracefulEnd {
    /// Told to every handler as the end begins: the connection guard stops its own timeouts.
    struct Began {}

    static let maxDrained = 64 << 20

    /// Writes `last` (an answer's end) and flushes; once it is written, ends the connection as above.
    static func after(_ last: NIOAny, promise: EventLoopPromise<Void>?, timeout: TimeAmount, context: ChannelHandlerContext) {
        let channel = context.channel
        let limit = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        channel.closeFuture.whenComplete { _ in limit.cancel() }
        context.pipeline.fireUserInboundEventTriggered(Began())
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.cascade(to: promise)
        written.futureResult.whenComplete { _ in
            channel.close(mode: .output).whenComplete { ended in
                guard case .success = ended,
                    (try? channel.pipeline.syncOperations.addHandler(Drain(), position: .first)) != nil
                else {
                    // Where output cannot end alone, the connection ends whole.
                    channel.close(promise: nil)
                    return
                }
            }
        }
        context.writeAndFlush(last, promise: written)
    }

    /// First in the pipeline once output has ended: reads and drops whatever arrives, so the parser
    /// never sees it, until the client's end of file closes the connection or too much came.
    final class Drain: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        private var dropped = 0

        func handlerAdded(context: ChannelHandlerContext) { context.read() }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            dropped += unwrapInboundIn(data).readableBytes
            if dropped > GracefulEnd.maxDrained { context.close(promise: nil) }
        }

        func channelReadComplete(context: ChannelHandlerContext) { context.read() }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}
