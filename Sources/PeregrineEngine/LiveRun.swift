// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif
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

/// `peregrine -i IFACE[,IFACE] [--workers N] [--capture af_packet|af_xdp|auto]`: live capture on
/// TPACKET_V3 rings or AF_XDP sockets, one worker thread per socket of each interface, logs through
/// the workers' rings to one writer thread.
///
/// With AF_PACKET each interface gets its own fanout group of `workers` sockets (`PACKET_FANOUT_HASH`,
/// flow affinity by the kernel's flow hash, which is symmetric: it orders the endpoints before
/// hashing). With AF_XDP each interface gets an `AFXDPGroup`: its XDP program redirects every frame
/// to one of `workers` sockets, by the project's symmetric hash on a single-queue interface, by
/// receive queue (symmetric RSS) when the interface has one queue per worker
/// (``afXDPLayout(interface:queues:workers:)``). Worker `i` reads socket `i` of every interface's
/// group. With the same number of sockets in each group and the same symmetric hash, both
/// directions of a flow land on the same index in every group, so the two halves of a tap,
/// captured on two interfaces, meet in one worker.
///
/// Worker threads are named `peregrine-wN`, pinned to the CPUs ``workerCPUs(list:workers:numaNode:)``
/// picks (`--cpus`, or the interface's NUMA node), and build their worker after asking for memory
/// from their CPU's node, so its tables are placed there.
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
        /// Log records lost to write errors (a full disk), and the first error; capture went on.
        public var lostLogRecords: UInt64 = 0
        public var logWriteError: String?
        /// The CPU each worker was pinned to, `nil` when the kernel scheduled them (fewer CPUs
        /// than workers and no `--cpus`).
        public var workerCPUs: [Int]? = nil
        /// Shunting's figures when it was on (LiveRun+Shunt.swift).
        public var shunt: ShuntReport? = nil
        /// The capture path used: `.afPacket` or `.afXDP` (never `.auto`).
        public var captureMode = CaptureMode.afPacket
        /// AF_XDP only: the sockets' and programs' counters. `kernelPackets` is then the frames the
        /// sockets delivered plus the ones they dropped, `kernelDrops` those dropped.
        public var xdp: XDP? = nil

        /// What AF_XDP capture counted over every interface.
        public struct XDP: Sendable {
            /// `rx_dropped`: frames redirected to a socket and dropped by the kernel (no free frame on
            /// the fill ring, or longer than a UMEM frame).
            public var receiveDropped: UInt64 = 0
            /// `rx_ring_full`: frames dropped because a worker's receive ring was full.
            public var receiveRingFull: UInt64 = 0
            /// `rx_fill_ring_empty_descs`, once per UMEM: times the kernel found no free frame (each
            /// also counted in `receiveDropped`).
            public var fillRingEmpty: UInt64 = 0
            /// `rx_invalid_descs`: bad fill-ring entries (a bug, never traffic).
            public var invalidDescriptors: UInt64 = 0
            /// Times a worker waited for room on the fill ring (not a loss).
            public var refillWaits: UInt64 = 0
            /// The XDP programs' counters summed over CPUs and interfaces, indexed by
            /// `XDPProgram.Counter.rawValue`.
            public var program = [UInt64](repeating: 0, count: XDPProgram.Counter.allCases.count)
            /// One line per interface: layout, mode, copy or zero-copy.
            public var layouts: [String] = []

            /// The program's count of `counter`.
            public subscript(counter: XDPProgram.Counter) -> UInt64 { program[Int(counter.rawValue)] }

            /// Every program counter with its name (`no_socket`), in the header's order.
            public var programCounts: [(name: String, value: UInt64)] {
                XDPProgram.Counter.allCases.map { ($0.name, self[$0]) }
            }
        }
    }

    /// Where one-line notices go (AF_XDP falling back, generic mode): standard error by default.
    let notice: @Sendable (String) -> Void

    /// - Parameters:
    ///   - notice: receives one-line notices about how capture was set up (`auto` falling back to
    ///     AF_PACKET, generic XDP), without the `peregrine: ` prefix; standard error by default.
    public init(configuration: Configuration, notice: (@Sendable (String) -> Void)? = nil) {
        self.configuration = configuration
        self.notice =
            notice ?? { line in
                let text = "peregrine: " + line + "\n"
                _ = text.withCString { write(2, $0, strlen($0)) }
            }
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
    ///
    /// `configuration.captureMode` picks the sockets: `.afXDP` fails with the reason when AF_XDP
    /// cannot be set up (no native XDP on a multi-queue interface, another XDP program attached,
    /// missing objects or capabilities, a verifier rejection, queues and workers that do not match);
    /// `.auto` then falls back to AF_PACKET for every interface and says why through `notice`.
    /// - Parameters:
    ///   - reopen: requests to reopen the log files (SIGHUP), served by the writer thread.
    ///   - notifier: systemd's notification socket when systemd started the process (``serveSystemd``).
    ///   - reloader: how to read the configuration again at each SIGHUP (`reopen`'s requests), when
    ///     it came from a file (``serveReloads(_:running:interfaces:mailboxes:writer:reopen:stop:)``).
    /// - Throws: ``EngineError`` naming the interface and the failing call when a socket cannot be
    ///   opened (missing interface, no permission, bad ring settings) or the logs cannot be written.
    public func run(
        interfaces: [String], stop: StopFlag, reopen: ReopenFlag? = nil, notifier: SystemdNotifier? = nil,
        reloader: Reloader? = nil
    ) throws -> Summary {
        guard !interfaces.isEmpty else { throw EngineError("-i needs at least one interface") }
        guard configuration.workers >= 1 else { throw EngineError("--workers must be at least 1") }
        let groups: CaptureGroups
        switch configuration.captureMode {
        case .afPacket:
            groups = .afPacket(try openAFPacketGroups(interfaces))
        case .afXDP:
            groups = .afXDP(try openAFXDPGroups(interfaces))
        case .auto:
            do {
                groups = .afXDP(try openAFXDPGroups(interfaces))
            } catch let error as EngineError {
                notice("\(error); capturing with AF_PACKET instead")
                groups = .afPacket(try openAFPacketGroups(interfaces))
            }
        }
        return try run(
            groups, interfaces: interfaces, stop: stop, reopen: reopen, notifier: notifier, reloader: reloader)
    }

    /// One TPACKET_V3 fanout group of `workers` sockets per interface.
    private func openAFPacketGroups(_ interfaces: [String]) throws -> [[AFPacketSource]] {
        var capture = configuration.afPacket
        capture.filter = configuration.captureFilter
        // One program for every group: the same hash and seed put both halves of a tap in one worker.
        // The kernel holds it while a group uses it.
        let fanoutProgram = try configuration.ebpfFanout ? Self.loadFanoutProgram(configuration) : nil
        if let fanoutProgram {
            capture.fanoutMode = .ebpf
            capture.fanoutProgramDescriptor = fanoutProgram.descriptor
        }
        var groups: [[AFPacketSource]] = []
        for name in interfaces {
            var group = capture
            if let id = configuration.fanoutGroups[name] { group.fanoutGroup = id }
            do {
                groups.append(
                    try AFPacketSource.openFanoutGroup(
                        interface: name, count: configuration.workers, configuration: group))
            } catch {
                throw EngineError(Self.describe(error, interface: name))
            }
        }
        withExtendedLifetime(fanoutProgram) {}
        return groups
    }

    /// Runs the workers on `groups` until `stop`.
    private func run(
        _ groups: CaptureGroups, interfaces: [String], stop: StopFlag, reopen: ReopenFlag?, notifier: SystemdNotifier?,
        reloader: Reloader?
    ) throws -> Summary {
        // Shunting: the AF_XDP program carries the shunt table; AF_PACKET gets a program of its own,
        // kept attached (`shunt`) until the run ends.
        let shunt = try groups.isAFPacket ? Self.attachShunting(configuration, interfaces: interfaces) : nil
        let shuntProgram = shunt?.program ?? groups.shuntProgram
        let cpus = try Self.workerCPUs(
            list: configuration.cpuList, workers: configuration.workers, numaNode: groups.numaNode)
        let seed = configuration.seed ?? UInt64.random(in: .min ... .max)
        let logs = (0..<configuration.workers).map { _ in OfflineRun.makeLogStreams(configuration) }
        let writer = try OfflineRun.makeLogWriter(
            configuration, rings: logs.map(\.ring), schemas: logs[0].schemas, reopen: reopen?.request)
        writer.start()
        let contexts = logs.indices.map { i in
            LiveWorker(
                index: i, cpu: cpus?[i], sources: groups.sources(ofWorker: i), stop: stop, configuration: configuration,
                logs: logs[i], seed: i == 0 ? seed : seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15,
                // stats.log/capture_loss.log `peer`: a standalone Zeek's name, or one per cluster worker.
                peer: logs.count > 1 ? "worker-\(i + 1)" : "zeek")
        }
        for context in contexts { context.shuntTable = shuntProgram?.shuntTable }
        let mailboxes = contexts.map(\.requests)
        let schedule = ReportSchedule(configuration: configuration)
        let manager =
            schedule.nextDue == ReportSchedule.never
            ? nil
            : JoinableThread {
                CPUSet.nameCurrentThread("peregrine-mgr")
                ReportManager.run(schedule: schedule, mailboxes: mailboxes, stop: stop)
            }
        let pulses = contexts.map(\.pulse)
        let metrics = try configuration.metricsAddress.map {
            try MetricsServer(
                address: $0, pulses: pulses, rings: logs.map(\.ring), writer: writer.health, stop: stop,
                programs: Self.programs(of: groups) + (shunt.map { [(interfaces.joined(separator: ","), $0.program)] } ?? []))
        }
        metrics?.start()
        let threads = contexts.map { context in JoinableThread { context.run() } }
        let service = notifier.map { notifier in
            JoinableThread {
                Self.serveSystemd(
                    notifier, pulses: pulses, writer: writer.health, interfaces: interfaces, stop: stop, reopen: reopen)
            }
        }
        let running = configuration
        let reloads = reopen.flatMap { reopen in
            reloader.map { reloader in
                JoinableThread {
                    Self.serveReloads(
                        reloader, running: running, interfaces: interfaces, mailboxes: mailboxes, writer: writer,
                        reopen: reopen, stop: stop)
                }
            }
        }
        for thread in threads { thread.join() }
        reloads?.join()
        manager?.join()
        service?.join()
        metrics?.join()
        let written = writer.finish()
        var summary = Summary()
        summary.workerCPUs = cpus
        summary.logRingFullWaits = written.ringFullWaits
        summary.lostLogRecords = written.lostRecords
        summary.logWriteError = written.firstError.map { "\($0)" }
        summary.shunt = shuntProgram.map { Self.shuntReport(program: $0, workers: contexts.map(\.shuntSummary)) }
        // The AF_PACKET shunt program stays attached until here: its links detach it when released.
        withExtendedLifetime(shunt) {}
        for context in contexts {
            summary.packets &+= context.packets
            summary.connections &+= context.connections
        }
        for i in contexts.indices {
            let totals = groups.sources(ofWorker: i).totals()
            summary.kernelPackets &+= totals.link
            summary.kernelDrops &+= totals.dropped
        }
        if case .afXDP(let groups) = groups {
            summary.captureMode = .afXDP
            summary.xdp = Self.xdpSummary(groups)
        }
        if let error = contexts.lazy.compactMap(\.failure).first { throw EngineError(error) }
        return summary
    }

    /// Each AF_XDP interface's program, for the metrics endpoint; none with AF_PACKET.
    static func programs(of groups: CaptureGroups) -> [(interface: String, program: XDPProgram)] {
        guard case .afXDP(let groups) = groups else { return [] }
        return groups.map { ($0.interface.name, $0.program) }
    }

    /// The one-line error for a capture socket that could not be opened on `interface`, naming what
    /// the user can fix: a missing interface, the missing capability, an unsupported link type.
    static func describe(_ error: AFPacketError, interface: String) -> String {
        switch error {
        case .system(.syscall(call: "if_nametoindex", errno: ENODEV, interface: _)):
            return "no such interface: \(interface)"
        case .system(.syscall(_, let code, _)) where code == EPERM || code == EACCES:
            return "capturing on \(interface) needs CAP_NET_RAW (run as root or grant the capability): \(error)"
        case .unsupportedInterface(_, let type):
            let name = linkTypeNames[type].map { " (ARPHRD_\($0))" } ?? ""
            return "interface \(interface) has link type \(type)\(name): only Ethernet and loopback interfaces can be captured"
        default:
            return "\(error)"
        }
    }

    /// `<linux/if_arp.h>` names of link types users meet on tunnels and tun devices.
    static let linkTypeNames: [UInt16: String] = [
        0xFFFE: "NONE, a tun device or other interface without link-layer header", 0xFFFF: "VOID", 519: "RAWIP",
        768: "TUNNEL, IP in IP", 769: "TUNNEL6", 776: "SIT", 778: "IPGRE", 823: "IP6GRE", 65: "NETLINK", 280: "CAN",
        512: "PPP", 801: "IEEE80211", 803: "IEEE80211_RADIOTAP", 32: "INFINIBAND",
    ]

    /// The CPU each worker is pinned to, or `nil` to leave them to the kernel.
    ///
    /// With `list` (`--cpus`), worker `i` gets the list's `i`-th CPU; every CPU named must be
    /// online and allowed to this process, and there must be one per worker. Without it the
    /// candidates are the CPUs of the capture interface's NUMA node (all online CPUs when it has
    /// none, as virtual devices do, or when the node has fewer CPUs than workers), CPU 0 left to
    /// the system, the writer and interrupts whenever enough others remain. With fewer candidates
    /// than workers nothing is pinned.
    /// - Throws: ``EngineError`` naming the CPUs that are missing or too few.
    static func workerCPUs(list: String?, workers: Int, numaNode: Int?) throws -> [Int]? {
        let usable: CPUSet
        do {
            usable = try CPUSet.online().intersection(CPUSet.currentThreadAffinity())
        } catch {
            throw EngineError("cannot read the CPUs: \(error)")
        }
        if let list {
            let wanted: CPUSet
            do {
                wanted = try CPUSet(parsing: list)
            } catch {
                throw EngineError("--cpus: \(error)")
            }
            let missing = wanted.subtracting(usable)
            guard missing.cpus.isEmpty else {
                throw EngineError("--cpus \(list): no such online CPU: \(missing) (this machine's CPUs: \(usable))")
            }
            guard wanted.cpus.count >= workers else {
                throw EngineError(
                    "--cpus \(list) names \(wanted.cpus.count) CPU(s) for \(workers) workers: each worker needs a CPU of its own")
            }
            return Array(wanted.cpus.prefix(workers))
        }
        var candidates = usable
        if let numaNode, let local = try? CPUSet.ofNUMANode(numaNode).intersection(usable), local.cpus.count >= workers {
            candidates = local
        }
        let spared = candidates.subtracting(CPUSet([0]))
        if spared.cpus.count >= workers { return Array(spared.cpus.prefix(workers)) }
        if candidates.cpus.count >= workers { return Array(candidates.cpus.prefix(workers)) }
        return nil
    }

    /// A live worker's signs of life for the service thread and the metrics endpoint: a counter its
    /// capture loop bumps once per round, the frames it processed, and readings it takes about once a
    /// second.
    final class WorkerPulse: Sendable {
        let beats = Atomic<UInt64>(0)
        let packets = Atomic<UInt64>(0)
        /// The kernel's totals over the worker's sockets (frames that passed the filter, drops for a
        /// full ring), read by the worker about once a second; connections held; log records.
        let kernelPackets = Atomic<UInt64>(0)
        let kernelDrops = Atomic<UInt64>(0)
        let flows = Atomic<Int>(0)
        let flowCapacity = Atomic<Int>(0)
        let records = Atomic<UInt64>(0)
        /// Capture loss as capture_loss.log counts it: ACKs of new TCP data, and those among them
        /// that acknowledged data the worker never saw.
        let acks = Atomic<UInt64>(0)
        let gaps = Atomic<UInt64>(0)
        /// Shunting: connections handed to the kernel, and the packets it dropped for them that the
        /// worker took back into conn.log (at each shunt's end).
        let shunted = Atomic<UInt64>(0)
        let shuntRestoredPackets = Atomic<UInt64>(0)
        /// AF_XDP only (`isXDP`): the sockets' `XDP_STATISTICS` totals, read with the kernel totals.
        /// `fillRingEmpty` is per UMEM: workers sharing one each show its count.
        let isXDP: Bool
        let xdpReceiveDropped = Atomic<UInt64>(0)
        let xdpReceiveRingFull = Atomic<UInt64>(0)
        let xdpFillRingEmpty = Atomic<UInt64>(0)
        let xdpInvalidDescriptors = Atomic<UInt64>(0)

        init(isXDP: Bool) { self.isXDP = isXDP }

        func beat(packets count: UInt64) {
            packets.store(count, ordering: .relaxed)
            beats.add(1, ordering: .releasing)
        }
    }

    /// The systemd side of a live run (`systemd/peregrine.service`, `Type=notify`): `READY=1` once
    /// every worker's capture loop runs, then `WATCHDOG=1` at the watchdog interval only while every
    /// worker keeps going round its loop (a stuck worker stops the pings and systemd restarts the
    /// service), a `STATUS=` line with packets, drops and failing log writes (a full disk),
    /// `RELOADING=1`/`READY=1` around a log reopen (SIGHUP), and `STOPPING=1` when the stop is
    /// asked for. Runs on its own thread.
    static func serveSystemd(
        _ notifier: SystemdNotifier, pulses: [WorkerPulse], writer: LogWriterHealth, interfaces: [String],
        stop: StopFlag, reopen: ReopenFlag?
    ) {
        CPUSet.nameCurrentThread("peregrine-sd")
        func status() -> String {
            SystemdNotifier.captureStatus(
                interfaces: interfaces, workers: pulses.count,
                packets: pulses.reduce(0) { $0 + $1.packets.load(ordering: .relaxed) },
                dropped: pulses.reduce(0) { $0 + $1.kernelDrops.load(ordering: .relaxed) },
                lostLogRecords: writer.lostRecords.load(ordering: .relaxed),
                logWritesFailing: writer.failing.load(ordering: .relaxed))
        }
        func pause(_ nanoseconds: Int) {
            var request = timespec(tv_sec: nanoseconds / 1_000_000_000, tv_nsec: nanoseconds % 1_000_000_000)
            _ = nanosleep(&request, nil)
        }
        while !stop.isSet && pulses.contains(where: { $0.beats.load(ordering: .acquiring) == 0 }) { pause(10_000_000) }
        guard !stop.isSet else {
            try? notifier.stopping()
            return
        }
        try? notifier.ready(status: status())
        let step = notifier.watchdogInterval.map { Int($0.components.seconds) * 1_000_000_000 + Int($0.components.attoseconds / 1_000_000_000) }
        let interval = min(step ?? 5_000_000_000, 5_000_000_000)
        var seen = pulses.map { $0.beats.load(ordering: .acquiring) }
        var reopened = reopen?.request.current ?? 0
        var elapsed = 0
        while !stop.isSet {
            pause(50_000_000)
            elapsed += 50_000_000
            if let reopen, reopen.request.current != reopened {
                reopened = reopen.request.current
                try? notifier.reloading()
                try? notifier.ready(status: status())
            }
            guard elapsed >= interval else { continue }
            elapsed = 0
            let now = pulses.map { $0.beats.load(ordering: .acquiring) }
            if zip(now, seen).allSatisfy({ $0 != $1 }) && step != nil { try? notifier.watchdog() }
            seen = now
            try? notifier.status(status())
        }
        try? notifier.stopping()
    }

    /// One worker thread: what it needs to build its worker, and what it reports back once it
    /// ended. Used only by that thread until it is joined.
    final class LiveWorker: @unchecked Sendable {
        let index: Int
        let cpu: Int?
        let sources: WorkerSources
        let stop: StopFlag
        let requests = ReportRequests()
        /// What the service thread reads while the worker runs.
        let pulse: WorkerPulse
        private let configuration: Configuration
        private let logs: LogStreams
        private let seed: UInt64
        private let peer: String
        /// Frames processed and conn.log records written, read after the thread ended.
        private(set) var packets: UInt64 = 0
        private(set) var connections: UInt64 = 0
        /// A capture error that ended this worker early, and with it the run.
        private(set) var failure: String?
        /// The kernel's shunt table when shunting is on, set before the thread starts; what the
        /// worker shunted, read after it ended.
        var shuntTable: ShuntTable?
        private(set) var shuntSummary = ShuntSummary()

        init(
            index: Int, cpu: Int?, sources: WorkerSources, stop: StopFlag, configuration: Configuration,
            logs: LogStreams, seed: UInt64, peer: String
        ) {
            self.index = index
            self.cpu = cpu
            self.sources = sources
            if case .afXDP = sources { pulse = WorkerPulse(isXDP: true) } else { pulse = WorkerPulse(isXDP: false) }
            self.stop = stop
            self.configuration = configuration
            self.logs = logs
            self.seed = seed
            self.peer = peer
        }

        /// The thread's body. It names itself (`peregrine-w0` ...), and when it has a CPU, asks for
        /// memory from that CPU's NUMA node and pins itself there; only then it builds its worker,
        /// so the flow table, reassembly buffers and pools are first touched, and therefore
        /// placed, on that node.
        func run() {
            CPUSet.nameCurrentThread("peregrine-w\(index)")
            if let cpu {
                if let node = NUMA.node(ofCPU: cpu) { NUMA.preferNodeForCurrentThread(node) }
                // `workerCPUs` checked the CPU against the online ones and this process's affinity.
                try? CPUSet([cpu]).pinCurrentThread()
            }
            let worker = Worker(config: configuration, logs: logs, seed: seed)
            worker.enableShunting(table: shuntTable)
            worker.reporting.peer = peer
            worker.reporting.requests = requests
            // Read by this thread when its stats.log line is due (AF_PACKET's kernel counters reset
            // on each read; the source keeps the totals).
            let sources = self.sources
            worker.reporting.captureStatistics = {
                let totals = sources.totals()
                return (totals.link, totals.dropped)
            }
            capture(worker)
            connections = worker.logs.connRecords
            shuntSummary = worker.shunting?.summary ?? ShuntSummary()
        }

        /// The metrics endpoint's per-worker values (``MetricsServer``): kernel totals (the sources
        /// keep them across reads), connections held, log records.
        private func publishReadings(_ worker: Worker) {
            let totals = sources.totals()
            pulse.kernelPackets.store(totals.link, ordering: .relaxed)
            pulse.kernelDrops.store(totals.dropped, ordering: .relaxed)
            if let xdp = totals.xdp {
                pulse.xdpReceiveDropped.store(xdp.receiveDropped, ordering: .relaxed)
                pulse.xdpReceiveRingFull.store(xdp.receiveRingFull, ordering: .relaxed)
                pulse.xdpFillRingEmpty.store(xdp.fillRingEmpty, ordering: .relaxed)
                pulse.xdpInvalidDescriptors.store(xdp.invalidDescriptors, ordering: .relaxed)
            }
            pulse.flows.store(worker.flows.count, ordering: .relaxed)
            pulse.flowCapacity.store(worker.flows.capacity, ordering: .relaxed)
            pulse.records.store(worker.logs.records, ordering: .relaxed)
            pulse.acks.store(worker.statistics.acks, ordering: .relaxed)
            pulse.gaps.store(worker.statistics.gaps, ordering: .relaxed)
            if let shunting = worker.shunting {
                pulse.shunted.store(shunting.summary.shunted, ordering: .relaxed)
                pulse.shuntRestoredPackets.store(shunting.summary.packets, ordering: .relaxed)
            }
        }

        /// Reads batches (a ring block, an XDP batch) until a stop, then the batches already filled,
        /// then flushes everything. Between batches it serves the manager's report requests; a round
        /// that found no batch moves network time to the wall clock (``LiveRun/idleClockLag`` behind).
        private func capture(_ worker: Worker) {
            var packets: UInt64 = 0
            // Generic over the batch type, specialised for each: the loop over a batch's frames is
            // the inlined iterator of AFPacketBatch or AFXDPBatch, with no call per frame.
            func process<Batch: Sequence<CapturedFrame>>(_ batch: Batch) {
                for frame in batch {
                    guard let linkType = LinkType(rawValue: frame.linkType) else { continue }
                    packets &+= 1
                    worker.process(
                        bytes: frame.bytes, wireLength: frame.wireLength, timestamp: frame.timestamp,
                        linkType: linkType)
                }
            }
            let wait = sources.count == 1 ? LiveRun.pollMilliseconds : 1
            // One pass over every socket; the kind is switched on once per pass, not per frame.
            func round(timeoutMilliseconds: Int32) throws -> Int {
                var frames = 0
                switch sources {
                case .afPacket(let sources):
                    for source in sources {
                        frames += try source.withBatch(timeoutMilliseconds: timeoutMilliseconds) { process($0) }
                    }
                case .afXDP(let sources):
                    for source in sources {
                        frames += try source.withBatch(timeoutMilliseconds: timeoutMilliseconds) { process($0) }
                    }
                }
                return frames
            }
            do {
                var nextReading = Int64(0)
                while !stop.isSet {
                    // Once per round (a ring block or an empty poll), not per packet.
                    pulse.beat(packets: packets)
                    let wall = Worker.wallClock().nanoseconds
                    if wall >= nextReading {
                        nextReading = wall &+ 1_000_000_000
                        publishReadings(worker)
                    }
                    let frames = try round(timeoutMilliseconds: wait)
                    worker.serveReportRequests()
                    if frames == 0 {
                        let wall = Worker.wallClock()
                        worker.advanceClock(to: Timestamp(nanoseconds: wall.nanoseconds &- LiveRun.idleClockLag.nanoseconds))
                    }
                }
                while try round(timeoutMilliseconds: 0) > 0 {}
            } catch {
                failure = "\(error)"
                // The whole run ends (and exits non-zero, which systemd restarts): a sensor with a
                // worker that stopped capturing would miss that worker's share of the flows.
                stop.stop()
            }
            worker.serveReportRequests()
            worker.finishAll()
            worker.logs.close()
            self.packets = packets
        }
    }
}
