// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// One connection's state: Zeek's `connection` record as far as the engine keeps it.
///
/// Lives in a `FlowTable` slot for the connection's whole life and is updated in place on every
/// packet; no field allocates. Protocol state (`tcp`, `udp`, ICMP lengths) sits inline.
public struct Connection {
    /// Zeek's uid.
    public var uid: ConnectionUID
    public var originator: IPAddress
    public var responder: IPAddress
    /// Originator port; for ICMP the message type.
    public var originatorPort: UInt16
    /// Responder port; for ICMP the counterpart type, or the code of a one-way message.
    public var responderPort: UInt16
    /// IP protocol number.
    public var transportProtocol: UInt8
    /// True for one-way ICMP messages (keyed by direction).
    public var oneWayICMP: Bool
    /// First packet's time (conn.log `ts`).
    public var startTime: Timestamp
    /// Last packet that counts towards `duration`.
    public var lastTime: Timestamp
    public var originatorPackets: UInt64 = 0
    public var responderPackets: UInt64 = 0
    /// Sum of IP total lengths sent by each side.
    public var originatorIPBytes: UInt64 = 0
    public var responderIPBytes: UInt64 = 0
    /// Outer and inner VLAN ids of the first packet (0 = none).
    public var vlan: UInt16
    public var innerVlan: UInt16
    /// conn.log `history`.
    public var history = ConnectionHistory()
    /// TCP endpoint states, sizes and gap accounting (TCP connections only).
    public var tcp = TCPSessionState()
    /// Which sides sent UDP payload and how much (UDP connections only).
    public var udp = UDPSessionState()
    /// ICMP payload bytes per side, -1 while that side sent nothing (Zeek's `request_len`/`reply_len`).
    public var icmpOriginatorLength: Int64 = -1
    public var icmpResponderLength: Int64 = -1
    /// Confirmed services, as `ServiceSet` bits.
    public var services = ServiceSet()
    /// Uids of the tunnels this connection arrived in (conn.log `tunnel_parents`).
    public var tunnelParents = TunnelParents()
    /// For an outer connection carrying a tunnel: the tunnel kind's index + 1 once tunnel.log's
    /// DISCOVER line was written (0 = not a tunnel).
    public var tunnelKind: UInt8 = 0
    /// Per-tunnel-type state a decapsulator keeps on its outer connection (e.g. Teredo's
    /// confirmation progress).
    public var tunnelState: UInt8 = 0
    /// The application analyzer attached to this connection (`PeregrineAnalyzers.AnalyzerKind`
    /// raw value; 0 = none) and its 1-based slot in that analyzer's per-worker pool.
    public var analyzer: UInt8 = 0
    public var analyzerSlot: UInt32 = 0
    /// Stream reassembly of each direction (TCP connections with an analyzer only; untouched
    /// otherwise).
    public var originatorStream = TCPReassembler()
    public var responderStream = TCPReassembler()
    /// Whether the kernel drops this connection's packets (shunting, `ShuntState`).
    public var shunt = ShuntState.none

    public init(
        uid: ConnectionUID, originator: IPAddress, originatorPort: UInt16, responder: IPAddress, responderPort: UInt16,
        transportProtocol: UInt8, oneWayICMP: Bool = false, time: Timestamp, vlan: UInt16 = 0, innerVlan: UInt16 = 0
    ) {
        self.uid = uid
        self.originator = originator
        self.originatorPort = originatorPort
        self.responder = responder
        self.responderPort = responderPort
        self.transportProtocol = transportProtocol
        self.oneWayICMP = oneWayICMP
        self.startTime = time
        self.lastTime = time
        self.vlan = vlan
        self.innerVlan = innerVlan
    }

    /// Swaps originator and responder (Zeek's `Connection::FlipRoles`): addresses, ports,
    /// counters; the history records `^`.
    public mutating func flipRoles() {
        swap(&originator, &responder)
        swap(&originatorPort, &responderPort)
        swap(&originatorPackets, &responderPackets)
        swap(&originatorIPBytes, &responderIPBytes)
        swap(&icmpOriginatorLength, &icmpResponderLength)
        swap(&originatorStream, &responderStream)
    }
}

/// The services a connection has confirmed (conn.log `service`), in confirmation order.
@frozen
public struct ServiceSet: Sendable {
    /// Up to four service ids (1-based into the engine's service name table), in order.
    @usableFromInline var ids: UInt32 = 0

    public init() {}

    /// Adds service `id` (1...255) unless present.
    @inlinable
    public mutating func insert(_ id: UInt8) {
        if contains(id) { return }
        for shift in stride(from: 0, to: 32, by: 8) where (ids >> UInt32(shift)) & 0xFF == 0 {
            ids |= UInt32(id) << UInt32(shift)
            return
        }
    }

    /// True when service `id` was confirmed (no allocation: used per packet).
    @inlinable
    public func contains(_ id: UInt8) -> Bool {
        var v = ids
        while v & 0xFF != 0 {
            if UInt8(v & 0xFF) == id { return true }
            v >>= 8
        }
        return false
    }

    /// The ids in order.
    public var members: [UInt8] {
        var out: [UInt8] = []
        var v = ids
        while v & 0xFF != 0 {
            out.append(UInt8(v & 0xFF))
            v >>= 8
        }
        return out
    }

    public var isEmpty: Bool { ids == 0 }

    /// Removes service `id`, keeping the others in order (DPD drops a service whose analyzer
    /// failed after confirming).
    public mutating func remove(_ id: UInt8) {
        var kept: UInt32 = 0, shift: UInt32 = 0, v = ids
        while v & 0xFF != 0 {
            if UInt8(v & 0xFF) != id {
                kept |= (v & 0xFF) << shift
                shift += 8
            }
            v >>= 8
        }
        ids = kept
    }
}

/// A small inline set of tunnel uids (Zeek adds the innermost encapsulating connection's uid each
/// time the encapsulation changes). Holds at most four; more are counted, not stored.
@frozen
public struct TunnelParents: Sendable {
    @usableFromInline var storage: (ConnectionUID, ConnectionUID, ConnectionUID, ConnectionUID) =
        (.none, .none, .none, .none)
    @usableFromInline var used: UInt8 = 0
    /// Parents that did not fit.
    public var overflow: UInt8 = 0

    public init() {}

    /// Adds `uid` unless present.
    @inlinable
    public mutating func insert(_ uid: ConnectionUID) {
        if contains(uid) { return }
        switch used {
        case 0: storage.0 = uid
        case 1: storage.1 = uid
        case 2: storage.2 = uid
        case 3: storage.3 = uid
        default:
            overflow &+= 1
            return
        }
        used += 1
    }

    @inlinable
    public func contains(_ uid: ConnectionUID) -> Bool {
        (used > 0 && storage.0 == uid) || (used > 1 && storage.1 == uid) || (used > 2 && storage.2 == uid)
            || (used > 3 && storage.3 == uid)
    }

    /// The uids in insertion order.
    public var members: [ConnectionUID] {
        [storage.0, storage.1, storage.2, storage.3].prefix(Int(used)).map { $0 }
    }

    public var isEmpty: Bool { used == 0 }
}

/// A connection's place in shunting (the XDP program dropping and counting its packets).
public enum ShuntState: UInt8, Sendable {
    /// Every packet reaches the worker.
    case none = 0
    /// The policy chose it but it cannot be shunted (tunnelled, not established, or the kernel
    /// table refused it): never tried again.
    case refused = 1
    /// The kernel drops its packets (TCP: all but SYN, FIN and RST) and counts them.
    case active = 2
    /// It was shunted and its kernel counts are back in the connection: packets reach the worker
    /// again, but the sequence space it did not see is not a content gap and no analyzer gets data.
    case ended = 3

    /// Whether the connection's bytes no longer go to its analyzer (``active`` or ``ended``).
    @inlinable public var stopsInspection: Bool { rawValue >= ShuntState.active.rawValue }
}
