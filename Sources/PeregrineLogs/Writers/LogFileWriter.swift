// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one stream's records to `<directory>/<path>.log`.
///
/// The file is created on the first record, as Zeek does: a stream that logs nothing leaves no file.
/// Formatted lines collect in a buffer that is written with `write(2)` once it holds
/// ``bufferCapacity`` bytes, on ``flush()`` and on ``close()``, which also adds the TSV `#close` line.
/// ``reopen()`` ends the file the same way but lets the next record start a new one (external
/// rotation); ``rotate()`` also moves the ended file aside for the archiver (built-in rotation).
/// One writer belongs to the writer thread; it is not shared.
///
/// A failed write (a full disk, an I/O error) never leaves part of a line behind: the file is cut
/// back to the end of the last line that was written whole, the buffered records are dropped and
/// counted in ``lostRecords``, and the writer stays usable, so writing resumes once the disk has
/// room again. A file whose header never reached the disk is closed and started again, header
/// first, by the next record.
public struct LogFileWriter {
    /// The stream's schema.
    public let schema: LogSchema
    /// The file's full path.
    public let filePath: String
    /// How many formatted bytes are held before they are written.
    public let bufferCapacity: Int

    private let formatter: LogFormatter
    private let clock: () -> Int
    private var descriptor: Int32 = -1
    /// The wall-clock second the current file was opened (its `#open` time).
    public private(set) var openedAt = 0
    private var buffer: [UInt8]
    /// Records in `buffer`.
    private var bufferedRecords: UInt64 = 0
    /// The file's size up to the last byte written with everything before it: only whole lines.
    private var durableSize: off_t = 0
    /// Whether the header of the open file is on disk.
    private var headerWritten = false
    /// Records dropped because the file could not be created or written.
    public private(set) var lostRecords: UInt64 = 0
    /// Bytes written to the stream's files (headers and `#close` lines included).
    public private(set) var bytesWritten: UInt64 = 0
    private var closed = false
    /// Set by ``reopen()``: the next file is opened for appending, so a file that was not moved
    /// away keeps what it holds.
    private var appendOnOpen = false

    /// Creates a writer; nothing is opened until the first record.
    ///
    /// - Parameters:
    ///   - schema: the stream's schema.
    ///   - directory: the log directory.
    ///   - formatter: TSV or JSON.
    ///   - bufferCapacity: bytes buffered before a `write(2)` (64 KiB by default).
    ///   - clock: the wall clock for `#open`/`#close` in epoch seconds (tests pass a fixed one).
    ///   - appending: whether the first file is appended to instead of truncated (a stream enabled
    ///     again by a reload, whose file may hold this run's earlier lines).
    public init(
        schema: LogSchema,
        directory: String,
        formatter: LogFormatter,
        bufferCapacity: Int = 64 * 1024,
        clock: @escaping () -> Int = WallClock.now,
        appending: Bool = false
    ) {
        appendOnOpen = appending
        self.schema = schema
        self.filePath = (directory.hasSuffix("/") ? directory : directory + "/") + schema.path + ".log"
        self.formatter = formatter
        self.bufferCapacity = bufferCapacity
        self.clock = clock
        buffer = []
        buffer.reserveCapacity(bufferCapacity + 4096)
    }

    /// True once the file exists (the first record has been written).
    public var isOpen: Bool { descriptor >= 0 }

    /// Formats `record` and appends it to the file, creating the file (and its header) first if needed.
    ///
    /// - Throws: ``LogWriterError`` when the file cannot be created or written.
    /// - Throws: ``LogWriterError`` when the file cannot be created or written; the record (and
    ///   those buffered with it) is then counted in ``lostRecords``.
    public mutating func write(_ record: UnsafeRawBufferPointer) throws(LogWriterError) {
        precondition(!closed, "\(filePath): write after close")
        if descriptor < 0 {
            do throws(LogWriterError) {
                try open()
            } catch {
                lostRecords &+= 1
                throw error
            }
        }
        formatter.appendRecord(record, schema: schema, to: &buffer)
        bufferedRecords &+= 1
        if buffer.count >= bufferCapacity { try flush() }
    }

    /// Writes out everything buffered.
    ///
    /// - Throws: ``LogWriterError`` when `write(2)` fails (disk full, I/O error). The file is then
    ///   cut back to its last whole line and the buffered records are counted in ``lostRecords``.
    public mutating func flush() throws(LogWriterError) {
        guard descriptor >= 0, !buffer.isEmpty else { return }
        let fd = descriptor
        let path = filePath
        let result: Result<Int, LogWriterError> = buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = POSIX.write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if n < 0 {
                    let error = errno
                    if error == EINTR { continue }
                    return .failure(LogWriterError(operation: "write", path: path, errno: error))
                }
                offset += n
            }
            return .success(offset)
        }
        buffer.removeAll(keepingCapacity: true)
        let records = bufferedRecords
        bufferedRecords = 0
        switch result {
        case .success(let written):
            durableSize += off_t(written)
            bytesWritten &+= UInt64(written)
            headerWritten = true
        case .failure(let error):
            lostRecords &+= records
            discardPartialWrite()
            throw error
        }
    }

    /// After a failed write: cuts the file back to ``durableSize``, so a reader never meets half a
    /// line, and when the header itself did not make it, closes the file so that the next record
    /// opens it again and writes the header first.
    private mutating func discardPartialWrite() {
        // The file offset stays where the failed write left it: back to the cut, or the next write
        // would leave a hole of zeros.
        _ = ftruncate(descriptor, durableSize)
        _ = lseek(descriptor, durableSize, SEEK_SET)
        guard !headerWritten else { return }
        _ = POSIX.close(descriptor)
        descriptor = -1
        appendOnOpen = true
    }

    /// Ends the file: appends `#close` (TSV), writes everything out and closes the descriptor.
    /// A writer that never received a record creates no file. Further writes are a programming error.
    ///
    /// - Throws: ``LogWriterError`` when the final write or `close(2)` fails.
    public mutating func close() throws(LogWriterError) {
        guard !closed else { return }
        closed = true
        guard descriptor >= 0 else { return }
        formatter.appendFooter(wallClockSeconds: clock(), to: &buffer)
        var failure: LogWriterError?
        do throws(LogWriterError) {
            try flush()
        } catch {
            failure = error
        }
        // A failed flush may have closed a file whose header never made it.
        if descriptor >= 0 {
            if POSIX.close(descriptor) != 0 && failure == nil {
                failure = LogWriterError(operation: "close", path: filePath, errno: errno)
            }
            descriptor = -1
        }
        if let failure { throw failure }
    }

    /// Ends the current file as ``close()`` does (`#close` for TSV) and lets the next record open
    /// ``filePath`` again, starting it with a header: after logrotate moved the file away, the
    /// next record creates a new one, as Zeek's files start anew after a rotation. A file that
    /// was not moved is appended to, never truncated. Does nothing when no file is open.
    ///
    /// - Throws: ``LogWriterError`` when the final write or `close(2)` fails; the writer stays
    ///   usable either way.
    public mutating func reopen() throws(LogWriterError) {
        guard !closed, descriptor >= 0 else { return }
        defer {
            closed = false
            appendOnOpen = true
        }
        try close()
    }

    /// A file ``rotate()`` ended and moved aside, for the archiver.
    public struct Rotated: Sendable {
        /// The stream (`conn`, `dns`, ...).
        public var stream: String
        /// Where the ended file now is.
        public var file: String
        /// Wall-clock seconds of its `#open` and `#close`.
        public var opened: Int
        public var closed: Int
    }

    /// Ends the current file as ``close()`` does (`#close` for TSV), renames it to
    /// `<path>.log.<opened>-<closed>` beside it and lets the next record create ``filePath`` anew.
    /// - Returns: the moved file, or nil when no file was open.
    /// - Throws: ``LogWriterError`` when the final write, `close(2)` or `rename(2)` fails; the
    ///   writer stays usable and the file keeps its name then.
    public mutating func rotate() throws(LogWriterError) -> Rotated? {
        guard !closed, descriptor >= 0 else { return nil }
        let opened = openedAt
        let now = clock()
        defer { closed = false }
        do throws(LogWriterError) {
            try close()
        } catch {
            // The file keeps its name and what it holds: the next record appends to it.
            appendOnOpen = true
            throw error
        }
        let moved = "\(filePath).\(opened)-\(now)"
        if rename(filePath, moved) != 0 {
            appendOnOpen = true
            throw LogWriterError(operation: "rename", path: filePath, errno: errno)
        }
        appendOnOpen = false
        return Rotated(stream: schema.path, file: moved, opened: opened, closed: now)
    }

    private mutating func open() throws(LogWriterError) {
        var fd: Int32
        repeat {
            fd = POSIX.open(filePath, O_WRONLY | O_CREAT | O_CLOEXEC | (appendOnOpen ? O_APPEND : O_TRUNC), 0o644)
        } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw LogWriterError(operation: "create", path: filePath, errno: errno) }
        descriptor = fd
        durableSize = lseek(fd, 0, SEEK_END)
        headerWritten = false
        openedAt = clock()
        formatter.appendHeader(schema: schema, wallClockSeconds: openedAt, to: &buffer)
    }
}

/// The system calls of the writer, outside the type whose `write`/`close` methods would shadow them.
private enum POSIX {
    /// The corresponding C function is `open`.
    static func open(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
        #if canImport(Glibc)
        Glibc.open(path, flags, mode)
        #else
        Darwin.open(path, flags, mode)
        #endif
    }

    /// The corresponding C function is `write`.
    static func write(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(fd, bytes, count)
        #else
        Darwin.write(fd, bytes, count)
        #endif
    }

    /// The corresponding C function is `close`.
    static func close(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
        Glibc.close(fd)
        #else
        Darwin.close(fd)
        #endif
    }
}
