// SPDX-License-Identifier: Apache-2.0

/// Zeek's TCP endpoint states (`TCP_INACTIVE` ... `TCP_RESET` in init-bare.zeek, same numbers).
public enum TCPEndpointState: UInt8, Sendable {
    /// No packet seen from this side.
    case inactive = 0
    /// Sent a SYN.
    case synSent = 1
    /// Sent a SYN-ACK as the originator.
    case synAckSent = 2
    /// Seen mid-stream (no SYN).
    case partial = 3
    /// Handshake done.
    case established = 4
    /// Sent a FIN.
    case closed = 5
    /// Sent a RST.
    case reset = 6
}

/// `seq_delta` of TCP_Endpoint.h: the signed 32-bit distance `a - b`.
@inlinable
func seqDelta(_ a: UInt32, _ b: UInt32) -> Int32 { Int32(bitPattern: a &- b) }

/// `seq_between`: `seq` lies in `[low, high]` on the 32-bit circle.
@inlinable
func seqBetween(_ seq: UInt32, _ low: UInt32, _ high: UInt32) -> Bool {
    low <= high ? (seq >= low && seq <= high) : (seq >= low || seq <= high)
}

/// One side of a TCP connection: Zeek's `TCP_Endpoint` fields that conn.log depends on, plus a
/// bounded stand-in for `TCP_Reassembler`'s gap bookkeeping (no payload is buffered).
@frozen
public struct TCPEndpoint: Sendable {
    /// Current state.
    public var state: TCPEndpointState = .inactive
    /// State before the last change (`prev_state`).
    public var previousState: TCPEndpointState = .inactive
    @usableFromInline var startSeq: UInt32 = 0
    @usableFromInline var lastSeq: UInt32 = 0
    @usableFromInline var ackSeq: UInt32 = 0
    @usableFromInline var seqWraps: UInt32 = 0
    @usableFromInline var ackWraps: UInt32 = 0
    /// Whether this endpoint is currently the originator (flips swap it).
    @usableFromInline var isOrig: Bool
    @usableFromInline var finCount: UInt32 = 0
    @usableFromInline var rstCount: UInt32 = 0
    @usableFromInline var finSeq: UInt64 = 0
    /// `did_close`: ConnectionClosed ran for this side.
    public var didClose = false
    @usableFromInline var histLastSYN: UInt64 = 0
    @usableFromInline var histLastFIN: UInt64 = 0
    @usableFromInline var histLastRST: UInt64 = 0
    @usableFromInline var checksumCounter = ScaledHistoryCounter()
    @usableFromInline var gapCounter = ScaledHistoryCounter()
    @usableFromInline var retransmitCounter = ScaledHistoryCounter()
    @usableFromInline var zeroWindowCounter = ScaledHistoryCounter()
    // Reassembler stand-in (relative sequence space, starts at 1 as TCP_Reassembler does).
    @usableFromInline var lastReassembled: UInt64 = 1
    @usableFromInline var trimSeq: UInt64 = 1
    @usableFromInline var skipDeliveries = false
    @usableFromInline var holes = TCPBlockList()

    @inlinable
    init(isOrig: Bool) { self.isOrig = isOrig }

    @inlinable
    func fullSeq(_ seq: UInt32, _ wraps: UInt32) -> UInt64 { (UInt64(wraps) << 32) | UInt64(seq) }

    @inlinable
    func relative(_ seq: UInt32, _ wraps: UInt32) -> UInt64 { fullSeq(seq, wraps) &- UInt64(startSeq) }

    @inlinable
    mutating func updateLastSeq(_ seq: UInt32) {
        if seq < lastSeq { seqWraps &+= 1 }
        lastSeq = seq
    }

    @inlinable
    mutating func updateAckSeq(_ seq: UInt32) {
        if seq < ackSeq { ackWraps &+= 1 }
        ackSeq = seq
    }

    @inlinable
    mutating func initSequences(start: UInt32, last: UInt32) {
        startSeq = start
        ackSeq = start
        lastSeq = last
    }

    /// `NoDataAcked`: the peer never acked beyond our SYN.
    @inlinable
    var noDataAcked: Bool {
        let ack = fullSeq(ackSeq, ackWraps)
        return ack == UInt64(startSeq) || ack == UInt64(startSeq) &+ 1
    }

    /// `TCP_Endpoint::Size()`: payload bytes from sequence space (highest of last seq and ack,
    /// minus start, minus the SYN octet and the FIN octet when a FIN was seen). 0 for a
    /// SYN-then-RST side whose peer never spoke and whose data was acked.
    @inlinable
    func size(peerState: TCPEndpointState) -> UInt64 {
        if previousState == .synSent && state == .reset && peerState == .inactive && !noDataAcked { return 0 }
        let last = fullSeq(lastSeq, seqWraps)
        let ack = fullSeq(ackSeq, ackWraps)
        var size = (last > ack ? last : ack) &- UInt64(startSeq)
        if size != 0 { size -= 1 }
        if finCount > 0 && size != 0 { size -= 1 }
        return size
    }
}

/// A few disjoint byte ranges received above a hole (relative sequence numbers), the bounded
/// replacement for `TCP_Reassembler`'s block list. Ranges beyond ``capacity`` are not kept, so
/// their bytes are later reported missing if acked.
@frozen
public struct TCPBlockList: Sendable {
    /// Maximum ranges kept.
    public static let capacity = 4
    @usableFromInline var lower: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    @usableFromInline var upper: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    @usableFromInline var count = 0

    @inlinable init() {}

    @inlinable
    func range(_ i: Int) -> (UInt64, UInt64) {
        var l = lower, u = upper
        let lo = withUnsafeBytes(of: &l) { $0.load(fromByteOffset: i * 8, as: UInt64.self) }
        let up = withUnsafeBytes(of: &u) { $0.load(fromByteOffset: i * 8, as: UInt64.self) }
        return (lo, up)
    }

    @inlinable
    mutating func set(_ i: Int, _ lo: UInt64, _ up: UInt64) {
        withUnsafeMutableBytes(of: &lower) { $0.storeBytes(of: lo, toByteOffset: i * 8, as: UInt64.self) }
        withUnsafeMutableBytes(of: &upper) { $0.storeBytes(of: up, toByteOffset: i * 8, as: UInt64.self) }
    }

    /// Inserts `[lo, up)` keeping the list sorted and merged.
    @inlinable
    mutating func insert(_ lo: UInt64, _ up: UInt64) {
        var newLo = lo, newUp = up
        var keptLo: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var keptUp = keptLo
        var kept = 0
        var inserted = false
        var i = 0
        while i < count {
            let (l, u) = range(i)
            if u < newLo || l > newUp {
                if l > newUp && !inserted {
                    Self.put(&keptLo, &keptUp, &kept, newLo, newUp)
                    inserted = true
                }
                Self.put(&keptLo, &keptUp, &kept, l, u)
            } else {
                newLo = min(newLo, l)
                newUp = max(newUp, u)
            }
            i += 1
        }
        if !inserted { Self.put(&keptLo, &keptUp, &kept, newLo, newUp) }
        lower = keptLo
        upper = keptUp
        count = kept
    }

    @inlinable
    static func put(
        _ los: inout (UInt64, UInt64, UInt64, UInt64), _ ups: inout (UInt64, UInt64, UInt64, UInt64), _ n: inout Int,
        _ lo: UInt64, _ up: UInt64
    ) {
        guard n < capacity else { return }
        let k = n
        withUnsafeMutableBytes(of: &los) { $0.storeBytes(of: lo, toByteOffset: k * 8, as: UInt64.self) }
        withUnsafeMutableBytes(of: &ups) { $0.storeBytes(of: up, toByteOffset: k * 8, as: UInt64.self) }
        n += 1
    }

    /// Removes the first range.
    @inlinable
    mutating func removeFirst() {
        var i = 1
        while i < count {
            let (l, u) = range(i)
            set(i - 1, l, u)
            i += 1
        }
        count -= 1
    }
}
