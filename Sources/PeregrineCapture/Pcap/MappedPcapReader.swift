// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Reads the frames of a classic pcap or a pcapng file from its bytes in memory, without copying.
///
/// It gives the frames libpcap 1.10 gives for the same file (checked on every corpus trace by
/// `MappedPcapReaderTests`): the same bytes, captured and wire lengths and nanosecond timestamps,
/// with libpcap's rules for odd files: a classic record longer than the file's snapshot length is
/// cut to it, versions before 2.3 have captured and wire lengths swapped, a Simple Packet Block is
/// captured up to the snapshot length with time 0. Unlike libpcap it reads pcapng files whose
/// interfaces have different link types (each frame carries its interface's; the caller decides
/// which it can decode) or whose sections have different byte orders.
///
/// Every read is bounds-checked against the image. Damage (a cut record, a block whose length does
/// not fit) stops reading with `.failure(reason)` after every frame before it was delivered.
struct MappedPcapReader {
    /// The file's layout, found from its first four bytes.
    enum Format {
        case pcap
        case pcapng
    }

    /// What `next()` found.
    enum Next {
        case frame(CapturedFrame)
        case end
        case failure(String)
    }

    /// One pcapng interface (Interface Description Block).
    struct Interface {
        var linkType: UInt32
        /// The snapshot length, 0 in the file meaning "no limit" (libpcap's largest, 262144).
        var snapshotLength: UInt32
        /// Timestamp units per second (`if_tsresol`; 10^6 by default).
        var unitsPerSecond: UInt64
        /// Seconds added to every timestamp (`if_tsoffset`).
        var offsetSeconds: Int64
    }

    /// The largest captured length libpcap accepts (`MAXIMUM_SNAPLEN`), and the snapshot length it
    /// uses when a file gives 0 or more.
    static let maximumSnapshotLength: UInt32 = 262_144

    private let base: UnsafeRawPointer
    private let size: Int
    let format: Format
    /// Offset of the next record or block.
    private(set) var offset: Int
    /// Multi-byte fields are in the other byte order (per section for pcapng).
    private var swapped = false

    // Classic pcap.
    private var classicLinkType: UInt32 = 0
    private var classicSnapshotLength: UInt32 = 0
    private var nanosecondResolution = false
    /// Record header size: 16, or 24 for Alexey Kuznetzov's patched format (magic 0xa1b2cd34).
    private var recordHeaderSize = 16
    private var lengthsSwapped = LengthsSwapped.no

    /// pcap format 2.3 and before wrote captured and wire lengths in the other order (libpcap's
    /// `lengths_swapped`): before 2.3 always, in 2.3 when the captured length is the larger.
    private enum LengthsSwapped {
        case no
        case maybe
        case yes
    }

    // pcapng: the interfaces of the current section.
    private var interfaces: [Interface] = []

    /// Checks the file header (classic) or finds the format (pcapng; its blocks are checked as they
    /// come). Returns a one-line reason when the image is not a capture file.
    init(base: UnsafeRawPointer, size: Int) throws(ReaderFailure) {
        self.base = base
        self.size = size
        guard size >= 4 else {
            throw ReaderFailure("truncated dump file; tried to read 4 file header bytes, only got \(size)")
        }
        let magic = base.loadUnaligned(as: UInt32.self)
        if magic == 0x0A0D_0D0A {
            format = .pcapng
            offset = 0
            interfaces.reserveCapacity(8)
            return
        }
        format = .pcap
        switch magic {
        case 0xA1B2_C3D4: break
        case 0xA1B2_3C4D: nanosecondResolution = true
        case 0xA1B2_CD34: recordHeaderSize = 24
        case 0xD4C3_B2A1: swapped = true
        case 0x4D3C_B2A1: swapped = true; nanosecondResolution = true
        case 0x34CD_B2A1: swapped = true; recordHeaderSize = 24
        default: throw ReaderFailure("unknown file format")
        }
        guard size >= 24 else {
            throw ReaderFailure("truncated dump file; tried to read 24 file header bytes, only got \(size)")
        }
        offset = 24
        let major = u16(4), minor = u16(6)
        guard major == 2 else { throw ReaderFailure("archaic pcap savefile format \(major).\(minor)") }
        lengthsSwapped = minor < 3 ? .yes : minor == 3 ? .maybe : .no
        // The top six bits carry the FCS length and flags, not the link type (LT_LINKTYPE).
        classicLinkType = u32(20) & 0x03FF_FFFF
        let snap = u32(16)
        classicSnapshotLength = snap == 0 || snap > Self.maximumSnapshotLength ? Self.maximumSnapshotLength : snap
        if recordHeaderSize == 24 && classicLinkType == 1 { classicSnapshotLength &+= 14 }
    }

    /// The link type and snapshot length of the file (classic) or of its first interface (pcapng),
    /// without moving the reader. For pcapng this walks blocks up to the first Interface
    /// Description Block.
    func firstInterface() throws(ReaderFailure) -> (linkType: UInt32, snapshotLength: UInt32) {
        if format == .pcap { return (classicLinkType, classicSnapshotLength) }
        var probe = self
        while true {
            switch probe.nextBlock(stopAtInterface: true) {
            case .frame:
                throw ReaderFailure("the capture file has a packet block before any Interface Description Blocks")
            case .end:
                throw ReaderFailure("the capture file has no Interface Description Blocks")
            case .failure(let reason):
                throw ReaderFailure(reason)
            case .interface(let i):
                return (i.linkType, i.snapshotLength)
            }
        }
    }

    /// The next frame, the end of the file, or the damage that stops reading.
    mutating func next() -> Next {
        switch format {
        case .pcap:
            return nextRecord()
        case .pcapng:
            while true {
                switch nextBlock(stopAtInterface: false) {
                case .frame(let f): return .frame(f)
                case .end: return .end
                case .failure(let reason): return .failure(reason)
                case .interface: continue
                }
            }
        }
    }

    // MARK: - Classic pcap

    private mutating func nextRecord() -> Next {
        let left = size &- offset
        if left == 0 { return .end }
        guard left >= recordHeaderSize else {
            return .failure("truncated dump file; tried to read \(recordHeaderSize) header bytes, only got \(left)")
        }
        let seconds = Int32(bitPattern: u32(offset))
        let fraction = Int32(bitPattern: u32(offset &+ 4))
        var captured = u32(offset &+ 8)
        var wire = u32(offset &+ 12)
        if lengthsSwapped == .yes || (lengthsSwapped == .maybe && captured > wire) {
            swap(&captured, &wire)
        }
        if captured > Self.maximumSnapshotLength {
            return .failure(captured > classicSnapshotLength
                ? "invalid packet capture length \(captured), bigger than snaplen of \(classicSnapshotLength)"
                : "invalid packet capture length \(captured), bigger than maximum of \(Self.maximumSnapshotLength)")
        }
        let data = offset &+ recordHeaderSize
        guard Int(captured) <= size &- data else {
            return .failure("truncated dump file; tried to read \(captured) captured bytes, only got \(size &- data)")
        }
        offset = data &+ Int(captured)
        // libpcap hands out at most the snapshot length and skips the rest of a longer record.
        let delivered = min(captured, classicSnapshotLength)
        let nanoseconds = nanosecondResolution ? Int64(fraction) : Int64(fraction) &* 1000
        return .frame(
            CapturedFrame(
                bytes: UnsafeRawBufferPointer(start: base + data, count: Int(delivered)), wireLength: Int(wire),
                timestamp: Timestamp(nanoseconds: Int64(seconds) &* 1_000_000_000 &+ nanoseconds),
                linkType: classicLinkType))
    }

    // MARK: - pcapng

    private enum Block {
        case frame(CapturedFrame)
        case interface(Interface)
        case end
        case failure(String)
    }

    private static let sectionHeaderType: UInt32 = 0x0A0D_0D0A
    private static let byteOrderMagic: UInt32 = 0x1A2B_3C4D

    /// Reads one block: a frame (EPB, SPB, or the obsolete Packet Block, which libpcap still
    /// reads), an interface (IDB, also recorded), or nothing worth returning (SHB, statistics, name
    /// resolution and unknown blocks are skipped whole).
    private mutating func nextBlock(stopAtInterface: Bool) -> Block {
        while true {
            let left = size &- offset
            if left == 0 { return .end }
            guard left >= 12 else { return .failure(truncated(wanted: 12, got: left)) }
            // The Section Header Block's type reads the same in both byte orders; its byte-order
            // magic sets the order of everything up to the next section.
            if base.loadUnaligned(fromByteOffset: offset, as: UInt32.self) == Self.sectionHeaderType {
                guard left >= 28 else { return .failure(truncated(wanted: 28, got: left)) }
                let order = base.loadUnaligned(fromByteOffset: offset &+ 8, as: UInt32.self)
                switch order {
                case Self.byteOrderMagic: swapped = false
                case Self.byteOrderMagic.byteSwapped: swapped = true
                default: return .failure("the file has a section with a bad byte order magic field")
                }
            }
            let type = u32(offset)
            let length = Int(u32(offset &+ 4))
            let minimum = type == Self.sectionHeaderType ? 28 : 12
            guard length >= minimum else {
                return .failure("block in pcapng dump file has a length of \(length) < \(minimum)")
            }
            guard length % 4 == 0 else {
                return .failure("block in pcapng dump file has a length of \(length) that is not a multiple of 4")
            }
            guard length <= left else { return .failure(truncated(wanted: length, got: left)) }
            let body = offset &+ 8, bodyLength = length &- 12
            offset &+= length
            switch type {
            case 6: return enhancedPacket(body, bodyLength)
            case 3: return simplePacket(body, bodyLength)
            case 2: return obsoletePacket(body, bodyLength)
            case 1:
                switch interfaceDescription(body, bodyLength) {
                case .interface(let i):
                    interfaces.append(i)
                    if stopAtInterface { return .interface(i) }
                case let other:
                    return other
                }
            case Self.sectionHeaderType:
                let major = u16(body &+ 4)
                guard major == 1 else { return .failure("unknown pcapng savefile major version number \(major)") }
                interfaces.removeAll(keepingCapacity: true)
            default:
                break
            }
        }
    }

    private func truncated(wanted: Int, got: Int) -> String {
        "truncated pcapng dump file; tried to read \(wanted) bytes, only got \(got)"
    }

    private func tooShort(_ type: Int) -> Block {
        .failure("block of type \(type) in pcapng dump file is too short")
    }

    private func interfaceDescription(_ body: Int, _ length: Int) -> Block {
        guard length >= 8 else { return tooShort(1) }
        let snap = u32(body &+ 4)
        var interface = Interface(
            linkType: UInt32(u16(body)),
            snapshotLength: snap == 0 || snap > Self.maximumSnapshotLength ? Self.maximumSnapshotLength : snap,
            unitsPerSecond: 1_000_000, offsetSeconds: 0)
        var option = body &+ 8
        let end = body &+ length
        while end &- option >= 4 {
            let code = u16(option), optionLength = Int(u16(option &+ 2))
            let value = option &+ 4
            guard optionLength <= end &- value else { return .failure("option \(code) of an interface is too long") }
            switch code {
            case 0:
                return .interface(interface)
            case 9 where optionLength == 1:
                let v = base.load(fromByteOffset: value, as: UInt8.self)
                let exponent = UInt64(v & 0x7F)
                if v & 0x80 != 0 {
                    guard exponent <= 63 else { return .failure("the interface has a time stamp resolution 2^-\(exponent) that's too large") }
                    interface.unitsPerSecond = 1 << exponent
                } else {
                    guard exponent <= 19 else { return .failure("the interface has a time stamp resolution 10^-\(exponent) that's too large") }
                    interface.unitsPerSecond = 1
                    for _ in 0..<exponent { interface.unitsPerSecond &*= 10 }
                }
            case 14 where optionLength == 8:
                let raw = base.loadUnaligned(fromByteOffset: value, as: UInt64.self)
                interface.offsetSeconds = Int64(bitPattern: swapped ? raw.byteSwapped : raw)
            default:
                break
            }
            option = value &+ ((optionLength &+ 3) & ~3)  // values are padded to 4 bytes
        }
        return .interface(interface)
    }

    private func enhancedPacket(_ body: Int, _ length: Int) -> Block {
        guard length >= 20 else { return tooShort(6) }
        return packet(
            interface: u32(body), high: u32(body &+ 4), low: u32(body &+ 8), captured: u32(body &+ 12),
            wire: u32(body &+ 16), data: body &+ 20, room: length &- 20, type: 6)
    }

    private func obsoletePacket(_ body: Int, _ length: Int) -> Block {
        guard length >= 20 else { return tooShort(2) }
        return packet(
            interface: UInt32(u16(body)), high: u32(body &+ 4), low: u32(body &+ 8), captured: u32(body &+ 12),
            wire: u32(body &+ 16), data: body &+ 20, room: length &- 20, type: 2)
    }

    private func simplePacket(_ body: Int, _ length: Int) -> Block {
        guard length >= 4 else { return tooShort(3) }
        guard let first = interfaces.first else { return noInterface(0) }
        let wire = u32(body)
        return packet(
            interface: 0, high: 0, low: 0, captured: min(wire, first.snapshotLength), wire: wire, data: body &+ 4,
            room: length &- 4, type: 3)
    }

    private func noInterface(_ id: UInt32) -> Block {
        .failure("a packet arrived on interface \(id), but there's no Interface Description Block for that interface")
    }

    private func packet(
        interface id: UInt32, high: UInt32, low: UInt32, captured: UInt32, wire: UInt32, data: Int, room: Int,
        type: Int
    ) -> Block {
        guard Int(id) < interfaces.count else { return noInterface(id) }
        let interface = interfaces[Int(id)]
        guard captured <= interface.snapshotLength else {
            return .failure("invalid packet capture length \(captured), bigger than snaplen of \(interface.snapshotLength)")
        }
        guard Int(captured) <= room else { return tooShort(type) }
        let units = UInt64(high) << 32 | UInt64(low)
        let perSecond = interface.unitsPerSecond
        let seconds = Int64(bitPattern: units / perSecond) &+ interface.offsetSeconds
        let fraction = units % perSecond
        let nanoseconds: UInt64
        if perSecond == 1_000_000_000 {
            nanoseconds = fraction
        } else if perSecond < 1_000_000_000 && 1_000_000_000 % perSecond == 0 {
            nanoseconds = fraction &* (1_000_000_000 / perSecond)
        } else {
            // Finer than nanoseconds, or a power of two: scale through 128 bits (libpcap multiplies
            // in 64 bits, which agrees wherever that does not overflow).
            let wide = fraction.multipliedFullWidth(by: 1_000_000_000)
            nanoseconds = perSecond.dividingFullWidth((wide.high, wide.low)).quotient
        }
        return .frame(
            CapturedFrame(
                bytes: UnsafeRawBufferPointer(start: base + data, count: Int(captured)), wireLength: Int(wire),
                timestamp: Timestamp(nanoseconds: seconds &* 1_000_000_000 &+ Int64(nanoseconds)),
                linkType: interface.linkType))
    }

    // MARK: - Fields in the file's byte order

    private func u32(_ at: Int) -> UInt32 {
        let v = base.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return swapped ? v.byteSwapped : v
    }

    private func u16(_ at: Int) -> UInt16 {
        let v = base.loadUnaligned(fromByteOffset: at, as: UInt16.self)
        return swapped ? v.byteSwapped : v
    }

    /// A reason, as one line, why the file cannot be read (further).
    struct ReaderFailure: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }
}
