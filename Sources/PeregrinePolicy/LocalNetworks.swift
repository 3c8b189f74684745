// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Zeek's `Site::local_nets`, deciding conn.log's `local_orig` and `local_resp`.
///
/// Zeek (`base/utils/site.zeek`) treats the special-purpose ranges of
/// `Site::private_address_space` as local while `Site::private_address_space_is_local` is true,
/// its default; so the columns are set even when no local network is configured.
public struct LocalNetworks: Sendable {
    /// The configured networks plus, unless disabled, the private address space.
    public private(set) var subnets: [IPSubnet]

    /// `Site::private_address_space` as Zeek 9 defines it (IPv4 ranges, their 6to4 images under
    /// 2002::/16, and the IPv6 special-purpose ranges).
    public static let privateAddressSpace: [IPSubnet] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
        "224.0.0.0/24", "239.0.0.0/8", "240.0.0.0/4", "255.255.255.255/32",
        "2002:0000::/24", "2002:0a00::/24", "2002:6440::/26", "2002:7f00::/24", "2002:a9fe::/32", "2002:ac10::/28",
        "2002:c000::/40", "2002:c000:0200::/40", "2002:c0a8::/32", "2002:c612::/31", "2002:c633:6400::/40",
        "2002:cb00:7100::/40", "2002:e000::/40", "2002:ef00::/24", "2002:f000::/20", "2002:ffff:ffff::/48",
        "::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:2::/48", "2001:db8::/32",
        "fc00::/7", "fe80::/10", "fec0::/10",
    ].compactMap { IPSubnet($0) }

    /// - Parameters:
    ///   - configured: `Site::local_nets`.
    ///   - privateAddressSpaceIsLocal: `Site::private_address_space_is_local` (default true).
    public init(configured: [IPSubnet] = [], privateAddressSpaceIsLocal: Bool = true) {
        subnets = configured + (privateAddressSpaceIsLocal ? Self.privateAddressSpace : [])
    }

    /// False when no network is local: Zeek then leaves `local_orig`/`local_resp` unset.
    public var isEmpty: Bool { subnets.isEmpty }

    /// Zeek's `Site::is_local_addr`.
    public func contains(_ address: IPAddress) -> Bool {
        for net in subnets where net.contains(address) { return true }
        return false
    }
}
