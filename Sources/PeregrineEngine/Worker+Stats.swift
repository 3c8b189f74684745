// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif
import PeregrineAnalyzers
import PeregrineCore
import PeregrineDecode
import PeregrineLogs
import PeregrinePolicy
import PeregrineSessions

/// A worker's plain counters for stats.log and capture_loss.log: written on the packet path
/// without locks or atomics (style.md §4.5), read by the same thread when a report is due.
struct WorkerStatistics {
    /// Wire bytes of the frames processed (Zeek's `bytes_recvd`).
    var bytes: UInt64 = 0
    /// Connections created and removed, by transport.
    var tcpCreated: UInt64 = 0, udpCreated: UInt64 = 0, icmpCreated: UInt64 = 0
    var tcpRemoved: UInt64 = 0, udpRemoved: UInt64 = 0, icmpRemoved: UInt64 = 0
    /// Zeek's `get_gap_stats()`: ACKs covering new data of an established connection, and those
    /// among them that covered data never seen (`TCPPacketResult.ackEvent`/`gapEvent`).
    var acks: UInt64 = 0
    var gaps: UInt64 = 0
}

/// The cumulative counts a report takes differences of (Zeek's `last_ns`, `last_cs`, ...).
struct ReportBaseline {
    var packets: UInt64 = 0, bytes: UInt64 = 0, records: UInt64 = 0
    var tcp: UInt64 = 0, udp: UInt64 = 0, icmp: UInt64 = 0, files: UInt64 = 0
    var link: UInt64 = 0, dropped: UInt64 = 0
    var acks: UInt64 = 0, gaps: UInt64 = 0
}

/// A worker's stats.log and capture_loss.log state.
///
/// Every worker writes its own lines through its own log ring, named by ``peer`` as a Zeek
/// cluster worker is (`peer_description`): no shared counters. Offline the lines are due on
/// network time, the packets' timestamps (``schedule``); live the manager thread says when, on
/// the wall clock (``requests``, `ReportManager`).
struct WorkerReporting {
    /// Offline: when the lines are due, on network time. Live the manager thread runs it.
    var schedule: ReportSchedule
    /// Live: the manager thread's requests; `nil` offline.
    var requests: ReportRequests? = nil
    /// Whether a stats.log line was written (the end-of-input line follows a first one).
    var statsStarted = false
    /// Start of the current capture-loss interval (Zeek's `last_ts`); `nil` until counting started.
    var lossSince: Timestamp? = nil
    /// The `peer` column: `zeek` for a single worker (a standalone Zeek), `worker-N` otherwise.
    var peer = "zeek"
    /// Live capture only: the capture sockets' cumulative packets seen on the link and dropped
    /// (`pkts_link`, `pkts_dropped`); `nil` offline, where Zeek leaves them unset.
    var captureStatistics: (() -> (link: UInt64, dropped: UInt64))? = nil
    var stats = ReportBaseline()
    var loss = ReportBaseline()

    init(config: Configuration) {
        schedule = ReportSchedule(configuration: config)
    }
}

extension Worker {
    /// Offline: writes the reports due at the current network time; the expiry pass calls it, and
    /// `nextExpiryCheck` is pulled forward to the next report so it is never late. Live the
    /// manager thread's requests decide instead (``serveReportRequests()``).
    func reportIfDue() {
        guard reporting.requests == nil else { return }
        let due = reporting.schedule.due(at: now)
        if due.stats { writeStats(at: now) }
        if due.startLoss { startLossCounting(at: now) }
        if due.lossDelta != nil { writeCaptureLoss(at: now) }
        if reporting.schedule.nextDue < nextExpiryCheck { nextExpiryCheck = reporting.schedule.nextDue }
    }

    /// Live: writes what the manager thread asked for since the last call, stamped with the
    /// request's wall-clock time (the same in every worker's lines of that interval), and takes
    /// the local networks of a reloaded configuration.
    func serveReportRequests() {
        guard let requests = reporting.requests, let (bits, time) = requests.take() else { return }
        if bits & ReportRequests.settings != 0, let local = requests.takeLocalNetworks() { logs.local = local }
        if bits & ReportRequests.stats != 0 { writeStats(at: time) }
        if bits & (ReportRequests.startLoss | ReportRequests.loss) != 0 {
            // A measurement merged with a start the worker never took only starts the counting.
            if bits & ReportRequests.loss != 0 && reporting.lossSince != nil {
                writeCaptureLoss(at: time)
            } else {
                startLossCounting(at: time)
            }
        }
    }

    /// End of input: the last lines, covering the partial interval (Zeek expires its pending
    /// timers at termination, which runs both scheduled events once more). Offline they carry
    /// network time, live the wall clock of the stop.
    func reportFinal() {
        let time = reporting.requests == nil ? now : Self.wallClock()
        if reporting.statsStarted { writeStats(at: time) }
        if reporting.lossSince != nil { writeCaptureLoss(at: time) }
    }

    /// Capture-loss's first event: ACKs and gaps count from zero from `time` on.
    func startLossCounting(at time: Timestamp) {
        reporting.loss = ReportBaseline()
        reporting.lossSince = time
    }

    /// A capture_loss.log line covering the time since the last measurement (or the start).
    func writeCaptureLoss(at time: Timestamp) {
        let delta = time.since(reporting.lossSince ?? time)
        let acks = statistics.acks &- reporting.loss.acks, gaps = statistics.gaps &- reporting.loss.gaps
        CaptureLossLog.write(time: time, delta: delta, peer: reporting.peer, gaps: gaps, acks: acks, logs: &logs)
        reporting.loss.acks = statistics.acks
        reporting.loss.gaps = statistics.gaps
        reporting.lossSince = time
    }

    /// A stats.log line at `time` covering the counts since the last one; `pkt_lag` (live) is the
    /// wall clock minus network time, as Zeek's `current_time() - network_time()`.
    func writeStats(at time: Timestamp) {
        var current = ReportBaseline(
            packets: packets, bytes: statistics.bytes, records: logs.records, tcp: statistics.tcpCreated,
            udp: statistics.udpCreated, icmp: statistics.icmpCreated, files: httpLog.files.filesSeen)
        let last = reporting.stats
        var s = StatsLog.Sample()
        s.time = time
        s.memoryMB = Self.peakResidentBytes() / 1_048_576
        s.packets = current.packets &- last.packets
        s.bytes = current.bytes &- last.bytes
        if let capture = reporting.captureStatistics {
            let (link, dropped) = capture()
            current.link = link
            current.dropped = dropped
            s.live = StatsLog.Live(
                dropped: dropped &- last.dropped, link: link &- last.link, lag: Self.wallClock().since(now))
        }
        // No event engine: every log record stands for the event that wrote it.
        s.eventsProcessed = current.records &- last.records
        s.eventsQueued = s.eventsProcessed
        s.activeTCP = statistics.tcpCreated &- statistics.tcpRemoved
        s.activeUDP = statistics.udpCreated &- statistics.udpRemoved
        s.activeICMP = statistics.icmpCreated &- statistics.icmpRemoved
        s.tcp = current.tcp &- last.tcp
        s.udp = current.udp &- last.udp
        s.icmp = current.icmp &- last.icmp
        // Each connection holds one expiry entry (Zeek arms an inactivity timer per connection).
        s.timers = s.tcp &+ s.udp &+ s.icmp
        s.activeTimers = UInt64(flows.count)
        s.files = current.files &- last.files
        s.activeFiles = UInt64(httpLog.files.openFiles)
        // Zeek's DNS statistics are those of its own resolver (`DNS_Mgr`); Peregrine does no lookups.
        s.dnsRequests = 0
        s.activeDNSRequests = 0
        s.reassemblyTCP = reassembly.bufferedBytes.value
        s.reassemblyFile = 0
        s.reassemblyFragments = UInt64(fragments.slotsInUse * fragments.slotCapacity)
        s.reassemblyUnknown = UInt64(detector.inUse * ProtocolDetector.bufferSize)
        StatsLog.write(s, peer: reporting.peer, logs: &logs)
        reporting.statsStarted = true
        // The line itself is a record: count it in the next interval, not this one.
        reporting.stats = current
    }

    /// Peak resident set size (`getrusage`'s `ru_maxrss`, what Zeek's `get_proc_stats()$mem` reports).
    static func peakResidentBytes() -> UInt64 {
        var usage = rusage()
        guard getrusage(__rusage_who_t(truncatingIfNeeded: RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        return UInt64(max(usage.ru_maxrss, 0)) &* 1024
    }

    /// The wall clock (`current_time()`), for live `pkt_lag`.
    static func wallClock() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), nanoseconds: Int64(ts.tv_nsec))
    }
}
