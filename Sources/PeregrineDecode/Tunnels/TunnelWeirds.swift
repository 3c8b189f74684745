// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

// The weirds the tunnel decoders raise, spelled and sourced as Zeek does. The source is the packet
// analyzer's name as its constructor registers it (`Analyzer("GRE")`, `Analyzer("GTPV1")`, ...),
// which `packet_analysis::Analyzer::Weird` passes to weird.log (src/packet_analysis/Analyzer.cc).
extension Weird {
    /// GRE header shorter than its flags say, or too short for the bridged Ethernet/ERSPAN header
    /// (src/packet_analysis/protocol/gre/GRE.cc).
    public static let truncatedGRE = Weird("truncated_GRE", source: "GRE")
    /// GRE version other than 0 or 1.
    public static let unknownGREVersion = Weird("unknown_gre_version", source: "GRE")
    /// GRE version 1 (enhanced GRE) whose protocol type is not PPP (0x880B).
    public static let egreProtocolType = Weird("egre_protocol_type", source: "GRE")
    /// GRE routing bit set (RFC 1701 routing, deprecated by RFC 2784); Zeek does not parse it.
    public static let greRouting = Weird("gre_routing", source: "GRE")
    /// Reserved GRE flag bits (0x0078) set.
    public static let unknownGREFlags = Weird("unknown_gre_flags", source: "GRE")
    /// PPTP PPP frame whose protocol is neither IPv4 (0x0021) nor IPv6 (0x0057), e.g. LCP.
    public static let nonIPPacketInEncap = Weird("non_ip_packet_in_encap", source: "GRE")
    /// PPTP inner packet whose IP version does not match the PPP protocol
    /// (src/packet_analysis/protocol/iptunnel/IPTunnel.cc).
    public static let invalidInnerIPVersion = Weird("invalid_inner_IP_version", source: "IPTunnel")
    /// An IP-in-IP or GRE packet nested deeper than `Tunnel::max_depth` (IPTunnel.cc).
    public static let exceededTunnelMaxDepthIPTunnel = Weird("exceeded_tunnel_max_depth", source: "IPTunnel")
    /// A VXLAN packet nested deeper than `Tunnel::max_depth` (vxlan/VXLAN.cc).
    public static let exceededTunnelMaxDepthVXLAN = Weird("exceeded_tunnel_max_depth", source: "VXLAN")
    /// A Geneve packet nested deeper than `Tunnel::max_depth` (geneve/Geneve.cc).
    public static let exceededTunnelMaxDepthGeneve = Weird("exceeded_tunnel_max_depth", source: "Geneve")
    /// A Teredo packet nested deeper than `Tunnel::max_depth` (teredo/Teredo.cc).
    public static let exceededTunnelMaxDepthTeredo = Weird("exceeded_tunnel_max_depth", source: "TEREDO")
    /// An AYIYA packet nested deeper than `Tunnel::max_depth` (ayiya/AYIYA.cc).
    public static let exceededTunnelMaxDepthAYIYA = Weird("exceeded_tunnel_max_depth", source: "AYIYA")
    /// A GTPv1 packet nested deeper than `Tunnel::max_depth`; GTP uses its own name for it
    /// (gtpv1/gtpv1-analyzer.pac, `process_gtpv1`).
    public static let gtpTunnelDepth = Weird("tunnel_depth", source: "GTPV1")
    /// A VXLAN header with nothing after it.
    public static let vxlanEmptyPacket = Weird("vxlan_empty_packet", source: "VXLAN")
    /// A Geneve version other than 0.
    public static let geneveInvalidVersion = Weird("geneve_invalid_version", source: "Geneve")
    /// A Geneve header (with options) with nothing after it.
    public static let geneveEmptyPacket = Weird("geneve_empty_packet", source: "Geneve")
    /// An AYIYA forward header with nothing after it.
    public static let ayiyaEmptyPacket = Weird("ayiya_empty_packet", source: "AYIYA")
    /// Fewer than 2 bytes of Teredo.
    public static let truncatedTeredo = Weird("truncated_Teredo", source: "TEREDO")
    /// A Teredo origin indication shorter than 8 bytes.
    public static let truncatedTeredoOriginIndication = Weird("truncated_Teredo_origin_indication", source: "TEREDO")
    /// A Teredo authentication header shorter than its lengths say.
    public static let truncatedTeredoAuthentication = Weird("truncated_Teredo_authentication", source: "TEREDO")
    /// Fewer than 40 bytes where Teredo's IPv6 header should be.
    public static let truncatedIPv6InTeredo = Weird("truncated_IPv6_in_Teredo", source: "TEREDO")
    /// A Teredo bubble (IPv6, no next header, payload length 0) followed by extra bytes.
    public static let teredoBubbleWithPayload = Weird("Teredo_bubble_with_payload", source: "TEREDO")
}
