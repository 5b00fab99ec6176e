//! `crystalbay doctor`: checks each configured service and says, in plain words, what works,
//! what does not and how to fix it. Services that are not configured are listed as such.
//! The answer is "healthy" (exit code 0) only when everything configured works.
//!
//! SAMO gets the full check: token present (never printed), endpoint reachable (a 403 comes
//! with the allow-list / `SAMO_PROXY` advice), the dictionaries the search needs, and one
//! sample search (Almaty → Vietnam next month, 7 nights, 2 adults). Wazzup lists its
//! channels. Bitrix24: the webhook (`profile`), its `crm` scope, the deal pipeline and each of
//! the nine stages (the check the admin status shows too). The others are only reported as
//! configured or not, for now.

use crate::config::{BitrixConfig, Config, SamoConfig, WazzupConfig};
use actors::tours::Tours;
use actors::tours::catalog::Dictionary;
use chrono::{Datelike, Months, NaiveDate};
use dialogs::search::{PageRequest, SearchFailure, SearchField, SearchQuery, SortOrder};
use secrecy::ExposeSecret;
use std::io::Write;

/// Lines of one check run, and whether anything configured is broken.
struct Report<'a> {
    out: &'a mut dyn Write,
    broken: bool,
}

impl Report<'_> {
    fn heading(&mut self, name: &str) {
        let _ = writeln!(self.out, "\n{name}");
    }
    fn ok(&mut self, text: impl AsRef<str>) {
        let _ = writeln!(self.out, "  ok    {}", text.as_ref());
    }
    fn note(&mut self, text: impl AsRef<str>) {
        let _ = writeln!(self.out, "  note  {}", text.as_ref());
    }
    fn fail(&mut self, text: impl AsRef<str>) {
        self.broken = true;
        let _ = writeln!(self.out, "  FAIL  {}", text.as_ref());
    }
}

/// Checks every configured service, writing the findings to `out`. Returns whether
/// everything configured works.
pub async fn run(config: &Config, today: NaiveDate, out: &mut dyn Write) -> bool {
    let mut report = Report { out, broken: false };
    let _ = writeln!(report.out, "crystalbay doctor");

    report.heading("SAMO (tour search)");
    match &config.samo {
        None => {
            report.note("not configured: set SAMO_API_URL and SAMO_OAUTH_TOKEN to search tours")
        }
        Some(samo) => check_samo(samo, today, &mut report).await,
    }

    report.heading("Wazzup (WhatsApp)");
    match &config.wazzup {
        None => report.note("not configured: set WAZZUP_API_KEY to talk on WhatsApp"),
        Some(wazzup) => check_wazzup(wazzup, &mut report).await,
    }

    report.heading("Bitrix24 (CRM)");
    match &config.bitrix {
        None => report.note("not configured (BITRIX_WEBHOOK_URL)"),
        Some(bitrix) => check_bitrix(bitrix, &mut report).await,
    }

    for (name, configured, keys) in [
        ("Telegram", config.telegram.is_some(), "TELEGRAM_BOT_TOKEN"),
        ("OpenAI (LLM)", config.openai.is_some(), "OPENAI_API_KEY"),
        ("Email", config.email.is_some(), "SMTP_URL and EMAIL_FROM"),
    ] {
        report.heading(name);
        if configured {
            report.note("configured (not checked yet)");
        } else {
            report.note(format!("not configured ({keys})"));
        }
    }

    let _ = writeln!(
        report.out,
        "\n{}",
        if report.broken {
            "Something configured does not work: see FAIL above."
        } else {
            "Everything configured works."
        }
    );
    !report.broken
}

async fn check_samo(samo: &SamoConfig, today: NaiveDate, report: &mut Report<'_>) {
    let token = samo.oauth_token.expose_secret();
    let usual = token.len() == 32
        && token
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    report.ok("token present (SAMO_OAUTH_TOKEN, not shown)");
    if !usual {
        report.note("the token is not 32 lower-case hex characters, as SAMO tokens usually are");
    }
    if samo.proxy.is_some() {
        report.note("calls go through SAMO_PROXY");
    }
    let tours = match Tours::new(&samo.tours_settings()) {
        Ok(tours) => tours,
        Err(e) => return report.fail(e.to_string()),
    };
    let catalog = tours.catalog();
    let endpoint = tours.client().endpoint();

    let cities = match catalog.entries(Dictionary::DepartureCities).await {
        Ok(cities) => cities,
        Err(e) => return report.fail(format!("{endpoint}: {e}")),
    };
    report.ok(format!(
        "{endpoint} answers: {} departure cities ({})",
        cities.len(),
        list(cities.iter().map(|c| c.row.name.as_str()))
    ));

    let (from_name, from) = match catalog.departure_city("Almaty").await {
        Ok(row) => ("Almaty", row),
        Err(SearchFailure::NotOffered { .. }) => match cities.first() {
            Some(first) => {
                report.note(format!(
                    "no departures from Almaty; the checks below use «{}»",
                    first.row.name
                ));
                (first.row.name.as_str(), first.row.clone())
            }
            None => return report.fail("the operator lists no departure city at all"),
        },
        Err(e) => return report.fail(e.to_string()),
    };
    let country = match catalog.country(from.id, "Vietnam").await {
        Ok(country) => {
            report.ok(format!(
                "Vietnam is sold from «{}»: «{}» (id {})",
                from.name, country.name, country.id
            ));
            country
        }
        Err(e) => return report.fail(failure_text(&e)),
    };

    let resorts = Dictionary::Resorts {
        from: from.id,
        country: country.id,
    };
    match catalog.entries(resorts).await {
        Ok(towns) => {
            report.ok(format!(
                "{} resorts in «{}» ({})",
                towns.len(),
                country.name,
                list(towns.iter().map(|t| t.row.name.as_str()))
            ));
            let mut known = Vec::new();
            let mut missing = Vec::new();
            for resort in VIETNAM_RESORTS {
                match catalog.resort(from.id, country.id, resort).await {
                    Ok(_) => known.push(*resort),
                    Err(_) => missing.push(*resort),
                }
            }
            report.ok(format!("resorts recognised by name: {}", known.join(", ")));
            if !missing.is_empty() {
                report.note(format!(
                    "not sold by the operator (customers asking are offered the others): {}",
                    missing.join(", ")
                ));
            }
        }
        Err(e) => report.fail(e.to_string()),
    }
    for (what, dictionary) in [
        (
            "hotels",
            Dictionary::Hotels {
                from: from.id,
                country: country.id,
            },
        ),
        (
            "hotel categories",
            Dictionary::Stars {
                from: from.id,
                country: country.id,
            },
        ),
        (
            "meal plans",
            Dictionary::Meals {
                from: from.id,
                country: country.id,
            },
        ),
    ] {
        match catalog.entries(dictionary).await {
            Ok(rows) => report.ok(format!("{} {what}", rows.len())),
            Err(e) => report.fail(e.to_string()),
        }
    }
    match catalog.currency(from.id, country.id, &samo.currency).await {
        Ok(row) => report.ok(format!(
            "prices in {} (SAMO_CURRENCY): currency id {}",
            samo.currency, row.id
        )),
        Err(e) => report.fail(format!(
            "{} (set SAMO_CURRENCY to one of them)",
            failure_text(&e)
        )),
    }

    let first_day = today
        .with_day(1)
        .and_then(|d| d.checked_add_months(Months::new(1)))
        .unwrap_or(today);
    let last_day = first_day
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first_day);
    let query = SearchQuery {
        departure_city: from_name.to_owned(),
        country: "Vietnam".into(),
        resorts: Vec::new(),
        hotels: Vec::new(),
        date_from: first_day,
        date_to: last_day,
        nights_from: 7,
        nights_to: 7,
        adults: 2,
        child_ages: vec![],
        budget_max: None,
        budget_currency: None,
        stars: None,
        meal: None,
        sort: SortOrder::PriceAsc,
    };
    let what = format!(
        "sample search {} → Vietnam, check-in {first_day}…{last_day}, 7 nights, 2 adults",
        from.name
    );
    match tours
        .search(
            &query,
            PageRequest {
                offset: 0,
                limit: 100,
            },
        )
        .await
    {
        Ok(page) => {
            let cheapest = page
                .offers
                .first()
                .map(|o| format!("; cheapest: {}, {} {}", o.hotel, o.price, o.currency))
                .unwrap_or_default();
            report.ok(format!(
                "{what}: {}{} offers{cheapest}",
                page.offers.len(),
                if page.more { "+" } else { "" }
            ));
            if page.offers.is_empty() {
                report.note("no offers for these dates: the endpoint works, but check the operator's season");
            }
        }
        Err(e) => report.fail(format!("{what}: {}", failure_text(&e))),
    }
}

/// The Vietnamese resorts the analyser knows (canonical names).
const VIETNAM_RESORTS: &[&str] = &[
    "Nha Trang",
    "Cam Ranh",
    "Phu Quoc",
    "Phan Thiet",
    "Da Nang",
    "Hoi An",
    "Ho Chi Minh City",
    "Hanoi",
    "Ha Long",
    "Da Lat",
    "Quy Nhon",
    "Vung Tau",
];

async fn check_wazzup(wazzup: &WazzupConfig, report: &mut Report<'_>) {
    report.ok("API key present (WAZZUP_API_KEY, not shown)");
    let client = match channels::wazzup::WazzupClient::new(
        &wazzup.api_url,
        wazzup.api_key.expose_secret(),
    ) {
        Ok(client) => client,
        Err(e) => return report.fail(format!("HTTP client: {e}")),
    };
    match client.channels().await {
        Ok(channels) => {
            report.ok(format!(
                "{} answers: {} channels",
                wazzup.api_url,
                channels.len()
            ));
            for c in &channels {
                let line = format!(
                    "{} {} is {}",
                    c.transport,
                    c.plain_id.as_deref().unwrap_or(&c.channel_id),
                    c.state
                );
                if c.state == "active" {
                    report.ok(line);
                } else {
                    report.note(line);
                }
            }
            if !channels.iter().any(|c| c.state == "active") {
                report.fail("no active channel: messages cannot be sent");
            }
        }
        Err(e) => report.fail(e),
    }
    if wazzup.webhook_secret.is_none() {
        report.note("WAZZUP_WEBHOOK_SECRET not set: inbound messages cannot be received");
    }
}

/// The webhook, its `crm` scope, the pipeline and each of the nine stages
/// ([`actors::crm::check`](fn@actors::crm::check::check), the same check the admin status shows).
async fn check_bitrix(bitrix: &BitrixConfig, report: &mut Report<'_>) {
    let settings = crate::app::crm_settings_of(bitrix);
    let client = match actors::crm::bitrix::BitrixClient::new(
        &settings.webhook_url,
        std::time::Duration::from_secs(20),
        settings.rate_per_sec,
        settings.burst,
    ) {
        Ok(client) => client,
        Err(e) => return report.fail(format!("HTTP client: {e}")),
    };
    let (check, _) = actors::crm::check(&client, &settings.sync).await;
    for verdict in check.verdicts() {
        if verdict.ok {
            report.ok(verdict.text);
        } else {
            report.fail(verdict.text);
        }
    }
}

fn failure_text(failure: &SearchFailure) -> String {
    match failure {
        SearchFailure::NotOffered {
            field,
            value,
            alternatives,
        } => {
            let field = match field {
                SearchField::DepartureCity => "departure city",
                SearchField::Country => "country",
                SearchField::Resort => "resort",
                SearchField::Meal => "meal plan",
                SearchField::Stars => "hotel category",
                SearchField::Dates => "dates",
                SearchField::Currency => "currency",
            };
            format!(
                "the operator has no {field} «{value}»; it has: {}",
                list(alternatives.iter().map(String::as_str))
            )
        }
        SearchFailure::Unavailable { cause } => cause.clone(),
    }
}

/// Up to eight names, then how many more.
fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    let mut text = names.iter().take(8).copied().collect::<Vec<_>>().join(", ");
    if names.len() > 8 {
        text.push_str(&format!(" and {} more", names.len() - 8));
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_lists_are_cut() {
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
        assert_eq!(
            super::list(names.into_iter()),
            "a, b, c, d, e, f, g, h and 2 more"
        );
    }

    #[test]
    fn every_vietnam_resort_has_spellings() {
        for resort in super::VIETNAM_RESORTS {
            let spellings =
                actors::tours::names::spellings(actors::tours::names::Kind::Resort, resort);
            assert!(spellings.len() > 1, "{resort}");
        }
    }
}
