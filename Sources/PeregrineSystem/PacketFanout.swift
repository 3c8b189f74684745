// SPDX-License-Identifier: Apache-2.0
import CPeregrineLinux

/// How the kernel spreads a fanout group's packets over its sockets (`PACKET_FANOUT` type).
public enum PacketFanoutMode: Sendable, Equatable {
    /// `PACKET_FANOUT_HASH`: by the skb's flow hash, which the kernel computes symmetrically (both
    /// directions of a flow reach the same socket; linux-capture-facts.md §2). Addresses and ports only.
    case hash
    /// `PACKET_FANOUT_LB`: round robin. Splits flows; useful only as a control.
    case loadBalance
    /// `PACKET_FANOUT_CPU`: by the CPU that received the packet.
    case cpu
    /// `PACKET_FANOUT_EBPF`: the socket index is what an eBPF socket-filter program returns (modulo the
    /// group size); the program is attached with `PacketSocket.setFanoutProgram(_:)`.
    case ebpf

    /// The kernel's number for this mode.
    var kernelValue: Int32 {
        switch self {
        case .hash: return PACKET_FANOUT_HASH
        case .loadBalance: return PACKET_FANOUT_LB
        case .cpu: return PACKET_FANOUT_CPU
        case .ebpf: return PACKET_FANOUT_EBPF
        }
    }
}

/// Flags ORed into the fanout type.
public struct PacketFanoutFlags: OptionSet, Sendable {
    /// The flag bits as the kernel spells them (`PACKET_FANOUT_FLAG_*`).
    public let rawValue: Int32
    /// Flags from their kernel bits.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `PACKET_FANOUT_FLAG_DEFRAG`: the kernel reassembles IPv4 fragments before choosing a socket, so a
    /// fragmented datagram goes where its flow goes; the socket then receives the reassembled datagram
    /// instead of the fragments.
    public static let defragment = PacketFanoutFlags(rawValue: PACKET_FANOUT_FLAG_DEFRAG)
    /// `PACKET_FANOUT_FLAG_ROLLOVER`: when the chosen socket's ring is full, try the next one (breaks flow
    /// affinity under load).
    public static let rollover = PacketFanoutFlags(rawValue: PACKET_FANOUT_FLAG_ROLLOVER)
}
