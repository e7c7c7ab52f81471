//! Renter search over listings: server-side memcmp filters plus price, VRAM and rating.
use std::collections::HashMap;

use gpu_escrow_sdk::accounts::{fixed_str, Provider};
use gpu_escrow_sdk::client::ListingFilter;
use gpu_escrow_sdk::Pubkey;
use serde_json::json;

use super::Token;
use crate::args::{MarketArgs, SortKey};
use crate::context::{parse_pubkey, Context};
use crate::error::CliError;
use crate::output::{duration, table, Output};

/// `text` with at most `decimals` fraction digits: a price finer than the token's unit is
/// rounded down to it.
fn cut_decimals(text: &str, decimals: u8) -> &str {
    match text.trim().split_once('.') {
        Some((whole, frac)) if frac.len() > decimals as usize => &text.trim()[..whole.len() + 1 + decimals as usize],
        _ => text,
    }
}

pub async fn run(ctx: &Context, a: MarketArgs) -> Result<Output, CliError> {
    ctx.client.ensure_program_deployed().await?;
    let mint = a.mint.as_deref().map(|m| parse_pubkey(m, "mint")).transpose()?;
    // The highest price is read in each listing's own token (SOL has 9 decimals, USDC 6).
    let max_price = match (&a.max_price, mint) {
        (Some(p), Some(m)) => Some(Token::load(ctx, &m).await?.parse(p)?),
        (Some(p), None) => {
            crate::amount::parse(cut_decimals(p, 0), 0).map_err(|e| CliError::Input(format!("--max-price: {e}")))?;
            None
        }
        _ => None,
    };
    if let Some(r) = a.min_rating {
        if !(0.0..=5.0).contains(&r) {
            return Err(CliError::Input(format!("--min-rating must be between 0 and 5, got {r}")));
        }
    }
    let filter = ListingFilter {
        mint,
        provider: None,
        gpu_model: a.gpu.clone(),
        region: a.region.clone(),
        max_price_per_hour: max_price,
        min_vram_gb: a.min_vram,
        // Rating is filtered below, from the provider profiles fetched once for display.
        min_rating_x100: None,
        include_paused: false,
    };
    let listings = ctx.client.listings(&filter).await?;
    // Each provider's record, fetched once. Every counter shown means what SECURITY.md §5
    // says: credited only from rentals that count, disputes only when decided.
    let mut profiles: HashMap<Pubkey, Option<Provider>> = HashMap::new();
    let mut tokens: HashMap<Pubkey, Token> = HashMap::new();
    for (_, l) in &listings {
        if let std::collections::hash_map::Entry::Vacant(e) = profiles.entry(l.provider) {
            e.insert(ctx.client.provider(&l.provider).await?);
        }
        if let std::collections::hash_map::Entry::Vacant(e) = tokens.entry(l.mint) {
            e.insert(Token::load(ctx, &l.mint).await?);
        }
    }
    let ratings: HashMap<Pubkey, Option<u64>> =
        profiles.iter().map(|(k, p)| (*k, p.as_ref().and_then(|p| p.rating_x100()))).collect();
    let min_rating = a.min_rating.map(|r| (r * 100.0).round() as u64);
    let mut listings: Vec<_> = listings
        .into_iter()
        .filter(|(_, l)| min_rating.is_none_or(|min| ratings[&l.provider].is_some_and(|r| r >= min)))
        .filter(|(_, l)| match &a.max_price {
            Some(p) => {
                let t = &tokens[&l.mint];
                t.parse(cut_decimals(p, t.decimals)).is_ok_and(|max| l.price_per_hour <= max)
            }
            None => true,
        })
        .collect();
    match a.sort {
        SortKey::Price => listings.sort_by_key(|(k, l)| (l.price_per_hour, *k)),
        SortKey::Vram => listings.sort_by_key(|(k, l)| (std::cmp::Reverse(l.vram_gb), l.price_per_hour, *k)),
        SortKey::Rating => {
            listings.sort_by_key(|(k, l)| (std::cmp::Reverse(ratings[&l.provider].unwrap_or(0)), l.price_per_hour, *k))
        }
    }
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for (k, l) in &listings {
        let t = &tokens[&l.mint];
        let rating = ratings[&l.provider].map(|r| r as f64 / 100.0);
        let profile = profiles[&l.provider].as_ref();
        let mut j = super::listing::listing_json(k, l, t);
        j["provider_rating"] = json!(rating);
        j["provider_record"] = profile.map_or(json!(null), record_json);
        items.push(j);
        rows.push(vec![
            k.to_string(),
            format!("{}x {}", l.gpu_count, fixed_str(&l.gpu_model)),
            super::listing::stated(l.vram_gb.into()).map_or_else(|| "-".into(), |gb| format!("{gb} GB")),
            fixed_str(&l.region),
            format!("{}/h", t.show(l.price_per_hour)),
            match (rating, profile) {
                (Some(r), Some(p)) => format!("{r:.1} ({})", p.rating_count),
                _ => "-".into(),
            },
            profile.map_or_else(|| "-".into(), |p| p.rentals_completed.to_string()),
            format!("{}/{}", l.active_rentals, l.capacity),
            if l.heartbeat_interval_secs > 0 { duration(l.heartbeat_interval_secs as u64) } else { "-".into() },
        ]);
    }
    let human = if rows.is_empty() {
        "no listings match".to_string()
    } else {
        table(&["LISTING", "GPU", "VRAM", "REGION", "PRICE", "RATING", "RENTALS", "IN USE", "SLA"], &rows)
    };
    Ok(Output::new(json!({ "listings": items }), human))
}

/// A provider's record as the market shows it: the counters that cost what they claim.
pub fn record_json(p: &Provider) -> serde_json::Value {
    json!({
        "rating": p.rating_x100().map(|r| r as f64 / 100.0),
        "rating_count": p.rating_count,
        "rentals_completed": p.rentals_completed,
        "seconds_billed": p.seconds_billed,
        "heartbeats": p.heartbeats,
        "no_shows": p.no_shows,
        "disputes_lost": p.disputes_lost,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn prices_finer_than_the_token_round_down() {
        assert_eq!(super::cut_decimals("1.2345678", 6), "1.234567");
        assert_eq!(super::cut_decimals("1.5", 0), "1.");
        assert_eq!(super::cut_decimals("36", 6), "36");
    }
}
