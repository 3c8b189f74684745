// SPDX-License-Identifier: Apache-2.0
import CPeregrineLinux
import CPeregrineXDP
import Glibc
import PeregrineSystem

/// How the AF_XDP sockets of an interface are bound to its receive queues.
///
/// The kernel hands a frame redirected into an XSKMAP to the socket only when the socket is bound to
/// the queue the frame arrived on; otherwise it drops the frame and no counter anywhere moves
/// (linux-capture-facts.md §3.2). The two layouts below are the ones measured to lose nothing;
/// `AFXDPGroup` refuses the combinations with a device that would drop silently.
public enum AFXDPLayout: Sendable, Equatable {
    /// `sockets` sockets all bound to queue 0 of a single-queue device, sharing one UMEM and its fill
    /// ring; the program sends each frame to socket `flowHash % sockets` (both directions of a
    /// connection to one worker). Refills from the workers take a lock, once per batch.
    case sharedQueue(sockets: Int)
    /// One socket per receive queue, each with its own UMEM; the program sends each frame to its
    /// queue's socket. `count` must equal the device's receive queue count (`ethtool -l`), and the NIC
    /// must spread flows with a symmetric RSS key (tuning/nic.sh) for a connection's two directions to
    /// meet in one worker.
    case socketPerQueue(count: Int)

    /// The number of sockets.
    public var socketCount: Int {
        switch self {
        case .sharedQueue(let sockets): return sockets
        case .socketPerQueue(let count): return count
        }
    }
}

/// The AF_XDP sockets of one interface with the XDP program that feeds them (`bpf/peregrine_xdp.bpf.c`).
///
/// Opening checks the layout against the device, loads the program, creates the UMEMs and sockets,
/// registers every socket in the program's XSKMAP and only then attaches the program (through a BPF
/// link), so no frame is redirected to an empty entry at start. The program stays attached while the
/// group lives: keep it for as long as its sources are read. Releasing the group detaches it; the
/// kernel also detaches it when the process ends, however it ends.
public final class AFXDPGroup {
    /// The interface.
    public let interface: NetworkInterface
    /// The layout the sockets were opened in.
    public let layout: AFXDPLayout
    /// Where the program runs: in the driver (`.native`) or on the skb (`.generic`).
    public let mode: XDPProgram.AttachMode
    /// The XDP program; `program.count(_:)` reads its per-CPU counters (frames seen, redirected,
    /// passed for want of a socket, …).
    public let program: XDPProgram
    /// One source per worker; `sources[i]` is XSKMAP entry `i`.
    public let sources: [AFXDPSource]
    /// The program's attachment; released first in `deinit`.
    private var link: XDPLink?

    /// Opens the sockets of `layout` on `interfaceName` and attaches the program in `mode`.
    ///
    /// - Parameters:
    ///   - bpfDirectory: where `peregrine_xdp.bpf.o` is (`BPFObject.directory(explicit:)`).
    ///   - seed: the flow hash seed (random in production, fixed in tests).
    ///   - mode: `.native` (in the driver) or `.generic` (on the skb; single-queue devices only).
    ///   - shunt: whether the program's shunt table is on (``XDPProgram/shuntTable``).
    /// - Throws: `AFXDPError`: `.invalidConfiguration`, `.unsupportedInterface`, `.layoutRefused` for a
    ///   layout that would lose frames silently on this device, `.noNativeXDP`, `.socket`, `.program`
    ///   or `.system`. Whatever was opened before the failure is closed and detached.
    public init(
        interface interfaceName: String, layout: AFXDPLayout, configuration: AFXDPConfiguration,
        bpfDirectory: String, seed: UInt32, mode: XDPProgram.AttachMode = .native, shunt: Bool = false
    ) throws(AFXDPError) {
        try configuration.validate()
        let interface: NetworkInterface
        let queues: Int
        do {
            interface = try NetworkInterface(named: interfaceName)
            queues = try interface.receiveQueueCount()
        } catch {
            throw .system(error)
        }
        guard interface.hardwareType == ARPHRD_ETHER else {
            throw .unsupportedInterface(name: interfaceName, hardwareType: interface.hardwareType)
        }
        try Self.check(layout, interface: interface, queues: queues, mode: mode, configuration: configuration)
        var configuration = configuration
        // Generic XDP runs after the driver, on an skb that the kernel copies into the UMEM in any case.
        if mode == .generic { configuration.preferZeroCopy = false }

        let redirect: XDPProgram.Redirect
        if case .socketPerQueue = layout { redirect = .receiveQueue } else { redirect = .flowHash }
        do {
            program = try XDPProgram(
                directory: bpfDirectory, seed: seed, socketCount: UInt32(layout.socketCount), redirect: redirect,
                shunt: shunt)
        } catch {
            throw .program(error)
        }

        var sources: [AFXDPSource] = []
        switch layout {
        case .sharedQueue(let count):
            let umem = try AFXDPUMEM(
                frameCount: configuration.frameCount * count, frameSize: configuration.frameSize,
                fillRingSize: Self.powerOfTwo(atLeast: configuration.fillRingSize * count),
                completionRingSize: configuration.completionRingSize, numaNode: configuration.numaNode,
                interface: interfaceName)
            for index in 0..<count {
                sources.append(
                    try AFXDPSource(
                        umem: umem, interface: interface, queue: 0, index: UInt32(index), configuration: configuration))
                if index == 0 { try Self.fill(umem, interface: interfaceName, queue: 0) }
            }
        case .socketPerQueue(let count):
            for queue in 0..<count {
                let umem = try AFXDPUMEM(
                    frameCount: configuration.frameCount, frameSize: configuration.frameSize,
                    fillRingSize: configuration.fillRingSize, completionRingSize: configuration.completionRingSize,
                    numaNode: configuration.numaNode, interface: interfaceName)
                sources.append(
                    try AFXDPSource(
                        umem: umem, interface: interface, queue: UInt32(queue), index: UInt32(queue),
                        configuration: configuration))
                try Self.fill(umem, interface: interfaceName, queue: UInt32(queue))
            }
        }
        for source in sources { try source.register(in: program.socketMap) }
        do {
            link = try program.attach(interfaceIndex: CInt(interface.index), mode: mode)
        } catch {
            if mode == .native, case .syscall(_, let code) = error, code == EOPNOTSUPP {
                throw .noNativeXDP(interface: interfaceName)
            }
            throw .program(error)
        }
        self.interface = interface
        self.layout = layout
        self.mode = mode
        self.sources = sources
    }

    deinit {
        link = nil
    }

    /// Refuses what the kernel would accept and then drop without a trace, or reject with a bare errno.
    static func check(
        _ layout: AFXDPLayout, interface: NetworkInterface, queues: Int, mode: XDPProgram.AttachMode,
        configuration: AFXDPConfiguration
    ) throws(AFXDPError) {
        let name = interface.name
        let count = layout.socketCount
        guard (1...Int(XDPProgram.maximumSockets)).contains(count) else {
            throw .layoutRefused(
                interface: name, reason: "\(count) sockets: the program's XSKMAP holds 1 to \(XDPProgram.maximumSockets)")
        }
        if mode == .generic, queues > 1 {
            throw .layoutRefused(
                interface: name,
                reason: "generic (skb) XDP on a device with \(queues) receive queues delivers only what arrives on the "
                    + "sockets' queue and drops the rest silently: use native mode, or reduce the device to one queue "
                    + "(ethtool -L \(name) combined 1)")
        }
        switch layout {
        case .sharedQueue:
            if queues > 1 {
                throw .layoutRefused(
                    interface: name,
                    reason: "\(count) sockets sharing queue 0 of a device with \(queues) receive queues would lose "
                        + "every frame that arrives on the other queues without a counter: use one socket per queue "
                        + "(\(queues) workers), or reduce the device to one queue (ethtool -L \(name) combined 1)")
            }
        case .socketPerQueue:
            if count != queues {
                throw .layoutRefused(
                    interface: name,
                    reason: "\(count) sockets for \(queues) receive queues: frames of a queue without a socket "
                        + "would not be captured; open exactly \(queues) (one per queue), or change the queue count "
                        + "with ethtool -L \(name) combined \(count)")
            }
        }
        // Ethernet header, two VLAN tags and the MTU must fit after the kernel's headroom.
        let largest = interface.mtu + 14 + 8
        if largest > configuration.frameSize - AFXDPConfiguration.kernelHeadroom {
            throw .invalidConfiguration(
                "frame size \(configuration.frameSize) leaves \(configuration.frameSize - AFXDPConfiguration.kernelHeadroom) "
                    + "bytes per frame, less than the \(largest) of a full-size frame on \(name) (MTU \(interface.mtu)): "
                    + "raise the frame size or lower the MTU")
        }
    }

    /// Puts every frame of a freshly bound UMEM on its fill ring.
    private static func fill(_ umem: AFXDPUMEM, interface: String, queue: UInt32) throws(AFXDPError) {
        let filled = CPeregrineXDP_fillAll(umem.handle)
        guard Int(filled) == umem.frameCount else {
            throw .socket(call: "fill ring (\(filled) of \(umem.frameCount) frames)", errno: ENOSPC, interface: interface, queue: queue)
        }
    }

    private static func powerOfTwo(atLeast value: Int) -> Int {
        var result = 1
        while result < value { result <<= 1 }
        return result
    }
}
