//! What must hold: each step's expectations, and the checks applied to every reply of every
//! conversation (`tests/corpus/README.md`). Everything here reads what the runner recorded;
//! nothing talks to the engine.

use super::dates;
use super::run::{Search, StepRecord};
use super::script::{Action, Expect, Lang, OfferRef, Param, Party, Script};
use chrono::NaiveDate;
use dialogs::Owner;
use dialogs::search::{Offer, SortOrder};

/// The numbered offers on the customer's screen.
#[derive(Debug, Clone, Default)]
pub struct Screen(pub Vec<(usize, Offer)>);

impl Screen {
    pub fn offer(&self, number: usize) -> Option<&Offer> {
        self.0.iter().find(|(n, _)| *n == number).map(|(_, o)| o)
    }

    /// `text` with `{hotel N}` replaced by the way a customer types offer N's hotel.
    pub fn fill_in(&self, text: &str) -> Result<String, String> {
        let mut out = text.to_owned();
        while let Some(start) = out.find("{hotel ") {
            let end = start
                + out[start..]
                    .find('}')
                    .ok_or_else(|| format!("unclosed {{hotel in {text:?}"))?;
            let number: usize = out[start + 7..end]
                .trim()
                .parse()
                .map_err(|_| format!("{{hotel N}} needs a number: {text:?}"))?;
            let offer = self
                .offer(number)
                .ok_or_else(|| format!("no offer {number} on screen for {text:?}"))?;
            out.replace_range(start..=end, &typed_name(&offer.hotel));
        }
        Ok(out)
    }
}

/// A hotel's name as a customer types it: lower case, no category, its first word that is
/// not a generic one ("hotel", "resort") and is long enough to tell it apart.
fn typed_name(hotel: &str) -> String {
    let name = normal_hotel(hotel);
    const GENERIC: &[&str] = &["hotel", "the", "resort", "spa", "&", "and", "villa", "inn"];
    name.split_whitespace()
        .find(|w| w.chars().count() >= 4 && !GENERIC.contains(w))
        .unwrap_or(&name)
        .to_owned()
}

/// Lower case, without a trailing category ("… 4*", "… (4*)", "… *****"), spaces collapsed.
pub fn normal_hotel(hotel: &str) -> String {
    let mut name = hotel.to_lowercase();
    loop {
        let t = name.trim_end();
        let inner = t.strip_suffix(')').map_or(t, str::trim_end);
        let Some(rest) = inner.strip_suffix('*') else {
            name = t.to_owned();
            break;
        };
        let rest = rest
            .trim_end_matches('*')
            .trim_end()
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .trim_end();
        name = rest.strip_suffix('(').unwrap_or(rest).to_owned();
    }
    name.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn normal_text(text: &str) -> String {
    text.replace('\u{a0}', " ")
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn mentions_hotel(replies: &[String], hotel: &str) -> bool {
    let hotel = normal_hotel(hotel);
    !hotel.is_empty() && replies.iter().any(|r| r.contains(&hotel))
}

/// Offers of this step's searches that a reply names, numbered as SAMO paged them; the last
/// shown page becomes the screen.
pub fn screen_after(before: &Screen, searches: &[Search], replies: &[super::run::Reply]) -> Screen {
    let texts: Vec<String> = replies.iter().map(|r| normal_text(&r.text)).collect();
    let mut screen = before.clone();
    for s in searches {
        if let Ok(page) = &s.result
            && page.offers.iter().any(|o| mentions_hotel(&texts, &o.hotel))
        {
            screen = Screen(
                page.offers
                    .iter()
                    .enumerate()
                    .map(|(i, o)| (page.offset + i + 1, o.clone()))
                    .collect(),
            );
        }
    }
    screen
}

/// A check that did not hold.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Index of the step.
    pub step: usize,
    /// What kind of check, for counting ("searched", "global: party").
    pub class: String,
    pub detail: String,
}

/// Everything about the conversation a check may need.
struct Conversation<'a> {
    script: &'a Script,
    records: &'a [StepRecord],
    today: NaiveDate,
    shift: i32,
}

/// Every expectation and global check of a played script.
pub fn check(script: &Script, records: &[StepRecord], today: NaiveDate) -> Vec<Failure> {
    let shift = if script.fixed_dates {
        0
    } else {
        dates::months_since_written(today)
    };
    let c = Conversation {
        script,
        records,
        today,
        shift,
    };
    let mut failures = Vec::new();
    for (i, record) in records.iter().enumerate() {
        if let Some(problem) = &record.problem {
            failures.push(Failure {
                step: i,
                class: "runner".into(),
                detail: problem.clone(),
            });
        }
        for alternatives in &script.steps[i].expects {
            let outcomes: Vec<Result<(), String>> =
                alternatives.iter().map(|e| c.expect(i, e)).collect();
            if outcomes.iter().all(Result::is_err) {
                let class = alternatives
                    .iter()
                    .map(class_of)
                    .collect::<Vec<_>>()
                    .join(" | ");
                let detail = outcomes
                    .into_iter()
                    .zip(alternatives)
                    .map(|(o, e)| format!("{e}: {}", o.unwrap_err()))
                    .collect::<Vec<_>>()
                    .join("; or ");
                failures.push(Failure {
                    step: i,
                    class,
                    detail,
                });
            }
        }
    }
    c.global(&mut failures);
    failures.sort_by_key(|f| f.step);
    failures
}

fn class_of(e: &Expect) -> String {
    match e {
        Expect::Searched(_) => "searched".into(),
        Expect::Escalation { reason, .. } => format!("escalation {reason}"),
        Expect::Owner(o) => format!("owner {o:?}").to_lowercase(),
        Expect::Mentions(_) => "mentions".into(),
        Expect::NotMentions(_) => "not".into(),
        Expect::Answers(_) => "answers".into(),
        Expect::Language(_) => "language".into(),
        Expect::ManagersTold(_) => "managers told".into(),
        other => other.to_string(),
    }
}

/// The bot's replies of a step (a manager's own message left out).
fn bot_replies<'r>(step: &Action, record: &'r StepRecord) -> Vec<&'r str> {
    record
        .replies
        .iter()
        .map(|r| r.text.as_str())
        .filter(|t| !matches!(step, Action::ManagerSays(m) if m == t))
        .collect()
}

fn summary(s: &Search) -> String {
    let q = &s.query;
    let result = match &s.result {
        Ok(p) => format!(
            "{} offer(s) from #{}{}",
            p.offers.len(),
            p.offset + 1,
            if p.widened.is_empty() {
                String::new()
            } else {
                format!(", widened {:?}", p.widened)
            }
        ),
        Err(e) => format!("{e}"),
    };
    format!(
        "{}{}→{}{} {}..{} {}..{} nights, {}+{:?}{}{}{}{} → {result}",
        if s.page.offset > 0 {
            format!("(more from #{}) ", s.page.offset + 1)
        } else {
            String::new()
        },
        q.departure_city,
        q.country,
        if q.resorts.is_empty() {
            String::new()
        } else {
            format!(" {:?}", q.resorts)
        },
        q.date_from.format("%m-%d"),
        q.date_to.format("%m-%d"),
        q.nights_from,
        q.nights_to,
        q.adults,
        q.child_ages,
        q.stars.map(|s| format!(" {s}*")).unwrap_or_default(),
        q.meal.as_ref().map(|m| format!(" {m}")).unwrap_or_default(),
        q.budget_max
            .map(|b| format!(" ≤{b} {}", q.budget_currency.as_deref().unwrap_or("KZT")))
            .unwrap_or_default(),
        if q.hotels.is_empty() {
            String::new()
        } else {
            format!(" hotels {:?}", q.hotels)
        },
    )
}

/// How a search shows in a transcript.
pub fn describe(s: &Search) -> String {
    summary(s)
}

impl Conversation<'_> {
    fn record(&self, i: usize) -> &StepRecord {
        &self.records[i]
    }

    fn replies_lower(&self, i: usize) -> Vec<String> {
        bot_replies(&self.script.steps[i].action, self.record(i))
            .into_iter()
            .map(normal_text)
            .collect()
    }

    /// Offers of this step's searches that a reply names.
    fn shown(&self, i: usize) -> Vec<&Offer> {
        let texts = self.replies_lower(i);
        self.record(i)
            .searches
            .iter()
            .filter_map(|s| s.result.as_ref().ok())
            .flat_map(|p| p.offers.iter())
            .filter(|o| mentions_hotel(&texts, &o.hotel))
            .collect()
    }

    fn expect(&self, i: usize, e: &Expect) -> Result<(), String> {
        let r = self.record(i);
        let searched = || {
            r.searches
                .iter()
                .map(summary)
                .collect::<Vec<_>>()
                .join("; ")
        };
        match e {
            Expect::Searched(params) => self.searched(i, params),
            Expect::NoSearch => match r.searches.is_empty() {
                true => Ok(()),
                false => Err(format!("searched {}", searched())),
            },
            Expect::OffersShown => match self.shown(i).is_empty() {
                false => Ok(()),
                true if r.searches.is_empty() => Err("no search".into()),
                true => Err(format!("no offer of {} in the reply", searched())),
            },
            Expect::OffersOnScreen => match r.screen.0.is_empty() {
                false => Ok(()),
                true => Err("no offer has been shown yet".into()),
            },
            Expect::NearestOffersShown => {
                if self.shown(i).is_empty() {
                    return Err(format!("no offers shown (searches: {})", searched()));
                }
                let widened_or_empty = r.searches.iter().any(|s| match &s.result {
                    Ok(p) => !p.widened.is_empty() || (p.offers.is_empty() && p.offset == 0),
                    Err(_) => false,
                });
                match widened_or_empty {
                    true => Ok(()),
                    false => Err("the offers shown are exact matches, not nearest ones".into()),
                }
            }
            Expect::NoOffers => {
                let texts = self.replies_lower(i);
                let hotels: Vec<&str> = self.records[..=i]
                    .iter()
                    .flat_map(|r| &r.searches)
                    .filter_map(|s| s.result.as_ref().ok())
                    .flat_map(|p| p.offers.iter().map(|o| o.hotel.as_str()))
                    .filter(|h| mentions_hotel(&texts, h))
                    .collect();
                match hotels.is_empty() {
                    true => Ok(()),
                    false => Err(format!("offers shown: {hotels:?}")),
                }
            }
            Expect::ManagerCalled => match r.escalations.is_empty() {
                false => Ok(()),
                true => Err(format!("no escalation (owner {:?})", r.owner)),
            },
            Expect::Escalation { reason, offer } => self.escalation(i, reason, offer.as_ref()),
            Expect::NoEscalation => match r.escalations.is_empty() {
                true => Ok(()),
                false => Err(format!("escalated: {}", reasons(r))),
            },
            Expect::NoBooking => match r
                .escalations
                .iter()
                .any(|e| e.reason.as_str().contains("booking"))
            {
                false => Ok(()),
                true => Err(format!(
                    "booked {}",
                    r.escalations
                        .iter()
                        .map(|e| crate::support::stored(&e.details)["offer"]["hotel"].to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            },
            Expect::Owner(o) => match r.owner == *o {
                true => Ok(()),
                false => Err(format!("owner is {:?}", r.owner)),
            },
            Expect::Mentions(t) => {
                let t = self.fill_in(i, t)?;
                match self.replies_lower(i).iter().any(|r| r.contains(&t)) {
                    true => Ok(()),
                    false => Err("not in the reply".into()),
                }
            }
            Expect::Answers(words) => {
                let texts = self.replies_lower(i);
                let said = words
                    .iter()
                    .any(|w| texts.iter().any(|t| t.contains(&w.to_lowercase())));
                let passed_on = r
                    .escalations
                    .iter()
                    .any(|e| e.reason.as_str().contains("question"));
                match said || passed_on {
                    true => Ok(()),
                    false if r.escalations.is_empty() => {
                        Err("neither answered nor passed to a manager as a question".into())
                    }
                    false => Err(format!(
                        "not answered; escalated as {}, not as a question",
                        reasons(r)
                    )),
                }
            }
            Expect::NotMentions(t) => {
                let t = self.fill_in(i, t)?;
                match self.replies_lower(i).iter().any(|r| r.contains(&t)) {
                    false => Ok(()),
                    true => Err("in the reply".into()),
                }
            }
            Expect::Language(l) => {
                let hotels = self.hotels_so_far(i);
                let wrong: Vec<String> = bot_replies(&self.script.steps[i].action, r)
                    .into_iter()
                    .filter_map(|t| language(t, &hotels))
                    .filter(|found| found != l)
                    .map(|found| found.to_string())
                    .collect();
                match wrong.is_empty() {
                    true => Ok(()),
                    false => Err(format!("a reply in {}", wrong.join(", "))),
                }
            }
            Expect::Replied => match bot_replies(&self.script.steps[i].action, r).is_empty() {
                false => Ok(()),
                true => Err("no reply".into()),
            },
            Expect::Silent => match bot_replies(&self.script.steps[i].action, r).is_empty() {
                true => Ok(()),
                false => Err("replied".into()),
            },
            Expect::ManagersTold(t) => {
                let t = t.to_lowercase();
                match r.managers.iter().any(|m| m.to_lowercase().contains(&t)) {
                    true => Ok(()),
                    false => Err(format!(
                        "the managers' chat got {} message(s) in this step, none with it",
                        r.managers.len()
                    )),
                }
            }
        }
    }

    /// `text` lower-cased, with `{hotel N}` as the customer would type offer N on screen
    /// before step `i`.
    fn fill_in(&self, i: usize, text: &str) -> Result<String, String> {
        let screen = match i.checked_sub(1) {
            Some(before) => self.records[before].screen.clone(),
            None => Screen::default(),
        };
        Ok(screen.fill_in(text)?.to_lowercase())
    }

    fn date(&self, md: super::script::MonthDay) -> NaiveDate {
        dates::resolve(md, self.shift, self.today)
    }

    fn span(
        &self,
        a: super::script::MonthDay,
        b: super::script::MonthDay,
    ) -> (NaiveDate, NaiveDate) {
        dates::resolve_span(a, b, self.shift, self.today)
    }

    /// Whether search `s` of step `i` has `p` (resorts are checked over the step, not here).
    fn has(&self, i: usize, s: &Search, p: &Param) -> bool {
        let q = &s.query;
        let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let days = |a: NaiveDate, b: NaiveDate| (a - b).num_days().abs();
        match p {
            Param::Departure(d) => same(&q.departure_city, d),
            Param::Country(c) => same(&q.country, c),
            Param::Resorts(_) => true,
            Param::Resort(r) => q.resorts.iter().any(|x| same(x, r)),
            Param::Adults(n) => q.adults == *n,
            Param::Children(ages) => {
                let mut a = q.child_ages.clone();
                let mut b = ages.clone();
                a.sort_unstable();
                b.sort_unstable();
                a == b
            }
            Param::Nights(n) => {
                q.nights_from <= *n && *n <= q.nights_to && q.nights_to - q.nights_from <= 2
            }
            Param::NightsRange(a, b) => {
                q.nights_from.abs_diff(*a) <= 1 && q.nights_to.abs_diff(*b) <= 1
            }
            Param::Checkin(a, b) => {
                let (a, b) = self.span(*a, *b);
                days(q.date_from, a) <= 2 && days(q.date_to, b) <= 2
            }
            Param::Around(d) => {
                let d = self.date(*d);
                q.date_from <= d
                    && d <= q.date_to
                    && days(q.date_from, d) <= 7
                    && days(q.date_to, d) <= 7
            }
            Param::Within(a, b) => {
                let (a, b) = self.span(*a, *b);
                a <= q.date_from && q.date_from <= q.date_to && q.date_to <= b
            }
            Param::Stars(n) => q.stars == Some(*n),
            Param::Meal(m) => q.meal.as_deref().is_some_and(|x| same(x, m)),
            Param::Budget(b) => q
                .budget_max
                .is_some_and(|x| x.abs_diff(*b) as f64 <= *b as f64 * 0.01),
            Param::Currency(c) => same(q.budget_currency.as_deref().unwrap_or("KZT"), c),
            Param::Hotel(h) => {
                // `{hotel N}`: the hotel of offer N on screen before this step.
                let Ok(h) = self.fill_in(i, h) else {
                    return false;
                };
                q.hotels.iter().any(|x| x.to_lowercase().contains(&h))
            }
            Param::NoHotels => q.hotels.is_empty(),
            Param::SortDesc => q.sort == SortOrder::PriceDesc,
        }
    }

    fn searched(&self, i: usize, params: &[Param]) -> Result<(), String> {
        let searches = &self.record(i).searches;
        if searches.is_empty() {
            return Err("no search".into());
        }
        let matching: Vec<&Search> = searches
            .iter()
            .filter(|s| params.iter().all(|p| self.has(i, s, p)))
            .collect();
        if matching.is_empty() {
            // Say which parameters no search had.
            let missing: Vec<String> = params
                .iter()
                .filter(|p| !searches.iter().any(|s| self.has(i, s, p)))
                .map(|p| format!("{p:?}"))
                .collect();
            let searched = searches.iter().map(summary).collect::<Vec<_>>().join("; ");
            return Err(if missing.is_empty() {
                format!("no one search had them all: {searched}")
            } else {
                format!("missing {}: {searched}", missing.join(", "))
            });
        }
        for p in params {
            if let Param::Resorts(want) = p {
                let mut got: Vec<String> = matching
                    .iter()
                    .flat_map(|s| s.query.resorts.iter().map(|r| r.to_lowercase()))
                    .collect();
                got.sort();
                got.dedup();
                let mut want: Vec<String> = want.iter().map(|r| r.to_lowercase()).collect();
                want.sort();
                if got != want {
                    return Err(format!("resorts searched {got:?}, not {want:?}"));
                }
            }
        }
        Ok(())
    }

    fn escalation(&self, i: usize, reason: &str, offer: Option<&OfferRef>) -> Result<(), String> {
        let r = self.record(i);
        // A reason word: `booking` is `booking_request`, `human` is `human_request`.
        let found: Vec<_> = r
            .escalations
            .iter()
            .filter(|e| e.reason.as_str().contains(reason))
            .collect();
        if found.is_empty() {
            return Err(if r.escalations.is_empty() {
                "no escalation".into()
            } else {
                format!("escalated as {}", reasons(r))
            });
        }
        let Some(offer) = offer else {
            return Ok(());
        };
        let screen = if i == 0 {
            super::checks::Screen::default()
        } else {
            self.records[i - 1].screen.clone()
        };
        let want = match offer {
            OfferRef::Number(n) => match screen.offer(*n) {
                Some(o) => normal_hotel(&o.hotel),
                None => return Err(format!("no offer {n} was on screen")),
            },
            OfferRef::Name(name) => name.to_lowercase(),
        };
        let hotels: Vec<String> = found
            .iter()
            .map(|e| {
                crate::support::stored(&e.details)["offer"]["hotel"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        match hotels.iter().any(|h| normal_hotel(h).contains(&want)) {
            true => Ok(()),
            false => Err(format!(
                "the escalation's offer is {hotels:?}, not {want:?}"
            )),
        }
    }

    /// Hotel names of every offer returned up to step `i`, for language checks.
    fn hotels_so_far(&self, i: usize) -> Vec<String> {
        self.records[..=i]
            .iter()
            .flat_map(|r| &r.searches)
            .filter_map(|s| s.result.as_ref().ok())
            .flat_map(|p| p.offers.iter().map(|o| normal_hotel(&o.hotel)))
            .collect()
    }

    /// The checks applied to every conversation.
    fn global(&self, failures: &mut Vec<Failure>) {
        let mut fail = |step: usize, class: &str, detail: String| {
            failures.push(Failure {
                step,
                class: format!("global: {class}"),
                detail,
            })
        };
        let mut party: Option<&Party> = None;
        let mut previous: Option<&str> = None;
        for (i, r) in self.records.iter().enumerate() {
            let step = &self.script.steps[i];
            if let Some(p) = &step.party {
                party = Some(p);
            }
            // The party searched is the customer's.
            for s in &r.searches {
                let q = &s.query;
                match party {
                    None => fail(
                        i,
                        "party",
                        format!(
                            "searched for {}+{:?} before the customer said who travels",
                            q.adults, q.child_ages
                        ),
                    ),
                    Some(p) if p.kids.iter().any(Option::is_none) => fail(
                        i,
                        "party",
                        format!(
                            "searched with children {:?} before the customer gave every child's age",
                            q.child_ages
                        ),
                    ),
                    Some(p) => {
                        let mut want: Vec<u32> = p.kids.iter().flatten().copied().collect();
                        let mut got = q.child_ages.clone();
                        want.sort_unstable();
                        got.sort_unstable();
                        if q.adults != p.adults || want != got {
                            fail(
                                i,
                                "party",
                                format!(
                                    "searched for {} adult(s) + {got:?}, the customer is {p}",
                                    q.adults
                                ),
                            );
                        }
                    }
                }
            }
            // An empty search is followed by the nearest offers or a manager.
            let dead_end = r.searches.iter().any(|s| match &s.result {
                Ok(p) => p.offers.is_empty() && p.offset == 0,
                Err(dialogs::search::SearchFailure::Unavailable { .. }) => true,
                Err(_) => false,
            });
            if dead_end
                && self.shown(i).is_empty()
                && r.escalations.is_empty()
                && r.owner == Owner::Bot
            {
                fail(
                    i,
                    "empty search dead end",
                    "a search found nothing and the step showed no offers and called no manager"
                        .into(),
                );
            }
            if r.answered_mid_burst {
                fail(
                    i,
                    "burst answered in parts",
                    "a reply came before the customer had finished a burst of lines".into(),
                );
            }
            let replies = bot_replies(&step.action, r);
            if matches!(step.action, Action::Say(_) | Action::Button(_))
                && r.owner_before == Owner::Bot
                && replies.is_empty()
                && r.problem.is_none()
            {
                fail(
                    i,
                    "no reply",
                    "the bot owned the chat and said nothing".into(),
                );
            }
            let hotels = self.hotels_so_far(i);
            for text in replies {
                if previous.is_some_and(|p| p.trim() == text.trim()) {
                    fail(
                        i,
                        "repeated reply",
                        "identical to the bot's previous reply".into(),
                    );
                }
                previous = Some(text);
                if let Some(found) = language(text, &hotels)
                    && !self.script.replies_in.contains(&found)
                {
                    fail(
                        i,
                        "language",
                        format!("a reply in {found}, expected {:?}", self.script.replies_in),
                    );
                }
                if language(text, &hotels) == Some(Lang::En) || self.script.replies_in == [Lang::En]
                {
                    let words = cyrillic_words(text, &hotels);
                    if !words.is_empty() {
                        fail(
                            i,
                            "cyrillic in english",
                            format!("Cyrillic words in an English reply: {words:?}"),
                        );
                    }
                }
                if let Some(phrase) = not_understood(text) {
                    fail(
                        i,
                        "not understood",
                        format!("\"{phrase}\" to a message a person would understand"),
                    );
                }
                if let Some(at) = category_twice(text) {
                    fail(i, "category twice", format!("…{at}…"));
                }
                if let Some(at) = empty_summary(text) {
                    fail(i, "empty summary", format!("…{at}…"));
                }
                if let Some(at) = leftover(text) {
                    fail(i, "template leftover", format!("{at:?}"));
                }
            }
        }
    }
}

fn reasons(r: &StepRecord) -> String {
    r.escalations
        .iter()
        .map(|e| e.reason.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

const KAZAKH_LETTERS: &str = "әғқңөұүһіӘҒҚҢӨҰҮҺІ";

/// The language of a reply, the operator's hotel names left out; `None` when too short.
pub fn language(text: &str, hotels: &[String]) -> Option<Lang> {
    let mut t = normal_text(text);
    for h in hotels {
        if !h.is_empty() {
            t = t.replace(h.as_str(), " ");
        }
    }
    let cyrillic = t.chars().filter(|c| is_cyrillic(*c)).count();
    let latin = t.chars().filter(char::is_ascii_alphabetic).count();
    let kazakh = t.chars().filter(|c| KAZAKH_LETTERS.contains(*c)).count();
    if cyrillic + latin < 8 {
        return None;
    }
    Some(if latin > cyrillic {
        Lang::En
    } else if kazakh >= 2 {
        Lang::Kk
    } else {
        Lang::Ru
    })
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{04FF}')
}

/// Cyrillic words of `text` outside the operator's hotel names.
fn cyrillic_words(text: &str, hotels: &[String]) -> Vec<String> {
    let mut t = normal_text(text);
    for h in hotels {
        if !h.is_empty() {
            t = t.replace(h.as_str(), " ");
        }
    }
    let mut words: Vec<String> = t
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|w| w.chars().any(is_cyrillic))
        .map(str::to_owned)
        .collect();
    words.dedup();
    words
}

/// How a reply says it did not understand, in any wording a template is likely to use.
const NOT_UNDERSTOOD: &[&str] = &[
    "не понял",
    "не совсем понял",
    "не поняла",
    "не могу понять",
    "не распознал",
    "түсінбедім",
    "түсінбей",
    "түсініксіз",
    "didn't get",
    "didn't quite get",
    "did not get",
    "didn't understand",
    "did not understand",
    "don't understand",
];

/// The phrase with which a reply says it did not understand (every corpus message is one a
/// person would understand).
fn not_understood(text: &str) -> Option<&'static str> {
    let t = normal_text(text).replace('’', "'");
    NOT_UNDERSTOOD.iter().copied().find(|p| t.contains(p))
}

/// "3* 3*", "4*4*", "5* (5*)": the same category twice in a row.
fn category_twice(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    for i in 0..chars.len() {
        if !chars[i].is_ascii_digit() {
            continue;
        }
        let mut j = i + 1;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        if chars.get(j) != Some(&'*') && chars.get(j) != Some(&'★') {
            continue;
        }
        let mut k = j + 1;
        while k < chars.len() && matches!(chars[k], ' ' | '(' | ',' | '-' | '·' | '\u{a0}') {
            k += 1;
        }
        if chars.get(k) == Some(&chars[i]) {
            let mut l = k + 1;
            while l < chars.len() && chars[l] == ' ' {
                l += 1;
            }
            if matches!(chars.get(l), Some('*' | '★')) {
                let from = i.saturating_sub(20);
                return Some(chars[from..(l + 1).min(chars.len())].iter().collect());
            }
        }
    }
    None
}

/// "Записал: ." — a summary with nothing in it.
fn empty_summary(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    for i in 0..chars.len() {
        if chars[i] != ':' {
            continue;
        }
        let mut j = i + 1;
        while j < chars.len() && matches!(chars[j], ' ' | '\u{a0}') {
            j += 1;
        }
        let empty = matches!(chars.get(j), None | Some('.' | ',' | ';' | '!'));
        if empty {
            let from = i.saturating_sub(20);
            return Some(chars[from..(j + 1).min(chars.len())].iter().collect());
        }
    }
    None
}

fn leftover(text: &str) -> Option<&'static str> {
    ["{{", "}}", "{%", "%}"]
        .into_iter()
        .find(|m| text.contains(m))
        .or_else(|| {
            text.split(|c: char| !c.is_alphanumeric())
                .find_map(|w| match w {
                    "None" => Some("None"),
                    "null" => Some("null"),
                    "undefined" => Some("undefined"),
                    "NaN" => Some("NaN"),
                    _ => None,
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hotel_names_lose_their_category_and_are_typed_by_a_distinctive_word() {
        assert_eq!(
            normal_hotel("Jade Heron Seaside Inn 3*"),
            "jade heron seaside inn"
        );
        assert_eq!(
            normal_hotel("Galina Hotel & Spa (4*)"),
            "galina hotel & spa"
        );
        assert_eq!(normal_hotel("Rex Hotel Saigon"), "rex hotel saigon");
        assert_eq!(typed_name("Galina Hotel & Spa 4*"), "galina");
        assert_eq!(typed_name("The Hotel Rex 3*"), "the hotel rex");
    }

    #[test]
    fn reply_faults_are_found() {
        assert!(category_twice("1. Jade Heron Seaside Inn 3* 3* — 500 000 ₸").is_some());
        assert!(category_twice("Galina 4*(4*)").is_some());
        assert!(category_twice("Galina 4* — 3 ночи 4* нет").is_none());
        assert!(empty_summary("Записал: . Из какого города?").is_some());
        assert!(empty_summary("Вот варианты:\n1. Galina").is_none());
        assert_eq!(leftover("Цена: None ₸"), Some("None"));
        assert_eq!(leftover("Цена: 500 000 ₸"), None);
        assert_eq!(
            not_understood("Извините, не совсем понял. Я помогаю…"),
            Some("не совсем понял")
        );
        assert_eq!(
            not_understood("Sorry, I didn’t quite get that."),
            Some("didn't quite get")
        );
        assert_eq!(not_understood("Понял, передаю менеджеру."), None);
    }

    #[test]
    fn languages_are_told_apart_without_the_hotels() {
        let hotels = vec!["galina hotel & spa".to_owned()];
        assert_eq!(
            language("Galina Hotel & Spa 4* — всё включено", &hotels),
            Some(Lang::Ru)
        );
        assert_eq!(
            language("Қай қаладан ұшасыздар? Неше түнге?", &hotels),
            Some(Lang::Kk)
        );
        assert_eq!(
            language("Which city do you fly from?", &hotels),
            Some(Lang::En)
        );
        assert_eq!(
            cyrillic_words("Here are offers in Фукуок: Galina Hotel & Spa", &hotels),
            ["фукуок"]
        );
    }
}
