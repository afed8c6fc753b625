import Foundation
public import QBCStorage

/// An exclusive `flock` on `LOCK` in a data folder, held for the life of the value, so two
/// nodes can never open the same data. The kernel drops it when the process dies, even by SIGKILL.
public final class DataDirectoryLock: Sendable {
    private let fd: Int32

    public init(directory: String) throws(StorageError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StorageError(.io, "cannot create data folder \(directory): \(error.localizedDescription)")
        }
        let path = (directory as NSString).appendingPathComponent("LOCK")
        let fd = open(path, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { throw StorageError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StorageError(.locked, "data folder \(directory) is in use by another qbc node (LOCK is held)")
        }
        ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
