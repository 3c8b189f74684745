// SPDX-License-Identifier: Apache-2.0

/// MIME type detection from a file's first bytes, the way Zeek's file analysis does it
/// (`file_sniff`): every `file-magic` signature of `base/frameworks/files/magic/*.sig` that
/// matches the beginning of the file is a candidate, and the one with the highest strength
/// wins. Never from file names or `Content-Type` headers.
///
/// The table below is a maintained subset of those signatures: the types HTTP and SMTP traffic
/// carries most (text, markup, scripts, images, archives, documents, executables, media), with
/// Zeek's MIME strings and strengths. Matching is a few prefix comparisons and short scans over
/// at most ``bufferSize`` bytes, done once per file.
public enum MIMESniffer {
    /// Zeek's `default_file_bof_buffer_size`: bytes buffered before the file is sniffed (or
    /// fewer, when the file ends sooner).
    public static let bufferSize = 4096

    /// One signature: a MIME type, its strength and how it matches.
    struct Signature {
        let mime: StaticString
        let strength: Int
        let match: Matcher
    }

    enum Matcher {
        /// The bytes at offset 0; `nil` matches any byte.
        case prefix([UInt8?])
        /// ASCII text at offset 0, compared case-insensitively.
        case text(StaticString)
        /// A markup tag after optional BOM, blanks, comments and an XML declaration
        /// (`<html`, `<!doctype html` …), case-insensitive.
        case markup(StaticString)
        /// `file-plaintext`: optional BOM, then 10 printable or space characters.
        case plainText
        /// `file-json` / `file-json2`: a JSON object or array opening.
        case json
        /// `#!…bin/[env ]NAME` with one of the names.
        case interpreter([StaticString])
    }

    /// The signature table (from `magic/general.sig`, `image.sig`, `archive.sig`,
    /// `executable.sig`, `office.sig`, `audio.sig`, `video.sig`, `font.sig`).
    static let signatures: [Signature] = [
        Signature(mime: "text/plain", strength: -20, match: .plainText),
        Signature(mime: "text/json", strength: 1, match: .json),
        Signature(mime: "application/xml", strength: 10, match: .markup("<?xml ")),
        Signature(mime: "text/html", strength: 100, match: .markup("<!doctype html")),
        Signature(mime: "text/html", strength: 100, match: .markup("<html")),
        Signature(mime: "text/html", strength: 100, match: .markup("<meta http-equiv")),
        Signature(mime: "text/html", strength: 20, match: .markup("<head")),
        Signature(mime: "text/html", strength: 20, match: .markup("<title")),
        Signature(mime: "text/html", strength: 20, match: .markup("<body")),
        Signature(mime: "text/rss", strength: 90, match: .markup("<rss")),
        Signature(mime: "application/soap+xml", strength: 49, match: .markup("<soap:envelope")),
        Signature(mime: "application/soap+xml", strength: 49, match: .markup("<soap-env:envelope")),
        Signature(mime: "text/x-cross-domain-policy", strength: 49, match: .markup("<cross-domain-policy")),
        Signature(mime: "application/xml-rpc", strength: 49, match: .markup("<methodresponse>")),
        Signature(mime: "application/javascript", strength: 60, match: .markup("<script type=\"text/javascript")),
        Signature(mime: "application/javascript", strength: 60, match: .markup("<script language=\"javascript")),
        Signature(mime: "application/javascript", strength: 60, match: .text("(function(){")),
        Signature(mime: "application/javascript", strength: 60, match: .markup("document.write(")),
        Signature(mime: "application/x-shockwave-flash", strength: 60, match: .prefix([0x46, 0x57, 0x53])),
        Signature(mime: "application/x-shockwave-flash", strength: 60, match: .prefix([0x43, 0x57, 0x53])),
        Signature(mime: "application/x-shockwave-flash", strength: 60, match: .prefix([0x5A, 0x57, 0x53])),
        Signature(mime: "application/x-java-applet", strength: 71, match: .prefix([0xCA, 0xFE, 0xBA, 0xBE])),
        Signature(mime: "application/x-pem", strength: 0, match: .text("-----BEGIN CERTIFICATE-----")),
        Signature(mime: "application/vnd.tcpdump.pcap", strength: 70, match: .prefix([0xA1, 0xB2, 0xC3, 0xD4])),
        Signature(mime: "application/vnd.tcpdump.pcap", strength: 70, match: .prefix([0xD4, 0xC3, 0xB2, 0xA1])),
        Signature(mime: "text/x-shellscript", strength: 250, match: .interpreter(["sh", "bash", "csh", "zsh", "ksh", "tcsh"])),
        Signature(mime: "text/x-perl", strength: 60, match: .interpreter(["perl"])),
        Signature(mime: "text/x-python", strength: 60, match: .interpreter(["python"])),
        Signature(mime: "text/x-ruby", strength: 60, match: .interpreter(["ruby"])),
        Signature(mime: "text/x-php", strength: 60, match: .interpreter(["php"])),
        Signature(mime: "application/x-executable", strength: 50,
                  match: .prefix([0x7F, 0x45, 0x4C, 0x46, 0x01, 0x01, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, 0x02, 0x00])),
        Signature(mime: "application/x-executable", strength: 50,
                  match: .prefix([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, 0x02, 0x00])),
        Signature(mime: "application/x-sharedlib", strength: 50,
                  match: .prefix([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, 0x03, 0x00])),
        Signature(mime: "application/x-dosexec", strength: 51, match: .prefix([0x4D, 0x5A])),
        Signature(mime: "application/pdf", strength: 80, match: .text("%PDF")),
        Signature(mime: "application/x-gzip", strength: 100, match: .prefix([0x1F, 0x8B])),
        Signature(mime: "application/x-bzip2", strength: 100, match: .text("BZh")),
        Signature(mime: "application/zip", strength: 70, match: .prefix([0x50, 0x4B, 0x03, 0x04])),
        Signature(mime: "application/x-rar", strength: 70, match: .text("Rar!")),
        Signature(mime: "application/x-7z-compressed", strength: 100, match: .prefix([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C])),
        Signature(mime: "application/x-xz", strength: 100, match: .prefix([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00])),
        Signature(mime: "application/vnd.ms-cab-compressed", strength: 110, match: .text("MSCF\0\0\0\0")),
        Signature(mime: "application/msword", strength: 50,
                  match: .prefix([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])),
        Signature(mime: "image/gif", strength: 70, match: .text("GIF87a")),
        Signature(mime: "image/gif", strength: 70, match: .text("GIF89a")),
        Signature(mime: "image/png", strength: 70, match: .prefix([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])),
        Signature(mime: "image/jpeg", strength: 52, match: .prefix([0xFF, 0xD8, 0xFF])),
        Signature(mime: "image/x-ms-bmp", strength: 50, match: .prefix([0x42, 0x4D, nil, nil, nil, nil, 0x00, 0x00, 0x00, 0x00])),
        Signature(mime: "image/x-icon", strength: 70, match: .prefix([0x00, 0x00, 0x01, 0x00])),
        Signature(mime: "image/tiff", strength: 70, match: .prefix([0x49, 0x49, 0x2A, 0x00])),
        Signature(mime: "image/tiff", strength: 70, match: .prefix([0x4D, 0x4D, 0x00, 0x2A])),
        Signature(mime: "image/webp", strength: 70,
                  match: .prefix([0x52, 0x49, 0x46, 0x46, nil, nil, nil, nil, 0x57, 0x45, 0x42, 0x50])),
        Signature(mime: "image/svg+xml", strength: 100, match: .markup("<svg")),
        Signature(mime: "audio/mpeg", strength: 20, match: .text("ID3")),
        Signature(mime: "audio/x-wav", strength: 70,
                  match: .prefix([0x52, 0x49, 0x46, 0x46, nil, nil, nil, nil, 0x57, 0x41, 0x56, 0x45])),
        Signature(mime: "video/x-flv", strength: 70, match: .text("FLV")),
        Signature(mime: "video/mp4", strength: 70, match: .prefix([nil, nil, nil, nil, 0x66, 0x74, 0x79, 0x70])),
        Signature(mime: "application/ogg", strength: 70, match: .text("OggS")),
        Signature(mime: "application/font-woff", strength: 70, match: .text("wOFF")),
    ]

    /// The MIME type of a file that begins with `bytes` (at most ``bufferSize`` are looked at),
    /// or `nil` when no signature matches (files.log `mime_type` stays unset).
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> StaticString? {
        let b = bytes.count > bufferSize ? UnsafeRawBufferPointer(rebasing: bytes[0..<bufferSize]) : bytes
        var best: Signature?
        for s in signatures where best == nil || s.strength > best!.strength {
            if matches(s.match, b) { best = s }
        }
        return best?.mime
    }

    static func matches(_ m: Matcher, _ b: UnsafeRawBufferPointer) -> Bool {
        switch m {
        case .prefix(let p):
            guard b.count >= p.count else { return false }
            for (k, v) in p.enumerated() where v != nil && b[k] != v! { return false }
            return true
        case .text(let t):
            return textAt(b, 0, t)
        case .markup(let tag):
            var i = skipBOM(b)
            i = skipBlanksAndComments(b, i)
            if !tagEquals(tag, "<?xml "), textAt(b, i, "<?xml ") {
                // An XML declaration may precede the tag.
                while i + 1 < b.count && !(b[i] == 0x3F && b[i + 1] == 0x3E) { i += 1 }
                i = skipBlanksAndComments(b, i + 2)
            }
            return textAt(b, i, tag)
        case .plainText:
            var i = skipBOM(b)
            var n = 0
            while i < b.count && n < 10 {
                let c = b[i]
                guard (c >= 0x20 && c <= 0x7E) || (c >= 0x09 && c <= 0x0D) else { return false }
                n += 1
                i += 1
            }
            return n == 10
        case .json:
            var i = skipBOM(b)
            i = skipBlanks(b, i)
            guard i < b.count else { return false }
            if b[i] == 0x7B {
                i = skipBlanks(b, i + 1)
                guard i < b.count else { return false }
                if b[i] == 0x22 {
                    var e = i + 1
                    while e < b.count && b[e] != 0x22 { e += 1 }
                    guard e > i + 1, e < b.count else { return false }
                    i = e + 1
                } else {
                    guard (b[i] | 0x20) >= 0x61 && (b[i] | 0x20) <= 0x7A else { return false }
                    while i < b.count && ((b[i] | 0x20) >= 0x61 && (b[i] | 0x20) <= 0x7A || (b[i] >= 0x30 && b[i] <= 0x39) || b[i] == 0x5F) { i += 1 }
                }
                i = skipBlanks(b, i)
                guard i < b.count, b[i] == 0x3A else { return false }
                i = skipBlanks(b, i + 1)
                guard i < b.count else { return false }
                let c = b[i]
                return c == 0x22 || c == 0x5B || c == 0x7B || (c >= 0x30 && c <= 0x39) || textAt(b, i, "true")
                    || textAt(b, i, "false")
            }
            if b[i] == 0x5B {
                i = skipBlanks(b, i + 1)
                return i < b.count && (b[i] == 0x7B || b[i] == 0x5B)
            }
            return false
        case .interpreter(let names):
            guard b.count > 2, b[0] == 0x23, b[1] == 0x21 else { return false }
            var e = 2
            while e < b.count && b[e] != 0x0A && e < 64 { e += 1 }
            let line = UnsafeRawBufferPointer(rebasing: b[2..<e])
            guard let slash = lastIndex(of: "bin/", in: line) else { return false }
            var i = slash + 4
            if textAt(line, i, "env") {
                i += 3
                while i < line.count && (line[i] == 0x20 || line[i] == 0x09) { i += 1 }
            }
            return names.contains { textAt(line, i, $0) }
        }
    }

    static func tagEquals(_ a: StaticString, _ b: StaticString) -> Bool {
        a.utf8CodeUnitCount == b.utf8CodeUnitCount && textAt(
            UnsafeRawBufferPointer(start: a.utf8Start, count: a.utf8CodeUnitCount), 0, b)
    }

    static func skipBOM(_ b: UnsafeRawBufferPointer) -> Int {
        b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF ? 3 : 0
    }

    static func skipBlanks(_ b: UnsafeRawBufferPointer, _ start: Int) -> Int {
        var i = start
        while i < b.count && (b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D || b[i] == 0x0A) { i += 1 }
        return i
    }

    /// Blanks and `<!-- … -->` comments, as the markup signatures allow before their tag.
    static func skipBlanksAndComments(_ b: UnsafeRawBufferPointer, _ start: Int) -> Int {
        var i = skipBlanks(b, start)
        while textAt(b, i, "<!--") {
            var e = i + 4
            while e + 2 < b.count && !(b[e] == 0x2D && b[e + 1] == 0x2D && b[e + 2] == 0x3E) { e += 1 }
            guard e + 2 < b.count else { return i }
            i = skipBlanks(b, e + 3)
        }
        return i
    }

    /// Case-insensitive comparison of ASCII text at `offset`.
    static func textAt(_ b: UnsafeRawBufferPointer, _ offset: Int, _ t: StaticString) -> Bool {
        let n = t.utf8CodeUnitCount
        guard offset >= 0, offset + n <= b.count else { return false }
        for k in 0..<n {
            let x = b[offset + k], y = t.utf8Start[k]
            if x == y { continue }
            let lx = x | 0x20
            guard lx >= 0x61 && lx <= 0x7A && lx == y | 0x20 else { return false }
        }
        return true
    }

    static func lastIndex(of t: StaticString, in b: UnsafeRawBufferPointer) -> Int? {
        var i = b.count - t.utf8CodeUnitCount
        while i >= 0 {
            if textAt(b, i, t) { return i }
            i -= 1
        }
        return nil
    }
}
