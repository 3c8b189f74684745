// SPDX-License-Identifier: Apache-2.0

/// Dynamic protocol detection by well-known port: the analyzers Zeek registers for a responder
/// port with `Analyzer::register_for_ports` in each protocol's `main.zeek`.
///
/// A TCP connection no port claims is probed by content instead (``ContentProbe``,
/// ``ProtocolDetector``); a DNS server on an unusual port still goes unanalysed, as in Zeek,
/// which has no DNS signature.
public enum WellKnownPorts {
    /// The analyzer for a new UDP connection whose responder port is `port`, if any.
    ///
    /// DNS: `base/protocols/dns/main.zeek` registers 53/udp, 137/udp (NetBIOS name service,
    /// which shares DNS's wire format), 5353/udp (multicast DNS) and 5355/udp (LLMNR).
    /// NTP: 123/udp (`base/protocols/ntp/main.zeek`). DHCP: 67/udp, 68/udp and 4011/udp
    /// (`base/protocols/dhcp/main.zeek`).
    @inlinable
    public static func udpAnalyzer(responderPort port: UInt16) -> AnalyzerKind? {
        switch port {
        case 53, 137, 5353, 5355: .dns
        case 123: .ntp
        // base/protocols/dhcp/main.zeek's `ports` (4011 is proxyDHCP).
        case 67, 68, 4011: .dhcp
        default: nil
        }
    }

    /// The analyzer for a new TCP connection whose responder port is `port`, if any.
    ///
    /// DNS: 53/tcp (`base/protocols/dns/main.zeek`), messages framed by a length prefix.
    @inlinable
    public static func tcpAnalyzer(responderPort port: UInt16) -> AnalyzerKind? {
        switch port {
        case 53: .dns
        // base/protocols/http/main.zeek's `ports`.
        case 80, 81, 631, 1080, 3128, 8000, 8080, 8888: .http
        // base/protocols/ssl/main.zeek's `ssl_ports` (HTTPS, SMTPS, NNTPS, IMAP4S, LDAPS, FTPS,
        // TELNETS, IMAPS, POP3S, XMPP over TLS); current Zeek lists 465 too.
        // base/protocols/ssh/main.zeek's `ports`.
        case 22: .ssh
        case 443, 465, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223: .ssl
        // base/protocols/ftp/main.zeek's `ports` (2811 is GridFTP's control port).
        case 21, 2811: .ftp
        // base/protocols/smtp/main.zeek's `ports`.
        case 25, 587: .smtp
        default: nil
        }
    }
}
