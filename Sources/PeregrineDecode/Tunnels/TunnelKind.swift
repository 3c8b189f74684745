// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// The encapsulations Zeek decodes by default, with the names its logs use for them.
///
/// `tunnelType` is the `Tunnel::Type` enum written to tunnel.log and conn records
/// (`base/bif/types.bif`); `service` is what Zeek adds to the outer UDP connection's conn.log
/// `service` column when the tunnel analyzer confirms (the packet analyzer's name, lower-cased).
public enum TunnelKind: UInt8, Sendable, CaseIterable {
    /// IP-in-IP, 6in4, 4in6, 6in6 (IP protocols 4 and 41).
    case ip
    /// GRE (IP protocol 47), including PPTP enhanced GRE and ERSPAN.
    case gre
    /// VXLAN over UDP.
    case vxlan
    /// Geneve over UDP.
    case geneve
    /// Teredo over UDP.
    case teredo
    /// AYIYA over UDP.
    case ayiya
    /// GTPv1-U over UDP.
    case gtpv1

    /// The tunnel.log `tunnel_type` value.
    @inlinable
    public var tunnelType: StaticString {
        switch self {
        case .ip: "Tunnel::IP"
        case .gre: "Tunnel::GRE"
        case .vxlan: "Tunnel::VXLAN"
        case .geneve: "Tunnel::GENEVE"
        case .teredo: "Tunnel::TEREDO"
        case .ayiya: "Tunnel::AYIYA"
        case .gtpv1: "Tunnel::GTPv1"
        }
    }

    /// The conn.log `service` of the outer UDP connection once the analyzer confirms; `nil` for
    /// IP and GRE, which have no outer connection.
    @inlinable
    public var service: StaticString? {
        switch self {
        case .ip, .gre: nil
        case .vxlan: "vxlan"
        case .geneve: "geneve"
        case .teredo: "teredo"
        case .ayiya: "ayiya"
        case .gtpv1: "gtpv1"
        }
    }

    /// True when the kind rides on a UDP connection whose uid the tunnel shares.
    @inlinable
    public var isUDP: Bool { self != .ip && self != .gre }

    /// True when the analyzer also runs on UDP traffic to any port through a payload heuristic
    /// (`register_protocol_detection` in `scripts/base/packet-protocols/{teredo,ayiya}/main.zeek`):
    /// see ``Teredo/detect(_:offset:length:)`` and ``AYIYA/detect(_:offset:length:)``.
    @inlinable
    public var hasDetection: Bool { self == .teredo || self == .ayiya }

    /// True when confirmation waits for a valid packet in each direction
    /// (`Tunnel::delay_teredo_confirmation = T`; `Tunnel::delay_gtp_confirmation = F`).
    @inlinable
    public var confirmationNeedsBothDirections: Bool { self == .teredo }

    /// The weird raised when a packet of this kind arrives with `Tunnel.maxDepth` encapsulations
    /// already on its stack. GRE and IP-in-IP share the IPTunnel analyzer's check.
    @inlinable
    public var depthExceededWeird: Weird {
        switch self {
        case .ip, .gre: .exceededTunnelMaxDepthIPTunnel
        case .vxlan: .exceededTunnelMaxDepthVXLAN
        case .geneve: .exceededTunnelMaxDepthGeneve
        case .teredo: .exceededTunnelMaxDepthTeredo
        case .ayiya: .exceededTunnelMaxDepthAYIYA
        case .gtpv1: .gtpTunnelDepth
        }
    }

    /// The UDP kind whose default port list holds `port`, or `nil`.
    ///
    /// Zeek's UDP analyzer dispatches on the *responder* port only, after `likely_server_ports`
    /// may have flipped the roles (src/packet_analysis/protocol/udp/UDP.cc, `DeliverPacket`). Ports
    /// come from the default scripts: `vxlan_ports = {4789}`, `geneve_ports = {6081}`,
    /// `teredo_ports = {3544}`, `ayiya_ports = {5072}`, `gtpv1_ports = {2152, 2123}`.
    @inlinable
    public static func udpKind(responderPort port: UInt16) -> TunnelKind? {
        switch port {
        case Tunnel.vxlanPort: .vxlan
        case Tunnel.genevePort: .geneve
        case Tunnel.teredoPort: .teredo
        case Tunnel.ayiyaPort: .ayiya
        case Tunnel.gtpv1UserPort, Tunnel.gtpv1ControlPort: .gtpv1
        default: nil
        }
    }
}

/// Zeek's tunnel constants (`scripts/base/init-bare.zeek`, module `Tunnel`, and the per-protocol
/// `scripts/base/packet-protocols/*/main.zeek`).
public enum Tunnel {
    /// `Tunnel::max_depth`: a tunnel analyzer refuses a packet whose encapsulation stack already
    /// holds this many tunnels (`encap->Depth() >= max_depth`), raising ``TunnelKind/depthExceededWeird``.
    public static let maxDepth = 4
    /// `Tunnel::ip_tunnel_timeout` in seconds: an IP/GRE tunnel's uid is forgotten after this long
    /// without packets (iptunnel/IPTunnel.cc, `IPTunnelTimer`).
    public static let ipTunnelTimeoutSeconds = 24 * 3600
    /// `Tunnel::expiration_interval` in seconds: the `Tunnel::active` table's read expiry, after
    /// which tunnel.log gets an EXPIRE line (base/frameworks/tunnels/main.zeek).
    public static let expirationIntervalSeconds = 3600
    /// `Tunnel::max_changes_per_connection`: `tunnel_changed` events per connection.
    public static let maxChangesPerConnection = 5
    /// VXLAN's IANA port (`PacketAnalyzer::VXLAN::vxlan_ports`).
    public static let vxlanPort: UInt16 = 4789
    /// Geneve's IANA port (`PacketAnalyzer::Geneve::geneve_ports`).
    public static let genevePort: UInt16 = 6081
    /// Teredo's port (`PacketAnalyzer::TEREDO::teredo_ports`).
    public static let teredoPort: UInt16 = 3544
    /// AYIYA's port (`PacketAnalyzer::AYIYA::ayiya_ports`).
    public static let ayiyaPort: UInt16 = 5072
    /// GTP-U (`PacketAnalyzer::GTPV1::gtpv1_ports`).
    public static let gtpv1UserPort: UInt16 = 2152
    /// GTP-C, also registered for the GTPv1 analyzer.
    public static let gtpv1ControlPort: UInt16 = 2123
}
