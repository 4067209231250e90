use crate::app::Notifications;
use crate::domain::preferences::Requested;
use crate::domain::{Channels, Preferences, Topic};
use axum::extract::State;
use ordo_http::{Authenticated, Json, Problem};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// `true`, or nothing: the inbox cannot be turned off.
fn always_true() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Boolean, Type::Null]))
        .enum_values(Some([
            serde_json::Value::Bool(true),
            serde_json::Value::Null,
        ]))
        .build()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelsView {
    /// Always `true`: every notification is in the inbox.
    in_app: bool,
    /// Also by email (when the platform has a mail server).
    email: bool,
    /// Also by text message, to the phone number of the profile.
    sms: bool,
}

impl From<Channels> for ChannelsView {
    fn from(channels: Channels) -> Self {
        ChannelsView {
            in_app: true,
            email: channels.email,
            sms: channels.sms,
        }
    }
}

/// The channels of each kind of message. A password-reset link is none of them: it always
/// goes by email.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreferencesView {
    /// Every step of an order (placed, accepted, a courier found, ready, on its way,
    /// delivered or shipped, cancelled, rejected), a merchant's new orders, a delivery
    /// nobody took.
    order_updates: ChannelsView,
    /// A payment failed, money held released, a refund.
    payments: ChannelsView,
    /// A courier is asked to take a delivery.
    delivery_offers: ChannelsView,
}

impl From<Preferences> for PreferencesView {
    fn from(preferences: Preferences) -> Self {
        PreferencesView {
            order_updates: preferences.of(Topic::OrderUpdates).into(),
            payments: preferences.of(Topic::Payments).into(),
            delivery_offers: preferences.of(Topic::DeliveryOffers).into(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelsRequest {
    /// `true` or left out: the inbox cannot be turned off (`false` is 422).
    #[schema(schema_with = always_true)]
    in_app: Option<bool>,
    email: bool,
    /// Needs a phone number on the profile (`PATCH /me`), 422 otherwise.
    sms: bool,
}

/// The kinds of message to change; those left out (or `null`) stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesRequest {
    order_updates: Option<ChannelsRequest>,
    payments: Option<ChannelsRequest>,
    delivery_offers: Option<ChannelsRequest>,
}

impl PreferencesRequest {
    fn requested(self) -> Vec<(Topic, Requested)> {
        [
            (Topic::OrderUpdates, self.order_updates),
            (Topic::Payments, self.payments),
            (Topic::DeliveryOffers, self.delivery_offers),
        ]
        .into_iter()
        .filter_map(|(topic, asked)| {
            asked.map(|asked| {
                let requested = Requested {
                    in_app: asked.in_app,
                    email: asked.email,
                    sms: asked.sms,
                };
                (topic, requested)
            })
        })
        .collect()
    }
}

/// How the caller is told of each kind of message besides the inbox.
#[utoipa::path(get, path = "/me/notification-preferences", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, description = "The channels of each kind of message", body = PreferencesView),
        (status = 401, description = "No valid access token", body = Problem),
    ))]
pub async fn get_preferences(
    State(notifications): State<Arc<Notifications>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<PreferencesView>, Problem> {
    Ok(Json(notifications.preferences(&caller).await?.into()))
}

/// Choose how the caller is told of each kind of message besides the inbox.
#[utoipa::path(put, path = "/me/notification-preferences", tag = "notifications", security(("bearer" = [])),
    request_body = PreferencesRequest,
    responses(
        (status = 200, description = "The channels of each kind of message now", body = PreferencesView),
        (status = 401, description = "No valid access token", body = Problem),
        (status = 422, description = "The inbox turned off, text messages without a phone number on the profile, or unknown fields", body = Problem),
    ))]
pub async fn put_preferences(
    State(notifications): State<Arc<Notifications>>,
    Authenticated(caller): Authenticated,
    Json(body): Json<PreferencesRequest>,
) -> Result<Json<PreferencesView>, Problem> {
    let chosen = notifications.choose(&caller, &body.requested()).await?;
    Ok(Json(chosen.into()))
}
