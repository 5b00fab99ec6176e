//! The store conformance suite: the same checks against SQLite and PostgreSQL.

use crate::support::backends;
use actors::store::*;
use chrono::Utc;
use dialogs::handover::Urgency;
use dialogs::{Channel, ChatKey, Owner};
use serde_json::json;

pub(crate) fn inbound(chat: &str, external_id: &str, text: &str) -> NewInbound {
    NewInbound {
        key: ChatKey::new(Channel::Wazzup, chat),
        external_id: external_id.into(),
        kind: channels::InboundKind::Text,
        text: text.into(),
        sender_name: Some("Айгуль".into()),
        route: json!({"chatId": chat}),
        payload: json!({}),
        sent_at: Utc::now(),
    }
}

pub(crate) async fn insert(store: &dyn Store, m: NewInbound) -> InboxMessage {
    match store
        .write_batch(vec![WriteOp::InsertInbound(m)])
        .await
        .remove(0)
        .unwrap()
    {
        WriteOutcome::Inserted(m) => *m,
        other => panic!("expected an insert, got {other:?}"),
    }
}

pub(crate) fn turn(
    message: &InboxMessage,
    conversation: &ConversationRecord,
    replies: &[&str],
) -> TurnCommit {
    let now = Utc::now();
    TurnCommit {
        inbound: vec![actors::store::HandledMessage {
            inbox_id: message.id,
            text: message.inbound.text.clone(),
            direction: "in",
        }],
        crm: Vec::new(),
        ownership: Vec::new(),
        conversation: conversation.clone(),
        replies: replies
            .iter()
            .map(|text| OutboxMessage {
                id: new_id(),
                conversation_id: conversation.id.clone(),
                key: conversation.key.clone(),
                route: conversation.route.clone(),
                text: (*text).into(),
                buttons: vec![dialogs::turn::Button {
                    label: "Ещё".into(),
                    action: "more".into(),
                }],
                attempts: 0,
                created_at: now,
            })
            .collect(),
        escalations: vec![],
        follow_ups: vec![],
        at: now,
    }
}

#[tokio::test]
async fn a_message_is_stored_once_whatever_the_redelivery() {
    for t in backends::all().await {
        let s = t.store.as_ref();
        let first = insert(s, inbound("7701", "m-1", "Здравствуйте")).await;
        let again = s
            .write_batch(vec![WriteOp::InsertInbound(inbound(
                "7701",
                "m-1",
                "Здравствуйте",
            ))])
            .await;
        assert_eq!(
            again[0].as_ref().unwrap(),
            &WriteOutcome::Duplicate,
            "{}",
            t.name
        );
        // The same id twice in one batch (two webhook deliveries racing).
        let both = s
            .write_batch(vec![
                WriteOp::InsertInbound(inbound("7702", "m-2", "a")),
                WriteOp::InsertInbound(inbound("7702", "m-2", "a")),
            ])
            .await;
        assert!(
            matches!(both[0], Ok(WriteOutcome::Inserted(_))),
            "{}",
            t.name
        );
        assert!(matches!(both[1], Ok(WriteOutcome::Duplicate)), "{}", t.name);
        // The same external id on another channel is another message.
        let mut other = inbound("7701", "m-1", "x");
        other.key.channel = Channel::Telegram;
        insert(s, other).await;

        let pending = s.pending_inbox().await.unwrap();
        assert_eq!(pending.len(), 3, "{}", t.name);
        assert_eq!(
            pending[0], first,
            "{}: a stored message reads back as written",
            t.name
        );
        assert!(
            pending.windows(2).all(|w| w[0].id < w[1].id),
            "{}: oldest first",
            t.name
        );
    }
}

#[tokio::test]
async fn a_turn_commits_everything_together_and_only_once() {
    for t in backends::all().await {
        let s = t.store.as_ref();
        let m = insert(s, inbound("7703", "m-3", "Хотим в Нячанг")).await;
        let mut conv = ConversationRecord::new(m.inbound.key.clone(), Utc::now());
        conv.route = json!({"chatId": "7703"});
        conv.state = json!({"turns": 1});
        conv.customer_name = Some("Айгуль".into());
        let commit = turn(&m, &conv, &["Здравствуйте!", "Откуда летите?"]);
        let out = s
            .write_batch(vec![WriteOp::CommitTurn(Box::new(commit.clone()))])
            .await;
        assert_eq!(
            out[0].as_ref().unwrap(),
            &WriteOutcome::Committed,
            "{}",
            t.name
        );

        assert!(s.pending_inbox().await.unwrap().is_empty(), "{}", t.name);
        let entry = s
            .inbox_entry(Channel::Wazzup, "m-3")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.status.as_str(), "handled");
        let stored = s.conversation_by_chat(&conv.key).await.unwrap().unwrap();
        assert_eq!(stored.state, json!({"turns": 1}), "{}", t.name);
        assert_eq!(stored.owner, Owner::Bot);
        assert_eq!(stored.customer_name.as_deref(), Some("Айгуль"));
        assert_eq!(s.conversation(&conv.id).await.unwrap().unwrap().id, conv.id);
        let transcript = s.transcript(&conv.id).await.unwrap();
        let lines: Vec<_> = transcript
            .iter()
            .map(|e| (e.direction.as_str(), e.text.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                ("in", "Хотим в Нячанг"),
                ("out", "Здравствуйте!"),
                ("out", "Откуда летите?")
            ],
            "{}",
            t.name
        );
        let unsent = s.unsent_outbox().await.unwrap();
        assert_eq!(unsent.len(), 2, "{}", t.name);
        assert_eq!(
            unsent[0].text, "Здравствуйте!",
            "{}: outbox keeps reply order",
            t.name
        );
        assert_eq!(unsent[0].buttons[0].label, "Ещё");

        // Replaying the same message finds it handled and writes nothing more.
        let again = s
            .write_batch(vec![WriteOp::CommitTurn(Box::new(commit))])
            .await;
        assert_eq!(
            again[0].as_ref().unwrap(),
            &WriteOutcome::AlreadyHandled,
            "{}",
            t.name
        );
        assert_eq!(s.transcript(&conv.id).await.unwrap().len(), 3, "{}", t.name);
        assert_eq!(s.outbox_of(&conv.id).await.unwrap().len(), 2, "{}", t.name);
        assert_eq!(s.count_conversations().await.unwrap(), 1, "{}", t.name);
    }
}

#[tokio::test]
async fn delivery_results_move_outbox_rows() {
    for t in backends::all().await {
        let s = t.store.as_ref();
        let m = insert(s, inbound("7704", "m-4", "привет")).await;
        let conv = ConversationRecord::new(m.inbound.key.clone(), Utc::now());
        let commit = turn(&m, &conv, &["one", "two", "three"]);
        let ids: Vec<String> = commit.replies.iter().map(|r| r.id.clone()).collect();
        s.write_batch(vec![WriteOp::CommitTurn(Box::new(commit))])
            .await[0]
            .as_ref()
            .unwrap();
        let now = Utc::now();
        let results = s
            .write_batch(vec![
                WriteOp::OutboxSent {
                    id: ids[0].clone(),
                    external_id: Some("wz-1".into()),
                    at: now,
                },
                WriteOp::OutboxFailed {
                    id: ids[1].clone(),
                    error: "HTTP 503".into(),
                    permanent: false,
                    at: now,
                },
                WriteOp::OutboxFailed {
                    id: ids[2].clone(),
                    error: "BAD_CONTACT".into(),
                    permanent: true,
                    at: now,
                },
            ])
            .await;
        assert!(results.iter().all(Result::is_ok), "{}", t.name);
        let rows = s.outbox_of(&conv.id).await.unwrap();
        let by_id = |id: &str| rows.iter().find(|r| r.message.id == id).unwrap();
        assert_eq!(by_id(&ids[0]).status.as_str(), "sent", "{}", t.name);
        assert_eq!(by_id(&ids[0]).external_id.as_deref(), Some("wz-1"));
        assert_eq!(
            by_id(&ids[1]).status.as_str(),
            "pending",
            "{}: a retryable failure stays pending",
            t.name
        );
        assert_eq!(by_id(&ids[1]).message.attempts, 1);
        assert_eq!(by_id(&ids[1]).last_error.as_deref(), Some("HTTP 503"));
        assert_eq!(by_id(&ids[2]).status.as_str(), "failed", "{}", t.name);
        let unsent: Vec<_> = s
            .unsent_outbox()
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(unsent, vec![ids[1].clone()], "{}", t.name);
    }
}

#[tokio::test]
async fn a_chat_that_refuses_messages_is_marked_unreachable() {
    for t in backends::all().await {
        let s = t.store.as_ref();
        let m = insert(s, inbound("7710", "m-10", "привет")).await;
        let conv = ConversationRecord::new(m.inbound.key.clone(), Utc::now());
        s.write_batch(vec![WriteOp::CommitTurn(Box::new(turn(
            &m,
            &conv,
            &["hi"],
        )))])
        .await[0]
            .as_ref()
            .unwrap();
        let r = s
            .write_batch(vec![WriteOp::MarkUnreachable {
                conversation_id: conv.id.clone(),
                at: Utc::now(),
            }])
            .await;
        assert_eq!(r[0].as_ref().unwrap(), &WriteOutcome::Done, "{}", t.name);
        let stored = s.conversation(&conv.id).await.unwrap().unwrap();
        assert!(stored.unreachable, "{}", t.name);
    }
}

#[tokio::test]
async fn a_parked_message_keeps_its_error_and_leaves_the_queue() {
    for t in backends::all().await {
        let s = t.store.as_ref();
        let m = insert(s, inbound("7705", "m-5", "💥")).await;
        let r = s
            .write_batch(vec![WriteOp::ParkInbound {
                id: m.id,
                error: "panicked: boom".into(),
                at: Utc::now(),
            }])
            .await;
        assert_eq!(r[0].as_ref().unwrap(), &WriteOutcome::Done, "{}", t.name);
        let entry = s
            .inbox_entry(Channel::Wazzup, "m-5")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.status.as_str(), "failed", "{}", t.name);
        assert_eq!(entry.error.as_deref(), Some("panicked: boom"));
        assert!(s.pending_inbox().await.unwrap().is_empty(), "{}", t.name);
    }
}

#[tokio::test]
async fn one_bad_write_does_not_sink_its_batch() {
    for t in backends::all().await {
        let s = t.store.as_ref();
        let m = insert(s, inbound("7706", "m-6", "hi")).await;
        let conv = ConversationRecord::new(m.inbound.key.clone(), Utc::now());
        let mut bad = turn(&m, &conv, &["x"]);
        // A reply pointing at a conversation that does not exist violates a foreign key.
        bad.replies[0].conversation_id = "no-such-conversation".into();
        let results = s
            .write_batch(vec![
                WriteOp::CommitTurn(Box::new(bad)),
                WriteOp::InsertInbound(inbound("7706", "m-7", "still here")),
            ])
            .await;
        assert!(results[0].is_err(), "{}: the bad write fails", t.name);
        assert!(
            matches!(results[1], Ok(WriteOutcome::Inserted(_))),
            "{}: the good one lands",
            t.name
        );
        // Nothing of the failed turn was half-written.
        let entry = s
            .inbox_entry(Channel::Wazzup, "m-6")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.status.as_str(), "pending", "{}", t.name);
        assert!(
            s.conversation_by_chat(&conv.key).await.unwrap().is_none(),
            "{}",
            t.name
        );
        assert!(
            s.transcript(&conv.id).await.unwrap().is_empty(),
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn escalations_are_stored_with_their_turn() {
    for t in backends::all().await {
        let s = t.store.as_ref();
        let m = insert(s, inbound("7707", "m-8", "позовите менеджера")).await;
        let conv = ConversationRecord::new(m.inbound.key.clone(), Utc::now());
        let mut commit = turn(&m, &conv, &["Менеджер скоро ответит"]);
        commit.escalations.push(NewEscalation {
            id: new_id(),
            reason: EscalationKind::parse("human_request"),
            details: serde_json::from_value(json!({"slots": {"resort": "Nha Trang"}})).unwrap(),
        });
        s.write_batch(vec![WriteOp::CommitTurn(Box::new(commit))])
            .await[0]
            .as_ref()
            .unwrap();
        let e = s.escalations_of(&conv.id).await.unwrap();
        assert_eq!(e.len(), 1, "{}", t.name);
        assert_eq!(e[0].reason.as_str(), "human_request");
        assert_eq!(e[0].status.as_str(), "open");
        assert_eq!(
            crate::support::stored(&e[0].details)["slots"]["resort"],
            "Nha Trang",
            "{}",
            t.name
        );
        s.ping().await.unwrap();
        assert!(["sqlite", "postgres"].contains(&s.backend()));
    }
}

fn follow_up(text: &str, urgency: Option<Urgency>, relay: bool) -> NewFollowUp {
    NewFollowUp {
        id: new_id(),
        text: text.into(),
        urgency,
        relay,
    }
}

#[tokio::test]
async fn follow_ups_are_kept_on_the_open_escalation_and_come_due_for_the_managers() {
    for t in backends::all().await {
        let s = t.store.as_ref();
        let chat = "7708";
        let m = insert(s, inbound(chat, "f-1", "здравствуйте")).await;
        let mut conv = ConversationRecord::new(m.inbound.key.clone(), Utc::now());
        // No escalation yet: a follow-up has nothing to belong to and is not stored.
        let mut first = turn(&m, &conv, &["Здравствуйте!"]);
        first.follow_ups.push(follow_up("ничейное", None, true));
        assert_eq!(
            write(s, WriteOp::CommitTurn(Box::new(first))).await,
            WriteOutcome::Committed
        );

        // The escalation and the next turn's follow-ups in one batch.
        let m2 = insert(s, inbound(chat, "f-2", "берём второй")).await;
        let m3 = insert(s, inbound(chat, "f-3", "алло")).await;
        conv.owner = Owner::Waiting;
        let mut escalating = turn(&m2, &conv, &["Передаю менеджеру"]);
        let escalation = new_id();
        escalating.escalations.push(NewEscalation {
            id: escalation.clone(),
            reason: EscalationKind::parse("booking_request"),
            details: Default::default(),
        });
        let mut next = turn(&m3, &conv, &["Передал менеджеру"]);
        next.follow_ups.push(follow_up("алло", None, true));
        next.follow_ups.push(follow_up(
            "мне срочно, вылет через неделю",
            Some(Urgency::TripSoon),
            true,
        ));
        let out = s
            .write_batch(vec![
                WriteOp::CommitTurn(Box::new(escalating)),
                WriteOp::CommitTurn(Box::new(next)),
            ])
            .await;
        assert!(
            out.iter()
                .all(|o| o.as_ref().unwrap() == &WriteOutcome::Committed),
            "{}",
            t.name
        );
        let notes = s.follow_ups_of(&escalation).await.unwrap();
        let read: Vec<(&str, Option<Urgency>, bool)> = notes
            .iter()
            .map(|n| (n.text.as_str(), n.urgency, n.relay))
            .collect();
        assert_eq!(
            read,
            [
                ("алло", None, true),
                (
                    "мне срочно, вылет через неделю",
                    Some(Urgency::TripSoon),
                    true
                )
            ],
            "{}: in order, on the open escalation",
            t.name
        );
        assert!(
            notes
                .iter()
                .all(|n| n.conversation_id == conv.id && n.relayed_at.is_none())
        );
        // While the escalation is open, only the urgent one is due now.
        let due = s.follow_ups_due().await.unwrap();
        assert_eq!(due.len(), 1, "{}", t.name);
        assert_eq!(due[0].urgency, Some(Urgency::TripSoon));

        // A manager takes the chat through the admin API: what they write is not copied to the
        // managers' chat, but what waited is now due, at once.
        let m4 = insert(s, inbound(chat, "f-4", "позвоните мне")).await;
        conv.owner = Owner::Manager;
        conv.owned_by = Some("Айдана".into());
        conv.owned_via = Some(dialogs::handover::Desk::AdminApi);
        let mut claimed = turn(&m4, &conv, &[]);
        claimed.ownership.push(OwnershipChange {
            from: Owner::Waiting,
            to: Owner::Manager,
            by: "Айдана".into(),
            reason: "claimed".into(),
        });
        claimed
            .follow_ups
            .push(follow_up("позвоните мне", Some(Urgency::CallBack), false));
        assert_eq!(
            write(s, WriteOp::CommitTurn(Box::new(claimed))).await,
            WriteOutcome::Committed
        );
        let stored = s.conversation(&conv.id).await.unwrap().unwrap();
        assert_eq!(
            stored.owned_via,
            Some(dialogs::handover::Desk::AdminApi),
            "{}",
            t.name
        );
        assert_eq!(s.follow_ups_of(&escalation).await.unwrap().len(), 3);
        let due: Vec<String> = s
            .follow_ups_due()
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.text)
            .collect();
        assert_eq!(
            due,
            ["алло", "мне срочно, вылет через неделю"],
            "{}",
            t.name
        );

        let at = now();
        let relayed = WriteOp::FollowUpsRelayed {
            ids: s
                .follow_ups_due()
                .await
                .unwrap()
                .into_iter()
                .map(|n| n.id)
                .collect(),
            at,
        };
        assert_eq!(write(s, relayed).await, WriteOutcome::Done);
        assert!(s.follow_ups_due().await.unwrap().is_empty(), "{}", t.name);
        let notes = s.follow_ups_of(&escalation).await.unwrap();
        assert_eq!(notes[0].relayed_at, Some(at), "{}", t.name);
        assert_eq!(
            notes[2].relayed_at, None,
            "never relayed: the admin API shows it"
        );

        // Released: the escalation is resolved, so a later follow-up has nowhere to go.
        let m5 = insert(s, inbound(chat, "f-5", "спасибо")).await;
        conv.owner = Owner::Bot;
        conv.owned_by = None;
        conv.owned_via = None;
        let mut released = turn(&m5, &conv, &[]);
        released.ownership.push(OwnershipChange {
            from: Owner::Manager,
            to: Owner::Bot,
            by: "Айдана".into(),
            reason: "released".into(),
        });
        assert_eq!(
            write(s, WriteOp::CommitTurn(Box::new(released))).await,
            WriteOutcome::Committed
        );
        let m6 = insert(s, inbound(chat, "f-6", "и ещё")).await;
        let mut after = turn(&m6, &conv, &[]);
        after.follow_ups.push(follow_up("после", None, true));
        assert_eq!(
            write(s, WriteOp::CommitTurn(Box::new(after))).await,
            WriteOutcome::Committed
        );
        assert_eq!(
            s.follow_ups_of(&escalation).await.unwrap().len(),
            3,
            "{}",
            t.name
        );
        assert_eq!(
            s.conversation(&conv.id).await.unwrap().unwrap().owned_via,
            None
        );
    }
}

#[tokio::test]
async fn a_batch_of_many_turns_and_receipts_is_applied_whole() {
    for t in backends::all().await {
        let s = t.store.as_ref();
        let mut commits = Vec::new();
        for n in 0..3 {
            let m = insert(
                s,
                inbound(&format!("78{n}"), &format!("b-{n}"), &format!("msg {n}")),
            )
            .await;
            let conv = ConversationRecord::new(m.inbound.key.clone(), Utc::now());
            commits.push(turn(
                &m,
                &conv,
                &[&format!("reply {n}a"), &format!("reply {n}b")],
            ));
        }
        // The same turn twice in one batch (a replay racing a live delivery): answered once.
        let mut ops: Vec<WriteOp> = commits
            .iter()
            .cloned()
            .map(|c| WriteOp::CommitTurn(Box::new(c)))
            .collect();
        ops.push(WriteOp::CommitTurn(Box::new(commits[1].clone())));
        let out = s.write_batch(ops).await;
        let outcomes: Vec<_> = out.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            outcomes,
            [
                WriteOutcome::Committed,
                WriteOutcome::Committed,
                WriteOutcome::Committed,
                WriteOutcome::AlreadyHandled
            ],
            "{}",
            t.name
        );
        for (n, c) in commits.iter().enumerate() {
            let lines: Vec<_> = s
                .transcript(&c.conversation.id)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.text)
                .collect();
            assert_eq!(
                lines,
                [
                    format!("msg {n}"),
                    format!("reply {n}a"),
                    format!("reply {n}b")
                ],
                "{}",
                t.name
            );
        }
        assert_eq!(s.unsent_outbox().await.unwrap().len(), 6, "{}", t.name);

        // Every receipt of a batch lands, each with its own external id.
        let now = Utc::now();
        let receipts: Vec<WriteOp> = commits
            .iter()
            .flat_map(|c| &c.replies)
            .enumerate()
            .map(|(k, r)| WriteOp::OutboxSent {
                id: r.id.clone(),
                external_id: (k % 2 == 0).then(|| format!("ext-{k}")),
                at: now,
            })
            .collect();
        assert!(
            s.write_batch(receipts).await.iter().all(Result::is_ok),
            "{}",
            t.name
        );
        assert!(s.unsent_outbox().await.unwrap().is_empty(), "{}", t.name);
        let rows = s.outbox_of(&commits[0].conversation.id).await.unwrap();
        assert_eq!(rows[0].external_id.as_deref(), Some("ext-0"), "{}", t.name);
        assert_eq!(rows[1].external_id, None, "{}", t.name);
        assert!(
            rows.iter().all(|r| r.status.as_str() == "sent"),
            "{}",
            t.name
        );
    }
}

fn lead(
    phone: Option<&str>,
    email: Option<&str>,
    stage: actors::crm::DealStage,
) -> actors::crm::CrmCommand {
    actors::crm::CrmCommand::SyncLead {
        lead: actors::crm::LeadSnapshot {
            name: Some("Айгуль".into()),
            phone: phone.map(str::to_owned),
            email: email.map(str::to_owned),
            channel: dialogs::Channel::Wazzup,
            stage,
            slots: Default::default(),
        },
    }
}

/// Commits one turn of a new conversation on `chat` carrying `commands`; returns the
/// conversation and the command ids, in order.
async fn turn_with_crm(
    store: &dyn Store,
    chat: &str,
    commands: Vec<actors::crm::CrmCommand>,
) -> (ConversationRecord, Vec<String>) {
    let m = insert(
        store,
        inbound(chat, &format!("crm-{chat}-{}", new_id()), "hi"),
    )
    .await;
    let conv = match store.conversation_by_chat(&m.inbound.key).await.unwrap() {
        Some(c) => c,
        None => ConversationRecord::new(m.inbound.key.clone(), Utc::now()),
    };
    let mut commit = turn(&m, &conv, &["ok"]);
    commit.crm = commands
        .into_iter()
        .map(|command| actors::crm::NewCrmCommand {
            id: new_id(),
            command,
        })
        .collect();
    let ids = commit.crm.iter().map(|c| c.id.clone()).collect();
    let out = store
        .write_batch(vec![WriteOp::CommitTurn(Box::new(commit))])
        .await;
    assert_eq!(out[0].as_ref().unwrap(), &WriteOutcome::Committed);
    (conv, ids)
}

async fn write(store: &dyn Store, op: WriteOp) -> WriteOutcome {
    store.write_batch(vec![op]).await.remove(0).unwrap()
}

#[tokio::test]
async fn crm_commands_come_due_in_order_per_conversation() {
    use actors::crm::DealStage;
    for t in backends::all().await {
        let s = t.store.as_ref();
        let note = actors::crm::CrmCommand::EscalationNote {
            reason: dialogs::turn::EscalationReason::HumanRequest,
            excerpt: "позовите менеджера".into(),
        };
        let (a, a_ids) = turn_with_crm(
            s,
            "7711",
            vec![
                lead(Some("+77011111111"), None, DealStage::New),
                note.clone(),
                lead(Some("+77011111111"), None, DealStage::Consultation),
            ],
        )
        .await;
        let (_, b_ids) = turn_with_crm(s, "7712", vec![lead(None, None, DealStage::New)]).await;
        let due = |at: chrono::DateTime<Utc>| async move {
            s.due_crm_commands(at, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        };
        let now = actors::store::now();
        assert_eq!(
            due(now).await,
            [a_ids[0].clone(), b_ids[0].clone()],
            "{}: the head of each conversation, oldest first",
            t.name
        );
        assert!(
            due(now - chrono::Duration::hours(1)).await.is_empty(),
            "{}: nothing is due before it was created",
            t.name
        );

        // A retry later: the conversation's next command waits behind it.
        let later = now + chrono::Duration::minutes(5);
        let start = |id: &str, attempts: i32, at| WriteOp::CrmStarted {
            id: id.to_owned(),
            attempts,
            at,
        };
        assert_eq!(write(s, start(&a_ids[0], 0, now)).await, WriteOutcome::Done);
        assert_eq!(
            write(s, start(&a_ids[0], 0, now)).await,
            WriteOutcome::AlreadyHandled,
            "{}: of two claims on the same reading, one wins",
            t.name
        );
        write(
            s,
            WriteOp::CrmRetry {
                id: a_ids[0].clone(),
                error: "Bitrix24 rate limit (QUERY_LIMIT_EXCEEDED)".into(),
                next_attempt_at: later,
                at: now,
            },
        )
        .await;
        assert_eq!(due(now).await, [b_ids[0].clone()], "{}", t.name);
        assert_eq!(
            due(later).await,
            [a_ids[0].clone(), b_ids[0].clone()],
            "{}",
            t.name
        );
        let row = s.crm_command(&a_ids[0]).await.unwrap().unwrap();
        assert_eq!(
            (row.status.as_str(), row.attempts),
            ("pending", 1),
            "{}",
            t.name
        );
        assert_eq!(row.next_attempt_at, later, "{}", t.name);
        assert!(row.tried_before());
        assert!(row.last_error.as_deref().unwrap().contains("QUERY_LIMIT"));

        // Done, with what Bitrix24 gave back: the next one comes due.
        write(s, start(&a_ids[0], 1, later)).await;
        let result = json!({"contact_id": 46, "deal_id": 394});
        assert_eq!(
            write(
                s,
                WriteOp::CrmDone {
                    id: a_ids[0].clone(),
                    result: result.clone(),
                    at: later
                }
            )
            .await,
            WriteOutcome::Done
        );
        let row = s.crm_command(&a_ids[0]).await.unwrap().unwrap();
        assert_eq!(row.status.as_str(), "done", "{}", t.name);
        assert_eq!(row.result, Some(result), "{}", t.name);
        assert_eq!(row.last_error, None);
        assert_eq!(row.attempts, 2);
        assert_eq!(due(later).await, [a_ids[1].clone(), b_ids[0].clone()]);
        assert_eq!(
            write(
                s,
                WriteOp::CrmDone {
                    id: a_ids[0].clone(),
                    result: json!({}),
                    at: later
                }
            )
            .await,
            WriteOutcome::AlreadyHandled,
            "{}: a done command stays done",
            t.name
        );

        // Failed for good: kept with its error, listed, and no longer in the way.
        write(s, start(&a_ids[1], 0, later)).await;
        write(
            s,
            WriteOp::CrmFailed {
                id: a_ids[1].clone(),
                error: "not found in Bitrix24: OWNER_NOT_FOUND".into(),
                at: later,
            },
        )
        .await;
        assert_eq!(due(later).await, [a_ids[2].clone(), b_ids[0].clone()]);
        let failed = s.crm_commands(Some(CrmStatus::Failed), 10).await.unwrap();
        assert_eq!(failed.len(), 1, "{}", t.name);
        assert_eq!(failed[0].id, a_ids[1]);
        assert_eq!(failed[0].parse().unwrap(), note, "{}", t.name);
        assert_eq!(failed[0].command, "escalation_note");
        assert_eq!(
            s.crm_commands(Some(CrmStatus::Pending), 10)
                .await
                .unwrap()
                .len(),
            2
        );

        // Retried: pending again with fresh attempts, ahead of its successor once more.
        assert_eq!(
            write(
                s,
                WriteOp::CrmRequeue {
                    id: a_ids[1].clone(),
                    at: later,
                    pending_too: false,
                }
            )
            .await,
            WriteOutcome::Done
        );
        assert_eq!(
            write(
                s,
                WriteOp::CrmRequeue {
                    id: a_ids[1].clone(),
                    at: later,
                    pending_too: false,
                }
            )
            .await,
            WriteOutcome::AlreadyHandled,
            "{}: only a failed command is requeued",
            t.name
        );
        let row = s.crm_command(&a_ids[1]).await.unwrap().unwrap();
        assert_eq!(
            (row.status.as_str(), row.attempts),
            ("pending", 0),
            "{}",
            t.name
        );
        assert!(row.tried_before(), "{}: its last error is kept", t.name);
        assert_eq!(due(later).await, [a_ids[1].clone(), b_ids[0].clone()]);

        let all: Vec<String> = s
            .crm_commands_of(&a.id)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(all, a_ids, "{}", t.name);
        assert!(s.crm_command("no-such-id").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn bitrix_ids_stay_with_the_lead_and_find_the_same_person() {
    use actors::crm::DealStage;
    for t in backends::all().await {
        let s = t.store.as_ref();
        let phone = "+77012222222";
        let (a, _) = turn_with_crm(s, "7721", vec![lead(Some(phone), None, DealStage::New)]).await;
        let row = s.lead(&a.id).await.unwrap().unwrap();
        assert_eq!(row.phone.as_deref(), Some(phone), "{}", t.name);
        assert_eq!((row.crm_contact_id, row.crm_deal_id), (None, None));
        assert_eq!(row.stage.as_deref(), Some("new"));

        write(
            s,
            WriteOp::LeadSynced(LeadCrmUpdate {
                conversation_id: a.id.clone(),
                contact_id: Some(46),
                phone: Some(phone.into()),
                ..Default::default()
            }),
        )
        .await;
        write(
            s,
            WriteOp::LeadSynced(LeadCrmUpdate {
                conversation_id: a.id.clone(),
                deal_id: Some(394),
                stage: Some("new".into()),
                ..Default::default()
            }),
        )
        .await;
        // A later turn updates the lead and keeps what Bitrix24 gave.
        turn_with_crm(
            s,
            "7721",
            vec![lead(
                Some(phone),
                Some("a@mail.kz"),
                DealStage::TourSelection,
            )],
        )
        .await;
        let row = s.lead(&a.id).await.unwrap().unwrap();
        assert_eq!(
            (row.crm_contact_id, row.crm_deal_id),
            (Some(46), Some(394)),
            "{}",
            t.name
        );
        assert_eq!(row.crm_stage.as_deref(), Some("new"));
        assert_eq!(row.crm_phone.as_deref(), Some(phone));
        assert_eq!(row.crm_email, None);
        assert_eq!(row.stage.as_deref(), Some("tour_selection"), "{}", t.name);
        assert_eq!(row.email.as_deref(), Some("a@mail.kz"));

        // The same person on another channel: found by phone or by email, never itself.
        let (b, _) = turn_with_crm(s, "7722", vec![lead(Some(phone), None, DealStage::New)]).await;
        let by_phone = s.lead_with_contact(Some(phone), None, &b.id).await.unwrap();
        assert_eq!(
            by_phone.map(|l| l.crm_contact_id),
            Some(Some(46)),
            "{}",
            t.name
        );
        let by_email = s
            .lead_with_contact(Some("+70000000000"), Some("a@mail.kz"), &b.id)
            .await
            .unwrap();
        assert_eq!(by_email.map(|l| l.conversation_id), Some(a.id.clone()));
        assert!(
            s.lead_with_contact(Some(phone), None, &a.id)
                .await
                .unwrap()
                .is_none(),
            "{}: a lead is not its own duplicate (b has no contact yet)",
            t.name
        );
        assert!(
            s.lead_with_contact(None, None, &b.id)
                .await
                .unwrap()
                .is_none()
        );

        // Ids for a conversation whose lead row is missing are not lost.
        let (c, _) = turn_with_crm(s, "7723", vec![]).await;
        write(
            s,
            WriteOp::LeadSynced(LeadCrmUpdate {
                conversation_id: c.id.clone(),
                deal_id: Some(7),
                ..Default::default()
            }),
        )
        .await;
        assert_eq!(
            s.lead(&c.id).await.unwrap().unwrap().crm_deal_id,
            Some(7),
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn a_held_crm_command_waits_until_released_and_leads_mode_keeps_its_lead() {
    use actors::crm::DealStage;
    for t in backends::all().await {
        let s = t.store.as_ref();
        let (a, ids) = turn_with_crm(
            s,
            "7731",
            vec![
                lead(Some("+77013333333"), None, DealStage::New),
                lead(Some("+77013333333"), None, DealStage::Consultation),
            ],
        )
        .await;
        let now = actors::store::now();
        let started = WriteOp::CrmStarted {
            id: ids[0].clone(),
            attempts: 0,
            at: now,
        };
        assert_eq!(write(s, started).await, WriteOutcome::Done);
        let hold = WriteOp::CrmHold {
            id: ids[0].clone(),
            error: "Bitrix24 set-up: no stage".into(),
            at: now,
        };
        assert_eq!(write(s, hold).await, WriteOutcome::Done, "{}", t.name);
        let held = s.crm_command(&ids[0]).await.unwrap().unwrap();
        assert_eq!(held.status.as_str(), "pending");
        assert!(held.held_since.is_some(), "{}", t.name);
        assert_eq!(
            held.last_error.as_deref(),
            Some("Bitrix24 set-up: no stage")
        );
        // Neither it nor the command behind it is due, however late.
        let far = now + chrono::Duration::days(3650);
        assert!(
            s.due_crm_commands(far, 100).await.unwrap().is_empty(),
            "{}",
            t.name
        );
        assert_eq!(s.queue_depths().await.unwrap().crm_held, 1, "{}", t.name);

        let released = write(s, WriteOp::CrmRelease { at: now }).await;
        assert_eq!(released, WriteOutcome::Released(1), "{}", t.name);
        let row = s.crm_command(&ids[0]).await.unwrap().unwrap();
        assert_eq!((row.held_since, row.attempts), (None, 0), "{}", t.name);
        assert!(row.tried_before(), "its last error is kept");
        let due: Vec<String> = s
            .due_crm_commands(now, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(due, [ids[0].clone()], "{}", t.name);
        assert_eq!(
            write(s, WriteOp::CrmRelease { at: now }).await,
            WriteOutcome::Released(0)
        );

        write(
            s,
            WriteOp::LeadSynced(LeadCrmUpdate {
                conversation_id: a.id.clone(),
                lead_id: Some(501),
                ..Default::default()
            }),
        )
        .await;
        assert_eq!(
            s.lead(&a.id).await.unwrap().unwrap().crm_lead_id,
            Some(501),
            "{}",
            t.name
        );
    }
}

// --- Admin API: documents, listings, queue depths ---

#[tokio::test]
async fn document_versions_are_numbered_per_name_and_the_latest_is_in_force() {
    for t in backends::all().await {
        let s = t.store.as_ref();
        let add = |name: &str, content: &str, author: &str| WriteOp::InsertPromptVersion {
            name: name.into(),
            content: content.into(),
            author: author.into(),
            at: now(),
        };
        let v1 = write(s, add("replies/ru/greeting", "Привет!", "admin")).await;
        let f1 = write(s, add("faq", "[[entry]]", "ops")).await;
        // Two versions of one name in one batch: numbered in order.
        let both = s
            .write_batch(vec![
                add("replies/ru/greeting", "Здравствуйте!", "Айдана"),
                add("replies/ru/greeting", "Добрый день!", "ops"),
            ])
            .await;
        assert_eq!(v1, WriteOutcome::PromptVersionAdded(1), "{}", t.name);
        assert_eq!(f1, WriteOutcome::PromptVersionAdded(1), "{}", t.name);
        let both: Vec<_> = both.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            both,
            [
                WriteOutcome::PromptVersionAdded(2),
                WriteOutcome::PromptVersionAdded(3)
            ],
            "{}",
            t.name
        );

        let versions = s.prompt_versions("replies/ru/greeting").await.unwrap();
        let got: Vec<(i32, &str, &str)> = versions
            .iter()
            .map(|v| (v.version, v.content.as_str(), v.author.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (3, "Добрый день!", "ops"),
                (2, "Здравствуйте!", "Айдана"),
                (1, "Привет!", "admin")
            ],
            "{}: newest first",
            t.name
        );
        let second = s
            .prompt_version("replies/ru/greeting", 2)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.content, "Здравствуйте!");
        assert!(
            s.prompt_version("replies/ru/greeting", 9)
                .await
                .unwrap()
                .is_none()
        );
        assert!(s.prompt_versions("llm/system").await.unwrap().is_empty());

        let latest: Vec<(String, i32)> = s
            .latest_prompt_versions()
            .await
            .unwrap()
            .into_iter()
            .map(|v| (v.name, v.version))
            .collect();
        assert_eq!(
            latest,
            [("faq".into(), 1), ("replies/ru/greeting".into(), 3)],
            "{}",
            t.name
        );
    }
}

/// A stored conversation of `chat` on `channel`, owned by `owner`, updated at `at`.
async fn stored_conversation(
    s: &dyn Store,
    channel: Channel,
    chat: &str,
    owner: Owner,
    at: chrono::DateTime<Utc>,
) -> ConversationRecord {
    let mut m = inbound(chat, &format!("{chat}-msg"), "Здравствуйте");
    m.key = ChatKey::new(channel, chat);
    let m = insert(s, m).await;
    let mut conv = ConversationRecord::new(m.inbound.key.clone(), at);
    conv.owner = owner;
    conv.updated_at = at;
    let commit = turn(&m, &conv, &[]);
    assert_eq!(
        write(s, WriteOp::CommitTurn(Box::new(commit))).await,
        WriteOutcome::Committed
    );
    conv
}

#[tokio::test]
async fn conversations_are_listed_by_filter_a_page_at_a_time() {
    for t in backends::all().await {
        let s = t.store.as_ref();
        let base = now() - chrono::Duration::hours(1);
        let at = |minutes: i64| base + chrono::Duration::minutes(minutes);
        let a = stored_conversation(s, Channel::Wazzup, "77010000001", Owner::Bot, at(1)).await;
        let b = stored_conversation(s, Channel::Telegram, "1001", Owner::Manager, at(2)).await;
        let c = stored_conversation(s, Channel::Wazzup, "77010000003", Owner::Waiting, at(3)).await;
        // Same moment as `c`: the id breaks the tie, so paging never skips or repeats.
        let d = stored_conversation(s, Channel::Wazzup, "77010000004", Owner::Bot, at(3)).await;
        let ids = |list: Vec<ConversationRecord>| -> Vec<String> {
            list.into_iter().map(|c| c.id).collect()
        };
        let all = ConversationQuery {
            limit: 10,
            ..Default::default()
        };
        let (c_or_d, d_or_c) = if c.id > d.id { (&c, &d) } else { (&d, &c) };
        let newest_first = [&c_or_d.id, &d_or_c.id, &b.id, &a.id].map(String::clone);
        assert_eq!(
            ids(s.list_conversations(&all).await.unwrap()),
            newest_first,
            "{}: newest first",
            t.name
        );
        let wazzup = ConversationQuery {
            channel: Some(Channel::Wazzup),
            ..all.clone()
        };
        assert_eq!(
            s.list_conversations(&wazzup).await.unwrap().len(),
            3,
            "{}",
            t.name
        );
        let managed = ConversationQuery {
            owner: Some(Owner::Manager),
            ..all.clone()
        };
        assert_eq!(
            ids(s.list_conversations(&managed).await.unwrap()),
            vec![b.id]
        );
        let recent = ConversationQuery {
            updated_since: Some(at(2)),
            ..all.clone()
        };
        assert_eq!(s.list_conversations(&recent).await.unwrap().len(), 3);

        // Pages of two, following the cursor.
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = s
                .list_conversations(&ConversationQuery {
                    limit: 2,
                    after: after.clone(),
                    ..Default::default()
                })
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some((last.updated_at, last.id.clone()));
            seen.extend(ids(page));
        }
        assert_eq!(
            seen, newest_first,
            "{}: every conversation once, in order",
            t.name
        );
    }
}

#[tokio::test]
async fn escalations_are_listed_by_status_and_resolved_one_by_one() {
    for t in backends::all().await {
        let s = t.store.as_ref();
        let mut ids = Vec::new();
        for n in 0..2 {
            let m = insert(
                s,
                inbound(&format!("7720{n}"), &format!("e-{n}"), "менеджер"),
            )
            .await;
            let conv = ConversationRecord::new(m.inbound.key.clone(), Utc::now());
            let mut commit = turn(&m, &conv, &["Подключаю менеджера"]);
            let id = new_id();
            commit.escalations.push(NewEscalation {
                id: id.clone(),
                reason: EscalationKind::parse("human_request"),
                details: Default::default(),
            });
            write(s, WriteOp::CommitTurn(Box::new(commit))).await;
            ids.push(id);
        }
        let open: Vec<String> = s
            .list_escalations(Some(EscalationStatus::Open), 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(open, ids, "{}: oldest first", t.name);
        assert_eq!(
            s.escalation(&ids[1])
                .await
                .unwrap()
                .unwrap()
                .reason
                .as_str(),
            "human_request"
        );
        assert!(s.escalation("nope").await.unwrap().is_none());

        let resolve = |id: &str| WriteOp::ResolveEscalation {
            id: id.into(),
            at: now(),
        };
        assert_eq!(write(s, resolve(&ids[0])).await, WriteOutcome::Done);
        assert_eq!(
            write(s, resolve(&ids[0])).await,
            WriteOutcome::NotFound,
            "{}: resolved once",
            t.name
        );
        assert_eq!(write(s, resolve("nope")).await, WriteOutcome::NotFound);
        let resolved = s
            .list_escalations(Some(EscalationStatus::Resolved), 10)
            .await
            .unwrap();
        assert_eq!(resolved.len(), 1, "{}", t.name);
        assert_eq!(resolved[0].id, ids[0]);
        assert_eq!(s.list_escalations(None, 10).await.unwrap().len(), 2);
        assert_eq!(s.list_escalations(None, 1).await.unwrap().len(), 1);

        let depths = s.queue_depths().await.unwrap();
        assert_eq!(depths.escalations_open, 1, "{}", t.name);
        assert_eq!(depths.outbox_pending, 2, "{}", t.name);
        assert_eq!(depths.inbox_pending, 0, "{}", t.name);
    }
}

#[tokio::test]
async fn leads_and_crm_commands_are_listed_and_a_command_can_be_retried() {
    use actors::crm::{CrmCommand, DealStage, LeadSnapshot, NewCrmCommand};
    for t in backends::all().await {
        let s = t.store.as_ref();
        let m = insert(s, inbound("77030000001", "l-1", "Нячанг в марте")).await;
        let conv = ConversationRecord::new(m.inbound.key.clone(), Utc::now());
        let mut commit = turn(&m, &conv, &["Откуда летите?"]);
        let slots: dialogs::analysis::Slots =
            serde_json::from_value(json!({"resort": "Nha Trang", "adults": 2})).unwrap();
        let command_id = new_id();
        commit.crm.push(NewCrmCommand {
            id: command_id.clone(),
            command: CrmCommand::SyncLead {
                lead: LeadSnapshot {
                    name: Some("Айгуль".into()),
                    phone: Some("+77030000001".into()),
                    email: None,
                    channel: dialogs::Channel::Wazzup,
                    stage: DealStage::TourSelection,
                    slots,
                },
            },
        });
        write(s, WriteOp::CommitTurn(Box::new(commit))).await;

        let leads = s.list_leads(10, 0).await.unwrap();
        assert_eq!(leads.len(), 1, "{}", t.name);
        assert_eq!(leads[0].conversation_id, conv.id);
        assert_eq!(leads[0].channel, Some(Channel::Wazzup));
        assert_eq!(leads[0].name.as_deref(), Some("Айгуль"));
        assert_eq!(leads[0].phone.as_deref(), Some("+77030000001"));
        assert_eq!(leads[0].slots["resort"], "Nha Trang", "{}", t.name);
        assert_eq!(leads[0].stage.as_deref(), Some("tour_selection"));
        assert!(s.list_leads(10, 1).await.unwrap().is_empty());

        let pending = s.crm_commands(Some(CrmStatus::Pending), 10).await.unwrap();
        assert_eq!(pending.len(), 1, "{}", t.name);
        assert_eq!(pending[0].id, command_id);
        assert_eq!(pending[0].command, "sync_lead");
        assert_eq!(pending[0].payload["lead"]["name"], "Айгуль", "{}", t.name);
        assert!(
            s.crm_commands(Some(CrmStatus::Failed), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(s.crm_commands(None, 10).await.unwrap().len(), 1);
        assert_eq!(
            s.crm_command(&command_id)
                .await
                .unwrap()
                .unwrap()
                .status
                .as_str(),
            "pending"
        );
        assert!(s.crm_command("nope").await.unwrap().is_none());

        let later = now() + chrono::Duration::minutes(5);
        let retried = write(
            s,
            WriteOp::CrmRequeue {
                id: command_id.clone(),
                at: later,
                pending_too: true,
            },
        )
        .await;
        assert_eq!(retried, WriteOutcome::Done, "{}", t.name);
        let entry = s.crm_command(&command_id).await.unwrap().unwrap();
        assert_eq!((entry.status.as_str(), entry.attempts), ("pending", 0));
        assert_eq!(entry.next_attempt_at, later, "{}: due at the retry", t.name);
        let missing = write(
            s,
            WriteOp::CrmRequeue {
                id: "nope".into(),
                at: later,
                pending_too: true,
            },
        )
        .await;
        assert_eq!(missing, WriteOutcome::NotFound);
        let depths = s.queue_depths().await.unwrap();
        assert_eq!(
            (depths.crm_pending, depths.crm_failed),
            (1, 0),
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn a_parked_message_apologises_and_escalates_once_and_can_be_queued_again() {
    for t in backends::all().await {
        let s = t.store.as_ref();
        let m = insert(s, inbound("7709", "park-1", "💥")).await;
        let conv = ConversationRecord::new(m.inbound.key.clone(), Utc::now());
        let apology = || {
            let mut park = turn(&m, &conv, &["Извините, у нас техническая заминка."]);
            park.escalations.push(NewEscalation {
                id: new_id(),
                reason: EscalationKind::parse("message_failed"),
                details: serde_json::from_value(json!({"error": "boom"})).unwrap(),
            });
            WriteOp::ParkTurn {
                turn: Box::new(park),
                error: "boom".into(),
            }
        };
        let first = s.write_batch(vec![apology()]).await.remove(0).unwrap();
        assert_eq!(first, WriteOutcome::Committed, "{}", t.name);
        // Parked again (a redelivery racing the first): nothing more is written.
        let second = s.write_batch(vec![apology()]).await.remove(0).unwrap();
        assert_eq!(second, WriteOutcome::AlreadyHandled, "{}", t.name);
        let row = s
            .inbox_entry(Channel::Wazzup, "park-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.status.as_str(), "failed", "{}", t.name);
        assert_eq!(row.error.as_deref(), Some("boom"), "{}", t.name);
        assert_eq!(s.outbox_of(&conv.id).await.unwrap().len(), 1, "{}", t.name);
        assert_eq!(
            s.escalations_of(&conv.id).await.unwrap().len(),
            1,
            "{}",
            t.name
        );
        let parked = s.parked_inbox(10).await.unwrap();
        assert_eq!(parked.len(), 1, "{}", t.name);
        assert_eq!(parked[0].message, m, "{}", t.name);
        assert_eq!(
            s.queue_depths().await.unwrap().inbox_failed,
            1,
            "{}",
            t.name
        );

        // Queued again: pending, its error cleared; only a parked row can be.
        let requeue = || WriteOp::RequeueInbound { id: m.id };
        let done = s.write_batch(vec![requeue()]).await.remove(0).unwrap();
        assert_eq!(done, WriteOutcome::Done, "{}", t.name);
        let row = s.inbox_by_id(m.id).await.unwrap().unwrap();
        assert_eq!(
            (row.status.as_str(), row.error),
            ("pending", None),
            "{}",
            t.name
        );
        assert_eq!(
            s.pending_inbox().await.unwrap(),
            vec![m.clone()],
            "{}",
            t.name
        );
        assert!(s.parked_inbox(10).await.unwrap().is_empty(), "{}", t.name);
        let again = s.write_batch(vec![requeue()]).await.remove(0).unwrap();
        assert_eq!(again, WriteOutcome::NotFound, "{}", t.name);
    }
}
