// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif
import PeregrineCapture
import PeregrineSystem

/// `--capture af_xdp|auto`: the AF_XDP groups of a live run, the layout picked for each interface,
/// and the one-line reasons when AF_XDP cannot be set up.
extension LiveRun {
    /// The capture sockets of a run, one kind for every interface.
    enum CaptureGroups {
        /// One TPACKET_V3 fanout group per interface, a socket per worker.
        case afPacket([[AFPacketSource]])
        /// One AF_XDP group per interface (with its XDP program), a socket per worker.
        case afXDP([AFXDPGroup])

        /// Worker `i`'s socket of every interface.
        func sources(ofWorker i: Int) -> WorkerSources {
            switch self {
            case .afPacket(let groups): return .afPacket(groups.map { $0[i] })
            case .afXDP(let groups): return .afXDP(groups.map { $0.sources[i] })
            }
        }

        /// Whether the sockets are AF_PACKET's (shunting then attaches a program of its own).
        var isAFPacket: Bool {
            if case .afPacket = self { return true }
            return false
        }

        /// The AF_XDP program holding the shunt table, when it was loaded with one (one interface).
        var shuntProgram: XDPProgram? {
            if case .afXDP(let groups) = self, let program = groups.first?.program, program.shuntTable != nil {
                return program
            }
            return nil
        }

        /// The NUMA node of the first interface that has one.
        var numaNode: Int? {
            switch self {
            case .afPacket(let groups): return groups.lazy.compactMap { $0[0].interface.numaNode }.first
            case .afXDP(let groups): return groups.lazy.compactMap { $0.interface.numaNode }.first
            }
        }
    }

    /// One worker's sockets, of one kind: the worker loop switches on the kind once per round and
    /// reads each kind's batches through concrete types (style.md §4.2: no existential per packet).
    enum WorkerSources {
        case afPacket([AFPacketSource])
        case afXDP([AFXDPSource])

        var count: Int {
            switch self {
            case .afPacket(let sources): return sources.count
            case .afXDP(let sources): return sources.count
            }
        }

        /// The kernel's totals over the sockets for stats.log (`pkts_link`, `pkts_dropped`) and
        /// the metrics. AF_PACKET: `tp_packets` (drops included) and `tp_drops`. AF_XDP: frames
        /// delivered plus those the kernel redirected to the sockets and dropped (`rx_dropped`: no
        /// free frame or too long; `rx_ring_full`: the worker fell behind); an empty fill ring is
        /// counted in `rx_dropped` too, and reported apart (`xdp`).
        func totals() -> (link: UInt64, dropped: UInt64, xdp: AFXDPStatistics?) {
            var link: UInt64 = 0, dropped: UInt64 = 0
            switch self {
            case .afPacket(let sources):
                for source in sources {
                    guard let s = try? source.statistics() else { continue }
                    link &+= s.packets
                    dropped &+= s.drops
                }
                return (link, dropped, nil)
            case .afXDP(let sources):
                var sum = AFXDPStatistics()
                for source in sources {
                    guard let s = try? source.statistics() else { continue }
                    sum.add(s)
                }
                return (sum.delivered &+ sum.drops, sum.drops, sum)
            }
        }
    }

    /// The layout for `workers` sockets on an interface with `queues` receive queues: one socket per
    /// queue when the counts match, all sockets on queue 0 of a single-queue interface (the program
    /// picks `hash % workers`). Any other combination would leave frames of some queue without a
    /// socket, which the kernel drops without a counter (linux-capture-facts.md §3.2).
    /// - Throws: ``EngineError`` saying what to change.
    static func afXDPLayout(interface: String, queues: Int, workers: Int) throws -> AFXDPLayout {
        if queues == workers { return queues == 1 ? .sharedQueue(sockets: 1) : .socketPerQueue(count: workers) }
        if queues == 1 { return .sharedQueue(sockets: workers) }
        throw EngineError(
            "AF_XDP on \(interface): \(queues) receive queues for \(workers) workers; run one worker per queue "
                + "(--workers \(queues)), or set the queue count to the workers (ethtool -L \(interface) combined "
                + "\(workers), tuning/nic.sh) or to 1 for the workers to share it, or capture with --capture af_packet")
    }

    /// Opens an AF_XDP group per interface, in native mode; an interface whose driver has no native
    /// XDP is opened in generic mode when it has a single queue (generic mode cannot lose frames
    /// silently there), with a notice. Groups opened before a failure are closed again.
    /// - Throws: ``EngineError`` with one line saying what failed and what to do.
    func openAFXDPGroups(_ interfaces: [String]) throws -> [AFXDPGroup] {
        // Each interface's program has its own shunt table, and a worker adds a flow to one table.
        guard !configuration.shunt.enabled || interfaces.count == 1 else {
            throw EngineError(
                "shunting with AF_XDP works on one interface (each interface's XDP program has its own shunt "
                    + "table); capture \(interfaces.joined(separator: ",")) with --capture af_packet to shunt")
        }
        let directory = BPFObject.directory(explicit: configuration.bpfDirectory)
        // One seed for every interface: both halves of a tap meet in one worker.
        let seed = configuration.seed.map { UInt32(truncatingIfNeeded: $0) } ?? UInt32.random(in: .min ... .max)
        var groups: [AFXDPGroup] = []
        for name in interfaces {
            let interface: NetworkInterface
            let queues: Int
            do {
                interface = try NetworkInterface(named: name)
                queues = try interface.receiveQueueCount()
            } catch {
                throw EngineError(Self.describe(AFXDPError.system(error), interface: name))
            }
            let layout = try Self.afXDPLayout(interface: name, queues: queues, workers: configuration.workers)
            var settings = configuration.afXDP
            if settings.numaNode == nil { settings.numaNode = interface.numaNode }
            func open(_ mode: XDPProgram.AttachMode) throws(AFXDPError) -> AFXDPGroup {
                try AFXDPGroup(
                    interface: name, layout: layout, configuration: settings, bpfDirectory: directory, seed: seed,
                    mode: mode, shunt: configuration.shunt.enabled)
            }
            do {
                groups.append(try open(.native))
            } catch AFXDPError.noNativeXDP where queues == 1 {
                do {
                    groups.append(try open(.generic))
                } catch {
                    throw EngineError(Self.describe(error, interface: name))
                }
                notice(
                    "AF_XDP on \(name): the driver has no native XDP; using generic (skb) mode, which loses nothing "
                        + "on this single-queue interface but costs more per packet")
            } catch {
                throw EngineError(Self.describe(error, interface: name))
            }
        }
        return groups
    }

    /// The one-line error for an AF_XDP group that could not be opened on `interface`, naming what
    /// the user can fix.
    static func describe(_ error: AFXDPError, interface: String) -> String {
        switch error {
        case .system(.syscall(call: "if_nametoindex", errno: ENODEV, interface: _)):
            return "no such interface: \(interface)"
        case .program(.syscall(let call, EBUSY)) where call.hasPrefix("bpf_link_create"):
            return "AF_XDP on \(interface): another XDP program is attached to the interface (see `ip link show "
                + "\(interface)`); detach it (`ip link set dev \(interface) xdp off`, or `xdp-loader unload -a "
                + "\(interface)`) or capture with --capture af_packet"
        case .program(.syscall(let call, let code)) where call.hasPrefix("bpf_link_create") && (code == EPERM || code == EACCES):
            return "AF_XDP on \(interface): attaching the XDP program needs CAP_NET_ADMIN and CAP_BPF (or root): \(error)"
        case .program(let inner):
            return "AF_XDP on \(interface): \(inner)"
        case .socket(_, let code, _, _) where code == EPERM || code == EACCES:
            return "AF_XDP on \(interface): sockets need CAP_NET_RAW and CAP_NET_ADMIN (or root): \(error)"
        case .layoutRefused:
            return "\(error)"
        default:
            return "AF_XDP on \(interface): \(error)"
        }
    }

    /// The run's XDP totals: the sockets' kernel counters (an empty fill ring counted once per UMEM)
    /// and the programs' per-CPU counters, summed over every interface.
    static func xdpSummary(_ groups: [AFXDPGroup]) -> Summary.XDP {
        var summary = Summary.XDP()
        for group in groups {
            var fillRingEmpty: UInt64 = 0
            for source in group.sources {
                guard let s = try? source.statistics() else { continue }
                summary.receiveDropped &+= s.receiveDropped
                summary.receiveRingFull &+= s.receiveRingFull
                summary.invalidDescriptors &+= s.invalidDescriptors
                summary.refillWaits &+= s.refillWaits
                // Sockets sharing a UMEM each report the pool's count.
                if case .sharedQueue = group.layout {
                    fillRingEmpty = max(fillRingEmpty, s.fillRingEmpty)
                } else {
                    fillRingEmpty &+= s.fillRingEmpty
                }
            }
            summary.fillRingEmpty &+= fillRingEmpty
            for counter in XDPProgram.Counter.allCases {
                summary.program[Int(counter.rawValue)] &+= (try? group.program.count(counter)) ?? 0
            }
            summary.layouts.append(describe(group))
        }
        return summary
    }

    /// `prgcap0: 2 sockets on queue 0, native, copy mode`.
    static func describe(_ group: AFXDPGroup) -> String {
        let sockets: String
        switch group.layout {
        case .sharedQueue(let n): sockets = "\(n) socket\(n == 1 ? "" : "s") on queue 0"
        case .socketPerQueue(let n): sockets = "\(n) sockets, one per queue"
        }
        let mode = group.mode == .native ? "native" : "generic"
        let copy = group.sources.allSatisfy(\.isZeroCopy) ? "zero-copy" : "copy mode"
        return "\(group.interface.name): \(sockets), \(mode), \(copy)"
    }
}

extension AFXDPStatistics {
    /// Adds `other`'s counts to these.
    mutating func add(_ other: AFXDPStatistics) {
        receiveDropped &+= other.receiveDropped
        invalidDescriptors &+= other.invalidDescriptors
        receiveRingFull &+= other.receiveRingFull
        fillRingEmpty &+= other.fillRingEmpty
        transmitInvalidDescriptors &+= other.transmitInvalidDescriptors
        transmitRingEmpty &+= other.transmitRingEmpty
        delivered &+= other.delivered
        refillWaits &+= other.refillWaits
    }
}
