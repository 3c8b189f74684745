// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

#if canImport(Glibc)
import Glibc
#endif

/// The writer thread ("logger" in architecture.md): drains every worker's log ring, formats each
/// record as Zeek TSV or JSON and writes the files; at the end it closes them with `#close`.
/// Formatting never happens on a worker (Zeek's `WriterFrontend` → `WriterBackend` split).
///
/// A ring record's tag is the stream id and its payload the record's bytes as
/// ``LogRecordEncoder`` built them. A write error stops the writing: the first error is kept and
/// later records are counted as lost, so the workers never wait on a broken disk.
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
    // Touched only by the writer thread while it runs, and by `finish()` after joining it.
    private var writers: LogWriterSet
    private var firstError: LogWriterError?
    private var thread: JoinableThread?

    /// What the writer did.
    public struct Summary: Sendable {
        /// Records formatted and written.
        public var records: UInt64 = 0
        /// Records of disabled streams, dropped unformatted (``LogWriterSet/disabledPaths``).
        public var disabledRecords: UInt64 = 0
        /// Records dropped after a write error.
        public var lostRecords: UInt64 = 0
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
    public init(rings: [ByteRing], writers: LogWriterSet, reopen: LogReopenRequest? = nil, rotation: LogRotation? = nil) {
        self.rings = rings
        self.writers = writers
        self.reopen = reopen
        self.rotation = rotation
    }

    /// Starts the thread.
    public func start() {
        precondition(thread == nil, "writer thread started twice")
        rotation?.start()
        thread = JoinableThread { self.run() }
    }

    /// Waits until every ring is closed and drained, then returns what was written.
    /// - Throws: the first ``LogWriterError``, after the thread ended and every file was closed.
    public func finish() throws(LogWriterError) -> Summary {
        guard let thread else { preconditionFailure("writer thread not started") }
        thread.join()
        self.thread = nil
        rotation?.finish()
        summary.ringFullWaits = rings.reduce(0) { $0 + $1.fullWaits }
        if let firstError { throw firstError }
        return summary
    }

    private func run() {
        var reopened = reopen?.current ?? 0
        var nextRotation = rotation?.nextRotation(after: WallClock.now()) ?? .max
        var lastFlush = Self.monotonicNanoseconds()
        while true {
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
            if firstError == nil { firstError = error }
        }
    }

    private func rotateFiles(_ rotation: LogRotation) {
        let (rotated, error) = writers.rotateAll()
        rotation.submit(rotated)
        if let error, firstError == nil { firstError = error }
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
        guard firstError == nil else { return }
        do throws(LogWriterError) {
            try writers.flush()
        } catch {
            firstError = error
        }
    }

    private func reopenFiles() {
        guard firstError == nil else { return }
        do throws(LogWriterError) {
            try writers.reopenAll()
        } catch {
            firstError = error
        }
    }

    /// How long the writer sleeps when the rings had less than a batch for it.
    static let idleSleepNanoseconds = 1_000_000

    private func write(streamID: UInt16, _ record: UnsafeRawBufferPointer) {
        guard firstError == nil else {
            summary.lostRecords &+= 1
            return
        }
        do throws(LogWriterError) {
            if try writers.write(streamID: streamID, record: record) {
                summary.records &+= 1
            } else {
                summary.disabledRecords &+= 1
            }
        } catch {
            firstError = error
            summary.lostRecords &+= 1
        }
    }
}
