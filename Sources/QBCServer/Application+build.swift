import Foundation
public import Hummingbird
import Logging
import NIOCore
import QBCCore
import QBCNode
import QBCStorage
import QBCWire
import ServiceLifecycle

/// Builds the node's HTTP application: the composition root that `qbc node` and the tests call.
///
/// `onRunning` receives the bound port (useful with port 0).
public func buildApplication(
    runtime: NodeRuntime, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let environment = runtime.environment
    let clock = environment.clock
    let metrics = NodeMetrics(chains: runtime.directory)
    // HEAD is answered wherever GET is; a path served under other methods answers 405 with Allow.
    let router = Router(context: QBCRequestContext.self, options: .autoGenerateHeadEndpoints)
    let routes = RouteTable()
    router.add(middleware: RouteErrorMiddleware(table: routes))
    router.add(middleware: BodyBudgetMiddleware(budget: .shared))
    let transport = HTTPPeerTransport(key: runtime.nodeKey, clock: clock, maxPayloadBytes: TransactionLimits.absoluteMaxPayloadBytes)
    let network = NetworkService(
        key: runtime.nodeKey, chains: runtime.directory, transport: transport, bootstrap: runtime.settings.peers,
        advertise: runtime.settings.advertise, environment: environment, bans: try await runtime.store.bans(after: clock.now()))
    let controller = ChainController(runtime: runtime, metrics: metrics, network: network, clock: clock, logger: environment.logger)
    controller.addRoutes(to: router)
    PeerController(network: network, chains: controller, clock: clock, logger: environment.logger).addRoutes(to: router)
    router.get("/health") { _, _ in JSONResponse.make(["status": "ok"]) }
    router.get("/metrics") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: await metrics.scrape())))
    }
    routes.record(router.routes.map { ($0.method, $0.path.description) })
    var services: [any Service] = [network, ShutdownNotice(logger: environment.logger)]
    services.append(LeapService(
        chains: runtime.directory, interval: runtime.settings.leapIntervalMilliseconds, threshold: runtime.settings.leapThreshold,
        environment: environment))
    let connections = ConnectionTable(limits: ConnectionLimits(
        maximum: runtime.settings.maxConnections, headTimeout: .milliseconds(Int64(runtime.settings.requestHeadTimeoutMilliseconds))))
    return Application(
        router: router,
        server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionGuard(table: connections)])),
        configuration: .init(address: .hostname(runtime.settings.host, port: runtime.settings.port), serverName: "qbc"),
        services: services,
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? runtime.settings.port
            await network.serverBound(address: "http://\(runtime.settings.host):\(port)")
            await onRunning(port)
        },
        logger: environment.logger)
}

/// Builds the application and runs it until SIGINT or SIGTERM, shutting down gracefully. Throws
/// `ListenError` when the server cannot bind its address (the node's services then stop at once).
public func runNode(runtime: NodeRuntime, onRunning: @escaping @Sendable (Int) async -> Void) async throws {
    let logger = runtime.environment.logger
    // SIGHUP is ignored: a node keeps running when the terminal it was started from closes
    // (documentation/configuration.md, "Signals").
    signal(SIGHUP, SIG_IGN)
    let app = try await buildApplication(runtime: runtime, onRunning: onRunning)
    defer { logger.notice("stopped") }
    do { try await app.runService() } catch let error as IOError {
        let reason = error.errnoCode == EADDRINUSE ? "the port is in use" : String(cString: strerror(error.errnoCode))
        throw ListenError(address: "\(runtime.settings.host):\(runtime.settings.port)", reason: reason)
    } catch is SocketAddressError, is SocketAddressError.UnknownHost {
        throw ListenError(address: "\(runtime.settings.host):\(runtime.settings.port)", reason: "the host name does not resolve to an address of this machine")
    }
}

/// The node's server could not bind its address.
public struct ListenError: Error, CustomStringConvertible {
    public let address: String
    public let reason: String
    public var description: String { "cannot listen on \(address): \(reason)" }
}

/// Logs the start of a graceful shutdown (SIGTERM or SIGINT); `runNode` logs its end.
struct ShutdownNotice: Service {
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.notice("shutting down: finishing requests and stopping the node's services")
    }
}

