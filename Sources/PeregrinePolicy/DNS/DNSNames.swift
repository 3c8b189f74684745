// SPDX-License-Identifier: Apache-2.0

/// The name tables of Zeek's `base/protocols/dns/consts.zeek` used by dns.log: a known value
/// maps to its literal, any other to the table's default (`query-<n>`, `qclass-<n>`, ...), which
/// the caller renders from `fallbackPrefix`.
enum DNSNames {
    /// `DNS::query_types`.
    static func qtype(_ v: UInt16) -> StaticString? {
        switch v {
        case 1: "A"
        case 2: "NS"
        case 3: "MD"
        case 4: "MF"
        case 5: "CNAME"
        case 6: "SOA"
        case 7: "MB"
        case 8: "MG"
        case 9: "MR"
        case 10: "NULL"
        case 11: "WKS"
        case 12: "PTR"
        case 13: "HINFO"
        case 14: "MINFO"
        case 15: "MX"
        case 16: "TXT"
        case 17: "RP"
        case 18: "AFSDB"
        case 19: "X25"
        case 20: "ISDN"
        case 21: "RT"
        case 22: "NSAP"
        case 23: "NSAP-PTR"
        case 24: "SIG"
        case 25: "KEY"
        case 26: "PX"
        case 27: "GPOS"
        case 28: "AAAA"
        case 29: "LOC"
        case 30: "NXT"
        case 31: "EID"
        case 32: "NIMLOC"
        case 33: "SRV"
        case 34: "ATMA"
        case 35: "NAPTR"
        case 36: "KX"
        case 37: "CERT"
        case 38: "A6"
        case 39: "DNAME"
        case 40: "SINK"
        case 41: "OPT"
        case 42: "APL"
        case 43: "DS"
        case 44: "SSHFP"
        case 45: "IPSECKEY"
        case 46: "RRSIG"
        case 47: "NSEC"
        case 48: "DNSKEY"
        case 49: "DHCID"
        case 50: "NSEC3"
        case 51: "NSEC3PARAM"
        case 52: "TLSA"
        case 53: "SMIMEA"
        case 55: "HIP"
        case 56: "NINFO"
        case 57: "RKEY"
        case 58: "TALINK"
        case 59: "CDS"
        case 60: "CDNSKEY"
        case 61: "OPENPGPKEY"
        case 62: "CSYNC"
        case 63: "ZONEMD"
        case 64: "SVCB"
        case 65: "HTTPS"
        case 99: "SPF"
        case 100: "UINFO"
        case 101: "UID"
        case 102: "GID"
        case 103: "UNSPEC"
        case 104: "NID"
        case 105: "L32"
        case 106: "L64"
        case 107: "LP"
        case 108: "EUI48"
        case 109: "EUI64"
        case 249: "TKEY"
        case 250: "TSIG"
        case 251: "IXFR"
        case 252: "AXFR"
        case 253: "MAILB"
        case 254: "MAILA"
        case 255: "*"
        case 256: "URI"
        case 257: "CAA"
        case 32768: "TA"
        case 32769: "DLV"
        case 65281: "WINS"
        case 65282: "WINS-R"
        case 65422: "XPF"
        case 65521: "INTEGRITY"
        default: nil
        }
    }
    static let qtypeFallback: StaticString = "query-"

    /// `DNS::classes`.
    static func qclass(_ v: UInt16) -> StaticString? {
        switch v {
        case 1: "C_INTERNET"
        case 2: "C_CSNET"
        case 3: "C_CHAOS"
        case 4: "C_HESIOD"
        case 254: "C_NONE"
        case 255: "C_ANY"
        default: nil
        }
    }
    static let qclassFallback: StaticString = "qclass-"

    /// `DNS::base_errors` (header rcodes are 4 bits, so only 0-15 occur here).
    static func rcode(_ v: UInt8) -> StaticString? {
        switch v {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        case 6: "YXDOMAIN"
        case 7: "YXRRSET"
        case 8: "NXRRSet"
        case 9: "NOTAUTH"
        case 10: "NOTZONE"
        case 11: "unassigned-11"
        case 12: "unassigned-12"
        case 13: "unassigned-13"
        case 14: "unassigned-14"
        case 15: "unassigned-15"
        default: nil
        }
    }
    static let rcodeFallback: StaticString = "rcode-"

    /// `DNS::opcodes`.
    static func opcode(_ v: UInt8) -> StaticString? {
        switch v {
        case 0: "query"
        case 1: "iquery"
        case 2: "server-status"
        case 4: "notify"
        case 5: "dynamic-update"
        case 6: "dso"
        default: nil
        }
    }
    static let opcodeFallback: StaticString = "opcode-"

    /// `DNS::netbios_opcodes` (RFC 1002 §4.2.1.1), used when the responder port is 137.
    static func netBIOSOpcode(_ v: UInt8) -> StaticString? {
        switch v {
        case 0: "netbios-query"
        case 5: "netbios-registration"
        case 6: "netbios-release"
        case 7: "netbios-wack"
        case 8: "netbios-refresh"
        default: nil
        }
    }
    static let netBIOSOpcodeFallback: StaticString = "netbios-opcode-"
}
