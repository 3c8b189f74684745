// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// DNS over TCP framing (RFC 1035 §4.2.2, Zeek's `Contents_DNS`): each message is preceded by
/// its length as two bytes, and a message may arrive in any number of stream chunks.
///
/// A message that lies whole inside one delivered chunk (the usual case) is handed on where it
/// lies, without a copy. Only a message split across chunks is assembled, in one of a few
/// message buffers allocated once at start; when all are taken the message is skipped, counted
/// in `buffersExhausted`, and the stream resumes at the next length prefix.
///
/// State is per DNS analyzer slot and direction; the slot numbers are ``DNSAnalyzer``'s.
public final class DNSStreamFramer {
    /// Largest DNS message: the length prefix is 16 bits.
    public static let bufferSize = 65_535
    /// Message buffers for split messages: enough for every DNS-over-TCP connection a sensor
    /// sees at once in practice (zone transfers and large replies), 4 MiB in all.
    public static let defaultBufferCount = 64

    @usableFromInline
    struct Direction {
        /// Bytes of the length prefix read so far (0, 1 or 2).
        var prefixBytes: UInt8 = 0
        /// The message length being collected (valid once `prefixBytes == 2`).
        var expected: Int32 = 0
        /// Bytes of the message collected in `buffer` (or skipped when `buffer < 0`).
        var have: Int32 = 0
        /// Index of the message buffer, or `noBuffer` / `skipping`.
        var buffer: Int32 = DNSStreamFramer.noBuffer
    }

    /// `Direction.buffer` when no message is being assembled.
    @usableFromInline static let noBuffer: Int32 = -1
    /// `Direction.buffer` while the bytes of a message are being dropped.
    @usableFromInline static let skipping: Int32 = -2

    let capacity: Int
    let directions: UnsafeMutablePointer<Direction>
    let buffers: UnsafeMutableRawPointer
    let freeBuffers: UnsafeMutablePointer<Int32>
    var freeBufferCount: Int
    /// Split messages skipped because every buffer was in use.
    public private(set) var buffersExhausted = Counter("analyzers.dns.tcp_buffers_exhausted")

    /// - Parameters:
    ///   - capacity: the DNS analyzer's pool capacity (slots are 1-based up to it).
    ///   - bufferCount: message buffers for split messages.
    public init(capacity: Int, bufferCount: Int = DNSStreamFramer.defaultBufferCount) {
        precondition(capacity >= 1 && bufferCount >= 1, "DNS stream framer sizes out of range")
        self.capacity = capacity
        directions = .allocate(capacity: 2 * capacity)
        directions.initialize(repeating: Direction(), count: 2 * capacity)
        buffers = .allocate(byteCount: bufferCount * Self.bufferSize, alignment: 16)
        freeBuffers = .allocate(capacity: bufferCount)
        for i in 0..<bufferCount { freeBuffers[i] = Int32(i) }
        freeBufferCount = bufferCount
    }

    deinit {
        directions.deallocate()
        buffers.deallocate()
        freeBuffers.deallocate()
    }

    @inline(__always)
    func index(_ slot: UInt32, _ isOriginator: Bool) -> Int { (Int(slot) - 1) * 2 + (isOriginator ? 0 : 1) }

    /// Forgets both directions of `slot` (a new connection takes it, or the old one ends),
    /// returning any buffer it held.
    public func reset(_ slot: UInt32) {
        for i in index(slot, true)...index(slot, false) {
            if directions[i].buffer >= 0 { release(&directions[i]) }
            directions[i] = Direction()
        }
    }

    func release(_ d: inout Direction) {
        freeBuffers[freeBufferCount] = d.buffer
        freeBufferCount += 1
        d.buffer = Self.noBuffer
    }

    /// Feeds one chunk of one direction's stream; `message` is called with each complete message,
    /// borrowed for the call.
    public func deliver(
        _ slot: UInt32, data: UnsafeRawBufferPointer, isOriginator: Bool,
        message: (UnsafeRawBufferPointer) -> Void
    ) {
        let i = index(slot, isOriginator)
        var offset = 0
        while offset < data.count {
            if directions[i].prefixBytes < 2 {
                directions[i].expected = directions[i].expected << 8 | Int32(data[offset])
                directions[i].prefixBytes += 1
                offset += 1
                if directions[i].prefixBytes == 2 && directions[i].expected == 0 { directions[i] = Direction() }
                continue
            }
            let expected = Int(directions[i].expected), have = Int(directions[i].have)
            let available = data.count - offset
            if have == 0 && directions[i].buffer == Self.noBuffer && available >= expected {
                message(UnsafeRawBufferPointer(rebasing: data[offset..<(offset + expected)]))
                offset += expected
                directions[i] = Direction()
                continue
            }
            if have == 0 && directions[i].buffer == Self.noBuffer {
                if freeBufferCount > 0 {
                    freeBufferCount -= 1
                    directions[i].buffer = freeBuffers[freeBufferCount]
                } else {
                    buffersExhausted.increment()
                    directions[i].buffer = Self.skipping
                }
            }
            let take = min(available, expected - have)
            if directions[i].buffer >= 0 {
                let base = buffers + Int(directions[i].buffer) * Self.bufferSize
                // `offset < data.count`, so the buffer is not empty and has a base address.
                (base + have).copyMemory(from: data.baseAddress.unsafelyUnwrapped + offset, byteCount: take)
            }
            offset += take
            directions[i].have += Int32(take)
            if Int(directions[i].have) == expected {
                if directions[i].buffer >= 0 {
                    let base = buffers + Int(directions[i].buffer) * Self.bufferSize
                    message(UnsafeRawBufferPointer(start: base, count: expected))
                    release(&directions[i])
                }
                directions[i] = Direction()
            }
        }
    }

    /// A content gap in one direction: the message being collected is lost and the framing
    /// cannot be trusted any more, so the direction stops until the connection ends (Zeek's
    /// `Contents_DNS` likewise abandons its buffer on a gap).
    public func gap(_ slot: UInt32, isOriginator: Bool) {
        let i = index(slot, isOriginator)
        if directions[i].buffer >= 0 { release(&directions[i]) }
        directions[i] = Direction()
        directions[i].prefixBytes = 2
        directions[i].expected = Int32.max
        directions[i].buffer = Self.skipping
    }
}
