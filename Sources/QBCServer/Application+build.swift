import Foundation
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import QBCClient
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
    let settings = runtime.settings
    let transport = HTTPPeerTransport(
        key: runtime.nodeKey, clock: clock, maxPayloadBytes: TransactionLimits.absoluteMaxPayloadBytes,
        http: try TrustedClients.client(caFile: settings.caFile))
    let network = NetworkService(
        key: runtime.nodeKey, chains: runtime.directory, transport: transport, bootstrap: runtime.settings.peers,
        advertise: runtime.settings.advertise, environment: environment, bans: try await runtime.store.bans(after: clock.now()))
    let subscribers = SubscriberCount()
    let connections = ConnectionTable(limits: ConnectionLimits(
        maximum: runtime.settings.maxConnections, headTimeout: .milliseconds(Int64(runtime.settings.requestHeadTimeoutMilliseconds)),
        bodyPause: .milliseconds(Int64(runtime.settings.requestBodyPauseMilliseconds))))
    let metrics = NodeMetrics(chains: runtime.directory, network: network, clock: clock, subscribers: subscribers, connections: connections)
    // HEAD is answered wherever GET is; a path served under other methods answers 405 with Allow.
    let router = Router(context: QBCRequestContext.self, options: .autoGenerateHeadEndpoints)
    let routes = RouteTable()
    // Outermost first: CORS answers preflights before anything; metrics and the request log see
    // every answer, the JSON 404/405 included.
    if !runtime.settings.corsOrigins.isEmpty { router.add(middleware: CrossOriginMiddleware(origins: Set(runtime.settings.corsOrigins))) }
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.add(middleware: RouteErrorMiddleware(table: routes))
    router.add(middleware: BodyBudgetMiddleware(budget: .shared))
    let controller = ChainController(
        runtime: runtime, metrics: metrics, network: network, clock: clock, logger: environment.logger, subscribers: subscribers)
    controller.addRoutes(to: router)
    PeerController(network: network, chains: controller, clock: clock, metrics: metrics, notices: NoticeLimiter(logger: environment.logger))
        .addRoutes(to: router)
    if runtime.settings.explorer { ExplorerController().addRoutes(to: router) }
    router.get("/health") { _, _ in JSONResponse.make(["status": "ok"]) }
    router.get("/ready") { _, _ in try await readiness(runtime: runtime, network: network) }
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
    let http1 = HTTPServerBuilder.http1(configuration: .init(additionalChannelHandlers: [ConnectionGuard(table: connections)]))
    return Application(
        router: router,
        server: try settings.tls().map { tls throws in try HTTPServerBuilder.tls(http1, tlsConfiguration: tls) } ?? http1,
        configuration: .init(address: .hostname(runtime.settings.host, port: runtime.settings.port), serverName: "qbc"),
        services: services,
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? runtime.settings.port
            await network.serverBound(address: settings.url(port: port))
            await onRunning(port)
        },
        logger: environment.logger)
}

/// `/ready`: 200 once storage answers and every chain is within `api.readyMaxLag` Quants of the
/// best tip its peers reported in the last round of sync (a node without peers is ready); 503
/// `not_ready` saying why otherwise. `/health` stays a liveness check.
func readiness(runtime: NodeRuntime, network: NetworkService) async throws -> Response {
    do { _ = try await runtime.store.tip(chain: runtime.defaultChain.id) } catch {
        throw APIError(.serviceUnavailable, "not_ready", "storage does not answer: \(error)")
    }
    let allowed = UInt64(runtime.settings.readyMaxLag)
    for chain in runtime.chains {
        guard let lag = await network.syncLag(chain) else {
            throw APIError(.serviceUnavailable, "not_ready", "chain \(chain.rules.name): no peer answered in the last round of sync")
        }
        guard lag <= allowed else {
            throw APIError(
                .serviceUnavailable, "not_ready", "chain \(chain.rules.name) is \(lag) Quants behind its best peer (at most \(allowed) allowed)")
        }
    }
    return JSONResponse.make(["status": "ready"])
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

