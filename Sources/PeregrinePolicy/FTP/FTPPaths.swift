// SPDX-License-Identifier: Apache-2.0

/// Zeek's path helpers as FTP uses them (`base/utils/paths.zeek` and the `compress_path`
/// built-in): joining a file name to the working directory, resolving `..` and `.` segments
/// and repeated slashes, and taking a path out of a `257` reply.
enum FTPPaths {
    /// `build_path`: `file` itself when it is absolute (`/…` or `X:\…`/`X:/…`) or `directory`
    /// is empty, else the two joined with one `/`.
    static func build(directory: [UInt8], file: [UInt8]) -> [UInt8] {
        if directory.isEmpty || isAbsolute(file) { return file }
        if directory.last == UInt8(ascii: "/") { return directory + file }
        return directory + [UInt8(ascii: "/")] + file
    }

    static func isAbsolute(_ p: [UInt8]) -> Bool {
        if p.first == UInt8(ascii: "/") { return true }
        guard p.count >= 3 else { return false }
        let letter = (p[0] | 0x20) >= 0x61 && (p[0] | 0x20) <= 0x7A
        return letter && p[1] == UInt8(ascii: ":") && (p[2] == UInt8(ascii: "\\") || p[2] == UInt8(ascii: "/"))
    }

    /// `compress_path`: a `name/..` pair goes away, a `/.` segment after a slash goes away, and
    /// runs of slashes become one. A leading relative `./` stays (Zeek keeps it: the corpus
    /// shows `ftp://host/./robots.txt`).
    static func compress(_ path: [UInt8]) -> [UInt8] {
        let slash = UInt8(ascii: "/")
        let absolute = path.first == slash
        var segments: [ArraySlice<UInt8>] = []
        var leadingDot = false
        for (i, segment) in path.split(separator: slash, omittingEmptySubsequences: true).enumerated() {
            if segment.elementsEqual([UInt8(ascii: ".")]) {
                if i == 0 && !absolute { leadingDot = true }
                continue
            }
            if segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]),
                let last = segments.last, !last.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")])
            {
                segments.removeLast()
                continue
            }
            segments.append(segment)
        }
        var out: [UInt8] = []
        if absolute { out.append(slash) }
        if leadingDot {
            out.append(UInt8(ascii: "."))
            if !segments.isEmpty { out.append(slash) }
        }
        for (i, s) in segments.enumerated() {
            if i > 0 { out.append(slash) }
            out += s
        }
        if !path.isEmpty && path.last == slash && !segments.isEmpty { out.append(slash) }
        return out
    }

    /// `extract_path`: the first quoted absolute path of a reply, else the first unquoted one
    /// (up to a blank or quote), else empty.
    static func extractPath(_ m: UnsafeRawBufferPointer) -> [UInt8] {
        let quote = UInt8(ascii: "\"")
        var i = 0
        while i < m.count {
            if m[i] == quote, let end = (i + 1 < m.count ? m[(i + 1)...].firstIndex(of: quote) : nil) {
                let inner = Array(m[(i + 1)..<end])
                if isAbsolute(inner) { return inner }
                i = end + 1
                continue
            }
            i += 1
        }
        for start in 0..<m.count {
            let rest = Array(m[start...])
            guard isAbsolute(rest) || rest.first == UInt8(ascii: "/") else { continue }
            var end = start
            while end < m.count && m[end] != UInt8(ascii: " ") && m[end] != quote { end += 1 }
            return Array(m[start..<end])
        }
        return []
    }
}
