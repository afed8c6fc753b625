import Foundation

/// File reading and writing with the CLI's rules: clear errors, secrets at mode 0600,
/// never replacing an existing file unless asked.
enum Files {
    /// Reads a file, or standard input for "-", refusing anything over `limit` bytes.
    static func read(_ path: String, limit: Int = 32 * 1024 * 1024) throws -> [UInt8] {
        let handle: FileHandle
        if path == "-" {
            handle = FileHandle.standardInput
        } else {
            var folder: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &folder), folder.boolValue {
                throw CLIError("cannot read \(path): it is a folder, not a file")
            }
            guard let h = FileHandle(forReadingAtPath: path) else {
                throw CLIError("cannot read \(path): \(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")")
            }
            handle = h
        }
        defer { if path != "-" { try? handle.close() } }
        let data = try handle.read(upToCount: limit + 1) ?? Data()
        guard data.count <= limit else { throw CLIError("\(path) is larger than \(limit) bytes") }
        return Array(data)
    }

    /// Writes `bytes` with mode 0600. Without `replace`, an existing file is an error;
    /// with it, the new file is written beside it and renamed over it atomically.
    static func writeSecret(_ bytes: [UInt8], to path: String, replace: Bool) throws {
        if !replace {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard fd >= 0 else {
                if errno == EEXIST { throw CLIError("\(path) already exists: use --force to replace it") }
                throw CLIError("cannot create \(path): \(String(cString: strerror(errno)))")
            }
            try writeAll(fd: fd, bytes: bytes, path: path)
            return
        }
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw CLIError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        try writeAll(fd: fd, bytes: bytes, path: temporary)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CLIError("cannot replace \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Writes a non-secret file, replacing any existing one.
    static func write(_ bytes: [UInt8], to path: String) throws {
        do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw CLIError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    private static func writeAll(fd: Int32, bytes: [UInt8], path: String) throws {
        defer { close(fd) }
        // The umask may have narrowed the mode; make it exactly 0600.
        fchmod(fd, 0o600)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
            offset += n
        }
        guard fsync(fd) == 0 else { throw CLIError("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}
