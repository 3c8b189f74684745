// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The writer thread ("logger" in architecture.md): drains every worker's log ring, formats each
/// record as Zeek TSV or JSON and writes the files; at the end it closes them with `#close`.
/// Formatting never happens on a worker (Zeek's `WriterFrontend` → `WriterBackend` split).
///
/// A ring record's tag is the stream id and its payload the record's bytes as
/// ``LogRecordEncoder`` built them.
///
/// A write error (a full disk) never stops the workers or the draining of their rings: the file
/// keeps only whole lines (``LogFileWriter``), the records that could not be written are counted
/// as lost, and for ``retryNanoseconds`` after each failure records are counted as lost without
/// trying the disk. Then writing is tried again; when bytes reach the disk again the writer says
/// so. Both turns are reported on standard error (the journal) and in reporter.log (the first
/// when the disk still takes a line), and ``health`` shows them to the metrics endpoint and the
/// service's status. The first error is kept for the run's summary.
///
/// Files are written in 64 KiB blocks; when the rings run dry the writer also writes out what it
/// holds, at most once per ``flushIntervalNanoseconds``, so a quiet live link's records (a
/// stats.log line every 5 minutes) reach the disk within a second instead of when a block fills.
///
/// A ``LogReopenRequest`` (SIGHUP) makes it end every open file with `#close` between two batches
/// of records; each stream's next record starts a new file. Records taken from the rings before
/// the request go to the old files, the others to the new ones: none is lost or written twice.
/// With a ``LogRotation`` it does the same at every rotation time, moves the ended files aside and
/// hands them to the rotation's archiver thread; at the end the last files are rotated too.
public final class LogWriterThread: @unchecked Sendable {
    private let rings: [ByteRing]
    private let reopen: LogReopenRequest?
    private let rotation: LogRotation?
    private let reporter: LogSchema?
    private let notice: @Sendable (String) -> Void
    /// What the writer did so far, for readers on other threads.
    public let health = LogWriterHealth()
    /// Disabled streams posted by a reload and not applied yet.
    private let pendingDisabled = Mutex<Set<String>?>(nil)
    // Touched only by the writer thread while it runs, and by `finish()` after joining it.
    private var writers: LogWriterSet
    private var firstError: LogWriterError?
    private var thread: JoinableThread?
    /// While writes fail: when they began failing (wall-clock seconds), the bytes written up to
    /// then, and when to try the disk again (monotonic nanoseconds).
    private var failure: (since: Int, bytes: UInt64, error: LogWriterError)?
    private var retryAt: Int64 = 0
    /// The records lost when the last failing run ended: nothing is lost while writes work, so
    /// these are the records lost before the current failing run.
    private var lostBefore: UInt64 = 0

    /// What the writer did.
    public struct Summary: Sendable {
        /// Records formatted and written.
        public var records: UInt64 = 0
        /// Records of disabled streams, dropped unformatted (``LogWriterSet/disabledPaths``).
        public var disabledRecords: UInt64 = 0
        /// Records dropped because their file could not be created or written.
        public var lostRecords: UInt64 = 0
        /// The first write error, when there was one.
        public var firstError: LogWriterError?
        /// Writes that found a worker's ring full and waited (sum over rings).
        public var ringFullWaits: UInt64 = 0
    }

    private var summary = Summary()

    /// Records drained from one ring before turning to the next, so one busy worker cannot starve
    /// the others' rings.
    static let batch = 1024

    /// - Parameters:
    ///   - rings: one per worker; this thread is the consumer of each.
    ///   - writers: the files, owned by this thread from now on.
    ///   - reopen: requests to reopen every file (live capture's SIGHUP); `nil` for none.
    ///   - rotation: built-in rotation, started and finished by this thread; `nil` for none.
    ///   - reporter: ``ReporterLog/schema`` when `writers` holds it: failing and resumed writes are
    ///     logged there too.
    ///   - notice: where the failing and resumed writes are announced (standard error by default).
    public init(
        rings: [ByteRing], writers: LogWriterSet, reopen: LogReopenRequest? = nil, rotation: LogRotation? = nil,
        reporter: LogSchema? = nil, notice: @escaping @Sendable (String) -> Void = LogWriterThread.standardError
    ) {
        self.rings = rings
        self.writers = writers
        self.reopen = reopen
        self.rotation = rotation
        self.reporter = reporter
        self.notice = notice
    }

    /// Writes `line` and a newline to standard error.
    public static let standardError: @Sendable (String) -> Void = { line in
        let text = "peregrine: " + line + "\n"
        _ = text.withCString { Glibc.write(2, $0, strlen($0)) }
    }

    /// Starts the thread.
    public func start() {
        precondition(thread == nil, "writer thread started twice")
        rotation?.start()
        thread = JoinableThread { self.run() }
    }

    /// Changes which streams are disabled (a reloaded configuration's `logs.disabled`); the
    /// thread applies it between two batches of records (``LogWriterSet/setDisabledPaths(_:)``).
    public func setDisabledPaths(_ paths: Set<String>) {
        pendingDisabled.withLock { $0 = paths }
    }

    /// Waits until every ring is closed and drained, then returns what was written; records lost
    /// to write errors are in the summary's `lostRecords`, with the first error.
    public func finish() -> Summary {
        guard let thread else { preconditionFailure("writer thread not started") }
        thread.join()
        self.thread = nil
        rotation?.finish()
        summary.ringFullWaits = rings.reduce(0) { $0 + $1.fullWaits }
        summary.lostRecords = lost
        summary.firstError = firstError
        return summary
    }

    /// The workers' records lost so far: skipped while writes were failing, or dropped by a file
    /// (reporter.log's own lines, written by this thread, are not among them).
    private var lost: UInt64 {
        skipped &+ writers.lostRecords &- (reporter.map { writers.lostRecords(streamID: $0.id) } ?? 0)
    }
    /// Records not even tried while writes were failing.
    private var skipped: UInt64 = 0

    private func run() {
        var reopened = reopen?.current ?? 0
        var nextRotation = rotation?.nextRotation(after: WallClock.now()) ?? .max
        var lastFlush = Self.monotonicNanoseconds()
        while true {
            if let paths = pendingDisabled.withLock({ pending in
                defer { pending = nil }
                return pending
            }) {
                do throws(LogWriterError) {
                    try writers.setDisabledPaths(paths)
                } catch {
                    noteFailure(error)
                }
            }
            if let reopen, reopen.current != reopened {
                reopened = reopen.current
                reopenFiles()
            }
            if nextRotation != .max, let rotation {
                let now = WallClock.now()
                if now >= nextRotation {
                    rotateFiles(rotation)
                    nextRotation = rotation.nextRotation(after: now)
                }
            }
            var drained = 0
            for ring in rings {
                drained += ring.drain(limit: Self.batch) { tag, payload in write(streamID: UInt16(tag), payload) }
            }
            if failure != nil && drained > 0 { checkRecovery() }
            publishHealth()
            // A full batch from some ring: more is waiting, go on at once.
            if drained >= Self.batch { continue }
            if drained == 0 && rings.allSatisfy(\.isFinished) { break }
            if drained == 0 {
                let now = Self.monotonicNanoseconds()
                if now - lastFlush >= Self.flushIntervalNanoseconds {
                    lastFlush = now
                    flushFiles()
                }
            }
            // Otherwise sleep rather than spin: the rings hold far more than a millisecond of
            // records, and a spinning writer takes the CPU (or the hyperthread) a worker needs.
            // On the 2-vCPU build VM the spin-then-yield wait doubled the one-worker run's time.
            var request = timespec(tv_sec: 0, tv_nsec: Self.idleSleepNanoseconds)
            _ = nanosleep(&request, nil)
        }
        if let rotation { rotateFiles(rotation) }
        do throws(LogWriterError) {
            try writers.closeAll()
        } catch {
            noteFailure(error)
        }
        if failure != nil { checkRecovery() }
        publishHealth()
    }

    private func rotateFiles(_ rotation: LogRotation) {
        let (rotated, error) = writers.rotateAll()
        rotation.submit(rotated)
        if let error { noteFailure(error) }
    }

    /// How long after a failed write records are counted as lost without trying the disk.
    static let retryNanoseconds: Int64 = 1_000_000_000

    /// A write failed: records are skipped for ``retryNanoseconds``; the first failure of a run of
    /// them is announced.
    private func noteFailure(_ error: LogWriterError) {
        if firstError == nil { firstError = error }
        retryAt = Self.monotonicNanoseconds() + Self.retryNanoseconds
        guard failure == nil else { return }
        let now = WallClock.now()
        failure = (now, writers.bytesWritten, error)
        health.failing.store(true, ordering: .relaxed)
        health.failures.add(1, ordering: .relaxed)
        let message = "log writes failing: \(error); records are counted as lost until writes succeed again"
        notice(message)
        report(.error, message, at: now)
    }

    /// While writes fail: once the files wrote bytes again after the last failure, the failing
    /// run is over; it is announced with the records it cost.
    private func checkRecovery() {
        guard let current = failure, Self.monotonicNanoseconds() >= retryAt else { return }
        do throws(LogWriterError) {
            try writers.flush()
        } catch {
            noteFailure(error)
            return
        }
        guard writers.bytesWritten > current.bytes else { return }
        failure = nil
        let lostNow = lost
        defer { lostBefore = lostNow }
        health.failing.store(false, ordering: .relaxed)
        let now = WallClock.now()
        let message =
            "log writes work again after \(now - current.since) s: \(lostNow &- lostBefore) records lost "
            + "(\(current.error))"
        notice(message)
        report(.warning, message, at: now)
    }

    /// Writes a reporter.log record when the run has that stream; a failure to do so counts as any.
    private func report(_ level: ReporterLog.Level, _ message: String, at seconds: Int) {
        guard reporter != nil else { return }
        do throws(LogWriterError) {
            try writers.write(ReporterLog.record(level, message, at: seconds))
        } catch {
            if firstError == nil { firstError = error }
        }
    }

    private func publishHealth() {
        health.records.store(summary.records, ordering: .relaxed)
        health.bytes.store(writers.bytesWritten, ordering: .relaxed)
        health.lostRecords.store(lost, ordering: .relaxed)
    }

    /// How long buffered lines may wait while the rings are idle.
    static let flushIntervalNanoseconds: Int64 = 1_000_000_000

    /// `CLOCK_MONOTONIC` in nanoseconds. The corresponding C function is `clock_gettime`.
    private static func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    private func flushFiles() {
        guard failure == nil else { return checkRecovery() }
        do throws(LogWriterError) {
            try writers.flush()
        } catch {
            noteFailure(error)
        }
    }

    private func reopenFiles() {
        do throws(LogWriterError) {
            try writers.reopenAll()
        } catch {
            noteFailure(error)
        }
    }

    /// How long the writer sleeps when the rings had less than a batch for it.
    static let idleSleepNanoseconds = 1_000_000

    private func write(streamID: UInt16, _ record: UnsafeRawBufferPointer) {
        if failure != nil && Self.monotonicNanoseconds() < retryAt {
            skipped &+= 1
            return
        }
        do throws(LogWriterError) {
            if try writers.write(streamID: streamID, record: record) {
                summary.records &+= 1
            } else {
                summary.disabledRecords &+= 1
            }
        } catch {
            // The file counted the record (and those buffered with it) as lost.
            noteFailure(error)
        }
    }
}

/// A writer thread's running totals, for the metrics endpoint and the service's status line; the
/// writer thread updates them after every batch of records.
public final class LogWriterHealth: Sendable {
    /// Records written (formatted into a file's buffer).
    public let records = Atomic<UInt64>(0)
    /// Bytes that reached the files.
    public let bytes = Atomic<UInt64>(0)
    /// Records lost to write errors.
    public let lostRecords = Atomic<UInt64>(0)
    /// Runs of failing writes so far (a full disk that fills twice counts two).
    public let failures = Atomic<UInt64>(0)
    /// Whether writes are failing now.
    public let failing = Atomic<Bool>(false)

    public init() {}
}
