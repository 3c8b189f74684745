// SPDX-License-Identifier: Apache-2.0

/// SSH name-list handling shared by the analyzer and the policy (RFC 4251 §5: comma-separated
/// names), with Zeek's splitting (`name_list_to_vector`: empty names are dropped) and its
/// negotiation (`find_alg` in `base/protocols/ssh/main.zeek`).
public enum SSHNames {
    /// Calls `body` with each non-empty name of a comma-separated list, in order, until it
    /// returns false.
    public static func forEachName(
        _ list: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Bool
    ) {
        var start = 0
        while start < list.count {
            var end = start
            while end < list.count && list[end] != UInt8(ascii: ",") { end += 1 }
            if end > start, !body(UnsafeRawBufferPointer(rebasing: list[start..<end])) { return }
            start = end + 1
        }
    }

    /// The client's first name that the server lists too (RFC 4253 §7.1), or `nil` when none is
    /// common (Zeek then logs "Algorithm negotiation failed").
    public static func negotiate(
        client: UnsafeRawBufferPointer, server: UnsafeRawBufferPointer
    ) -> UnsafeRawBufferPointer? {
        var chosen: UnsafeRawBufferPointer? = nil
        forEachName(client) { c in
            forEachName(server) { s in
                if c.elementsEqual(s) { chosen = c }
                return chosen == nil
            }
            return chosen == nil
        }
        return chosen
    }
}
