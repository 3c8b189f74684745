// SPDX-License-Identifier: Apache-2.0
import CPeregrineBPF
import Glibc

/// The XDP program of `bpf/peregrine_xdp.bpf.c`, loaded: parses each frame, applies the drop filter
/// and the shunt table when enabled, writes the symmetric flow hash into the frame's metadata and
/// redirects into an XSKMAP entry (`Redirect`), counting every outcome per CPU.
///
/// `AFXDPGroup` loads it, puts its AF_XDP sockets into the XSKMAP (`xsks`) and attaches it; without
/// a socket in the entry the program passes the frame on to the kernel and counts it
/// (`Counter.noSocket`).
public final class XDPProgram {
    /// How the program picks the XSKMAP entry of a frame.
    public enum Redirect: Sendable {
        /// Entry `hash % socketCount`: several sockets bound to one receive queue
        /// (`AFXDPLayout.sharedQueue`).
        case flowHash
        /// Entry = the frame's receive queue (`PEREGRINE_FEATURE_REDIRECT_BY_QUEUE`): one socket per
        /// queue (`AFXDPLayout.socketPerQueue`); symmetric RSS spreads the flows.
        case receiveQueue
    }

    /// The program's per-CPU counters (`enum peregrine_counter` in `bpf/include/peregrine_bpf.h`).
    public enum Counter: UInt32, CaseIterable, Sendable {
        case packets = 0, notIP, filtered, shunted, shuntPassed, redirected, noSocket, noMetadata

        /// The counter's name in the metrics and the run's summary, as `enum peregrine_counter`
        /// spells it (`PEREGRINE_COUNTER_NO_SOCKET` → `no_socket`).
        public var name: String {
            switch self {
            case .packets: return "packets"
            case .notIP: return "not_ip"
            case .filtered: return "filtered"
            case .shunted: return "shunted"
            case .shuntPassed: return "shunt_passed"
            case .redirected: return "redirected"
            case .noSocket: return "no_socket"
            case .noMetadata: return "no_metadata"
            }
        }
    }

    /// Where the program runs.
    public enum AttachMode: Sendable {
        /// In the driver (`XDP_FLAGS_DRV_MODE`): the driver must support XDP (veth does).
        case native
        /// On the skb, after the driver (`XDP_FLAGS_SKB_MODE`): any interface, slower. On a device
        /// with several queues it sees every packet as queue 0 (linux-capture-facts.md §3.2).
        case generic
    }

    /// Entries of the program's XSKMAP: the most sockets it can feed (`PEREGRINE_MAX_SOCKETS`).
    public static let maximumSockets = UInt32(PEREGRINE_MAX_SOCKETS)

    /// The loaded object.
    public let object: BPFObject
    /// The program's descriptor.
    public let descriptor: CInt
    private let counters: CInt

    /// The XSKMAP the sockets are registered in (entry → AF_XDP socket).
    let socketMap: CInt

    /// The shunt table, when the program was loaded with `shunt: true`.
    public let shuntTable: ShuntTable?

    /// Loads `peregrine_xdp.bpf.o` from `directory` with the hash seeded by `seed`, for
    /// `socketCount` sockets picked as `redirect` says, the drop filter off, and the shunt table
    /// (``shuntTable``) on when `shunt` is true.
    ///
    /// For shunting under AF_PACKET capture, load it with `socketCount` 1 and no socket in the XSKMAP
    /// and attach it in native mode: every frame the program does not drop goes on to the kernel
    /// stack (`Counter.noSocket`), where the AF_PACKET rings see it.
    /// - Throws: `BPFError` (missing object, verifier rejection, missing privileges).
    public init(
        directory: String, seed: UInt32, socketCount: UInt32, redirect: Redirect = .flowHash, shunt: Bool = false
    ) throws(BPFError) {
        var configuration = peregrine_config()
        configuration.hash_seed = seed
        configuration.socket_count = socketCount
        if redirect == .receiveQueue { configuration.features |= PEREGRINE_FEATURE_REDIRECT_BY_QUEUE }
        if shunt { configuration.features |= PEREGRINE_FEATURE_SHUNT }
        object = try BPFObject(path: directory + "/" + BPFObject.xdpFileName, configuration: configuration)
        descriptor = try object.programDescriptor(named: BPFObject.xdpProgramName)
        counters = try object.mapDescriptor(named: "counters")
        socketMap = try object.mapDescriptor(named: "xsks")
        shuntTable = shunt ? ShuntTable(descriptor: try object.mapDescriptor(named: "shunt"), owner: object) : nil
    }

    /// Attaches the program to the interface `interfaceIndex` through a BPF link; the program stays
    /// attached while the returned link lives, and the kernel detaches it when the process ends.
    /// The corresponding C call is `bpf_link_create(BPF_XDP)`.
    /// - Throws: `BPFError.syscall` (EOPNOTSUPP: no native XDP in the driver; EBUSY: another program
    ///   is attached to the interface).
    public func attach(interfaceIndex: CInt, mode: AttachMode) throws(BPFError) -> XDPLink {
        let flags = mode == .native ? CPeregrineBPF_XDP_NATIVE_MODE : CPeregrineBPF_XDP_GENERIC_MODE
        let link = CPeregrineBPF_attachXDP(descriptor, interfaceIndex, UInt32(flags))
        guard link >= 0 else {
            throw .syscall(call: "bpf_link_create(BPF_XDP, \(mode), interface \(interfaceIndex))", errno: errno)
        }
        return XDPLink(descriptor: link)
    }

    /// The counter summed over every CPU. The corresponding C call is `bpf_map_lookup_elem`.
    public func count(_ counter: Counter) throws(BPFError) -> UInt64 {
        var sum: UInt64 = 0
        guard CPeregrineBPF_sumPerCPUCounter(counters, counter.rawValue, &sum) == 0 else {
            throw .syscall(call: "bpf_map_lookup_elem(counters, \(counter))", errno: errno)
        }
        return sum
    }
}

/// An XDP program attached to an interface through a BPF link; releasing it detaches the program.
public final class XDPLink {
    /// The link's descriptor.
    public let descriptor: CInt

    init(descriptor: CInt) { self.descriptor = descriptor }

    deinit {
        close(descriptor)
    }
}
