// SPDX-License-Identifier: Apache-2.0
import PeregrineCapture
import PeregrineCore
import PeregrineDecode
import PeregrineLogs
import PeregrinePolicy
import PeregrineSessions
import PeregrineSystem

/// `peregrine -r FILE [--workers N]`: reads a pcap or pcapng file through one worker, or spreads
/// it over N, and writes the logs, as `zeek -r` does. The end of input flushes every open connection (architecture.md, rule 3).
public final class OfflineRun {
    public let configuration: Configuration

    /// What a run did.
    public struct Summary: Sendable {
        /// Frames read from the file.
        public var packets: Int = 0
        /// Bytes on the wire of those frames.
        public var wireBytes: Int = 0
        /// conn.log records written.
        public var connections: UInt64 = 0
        /// weird.log records written.
        public var weirds: UInt64 = 0
        /// Connections evicted because the flow table was full.
        public var evictions: UInt64 = 0
        /// Log-ring writes that found the ring full and waited for the writer thread.
        public var logRingFullWaits: UInt64 = 0
        /// A read error met after every readable frame was processed (the logs are complete for
        /// those frames); `nil` when the file was read to its end.
        public var readError: String?
    }

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Log ring bytes per worker; a record of at most half of it fits (`ByteRing.maxPayload`).
    static let logRingCapacity = 4 << 20
    /// Frame ring bytes per worker with `--workers N`: room for about 26,000 frame records of 40
    /// bytes (the frames themselves stay in the file's mapping).
    static let frameRingCapacity = 1 << 20

    /// Processes the file at `path` and closes every log.
    ///
    /// With `configuration.workers` = 1 the calling thread reads and processes the frames; with N > 1
    /// it only reads them and dispatches each to one of N worker threads (`FrameDispatch`). Either
    /// way each worker pushes its records into its own log ring and a writer thread formats and
    /// writes them (`LogWriterThread`).
    /// - Throws: `EngineError` when the file cannot be opened, the filter is invalid, or a log
    ///   cannot be written.
    public func run(path: String) throws -> Summary {
        let source: PcapFileSource
        do {
            source = try PcapFileSource(path: path, filter: configuration.captureFilter)
        } catch {
            throw EngineError(error.description)
        }
        guard LinkType(rawValue: source.linkType) != nil else {
            throw EngineError("\(path): link type \(source.linkType) is not supported")
        }
        guard configuration.workers >= 1 else { throw EngineError("--workers must be at least 1") }
        let seed = configuration.seed ?? UInt64.random(in: .min ... .max)
        let workers = (0..<configuration.workers).map { index in
            // Worker 0 keeps the run's seed, so a one-worker run's uids do not change; the others
            // get their own, so no two workers hand out the same uid.
            Worker(
                config: configuration, logs: makeLogStreams(),
                seed: index == 0 ? seed : seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        }
        // stats.log/capture_loss.log `peer`: a standalone Zeek's name, or one per cluster worker.
        if workers.count > 1 { for (i, w) in workers.enumerated() { w.reporting.peer = "worker-\(i + 1)" } }
        let writer = try Self.makeLogWriter(
            configuration, rings: workers.map(\.logs.ring), schemas: workers[0].logs.schemas, reopen: nil)
        writer.start()
        var summary = Summary()
        if workers.count == 1 {
            readAll(source, into: &summary) { bytes, wireLength, timestamp, linkType in
                workers[0].process(bytes: bytes, wireLength: wireLength, timestamp: timestamp, linkType: linkType)
            }
            workers[0].finishAll()
            workers[0].logs.close()
        } else {
            runParallel(source, workers: workers, seed: seed, into: &summary)
        }
        let written = writer.finish()
        if let error = written.firstError {
            throw EngineError("\(written.lostRecords) log records could not be written: \(error)")
        }
        for worker in workers {
            summary.connections += worker.logs.connRecords
            summary.weirds += worker.logs.weirdRecords
            summary.evictions += worker.flows.evicted
        }
        summary.logRingFullWaits = written.ringFullWaits
        return summary
    }

    private func makeLogStreams() -> LogStreams { Self.makeLogStreams(configuration) }

    /// The writer thread for `rings`, with built-in rotation when the configuration asks for it
    /// (the logs then go to `<logDirectory>/current/`). The log directory is created when missing,
    /// as Zeek creates `Log::default_logdir`. Live runs use it too.
    /// - Throws: `EngineError` when the directory cannot be created.
    static func makeLogWriter(
        _ configuration: Configuration, rings: [ByteRing], schemas: [LogSchema], reopen: LogReopenRequest?
    ) throws -> LogWriterThread {
        var directory = configuration.logDirectory
        var rotation: LogRotation?
        if configuration.rotationInterval != nil { directory += "/current" }
        do {
            try LogArchiver.makeDirectories(directory)
        } catch {
            throw EngineError("log directory: \(error)")
        }
        if let interval = configuration.rotationInterval {
            rotation = LogRotation(
                interval: max(1, Int(interval.nanoseconds / 1_000_000_000)),
                archiver: LogArchiver(directory: configuration.logDirectory, compression: configuration.logCompression),
                maxAge: configuration.logRetentionAge, maxBytes: configuration.logRetentionBytes)
        }
        return LogWriterThread(
            rings: rings,
            writers: LogWriterSet(
                directory: directory, schemas: schemas + [ReporterLog.schema],
                options: LogOptions(useJSON: configuration.useJSON), disabledPaths: configuration.disabledLogs),
            reopen: reopen, rotation: rotation, reporter: ReporterLog.schema)
    }

    /// A worker's log streams for `configuration`, with its own log ring (live runs use it too).
    static func makeLogStreams(_ configuration: Configuration) -> LogStreams {
        LogStreams(
            ring: ByteRing(capacity: Self.logRingCapacity),
            local: LocalNetworks(
                configured: configuration.localNetworks,
                privateAddressSpaceIsLocal: configuration.privateAddressSpaceIsLocal),
            vlanColumns: configuration.vlanLogging,
            communityIDSeed: configuration.communityID ? configuration.communityIDSeed : nil)
    }

    /// Reads every frame of `source` into `body`; a read error after the readable frames is kept
    /// in the summary. Frames stay mapped while `oldestInUse` says a worker may still read them.
    private func readAll(
        _ source: PcapFileSource, into summary: inout Summary, keepingFrom oldestInUse: () -> UnsafeRawPointer? = { nil },
        _ body: (UnsafeRawBufferPointer, Int, Timestamp, LinkType) -> Void
    ) {
        do {
            // Each frame carries its interface's link type (a pcapng file may mix them); the source
            // delivers only types in `PcapFileSource.supportedLinkTypes`, which all decode.
            let read = try source.forEachFrame(keepingFrom: oldestInUse) { frame in
                guard let linkType = LinkType(rawValue: frame.linkType) else { return }
                body(frame.bytes, frame.wireLength, frame.timestamp, linkType)
            }
            summary.packets = read.packets
            summary.wireBytes = read.wireBytes
        } catch {
            summary.packets = source.summary.packets
            summary.wireBytes = source.summary.wireBytes
            summary.readError = "\(error)"
        }
    }

    /// `--workers N`: this thread reads and dispatches, each worker runs on its own thread.
    ///
    /// Workers are pinned to a CPU each only when the machine has a CPU for each of them besides
    /// the reader and the writer thread; on a smaller box pinning would make those two steal the
    /// workers' CPUs, so the kernel schedules all of them.
    private func runParallel(_ source: PcapFileSource, workers: [Worker], seed: UInt64, into summary: inout Summary) {
        let rings = workers.map { _ in ByteRing(capacity: Self.frameRingCapacity) }
        let dispatch = FrameDispatch(rings: rings, seed: seed)
        let online = (try? CPUSet.online().cpus) ?? []
        let pin = online.count >= workers.count + 2
        let threads = workers.indices.map { index in
            let context = WorkerContext(worker: workers[index], ring: rings[index], progress: dispatch.progress[index])
            let cpu = pin ? online[(index + 2) % online.count] : nil
            return JoinableThread {
                // Pinning is an optimisation; a refused affinity leaves the thread where it is.
                if let cpu { try? CPUSet([cpu]).pinCurrentThread() }
                FrameDispatch.consume(context.ring, progress: context.progress, into: context.worker)
            }
        }
        readAll(source, into: &summary, keepingFrom: dispatch.oldestInUse) { bytes, wireLength, timestamp, linkType in
            dispatch.dispatch(bytes: bytes, wireLength: wireLength, timestamp: timestamp, linkType: linkType)
        }
        for ring in rings { ring.close() }
        for thread in threads { thread.join() }
    }

    /// A worker and its frame ring, handed to the worker's thread (which alone uses them until
    /// it is joined).
    private final class WorkerContext: @unchecked Sendable {
        let worker: Worker
        let ring: ByteRing
        let progress: FrameDispatch.Progress
        init(worker: Worker, ring: ByteRing, progress: FrameDispatch.Progress) {
            self.worker = worker
            self.ring = ring
            self.progress = progress
        }
    }
}
