//! Budget: the upper amount the customer will pay, and its currency.
//!
//! An amount is digits with thousand groups or a decimal part ("800 000", "1,5"), or number
//! words ("полтора", "пятьсот"), times a multiplier ("тыс", "к", "млн", "мың", "million"),
//! with a currency symbol or word on either side. A number counts as money when it has a
//! multiplier or a currency, follows a budget word ("бюджет", "до", "up to"), or is too large
//! to be anything else in a travel message. Of a range the upper end counts; a lone lower
//! bound ("от 500 тысяч") is not a maximum. Runs after the other extractors, so dates,
//! nights, people, stars and phones have already claimed their numbers.

use super::Slots;
use super::text::Text;

#[derive(Debug, Clone, Copy)]
struct Amount {
    value: u64,
    cur: Option<&'static str>,
    first: usize,
    last: usize,
    /// Has a multiplier, a currency or thousand groups: money whatever the context.
    strong: bool,
}

fn currency_word(w: &str) -> Option<&'static str> {
    match w {
        "тенге" | "тг" | "тнг" | "kzt" | "tenge" | "теньге" => Some("KZT"),
        "долл" | "дол" | "usd" | "dollar" | "dollars" | "бакс" | "баксов" | "бакса" | "баксы"
        | "usa" => Some("USD"),
        "евро" | "eur" | "euro" | "euros" | "евр" => Some("EUR"),
        "руб" | "rub" | "rur" => Some("RUB"),
        _ if w.starts_with("доллар") => Some("USD"),
        _ if w.starts_with("рубл") => Some("RUB"),
        _ => None,
    }
}

fn currency_symbol(p: &str) -> Option<&'static str> {
    p.chars().find_map(|c| match c {
        '$' => Some("USD"),
        '€' => Some("EUR"),
        '₸' => Some("KZT"),
        '₽' => Some("RUB"),
        _ => None,
    })
}

/// Multiplier word at `i`; bare "m"/"р"-like letters count only glued to the number.
fn multiplier(t: &Text, i: usize) -> Option<u64> {
    let w = t.w(i);
    let glued = t.glued(i);
    let thousand = w.starts_with("тыс")
        || w.starts_with("тыщ")
        || w.starts_with("мын")
        || w.starts_with("thousand")
        || matches!(w, "к" | "k" | "grand");
    let million = w.starts_with("млн")
        || w.starts_with("миллион")
        || w.starts_with("million")
        || w.starts_with("лям")
        || matches!(w, "mln" | "mio" | "кк" | "kk")
        || (w == "m" && glued);
    if thousand {
        Some(1_000)
    } else if million {
        Some(1_000_000)
    } else {
        None
    }
}

fn hundreds(w: &str) -> Option<u64> {
    Some(match w {
        "сто" => 100,
        "двести" => 200,
        "триста" => 300,
        "четыреста" => 400,
        "пятьсот" => 500,
        "шестьсот" => 600,
        "семьсот" => 700,
        "восемьсот" => 800,
        "девятьсот" => 900,
        "hundred" => 100,
        _ => return None,
    })
}

fn free(used: &[bool], i: usize) -> bool {
    !used.get(i).copied().unwrap_or(true)
}

fn parse_amount(t: &Text, i: usize, used: &[bool]) -> Option<Amount> {
    if !free(used, i) {
        return None;
    }
    // (mantissa, divisor): "1,5" is (15, 10).
    let mut mant: u64;
    let mut div = 1u64;
    let mut j = i;
    let mut grouped = false;
    let mut words_only = false;
    if t.is_num(i) {
        mant = t.num(i)?;
        if t.digits(i) <= 3 {
            while t.digits(j + 1) == 3 && free(used, j + 1) && is_group_sep(t, j + 1) {
                mant = mant.checked_mul(1000)?.checked_add(t.num(j + 1)?)?;
                j += 1;
                grouped = true;
            }
        }
        let g = t.gap(i + 1);
        if !grouped
            && !g.space
            && (g.punct == "," || g.punct == ".")
            && (1..=2).contains(&t.digits(i + 1))
        {
            let frac = t.num(i + 1)?;
            div = 10u64.pow(t.digits(i + 1) as u32);
            mant = mant.checked_mul(div)?.checked_add(frac)?;
            j = i + 1;
        }
    } else {
        let w = t.w(i);
        if matches!(w, "полтора" | "полторы") {
            (mant, div) = (15, 10);
        } else if w == "полмиллиона" {
            mant = 500_000;
        } else if let Some(h) = hundreds(w) {
            mant = h;
            if let Some((v, false)) = t.number_word(i + 1) {
                mant += u64::from(v);
                j += 1;
            }
        } else if let Some((v, false)) = t.number_word(i) {
            if v == 1 && t.w(i).len() == 1 {
                return None; // English "a"
            }
            mant = u64::from(v);
        } else if multiplier(t, i) == Some(1_000_000) && !t.glued(i) {
            // "до миллиона": the multiplier alone.
            mant = 1;
            j = i.wrapping_sub(1);
        } else {
            return None;
        }
        words_only = true;
    }
    let mut value = mant / div;
    let mut mult = None;
    if let Some(m) = multiplier(t, j.wrapping_add(1)) {
        mult = Some(m);
        value = mant.checked_mul(m)? / div;
        j = j.wrapping_add(1);
        // "1 млн 200 тыс"
        if m == 1_000_000 && t.is_num(j + 1) && multiplier(t, j + 2) == Some(1_000) {
            value = value.checked_add(t.num(j + 1)?.checked_mul(1_000)?)?;
            j += 2;
        }
    } else if words_only && mant != 500_000 {
        return None;
    }
    let j = j.max(i);
    let mut first = i;
    let mut last = j;
    let mut cur = currency_symbol(&t.gap(i).punct).or_else(|| currency_symbol(&t.gap(j + 1).punct));
    if cur.is_none()
        && let Some(c) = currency_word(t.w(j + 1))
    {
        cur = Some(c);
        last = j + 1;
    }
    if cur.is_none() && t.glued(j + 1) && t.is(j + 1, &["р", "т"]) {
        cur = Some(if t.w(j + 1) == "р" { "RUB" } else { "KZT" });
        last = j + 1;
    }
    if cur.is_none()
        && let Some(c) = currency_word(t.w(i.wrapping_sub(1)))
    {
        cur = Some(c);
        first = i - 1;
    }
    Some(Amount {
        value,
        cur,
        first,
        last,
        strong: mult.is_some() || cur.is_some() || grouped,
    })
}

/// "800 000", "800,000", "1.500.000": a separator inside a number.
fn is_group_sep(t: &Text, i: usize) -> bool {
    let g = t.gap(i);
    (g.space && g.punct.is_empty())
        || (!g.space && matches!(g.punct.as_str(), "," | "." | "'" | "’"))
}

const UPPER: &[&str] = &[
    "бюджет",
    "бюджетом",
    "бюджете",
    "до",
    "дороже",
    "максимум",
    "макс",
    "пределах",
    "budget",
    "under",
    "below",
    "max",
    "maximum",
    "within",
    "less",
    "около",
    "примерно",
    "around",
    "about",
    "approximately",
    "за",
    "стоимостью",
    "for",
    "бюджетимиз",
    "бюджетим",
    "бюджеты",
    "than",
    "upto",
    "to",
    "не",
];
const LOWER: &[&str] = &[
    "от",
    "from",
    "более",
    "больше",
    "свыше",
    "over",
    "минимум",
    "min",
    "least",
    "more",
];
const NOT_MONEY: &[&str] = &[
    "номер",
    "заказ",
    "заказа",
    "order",
    "рейс",
    "код",
    "code",
    "id",
    "договор",
    "договора",
];

/// Fills `budget_max` and `currency`.
pub(crate) fn extract(t: &Text, used: &mut [bool], slots: &mut Slots) {
    let mut amounts: Vec<Amount> = Vec::new();
    let mut i = 0;
    while i < t.len() {
        match parse_amount(t, i, used) {
            Some(a) => {
                i = a.last + 1;
                amounts.push(a);
            }
            None => i += 1,
        }
    }
    let before = |a: &Amount, list: &[&str]| (1..=3).any(|k| t.is(a.first.wrapping_sub(k), list));
    let accepted = |a: &Amount| {
        let id = t.gap(a.first).punct.contains(['№', '#']) || before(a, NOT_MONEY);
        // "берём тот, что за 850": an offer named by its price, not a budget.
        let priced = t.is(a.first.wrapping_sub(1), &["за", "for", "at"])
            && t.is(
                a.first.wrapping_sub(2),
                &["что", "который", "которая", "которое", "one", "тот"],
            );
        let after_kk = t.starts(a.last + 1, &["дейин", "шамасында", "max", "максимум"]);
        !id && !priced
            && a.value > 0
            && (a.strong || a.value >= 10_000 || ((before(a, UPPER) || after_kk) && a.value >= 100))
    };
    let mut k = 0;
    while k < amounts.len() {
        let a = amounts[k];
        // The upper end of "от 500 до 800 тысяч", "500-800к", "1-1,5 млн".
        let upper = amounts.get(k + 1).copied().filter(|b| {
            let link = (b.first == a.last + 1 && t.gap(b.first).is_dash())
                || (b.first == a.last + 2
                    && t.is(a.last + 1, &["до", "to", "-", "и", "or", "или"]));
            link && (accepted(b) || b.value > a.value)
        });
        if let Some(b) = upper {
            if accepted(&a) || accepted(&b) {
                let mut b = b;
                // "1-1,5 млн" with the lower end bigger only by missing its multiplier.
                if b.value < a.value {
                    b.value = a.value;
                }
                set(slots, b.value, b.cur.or(a.cur));
                return;
            }
            k += 2;
            continue;
        }
        if accepted(&a) {
            // "от 500 тысяч": only a lower bound, not a maximum.
            let lower_only = (1..=3).any(|k| {
                let p = a.first.wrapping_sub(k);
                t.is(p, LOWER) && !t.is(p.wrapping_sub(1), &["не", "no"])
            });
            if lower_only && !t.is(a.first.wrapping_sub(1), &["до"]) {
                k += 1;
                continue;
            }
            set(slots, a.value, a.cur);
            return;
        }
        k += 1;
    }
}

fn set(slots: &mut Slots, value: u64, cur: Option<&'static str>) {
    slots.budget_max = Some(value);
    slots.currency = Some(cur.unwrap_or("KZT").to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> (Option<u64>, Option<String>) {
        let t = Text::new(s);
        let mut used = vec![false; t.len()];
        let mut slots = Slots::default();
        extract(&t, &mut used, &mut slots);
        (slots.budget_max, slots.currency)
    }

    #[test]
    fn budget_forms() {
        for (s, v, c) in [
            ("до 800 тысяч", 800_000, "KZT"),
            ("бюджет до 1,5 млн тенге", 1_500_000, "KZT"),
            ("800к", 800_000, "KZT"),
            ("800 000", 800_000, "KZT"),
            ("до 1 500 000 тг", 1_500_000, "KZT"),
            ("полтора миллиона", 1_500_000, "KZT"),
            ("до 3000 долларов", 3_000, "USD"),
            ("$2500", 2_500, "USD"),
            ("2500$", 2_500, "USD"),
            ("3k usd", 3_000, "USD"),
            ("до 2000 евро", 2_000, "EUR"),
            ("€1800", 1_800, "EUR"),
            ("150 000 руб", 150_000, "RUB"),
            ("200000₽", 200_000, "RUB"),
            ("от 500 до 800 тысяч", 800_000, "KZT"),
            ("500-700к", 700_000, "KZT"),
            ("1-1,5 млн", 1_500_000, "KZT"),
            ("бюджет 1 млн 200 тыс", 1_200_000, "KZT"),
            ("800 мыңға дейін", 800_000, "KZT"),
            ("budget up to 2,500 USD", 2_500, "USD"),
            ("1.2m tenge", 1_200_000, "KZT"),
            ("пятьсот тысяч", 500_000, "KZT"),
            ("до миллиона", 1_000_000, "KZT"),
            ("в пределах 600 тыс. ₸", 600_000, "KZT"),
        ] {
            assert_eq!(run(s), (Some(v), Some(c.to_string())), "{s}");
        }
    }

    #[test]
    fn not_budgets() {
        for s in [
            "2 взрослых",
            "в 2027 году",
            "заказ 123456",
            "от 500 тысяч",
            "a week",
            "номер брони 55667",
            "ок берем тот что за 850",
        ] {
            assert_eq!(run(s).0, None, "{s}");
        }
    }
}
