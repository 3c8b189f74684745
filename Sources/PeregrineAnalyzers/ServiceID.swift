// SPDX-License-Identifier: Apache-2.0

/// Every service a connection can confirm, one table for tunnel decapsulators and application
/// analyzers alike, so conn.log's `service` can list both (an outer Teredo connection that also
/// carries DNS, for instance).
///
/// The raw values are what `Connection.services` (a `ServiceSet`) stores; 0 means "none", so ids
/// start at 1. Names are Zeek's, lower-cased analyzer names as conn.log writes them.
///
/// Order: Zeek keeps `c$service` as a set and writes it in the order services were added, which
/// for one connection is the order its analyzers confirmed; `ServiceSet` keeps that order.
public enum ServiceID: UInt8, CaseIterable, Sendable {
    case vxlan = 1
    case geneve
    case teredo
    case ayiya
    case gtpv1
    case dns
    case ntp
    case http
    case ssl
    case ssh
    case ftp
    case ftpData
    case smtp
    case dhcp

    /// The conn.log spelling.
    public var name: StaticString {
        switch self {
        case .vxlan: "vxlan"
        case .geneve: "geneve"
        case .teredo: "teredo"
        case .ayiya: "ayiya"
        case .gtpv1: "gtpv1"
        case .dns: "dns"
        case .ntp: "ntp"
        case .http: "http"
        case .ssl: "ssl"
        case .ssh: "ssh"
        case .ftp: "ftp"
        case .ftpData: "ftp-data"
        case .smtp: "smtp"
        case .dhcp: "dhcp"
        }
    }

    /// The name of a stored id, or `-` for one no release of this table knows.
    public static func name(of id: UInt8) -> StaticString {
        ServiceID(rawValue: id)?.name ?? "-"
    }
}
