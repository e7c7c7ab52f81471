//! Token amounts as people write them ("12.5", "0.60") <-> base units, exactly.

/// Parses a non-negative decimal with at most `decimals` fraction digits into base units.
pub fn parse(text: &str, decimals: u8) -> Result<u64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("amount is empty".into());
    }
    if t.starts_with('-') {
        return Err(format!("amount {t} is negative"));
    }
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() && frac.is_empty() {
        return Err(format!("amount {t} is not a number"));
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("amount {t} is not a decimal number"));
    }
    if frac.len() > decimals as usize {
        return Err(format!("amount {t} has {} decimal places; this token has {decimals}", frac.len()));
    }
    let scale = 10u128.pow(decimals as u32);
    let w: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| format!("amount {t} is too large"))? };
    let f: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u128>().unwrap() * 10u128.pow((decimals as usize - frac.len()) as u32)
    };
    let total =
        w.checked_mul(scale).and_then(|v| v.checked_add(f)).ok_or_else(|| format!("amount {t} is too large"))?;
    u64::try_from(total).map_err(|_| format!("amount {t} is too large for a token amount"))
}

/// Formats base units with exactly `decimals` places, trimming trailing zeros to 2 places.
pub fn format(units: u64, decimals: u8) -> String {
    if decimals == 0 {
        return units.to_string();
    }
    let scale = 10u64.pow(decimals as u32);
    let frac = format!("{:0width$}", units % scale, width = decimals as usize);
    let trimmed = frac.trim_end_matches('0');
    let shown = if trimmed.len() < 2 { &frac[..2.min(frac.len())] } else { trimmed };
    format!("{}.{}", units / scale, shown)
}

/// Symbols of well-known mints, for when a mint carries no metadata of its own.
fn known_symbol(mint: &str) -> Option<&'static str> {
    Some(match mint {
        "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v" | "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU" => "USDC",
        "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB" => "USDT",
        // Wrapped SOL: paid from and returned to the wallet's SOL.
        "So11111111111111111111111111111111111111112" => "SOL",
        _ => return None,
    })
}

/// The symbol to show for `mint`: its on-chain metadata symbol, else a known mint's. A
/// metadata symbol that copies a well-known one ("USDC" on another mint) gets the mint's
/// first characters appended, so a look-alike token cannot pass for the real one.
pub fn token_symbol(mint: &str, metadata_symbol: Option<&str>) -> Option<String> {
    let known = known_symbol(mint);
    // The issuer chose it: no control character reaches the terminal.
    let printable = metadata_symbol.map(crate::output::printable);
    match printable.as_deref() {
        Some(s) if known.is_none() && is_well_known_symbol(s) => Some(format!("{s}({})", short(mint))),
        Some(s) => Some(s.to_string()),
        None => known.map(str::to_string),
    }
}

fn is_well_known_symbol(symbol: &str) -> bool {
    ["USDC", "USDT", "SOL", "WSOL"].iter().any(|k| k.eq_ignore_ascii_case(symbol.trim_start_matches('$')))
}

fn short(mint: &str) -> &str {
    &mint[..4.min(mint.len())]
}

/// What people see next to amounts: the symbol, else `tok:` and the mint's first characters.
pub fn token_label(mint: &str, metadata_symbol: Option<&str>) -> String {
    token_symbol(mint, metadata_symbol).unwrap_or_else(|| format!("tok:{}", short(mint)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimals_exactly() {
        assert_eq!(parse("12.5", 6), Ok(12_500_000));
        assert_eq!(parse("0.60", 6), Ok(600_000));
        assert_eq!(parse(".5", 2), Ok(50));
        assert_eq!(parse("7", 0), Ok(7));
        assert_eq!(parse("18446744073709.551615", 6), Ok(u64::MAX));
    }

    #[test]
    fn rejects_bad_amounts_with_reasons() {
        assert!(parse("-1", 6).unwrap_err().contains("negative"));
        assert!(parse("1.1234567", 6).unwrap_err().contains("decimal places"));
        assert!(parse("18446744073709.551616", 6).unwrap_err().contains("too large"));
        assert!(parse("1e5", 6).unwrap_err().contains("not a decimal"));
        assert!(parse("", 6).is_err());
        assert!(parse(".", 6).is_err());
    }

    #[test]
    fn labels_prefer_metadata_and_flag_look_alikes() {
        let other = "APm7x1111111111111111111111111111111111111";
        assert_eq!(token_label(other, Some("GPUC")), "GPUC");
        assert_eq!(token_label(other, Some("USDC")), "USDC(APm7)");
        assert_eq!(token_label(other, None), "tok:APm7");
        assert_eq!(token_label("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", None), "USDC");
        assert_eq!(token_label("So11111111111111111111111111111111111111112", Some("SOL")), "SOL");
        assert_eq!(token_symbol(other, None), None);
    }

    #[test]
    fn formats_with_at_least_two_places() {
        assert_eq!(format(600_000, 6), "0.60");
        assert_eq!(format(12_500_000, 6), "12.50");
        assert_eq!(format(1, 6), "0.000001");
        assert_eq!(format(5, 0), "5");
    }
}
