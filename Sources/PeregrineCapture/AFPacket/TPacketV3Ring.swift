// SPDX-License-Identifier: Apache-2.0
import CPeregrineLinux
import PeregrineCore
import PeregrineSystem

/// The user-space side of a TPACKET_V3 receive ring: which block is next, whether the kernel has
/// handed it over, and giving it back (kernel Documentation/networking/packet_mmap.rst; zeek
/// `src/iosource/af_packet/RX_Ring.cc`).
///
/// The ring is `blockCount` blocks of `blockSize` bytes. The kernel fills them in order and sets a
/// block's `block_status` to `TP_STATUS_USER` when it is full or its timeout ran out; user space reads
/// every packet in it, then stores `TP_STATUS_KERNEL` and moves to the next block. The status word is
/// read with acquire and written with release ordering, so the packet reads cannot cross either.
struct TPacketV3Ring {
    /// Headroom asked of the kernel (`PACKET_RESERVE`) before every frame, where a stripped VLAN tag
    /// is written back (see `AFPacketBatch`).
    static let reservedHeadroom: UInt32 = 4
    /// `TPACKET3_HDRLEN`: the frame header plus the `sockaddr_ll` after it (68 bytes).
    static let frameHeaderLength: UInt32 = CPeregrineLinux_tpacket3HeaderLength()

    /// Offsets inside `struct tpacket_block_desc` (its `hdr.bh1` union member, `tpacket_hdr_v1`). Swift
    /// cannot take an offset through a C union member, so the union's offset and the member's are added
    /// (linux-capture-facts.md §1); both `!`s are on stored fields of imported C structs, which always
    /// have an offset.
    static let blockStatusOffset =
        MemoryLayout<tpacket_block_desc>.offset(of: \.hdr)! + MemoryLayout<tpacket_hdr_v1>.offset(of: \.block_status)!
    static let packetCountOffset =
        MemoryLayout<tpacket_block_desc>.offset(of: \.hdr)! + MemoryLayout<tpacket_hdr_v1>.offset(of: \.num_pkts)!
    static let firstPacketOffset =
        MemoryLayout<tpacket_block_desc>.offset(of: \.hdr)!
        + MemoryLayout<tpacket_hdr_v1>.offset(of: \.offset_to_first_pkt)!

    /// The mapping; kept alive as long as the ring.
    let region: MappedRegion
    let blockSize: Int
    let blockCount: Int
    /// The link type every frame carries.
    let linkType: UInt32
    /// The block to read next.
    private(set) var currentBlock = 0

    init(region: MappedRegion, blockSize: Int, blockCount: Int, linkType: UInt32) {
        precondition(region.length >= blockSize * blockCount, "ring mapping smaller than its blocks")
        self.region = region
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.linkType = linkType
    }

    /// The current block's frames if the kernel has handed the block to user space, else `nil`.
    func readyBatch() -> AFPacketBatch? {
        let block = region.base + currentBlock * blockSize
        let status = CPeregrineLinux_loadAcquire32(
            (block + Self.blockStatusOffset).assumingMemoryBound(to: UInt32.self))
        guard status & UInt32(TP_STATUS_USER) != 0 else { return nil }
        let count = Int(block.load(fromByteOffset: Self.packetCountOffset, as: UInt32.self))
        let first = Int(block.load(fromByteOffset: Self.firstPacketOffset, as: UInt32.self))
        return AFPacketBatch(firstPacket: block + first, count: count, linkType: linkType)
    }

    /// Gives the current block back to the kernel and moves to the next one.
    mutating func releaseCurrentBlock() {
        let block = region.base + currentBlock * blockSize
        CPeregrineLinux_storeRelease32(
            (block + Self.blockStatusOffset).assumingMemoryBound(to: UInt32.self), UInt32(TP_STATUS_KERNEL))
        currentBlock = currentBlock + 1 == blockCount ? 0 : currentBlock + 1
    }
}

/// The frames of one ring block, borrowed until the `withBatch` callback that receives them returns.
///
/// Iterating yields `CapturedFrame`s pointing into the ring; nothing is copied or allocated.
///
/// **VLAN tags.** The kernel removes the outer 802.1Q/802.1ad tag before AF_PACKET sees the frame and
/// reports it in the frame header (`TP_STATUS_VLAN_VALID`, `tp_vlan_tci`, `tp_vlan_tpid`;
/// linux-capture-facts.md §2). The decoders read VLAN ids from the frame (Zeek's `vlan`/`inner_vlan`
/// columns), and a pcap file has the tag in place, so the tag is written back into the frame rather
/// than carried beside it: the two MAC addresses move 4 bytes down into the headroom the socket reserved
/// (`PACKET_RESERVE`), and the TPID and TCI fill the gap. Only tagged frames are touched, in place, with
/// no copy of the payload; the header is updated and the VLAN flag cleared, so iterating the batch again
/// yields the same bytes.
@frozen
public struct AFPacketBatch: Sequence {
    @usableFromInline let firstPacket: UnsafeMutableRawPointer
    /// The number of frames in the block.
    public let count: Int
    @usableFromInline let linkType: UInt32

    @usableFromInline
    init(firstPacket: UnsafeMutableRawPointer, count: Int, linkType: UInt32) {
        self.firstPacket = firstPacket
        self.count = count
        self.linkType = linkType
    }

    /// An iterator over the block's frames, first to last.
    @inlinable
    public func makeIterator() -> Iterator {
        Iterator(cursor: firstPacket, remaining: count, linkType: linkType)
    }

    /// The exact number of frames, `count`.
    @inlinable
    public var underestimatedCount: Int { count }

    /// Walks the block's packets by their `tp_next_offset` links.
    @frozen
    public struct Iterator: IteratorProtocol {
        @usableFromInline var cursor: UnsafeMutableRawPointer
        @usableFromInline var remaining: Int
        @usableFromInline let linkType: UInt32

        @inlinable
        init(cursor: UnsafeMutableRawPointer, remaining: Int, linkType: UInt32) {
            self.cursor = cursor
            self.remaining = remaining
            self.linkType = linkType
        }

        // Inlinable so the engine's per-packet loop (another module) does not call out for each frame
        // (linux-capture-facts.md §6: cross-module calls with loops are not inlined otherwise).
        /// The next frame, with a stripped VLAN tag written back; `nil` after the last.
        @inlinable
        public mutating func next() -> CapturedFrame? {
            guard remaining > 0 else { return nil }
            remaining &-= 1
            let header = cursor.assumingMemoryBound(to: tpacket3_hdr.self)
            if header.pointee.tp_status & UInt32(TP_STATUS_VLAN_VALID) != 0 {
                AFPacketBatch.reinsertVLANTag(header)
            }
            let h = header.pointee
            let frame = CapturedFrame(
                bytes: UnsafeRawBufferPointer(start: cursor + Int(h.tp_mac), count: Int(h.tp_snaplen)),
                wireLength: Int(h.tp_len),
                timestamp: Timestamp(seconds: Int64(h.tp_sec), nanoseconds: Int64(h.tp_nsec)),
                linkType: linkType)
            cursor += Int(h.tp_next_offset)
            return frame
        }
    }

    /// Writes the tag the kernel took out back in front of the EtherType, in the reserved headroom,
    /// and updates the frame header to describe the longer frame.
    @inlinable
    static func reinsertVLANTag(_ header: UnsafeMutablePointer<tpacket3_hdr>) {
        let status = header.pointee.tp_status
        header.pointee.tp_status = status & ~UInt32(TP_STATUS_VLAN_VALID)
        // Frames shorter than two MAC addresses cannot hold a tag in the right place; leave them as is.
        guard header.pointee.tp_snaplen >= 12 else { return }
        let mac = Int(header.pointee.tp_mac)
        // The kernel puts tp_mac at least PACKET_RESERVE (4) bytes past the sockaddr_ll that follows the
        // header (TPACKET3_HDRLEN), so the 4 bytes below the frame are free.
        precondition(mac >= Int(CPeregrineLinux_tpacket3HeaderLength()) + 4, "no headroom for the VLAN tag")
        let raw = UnsafeMutableRawPointer(header)
        let destination = raw.loadUnaligned(fromByteOffset: mac, as: UInt64.self)
        let sourceTail = raw.loadUnaligned(fromByteOffset: mac + 8, as: UInt32.self)
        let tpid =
            status & UInt32(TP_STATUS_VLAN_TPID_VALID) != 0 ? header.pointee.hv1.tp_vlan_tpid : UInt16(0x8100)
        let tci = UInt16(truncatingIfNeeded: header.pointee.hv1.tp_vlan_tci)
        raw.storeBytes(of: destination, toByteOffset: mac - 4, as: UInt64.self)
        raw.storeBytes(of: sourceTail, toByteOffset: mac + 4, as: UInt32.self)
        raw.storeBytes(of: tpid.bigEndian, toByteOffset: mac + 8, as: UInt16.self)
        raw.storeBytes(of: tci.bigEndian, toByteOffset: mac + 10, as: UInt16.self)
        header.pointee.tp_mac = UInt16(mac - 4)
        header.pointee.tp_snaplen &+= 4
        header.pointee.tp_len &+= 4
    }
}
