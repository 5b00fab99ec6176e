//! The Tours actor: owns the SAMO client, the dictionaries and the search caches, and answers
//! searches, expansions, hotel names and details, route checks and status questions through
//! [`ToursHandle`].
//!
//! A ractor handler runs to completion before the next message, so the actor never awaits
//! SAMO in `handle`: it spawns the work and the spawned task replies through the message's
//! `RpcReplyPort`. A slow SAMO therefore delays only the conversations waiting for that
//! search; everyone else's messages are taken at once. Concurrency and pacing towards SAMO
//! are the client's (semaphore + rate limiter), not the mailbox's.

use super::TourSearch;
use super::samo::{SamoError, SamoStatus};
use super::service::{Tours, ToursSettings};
use async_trait::async_trait;
use dialogs::search::{
    HotelDetails, NamedHotel, Offer, OfferPage, PageRequest, SearchFailure, SearchQuery,
};
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, RpcReplyPort, rpc::CallResult};
use std::sync::{Arc, RwLock};

/// Everything the Tours actor can be asked.
pub enum ToursMessage {
    /// A page of a search's results.
    Search {
        query: Box<SearchQuery>,
        page: PageRequest,
        reply: RpcReplyPort<Result<OfferPage, SearchFailure>>,
    },
    /// The concrete offers of a grouped offer from a recent search.
    Expand {
        offer_id: String,
        reply: RpcReplyPort<Result<Vec<Offer>, SearchFailure>>,
    },
    /// What the operator says about a hotel (`Hotels_DETAILS`).
    HotelDetails {
        hotel_key: i64,
        reply: RpcReplyPort<Result<Option<HotelDetails>, SearchFailure>>,
    },
    /// The sold countries' hotels a customer's text names.
    HotelsNamed {
        text: String,
        reply: RpcReplyPort<Vec<NamedHotel>>,
    },
    /// Whether tours are sold from a departure city to a country.
    CheckRoute {
        departure_city: Option<String>,
        country: Option<String>,
        reply: RpcReplyPort<Result<(), SearchFailure>>,
    },
    /// What the SAMO calls so far did (for the admin API and `doctor`).
    Status(RpcReplyPort<SamoStatus>),
}

pub struct ToursActor;

impl Actor for ToursActor {
    type Msg = ToursMessage;
    type State = Tours;
    type Arguments = Tours;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        tours: Tours,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(tours)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        tours: &mut Tours,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ToursMessage::Search { query, page, reply } => {
                let tours = tours.clone();
                tokio::spawn(async move {
                    // The asker may have given up; nothing to do then.
                    let _ = reply.send(tours.search(&query, page).await);
                });
            }
            ToursMessage::Expand { offer_id, reply } => {
                let tours = tours.clone();
                tokio::spawn(async move {
                    let _ = reply.send(tours.expand(&offer_id).await);
                });
            }
            ToursMessage::HotelDetails { hotel_key, reply } => {
                let tours = tours.clone();
                tokio::spawn(async move {
                    let _ = reply.send(tours.hotel_details(hotel_key).await);
                });
            }
            ToursMessage::HotelsNamed { text, reply } => {
                let tours = tours.clone();
                tokio::spawn(async move {
                    let _ = reply.send(tours.hotels_named(&text).await);
                });
            }
            ToursMessage::CheckRoute {
                departure_city,
                country,
                reply,
            } => {
                let tours = tours.clone();
                tokio::spawn(async move {
                    let answer = tours
                        .check_route(departure_city.as_deref(), country.as_deref())
                        .await;
                    let _ = reply.send(answer);
                });
            }
            ToursMessage::Status(reply) => {
                let _ = reply.send(tours.status());
            }
        }
        Ok(())
    }
}

/// Why the Tours actor did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Samo(#[from] SamoError),
    #[error("the Tours actor could not be spawned: {0}")]
    Spawn(String),
}

/// Starts the Tours actor for `settings`. Nothing is called yet: dictionaries load on the
/// first search. The engine's root supervisor adopts it ([`ToursHandle::supervise`]) and
/// starts it again if it stops ([`ToursHandle::restart`]).
pub async fn start(settings: ToursSettings) -> Result<ToursHandle, StartError> {
    let tours = Tours::new(&settings)?;
    let (actor, _join) = Actor::spawn(None, ToursActor, tours.clone())
        .await
        .map_err(|e| StartError::Spawn(e.to_string()))?;
    Ok(ToursHandle {
        actor: Arc::new(RwLock::new(actor)),
        tours,
    })
}

/// The way to the Tours actor: cheap to clone, one per conversation if needed.
#[derive(Clone)]
pub struct ToursHandle {
    /// The running actor; replaced when the supervisor restarts it.
    actor: Arc<RwLock<ActorRef<ToursMessage>>>,
    /// The client and caches: a restarted actor keeps them.
    tours: Tours,
}

impl std::fmt::Debug for ToursHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToursHandle").finish_non_exhaustive()
    }
}

const STOPPED: &str = "the Tours actor is not running";

impl ToursHandle {
    /// The concrete offers (rooms, meals, dates) inside a grouped offer of a recent search.
    pub async fn expand(&self, offer_id: &str) -> Result<Vec<Offer>, SearchFailure> {
        let offer_id = offer_id.to_owned();
        let answer = self
            .actor()
            .call(|reply| ToursMessage::Expand { offer_id, reply }, None)
            .await;
        flatten(answer)
    }

    /// What the SAMO calls so far did; `None` when the actor is not running.
    pub async fn status(&self) -> Option<SamoStatus> {
        match self.actor().call(ToursMessage::Status, None).await {
            Ok(CallResult::Success(status)) => Some(status),
            _ => None,
        }
    }

    /// The running actor, to stop it.
    pub fn actor(&self) -> ActorRef<ToursMessage> {
        self.actor.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Links the running actor under `supervisor`, which hears when it stops.
    pub fn supervise(&self, supervisor: ActorCell) {
        self.actor().get_cell().link(supervisor);
    }

    /// Starts a new actor under `supervisor` in place of one that stopped: the same client and
    /// caches; every handle reaches the new one.
    pub async fn restart(&self, supervisor: ActorCell) -> Result<(), StartError> {
        let (actor, _) = Actor::spawn_linked(None, ToursActor, self.tours.clone(), supervisor)
            .await
            .map_err(|e| StartError::Spawn(e.to_string()))?;
        *self.actor.write().unwrap_or_else(|e| e.into_inner()) = actor;
        Ok(())
    }
}

#[async_trait]
impl TourSearch for ToursHandle {
    async fn search(
        &self,
        query: &SearchQuery,
        page: PageRequest,
    ) -> Result<OfferPage, SearchFailure> {
        let query = Box::new(query.clone());
        let answer = self
            .actor()
            .call(|reply| ToursMessage::Search { query, page, reply }, None)
            .await;
        flatten(answer)
    }

    async fn hotel_details(&self, hotel_key: i64) -> Result<Option<HotelDetails>, SearchFailure> {
        let answer = self
            .actor()
            .call(
                |reply| ToursMessage::HotelDetails { hotel_key, reply },
                None,
            )
            .await;
        flatten(answer)
    }

    async fn hotels_named(&self, text: &str) -> Vec<NamedHotel> {
        let text = text.to_owned();
        match self
            .actor()
            .call(|reply| ToursMessage::HotelsNamed { text, reply }, None)
            .await
        {
            Ok(CallResult::Success(hotels)) => hotels,
            _ => Vec::new(),
        }
    }

    async fn check_route(
        &self,
        departure_city: Option<&str>,
        country: Option<&str>,
    ) -> Result<(), SearchFailure> {
        let departure_city = departure_city.map(str::to_owned);
        let country = country.map(str::to_owned);
        let answer = self
            .actor()
            .call(
                |reply| ToursMessage::CheckRoute {
                    departure_city,
                    country,
                    reply,
                },
                None,
            )
            .await;
        flatten(answer)
    }
}

fn flatten<T, E>(
    answer: Result<CallResult<Result<T, SearchFailure>>, E>,
) -> Result<T, SearchFailure> {
    match answer {
        Ok(CallResult::Success(result)) => result,
        _ => Err(SearchFailure::Unavailable {
            cause: STOPPED.into(),
        }),
    }
}
