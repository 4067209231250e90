//! Whole-platform journeys, each run on SQLite and on PostgreSQL (when
//! `TEST_POSTGRES_URL` is set).

mod admin_orders;
mod cart;
mod catalog;
mod channels;
mod clients;
mod contract;
mod dead_letters;
mod delivery;
mod faults;
mod gateway;
mod identity;
mod input;
mod kafka;
mod lifecycle;
mod notifications;
mod openapi;
mod orders;
mod password_reset;
mod pictures;
mod reports;
mod reviews;
mod scale_out;
mod search;
mod second_card;
mod seed003;
mod shipping;
mod stock;
mod streams;
mod tokens;
mod toy;
mod web;
