// SPDX-License-Identifier: Apache-2.0

/// Zeek's PIA for TCP (`analyzer/protocol/pia/PIA.cc`, `PIA_TCP`) for one worker: a TCP
/// connection no analyzer took by port gets a probe that buffers the first reassembled bytes of
/// both directions, matches ``ContentProbe/signatures`` against them, and when a signature
/// enables an analyzer, hands back the buffered bytes in arrival order so the new analyzer sees
/// the connection from its start.
///
/// Limits (Zeek's defaults in `init-bare.zeek`):
/// - ``bufferSize`` (`dpd_buffer_size`, 1024) bytes are kept per connection, both directions
///   together. The chunk that would pass it is still matched (Zeek matches before it stops), but
///   if it enables nothing the probe gives up (`dpd_match_only_beginning`).
/// - ``maxChunks`` chunks are kept; a stream cut into more pieces than that ends probing too.
/// - A content gap ends probing (Zeek's `PIA_TCP::Undelivered` stops buffering).
/// - The pool holds `capacity` probes; a connection that finds it full goes unprobed and is
///   counted (`dpd.pool_full`).
public final class ProtocolDetector {
    /// Zeek's `dpd_buffer_size`.
    public static let bufferSize = 1024
    /// Chunks kept per connection (each reassembled delivery is one).
    public static let maxChunks = 64

    /// What a delivery decided.
    public enum Verdict: Sendable, Equatable {
        /// Keep probing.
        case undecided
        /// No signature can match any more (or the buffer ran out): stop probing.
        case exhausted
        /// Start this analyzer, replay the buffer into it (``replay(_:_:)``), then the bytes just
        /// delivered (they are not in the buffer).
        case activate(AnalyzerKind)
    }

    public let capacity: Int
    /// Connections that found the pool full (`dpd.pool_full`).
    public private(set) var full: UInt64 = 0
    /// Analyzers started by content (`dpd.activations`).
    public private(set) var activations: UInt64 = 0
    /// Probes that ended with no match (`dpd.exhausted`).
    public private(set) var exhausted: UInt64 = 0
    public private(set) var inUse = 0

    struct Chunk {
        var length: UInt16
        var isOriginator: Bool
    }

    struct State {
        var used: Int = 0
        var chunkCount: Int = 0
        /// Signature bits that matched, and that can no longer match, per direction
        /// (index 0 originator, 1 responder).
        var matched: (UInt64, UInt64) = (0, 0)
        var failed: (UInt64, UInt64) = (0, 0)
    }

    let bytes: UnsafeMutablePointer<UInt8>
    let chunks: UnsafeMutablePointer<Chunk>
    var states: [State]
    var freeSlots: [UInt32]
    /// One direction's bytes gathered for matching (the buffer interleaves directions).
    let scratch: UnsafeMutableRawPointer
    static let scratchSize = 2 * bufferSize

    /// Allocates the pool: `bufferSize` bytes and `maxChunks` chunk records per probe.
    public init(capacity: Int) {
        precondition(capacity >= 1 && capacity < Int(UInt32.max), "DPD probe pool capacity out of range")
        precondition(ContentProbe.signatures.count <= 64, "signature masks are 64 bits")
        self.capacity = capacity
        bytes = .allocate(capacity: capacity * Self.bufferSize)
        chunks = .allocate(capacity: capacity * Self.maxChunks)
        states = Array(repeating: State(), count: capacity)
        freeSlots = (0..<capacity).map { UInt32(capacity - $0) }
        scratch = .allocate(byteCount: Self.scratchSize, alignment: 1)
    }

    deinit {
        bytes.deallocate()
        chunks.deallocate()
        scratch.deallocate()
    }

    /// Takes a probe for a new connection.
    /// - Returns: the 1-based slot, or `nil` (counted) when the pool is full.
    public func attach() -> UInt32? {
        guard let slot = freeSlots.popLast() else {
            full &+= 1
            return nil
        }
        states[Int(slot) - 1] = State()
        inUse += 1
        return slot
    }

    /// Returns `slot` to the pool.
    public func detach(_ slot: UInt32) {
        freeSlots.append(slot)
        inUse -= 1
    }

    /// Matches the next in-order bytes of one direction and buffers them.
    public func deliver(_ slot: UInt32, data: UnsafeRawBufferPointer, isOriginator: Bool) -> Verdict {
        guard !data.isEmpty else { return .undecided }
        let i = Int(slot) - 1
        let side = isOriginator ? 0 : 1
        var s = states[i]
        let stores = s.used + data.count <= Self.bufferSize && s.chunkCount < Self.maxChunks
        // The direction's bytes from its start, this chunk included, up to the buffer's size.
        var n = 0
        let base = bytes + i * Self.bufferSize
        var offset = 0
        for k in 0..<s.chunkCount {
            let c = chunks[i * Self.maxChunks + k]
            if c.isOriginator == isOriginator {
                (scratch + n).copyMemory(from: base + offset, byteCount: Int(c.length))
                n += Int(c.length)
            }
            offset += Int(c.length)
        }
        // `data` is not empty, so it has a base address.
        let source = data.baseAddress!
        let take = min(data.count, Self.scratchSize - n)
        (scratch + n).copyMemory(from: source, byteCount: take)
        n += take
        let view = UnsafeRawBufferPointer(start: scratch, count: n)
        var matched = side == 0 ? s.matched.0 : s.matched.1
        var failed = side == 0 ? s.failed.0 : s.failed.1
        for (k, sig) in ContentProbe.signatures.enumerated() where (matched | failed) & (1 << k) == 0 {
            if sig.originator != isOriginator {
                failed |= 1 << k
                continue
            }
            switch ContentProbe.match(sig, view) {
            case .match: matched |= 1 << k
            case .noMatch: failed |= 1 << k
            case .needMore: break
            }
        }
        if side == 0 { (s.matched.0, s.failed.0) = (matched, failed) } else { (s.matched.1, s.failed.1) = (matched, failed) }
        var possible = false
        for (k, sig) in ContentProbe.signatures.enumerated() {
            guard let kind = sig.enables else { continue }
            let own = sig.originator ? 0 : 1
            let ownMatched = (own == 0 ? s.matched.0 : s.matched.1) & (1 << k) != 0
            let ownFailed = (own == 0 ? s.failed.0 : s.failed.1) & (1 << k) != 0
            var reverseMatched = true, reverseFailed = false
            if let r = sig.requiresReverse {
                reverseMatched = (own == 0 ? s.matched.1 : s.matched.0) & (1 << r) != 0
                reverseFailed = (own == 0 ? s.failed.1 : s.failed.0) & (1 << r) != 0
            }
            if ownMatched && reverseMatched {
                states[i] = s
                activations &+= 1
                return .activate(kind)
            }
            if !ownFailed && !reverseFailed { possible = true }
        }
        guard possible && stores else {
            states[i] = s
            exhausted &+= 1
            return .exhausted
        }
        UnsafeMutableRawPointer(base + s.used).copyMemory(from: source, byteCount: data.count)
        chunks[i * Self.maxChunks + s.chunkCount] = Chunk(length: UInt16(data.count), isOriginator: isOriginator)
        s.used += data.count
        s.chunkCount += 1
        states[i] = s
        return .undecided
    }

    /// Hands the buffered chunks to `body` in the order they arrived.
    public func replay(_ slot: UInt32, _ body: (UnsafeRawBufferPointer, Bool) -> Void) {
        let i = Int(slot) - 1
        let base = UnsafeRawPointer(bytes + i * Self.bufferSize)
        var offset = 0
        for k in 0..<states[i].chunkCount {
            let c = chunks[i * Self.maxChunks + k]
            body(UnsafeRawBufferPointer(start: base + offset, count: Int(c.length)), c.isOriginator)
            offset += Int(c.length)
        }
    }

    /// A content gap ended a probe (counted as exhausted; the caller detaches it).
    public func noteGap() {
        exhausted &+= 1
    }
}
