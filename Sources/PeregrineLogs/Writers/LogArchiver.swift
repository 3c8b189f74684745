// SPDX-License-Identifier: Apache-2.0
import CZlib
import CZstd
import Glibc
import PeregrineCore

/// How rotated logs are compressed.
public enum LogCompression: String, Sendable, CaseIterable {
    case none, gzip, zstd

    /// The file name suffix after `.log`.
    public var suffix: String {
        switch self {
        case .none: ""
        case .gzip: ".gz"
        case .zstd: ".zst"
        }
    }
}

/// Why a log could not be archived. The log stays where it was: nothing is lost.
public struct LogArchiveError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ what: String, path: String, errno code: Int32) {
        description = "\(what) \(path): \(String(cString: strerror(code)))"
    }

    init(_ description: String) { self.description = description }
}

/// Moves rotated logs into dated directories with ZeekControl's names, compressed, and keeps the
/// archive within its age and size limits (issue 6: logs on disk like Zeek's).
///
/// A log of stream `conn` open from 2026-11-22 00:00:00 to 01:00:00 (local time) becomes
/// `ARCHIVE/2026-11-22/conn.00:00:00-01:00:00.log.gz`, as `zeekctl`'s and `zeek-archiver`'s archives
/// name them. The compressed copy is written to a temporary name, synced and renamed into place
/// before the source is removed, so a full disk or a crash leaves either the source or the
/// finished archive, never a cut file in place of both.
///
/// It does file I/O and compression: run it off the packet path (the writer thread hands closed
/// files to an archiver thread).
public struct LogArchiver: Sendable {
    public let directory: String
    public let compression: LogCompression
    /// Compression level: gzip 1-9 (default 6, `gzip`'s), zstd 1-19 (default 3, `zstd`'s).
    public let level: Int32

    /// Bytes read and compressed per step.
    static let chunk = 256 * 1024

    public init(directory: String, compression: LogCompression, level: Int32? = nil) {
        self.directory = directory
        self.compression = compression
        self.level = level ?? (compression == .zstd ? 3 : 6)
    }

    /// The archive path for a log of stream `stream` open from `opened` to `closed`.
    public func destination(stream: String, opened: Timestamp, closed: Timestamp) -> String {
        let day = Self.localTime(opened, "%Y-%m-%d")
        return "\(directory)/\(day)/\(stream).\(Self.localTime(opened, "%H:%M:%S"))-"
            + "\(Self.localTime(closed, "%H:%M:%S")).log\(compression.suffix)"
    }

    /// Archives the closed log at `file` and removes it.
    /// - Returns: the archived file's path.
    /// - Throws: ``LogArchiveError`` naming the failing step; `file` is then left in place.
    @discardableResult
    public func archive(file: String, stream: String, opened: Timestamp, closed: Timestamp) throws(LogArchiveError) -> String {
        let target = destination(stream: stream, opened: opened, closed: closed)
        let day = String(target[..<target.lastIndex(of: "/")!])
        try Self.makeDirectories(day)
        let temporary = target + ".tmp"
        let input = open(file, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw LogArchiveError("cannot open", path: file, errno: errno) }
        defer { close(input) }
        let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw LogArchiveError("cannot create", path: temporary, errno: errno) }
        do throws(LogArchiveError) {
            switch compression {
            case .none: try Self.copy(input, to: output, path: temporary)
            case .gzip: try gzip(input, to: output, path: temporary)
            case .zstd: try zstd(input, to: output, path: temporary)
            }
            guard fsync(output) == 0 else { throw LogArchiveError("cannot sync", path: temporary, errno: errno) }
        } catch {
            close(output)
            unlink(temporary)
            throw error
        }
        close(output)
        guard rename(temporary, target) == 0 else {
            let code = errno
            unlink(temporary)
            throw LogArchiveError("cannot rename into", path: target, errno: code)
        }
        unlink(file)
        return target
    }

    /// What ``prune(now:maxAge:maxBytes:)`` removed.
    public struct Pruned: Equatable, Sendable {
        public var files = 0
        public var bytes: Int64 = 0

        public init(files: Int = 0, bytes: Int64 = 0) {
            self.files = files
            self.bytes = bytes
        }
    }

    /// Removes archived logs older than `maxAge`, then the oldest ones until the archive holds at
    /// most `maxBytes`; empty day directories go too. Only files this archiver names (in
    /// `YYYY-MM-DD` directories, ending in `.log`, `.log.gz` or `.log.zst`) are touched.
    @discardableResult
    public func prune(now: Timestamp, maxAge: Interval?, maxBytes: Int64?) -> Pruned {
        var files: [(path: String, day: String, modified: Int64, size: Int64)] = []
        for day in Self.entries(directory) where Self.isDay(day) {
            for name in Self.entries("\(directory)/\(day)")
            where name.hasSuffix(".log") || name.hasSuffix(".log.gz") || name.hasSuffix(".log.zst") {
                var info = stat()
                let path = "\(directory)/\(day)/\(name)"
                guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
                files.append((path, day, Int64(info.st_mtim.tv_sec), Int64(info.st_size)))
            }
        }
        files.sort { ($0.modified, $0.path) < ($1.modified, $1.path) }
        var total = files.reduce(Int64(0)) { $0 + $1.size }
        var pruned = Pruned()
        let oldest = maxAge.map { now.nanoseconds / 1_000_000_000 - $0.nanoseconds / 1_000_000_000 }
        var days = Set<String>()
        for f in files {
            let tooOld = oldest.map { f.modified < $0 } ?? false
            let tooBig = maxBytes.map { total > $0 } ?? false
            guard tooOld || tooBig else { break }
            if unlink(f.path) == 0 {
                pruned.files += 1
                pruned.bytes += f.size
                total -= f.size
                days.insert(f.day)
            }
        }
        for day in days { rmdir("\(directory)/\(day)") }  // fails, harmlessly, unless empty
        return pruned
    }

    // MARK: - Compression

    func gzip(_ input: CInt, to output: CInt, path: String) throws(LogArchiveError) {
        var stream = z_stream()
        // 15 + 16: a gzip header and trailer around the deflate stream.
        guard CZlib_deflateInit2(&stream, level, 15 + 16) == Z_OK else { throw LogArchiveError("zlib: deflateInit2 failed") }
        defer { deflateEnd(&stream) }
        let inBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.chunk)
        let outBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.chunk)
        defer {
            inBuffer.deallocate()
            outBuffer.deallocate()
        }
        var finished = false
        while !finished {
            let n = try Self.read(input, inBuffer, path: path)
            stream.next_in = inBuffer
            stream.avail_in = UInt32(n)
            let flush = n == 0 ? Z_FINISH : Z_NO_FLUSH
            repeat {
                stream.next_out = outBuffer
                stream.avail_out = UInt32(Self.chunk)
                let status = deflate(&stream, flush)
                guard status != Z_STREAM_ERROR else { throw LogArchiveError("zlib: deflate failed") }
                try Self.write(output, outBuffer, Self.chunk - Int(stream.avail_out), path: path)
                if status == Z_STREAM_END { finished = true }
            } while stream.avail_out == 0
        }
    }

    func zstd(_ input: CInt, to output: CInt, path: String) throws(LogArchiveError) {
        guard let context = ZSTD_createCCtx() else { throw LogArchiveError("zstd: cannot create a context") }
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        let inBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.chunk)
        let outCapacity = ZSTD_CStreamOutSize()
        let outBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: outCapacity)
        defer {
            inBuffer.deallocate()
            outBuffer.deallocate()
        }
        while true {
            let n = try Self.read(input, inBuffer, path: path)
            let mode = n == 0 ? ZSTD_e_end : ZSTD_e_continue
            var source = ZSTD_inBuffer(src: inBuffer, size: n, pos: 0)
            var done = false
            repeat {
                var sink = ZSTD_outBuffer(dst: outBuffer, size: outCapacity, pos: 0)
                let remaining = ZSTD_compressStream2(context, &sink, &source, mode)
                guard ZSTD_isError(remaining) == 0 else {
                    throw LogArchiveError("zstd: \(String(cString: ZSTD_getErrorName(remaining)))")
                }
                try Self.write(output, outBuffer, sink.pos, path: path)
                done = mode == ZSTD_e_end ? remaining == 0 : source.pos == source.size
            } while !done
            if n == 0 { return }
        }
    }

    // MARK: - Files

    static func copy(_ input: CInt, to output: CInt, path: String) throws(LogArchiveError) {
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
        defer { buffer.deallocate() }
        while true {
            let n = try read(input, buffer, path: path)
            if n == 0 { return }
            try write(output, buffer, n, path: path)
        }
    }

    static func read(_ fd: CInt, _ buffer: UnsafeMutablePointer<UInt8>, path: String) throws(LogArchiveError) -> Int {
        while true {
            let n = Glibc.read(fd, buffer, chunk)
            if n >= 0 { return n }
            if errno != EINTR { throw LogArchiveError("cannot read the log for", path: path, errno: errno) }
        }
    }

    static func write(_ fd: CInt, _ buffer: UnsafeMutablePointer<UInt8>, _ count: Int, path: String) throws(LogArchiveError) {
        var done = 0
        while done < count {
            let n = Glibc.write(fd, buffer + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw LogArchiveError("cannot write", path: path, errno: errno)
            }
            done += n
        }
    }

    /// Creates `path` and its missing parents (`mkdir -p`).
    public static func makeDirectories(_ path: String) throws(LogArchiveError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw LogArchiveError("cannot create", path: current, errno: errno)
            }
        }
    }

    static func entries(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// `YYYY-MM-DD`.
    static func isDay(_ name: String) -> Bool {
        let u = Array(name.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-") else { return false }
        return u.enumerated().allSatisfy { $0.offset == 4 || $0.offset == 7 || ($0.element >= 48 && $0.element <= 57) }
    }

    static func localTime(_ t: Timestamp, _ format: String) -> String {
        var seconds = time_t(t.nanoseconds / 1_000_000_000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
