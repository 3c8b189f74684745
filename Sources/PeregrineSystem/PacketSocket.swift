// SPDX-License-Identifier: Apache-2.0
import CPeregrineLinux
import Glibc

/// An `AF_PACKET` raw socket: the kernel end of one TPACKET_V3 ring (packet(7)).
///
/// The socket is created unbound to any protocol, so it receives nothing until `bind(interfaceIndex:)`;
/// every option that shapes what it receives (version, ring, filter) is set before that. It closes its
/// descriptor when released; the kernel then leaves the fanout group and drops the promiscuous
/// membership it held.
///
/// Each wrapper names its C call; every failure throws `SystemError.syscall` with the call, `errno` and
/// the interface name the socket was opened for.
public final class PacketSocket {
    /// The socket's file descriptor, valid for the object's lifetime.
    public let descriptor: CInt
    /// The interface this socket is for, used in error messages.
    public let interfaceName: String

    /// Opens `socket(AF_PACKET, SOCK_RAW, 0)`.
    ///
    /// Protocol 0 means "no packets yet": the protocol (ETH_P_ALL) is given at `bind`.
    /// - Throws: `SystemError.syscall` (EPERM without CAP_NET_RAW).
    public init(interfaceName: String) throws(SystemError) {
        self.interfaceName = interfaceName
        self.descriptor = try Syscall.run("socket(AF_PACKET, SOCK_RAW)", interface: interfaceName) {
            socket(AF_PACKET, Int32(SOCK_RAW.rawValue), 0)
        }
    }

    deinit {
        close(descriptor)
    }

    // MARK: - Ring setup

    /// Selects the ring format. The corresponding C call is `setsockopt(SOL_PACKET, PACKET_VERSION)`.
    public func setVersion(_ version: tpacket_versions) throws(SystemError) {
        try setOption(PACKET_VERSION, Int32(version.rawValue), "setsockopt(SOL_PACKET, PACKET_VERSION)")
    }

    /// Reserves `bytes` of headroom before each frame in the ring, which user space may write into.
    /// The corresponding C call is `setsockopt(SOL_PACKET, PACKET_RESERVE)`.
    public func setReserve(_ bytes: UInt32) throws(SystemError) {
        try setOption(PACKET_RESERVE, bytes, "setsockopt(SOL_PACKET, PACKET_RESERVE)")
    }

    /// Asks the kernel for a receive ring of this shape; map it with `mapRing(length:)`.
    /// The corresponding C call is `setsockopt(SOL_PACKET, PACKET_RX_RING)`.
    public func setReceiveRing(_ request: tpacket_req3) throws(SystemError) {
        try setOption(PACKET_RX_RING, request, "setsockopt(SOL_PACKET, PACKET_RX_RING)")
    }

    /// Maps the receive ring set with `setReceiveRing(_:)` (`length` = block size × block count).
    /// The corresponding C call is `mmap(MAP_SHARED)` on the socket.
    public func mapRing(length: Int) throws(SystemError) -> MappedRegion {
        try MappedRegion(sharing: descriptor, length: length, interface: interfaceName)
    }

    // MARK: - Filter, bind, membership, fanout

    /// Attaches a classic BPF program that the kernel runs on every packet before it reaches the ring;
    /// it replaces any program attached before.
    /// The corresponding C call is `setsockopt(SOL_SOCKET, SO_ATTACH_FILTER)`.
    public func attachFilter(_ program: PacketFilterProgram) throws(SystemError) {
        var instructions = program.instructions
        let count = UInt16(instructions.count)
        _ = try Syscall.run("setsockopt(SOL_SOCKET, SO_ATTACH_FILTER)", interface: interfaceName) {
            instructions.withUnsafeMutableBufferPointer { buffer in
                var fprog = sock_fprog(len: count, filter: buffer.baseAddress)
                return setsockopt(descriptor, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, socklen_t(MemoryLayout<sock_fprog>.size))
            }
        }
    }

    /// Removes the attached filter (every packet passes).
    /// The corresponding C call is `setsockopt(SOL_SOCKET, SO_DETACH_FILTER)`.
    public func detachFilter() throws(SystemError) {
        try setOption(SOL_SOCKET, SO_DETACH_FILTER, Int32(0), "setsockopt(SOL_SOCKET, SO_DETACH_FILTER)")
    }

    /// Binds to one interface for every protocol (`ETH_P_ALL`); from here on packets arrive.
    /// The corresponding C call is `bind` with a `sockaddr_ll`.
    public func bind(interfaceIndex: UInt32) throws(SystemError) {
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_protocol = UInt16(ETH_P_ALL).bigEndian
        address.sll_ifindex = Int32(bitPattern: interfaceIndex)
        _ = try Syscall.run("bind(AF_PACKET, ifindex \(interfaceIndex))", interface: interfaceName) {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_ll>.size))
                }
            }
        }
    }

    /// The interface's ARPHRD_* hardware type, as the bound socket reports it (`sll_hatype`).
    /// The corresponding C call is `getsockname`.
    public func boundHardwareType() throws(SystemError) -> UInt16 {
        var address = sockaddr_ll()
        var length = socklen_t(MemoryLayout<sockaddr_ll>.size)
        _ = try Syscall.run("getsockname(AF_PACKET)", interface: interfaceName) {
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            }
        }
        return address.sll_hatype
    }

    /// Puts the interface in promiscuous mode for as long as this socket is open (the kernel counts
    /// memberships, so closing the socket undoes it without touching other users).
    /// The corresponding C call is `setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP)` with `PACKET_MR_PROMISC`.
    public func addPromiscuousMembership(interfaceIndex: UInt32) throws(SystemError) {
        var request = packet_mreq()
        request.mr_ifindex = Int32(bitPattern: interfaceIndex)
        request.mr_type = UInt16(PACKET_MR_PROMISC)
        try setOption(PACKET_ADD_MEMBERSHIP, request, "setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP)")
    }

    /// Joins (or creates) fanout group `group` of the bound interface. All members must use the same mode
    /// and flags; a group id is per network namespace, and one id cannot span two interfaces.
    /// The corresponding C call is `setsockopt(SOL_PACKET, PACKET_FANOUT)`.
    public func joinFanout(group: UInt16, mode: PacketFanoutMode, flags: PacketFanoutFlags) throws(SystemError) {
        let argument = UInt32(group) | (UInt32(UInt16(truncatingIfNeeded: mode.kernelValue | flags.rawValue)) << 16)
        try setOption(PACKET_FANOUT, argument, "setsockopt(SOL_PACKET, PACKET_FANOUT, group \(group))")
    }

    /// Sets the eBPF program that picks the socket in a `PacketFanoutMode.ebpf` group (for the whole group).
    /// The program must be of type `BPF_PROG_TYPE_SOCKET_FILTER`; it sees the packet from the network header.
    /// The corresponding C call is `setsockopt(SOL_PACKET, PACKET_FANOUT_DATA)`.
    public func setFanoutProgram(_ programDescriptor: CInt) throws(SystemError) {
        try setOption(PACKET_FANOUT_DATA, programDescriptor, "setsockopt(SOL_PACKET, PACKET_FANOUT_DATA)")
    }

    // MARK: - Runtime

    /// Reads and resets the kernel's counters for this socket: `tp_packets` counts every packet that
    /// passed the filter, including the `tp_drops` that found the ring full; `tp_freeze_q_cnt` counts the
    /// times the ring filled up.
    /// The corresponding C call is `getsockopt(SOL_PACKET, PACKET_STATISTICS)`.
    public func readStatistics() throws(SystemError) -> tpacket_stats_v3 {
        var stats = tpacket_stats_v3()
        var length = socklen_t(MemoryLayout<tpacket_stats_v3>.size)
        _ = try Syscall.run("getsockopt(SOL_PACKET, PACKET_STATISTICS)", interface: interfaceName) {
            getsockopt(descriptor, SOL_PACKET, PACKET_STATISTICS, &stats, &length)
        }
        return stats
    }

    /// Waits up to `timeoutMilliseconds` for the socket to become readable and returns the events seen
    /// (`POLLIN`, `POLLERR` ...), or 0 when the time ran out. EINTR is retried with the same timeout.
    /// The corresponding C call is `poll`.
    public func poll(timeoutMilliseconds: Int32) throws(SystemError) -> Int16 {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN | POLLERR), revents: 0)
        let ready = try Syscall.run("poll", interface: interfaceName) {
            Glibc.poll(&entry, 1, timeoutMilliseconds)
        }
        return ready == 0 ? 0 : entry.revents
    }

    /// The socket's pending error (`ENETDOWN` after the interface went down, for instance), cleared by
    /// reading it; 0 when none. The corresponding C call is `getsockopt(SOL_SOCKET, SO_ERROR)`.
    public func takePendingError() throws(SystemError) -> Int32 {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try Syscall.run("getsockopt(SOL_SOCKET, SO_ERROR)", interface: interfaceName) {
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length)
        }
        return code
    }

    // MARK: - Helpers

    private func setOption<T: BitwiseCopyable>(_ name: Int32, _ value: T, _ call: @autoclosure () -> String) throws(SystemError) {
        try setOption(SOL_PACKET, name, value, call())
    }

    private func setOption<T: BitwiseCopyable>(
        _ level: Int32, _ name: Int32, _ value: T, _ call: @autoclosure () -> String
    ) throws(SystemError) {
        var value = value
        _ = try Syscall.run(call(), interface: interfaceName) {
            setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<T>.size))
        }
    }
}
