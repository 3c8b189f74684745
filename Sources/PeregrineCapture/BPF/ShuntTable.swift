// SPDX-License-Identifier: Apache-2.0
import CPeregrineBPF
import Glibc
import PeregrineCore

/// The XDP program's `shunt` map: flows whose later packets the kernel drops while counting them
/// per direction (`bpf/peregrine_xdp.bpf.c`), so a worker stops paying for traffic it no longer
/// inspects and still logs the connection's true packets and bytes.
///
/// A worker adds a connection once its policy says it needs no more inspection, and takes the entry
/// back (read and delete in one call) when the connection ends, adding the counts into its record.
/// TCP segments with SYN, FIN or RST always pass, so the worker sees how the connection ends, or a
/// new one on the same 5-tuple. Every call is a `bpf(2)` system call: the table is for the rare shunt
/// decision and the connection's end, never for the per-packet path. Failures are values
/// (``AddResult``), counted by the caller; nothing here throws.
///
/// The map is shared by every worker (one program, one map); map calls are safe from any thread.
public final class ShuntTable: @unchecked Sendable {
    /// Entries of the map: the most flows shunted at once (`PEREGRINE_SHUNT_CAPACITY`).
    public static let capacity = Int(PEREGRINE_SHUNT_CAPACITY)

    /// The map's descriptor (owned by `owner`).
    let descriptor: CInt
    /// Keeps the loaded object, and with it the map, alive.
    private let owner: AnyObject

    init(descriptor: CInt, owner: AnyObject) {
        self.descriptor = descriptor
        self.owner = owner
    }

    /// A connection as the kernel keys it: both endpoints ordered as in `struct peregrine_flow_key`,
    /// and which of them is the originator.
    public struct Key: Sendable {
        var raw = peregrine_flow_key()
        /// True when the originator is the key's endpoint `a` (the lower address and port).
        public let originatorIsA: Bool

        /// The key of a TCP or UDP connection carried directly in the outermost IP header (the XDP
        /// program keys on that header; tunnelled connections cannot be shunted).
        public init(
            originator: IPAddress, originatorPort: UInt16, responder: IPAddress, responderPort: UInt16,
            transportProtocol: UInt8
        ) {
            originatorIsA = originator < responder || (originator == responder && originatorPort <= responderPort)
            let (a, portA, b, portB) = originatorIsA
                ? (originator, originatorPort, responder, responderPort)
                : (responder, responderPort, originator, originatorPort)
            raw.addr_a = Self.words(a)
            raw.addr_b = Self.words(b)
            raw.ports = UInt32(portA) << 16 | UInt32(portB)
            raw.protocol = UInt32(transportProtocol)
        }

        static func words(_ address: IPAddress) -> (UInt32, UInt32, UInt32, UInt32) {
            (UInt32(truncatingIfNeeded: address.high >> 32), UInt32(truncatingIfNeeded: address.high),
             UInt32(truncatingIfNeeded: address.low >> 32), UInt32(truncatingIfNeeded: address.low))
        }
    }

    /// What the kernel dropped of one direction of a shunted connection.
    public struct Direction: Equatable, Sendable {
        public var packets: UInt64 = 0
        /// Sum of IP total lengths (conn.log `orig_ip_bytes`/`resp_ip_bytes`).
        public var ipBytes: UInt64 = 0
        /// UDP: sum of the length fields minus 8 (conn.log `orig_bytes`/`resp_bytes`); TCP: payload.
        public var payloadBytes: UInt64 = 0
        /// TCP: how far the highest sequence number + payload length moved past the start value
        /// given to ``ShuntTable/add(_:start:)``, and the highest ACK number this side sent.
        public var sequenceAdvance: UInt64 = 0
        public var acknowledgementAdvance: UInt64 = 0
        /// TCP: segments with payload below the highest sequence number seen (history `T`/`t`).
        public var retransmissions: UInt64 = 0
        /// TCP: segments advertising a zero window (history `W`/`w`).
        public var zeroWindows: UInt64 = 0

        public init() {}

        init(_ d: peregrine_shunt_direction) {
            packets = d.packets
            ipBytes = d.ip_bytes
            payloadBytes = d.payload_bytes
            sequenceAdvance = d.seq_advance
            acknowledgementAdvance = d.ack_advance
            retransmissions = d.retransmissions
            zeroWindows = d.zero_windows
        }
    }

    /// A shunted connection's counts, by role.
    public struct Counts: Equatable, Sendable {
        public var originator = Direction()
        public var responder = Direction()
        public init() {}
        /// Packets the kernel dropped, both directions.
        public var packets: UInt64 { originator.packets &+ responder.packets }
    }

    /// The TCP numbers each side last sent when the connection was shunted: the kernel measures
    /// ``Direction/sequenceAdvance`` and ``Direction/acknowledgementAdvance`` from them. 0 for UDP.
    public struct Start: Sendable {
        public var originatorSequence: UInt32 = 0
        public var originatorAcknowledgement: UInt32 = 0
        public var responderSequence: UInt32 = 0
        public var responderAcknowledgement: UInt32 = 0
        public init() {}
    }

    /// The outcome of ``add(_:start:)``.
    public enum AddResult: Equatable, Sendable {
        case added
        /// The map holds ``ShuntTable/capacity`` flows: the connection stays in user space.
        case full
        /// Another connection with the same kernel key is shunted (e.g. the same 5-tuple on
        /// another VLAN): this one stays in user space.
        case exists
        /// Another failure of `bpf(BPF_MAP_UPDATE_ELEM)`.
        case failed(errno: Int32)
    }

    /// Shunts a connection. The corresponding C call is `bpf_map_update_elem(BPF_NOEXIST)`.
    public func add(_ key: Key, start: Start) -> AddResult {
        var k = key.raw
        var s = peregrine_shunt_counts()
        let (sequenceA, ackA, sequenceB, ackB) = key.originatorIsA
            ? (start.originatorSequence, start.originatorAcknowledgement, start.responderSequence,
               start.responderAcknowledgement)
            : (start.responderSequence, start.responderAcknowledgement, start.originatorSequence,
               start.originatorAcknowledgement)
        s.ab.seq_last = sequenceA
        s.ab.ack_last = ackA
        s.ba.seq_last = sequenceB
        s.ba.ack_last = ackB
        guard CPeregrineBPF_shuntAdd(descriptor, &k, &s) == 0 else {
            switch errno {
            case E2BIG: return .full
            case EEXIST: return .exists
            default: return .failed(errno: errno)
            }
        }
        return .added
    }

    /// Removes a connection's entry and returns what the kernel counted for it (summed over the
    /// CPUs), or nil when it has none. The corresponding C call is `bpf_map_lookup_and_delete_elem`.
    public func take(_ key: Key) -> Counts? { read(key, remove: true) }

    /// What the kernel counted so far for a shunted connection, or nil when it is not shunted.
    /// The corresponding C call is `bpf_map_lookup_elem`.
    public func peek(_ key: Key) -> Counts? { read(key, remove: false) }

    private func read(_ key: Key, remove: Bool) -> Counts? {
        var k = key.raw
        var total = peregrine_shunt_counts()
        guard CPeregrineBPF_shuntRead(descriptor, &k, remove ? 1 : 0, &total) == 0 else { return nil }
        var counts = Counts()
        counts.originator = Direction(key.originatorIsA ? total.ab : total.ba)
        counts.responder = Direction(key.originatorIsA ? total.ba : total.ab)
        return counts
    }
}
