//! Sample contexts of the reply templates: for each template, the variables the dialog policy
//! (`dialogs/src/policy.rs`) passes it, with values of the kinds it passes. They serve twice:
//! an edited template must render with each of them, and may use no variable they lack
//! (the policy passes nothing else). Several samples per template cover its branches.
//!
//! Keep this in step with the policy: a test renders every shipped template with these.

use serde_json::{Value, json};

/// The sample contexts of template `name` (`greeting`, `offers`…); empty for an unknown name.
/// Every template also sees `office` (are managers at work, and if not, when): each sample
/// comes with managers at work and out of hours.
pub fn contexts(name: &str) -> Vec<Value> {
    let offices = [
        json!({"open": true, "when": "", "weekday": "", "time": ""}),
        json!({"open": false, "when": "today", "weekday": "mon", "time": "10:00"}),
        json!({"open": false, "when": "tomorrow", "weekday": "sat", "time": "11:00"}),
        json!({"open": false, "when": "later", "weekday": "mon", "time": "10:00"}),
    ];
    // Only the templates that say when a manager answers need the out-of-hours cases.
    let says_when = matches!(
        name,
        "human" | "complaint" | "booking" | "search_unavailable" | "when_manager" | "waiting"
    );
    let offices = if says_when {
        &offices[..]
    } else {
        &offices[..1]
    };
    base(name)
        .into_iter()
        .flat_map(|context| {
            offices.iter().map(move |office| {
                let mut c = context.clone();
                if let Some(map) = c.as_object_mut() {
                    map.insert("office".into(), office.clone());
                }
                c
            })
        })
        .collect()
}

/// The policy's own variables of template `name`.
fn base(name: &str) -> Vec<Value> {
    match name {
        "greeting" => vec![json!({"again": false}), json!({"again": true})],
        "ask" => vec![
            json!({"missing": ["destination", "departure_city"], "known": known_empty(),
                   "has_known": false}),
            json!({"missing": ["dates", "nights"], "known": search(),
                   "has_known": true}),
            json!({"missing": ["party", "child_ages"], "known": search(), "has_known": true}),
        ],
        "summary" => vec![json!({"search": search()}), json!({"search": known_empty()})],
        "offers" => vec![
            json!({"search": search(), "offers": [offer(1, "available"), offer(2, "seats_left")],
                   "more": true, "continued": false}),
            json!({"search": search(), "offers": [offer(6, "on_request")],
                   "more": false, "continued": true}),
        ],
        "no_offers" => vec![
            json!({"search": search(), "cheaper": false}),
            json!({"search": search(), "cheaper": true}),
        ],
        "not_offered" => ["departure_city", "country", "resort", "dates", "meal", "stars"]
            .into_iter()
            .map(|field| {
                json!({"field": field, "value": "Шымкент", "alternatives": ["Алматы", "Астана"]})
            })
            .chain([json!({"field": "currency", "value": "GBP", "alternatives": []})])
            .collect(),
        "booking" => vec![
            json!({"offer": offer(2, "available"), "need_phone": true, "again": false}),
            json!({"offer": offer(2, "available"), "need_phone": false, "again": true}),
        ],
        "which_offer" => vec![json!({"count": 5}), json!({"count": 0})],
        "human" | "complaint" => vec![json!({"need_phone": true}), json!({"need_phone": false})],
        "thanks" | "contact_thanks" => vec![json!({"booked": false}), json!({"booked": true})],
        "not_understood" => vec![
            json!({"attempt": 1, "first": true}),
            json!({"attempt": 2, "first": false}),
        ],
        "meal" => vec![json!({"code": "AI"}), json!({"code": "XX"})],
        // `dialogs::handover::WaitingContext` (its `office` is added above).
        "waiting" => [
            "told",
            "urgent",
            "reminded",
            "call_back",
            "ask_phone",
            "thanks",
            "noted",
            "noted_again",
        ]
        .into_iter()
        .map(|ack| json!({"ack": ack, "phone": "+77011234567"}))
        .chain([json!({"ack": "call_back", "phone": null})])
        .collect(),
        "button_book" => vec![json!({"n": 3})],
        "no_more_offers" | "search_unavailable" | "faq_unknown" | "sorry" | "media"
        | "button_more" | "button_manager" | "when_manager" => vec![json!({})],
        _ => Vec::new(),
    }
}

/// A search's parameters as the templates see them (`summary` in the policy).
fn search() -> Value {
    json!({
        "destination": "Нячанг",
        "departure_city": "Алматы",
        "dates": "01.03–10.03.2027",
        "nights": "10",
        "adults": 2,
        "children": 1,
        "child_ages": [5],
        "budget": "1 500 000 ₸",
        "stars": 4,
        "meal": "AI",
    })
}

/// What `ask` passes as `known` before anything is known.
fn known_empty() -> Value {
    json!({
        "destination": null, "departure_city": null, "dates": null, "nights": null,
        "adults": null, "children": null, "child_ages": [], "budget": null, "stars": null,
        "meal": null,
    })
}

/// An offer as the templates see it (`offer_view` in the policy).
fn offer(n: u32, availability: &str) -> Value {
    json!({
        "n": n,
        "hotel": "Sunrise Nha Trang Beach Hotel",
        // Odd offers have a category, even ones none: both sides of `{% if offer.stars %}`.
        "stars": if n.is_multiple_of(2) { Value::Null } else { json!(5) },
        "resort": "Нячанг",
        "check_in": "02.03.2027",
        "nights": 10,
        "meal": "всё включено",
        "room": "Deluxe Sea View",
        "price": "1 234 567 ₸",
        "availability": availability,
        "seats": if availability == "seats_left" { json!(3) } else { Value::Null },
    })
}
