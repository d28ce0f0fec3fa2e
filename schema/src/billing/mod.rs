//! Billing: services, tariffs, periods, charges and receipts.
//!
//! So far the pure part: the arithmetic of charges (`calc`) and the payment
//! QR payloads of receipts (`qr`).

pub mod calc;
pub mod qr;
