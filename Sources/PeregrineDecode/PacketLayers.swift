// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Link-layer header types, as libpcap numbers them (`LINKTYPE_*`, pcap-linktype(7)).
public enum LinkType: UInt32, Sendable {
    /// BSD loopback: a 4-byte host-order address family.
    case null = 0
    /// Ethernet II / 802.3.
    case ethernet = 1
    /// Raw IP (LINKTYPE_RAW); the version nibble says v4 or v6.
    case raw = 101
    /// OpenBSD loopback: a 4-byte network-order address family.
    case loop = 108
    /// Linux cooked capture v1 (SLL, 16-byte header).
    case linuxSLL = 113
    /// Raw IPv4.
    case ipv4 = 228
    /// Raw IPv6.
    case ipv6 = 229
    /// Linux cooked capture v2 (SLL2, 20-byte header).
    case linuxSLL2 = 276

    /// Maps a libpcap DLT value (which differs from LINKTYPE for raw IP on some platforms) to a link type.
    public init?(dlt: Int32) {
        switch dlt {
        case 12, 14: self = .raw  // DLT_RAW on the BSDs / OpenBSD
        default:
            guard dlt >= 0, let t = LinkType(rawValue: UInt32(dlt)) else { return nil }
            self = t
        }
    }
}

/// What the link layer decoder found: where the network layer starts and what it is.
///
/// Offsets are from the start of the frame handed to the decoder. At most two VLAN tags are kept
/// (outer `vlan`, inner `innerVlan`), as Zeek's conn.log `vlan`/`inner_vlan` columns do.
@frozen
public struct LinkLayer: Sendable {
    /// Offset of the network-layer header.
    public var networkOffset: Int
    /// The network protocol: an EtherType (`0x0800` IPv4, `0x86DD` IPv6, `0x0806` ARP, ...).
    public var etherType: UInt16
    /// Outer 802.1Q VLAN id, 0 when untagged.
    public var vlan: UInt16
    /// Inner 802.1Q VLAN id (QinQ), 0 when absent.
    public var innerVlan: UInt16
    /// Source MAC (Ethernet only), in the low 48 bits.
    public var sourceMAC: UInt64
    /// Destination MAC (Ethernet only), in the low 48 bits.
    public var destinationMAC: UInt64
    /// A weird raised on the way that did not stop decoding (`triple_tagged_vlan_unsupported`).
    public var anomaly: Weird?

    @inlinable
    public init() {
        networkOffset = 0
        etherType = 0
        vlan = 0
        innerVlan = 0
        sourceMAC = 0
        destinationMAC = 0
        anomaly = nil
    }
}

/// The network layer of one packet (IPv4 or IPv6 after its extension headers).
@frozen
public struct IPLayer: Sendable {
    /// 4 or 6.
    public var version: UInt8
    public var source: IPAddress
    public var destination: IPAddress
    /// The transport protocol number (for IPv6, the last Next Header after extension headers).
    public var transportProtocol: UInt8
    /// TTL or hop limit.
    public var ttl: UInt8
    /// Offset of the IP header in the frame.
    public var headerOffset: Int
    /// Length of the IP header including IPv6 extension headers.
    public var headerLength: Int
    /// The packet's IP length as its header states it (IPv4 total length; IPv6 payload length + 40).
    /// This is what conn.log's `orig_ip_bytes`/`resp_ip_bytes` add up.
    public var totalLength: Int
    /// Offset of the transport header (or fragment payload) in the frame.
    public var payloadOffset: Int
    /// Bytes of transport data the header promises (`totalLength - headerLength`).
    public var payloadLength: Int
    /// Bytes of transport data actually captured (≤ `payloadLength` when the capture was cut).
    public var capturedPayloadLength: Int
    /// Fragment offset in bytes (0 for the first or only fragment).
    public var fragmentOffset: Int
    /// True for any fragment (MF set or non-zero offset, or an IPv6 Fragment header).
    public var isFragment: Bool
    /// The More Fragments flag.
    public var moreFragments: Bool
    /// IPv4 identification or IPv6 fragment identification.
    public var identification: UInt32
    /// The IPv4 Don't Fragment flag.
    public var dontFragment: Bool
    /// A weird raised on the way that did not stop decoding (`ip_hdr_len_zero` without checksum
    /// verification, `incompletely_captured_fragment` on a first fragment).
    public var anomaly: Weird?

    @inlinable
    public init() {
        version = 0
        source = .zero
        destination = .zero
        transportProtocol = 0
        ttl = 0
        headerOffset = 0
        headerLength = 0
        totalLength = 0
        payloadOffset = 0
        payloadLength = 0
        capturedPayloadLength = 0
        fragmentOffset = 0
        isFragment = false
        moreFragments = false
        identification = 0
        dontFragment = false
        anomaly = nil
    }
}

/// TCP flag bits as they sit in byte 13 of the header.
@frozen
public struct TCPFlags: OptionSet, Sendable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
    public static let ece = TCPFlags(rawValue: 0x40)
    public static let cwr = TCPFlags(rawValue: 0x80)
}

/// The transport layer of one packet. Which fields mean something depends on the IP layer's
/// `transportProtocol`: ports for TCP/UDP, `icmpType`/`icmpCode` for ICMP and ICMPv6.
@frozen
public struct TransportLayer: Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// TCP sequence number.
    public var sequence: UInt32
    /// TCP acknowledgement number.
    public var acknowledgement: UInt32
    public var flags: TCPFlags
    /// TCP receive window (unscaled).
    public var window: UInt16
    public var icmpType: UInt8
    public var icmpCode: UInt8
    /// Offset of the application payload in the frame.
    public var payloadOffset: Int
    /// Application payload length the headers promise (TCP: IP payload minus TCP header; UDP: UDP length - 8).
    public var payloadLength: Int
    /// Application payload bytes actually captured.
    public var capturedPayloadLength: Int
    /// False when the checksum was verified and found wrong; true when correct or not checked.
    public var checksumValid: Bool

    @inlinable
    public init() {
        sourcePort = 0
        destinationPort = 0
        sequence = 0
        acknowledgement = 0
        flags = []
        window = 0
        icmpType = 0
        icmpCode = 0
        payloadOffset = 0
        payloadLength = 0
        capturedPayloadLength = 0
        checksumValid = true
    }
}

/// Result of one decoding step: go on, or stop with an optional weird.
@frozen
public enum DecodeResult: Sendable {
    /// The layer decoded; continue with the next.
    case ok
    /// The packet cannot be decoded further; `weird` (if any) says why.
    case stop(Weird?)
}
