// SPDX-License-Identifier: Apache-2.0
import PeregrineConfig
import PeregrineEngine
import Testing

/// The `shunt:` section and `--shunt`/`--shunt-bytes`.
@Suite("Shunt configuration")
struct ShuntConfigurationTests {
    @Test("shunting is off by default; the section turns it on with its threshold")
    func section() throws {
        #expect(try parse("").get().engine.shunt == ShuntPolicy())
        let s = try parse("shunt:\n  enabled: true\n  encrypted: false\n  bytes: 10MiB\n").get()
        #expect(s.engine.shunt == ShuntPolicy(enabled: true, encrypted: false, bytes: 10 * 1024 * 1024))
    }

    @Test("bad values are reported with file, line and key")
    func badValues() {
        #expect(
            problems(parse("shunt:\n  enabled: sometimes\n  bytes: 10MB\n  bites: 1\n")) == [
                "test.yaml:2: shunt.enabled: expected true or false, got 'sometimes'",
                "test.yaml:3: shunt.bytes: '10MB': use binary units (KiB, MiB, GiB, TiB)",
                "test.yaml:4: shunt.bites: unknown key; did you mean 'shunt.bytes'?",
            ])
    }

    @Test("--shunt and --shunt-bytes override the file; a bad size names the flag")
    func flags() throws {
        var flags = CommandLineOverrides()
        flags.shunt = true
        flags.shuntBytes = "1GiB"
        let s = try parse("shunt:\n  enabled: false\n  bytes: 1MiB\n", overrides: flags).get()
        #expect(s.engine.shunt == ShuntPolicy(enabled: true, encrypted: true, bytes: 1 << 30))
        flags.shuntBytes = "lots"
        #expect(problems(parse("", overrides: flags)).contains { $0.contains("--shunt-bytes: 'lots' is not a size") })
    }
}
