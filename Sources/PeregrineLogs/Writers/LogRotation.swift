// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Built-in log rotation (Zeek's `Log::default_rotation_interval` with ZeekControl's archive): at
/// every multiple of ``interval`` seconds of wall-clock time the writer thread ends every open file
/// with `#close` and moves it aside (``LogFileWriter/rotate()``); this type's own thread then hands
/// each one to a ``LogArchiver`` (dated directory, Zeek's names, gzip or zstd) and prunes the archive
/// to its age and size limits. Compression never runs on the writer thread, let alone a worker.
///
/// A file the archiver cannot archive (a full disk, a directory it may not write) stays in the log
/// directory under its moved name, is counted in ``failures`` and is said on standard error: nothing
/// written is lost, and capture goes on.
public final class LogRotation: @unchecked Sendable {
    /// Seconds between rotations, at least 1.
    public let interval: Int
    public let archiver: LogArchiver
    public let maxAge: Interval?
    public let maxBytes: Int64?

    private let pending = Mutex<[LogFileWriter.Rotated]>([])
    private let stopping = Atomic<Bool>(false)
    private let failed = Atomic<UInt64>(0)
    private let archived = Atomic<UInt64>(0)
    private var thread: JoinableThread?

    /// Files that could not be archived, and files archived.
    public var failures: UInt64 { failed.load(ordering: .relaxed) }
    public var archivedFiles: UInt64 { archived.load(ordering: .relaxed) }

    public init(interval: Int, archiver: LogArchiver, maxAge: Interval? = nil, maxBytes: Int64? = nil) {
        precondition(interval >= 1, "rotation interval below one second")
        self.interval = interval
        self.archiver = archiver
        self.maxAge = maxAge
        self.maxBytes = maxBytes
    }

    /// The first rotation time after `now`: the next multiple of the interval since the epoch, so
    /// hourly files cover whole hours.
    public func nextRotation(after now: Int) -> Int { (now / interval + 1) * interval }

    /// Starts the archiver thread.
    public func start() {
        precondition(thread == nil, "rotation started twice")
        thread = JoinableThread { self.run() }
    }

    /// Queues files the writer thread rotated.
    func submit(_ files: [LogFileWriter.Rotated]) {
        guard !files.isEmpty else { return }
        pending.withLock { $0.append(contentsOf: files) }
    }

    /// Archives everything queued (the writer thread has finished), then stops the thread.
    public func finish() {
        stopping.store(true, ordering: .releasing)
        thread?.join()
        thread = nil
    }

    private func run() {
        while true {
            let stop = stopping.load(ordering: .acquiring)
            let files = pending.withLock { queue in
                defer { queue.removeAll() }
                return queue
            }
            for f in files { archive(f) }
            if !files.isEmpty && (maxAge != nil || maxBytes != nil) {
                archiver.prune(now: Timestamp(nanoseconds: Int64(time(nil)) * 1_000_000_000), maxAge: maxAge, maxBytes: maxBytes)
            }
            if stop && files.isEmpty { return }
            if files.isEmpty {
                var request = timespec(tv_sec: 0, tv_nsec: 100_000_000)
                _ = nanosleep(&request, nil)
            }
        }
    }

    private func archive(_ f: LogFileWriter.Rotated) {
        do throws(LogArchiveError) {
            try archiver.archive(
                file: f.file, stream: f.stream, opened: Timestamp(nanoseconds: Int64(f.opened) * 1_000_000_000),
                closed: Timestamp(nanoseconds: Int64(f.closed) * 1_000_000_000))
            archived.add(1, ordering: .relaxed)
        } catch {
            failed.add(1, ordering: .relaxed)
            // One line on standard error (descriptor 2: the C `stderr` global is not concurrency-safe).
            let line = "peregrine: log rotation: \(error) (the log stays at \(f.file))\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
        }
    }
}
