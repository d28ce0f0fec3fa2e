//! Paid extra services (issue 7): the catalogue with prices per house, and
//! orders that become work orders and go on the next receipt once done.

pub mod service;
pub mod types;
