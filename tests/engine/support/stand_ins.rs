//! What the conversation tests share: a stand-in for the Tours actor (its SAMO side is tested
//! in `tours.rs`), a customer on WhatsApp who writes through the Wazzup webhook and reads the
//! replies at the fake Wazzup, and a sender that records what the engine sends.

use super::app::TestApp;
use super::eventually;
use actors::store::EscalationRecord;
use actors::tours::TourSearch;
use async_trait::async_trait;
use dialogs::search::{
    Availability, Offer, OfferPage, PageRequest, SearchFailure, SearchField, SearchQuery,
};
use dialogs::{Channel, ChatKey};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a customer waits for a reply before the test fails.
const WAIT: Duration = Duration::from_secs(40);

/// What the stand-in does with a search.
#[derive(Clone)]
pub enum Answer {
    /// This many offers, "<Resort> Hotel N", cheapest first.
    Offers(usize),
    NotOffered(SearchField, &'static str, Vec<&'static str>),
    Unavailable,
}

/// Answers searches with offers made from the query, and records every query.
pub struct StandInTours {
    answer: Mutex<Answer>,
    queries: Mutex<Vec<(SearchQuery, PageRequest)>>,
}

impl StandInTours {
    pub fn new(answer: Answer) -> Arc<Self> {
        Arc::new(Self {
            answer: Mutex::new(answer),
            queries: Mutex::new(Vec::new()),
        })
    }

    /// Always `total` offers.
    pub fn offers(total: usize) -> Arc<Self> {
        Self::new(Answer::Offers(total))
    }

    /// What the next searches get.
    pub fn set_answer(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    pub fn queries(&self) -> Vec<(SearchQuery, PageRequest)> {
        self.queries.lock().unwrap().clone()
    }
}

#[async_trait]
impl TourSearch for StandInTours {
    async fn search(
        &self,
        query: &SearchQuery,
        page: PageRequest,
    ) -> Result<OfferPage, SearchFailure> {
        self.queries.lock().unwrap().push((query.clone(), page));
        let answer = self.answer.lock().unwrap().clone();
        match answer {
            Answer::Offers(total) => {
                let resort = query
                    .resorts
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "Nha Trang".into());
                let offers: Vec<Offer> = (1..=total as u64)
                    .map(|n| Offer {
                        id: format!("{resort}-{}-{n}", query.date_from),
                        hotel: format!("{resort} Hotel {n}"),
                        hotel_key: None,
                        stars: Some(4),
                        resort: resort.clone(),
                        check_in: query.date_from,
                        nights: query.nights_from,
                        meal: query.meal.clone().unwrap_or_else(|| "AI".into()),
                        room: "Standard".into(),
                        price: 600_000 + n * 25_000,
                        currency: "KZT".into(),
                        availability: Availability::Available,
                    })
                    .skip(page.offset)
                    .take(page.limit)
                    .collect();
                Ok(OfferPage {
                    more: page.offset + offers.len() < total,
                    offers,
                    offset: page.offset,
                    widened: Vec::new(),
                })
            }
            Answer::NotOffered(field, value, alternatives) => Err(SearchFailure::NotOffered {
                field,
                value: value.into(),
                alternatives: alternatives.into_iter().map(String::from).collect(),
            }),
            Answer::Unavailable => Err(SearchFailure::Unavailable {
                cause: "SAMO answered HTTP 403 apiKey blacklisted".into(),
            }),
        }
    }
}

/// A customer on WhatsApp talking to the engine.
pub struct Chat<'a> {
    app: &'a TestApp,
    phone: &'static str,
    sent: usize,
}

impl<'a> Chat<'a> {
    pub fn new(app: &'a TestApp, phone: &'static str) -> Self {
        Self {
            app,
            phone,
            sent: 0,
        }
    }

    /// Sends one message and returns the bot's one reply to it (once it is out, the turn with
    /// its CRM commands is committed).
    pub async fn say(&mut self, text: &str) -> String {
        let before = self.app.wazzup.delivered_to(self.phone).len();
        self.send(text).await;
        let phone = self.phone;
        assert!(
            eventually(WAIT, || async {
                self.app.wazzup.delivered_to(phone).len() > before
            })
            .await,
            "no reply to {text:?}"
        );
        let delivered = self.app.wazzup.delivered_to(phone);
        assert_eq!(delivered.len(), before + 1, "one reply to {text:?}");
        delivered[before].text.clone()
    }

    /// Sends one message, without waiting for a reply.
    pub async fn send(&mut self, text: &str) {
        self.sent += 1;
        let id = format!("{}-{}", self.phone, self.sent);
        let status = self
            .app
            .post_wazzup(&fakes::wazzup::inbound(&id, self.phone, text))
            .await;
        assert_eq!(status, reqwest::StatusCode::OK);
    }

    fn key(&self) -> ChatKey {
        ChatKey::new(Channel::Wazzup, format!("whatsapp:{}", self.phone))
    }

    pub async fn conversation_id(&self) -> String {
        let store = &self.app.engine.store().store;
        store
            .conversation_by_chat(&self.key())
            .await
            .unwrap()
            .expect("the conversation is stored")
            .id
    }

    pub async fn escalations(&self) -> Vec<EscalationRecord> {
        let store = &self.app.engine.store().store;
        let Some(conversation) = store.conversation_by_chat(&self.key()).await.unwrap() else {
            return Vec::new();
        };
        store.escalations_of(&conversation.id).await.unwrap()
    }
}

/// A console sender that records the text of everything the engine sends.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<String>>);

#[async_trait]
impl channels::Sender for Recorder {
    fn channel(&self) -> Channel {
        Channel::Console
    }
    async fn send(
        &self,
        m: &channels::OutgoingMessage,
    ) -> Result<channels::SendReceipt, channels::SendError> {
        self.0.lock().unwrap().push(m.text.clone());
        Ok(channels::SendReceipt::default())
    }
}
