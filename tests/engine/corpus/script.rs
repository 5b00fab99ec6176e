//! The corpus's script format (`tests/corpus/README.md`), parsed into steps: what the
//! customer (or a manager) does, the facts the script states, and what must hold after.

use std::fmt;

/// A language of a script or of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lang {
    Ru,
    Kk,
    /// Kazakh mixed with Russian (a script's language only).
    KkRu,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        Some(match s {
            "ru" => Lang::Ru,
            "kk" => Lang::Kk,
            "kk-ru" => Lang::KkRu,
            "en" => Lang::En,
            _ => return None,
        })
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lang::Ru => "ru",
            Lang::Kk => "kk",
            Lang::KkRu => "kk-ru",
            Lang::En => "en",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    WhatsApp,
    Telegram,
}

/// One conversation.
#[derive(Debug, Clone)]
pub struct Script {
    /// `<language>/<file stem>`.
    pub name: String,
    pub lang: Lang,
    pub channel: ChannelKind,
    /// Languages a reply may be in.
    pub replies_in: Vec<Lang>,
    /// Dates are about fixed holidays: never shifted.
    pub fixed_dates: bool,
    pub steps: Vec<Step>,
}

/// Something the customer or a manager does, with what the script states and expects after.
#[derive(Debug, Clone)]
pub struct Step {
    /// Line of the script where the step starts.
    pub line: usize,
    pub action: Action,
    /// The customer's party from this step on (`= party …`).
    pub party: Option<Party>,
    /// Every entry must hold; an entry holds when one of its alternatives does.
    pub expects: Vec<Vec<Expect>>,
}

#[derive(Debug, Clone)]
pub enum Action {
    /// Customer messages: the first sent after the previous step settled, the others each
    /// this many real-life seconds after the one before.
    Say(Vec<(f64, String)>),
    /// An inline button pressed (Telegram callback data).
    Button(String),
    ManagerTakes,
    ManagerSays(String),
    ManagerReleases,
}

/// Who travels, as the customer said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub adults: u32,
    /// Children's ages; `None` for a child whose age was not said yet.
    pub kids: Vec<Option<u32>>,
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} adult(s)", self.adults)?;
        if !self.kids.is_empty() {
            let ages: Vec<String> = self
                .kids
                .iter()
                .map(|a| a.map_or("?".into(), |a| a.to_string()))
                .collect();
            write!(f, " + kids {}", ages.join(" "))?;
        }
        Ok(())
    }
}

/// A month and day as a script writes them ("01-20"); day 31 of a shorter month is its last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthDay {
    pub month: u32,
    pub day: u32,
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Departure(String),
    Country(String),
    /// Exactly these resorts over the step's searches.
    Resorts(Vec<String>),
    /// This resort among them.
    Resort(String),
    Adults(u32),
    Children(Vec<u32>),
    /// `nights=10`: the range holds it and is at most 2 wide.
    Nights(u32),
    /// `nights=7..10`: each end within a night.
    NightsRange(u32, u32),
    /// `checkin=A..B`: the window's ends each within 2 days.
    Checkin(MonthDay, MonthDay),
    /// `checkin~D`: a window holding D, within a week of it.
    Around(MonthDay),
    /// `within=…`: the window lies inside.
    Within(MonthDay, MonthDay),
    Stars(u8),
    Meal(String),
    Budget(u64),
    Currency(String),
    Hotel(String),
    SortDesc,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OfferRef {
    Number(usize),
    Name(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    Searched(Vec<Param>),
    NoSearch,
    OffersShown,
    /// Some offers are on the customer's screen after this step (shown now or before).
    OffersOnScreen,
    NearestOffersShown,
    NoOffers,
    ManagerCalled,
    /// A new escalation whose reason contains `reason` (`booking` → `booking_request`).
    Escalation {
        reason: String,
        offer: Option<OfferRef>,
    },
    NoEscalation,
    NoBooking,
    Owner(dialogs::Owner),
    Mentions(String),
    NotMentions(String),
    /// A question answered (a reply mentions one of these) or passed to a manager as a
    /// question (an escalation whose reason says `question`).
    Answers(Vec<String>),
    Language(Lang),
    Replied,
    Silent,
    ManagersTold(String),
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Searched(params) => write!(f, "searched {params:?}"),
            Expect::NoSearch => f.write_str("no search"),
            Expect::OffersShown => f.write_str("offers shown"),
            Expect::OffersOnScreen => f.write_str("offers on screen"),
            Expect::NearestOffersShown => f.write_str("nearest offers shown"),
            Expect::NoOffers => f.write_str("no offers"),
            Expect::ManagerCalled => f.write_str("manager called"),
            Expect::Escalation { reason, offer } => write!(f, "escalation {reason} {offer:?}"),
            Expect::NoEscalation => f.write_str("no escalation"),
            Expect::NoBooking => f.write_str("no booking"),
            Expect::Owner(o) => write!(f, "owner {o:?}"),
            Expect::Mentions(s) => write!(f, "mentions {s:?}"),
            Expect::NotMentions(s) => write!(f, "not {s:?}"),
            Expect::Answers(words) => write!(f, "answers {words:?}"),
            Expect::Language(l) => write!(f, "language {l}"),
            Expect::Replied => f.write_str("replied"),
            Expect::Silent => f.write_str("silent"),
            Expect::ManagersTold(s) => write!(f, "managers told {s:?}"),
        }
    }
}

/// Parses one script; `name` is `<language>/<stem>`.
pub fn parse(name: &str, text: &str) -> Result<Script, String> {
    let lang_dir = name.split('/').next().unwrap_or_default();
    let lang = Lang::parse(lang_dir)
        .ok_or_else(|| format!("{name}: the folder must be ru, kk, kk-ru or en"))?;
    let mut script = Script {
        name: name.to_owned(),
        lang,
        channel: ChannelKind::WhatsApp,
        replies_in: match lang {
            Lang::KkRu => vec![Lang::Kk, Lang::Ru],
            other => vec![other],
        },
        fixed_dates: false,
        steps: Vec::new(),
    };
    let err = |n: usize, what: String| format!("{name}:{n}: {what}");
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('>') {
            let rest = rest.trim();
            if let Some((gap, text)) = burst_line(rest) {
                match script.steps.last_mut() {
                    Some(Step {
                        action: Action::Say(lines),
                        expects,
                        party: None,
                        ..
                    }) if expects.is_empty() => lines.push((gap, text.to_owned())),
                    _ => return Err(err(n, "a `> +Ns` line must follow a `>` line".into())),
                }
            } else {
                if rest.is_empty() {
                    return Err(err(n, "an empty customer line".into()));
                }
                script.steps.push(Step {
                    line: n,
                    action: Action::Say(vec![(0.0, rest.to_owned())]),
                    party: None,
                    expects: Vec::new(),
                });
            }
        } else if let Some(rest) = line.strip_prefix('[') {
            let inner = rest
                .strip_suffix(']')
                .ok_or_else(|| err(n, "`[` without `]`".into()))?
                .trim();
            let action = if let Some(data) = inner.strip_prefix("button:") {
                if script.channel != ChannelKind::Telegram {
                    return Err(err(n, "buttons need `channel: telegram`".into()));
                }
                Action::Button(data.trim().to_owned())
            } else if inner == "manager takes" {
                Action::ManagerTakes
            } else if inner == "manager releases" {
                Action::ManagerReleases
            } else if let Some(text) = inner.strip_prefix("manager says:") {
                Action::ManagerSays(text.trim().to_owned())
            } else {
                return Err(err(n, format!("unknown action [{inner}]")));
            };
            script.steps.push(Step {
                line: n,
                action,
                party: None,
                expects: Vec::new(),
            });
        } else if let Some(rest) = line.strip_prefix('=') {
            let step = script
                .steps
                .last_mut()
                .ok_or_else(|| err(n, "a fact before any step".into()))?;
            step.party = Some(party(rest.trim()).map_err(|e| err(n, e))?);
        } else if let Some(rest) = line.strip_prefix('?') {
            let step = script
                .steps
                .last_mut()
                .ok_or_else(|| err(n, "an expectation before any step".into()))?;
            step.expects
                .push(alternatives(rest.trim()).map_err(|e| err(n, e))?);
        } else if let Some(rest) = line.strip_prefix('|') {
            let last = script
                .steps
                .last_mut()
                .and_then(|s| s.expects.last_mut())
                .ok_or_else(|| err(n, "`|` continues a `?` line".into()))?;
            last.extend(alternatives(rest.trim()).map_err(|e| err(n, e))?);
        } else if let Some((key, value)) = line.split_once(':')
            && script.steps.is_empty()
        {
            let value = value.trim();
            match key.trim() {
                "channel" => {
                    script.channel = match value {
                        "whatsapp" => ChannelKind::WhatsApp,
                        "telegram" => ChannelKind::Telegram,
                        other => return Err(err(n, format!("unknown channel {other}"))),
                    }
                }
                "replies" => {
                    script.replies_in = value
                        .split_whitespace()
                        .map(|l| Lang::parse(l).ok_or_else(|| err(n, format!("language {l}?"))))
                        .collect::<Result<_, _>>()?;
                }
                "dates" if value == "fixed" => script.fixed_dates = true,
                other => return Err(err(n, format!("unknown header {other}"))),
            }
        } else {
            return Err(err(n, format!("cannot read {line:?}")));
        }
    }
    if script.steps.is_empty() {
        return Err(format!("{name}: no steps"));
    }
    Ok(script)
}

/// `+0.6s text` → (0.6, text).
fn burst_line(rest: &str) -> Option<(f64, &str)> {
    let rest = rest.strip_prefix('+')?;
    let (gap, text) = rest.split_once(char::is_whitespace)?;
    let seconds = gap.strip_suffix('s')?.parse::<f64>().ok()?;
    Some((seconds, text.trim()))
}

/// `2`, `2 + kids 5 8`, `1 + kids ?`.
fn party(text: &str) -> Result<Party, String> {
    let rest = text
        .strip_prefix("party")
        .ok_or_else(|| format!("unknown fact {text:?}"))?
        .trim();
    let (adults, kids) = match rest.split_once('+') {
        Some((a, k)) => (a.trim(), Some(k.trim())),
        None => (rest, None),
    };
    let adults = adults
        .parse()
        .map_err(|_| format!("adults {adults:?} is not a number"))?;
    let kids = match kids {
        None => Vec::new(),
        Some(k) => {
            let ages = k
                .strip_prefix("kids")
                .ok_or_else(|| format!("expected `kids …` in {text:?}"))?;
            ages.split_whitespace()
                .map(|a| match a {
                    "?" => Ok(None),
                    a => a.parse().map(Some).map_err(|_| format!("age {a:?}?")),
                })
                .collect::<Result<_, _>>()?
        }
    };
    Ok(Party { adults, kids })
}

fn alternatives(text: &str) -> Result<Vec<Expect>, String> {
    text.split(" | ").map(|e| expect(e.trim())).collect()
}

fn quoted(text: &str) -> Result<String, String> {
    text.trim()
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .map(str::to_owned)
        .ok_or_else(|| format!("expected a quoted text, got {text:?}"))
}

fn expect(text: &str) -> Result<Expect, String> {
    let (head, rest) = text.split_once(' ').unwrap_or((text, ""));
    let rest = rest.trim();
    Ok(match (head, rest) {
        ("searched", params) => Expect::Searched(search_params(params)?),
        ("no", "search") => Expect::NoSearch,
        ("no", "offers") => Expect::NoOffers,
        ("no", "escalation") => Expect::NoEscalation,
        ("no", "booking") => Expect::NoBooking,
        ("offers", "shown") => Expect::OffersShown,
        ("offers", "on screen") => Expect::OffersOnScreen,
        ("nearest", "offers shown") => Expect::NearestOffersShown,
        ("manager", "called") => Expect::ManagerCalled,
        ("managers", told) => Expect::ManagersTold(quoted(
            told.strip_prefix("told")
                .ok_or_else(|| format!("`managers told \"…\"`, got {text:?}"))?,
        )?),
        ("escalation", rest) => {
            let (reason, offer) = rest.split_once(' ').unwrap_or((rest, ""));
            let offer = match offer.trim().strip_prefix("offer=") {
                None if offer.trim().is_empty() => None,
                None => return Err(format!("after the reason only `offer=…`: {text:?}")),
                Some(o) if o.starts_with('"') => Some(OfferRef::Name(quoted(o)?)),
                Some(o) => Some(OfferRef::Number(
                    o.parse().map_err(|_| format!("offer number {o:?}?"))?,
                )),
            };
            if reason.is_empty() {
                return Err("`escalation <reason>`".into());
            }
            Expect::Escalation {
                reason: reason.to_owned(),
                offer,
            }
        }
        ("owner", who) => Expect::Owner(match who {
            "bot" => dialogs::Owner::Bot,
            "waiting" => dialogs::Owner::Waiting,
            "manager" => dialogs::Owner::Manager,
            other => return Err(format!("owner {other}?")),
        }),
        ("mentions", s) => Expect::Mentions(quoted(s)?),
        ("not", s) => Expect::NotMentions(quoted(s)?),
        ("answers", words) => {
            let words: Vec<String> = words
                .split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect();
            if words.is_empty() {
                return Err("`answers \"word\" …` needs quoted words".into());
            }
            Expect::Answers(words)
        }
        ("language", l) => {
            Expect::Language(Lang::parse(l).ok_or_else(|| format!("language {l:?}?"))?)
        }
        ("replied", "") => Expect::Replied,
        ("silent", "") => Expect::Silent,
        _ => return Err(format!("unknown expectation {text:?}")),
    })
}

const PARAM_KEYS: &[&str] = &[
    "departure",
    "country",
    "resorts",
    "resort",
    "adults",
    "children",
    "nights",
    "checkin",
    "within",
    "stars",
    "meal",
    "budget",
    "currency",
    "hotel",
    "sort",
];

/// `departure=Almaty resort=Nha Trang resorts=[Nha Trang, Cam Ranh] adults=2 …`: a value
/// runs to the next `key=`.
fn search_params(text: &str) -> Result<Vec<Param>, String> {
    let mut pairs: Vec<(String, bool, String)> = Vec::new();
    for token in text.split_whitespace() {
        let key = token
            .split_once(['=', '~'])
            .map(|(k, _)| k)
            .filter(|k| PARAM_KEYS.contains(k));
        match key {
            Some(key) => {
                let around = token.as_bytes()[key.len()] == b'~';
                pairs.push((key.to_owned(), around, token[key.len() + 1..].to_owned()));
            }
            None => match pairs.last_mut() {
                Some((_, _, value)) => {
                    value.push(' ');
                    value.push_str(token);
                }
                None => return Err(format!("expected key=value, got {token:?}")),
            },
        }
    }
    if pairs.is_empty() {
        return Err("`searched` needs at least one parameter".into());
    }
    pairs
        .iter()
        .map(|(k, around, v)| param(k, v.trim(), *around))
        .collect()
}

fn list(value: &str) -> Result<Vec<String>, String> {
    let inner = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .ok_or_else(|| format!("expected [a, b], got {value:?}"))?;
    Ok(inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect())
}

fn number<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{value:?} is not a number"))
}

pub fn month_day(value: &str) -> Result<MonthDay, String> {
    let (m, d) = value
        .split_once('-')
        .ok_or_else(|| format!("expected MM-DD, got {value:?}"))?;
    let (month, day) = (number::<u32>(m)?, number::<u32>(d)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(format!("no such day {value:?}"));
    }
    Ok(MonthDay { month, day })
}

/// `MM-DD..MM-DD`, or `MM` for the whole month.
fn span(value: &str) -> Result<(MonthDay, MonthDay), String> {
    if let Some((a, b)) = value.split_once("..") {
        return Ok((month_day(a)?, month_day(b)?));
    }
    let month: u32 = number(value)?;
    if !(1..=12).contains(&month) {
        return Err(format!("month {value:?}?"));
    }
    Ok((MonthDay { month, day: 1 }, MonthDay { month, day: 31 }))
}

fn param(key: &str, value: &str, around: bool) -> Result<Param, String> {
    if around && key != "checkin" {
        return Err(format!("`~` only after checkin, not {key}"));
    }
    Ok(match key {
        "departure" => Param::Departure(value.into()),
        "country" => Param::Country(value.into()),
        "resorts" => Param::Resorts(list(value)?),
        "resort" => Param::Resort(value.into()),
        "adults" => Param::Adults(number(value)?),
        "children" => Param::Children(
            list(value)?
                .iter()
                .map(|a| number(a))
                .collect::<Result<_, _>>()?,
        ),
        "nights" => match value.split_once("..") {
            Some((a, b)) => Param::NightsRange(number(a)?, number(b)?),
            None => Param::Nights(number(value)?),
        },
        "checkin" if around => Param::Around(month_day(value)?),
        "checkin" => {
            let (a, b) = value
                .split_once("..")
                .ok_or_else(|| format!("checkin=MM-DD..MM-DD or checkin~MM-DD, got {value:?}"))?;
            Param::Checkin(month_day(a)?, month_day(b)?)
        }
        "within" => {
            let (a, b) = span(value)?;
            Param::Within(a, b)
        }
        "stars" => Param::Stars(number(value)?),
        "meal" => Param::Meal(value.into()),
        "budget" => Param::Budget(number(value)?),
        "currency" => Param::Currency(value.into()),
        "hotel" => Param::Hotel(value.into()),
        "sort" if value == "desc" => Param::SortDesc,
        other => return Err(format!("unknown search parameter {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_reads_into_steps_facts_and_expectations() {
        let text = "# a comment\nchannel: telegram\n\n> привет\n> +0.5s хотим в нячанг\n= party 2 + kids 5 ?\n? searched adults=2 resorts=[Nha Trang, Cam Ranh] checkin~01-20 within=02\n? offers shown | manager called\n| no search\n[button: book:2]\n? escalation booking offer=2\n[manager says: Здравствуйте]\n";
        let s = parse("ru/x", text).unwrap();
        assert_eq!(s.channel, ChannelKind::Telegram);
        assert_eq!(s.steps.len(), 3);
        let Action::Say(lines) = &s.steps[0].action else {
            panic!()
        };
        assert_eq!(
            lines,
            &[(0.0, "привет".into()), (0.5, "хотим в нячанг".into())]
        );
        assert_eq!(
            s.steps[0].party,
            Some(Party {
                adults: 2,
                kids: vec![Some(5), None]
            })
        );
        assert_eq!(
            s.steps[0].expects[0],
            [Expect::Searched(vec![
                Param::Adults(2),
                Param::Resorts(vec!["Nha Trang".into(), "Cam Ranh".into()]),
                Param::Around(MonthDay { month: 1, day: 20 }),
                Param::Within(
                    MonthDay { month: 2, day: 1 },
                    MonthDay { month: 2, day: 31 }
                ),
            ])]
        );
        assert_eq!(
            s.steps[0].expects[1],
            [Expect::OffersShown, Expect::ManagerCalled, Expect::NoSearch]
        );
        assert!(matches!(&s.steps[1].action, Action::Button(b) if b == "book:2"));
        assert_eq!(
            s.steps[1].expects[0],
            [Expect::Escalation {
                reason: "booking".into(),
                offer: Some(OfferRef::Number(2))
            }]
        );
    }

    #[test]
    fn a_mistake_in_a_script_is_reported_with_its_line() {
        let e = parse("ru/x", "> привет\n? searched adults=two\n").unwrap_err();
        assert!(e.starts_with("ru/x:2:"), "{e}");
        let e = parse("ru/x", "[button: more]\n").unwrap_err();
        assert!(e.contains("telegram"), "{e}");
    }
}
