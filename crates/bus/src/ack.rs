//! How a delivered event is acknowledged: to the in-process relay, which marks its outbox
//! row once every consumer has acknowledged, to JetStream, or to the Kafka consumer's
//! offsets. Below both the relays and
//! the consumers, so that neither depends on the other.

use crate::envelope::Envelope;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::mpsc;

/// How a delivery is acknowledged: to the in-process relay, to JetStream, or to Kafka.
pub(crate) enum Ack {
    Embedded(Arc<Pending>),
    Nats(Box<async_nats::jetstream::Message>),
    /// Kafka redelivers nothing by itself while its consumer lives: nothing to keep alive.
    Kafka(crate::kafka::Token),
}

impl Ack {
    pub(crate) async fn ack(self) {
        match self {
            Self::Embedded(pending) => pending.ack(),
            Self::Kafka(token) => token.done(),
            Self::Nats(message) => {
                if let Err(error) = message.ack().await {
                    // The broker redelivers it; the inbox recognises it then.
                    tracing::warn!(%error, "acknowledgement not sent");
                }
            }
        }
    }

    /// Tells JetStream a held event is still being worked on, so it is not redelivered.
    pub(crate) async fn keep_alive(&self) {
        if let Self::Nats(message) = self {
            let _ = message
                .ack_with(async_nats::jetstream::AckKind::Progress)
                .await;
        }
    }
}

pub(crate) struct Delivery {
    pub event: Arc<Envelope>,
    pub ack: Ack,
}

/// One event awaiting acknowledgement by each consumer it was handed to.
pub(crate) struct Pending {
    pub(crate) seq: i64,
    pub(crate) remaining: AtomicUsize,
    pub(crate) done: mpsc::UnboundedSender<i64>,
}

impl Pending {
    pub(crate) fn ack(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The relay may have stopped; the row then stays unpublished and comes again.
            let _ = self.done.send(self.seq);
        }
    }
}
