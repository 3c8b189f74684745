// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// A fixed-capacity inline queue of weirds raised while processing one packet (no allocation).
///
/// Zeek raises each weird through `Connection::Weird`; the engine drains this queue after the
/// call and applies weird.log's rate limiting. Holds ``capacity`` entries; more are counted in
/// ``dropped``.
@frozen
public struct WeirdQueue: Sendable {
    /// Maximum weirds kept per packet.
    public static let capacity = 6
    @usableFromInline var storage: (Weird, Weird, Weird, Weird, Weird, Weird)
    /// Number of weirds queued.
    public var count: Int
    /// Weirds that did not fit.
    public var dropped: Int

    /// An empty queue.
    @inlinable
    public init() {
        let empty = Weird("", source: "")
        storage = (empty, empty, empty, empty, empty, empty)
        count = 0
        dropped = 0
    }

    /// Queues `weird` (`Connection::Weird`).
    @inlinable
    public mutating func append(_ weird: Weird) {
        guard count < Self.capacity else { dropped += 1; return }
        let i = count
        withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: Weird.self, capacity: Self.capacity) { $0[i] = weird }
        }
        count += 1
    }

    /// The weird at `index` in raising order.
    @inlinable
    public subscript(index: Int) -> Weird {
        precondition(index >= 0 && index < count)
        var copy = storage
        return withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: Weird.self, capacity: Self.capacity) { $0[index] }
        }
    }

    /// True when the queue holds a weird named `name` (tests and the engine's dedup).
    public func contains(_ name: String) -> Bool {
        (0..<count).contains { self[$0].nameString == name }
    }

    /// Empties the queue.
    @inlinable
    public mutating func removeAll() { count = 0; dropped = 0 }
}

/// Zeek's `conn_state()` of base/protocols/conn/main.zeek.
public enum ConnectionState {
    /// The conn_state string for a TCP connection from both endpoint states, their `size`s and the
    /// history (only the `RSTOS0` test reads it: `/\^?S[^HAFGIQ]*R.*/`, anchored).
    public static func tcp(
        orig os: TCPEndpointState, resp rs: TCPEndpointState, origSize: UInt64, respSize: UInt64,
        history: ConnectionHistory
    ) -> StaticString {
        let oInactive = os == .inactive || os == .partial
        let rInactive = rs == .inactive || rs == .partial
        if rs == .reset {
            if os == .synSent || os == .synAckSent || (os == .reset && origSize == 0 && respSize == 0) { return "REJ" }
            return oInactive ? "RSTRH" : "RSTR"
        }
        if os == .reset {
            if rInactive { return matchesRSTOS0(history) ? "RSTOS0" : "OTH" }
            return "RSTO"
        }
        if rs == .closed && os == .closed { return "SF" }
        if os == .closed { return rInactive ? "SH" : "S2" }
        if rs == .closed { return oInactive ? "SHR" : "S3" }
        if os == .synSent && rs == .inactive { return "S0" }
        if os == .established && rs == .established { return "S1" }
        return "OTH"
    }

    /// conn_state for UDP: `SF` both sides active, `S0` originator only, `SHR` responder only,
    /// `OTH` neither (`UDP_ACTIVE` = sent something, UDPSessionAdapter::UpdateEndpointVal).
    public static func udp(originatorActive: Bool, responderActive: Bool) -> StaticString {
        if originatorActive { return responderActive ? "SF" : "S0" }
        return responderActive ? "SHR" : "OTH"
    }

    /// Every other transport (ICMP, unknown IP protocols) is `OTH`.
    public static let other: StaticString = "OTH"

    /// `/\^?S[^HAFGIQ]*R.*/ == c$history` (Zeek patterns compared with `==` match the whole string).
    static func matchesRSTOS0(_ h: ConnectionHistory) -> Bool {
        var i = 0
        if h.length > 0 && h[0] == UInt8(ascii: "^") { i = 1 }
        guard i < h.length, h[i] == UInt8(ascii: "S") else { return false }
        i += 1
        while i < h.length {
            let c = h[i]
            if c == UInt8(ascii: "R") { return true }
            switch c {
            case UInt8(ascii: "H"), UInt8(ascii: "A"), UInt8(ascii: "F"), UInt8(ascii: "G"), UInt8(ascii: "I"),
                UInt8(ascii: "Q"):
                return false
            default: i += 1
            }
        }
        return false
    }
}

/// Zeek's UDP session state (UDPSessionAdapter + UDPAnalyzer::DeliverPacket): which sides sent,
/// the `D`/`d` letters, the `C`/`c` bad-checksum letters and the payload byte counts.
@frozen
public struct UDPSessionState: Sendable {
    /// `request_len`: originator payload bytes (UDP length field minus 8), `-1` while inactive.
    public var requestLength: Int64
    /// `reply_len`: responder payload bytes, `-1` while inactive.
    public var replyLength: Int64
    @usableFromInline var originatorChecksum = ScaledHistoryCounter()
    @usableFromInline var responderChecksum = ScaledHistoryCounter()

    /// Fresh state: both sides inactive.
    @inlinable
    public init() { requestLength = -1; replyLength = -1 }

    /// Processes one datagram. `udpLength` is the UDP header's length field (Zeek counts
    /// `uh_ulen - 8`). A bad checksum only adds `C`/`c` (scaled) and `bad_UDP_checksum`, and the
    /// packet does not update `last_time`. Returns whether the packet updates the connection's
    /// last time (duration). `isOriginator` is relative to the *current* roles.
    @inlinable
    @discardableResult
    public mutating func process(
        isOriginator: Bool, udpLength: Int, checksumValid: Bool, history: inout ConnectionHistory,
        weirds: inout WeirdQueue
    ) -> Bool {
        if !checksumValid {
            weirds.append(.badUDPChecksum)
            if isOriginator {
                history.addScaled(UInt8(ascii: "C"), isOriginator: true, counter: &originatorChecksum)
            } else {
                history.addScaled(UInt8(ascii: "C"), isOriginator: false, counter: &responderChecksum)
            }
            return false
        }
        let payload = Int64(udpLength) - 8
        history.checkOnce(UInt8(ascii: "D"), mask: .data, isOriginator: isOriginator)
        if isOriginator {
            requestLength = requestLength < 0 ? payload : requestLength &+ payload
        } else {
            replyLength = replyLength < 0 ? payload : replyLength &+ payload
        }
        return true
    }

    /// An application analyzer flipped the roles (DNS, NTP, ... call `Connection::FlipRoles`):
    /// Zeek appends `^` and swaps nothing in the UDP adapter (lengths and seen bits stay, hence
    /// `D^` with `orig_bytes` 96 in ntp-misordered).
    @inlinable
    public mutating func flipRoles(history: inout ConnectionHistory) { history.flip() }

    /// Originator sent something (`UDP_ACTIVE`).
    @inlinable public var originatorActive: Bool { requestLength >= 0 }
    /// Responder sent something.
    @inlinable public var responderActive: Bool { replyLength >= 0 }
    /// conn.log `orig_bytes`.
    @inlinable public var originatorBytes: UInt64 { requestLength < 0 ? 0 : UInt64(requestLength) }
    /// conn.log `resp_bytes`.
    @inlinable public var responderBytes: UInt64 { replyLength < 0 ? 0 : UInt64(replyLength) }
    /// conn_state for this UDP connection.
    public var connState: StaticString { ConnectionState.udp(originatorActive: originatorActive, responderActive: responderActive) }
}
