import Foundation
import Prometheus
import Synchronization

/// The standard `process_*` metrics, read from /proc at scrape time (Linux; elsewhere they are
/// left out).
final class ProcessMetrics: Sendable {
    /// CPU seconds already added to `process_cpu_seconds_total`.
    private let counted = Mutex<Double>(0)
    private let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    private let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))

    func update(_ registry: PrometheusCollectorRegistry) {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            // The command name, in parentheses, may hold spaces: the fields start after its end.
            let end = stat.lastIndex(of: ")")
        else { return }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        // After the name: state is field 3 of proc(5), so field n sits at index n − 3.
        func field(_ n: Int) -> Double? { fields.count > n - 3 ? Double(fields[n - 3]) : nil }
        guard let user = field(14), let system = field(15), let start = field(22), let virtual = field(23), let resident = field(24)
        else { return }
        let cpu = (user + system) / ticks
        let added = counted.withLock { counted -> Double in
            defer { counted = max(counted, cpu) }
            return max(0, cpu - counted)
        }
        registry.makeCounter(name: "process_cpu_seconds_total", help: "User and system CPU time spent, in seconds")
            .increment(by: added)
        registry.makeGauge(name: "process_resident_memory_bytes", help: "Resident memory size in bytes")
            .set(Int64(resident) * pageSize)
        registry.makeGauge(name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes").set(Int64(virtual))
        if let boot = Self.bootTime() {
            registry.makeGauge(name: "process_start_time_seconds", help: "Start time of the process since the epoch, in seconds")
                .set(boot + start / ticks)
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            registry.makeGauge(name: "process_open_fds", help: "Open file descriptors").set(Int64(descriptors.count))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            registry.makeGauge(name: "process_max_fds", help: "The limit on open file descriptors")
                .set(Int64(clamping: limit.rlim_cur))
        }
    }

    /// Seconds since the epoch at which the machine booted (`btime` in /proc/stat).
    private static func bootTime() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
