// SPDX-License-Identifier: Apache-2.0
import PeregrineCapture
import PeregrineCore
import PeregrineDecode
import PeregrineLogs
import PeregrinePolicy
import PeregrineSessions
import PeregrineSystem
import Synchronization

/// A request to stop a live run, safe to set from a signal handler (one atomic store).
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    /// Asks every worker to drain and stop.
    public func stop() { flag.store(true, ordering: .releasing) }

    /// Whether a stop was asked for.
    public var isSet: Bool { flag.load(ordering: .acquiring) }
}

/// A request to reopen every log file (SIGHUP, for external rotation), safe to make from a signal
/// handler (one atomic increment); the run's writer thread acts on it (`LogReopenRequest`).
public final class ReopenFlag: Sendable {
    let request = LogReopenRequest()

    public init() {}

    /// Asks the writer thread to end every open log file with `#close` and start new ones.
    public func reopen() { request.request() }
}

/// `peregrine -i IFACE[,IFACE] [--workers N]`: live capture on TPACKET_V3 rings, one worker thread
/// per ring, logs through the workers' rings to one writer thread.
///
/// Each interface gets its own fanout group of `workers` sockets (`PACKET_FANOUT_HASH`, flow
/// affinity by the kernel's flow hash, which is symmetric: it orders the endpoints before hashing).
/// Worker `i` reads socket `i` of every interface's group. With the same number of sockets in each
/// group and the same symmetric hash, both directions of a flow land on the same index in every
/// group, so the two halves of a tap, captured on two interfaces, meet in one worker.
///
/// Network time is packet time, live as offline, and follows the wall clock (``idleClockLag``
/// behind) while a worker's rings are idle, as Zeek's does live, so connections still expire
/// when traffic stops.
/// stats.log and capture_loss.log are due on the wall clock: a manager thread keeps their
/// schedule and asks every worker for its lines (`ReportManager`), which each worker writes into
/// its own log ring when its next poll returns.
///
/// A stop (``StopFlag``) makes every worker drain the blocks still in its rings, flush every open
/// connection (Zeek's end-of-input drain) and close its log ring; the writer thread then writes
/// what is left and closes every file with `#close`. A ``ReopenFlag`` (SIGHUP) makes the
/// writer thread end every open file with `#close` and start each stream's file anew with its
/// next record, for external rotation.
public final class LiveRun {
    public let configuration: Configuration

    /// What a run did, per worker and in total.
    public struct Summary: Sendable {
        /// Frames the workers processed.
        public var packets: UInt64 = 0
        /// Kernel counters summed over every socket: packets the filter passed, packets dropped for
        /// a full ring.
        public var kernelPackets: UInt64 = 0
        public var kernelDrops: UInt64 = 0
        /// conn.log records written.
        public var connections: UInt64 = 0
        /// Times a worker waited on a full log ring.
        public var logRingFullWaits: UInt64 = 0
    }

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// How long a worker waits in `poll` for a block before checking the stop flag again.
    static let pollMilliseconds: Int32 = 100

    /// How far behind the wall clock an idle worker's network time stays. Packets wait in a ring
    /// block the worker cannot see yet for up to the block timeout (10 ms), and a loaded machine
    /// can delay the worker between its empty poll and its clock read; network time moved past
    /// such packets would stamp their connections with a later time than theirs (a connection
    /// whose packets all came in such a block would log a zero duration). Inactivity timeouts are
    /// seconds to minutes, so expiring a second late changes nothing.
    static let idleClockLag = Interval.seconds(1)

    /// Captures on `interfaces` until `stop` is set, then drains and returns.
    /// - Parameters:
    ///   - reopen: requests to reopen the log files (SIGHUP), served by the writer thread.
    /// - Throws: ``EngineError`` naming the interface and the failing call when a socket cannot be
    ///   opened (missing interface, no permission, bad ring settings) or the logs cannot be written.
    public func run(interfaces: [String], stop: StopFlag, reopen: ReopenFlag? = nil) throws -> Summary {
        guard !interfaces.isEmpty else { throw EngineError("-i needs at least one interface") }
        guard configuration.workers >= 1 else { throw EngineError("--workers must be at least 1") }
        var capture = AFPacketConfiguration()
        capture.filter = configuration.captureFilter
        var groups: [[AFPacketSource]] = []
        for name in interfaces {
            do {
                groups.append(
                    try AFPacketSource.openFanoutGroup(
                        interface: name, count: configuration.workers, configuration: capture))
            } catch {
                throw EngineError("\(error)")
            }
        }
        let seed = configuration.seed ?? UInt64.random(in: .min ... .max)
        let workers = (0..<configuration.workers).map { index in
            Worker(
                config: configuration, logs: OfflineRun.makeLogStreams(configuration),
                seed: index == 0 ? seed : seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        }
        // stats.log/capture_loss.log `peer`: a standalone Zeek's name, or one per cluster worker.
        if workers.count > 1 { for (i, w) in workers.enumerated() { w.reporting.peer = "worker-\(i + 1)" } }
        let writer = LogWriterThread(
            rings: workers.map(\.logs.ring),
            writers: LogWriterSet(
                directory: configuration.logDirectory, schemas: workers[0].logs.schemas,
                options: LogOptions(useJSON: configuration.useJSON)),
            reopen: reopen?.request)
        writer.start()
        let mailboxes = workers.map { _ in ReportRequests() }
        for (worker, mailbox) in zip(workers, mailboxes) { worker.reporting.requests = mailbox }
        let schedule = workers[0].reporting.schedule
        let manager =
            schedule.nextDue == ReportSchedule.never
            ? nil : JoinableThread { ReportManager.run(schedule: schedule, mailboxes: mailboxes, stop: stop) }
        let online = (try? CPUSet.online().cpus) ?? []
        // Pin only when every worker gets a CPU of its own besides CPU 0 (left to the system and
        // the writer); on a smaller box the kernel schedules them.
        let pin = online.count >= workers.count + 1
        let contexts = workers.indices.map { i in
            LiveWorker(worker: workers[i], sources: groups.map { $0[i] }, stop: stop)
        }
        let threads = contexts.indices.map { i in
            let context = contexts[i]
            let cpu = pin ? online[(i + 1) % online.count] : nil
            return JoinableThread {
                if let cpu { try? CPUSet([cpu]).pinCurrentThread() }
                context.loop()
            }
        }
        for thread in threads { thread.join() }
        manager?.join()
        let written: LogWriterThread.Summary
        do throws(LogWriterError) {
            written = try writer.finish()
        } catch {
            throw EngineError(error.description)
        }
        var summary = Summary()
        summary.logRingFullWaits = written.ringFullWaits
        for context in contexts {
            summary.packets &+= context.packets
            summary.connections &+= context.worker.logs.connRecords
        }
        for group in groups {
            for source in group {
                if let stats = try? source.statistics() {
                    summary.kernelPackets &+= stats.packets
                    summary.kernelDrops &+= stats.drops
                }
            }
        }
        if let error = contexts.lazy.compactMap(\.failure).first { throw EngineError(error) }
        return summary
    }

    /// One worker thread's state: its worker and its socket in each interface's group. Used only by
    /// that thread until it is joined.
    final class LiveWorker: @unchecked Sendable {
        let worker: Worker
        let sources: [AFPacketSource]
        let stop: StopFlag
        var packets: UInt64 = 0
        /// A capture error that ended this worker early.
        var failure: String?

        init(worker: Worker, sources: [AFPacketSource], stop: StopFlag) {
            self.worker = worker
            self.sources = sources
            self.stop = stop
            // Read by this worker's thread when its stats.log line is due (the kernel counters
            // reset on each read; the source keeps the totals).
            worker.reporting.captureStatistics = {
                var link: UInt64 = 0, dropped: UInt64 = 0
                for source in sources {
                    guard let s = try? source.statistics() else { continue }
                    link &+= s.packets
                    dropped &+= s.drops
                }
                return (link, dropped)
            }
        }

        /// Reads blocks until a stop, then the blocks already filled, then flushes everything.
        /// Between blocks it serves the manager's report requests; a round that found no block
        /// moves network time to the wall clock.
        func loop() {
            let wait = sources.count == 1 ? LiveRun.pollMilliseconds : 1
            do throws(AFPacketError) {
                while !stop.isSet {
                    var frames = 0
                    for source in sources { frames += try source.withBatch(timeoutMilliseconds: wait, process) }
                    worker.serveReportRequests()
                    if frames == 0 {
                        let wall = Worker.wallClock()
                        worker.advanceClock(to: Timestamp(nanoseconds: wall.nanoseconds &- LiveRun.idleClockLag.nanoseconds))
                    }
                }
                for source in sources {
                    while try source.withBatch(timeoutMilliseconds: 0, process) > 0 {}
                }
            } catch {
                failure = "\(error)"
            }
            worker.serveReportRequests()
            worker.finishAll()
            worker.logs.close()
        }

        func process(_ batch: AFPacketBatch) {
            for frame in batch {
                guard let linkType = LinkType(rawValue: frame.linkType) else { continue }
                packets &+= 1
                worker.process(
                    bytes: frame.bytes, wireLength: frame.wireLength, timestamp: frame.timestamp, linkType: linkType)
            }
        }
    }
}
