import Metrics
import Prometheus

/// The process's swift-metrics backend: a Prometheus registry that `/metrics` serves. One node
/// runs per process, so what swift-metrics records anywhere in the process (Hummingbird's
/// request metrics, the chains' counters and timers) is this node's.
public enum MetricsBackend {
    /// Call before the node opens its chains, so that what they record from the start is kept.
    public static func bootstrap() { _ = registry }

    /// Bootstrapped once, on first use; swift-metrics allows a single bootstrap per process.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (renamed[name] ?? name, labels.map { (label, value) in
                // The HTTP parser takes some 34 methods; the API serves four. The rest are one label.
                let renamedLabel = renamedLabels[label] ?? label
                return (renamedLabel, renamedLabel == "method" && !methods.contains(value) ? "other" : value)
            })
        }
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
            .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Hummingbird's request metrics, under the node's prefix and Prometheus's naming.
    private static let renamed = [
        "hb.requests": "qbc_http_requests_total",
        "hb.request.errors": "qbc_http_request_errors_total",
        "http.server.request.duration": "qbc_http_request_duration_seconds",
        "http.server.active_requests": "qbc_http_active_requests",
    ]
    private static let methods: Set<String> = ["GET", "HEAD", "POST", "OPTIONS"]
    private static let renamedLabels = [
        "http.route": "route", "http.request.method": "method", "http.response.status_code": "status", "error.type": "status",
    ]
}
