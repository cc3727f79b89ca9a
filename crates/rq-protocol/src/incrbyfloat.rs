//! Redis' `HINCRBYFLOAT` arithmetic, reproduced so that a slot can write its worker hash's
//! `total_working_time` as a value instead of an increment (issue 17: one Redis call per job
//! less). The value must be exactly the text `HINCRBYFLOAT` would leave, because that is what
//! Python readers see:
//!
//! * Redis parses the field and the increment with `strtold` and adds them as `long double`:
//!   on x86-64 the x87 extended format, a 64-bit significand, rounded to nearest-even;
//! * it writes the sum with `snprintf("%.17Lf")` and drops the trailing zeros (and a trailing
//!   point): `ld2string(…, LD_STR_HUMAN)`.
//!
//! Other builds of Redis round differently (a 128-bit `long double` on aarch64, say), so the
//! writer only uses this after [`PROBE`] has shown that the server computes the same
//! ([`probe_matches`]); otherwise it keeps sending `HINCRBYFLOAT`. Values here are
//! non-negative, finite and of the sizes working times have; anything else (a sign, an
//! exponent out of range, more digits than 38) is `None`, and the caller increments instead.

/// A non-negative x87 extended value `mant × 2^exp`; `mant` has its top bit set, or is 0.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Ext {
    mant: u64,
    exp: i32,
}

const ZERO: Ext = Ext { mant: 0, exp: 0 };

/// Rounds `acc × 2^low_exp` (plus less than one unit of `acc`'s last bit when `sticky`) to a
/// 64-bit significand, nearest-even.
fn round(acc: u128, low_exp: i32, sticky: bool) -> Ext {
    if acc == 0 {
        return ZERO;
    }
    let bits = 128 - acc.leading_zeros() as i32;
    if bits <= 64 {
        // Exact (any sticky part is below the last bit only when bits == 64, handled below).
        let shift = 64 - bits;
        let mant = (acc as u64) << shift;
        return Ext {
            mant,
            exp: low_exp - shift,
        };
    }
    let shift = (bits - 64) as u32;
    let mut mant = (acc >> shift) as u64;
    let rem = acc & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    let mut exp = low_exp + shift as i32;
    if rem > half || (rem == half && (sticky || mant & 1 == 1)) {
        match mant.checked_add(1) {
            Some(m) => mant = m,
            None => {
                mant = 1 << 63;
                exp += 1;
            }
        }
    }
    Ext { mant, exp }
}

/// `num / den` rounded to an [`Ext`] (`den` ≥ 1, below 2^127).
fn ratio(num: u128, den: u128) -> Option<Ext> {
    if num == 0 {
        return Some(ZERO);
    }
    // 66 significant bits: the significand, a round bit and one more; the rest is sticky.
    const WANT: i32 = 66;
    let ip = num / den;
    let mut r = num % den;
    let mut acc = ip;
    let mut bits = if ip == 0 {
        0
    } else {
        128 - ip.leading_zeros() as i32
    };
    let mut low_exp = 0;
    if bits > WANT {
        let shift = (bits - WANT) as u32;
        let sticky = ip & ((1u128 << shift) - 1) != 0 || r != 0;
        return Some(round(ip >> shift, shift as i32, sticky));
    }
    while bits < WANT {
        r <<= 1;
        let bit = r >= den;
        if bit {
            r -= den;
        }
        acc = (acc << 1) | u128::from(bit);
        low_exp -= 1;
        if acc != 0 {
            bits += 1;
        }
        if low_exp < -16_500 {
            return None; // far below any working time (and x87's range)
        }
    }
    Some(round(acc, low_exp, r != 0))
}

/// Parses a decimal as `strtold` does (correctly rounded): digits, an optional fraction and
/// an optional exponent, nothing else.
fn parse(s: &str) -> Option<Ext> {
    let (num, exp10) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut digits: u128 = 0;
    for c in int.bytes().chain(frac.bytes()) {
        if !c.is_ascii_digit() {
            return None;
        }
        digits = digits.checked_mul(10)?.checked_add(u128::from(c - b'0'))?;
    }
    let e = exp10.checked_sub(i32::try_from(frac.len()).ok()?)?;
    if e >= 0 {
        let scale = 10u128.checked_pow(e.unsigned_abs())?;
        ratio(digits.checked_mul(scale)?, 1)
    } else {
        let k = e.unsigned_abs();
        if k > 38 {
            return None;
        }
        ratio(digits, 10u128.pow(k))
    }
}

/// `a + b`, rounded to nearest-even.
fn add(a: Ext, b: Ext) -> Ext {
    if a.mant == 0 {
        return b;
    }
    if b.mant == 0 {
        return a;
    }
    let (hi, lo) = if a.exp >= b.exp { (a, b) } else { (b, a) };
    let d = (hi.exp - lo.exp) as u32;
    // hi's significand at bits 63..126 (the sum cannot carry out of 128 bits).
    let h = u128::from(hi.mant) << 63;
    let wide = u128::from(lo.mant) << 63;
    let (l, sticky) = if d >= 127 {
        (0, lo.mant != 0)
    } else {
        (wide >> d, wide & ((1u128 << d) - 1) != 0)
    };
    round(h + l, hi.exp - 63, sticky)
}

/// `%.17Lf` without trailing zeros or a trailing point, as `ld2string(…, LD_STR_HUMAN)`
/// writes it (glibc rounds the exact value to nearest, ties to even).
fn format(v: Ext) -> Option<String> {
    const SCALE: u128 = 100_000_000_000_000_000; // 10^17
    let p = u128::from(v.mant) * SCALE; // < 2^121
    let x = if v.exp >= 0 {
        p.checked_mul(1u128.checked_shl(v.exp.unsigned_abs())?)?
    } else {
        let e = v.exp.unsigned_abs();
        if e >= 128 {
            0
        } else {
            let q = p >> e;
            let rem = p & ((1u128 << e) - 1);
            let half = 1u128 << (e - 1);
            if rem > half || (rem == half && q & 1 == 1) {
                q + 1
            } else {
                q
            }
        }
    };
    let digits = format!("{x:018}");
    let (int, frac) = digits.split_at(digits.len() - 17);
    let frac = frac.trim_end_matches('0');
    Some(if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    })
}

/// The text `HINCRBYFLOAT` leaves in a field holding `current` after adding `incr`, or `None`
/// when either is outside what this reproduces.
pub fn incr_by_float(current: &str, incr: &str) -> Option<String> {
    format(add(parse(current)?, parse(incr)?))
}

/// Increments that tell x87 rounding from others in the 17th decimal: sums whose exact values
/// need more than 64 bits, at the sizes totals reach (hours of work), and a tie.
pub const PROBE: [&str; 6] = [
    "12345.678901",
    "0.000123",
    "5e-05",
    "98765.4321",
    "0.1",
    "3.814697265625e-06",
];

/// Appends the probe, as one transaction: `HINCRBYFLOAT key t` of each [`PROBE`] increment in
/// turn, then `DEL key`; its replies (the sums) go to [`probe_matches`].
pub fn probe(p: &mut redis::Pipeline, key: &str) {
    p.atomic();
    for inc in PROBE {
        p.cmd("HINCRBYFLOAT").arg(key).arg("t").arg(inc);
    }
    p.cmd("DEL").arg(key).ignore();
}

/// Whether the server's replies to `HINCRBYFLOAT` of each [`PROBE`] increment in turn (from
/// an absent field) are the texts this module computes.
pub fn probe_matches(replies: &[String]) -> bool {
    let mut current = "0".to_string();
    replies.len() == PROBE.len()
        && PROBE
            .iter()
            .zip(replies)
            .all(|(incr, reply)| match incr_by_float(&current, incr) {
                Some(next) if next == *reply => {
                    current = next;
                    true
                }
                _ => false,
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly_representable_values() {
        assert_eq!(parse("0"), Some(ZERO));
        assert_eq!(
            parse("1"),
            Some(Ext {
                mant: 1 << 63,
                exp: -63
            })
        );
        assert_eq!(parse("0.5"), parse("5e-1"));
        assert_eq!(parse("12.0"), parse("12"));
        for bad in ["", ".", "-1", " 1", "1x", "inf", "nan", "1e", "0x10"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_like_ld2string() {
        assert_eq!(format(parse("0").unwrap()).unwrap(), "0");
        assert_eq!(format(parse("2.5").unwrap()).unwrap(), "2.5");
        assert_eq!(format(parse("12").unwrap()).unwrap(), "12");
        // 0.1 as an x87 value is 0.1000000000000000000013552527…: 17 decimals hide it.
        assert_eq!(incr_by_float("0", "0.1").unwrap(), "0.1");
    }

    #[test]
    fn adds_with_x87_rounding() {
        // What Redis 7.0.15 on x86-64 replied to `HINCRBYFLOAT k f` of each PROBE increment
        // in turn, from no field (tests/incrbyfloat.rs checks against a live server).
        let redis = [
            "12345.67890099999999975",
            "12345.67902400000000007",
            "12345.67907399999999996",
            "111111.11117399999999833",
            "111111.21117399999999975",
            "111111.21117781469726538",
        ];
        assert!(probe_matches(&redis.map(String::from)));
        assert!(!probe_matches(
            &redis[..5].iter().map(|s| s.to_string()).collect::<Vec<_>>()
        ));
        // A tie at the 17th decimal goes to even.
        assert_eq!(
            incr_by_float("0", "3.814697265625e-06").unwrap(),
            "0.00000381469726562"
        );
        assert_eq!(incr_by_float("0.034", "0.005").unwrap(), "0.039");
    }
}
