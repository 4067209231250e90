//! How each person wants to be told, per kind of message: in the inbox always, by email and
//! by text message as they choose. No I/O.

use ordo_kernel::Violations;

/// The kinds of message a person chooses channels for. Each message belongs to one; a
/// password-reset link is none of them: it always goes by email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Every step of an order: placed, accepted, a courier found, ready, on its way,
    /// delivered or shipped, cancelled or rejected; a merchant's new orders; a delivery
    /// nobody took.
    OrderUpdates,
    /// A payment failed, money held released, a refund.
    Payments,
    /// A courier is asked to take a delivery.
    DeliveryOffers,
}

impl Topic {
    pub const ALL: [Topic; 3] = [Topic::OrderUpdates, Topic::Payments, Topic::DeliveryOffers];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::OrderUpdates => "order_updates",
            Topic::Payments => "payments",
            Topic::DeliveryOffers => "delivery_offers",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|topic| topic.as_str() == text)
    }
}

/// The channels besides the inbox, which is always on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channels {
    pub email: bool,
    pub sms: bool,
}

impl Channels {
    /// Until a person chooses: by email (when a mail server is configured), not by text.
    pub const DEFAULT: Channels = Channels {
        email: true,
        sms: false,
    };
}

/// A person's choice for every topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    choices: Vec<(Topic, Channels)>,
}

impl Preferences {
    /// The defaults, with the choices made so far over them.
    #[must_use]
    pub fn new(chosen: &[(Topic, Channels)]) -> Self {
        let choices = Topic::ALL
            .into_iter()
            .map(|topic| {
                let channels = chosen
                    .iter()
                    .find(|(t, _)| *t == topic)
                    .map_or(Channels::DEFAULT, |(_, c)| *c);
                (topic, channels)
            })
            .collect();
        Preferences { choices }
    }

    #[must_use]
    pub fn of(&self, topic: Topic) -> Channels {
        self.choices
            .iter()
            .find(|(t, _)| *t == topic)
            .map_or(Channels::DEFAULT, |(_, c)| *c)
    }

    /// Every topic with its channels, in `Topic::ALL`'s order.
    #[must_use]
    pub fn choices(&self) -> &[(Topic, Channels)] {
        &self.choices
    }
}

/// One topic's channels as asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requested {
    /// Only `true` may be asked for, or nothing.
    pub in_app: Option<bool>,
    pub email: bool,
    pub sms: bool,
}

/// Checks a change of preferences: the inbox cannot be turned off, and text messages need
/// a phone number to go to.
///
/// # Errors
/// Every topic's field that breaks a rule, named `{topic}.in_app` or `{topic}.sms`.
pub fn change(
    requested: &[(Topic, Requested)],
    has_phone: bool,
) -> Result<Vec<(Topic, Channels)>, Violations> {
    let mut violations = Violations::new();
    for (topic, asked) in requested {
        if asked.in_app == Some(false) {
            violations.add(
                format!("{}.in_app", topic.as_str()),
                "notifications in the app cannot be turned off",
            );
        }
        if asked.sms && !has_phone {
            violations.add(
                format!("{}.sms", topic.as_str()),
                "add a phone number to your profile to be told by text message",
            );
        }
    }
    violations.into_result(|| {
        requested
            .iter()
            .map(|(topic, asked)| {
                let channels = Channels {
                    email: asked.email,
                    sms: asked.sms,
                };
                (*topic, channels)
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(in_app: Option<bool>, email: bool, sms: bool) -> Requested {
        Requested { in_app, email, sms }
    }

    #[test]
    fn defaults_hold_until_chosen() {
        let none = Preferences::new(&[]);
        for topic in Topic::ALL {
            assert_eq!(none.of(topic), Channels::DEFAULT);
            assert_eq!(Topic::parse(topic.as_str()), Some(topic));
        }
        let sms = Channels {
            email: false,
            sms: true,
        };
        let chosen = Preferences::new(&[(Topic::Payments, sms)]);
        assert_eq!(chosen.of(Topic::Payments), sms);
        assert_eq!(chosen.of(Topic::OrderUpdates), Channels::DEFAULT);
        assert_eq!(chosen.choices().len(), Topic::ALL.len());
        assert_eq!(Topic::parse("account"), None);
    }

    #[test]
    fn the_inbox_stays_and_texts_need_a_phone() {
        let ok = change(
            &[(Topic::OrderUpdates, asked(Some(true), false, true))],
            true,
        )
        .unwrap();
        assert_eq!(
            ok,
            [(
                Topic::OrderUpdates,
                Channels {
                    email: false,
                    sms: true
                }
            )]
        );
        let refused = change(
            &[
                (Topic::OrderUpdates, asked(Some(false), true, false)),
                (Topic::Payments, asked(None, true, true)),
            ],
            false,
        )
        .unwrap_err();
        let fields: Vec<String> = refused.into_vec().into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["order_updates.in_app", "payments.sms"]);
        assert!(change(&[(Topic::Payments, asked(None, false, false))], false).is_ok());
    }
}
