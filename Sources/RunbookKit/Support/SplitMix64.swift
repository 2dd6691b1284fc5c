/// SplitMix64 (Steele, Lea and Flood): a tiny, fast, seedable generator.
/// runbook uses its finaliser to spread the jitter hash, and tests and
/// benchmarks use the generator for repeatable random inputs.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    static let golden: UInt64 = 0x9e37_79b9_7f4a_7c15
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= Self.golden
        return Self.mix(state)
    }

    /// A whole number in `0..<bound`.
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// The finaliser: scrambles `value`'s bits.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
