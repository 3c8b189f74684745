// SPDX-License-Identifier: Apache-2.0

/// The application analyzers the engine can attach to a connection.
///
/// Dispatch over analyzers is a static `switch` on this enum (style.md §4.3): no existentials on
/// the packet path. The raw value is what `Connection.analyzer` stores (0 = none attached);
/// `Connection.analyzerSlot` is the analyzer's pool slot, or for an analyzer whose whole
/// per-connection state fits in 32 bits (NTP), that state.
public enum AnalyzerKind: UInt8, CaseIterable, Sendable {
    /// Zeek's PIA: content probing (`ProtocolDetector`) on a TCP connection no analyzer took by
    /// port, until a `dpd.sig` signature picks the real analyzer.
    case pia = 255
    /// Zeek's `Analyzer::ANALYZER_DNS`, over UDP and TCP.
    case dns = 1
    /// Zeek's `Analyzer::ANALYZER_NTP` (UDP).
    case ntp = 2
    /// Zeek's `Analyzer::ANALYZER_HTTP`.
    case http = 3
    /// Zeek's `Analyzer::ANALYZER_SSL` (TLS and SSLv2 over TCP).
    case ssl = 4
    /// Zeek's `Analyzer::ANALYZER_SSH`.
    case ssh = 5
    /// Zeek's `Analyzer::ANALYZER_FTP` (the control connection).
    case ftp = 6
    /// Zeek's `Analyzer::ANALYZER_FTP_DATA`, scheduled for an announced data connection.
    case ftpData = 7
    /// Zeek's `Analyzer::ANALYZER_SMTP`.
    case smtp = 8
    /// Zeek's `Analyzer::ANALYZER_DHCP`.
    case dhcp = 9

    /// The service this analyzer adds to conn.log's `service` on confirmation (none for PIA).
    public var service: ServiceID? {
        switch self {
        case .pia: nil
        case .dns: .dns
        case .ntp: .ntp
        case .http: .http
        case .ssl: .ssl
        case .ssh: .ssh
        case .ftp: .ftp
        case .ftpData: .ftpData
        case .smtp: .smtp
        case .dhcp: .dhcp
        }
    }

    /// Zeek's `Analyzer::name` for the analyzer's tag, as analyzer.log writes it.
    public var zeekName: StaticString {
        switch self {
        case .pia: "PIA_TCP"
        case .dns: "DNS"
        case .ntp: "NTP"
        case .http: "HTTP"
        case .ssl: "SSL"
        case .ssh: "SSH"
        case .ftp: "FTP"
        case .ftpData: "FTP_DATA"
        case .smtp: "SMTP"
        case .dhcp: "DHCP"
        }
    }
}
