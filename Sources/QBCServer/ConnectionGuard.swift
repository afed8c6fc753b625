import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// One connection's guard: closes it when a request head, a body or the reading of a response
/// takes too long (slow clients cannot hold a connection forever), and keeps the table told
/// whether it is busy.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let table: ConnectionTable
    private var deadline: Scheduled<Void>?
    /// When the current request's body must be complete.
    private var bodyDue = NIODeadline.distantFuture
    /// Requests whose answer has not ended: a pipelining client may send the next before that.
    private var inFlight = 0
    /// Set by a CONNECT request: the HTTP parser reads nothing after one (it would be a tunnel)
    /// and the encoder drops the answer's body, so the connection is closed once answered.
    private var closeAfterAnswer = false
    /// Between a request's head and its end: a parser error now is in this request's body.
    private var receivingBody = false
    /// Between an answer's head and its end, as written.
    private var answering = false
    /// The answer being written is an event stream (`text/event-stream`): it may last for ever,
    /// so each part written (an event, or the heartbeat every 15 s) restarts the response timeout
    /// instead; a consumer that stops reading stops the writes, and is closed when it runs out.
    private var streaming = false
    /// Set once this guard answered a parser error itself: whatever Hummingbird writes after is dropped.
    private var answeredError = false
    /// Requests taken, answers begun, and which request (by number, 0 for none) last asked for
    /// an event stream: its answer tells whether it is one.
    private var requestsTaken = 0
    private var answersBegun = 0
    private var streamRequest = 0
    /// A request for an event stream is in flight: its answer has not begun, or is a stream,
    /// which never ends, so nothing pipelined behind it can be answered. A refused stream (a bad
    /// cursor, a missing proof) is an ordinary answer, which ends; its client may send the next
    /// request as soon as the answer's bytes are in, before its end (no bytes of its own) is
    /// written here, and a flag kept until that end closed the connection for that request as if
    /// pipelined behind a stream (a rare failure of the suite).
    private var eventStreamAsked: Bool {
        streamRequest > answersBegun || (streamRequest > 0 && streamRequest == answersBegun && streaming)
    }
    /// Set once such a pipelined request closed the connection: the rest of what was read is dropped.
    private var dropping = false
    /// Set once a request came past `pipelineLimit`: it and all after it are dropped unanswered,
    /// nothing more is parsed, the answers owed are written, and then the connection ends
    /// (`GracefulEnd`).
    private var overflowed = false
    /// In its graceful end, which keeps time itself.
    private var ended = false
    /// Out of the pipeline: a write that completes late arms nothing.
    private var removed = false
    /// Answers whose end was written here and has not reached the kernel yet.
    private var unwrittenEnds = 0
    /// Set once the HTTP parser reported an error: it reports every later read as another.
    private var parserFailed = false
    /// Requests passed on to Hummingbird whose answer's end has not been written here yet.
    private var passedOn = 0
    /// What came behind a request whose answer has not reached the kernel, in order: passed on
    /// once it has (D85). Hummingbird built the answer to a request pipelined behind an unread one
    /// at once and held it outside the answer budget (60 connections held 886 MB). Counted in the
    /// node's answer budget as well: both are what a client that does not read makes it keep.
    private var held = HeldRequests()
    /// A read asked for while reading paused: done once enough of `held` is passed on.
    private var readWanted = false
    /// Body parts passed here since the last read completed, joined into one part for
    /// Hummingbird: it streams each part to the handler through Swift concurrency, and a body of
    /// 1-byte chunks (one part each) from 20 connections kept the event loop from answering
    /// `/health` for 1.5 s. A part is passed on alone when it, with what waits, passes `bodyJoinLimit`.
    private var pendingBody: ByteBuffer?

    /// Bytes of body joined into one part before it goes on: more than one read's worth, so a
    /// large body's parts go on as they came, without a copy.
    static let bodyJoinLimit = 64 << 10
    /// The most one read of a connection takes (D86).
    static let readLimit = 16 << 10

    /// The estimated bytes held per connection past which reading pauses. Enough for the
    /// `pipelineLimit` requests of a client that pipelines small ones without reading (it gets
    /// its 256 answers and a graceful end, D79), not for their bodies or for large heads.
    static let heldLimit = 256 << 10

    /// Unanswered requests past which the rest are dropped and the connection ends: a client
    /// that pipelined requests and never read the answers made the node read on and hold every
    /// request it sent, about 6 MB per connection (6 GB over 1,024 connections). Holding reads
    /// instead would not bound it: one read can bring thousands of small requests.
    static let pipelineLimit = 256

    init(table: ConnectionTable) { self.table = table }

    func handlerAdded(context: ChannelHandlerContext) {
        table.opened(context.channel)
        // One read of up to 16 KiB per connection per turn of the event loop, not NIO's four of
        // up to 64 KiB: a read of tiny chunked parts costs about a microsecond a part in NIO's own
        // handlers, and a turn reads every busy connection before it answers `/health` (D86).
        try? context.channel.syncOptions?.setOption(ChannelOptions.maxMessagesPerRead, value: 1)
        try? context.channel.syncOptions?.setOption(
            ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: Self.readLimit))
        arm(table.limits.headTimeout, context: context)
        // Hummingbird adds handlers only after its conversion to HTTP types, which drops the version.
        let pipeline = context.pipeline.syncOperations
        if let parser = try? pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self) {
            try? pipeline.addHandler(HTTPMessageRules(endTimeout: table.limits.responseTimeout), position: .after(parser))
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
        deadline?.cancel()
        table.taken(context.channel, bytes: held.removeAll())
        table.closed(context.channel)
    }

    /// A graceful end (begun here or by `HTTPMessageRules`) has its own time limit: this guard's
    /// timeouts stop, or the head timeout would cut it short at 15 s, with a reset.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is GracefulEnd.Began {
            ended = true
            deadline?.cancel()
            table.ending(context.channel)
        }
        passPendingBody(context: context)
        // The client's end of input goes after what it sent before it (`mayPass`).
        if case ChannelEvent.inputClosed = event, holds(.inputClosed) {
            hold(.inputClosed, context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        passPendingBody(context: context)
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        passPendingBody(context: context)
        deadline?.cancel()
        table.closed(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !dropping, !overflowed else { return }
        let part = unwrapInboundIn(data)
        if case .head(let head) = part {
            // A request pipelined behind an event stream would wait for ever, and reading it
            // takes the stream's watch on its connection away, so a consumer that then goes away
            // would hold its place until a write fails (D76): the connection is closed instead.
            guard !eventStreamAsked else {
                dropping = true
                context.close(promise: nil)
                return
            }
            guard inFlight < Self.pipelineLimit else {
                overflowed = true
                return
            }
            inFlight += 1
            requestsTaken += 1
            if head.method == .get, let target = head.path, EventStreamFormat.isStream(target) { streamRequest = requestsTaken }
        }
        // A head is held until every answer before it has reached the kernel: its time limits
        // start when it is passed on, and until then the unread answer's response timeout runs.
        if holds(.part(part)) {
            hold(.part(part), context: context)
        } else {
            pass(part, context: context)
        }
    }

    /// Whether `item`, arriving now, must wait: behind anything held, or by its own rule.
    private func holds(_ item: HeldRequests.Item) -> Bool { !held.isEmpty || !mayPass(item) }

    /// Whether `item` may go on to Hummingbird now. A request head, once every answer before it
    /// has reached the kernel. The client's end of input or a parser error, once no answer owed
    /// is still on its way there (Hummingbird closes the connection when it sees them, and an
    /// answer still in NIO's buffer was cut off), unless a request's body is still arriving (and
    /// never will) or an event stream is open, which never ends and whose consumer's leaving
    /// ends it (D76). The rest of a request's parts, at once.
    private func mayPass(_ item: HeldRequests.Item) -> Bool {
        switch item {
        case .part(.head): passedOn == 0 && unwrittenEnds == 0
        case .part: true
        case .error, .inputClosed: (passedOn == 0 && unwrittenEnds == 0) || receivingBody || eventStreamAsked
        }
    }

    /// Keeps `item` until the answers before it have reached the kernel, counted in the answer
    /// budget (which may close this connection at once, if it holds the most).
    private func hold(_ item: HeldRequests.Item, context: ChannelHandlerContext) {
        table.queued(context.channel, bytes: held.append(item))
    }

    /// A request part goes on to Hummingbird, and its time limits start; a body part waits for
    /// the read's end, joined with the others it brought (`pendingBody`).
    private func pass(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        if case .body(let body) = part {
            join(body, context: context)
            return
        }
        passPendingBody(context: context)
        switch part {
        case .head(let head):
            if head.method == .connect { closeAfterAnswer = true }
            passedOn += 1
            receivingBody = true
            table.mark(context.channel, busy: true)
            bodyDue = .now() + table.limits.bodyTimeout
            arm(min(table.limits.bodyPause, table.limits.bodyTimeout), context: context)
        case .end:
            receivingBody = false
            // A route may answer before the body has all come (a 404 answers at its head); once
            // that answer is in the kernel the connection is idle, and the next head has the head
            // timeout to come. The response timeout armed here kept such a connection for 120 s.
            let answered = inFlight == 0 && unwrittenEnds == 0
            arm(answered ? table.limits.headTimeout : table.limits.responseTimeout, context: context)
        case .body:
            break
        }
        context.fireChannelRead(wrapInboundOut(part))
    }

    private func join(_ body: ByteBuffer, context: ChannelHandlerContext) {
        guard var pending = pendingBody else {
            pendingBody = body
            return
        }
        guard pending.readableBytes + body.readableBytes <= Self.bodyJoinLimit else {
            passPendingBody(context: context)
            pendingBody = body
            return
        }
        pendingBody = nil  // so that the buffer has one owner and grows in place
        pending.writeImmutableBuffer(body)
        pendingBody = pending
    }

    /// The body parts joined so far go on as one, and the body's pause timeout starts again.
    private func passPendingBody(context: ChannelHandlerContext) {
        guard let body = pendingBody else { return }
        pendingBody = nil
        guard !removed else { return }
        arm(min(table.limits.bodyPause, bodyDue - .now()), context: context)
        context.fireChannelRead(wrapInboundOut(.body(body)))
    }

    /// Passes on what was held, up to the next request head, once every answer before it has
    /// reached the kernel; and reads on if reading paused.
    private func passHeld(context: ChannelHandlerContext) {
        var passed = false
        while !removed, let first = held.first, mayPass(first) {
            // Out of the budget item by item: passing one on may close the connection, and its
            // removal gives back what is still held.
            let before = held.bytes
            _ = held.removeFirst()
            table.taken(context.channel, bytes: before - held.bytes)
            passed = true
            switch first {
            case .part(let part): pass(part, context: context)
            case .error(let error):
                // The body joined so far goes first: Hummingbird drops what comes after these.
                passPendingBody(context: context)
                refuse(error, context: context)
            case .inputClosed:
                passPendingBody(context: context)
                context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            }
        }
        if passed, !removed {
            passPendingBody(context: context)
            context.fireChannelReadComplete()
        }
        if readWanted, held.bytes < Self.heldLimit {
            readWanted = false
            read(context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !answeredError else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        var promise = promise
        switch unwrapOutboundIn(data) {
        case .head(let head):
            answering = true
            streaming = head.headerFields[.contentType] == EventStreamFormat.contentType
            if head.status.code >= 200 { answersBegun += 1 }
        case .body(let body):
            if streaming { arm(table.limits.responseTimeout, context: context) }
            // Counted until the kernel has the bytes, or the write fails (D85).
            let (bytes, table, channel) = (body.readableBytes, table, context.channel)
            let written = promise ?? context.eventLoop.makePromise()
            written.futureResult.whenComplete { _ in table.taken(channel, bytes: bytes) }
            promise = written
            table.queued(channel, bytes: bytes)
        default:
            break
        }
        if case .end = unwrapOutboundIn(data) {
            answering = false
            streaming = false
            inFlight = max(0, inFlight - 1)
            passedOn = max(0, passedOn - 1)
            if overflowed, inFlight == 0 {
                GracefulEnd.after(data, promise: promise, timeout: table.limits.responseTimeout, context: context)
                return
            }
            // The answer may wait in NIO's buffer for a slow reader (a sync page of 16 MiB is
            // written whole): it has the response timeout to be read, and the wait for the next
            // head starts once its end has reached the kernel. Armed at once, the head timeout
            // cut off a reader still receiving after 15 s (a peer on a 4 Mbit/s link).
            arm(table.limits.responseTimeout, context: context)
            // Every answer's end is followed, not only the last one's: an older end reaching the
            // kernel must not start the head timeout while a newer answer still waits.
            unwrittenEnds += 1
            let written = promise ?? context.eventLoop.makePromise()
            written.futureResult.assumeIsolated().whenComplete { [weak self] _ in self?.answerWritten(context: context) }
            promise = written
        }
        context.write(data, promise: promise)
        if closeAfterAnswer, case .end = unwrapOutboundIn(data) {
            context.flush()
            context.close(promise: nil)
        }
    }

    func read(context: ChannelHandlerContext) {
        guard !overflowed else { return }
        guard held.bytes < Self.heldLimit else {
            readWanted = true
            return
        }
        context.read()
    }

    /// A request the HTTP parser refuses (its head, or the framing of its body) gets the JSON
    /// error every other refusal gets (Hummingbird's own answer has an empty body), and the
    /// connection is closed: nothing after bytes that are not HTTP can be trusted to start a
    /// request. When an answer has started, or an earlier pipelined request still waits for its
    /// answer, the error goes on to Hummingbird instead, so answers never interleave.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Bytes that came after the parser failed: the first error said all there is to say.
        if case ByteToMessageDecoderError.dataReceivedInErrorState = error, parserFailed { return }
        passPendingBody(context: context)
        if error is HTTPParserError {
            parserFailed = true
            // An error in what the client sent after held requests, or while answers owed are on
            // their way to the kernel, waits its turn (`mayPass`): passed on at once, Hummingbird
            // closed the connection and cut those answers off (a next request's first bytes, then
            // a half-close).
            if holds(.error(error)) {
                hold(.error(error), context: context)
                return
            }
        }
        refuse(error, context: context)
    }

    private func refuse(_ error: any Error, context: ChannelHandlerContext) {
        let thisRequest = inFlight == 0 || (inFlight == 1 && receivingBody)
        guard error is HTTPParserError, thisRequest, !answering, !answeredError else {
            context.fireErrorCaught(error)
            return
        }
        let body = ByteBuffer(string: #"{"error":"malformed","message":"the request is not valid HTTP/1.1 or 1.0"}"#)
        let head = HTTPResponse(status: .badRequest, headerFields: [
            .contentType: "application/json", .contentLength: "\(body.readableBytes)", .connection: "close",
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        answeredError = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// The last answer owed is in the kernel's hands: the connection is idle, and the next
    /// request head has the head timeout to come (unless one came meanwhile).
    private func answerWritten(context: ChannelHandlerContext) {
        unwrittenEnds -= 1
        guard unwrittenEnds == 0, passedOn == 0, !removed else { return }
        if !held.isEmpty {
            // On the next turn: this runs inside Hummingbird's write, which the held request's
            // parts must not enter.
            context.eventLoop.assumeIsolated().execute { [weak self] in
                guard let self, !self.removed else { return }
                self.passHeld(context: context)
            }
        } else if inFlight == 0 {
            table.mark(context.channel, busy: false)
            arm(table.limits.headTimeout, context: context)
        }
    }

    /// Closes the connection unless the next step happens within `timeout`.
    private func arm(_ timeout: TimeAmount, context: ChannelHandlerContext) {
        guard !ended else { return }
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }
}
