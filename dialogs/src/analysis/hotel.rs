//! Hotel wishes: the least star category and the meal plan.
//!
//! Stars come from a number with a star unit ("4*", "5 звёзд", "5 жұлдыз", "4-5*" → 4) or
//! from a category word ("четвёрка", "пятизвёздочный"). Meals are phrases in three
//! languages mapped to the tour-operator codes AI, BB, HB, FB, RO; the longest phrase
//! wins where they overlap ("завтрак и ужин" is HB, not BB).

use std::sync::LazyLock;

use super::Slots;
use super::lexicon::Lexicon;
use super::text::Text;

static MEALS: LazyLock<Lexicon<&'static str>> = LazyLock::new(|| {
    Lexicon::new(&[
        (
            "все включено|всё включено|все включенно|всевключено|все вкл*3|всё вкл*3|ол инклюзив*|олл инклюзив*|олинклюзив*|оллинклюзив*|ультра все включено|all inclusive|all inclusiv|all incl|allinclusive|ultra all inclusive|ai|uai|бәрі қосылған|барлығы қосылған|бәрі кіреді|бари косылган",
            "AI",
        ),
        (
            "завтрак*4|только завтрак*4|breakfast*2|bb|bed and breakfast|b b|таңғы ас*|таңғы тамақ*",
            "BB",
        ),
        (
            "полупансион*|полу пансион*|hb|half board|halfboard|завтрак* и ужин*|завтрак* ужин*|завтрак* плюс ужин*|breakfast and dinner|breakfast dinner|жартылай пансион*",
            "HB",
        ),
        (
            "полный пансион*|полным пансион*|полного пансион*|fb|full board|fullboard|трехразов*|трёхразов*|3 разов*|3х разов*|three meals|толық пансион*|үш мезгіл*",
            "FB",
        ),
        (
            "без питания|без еды|room only|ro|тамақсыз|тамаксыз|только проживание|питание не нужно|no meals|without meals|тамақ керек емес",
            "RO",
        ),
    ])
});

/// Fills `stars` and `meal`, marking the numbers used for stars.
pub(crate) fn extract(t: &Text, used: &mut [bool], known: &mut [bool], slots: &mut Slots) {
    slots.stars = stars(t, used);
    for h in MEALS.scan(t) {
        let w = t.raw_word(h.start);
        // "RO"/"AI" as bare codes only when written in capitals (they are common syllables).
        if matches!(t.w(h.start), "ro" | "ai")
            && h.end == h.start + 1
            && !w.chars().all(char::is_uppercase)
        {
            continue;
        }
        for k in known.iter_mut().take(h.end).skip(h.start) {
            *k = true;
        }
        // "подешевле, без всё включено", "not all inclusive": a meal plan ruled out.
        if t.is(
            h.start.wrapping_sub(1),
            &["без", "не", "not", "no", "without", "кроме"],
        ) {
            continue;
        }
        slots.meal = Some(h.val.to_string());
        break;
    }
}

fn is_star_unit(w: &str) -> bool {
    w.starts_with("звезд") || w.starts_with("star") || w.starts_with("жулдыз") || w == "зв"
}

/// A category number 1–5 at word `i`, digits or a number word.
fn category(t: &Text, i: usize, used: &[bool]) -> Option<u8> {
    if used.get(i).copied().unwrap_or(true) {
        return None;
    }
    let v = if t.is_num(i) {
        u32::try_from(t.num(i)?).ok()?
    } else {
        t.number_word(i)?.0
    };
    u8::try_from(v).ok().filter(|v| (1..=5).contains(v))
}

fn stars(t: &Text, used: &mut [bool]) -> Option<u8> {
    for i in 0..t.len() {
        let Some(v) = category(t, i, used) else {
            // One-word categories: "пятизвёздочный", "четвёрку", "five-star" is two words.
            let w = t.w(i);
            let word = if w.starts_with("пятизвезд") || w.starts_with("пятерк") {
                Some(5)
            } else if w.starts_with("четырехзвезд")
                || w.starts_with("четырезвезд")
                || w.starts_with("четверк")
            {
                Some(4)
            } else if w.starts_with("трехзвезд") || w.starts_with("трешк") {
                Some(3)
            } else {
                None
            };
            if word.is_some() {
                return word;
            }
            continue;
        };
        // The unit: "4*", "4 *", "5 звёзд", "4-звёздочный", "4х звёздочный", "5-ти звёзд".
        let mut j = i + 1;
        if t.is(j, &["х", "x", "ти", "и", "ех", "ух"]) && (t.glued(j) || t.gap(j).is_dash())
        {
            j += 1;
        }
        let star_gap = t.gap(i + 1).punct.starts_with('*') || t.gap(i + 1).punct.starts_with('⭐');
        if !(star_gap || is_star_unit(t.w(j))) {
            continue;
        }
        let mut best = v;
        let mut first = i;
        // "4-5*", "4 или 5 звёзд": the least category.
        if t.gap(i).is_dash() || t.gap(i).punct == "*-" {
            if let Some(a) = category(t, i.wrapping_sub(1), used) {
                best = best.min(a);
                first = i - 1;
            }
        } else if t.is(i.wrapping_sub(1), &["или", "or", "-"])
            && let Some(a) = category(t, i.wrapping_sub(2), used)
        {
            best = best.min(a);
            first = i - 2;
        }
        let last = if star_gap { i } else { j };
        for u in used.iter_mut().take(last + 1).skip(first) {
            *u = true;
        }
        return Some(best);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Slots {
        let t = Text::new(s);
        let mut used = vec![false; t.len()];
        let mut known = vec![false; t.len()];
        let mut slots = Slots::default();
        extract(&t, &mut used, &mut known, &mut slots);
        slots
    }

    #[test]
    fn stars_forms() {
        for (s, v) in [
            ("4*", 4),
            ("отель 5 *", 5),
            ("4 звезды", 4),
            ("не ниже 4 звёзд", 4),
            ("четвёрка", 4),
            ("пятизвёздочный", 5),
            ("4-звездочный", 4),
            ("4х звездочный", 4),
            ("5 stars", 5),
            ("five-star hotel", 5),
            ("5 жұлдызды", 5),
            ("бес жұлдыз", 5),
            ("4-5*", 4),
            ("4 или 5 звезд", 4),
        ] {
            assert_eq!(run(s).stars, Some(v), "{s}");
        }
        assert_eq!(run("2 взрослых").stars, None);
    }

    #[test]
    fn meal_forms() {
        for (s, v) in [
            ("всё включено", "AI"),
            ("ол инклюзив", "AI"),
            ("all-inclusive", "AI"),
            ("AI", "AI"),
            ("завтраки", "BB"),
            ("with breakfast", "BB"),
            ("таңғы ас", "BB"),
            ("полупансион", "HB"),
            ("half board", "HB"),
            ("завтрак и ужин", "HB"),
            ("полный пансион", "FB"),
            ("full board", "FB"),
            ("без питания", "RO"),
            ("room only", "RO"),
            ("бәрі қосылған", "AI"),
        ] {
            assert_eq!(run(s).meal.as_deref(), Some(v), "{s}");
        }
        assert_eq!(run("ro ai").meal, None);
        assert_eq!(run("подешевле, без всё включено").meal, None);
        assert_eq!(run("без питания").meal.as_deref(), Some("RO"));
    }
}
