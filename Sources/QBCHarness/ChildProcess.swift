import Foundation

/// A child process started with `posix_spawn`, its standard streams on files. Foundation's
/// `Process.run()` on Linux can crash the parent (a 256-byte over-read while it lists
/// `/proc/self/fd`, swift-corelibs-foundation PR 5472), about one run in five of a suite that
/// starts many processes; the tests and benchmarks start nodes with this instead.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `executable` with `arguments` and exactly `environment`. Standard input reads
    /// `stdin`; standard output and error go to files, appended to or started afresh. The child
    /// inherits no other descriptor of this process.
    public init(
        executable: String, arguments: [String], environment: [String: String], directory: String? = nil,
        stdin: String = "/dev/null", stdout: String, stderr: String, append: Bool = false
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let mode = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
        var prepared = [
            posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0),
            posix_spawn_file_actions_addopen(&actions, 1, stdout, mode, 0o644),
            posix_spawn_file_actions_addopen(&actions, 2, stderr, mode, 0o644),
        ]
        if let directory {
            guard let chdir = Self.changeDirectory else { throw LocalNodeError("this C library cannot start a process in another folder") }
            prepared.append(chdir(&actions, directory))
        }
        // Sockets of in-process servers and test clients must not live on in a node.
        guard let closeFrom = Self.closeFrom else { throw LocalNodeError("this C library lacks posix_spawn_file_actions_addclosefrom_np (glibc 2.34)") }
        prepared.append(closeFrom(&actions, 3))
        guard prepared.allSatisfy({ $0 == 0 }) else { throw LocalNodeError("cannot prepare to start \(executable)") }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        // spawnp: a bare name is looked up in PATH, as a shell would.
        let result = posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw LocalNodeError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    /// `posix_spawn_file_actions_addclosefrom_np` and `_addchdir_np` (glibc 2.34 and 2.29 and
    /// later), which Swift's Glibc module does not declare.
    private typealias Actions = UnsafeMutablePointer<posix_spawn_file_actions_t>?
    private static let closeFrom = symbol("posix_spawn_file_actions_addclosefrom_np", as: (@convention(c) (Actions, Int32) -> Int32).self)
    private static let changeDirectory = symbol(
        "posix_spawn_file_actions_addchdir_np", as: (@convention(c) (Actions, UnsafePointer<CChar>?) -> Int32).self)

    private static func symbol<F>(_ name: String, as type: F.Type) -> F? {
        guard let address = dlsym(nil, name) else { return nil }
        return unsafeBitCast(address, to: type)
    }

    /// True until the child has exited (and been reaped here).
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        guard status == nil else { return false }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid { status = raw }
        return status == nil
    }

    /// Waits for the child to exit; returns its exit code, or 128 + the signal that ended it.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        while status == nil {
            var raw: Int32 = 0
            let reaped = waitpid(pid, &raw, 0)
            if reaped == pid { status = raw } else if reaped == -1, errno != EINTR { status = -1 }
        }
        return Self.exitCode(status ?? -1)
    }

    /// Sends a signal, unless the child was reaped already (its pid may belong to another process by now).
    public func signal(_ number: Int32) {
        lock.lock()
        defer { lock.unlock() }
        if status == nil { _ = Glibc.kill(pid, number) }
    }

    private static func exitCode(_ raw: Int32) -> Int32 {
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which are macros C gives and Swift does not.
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }
}
