// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// What `FragmentReassembler.add` did with a fragment.
@frozen
public enum FragmentResult {
    /// Stored; the datagram is not complete yet.
    case incomplete
    /// The datagram is complete: the whole IP packet (header + payload), valid until the next `add`.
    case complete(UnsafeRawBufferPointer)
    /// Not stored (or its datagram abandoned); the weird, if any, says why.
    case dropped(Weird?)
}

/// IPv4 and IPv6 fragment reassembly for one worker, after Zeek's `FragReassembler` (`src/Frag.cc`)
/// with all memory allocated once at init.
///
/// Datagrams are keyed by (version, source, destination, identification). Each of `slotCount`
/// slots owns `byteBudget / slotCount` payload bytes (at most 65,535 + 8), a header area and a
/// coverage bitmap; a fragment reaching past its slot's bytes abandons the datagram. Overlaps keep
/// the bytes that came first, as Zeek's reassembler does, raising `fragment_inconsistency` when the
/// new bytes differ and `fragment_overlap` when they agree. A slot older than `timeout` (measured on
/// network time from its first fragment) is freed (`timeouts`); when all slots are busy the oldest
/// is evicted (`evictions`).
///
/// The completed packet carries the header of the first fragment that arrived with its length
/// fields corrected; IPv4's fragment offset and MF bit are cleared and its header checksum
/// recomputed, IPv6's Fragment header is removed and the preceding Next Header points at the
/// fragmented protocol, so `IPDecoder` decodes it as an ordinary packet.
///
/// Weirds that do not stop reassembly (`fragment_with_DF`, `fragment_overlap`, ...) are collected
/// per call: read `weirdCount` and `weird(at:)` after each `add`.
public final class FragmentReassembler {
    /// Default number of datagrams reassembled at once.
    public static let defaultSlotCount = 64
    /// Default payload memory for all slots: 64 full-size datagrams (4 MiB).
    public static let defaultByteBudget = 64 * 65_536
    /// Default lifetime of an incomplete datagram. Zeek's `frag_timeout` defaults to 0 ("forever"),
    /// which a fixed budget cannot honour; 5 minutes is Zeek's earlier default and outlives any
    /// real reassembly, while eviction of the oldest slot bounds the state in between.
    public static let defaultTimeout = Interval.seconds(300)
    /// Most bytes of IP header kept per datagram (IPv4: 60; IPv6: 40 + unfragmentable extension headers).
    public static let maxHeaderBytes = 512
    /// Most weirds reported by one `add`.
    public static let maxWeirdsPerAdd = 8
    /// Zeek's `MIN_ACCEPTABLE_FRAG_SIZE`: smaller non-last fragments raise `excessively_small_fragment`.
    public static let minAcceptableFragmentSize = 64
    /// Zeek's `MAX_ACCEPTABLE_FRAG_SIZE`: fragments reaching beyond raise `excessively_large_fragment`.
    public static let maxAcceptableFragmentSize = 64_000

    @usableFromInline
    struct Slot {
        @usableFromInline var inUse = false
        @usableFromInline var version: UInt8 = 0
        @usableFromInline var source = IPAddress.zero
        @usableFromInline var destination = IPAddress.zero
        @usableFromInline var identification: UInt32 = 0
        @usableFromInline var firstSeen = Timestamp.zero
        @usableFromInline var headerLength = 0
        /// IPv4 protocol / IPv6 next header after the Fragment header (taken from offset 0).
        @usableFromInline var nextProtocol: UInt8 = 0
        /// Payload size implied by the last fragment; 0 while unknown.
        @usableFromInline var fragmentSize = 0
        /// Highest byte end stored.
        @usableFromInline var maxUpper = 0

        @usableFromInline init() {}
    }

    /// Number of slots.
    public let slotCount: Int
    /// Payload bytes per slot.
    public let slotCapacity: Int
    /// Lifetime of an incomplete datagram.
    public let timeout: Interval
    /// Slots holding an incomplete datagram now.
    public private(set) var slotsInUse = 0
    /// Datagrams abandoned because every slot was busy.
    public private(set) var evictions: UInt64 = 0
    /// Datagrams abandoned because they outlived `timeout`.
    public private(set) var timeouts: UInt64 = 0
    /// Weirds raised by the last `add`.
    public private(set) var weirdCount = 0

    private let slots: UnsafeMutablePointer<Slot>
    private let payload: UnsafeMutableRawPointer
    private let headers: UnsafeMutableRawPointer
    private let bitmapWords: Int
    private let bitmaps: UnsafeMutablePointer<UInt64>
    private let output: UnsafeMutableRawPointer
    private let weirds: UnsafeMutablePointer<Weird>

    /// Allocates every buffer the reassembler will use.
    /// - Parameters:
    ///   - slotCount: datagrams reassembled at once (at least 1).
    ///   - byteBudget: payload bytes shared equally by the slots (each gets at most 65,543).
    ///   - timeout: lifetime of an incomplete datagram, in network time.
    public init(
        slotCount: Int = FragmentReassembler.defaultSlotCount,
        byteBudget: Int = FragmentReassembler.defaultByteBudget,
        timeout: Interval = FragmentReassembler.defaultTimeout
    ) {
        self.slotCount = max(1, slotCount)
        self.slotCapacity = max(8, min(65_535 + 8, byteBudget / self.slotCount))
        self.timeout = timeout
        bitmapWords = (slotCapacity + 63) / 64
        slots = .allocate(capacity: self.slotCount)
        slots.initialize(repeating: Slot(), count: self.slotCount)
        payload = .allocate(byteCount: self.slotCount * slotCapacity, alignment: 8)
        headers = .allocate(byteCount: self.slotCount * Self.maxHeaderBytes, alignment: 8)
        bitmaps = .allocate(capacity: self.slotCount * bitmapWords)
        bitmaps.initialize(repeating: 0, count: self.slotCount * bitmapWords)
        output = .allocate(byteCount: Self.maxHeaderBytes + slotCapacity, alignment: 8)
        weirds = .allocate(capacity: Self.maxWeirdsPerAdd)
    }

    deinit {
        slots.deinitialize(count: slotCount)
        slots.deallocate()
        payload.deallocate()
        headers.deallocate()
        bitmaps.deallocate()
        output.deallocate()
        weirds.deallocate()
    }

    /// The `index`th weird raised by the last `add` (`index < weirdCount`).
    public func weird(at index: Int) -> Weird {
        precondition(index >= 0 && index < weirdCount, "weird index out of range")
        return weirds[index]
    }

    private func raise(_ w: Weird) {
        guard weirdCount < Self.maxWeirdsPerAdd else { return }
        weirds[weirdCount] = w
        weirdCount += 1
    }

    private func free(_ index: Int) {
        guard slots[index].inUse else { return }
        slots[index].inUse = false
        slotsInUse -= 1
    }

    /// Frees every slot whose datagram is older than `timeout` at `now`.
    public func expire(now: Timestamp) {
        for i in 0..<slotCount where slots[i].inUse && slots[i].firstSeen.adding(timeout) < now {
            free(i)
            timeouts += 1
        }
    }

    /// Adds the fragment `ip` (decoded by `IPDecoder` from `frame`, `isFragment` true) seen at `timestamp`.
    public func add(frame: UnsafeRawBufferPointer, ip: IPLayer, timestamp: Timestamp) -> FragmentResult {
        weirdCount = 0
        expire(now: timestamp)
        guard ip.isFragment, ip.payloadLength >= 0,
            ip.headerOffset >= 0, ip.payloadOffset &+ ip.payloadLength <= frame.count
        else {
            return .dropped(nil)
        }
        guard ip.capturedPayloadLength == ip.payloadLength else { return .dropped(.incompletelyCapturedFragment) }
        // The header kept for the datagram: IPv6 without its Fragment header (the walk ends there).
        let keptHeader = ip.version == 4 ? ip.headerLength : ip.headerLength &- 8
        guard keptHeader >= (ip.version == 4 ? 20 : 40), keptHeader <= Self.maxHeaderBytes,
            ip.headerOffset &+ keptHeader <= frame.count
        else { return .dropped(nil) }

        // Find the datagram's slot, or start one (evicting the oldest when all are busy).
        var index = -1
        var freeIndex = -1
        var oldest = -1
        for i in 0..<slotCount {
            let s = slots[i]
            if !s.inUse {
                if freeIndex < 0 { freeIndex = i }
                continue
            }
            if s.identification == ip.identification && s.version == ip.version && s.source == ip.source
                && s.destination == ip.destination
            {
                index = i
                break
            }
            if oldest < 0 || s.firstSeen < slots[oldest].firstSeen { oldest = i }
        }
        if index < 0 {
            if freeIndex < 0 {
                freeIndex = oldest
                free(oldest)
                evictions += 1
            }
            index = freeIndex
            var s = Slot()
            s.inUse = true
            s.version = ip.version
            s.source = ip.source
            s.destination = ip.destination
            s.identification = ip.identification
            s.firstSeen = timestamp
            s.headerLength = keptHeader
            s.nextProtocol = ip.transportProtocol
            slots[index] = s
            slotsInUse += 1
            (headers + index * Self.maxHeaderBytes).copyMemory(
                from: frame.baseAddress! + ip.headerOffset, byteCount: keptHeader)  // safe: the guard above proved frame.count >= 20
            bitmaps.advanced(by: index * bitmapWords).update(repeating: 0, count: bitmapWords)
        } else if slots[index].nextProtocol != ip.transportProtocol || slots[index].headerLength != keptHeader {
            raise(.fragmentProtocolInconsistency)
        }

        if ip.dontFragment { raise(.fragmentWithDF) }
        let offset = ip.fragmentOffset
        let length = ip.payloadLength
        let upper = offset + length
        if offset == 0 { slots[index].nextProtocol = ip.transportProtocol }
        if !ip.moreFragments {
            if slots[index].fragmentSize == 0 {
                slots[index].fragmentSize = upper
            } else if upper != slots[index].fragmentSize {
                raise(.fragmentSizeInconsistency)
                if upper > slots[index].fragmentSize { slots[index].fragmentSize = upper }
            }
        } else if ip.totalLength < Self.minAcceptableFragmentSize {
            raise(.excessivelySmallFragment)
        }
        if upper > Self.maxAcceptableFragmentSize { raise(.excessivelyLargeFragment) }
        if slots[index].fragmentSize != 0 && upper > slots[index].fragmentSize {
            raise(.fragmentSizeInconsistency)
            slots[index].fragmentSize = upper
        }
        guard upper <= slotCapacity else {
            free(index)
            return .dropped(.excessivelyLargeFragment)
        }

        store(frame: frame, from: ip.payloadOffset, offset: offset, length: length, slot: index)
        if upper > slots[index].maxUpper { slots[index].maxUpper = upper }
        return completion(slot: index)
    }

    /// Copies the bytes not yet covered; overlapping bytes keep their first value.
    private func store(frame: UnsafeRawBufferPointer, from start: Int, offset: Int, length: Int, slot: Int) {
        let data = payload + slot * slotCapacity
        let bits = bitmaps + slot * bitmapWords
        var overlap = false
        var differs = false
        var i = 0
        while i < length {
            let at = offset + i
            let word = at >> 6
            let bit = UInt64(1) << UInt64(at & 63)
            let byte = frame[start + i]
            if bits[word] & bit != 0 {
                overlap = true
                if data.load(fromByteOffset: at, as: UInt8.self) != byte { differs = true }
            } else {
                data.storeBytes(of: byte, toByteOffset: at, as: UInt8.self)
                bits[word] |= bit
            }
            i += 1
        }
        if differs {
            raise(.fragmentInconsistency)
        } else if overlap {
            raise(.fragmentOverlap)
        }
    }

    /// Bytes covered contiguously from 0.
    private func contiguousPrefix(slot: Int) -> Int {
        let bits = bitmaps + slot * bitmapWords
        var w = 0
        while w < bitmapWords {
            let v = bits[w]
            if v != UInt64.max { return w * 64 + (~v).trailingZeroBitCount }
            w += 1
        }
        return bitmapWords * 64
    }

    /// Zeek's `BlockInserted`: completes the datagram when everything up to its size is there.
    private func completion(slot index: Int) -> FragmentResult {
        var s = slots[index]
        guard s.fragmentSize != 0 else { return .incomplete }
        let prefix = min(contiguousPrefix(slot: index), s.maxUpper)
        guard prefix >= s.fragmentSize else { return .incomplete }
        if s.maxUpper > prefix || prefix > s.fragmentSize {
            // Contiguous through the expected end with more beyond (a hole above it), or data past
            // the last fragment's end: Zeek analyses the contiguous part.
            raise(.fragmentSizeInconsistency)
            s.fragmentSize = prefix
        }
        let size = s.fragmentSize
        let h = s.headerLength
        output.copyMemory(from: headers + index * Self.maxHeaderBytes, byteCount: h)
        (output + h).copyMemory(from: payload + index * slotCapacity, byteCount: size)
        let total = h + size
        if s.version == 4 {
            storeBE16(UInt16(truncatingIfNeeded: total), at: 2)
            let keepDF = output.load(fromByteOffset: 6, as: UInt8.self) & 0x40
            output.storeBytes(of: keepDF, toByteOffset: 6, as: UInt8.self)
            output.storeBytes(of: 0, toByteOffset: 7, as: UInt8.self)
            output.storeBytes(of: s.nextProtocol, toByteOffset: 9, as: UInt8.self)
            storeBE16(0, at: 10)
            let sum = InternetChecksum.fold(
                InternetChecksum.add(UnsafeRawBufferPointer(start: output, count: h), offset: 0, count: h, to: 0))
            storeBE16(~sum, at: 10)
        } else {
            storeBE16(UInt16(truncatingIfNeeded: total - 40), at: 4)
            // Point the Next Header that named the Fragment header at the fragmented protocol.
            var field = 6
            var at = 40
            while at + 2 <= h {
                let extLength: Int
                switch output.load(fromByteOffset: field, as: UInt8.self) {
                case 51: extLength = (Int(output.load(fromByteOffset: at + 1, as: UInt8.self)) + 2) * 4
                default: extLength = (Int(output.load(fromByteOffset: at + 1, as: UInt8.self)) + 1) * 8
                }
                field = at
                at += extLength
            }
            output.storeBytes(of: s.nextProtocol, toByteOffset: field, as: UInt8.self)
        }
        free(index)
        return .complete(UnsafeRawBufferPointer(start: output, count: total))
    }

    private func storeBE16(_ v: UInt16, at offset: Int) {
        output.storeBytes(of: UInt8(v >> 8), toByteOffset: offset, as: UInt8.self)
        output.storeBytes(of: UInt8(v & 0xFF), toByteOffset: offset + 1, as: UInt8.self)
    }
}
