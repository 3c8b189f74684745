// SPDX-License-Identifier: Apache-2.0
import CPeregrineLinux
import Glibc
import PeregrineCore
import PeregrineSystem

/// One worker's live packet source: an AF_PACKET socket with a TPACKET_V3 ring, member of its
/// interface's fanout group.
///
/// Open one per worker (or all at once with `openFanoutGroup`); the kernel spreads packets over the
/// group's sockets, by default with its symmetric flow hash, so both directions of a connection reach
/// the same worker. Frames are read a block at a time with `withBatch`, borrowed from the ring.
///
/// Setup follows zeek's `AF_Packet.cc::Open()` order, with one addition: the socket is bound with a
/// reject-all filter and gets its real filter only after joining the fanout group, because a bound
/// socket outside the group receives every packet of the interface, and those would be duplicates
/// of packets the group's other members get.
///
/// ```swift
/// let source = try AFPacketSource(interface: "eth0", configuration: AFPacketConfiguration())
/// while running {
///     try source.withBatch(timeoutMilliseconds: 100) { batch in
///         for frame in batch { worker.process(frame) }
///     }
///     worker.maintain()
/// }
/// ```
public final class AFPacketSource {
    /// The interface captured from.
    public let interface: NetworkInterface
    /// The configuration the source was opened with.
    public let configuration: AFPacketConfiguration
    /// The fanout group id the socket joined.
    public let fanoutGroup: UInt16
    /// The link type of every frame: Ethernet (LINKTYPE_ETHERNET, 1).
    public let linkType: UInt32 = 1

    private let socket: PacketSocket
    private var ring: TPacketV3Ring
    private var totals = AFPacketStatistics()

    /// Opens the socket, maps its ring, binds it to `interfaceName`, joins the fanout group and
    /// attaches the filter.
    ///
    /// The corresponding C calls are `socket(AF_PACKET)`, `setsockopt(PACKET_VERSION, TPACKET_V3)`,
    /// `setsockopt(PACKET_RESERVE)`, `setsockopt(PACKET_RX_RING)`, `mmap`, `setsockopt(SO_ATTACH_FILTER)`,
    /// `bind`, `setsockopt(PACKET_ADD_MEMBERSHIP)`, `setsockopt(PACKET_FANOUT)` (+ `PACKET_FANOUT_DATA`),
    /// `getsockopt(PACKET_STATISTICS)`.
    /// - Throws: `AFPacketError.invalidConfiguration`, `.unsupportedInterface`, or `.system` naming the
    ///   call, errno and interface.
    public init(interface interfaceName: String, configuration: AFPacketConfiguration) throws(AFPacketError) {
        try configuration.validate()
        do {
            let interface = try NetworkInterface(named: interfaceName)
            guard interface.hardwareType == ARPHRD_ETHER || interface.hardwareType == ARPHRD_LOOPBACK else {
                throw AFPacketError.unsupportedInterface(name: interfaceName, hardwareType: interface.hardwareType)
            }
            let socket = try PacketSocket(interfaceName: interfaceName)
            try socket.setVersion(TPACKET_V3)
            try socket.setReserve(TPacketV3Ring.reservedHeadroom)
            var request = tpacket_req3()
            request.tp_block_size = UInt32(configuration.blockSize)
            request.tp_block_nr = UInt32(configuration.blockCount)
            request.tp_frame_size = UInt32(configuration.frameSize)
            request.tp_frame_nr = UInt32(configuration.blockSize / configuration.frameSize * configuration.blockCount)
            request.tp_retire_blk_tov = UInt32(configuration.blockTimeoutMilliseconds)
            try socket.setReceiveRing(request)
            let region = try socket.mapRing(length: configuration.blockSize * configuration.blockCount)

            try socket.attachFilter(.rejectAll)
            try socket.bind(interfaceIndex: interface.index)
            if configuration.promiscuous {
                try socket.addPromiscuousMembership(interfaceIndex: interface.index)
            }
            let group = configuration.fanoutGroup ?? UInt16(truncatingIfNeeded: interface.index)
            try socket.joinFanout(
                group: group, mode: configuration.fanoutMode,
                flags: configuration.defragment ? .defragment : [])
            if configuration.fanoutMode == .ebpf, let program = configuration.fanoutProgramDescriptor {
                try socket.setFanoutProgram(program)
            }
            if let filter = configuration.filter {
                try socket.attachFilter(PacketFilterProgram(compiling: filter, interface: interfaceName))
            } else {
                try socket.detachFilter()
            }
            // Reading resets the kernel's counters: start them at the moment the socket is in the group.
            _ = try socket.readStatistics()

            self.interface = interface
            self.configuration = configuration
            self.fanoutGroup = group
            self.socket = socket
            self.ring = TPacketV3Ring(
                region: region, blockSize: configuration.blockSize, blockCount: configuration.blockCount,
                linkType: 1)
        } catch let error as SystemError {
            throw .system(error)
        } catch let error as AFPacketError {
            throw error
        } catch {
            preconditionFailure("only SystemError and AFPacketError are thrown above: \(error)")
        }
    }

    /// Opens `count` sources on `interfaceName` in one fanout group (one per worker).
    /// - Throws: as `init`; sources opened before the failure are closed.
    public static func openFanoutGroup(
        interface interfaceName: String, count: Int, configuration: AFPacketConfiguration
    ) throws(AFPacketError) -> [AFPacketSource] {
        precondition(count > 0, "a fanout group needs at least one socket")
        var sources: [AFPacketSource] = []
        var configuration = configuration
        for _ in 0..<count {
            let source = try AFPacketSource(interface: interfaceName, configuration: configuration)
            configuration.fanoutGroup = source.fanoutGroup
            sources.append(source)
        }
        return sources
    }

    /// Hands the next filled block's frames to `body`, then returns the block to the kernel.
    ///
    /// When no block is ready it waits in `poll` up to `timeoutMilliseconds` (the kernel also hands over
    /// a partly filled block after the configured block timeout). Returns the number of frames delivered:
    /// 0 when the wait ended without a block, which is the moment for timers and maintenance (style.md
    /// §4.6). The frames are valid only inside `body`.
    ///
    /// An interface that goes down is not an error: the kernel sets `ENETDOWN` on the socket (read and
    /// cleared here, counted in `AFPacketStatistics.interfaceDownEvents`) and, when the interface comes
    /// back up, puts the socket back into its fanout group by itself, so the caller just keeps polling.
    /// - Throws: `AFPacketError.system` when `poll` fails or the socket reports any other error.
    @discardableResult
    public func withBatch(timeoutMilliseconds: Int32, _ body: (AFPacketBatch) -> Void) throws(AFPacketError) -> Int {
        var ready = ring.readyBatch()
        if ready == nil {
            do throws(SystemError) {
                let events = try socket.poll(timeoutMilliseconds: timeoutMilliseconds)
                if events & Int16(POLLERR) != 0 {
                    let code = try socket.takePendingError()
                    if code == ENETDOWN {
                        totals.interfaceDownEvents &+= 1
                    } else if code != 0 {
                        throw SystemError.syscall(call: "poll (socket error)", errno: code, interface: interface.name)
                    }
                }
            } catch {
                throw .system(error)
            }
            ready = ring.readyBatch()
        }
        guard let batch = ready else { return 0 }
        body(batch)
        ring.releaseCurrentBlock()
        totals.delivered &+= UInt64(batch.count)
        return batch.count
    }

    /// The kernel's counters for this socket since it joined the group, plus the frames delivered.
    ///
    /// The kernel resets its counters on every read, so the source adds each read to running totals.
    /// The corresponding C call is `getsockopt(SOL_PACKET, PACKET_STATISTICS)`.
    public func statistics() throws(AFPacketError) -> AFPacketStatistics {
        do {
            let stats = try socket.readStatistics()
            totals.packets &+= UInt64(stats.tp_packets)
            totals.drops &+= UInt64(stats.tp_drops)
            totals.freezes &+= UInt64(stats.tp_freeze_q_cnt)
            return totals
        } catch {
            throw .system(error)
        }
    }
}

/// Counts for one AF_PACKET socket since it joined its fanout group.
public struct AFPacketStatistics: Equatable, Sendable {
    /// Packets that passed the socket's filter (`tp_packets`), including the dropped ones.
    public var packets: UInt64 = 0
    /// Packets dropped because the ring was full (`tp_drops`).
    public var drops: UInt64 = 0
    /// Times the ring filled up and the kernel froze the queue (`tp_freeze_q_cnt`).
    public var freezes: UInt64 = 0
    /// Frames handed to `withBatch` callbacks.
    public var delivered: UInt64 = 0
    /// Times the socket reported that its interface went down (`ENETDOWN`).
    public var interfaceDownEvents: UInt64 = 0

    /// All zero.
    public init() {}
}
