// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Zeek's helpers for addresses in mail commands and headers (`base/utils/email.zeek`,
/// `base/utils/addrs.zeek`), as smtp.log uses them.
enum EmailAddresses {
    static func isDelimiter(_ b: UInt8) -> Bool {
        b == 0x3C || b == 0x3E || b == 0x2C || b == 0x3A || b == 0x3B || b == 0x20 || b == 0x09
    }

    /// `extract_email_addrs_vec`: every `local@domain` token, delimited by `<>,:;` and blanks,
    /// in order.
    static func extract(_ text: UnsafeRawBufferPointer) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        while i < text.count {
            while i < text.count && isDelimiter(text[i]) { i += 1 }
            let start = i
            while i < text.count && !isDelimiter(text[i]) { i += 1 }
            let token = UnsafeRawBufferPointer(rebasing: text[start..<i])
            if let at = token.firstIndex(of: 0x40), at > 0, at < token.count - 1 { out.append(Array(token)) }
        }
        return out
    }

    /// `split_mime_email_addresses`: the comma-separated entries of a header (commas inside
    /// double quotes do not split), blanks trimmed, empty entries dropped.
    static func splitMIME(_ text: UnsafeRawBufferPointer) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var current: [UInt8] = []
        var quoted = false
        func push() {
            var s = current[...]
            while let f = s.first, f == 0x20 || f == 0x09 { s = s.dropFirst() }
            while let l = s.last, l == 0x20 || l == 0x09 { s = s.dropLast() }
            if !s.isEmpty { out.append(Array(s)) }
            current.removeAll(keepingCapacity: true)
        }
        for b in text {
            if b == 0x22 { quoted.toggle() }
            if b == 0x2C && !quoted {
                push()
            } else {
                current.append(b)
            }
        }
        push()
        return out
    }

    /// `extract_ip_addresses` for dotted IPv4 addresses: every well-formed one, in order.
    static func ipv4Addresses(_ text: UnsafeRawBufferPointer) -> [IPAddress] {
        var out: [IPAddress] = []
        var i = 0
        while i < text.count {
            guard text[i] >= 0x30 && text[i] <= 0x39, i == 0 || !(text[i - 1] >= 0x30 && text[i - 1] <= 0x39) else {
                i += 1
                continue
            }
            var j = i
            var value: UInt32 = 0
            var parts = 0
            var ok = true
            while parts < 4 {
                var part: UInt32 = 0
                var digits = 0
                while j < text.count && text[j] >= 0x30 && text[j] <= 0x39 && digits < 4 {
                    part = part * 10 + UInt32(text[j] - 0x30)
                    digits += 1
                    j += 1
                }
                if digits == 0 || digits > 3 || part > 255 {
                    ok = false
                    break
                }
                value = value << 8 | part
                parts += 1
                if parts < 4 {
                    guard j < text.count && text[j] == 0x2E else {
                        ok = false
                        break
                    }
                    j += 1
                }
            }
            if ok && !(j < text.count && text[j] >= 0x30 && text[j] <= 0x39) {
                out.append(IPAddress(ipv4: value))
                i = j
            } else {
                i += 1
            }
        }
        return out
    }
}
