//! Billing: services, tariffs, periods, charges and receipts.
//!
//! So far the pure part receipts need: the payment QR payloads (`qr`).

pub mod qr;
