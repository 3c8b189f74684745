// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

// Every weird the link, network and transport decoders and the fragment reassembler raise, with
// Zeek's exact name and the source Zeek gives it (the packet analyzer's name; "" where Zeek raises
// the weird through the session manager without a source, which weird.log writes as unset).

extension Weird {
    // MARK: Link layer (src/packet_analysis/protocol/{ethernet,vlan,mpls,pppoe,linux_sll,linux_sll2,null})

    /// Ethernet header shorter than 17 bytes, or an 802.3 length field beyond the frame.
    public static let truncatedEthernetFrame = Weird("truncated_ethernet_frame", source: "Ethernet")
    /// Cisco FabricPath header (EtherType 0x8903) without room for the inner Ethernet header.
    public static let truncatedLinkHeaderCFP = Weird("truncated_link_header_cfp", source: "Ethernet")
    /// An EtherType/length field between 1501 and 1535.
    public static let undefinedEtherType = Weird("undefined_ether_type", source: "Ethernet")
    /// An 802.1Q tag with 4 or fewer bytes after it.
    public static let truncatedVLANHeader = Weird("truncated_VLAN_header", source: "VLAN")
    /// A VLAN tag's inner type/length field between 1501 and 1535.
    public static let undefinedVLANProtocol = Weird("undefined_vlan_protocol", source: "VLAN")
    /// A third VLAN tag (the inner id is overwritten; decoding goes on).
    public static let tripleTaggedVLANUnsupported = Weird("triple_tagged_vlan_unsupported", source: "VLAN")
    /// An MPLS label stack running off the end of the frame.
    public static let truncatedLinkHeaderMPLS = Weird("truncated_link_header", source: "MPLS")
    /// A PPPoE session header (6 bytes + PPP protocol) with 8 or fewer bytes.
    public static let truncatedPPPoEHeader = Weird("truncated_pppoe_header", source: "PPPoE")
    /// A Linux cooked (SLL) header with nothing after it.
    public static let truncatedLinuxSLLHeader = Weird("truncated_Linux_SLL_header", source: "LinuxSLL")
    /// A Linux cooked v2 (SLL2) header with nothing after it.
    public static let truncatedLinuxSLL2Header = Weird("truncated_Linux_SLL2_header", source: "LinuxSLL2")
    /// A BSD null/loop header with nothing after it (Zeek raises it through `Packet::Weird`: no source).
    public static let nullAnalyzerFailed = Weird("null_analyzer_failed", source: "")

    // MARK: IP (src/packet_analysis/protocol/ip/IP.cc)

    /// Fewer than 20 bytes (IPv4) or 40 bytes (IPv6) for the IP header.
    public static let truncatedIP = Weird("truncated_IP", source: "IP")
    /// A version nibble other than 4 or 6.
    public static let unknownIPVersion = Weird("unknown_ip_version", source: "IP")
    /// An IPv4 total length of zero (TCP segmentation offload).
    public static let ipHeaderLengthZero = Weird("ip_hdr_len_zero", source: "IP")
    /// The IP total length runs past the packet's length on the wire.
    public static let truncatedIPLength = Weird("truncated_IP_len", source: "IP")
    /// The IP header (with IPv6 extension headers) is longer than the IP total length.
    public static let invalidIPHeaderSize = Weird("invalid_IP_header_size", source: "IP")
    /// The IP header is longer than the captured bytes.
    public static let internallyTruncatedHeaderIP = Weird("internally_truncated_header", source: "IP")
    /// An IPv4 header length (IHL) below 5.
    public static let ipv4MinHeaderSize = Weird("IPv4_min_header_size", source: "IP")
    /// A wrong IPv4 header checksum; the packet is dropped.
    public static let badIPChecksum = Weird("bad_IP_checksum", source: "IP")
    /// A fragment whose capture is shorter than its IP length (non-first ones are dropped).
    public static let incompletelyCapturedFragment = Weird("incompletely_captured_fragment", source: "IP")
    /// An IPv6 No Next Header outside Teredo (a Teredo caller ignores it for bubbles).
    public static let ipv6NoNext = Weird("ipv6_no_next", source: "IP")

    // MARK: Transport (tcp/TCP.cc, udp/UDP.cc, icmp/ICMP.cc, ip/IPBasedAnalyzer.cc)

    /// The IP payload length is below the minimum TCP header.
    public static let truncatedHeaderTCP = Weird("truncated_header", source: "TCP")
    /// The captured bytes are below the minimum TCP header.
    public static let internallyTruncatedHeaderTCP = Weird("internally_truncated_header", source: "TCP")
    /// A TCP data offset below 5.
    public static let badTCPHeaderLength = Weird("bad_TCP_header_len", source: "TCP")
    /// A wrong TCP checksum (raised by the session layer from `checksumValid`).
    public static let badTCPChecksum = Weird("bad_TCP_checksum", source: "TCP")
    /// The IP payload length is below the 8-byte UDP header.
    public static let truncatedHeaderUDP = Weird("truncated_header", source: "UDP")
    /// The captured bytes are below the 8-byte UDP header.
    public static let internallyTruncatedHeaderUDP = Weird("internally_truncated_header", source: "UDP")
    /// A wrong UDP checksum (raised by the session layer from `checksumValid`).
    public static let badUDPChecksum = Weird("bad_UDP_checksum", source: "UDP")
    /// The UDP length field differs from the IP payload length (raised by the session layer).
    public static let udpDatagramLengthMismatch = Weird("UDP_datagram_length_mismatch", source: "UDP")
    /// The IP payload length is below the 8-byte ICMP header.
    public static let truncatedHeaderICMP = Weird("truncated_header", source: "ICMP")
    /// The captured bytes are below the 8-byte ICMP header.
    public static let internallyTruncatedHeaderICMP = Weird("internally_truncated_header", source: "ICMP")
    /// A wrong ICMP or ICMPv6 checksum (raised by the session layer from `checksumValid`).
    public static let badICMPChecksum = Weird("bad_ICMP_checksum", source: "ICMP")
    /// A wrong IGMP checksum (Zeek's spicy IGMP analyzer).
    public static let igmpInvalidChecksum = Weird("igmp_invalid_checksum", source: "IGMP")

    // MARK: Fragments (src/Frag.cc; raised through the session manager, so without a source)

    /// Fragments of one datagram disagree on protocol or header length.
    public static let fragmentProtocolInconsistency = Weird("fragment_protocol_inconsistency", source: "")
    /// A fragment with Don't Fragment set.
    public static let fragmentWithDF = Weird("fragment_with_DF", source: "")
    /// Fragments disagree on the datagram's total size.
    public static let fragmentSizeInconsistency = Weird("fragment_size_inconsistency", source: "")
    /// A non-last fragment shorter than 64 bytes.
    public static let excessivelySmallFragment = Weird("excessively_small_fragment", source: "")
    /// A fragment reaching past 64000 bytes of payload.
    public static let excessivelyLargeFragment = Weird("excessively_large_fragment", source: "")
    /// Overlapping fragments whose bytes agree.
    public static let fragmentOverlap = Weird("fragment_overlap", source: "")
    /// Overlapping fragments whose bytes differ.
    public static let fragmentInconsistency = Weird("fragment_inconsistency", source: "")
}
