//! `repr()` of a Python float: the shortest round-trip digits, with CPython's choice where two
//! candidates tie.

use std::fmt::Write as _;

use num_bigint::BigInt;

/// `repr(x)` for a Python float: the shortest string that round-trips, in fixed
/// notation when the decimal exponent is in `-4..16` (`100000.0`, `0.0001`) and in
/// exponent notation otherwise (`1e+16`, `1.5e-07`: sign always, at least two
/// exponent digits), plus `inf`, `-inf`, `nan`. This is CPython's
/// `float_repr_style == 'short'` (`PyOS_double_to_string(x, 'r', 0,
/// Py_DTSF_ADD_DOT_0)`).
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Rust's `{:e}` prints the same shortest round-trip digits as CPython's dtoa
    // ("1.5e-7", "-1e16", "0e0"); only the layout differs, so re-lay them out.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let mut digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut exp = exp;
    if let Some((even, even_exp)) = tie_to_even(x.abs(), &digits, exp) {
        (digits, exp) = (even, even_exp);
    }
    let mut out = String::with_capacity(digits.len() + 8);
    out.push_str(sign);
    if (-4..16).contains(&exp) {
        // Position of the decimal point relative to the start of `digits`.
        let point = exp + 1;
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
            out.push_str(&digits);
        } else {
            let point = point as usize;
            if point >= digits.len() {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    }
    out
}

/// Tie-break for shortest float digits. When `x` lies exactly halfway between two
/// shortest decimal candidates, CPython's dtoa picks the one with the even last
/// digit while Rust's formatter may pick the other (e.g. 1633131807795815.25 has
/// the shortest candidates ...815.2 and ...815.3; Python prints ...815.2). Such
/// ties need at least 16 digits, so shorter outputs skip the check. Returns the
/// even candidate's digits and decimal exponent when a tie is found.
fn tie_to_even(x: f64, digits: &str, exp: i32) -> Option<(String, i32)> {
    if digits.len() < 16 {
        return None;
    }
    let d: u64 = digits.parse().ok()?;
    if d % 2 == 0 {
        return None;
    }
    // x == d * 10^k with `k` the exponent of the last digit.
    let k = exp - (digits.len() as i32 - 1);
    // x = m * 2^q exactly (x is finite and non-negative here).
    let bits = x.to_bits();
    let (m, q) = match (bits >> 52) as i32 {
        0 => (bits & ((1 << 52) - 1), -1074),
        e => ((bits & ((1 << 52) - 1)) | (1 << 52), e - 1075),
    };
    for (neighbour, twice) in [(d - 1, 2 * d - 1), (d + 1, 2 * d + 1)] {
        // Is 2x == twice * 10^k, i.e. x exactly halfway to `neighbour`? In u128 when the
        // numbers fit (timestamps do: this runs for several per job), else in big integers.
        let halfway = halfway_u128(m, q, twice, k).unwrap_or_else(|| halfway_big(m, q, twice, k));
        if !halfway {
            continue;
        }
        // The neighbour must round-trip to x too (interval ends are asymmetric at
        // powers of two).
        if format!("{neighbour}e{k}").parse::<f64>().ok() != Some(x) {
            return None;
        }
        let text = neighbour.to_string();
        let trimmed = text.trim_end_matches('0');
        let new_exp = k + text.len() as i32 - 1;
        return Some((trimmed.to_string(), new_exp));
    }
    None
}

/// `m * 2^(q+1) == twice * 10^k`.
pub(super) fn halfway_big(m: u64, q: i32, twice: u64, k: i32) -> bool {
    let mut lhs = BigInt::from(m) << (q + 1).max(0) as usize;
    let mut rhs = BigInt::from(twice);
    if q + 1 < 0 {
        rhs <<= (-(q + 1)) as usize;
    }
    let ten = BigInt::from(10u8);
    if k >= 0 {
        rhs *= ten.pow(k as u32);
    } else {
        lhs *= ten.pow((-k) as u32);
    }
    lhs == rhs
}

/// [`halfway_big`] in u128; `None` when a side does not fit.
pub(super) fn halfway_u128(m: u64, q: i32, twice: u64, k: i32) -> Option<bool> {
    fn shl(v: u128, by: u32) -> Option<u128> {
        (by < 128 && (v == 0 || v.leading_zeros() >= by)).then(|| v << by)
    }
    let mut lhs = shl(u128::from(m), (q + 1).max(0).unsigned_abs())?;
    let mut rhs = shl(u128::from(twice), (-(q + 1)).max(0).unsigned_abs())?;
    let p = 10u128.checked_pow(k.unsigned_abs())?;
    if k >= 0 {
        rhs = rhs.checked_mul(p)?;
    } else {
        lhs = lhs.checked_mul(p)?;
    }
    Some(lhs == rhs)
}
