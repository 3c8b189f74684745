// SPDX-License-Identifier: Apache-2.0
import PeregrineDecode

/// Zeek's creation-time originator/responder decision (`IPBasedAnalyzer::NewConn` calling the
/// transport's `WantConnection`, then `Connection::FlipRoles` unless the destination is broadcast).
public enum RoleDecision {
    /// Zeek's `likely_server_ports` from a full default script load: the union of the
    /// `redef likely_server_ports += { ports }` lines in base/protocols/*/main.zeek. This table
    /// holds the ports of those scripts that were checked (dns, http, ftp, ssh, smtp, pop3, imap,
    /// irc, ssl, dhcp, ntp, snmp, syslog, radius, sip, mysql, krb, rdp, socks, modbus, dnp3,
    /// xmpp, smb); callers can pass their own set. Encoded as `port | 0x10000` for TCP,
    /// `port | 0x20000` for UDP (Zeek's PortVal masks).
    public static let defaultLikelyServerPorts: Set<UInt32> = {
        let tcp: [UInt32] = [
            21, 22, 25, 53, 80, 81, 88, 110, 139, 143, 443, 445, 502, 563, 585, 587, 614, 631, 636, 989, 990, 992,
            993, 995, 1080, 2811, 3128, 3306, 3389, 5222, 5223, 5269, 6666, 6667, 6668, 6669, 8000, 8080, 8888,
            20000,
        ]
        // UDP: the protocol scripts' ports plus the tunnel ports the packet-protocol scripts
        // register (GTPv1 2123/2152, Teredo 3544, VXLAN 4789, AYIYA 5072, Geneve 6081).
        let udp: [UInt32] = [
            53, 67, 88, 123, 137, 161, 162, 514, 1812, 2123, 2152, 3544, 4789, 5060, 5072, 5353, 5355, 6081,
        ]
        return Set(tcp.map { $0 | 0x10000 } + udp.map { $0 | 0x20000 })
    }()

    /// Whether the connection created by this first packet flips roles: TCP `WantConnection`
    /// (only packets without SYN or with SYN-ACK; flip when the source port is a likely server
    /// port and the destination is not, or both are and it is not a SYN-ACK and
    /// `sourcePort < destinationPort`), UDP (`src` likely and `dst` not), never for other
    /// transports. Callers skip the flip when the destination address is broadcast.
    public static func shouldFlip(
        transportProtocol: UInt8, flags: TCPFlags, sourcePort: UInt16, destinationPort: UInt16,
        likelyServerPorts: Set<UInt32> = defaultLikelyServerPorts
    ) -> Bool {
        switch transportProtocol {
        case 6:
            let syn = flags.contains(.syn)
            guard !syn || flags.contains(.ack) else { return false }
            let src = likelyServerPorts.contains(UInt32(sourcePort) | 0x10000)
            let dst = likelyServerPorts.contains(UInt32(destinationPort) | 0x10000)
            guard src else { return false }
            return dst ? (!syn && sourcePort < destinationPort) : true
        case 17:
            return likelyServerPorts.contains(UInt32(sourcePort) | 0x20000)
                && !likelyServerPorts.contains(UInt32(destinationPort) | 0x20000)
        default:
            return false
        }
    }
}
